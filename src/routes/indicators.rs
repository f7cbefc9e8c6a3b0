//! `/api/v1/indicators` (definitions, a versioned catalogue) and `/api/v1/indicator-values`
//! (values by indicator, org unit, period and disaggregation), scoped through the org unit's
//! territory.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{IndicatorsAdmin, IndicatorsRead, IndicatorsWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::Validator;
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbTime, DbUuid};
use crate::domain::indicator::{Aggregation, IndicatorUnit, OrgUnitKind, ValueType};
use crate::domain::period::{Period, Periodicity};
use crate::domain::{Country, TerritoryRef};
use crate::error::{ApiError, ApiResult, Issue, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::indicators::{self as repo, IndicatorRow, ValueFilter, ValueRow};
use crate::repository::{NameCursor, UpdateOutcome, networks, organizations, schools};
use crate::routes::common::{
    checked, created, not_modified, optional_text, path_id, whole_country, with_etag,
};

/// A category of a disaggregation and its values (`level`: `primaria`, `secundaria`…).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code": "level", "values": ["transicion", "primaria", "secundaria", "media"]}))]
pub struct Disaggregation {
    pub code: String,
    pub values: Vec<String>,
}

/// An indicator computed from two others: `numerator / denominator × factor`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"numerator": "REDES_ASISTENCIA_PRESENTE", "denominator": "REDES_ASISTENCIA_REGISTRADA", "factor": 100}))]
pub struct Formula {
    pub numerator: String,
    pub denominator: String,
    pub factor: f64,
}

/// An indicator's definition.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "8c1f0a53-3d6e-5b1a-9f0e-2c4d6b8a0e12",
    "code": "CO_COBERTURA_NETA",
    "name": "Cobertura neta",
    "name_es": "Cobertura neta",
    "name_en": "Net enrolment rate",
    "description": "Estudiantes matriculados en la edad teórica del nivel sobre la población de esa edad.",
    "unit": "percent",
    "value_type": "number",
    "aggregation_territory": "ratio",
    "aggregation_time": "last",
    "formula": null,
    "disaggregations": [{"code": "level", "values": ["transicion", "primaria", "secundaria", "media"]}],
    "periodicity": "yearly",
    "source": "Ministerio de Educación Nacional",
    "country": "CO",
    "builtin": true,
    "version": 1,
    "updated_at": "2026-11-24T05:00:00.123456Z"
}))]
pub struct Indicator {
    pub id: Uuid,
    pub code: String,
    /// In the request's language (`Accept-Language`).
    pub name: String,
    pub name_es: String,
    pub name_en: String,
    pub description: Option<String>,
    pub unit: IndicatorUnit,
    pub value_type: ValueType,
    /// How values aggregate over territories.
    pub aggregation_territory: Aggregation,
    /// How values aggregate over time.
    pub aggregation_time: Aggregation,
    pub formula: Option<Formula>,
    pub disaggregations: Vec<Disaggregation>,
    pub periodicity: Periodicity,
    pub source: Option<String>,
    /// `CL`, `CO`, or `null` for the platform's own indicators.
    pub country: Option<Country>,
    /// Shipped with Redes (`catalog/indicators/indicators.json`).
    pub builtin: bool,
    pub version: i64,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, id: Uuid) -> ApiError {
    ApiError::internal(anyhow::anyhow!("indicator {id} has a bad {what}"))
}

fn parsed<T: std::str::FromStr>(what: &str, id: Uuid, value: &str) -> ApiResult<T> {
    value.parse().map_err(|_| corrupt(what, id))
}

impl Indicator {
    pub fn from_row(row: IndicatorRow, lang: crate::i18n::Lang) -> ApiResult<Indicator> {
        let id = row.id.0;
        Ok(Indicator {
            id,
            code: row.code,
            name: lang.pick(row.name_es.clone(), row.name_en.clone()),
            name_es: row.name_es,
            name_en: row.name_en,
            description: row.description,
            unit: parsed("unit", id, &row.unit)?,
            value_type: parsed("value type", id, &row.value_type)?,
            aggregation_territory: parsed("aggregation", id, &row.aggregation_territory)?,
            aggregation_time: parsed("aggregation", id, &row.aggregation_time)?,
            formula: row
                .formula
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("formula", id))?,
            disaggregations: serde_json::from_str(&row.disaggregations)
                .map_err(|_| corrupt("disaggregation", id))?,
            periodicity: parsed("periodicity", id, &row.periodicity)?,
            source: row.source,
            country: row
                .country
                .as_deref()
                .map(|c| parsed("country", id, c))
                .transpose()?,
            builtin: row.builtin,
            version: row.version,
            updated_at: row.updated_at.get(),
        })
    }
}

/// A page of indicator definitions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct IndicatorPage {
    pub items: Vec<Indicator>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of `GET /api/v1/indicators`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorListParams {
    /// Only this country's indicators (`CL`, `CO`), or `none` for the platform's own.
    #[param(pattern = "^(CL|CO|none)$", example = "CO")]
    pub country: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List indicator definitions.
///
/// By code: MEN's published education statistics (Colombia), Mineduc's and the Agencia de
/// Calidad's (Chile) and the platform's own, each with its unit, aggregation rules,
/// disaggregations and periodicity.
#[utoipa::path(
    tag = "indicators",
    operation_id = "list_indicators",
    params(IndicatorListParams),
    responses(
        (status = 200, description = "A page of definitions.", body = IndicatorPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:read"]))
)]
#[get("/indicators")]
pub async fn list_indicators(
    _auth: Authorized<IndicatorsRead>,
    query: QueryParams,
    lang: crate::i18n::Lang,
    db: web::Data<Db>,
) -> ApiResult<Json<IndicatorPage>> {
    let mut reader = query.reader(&["country", "limit", "cursor"]);
    let country = reader.choice::<String>("country", &["CL", "CO", "none"]);
    let country = match country.as_deref() {
        Some(c @ ("CL" | "CO" | "none")) => Some(c.to_owned()),
        Some(_) => {
            reader.issue(
                "country",
                IssueKind::InvalidChoice {
                    allowed: &["CL", "CO", "none"],
                },
            );
            None
        }
        None => None,
    };
    let page = reader.page();
    let after = match page.after.as_deref().map(NameCursor::decode) {
        None => None,
        Some(Some(cursor)) => Some(cursor.name),
        Some(None) => {
            reader.issue("cursor", IssueKind::InvalidCursor);
            None
        }
    };
    reader.finish()?;
    let fetch = page.fetch_limit();
    let rows = db
        .read(move |conn| {
            Ok(repo::list(
                conn,
                country.as_deref(),
                after.as_deref(),
                fetch,
            )?)
        })
        .await?;
    let (rows, next) = into_page(rows, &page, |r| NameCursor::encode(&r.code, r.id.0));
    Ok(Json(IndicatorPage {
        items: rows
            .into_iter()
            .map(|row| Indicator::from_row(row, lang))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Get an indicator definition.
///
/// By code (`/api/v1/indicators/CO_COBERTURA_NETA`) or id.
#[utoipa::path(
    tag = "indicators",
    operation_id = "get_indicator",
    params(("indicator" = String, Path, description = "The indicator's code or id.",
        example = "CO_COBERTURA_NETA")),
    responses(
        (status = 200, description = "The definition.", body = Indicator),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:read"]))
)]
#[get("/indicators/{indicator}")]
pub async fn get_indicator(
    _auth: Authorized<IndicatorsRead>,
    _query: NoParams,
    path: web::Path<String>,
    lang: crate::i18n::Lang,
    db: web::Data<Db>,
) -> ApiResult<Json<Indicator>> {
    let reference = path.into_inner();
    let lookup = reference.clone();
    let row = db
        .read(move |conn| Ok(repo::find(conn, &lookup)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Indicator, &reference))?;
    Ok(Json(Indicator::from_row(row, lang)?))
}

/// A new indicator definition, added by a principal of its whole country.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "CO_JORNADA_UNICA",
    "name_es": "Matrícula en jornada única",
    "name_en": "Enrolment in full-day schooling",
    "description": "Porcentaje de la matrícula oficial atendida en jornada única.",
    "unit": "percent",
    "value_type": "number",
    "aggregation_territory": "ratio",
    "aggregation_time": "last",
    "disaggregations": [{"code": "level", "values": ["primaria", "secundaria", "media"]}],
    "periodicity": "yearly",
    "source": "Secretaría de Educación",
    "country": "CO"
}))]
pub struct IndicatorInput {
    /// Upper case letters, digits and `_`, starting with a letter; `REDES_` is reserved for
    /// the platform's own.
    #[schema(pattern = "^[A-Z][A-Z0-9_]{2,63}$", example = "CO_JORNADA_UNICA")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name_es: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name_en: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    pub unit: IndicatorUnit,
    pub value_type: ValueType,
    pub aggregation_territory: Aggregation,
    pub aggregation_time: Aggregation,
    /// Numerator and denominator: codes of existing definitions.
    pub formula: Option<Formula>,
    /// Categories and their values (`level`: `primaria`, …); codes and values in lower case.
    #[schema(max_items = 10)]
    pub disaggregations: Option<Vec<Disaggregation>>,
    pub periodicity: Periodicity,
    #[schema(max_length = 500)]
    pub source: Option<String>,
    /// The country whose principals may use and remove it.
    pub country: Country,
}

/// A lower-case code of a category or value: `primaria`, `sector_oficial`.
fn is_category_code(text: &str) -> bool {
    (1..=40).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a new definition beyond its schema: the reserved prefix, the formula's references
/// and factor, the disaggregations' codes.
fn validate_definition(conn: &mut DbConnection, input: &IndicatorInput) -> ApiResult<()> {
    let mut v = Validator::new();
    if input.code.starts_with("REDES_") {
        v.issue(
            "/code",
            IssueKind::InvalidValue {
                expected_es: "un código que no empiece por `REDES_` (reservado a la plataforma)"
                    .into(),
                expected_en: "a code not starting with `REDES_` (reserved for the platform)".into(),
            },
        );
    }
    if let Some(formula) = &input.formula {
        for (pointer, code) in [
            ("/formula/numerator", &formula.numerator),
            ("/formula/denominator", &formula.denominator),
        ] {
            if repo::find(conn, code)?.is_none() {
                v.issue(pointer, IssueKind::UnknownReference);
            }
        }
        if !formula.factor.is_finite() || formula.factor == 0.0 {
            v.issue(
                "/formula/factor",
                IssueKind::InvalidValue {
                    expected_es: "un número distinto de 0".into(),
                    expected_en: "a number other than 0".into(),
                },
            );
        }
    }
    let mut seen = Vec::new();
    for (i, category) in input.disaggregations.iter().flatten().enumerate() {
        if !is_category_code(&category.code) || seen.contains(&&category.code) {
            v.issue(
                format!("/disaggregations/{i}/code"),
                IssueKind::InvalidValue {
                    expected_es: "un código único de minúsculas, dígitos y `_`".into(),
                    expected_en: "a unique code of lower case letters, digits and `_`".into(),
                },
            );
        }
        seen.push(&category.code);
        let mut values = Vec::new();
        for (j, value) in category.values.iter().enumerate() {
            if !is_category_code(value) || values.contains(&value) {
                v.issue(
                    format!("/disaggregations/{i}/values/{j}"),
                    IssueKind::InvalidValue {
                        expected_es: "un valor único de minúsculas, dígitos y `_`".into(),
                        expected_en: "a unique value of lower case letters, digits and `_`".into(),
                    },
                );
            }
            values.push(value);
        }
        if category.values.is_empty() {
            v.issue(
                format!("/disaggregations/{i}/values"),
                IssueKind::InvalidValue {
                    expected_es: "al menos un valor".into(),
                    expected_en: "at least one value".into(),
                },
            );
        }
    }
    v.finish()
}

/// Add an indicator definition.
///
/// For principals whose territories include the whole of its country (`indicators:admin`): a
/// ministry's or Secretaría's own indicator beside the built-in catalogue, used like any other
/// (values, imports, analytics). Answers 201 with the definition; 409 when the code is taken.
/// Built-in definitions change only with the catalogue file.
#[utoipa::path(
    tag = "indicators",
    operation_id = "create_indicator",
    request_body(content = IndicatorInput, description = "The definition."),
    responses(
        (status = 201, description = "Added.", body = Indicator,
            headers(("ETag" = String, description = "The version."),
                    ("Location" = String, description = "The definition's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:admin"]))
)]
#[post("/indicators")]
pub async fn create_indicator(
    auth: Authorized<IndicatorsAdmin>,
    _query: NoParams,
    body: web::Json<Value>,
    lang: crate::i18n::Lang,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let input = checked::<IndicatorInput>("create_indicator", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    whole_country(&catalogue, input.country.as_str(), &scope, "/country")?;
    let row = db
        .write(move |tx| {
            validate_definition(tx.conn(), &input)?;
            if repo::find(tx.conn(), &input.code)?.is_some() {
                return Err(ApiError::Taken(vec![Issue::body(
                    "/code",
                    IssueKind::Taken,
                )]));
            }
            let now = DbTime::now();
            let row = IndicatorRow {
                id: DbUuid(Uuid::now_v7()),
                code: input.code.clone(),
                name_es: input.name_es.trim().to_owned(),
                name_en: input.name_en.trim().to_owned(),
                description: input.description.clone(),
                unit: input.unit.as_str().to_owned(),
                value_type: input.value_type.as_str().to_owned(),
                aggregation_territory: input.aggregation_territory.as_str().to_owned(),
                aggregation_time: input.aggregation_time.as_str().to_owned(),
                formula: input.formula.as_ref().map(to_json).transpose()?,
                disaggregations: to_json(&input.disaggregations.clone().unwrap_or_default())?,
                periodicity: input.periodicity.as_str().to_owned(),
                source: input.source.clone(),
                country: Some(input.country.as_str().to_owned()),
                mapping: None,
                builtin: false,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            repo::insert_definition(tx, &row)?;
            Ok(row)
        })
        .await?;
    let indicator = Indicator::from_row(row, lang)?;
    Ok(created(
        format!("/api/v1/indicators/{}", indicator.code),
        indicator.version,
        &indicator,
    ))
}

/// A JSON column's text.
fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// Remove an indicator definition.
///
/// One added through the API, by a principal of its whole country, while no value refers to
/// it (409 otherwise: delete or move the values first). Built-in definitions cannot be removed
/// (409). With `If-Match`, 412 if it changed since.
#[utoipa::path(
    tag = "indicators",
    operation_id = "delete_indicator",
    params(("indicator" = String, Path, description = "The definition's code or id.",
        example = "CO_JORNADA_UNICA")),
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
    security(("bearer" = ["indicators:admin"]))
)]
#[delete("/indicators/{indicator}")]
pub async fn delete_indicator(
    auth: Authorized<IndicatorsAdmin>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let reference = path.into_inner();
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = repo::find(tx.conn(), &reference)?
            .ok_or_else(|| ApiError::not_found(Resource::Indicator, &reference))?;
        if current.builtin {
            return Err(ApiError::StateConflict(vec![Issue::body(
                "",
                IssueKind::Immutable,
            )]));
        }
        let country = current
            .country
            .as_deref()
            .ok_or_else(|| corrupt("country", current.id.0))?;
        whole_country(&catalogue, country, &scope, "/country")?;
        preconditions.check_write(current.version)?;
        if repo::definition_has_values(tx.conn(), current.id)? {
            return Err(ApiError::InUse);
        }
        match repo::delete_definition(tx, &current)? {
            0 => Err(ApiError::ConcurrentChange),
            _ => Ok(()),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An indicator value.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3e0-0000-7000-8000-000000000001",
    "indicator": "CO_COBERTURA_NETA",
    "indicator_id": "8c1f0a53-3d6e-5b1a-9f0e-2c4d6b8a0e12",
    "org_unit": "CO-05001",
    "org_unit_kind": "territory",
    "org_unit_id": "1b7d9c2e-3f4a-5b6c-8d9e-0f1a2b3c4d5e",
    "org_unit_name": "Medellín",
    "period": "2017",
    "period_start": "2017-01-01",
    "period_end": "2017-12-31",
    "disaggregation": {"level": "primaria"},
    "value": 87.5,
    "numerator": null,
    "denominator": null,
    "source": "MEN",
    "comment": null,
    "version": 1,
    "created_at": "2026-11-24T05:00:00.123456Z",
    "updated_at": "2026-11-24T05:00:00.123456Z"
}))]
pub struct IndicatorValue {
    pub id: Uuid,
    /// The indicator's code.
    pub indicator: String,
    pub indicator_id: Uuid,
    /// The org unit: a territory's key (`CO-05001`), or the id of an organisation, school or
    /// network.
    pub org_unit: String,
    pub org_unit_kind: OrgUnitKind,
    pub org_unit_id: Uuid,
    pub org_unit_name: Option<String>,
    /// The period's code (`2017`, `2017S1`, `2017Q1`, `2017-03`, `2017W12`).
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Category → value; `{}` for the total.
    pub disaggregation: BTreeMap<String, String>,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub source: Option<String>,
    pub comment: Option<String>,
    pub version: i64,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/indicator-values` and `PUT /api/v1/indicator-values/{id}` (whose
/// indicator, org unit, period and disaggregation cannot change).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "indicator": "CL_IDPS_CLIMA_CONVIVENCIA",
    "org_unit": "CL-09101",
    "period": "2017",
    "disaggregation": {"grado": "4b"},
    "value": 74.0,
    "source": "Agencia de Calidad de la Educación"
}))]
pub struct ValueInput {
    /// The indicator's code or id.
    #[schema(min_length = 1, max_length = 64)]
    pub indicator: String,
    /// A territory's key or id, or the id of an organisation, school or network.
    #[schema(min_length = 1, max_length = 64)]
    pub org_unit: String,
    /// `2017`, `2017S1`, `2017Q1`, `2017-03` or `2017W12`, of the indicator's periodicity.
    #[schema(example = "2017")]
    pub period: String,
    /// Category → value, among the indicator's disaggregations; absent or `{}` for the total.
    #[serde(default)]
    pub disaggregation: Option<BTreeMap<String, String>>,
    /// A finite number (whole for an integer indicator).
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub value: f64,
    #[serde(default)]
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub numerator: Option<f64>,
    /// Not 0.
    #[serde(default)]
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub denominator: Option<f64>,
    /// Up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub source: Option<String>,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// An org unit a body or a filter names, resolved.
#[derive(Debug, Clone)]
pub struct OrgUnit {
    pub kind: OrgUnitKind,
    pub id: Uuid,
    pub territory_path: String,
    pub name: String,
    /// The territory's key, for a territory.
    pub key: Option<String>,
}

/// Resolves an org unit: a territory key or id (from the catalogue, in memory), else the id of
/// a school, organisation or network the scope sees. `None` when none matches.
pub fn resolve_org_unit(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    reference: &str,
    scope: &TerritoryScope,
) -> ApiResult<Option<OrgUnit>> {
    if let Ok(territory) = TerritoryRef::parse(reference)
        && let Some(entry) = catalogue.resolve(&territory)
    {
        return Ok(Some(OrgUnit {
            kind: OrgUnitKind::Territory,
            id: entry.id,
            territory_path: entry.path.clone(),
            name: entry.name.clone(),
            key: Some(entry.key.to_string()),
        }));
    }
    let Ok(id) = Uuid::parse_str(reference) else {
        return Ok(None);
    };
    if let Some(school) = schools::find(conn, id, scope)? {
        return Ok(Some(OrgUnit {
            kind: OrgUnitKind::School,
            id,
            territory_path: school.territory_path,
            name: school.name,
            key: None,
        }));
    }
    if let Some(organization) = organizations::find(conn, id, scope)? {
        return Ok(Some(OrgUnit {
            kind: OrgUnitKind::Organization,
            id,
            territory_path: organization.territory_path,
            name: organization.name,
            key: None,
        }));
    }
    if let Some(network) = networks::find(conn, id, scope)? {
        return Ok(Some(OrgUnit {
            kind: OrgUnitKind::Network,
            id,
            territory_path: network.territory_path,
            name: network.name,
            key: None,
        }));
    }
    Ok(None)
}

/// The canonical form of a disaggregation: `code=value` pairs by code, joined by `;`.
pub(crate) fn disaggregation_key(categories: &BTreeMap<String, String>) -> String {
    categories
        .iter()
        .map(|(code, value)| format!("{code}={value}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn disaggregation_of(key: &str) -> BTreeMap<String, String> {
    key.split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(code, value)| (code.to_owned(), value.to_owned()))
        .collect()
}

/// Validates a value body against its indicator's definition and the caller's territories.
pub fn validate(
    input: ValueInput,
    current: Option<&ValueRow>,
    catalogue: &Catalogue,
    scope: &TerritoryScope,
    conn: &mut DbConnection,
) -> ApiResult<(ValueRow, OrgUnit, IndicatorRow)> {
    let definition = repo::find(conn, &input.indicator)?;
    let org_unit = resolve_org_unit(conn, catalogue, &input.org_unit, scope)?;
    let row = validate_resolved(
        input,
        current,
        definition.as_ref(),
        org_unit.as_ref(),
        scope,
    )?;
    let (Some(definition), Some(unit)) = (definition, org_unit) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a value passed validation without its parts"
        )));
    };
    Ok((row, unit, definition))
}

/// [`validate`] once the indicator and the org unit the body names are looked up (`None`:
/// there is none), so that an import can look each up once for all its rows.
pub fn validate_resolved(
    input: ValueInput,
    current: Option<&ValueRow>,
    definition: Option<&IndicatorRow>,
    org_unit: Option<&OrgUnit>,
    scope: &TerritoryScope,
) -> ApiResult<ValueRow> {
    let mut v = Validator::new();
    if definition.is_none() {
        v.issue("/indicator", IssueKind::UnknownReference);
    }
    match org_unit {
        None => v.issue("/org_unit", IssueKind::UnknownReference),
        Some(unit) if !scope.contains_path(&unit.territory_path) => {
            v.issue("/org_unit", IssueKind::ForeignTerritory);
        }
        Some(_) => {}
    }
    let period = Period::parse(&input.period);
    if period.is_none() {
        v.issue(
            "/period",
            IssueKind::InvalidFormat {
                expected_es: "un período `2017`, `2017S1`, `2017Q1`, `2017-03` o `2017W12`".into(),
                expected_en: "a period `2017`, `2017S1`, `2017Q1`, `2017-03` or `2017W12`".into(),
            },
        );
    }
    let categories = input.disaggregation.clone().unwrap_or_default();
    if let Some(definition) = definition
        && crate::routes::live_indicators::is_live(&definition.code)
    {
        // Computed from Redes' own data at every pull: a recorded value would count twice.
        v.issue(
            "/indicator",
            IssueKind::InvalidValue {
                expected_es: "un indicador que no se calcule en vivo (los de la plataforma, \
                              `REDES_…`, se calculan de los datos de Redes)"
                    .into(),
                expected_en: "an indicator that is not computed live (the platform's, \
                              `REDES_…`, are computed from Redes' data)"
                    .into(),
            },
        );
    }
    if let Some(definition) = definition {
        let declared: Vec<Disaggregation> =
            serde_json::from_str(&definition.disaggregations).unwrap_or_default();
        for (code, value) in &categories {
            let pointer = format!("/disaggregation/{}", crate::body::escape_pointer(code));
            let list = |items: Vec<&str>| items.join("`, `");
            match declared.iter().find(|d| &d.code == code) {
                None => {
                    let known = list(declared.iter().map(|d| d.code.as_str()).collect());
                    v.issue(
                        pointer,
                        IssueKind::InvalidValue {
                            expected_es: format!("una categoría del indicador: `{known}`"),
                            expected_en: format!("one of the indicator's categories: `{known}`"),
                        },
                    );
                }
                Some(category) if !category.values.contains(value) => {
                    let known = list(category.values.iter().map(String::as_str).collect());
                    v.issue(
                        pointer,
                        IssueKind::InvalidValue {
                            expected_es: format!("uno de `{known}`"),
                            expected_en: format!("one of `{known}`"),
                        },
                    );
                }
                Some(_) => {}
            }
        }
        if let Some(period) = &period
            && period.periodicity.as_str() != definition.periodicity
        {
            v.issue(
                "/period",
                IssueKind::InvalidFormat {
                    expected_es: format!("un período de periodicidad `{}`", definition.periodicity),
                    expected_en: format!("a `{}` period", definition.periodicity),
                },
            );
        }
        if definition.value_type == ValueType::Integer.as_str() && input.value.fract() != 0.0 {
            v.issue(
                "/value",
                IssueKind::InvalidValue {
                    expected_es: "un número entero".into(),
                    expected_en: "a whole number".into(),
                },
            );
        }
    }
    if input.denominator == Some(0.0) {
        v.issue(
            "/denominator",
            IssueKind::InvalidValue {
                expected_es: "un número distinto de 0".into(),
                expected_en: "a number other than 0".into(),
            },
        );
    }
    v.finish()?;
    let (Some(definition), Some(unit), Some(period)) = (definition, org_unit, period) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a value passed validation without its parts"
        )));
    };
    let disaggregation = disaggregation_key(&categories);
    if let Some(current) = current {
        let same = current.indicator_id == definition.id
            && current.org_unit_id.0 == unit.id
            && current.period == period.code
            && current.disaggregation == disaggregation;
        if !same {
            return Err(ApiError::StateConflict(vec![Issue::body(
                "",
                IssueKind::Immutable,
            )]));
        }
    }
    let now = DbTime::now();
    let row = ValueRow {
        id: current.map_or(DbUuid(Uuid::now_v7()), |c| c.id),
        indicator_id: definition.id,
        org_unit_kind: unit.kind.as_str().to_owned(),
        org_unit_id: DbUuid(unit.id),
        territory_path: unit.territory_path.clone(),
        period: period.code.clone(),
        period_start: period.start.to_string(),
        period_end: period.end.to_string(),
        disaggregation,
        value: input.value,
        numerator: input.numerator,
        denominator: input.denominator,
        source: optional_text(input.source.as_deref()),
        comment: optional_text(input.comment.as_deref()),
        version: current.map_or(1, |c| c.version),
        created_at: current.map_or(now, |c| c.created_at),
        updated_at: now,
    };
    Ok(row)
}

/// What the values on a page need besides their rows: indicator codes and org unit names and
/// keys.
struct Names {
    codes: HashMap<Uuid, String>,
    units: HashMap<Uuid, (String, Option<String>)>,
}

/// The names a page of values needs: one statement for indicators and one per kind of org unit
/// present; territories from the catalogue in memory.
fn names_of(conn: &mut DbConnection, rows: &[ValueRow], catalogue: &Catalogue) -> ApiResult<Names> {
    use crate::schema::{networks as n, organizations as o, schools as s};
    use diesel::prelude::*;
    let mut ids: Vec<DbUuid> = rows.iter().map(|r| r.indicator_id).collect();
    ids.dedup();
    let codes = repo::by_ids(conn, ids)?
        .into_iter()
        .map(|row| (row.id.0, row.code))
        .collect();
    let mut units = HashMap::new();
    let of = |kind: OrgUnitKind| -> Vec<DbUuid> {
        rows.iter()
            .filter(|r| r.org_unit_kind == kind.as_str())
            .map(|r| r.org_unit_id)
            .collect()
    };
    for row in rows.iter().filter(|r| r.org_unit_kind == "territory") {
        if let Some(entry) = catalogue.resolve(&TerritoryRef::Id(row.org_unit_id.0)) {
            units.insert(
                row.org_unit_id.0,
                (entry.name.clone(), Some(entry.key.to_string())),
            );
        }
    }
    let schools = of(OrgUnitKind::School);
    if !schools.is_empty() {
        let found: Vec<(DbUuid, String)> = s::table
            .filter(s::id.eq_any(schools))
            .select((s::id, s::name))
            .load(conn)?;
        units.extend(found.into_iter().map(|(id, name)| (id.0, (name, None))));
    }
    let organizations = of(OrgUnitKind::Organization);
    if !organizations.is_empty() {
        let found: Vec<(DbUuid, String)> = o::table
            .filter(o::id.eq_any(organizations))
            .select((o::id, o::name))
            .load(conn)?;
        units.extend(found.into_iter().map(|(id, name)| (id.0, (name, None))));
    }
    let networks = of(OrgUnitKind::Network);
    if !networks.is_empty() {
        let found: Vec<(DbUuid, String)> = n::table
            .filter(n::id.eq_any(networks))
            .select((n::id, n::name))
            .load(conn)?;
        units.extend(found.into_iter().map(|(id, name)| (id.0, (name, None))));
    }
    Ok(Names { codes, units })
}

impl IndicatorValue {
    fn from_row(row: ValueRow, names: &Names) -> ApiResult<IndicatorValue> {
        let id = row.id.0;
        let bad = |what: &str| ApiError::internal(anyhow::anyhow!("value {id} has a bad {what}"));
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad("date"));
        let (name, key) = names
            .units
            .get(&row.org_unit_id.0)
            .cloned()
            .map_or((None, None), |(name, key)| (Some(name), key));
        Ok(IndicatorValue {
            id,
            indicator: names
                .codes
                .get(&row.indicator_id.0)
                .cloned()
                .ok_or_else(|| bad("indicator"))?,
            indicator_id: row.indicator_id.0,
            org_unit: key.unwrap_or_else(|| row.org_unit_id.0.to_string()),
            org_unit_kind: row
                .org_unit_kind
                .parse()
                .map_err(|_| bad("org unit kind"))?,
            org_unit_id: row.org_unit_id.0,
            org_unit_name: name,
            period: row.period,
            period_start: day(&row.period_start)?,
            period_end: day(&row.period_end)?,
            disaggregation: disaggregation_of(&row.disaggregation),
            value: row.value,
            numerator: row.numerator,
            denominator: row.denominator,
            source: row.source,
            comment: row.comment,
            version: row.version,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }
}

/// A page of indicator values.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct ValuePage {
    pub items: Vec<IndicatorValue>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of `GET /api/v1/indicator-values`; each filter is repeatable.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValueListParams {
    /// Only these indicators (codes or ids).
    #[param(example = "CO_COBERTURA_NETA")]
    pub indicator: Option<Vec<String>>,
    /// Only these org units: territory keys or ids, or ids of organisations, schools or
    /// networks.
    #[param(example = "CO-05001")]
    pub org_unit: Option<Vec<String>>,
    /// Only these periods (`2017`, `2017S1`, `2017Q1`, `2017-03`, `2017W12`).
    #[param(example = "2017")]
    pub period: Option<Vec<String>>,
    /// Only values whose period starts on or after this day.
    pub from: Option<NaiveDate>,
    /// Only values whose period ends on or before this day.
    pub to: Option<NaiveDate>,
    /// Only this disaggregation (`level=primaria`; `total` for the totals).
    #[param(example = "total", max_length = 500)]
    pub disaggregation: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List indicator values.
///
/// The values whose org unit is in the caller's territories, in the order they were recorded,
/// filtered by indicator, org unit, period (each repeatable), dates and disaggregation. A filter
/// that names no indicator or org unit is not an error: it matches nothing.
#[utoipa::path(
    tag = "indicators",
    operation_id = "list_indicator_values",
    params(ValueListParams),
    responses(
        (status = 200, description = "A page of values.", body = ValuePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:read"]))
)]
#[get("/indicator-values")]
pub async fn list_indicator_values(
    auth: Authorized<IndicatorsRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<ValuePage>> {
    let mut reader = query.reader(&[
        "indicator",
        "org_unit",
        "period",
        "from",
        "to",
        "disaggregation",
        "limit",
        "cursor",
    ]);
    let indicators = reader.every("indicator");
    let org_units = reader.every("org_unit");
    let periods = reader.every("period");
    for period in &periods {
        // A well-formed code that names no days (`2017W53`) matches nothing.
        if !Period::is_well_formed(period) {
            reader.issue(
                "period",
                IssueKind::InvalidFormat {
                    expected_es: "un período `2017`, `2017S1`, `2017Q1`, `2017-03` o `2017W12`"
                        .into(),
                    expected_en: "a period `2017`, `2017S1`, `2017Q1`, `2017-03` or `2017W12`"
                        .into(),
                },
            );
        }
    }
    let filter = ValueFilter {
        periods,
        from: reader.date("from").map(|d| d.to_string()),
        to: reader.date("to").map(|d| d.to_string()),
        disaggregation: reader
            .text("disaggregation", 500)
            .map(|d| if d == "total" { String::new() } else { d }),
        page: reader.page(),
        ..ValueFilter::default()
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
    let catalogue = catalogue.into_inner();
    let (rows, names) = db
        .read(move |conn| {
            let mut filter = filter.clone();
            if !indicators.is_empty() {
                let mut ids: Vec<DbUuid> = repo::by_codes(conn, indicators.clone())?
                    .into_iter()
                    .map(|row| row.id)
                    .collect();
                ids.extend(
                    indicators
                        .iter()
                        .filter_map(|i| Uuid::parse_str(i).ok())
                        .map(DbUuid),
                );
                if ids.is_empty() {
                    return Ok((
                        Vec::new(),
                        Names {
                            codes: HashMap::new(),
                            units: HashMap::new(),
                        },
                    ));
                }
                filter.indicator_ids = ids;
            }
            if !org_units.is_empty() {
                filter.org_unit_ids = org_units
                    .iter()
                    .filter_map(|unit| {
                        // A territory key or id, else another org unit's id.
                        TerritoryRef::parse(unit)
                            .ok()
                            .and_then(|reference| catalogue.resolve(&reference))
                            .map(|entry| entry.id)
                            .or_else(|| Uuid::parse_str(unit).ok())
                    })
                    .map(DbUuid)
                    .collect();
                if filter.org_unit_ids.is_empty() {
                    return Ok((
                        Vec::new(),
                        Names {
                            codes: HashMap::new(),
                            units: HashMap::new(),
                        },
                    ));
                }
            }
            let rows = repo::list_values(conn, &filter, &scope)?;
            let names = names_of(conn, &rows, &catalogue)?;
            Ok((rows, names))
        })
        .await?;
    let (rows, next) = into_page(rows, &page, |r| NameCursor::encode("", r.id.0));
    Ok(Json(ValuePage {
        items: rows
            .into_iter()
            .map(|row| IndicatorValue::from_row(row, &names))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Record an indicator value.
///
/// For an org unit in the caller's territories, a period of the indicator's periodicity and a
/// disaggregation among the indicator's. One value per indicator, org unit, period and
/// disaggregation: another is 409 (change it with `PUT`). Answers 201.
#[utoipa::path(
    tag = "indicators",
    operation_id = "create_indicator_value",
    request_body(content = ValueInput, description = "The value."),
    responses(
        (status = 201, description = "Created.", body = IndicatorValue,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The value's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:write"]))
)]
#[post("/indicator-values")]
pub async fn create_indicator_value(
    auth: Authorized<IndicatorsWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let input = checked::<ValueInput>("create_indicator_value", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let catalogue = catalogue.into_inner();
    let (row, names) = db
        .write(move |tx| {
            let (row, _, _) = validate(input, None, &catalogue, &scope, tx.conn())?;
            if repo::find_by_key(tx.conn(), &row)?.is_some() {
                // One value per indicator, org unit, period and disaggregation.
                return Err(ApiError::Taken(vec![Issue::body(
                    "/period",
                    IssueKind::Taken,
                )]));
            }
            repo::insert_value(tx, &row)?;
            let names = names_of(tx.conn(), std::slice::from_ref(&row), &catalogue)?;
            Ok((row, names))
        })
        .await?;
    let value = IndicatorValue::from_row(row, &names)?;
    Ok(created(
        format!("/api/v1/indicator-values/{}", value.id),
        value.version,
        &value,
    ))
}

/// Get an indicator value.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "indicators",
    operation_id = "get_indicator_value",
    params(("id" = Uuid, Path, description = "The value's id.")),
    responses(
        (status = 200, description = "The value.", body = IndicatorValue,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:read"]))
)]
#[get("/indicator-values/{id}")]
pub async fn get_indicator_value(
    auth: Authorized<IndicatorsRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::IndicatorValue, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let catalogue = catalogue.into_inner();
    let (row, names) = db
        .read(move |conn| {
            let row = repo::find_value(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::IndicatorValue, id))?;
            let names = names_of(conn, std::slice::from_ref(&row), &catalogue)?;
            Ok((row, names))
        })
        .await?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let value = IndicatorValue::from_row(row, &names)?;
    Ok(with_etag(HttpResponse::Ok(), value.version, &value))
}

/// Change an indicator value.
///
/// Its figures, source and comment; the indicator, org unit, period and disaggregation cannot
/// change (409). With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "indicators",
    operation_id = "replace_indicator_value",
    params(("id" = Uuid, Path, description = "The value's id.")),
    request_body(content = ValueInput, description = "The value, whole."),
    responses(
        (status = 200, description = "Replaced.", body = IndicatorValue,
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
    security(("bearer" = ["indicators:write"]))
)]
#[put("/indicator-values/{id}")]
pub async fn replace_indicator_value(
    auth: Authorized<IndicatorsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::IndicatorValue, &path)?;
    let input = checked::<ValueInput>("replace_indicator_value", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let catalogue = catalogue.into_inner();
    let (row, names) = db
        .write(move |tx| {
            let current = repo::find_value(tx.conn(), id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::IndicatorValue, id))?;
            preconditions.check_write(current.version)?;
            let (next, _, _) = validate(input, Some(&current), &catalogue, &scope, tx.conn())?;
            let row = match repo::update_value(tx, &current, &next)? {
                UpdateOutcome::Done(row) => row,
                UpdateOutcome::Concurrent => return Err(ApiError::ConcurrentChange),
            };
            let names = names_of(tx.conn(), std::slice::from_ref(&row), &catalogue)?;
            Ok((row, names))
        })
        .await?;
    let value = IndicatorValue::from_row(row, &names)?;
    Ok(with_etag(HttpResponse::Ok(), value.version, &value))
}

/// Delete an indicator value.
///
/// A tombstone in the change journal tells integrators to drop it. With `If-Match`, answers
/// 412 if it changed since.
#[utoipa::path(
    tag = "indicators",
    operation_id = "delete_indicator_value",
    params(("id" = Uuid, Path, description = "The value's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:write"]))
)]
#[delete("/indicator-values/{id}")]
pub async fn delete_indicator_value(
    auth: Authorized<IndicatorsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::IndicatorValue, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = repo::find_value(tx.conn(), id, &scope)?
            .ok_or_else(|| ApiError::not_found(Resource::IndicatorValue, id))?;
        preconditions.check_write(current.version)?;
        match repo::delete_value(tx, &current)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disaggregation_reads_back_from_its_canonical_key() {
        let categories: BTreeMap<String, String> = [("sex", "f"), ("level", "primaria")]
            .iter()
            .map(|(c, v)| ((*c).to_owned(), (*v).to_owned()))
            .collect();
        let key = disaggregation_key(&categories);
        assert_eq!(key, "level=primaria;sex=f");
        assert_eq!(disaggregation_of(&key), categories);
        assert_eq!(disaggregation_key(&BTreeMap::new()), "");
        assert!(disaggregation_of("").is_empty());
    }
}
