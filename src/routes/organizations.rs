//! `/api/v1/organizations`: sostenedores, DEPROV, Secretarías de Educación and ministries.

use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{OrganizationsRead, OrganizationsWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::coalesce::ByIdBatches;
use crate::db::{Db, DbConnection};
use crate::domain::Country;
use crate::domain::codes::{Rut, parse_etc_code};
use crate::domain::organization::{OrganizationKind, SecretariaLevel};
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::i18n::Lang;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::organizations::{
    self as repo, OrganizationData, OrganizationFilter, OrganizationRow,
};
use crate::repository::{NameCursor, UpdateOutcome, schools};
use crate::routes::common::path_id;
use crate::routes::common::{
    Warning, body_territory, check_patch, checked, created, immutable, in_state, merged,
    not_modified, taken, with_etag,
};

const UNIQUE_FIELDS: &[&str] = &["rut", "etc_code"];

/// An organisation: a Chilean *sostenedor* (DAEM, corporación municipal, SLEP, particular,
/// administración delegada), a DEPROV, a Colombian Secretaría de Educación, or a ministry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3f5e0c1a-8d7b-4e2f-9a6c-1b2d3e4f5a6b",
    "name": "DAEM de Freire",
    "kind": "daem",
    "country": "CL",
    "territory": "CL-09105",
    "territory_id": "a9ec0d54-62c4-5a31-9cb1-6b7a8a8c1b2e",
    "rut": "69.190.700-7",
    "etc_code": null,
    "secretaria_level": null,
    "warnings": [],
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct Organization {
    pub id: Uuid,
    /// The organisation's name.
    pub name: String,
    pub kind: OrganizationKind,
    pub country: Country,
    /// The key of its territory: a comuna for a DAEM, a provincia or región for a DEPROV or
    /// SLEP, a departamento or municipio for a Secretaría, the country for a ministry.
    pub territory: String,
    pub territory_id: Uuid,
    /// Chile: the RUT (*Rol Único Tributario*), `12345678-9`.
    pub rut: Option<String>,
    /// Colombia: the code of the certified territorial entity (ETC) of a Secretaría.
    pub etc_code: Option<String>,
    /// Colombia: the level of a Secretaría.
    pub secretaria_level: Option<SecretariaLevel>,
    /// What in the record deserves checking without making it invalid.
    pub warnings: Vec<Warning>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST` and `PUT /api/v1/organizations`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "DAEM de Freire", "kind": "daem", "territory": "CL-09105", "rut": "69.190.700-7"
}))]
pub struct OrganizationInput {
    /// The organisation's name (1-200 characters, not blank; trimmed).
    #[schema(example = "DAEM de Freire", min_length = 1, max_length = 200)]
    pub name: String,
    /// The kind; it cannot change once the organisation exists.
    pub kind: OrganizationKind,
    /// Its territory, by key or id; the level depends on the kind (a comuna for `daem` and
    /// `corporacion_municipal`; región, provincia or comuna for `slep`, `particular`,
    /// `administracion_delegada` and `deprov`; departamento or municipio for `secretaria`; the
    /// country for `ministry`). It must be in the caller's territories.
    #[schema(example = "CL-09105")]
    pub territory: String,
    /// Not for Secretarías: the RUT, with check digit (`69.190.700-7` or `69190700-7`). A
    /// check digit that does not match is kept, with a warning.
    #[serde(default)]
    #[schema(example = "69.190.700-7")]
    pub rut: Option<String>,
    /// Secretarías only: the ETC code, digits.
    #[serde(default)]
    #[schema(example = "3763", min_length = 1, max_length = 8)]
    pub etc_code: Option<String>,
    /// Secretarías only: `departamental`, `distrital` or `municipal`.
    #[serde(default)]
    pub secretaria_level: Option<SecretariaLevel>,
}

/// The body of `PATCH /api/v1/organizations/{id}`: a JSON merge patch of the organisation's
/// writable fields (`kind` cannot change). `null` removes an optional field.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Dirección de Educación Municipal de Freire"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct OrganizationPatch {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    territory: Option<String>,
    rut: Option<String>,
    #[schema(min_length = 1, max_length = 8)]
    etc_code: Option<String>,
    secretaria_level: Option<SecretariaLevel>,
}

/// What validating a body needs.
pub(crate) struct Context {
    pub catalogue: Arc<Catalogue>,
    pub scope: TerritoryScope,
}

/// The rules of an organisation no schema can state: its territory exists at the kind's
/// levels and in the caller's territories.
pub(crate) fn validate(input: OrganizationInput, ctx: &Context) -> ApiResult<OrganizationData> {
    let mut v = Validator::new();
    let kind = input.kind;
    let territory = body_territory(
        &mut v,
        "/territory",
        &input.territory,
        &ctx.catalogue,
        &ctx.scope,
        kind.country(),
        kind.allowed_levels(input.secretaria_level),
    );
    let rut = match input.rut.as_deref().map(Rut::parse) {
        None => None,
        Some(Some(rut)) => Some(rut.to_string()),
        Some(None) => {
            v.issue(
                "/rut",
                IssueKind::format("un RUT como 69.190.700-7", "a RUT such as 69.190.700-7"),
            );
            None
        }
    };
    let etc_code = input.etc_code.as_deref().and_then(|code| {
        let parsed = parse_etc_code(code);
        if parsed.is_none() {
            v.issue(
                "/etc_code",
                IssueKind::format("de 1 a 8 dígitos", "1 to 8 digits"),
            );
        }
        parsed
    });
    v.finish()?;
    let territory = territory.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no territory")))?;
    Ok(OrganizationData {
        kind: kind.as_str().to_owned(),
        name: text(&input.name),
        country: territory.country().as_str().to_owned(),
        territory_id: territory.id,
        territory_path: territory.path.clone(),
        rut,
        etc_code,
        secretaria_level: input.secretaria_level.map(|l| l.as_str().to_owned()),
    })
}

impl Organization {
    fn from_row(
        row: OrganizationRow,
        catalogue: &Catalogue,
        lang: Lang,
    ) -> ApiResult<Organization> {
        let corrupt = |what: &str| {
            ApiError::internal(anyhow::anyhow!(
                "organization {} has a bad {what}",
                row.id.0
            ))
        };
        let territory = catalogue
            .resolve(&crate::domain::TerritoryRef::Id(row.territory_id.0))
            .ok_or_else(|| corrupt("territory"))?;
        let mut warnings = Vec::new();
        if let Some(rut) = row.rut.as_deref().and_then(Rut::parse)
            && !rut.check_digit_matches()
        {
            let expected = rut.expected_check_digit();
            warnings.push(Warning {
                pointer: "/rut".into(),
                code: "rut_check_digit_mismatch".into(),
                message: lang.pick(
                    format!(
                        "El dígito verificador no corresponde al RUT (debería ser {expected})."
                    ),
                    format!(
                        "The RUT check digit does not match its number (it should be {expected})."
                    ),
                ),
            });
        }
        Ok(Organization {
            id: row.id.0,
            warnings,
            kind: row.kind.parse().map_err(|()| corrupt("kind"))?,
            country: row.country.parse().map_err(|()| corrupt("country"))?,
            territory: territory.key.to_string(),
            territory_id: row.territory_id.0,
            secretaria_level: row
                .secretaria_level
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|()| corrupt("secretaria_level"))?,
            name: row.name,
            rut: row.rut,
            etc_code: row.etc_code,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    /// The writable fields, as a body: what a PATCH is merged into.
    fn as_input(&self) -> Value {
        json!({
            "name": self.name,
            "kind": self.kind,
            "territory": self.territory,
            "rut": self.rut,
            "etc_code": self.etc_code,
            "secretaria_level": self.secretaria_level,
        })
    }
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct OrganizationPage {
    pub items: Vec<Organization>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/organizations`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationListParams {
    /// Only these kinds (repeatable: `kind=daem&kind=slep`).
    #[param(inline)]
    pub kind: Option<Vec<OrganizationKind>>,
    /// Only this country's organisations.
    #[param(inline)]
    pub country: Option<Country>,
    /// Only organisations in this territory's subtree (key or id), e.g. `CL-09`.
    #[param(example = "CL-09")]
    pub territory: Option<String>,
    /// Name search, ignoring case and accents.
    #[param(example = "daem", max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &["kind", "country", "territory", "q", "limit", "cursor"];

/// List organisations.
///
/// The organisations in the caller's territories, by name. Filter by kind, country, territory
/// subtree and name.
#[utoipa::path(
    tag = "organizations",
    operation_id = "list_organizations",
    params(OrganizationListParams),
    responses(
        (status = 200, description = "A page of organisations.", body = OrganizationPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["organizations:read"]))
)]
#[get("/organizations")]
pub async fn list_organizations(
    auth: Authorized<OrganizationsRead>,
    query: QueryParams,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<OrganizationPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let kinds: Vec<OrganizationKind> = reader.choices("kind", OrganizationKind::NAMES);
    let filter = OrganizationFilter {
        kinds: kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        country: reader
            .choice::<Country>("country", Country::NAMES)
            .map(|c| c.as_str().to_owned()),
        territory_path: reader
            .territory("territory", &catalogue)
            .map(|t| t.path.clone()),
        name_contains: reader.text("q", 100),
        page: reader.page(),
    };
    if filter
        .page
        .after
        .as_deref()
        .is_some_and(|c| NameCursor::decode(c).is_none())
    {
        reader.issue("cursor", IssueKind::InvalidCursor);
    }
    reader.finish()?;
    let scope = TerritoryScope::of(&auth.principal);
    let page = filter.page.clone();
    let rows = db
        .read(move |conn| Ok(repo::list(conn, &filter, &scope)?))
        .await?;
    let (rows, next) = into_page(rows, &page, |row| {
        NameCursor::encode(&row.search_name, row.id.0)
    });
    Ok(Json(OrganizationPage {
        items: rows
            .into_iter()
            .map(|row| Organization::from_row(row, &catalogue, lang))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Create an organisation.
///
/// In a territory of the caller's. Answers 201 with the organisation, its `Location` and its
/// `ETag`.
#[utoipa::path(
    tag = "organizations",
    operation_id = "create_organization",
    request_body(content = OrganizationInput, description = "The new organisation."),
    responses(
        (status = 201, description = "Created.", body = Organization,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The organisation's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["organizations:write"]))
)]
#[post("/organizations")]
pub async fn create_organization(
    auth: Authorized<OrganizationsWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let input = checked::<OrganizationInput>("create_organization", &body)?;
    let data = validate(input, &ctx)?;
    let row = db
        .write(move |tx| {
            repo::insert(tx, Uuid::new_v4(), &data).map_err(|e| taken(e, UNIQUE_FIELDS))
        })
        .await?;
    let version = row.version;
    let organization = Organization::from_row(row, &catalogue, lang)?;
    Ok(created(
        format!("/api/v1/organizations/{}", organization.id),
        version,
        &organization,
    ))
}

/// Get an organisation.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "organizations",
    operation_id = "get_organization",
    params(("id" = Uuid, Path, description = "The organisation's id.")),
    responses(
        (status = 200, description = "The organisation.", body = Organization,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["organizations:read"]))
)]
#[get("/organizations/{id}")]
pub async fn get_organization(
    auth: Authorized<OrganizationsRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    lang: Lang,
    catalogue: web::Data<Catalogue>,
    batches: web::Data<OrganizationsById>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Organization, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = batches
        .into_inner()
        .find(id)
        .await?
        .filter(|row| repo::in_scope(row, &scope))
        .ok_or_else(|| ApiError::not_found(Resource::Organization, id))?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Organization::from_row(row, &catalogue, lang)?,
    ))
}

/// The reads of organisations by id on one HTTP worker (`db::coalesce`), registered per worker.
pub type OrganizationsById = ByIdBatches<OrganizationRow>;

/// A worker's [`OrganizationsById`].
pub fn organizations_by_id(db: Db) -> OrganizationsById {
    ByIdBatches::new(db, repo::find_many, |row| row.id.0)
}

/// Loads the organisation in scope for a write, checking `If-Match`.
fn current(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
    preconditions: &Preconditions,
) -> ApiResult<OrganizationRow> {
    let row = repo::find(conn, id, scope)?
        .ok_or_else(|| ApiError::not_found(Resource::Organization, id))?;
    preconditions.check_write(row.version)?;
    Ok(row)
}

/// Replaces (PUT) or merges (PATCH) an organisation.
#[expect(clippy::too_many_arguments, reason = "the extractors of two handlers")]
async fn update(
    auth: Authorized<OrganizationsWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Organization, raw_id)?;
    let replacement = if merge {
        check_patch("update_organization", &body)?;
        None
    } else {
        Some(checked::<OrganizationInput>("replace_organization", &body)?)
    };
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let row = db
        .write(move |tx| {
            let current = current(tx.conn(), id, &ctx.scope, &preconditions)?;
            let document = Organization::from_row(current.clone(), &ctx.catalogue, lang)?;
            let data = match replacement {
                Some(input) => {
                    if input.kind != document.kind {
                        return Err(immutable("/kind"));
                    }
                    validate(input, &ctx)?
                }
                None => {
                    let input: OrganizationInput =
                        merged("replace_organization", document.as_input(), &body)?;
                    in_state(validate(input, &ctx))?
                }
            };
            match repo::update(tx, &current, &data).map_err(|e| taken(e, UNIQUE_FIELDS))? {
                UpdateOutcome::Done(row) => Ok(row),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Organization::from_row(row, &catalogue, lang)?,
    ))
}

/// Replace an organisation.
///
/// The whole organisation, as in `POST`. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "organizations",
    operation_id = "replace_organization",
    params(("id" = Uuid, Path, description = "The organisation's id.")),
    request_body(content = OrganizationInput, description = "The organisation, whole."),
    responses(
        (status = 200, description = "Replaced.", body = Organization,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["organizations:write"]))
)]
#[put("/organizations/{id}")]
#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per argument"
)]
pub async fn replace_organization(
    auth: Authorized<OrganizationsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    update(
        auth,
        &path,
        body.into_inner(),
        false,
        preconditions,
        lang,
        db,
        catalogue,
    )
    .await
}

/// Change an organisation.
///
/// A JSON merge patch (RFC 7396): the fields given replace, `null` removes an optional field.
/// With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "organizations",
    operation_id = "update_organization",
    params(("id" = Uuid, Path, description = "The organisation's id.")),
    request_body(content = OrganizationPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = Organization,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["organizations:write"]))
)]
#[patch("/organizations/{id}")]
#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per argument"
)]
pub async fn update_organization(
    auth: Authorized<OrganizationsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    update(
        auth,
        &path,
        body.into_inner(),
        true,
        preconditions,
        lang,
        db,
        catalogue,
    )
    .await
}

/// Delete an organisation.
///
/// Refused with 409 while schools, networks, people, plans (a PAM) or indicator values refer
/// to it. With `If-Match`, answers 412 if it changed
/// since. The deletion appears in the change feed.
#[utoipa::path(
    tag = "organizations",
    operation_id = "delete_organization",
    params(("id" = Uuid, Path, description = "The organisation's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["organizations:write"]))
)]
#[delete("/organizations/{id}")]
pub async fn delete_organization(
    auth: Authorized<OrganizationsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Organization, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = current(tx.conn(), id, &scope, &preconditions)?;
        if schools::refers_to_organization(tx.conn(), id)?
            || crate::repository::networks::refers_to_organization(tx.conn(), id)?
            || crate::repository::people::organization_has_people(tx.conn(), id)?
            || crate::repository::plans::refers_to_organization(tx.conn(), id)?
            || crate::repository::indicators::org_unit_has_values(tx.conn(), id)?
        {
            return Err(ApiError::InUse);
        }
        match repo::delete(tx, &current)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
