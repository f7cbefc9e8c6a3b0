//! Short-cycle improvement plans, owned by a school or a network.
//!
//! A cycle carries its owner's territory (`territory_path`): the school's, or the network's
//! own. It is visible where that territory is in the scope, and a network's cycle also wherever
//! the network is visible (as its sessions are); it is written only where that territory is in
//! the scope.

use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::{NameCursor, UpdateOutcome, networks, scoped};
use crate::schema::improvement_cycles;

pub const RESOURCE: &str = "improvement_cycle";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = improvement_cycles)]
pub struct CycleRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub school_id: Option<DbUuid>,
    pub network_id: Option<DbUuid>,
    pub territory_path: String,
    pub title: String,
    pub problem_of_practice: String,
    pub aim: String,
    pub driver: String,
    pub change_idea: String,
    pub status: String,
    pub pdsa: String,
    pub measures: String,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a cycle, validated; aim, PDSA cycles and measures as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = improvement_cycles, treat_none_as_null = true)]
pub struct CycleData {
    pub school_id: Option<DbUuid>,
    pub network_id: Option<DbUuid>,
    pub territory_path: String,
    pub title: String,
    pub problem_of_practice: String,
    pub aim: String,
    pub driver: String,
    pub change_idea: String,
    pub status: String,
    pub pdsa: String,
    pub measures: String,
}

impl CycleRow {
    fn new(id: Uuid, data: &CycleData, version: i64, created_at: DbTime, now: DbTime) -> Self {
        CycleRow {
            id: DbUuid(id),
            school_id: data.school_id,
            network_id: data.network_id,
            territory_path: data.territory_path.clone(),
            title: data.title.clone(),
            problem_of_practice: data.problem_of_practice.clone(),
            aim: data.aim.clone(),
            driver: data.driver.clone(),
            change_idea: data.change_idea.clone(),
            status: data.status.clone(),
            pdsa: data.pdsa.clone(),
            measures: data.measures.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

pub fn insert(tx: &mut Tx<'_>, id: Uuid, data: &CycleData) -> QueryResult<CycleRow> {
    let now = DbTime::now();
    diesel::insert_into(improvement_cycles::table)
        .values((
            improvement_cycles::id.eq(DbUuid(id)),
            data,
            improvement_cycles::version.eq(1i64),
            improvement_cycles::created_at.eq(now),
            improvement_cycles::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let row = CycleRow::new(id, data, 1, now, now);
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

/// The cycle, if the scope sees it: in the scope's territories, or (a network's cycle) where
/// the scope sees its network.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<CycleRow>> {
    let own = improvement_cycles::table
        .select(CycleRow::as_select())
        .filter(improvement_cycles::id.eq(DbUuid(id)))
        .filter(scoped::within(improvement_cycles::territory_path, scope))
        .first(conn)
        .optional()?;
    if own.is_some() {
        return Ok(own);
    }
    let Some(row) = improvement_cycles::table
        .select(CycleRow::as_select())
        .filter(improvement_cycles::id.eq(DbUuid(id)))
        .filter(improvement_cycles::network_id.is_not_null())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    match row.network_id {
        Some(network) if networks::find(conn, network.0, scope)?.is_some() => Ok(Some(row)),
        _ => Ok(None),
    }
}

pub fn update(
    tx: &mut Tx<'_>,
    current: &CycleRow,
    data: &CycleData,
) -> QueryResult<UpdateOutcome<CycleRow>> {
    let now = DbTime::now();
    let updated = diesel::update(
        improvement_cycles::table
            .filter(improvement_cycles::id.eq(current.id))
            .filter(improvement_cycles::version.eq(current.version)),
    )
    .set((
        data,
        improvement_cycles::version.eq(current.version + 1),
        improvement_cycles::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = CycleRow::new(
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

pub fn delete(tx: &mut Tx<'_>, current: &CycleRow) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        improvement_cycles::table
            .filter(improvement_cycles::id.eq(current.id))
            .filter(improvement_cycles::version.eq(current.version)),
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

/// Deletes the school's cycles, for deleting the school (they are its own records, like its
/// PEI), each with a tombstone in the change journal.
pub fn delete_for_school(tx: &mut Tx<'_>, school_id: Uuid) -> QueryResult<()> {
    let owned: Vec<(DbUuid, String)> = improvement_cycles::table
        .filter(improvement_cycles::school_id.eq(DbUuid(school_id)))
        .select((improvement_cycles::id, improvement_cycles::territory_path))
        .load(tx.conn())?;
    if owned.is_empty() {
        return Ok(());
    }
    diesel::delete(
        improvement_cycles::table.filter(improvement_cycles::school_id.eq(DbUuid(school_id))),
    )
    .execute(tx.conn())?;
    for (id, territory_path) in owned {
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

/// Whether the network owns cycles: for deleting it.
pub fn network_has_cycles(conn: &mut DbConnection, network_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        improvement_cycles::table.filter(improvement_cycles::network_id.eq(DbUuid(network_id))),
    ))
    .get_result(conn)
}

/// Which owner a cycle has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    School(Uuid),
    Network(Uuid),
}

/// Moves the owner's cycles to the owner's new territory, after the owner moved: each an update
/// in the change journal that names where it was, so that both territories' integrators learn
/// of it.
pub fn follow_owner(
    tx: &mut Tx<'_>,
    owner: Owner,
    old_path: &str,
    new_path: &str,
) -> QueryResult<()> {
    if old_path == new_path {
        return Ok(());
    }
    let ids: Vec<DbUuid> = match owner {
        Owner::School(id) => improvement_cycles::table
            .filter(improvement_cycles::school_id.eq(DbUuid(id)))
            .select(improvement_cycles::id)
            .load(tx.conn())?,
        Owner::Network(id) => improvement_cycles::table
            .filter(improvement_cycles::network_id.eq(DbUuid(id)))
            .select(improvement_cycles::id)
            .load(tx.conn())?,
    };
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(improvement_cycles::table.filter(improvement_cycles::id.eq_any(ids.clone())))
        .set((
            improvement_cycles::territory_path.eq(new_path),
            improvement_cycles::version.eq(improvement_cycles::version + 1),
            improvement_cycles::updated_at.eq(DbTime::now()),
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

/// Filters of the cycle list.
#[derive(Debug, Clone, Default)]
pub struct CycleFilter {
    pub school_id: Option<Uuid>,
    pub network_id: Option<Uuid>,
    pub statuses: Vec<String>,
    pub page: PageRequest,
}

/// A page of the cycles the scope sees, in the order they were created (ids are UUIDv7).
pub fn list(
    conn: &mut DbConnection,
    filter: &CycleFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<CycleRow>> {
    use improvement_cycles::dsl as c;
    let visible_networks = networks::visible_ids(conn, scope, None)?;
    let mut query = c::improvement_cycles
        .select(CycleRow::as_select())
        .filter(
            scoped::within(c::territory_path, scope)
                .or(c::network_id.assume_not_null().eq_any(visible_networks)),
        )
        .order(c::id.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if let Some(school) = filter.school_id {
        query = query.filter(c::school_id.eq(DbUuid(school)));
    }
    if let Some(network) = filter.network_id {
        query = query.filter(c::network_id.eq(DbUuid(network)));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(c::status.eq_any(filter.statuses.clone()));
    }
    if let Some(after) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(c::id.gt(DbUuid(after.id)));
    }
    query.load(conn)
}
