//! The database: a pool over either backend, readiness, and running blocking Diesel work off the
//! async workers.

pub mod coalesce;
pub mod connection;
pub mod migrations;
pub mod sql_types;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use actix_web::web;

pub(crate) use connection::on_backend;
pub use connection::{DbConnection, MultiBackend};
pub use sql_types::{DbTime, DbUuid};

use crate::audit::AuditEntry;
use crate::configuration::DatabaseSettings;
use crate::error::{ApiError, ApiResult};
use crate::metrics::PoolSnapshot;
use crate::repository::changes::Change;
use connection::{ConnectionManager, PooledConnection, is_connection_error};

/// The longest `/health/ready` waits for a pooled connection.
const READINESS_TIMEOUT: Duration = Duration::from_millis(750);

/// The database handle shared by all workers (cheap to clone).
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    pool: r2d2::Pool<ConnectionManager>,
    /// One permit per pooled connection: requests wait for a permit in turn (first come,
    /// first served, without holding a thread) before they take a blocking thread and a
    /// connection. r2d2's own wait is not fair: under load, a few requests lost the race for a
    /// returned connection again and again (p99 of 130 ms at a p50 of 1 ms, docs/PERFORMANCE.md).
    permits: Arc<tokio::sync::Semaphore>,
    /// Statements sent by the pool's connections (see [`ConnectionManager::new`]).
    statements: Arc<AtomicU64>,
    backend: &'static str,
    /// See [`Db::read_short`].
    inline_reads: bool,
    /// See [`Db::coalesces_reads`].
    coalesce_reads: bool,
    /// On SQLite, the turn to write: requests take it in order before they begin a write
    /// transaction. SQLite admits one writer at a time and makes the others poll with growing
    /// pauses (`busy_timeout`), which is not a queue: under a steady stream of writes a waiting
    /// writer could miss every free moment for five seconds and fail with "database is
    /// locked" (503) while others went through (docs/PERFORMANCE.md). Other processes (the CLI
    /// import) and background jobs still meet the busy timeout.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Set once migrations and reference data are in place (on a read replica: once it has
    /// every migration this build knows); until then every request that needs it answers 503
    /// and `/health/ready` reports not ready.
    prepared: AtomicBool,
    role: Role,
    /// The read replica's handle (see [`Db::replica`]); on the replica itself, `None`.
    replica: Option<Db>,
}

/// What a pool is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Primary,
    ReadReplica,
}

/// Logs pool errors through tracing, once per failed attempt to connect.
#[derive(Debug)]
struct PoolErrorLogger;

impl r2d2::HandleError<diesel::ConnectionError> for PoolErrorLogger {
    fn handle_error(&self, error: diesel::ConnectionError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

impl Db {
    /// Builds the pool without connecting, so the service starts (and reports not ready) while
    /// the database is down; r2d2 keeps trying in the background. With a read replica
    /// configured, its pool is built the same way (see [`Db::replica`]).
    pub fn new(settings: &DatabaseSettings) -> Db {
        let replica = settings
            .read_url
            .as_ref()
            .map(|url| Db::over(url, settings, Role::ReadReplica, None));
        Db::over(&settings.url, settings, Role::Primary, replica)
    }

    fn over(
        url: &crate::configuration::DatabaseUrl,
        settings: &DatabaseSettings,
        role: Role,
        replica: Option<Db>,
    ) -> Db {
        let statements = Arc::new(AtomicU64::new(0));
        let manager = ConnectionManager::new(
            url.clone(),
            settings.statement_timeout,
            statements.clone(),
            role == Role::ReadReplica,
        );
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(settings.pool_size.min(2)))
            .connection_timeout(settings.pool_timeout)
            // A ping per checkout costs a round trip per request; broken connections are
            // evicted when they fail instead (see `PooledConnection`).
            .test_on_check_out(false)
            .idle_timeout(Some(Duration::from_secs(600)))
            .max_lifetime(Some(Duration::from_secs(1800)))
            .error_handler(Box::new(PoolErrorLogger))
            .build_unchecked(manager);
        Db {
            inner: Arc::new(Inner {
                pool,
                permits: Arc::new(tokio::sync::Semaphore::new(settings.pool_size as usize)),
                statements,
                backend: url.backend_name(),
                inline_reads: settings.inline_reads,
                coalesce_reads: settings.coalesce_reads
                    && matches!(url, crate::configuration::DatabaseUrl::Postgres(_)),
                writer: matches!(url, crate::configuration::DatabaseUrl::Sqlite(_))
                    .then(|| Arc::new(tokio::sync::Mutex::new(()))),
                prepared: AtomicBool::new(false),
                role,
                replica,
            }),
        }
    }

    /// Where the heavy reads that tolerate a lag of seconds go (analytics pulls, the change
    /// feed): the read replica's handle when `REDES_DATABASE_READ_URL` is set, else this one.
    ///
    /// There is no fallback to the primary while the replica is down: those requests answer
    /// 503 like any other during an outage, and the load the replica was there to take never
    /// lands on the primary at the moment it has lost its helper.
    pub fn replica(&self) -> &Db {
        self.inner.replica.as_ref().unwrap_or(self)
    }

    /// The read replica's handle, when one is configured.
    pub fn read_replica(&self) -> Option<&Db> {
        self.inner.replica.as_ref()
    }

    /// How many statements the pool's connections have sent so far.
    pub fn statements(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// Whether reads by id that arrive together on a worker share one statement
    /// ([`coalesce`]): on PostgreSQL, unless `REDES_DB_COALESCE_READS=false`.
    pub fn coalesces_reads(&self) -> bool {
        self.inner.coalesce_reads
    }

    /// `postgres` or `sqlite`.
    pub fn backend(&self) -> &'static str {
        self.inner.backend
    }

    pub fn is_prepared(&self) -> bool {
        self.inner.prepared.load(Ordering::Acquire)
    }

    pub fn pool_snapshot(&self, ready: bool) -> PoolSnapshot {
        let state = self.inner.pool.state();
        PoolSnapshot {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.inner.pool.max_size(),
            statements: self.statements(),
            ready,
        }
    }

    /// Runs read-only work on a pooled connection in the blocking pool. A connection that turns
    /// out to be dead (the server restarted since it was pooled) is discarded and the work is
    /// tried once more on a fresh one, which is safe because nothing was written.
    pub async fn read<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        self.run(move |db| {
            match db.with_connection(&work) {
                Err(Attempt::DeadConnection(_)) => db.with_connection(&work),
                other => other,
            }
            .map_err(Attempt::into_api_error)
        })
        .await
    }

    /// A short read (one row by key, one bounded page) run on the calling worker thread when a
    /// permit and an idle connection are both free at once, which saves the two thread
    /// switches of the handoff to the blocking pool and back (docs/PERFORMANCE.md). When either
    /// is taken, or the database is not prepared, or the connection turns out to be dead, it is
    /// [`Db::read`]: it queues in turn, waits at most the pool's timeout and answers 503 the same
    /// way. The permit keeps the number of connections in use within the pool's size, and the
    /// connection's statement timeout bounds how long a worker can be held.
    ///
    /// Only for statements that touch a bounded number of rows through an index; anything that
    /// may take milliseconds belongs in [`Db::read`], where it does not hold up the other
    /// requests of its worker.
    pub async fn read_short<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        // A fair semaphore has no free permit while requests wait in line, so a short read
        // never overtakes them.
        if self.inner.inline_reads
            && self.is_prepared()
            && let Ok(permit) = Arc::clone(&self.inner.permits).try_acquire_owned()
            && let Some(mut pooled) = self.inner.pool.try_get()
        {
            let result = mark_if_dead(&mut pooled, &work);
            drop(pooled);
            drop(permit);
            match result {
                Ok(value) => return Ok(value),
                Err(Attempt::Failed(error)) => return Err(error),
                // A dead connection: the blocking path retries on a fresh one.
                Err(Attempt::DeadConnection(_)) => {}
            }
        }
        self.read(work).await
    }

    /// Runs work in one write transaction on a pooled connection in the blocking pool, and
    /// journals the changes it records in the same transaction (see [`Tx`]). It is not
    /// retried: a connection lost mid-transaction answers 503 and the client decides.
    pub async fn write<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, ApiError> + Send + 'static,
    {
        let actor = crate::audit::current();
        let (turn, wait) = self.turn_to_write().await?;
        self.run_within(wait, move |db| {
            let _turn = turn;
            crate::audit::with_actor(actor, || {
                db.with_connection(|conn| in_write_transaction(conn, work))
                    .map_err(Attempt::into_api_error)
            })
        })
        .await
    }

    /// [`Db::write`] whose work decides whether to commit (see [`in_write_transaction_keeping`]).
    pub async fn write_keeping<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<(T, bool), ApiError> + Send + 'static,
    {
        let actor = crate::audit::current();
        let (turn, wait) = self.turn_to_write().await?;
        self.run_within(wait, move |db| {
            let _turn = turn;
            crate::audit::with_actor(actor, || {
                db.with_connection(|conn| in_write_transaction_keeping(conn, work))
                    .map_err(Attempt::into_api_error)
            })
        })
        .await
    }

    /// On SQLite, waits for this request's turn to write (see `Inner::writer`), at most the
    /// pool's timeout; answers the turn, held until the transaction ends, and what is left of
    /// the wait for a connection. On PostgreSQL, which queues writers itself, there is no turn.
    async fn turn_to_write(
        &self,
    ) -> ApiResult<(Option<tokio::sync::OwnedMutexGuard<()>>, Duration)> {
        let wait = self.inner.pool.connection_timeout();
        let Some(writer) = &self.inner.writer else {
            return Ok((None, wait));
        };
        let started = std::time::Instant::now();
        match actix_web::rt::time::timeout(wait, Arc::clone(writer).lock_owned()).await {
            Ok(turn) => Ok((Some(turn), wait.saturating_sub(started.elapsed()))),
            Err(_) => Err(ApiError::Unavailable(format!(
                "no turn to write within {} ms",
                wait.as_millis()
            ))),
        }
    }

    /// Runs `work` detached on the blocking pool, for a background job: it goes on after the
    /// request that started it has been answered, and keeps the request's tracing span and its
    /// audit actor (the job's writes are attributed to the principal and request that started it).
    pub fn spawn_detached<F>(&self, work: F)
    where
        F: FnOnce(&Db) + Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        let actor = crate::audit::current();
        // Detached on purpose: the job reports through the database, not through the handle.
        drop(actix_web::rt::task::spawn_blocking(move || {
            crate::audit::with_actor(actor, || span.in_scope(|| work(&db)));
        }));
    }

    /// [`Db::write_keeping`] for work already on a blocking thread (a background job).
    pub fn write_keeping_blocking<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<(T, bool), ApiError>,
    {
        self.with_connection(|conn| in_write_transaction_keeping(conn, work))
            .map_err(Attempt::into_api_error)
    }

    /// One statement (or a few, in autocommit) on a pooled connection, for work already on a
    /// blocking thread: a job's status and progress, which are not journalled.
    pub fn execute_blocking<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        self.with_connection(work).map_err(Attempt::into_api_error)
    }

    /// Whether the database answers now (for `/health/ready`). It waits for a connection at
    /// most [`READINESS_TIMEOUT`], less than requests do, so that an outage shows at once.
    pub async fn ping(&self) -> ApiResult<()> {
        use diesel::r2d2::R2D2Connection;
        let timeout = READINESS_TIMEOUT.min(self.inner.pool.connection_timeout());
        let ping = |conn: &mut DbConnection| conn.ping().map_err(ApiError::from);
        self.run_within(timeout, move |db| {
            match db.with_connection_within(timeout, ping) {
                Err(Attempt::DeadConnection(_)) => db.with_connection_within(timeout, ping),
                other => other,
            }
            .map_err(Attempt::into_api_error)
        })
        .await
    }

    async fn run<T, F>(&self, job: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> ApiResult<T> + Send + 'static,
    {
        self.run_within(self.inner.pool.connection_timeout(), job)
            .await
    }

    /// Runs `job` on a blocking thread once a permit is free, waiting at most `wait` for it.
    async fn run_within<T, F>(&self, wait: Duration, job: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> ApiResult<T> + Send + 'static,
    {
        if !self.is_prepared() {
            return Err(ApiError::Unavailable(match self.inner.role {
                Role::Primary => "the database is not prepared yet".into(),
                Role::ReadReplica => "the read replica is not ready yet".into(),
            }));
        }
        let permits = Arc::clone(&self.inner.permits);
        let permit = match actix_web::rt::time::timeout(wait, permits.acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => return Err(ApiError::Unavailable(closed.to_string())),
            Err(_) => {
                return Err(ApiError::Unavailable(format!(
                    "no database connection free within {} ms",
                    wait.as_millis()
                )));
            }
        };
        let db = self.clone();
        let span = tracing::Span::current();
        web::block(move || {
            let _permit = permit;
            span.in_scope(|| job(&db))
        })
        .await
        .map_err(ApiError::internal)?
    }

    fn with_connection<T, F>(&self, work: F) -> Result<T, Attempt>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        self.with_connection_within(self.inner.pool.connection_timeout(), work)
    }

    fn with_connection_within<T, F>(&self, timeout: Duration, work: F) -> Result<T, Attempt>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        let mut pooled = self
            .inner
            .pool
            .get_timeout(timeout)
            .map_err(|e| Attempt::Failed(ApiError::from(e)))?;
        mark_if_dead(&mut pooled, work)
    }

    /// Runs `task` on a dedicated connection until it succeeds, then marks the database
    /// prepared. Used at start-up to apply migrations and load reference data: while the
    /// database is unreachable it retries with a growing pause, so the service recovers by
    /// itself when the database comes back.
    pub fn prepare_in_background<F>(&self, task: F) -> std::io::Result<()>
    where
        F: Fn(&mut DbConnection) -> anyhow::Result<()> + Send + 'static,
    {
        let weak = Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name("redes-db-prepare".into())
            .spawn(move || {
                let mut pause = Duration::from_millis(200);
                loop {
                    let Some(inner) = weak.upgrade() else { return };
                    let db = Db { inner };
                    match db.prepare_now(&task) {
                        Ok(()) => return,
                        Err(error) => {
                            tracing::warn!(
                                error = format!("{error:#}"),
                                retry_in_ms = pause.as_millis() as u64,
                                "database not prepared yet; retrying"
                            );
                        }
                    }
                    drop(db);
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            })
            .map(drop)
    }

    /// Runs `task` once on a pooled connection and marks the database prepared if it succeeds.
    pub fn prepare_now<F>(&self, task: &F) -> anyhow::Result<()>
    where
        F: Fn(&mut DbConnection) -> anyhow::Result<()>,
    {
        let mut pooled = self.inner.pool.get()?;
        let result = task(&mut pooled.connection);
        if result.is_err() {
            // Whatever failed, do not hand this connection to a request.
            pooled.broken = true;
        }
        result?;
        self.inner.prepared.store(true, Ordering::Release);
        Ok(())
    }
}

/// A write transaction: its connection, and the changes to journal and audit when it commits.
pub struct Tx<'c> {
    conn: &'c mut DbConnection,
    changes: Vec<Change>,
    audit: Vec<AuditEntry>,
}

impl Tx<'_> {
    pub fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// Records a change to journal with this transaction, and audits it without field values.
    /// Prefer [`Tx::record_diff`], which says what changed.
    pub fn record(&mut self, change: Change) {
        self.audit.push(AuditEntry::of_change(&change, None, None));
        self.changes.push(change);
    }

    /// Records a change to journal with this transaction, and audits it with the resource's
    /// state before (`None` for a creation) and after (`None` for a deletion), as JSON objects:
    /// the log keeps the fields that differ, personal data masked ([`crate::audit::diff`]).
    pub fn record_diff(
        &mut self,
        change: Change,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) {
        self.audit
            .push(AuditEntry::of_change(&change, before, after));
        self.changes.push(change);
    }

    /// Audits a write that is not in the change journal (indicator definitions, API clients).
    /// The entry is inserted in this transaction, like every other: it commits with the write
    /// or not at all.
    pub fn audit(&mut self, entry: AuditEntry) {
        self.audit.push(entry);
    }

    /// [`Tx::audit`] for an entry that may not have been made (`None` audits nothing).
    pub fn audit_all(&mut self, entries: impl IntoIterator<Item = AuditEntry>) {
        self.audit.extend(entries);
    }
}

/// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite, so that the writer lock is taken at
/// once and waited for, rather than failing on a later upgrade), runs the work, inserts its audit
/// entries (attributed to [`crate::audit::current`]) and appends its changes to the journal as the
/// last statements, and commits; rolls back on any error, so no write commits without its audit.
pub fn in_write_transaction<T, F>(conn: &mut DbConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, ApiError>,
{
    in_write_transaction_keeping(conn, |tx| work(tx).map(|value| (value, true)))
}

/// [`in_write_transaction`] whose work also says whether to keep what it wrote: `false` rolls
/// back and still answers its value (a dry run, or an atomic import that met conflicts).
pub fn in_write_transaction_keeping<T, F>(conn: &mut DbConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<(T, bool), ApiError>,
{
    use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        DbConnection::Pg(_) => Manager::begin_transaction(conn)?,
    }
    let mut tx = Tx {
        conn,
        changes: Vec::new(),
        audit: Vec::new(),
    };
    let result = work(&mut tx).and_then(|(value, keep)| {
        if keep {
            // The audit first: the journal append takes PostgreSQL's journal lock until commit.
            let actor = crate::audit::current();
            crate::repository::audit::append(tx.conn, &actor, &tx.audit)?;
            crate::repository::changes::append(tx.conn, &tx.changes)?;
        }
        Ok((value, keep))
    });
    match result {
        Ok((value, true)) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Ok((value, false)) => {
            Manager::rollback_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // A failed rollback leaves the transaction manager broken, and r2d2 then discards
            // the connection: nothing half-done is ever reused.
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(error)
        }
    }
}

/// The outcome of one try on one connection.
enum Attempt {
    DeadConnection(ApiError),
    Failed(ApiError),
}

impl Attempt {
    fn into_api_error(self) -> ApiError {
        match self {
            Attempt::DeadConnection(error) | Attempt::Failed(error) => error,
        }
    }
}

fn mark_if_dead<T, F>(
    pooled: &mut r2d2::PooledConnection<ConnectionManager>,
    work: F,
) -> Result<T, Attempt>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    let connection: &mut PooledConnection = pooled;
    let mut dead = false;
    let result = work(&mut connection.connection).map_err(|error| {
        if let ApiError::Database(ref db_error) = error {
            dead = is_connection_error(db_error);
        }
        error
    });
    if dead {
        connection.broken = true;
    }
    result.map_err(|error| {
        if dead {
            Attempt::DeadConnection(error)
        } else {
            Attempt::Failed(error)
        }
    })
}
