//! `/api/v1/plans`: one model for a Chilean school's PME and its planes normativos, a
//! Colombian school's PMI and a Secretaría's PAM. Each is a plan with a period, a phase, a
//! self-assessment against a management catalogue, and a tree: strategic objective → goal →
//! strategy → action. Scoped through its owner (the school or the Secretaría).

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{PlansRead, PlansWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::organization::OrganizationKind;
use crate::domain::plan::{
    ActionStatus, CatalogueKind, FundingSource, ItemLevel, PlanItemLevel, PlanKind, PlanPhase,
};
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::plans::{self as repo, ItemRow, PlanData, PlanFilter, PlanRecord, PlanRow};
use crate::repository::{NameCursor, UpdateOutcome, catalogues, organizations, schools};
use crate::routes::common::{
    check_patch, checked, created, immutable, in_state, merged, not_modified, optional_text,
    path_id, with_etag,
};

/// The most items (objectives, goals, strategies and actions together) a plan may have.
pub const MAX_ITEMS: usize = 2000;

/// Money for an action, from one source, in the country's currency (CLP or COP).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"source": "sep", "amount": 1200000}))]
pub struct Funding {
    pub source: FundingSource,
    /// Whole pesos, 0 or more.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
}

/// An annual action (a PMI's *actividad*).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a2d",
    "title": "Pasantías pedagógicas entre liceos de la red",
    "description": null,
    "responsible_role": "Jefe/a de UTP",
    "starts_on": "2019-04-01",
    "ends_on": "2019-11-29",
    "resources": "Traslado y colación",
    "funding": [{"source": "sep", "amount": 1200000}],
    "means_of_verification": ["Registro de pasantías"],
    "status": "in_progress",
    "executed_percent": 40,
    "subdimension_ids": []
}))]
pub struct Action {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// Who is responsible, by role (`Jefe/a de UTP`, `Equipo de convivencia`).
    pub responsible_role: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// The resources it needs.
    pub resources: Option<String>,
    pub funding: Vec<Funding>,
    /// How its execution is verified (*medios de verificación*).
    pub means_of_verification: Vec<String>,
    pub status: ActionStatus,
    /// How much of it is done, 0-100.
    pub executed_percent: i32,
    /// The subdimensions (a PMI's processes) of the plan's catalogue it works on.
    pub subdimension_ids: Vec<Uuid>,
}

/// A strategy: how a goal is pursued, through actions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a2c", "title": "Trabajo colaborativo entre docentes", "actions": []}))]
pub struct Strategy {
    pub id: Uuid,
    pub title: String,
    pub actions: Vec<Action>,
}

/// A strategic goal (*meta estratégica*), measured by an indicator.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a1c", "title": "Aumentar la asistencia promedio", "indicator": "Asistencia promedio anual", "baseline": 86.0, "target": 90.0, "unit": "%", "strategies": []}))]
pub struct Goal {
    pub id: Uuid,
    pub title: String,
    /// The indicator that measures it, as the school states it.
    pub indicator: Option<String>,
    pub baseline: Option<f64>,
    pub target: Option<f64>,
    /// The unit of `baseline` and `target` (`%`, `puntos SIMCE`).
    pub unit: Option<String>,
    pub strategies: Vec<Strategy>,
}

/// A strategic objective, in a dimension (a PMI's área de gestión) of the plan's catalogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0c", "title": "Fortalecer las prácticas pedagógicas", "dimension_id": null, "goals": []}))]
pub struct Objective {
    pub id: Uuid,
    pub title: String,
    pub dimension_id: Option<Uuid>,
    pub goals: Vec<Goal>,
}

/// A self-assessed level of one subdimension (a PMI's process).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"item_id": "3f0c1f8e-8a3b-5c55-9d0e-1b2c3d4e5f60", "level": 2}))]
pub struct Assessment {
    pub item_id: Uuid,
    /// 1-4. Chile: 1 instalar, 2 mejorar, 3 consolidar, 4 articular. Colombia: 1 existencia,
    /// 2 pertinencia, 3 apropiación, 4 mejoramiento continuo.
    #[serde(deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 1, maximum = 4)]
    pub level: i32,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "kind": "pme",
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "organization_id": null,
    "country": "CL",
    "title": "PME 2019-2022",
    "period_from": 2019,
    "period_to": 2022,
    "phase": "implementation",
    "catalogue_id": "7d5bb1e0-4c3b-5f4e-9a57-36c1d5a0c2f1",
    "normative_plan_id": null,
    "self_assessment": [],
    "objectives": [],
    "version": 1,
    "created_at": "2026-11-24T05:00:00.123456Z",
    "updated_at": "2026-11-24T05:00:00.123456Z"
}))]
pub struct Plan {
    pub id: Uuid,
    pub kind: PlanKind,
    /// The school, for a PME, PMI or plan normativo.
    pub school_id: Option<Uuid>,
    /// The Secretaría, for a PAM.
    pub organization_id: Option<Uuid>,
    /// `CL` or `CO`; amounts are in its pesos.
    pub country: String,
    pub title: String,
    /// The first school year it covers.
    pub period_from: i32,
    /// The last school year it covers.
    pub period_to: i32,
    pub phase: Option<PlanPhase>,
    /// The management catalogue its dimensions and subdimensions are from.
    pub catalogue_id: Uuid,
    /// For a plan normativo: which one (an item of the planes normativos catalogue).
    pub normative_plan_id: Option<Uuid>,
    pub self_assessment: Vec<Assessment>,
    /// The tree: objectives → goals → strategies → actions.
    pub objectives: Vec<Objective>,
    pub version: i64,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// An action in a plan body. With `id` (one of this plan's actions) it stays that action, and
/// its links stay; without, it is new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Pasantías pedagógicas entre liceos de la red",
    "responsible_role": "Jefe/a de UTP",
    "starts_on": "2019-04-01",
    "ends_on": "2019-11-29",
    "funding": [{"source": "sep", "amount": 1200000}],
    "means_of_verification": ["Registro de pasantías"],
    "status": "in_progress",
    "executed_percent": 40
}))]
pub struct ActionInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// 1-500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub responsible_role: Option<String>,
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    /// Not before `starts_on`.
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub resources: Option<String>,
    /// Up to 10.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub funding: Option<Vec<Funding>>,
    /// Up to 20 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub means_of_verification: Option<Vec<String>>,
    /// `planned` when absent.
    #[serde(default)]
    pub status: Option<ActionStatus>,
    /// 0-100; 0 when absent.
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(minimum = 0, maximum = 100)]
    pub executed_percent: Option<i32>,
    /// Subdimensions (processes) of the plan's catalogue, each once; up to 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub subdimension_ids: Option<Vec<Uuid>>,
}

/// A strategy in a plan body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Trabajo colaborativo entre docentes", "actions": []}))]
pub struct StrategyInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// 1-500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Up to 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub actions: Option<Vec<ActionInput>>,
}

/// A goal in a plan body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Aumentar la asistencia promedio",
    "indicator": "Asistencia promedio anual",
    "baseline": 86.0, "target": 90.0, "unit": "%",
    "strategies": []
}))]
pub struct GoalInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// 1-500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub indicator: Option<String>,
    #[serde(default)]
    pub baseline: Option<f64>,
    #[serde(default)]
    pub target: Option<f64>,
    /// Up to 50 characters.
    #[serde(default)]
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    /// Up to 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub strategies: Option<Vec<StrategyInput>>,
}

/// A strategic objective in a plan body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Fortalecer las prácticas pedagógicas",
    "dimension_id": "3f0c1f8e-8a3b-5c55-9d0e-1b2c3d4e5f60",
    "goals": []
}))]
pub struct ObjectiveInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// 1-500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// A dimension or area of the plan's catalogue.
    #[serde(default)]
    pub dimension_id: Option<Uuid>,
    /// Up to 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub goals: Option<Vec<GoalInput>>,
}

/// The body of `POST /api/v1/plans` and `PUT /api/v1/plans/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "kind": "pme",
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "title": "PME 2019-2022",
    "period_from": 2019,
    "period_to": 2022,
    "phase": "implementation",
    "objectives": [{
        "title": "Fortalecer las prácticas pedagógicas",
        "goals": [{
            "title": "Aumentar la asistencia promedio",
            "indicator": "Asistencia promedio anual",
            "baseline": 86.0, "target": 90.0, "unit": "%",
            "strategies": [{
                "title": "Trabajo colaborativo entre docentes",
                "actions": [{"title": "Pasantías pedagógicas entre liceos de la red",
                    "starts_on": "2019-04-01", "ends_on": "2019-11-29"}]
            }]
        }]
    }]
}))]
pub struct PlanInput {
    pub kind: PlanKind,
    /// The school, for a PME, PMI or plan normativo.
    #[serde(default)]
    pub school_id: Option<Uuid>,
    /// The Secretaría, for a PAM.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// 1-200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// 1900-2100.
    #[serde(deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 1900, maximum = 2100, example = 2019)]
    pub period_from: i32,
    /// 1900-2100; a PME, PMI or PAM covers at most 4 years, a plan normativo one.
    #[serde(deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 1900, maximum = 2100, example = 2022)]
    pub period_to: i32,
    #[serde(default)]
    pub phase: Option<PlanPhase>,
    /// A management-model catalogue (Chile) or áreas de gestión catalogue (Colombia) of the
    /// plan's country; when absent, the one in force in `period_from` (else the latest).
    #[serde(default)]
    pub catalogue_id: Option<Uuid>,
    /// For a plan normativo (required then): an item of the planes normativos catalogue.
    #[serde(default)]
    pub normative_plan_id: Option<Uuid>,
    /// Subdimension (process) → level; each item once; up to 100.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub self_assessment: Option<Vec<Assessment>>,
    /// Up to 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub objectives: Option<Vec<ObjectiveInput>>,
}

/// The body of `PATCH /api/v1/plans/{id}`: a JSON merge patch of the plan (lists, the tree
/// included, replaced whole).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"phase": "evaluation"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct PlanPatch {
    #[schema(min_length = 1, max_length = 200)]
    title: Option<String>,
    #[schema(minimum = 1900, maximum = 2100)]
    period_from: Option<i32>,
    #[schema(minimum = 1900, maximum = 2100)]
    period_to: Option<i32>,
    phase: Option<PlanPhase>,
    catalogue_id: Option<Uuid>,
    normative_plan_id: Option<Uuid>,
    #[schema(max_items = 100)]
    self_assessment: Option<Vec<Assessment>>,
    #[schema(max_items = 20)]
    objectives: Option<Vec<ObjectiveInput>>,
}

/// What an item stores besides its columns, as JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    responsible_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resources: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    funding: Vec<Funding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    means_of_verification: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subdimension_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
}

/// The catalogue items a plan may name: by id, their level.
struct CatalogueView {
    levels: HashMap<Uuid, String>,
}

impl CatalogueView {
    fn is(&self, id: Uuid, levels: &[ItemLevel]) -> bool {
        self.levels
            .get(&id)
            .is_some_and(|level| levels.iter().any(|l| l.as_str() == level))
    }
}

const DIMENSION_LEVELS: &[ItemLevel] = &[ItemLevel::Dimension, ItemLevel::Area];
const SUBDIMENSION_LEVELS: &[ItemLevel] = &[ItemLevel::Subdimension, ItemLevel::Process];

/// The plan's management catalogue: the one named, else the one in force in the plan's first
/// year, else the latest. `None` (after an issue) when the named one does not fit.
fn plan_catalogue(
    v: &mut Validator,
    conn: &mut DbConnection,
    input: &PlanInput,
) -> ApiResult<Option<catalogues::CatalogueRow>> {
    let country = input.kind.country().as_str();
    let kind = match input.kind.country() {
        crate::domain::Country::Cl => CatalogueKind::ManagementModel,
        crate::domain::Country::Co => CatalogueKind::AreasDeGestion,
    };
    if let Some(id) = input.catalogue_id {
        return Ok(match catalogues::find(conn, id)? {
            Some(row) if row.kind == kind.as_str() && row.country == country => Some(row),
            Some(_) => {
                v.issue(
                    "/catalogue_id",
                    IssueKind::WrongKind {
                        allowed: vec![kind.as_str()],
                    },
                );
                None
            }
            None => {
                v.issue("/catalogue_id", IssueKind::UnknownReference);
                None
            }
        });
    }
    let candidates = catalogues::list(conn, Some(kind.as_str()), Some(country))?;
    let in_force = candidates.iter().rev().find(|c| {
        c.valid_from.is_none_or(|from| from <= input.period_from)
            && c.valid_to.is_none_or(|to| input.period_from <= to)
    });
    let chosen = in_force.or(candidates.last()).cloned();
    if chosen.is_none() {
        return Err(ApiError::internal(anyhow::anyhow!(
            "no {} catalogue for {country}",
            kind.as_str()
        )));
    }
    Ok(chosen)
}

/// Validates a plan body: its owner (in the caller's scope, of the plan's country), period,
/// catalogue references and tree. `current` is the plan being replaced. Returns the plan's
/// row data and its items in tree order.
pub fn validate(
    input: PlanInput,
    current: Option<&PlanRecord>,
    scope: &TerritoryScope,
    conn: &mut DbConnection,
) -> ApiResult<(PlanData, Vec<ItemRow>)> {
    let mut v = Validator::new();
    let country = input.kind.country();
    if let Some(current) = current {
        if current.plan.kind != input.kind.as_str() {
            return Err(immutable("/kind"));
        }
        if current.plan.school_id.map(|s| s.0) != input.school_id {
            return Err(immutable("/school_id"));
        }
        if current.plan.organization_id.map(|o| o.0) != input.organization_id {
            return Err(immutable("/organization_id"));
        }
    }

    // The owner: a school for a PME, PMI or plan normativo; a Secretaría for a PAM.
    let mut territory_path = None;
    match (
        input.kind.school_owned(),
        input.school_id,
        input.organization_id,
    ) {
        (true, Some(id), None) => match schools::find(conn, id, scope)? {
            Some(school) if school.country == country.as_str() => {
                territory_path = Some(school.territory_path);
            }
            Some(_) => v.issue(
                "/school_id",
                IssueKind::WrongCountry {
                    country: country.as_str(),
                },
            ),
            None => v.issue("/school_id", IssueKind::UnknownReference),
        },
        (false, None, Some(id)) => match organizations::find(conn, id, scope)? {
            Some(org) if org.kind == OrganizationKind::Secretaria.as_str() => {
                territory_path = Some(org.territory_path);
            }
            Some(_) => v.issue(
                "/organization_id",
                IssueKind::WrongKind {
                    allowed: vec![OrganizationKind::Secretaria.as_str()],
                },
            ),
            None => v.issue("/organization_id", IssueKind::UnknownReference),
        },
        (true, _, _) => {
            if input.school_id.is_none() {
                v.issue("/school_id", IssueKind::Required);
            }
            if input.organization_id.is_some() {
                v.issue("/organization_id", IssueKind::NotApplicable);
            }
        }
        (false, _, _) => {
            if input.organization_id.is_none() {
                v.issue("/organization_id", IssueKind::Required);
            }
            if input.school_id.is_some() {
                v.issue("/school_id", IssueKind::NotApplicable);
            }
        }
    }

    // The period.
    if input.period_to < input.period_from {
        v.issue(
            "/period_to",
            IssueKind::NotAfter {
                field: "period_from",
            },
        );
    } else if input.period_to - input.period_from >= input.kind.max_years() {
        v.issue(
            "/period_to",
            IssueKind::OutOfRange {
                min: i64::from(input.period_from),
                max: i64::from(input.period_from + input.kind.max_years() - 1),
            },
        );
    }

    // A plan normativo names which; the others do not.
    let mut normative = None;
    match (input.kind, input.normative_plan_id) {
        (PlanKind::PlanNormativo, None) => v.issue("/normative_plan_id", IssueKind::Required),
        (PlanKind::PlanNormativo, Some(id)) => {
            let planes = catalogues::list(
                conn,
                Some(CatalogueKind::PlanesNormativos.as_str()),
                Some(country.as_str()),
            )?;
            let items = catalogues::items_of(conn, planes.iter().map(|c| c.id).collect())?;
            let known = items
                .values()
                .flatten()
                .any(|item| item.id.0 == id && item.level == ItemLevel::Plan.as_str());
            if known {
                normative = Some(DbUuid(id));
            } else {
                v.issue("/normative_plan_id", IssueKind::UnknownReference);
            }
        }
        (_, Some(_)) => v.issue("/normative_plan_id", IssueKind::NotApplicable),
        (_, None) => {}
    }

    // Another plan of the same kind (and plan normativo) covering one of the same years.
    if let (Some(_), true) = (&territory_path, input.period_from <= input.period_to) {
        let overlapping = repo::overlapping(
            conn,
            input.kind.as_str(),
            input.school_id.or(input.organization_id),
            normative,
            (input.period_from, input.period_to),
            current.map(|c| c.plan.id),
        )?;
        if overlapping {
            v.issue("/period_from", IssueKind::OverlappingPlan);
        }
    }

    let catalogue = plan_catalogue(&mut v, conn, &input)?;
    let view = CatalogueView {
        levels: match &catalogue {
            Some(c) => catalogues::items_of(conn, vec![c.id])?
                .remove(&c.id.0)
                .unwrap_or_default()
                .into_iter()
                .map(|item| (item.id.0, item.level))
                .collect(),
            None => HashMap::new(),
        },
    };
    let check_catalogue = catalogue.is_some();

    // The self-assessment: subdimensions of the catalogue, each once.
    let mut assessed = HashSet::new();
    let mut assessment = Vec::new();
    for (index, entry) in input
        .self_assessment
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if check_catalogue && !view.is(entry.item_id, SUBDIMENSION_LEVELS) {
            v.issue(
                format!("/self_assessment/{index}/item_id"),
                IssueKind::UnknownReference,
            );
        }
        if !assessed.insert(entry.item_id) {
            v.issue(
                format!("/self_assessment/{index}/item_id"),
                IssueKind::Duplicate,
            );
        }
        assessment.push(Assessment {
            item_id: entry.item_id,
            level: entry.level,
            note: optional_text(entry.note.as_deref()),
        });
    }

    let plan_id = current.map_or(DbUuid(Uuid::nil()), |c| c.plan.id);
    let mut tree = TreeBuilder {
        v: &mut v,
        plan_id,
        own: current
            .map(|c| {
                c.items
                    .iter()
                    .map(|item| (item.id.0, item.level.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        seen: HashSet::new(),
        items: Vec::new(),
        view: &view,
        check_catalogue,
    };
    for (o, objective) in input.objectives.unwrap_or_default().into_iter().enumerate() {
        tree.objective(o, objective);
    }
    let items = tree.items;
    if items.len() > MAX_ITEMS {
        v.issue(
            "/objectives",
            IssueKind::OutOfRange {
                min: 0,
                max: i64::try_from(MAX_ITEMS).unwrap_or(i64::MAX),
            },
        );
    }
    v.finish()?;
    let (Some(territory_path), Some(catalogue)) = (territory_path, catalogue) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a plan passed validation without owner or catalogue"
        )));
    };
    Ok((
        PlanData {
            kind: input.kind.as_str().to_owned(),
            school_id: input.school_id.map(DbUuid),
            organization_id: input.organization_id.map(DbUuid),
            country: country.as_str().to_owned(),
            territory_path,
            title: text(&input.title),
            period_from: input.period_from,
            period_to: input.period_to,
            phase: input.phase.map(|p| p.as_str().to_owned()),
            catalogue_id: catalogue.id,
            normative_item_id: normative,
            self_assessment: serde_json::to_string(&assessment).map_err(ApiError::internal)?,
        },
        items,
    ))
}

/// Walks a plan body's tree into rows, in tree order, checking ids and catalogue references.
struct TreeBuilder<'a> {
    v: &'a mut Validator,
    plan_id: DbUuid,
    /// The current plan's items: id → level.
    own: HashMap<Uuid, String>,
    seen: HashSet<Uuid>,
    items: Vec<ItemRow>,
    view: &'a CatalogueView,
    check_catalogue: bool,
}

impl TreeBuilder<'_> {
    /// The item's id: the given one if it is one of the plan's items at this level, else new.
    fn id(&mut self, pointer: &str, given: Option<Uuid>, level: PlanItemLevel) -> Uuid {
        let id = match given {
            Some(id) if self.own.get(&id).is_none_or(|l| l != level.as_str()) => {
                self.v
                    .issue(format!("{pointer}/id"), IssueKind::UnknownReference);
                id
            }
            Some(id) => id,
            None => Uuid::now_v7(),
        };
        if !self.seen.insert(id) {
            self.v.issue(format!("{pointer}/id"), IssueKind::Duplicate);
        }
        id
    }

    fn push(
        &mut self,
        id: Uuid,
        parent: Option<Uuid>,
        level: PlanItemLevel,
        title: &str,
    ) -> &mut ItemRow {
        let ordinal = i32::try_from(self.items.len()).unwrap_or(i32::MAX);
        self.items.push(ItemRow {
            id: DbUuid(id),
            plan_id: self.plan_id,
            parent_id: parent.map(DbUuid),
            level: level.as_str().to_owned(),
            ordinal,
            title: text(title),
            catalogue_item_id: None,
            indicator: None,
            starts_on: None,
            ends_on: None,
            status: None,
            executed_percent: None,
            detail: "{}".to_owned(),
        });
        let last = self.items.len() - 1;
        &mut self.items[last]
    }

    fn objective(&mut self, o: usize, input: ObjectiveInput) {
        let pointer = format!("/objectives/{o}");
        let id = self.id(&pointer, input.id, PlanItemLevel::Objective);
        if let Some(dimension) = input.dimension_id
            && self.check_catalogue
            && !self.view.is(dimension, DIMENSION_LEVELS)
        {
            self.v.issue(
                format!("{pointer}/dimension_id"),
                IssueKind::UnknownReference,
            );
        }
        let row = self.push(id, None, PlanItemLevel::Objective, &input.title);
        row.catalogue_item_id = input.dimension_id.map(DbUuid);
        for (g, goal) in input.goals.unwrap_or_default().into_iter().enumerate() {
            self.goal(&format!("{pointer}/goals/{g}"), id, goal);
        }
    }

    fn goal(&mut self, pointer: &str, parent: Uuid, input: GoalInput) {
        let id = self.id(pointer, input.id, PlanItemLevel::Goal);
        let detail = Detail {
            baseline: input.baseline,
            target: input.target,
            unit: optional_text(input.unit.as_deref()),
            ..Detail::default()
        };
        let detail = serde_json::to_string(&detail).unwrap_or_else(|_| "{}".to_owned());
        let row = self.push(id, Some(parent), PlanItemLevel::Goal, &input.title);
        row.indicator = optional_text(input.indicator.as_deref());
        row.detail = detail;
        for (s, strategy) in input.strategies.unwrap_or_default().into_iter().enumerate() {
            let pointer = format!("{pointer}/strategies/{s}");
            let strategy_id = self.id(&pointer, strategy.id, PlanItemLevel::Strategy);
            self.push(
                strategy_id,
                Some(id),
                PlanItemLevel::Strategy,
                &strategy.title,
            );
            for (a, action) in strategy.actions.unwrap_or_default().into_iter().enumerate() {
                self.action(&format!("{pointer}/actions/{a}"), strategy_id, action);
            }
        }
    }

    fn action(&mut self, pointer: &str, parent: Uuid, input: ActionInput) {
        let id = self.id(pointer, input.id, PlanItemLevel::Action);
        if let (Some(starts), Some(ends)) = (input.starts_on, input.ends_on)
            && ends < starts
        {
            self.v.issue(
                format!("{pointer}/ends_on"),
                IssueKind::NotAfter { field: "starts_on" },
            );
        }
        let subdimensions = input.subdimension_ids.unwrap_or_default();
        let mut distinct = HashSet::new();
        for (index, item) in subdimensions.iter().enumerate() {
            if self.check_catalogue && !self.view.is(*item, SUBDIMENSION_LEVELS) {
                self.v.issue(
                    format!("{pointer}/subdimension_ids/{index}"),
                    IssueKind::UnknownReference,
                );
            }
            if !distinct.insert(*item) {
                self.v.issue(
                    format!("{pointer}/subdimension_ids/{index}"),
                    IssueKind::Duplicate,
                );
            }
        }
        let detail = Detail {
            description: optional_text(input.description.as_deref()),
            responsible_role: optional_text(input.responsible_role.as_deref()),
            resources: optional_text(input.resources.as_deref()),
            funding: input.funding.unwrap_or_default(),
            means_of_verification: input
                .means_of_verification
                .unwrap_or_default()
                .iter()
                .map(|m| text(m))
                .filter(|m| !m.is_empty())
                .collect(),
            subdimension_ids: subdimensions,
            ..Detail::default()
        };
        let detail = serde_json::to_string(&detail).unwrap_or_else(|_| "{}".to_owned());
        let row = self.push(id, Some(parent), PlanItemLevel::Action, &input.title);
        row.starts_on = input.starts_on.map(|d| d.to_string());
        row.ends_on = input.ends_on.map(|d| d.to_string());
        row.status = Some(
            input
                .status
                .unwrap_or(ActionStatus::Planned)
                .as_str()
                .to_owned(),
        );
        row.executed_percent = Some(input.executed_percent.unwrap_or(0));
        row.detail = detail;
    }
}

fn corrupt(plan: Uuid, what: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("plan {plan} has bad {what}"))
}

fn parse<T: std::str::FromStr>(plan: Uuid, what: &str, value: &str) -> ApiResult<T> {
    value.parse().map_err(|_| corrupt(plan, what))
}

fn parse_day(plan: Uuid, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    value
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| corrupt(plan, "date")))
        .transpose()
}

impl Plan {
    pub fn from_record(record: PlanRecord) -> ApiResult<Plan> {
        let PlanRecord { plan, items } = record;
        let id = plan.id.0;
        let mut children: HashMap<Option<Uuid>, Vec<ItemRow>> = HashMap::new();
        for item in items {
            children
                .entry(item.parent_id.map(|p| p.0))
                .or_default()
                .push(item);
        }
        let roots = children.remove(&None).unwrap_or_default();
        let mut take = |parent: Uuid| children.remove(&Some(parent)).unwrap_or_default();
        let mut objectives = Vec::new();
        for objective in roots {
            let mut goals = Vec::new();
            for goal in take(objective.id.0) {
                let detail: Detail =
                    serde_json::from_str(&goal.detail).map_err(|_| corrupt(id, "detail"))?;
                let mut strategies = Vec::new();
                for strategy in take(goal.id.0) {
                    let mut actions = Vec::new();
                    for action in take(strategy.id.0) {
                        let detail: Detail = serde_json::from_str(&action.detail)
                            .map_err(|_| corrupt(id, "detail"))?;
                        actions.push(Action {
                            id: action.id.0,
                            title: action.title,
                            description: detail.description,
                            responsible_role: detail.responsible_role,
                            starts_on: parse_day(id, action.starts_on.as_deref())?,
                            ends_on: parse_day(id, action.ends_on.as_deref())?,
                            resources: detail.resources,
                            funding: detail.funding,
                            means_of_verification: detail.means_of_verification,
                            status: parse(
                                id,
                                "status",
                                action.status.as_deref().unwrap_or("planned"),
                            )?,
                            executed_percent: action.executed_percent.unwrap_or(0),
                            subdimension_ids: detail.subdimension_ids,
                        });
                    }
                    strategies.push(Strategy {
                        id: strategy.id.0,
                        title: strategy.title,
                        actions,
                    });
                }
                goals.push(Goal {
                    id: goal.id.0,
                    title: goal.title,
                    indicator: goal.indicator,
                    baseline: detail.baseline,
                    target: detail.target,
                    unit: detail.unit,
                    strategies,
                });
            }
            objectives.push(Objective {
                id: objective.id.0,
                title: objective.title,
                dimension_id: objective.catalogue_item_id.map(|c| c.0),
                goals,
            });
        }
        Ok(Plan {
            id,
            kind: parse(id, "kind", &plan.kind)?,
            school_id: plan.school_id.map(|s| s.0),
            organization_id: plan.organization_id.map(|o| o.0),
            country: plan.country,
            title: plan.title,
            period_from: plan.period_from,
            period_to: plan.period_to,
            phase: plan
                .phase
                .as_deref()
                .map(|p| parse(id, "phase", p))
                .transpose()?,
            catalogue_id: plan.catalogue_id.0,
            normative_plan_id: plan.normative_item_id.map(|n| n.0),
            self_assessment: serde_json::from_str(&plan.self_assessment)
                .map_err(|_| corrupt(id, "self_assessment"))?,
            objectives,
            version: plan.version,
            created_at: plan.created_at.get(),
            updated_at: plan.updated_at.get(),
        })
    }

    /// The plan as a body for `PUT`, the base a merge patch applies to.
    fn as_input(&self) -> ApiResult<Value> {
        let mut value = serde_json::to_value(self).map_err(ApiError::internal)?;
        if let Value::Object(object) = &mut value {
            for field in ["id", "country", "version", "created_at", "updated_at"] {
                object.remove(field);
            }
        }
        Ok(value)
    }
}

/// A plan in a list: its own fields and how many items of each level it has.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b", "kind": "pme",
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828", "organization_id": null,
    "country": "CL", "title": "PME 2019-2022", "period_from": 2019, "period_to": 2022,
    "phase": "implementation", "normative_plan_id": null,
    "objectives": 2, "goals": 4, "strategies": 6, "actions": 12,
    "version": 3, "updated_at": "2026-11-24T05:00:00.123456Z"
}))]
pub struct PlanSummary {
    pub id: Uuid,
    pub kind: PlanKind,
    pub school_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub country: String,
    pub title: String,
    pub period_from: i32,
    pub period_to: i32,
    pub phase: Option<PlanPhase>,
    pub normative_plan_id: Option<Uuid>,
    pub objectives: i64,
    pub goals: i64,
    pub strategies: i64,
    pub actions: i64,
    pub version: i64,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// A page of plans.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct PlanPage {
    pub items: Vec<PlanSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of `GET /api/v1/plans`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListParams {
    /// Only these kinds (repeatable).
    #[param(inline)]
    pub kind: Option<Vec<PlanKind>>,
    /// Only this school's plans.
    pub school_id: Option<Uuid>,
    /// Only this Secretaría's plans.
    pub organization_id: Option<Uuid>,
    /// Only plans whose period covers this year.
    #[param(minimum = 1900, maximum = 2100, example = 2019)]
    pub year: Option<i32>,
    /// Only plans whose owner is in this territory's subtree (key or id).
    #[param(example = "CL-01")]
    pub territory: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &[
    "kind",
    "school_id",
    "organization_id",
    "year",
    "territory",
    "limit",
    "cursor",
];

/// List plans.
///
/// The plans whose owner is in the caller's territories, oldest first, without their trees
/// (get a plan for its tree), with how many items of each level each has.
#[utoipa::path(
    tag = "plans",
    operation_id = "list_plans",
    params(PlanListParams),
    responses(
        (status = 200, description = "A page of plans.", body = PlanPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/plans")]
pub async fn list_plans(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<PlanPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let kinds: Vec<PlanKind> = reader.choices("kind", PlanKind::NAMES);
    let filter = PlanFilter {
        kinds: kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        school_id: reader.uuid("school_id"),
        organization_id: reader.uuid("organization_id"),
        year: reader
            .integer("year", 1900, 2100)
            .and_then(|y| i32::try_from(y).ok()),
        territory_path: reader
            .territory("territory", &catalogue)
            .map(|t| t.path.clone()),
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
    let (rows, counts) = db
        .read(move |conn| {
            let rows = repo::list(conn, &filter, &scope)?;
            let counts = repo::item_counts(conn, rows.iter().map(|r| r.id).collect())?;
            Ok((rows, counts))
        })
        .await?;
    let (rows, next) = into_page(rows, &page, |r| NameCursor::encode("", r.id.0));
    let count = |plan: Uuid, level: PlanItemLevel| {
        counts
            .get(&(plan, level.as_str().to_owned()))
            .copied()
            .unwrap_or(0)
    };
    let items = rows
        .into_iter()
        .map(|row| {
            let id = row.id.0;
            Ok(PlanSummary {
                id,
                kind: parse(id, "kind", &row.kind)?,
                school_id: row.school_id.map(|s| s.0),
                organization_id: row.organization_id.map(|o| o.0),
                country: row.country,
                title: row.title,
                period_from: row.period_from,
                period_to: row.period_to,
                phase: row
                    .phase
                    .as_deref()
                    .map(|p| parse(id, "phase", p))
                    .transpose()?,
                normative_plan_id: row.normative_item_id.map(|n| n.0),
                objectives: count(id, PlanItemLevel::Objective),
                goals: count(id, PlanItemLevel::Goal),
                strategies: count(id, PlanItemLevel::Strategy),
                actions: count(id, PlanItemLevel::Action),
                version: row.version,
                updated_at: row.updated_at.get(),
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(PlanPage {
        items,
        next_cursor: next,
    }))
}

/// Create a plan.
///
/// A PME, PMI or plan normativo of a school, or a PAM of a Secretaría, in the caller's
/// territories, with its tree. Answers 201 with the plan, its `Location` and `ETag`.
#[utoipa::path(
    tag = "plans",
    operation_id = "create_plan",
    request_body(content = PlanInput, description = "The plan."),
    responses(
        (status = 201, description = "Created.", body = Plan,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The plan's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[post("/plans")]
pub async fn create_plan(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let input = checked::<PlanInput>("create_plan", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .write(move |tx| {
            let (data, mut items) = validate(input, None, &scope, tx.conn())?;
            let id = Uuid::now_v7();
            for item in &mut items {
                item.plan_id = DbUuid(id);
            }
            Ok(repo::insert(tx, id, &data, items)?)
        })
        .await?;
    let version = record.plan.version;
    let plan = Plan::from_record(record)?;
    Ok(created(
        format!("/api/v1/plans/{}", plan.id),
        version,
        &plan,
    ))
}

/// Get a plan.
///
/// With its whole tree and its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_plan",
    params(("id" = Uuid, Path, description = "The plan's id.")),
    responses(
        (status = 200, description = "The plan.", body = Plan,
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
#[get("/plans/{id}")]
pub async fn get_plan(
    auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Plan, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .read(move |conn| match repo::find(conn, id, &scope)? {
            Some(row) => Ok(Some(repo::with_items(conn, row)?)),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Plan, id))?;
    let version = record.plan.version;
    if preconditions.not_modified(version) {
        return Ok(not_modified(version));
    }
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Plan::from_record(record)?,
    ))
}

/// Replaces (PUT) or merges (PATCH) a plan.
async fn update(
    auth: Authorized<PlansWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Plan, raw_id)?;
    let replacement = if merge {
        check_patch("update_plan", &body)?;
        None
    } else {
        Some(checked::<PlanInput>("replace_plan", &body)?)
    };
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .write(move |tx| {
            let row = repo::find(tx.conn(), id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Plan, id))?;
            preconditions.check_write(row.version)?;
            let current = repo::with_items(tx.conn(), row)?;
            let (data, items) = match replacement {
                Some(input) => validate(input, Some(&current), &scope, tx.conn())?,
                None => {
                    let document = Plan::from_record(current.clone())?.as_input()?;
                    let input: PlanInput = merged("replace_plan", document, &body)?;
                    in_state(validate(input, Some(&current), &scope, tx.conn()))?
                }
            };
            let kept = items.iter().map(|i| i.id).collect();
            if repo::dropped_items_linked_elsewhere(tx.conn(), id, kept)? {
                return Err(ApiError::InUse);
            }
            match repo::update(tx, &current.plan, &data, items)? {
                UpdateOutcome::Done(record) => Ok(record),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = record.plan.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Plan::from_record(record)?,
    ))
}

/// Replace a plan.
///
/// The whole plan with its tree. Items given back with their `id` stay the same items, with
/// their links; items left out are removed with their links (409 if another plan links to
/// one). `kind` and the owner cannot change. With `If-Match`, answers 412 if the plan changed
/// since.
#[utoipa::path(
    tag = "plans",
    operation_id = "replace_plan",
    params(("id" = Uuid, Path, description = "The plan's id.")),
    request_body(content = PlanInput, description = "The plan, whole."),
    responses(
        (status = 200, description = "Replaced.", body = Plan,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
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
#[put("/plans/{id}")]
pub async fn replace_plan(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), false, preconditions, db).await
}

/// Change a plan.
///
/// A JSON merge patch (RFC 7396) of the plan; lists, the tree included, are replaced whole.
/// With `If-Match`, answers 412 if the plan changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "update_plan",
    params(("id" = Uuid, Path, description = "The plan's id.")),
    request_body(content = PlanPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = Plan,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
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
#[patch("/plans/{id}")]
pub async fn update_plan(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), true, preconditions, db).await
}

/// Delete a plan.
///
/// With its tree and its own links. 409 while another plan links to one of its items (a PAM
/// supporting this PMI). With `If-Match`, answers 412 if the plan changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "delete_plan",
    params(("id" = Uuid, Path, description = "The plan's id.")),
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
    security(("bearer" = ["plans:write"]))
)]
#[delete("/plans/{id}")]
pub async fn delete_plan(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Plan, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let row = repo::find(tx.conn(), id, &scope)?
            .ok_or_else(|| ApiError::not_found(Resource::Plan, id))?;
        preconditions.check_write(row.version)?;
        if repo::is_linked_from_elsewhere(tx.conn(), id)? {
            return Err(ApiError::InUse);
        }
        match repo::delete(tx, &row)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The plan's row for handlers of its links: 404 when the caller does not see it.
pub fn visible_plan(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> ApiResult<PlanRow> {
    repo::find(conn, id, scope)?.ok_or_else(|| ApiError::not_found(Resource::Plan, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_without_fields_is_an_empty_object() {
        assert_eq!(
            serde_json::to_string(&Detail::default()).expect("serialises"),
            "{}"
        );
        let detail: Detail = serde_json::from_str("{}").expect("reads");
        assert!(detail.funding.is_empty());
    }

    #[test]
    fn plans_of_each_kind_belong_to_one_country() {
        assert_eq!(PlanKind::Pme.country(), crate::domain::Country::Cl);
        assert_eq!(PlanKind::Pam.country(), crate::domain::Country::Co);
        assert!(!PlanKind::Pam.school_owned());
        assert_eq!(PlanKind::PlanNormativo.max_years(), 1);
    }
}
