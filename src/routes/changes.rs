//! `/api/v1/changes`: the change journal, for integrators to sync from.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::ChangesRead;
use crate::auth::{Authorized, TerritoryScope};
use crate::db::Db;
use crate::domain::journal::{ChangeOperation, ResourceType};
use crate::error::ApiResult;
use crate::json::Json;
use crate::openapi::responses;
use crate::query::QueryParams;
use crate::repository::changes;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// One write to one resource.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 42, "resource": "school", "id": "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "operation": "updated", "at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct ChangeEntry {
    /// The journal's sequence number: store the last one you processed as your sync point.
    pub seq: i64,
    /// The resource type: `organization` or `school`.
    #[schema(value_type = ResourceType)]
    pub resource: String,
    /// The resource's id: read it for its current state (a deleted one answers 404).
    pub id: Uuid,
    /// `created`, `updated` or `deleted` (a tombstone).
    #[schema(value_type = ChangeOperation)]
    pub operation: String,
    /// When the change was committed.
    #[serde(serialize_with = "crate::json::timestamp")]
    pub at: DateTime<Utc>,
}

/// A page of the change journal.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{
    "seq": 42, "resource": "school", "id": "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "operation": "created", "at": "2026-11-23T19:23:00.123456Z"}], "next_after": 42}))]
pub struct ChangePage {
    pub items: Vec<ChangeEntry>,
    /// The `seq` of the last item, or the `after` given when there is nothing new: pass it as
    /// `after` next time.
    pub next_after: i64,
}

/// Parameters of `GET /api/v1/changes`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// The last `seq` already processed; `0` (the default) starts from the beginning.
    #[param(minimum = 0, default = 0, example = 0)]
    pub after: Option<i64>,
    /// Entries per page, 1-1000.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Only these resource types (repeatable).
    #[param(inline)]
    pub resource: Option<Vec<ResourceType>>,
}

/// Read the change journal.
///
/// Every create, update and delete (tombstones included) of the resources in the caller's
/// territories, in `seq` order. Poll with the last `seq` you processed as `after`: you never
/// miss an entry, even when writers commit concurrently, because sequence numbers are assigned
/// in commit order. An update that moved a resource out of your territories still appears
/// (reading it then answers 404). An installation with a read replica serves the feed from it:
/// an entry appears there after the replica's replication lag (usually under a second), in the
/// same order, so polling never misses one either.
#[utoipa::path(
    tag = "changes",
    operation_id = "list_changes",
    params(ChangeParams),
    responses(
        (status = 200, description = "The entries after `after`.", body = ChangePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["changes:read"]))
)]
#[get("/changes")]
pub async fn list_changes(
    auth: Authorized<ChangesRead>,
    query: QueryParams,
    db: web::Data<Db>,
) -> ApiResult<Json<ChangePage>> {
    let mut reader = query.reader(&["after", "limit", "resource"]);
    let after = reader.integer("after", 0, i64::MAX).unwrap_or(0);
    let limit = reader
        .integer("limit", 1, MAX_LIMIT)
        .unwrap_or(DEFAULT_LIMIT);
    let resources: Vec<&'static str> = reader
        .choices::<ResourceType>("resource", ResourceType::NAMES)
        .into_iter()
        .map(ResourceType::as_str)
        .collect();
    reader.finish()?;
    let scope = TerritoryScope::of(&auth.principal);
    let entries = db
        .replica()
        .read(move |conn| Ok(changes::list(conn, after, limit, &resources, &scope)?))
        .await?;
    let next_after = entries.last().map_or(after, |e| e.seq);
    let items = entries
        .into_iter()
        .map(|e| ChangeEntry {
            seq: e.seq,
            resource: e.resource,
            id: e.resource_id.0,
            operation: e.operation,
            at: e.at.get(),
        })
        .collect();
    Ok(Json(ChangePage { items, next_after }))
}
