//! `/api/v1/territories`: the territory catalogue, read-only.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Authorized;
use crate::auth::scopes::TerritoriesRead;
use crate::catalog::Catalogue;
use crate::db::Db;
use crate::domain::{Country, TerritoryLevel, TerritoryRef};
use crate::error::{ApiError, ApiResult, Resource};
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::territories::{self as repo, TerritoryFilter, TerritoryRow};

/// A territory: a country or one of its official administrative divisions.
///
/// Chile (CUT, Código Único Territorial): *región* → *provincia* → *comuna*. Colombia (DIVIPOLA,
/// División Político-Administrativa, DANE): *departamento* → *municipio*.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "87142ed9-b926-53a4-a3c5-ae3c4cc81a5b",
    "key": "CL-13101",
    "country": "CL",
    "level": "comuna",
    "code": "13101",
    "name": "Santiago",
    "parent_id": "a4c9bb78-4935-5acf-93ee-ea80e96cb243",
    "parent_key": "CL-131",
    "depth": 3
}))]
pub struct Territory {
    /// Stable id: the UUIDv5 of the key, the same in every installation of Redes.
    pub id: Uuid,
    /// Unique key: the country code, or the country code, a dash and the official code
    /// (`CL-13101`, `CO-11001`). Every endpoint that takes a territory accepts its key or its id.
    #[schema(example = "CL-13101")]
    pub key: String,
    pub country: Country,
    pub level: TerritoryLevel,
    /// Official code as a zero-padded string: CUT for Chile (`13`, `131`, `13101`), DIVIPOLA for
    /// Colombia (`11`, `11001`); the ISO country code for a country.
    #[schema(example = "13101")]
    pub code: String,
    /// Official name in Spanish.
    #[schema(example = "Santiago")]
    pub name: String,
    /// The id of the parent territory; `null` for a country.
    pub parent_id: Option<Uuid>,
    /// The key of the parent territory; `null` for a country.
    #[schema(example = "CL-131")]
    pub parent_key: Option<String>,
    /// Distance from the country: 0 for the country, 1 for a región or departamento, 2 for a
    /// provincia or municipio, 3 for a comuna.
    #[schema(example = 3, minimum = 0, maximum = 3)]
    pub depth: i16,
}

impl TryFrom<TerritoryRow> for Territory {
    type Error = ApiError;

    fn try_from(row: TerritoryRow) -> Result<Self, Self::Error> {
        let country = row.country.parse::<Country>().map_err(|()| {
            ApiError::internal(anyhow::anyhow!(
                "territory {} has country {}",
                row.key,
                row.country
            ))
        })?;
        let level = row.level.parse::<TerritoryLevel>().map_err(|()| {
            ApiError::internal(anyhow::anyhow!(
                "territory {} has level {}",
                row.key,
                row.level
            ))
        })?;
        let parent_key = row.parent_key().map(str::to_owned);
        Ok(Territory {
            id: row.id.0,
            key: row.key,
            country,
            level,
            code: row.code,
            name: row.name,
            parent_id: row.parent_id.map(|id| id.0),
            parent_key,
            depth: row.depth,
        })
    }
}

/// A page of territories.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [{
        "id": "87142ed9-b926-53a4-a3c5-ae3c4cc81a5b", "key": "CL-13101", "country": "CL",
        "level": "comuna", "code": "13101", "name": "Santiago",
        "parent_id": "a4c9bb78-4935-5acf-93ee-ea80e96cb243", "parent_key": "CL-131", "depth": 3
    }],
    "next_cursor": "djE6Q0wtMTMxMDE"
}))]
pub struct TerritoryPage {
    pub items: Vec<Territory>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn to_page(rows: Vec<TerritoryRow>, next_cursor: Option<String>) -> ApiResult<TerritoryPage> {
    Ok(TerritoryPage {
        items: rows
            .into_iter()
            .map(Territory::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    })
}

/// Filters of `GET /api/v1/territories` (all optional, combined with AND).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TerritoryListParams {
    /// Only this country's territories.
    #[param(inline)]
    pub country: Option<Country>,
    /// Only this level.
    #[param(inline)]
    pub level: Option<TerritoryLevel>,
    /// Only the direct children of this territory (key or id), e.g. `CL-131`.
    #[param(example = "CL-131")]
    pub parent: Option<String>,
    /// Only territories with this official code (zero-padded), e.g. `13101`. Codes repeat across
    /// countries (`05` is Valparaíso in Chile and Antioquia in Colombia): add `country`.
    #[param(example = "13101", max_length = 8)]
    pub code: Option<String>,
    /// Name search, ignoring case and accents: `nunoa` finds *Ñuñoa*.
    #[param(example = "santiago", max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &["country", "level", "parent", "code", "q", "limit", "cursor"];
const MAX_Q: usize = 100;
const MAX_CODE: usize = 8;

/// List territories.
///
/// Territories in key order, which is tree order: each territory comes right before its
/// descendants. Filter by country, level, parent, official code and name.
#[utoipa::path(
    tag = "territories",
    operation_id = "list_territories",
    params(TerritoryListParams),
    responses(
        (status = 200, description = "A page of territories.", body = TerritoryPage,
            example = json!({"items": [{
                "id": "87142ed9-b926-53a4-a3c5-ae3c4cc81a5b", "key": "CL-13101", "country": "CL",
                "level": "comuna", "code": "13101", "name": "Santiago",
                "parent_id": "a4c9bb78-4935-5acf-93ee-ea80e96cb243", "parent_key": "CL-131",
                "depth": 3}], "next_cursor": null})),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["territories:read"]))
)]
#[get("/territories")]
pub async fn list_territories(
    _auth: Authorized<TerritoriesRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<TerritoryPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let filter = TerritoryFilter {
        country: reader.choice("country", Country::NAMES),
        level: reader.choice("level", TerritoryLevel::NAMES),
        parent_id: reader.territory("parent", &catalogue).map(|t| t.id),
        code: reader.text("code", MAX_CODE),
        name_contains: reader.text("q", MAX_Q),
        below_path: None,
        page: reader.page(),
    };
    reader.finish()?;
    let page = filter.page.clone();
    let rows = db.read(move |conn| Ok(repo::list(conn, &filter)?)).await?;
    let (rows, next) = into_page(rows, &page, |row| row.key.clone());
    Ok(Json(to_page(rows, next)?))
}

fn parse_reference(raw: &str) -> ApiResult<TerritoryRef> {
    TerritoryRef::parse(raw).map_err(|_| {
        ApiError::not_found(
            Resource::Territory,
            raw.chars().take(100).collect::<String>(),
        )
    })
}

/// Get a territory.
///
/// By key (`/api/v1/territories/CL-13101`) or by id.
#[utoipa::path(
    tag = "territories",
    operation_id = "get_territory",
    params(("territory" = String, Path,
            description = "The territory's key (`CL-13101`, `CO-11001`, `CL`) or id.",
            example = "CL-13101")),
    responses(
        (status = 200, description = "The territory.", body = Territory),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["territories:read"]))
)]
#[get("/territories/{territory}")]
pub async fn get_territory(
    _auth: Authorized<TerritoriesRead>,
    _query: NoParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<Territory>> {
    let raw = path.into_inner();
    let reference = parse_reference(&raw)?;
    let row = db
        .read(move |conn| Ok(repo::find(conn, &reference)?))
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found(Resource::Territory, &raw))?;
    Ok(Json(Territory::try_from(row)?))
}

/// List a territory's ancestors.
///
/// From the country down to the parent; empty for a country. A single page: `next_cursor` is
/// always `null`.
#[utoipa::path(
    tag = "territories",
    operation_id = "list_territory_ancestors",
    params(("territory" = String, Path,
            description = "The territory's key (`CL-13101`, `CO-11001`, `CL`) or id.",
            example = "CL-13101")),
    responses(
        (status = 200, description = "The ancestors, root first.", body = TerritoryPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["territories:read"]))
)]
#[get("/territories/{territory}/ancestors")]
pub async fn list_territory_ancestors(
    _auth: Authorized<TerritoriesRead>,
    _query: NoParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<TerritoryPage>> {
    let raw = path.into_inner();
    let reference = parse_reference(&raw)?;
    let found = db
        .read(move |conn| Ok(repo::with_ancestors(conn, &reference)?))
        .await?;
    let (_, ancestors) = found.ok_or_else(|| ApiError::not_found(Resource::Territory, &raw))?;
    Ok(Json(to_page(ancestors, None)?))
}

/// Filters of `GET /api/v1/territories/{territory}/descendants`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DescendantParams {
    /// Only this level, e.g. `comuna` for all the comunas of a región.
    #[param(inline)]
    pub level: Option<TerritoryLevel>,
    /// Name search, ignoring case and accents.
    #[param(example = "san", max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const DESCENDANT_PARAMS: &[&str] = &["level", "q", "limit", "cursor"];

/// List a territory's descendants.
///
/// Every territory below it (not itself), in tree order: `/api/v1/territories/CL-13/descendants?level=comuna`
/// lists the 52 comunas of the Región Metropolitana.
#[utoipa::path(
    tag = "territories",
    operation_id = "list_territory_descendants",
    params(("territory" = String, Path,
            description = "The territory's key (`CL-13101`, `CO-11001`, `CL`) or id.",
            example = "CL-13101"), DescendantParams),
    responses(
        (status = 200, description = "A page of descendants.", body = TerritoryPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["territories:read"]))
)]
#[get("/territories/{territory}/descendants")]
pub async fn list_territory_descendants(
    _auth: Authorized<TerritoriesRead>,
    path: web::Path<String>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<TerritoryPage>> {
    let raw = path.into_inner();
    let root = parse_reference(&raw)
        .ok()
        .and_then(|reference| catalogue.resolve(&reference))
        .ok_or_else(|| {
            ApiError::not_found(
                Resource::Territory,
                raw.chars().take(100).collect::<String>(),
            )
        })?;
    let mut reader = query.reader(DESCENDANT_PARAMS);
    let filter = TerritoryFilter {
        level: reader.choice("level", TerritoryLevel::NAMES),
        name_contains: reader.text("q", MAX_Q),
        below_path: Some(root.path.clone()),
        page: reader.page(),
        ..TerritoryFilter::default()
    };
    reader.finish()?;
    let page = filter.page.clone();
    let rows = db.read(move |conn| Ok(repo::list(conn, &filter)?)).await?;
    let (rows, next) = into_page(rows, &page, |row| row.key.clone());
    Ok(Json(to_page(rows, next)?))
}
