//! Demo data: the networks of the source documents (`demo/networks.json`), loaded through the
//! same validation as API requests, with ids derived from each record's `ref` so that loading
//! twice changes nothing.

use std::sync::Arc;

use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::TerritoryScope;
use crate::catalog::Catalogue;
use crate::db::{DbConnection, DbTime, Tx, in_write_transaction};
use crate::error::ApiError;
use crate::repository::{networks, organizations, schools};
use crate::routes::common::checked;
use crate::routes::networks::{MemberInput, NetworkInput};
use crate::routes::organizations::OrganizationInput;
use crate::routes::schools::SchoolInput;
use crate::routes::sessions::SessionInput;
use crate::schema::reference_data;

/// The demo data, embedded.
pub const DEMO_JSON: &str = include_str!("../demo/networks.json");

/// Illustrative PEIs, PMEs with their links and a short-cycle improvement plan for schools of
/// the demo networks.
pub const PLANS_JSON: &str = include_str!("../demo/plans.json");

/// Official indicator values the sources state (the yearly count of Chile's RMEs).
pub const INDICATORS_JSON: &str = include_str!("../demo/indicators.json");

/// The namespace of demo ids (UUIDv5 of `kind:ref`).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b1e_9d4a_4c8e_8f3b_5a7d_2e9c_0b41);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    #[expect(dead_code, reason = "documentation for readers of the file")]
    notes: Vec<String>,
    organizations: Vec<DemoOrganization>,
    schools: Vec<DemoSchool>,
    networks: Vec<DemoNetwork>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoOrganization {
    #[serde(rename = "ref")]
    reference: String,
    kind: String,
    name: String,
    country: String,
    territory: String,
    #[serde(default)]
    secretaria_level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSchool {
    #[serde(rename = "ref")]
    reference: String,
    name: String,
    country: String,
    territory: String,
    dependency: Option<String>,
    sostenedor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoNetwork {
    #[serde(rename = "ref")]
    reference: String,
    name: String,
    kind: String,
    #[expect(dead_code, reason = "follows from the territory")]
    country: String,
    territory: String,
    responsible: Option<String>,
    founded_year: Option<i32>,
    status: String,
    principles_and_needs: Option<String>,
    objective: Option<String>,
    mobilisation: Vec<String>,
    collaboration: Vec<String>,
    learnings: Vec<String>,
    idea_fuerza: Option<String>,
    challenges: Vec<String>,
    members: Vec<DemoMember>,
    /// Sessions described by the sources (for seed 004, groups of encounters with head
    /// counts and no dates).
    sessions: Vec<DemoSession>,
    #[expect(dead_code, reason = "documentation for readers of the file")]
    notes: Vec<String>,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "figures the sources give; shown by summaries later"
    )]
    reported_totals: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSession {
    title: String,
    date: Option<String>,
    /// The year when the source gives only that; the API has no field for it.
    year: Option<i32>,
    modality: Option<String>,
    place: Option<String>,
    /// Where the encounters took place, when the source says; the API has no field for it.
    territory: Option<String>,
    participants: Vec<Value>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoMember {
    #[serde(default)]
    school: Option<String>,
    #[serde(default)]
    organization: Option<String>,
    role: String,
    joined_on: Option<String>,
    left_on: Option<String>,
}

/// What a load did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoOutcome {
    pub organizations: usize,
    pub schools: usize,
    pub networks: usize,
    pub members: usize,
    pub sessions: usize,
    pub peis: usize,
    pub plans: usize,
    pub links: usize,
    pub cycles: usize,
    pub indicator_values: usize,
}

impl DemoOutcome {
    pub fn is_empty(&self) -> bool {
        *self == DemoOutcome::default()
    }
}

fn demo_id(kind: &str, reference: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{reference}").as_bytes())
}

/// The id the demo load gives the network with this `ref` (for tests and documentation).
pub fn network_id(reference: &str) -> Uuid {
    demo_id("network", reference)
}

/// The id the demo load gives the school with this `ref`.
pub fn school_id(reference: &str) -> Uuid {
    demo_id("school", reference)
}

/// The `reference_data` row that says the demo data was loaded once.
const DEMO_NAME: &str = "demo-networks";

/// Loads whatever of the demo data is not in the database yet, in one transaction, and notes
/// that it was loaded (`redes seed-demo`: deleted demo records come back).
pub fn load(conn: &mut DbConnection, catalogue: &Arc<Catalogue>) -> anyhow::Result<DemoOutcome> {
    let file: DemoFile = serde_json::from_str(DEMO_JSON)?;
    let everywhere = TerritoryScope::from_paths(
        ["CL", "CO"]
            .iter()
            .filter_map(|key| catalogue.resolve_str(key))
            .map(|entry| entry.path.clone()),
    );
    let plans: PlansFile = serde_json::from_str(PLANS_JSON)?;
    let indicators: IndicatorsFile = serde_json::from_str(INDICATORS_JSON)?;
    in_write_transaction(conn, |tx| {
        let mut outcome = load_file(tx, &file, catalogue, &everywhere)?;
        load_plans(tx, &plans, &everywhere, &mut outcome)?;
        load_indicator_values(tx, &indicators, catalogue, &everywhere, &mut outcome)?;
        mark_loaded(tx, &file)?;
        Ok(outcome)
    })
    .map_err(|error| anyhow::anyhow!("the demo data does not load: {}", describe(&error)))
}

/// Loads the demo data unless it was loaded before (at start: what a user deleted from the
/// demo stays deleted). `None` when it was.
pub fn load_once(
    conn: &mut DbConnection,
    catalogue: &Arc<Catalogue>,
) -> anyhow::Result<Option<DemoOutcome>> {
    let loaded: Option<String> = reference_data::table
        .filter(reference_data::name.eq(DEMO_NAME))
        .select(reference_data::name)
        .first(conn)
        .optional()?;
    match loaded {
        Some(_) => Ok(None),
        None => load(conn, catalogue).map(Some),
    }
}

fn mark_loaded(tx: &mut Tx<'_>, file: &DemoFile) -> Result<(), ApiError> {
    let records = file.organizations.len()
        + file.schools.len()
        + file.networks.len()
        + file.networks.iter().map(|n| n.members.len()).sum::<usize>()
        + file
            .networks
            .iter()
            .map(|n| n.sessions.len())
            .sum::<usize>();
    diesel::delete(reference_data::table.filter(reference_data::name.eq(DEMO_NAME)))
        .execute(tx.conn())?;
    diesel::insert_into(reference_data::table)
        .values((
            reference_data::name.eq(DEMO_NAME),
            reference_data::checksum.eq(format!(
                "{:016x}",
                fnv1a(format!("{DEMO_JSON}{PLANS_JSON}{INDICATORS_JSON}").as_bytes())
            )),
            reference_data::row_count.eq(i32::try_from(records).unwrap_or(i32::MAX)),
            reference_data::loaded_at.eq(DbTime::now()),
        ))
        .execute(tx.conn())?;
    Ok(())
}

/// A fingerprint of the demo file, to tell versions apart in `reference_data`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The error with its causes: an internal error's message is in its source.
fn describe(error: &ApiError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn load_file(
    tx: &mut Tx<'_>,
    file: &DemoFile,
    catalogue: &Arc<Catalogue>,
    scope: &TerritoryScope,
) -> Result<DemoOutcome, ApiError> {
    let mut outcome = DemoOutcome::default();
    let organization_ctx = crate::routes::organizations::Context {
        catalogue: catalogue.clone(),
        scope: scope.clone(),
    };
    for organization in &file.organizations {
        let id = demo_id("organization", &organization.reference);
        if organizations::find(tx.conn(), id, scope)?.is_some() {
            continue;
        }
        let body = json!({
            "name": organization.name,
            "kind": organization.kind,
            "territory": organization.territory,
            "secretaria_level": organization.secretaria_level,
        });
        let input = checked::<OrganizationInput>("create_organization", &body)
            .map_err(|e| context(e, &organization.reference))?;
        let data = crate::routes::organizations::validate(input, &organization_ctx)
            .map_err(|e| context(e, &organization.reference))?;
        if data.country != organization.country {
            return Err(context(
                ApiError::internal(anyhow::anyhow!("country does not match the territory")),
                &organization.reference,
            ));
        }
        organizations::insert(tx, id, &data)?;
        outcome.organizations += 1;
    }

    let school_ctx = crate::routes::schools::Context {
        catalogue: catalogue.clone(),
        scope: scope.clone(),
    };
    for school in &file.schools {
        let id = demo_id("school", &school.reference);
        if schools::find(tx.conn(), id, scope)?.is_some() {
            continue;
        }
        let body = json!({
            "name": school.name,
            "country": school.country,
            "territory": school.territory,
            "dependency": school.dependency,
            "sostenedor_id": school.sostenedor.as_deref().map(|r| demo_id("organization", r)),
        });
        let input = checked::<SchoolInput>("create_school", &body)
            .map_err(|e| context(e, &school.reference))?;
        let data = crate::routes::schools::validate(input, &school_ctx, tx.conn())
            .map_err(|e| context(e, &school.reference))?;
        schools::insert(tx, id, &data)?;
        outcome.schools += 1;
    }

    let network_ctx = crate::routes::networks::Context {
        catalogue: catalogue.clone(),
        scope: scope.clone(),
    };
    for network in &file.networks {
        let id = demo_id("network", &network.reference);
        let row = match networks::find_unscoped(tx.conn(), id)? {
            Some(row) => row,
            None => {
                let body = json!({
                    "name": network.name,
                    "kind": network.kind,
                    "territory": network.territory,
                    "responsible_id": network.responsible.as_deref().map(|r| demo_id("organization", r)),
                    "founded_year": network.founded_year,
                    "status": network.status,
                    "principles_and_needs": network.principles_and_needs,
                    "objective": network.objective,
                    "mobilisation": network.mobilisation,
                    "collaboration": network.collaboration,
                    "learnings": network.learnings,
                    "idea_fuerza": network.idea_fuerza,
                    "challenges": network.challenges,
                });
                let input = checked::<NetworkInput>("create_network", &body)
                    .map_err(|e| context(e, &network.reference))?;
                let data = crate::routes::networks::validate(input, &network_ctx, tx.conn())
                    .map_err(|e| context(e, &network.reference))?;
                outcome.networks += 1;
                networks::insert(tx, id, &data)?
            }
        };
        for member in &network.members {
            let (member_kind, member_ref) = match (&member.school, &member.organization) {
                (Some(school), None) => ("school", school),
                (None, Some(organization)) => ("organization", organization),
                _ => {
                    return Err(context(
                        ApiError::internal(anyhow::anyhow!("a member must be one thing")),
                        &network.reference,
                    ));
                }
            };
            let member_id = demo_id(
                "member",
                &format!(
                    "{}:{member_kind}:{member_ref}:{}",
                    network.reference, member.role
                ),
            );
            if networks::find_member(tx.conn(), id, member_id)?.is_some() {
                continue;
            }
            let body = json!({
                "school_id": member.school.as_deref().map(|r| demo_id("school", r)),
                "organization_id": member.organization.as_deref().map(|r| demo_id("organization", r)),
                "role": member.role,
                "joined_on": member.joined_on,
                "left_on": member.left_on,
            });
            let input = checked::<MemberInput>("create_network_member", &body)
                .map_err(|e| context(e, &network.reference))?;
            let data = crate::routes::networks::validate_member(
                &input,
                &row,
                None,
                &network_ctx,
                tx.conn(),
            )
            .map_err(|e| context(e, &network.reference))?;
            networks::insert_member(tx, member_id, &row, &data)?;
            outcome.members += 1;
        }
        for session in &network.sessions {
            let session_id = demo_id(
                "session",
                &format!("{}:{}", network.reference, session.title),
            );
            if crate::repository::sessions::find_row(tx.conn(), session_id)?.is_some() {
                continue;
            }
            if session.year.is_some() || session.territory.is_some() {
                return Err(context(
                    ApiError::internal(anyhow::anyhow!(
                        "a session's year or territory has no field in the API: put it in its notes"
                    )),
                    &network.reference,
                ));
            }
            let body = json!({
                "title": session.title,
                "date": session.date,
                "modality": session.modality,
                "status": "held",
                "place": session.place,
                "participant_counts": session.participants,
                "notes": session.notes,
            });
            let input = checked::<SessionInput>("create_network_session", &body)
                .map_err(|e| context(e, &network.reference))?;
            let (data, parts) =
                crate::routes::sessions::validate(input, &row, None, scope, tx.conn())
                    .map_err(|e| context(e, &network.reference))?;
            crate::repository::sessions::insert(tx, session_id, &row, &data, &parts)?;
            outcome.sessions += 1;
        }
    }
    Ok(outcome)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlansFile {
    #[expect(dead_code, reason = "documentation for readers of the file")]
    notes: Vec<String>,
    peis: Vec<DemoPei>,
    cycles: Vec<DemoCycle>,
    plans: Vec<DemoPlan>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPei {
    school: String,
    body: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCycle {
    #[serde(rename = "ref")]
    reference: String,
    school: String,
    body: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPlan {
    #[serde(rename = "ref")]
    reference: String,
    school: String,
    /// A plan body whose objectives name their `dimension` and actions their `subdimensions`
    /// by code in the 2020 management model; the loader puts their ids.
    body: Value,
    links: Vec<DemoLink>,
}

/// A link from an action (or, for `indicator`, a goal) named by its title, to a target named
/// by what the file knows: a sello's name, a plan normativo's code, a network's or a cycle's
/// `ref`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoLink {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    goal: Option<String>,
    #[serde(rename = "type")]
    link_type: String,
    #[serde(default)]
    sello: Option<String>,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    network: Option<String>,
    #[serde(default)]
    cycle: Option<String>,
    #[serde(default)]
    indicator_code: Option<String>,
}

/// The management model the demo plans use (in force for their 2024-2027 period).
const MODEL: (&str, &str) = ("cl-modelo-gestion", "2020");
const PLANES: (&str, &str) = ("cl-planes-normativos", "2020");

/// The demo plan body with the management model's ids for its codes.
fn plan_body(body: &Value, school: Uuid) -> Value {
    let item = |code: &str| crate::repository::catalogues::item_id(MODEL.0, MODEL.1, code);
    let mut body = body.clone();
    body["school_id"] = json!(school);
    body["catalogue_id"] = json!(crate::repository::catalogues::catalogue_id(
        MODEL.0, MODEL.1
    ));
    for objective in body["objectives"].as_array_mut().into_iter().flatten() {
        if let Some(Value::String(code)) = objective
            .as_object_mut()
            .and_then(|o| o.remove("dimension"))
        {
            objective["dimension_id"] = json!(item(&code));
        }
        for goal in objective["goals"].as_array_mut().into_iter().flatten() {
            for strategy in goal["strategies"].as_array_mut().into_iter().flatten() {
                for action in strategy["actions"].as_array_mut().into_iter().flatten() {
                    if let Some(Value::Array(codes)) = action
                        .as_object_mut()
                        .and_then(|a| a.remove("subdimensions"))
                    {
                        let ids: Vec<Uuid> =
                            codes.iter().filter_map(Value::as_str).map(item).collect();
                        action["subdimension_ids"] = json!(ids);
                    }
                }
            }
        }
    }
    body
}

/// Loads the PEIs, improvement cycles and plans (with their links) of schools that have none
/// yet, through the API's validation.
fn load_plans(
    tx: &mut Tx<'_>,
    file: &PlansFile,
    scope: &TerritoryScope,
    outcome: &mut DemoOutcome,
) -> Result<(), ApiError> {
    use crate::repository::{improvement_cycles, pei, plans};
    use crate::routes::improvement_cycles::ImprovementCycleInput;
    use crate::routes::links::LinkInput;
    use crate::routes::pei::PeiInput;
    use crate::routes::plans::PlanInput;

    for demo in &file.peis {
        let school = demo_id("school", &demo.school);
        if pei::current(tx.conn(), school)?.is_some() {
            continue;
        }
        let row = schools::find(tx.conn(), school, scope)?.ok_or_else(|| {
            context(
                ApiError::internal(anyhow::anyhow!("no such school")),
                &demo.school,
            )
        })?;
        let input = checked::<PeiInput>("replace_school_pei", &demo.body)
            .map_err(|e| context(e, &demo.school))?;
        let data =
            crate::routes::pei::validate(input, None).map_err(|e| context(e, &demo.school))?;
        pei::insert_revision(tx, school, &row.territory_path, None, &data)?;
        outcome.peis += 1;
    }
    for demo in &file.cycles {
        let id = demo_id("cycle", &demo.reference);
        if improvement_cycles::find(tx.conn(), id, scope)?.is_some() {
            continue;
        }
        let mut body = demo.body.clone();
        body["school_id"] = json!(demo_id("school", &demo.school));
        let input = checked::<ImprovementCycleInput>("create_improvement_cycle", &body)
            .map_err(|e| context(e, &demo.reference))?;
        let data = crate::routes::improvement_cycles::validate(input, None, scope, tx.conn())
            .map_err(|e| context(e, &demo.reference))?;
        improvement_cycles::insert(tx, id, &data)?;
        outcome.cycles += 1;
    }
    for demo in &file.plans {
        let id = demo_id("plan", &demo.reference);
        if plans::find(tx.conn(), id, scope)?.is_some() {
            continue;
        }
        let school = demo_id("school", &demo.school);
        let body = plan_body(&demo.body, school);
        let input =
            checked::<PlanInput>("create_plan", &body).map_err(|e| context(e, &demo.reference))?;
        let (data, mut items) = crate::routes::plans::validate(input, None, scope, tx.conn())
            .map_err(|e| context(e, &demo.reference))?;
        for item in &mut items {
            item.plan_id = crate::db::DbUuid(id);
        }
        let record = plans::insert(tx, id, &data, items)?;
        outcome.plans += 1;
        let sellos = pei::current(tx.conn(), school)?
            .map(|p| p.sellos)
            .unwrap_or_default();
        for link in &demo.links {
            let (title, level) = match (&link.action, &link.goal) {
                (Some(action), None) => (action, "action"),
                (None, Some(goal)) => (goal, "goal"),
                _ => {
                    return Err(context(
                        ApiError::internal(anyhow::anyhow!(
                            "a link starts from an action or a goal"
                        )),
                        &demo.reference,
                    ));
                }
            };
            let missing = |what: &str| {
                context(
                    ApiError::internal(anyhow::anyhow!("a link names an unknown {what}")),
                    &demo.reference,
                )
            };
            let item = record
                .items
                .iter()
                .find(|i| &i.title == title && i.level == level)
                .ok_or_else(|| missing("item"))?;
            let target = match link.link_type.as_str() {
                "sello" => {
                    let name = link.sello.as_deref().ok_or_else(|| missing("sello"))?;
                    let sello = sellos
                        .iter()
                        .find(|s| s.name == name)
                        .ok_or_else(|| missing("sello"))?;
                    Some(sello.id.0)
                }
                "plan_normativo" => {
                    let code = link
                        .plan
                        .as_deref()
                        .ok_or_else(|| missing("plan normativo"))?;
                    Some(crate::repository::catalogues::item_id(
                        PLANES.0, PLANES.1, code,
                    ))
                }
                "network_objective" => link.network.as_deref().map(|r| demo_id("network", r)),
                "improvement_cycle" => link.cycle.as_deref().map(|r| demo_id("cycle", r)),
                _ => None,
            };
            // A network objective is the network's own, as the demo networks state it.
            let objective = match (link.link_type.as_str(), target) {
                ("network_objective", Some(network)) => {
                    networks::find_unscoped(tx.conn(), network)?.and_then(|n| n.objective)
                }
                _ => None,
            };
            let body = json!({
                "item_id": item.id.0,
                "type": link.link_type,
                "target_id": target,
                "indicator_code": link.indicator_code,
                "objective": objective,
                "valid_from": "2024-03-01",
            });
            let input = checked::<LinkInput>("create_plan_link", &body)
                .map_err(|e| context(e, &demo.reference))?;
            let row = crate::routes::links::validate(input, &record.plan, scope, tx.conn())
                .map_err(|e| context(e, &demo.reference))?;
            plans::insert_link(tx, &row, &record.plan.territory_path)?;
            outcome.links += 1;
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorsFile {
    #[expect(dead_code, reason = "documentation for readers of the file")]
    notes: Vec<String>,
    values: Vec<Value>,
}

/// Loads the official indicator values the sources state, those not recorded yet.
fn load_indicator_values(
    tx: &mut Tx<'_>,
    file: &IndicatorsFile,
    catalogue: &Arc<Catalogue>,
    scope: &TerritoryScope,
    outcome: &mut DemoOutcome,
) -> Result<(), ApiError> {
    use crate::routes::indicators::ValueInput;
    for body in &file.values {
        let name = format!("{}", body["indicator"]);
        let input =
            checked::<ValueInput>("create_indicator_value", body).map_err(|e| context(e, &name))?;
        let (row, _, _) =
            crate::routes::indicators::validate(input, None, catalogue, scope, tx.conn())
                .map_err(|e| context(e, &name))?;
        if crate::repository::indicators::find_by_key(tx.conn(), &row)?.is_some() {
            continue;
        }
        crate::repository::indicators::insert_value(tx, &row)?;
        outcome.indicator_values += 1;
    }
    Ok(())
}

/// An error of one record, named by its `ref`.
fn context(error: ApiError, reference: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("`{reference}`: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_file_reads() {
        let file: DemoFile = serde_json::from_str(DEMO_JSON).expect("demo/networks.json");
        assert_eq!(
            file.networks
                .iter()
                .filter(|n| n.kind == "red_mejoramiento_escolar")
                .count(),
            15
        );
        assert_ne!(network_id("a"), network_id("b"));
        assert_ne!(network_id("a"), school_id("a"));
    }
}
