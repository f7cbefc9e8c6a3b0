//! The change journal: what integrators sync from.

use diesel::prelude::*;
use uuid::Uuid;

pub use crate::domain::journal::ChangeOperation as Operation;

use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid};
use crate::repository::scoped;
use crate::schema::change_journal;

/// One write, to be journaled with the transaction that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub resource: &'static str,
    pub id: Uuid,
    pub operation: Operation,
    /// The resource's territory after the write (before it, for a deletion).
    pub territory_path: String,
    /// The territory before an update that moved the resource.
    pub previous_territory_path: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = change_journal)]
struct NewEntry<'a> {
    resource: &'a str,
    resource_id: DbUuid,
    operation: &'a str,
    at: DbTime,
    territory_path: &'a str,
    previous_territory_path: &'a str,
}

/// Entries from one transaction past which PostgreSQL's statistics of the journal are refreshed.
const BULK: usize = 10_000;

/// An arbitrary constant naming the journal's advisory lock on PostgreSQL.
const JOURNAL_LOCK: i64 = 0x5265_6465_734a_6e6c; // "RedesJnl"

/// Appends the changes of the current transaction. Must be the transaction's last statement
/// before commit: on PostgreSQL it takes the journal lock, held until commit, so that sequence
/// numbers are handed out in commit order. (SQLite runs one writer at a time: nothing to do.)
pub fn append(conn: &mut DbConnection, changes: &[Change]) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(JOURNAL_LOCK)
            .execute(pg)?;
    }
    let at = DbTime::now();
    fn entry(change: &Change, at: DbTime) -> NewEntry<'_> {
        NewEntry {
            resource: change.resource,
            resource_id: DbUuid(change.id),
            operation: change.operation.as_str(),
            at,
            territory_path: &change.territory_path,
            previous_territory_path: change.previous_territory_path.as_deref().unwrap_or(""),
        }
    }
    // Built chunk by chunk, so that a bulk import's journal is not copied whole; multi-row
    // inserts do not compile through the multi-backend connection.
    for chunk in changes.chunks(1000) {
        let rows: Vec<NewEntry<'_>> = chunk.iter().map(|c| entry(c, at)).collect();
        match conn {
            DbConnection::Pg(c) => diesel::insert_into(change_journal::table)
                .values(&rows)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(change_journal::table)
                .values(&rows)
                .execute(c)?,
        };
    }
    // A bulk import can multiply the journal at once: without fresh statistics the feed's next
    // pages are planned for the small table it was (a scan and a sort of the whole journal per
    // page) until autovacuum comes by.
    if changes.len() >= BULK
        && let DbConnection::Pg(pg) = conn
    {
        diesel::sql_query("ANALYZE change_journal").execute(pg)?;
    }
    Ok(())
}

/// A journal entry as read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = change_journal)]
pub struct Entry {
    pub seq: i64,
    pub resource: String,
    pub resource_id: DbUuid,
    pub operation: String,
    pub at: DbTime,
}

/// Entries after `after`, in order, in the scope (by where the resource is or was), optionally of
/// some resource types only.
pub fn list(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
    resources: &[&str],
    scope: &TerritoryScope,
) -> QueryResult<Vec<Entry>> {
    use change_journal::dsl as j;
    let mut query = j::change_journal
        .select(Entry::as_select())
        .filter(j::seq.gt(after))
        .filter(
            scoped::within(j::territory_path, scope)
                .or(scoped::within(j::previous_territory_path, scope)),
        )
        .order(j::seq.asc())
        .limit(limit)
        .into_boxed();
    if !resources.is_empty() {
        query = query.filter(j::resource.eq_any(resources.iter().map(|r| (*r).to_owned())));
    }
    query.load(conn)
}
