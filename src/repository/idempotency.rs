//! Idempotency keys: who claimed which key for which request, and the response to replay. Not
//! journalled: a key is a request's state, not data integrators sync.

use diesel::prelude::*;

use crate::db::{DbConnection, DbTime};
use crate::schema::idempotency_keys;

pub const RUNNING: &str = "running";
pub const DONE: &str = "done";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct KeyRow {
    pub owner: String,
    pub key: String,
    pub fingerprint: String,
    pub state: String,
    pub status: Option<i32>,
    pub headers: Option<String>,
    pub body: Option<Vec<u8>>,
    pub created_at: DbTime,
    pub expires_at: DbTime,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The headers to replay, as a JSON array of `[name, value]` pairs.
    pub headers: String,
    pub body: Vec<u8>,
}

/// What a request carrying a key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: serve it, then [`store`] or [`release`] with this claim time,
    /// which identifies the claim (a later take-over has another).
    Claimed(DbTime),
    /// The key's first request was answered: replay its response.
    Replay(StoredResponse),
    /// The key was used for another request (method, path, query or body).
    Mismatch,
    /// The key's first request is still being served.
    InProgress,
}

/// How long keys live and when a `running` claim counts as abandoned.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub keep: chrono::Duration,
    pub abandon_after: chrono::Duration,
}

/// Claims `key` for `owner` and the request with `fingerprint` at `now`, or says why not.
/// Race-free without locks: the claim is an `INSERT … ON CONFLICT DO NOTHING`, and a take-over
/// of an expired or abandoned claim an `UPDATE` conditioned on the claim time it saw.
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    key: &str,
    fingerprint: &str,
    now: DbTime,
    lifetimes: Lifetimes,
) -> QueryResult<Claim> {
    let fresh = KeyRow {
        owner: owner.to_owned(),
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        state: RUNNING.to_owned(),
        status: None,
        headers: None,
        body: None,
        created_at: now,
        expires_at: DbTime::new(now.get() + lifetimes.keep),
    };
    let abandoned_before = DbTime::new(now.get() - lifetimes.abandon_after);
    // A row may vanish or change between the statements (released, taken over): look again.
    for _ in 0..3 {
        if insert_if_absent(conn, &fresh)? {
            return Ok(Claim::Claimed(now));
        }
        let Some(row) = find(conn, owner, key)? else {
            continue;
        };
        let expired = row.expires_at <= now;
        if !expired && row.fingerprint != fingerprint {
            return Ok(Claim::Mismatch);
        }
        let replay = match (&row.state[..], row.status, &row.headers, &row.body) {
            (DONE, Some(status), Some(headers), Some(body)) => {
                u16::try_from(status).ok().map(|status| StoredResponse {
                    status,
                    headers: headers.clone(),
                    body: body.clone(),
                })
            }
            _ => None,
        };
        if !expired {
            if let Some(stored) = replay {
                return Ok(Claim::Replay(stored));
            }
            if row.state == RUNNING && row.created_at > abandoned_before {
                return Ok(Claim::InProgress);
            }
        }
        // Expired, abandoned, or unreadable: take it over, unless someone else just did.
        let taken = diesel::update(
            idempotency_keys::table
                .filter(idempotency_keys::owner.eq(owner))
                .filter(idempotency_keys::key.eq(key))
                .filter(idempotency_keys::created_at.eq(row.created_at)),
        )
        .set((
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::state.eq(RUNNING),
            idempotency_keys::status.eq(None::<i32>),
            idempotency_keys::headers.eq(None::<String>),
            idempotency_keys::body.eq(None::<Vec<u8>>),
            idempotency_keys::created_at.eq(now),
            idempotency_keys::expires_at.eq(fresh.expires_at),
        ))
        .execute(conn)?;
        if taken == 1 {
            return Ok(Claim::Claimed(now));
        }
    }
    Ok(Claim::InProgress)
}

/// Inserts the row unless its key exists; whether it did.
fn insert_if_absent(conn: &mut DbConnection, row: &KeyRow) -> QueryResult<bool> {
    // `on_conflict` does not compile through the multi-backend connection.
    let inserted = match conn {
        DbConnection::Pg(c) => diesel::insert_into(idempotency_keys::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(idempotency_keys::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(inserted == 1)
}

pub fn find(conn: &mut DbConnection, owner: &str, key: &str) -> QueryResult<Option<KeyRow>> {
    idempotency_keys::table
        .select(KeyRow::as_select())
        .filter(idempotency_keys::owner.eq(owner))
        .filter(idempotency_keys::key.eq(key))
        .first(conn)
        .optional()
}

/// Keeps the response of the request that holds the claim made at `claimed_at`; whether the
/// claim was still its own.
pub fn store(
    conn: &mut DbConnection,
    owner: &str,
    key: &str,
    claimed_at: DbTime,
    response: &StoredResponse,
) -> QueryResult<bool> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::owner.eq(owner))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::created_at.eq(claimed_at))
            .filter(idempotency_keys::state.eq(RUNNING)),
    )
    .set((
        idempotency_keys::state.eq(DONE),
        idempotency_keys::status.eq(Some(i32::from(response.status))),
        idempotency_keys::headers.eq(Some(&response.headers)),
        idempotency_keys::body.eq(Some(&response.body)),
    ))
    .execute(conn)
    .map(|updated| updated == 1)
}

/// Gives up the claim made at `claimed_at`, so that a retry runs the request again.
pub fn release(
    conn: &mut DbConnection,
    owner: &str,
    key: &str,
    claimed_at: DbTime,
) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::owner.eq(owner))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::created_at.eq(claimed_at))
            .filter(idempotency_keys::state.eq(RUNNING)),
    )
    .execute(conn)
    .map(drop)
}

/// Forgets the keys expired at `now`; how many.
pub fn delete_expired(conn: &mut DbConnection, now: DbTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.le(now)))
        .execute(conn)
}
