//! Mentoring visits (mentorías pedagógicas) to schools.
//!
//! A visit carries its school's territory (`territory_path`): it is visible, and written, where
//! that territory is in the scope.

use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::{NameCursor, UpdateOutcome, scoped};
use crate::schema::mentoring_visits;

pub const RESOURCE: &str = "mentoring_visit";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = mentoring_visits)]
pub struct VisitRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub school_id: DbUuid,
    pub territory_path: String,
    pub network_id: Option<DbUuid>,
    pub mentor_person_id: DbUuid,
    pub mentee_person_id: DbUuid,
    pub mentee_role: String,
    pub visited_on: String,
    pub focus: String,
    pub observations: Option<String>,
    pub agreements: String,
    pub follow_up: Option<String>,
    pub follow_up_on: Option<String>,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a visit, validated; agreements as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = mentoring_visits, treat_none_as_null = true)]
pub struct VisitData {
    pub school_id: DbUuid,
    pub territory_path: String,
    pub network_id: Option<DbUuid>,
    pub mentor_person_id: DbUuid,
    pub mentee_person_id: DbUuid,
    pub mentee_role: String,
    pub visited_on: String,
    pub focus: String,
    pub observations: Option<String>,
    pub agreements: String,
    pub follow_up: Option<String>,
    pub follow_up_on: Option<String>,
}

impl VisitRow {
    fn new(id: Uuid, data: &VisitData, version: i64, created_at: DbTime, now: DbTime) -> Self {
        VisitRow {
            id: DbUuid(id),
            school_id: data.school_id,
            territory_path: data.territory_path.clone(),
            network_id: data.network_id,
            mentor_person_id: data.mentor_person_id,
            mentee_person_id: data.mentee_person_id,
            mentee_role: data.mentee_role.clone(),
            visited_on: data.visited_on.clone(),
            focus: data.focus.clone(),
            observations: data.observations.clone(),
            agreements: data.agreements.clone(),
            follow_up: data.follow_up.clone(),
            follow_up_on: data.follow_up_on.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

pub fn insert(tx: &mut Tx<'_>, id: Uuid, data: &VisitData) -> QueryResult<VisitRow> {
    let now = DbTime::now();
    diesel::insert_into(mentoring_visits::table)
        .values((
            mentoring_visits::id.eq(DbUuid(id)),
            data,
            mentoring_visits::version.eq(1i64),
            mentoring_visits::created_at.eq(now),
            mentoring_visits::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let row = VisitRow::new(id, data, 1, now, now);
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id,
            operation: Operation::Created,
            territory_path: data.territory_path.clone(),
            previous_territory_path: None,
        },
        None,
        Some(&snapshot(&row)),
    );
    Ok(row)
}

/// The visit, if the scope sees it.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<VisitRow>> {
    mentoring_visits::table
        .select(VisitRow::as_select())
        .filter(mentoring_visits::id.eq(DbUuid(id)))
        .filter(scoped::within(mentoring_visits::territory_path, scope))
        .first(conn)
        .optional()
}

pub fn update(
    tx: &mut Tx<'_>,
    current: &VisitRow,
    data: &VisitData,
) -> QueryResult<UpdateOutcome<VisitRow>> {
    let now = DbTime::now();
    let updated = diesel::update(
        mentoring_visits::table
            .filter(mentoring_visits::id.eq(current.id))
            .filter(mentoring_visits::version.eq(current.version)),
    )
    .set((
        data,
        mentoring_visits::version.eq(current.version + 1),
        mentoring_visits::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = VisitRow::new(
        current.id.0,
        data,
        current.version + 1,
        current.created_at,
        now,
    );
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id: current.id.0,
            operation: Operation::Updated,
            territory_path: data.territory_path.clone(),
            previous_territory_path: (current.territory_path != data.territory_path)
                .then(|| current.territory_path.clone()),
        },
        Some(&snapshot(current)),
        Some(&snapshot(&row)),
    );
    Ok(UpdateOutcome::Done(row))
}

pub fn delete(tx: &mut Tx<'_>, current: &VisitRow) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        mentoring_visits::table
            .filter(mentoring_visits::id.eq(current.id))
            .filter(mentoring_visits::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id: current.id.0,
            operation: Operation::Deleted,
            territory_path: current.territory_path.clone(),
            previous_territory_path: None,
        },
        Some(&snapshot(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// Deletes the visits to the school, for deleting the school (they are its own records, like
/// its PEI), each with a tombstone in the change journal.
pub fn delete_for_school(tx: &mut Tx<'_>, school_id: Uuid) -> QueryResult<()> {
    let visits: Vec<(DbUuid, String)> = mentoring_visits::table
        .filter(mentoring_visits::school_id.eq(DbUuid(school_id)))
        .select((mentoring_visits::id, mentoring_visits::territory_path))
        .load(tx.conn())?;
    if visits.is_empty() {
        return Ok(());
    }
    diesel::delete(
        mentoring_visits::table.filter(mentoring_visits::school_id.eq(DbUuid(school_id))),
    )
    .execute(tx.conn())?;
    for (id, territory_path) in visits {
        tx.record(Change {
            resource: RESOURCE,
            id: id.0,
            operation: Operation::Deleted,
            territory_path,
            previous_territory_path: None,
        });
    }
    Ok(())
}

/// Moves the school's visits to the school's new territory, after the school moved, each an
/// update in the change journal that names where it was.
pub fn follow_school(
    tx: &mut Tx<'_>,
    school_id: Uuid,
    old_path: &str,
    new_path: &str,
) -> QueryResult<()> {
    if old_path == new_path {
        return Ok(());
    }
    let ids: Vec<DbUuid> = mentoring_visits::table
        .filter(mentoring_visits::school_id.eq(DbUuid(school_id)))
        .select(mentoring_visits::id)
        .load(tx.conn())?;
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(mentoring_visits::table.filter(mentoring_visits::id.eq_any(ids.clone())))
        .set((
            mentoring_visits::territory_path.eq(new_path),
            mentoring_visits::version.eq(mentoring_visits::version + 1),
            mentoring_visits::updated_at.eq(DbTime::now()),
        ))
        .execute(tx.conn())?;
    for id in ids {
        tx.record_diff(
            Change {
                resource: RESOURCE,
                id: id.0,
                operation: Operation::Updated,
                territory_path: new_path.to_owned(),
                previous_territory_path: Some(old_path.to_owned()),
            },
            Some(&serde_json::json!({"territory_path": old_path})),
            Some(&serde_json::json!({"territory_path": new_path})),
        );
    }
    Ok(())
}

/// Whether a visit names the network: for deleting it.
pub fn network_has_visits(conn: &mut DbConnection, network_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        mentoring_visits::table.filter(mentoring_visits::network_id.eq(DbUuid(network_id))),
    ))
    .get_result(conn)
}

/// Whether a visit names the person as mentor or mentee: for deleting the person.
pub fn names_person(conn: &mut DbConnection, person_id: Uuid) -> QueryResult<bool> {
    let id = DbUuid(person_id);
    diesel::select(diesel::dsl::exists(
        mentoring_visits::table.filter(
            mentoring_visits::mentor_person_id
                .eq(id)
                .or(mentoring_visits::mentee_person_id.eq(id)),
        ),
    ))
    .get_result(conn)
}

/// Filters of the visit list.
#[derive(Debug, Clone, Default)]
pub struct VisitFilter {
    pub school_id: Option<Uuid>,
    pub mentor_person_id: Option<Uuid>,
    pub mentee_person_id: Option<Uuid>,
    /// Only visits on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Only visits on or before this day.
    pub to: Option<String>,
    pub page: PageRequest,
}

/// A page of the visits the scope sees, by day then id.
pub fn list(
    conn: &mut DbConnection,
    filter: &VisitFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<VisitRow>> {
    use mentoring_visits::dsl as v;
    let mut query = v::mentoring_visits
        .select(VisitRow::as_select())
        .filter(scoped::within(v::territory_path, scope))
        .order((v::visited_on.asc(), v::id.asc()))
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if let Some(school) = filter.school_id {
        query = query.filter(v::school_id.eq(DbUuid(school)));
    }
    if let Some(mentor) = filter.mentor_person_id {
        query = query.filter(v::mentor_person_id.eq(DbUuid(mentor)));
    }
    if let Some(mentee) = filter.mentee_person_id {
        query = query.filter(v::mentee_person_id.eq(DbUuid(mentee)));
    }
    if let Some(from) = &filter.from {
        query = query.filter(v::visited_on.ge(from.clone()));
    }
    if let Some(to) = &filter.to {
        query = query.filter(v::visited_on.le(to.clone()));
    }
    if let Some(cursor) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(
            v::visited_on.gt(cursor.name.clone()).or(v::visited_on
                .eq(cursor.name)
                .and(v::id.gt(DbUuid(cursor.id)))),
        );
    }
    query.load(conn)
}
