//! One connection type over both backends, and the r2d2 manager that opens it.

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::{PgConnection, SqliteConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::configuration::DatabaseUrl;

/// A connection to PostgreSQL or SQLite, chosen at run time by the database URL.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection (`PgConnection` or
/// `SqliteConnection`) instead of `DbConnection`: the body is compiled once per backend.
///
/// For the hottest statements. Through `DbConnection`, Diesel's multi-backend wrapper writes
/// a statement's whole SQL text each time it walks the query (to check that it can be cached,
/// to build its cache key, to collect its binds): three times per statement, most of a
/// single-row read's own cost (docs/PERFORMANCE.md, fourth round). On the backend's connection
/// a statement of a fixed shape is found in the prepared-statement cache by its type, without
/// writing any SQL. Instrumentation (the statement count) lives on the inner connection, so
/// statements sent this way are counted as any other.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A pooled connection that remembers whether it lost its server.
///
/// Diesel only calls a connection broken when a transaction was left open; a PostgreSQL
/// connection whose server restarted looks healthy until it is used. Checking every connection
/// out with a ping would cost a round trip per request, so instead a connection that fails
/// with a connection-level error is marked here and r2d2 discards it when it is returned.
pub struct PooledConnection {
    pub(crate) connection: DbConnection,
    pub(crate) broken: bool,
}

/// Opens connections by URL scheme, keeping the real error (the derived `establish` tries each
/// backend in turn and reports only "invalid connection url").
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    statement_timeout_ms: u128,
    statements: Arc<AtomicU64>,
    read_only: bool,
}

impl ConnectionManager {
    /// `statements` counts every statement the pool's connections send once open (their own
    /// session settings excepted): `redes_db_statements_total` in `/metrics`, and how tests
    /// prove that a page is one statement. With `read_only`, every transaction of a
    /// PostgreSQL connection is read-only (a read replica's pool: a write sent to it by mistake
    /// fails even when the URL names the primary).
    pub fn new(
        url: DatabaseUrl,
        statement_timeout: std::time::Duration,
        statements: Arc<AtomicU64>,
        read_only: bool,
    ) -> Self {
        ConnectionManager {
            url,
            statement_timeout_ms: statement_timeout.as_millis(),
            statements,
            read_only,
        }
    }
}

/// Counts the statements a connection sends (transaction control included: `BEGIN` and
/// `COMMIT` are round trips too).
fn counting(statements: Arc<AtomicU64>) -> impl Instrumentation {
    move |event: InstrumentationEvent<'_>| {
        if matches!(
            event,
            InstrumentationEvent::StartQuery { .. }
                | InstrumentationEvent::BeginTransaction { .. }
                | InstrumentationEvent::CommitTransaction { .. }
                | InstrumentationEvent::RollbackTransaction { .. }
        ) {
            statements.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PooledConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<PooledConnection, ConnectionError> {
        let mut connection = match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                let session = if self.read_only {
                    "SET application_name = 'redes-read'; SET default_transaction_read_only = on"
                } else {
                    "SET application_name = 'redes'"
                };
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}; {session}",
                    self.statement_timeout_ms
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                DbConnection::Pg(conn)
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        ConnectionError::BadConnection(format!(
                            "cannot create the directory {}: {e}",
                            parent.display()
                        ))
                    })?;
                }
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::BadConnection("the SQLite path is not UTF-8".into())
                })?;
                let mut conn = SqliteConnection::establish(path)?;
                configure_sqlite(&mut conn).map_err(ConnectionError::CouldntSetupConfiguration)?;
                DbConnection::Sqlite(conn)
            }
        };
        connection.set_instrumentation(counting(self.statements.clone()));
        Ok(PooledConnection {
            connection,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PooledConnection) -> Result<(), ConnectionError> {
        conn.connection
            .ping()
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut PooledConnection) -> bool {
        conn.broken || std::thread::panicking() || conn.connection.is_broken()
    }
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

/// Per-connection SQLite settings. WAL lets readers proceed while one writer writes; it is a
/// property of the file, so it is switched on only when not yet on (switching takes a lock that
/// concurrent connections at first start would otherwise fight over). busy_timeout comes first
/// so that every later statement waits for locks instead of failing.
fn configure_sqlite(conn: &mut SqliteConnection) -> QueryResult<()> {
    conn.batch_execute(
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
    )?;
    let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(conn)?;
    if !mode.journal_mode.eq_ignore_ascii_case("wal") {
        conn.batch_execute("PRAGMA journal_mode = WAL")?;
    }
    Ok(())
}

/// Whether an error means the connection itself is gone (rather than the statement failed).
pub fn is_connection_error(error: &diesel::result::Error) -> bool {
    use diesel::result::DatabaseErrorKind as K;
    matches!(
        error,
        diesel::result::Error::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _)
            | diesel::result::Error::BrokenTransactionManager
    )
}
