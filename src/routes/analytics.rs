//! `GET /api/v1/analytics`: indicators × periods × org units, aggregated up the territory tree
//! and across periods by each indicator's rules, straight from the values table (a value
//! written a second ago is in the next pull: there is no analytics table to rebuild).

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::IndicatorsRead;
use crate::auth::{Authorized, TerritoryScope};
use crate::catalog::{Catalogue, CatalogueEntry};
use crate::chart;
use crate::db::{Db, DbConnection};
use crate::domain::TerritoryRef;
use crate::domain::indicator::{Aggregation, IndicatorUnit};
use crate::domain::period::Period;
use crate::error::{ApiError, ApiResult, IssueKind};
use crate::i18n::Lang;
use crate::json;
use crate::openapi::responses;
use crate::query::QueryParams;
use crate::repository::indicators::{self as repo, IndicatorRow, PullValue};
use crate::routes::indicators::Formula;
use crate::routes::live_indicators::{self, LiveValue};

/// The most rows one pull may answer (indicators × periods × org units).
pub const ROW_CAP: usize = 10_000;

/// One aggregated figure.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "indicator": "CO_COBERTURA_NETA", "period": "2017", "org_unit": "CO-05",
    "org_unit_name": "Antioquia", "value": 86.2, "numerator": null, "denominator": null,
    "values": 125
}))]
pub struct AnalyticsRow {
    pub indicator: String,
    pub period: String,
    /// A territory's key, or a network's id.
    pub org_unit: String,
    pub org_unit_name: String,
    /// `null` when no value was recorded for it.
    pub value: Option<f64>,
    /// With `numerators=true`, for a ratio: the summed numerators…
    pub numerator: Option<f64>,
    /// …and denominators.
    pub denominator: Option<f64>,
    /// How many recorded values went into it.
    pub values: i64,
}

/// The answer to a pull.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"as_of": "2026-11-24T06:00:00Z", "rows": []}))]
pub struct Analytics {
    /// When the pull read the values: everything written before is in it.
    #[serde(serialize_with = "crate::json::timestamp")]
    pub as_of: DateTime<Utc>,
    pub rows: Vec<AnalyticsRow>,
}

/// The query of `GET /api/v1/analytics`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsParams {
    /// Indicator codes or ids (repeatable, at least one).
    #[param(example = "CO_COBERTURA_NETA")]
    pub indicator: Vec<String>,
    /// Period codes (repeatable, at least one): values of periods inside each are aggregated
    /// over time by the indicator's rule.
    #[param(example = "2017")]
    pub period: Vec<String>,
    /// Org units (repeatable, at least one): territory keys or ids, network ids (their member
    /// schools on the period's dates), `LEVEL-n` (every territory at level n — 1 the country,
    /// 2 región or departamento, 3 provincia or municipio, 4 comuna — inside the territories
    /// named, or the caller's), `CHILDREN` (the children of the territories named).
    #[param(example = "CO-05")]
    pub org_unit: Vec<String>,
    /// Only this disaggregation (`level=primaria`); the totals when absent.
    #[param(example = "level=primaria", max_length = 500)]
    pub disaggregation: Option<String>,
    /// With the summed numerators and denominators of ratio indicators.
    pub numerators: Option<bool>,
    /// `sdmx` for an SDMX-CSV style layout (`INDICATOR, REF_AREA, TIME_PERIOD, OBS_VALUE`) with
    /// `Accept: text/csv`.
    #[param(inline)]
    pub layout: Option<AnalyticsLayout>,
}

/// The CSV layout: `table` (the default) or `sdmx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "sdmx")]
pub enum AnalyticsLayout {
    Table,
    Sdmx,
}

/// An org unit of the pull: a territory or a network.
#[derive(Debug, Clone)]
enum Unit<'c> {
    Territory(&'c CatalogueEntry),
    Network {
        id: Uuid,
        name: String,
        path: String,
    },
}

impl Unit<'_> {
    fn label(&self) -> (String, String) {
        match self {
            Unit::Territory(entry) => (entry.key.to_string(), entry.name.clone()),
            Unit::Network { id, name, .. } => (id.to_string(), name.clone()),
        }
    }
}

/// The factor of a ratio: the formula's, else 100 for a percentage.
fn factor(definition: &IndicatorRow) -> f64 {
    definition
        .formula
        .as_deref()
        .and_then(|f| serde_json::from_str::<Formula>(f).ok())
        .map(|f| f.factor)
        .unwrap_or(if definition.unit == IndicatorUnit::Percent.as_str() {
            100.0
        } else {
            1.0
        })
}

/// A figure with the numerator and denominator it came from, when known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// Aggregates figures by a rule. `ratio` divides the summed numerators by the summed
/// denominators (times `factor`) when every figure has both, else takes the mean; `last` takes
/// the last figure (they come in period order).
pub fn aggregate(rule: Aggregation, figures: &[Figure], factor: f64) -> Option<Figure> {
    let first = figures.first()?;
    let count = figures.len() as f64;
    let values = figures.iter().map(|f| f.value);
    let plain = |value: f64| Figure {
        value,
        numerator: None,
        denominator: None,
    };
    Some(match rule {
        Aggregation::Sum => plain(values.sum()),
        Aggregation::Mean => plain(values.sum::<f64>() / count),
        Aggregation::Min => plain(values.fold(first.value, f64::min)),
        Aggregation::Max => plain(values.fold(first.value, f64::max)),
        Aggregation::Last => *figures.last().unwrap_or(first),
        Aggregation::Ratio => {
            let parts: Option<Vec<(f64, f64)>> = figures
                .iter()
                .map(|f| f.numerator.zip(f.denominator))
                .collect();
            match parts {
                Some(parts) => {
                    let numerator: f64 = parts.iter().map(|(n, _)| n).sum();
                    let denominator: f64 = parts.iter().map(|(_, d)| d).sum();
                    if denominator == 0.0 {
                        return None;
                    }
                    Figure {
                        value: numerator / denominator * factor,
                        numerator: Some(numerator),
                        denominator: Some(denominator),
                    }
                }
                None => plain(values.sum::<f64>() / count),
            }
        }
    })
}

/// Reads the org unit selectors into units, in the order given; `LEVEL-n` and `CHILDREN`
/// expand the territories named (or, with none, the caller's).
fn units<'c>(
    conn: &mut DbConnection,
    selectors: &[String],
    catalogue: &'c Catalogue,
    scope: &TerritoryScope,
) -> ApiResult<Result<Vec<Unit<'c>>, IssueKind>> {
    let mut named: Vec<&'c CatalogueEntry> = Vec::new();
    let mut networks = Vec::new();
    let mut levels = Vec::new();
    let mut children = false;
    for selector in selectors {
        if let Some(level) = selector.strip_prefix("LEVEL-") {
            match level.parse::<i16>() {
                Ok(n) if (1..=4).contains(&n) => levels.push(n - 1),
                _ => {
                    return Ok(Err(IssueKind::InvalidFormat {
                        expected_es: "`LEVEL-1` a `LEVEL-4`".into(),
                        expected_en: "`LEVEL-1` to `LEVEL-4`".into(),
                    }));
                }
            }
        } else if selector == "CHILDREN" {
            children = true;
        } else if let Some(entry) = TerritoryRef::parse(selector)
            .ok()
            .and_then(|r| catalogue.resolve(&r))
        {
            named.push(entry);
        } else if let Ok(id) = Uuid::parse_str(selector) {
            match crate::repository::networks::find(conn, id, scope)? {
                Some(network) => networks.push(Unit::Network {
                    id,
                    name: network.name,
                    path: network.territory_path,
                }),
                None => return Ok(Err(IssueKind::UnknownReference)),
            }
        } else {
            return Ok(Err(IssueKind::UnknownReference));
        }
    }
    let roots: Vec<&'c CatalogueEntry> = if named.is_empty() {
        catalogue
            .entries()
            .iter()
            .filter(|e| scope.contains(e))
            .filter(|e| {
                e.parent
                    .as_ref()
                    .and_then(|p| catalogue.resolve(&TerritoryRef::Key(p.clone())))
                    .is_none_or(|parent| !scope.contains(parent))
            })
            .collect()
    } else {
        named.clone()
    };
    let mut out: Vec<Unit<'c>> = Vec::new();
    if levels.is_empty() && !children {
        out.extend(named.iter().map(|e| Unit::Territory(e)));
    }
    for level in levels {
        out.extend(
            catalogue
                .entries()
                .iter()
                .filter(|e| e.depth() == level)
                .filter(|e| roots.iter().any(|r| e.path.starts_with(&r.path)))
                .map(Unit::Territory),
        );
    }
    if children {
        for root in &roots {
            out.extend(
                catalogue
                    .entries()
                    .iter()
                    .filter(|e| e.parent.as_ref() == Some(&root.key))
                    .map(Unit::Territory),
            );
        }
    }
    out.extend(networks);
    Ok(Ok(out))
}

/// The values of one org unit: its own if it has any, else those of the shallowest level of
/// territories below it that has values, else those of the schools and organisations below
/// it. Published statistics come at several levels at once (a country row beside its
/// municipios'); this way none is counted twice.
fn unit_values<'v>(unit_path: &str, unit_id: Uuid, values: &[&'v PullValue]) -> Vec<&'v PullValue> {
    let own: Vec<&PullValue> = values
        .iter()
        .copied()
        .filter(|v| v.org_unit_id.0 == unit_id)
        .collect();
    if !own.is_empty() {
        return own;
    }
    let below: Vec<&PullValue> = values
        .iter()
        .copied()
        .filter(|v| v.territory_path.starts_with(unit_path))
        .collect();
    let territories: Vec<&PullValue> = below
        .iter()
        .copied()
        .filter(|v| v.org_unit_kind == "territory")
        .collect();
    match territories.iter().map(|v| v.territory_path.len()).min() {
        Some(shallowest) => territories
            .into_iter()
            .filter(|v| v.territory_path.len() == shallowest)
            .collect(),
        None => below,
    }
}

/// Aggregates an org unit's values for one indicator and period: over time per org unit, then
/// over org units.
fn figure_of(definition: &IndicatorRow, values: &[&PullValue]) -> ApiResult<Option<(Figure, i64)>> {
    let id = definition.id.0;
    let rule = |text: &str| -> ApiResult<Aggregation> {
        text.parse()
            .map_err(|_| ApiError::internal(anyhow::anyhow!("indicator {id} has a bad rule")))
    };
    let time = rule(&definition.aggregation_time)?;
    let territory = rule(&definition.aggregation_territory)?;
    let factor = factor(definition);
    // By org unit, in the order first seen (a hash map finds each unit's list).
    let mut by_unit: Vec<(Uuid, Vec<&PullValue>)> = Vec::new();
    let mut position: HashMap<Uuid, usize> = HashMap::new();
    for value in values {
        let at = *position.entry(value.org_unit_id.0).or_insert_with(|| {
            by_unit.push((value.org_unit_id.0, Vec::new()));
            by_unit.len() - 1
        });
        if let Some((_, list)) = by_unit.get_mut(at) {
            list.push(value);
        }
    }
    let mut figures = Vec::new();
    for (_, mut list) in by_unit {
        list.sort_by(|a, b| a.period_start.cmp(&b.period_start));
        let series: Vec<Figure> = list
            .iter()
            .map(|v| Figure {
                value: v.value,
                numerator: v.numerator,
                denominator: v.denominator,
            })
            .collect();
        if let Some(figure) = aggregate(time, &series, factor) {
            figures.push(figure);
        }
    }
    Ok(aggregate(territory, &figures, factor)
        .map(|f| (f, i64::try_from(values.len()).unwrap_or(i64::MAX))))
}

/// The pull, computed: one statement for the definitions, one for the values, one for
/// networks' members, and a few per period for each live indicator.
pub fn pull(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    scope: &TerritoryScope,
    query: &PullQuery,
) -> ApiResult<Analytics> {
    let as_of = Utc::now();
    let mut definitions = repo::by_codes(conn, query.indicators.clone())?;
    let ids: Vec<crate::db::DbUuid> = query
        .indicators
        .iter()
        .filter_map(|i| Uuid::parse_str(i).ok())
        .map(crate::db::DbUuid)
        .collect();
    if !ids.is_empty() {
        definitions.extend(repo::by_ids(conn, ids)?);
    }
    let mut issues = Vec::new();
    for code in &query.indicators {
        if !definitions
            .iter()
            .any(|d| &d.code == code || d.id.0.to_string() == code.to_lowercase())
        {
            issues.push(crate::error::Issue::query(
                "indicator",
                IssueKind::UnknownReference,
            ));
        }
    }
    let units = match units(conn, &query.org_units, catalogue, scope)? {
        Ok(units) => units,
        Err(kind) => {
            issues.push(crate::error::Issue::query("org_unit", kind));
            Vec::new()
        }
    };
    if query.unknown_periods {
        issues.push(crate::error::Issue::query(
            "period",
            IssueKind::UnknownReference,
        ));
    }
    if !issues.is_empty() && issues.iter().all(|i| i.kind == IssueKind::UnknownReference) {
        // Well formed, but naming what does not exist (or the caller cannot see).
        return Err(ApiError::UnknownReference(issues));
    }
    if !issues.is_empty() {
        return Err(ApiError::InvalidParameters(issues));
    }
    let rows = definitions.len() * query.periods.len() * units.len();
    if rows > ROW_CAP {
        return Err(ApiError::InvalidParameters(vec![
            crate::error::Issue::query(
                "org_unit",
                IssueKind::OutOfRange {
                    min: 1,
                    max: i64::try_from(ROW_CAP).unwrap_or(i64::MAX),
                },
            ),
        ]));
    }
    let (Some(start), Some(end)) = (
        query.periods.iter().map(|p| p.start).min(),
        query.periods.iter().map(|p| p.end).max(),
    ) else {
        return Ok(Analytics {
            as_of,
            rows: Vec::new(),
        });
    };
    let paths: Vec<String> = units
        .iter()
        .map(|u| match u {
            Unit::Territory(entry) => entry.path.clone(),
            Unit::Network { path, .. } => path.clone(),
        })
        .collect();
    let mut values = repo::values_for_pull(
        conn,
        definitions.iter().map(|d| d.id).collect(),
        &query.disaggregation,
        (&start.to_string(), &end.to_string()),
        scope,
    )?;
    // Platform indicators computed live from Redes' own data, as values of each period asked.
    let today = as_of.date_naive();
    for definition in &definitions {
        for period in &query.periods {
            let Some(live) = live_indicators::values(
                conn,
                &definition.code,
                period,
                &query.disaggregation,
                scope,
                today,
            )?
            else {
                break;
            };
            values.extend(live.into_iter().map(|v| live_value(definition, v, period)));
        }
    }
    values.retain(|v| {
        paths
            .iter()
            .any(|p| v.territory_path.starts_with(p.as_str()))
            || units.iter().any(|u| matches!(u, Unit::Network { .. }))
    });
    // A network's members on each period's dates.
    let mut members: HashMap<(Uuid, String), HashSet<Uuid>> = HashMap::new();
    let mut network_ids = Vec::new();
    for unit in &units {
        if let Unit::Network { id, .. } = unit {
            network_ids.push(crate::db::DbUuid(*id));
        }
    }
    // One statement for every network's school memberships, then each period in memory.
    let memberships = repo::network_school_memberships(conn, network_ids)?;
    for period in &query.periods {
        let (from, to) = (period.start.to_string(), period.end.to_string());
        for (network, school, joined, left) in &memberships {
            let current = joined.as_deref().is_none_or(|j| j <= to.as_str())
                && left.as_deref().is_none_or(|l| l > from.as_str());
            if current {
                members
                    .entry((*network, period.code.clone()))
                    .or_default()
                    .insert(*school);
            }
        }
    }
    let mut out = Vec::with_capacity(rows);
    for definition in &definitions {
        let of_indicator: Vec<&PullValue> = values
            .iter()
            .filter(|v| v.indicator_id == definition.id)
            .collect();
        for period in &query.periods {
            let (from, to) = (period.start.to_string(), period.end.to_string());
            let in_period: Vec<&PullValue> = of_indicator
                .iter()
                .copied()
                .filter(|v| v.period_start >= from && v.period_end <= to)
                .collect();
            for unit in &units {
                let chosen = match unit {
                    Unit::Territory(entry) => unit_values(&entry.path, entry.id, &in_period),
                    Unit::Network { id, .. } => {
                        // Its own values (the live session figures), else its member schools'.
                        let own: Vec<&PullValue> = in_period
                            .iter()
                            .copied()
                            .filter(|v| v.org_unit_id.0 == *id)
                            .collect();
                        if own.is_empty() {
                            let schools = members.get(&(*id, period.code.clone()));
                            in_period
                                .iter()
                                .copied()
                                .filter(|v| {
                                    v.org_unit_kind == "school"
                                        && schools.is_some_and(|s| s.contains(&v.org_unit_id.0))
                                })
                                .collect()
                        } else {
                            own
                        }
                    }
                };
                let (org_unit, org_unit_name) = unit.label();
                let figure = figure_of(definition, &chosen)?;
                let ratio = definition.aggregation_territory == Aggregation::Ratio.as_str();
                out.push(AnalyticsRow {
                    indicator: definition.code.clone(),
                    period: period.code.clone(),
                    org_unit,
                    org_unit_name,
                    value: figure.map(|(f, _)| f.value),
                    numerator: figure
                        .and_then(|(f, _)| f.numerator)
                        .filter(|_| query.numerators && ratio),
                    denominator: figure
                        .and_then(|(f, _)| f.denominator)
                        .filter(|_| query.numerators && ratio),
                    values: figure.map_or(0, |(_, n)| n),
                });
            }
        }
    }
    Ok(Analytics { as_of, rows: out })
}

/// A value computed from Redes' own data, as a row like the recorded ones.
fn live_value(definition: &IndicatorRow, live: LiveValue, period: &Period) -> PullValue {
    PullValue {
        indicator_id: definition.id,
        org_unit_kind: live.org_unit_kind.to_owned(),
        org_unit_id: crate::db::DbUuid(live.org_unit_id),
        territory_path: live.territory_path,
        period_start: period.start.to_string(),
        period_end: period.end.to_string(),
        value: live.figure.value,
        numerator: live.figure.numerator,
        denominator: live.figure.denominator,
    }
}

/// A pull's parameters, read.
#[derive(Debug, Clone)]
pub struct PullQuery {
    pub indicators: Vec<String>,
    pub periods: Vec<Period>,
    pub org_units: Vec<String>,
    pub disaggregation: String,
    pub numerators: bool,
    /// A well-formed period that names no days (`2017W53`) was asked for.
    pub unknown_periods: bool,
}

/// Pull aggregated indicators.
///
/// Indicators × periods × org units, aggregated up the territory tree (`aggregation_territory`)
/// and across the periods inside each period asked (`aggregation_time`), with the numerator and
/// denominator of ratios on request. A territory with values of its own answers with them;
/// otherwise the shallowest level of territories below it that has values is aggregated (so a
/// country row and its municipios' are never counted together), else its schools' values. A
/// network aggregates its member schools on each period's dates. Always fresh: it reads the
/// values as they are (`as_of`); an installation with a read replica serves pulls from it, and
/// they lag the latest writes by its replication lag (usually under a second). At most 10,000 rows. JSON, or CSV with `Accept: text/csv`
/// (`layout=sdmx` for `INDICATOR, REF_AREA, TIME_PERIOD, OBS_VALUE`), or a chart with
/// `Accept: image/svg+xml`: a line per indicator and org unit over the periods when several are
/// asked, else a bar per org unit (and indicator), titled and labelled in the language of
/// `Accept-Language`; periods without figures are gaps. A chart draws at most 20 lines or 40
/// bars (400 `too_many_series` on `org_unit` beyond).
#[utoipa::path(
    tag = "indicators",
    operation_id = "get_analytics",
    params(AnalyticsParams),
    responses(
        (status = 200, description = "The figures.", content(
            (Analytics = "application/json"),
            (String = "text/csv"),
            (String = "image/svg+xml"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:read"]))
)]
#[get("/analytics")]
pub async fn get_analytics(
    auth: Authorized<IndicatorsRead>,
    query: QueryParams,
    request: HttpRequest,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let mut reader = query.reader(&[
        "indicator",
        "period",
        "org_unit",
        "disaggregation",
        "numerators",
        "layout",
    ]);
    let indicators = reader.every("indicator");
    let raw_periods = reader.every("period");
    let org_units = reader.every("org_unit");
    for (name, list) in [
        ("indicator", &indicators),
        ("period", &raw_periods),
        ("org_unit", &org_units),
    ] {
        if list.is_empty() {
            reader.issue(name, IssueKind::Required);
        }
    }
    let mut periods = Vec::new();
    let mut unknown_periods = false;
    for code in &raw_periods {
        match Period::parse(code) {
            Some(period) => periods.push(period),
            None if Period::is_well_formed(code) => unknown_periods = true,
            None => reader.issue(
                "period",
                IssueKind::InvalidFormat {
                    expected_es: "un período `2017`, `2017S1`, `2017Q1`, `2017-03` o `2017W12`"
                        .into(),
                    expected_en: "a period `2017`, `2017S1`, `2017Q1`, `2017-03` or `2017W12`"
                        .into(),
                },
            ),
        }
    }
    let disaggregation = reader.text("disaggregation", 500).unwrap_or_default();
    let numerators = reader.boolean("numerators").unwrap_or(false);
    let sdmx = reader.choice::<String>("layout", &["table", "sdmx"]);
    let sdmx = match sdmx.as_deref() {
        Some("sdmx") => true,
        Some("table") | None => false,
        Some(_) => {
            reader.issue(
                "layout",
                IssueKind::InvalidChoice {
                    allowed: &["table", "sdmx"],
                },
            );
            false
        }
    };
    reader.finish()?;
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let csv = accept.is_some_and(|accept| accept.contains("text/csv"));
    let svg = accept.is_some_and(chart::wants_svg);
    let (chart_indicators, chart_periods) = if svg {
        (indicators.clone(), periods.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    let scope = TerritoryScope::of(&auth.principal);
    let catalogue = catalogue.into_inner();
    let pull_query = PullQuery {
        indicators,
        periods,
        org_units,
        disaggregation,
        numerators,
        unknown_periods,
    };
    let (analytics, definitions) = db
        .replica()
        .read(move |conn| {
            let analytics = pull(conn, &catalogue, &scope, &pull_query)?;
            // A chart names its indicators: one more statement, for charts only.
            let definitions = if svg {
                let codes = chart::codes_to_name(&pull_query.indicators, &analytics);
                repo::by_codes(conn, codes)?
            } else {
                Vec::new()
            };
            Ok((analytics, definitions))
        })
        .await?;
    if svg {
        let lang = Lang::from_headers(request.headers());
        let document = chart::render(&chart::ChartQuery {
            analytics: &analytics,
            definitions: &definitions,
            indicators: &chart_indicators,
            periods: &chart_periods,
            lang,
        })?;
        return Ok(HttpResponse::Ok()
            .content_type(chart::SVG)
            .insert_header(("X-Redes-As-Of", analytics.as_of.to_rfc3339()))
            .insert_header((header::CONTENT_LANGUAGE, lang.tag()))
            .body(document));
    }
    if !csv {
        return Ok(json::respond(HttpResponse::Ok(), &analytics));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let header: &[&str] = if sdmx {
        &["INDICATOR", "REF_AREA", "TIME_PERIOD", "OBS_VALUE"]
    } else {
        &[
            "indicator",
            "period",
            "org_unit",
            "org_unit_name",
            "value",
            "numerator",
            "denominator",
            "values",
        ]
    };
    writer.write_record(header).map_err(ApiError::internal)?;
    for row in &analytics.rows {
        let record: Vec<String> = if sdmx {
            vec![
                row.indicator.clone(),
                row.org_unit.clone(),
                row.period.clone(),
                cell(row.value),
            ]
        } else {
            vec![
                row.indicator.clone(),
                row.period.clone(),
                row.org_unit.clone(),
                row.org_unit_name.clone(),
                cell(row.value),
                cell(row.numerator),
                cell(row.denominator),
                row.values.to_string(),
            ]
        };
        writer.write_record(&record).map_err(ApiError::internal)?;
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("X-Redes-As-Of", analytics.as_of.to_rfc3339()))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(value: f64, parts: Option<(f64, f64)>) -> Figure {
        Figure {
            value,
            numerator: parts.map(|p| p.0),
            denominator: parts.map(|p| p.1),
        }
    }

    #[test]
    fn each_rule_aggregates_as_stated() {
        let plain = [figure(10.0, None), figure(30.0, None), figure(20.0, None)];
        let value = |rule| aggregate(rule, &plain, 100.0).map(|f| f.value);
        assert_eq!(value(Aggregation::Sum), Some(60.0));
        assert_eq!(value(Aggregation::Mean), Some(20.0));
        assert_eq!(value(Aggregation::Min), Some(10.0));
        assert_eq!(value(Aggregation::Max), Some(30.0));
        assert_eq!(value(Aggregation::Last), Some(20.0));
        // A ratio of sums, not a mean of ratios: (50 + 30) / (100 + 300) = 20%, not 30%.
        let rates = [
            figure(50.0, Some((50.0, 100.0))),
            figure(10.0, Some((30.0, 300.0))),
        ];
        let ratio = aggregate(Aggregation::Ratio, &rates, 100.0).expect("a figure");
        assert_eq!(ratio.value, 20.0);
        assert_eq!(
            (ratio.numerator, ratio.denominator),
            (Some(80.0), Some(400.0))
        );
        // Without numerators and denominators a ratio falls back to the mean.
        assert_eq!(value(Aggregation::Ratio), Some(20.0));
        assert_eq!(aggregate(Aggregation::Sum, &[], 1.0), None);
    }
}
