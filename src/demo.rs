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
    in_write_transaction(conn, |tx| {
        let outcome = load_file(tx, &file, catalogue, &everywhere)?;
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
            reference_data::checksum.eq(format!("{:016x}", fnv1a(DEMO_JSON.as_bytes()))),
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
