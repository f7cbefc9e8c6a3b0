//! `/api/v1/catalogues`: the management catalogues plans are articulated with, as versioned
//! data. Everyone with `plans:read` reads them whole (national reference data, like the
//! territories); national principals with `catalogues:admin` add items of their own.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{CataloguesAdmin, PlansRead};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::Country;
use crate::domain::plan::{CatalogueKind, ItemLevel};
use crate::error::{ApiError, ApiResult, Issue, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::query::{NoParams, QueryParams};
use crate::repository::UpdateOutcome;
use crate::repository::catalogues::{self as repo, CatalogueRow, ItemData, ItemRow};
use crate::routes::common::{
    checked, created, not_modified, optional_text, path_id, taken, whole_country, with_etag,
};

/// One item of a catalogue: a dimension, a subdimension, a plan normativo, an área, a process.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "08d4b2d7-a391-5b48-aeb2-b685b275f732",
    "catalogue_id": "38601790-0895-5369-8370-4f5e6b6989f5",
    "code": "FC-2",
    "name": "Convivencia",
    "level": "subdimension",
    "parent_id": "f769bd7d-6084-55f7-9586-4d0784f1893d",
    "legal_basis": null,
    "builtin": true,
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct CatalogueItem {
    pub id: Uuid,
    pub catalogue_id: Uuid,
    /// Unique in its catalogue (`GP-1`, `CONVIVENCIA`, `DIR-3`).
    pub code: String,
    pub name: String,
    pub level: ItemLevel,
    /// The item it belongs to (a subdimension's dimension).
    pub parent_id: Option<Uuid>,
    /// The law or rule that requires it (planes normativos).
    pub legal_basis: Option<String>,
    /// Shipped with Redes (`true`) or added by an administrator.
    pub builtin: bool,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// A catalogue, one version of it, with its items in order (parents before their children).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "38601790-0895-5369-8370-4f5e6b6989f5",
    "code": "cl-modelo-gestion",
    "version": "2020",
    "name": "Modelo de gestión escolar del PME (dimensiones y subdimensiones, desde 2020)",
    "kind": "management_model",
    "country": "CL",
    "valid_from": 2020,
    "valid_to": null,
    "source": "Mineduc, Plan de Mejoramiento Educativo.",
    "items": []
}))]
pub struct CatalogueDocument {
    pub id: Uuid,
    /// The catalogue's code; its versions share it.
    pub code: String,
    pub version: String,
    pub name: String,
    pub kind: CatalogueKind,
    pub country: Country,
    /// The first school year it applies to.
    pub valid_from: Option<i32>,
    /// The last school year it applies to; `null`: current.
    pub valid_to: Option<i32>,
    /// Where its content comes from.
    pub source: Option<String>,
    pub items: Vec<CatalogueItem>,
}

/// The catalogues.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct CatalogueList {
    /// By code, then version.
    pub items: Vec<CatalogueDocument>,
    /// Always `null`: the catalogues are few and come in one page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/catalogues`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueListParams {
    /// Only this kind.
    #[param(inline)]
    pub kind: Option<CatalogueKind>,
    /// Only this country's.
    #[param(inline)]
    pub country: Option<Country>,
}

/// The body of `POST /api/v1/catalogues/{id}/items`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "code": "PLAN-LECTOR",
    "name": "Plan lector comunal",
    "level": "plan",
    "legal_basis": "Acuerdo del Concejo Municipal"
}))]
pub struct CatalogueItemInput {
    /// Upper-case letters, digits and hyphens, unique in the catalogue (1-40 characters).
    #[schema(min_length = 1, max_length = 40, example = "PLAN-LECTOR")]
    pub code: String,
    /// 1-200 characters, not blank; trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub level: ItemLevel,
    /// Another item of the same catalogue.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub legal_basis: Option<String>,
}

fn item(row: ItemRow) -> ApiResult<CatalogueItem> {
    let id = row.id.0;
    Ok(CatalogueItem {
        id,
        catalogue_id: row.catalogue_id.0,
        level: row
            .level
            .parse()
            .map_err(|()| ApiError::internal(anyhow::anyhow!("item {id} has a bad level")))?,
        parent_id: row.parent_id.map(|p| p.0),
        code: row.code,
        name: row.name,
        legal_basis: row.legal_basis,
        builtin: row.builtin,
        created_at: row.created_at.get(),
        updated_at: row.updated_at.get(),
    })
}

fn document(row: CatalogueRow, items: Vec<ItemRow>) -> ApiResult<CatalogueDocument> {
    let id = row.id.0;
    let corrupt =
        |what: &str| ApiError::internal(anyhow::anyhow!("catalogue {id} has a bad {what}"));
    Ok(CatalogueDocument {
        id,
        kind: row.kind.parse().map_err(|()| corrupt("kind"))?,
        country: row.country.parse().map_err(|()| corrupt("country"))?,
        items: items.into_iter().map(item).collect::<ApiResult<_>>()?,
        code: row.code,
        version: row.version,
        name: row.name,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        source: row.source,
    })
}

/// List the management catalogues.
///
/// Every catalogue and version, with its items: Chile's school-management model (2014 and
/// 2020 versions), its planes normativos with their legal basis, Colombia's áreas de gestión
/// with their processes.
#[utoipa::path(
    tag = "catalogues",
    operation_id = "list_catalogues",
    params(CatalogueListParams),
    responses(
        (status = 200, description = "The catalogues.", body = CatalogueList),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/catalogues")]
pub async fn list_catalogues(
    _auth: Authorized<PlansRead>,
    query: QueryParams,
    db: web::Data<Db>,
) -> ApiResult<Json<CatalogueList>> {
    let mut reader = query.reader(&["kind", "country"]);
    let kind = reader
        .choice::<CatalogueKind>("kind", CatalogueKind::NAMES)
        .map(CatalogueKind::as_str);
    let country = reader
        .choice::<Country>("country", Country::NAMES)
        .map(Country::as_str);
    reader.finish()?;
    let (rows, mut items) = db
        .read(move |conn| {
            let rows = repo::list(conn, kind, country)?;
            let items = repo::items_of(conn, rows.iter().map(|r| r.id).collect())?;
            Ok((rows, items))
        })
        .await?;
    Ok(Json(CatalogueList {
        items: rows
            .into_iter()
            .map(|row| {
                let own = items.remove(&row.id.0).unwrap_or_default();
                document(row, own)
            })
            .collect::<ApiResult<_>>()?,
        next_cursor: None,
    }))
}

/// Get a catalogue.
///
/// One version of a catalogue with its items, parents before their children.
#[utoipa::path(
    tag = "catalogues",
    operation_id = "get_catalogue",
    params(("id" = Uuid, Path, description = "The catalogue's id.",
        example = "3c5d0c5e-af47-5ebb-ada3-c9f72c15150d")),
    responses(
        (status = 200, description = "The catalogue.", body = CatalogueDocument),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/catalogues/{id}")]
pub async fn get_catalogue(
    _auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<CatalogueDocument>> {
    let id = path_id(Resource::Catalogue, &path)?;
    let (row, mut items) = db
        .read(move |conn| {
            let row = repo::find(conn, id)?
                .ok_or_else(|| ApiError::not_found(Resource::Catalogue, id))?;
            let items = repo::items_of(conn, vec![row.id])?;
            Ok((row, items))
        })
        .await?;
    let own = items.remove(&id).unwrap_or_default();
    Ok(Json(document(row, own)?))
}

/// The catalogue, for a change by a national principal of its country: 403 otherwise.
fn writable(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
    catalogue: &Catalogue,
) -> ApiResult<(CatalogueRow, String)> {
    let row = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(Resource::Catalogue, id))?;
    let country = whole_country(catalogue, &row.country, scope, "")?;
    Ok((row, country.path.clone()))
}

/// Add an item to a catalogue.
///
/// A plan, a dimension, a process of one's own (a comunal plan, a Secretaría's process), for
/// national principals of the catalogue's country. Answers 201 with the item, its `Location`
/// and `ETag`; 409 when its code is taken in the catalogue.
#[utoipa::path(
    tag = "catalogues",
    operation_id = "create_catalogue_item",
    params(("id" = Uuid, Path, description = "The catalogue's id.",
        example = "3c5d0c5e-af47-5ebb-ada3-c9f72c15150d")),
    request_body(content = CatalogueItemInput, description = "The new item."),
    responses(
        (status = 201, description = "Added.", body = CatalogueItem,
            headers(("ETag" = String, description = "The version."),
                    ("Location" = String, description = "The item's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["catalogues:admin"]))
)]
#[post("/catalogues/{id}/items")]
pub async fn create_catalogue_item(
    auth: Authorized<CataloguesAdmin>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let catalogue_id = path_id(Resource::Catalogue, &path)?;
    let input = checked::<CatalogueItemInput>("create_catalogue_item", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let territories = catalogue.into_inner();
    let row = db
        .write(move |tx| {
            let (catalogue, path) = writable(tx.conn(), catalogue_id, &scope, &territories)?;
            let mut v = Validator::new();
            if let Some(parent) = input.parent_id
                && repo::find_item(tx.conn(), catalogue_id, parent)?.is_none()
            {
                v.issue("/parent_id", IssueKind::UnknownReference);
            }
            v.finish()?;
            let data = ItemData {
                code: input.code.clone(),
                name: text(&input.name),
                level: input.level.as_str().to_owned(),
                parent_id: input.parent_id.map(DbUuid),
                legal_basis: optional_text(input.legal_basis.as_deref()),
            };
            repo::insert_item(tx, Uuid::now_v7(), &catalogue, &path, &data)
                .map_err(|e| taken(e, &["code"]))
        })
        .await?;
    let version = row.version;
    let item = item(row)?;
    Ok(created(
        format!("/api/v1/catalogues/{catalogue_id}/items/{}", item.id),
        version,
        &item,
    ))
}

/// Get a catalogue item.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "catalogues",
    operation_id = "get_catalogue_item",
    params(("id" = Uuid, Path, description = "The catalogue's id.",
            example = "3c5d0c5e-af47-5ebb-ada3-c9f72c15150d"),
        ("item_id" = Uuid, Path, description = "The item's id.",
            example = "c0a3e8be-3664-56a4-9350-f3a2d92bdfac")),
    responses(
        (status = 200, description = "The item.", body = CatalogueItem,
            headers(("ETag" = String, description = "The version, for If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/catalogues/{id}/items/{item_id}")]
pub async fn get_catalogue_item(
    _auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let (catalogue_id, item_id) = path.into_inner();
    let catalogue_id = path_id(Resource::Catalogue, &catalogue_id)?;
    let item_id = path_id(Resource::CatalogueItem, &item_id)?;
    let row = db
        .read(move |conn| Ok(repo::find_item(conn, catalogue_id, item_id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::CatalogueItem, item_id))?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok(), version, &item(row)?))
}

/// Remove a catalogue item.
///
/// Only one an administrator added (a built-in item is part of the published catalogue: 409),
/// and none hangs from it (409). With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "catalogues",
    operation_id = "delete_catalogue_item",
    params(("id" = Uuid, Path, description = "The catalogue's id.",
            example = "3c5d0c5e-af47-5ebb-ada3-c9f72c15150d"),
        ("item_id" = Uuid, Path, description = "The item's id.",
            example = "c0a3e8be-3664-56a4-9350-f3a2d92bdfac")),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["catalogues:admin"]))
)]
#[delete("/catalogues/{id}/items/{item_id}")]
pub async fn delete_catalogue_item(
    auth: Authorized<CataloguesAdmin>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let (catalogue_id, item_id) = path.into_inner();
    let catalogue_id = path_id(Resource::Catalogue, &catalogue_id)?;
    let item_id = path_id(Resource::CatalogueItem, &item_id)?;
    let scope = TerritoryScope::of(&auth.principal);
    let territories = catalogue.into_inner();
    db.write(move |tx| {
        let (_, path) = writable(tx.conn(), catalogue_id, &scope, &territories)?;
        let current = repo::find_item(tx.conn(), catalogue_id, item_id)?
            .ok_or_else(|| ApiError::not_found(Resource::CatalogueItem, item_id))?;
        preconditions.check_write(current.version)?;
        if current.builtin {
            return Err(ApiError::StateConflict(vec![Issue::body(
                "/builtin",
                IssueKind::Immutable,
            )]));
        }
        if repo::has_children(tx.conn(), item_id)? {
            return Err(ApiError::InUse);
        }
        match repo::delete_item(tx, &current, &path)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
