//! The raw figures behind the platform's own indicators (`REDES_*`), read from the sessions,
//! agreements and plans tables, grouped in the database: one statement per figure and period,
//! whatever the number of networks or schools.

use std::collections::HashMap;

use diesel::dsl::{count_star, sum};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbUuid};
use crate::repository::scoped;
use crate::schema::{
    networks, plan_items, plans, session_agreements, session_attendance,
    session_participant_counts, sessions,
};

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    sessions::network_id,
    sessions::modality,
    networks::territory_path,
    session_attendance::status,
);

/// A network and the territory path it counts in.
pub type NetworkKey = (Uuid, String);

/// Held sessions dated in `[start, end]`, by network and modality (`None`: not stated).
pub fn sessions_held(
    conn: &mut DbConnection,
    (start, end): (&str, &str),
    scope: &TerritoryScope,
) -> QueryResult<Vec<(NetworkKey, Option<String>, i64)>> {
    let rows: Vec<(DbUuid, String, Option<String>, i64)> = sessions::table
        .inner_join(networks::table)
        .filter(scoped::within(networks::territory_path, scope))
        .filter(sessions::status.eq("held"))
        .filter(sessions::date.ge(start.to_owned()))
        .filter(sessions::date.le(end.to_owned()))
        .group_by((
            sessions::network_id,
            networks::territory_path,
            sessions::modality,
        ))
        .select((
            sessions::network_id,
            networks::territory_path,
            sessions::modality,
            count_star(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, path, modality, n)| ((id.0, path), modality, n))
        .collect())
}

/// Attendance records of the held sessions dated in `[start, end]`, by network and status
/// (`present`, `absent`, `excused`).
pub fn attendance(
    conn: &mut DbConnection,
    (start, end): (&str, &str),
    scope: &TerritoryScope,
) -> QueryResult<Vec<(NetworkKey, String, i64)>> {
    let rows: Vec<(DbUuid, String, String, i64)> = session_attendance::table
        .inner_join(sessions::table.inner_join(networks::table))
        .filter(scoped::within(networks::territory_path, scope))
        .filter(sessions::status.eq("held"))
        .filter(sessions::date.ge(start.to_owned()))
        .filter(sessions::date.le(end.to_owned()))
        .group_by((
            sessions::network_id,
            networks::territory_path,
            session_attendance::status,
        ))
        .select((
            sessions::network_id,
            networks::territory_path,
            session_attendance::status,
            count_star(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, path, status, n)| ((id.0, path), status, n))
        .collect())
}

/// The head counts of people (not of schools) of the held sessions dated in `[start, end]`, by
/// network: people counted; people counted where the invited are stated; the invited.
pub fn head_counts(
    conn: &mut DbConnection,
    (start, end): (&str, &str),
    scope: &TerritoryScope,
) -> QueryResult<Vec<(NetworkKey, i64, i64, i64)>> {
    macro_rules! counts {
        () => {
            session_participant_counts::table
                .inner_join(sessions::table.inner_join(networks::table))
                .filter(scoped::within(networks::territory_path, scope))
                .filter(sessions::status.eq("held"))
                .filter(sessions::date.ge(start.to_owned()))
                .filter(sessions::date.le(end.to_owned()))
                .filter(session_participant_counts::unit.eq("people"))
                .group_by((sessions::network_id, networks::territory_path))
        };
    }
    let all: Vec<(DbUuid, String, Option<i64>)> = counts!()
        .select((
            sessions::network_id,
            networks::territory_path,
            sum(session_participant_counts::count),
        ))
        .load(conn)?;
    let with_invited: Vec<(DbUuid, String, Option<i64>, Option<i64>)> = counts!()
        .filter(session_participant_counts::invited.is_not_null())
        .select((
            sessions::network_id,
            networks::territory_path,
            sum(session_participant_counts::count),
            sum(session_participant_counts::invited),
        ))
        .load(conn)?;
    let with_invited: HashMap<Uuid, (i64, i64)> = with_invited
        .into_iter()
        .map(|(id, _, present, invited)| (id.0, (present.unwrap_or(0), invited.unwrap_or(0))))
        .collect();
    Ok(all
        .into_iter()
        .map(|(id, path, counted)| {
            let (present, invited) = with_invited.get(&id.0).copied().unwrap_or((0, 0));
            ((id.0, path), counted.unwrap_or(0), present, invited)
        })
        .collect())
}

/// An agreement that fell due in a period, with what decides whether it was met on time.
#[derive(Debug, Clone)]
pub struct DueAgreement {
    pub network: NetworkKey,
    pub due_on: String,
    pub status: String,
    /// The day it was done, when recorded.
    pub done_on: Option<String>,
    /// The date of the session that followed it up, if any and dated.
    pub followed_up_on: Option<String>,
}

/// The agreements of the networks in scope whose due date falls in `[start, end]` and not
/// after `until`, except the dropped ones: two statements.
pub fn due_agreements(
    conn: &mut DbConnection,
    (start, end): (&str, &str),
    until: &str,
    scope: &TerritoryScope,
) -> QueryResult<Vec<DueAgreement>> {
    let last = if until < end { until } else { end };
    /// Network, its path, due date, status, the session that followed it up, done on.
    type Row = (
        DbUuid,
        String,
        Option<String>,
        String,
        Option<DbUuid>,
        Option<String>,
    );
    let rows: Vec<Row> = session_agreements::table
        .inner_join(sessions::table.inner_join(networks::table))
        .filter(scoped::within(networks::territory_path, scope))
        .filter(session_agreements::due_on.ge(start.to_owned()))
        .filter(session_agreements::due_on.le(last.to_owned()))
        .filter(session_agreements::status.ne("dropped"))
        .select((
            sessions::network_id,
            networks::territory_path,
            session_agreements::due_on,
            session_agreements::status,
            session_agreements::followed_up_in,
            session_agreements::done_on,
        ))
        .load(conn)?;
    let follow_ups: Vec<DbUuid> = rows.iter().filter_map(|r| r.4).collect();
    let dates: HashMap<DbUuid, Option<String>> = if follow_ups.is_empty() {
        HashMap::new()
    } else {
        sessions::table
            .filter(sessions::id.eq_any(follow_ups))
            .select((sessions::id, sessions::date))
            .load::<(DbUuid, Option<String>)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .filter_map(|(network, path, due_on, status, followed, done_on)| {
            Some(DueAgreement {
                network: (network.0, path),
                due_on: due_on?,
                status,
                done_on,
                followed_up_on: followed.and_then(|f| dates.get(&f).cloned().flatten()),
            })
        })
        .collect())
}

/// An action of a school's PME or PMI.
#[derive(Debug, Clone)]
pub struct PlanAction {
    pub school: Uuid,
    pub country: String,
    pub territory_path: String,
    /// `pme` or `pmi`.
    pub plan_kind: String,
    pub starts_on: Option<String>,
    pub status: Option<String>,
    pub executed_percent: Option<i32>,
}

/// The actions of the PMEs and PMIs in scope whose period covers `year`: one statement.
pub fn plan_actions(
    conn: &mut DbConnection,
    year: i32,
    scope: &TerritoryScope,
) -> QueryResult<Vec<PlanAction>> {
    type Row = (
        Option<DbUuid>,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<i32>,
    );
    let rows: Vec<Row> = plan_items::table
        .inner_join(plans::table)
        .filter(scoped::within(plans::territory_path, scope))
        .filter(plans::kind.eq_any(["pme", "pmi"]))
        .filter(plans::school_id.is_not_null())
        .filter(plans::period_from.le(year))
        .filter(plans::period_to.ge(year))
        .filter(plan_items::level.eq("action"))
        .select((
            plans::school_id,
            plans::country,
            plans::territory_path,
            plans::kind,
            plan_items::starts_on,
            plan_items::status,
            plan_items::executed_percent,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(school, country, territory_path, plan_kind, starts_on, status, executed_percent)| {
                Some(PlanAction {
                    school: school?.0,
                    country,
                    territory_path,
                    plan_kind,
                    starts_on,
                    status,
                    executed_percent,
                })
            },
        )
        .collect())
}

/// The schools in scope with a PME or PMI whose period covers `year`: (school, country,
/// territory path), each once.
pub fn schools_with_plans(
    conn: &mut DbConnection,
    year: i32,
    scope: &TerritoryScope,
) -> QueryResult<Vec<(Uuid, String, String)>> {
    let rows: Vec<(Option<DbUuid>, String, String)> = plans::table
        .filter(scoped::within(plans::territory_path, scope))
        .filter(plans::kind.eq_any(["pme", "pmi"]))
        .filter(plans::school_id.is_not_null())
        .filter(plans::period_from.le(year))
        .filter(plans::period_to.ge(year))
        .select((plans::school_id, plans::country, plans::territory_path))
        .distinct()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(school, country, path)| Some((school?.0, country, path)))
        .collect())
}
