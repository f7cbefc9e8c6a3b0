//! `/api/v1/schools`: schools (establecimientos educacionales) of Chile and Colombia.

use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{SchoolsRead, SchoolsWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::coalesce::ByIdBatches;
use crate::db::{Db, DbConnection};
use crate::domain::codes::{DaneCode, MAX_RBD, RbdInput, mod11_check_digit, parse_check_digit};
use crate::domain::organization::OrganizationKind;
use crate::domain::school::{Dependency, SchoolStatus, Sector, TeachingLevel, Zone};
use crate::domain::{Country, TerritoryLevel, TerritoryRef};
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::i18n::Lang;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::organizations;
use crate::repository::schools::{self as repo, OfficialCode, SchoolData, SchoolFilter, SchoolRow};
use crate::repository::{NameCursor, UpdateOutcome};
use crate::routes::common::path_id;
use crate::routes::common::{
    Warning, body_territory, check_patch, checked, created, immutable, in_state, merge_patch,
    merged, not_modified, taken, with_etag,
};

const UNIQUE_FIELDS: &[&str] = &["rbd", "dane_code"];

/// A sede (campus) of a Colombian establishment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Sede Principal", "dane_code": "105001000108", "zone": "urbana", "main": true}))]
pub struct Sede {
    /// The sede's name.
    pub name: String,
    /// Its own DANE code (12 digits), if it has one.
    pub dane_code: Option<String>,
    pub zone: Option<Zone>,
    /// Whether it is the establishment's main sede (at most one is).
    pub main: bool,
}

/// A school (*establecimiento educacional*).
///
/// Chilean schools carry Mineduc's RBD, dependency (`COD_DEPE`), teaching levels (`COD_ENSE2`)
/// and sostenedor; Colombian ones MEN/DANE's 12-digit code, sector, Secretaría and sedes.
/// Fields of the other country are `null`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "name": "Liceo Bicentenario de Freire",
    "country": "CL",
    "territory": "CL-09105",
    "territory_id": "a9ec0d54-62c4-5a31-9cb1-6b7a8a8c1b2e",
    "rural": false,
    "status": "funcionando",
    "rbd": 5575,
    "rbd_dv": "1",
    "dependency": "municipal_daem",
    "levels": ["basica_ninos", "media_hc_jovenes"],
    "sostenedor_id": "3f5e0c1a-8d7b-4e2f-9a6c-1b2d3e4f5a6b",
    "dane_code": null,
    "sector": null,
    "secretaria_id": null,
    "sedes": [],
    "warnings": [],
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct School {
    pub id: Uuid,
    /// The school's name.
    pub name: String,
    pub country: Country,
    /// The key of its comuna (Chile) or municipio (Colombia).
    pub territory: String,
    pub territory_id: Uuid,
    /// Whether it is rural (*rural*/*urbano*).
    pub rural: Option<bool>,
    pub status: Option<SchoolStatus>,
    /// Chile: the RBD (*Rol Base de Datos*).
    pub rbd: Option<i32>,
    /// Chile: the RBD check digit as recorded (see `warnings` when it does not match).
    pub rbd_dv: Option<String>,
    pub dependency: Option<Dependency>,
    /// Chile: the teaching levels offered.
    pub levels: Vec<TeachingLevel>,
    /// Chile: the sostenedor (an organisation).
    pub sostenedor_id: Option<Uuid>,
    /// Colombia: the establishment's DANE code (12 digits).
    pub dane_code: Option<String>,
    pub sector: Option<Sector>,
    /// Colombia: the Secretaría de Educación in charge (an organisation).
    pub secretaria_id: Option<Uuid>,
    /// Colombia: the establishment's sedes.
    pub sedes: Vec<Sede>,
    /// What in the record deserves checking without making it invalid.
    pub warnings: Vec<Warning>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST` and `PUT /api/v1/schools`.
///
/// Chile: `dependency` is required, and `rbd` whenever it is known (a school named in a
/// network's roster may not have it yet); `dane_code`, `sector`, `secretaria_id` and `sedes`
/// must be absent or null. Colombia: `dane_code` and `sector` are required; `rbd`,
/// `rbd_dv`, `dependency`, `levels` and `sostenedor_id` must be absent or null. The country
/// cannot change once the school exists.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Liceo Bicentenario de Freire", "country": "CL", "territory": "CL-09105",
    "rbd": 5575, "rbd_dv": "1", "dependency": "municipal_daem",
    "levels": ["basica_ninos", "media_hc_jovenes"], "rural": false
}))]
pub struct SchoolInput {
    /// The school's name (1-200 characters, not blank; trimmed).
    #[schema(
        example = "Liceo Bicentenario de Freire",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    pub country: Country,
    /// Its comuna (Chile) or municipio (Colombia), by key or id, in the caller's territories.
    #[schema(example = "CL-09105")]
    pub territory: String,
    #[serde(default)]
    pub rural: Option<bool>,
    /// Defaults to `funcionando` for Chilean schools.
    #[serde(default)]
    pub status: Option<SchoolStatus>,
    /// Chile: the RBD, 1-99999999.
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(value_type = Option<i64>, example = 5575, minimum = 1, maximum = 99999999)]
    pub rbd: Option<i64>,
    /// Chile: the RBD check digit (`0`-`9` or `K`). When it does not match the RBD it is kept,
    /// with a warning: published data has some. Computed when absent.
    #[serde(default)]
    #[schema(example = "1")]
    pub rbd_dv: Option<String>,
    #[serde(default)]
    pub dependency: Option<Dependency>,
    /// Chile: teaching levels offered, without repeats.
    #[serde(default)]
    pub levels: Option<Vec<TeachingLevel>>,
    /// Chile: the id of its sostenedor, an organisation of kind `daem`, `corporacion_municipal`,
    /// `slep`, `particular` or `administracion_delegada`.
    #[serde(default)]
    pub sostenedor_id: Option<Uuid>,
    /// Colombia: the establishment's DANE code, 12 digits.
    #[serde(default)]
    #[schema(example = "105001000108")]
    pub dane_code: Option<String>,
    #[serde(default)]
    pub sector: Option<Sector>,
    /// Colombia: the id of its Secretaría de Educación, an organisation of kind `secretaria`.
    #[serde(default)]
    pub secretaria_id: Option<Uuid>,
    /// Colombia: its sedes (at most 100).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub sedes: Option<Vec<SedeInput>>,
}

/// A sede in a body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Sede Principal", "dane_code": "105001000108", "zone": "urbana", "main": true}))]
pub struct SedeInput {
    /// The sede's name (1-200 characters, not blank; trimmed).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Its own DANE code (12 digits), if it has one.
    #[serde(default)]
    pub dane_code: Option<String>,
    #[serde(default)]
    pub zone: Option<Zone>,
    /// Whether it is a main sede (`false` when absent).
    #[serde(default)]
    pub main: Option<bool>,
}

/// The body of `PATCH /api/v1/schools/{id}`: a JSON merge patch of the school's writable fields
/// (`country` cannot change). `null` removes an optional field; a patch that would leave the
/// school invalid (a Colombian field on a Chilean school, a required field removed) is 409.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"rural": true, "levels": ["parvularia", "basica_ninos"]}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct SchoolPatch {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    territory: Option<String>,
    rural: Option<bool>,
    status: Option<SchoolStatus>,
    #[schema(minimum = 1, maximum = 99999999)]
    rbd: Option<i64>,
    rbd_dv: Option<String>,
    dependency: Option<Dependency>,
    levels: Option<Vec<TeachingLevel>>,
    sostenedor_id: Option<Uuid>,
    dane_code: Option<String>,
    sector: Option<Sector>,
    secretaria_id: Option<Uuid>,
    #[schema(max_items = 100)]
    sedes: Option<Vec<SedeInput>>,
}

pub(crate) struct Context {
    pub catalogue: Arc<Catalogue>,
    pub scope: TerritoryScope,
}

/// The rules of a school no schema can state: its territory exists, at the country's level
/// and in the caller's territories; the organisations it refers to exist, may be referred to
/// by the caller and have the right kind.
pub(crate) fn validate(
    input: SchoolInput,
    ctx: &Context,
    conn: &mut DbConnection,
) -> ApiResult<SchoolData> {
    let mut v = Validator::new();
    let country = input.country;
    let level = match country {
        Country::Cl => TerritoryLevel::Comuna,
        Country::Co => TerritoryLevel::Municipio,
    };
    let territory = body_territory(
        &mut v,
        "/territory",
        &input.territory,
        &ctx.catalogue,
        &ctx.scope,
        Some(country),
        &[level],
    );
    let mut data = SchoolData {
        country: country.as_str().to_owned(),
        name: text(&input.name),
        rural: input.rural,
        status: input.status.map(|s| s.as_str().to_owned()),
        sedes: "[]".into(),
        ..SchoolData::default()
    };
    match country {
        Country::Cl => {
            // Optional: a roster taken from a document may name a school before its RBD is
            // known. The schema bounds it, so the conversions cannot fail.
            let rbd = input
                .rbd
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (1..=MAX_RBD).contains(n));
            // The schema also requires `rbd` whenever `rbd_dv` is given.
            if input.rbd.is_some() && rbd.is_none() {
                return Err(ApiError::internal(anyhow::anyhow!("unchecked RBD")));
            }
            if let Some(rbd) = rbd {
                data.rbd = i32::try_from(rbd).ok();
                let dv = input.rbd_dv.as_deref().and_then(parse_check_digit);
                data.rbd_dv = Some(
                    dv.unwrap_or_else(|| mod11_check_digit(u64::from(rbd)))
                        .to_string(),
                );
            }
            data.dependency = input.dependency.map(|d| d.as_str().to_owned());
            let levels = input.levels.unwrap_or_default();
            data.levels = TeachingLevel::ALL
                .iter()
                .filter(|l| levels.contains(l))
                .map(|l| l.as_str().to_owned())
                .collect();
            data.status = Some(
                input
                    .status
                    .unwrap_or(SchoolStatus::Funcionando)
                    .as_str()
                    .to_owned(),
            );
            data.sostenedor_id = input.sostenedor_id;
        }
        Country::Co => {
            data.dane_code = input.dane_code;
            data.sector = input.sector.map(|s| s.as_str().to_owned());
            data.secretaria_id = input.secretaria_id;
            let sedes: Vec<Sede> = input
                .sedes
                .unwrap_or_default()
                .into_iter()
                .map(|sede| Sede {
                    name: text(&sede.name),
                    dane_code: sede.dane_code,
                    zone: sede.zone,
                    main: sede.main.unwrap_or(false),
                })
                .collect();
            data.sedes = serde_json::to_string(&sedes).map_err(ApiError::internal)?;
        }
    }
    if let Some(territory) = territory {
        check_reference(
            &mut v,
            conn,
            ctx,
            "/sostenedor_id",
            data.sostenedor_id,
            &territory.path,
            |kind| kind.is_sostenedor(),
            &[
                OrganizationKind::Daem,
                OrganizationKind::CorporacionMunicipal,
                OrganizationKind::Slep,
                OrganizationKind::Particular,
                OrganizationKind::AdministracionDelegada,
            ],
        )?;
        check_reference(
            &mut v,
            conn,
            ctx,
            "/secretaria_id",
            data.secretaria_id,
            &territory.path,
            |kind| kind == OrganizationKind::Secretaria,
            &[OrganizationKind::Secretaria],
        )?;
    }
    v.finish()?;
    let territory = territory.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no territory")))?;
    data.territory_id = territory.id;
    data.territory_path = territory.path.clone();
    Ok(data)
}

/// An organisation a school refers to must be one the caller may refer to, of the right kind.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per reference field"
)]
fn check_reference(
    v: &mut Validator,
    conn: &mut DbConnection,
    ctx: &Context,
    pointer: &str,
    id: Option<Uuid>,
    school_territory_path: &str,
    kind_ok: impl Fn(OrganizationKind) -> bool,
    allowed: &[OrganizationKind],
) -> ApiResult<()> {
    let Some(id) = id else { return Ok(()) };
    match organizations::find_referable(conn, id, &ctx.scope, school_territory_path)? {
        None => v.issue(pointer, IssueKind::UnknownReference),
        Some(row) => {
            let kind = row.kind.parse::<OrganizationKind>().ok();
            if !kind.is_some_and(kind_ok) {
                v.issue(
                    pointer,
                    IssueKind::WrongKind {
                        allowed: allowed.iter().map(|k| k.as_str()).collect(),
                    },
                );
            }
        }
    }
    Ok(())
}

impl School {
    fn from_row(row: SchoolRow, catalogue: &Catalogue, lang: Lang) -> ApiResult<School> {
        let id = row.id.0;
        let corrupt =
            |what: &str| ApiError::internal(anyhow::anyhow!("school {id} has a bad {what}"));
        let territory = catalogue
            .resolve(&TerritoryRef::Id(row.territory_id.0))
            .ok_or_else(|| corrupt("territory"))?;
        let levels = row
            .level_names()
            .into_iter()
            .map(str::parse)
            .collect::<Result<Vec<TeachingLevel>, ()>>()
            .map_err(|()| corrupt("level"))?;
        let sedes: Vec<Sede> = serde_json::from_str(&row.sedes).map_err(|_| corrupt("sedes"))?;
        let mut warnings = Vec::new();
        if let (Some(rbd), Some(dv)) = (row.rbd, row.rbd_dv.as_deref()) {
            let expected = mod11_check_digit(rbd.unsigned_abs().into());
            if parse_check_digit(dv) != Some(expected) {
                warnings.push(Warning {
                    pointer: "/rbd_dv".into(),
                    code: "rbd_check_digit_mismatch".into(),
                    message: lang.pick(
                        format!(
                            "El dígito verificador no corresponde al RBD (debería ser {expected})."
                        ),
                        format!(
                            "The RBD check digit does not match its number (it should be {expected})."
                        ),
                    ),
                });
            }
        }
        let mut dane_warning = |pointer: String, code: &str| {
            if DaneCode::parse(code).is_some_and(|c| c.municipio_code() != territory.key.code()) {
                warnings.push(Warning {
                    pointer,
                    code: "dane_code_municipio_mismatch".into(),
                    message: lang.pick(
                        format!(
                            "Los dígitos 2 a 6 del código DANE no son los del municipio {}.",
                            territory.key
                        ),
                        format!(
                            "Digits 2-6 of the DANE code are not those of the municipio {}.",
                            territory.key
                        ),
                    ),
                });
            }
        };
        if let Some(code) = row.dane_code.as_deref() {
            dane_warning("/dane_code".into(), code);
        }
        for (i, sede) in sedes.iter().enumerate() {
            if let Some(code) = sede.dane_code.as_deref() {
                dane_warning(format!("/sedes/{i}/dane_code"), code);
            }
        }
        Ok(School {
            id,
            country: row.country.parse().map_err(|()| corrupt("country"))?,
            territory: territory.key.to_string(),
            territory_id: row.territory_id.0,
            rural: row.rural,
            status: row
                .status
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|()| corrupt("status"))?,
            rbd: row.rbd,
            rbd_dv: row.rbd_dv,
            dependency: row
                .dependency
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|()| corrupt("dependency"))?,
            levels,
            sostenedor_id: row.sostenedor_id.map(|id| id.0),
            dane_code: row.dane_code,
            sector: row
                .sector
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|()| corrupt("sector"))?,
            secretaria_id: row.secretaria_id.map(|id| id.0),
            sedes,
            warnings,
            name: row.name,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    /// The writable fields, as a body: what a PATCH is merged into.
    fn as_input(&self) -> Value {
        let mut input = json!({
            "name": self.name,
            "country": self.country,
            "territory": self.territory,
            "rural": self.rural,
            "status": self.status,
        });
        let extra = match self.country {
            Country::Cl => json!({
                "rbd": self.rbd,
                "rbd_dv": self.rbd_dv,
                "dependency": self.dependency,
                "levels": self.levels,
                "sostenedor_id": self.sostenedor_id,
            }),
            Country::Co => json!({
                "dane_code": self.dane_code,
                "sector": self.sector,
                "secretaria_id": self.secretaria_id,
                "sedes": self.sedes,
            }),
        };
        merge_patch(&mut input, &extra);
        input
    }
}

/// A page of schools.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct SchoolPage {
    pub items: Vec<School>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/schools` (combined with AND).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SchoolListParams {
    /// Only schools in this territory's subtree (key or id): a región, provincia, comuna,
    /// departamento or municipio.
    #[param(example = "CL-09")]
    pub territory: Option<String>,
    /// Only this country's schools.
    #[param(inline)]
    pub country: Option<Country>,
    /// Only these dependencies (repeatable).
    #[param(inline)]
    pub dependency: Option<Vec<Dependency>>,
    /// Only schools offering this teaching level.
    #[param(inline)]
    pub level: Option<TeachingLevel>,
    /// Only rural (`true`) or urban (`false`) schools.
    pub rural: Option<bool>,
    /// Only these states (repeatable).
    #[param(inline)]
    pub status: Option<Vec<SchoolStatus>>,
    /// Only this sector (Colombia).
    #[param(inline)]
    pub sector: Option<Sector>,
    /// Only schools of this sostenedor (id).
    pub sostenedor: Option<Uuid>,
    /// Only schools of this Secretaría (id).
    pub secretaria: Option<Uuid>,
    /// Name search, ignoring case and accents.
    #[param(example = "liceo", max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &[
    "territory",
    "country",
    "dependency",
    "level",
    "rural",
    "status",
    "sector",
    "sostenedor",
    "secretaria",
    "q",
    "limit",
    "cursor",
];

/// List schools.
///
/// The schools in the caller's territories, by name, in pages (keyset: rows added or removed
/// between pages never make one skip or repeat). Filter by territory subtree, country,
/// dependency, level, rural, status, sector, sostenedor, Secretaría and name.
#[utoipa::path(
    tag = "schools",
    operation_id = "list_schools",
    params(SchoolListParams),
    responses(
        (status = 200, description = "A page of schools.", body = SchoolPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["schools:read"]))
)]
#[get("/schools")]
pub async fn list_schools(
    auth: Authorized<SchoolsRead>,
    query: QueryParams,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<SchoolPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let dependencies: Vec<Dependency> = reader.choices("dependency", Dependency::NAMES);
    let statuses: Vec<SchoolStatus> = reader.choices("status", SchoolStatus::NAMES);
    let filter = SchoolFilter {
        territory_path: reader
            .territory("territory", &catalogue)
            .map(|t| t.path.clone()),
        country: reader
            .choice::<Country>("country", Country::NAMES)
            .map(|c| c.as_str().to_owned()),
        dependencies: dependencies.iter().map(|d| d.as_str().to_owned()).collect(),
        level: reader
            .choice::<TeachingLevel>("level", TeachingLevel::NAMES)
            .map(|l| l.as_str().to_owned()),
        rural: reader.boolean("rural"),
        statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        sector: reader
            .choice::<Sector>("sector", Sector::NAMES)
            .map(|s| s.as_str().to_owned()),
        sostenedor_id: reader.uuid("sostenedor"),
        secretaria_id: reader.uuid("secretaria"),
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
    // A page walks an index in name order and stops at `limit + 1` rows: short enough for the
    // worker, unless a `q` or `level` pattern may have it walk far for few matches.
    let rows = if filter.name_contains.is_none() && filter.level.is_none() {
        db.read_short(move |conn| Ok(repo::list(conn, &filter, &scope)?))
            .await?
    } else {
        db.read(move |conn| Ok(repo::list(conn, &filter, &scope)?))
            .await?
    };
    let (rows, next) = into_page(rows, &page, |row| {
        NameCursor::encode(&row.search_name, row.id.0)
    });
    Ok(Json(SchoolPage {
        items: rows
            .into_iter()
            .map(|row| School::from_row(row, &catalogue, lang))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Create a school.
///
/// In a comuna or municipio of the caller's. Answers 201 with the school, its `Location` and
/// its `ETag`; a Chilean RBD check digit that does not match is kept and reported in
/// `warnings`.
#[utoipa::path(
    tag = "schools",
    operation_id = "create_school",
    request_body(content = SchoolInput, description = "The new school.",
        examples(
            ("Chile" = (value = json!({
                "name": "Liceo Bicentenario de Freire", "country": "CL", "territory": "CL-09105",
                "rbd": 5575, "rbd_dv": "1", "dependency": "municipal_daem",
                "levels": ["basica_ninos", "media_hc_jovenes"], "rural": false}))),
            ("Colombia" = (value = json!({
                "name": "Institución Educativa Javiera Londoño", "country": "CO",
                "territory": "CO-05001", "dane_code": "105001000108", "sector": "oficial",
                "sedes": [{"name": "Sede Principal", "dane_code": "105001000108",
                           "zone": "urbana", "main": true}]})))
        )),
    responses(
        (status = 201, description = "Created.", body = School,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The school's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["schools:write"]))
)]
#[post("/schools")]
pub async fn create_school(
    auth: Authorized<SchoolsWrite>,
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
    let input = checked::<SchoolInput>("create_school", &body)?;
    let row = db
        .write(move |tx| {
            let data = validate(input, &ctx, tx.conn())?;
            repo::insert(tx, Uuid::new_v4(), &data).map_err(|e| taken(e, UNIQUE_FIELDS))
        })
        .await?;
    let version = row.version;
    let school = School::from_row(row, &catalogue, lang)?;
    Ok(created(
        format!("/api/v1/schools/{}", school.id),
        version,
        &school,
    ))
}

/// Get a school.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "schools",
    operation_id = "get_school",
    params(("id" = Uuid, Path, description = "The school's id.")),
    responses(
        (status = 200, description = "The school.", body = School,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["schools:read"]))
)]
#[get("/schools/{id}")]
pub async fn get_school(
    auth: Authorized<SchoolsRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    lang: Lang,
    catalogue: web::Data<Catalogue>,
    batches: web::Data<SchoolsById>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::School, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = batches
        .into_inner()
        .find(id)
        .await?
        .filter(|row| repo::in_scope(row, &scope))
        .ok_or_else(|| ApiError::not_found(Resource::School, id))?;
    respond(row, &preconditions, &catalogue, lang)
}

/// The reads of schools by id on one HTTP worker (`db::coalesce`), registered per worker.
pub type SchoolsById = ByIdBatches<SchoolRow>;

/// A worker's [`SchoolsById`].
pub fn schools_by_id(db: Db) -> SchoolsById {
    ByIdBatches::new(db, repo::find_many, |row| row.id.0)
}

fn respond(
    row: SchoolRow,
    preconditions: &Preconditions,
    catalogue: &Catalogue,
    lang: Lang,
) -> ApiResult<HttpResponse> {
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &School::from_row(row, catalogue, lang)?,
    ))
}

/// Find a school by official code.
///
/// By RBD (`5575`, or with check digit `5575-1`) or by 12-digit DANE code (`105001000108`).
/// A check digit that does not match the RBD finds nothing.
#[utoipa::path(
    tag = "schools",
    operation_id = "get_school_by_code",
    params(("code" = String, Path, description = "An RBD (`5575` or `5575-1`) or a DANE code (12 digits).",
        example = "5575-1")),
    responses(
        (status = 200, description = "The school.", body = School,
            headers(("ETag" = String, description = "The version."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["schools:read"]))
)]
#[get("/schools/by-code/{code}")]
pub async fn get_school_by_code(
    auth: Authorized<SchoolsRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let raw = path.into_inner();
    let shown: String = raw.chars().take(100).collect();
    let code = if let Some(dane) = DaneCode::parse(&raw) {
        OfficialCode::Dane(dane.as_str().to_owned())
    } else {
        let rbd = RbdInput::parse(&raw)
            .filter(|rbd| {
                rbd.check_digit
                    .is_none_or(|dv| dv == rbd.expected_check_digit())
            })
            .ok_or_else(|| ApiError::not_found(Resource::School, &shown))?;
        OfficialCode::Rbd(
            i32::try_from(rbd.number).map_err(|_| ApiError::not_found(Resource::School, &shown))?,
        )
    };
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .read_short(move |conn| Ok(repo::find_by_code(conn, &code, &scope)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::School, &shown))?;
    respond(row, &preconditions, &catalogue, lang)
}

fn current(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
    preconditions: &Preconditions,
) -> ApiResult<SchoolRow> {
    let row =
        repo::find(conn, id, scope)?.ok_or_else(|| ApiError::not_found(Resource::School, id))?;
    preconditions.check_write(row.version)?;
    Ok(row)
}

#[expect(clippy::too_many_arguments, reason = "the extractors of two handlers")]
async fn update(
    auth: Authorized<SchoolsWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    lang: Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::School, raw_id)?;
    let replacement = if merge {
        check_patch("update_school", &body)?;
        None
    } else {
        Some(checked::<SchoolInput>("replace_school", &body)?)
    };
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let row = db
        .write(move |tx| {
            let current = current(tx.conn(), id, &ctx.scope, &preconditions)?;
            let document = School::from_row(current.clone(), &ctx.catalogue, lang)?;
            let data = match replacement {
                Some(input) => {
                    if input.country != document.country {
                        return Err(immutable("/country"));
                    }
                    validate(input, &ctx, tx.conn())?
                }
                None => {
                    let input: SchoolInput = merged("replace_school", document.as_input(), &body)?;
                    in_state(validate(input, &ctx, tx.conn()))?
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
        &School::from_row(row, &catalogue, lang)?,
    ))
}

/// Replace a school.
///
/// The whole school, as in `POST`. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "schools",
    operation_id = "replace_school",
    params(("id" = Uuid, Path, description = "The school's id.")),
    request_body(content = SchoolInput, description = "The school, whole."),
    responses(
        (status = 200, description = "Replaced.", body = School,
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
    security(("bearer" = ["schools:write"]))
)]
#[put("/schools/{id}")]
#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per argument"
)]
pub async fn replace_school(
    auth: Authorized<SchoolsWrite>,
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

/// Change a school.
///
/// A JSON merge patch (RFC 7396): the fields given replace, `null` removes an optional field.
/// With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "schools",
    operation_id = "update_school",
    params(("id" = Uuid, Path, description = "The school's id.")),
    request_body(content = SchoolPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = School,
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
    security(("bearer" = ["schools:write"]))
)]
#[patch("/schools/{id}")]
#[expect(
    clippy::too_many_arguments,
    reason = "one actix extractor per argument"
)]
pub async fn update_school(
    auth: Authorized<SchoolsWrite>,
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

/// Delete a school.
///
/// Refused with 409 while it has memberships in networks (end them with `left_on` instead:
/// the history stays), people affiliated with it, plans, or indicator values; its PEI goes with
/// it. With `If-Match`, answers 412 if it changed since. The deletion appears in the change feed
/// as a tombstone.
#[utoipa::path(
    tag = "schools",
    operation_id = "delete_school",
    params(("id" = Uuid, Path, description = "The school's id.")),
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
    security(("bearer" = ["schools:write"]))
)]
#[delete("/schools/{id}")]
pub async fn delete_school(
    auth: Authorized<SchoolsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::School, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = current(tx.conn(), id, &scope, &preconditions)?;
        if crate::repository::networks::refers_to_school(tx.conn(), id)?
            || crate::repository::people::school_is_referred_to(tx.conn(), id)?
            || crate::repository::plans::refers_to_school(tx.conn(), id)?
            || crate::repository::plans::links_to_cycles_of_school(tx.conn(), id)?
            || crate::repository::indicators::org_unit_has_values(tx.conn(), id)?
        {
            return Err(ApiError::InUse);
        }
        // The PEI, improvement cycles and mentoring visits are the school's own records:
        // they go with it.
        crate::repository::pei::delete_for_school(tx, id, &current.territory_path)?;
        crate::repository::improvement_cycles::delete_for_school(tx, id)?;
        crate::repository::mentoring_visits::delete_for_school(tx, id)?;
        match repo::delete(tx, &current)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
