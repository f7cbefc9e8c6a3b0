//! `/api/v1/improvement-cycles`: short-cycle improvement plans (*planes de mejora de ciclo
//! corto*) in the manner of improvement science (Bryk et al., *Learning to Improve*): a problem
//! of practice, an aim with its measure, a driver, a change idea, and the PDSA cycles (plan,
//! do, study, act) that test it, with the measures' data points. Owned by a school or a
//! network, and scoped through the owner.

use std::collections::HashSet;

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{PlansRead, PlansWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::plan::{CycleStatus, PdsaDecision};
use crate::error::{ApiError, ApiResult, Issue, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::improvement_cycles::{self as repo, CycleData, CycleFilter, CycleRow};
use crate::repository::{NameCursor, UpdateOutcome, networks, schools};
use crate::routes::common::{
    check_patch, checked, created, in_state, merged, not_modified, optional_text, path_id,
    with_etag,
};

/// The aim (*meta*) of a cycle: what will improve, by how much, by when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "statement": "Que los estudiantes de 4° básico mejoren su comprensión lectora.",
    "measure": "Porcentaje de logro en la prueba de comprensión lectora de la red",
    "baseline": 48.0,
    "target": 60.0,
    "unit": "%",
    "due_on": "2024-06-28"
}))]
pub struct Aim {
    /// What will improve, for whom (1-2,000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub statement: String,
    /// How it is measured (1-500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub measure: String,
    /// Where it starts, when known (-1e12 to 1e12).
    #[serde(default)]
    #[schema(minimum = -1e12, maximum = 1e12)]
    pub baseline: Option<f64>,
    /// Where it should get to (-1e12 to 1e12).
    #[schema(minimum = -1e12, maximum = 1e12)]
    pub target: f64,
    /// The unit of `baseline` and `target` (`%`, `estudiantes`, `puntos`; 1-50 characters).
    #[schema(min_length = 1, max_length = 50)]
    pub unit: String,
    /// By when, `YYYY-MM-DD`.
    pub due_on: NaiveDate,
}

/// The *plan* of a PDSA cycle: what it asks, what it predicts, what it measures, who does it
/// and when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "questions": ["¿Aumenta la participación si cada clase parte con una pregunta desafiante?"],
    "predictions": ["Al menos 3 de cada 4 estudiantes responderán la pregunta de inicio."],
    "measures": ["Estudiantes que responden la pregunta de inicio"],
    "who": "Equipo de 4° básico",
    "when": "2024-04-08"
}))]
pub struct PdsaPlan {
    /// Up to 20, of up to 2,000 characters each.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub questions: Vec<String>,
    /// Up to 20, of up to 2,000 characters each.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub predictions: Vec<String>,
    /// What will be measured; up to 20, of up to 2,000 characters each.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub measures: Vec<String>,
    /// Who carries it out (up to 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub who: Option<String>,
    /// When it is carried out, `YYYY-MM-DD`.
    #[serde(default)]
    pub when: Option<NaiveDate>,
}

/// The *do* of a PDSA cycle: what happened when the change was tried.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "observations": "Se aplicó en tres cursos; en uno la pregunta tomó 20 minutos.",
    "carried_out_on": "2024-04-08"
}))]
pub struct PdsaDo {
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub observations: Option<String>,
    /// The day it was tried, `YYYY-MM-DD`.
    #[serde(default)]
    pub carried_out_on: Option<NaiveDate>,
}

/// The *study* of a PDSA cycle: the results, against the predictions, and what was learned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "results": "El 68 % respondió la pregunta de inicio.",
    "compared_with_predictions": "Por debajo de lo previsto (75 %).",
    "learning": "La pregunta debe ser más breve y escrita en la pizarra."
}))]
pub struct PdsaStudy {
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub results: Option<String>,
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub compared_with_predictions: Option<String>,
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub learning: Option<String>,
}

/// The *act* of a PDSA cycle: what is decided about the change, and what comes next.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "decision": "adapt",
    "next_steps": "Probar una pregunta más breve en los mismos tres cursos."
}))]
pub struct PdsaAct {
    pub decision: PdsaDecision,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub next_steps: Option<String>,
}

/// A PDSA cycle (*ciclo PHEA: planificar, hacer, estudiar, actuar*) of an improvement cycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e11",
    "plan": {"questions": ["¿Aumenta la participación con una pregunta de inicio?"],
        "predictions": ["3 de cada 4 estudiantes responderán."], "measures": [],
        "who": "Equipo de 4° básico", "when": "2024-04-08"},
    "do": {"observations": "Se aplicó en tres cursos.", "carried_out_on": "2024-04-08"},
    "study": null,
    "act": null
}))]
pub struct PdsaCycle {
    /// Stable across replacements of the improvement cycle that keep it (give it back in
    /// `PUT`).
    pub id: Uuid,
    pub plan: PdsaPlan,
    /// `null` until the change is tried.
    #[serde(rename = "do")]
    pub do_step: Option<PdsaDo>,
    /// `null` until the results are studied.
    pub study: Option<PdsaStudy>,
    /// `null` until a decision is taken.
    pub act: Option<PdsaAct>,
}

/// A PDSA cycle in a body. With `id` (one of the improvement cycle's), it keeps its id;
/// without, it is new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "plan": {"questions": ["¿Aumenta la participación con una pregunta de inicio?"],
        "predictions": ["3 de cada 4 estudiantes responderán."],
        "who": "Equipo de 4° básico", "when": "2024-04-08"}
}))]
pub struct PdsaCycleInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub plan: PdsaPlan,
    #[serde(default, rename = "do")]
    pub do_step: Option<PdsaDo>,
    #[serde(default)]
    pub study: Option<PdsaStudy>,
    #[serde(default)]
    pub act: Option<PdsaAct>,
}

/// A data point of a measure.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({"on": "2024-04-12", "value": 68.0, "note": "Tres cursos"}))]
pub struct MeasurePoint {
    /// The day measured, `YYYY-MM-DD`; at most one point per day.
    pub on: NaiveDate,
    /// -1e12 to 1e12.
    #[schema(minimum = -1e12, maximum = 1e12)]
    pub value: f64,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A measure the cycle tracks (outcome, process or balancing), with its data over time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e12",
    "name": "Estudiantes que responden la pregunta de inicio",
    "unit": "%",
    "points": [{"on": "2024-04-08", "value": 52.0, "note": null},
        {"on": "2024-04-12", "value": 68.0, "note": "Tres cursos"}]
}))]
pub struct Measure {
    /// Stable across replacements that keep it (give it back in `PUT`).
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    /// By day.
    pub points: Vec<MeasurePoint>,
}

/// A measure in a body. With `id` (one of the improvement cycle's), it keeps its id; without,
/// it is new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Estudiantes que responden la pregunta de inicio",
    "unit": "%",
    "points": [{"on": "2024-04-08", "value": 52.0}]
}))]
pub struct MeasureInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// 1-200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 1-50 characters.
    #[schema(min_length = 1, max_length = 50)]
    pub unit: String,
    /// Up to 500, at most one per day; stored by day.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub points: Option<Vec<MeasurePoint>>,
}

/// A short-cycle improvement plan (*plan de mejora de ciclo corto*) of a school or a network.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e10",
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "network_id": null,
    "title": "Preguntas de inicio en 4° básico",
    "problem_of_practice": "Los estudiantes de 4° básico participan poco en las clases de lenguaje.",
    "aim": {"statement": "Que los estudiantes de 4° básico mejoren su comprensión lectora.",
        "measure": "Porcentaje de logro en la prueba de la red", "baseline": 48.0,
        "target": 60.0, "unit": "%", "due_on": "2024-06-28"},
    "driver": "Participación activa en clases",
    "change_idea": "Iniciar cada clase con una pregunta desafiante",
    "status": "active",
    "pdsa": [],
    "measures": [],
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct ImprovementCycle {
    pub id: Uuid,
    /// The school that owns it, or `null` when a network does.
    pub school_id: Option<Uuid>,
    /// The network that owns it, or `null` when a school does.
    pub network_id: Option<Uuid>,
    pub title: String,
    /// The problem of practice (*problema de práctica*) it addresses.
    pub problem_of_practice: String,
    pub aim: Aim,
    /// The primary driver (*impulsor*) the change acts on.
    pub driver: String,
    /// The change idea (*idea de cambio*) being tested.
    pub change_idea: String,
    pub status: CycleStatus,
    /// Its PDSA cycles, in order.
    pub pdsa: Vec<PdsaCycle>,
    /// The measures it tracks, in order.
    pub measures: Vec<Measure>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/improvement-cycles` and of `PUT /api/v1/improvement-cycles/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "title": "Preguntas de inicio en 4° básico",
    "problem_of_practice": "Los estudiantes de 4° básico participan poco en las clases de lenguaje.",
    "aim": {"statement": "Que los estudiantes de 4° básico mejoren su comprensión lectora.",
        "measure": "Porcentaje de logro en la prueba de la red", "baseline": 48,
        "target": 60, "unit": "%", "due_on": "2024-06-28"},
    "driver": "Participación activa en clases",
    "change_idea": "Iniciar cada clase con una pregunta desafiante",
    "status": "active",
    "pdsa": [{"plan": {"questions": ["¿Aumenta la participación con una pregunta de inicio?"],
        "predictions": ["3 de cada 4 estudiantes responderán."],
        "who": "Equipo de 4° básico", "when": "2024-04-08"}}],
    "measures": [{"name": "Estudiantes que responden la pregunta de inicio", "unit": "%",
        "points": [{"on": "2024-04-08", "value": 52}]}]
}))]
pub struct ImprovementCycleInput {
    /// The owner school, one the caller sees; exactly one of `school_id` and `network_id`.
    #[serde(default)]
    pub school_id: Option<Uuid>,
    /// The owner network, one whose own territory is the caller's; exactly one of
    /// `school_id` and `network_id`.
    #[serde(default)]
    pub network_id: Option<Uuid>,
    /// 1-200 characters, not blank; trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// 1-5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub problem_of_practice: String,
    pub aim: Aim,
    /// 1-2,000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub driver: String,
    /// 1-2,000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub change_idea: String,
    /// `active` when absent.
    #[serde(default)]
    pub status: Option<CycleStatus>,
    /// Up to 50, each id at most once.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub pdsa: Option<Vec<PdsaCycleInput>>,
    /// Up to 20, each id at most once.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub measures: Option<Vec<MeasureInput>>,
}

/// The body of `PATCH /api/v1/improvement-cycles/{id}`: a JSON merge patch (lists replaced
/// whole). To move the cycle to another owner, set the new one and `null` the other.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"status": "completed"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct ImprovementCyclePatch {
    school_id: Option<Uuid>,
    network_id: Option<Uuid>,
    #[schema(min_length = 1, max_length = 200)]
    title: Option<String>,
    #[schema(min_length = 1, max_length = 5000)]
    problem_of_practice: Option<String>,
    aim: Option<Aim>,
    #[schema(min_length = 1, max_length = 2000)]
    driver: Option<String>,
    #[schema(min_length = 1, max_length = 2000)]
    change_idea: Option<String>,
    status: Option<CycleStatus>,
    #[schema(max_items = 50)]
    pdsa: Option<Vec<PdsaCycleInput>>,
    #[schema(max_items = 20)]
    measures: Option<Vec<MeasureInput>>,
}

fn texts(items: Vec<String>) -> Vec<String> {
    items
        .iter()
        .map(|item| text(item))
        .filter(|item| !item.is_empty())
        .collect()
}

/// Assigns the ids of a body's list items: a given id must be one of `own` (the resource's
/// current items), each at most once; an item without one gets a new id.
fn stable_ids(
    v: &mut Validator,
    list: &str,
    given: impl Iterator<Item = Option<Uuid>>,
    own: &HashSet<Uuid>,
) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    given
        .enumerate()
        .map(|(index, id)| {
            let id = match id {
                Some(id) if !own.contains(&id) => {
                    v.issue(format!("/{list}/{index}/id"), IssueKind::UnknownReference);
                    id
                }
                Some(id) => id,
                None => Uuid::now_v7(),
            };
            if !seen.insert(id) {
                v.issue(format!("/{list}/{index}/id"), IssueKind::Duplicate);
            }
            id
        })
        .collect()
}

/// The rules of a cycle no schema can state: the owner is a school the caller sees or a
/// network whose own territory is the caller's; PDSA and measure ids are the cycle's own,
/// each once; a measure has at most one point per day. `current` is the cycle being replaced.
pub fn validate(
    input: ImprovementCycleInput,
    current: Option<&ImprovementCycle>,
    scope: &TerritoryScope,
    conn: &mut DbConnection,
) -> ApiResult<CycleData> {
    let mut v = Validator::new();
    let mut territory_path = None;
    match (input.school_id, input.network_id) {
        (Some(school), None) => match schools::find(conn, school, scope)? {
            Some(row) => territory_path = Some(row.territory_path),
            None => v.issue("/school_id", IssueKind::UnknownReference),
        },
        (None, Some(network)) => match networks::find(conn, network, scope)? {
            Some(row) if scope.contains_path(&row.territory_path) => {
                territory_path = Some(row.territory_path);
            }
            Some(_) => v.issue("/network_id", IssueKind::ForeignTerritory),
            None => v.issue("/network_id", IssueKind::UnknownReference),
        },
        // The schema requires exactly one; this is its mirror for a body that got past it.
        _ => v.issue("/school_id", IssueKind::Required),
    }
    let own_pdsa: HashSet<Uuid> = current
        .map(|c| c.pdsa.iter().map(|p| p.id).collect())
        .unwrap_or_default();
    let own_measures: HashSet<Uuid> = current
        .map(|c| c.measures.iter().map(|m| m.id).collect())
        .unwrap_or_default();
    let pdsa_input = input.pdsa.unwrap_or_default();
    let measure_input = input.measures.unwrap_or_default();
    let pdsa_ids = stable_ids(&mut v, "pdsa", pdsa_input.iter().map(|p| p.id), &own_pdsa);
    let measure_ids = stable_ids(
        &mut v,
        "measures",
        measure_input.iter().map(|m| m.id),
        &own_measures,
    );
    let mut measures = Vec::with_capacity(measure_input.len());
    for ((index, measure), id) in measure_input.into_iter().enumerate().zip(measure_ids) {
        let mut days = HashSet::new();
        let mut points = measure.points.unwrap_or_default();
        for (at, point) in points.iter().enumerate() {
            if !days.insert(point.on) {
                v.issue(
                    format!("/measures/{index}/points/{at}/on"),
                    IssueKind::Duplicate,
                );
            }
        }
        points.sort_by_key(|p| p.on);
        measures.push(Measure {
            id,
            name: text(&measure.name),
            unit: text(&measure.unit),
            points: points
                .into_iter()
                .map(|p| MeasurePoint {
                    note: optional_text(p.note.as_deref()),
                    ..p
                })
                .collect(),
        });
    }
    v.finish()?;
    let territory_path = territory_path.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("a validated cycle has no owner territory"))
    })?;
    let pdsa: Vec<PdsaCycle> = pdsa_input
        .into_iter()
        .zip(pdsa_ids)
        .map(|(p, id)| PdsaCycle {
            id,
            plan: PdsaPlan {
                questions: texts(p.plan.questions),
                predictions: texts(p.plan.predictions),
                measures: texts(p.plan.measures),
                who: optional_text(p.plan.who.as_deref()),
                when: p.plan.when,
            },
            do_step: p.do_step.map(|d| PdsaDo {
                observations: optional_text(d.observations.as_deref()),
                carried_out_on: d.carried_out_on,
            }),
            study: p.study.map(|s| PdsaStudy {
                results: optional_text(s.results.as_deref()),
                compared_with_predictions: optional_text(s.compared_with_predictions.as_deref()),
                learning: optional_text(s.learning.as_deref()),
            }),
            act: p.act.map(|a| PdsaAct {
                decision: a.decision,
                next_steps: optional_text(a.next_steps.as_deref()),
            }),
        })
        .collect();
    let aim = Aim {
        statement: text(&input.aim.statement),
        measure: text(&input.aim.measure),
        unit: text(&input.aim.unit),
        ..input.aim
    };
    Ok(CycleData {
        school_id: input.school_id.map(DbUuid),
        network_id: input.network_id.map(DbUuid),
        territory_path,
        title: text(&input.title),
        problem_of_practice: text(&input.problem_of_practice),
        aim: to_json(&aim)?,
        driver: text(&input.driver),
        change_idea: text(&input.change_idea),
        status: input
            .status
            .unwrap_or(CycleStatus::Active)
            .as_str()
            .to_owned(),
        pdsa: to_json(&pdsa)?,
        measures: to_json(&measures)?,
    })
}

/// The JSON text a column holds.
fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

impl ImprovementCycle {
    fn from_row(row: CycleRow) -> ApiResult<ImprovementCycle> {
        let id = row.id.0;
        let corrupt = |what: &str| {
            ApiError::internal(anyhow::anyhow!("improvement cycle {id} has a bad {what}"))
        };
        Ok(ImprovementCycle {
            id,
            school_id: row.school_id.map(|s| s.0),
            network_id: row.network_id.map(|n| n.0),
            aim: serde_json::from_str(&row.aim).map_err(|_| corrupt("aim"))?,
            status: row.status.parse().map_err(|()| corrupt("status"))?,
            pdsa: serde_json::from_str(&row.pdsa).map_err(|_| corrupt("pdsa"))?,
            measures: serde_json::from_str(&row.measures).map_err(|_| corrupt("measures"))?,
            title: row.title,
            problem_of_practice: row.problem_of_practice,
            driver: row.driver,
            change_idea: row.change_idea,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    /// The writable fields, as a body: what a PATCH is merged into.
    fn as_input(&self) -> Value {
        json!({
            "school_id": self.school_id,
            "network_id": self.network_id,
            "title": self.title,
            "problem_of_practice": self.problem_of_practice,
            "aim": self.aim,
            "driver": self.driver,
            "change_idea": self.change_idea,
            "status": self.status,
            "pdsa": self.pdsa,
            "measures": self.measures,
        })
    }
}

/// A page of improvement cycles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct ImprovementCyclePage {
    pub items: Vec<ImprovementCycle>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/improvement-cycles`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImprovementCycleListParams {
    /// Only this school's cycles.
    pub school_id: Option<Uuid>,
    /// Only this network's cycles.
    pub network_id: Option<Uuid>,
    /// Only these statuses (repeatable).
    #[param(inline)]
    pub status: Option<Vec<CycleStatus>>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &["school_id", "network_id", "status", "limit", "cursor"];

/// List improvement cycles.
///
/// The short-cycle improvement plans of the schools and networks the caller sees, in the
/// order they were created. Filter by owner school or network and by status.
#[utoipa::path(
    tag = "plans",
    operation_id = "list_improvement_cycles",
    params(ImprovementCycleListParams),
    responses(
        (status = 200, description = "A page of improvement cycles.", body = ImprovementCyclePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/improvement-cycles")]
pub async fn list_improvement_cycles(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    db: web::Data<Db>,
) -> ApiResult<Json<ImprovementCyclePage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let statuses: Vec<CycleStatus> = reader.choices("status", CycleStatus::NAMES);
    let filter = CycleFilter {
        school_id: reader.uuid("school_id"),
        network_id: reader.uuid("network_id"),
        statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
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
    let (rows, next) = into_page(rows, &page, |row| NameCursor::encode("", row.id.0));
    Ok(Json(ImprovementCyclePage {
        items: rows
            .into_iter()
            .map(ImprovementCycle::from_row)
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Create an improvement cycle.
///
/// Of a school the caller sees or of a network whose own territory is the caller's, with its
/// aim, PDSA cycles and measures. Answers 201 with the cycle, its `Location` and `ETag`.
#[utoipa::path(
    tag = "plans",
    operation_id = "create_improvement_cycle",
    request_body(content = ImprovementCycleInput, description = "The improvement cycle."),
    responses(
        (status = 201, description = "Created.", body = ImprovementCycle,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The improvement cycle's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[post("/improvement-cycles")]
pub async fn create_improvement_cycle(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let input = checked::<ImprovementCycleInput>("create_improvement_cycle", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .write(move |tx| {
            let data = validate(input, None, &scope, tx.conn())?;
            Ok(repo::insert(tx, Uuid::now_v7(), &data)?)
        })
        .await?;
    let version = row.version;
    let cycle = ImprovementCycle::from_row(row)?;
    Ok(created(
        format!("/api/v1/improvement-cycles/{}", cycle.id),
        version,
        &cycle,
    ))
}

/// Get an improvement cycle.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_improvement_cycle",
    params(("id" = Uuid, Path, description = "The improvement cycle's id.")),
    responses(
        (status = 200, description = "The improvement cycle.", body = ImprovementCycle,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/improvement-cycles/{id}")]
pub async fn get_improvement_cycle(
    auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::ImprovementCycle, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .read_short(move |conn| Ok(repo::find(conn, id, &scope)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::ImprovementCycle, id))?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &ImprovementCycle::from_row(row)?,
    ))
}

/// The cycle, for a write: 404 when the caller does not see it, 403 when the caller sees it
/// only through one of its network's member schools.
fn writable_cycle(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> ApiResult<CycleRow> {
    let row = repo::find(conn, id, scope)?
        .ok_or_else(|| ApiError::not_found(Resource::ImprovementCycle, id))?;
    if !scope.contains_path(&row.territory_path) {
        return Err(ApiError::ForeignTerritory(vec![Issue::body(
            "/network_id",
            IssueKind::ForeignTerritory,
        )]));
    }
    Ok(row)
}

/// Replaces (PUT) or merges (PATCH) a cycle.
async fn update(
    auth: Authorized<PlansWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::ImprovementCycle, raw_id)?;
    let replacement = if merge {
        check_patch("update_improvement_cycle", &body)?;
        None
    } else {
        Some(checked::<ImprovementCycleInput>(
            "replace_improvement_cycle",
            &body,
        )?)
    };
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .write(move |tx| {
            let current = writable_cycle(tx.conn(), id, &scope)?;
            preconditions.check_write(current.version)?;
            let document = ImprovementCycle::from_row(current.clone())?;
            let data = match replacement {
                Some(input) => validate(input, Some(&document), &scope, tx.conn())?,
                None => {
                    let input: ImprovementCycleInput =
                        merged("replace_improvement_cycle", document.as_input(), &body)?;
                    in_state(validate(input, Some(&document), &scope, tx.conn()))?
                }
            };
            match repo::update(tx, &current, &data)? {
                UpdateOutcome::Done(row) => Ok(row),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &ImprovementCycle::from_row(row)?,
    ))
}

/// Replace an improvement cycle.
///
/// The whole cycle, as in `POST`; PDSA cycles and measures that keep their `id` stay the same
/// ones. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "replace_improvement_cycle",
    params(("id" = Uuid, Path, description = "The improvement cycle's id.")),
    request_body(content = ImprovementCycleInput, description = "The improvement cycle, whole."),
    responses(
        (status = 200, description = "Replaced.", body = ImprovementCycle,
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
    security(("bearer" = ["plans:write"]))
)]
#[put("/improvement-cycles/{id}")]
pub async fn replace_improvement_cycle(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), false, preconditions, db).await
}

/// Change an improvement cycle.
///
/// A JSON merge patch (RFC 7396): the fields given replace (lists whole), `null` removes an
/// optional field; typically `{"status": "completed"}`. With `If-Match`, answers 412 if it
/// changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "update_improvement_cycle",
    params(("id" = Uuid, Path, description = "The improvement cycle's id.")),
    request_body(content = ImprovementCyclePatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = ImprovementCycle,
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
    security(("bearer" = ["plans:write"]))
)]
#[patch("/improvement-cycles/{id}")]
pub async fn update_improvement_cycle(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), true, preconditions, db).await
}

/// Delete an improvement cycle.
///
/// With its PDSA cycles and measures; 409 while a plan's action is linked to it (end or
/// delete the link first). With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "delete_improvement_cycle",
    params(("id" = Uuid, Path, description = "The improvement cycle's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[delete("/improvement-cycles/{id}")]
pub async fn delete_improvement_cycle(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::ImprovementCycle, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = writable_cycle(tx.conn(), id, &scope)?;
        preconditions.check_write(current.version)?;
        // A plan's action linked to it: end or delete that link first.
        if crate::repository::plans::is_link_target(tx.conn(), id)? {
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
