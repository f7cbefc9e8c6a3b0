//! API clients: credentials for the client credentials grant. Not in the change feed (they are
//! not data integrators sync); their writes are audited.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{DbConnection, DbTime, DbUuid};
use crate::schema::api_clients;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ClientRow {
    pub id: DbUuid,
    pub name: String,
    pub contact: Option<String>,
    /// Space-separated.
    pub scopes: String,
    /// Territory keys, one per line.
    pub territories: String,
    pub rate_limit: Option<i32>,
    pub active: bool,
    pub secret_hash: String,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<DbTime>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub rotated_at: Option<DbTime>,
    pub last_used_at: Option<DbTime>,
    pub created_by: String,
    pub version: i64,
}

impl ClientRow {
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes.split_whitespace().map(str::to_owned).collect()
    }

    pub fn territory_list(&self) -> Vec<String> {
        self.territories
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether its tokens may be issued and accepted.
    pub fn usable(&self) -> bool {
        self.active
    }
}

/// What a client's tokens need at validation: cached briefly by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState {
    pub usable: bool,
    pub rate_limit: Option<u32>,
}

pub fn insert(conn: &mut DbConnection, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(api_clients::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<ClientRow>> {
    api_clients::table
        .select(ClientRow::as_select())
        .filter(api_clients::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

/// The state its tokens are checked against; `None` for a client that does not exist.
pub fn state(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<ClientState>> {
    let row: Option<(bool, Option<i32>)> = api_clients::table
        .select((api_clients::active, api_clients::rate_limit))
        .filter(api_clients::id.eq(DbUuid(id)))
        .first(conn)
        .optional()?;
    Ok(row.map(|(active, rate_limit)| ClientState {
        usable: active,
        rate_limit: rate_limit.and_then(|r| u32::try_from(r).ok()),
    }))
}

/// Clients by name (then id) after the keyset `after`.
pub fn list(
    conn: &mut DbConnection,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<ClientRow>> {
    use api_clients::dsl as c;
    let mut query = c::api_clients.select(ClientRow::as_select()).into_boxed();
    if let Some((name, id)) = after {
        query = query.filter(
            c::name
                .gt(name.clone())
                .or(c::name.eq(name).and(c::id.gt(DbUuid(id)))),
        );
    }
    query
        .order((c::name.asc(), c::id.asc()))
        .limit(limit)
        .load(conn)
}

/// Replaces the row's changeable fields (name, contact, scopes, territories, rate limit,
/// active, secrets and their times) and increments its version (the row's `version` is taken as
/// the one before the change: it is incremented here).
pub fn save(conn: &mut DbConnection, row: &mut ClientRow) -> QueryResult<()> {
    row.version += 1;
    use api_clients::dsl as c;
    diesel::update(c::api_clients.filter(c::id.eq(row.id)))
        .set((
            c::name.eq(&row.name),
            c::contact.eq(&row.contact),
            c::scopes.eq(&row.scopes),
            c::territories.eq(&row.territories),
            c::rate_limit.eq(row.rate_limit),
            c::active.eq(row.active),
            c::secret_hash.eq(&row.secret_hash),
            c::previous_secret_hash.eq(&row.previous_secret_hash),
            c::previous_secret_expires_at.eq(row.previous_secret_expires_at),
            c::updated_at.eq(row.updated_at),
            c::rotated_at.eq(row.rotated_at),
            c::version.eq(row.version),
        ))
        .execute(conn)
        .map(drop)
}

/// Deletes the client: its secrets and tokens stop working. Whether it existed.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::delete(api_clients::table.filter(api_clients::id.eq(DbUuid(id))))
        .execute(conn)
        .map(|n| n > 0)
}

/// Records that the client obtained a token now.
pub fn touch(conn: &mut DbConnection, id: Uuid) -> QueryResult<()> {
    use api_clients::dsl as c;
    diesel::update(c::api_clients.filter(c::id.eq(DbUuid(id))))
        .set(c::last_used_at.eq(Some(DbTime::now())))
        .execute(conn)
        .map(drop)
}
