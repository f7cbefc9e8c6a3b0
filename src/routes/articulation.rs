//! The articulation gap report, for a school (`/api/v1/schools/{id}/articulation`) and for a
//! network's member schools on a date (`/api/v1/networks/{id}/articulation`): what of the PEI
//! and the planes normativos the school's PME (or PMI) actions carry, and what they do not.
//!
//! Both are computed from a fixed number of statements however many schools, plans, items and
//! links there are: the data is loaded in bulk (`load`) and assessed in memory (`assess`).

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::PlansRead;
use crate::auth::{Authorized, TerritoryScope};
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::plan::{
    ActionStatus, CatalogueKind, ItemLevel, LinkType, PlanItemLevel, ReportFormat,
};
use crate::error::{ApiError, ApiResult, Resource};
use crate::json;
use crate::openapi::responses;
use crate::query::QueryParams;
use crate::repository::plans::{self as repo, ItemRow, LinkRow, PlanRow};
use crate::repository::{catalogues, networks, schools};
use crate::routes::common::path_id;

/// A sello or plan normativo no action carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e99", "name": "Inclusión"}))]
pub struct Uncovered {
    pub id: Uuid,
    pub name: String,
}

/// An item of a plan the report points at.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a2d", "plan_id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b", "title": "Jornadas de reflexión docente"}))]
pub struct ItemRef {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub title: String,
}

/// An action that is late or behind its planned execution.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a2d", "plan_id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b", "title": "Jornadas de reflexión docente", "starts_on": "2019-06-01", "ends_on": "2019-06-30", "status": "in_progress", "executed_percent": 20, "expected_percent": 100}))]
pub struct LateAction {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub title: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub status: ActionStatus,
    pub executed_percent: i32,
    /// How much should be done by the report's date, 0-100: the share of the action's days
    /// that have passed.
    pub expected_percent: i32,
}

/// How many of a kind of thing the report counted, and how many are articulated.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
#[schema(example = json!({"total": 6, "articulated": 2}))]
pub struct Tally {
    pub total: i64,
    /// Sellos and planes normativos with an action; actions with a sello or plan normativo;
    /// goals with an indicator.
    pub articulated: i64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.total += other.total;
        self.articulated += other.articulated;
    }
}

/// The figures of one school (also the totals of a network).
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
#[schema(example = json!({
    "sellos": {"total": 2, "articulated": 1},
    "planes_normativos": {"total": 6, "articulated": 2},
    "actions": {"total": 5, "articulated": 2},
    "goals": {"total": 3, "articulated": 2},
    "overdue_actions": 1, "behind_actions": 1, "coverage": 0.375
}))]
pub struct Figures {
    pub sellos: Tally,
    pub planes_normativos: Tally,
    pub actions: Tally,
    pub goals: Tally,
    pub overdue_actions: i64,
    pub behind_actions: i64,
    /// The share of the school's sellos and planes normativos that at least one action
    /// carries, 0-1; `null` when it has none of either.
    pub coverage: Option<f64>,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.sellos.add(other.sellos);
        self.planes_normativos.add(other.planes_normativos);
        self.actions.add(other.actions);
        self.goals.add(other.goals);
        self.overdue_actions += other.overdue_actions;
        self.behind_actions += other.behind_actions;
        self.coverage = coverage(&self.sellos, &self.planes_normativos);
    }
}

fn coverage(sellos: &Tally, planes: &Tally) -> Option<f64> {
    let total = sellos.total + planes.total;
    (total > 0).then(|| (sellos.articulated + planes.articulated) as f64 / total as f64)
}

/// A school's articulation gap report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "school_name": "Liceo Elena Duvauchelle",
    "on": "2019-06-30",
    "plan_ids": ["019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"],
    "has_pei": true,
    "figures": {
        "sellos": {"total": 2, "articulated": 1},
        "planes_normativos": {"total": 6, "articulated": 2},
        "actions": {"total": 4, "articulated": 3},
        "goals": {"total": 2, "articulated": 1},
        "overdue_actions": 1, "behind_actions": 0, "coverage": 0.375
    },
    "sellos_without_action": [],
    "planes_normativos_without_action": [],
    "actions_without_articulation": [],
    "goals_without_indicator": [],
    "overdue_actions": [],
    "behind_actions": []
}))]
pub struct SchoolArticulation {
    pub school_id: Uuid,
    pub school_name: String,
    /// The date the report is for: plans covering its year, links in force on it.
    pub on: NaiveDate,
    /// The school's PME or PMI covering the year (none: every action figure is 0).
    pub plan_ids: Vec<Uuid>,
    /// Whether the school has a PEI (else it has no sellos to cover).
    pub has_pei: bool,
    pub figures: Figures,
    /// Sellos of the current PEI that no action carries.
    pub sellos_without_action: Vec<Uncovered>,
    /// Planes normativos (of the school's country) that no action carries.
    pub planes_normativos_without_action: Vec<Uncovered>,
    /// Actions linked to no sello and no plan normativo.
    pub actions_without_articulation: Vec<ItemRef>,
    /// Goals with no indicator, stated or linked.
    pub goals_without_indicator: Vec<ItemRef>,
    /// Open actions whose end date has passed.
    pub overdue_actions: Vec<LateAction>,
    /// Open actions whose execution is more than `tolerance` points below the share of their
    /// days that have passed.
    pub behind_actions: Vec<LateAction>,
}

/// One member school in a network's report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828", "school_name": "Liceo Elena Duvauchelle",
    "plan_ids": ["019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"], "has_pei": true,
    "figures": {
        "sellos": {"total": 2, "articulated": 1},
        "planes_normativos": {"total": 6, "articulated": 2},
        "actions": {"total": 5, "articulated": 2},
        "goals": {"total": 3, "articulated": 2},
        "overdue_actions": 1, "behind_actions": 1, "coverage": 0.375
    }
}))]
pub struct MemberArticulation {
    pub school_id: Uuid,
    pub school_name: String,
    pub plan_ids: Vec<Uuid>,
    pub has_pei: bool,
    pub figures: Figures,
}

/// A network objective and how many member schools' actions carry it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"objective": "Pasantías pedagógicas", "schools": 3}))]
pub struct ObjectiveCarriage {
    pub objective: String,
    /// Member schools with an action linked to it.
    pub schools: i64,
}

/// A network's articulation gap report: its member schools on a date.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "network_id": "0b8e3c39-6d1f-5e0c-a4b8-9c3b7f0e2a11",
    "network_name": "Red de Educación Media Técnico Profesional Municipal",
    "on": "2019-06-30",
    "member_schools": 5,
    "not_visible": 0,
    "figures": {
        "sellos": {"total": 10, "articulated": 4},
        "planes_normativos": {"total": 30, "articulated": 8},
        "actions": {"total": 20, "articulated": 12},
        "goals": {"total": 10, "articulated": 7},
        "overdue_actions": 3, "behind_actions": 2, "coverage": 0.3
    },
    "schools": [],
    "objectives": [{"objective": "Aunar criterios para la elaboración del PME", "schools": 2}],
    "objectives_not_carried": []
}))]
pub struct NetworkArticulation {
    pub network_id: Uuid,
    pub network_name: String,
    pub on: NaiveDate,
    /// Schools that are members on `on`.
    pub member_schools: i64,
    /// Of those, how many are outside the caller's territories (left out of the figures).
    pub not_visible: i64,
    /// The sums over the visible member schools; `coverage` over all their sellos and planes.
    pub figures: Figures,
    pub schools: Vec<MemberArticulation>,
    /// The network's objectives (its own and its work plans') and how many member schools
    /// carry each.
    pub objectives: Vec<ObjectiveCarriage>,
    /// The objectives no member school's action carries.
    pub objectives_not_carried: Vec<String>,
}

/// What the report reads for a set of schools, in a fixed number of statements.
struct Loaded {
    plans: Vec<PlanRow>,
    items: HashMap<Uuid, Vec<ItemRow>>,
    links: Vec<LinkRow>,
    sellos: HashMap<Uuid, Vec<(Uuid, String)>>,
    has_pei: HashSet<Uuid>,
    /// The planes normativos by country: the latest catalogue version's plans.
    planes: HashMap<String, Vec<(Uuid, String)>>,
}

fn load(conn: &mut DbConnection, school_ids: &[Uuid], on: NaiveDate) -> ApiResult<Loaded> {
    let ids: Vec<DbUuid> = school_ids.iter().copied().map(DbUuid).collect();
    let plans = repo::of_schools(conn, ids.clone(), on.year(), &["pme", "pmi"])?;
    let plan_ids: Vec<DbUuid> = plans.iter().map(|p| p.id).collect();
    let items = repo::items_of(conn, plan_ids.clone())?;
    let links = repo::links_in_force(conn, plan_ids, &on.to_string())?;
    let (sellos, has_pei) = repo::current_sellos(conn, ids)?;
    let catalogues = catalogues::list(conn, Some(CatalogueKind::PlanesNormativos.as_str()), None)?;
    // The latest version of each country's catalogue (the list is by code, then version).
    let mut latest: HashMap<String, catalogues::CatalogueRow> = HashMap::new();
    for catalogue in catalogues {
        latest.insert(catalogue.country.clone(), catalogue);
    }
    let mut items_by_catalogue =
        catalogues::items_of(conn, latest.values().map(|c| c.id).collect())?;
    let planes = latest
        .into_iter()
        .map(|(country, catalogue)| {
            let plans = items_by_catalogue
                .remove(&catalogue.id.0)
                .unwrap_or_default()
                .into_iter()
                .filter(|item| item.level == ItemLevel::Plan.as_str())
                .map(|item| (item.id.0, item.name))
                .collect();
            (country, plans)
        })
        .collect();
    Ok(Loaded {
        plans,
        items,
        links,
        sellos,
        has_pei,
        planes,
    })
}

/// The figures of each school among `schools` (id, country) on `on`, from the same fixed
/// number of statements as a report, whatever the number of schools (the live articulation
/// indicators read them).
pub fn school_figures(
    conn: &mut DbConnection,
    schools: &[(Uuid, String)],
    on: NaiveDate,
) -> ApiResult<Vec<(Uuid, Figures)>> {
    let ids: Vec<Uuid> = schools.iter().map(|(id, _)| *id).collect();
    let loaded = load(conn, &ids, on)?;
    Ok(schools
        .iter()
        .map(|(id, country)| {
            let report = assess(*id, String::new(), country, &loaded, on, 0);
            (*id, report.figures)
        })
        .collect())
}

fn day(value: Option<&str>) -> Option<NaiveDate> {
    value.and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
}

/// How much of an action should be done on `on`: the share of its days (both ends included)
/// up to and including `on`, as a whole percentage.
pub fn expected_percent(starts: NaiveDate, ends: NaiveDate, on: NaiveDate) -> i32 {
    if on < starts {
        return 0;
    }
    if on >= ends {
        return 100;
    }
    let total = (ends - starts).num_days() + 1;
    let passed = (on - starts).num_days() + 1;
    i32::try_from(passed * 100 / total).unwrap_or(100)
}

/// The report of one school from what `load` read.
fn assess(
    school_id: Uuid,
    school_name: String,
    country: &str,
    loaded: &Loaded,
    on: NaiveDate,
    tolerance: i32,
) -> SchoolArticulation {
    let plans: Vec<&PlanRow> = loaded
        .plans
        .iter()
        .filter(|p| p.school_id.map(|s| s.0) == Some(school_id))
        .collect();
    let plan_ids: HashSet<Uuid> = plans.iter().map(|p| p.id.0).collect();
    let items: Vec<&ItemRow> = plans
        .iter()
        .flat_map(|p| loaded.items.get(&p.id.0).into_iter().flatten())
        .collect();
    let links: Vec<&LinkRow> = loaded
        .links
        .iter()
        .filter(|l| plan_ids.contains(&l.plan_id.0))
        .collect();
    let action_ids: HashSet<Uuid> = items
        .iter()
        .filter(|i| i.level == PlanItemLevel::Action.as_str())
        .map(|i| i.id.0)
        .collect();
    let from_actions = |kind: LinkType| -> Vec<&LinkRow> {
        links
            .iter()
            .copied()
            .filter(|l| l.link_type == kind.as_str() && action_ids.contains(&l.item_id.0))
            .collect()
    };
    let sello_links = from_actions(LinkType::Sello);
    let plan_links = from_actions(LinkType::PlanNormativo);
    let targets = |links: &[&LinkRow]| -> HashSet<Uuid> {
        links
            .iter()
            .filter_map(|l| l.target_id.map(|t| t.0))
            .collect()
    };
    let carried_sellos = targets(&sello_links);
    let carried_planes = targets(&plan_links);

    let sellos = loaded.sellos.get(&school_id).cloned().unwrap_or_default();
    let planes = loaded.planes.get(country).cloned().unwrap_or_default();
    let uncovered = |list: &[(Uuid, String)], carried: &HashSet<Uuid>| -> Vec<Uncovered> {
        list.iter()
            .filter(|(id, _)| !carried.contains(id))
            .map(|(id, name)| Uncovered {
                id: *id,
                name: name.clone(),
            })
            .collect()
    };
    let sellos_without_action = uncovered(&sellos, &carried_sellos);
    let planes_normativos_without_action = uncovered(&planes, &carried_planes);

    let articulated: HashSet<Uuid> = sello_links
        .iter()
        .chain(plan_links.iter())
        .map(|l| l.item_id.0)
        .collect();
    let indicator_links: HashSet<Uuid> = links
        .iter()
        .filter(|l| l.link_type == LinkType::Indicator.as_str())
        .map(|l| l.item_id.0)
        .collect();
    let reference = |item: &ItemRow| ItemRef {
        id: item.id.0,
        plan_id: item.plan_id.0,
        title: item.title.clone(),
    };
    let mut actions_without_articulation = Vec::new();
    let mut goals_without_indicator = Vec::new();
    let mut overdue_actions = Vec::new();
    let mut behind_actions = Vec::new();
    let (mut goals, mut goals_with_indicator) = (0, 0);
    for item in &items {
        if item.level == PlanItemLevel::Goal.as_str() {
            goals += 1;
            if item.indicator.is_some() || indicator_links.contains(&item.id.0) {
                goals_with_indicator += 1;
            } else {
                goals_without_indicator.push(reference(item));
            }
            continue;
        }
        if item.level != PlanItemLevel::Action.as_str() {
            continue;
        }
        if !articulated.contains(&item.id.0) {
            actions_without_articulation.push(reference(item));
        }
        let status: ActionStatus = item
            .status
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(ActionStatus::Planned);
        if status.is_closed() {
            continue;
        }
        let (starts, ends) = (day(item.starts_on.as_deref()), day(item.ends_on.as_deref()));
        let executed = item.executed_percent.unwrap_or(0);
        let late = |expected: i32| LateAction {
            id: item.id.0,
            plan_id: item.plan_id.0,
            title: item.title.clone(),
            starts_on: starts,
            ends_on: ends,
            status,
            executed_percent: executed,
            expected_percent: expected,
        };
        match (starts, ends) {
            (_, Some(ends)) if ends < on => overdue_actions.push(late(100)),
            (Some(starts), Some(ends)) => {
                let expected = expected_percent(starts, ends, on);
                if executed + tolerance < expected {
                    behind_actions.push(late(expected));
                }
            }
            _ => {}
        }
    }
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let sellos_tally = Tally {
        total: count(sellos.len()),
        articulated: count(sellos.len() - sellos_without_action.len()),
    };
    let planes_tally = Tally {
        total: count(planes.len()),
        articulated: count(planes.len() - planes_normativos_without_action.len()),
    };
    let figures = Figures {
        sellos: sellos_tally,
        planes_normativos: planes_tally,
        actions: Tally {
            total: count(action_ids.len()),
            articulated: count(action_ids.len() - actions_without_articulation.len()),
        },
        goals: Tally {
            total: goals,
            articulated: goals_with_indicator,
        },
        overdue_actions: count(overdue_actions.len()),
        behind_actions: count(behind_actions.len()),
        coverage: coverage(&sellos_tally, &planes_tally),
    };
    SchoolArticulation {
        school_id,
        school_name,
        on,
        plan_ids: plans.iter().map(|p| p.id.0).collect(),
        has_pei: loaded.has_pei.contains(&school_id),
        figures,
        sellos_without_action,
        planes_normativos_without_action,
        actions_without_articulation,
        goals_without_indicator,
        overdue_actions,
        behind_actions,
    }
}

/// The date and tolerance of a report, and whether it is wanted as CSV.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticulationParams {
    /// The day the report is for (`YYYY-MM-DD`); today when absent. Plans covering its year
    /// and links in force on it count.
    #[param(example = "2019-06-30")]
    pub on: Option<NaiveDate>,
    /// How many percentage points below its expected execution an action may be before it is
    /// reported as behind, 0-100.
    #[param(minimum = 0, maximum = 100, default = 10)]
    pub tolerance: Option<i32>,
    /// `csv` for CSV (as with `Accept: text/csv`); `json` by default.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

struct ReportQuery {
    on: NaiveDate,
    tolerance: i32,
    csv: bool,
}

fn read_params(query: &QueryParams, request: &HttpRequest) -> ApiResult<ReportQuery> {
    let mut reader = query.reader(&["on", "tolerance", "format"]);
    let on = reader.date("on").unwrap_or_else(|| Utc::now().date_naive());
    let tolerance = reader
        .integer("tolerance", 0, 100)
        .and_then(|t| i32::try_from(t).ok())
        .unwrap_or(10);
    let format = reader.choice::<ReportFormat>("format", ReportFormat::NAMES);
    reader.finish()?;
    let accepts_csv = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    let csv = match format {
        Some(format) => format == ReportFormat::Csv,
        None => accepts_csv,
    };
    Ok(ReportQuery { on, tolerance, csv })
}

fn csv_response(rows: Vec<Vec<String>>) -> ApiResult<HttpResponse> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(&row).map_err(ApiError::internal)?;
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(body))
}

fn figure_cells(figures: &Figures) -> Vec<String> {
    vec![
        figures.sellos.total.to_string(),
        figures.sellos.articulated.to_string(),
        figures.planes_normativos.total.to_string(),
        figures.planes_normativos.articulated.to_string(),
        figures.actions.total.to_string(),
        figures.actions.articulated.to_string(),
        figures.goals.total.to_string(),
        figures.goals.articulated.to_string(),
        figures.overdue_actions.to_string(),
        figures.behind_actions.to_string(),
        figures
            .coverage
            .map(|c| format!("{c:.4}"))
            .unwrap_or_default(),
    ]
}

const FIGURE_HEADERS: &[&str] = &[
    "sellos",
    "sellos_articulated",
    "planes_normativos",
    "planes_normativos_articulated",
    "actions",
    "actions_articulated",
    "goals",
    "goals_with_indicator",
    "overdue_actions",
    "behind_actions",
    "coverage",
];

/// The school report as CSV: one row per finding.
fn school_csv(report: &SchoolArticulation) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "finding",
            "id",
            "plan_id",
            "name",
            "ends_on",
            "executed_percent",
            "expected_percent",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect::<Vec<_>>(),
    ];
    let blank = String::new;
    for item in &report.sellos_without_action {
        rows.push(vec![
            "sello_without_action".into(),
            item.id.to_string(),
            blank(),
            item.name.clone(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for item in &report.planes_normativos_without_action {
        rows.push(vec![
            "plan_normativo_without_action".into(),
            item.id.to_string(),
            blank(),
            item.name.clone(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for item in &report.actions_without_articulation {
        rows.push(vec![
            "action_without_articulation".into(),
            item.id.to_string(),
            item.plan_id.to_string(),
            item.title.clone(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for item in &report.goals_without_indicator {
        rows.push(vec![
            "goal_without_indicator".into(),
            item.id.to_string(),
            item.plan_id.to_string(),
            item.title.clone(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    for (finding, list) in [
        ("overdue_action", &report.overdue_actions),
        ("behind_action", &report.behind_actions),
    ] {
        for item in list {
            rows.push(vec![
                finding.into(),
                item.id.to_string(),
                item.plan_id.to_string(),
                item.title.clone(),
                item.ends_on.map(|d| d.to_string()).unwrap_or_default(),
                item.executed_percent.to_string(),
                item.expected_percent.to_string(),
            ]);
        }
    }
    rows
}

/// Get a school's articulation gap report.
///
/// What of the school's PEI sellos and of the planes normativos its PME (or PMI) actions
/// carry on a date, and what not: sellos and planes normativos with no action, actions with
/// neither, goals with no indicator, actions overdue or behind, and the coverage figure. JSON,
/// or CSV (one row per finding) with `Accept: text/csv` or `format=csv`.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_school_articulation",
    params(("id" = Uuid, Path, description = "The school's id."), ArticulationParams),
    responses(
        (status = 200, description = "The report.", content(
            (SchoolArticulation = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/schools/{id}/articulation")]
pub async fn get_school_articulation(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    request: HttpRequest,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let params = read_params(&query, &request)?;
    let id = path_id(Resource::School, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let (on, tolerance) = (params.on, params.tolerance);
    let report = db
        .read(move |conn| {
            let school = schools::find(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::School, id))?;
            let loaded = load(conn, &[id], on)?;
            Ok(assess(
                id,
                school.name,
                &school.country,
                &loaded,
                on,
                tolerance,
            ))
        })
        .await?;
    if params.csv {
        return csv_response(school_csv(&report));
    }
    Ok(json::respond(HttpResponse::Ok(), &report))
}

/// Get a network's articulation gap report.
///
/// The school report's figures for each school that is a member of the network on a date
/// (those outside the caller's territories are only counted), their sums, and the network's
/// objectives with how many member schools' actions carry each (a `network_objective` link).
/// JSON, or CSV (one row per school) with `Accept: text/csv` or `format=csv`.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_network_articulation",
    params(("id" = Uuid, Path, description = "The network's id."), ArticulationParams),
    responses(
        (status = 200, description = "The report.", content(
            (NetworkArticulation = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/networks/{id}/articulation")]
pub async fn get_network_articulation(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    request: HttpRequest,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let params = read_params(&query, &request)?;
    let id = path_id(Resource::Network, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let (on, tolerance) = (params.on, params.tolerance);
    let report = db
        .read(move |conn| network_report(conn, id, &scope, on, tolerance))
        .await?;
    if params.csv {
        let mut header = vec![
            "school_id".to_owned(),
            "school_name".to_owned(),
            "has_pei".to_owned(),
        ];
        header.extend(FIGURE_HEADERS.iter().map(|h| (*h).to_owned()));
        let mut rows = vec![header];
        for school in &report.schools {
            let mut row = vec![
                school.school_id.to_string(),
                school.school_name.clone(),
                school.has_pei.to_string(),
            ];
            row.extend(figure_cells(&school.figures));
            rows.push(row);
        }
        return csv_response(rows);
    }
    Ok(json::respond(HttpResponse::Ok(), &report))
}

/// A network's report, from a fixed number of statements however many members it has.
pub fn network_report(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
    on: NaiveDate,
    tolerance: i32,
) -> ApiResult<NetworkArticulation> {
    let network = networks::find(conn, id, scope)?
        .ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
    let members = repo::member_schools_on(conn, id, &on.to_string())?;
    let member_count = i64::try_from(members.len()).unwrap_or(i64::MAX);
    let visible: Vec<(Uuid, String, String)> = members
        .into_iter()
        .filter(|m| scope.contains_path(&m.territory_path))
        .map(|m| (m.id.0, m.name, m.country))
        .collect();
    let ids: Vec<Uuid> = visible.iter().map(|(id, _, _)| *id).collect();
    let loaded = load(conn, &ids, on)?;
    let mut figures = Figures::default();
    let mut schools = Vec::new();
    for (school_id, name, country) in visible {
        let report = assess(school_id, name, &country, &loaded, on, tolerance);
        figures.add(&report.figures);
        schools.push(MemberArticulation {
            school_id,
            school_name: report.school_name,
            plan_ids: report.plan_ids,
            has_pei: report.has_pei,
            figures: report.figures,
        });
    }
    // Which member schools carry each objective.
    let school_of_plan: HashMap<Uuid, Uuid> = loaded
        .plans
        .iter()
        .filter_map(|p| p.school_id.map(|s| (p.id.0, s.0)))
        .collect();
    let mut carriers: HashMap<String, HashSet<Uuid>> = HashMap::new();
    for link in &loaded.links {
        if link.link_type == LinkType::NetworkObjective.as_str()
            && link.target_id.map(|t| t.0) == Some(id)
            && let (Some(objective), Some(school)) =
                (&link.target_text, school_of_plan.get(&link.plan_id.0))
        {
            carriers
                .entry(objective.clone())
                .or_default()
                .insert(*school);
        }
    }
    let mut objectives = Vec::new();
    let mut seen = HashSet::new();
    for objective in crate::routes::links::network_objectives(&network) {
        if !seen.insert(objective.clone()) {
            continue;
        }
        let schools = carriers.get(&objective).map_or(0, HashSet::len);
        objectives.push(ObjectiveCarriage {
            objective,
            schools: i64::try_from(schools).unwrap_or(i64::MAX),
        });
    }
    let objectives_not_carried = objectives
        .iter()
        .filter(|o| o.schools == 0)
        .map(|o| o.objective.clone())
        .collect();
    Ok(NetworkArticulation {
        network_id: id,
        network_name: network.name,
        on,
        member_schools: member_count,
        not_visible: member_count - i64::try_from(schools.len()).unwrap_or(0),
        figures,
        schools,
        objectives,
        objectives_not_carried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn the_expected_execution_is_the_share_of_days_passed() {
        let (starts, ends) = (date("2019-03-01"), date("2019-03-10"));
        assert_eq!(expected_percent(starts, ends, date("2019-02-28")), 0);
        assert_eq!(expected_percent(starts, ends, date("2019-03-01")), 10);
        assert_eq!(expected_percent(starts, ends, date("2019-03-05")), 50);
        assert_eq!(expected_percent(starts, ends, date("2019-03-10")), 100);
        assert_eq!(expected_percent(starts, ends, date("2020-01-01")), 100);
    }

    #[test]
    fn coverage_counts_sellos_and_planes_together() {
        let sellos = Tally {
            total: 2,
            articulated: 1,
        };
        let planes = Tally {
            total: 6,
            articulated: 2,
        };
        assert_eq!(coverage(&sellos, &planes), Some(0.375));
        assert_eq!(coverage(&Tally::default(), &Tally::default()), None);
    }
}
