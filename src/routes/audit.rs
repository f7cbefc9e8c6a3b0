//! `/api/v1/audit`: the audit log, who wrote what and when.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::scopes::AuditRead;
use crate::auth::{Authorized, TerritoryScope};
use crate::db::{Db, DbTime};
use crate::domain::journal::ChangeOperation;
use crate::error::{ApiResult, IssueKind};
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::{self, PageRequest};
use crate::query::QueryParams;
use crate::repository::audit::{self, Filter};

/// One audited write.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 1043, "at": "2026-12-03T14:02:11.204518Z", "principal": "ana.rojas@mineduc.cl",
    "client_id": null, "request_id": "7c0f5f9e-3f0e-4c55-9a51-2d4f0e1b8a10",
    "resource": "school", "resource_id": "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "operation": "updated",
    "changes": {"name": {"before": "Escuela Básica N° 12", "after": "Escuela Los Aromos"},
                "version": {"before": 1, "after": 2}}
}))]
pub struct AuditItem {
    /// The log's sequence number (newest is highest).
    pub seq: i64,
    /// When the write was committed.
    #[serde(serialize_with = "crate::json::timestamp")]
    pub at: DateTime<Utc>,
    /// Who wrote: the token's subject (`sub`), `cli` for the command line (`redes import`,
    /// `redes seed-demo`) or `system` for the server's own work (demo data at start-up).
    pub principal: String,
    /// The API client the token was issued to, if any.
    pub client_id: Option<String>,
    /// The `X-Request-Id` of the request that wrote (an import job's, for its writes).
    pub request_id: Option<String>,
    /// The resource type (`school`, `person`, `indicator`, `indicator_value` …).
    pub resource: String,
    /// The resource's id.
    pub resource_id: String,
    /// `created`, `updated` or `deleted`.
    #[schema(value_type = ChangeOperation)]
    pub operation: String,
    /// The fields written: `{"field": {"before": …, "after": …}}`, only those that changed;
    /// only `after` for a creation, only `before` for a deletion. Personal data (a person's
    /// name, e-mail and phone) reads `"***"`: the log says that it changed, not what it was.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{
    "seq": 1043, "at": "2026-12-03T14:02:11.204518Z", "principal": "ana.rojas@mineduc.cl",
    "client_id": null, "request_id": "7c0f5f9e-3f0e-4c55-9a51-2d4f0e1b8a10",
    "resource": "person", "resource_id": "0e8a6c1d-2b3f-4a5e-8c7d-6f5e4d3c2b1a",
    "operation": "updated", "changes": {"name": {"before": "***", "after": "***"}}}],
    "next_cursor": null}))]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    /// Pass as `cursor` for older entries; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Parameters of `GET /api/v1/audit`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries of this resource type (`school`, `person`, `indicator` …).
    #[param(example = "school", max_length = 64)]
    pub resource: Option<String>,
    /// Only entries of this resource id.
    #[param(example = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", max_length = 128)]
    pub resource_id: Option<String>,
    /// Only writes by this principal (a token's `sub`, `cli` or `system`).
    #[param(example = "ana.rojas@mineduc.cl", max_length = 256)]
    pub principal: Option<String>,
    /// Only writes through this API client.
    #[param(max_length = 256)]
    pub client_id: Option<String>,
    /// Only writes of the request with this `X-Request-Id`.
    #[param(example = "7c0f5f9e-3f0e-4c55-9a51-2d4f0e1b8a10", max_length = 128)]
    pub request_id: Option<String>,
    /// Only this operation.
    #[param(inline)]
    pub operation: Option<ChangeOperation>,
    /// Only entries at or after this instant (RFC 3339).
    #[param(example = "2026-12-01T00:00:00Z")]
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this instant (RFC 3339).
    #[param(example = "2026-12-31T00:00:00Z")]
    pub until: Option<DateTime<Utc>>,
    /// Entries per page, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const KNOWN: &[&str] = &[
    "resource",
    "resource_id",
    "principal",
    "client_id",
    "request_id",
    "operation",
    "since",
    "until",
    "limit",
    "cursor",
];

/// Read the audit log.
///
/// Every write (create, update, delete) of the caller's territories, newest first: who wrote
/// (principal, API client), through which request (`X-Request-Id`), when, and the fields it
/// changed before and after, with personal data masked. Entries are inserted in the same
/// transaction as the write they describe, so no write commits without its entry. A write
/// that moved a resource between territories is seen from both. Writes outside the territory
/// tree (indicator definitions, API clients) are seen by principals of a whole country.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_entries",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of entries, newest first.", body = AuditPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["audit:read"]))
)]
#[get("/audit")]
pub async fn list_audit_entries(
    auth: Authorized<AuditRead>,
    query: QueryParams,
    db: web::Data<Db>,
) -> ApiResult<Json<AuditPage>> {
    let mut reader = query.reader(KNOWN);
    let instant = |reader: &mut crate::query::QueryReader<'_>, name: &str| {
        // Sent empty is not absent: `until=` is no instant (found by contract fuzzing).
        let text = reader.value(name)?;
        match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(time) => Some(DbTime::new(time.with_timezone(&Utc))),
            Err(_) => {
                reader.issue(
                    name,
                    IssueKind::format(
                        "un instante RFC 3339 (2026-12-01T00:00:00Z)",
                        "an RFC 3339 instant (2026-12-01T00:00:00Z)",
                    ),
                );
                None
            }
        }
    };
    let since = instant(&mut reader, "since");
    let until = instant(&mut reader, "until");
    let filter = Filter {
        resources: reader.text("resource", 64).into_iter().collect(),
        resource_id: reader.text("resource_id", 128),
        principal: reader.text("principal", 256),
        client_id: reader.text("client_id", 256),
        request_id: reader.text("request_id", 128),
        operation: reader
            .choice::<ChangeOperation>("operation", ChangeOperation::NAMES)
            .map(ChangeOperation::as_str),
        since,
        until,
    };
    let page = reader.page();
    // A cursor Redes issued for another list names no position here: like every list, read it
    // as "from the start" (the newest entry). One Redes did not issue is refused by `page`.
    let before = page
        .after
        .as_deref()
        .and_then(|payload| payload.parse::<i64>().ok());
    reader.finish()?;
    let scope = TerritoryScope::of(&auth.principal);
    let request = PageRequest {
        limit: page.limit,
        after: None,
    };
    let fetch = request.fetch_limit();
    let rows = db
        .read(move |conn| Ok(audit::list(conn, &filter, before, fetch, &scope)?))
        .await?;
    let (rows, next_cursor) = pagination::into_page(rows, &request, |row| row.seq.to_string());
    let items = rows
        .into_iter()
        .map(|row| AuditItem {
            seq: row.seq,
            at: row.at.get(),
            principal: row.principal,
            client_id: row.client_id,
            request_id: row.request_id,
            resource: row.resource,
            resource_id: row.resource_id,
            operation: row.operation,
            changes: serde_json::from_str(&row.changes).unwrap_or_else(|error| {
                tracing::error!(error = %error, seq = row.seq, "unreadable audit changes");
                serde_json::Value::Null
            }),
        })
        .collect();
    Ok(Json(AuditPage { items, next_cursor }))
}
