//! Schools' PEIs, one row per revision (the history), with their sellos.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::repository::changes::{Change, Operation};
use crate::schema::{pei_revisions, pei_sellos};

pub const RESOURCE: &str = "pei";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = pei_revisions)]
pub struct RevisionRow {
    #[serde(skip)]
    pub id: DbUuid,
    #[serde(skip)]
    pub school_id: DbUuid,
    pub revision: i64,
    pub period_from: i32,
    pub period_to: i32,
    pub vision: Option<String>,
    pub mission: Option<String>,
    pub principles: String,
    pub school_values: String,
    pub profiles: String,
    #[serde(skip)]
    pub created_at: DbTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = pei_sellos)]
pub struct SelloRow {
    pub revision_id: DbUuid,
    pub id: DbUuid,
    pub ordinal: i32,
    pub name: String,
    pub description: Option<String>,
}

/// The content of a revision, validated; lists and profiles as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeiData {
    pub period_from: i32,
    pub period_to: i32,
    pub vision: Option<String>,
    pub mission: Option<String>,
    pub principles: String,
    pub school_values: String,
    pub profiles: String,
    /// Sello id, name, description, in order.
    pub sellos: Vec<(Uuid, String, Option<String>)>,
}

/// A revision with its sellos, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeiRecord {
    pub revision: RevisionRow,
    pub sellos: Vec<SelloRow>,
}

fn with_sellos(
    conn: &mut DbConnection,
    revisions: Vec<RevisionRow>,
) -> QueryResult<Vec<PeiRecord>> {
    if revisions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<DbUuid> = revisions.iter().map(|r| r.id).collect();
    let rows: Vec<SelloRow> = pei_sellos::table
        .select(SelloRow::as_select())
        .filter(pei_sellos::revision_id.eq_any(ids))
        .order((pei_sellos::revision_id.asc(), pei_sellos::ordinal.asc()))
        .load(conn)?;
    let mut by_revision: HashMap<Uuid, Vec<SelloRow>> = HashMap::new();
    for row in rows {
        by_revision.entry(row.revision_id.0).or_default().push(row);
    }
    Ok(revisions
        .into_iter()
        .map(|revision| PeiRecord {
            sellos: by_revision.remove(&revision.id.0).unwrap_or_default(),
            revision,
        })
        .collect())
}

/// The school's current PEI: its latest revision.
pub fn current(conn: &mut DbConnection, school_id: Uuid) -> QueryResult<Option<PeiRecord>> {
    let latest: Option<RevisionRow> = pei_revisions::table
        .select(RevisionRow::as_select())
        .filter(pei_revisions::school_id.eq(DbUuid(school_id)))
        .order(pei_revisions::revision.desc())
        .first(conn)
        .optional()?;
    Ok(with_sellos(conn, latest.into_iter().collect())?.pop())
}

/// A page of the school's revisions, newest first, before revision `before` when given.
pub fn history(
    conn: &mut DbConnection,
    school_id: Uuid,
    before: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<PeiRecord>> {
    let mut query = pei_revisions::table
        .select(RevisionRow::as_select())
        .filter(pei_revisions::school_id.eq(DbUuid(school_id)))
        .order(pei_revisions::revision.desc())
        .limit(fetch)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(pei_revisions::revision.lt(before));
    }
    let rows = query.load(conn)?;
    with_sellos(conn, rows)
}

/// Writes a new revision after `previous` (the first when `None`), in the change journal as
/// the school's PEI created or updated.
pub fn insert_revision(
    tx: &mut Tx<'_>,
    school_id: Uuid,
    territory_path: &str,
    previous: Option<&RevisionRow>,
    data: &PeiData,
) -> QueryResult<PeiRecord> {
    let id = Uuid::now_v7();
    let revision = previous.map_or(1, |p| p.revision + 1);
    let now = DbTime::now();
    diesel::insert_into(pei_revisions::table)
        .values((
            pei_revisions::id.eq(DbUuid(id)),
            pei_revisions::school_id.eq(DbUuid(school_id)),
            pei_revisions::revision.eq(revision),
            pei_revisions::period_from.eq(data.period_from),
            pei_revisions::period_to.eq(data.period_to),
            pei_revisions::vision.eq(&data.vision),
            pei_revisions::mission.eq(&data.mission),
            pei_revisions::principles.eq(&data.principles),
            pei_revisions::school_values.eq(&data.school_values),
            pei_revisions::profiles.eq(&data.profiles),
            pei_revisions::created_at.eq(now),
        ))
        .execute(tx.conn())?;
    let sellos: Vec<SelloRow> = data
        .sellos
        .iter()
        .zip(0..)
        .map(|((sello, name, description), ordinal)| SelloRow {
            revision_id: DbUuid(id),
            id: DbUuid(*sello),
            ordinal,
            name: name.clone(),
            description: description.clone(),
        })
        .collect();
    for row in &sellos {
        diesel::insert_into(pei_sellos::table)
            .values(row)
            .execute(tx.conn())?;
    }
    let revision = RevisionRow {
        id: DbUuid(id),
        school_id: DbUuid(school_id),
        revision,
        period_from: data.period_from,
        period_to: data.period_to,
        vision: data.vision.clone(),
        mission: data.mission.clone(),
        principles: data.principles.clone(),
        school_values: data.school_values.clone(),
        profiles: data.profiles.clone(),
        created_at: now,
    };
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id: school_id,
            operation: if previous.is_some() {
                Operation::Updated
            } else {
                Operation::Created
            },
            territory_path: territory_path.to_owned(),
            previous_territory_path: None,
        },
        previous.map(crate::audit::snapshot).as_ref(),
        Some(&crate::audit::snapshot(&revision)),
    );
    Ok(PeiRecord { revision, sellos })
}

/// Deletes the school's PEI with its whole history, for deleting the school; a tombstone in the
/// change journal if it had one.
pub fn delete_for_school(
    tx: &mut Tx<'_>,
    school_id: Uuid,
    territory_path: &str,
) -> QueryResult<()> {
    let revisions: Vec<DbUuid> = pei_revisions::table
        .filter(pei_revisions::school_id.eq(DbUuid(school_id)))
        .select(pei_revisions::id)
        .load(tx.conn())?;
    if revisions.is_empty() {
        return Ok(());
    }
    diesel::delete(pei_sellos::table.filter(pei_sellos::revision_id.eq_any(revisions)))
        .execute(tx.conn())?;
    diesel::delete(pei_revisions::table.filter(pei_revisions::school_id.eq(DbUuid(school_id))))
        .execute(tx.conn())?;
    tx.record(Change {
        resource: RESOURCE,
        id: school_id,
        operation: Operation::Deleted,
        territory_path: territory_path.to_owned(),
        previous_territory_path: None,
    });
    Ok(())
}
