//! Import jobs: `POST /api/v1/indicator-values:import` with `Prefer: respond-async` runs the
//! import in the background and answers 202 with the job's URL. The job's state lives in the
//! database (`import_jobs`), so any instance answers `GET /api/v1/import-jobs/{id}`.
//!
//! A job runs on the blocking pool, detached from the request, with the territory scope of the
//! token that started it. Jobs of one instance run one at a time (a bulk import holds a write
//! transaction; on SQLite it holds the only writer lock): the others wait as `queued`.
//!
//! Progress: the importing thread counts values in memory (this instance answers from the
//! count) and, on PostgreSQL, writes the count with a heartbeat every few seconds from a second
//! connection. On SQLite it cannot: the import holds the writer lock, so other instances on the
//! same file see the count only when the job ends. A process that dies leaves its jobs
//! `queued` or `running`: at start, and on PostgreSQL also when a job is read, such jobs whose
//! heartbeat is older than [`STALE_AFTER`] (on SQLite, all of them at start: one process owns
//! the file) are marked `failed` with a reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::auth::TerritoryScope;
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbTime};
use crate::error::ApiError;
use crate::import::{self, ImportOptions, Source};
use crate::repository::import_jobs as repo;

/// A job without a heartbeat for this long is taken for abandoned (its process died).
pub const STALE_AFTER: Duration = Duration::from_secs(60);
/// How often a waiting or running job writes its heartbeat (PostgreSQL).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// The reason recorded for an abandoned job.
pub const ABANDONED: &str = "the process running the import stopped before it finished; \
nothing of it was written (an import is one transaction): start it again";

/// The jobs of this instance: one runs at a time; their counts so far.
#[derive(Debug, Default)]
pub struct ImportJobs {
    gate: Mutex<()>,
    progress: Mutex<HashMap<Uuid, Arc<AtomicU64>>>,
}

impl ImportJobs {
    /// Values processed so far by a job this instance runs.
    pub fn values_read(&self, id: Uuid) -> Option<u64> {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .map(|count| count.load(Ordering::Relaxed))
    }

    fn track(&self, id: Uuid) -> Arc<AtomicU64> {
        let count = Arc::new(AtomicU64::new(0));
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&count));
        count
    }

    fn forget(&self, id: Uuid) {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Runs the job `id` (already recorded as `queued`) in the background.
    pub fn start(
        self: Arc<Self>,
        db: &Db,
        catalogue: Arc<Catalogue>,
        scope: TerritoryScope,
        options: ImportOptions,
        source: Source,
        id: Uuid,
    ) {
        db.spawn_detached(move |db| {
            let count = self.track(id);
            let outcome = self.run(db, &catalogue, &scope, options, source, id, &count);
            let values_read = i64::try_from(count.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
            let outcome = match outcome {
                Ok(summary) => serde_json::to_string(&summary).map_err(|e| {
                    tracing::error!(error = %e, job = %id, "cannot serialise an import summary");
                    "internal error".to_owned()
                }),
                Err(error) => {
                    tracing::warn!(error = %error, job = %id, "import job failed");
                    Err(reason(&error))
                }
            };
            // The database may be briefly away: a few tries, else the job stays `running` in
            // the database until a restart marks it failed.
            let mut pause = Duration::from_millis(200);
            for attempt in 1..=5 {
                let result = db.execute_blocking(|conn| {
                    Ok(repo::finish(conn, id, values_read, outcome.clone())?)
                });
                match result {
                    Ok(()) => break,
                    Err(error) if attempt < 5 => {
                        tracing::warn!(error = %error, job = %id, "cannot record the job's end; retrying");
                        std::thread::sleep(pause);
                        pause *= 2;
                    }
                    Err(error) => {
                        tracing::error!(error = %error, job = %id, "cannot record the job's end");
                    }
                }
            }
            self.forget(id);
        });
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, each part distinct"
    )]
    fn run(
        &self,
        db: &Db,
        catalogue: &Catalogue,
        scope: &TerritoryScope,
        options: ImportOptions,
        source: Source,
        id: Uuid,
        count: &AtomicU64,
    ) -> Result<import::ImportSummary, ApiError> {
        let heartbeats = db.backend() == "postgres";
        let mut last_beat = Instant::now();
        // Wait for the running job, beating meanwhile so that the wait is not taken for death.
        let _turn = loop {
            match self.gate.try_lock() {
                Ok(turn) => break turn,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    std::thread::sleep(Duration::from_millis(100));
                    if heartbeats && last_beat.elapsed() >= HEARTBEAT_EVERY {
                        last_beat = Instant::now();
                        beat(db, id, 0);
                    }
                }
            }
        };
        db.execute_blocking(|conn| Ok(repo::start(conn, id)?))?;
        let mut last_beat = Instant::now();
        let mut progress = |values: u64| {
            count.store(values, Ordering::Relaxed);
            if heartbeats && last_beat.elapsed() >= HEARTBEAT_EVERY {
                last_beat = Instant::now();
                beat(db, id, values);
            }
        };
        db.write_keeping_blocking(|tx| {
            import::run(tx, catalogue, scope, options, source, &mut progress)
        })
    }
}

/// Writes a job's count and heartbeat from another connection; a failure is logged, not fatal:
/// the import goes on, and the next beat tries again.
fn beat(db: &Db, id: Uuid, values: u64) {
    let values = i64::try_from(values).unwrap_or(i64::MAX);
    if let Err(error) = db.execute_blocking(|conn| Ok(repo::heartbeat(conn, id, values)?)) {
        tracing::warn!(error = %error, job = %id, "cannot record the job's progress");
    }
}

/// Why a job failed, for its status: the problem's detail, in English.
fn reason(error: &ApiError) -> String {
    match error {
        ApiError::Validation(issues) => issues
            .iter()
            .map(|issue| issue.kind.message(crate::i18n::Lang::En))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::Internal(_) => "internal error".to_owned(),
        other => other.to_string(),
    }
}

/// At start: jobs left `queued` or `running` by a process that died are marked failed. On
/// SQLite (one process owns the file) every such job; on PostgreSQL, which other instances
/// share, those without a heartbeat for [`STALE_AFTER`].
pub fn fail_abandoned_at_start(conn: &mut DbConnection) -> diesel::QueryResult<usize> {
    let before = match conn {
        DbConnection::Sqlite(_) => None,
        DbConnection::Pg(_) => Some(stale_before()),
    };
    repo::fail_abandoned(conn, before, None, ABANDONED)
}

/// Heartbeats before this instant are stale.
pub fn stale_before() -> DbTime {
    let stale = chrono::Duration::from_std(STALE_AFTER).unwrap_or(chrono::Duration::MAX);
    DbTime::new(chrono::Utc::now() - stale)
}
