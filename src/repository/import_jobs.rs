//! Import jobs: imports of indicator values run in the background, and their outcome. Not
//! journalled: a job is a request's state, not data integrators sync.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{DbConnection, DbTime, DbUuid};
use crate::schema::import_jobs;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_jobs)]
pub struct JobRow {
    pub id: DbUuid,
    pub subject: String,
    /// The territory paths of the token that started it, one per line.
    pub territories: String,
    pub status: String,
    pub strategy: String,
    pub dry_run: bool,
    pub atomic: bool,
    pub values_read: i64,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub created_at: DbTime,
    pub started_at: Option<DbTime>,
    pub finished_at: Option<DbTime>,
    pub updated_at: DbTime,
}

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

pub fn insert(conn: &mut DbConnection, row: &JobRow) -> QueryResult<()> {
    diesel::insert_into(import_jobs::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The job, if this subject started it (the caller checks the territories).
pub fn find(conn: &mut DbConnection, id: Uuid, subject: &str) -> QueryResult<Option<JobRow>> {
    import_jobs::table
        .select(JobRow::as_select())
        .filter(import_jobs::id.eq(DbUuid(id)))
        .filter(import_jobs::subject.eq(subject.to_owned()))
        .first(conn)
        .optional()
}

/// The job begins its import.
pub fn start(conn: &mut DbConnection, id: Uuid) -> QueryResult<()> {
    let now = DbTime::now();
    diesel::update(import_jobs::table.filter(import_jobs::id.eq(DbUuid(id))))
        .set((
            import_jobs::status.eq(RUNNING),
            import_jobs::started_at.eq(Some(now)),
            import_jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Progress of a job that waits or runs: its count, and its heartbeat.
pub fn heartbeat(conn: &mut DbConnection, id: Uuid, values_read: i64) -> QueryResult<()> {
    diesel::update(
        import_jobs::table
            .filter(import_jobs::id.eq(DbUuid(id)))
            .filter(import_jobs::status.eq_any([QUEUED, RUNNING])),
    )
    .set((
        import_jobs::values_read.eq(values_read),
        import_jobs::updated_at.eq(DbTime::now()),
    ))
    .execute(conn)
    .map(drop)
}

/// The job's end: `summary` (JSON) when it succeeded, `error` when it failed.
pub fn finish(
    conn: &mut DbConnection,
    id: Uuid,
    values_read: i64,
    outcome: Result<String, String>,
) -> QueryResult<()> {
    let now = DbTime::now();
    let (status, summary, error) = match outcome {
        Ok(summary) => (SUCCEEDED, Some(summary), None),
        Err(error) => (FAILED, None, Some(error)),
    };
    diesel::update(import_jobs::table.filter(import_jobs::id.eq(DbUuid(id))))
        .set((
            import_jobs::status.eq(status),
            import_jobs::values_read.eq(values_read),
            import_jobs::summary.eq(summary),
            import_jobs::error.eq(error),
            import_jobs::finished_at.eq(Some(now)),
            import_jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks `failed`, with `reason`, the jobs still queued or running whose last heartbeat is
/// before `before` (every such job when `None`), optionally only one; returns how many.
pub fn fail_abandoned(
    conn: &mut DbConnection,
    before: Option<DbTime>,
    only: Option<Uuid>,
    reason: &str,
) -> QueryResult<usize> {
    let now = DbTime::now();
    let mut unfinished = import_jobs::table
        .filter(import_jobs::status.eq_any([QUEUED, RUNNING]))
        .into_boxed();
    if let Some(before) = before {
        unfinished = unfinished.filter(import_jobs::updated_at.lt(before));
    }
    if let Some(id) = only {
        unfinished = unfinished.filter(import_jobs::id.eq(DbUuid(id)));
    }
    let ids: Vec<DbUuid> = unfinished.select(import_jobs::id).load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        import_jobs::table
            .filter(import_jobs::id.eq_any(ids))
            .filter(import_jobs::status.eq_any([QUEUED, RUNNING])),
    )
    .set((
        import_jobs::status.eq(FAILED),
        import_jobs::error.eq(Some(reason.to_owned())),
        import_jobs::finished_at.eq(Some(now)),
        import_jobs::updated_at.eq(now),
    ))
    .execute(conn)
}
