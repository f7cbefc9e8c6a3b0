//! `GET /api/v1/import-jobs/{id}`: the state of an import run in the background (see
//! [`crate::import_jobs`]).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::scopes::IndicatorsImport;
use crate::auth::{Authorized, TerritoryScope};
use crate::db::{Db, DbConnection};
use crate::error::{ApiError, ApiResult, Resource};
use crate::import::{ImportStrategy, ImportSummary};
use crate::import_jobs::{ABANDONED, ImportJobs, stale_before};
use crate::json::Json;
use crate::openapi::responses;
use crate::query::NoParams;
use crate::repository::import_jobs::{self as repo, JobRow};
use crate::routes::common::path_id;

/// Where an import job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "running")]
pub enum ImportJobStatus {
    /// Accepted, waiting for the import before it on this instance.
    Queued,
    /// Importing.
    Running,
    /// Done: `summary` says what was written (conflicts included; see its `written`).
    Succeeded,
    /// Stopped by an error: `error` says why; nothing was written.
    Failed,
}

/// An import of indicator values run in the background (`Prefer: respond-async`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3e0-0000-7000-8000-0000000000a1",
    "status": "succeeded",
    "strategy": "create_and_update",
    "dry_run": false,
    "atomic": true,
    "values_read": 2,
    "summary": {"written": true, "imported": 2, "updated": 0, "ignored": 0, "deleted": 0,
                "conflicts": []},
    "error": null,
    "created_at": "2026-12-02T05:00:00.123456Z",
    "started_at": "2026-12-02T05:00:00.125000Z",
    "finished_at": "2026-12-02T05:00:00.250000Z"
}))]
pub struct ImportJob {
    pub id: Uuid,
    pub status: ImportJobStatus,
    pub strategy: ImportStrategy,
    pub dry_run: bool,
    pub atomic: bool,
    /// Values processed so far (read from the file and checked; a row of MEN's file holds
    /// several), conflicts included. On SQLite, an instance other than the one running the job
    /// sees the count only when the job ends.
    pub values_read: u64,
    /// What the import did, once `succeeded`: the same summary the synchronous import answers.
    pub summary: Option<ImportSummary>,
    /// Why it `failed`.
    pub error: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportJob {
    pub fn from_row(row: JobRow, values_read_here: Option<u64>) -> ApiResult<ImportJob> {
        let id = row.id.0;
        let bad =
            |what: &str| ApiError::internal(anyhow::anyhow!("import job {id} has a bad {what}"));
        let status = match row.status.as_str() {
            repo::QUEUED => ImportJobStatus::Queued,
            repo::RUNNING => ImportJobStatus::Running,
            repo::SUCCEEDED => ImportJobStatus::Succeeded,
            repo::FAILED => ImportJobStatus::Failed,
            _ => return Err(bad("status")),
        };
        let stored = u64::try_from(row.values_read).unwrap_or(0);
        let values_read = match status {
            ImportJobStatus::Queued | ImportJobStatus::Running => {
                stored.max(values_read_here.unwrap_or(0))
            }
            _ => stored,
        };
        Ok(ImportJob {
            id,
            status,
            strategy: row.strategy.parse().map_err(|()| bad("strategy"))?,
            dry_run: row.dry_run,
            atomic: row.atomic,
            values_read,
            summary: row
                .summary
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| bad("summary"))?,
            error: row.error,
            created_at: row.created_at.get(),
            started_at: row.started_at.map(|t| t.get()),
            finished_at: row.finished_at.map(|t| t.get()),
        })
    }
}

/// The territories a job was started with, as stored.
pub fn territories_text(scope: &TerritoryScope) -> String {
    scope.roots().join("\n")
}

/// The job, if `subject` started it and `scope` covers every territory it was started with.
fn visible(
    conn: &mut DbConnection,
    id: Uuid,
    subject: &str,
    scope: &TerritoryScope,
) -> ApiResult<Option<JobRow>> {
    let Some(row) = repo::find(conn, id, subject)? else {
        return Ok(None);
    };
    if !row
        .territories
        .lines()
        .all(|path| scope.contains_path(path))
    {
        return Ok(None);
    }
    // On PostgreSQL, instances share the database: a job whose instance died is found out
    // when it is read, not only when that instance starts again.
    let unfinished = row.status == repo::QUEUED || row.status == repo::RUNNING;
    if unfinished
        && matches!(conn, DbConnection::Pg(_))
        && row.updated_at < stale_before()
        && repo::fail_abandoned(conn, Some(stale_before()), Some(id), ABANDONED)? > 0
    {
        return Ok(repo::find(conn, id, subject)?);
    }
    Ok(Some(row))
}

/// Get an import job.
///
/// The state of an import started with `Prefer: respond-async`: `queued`, `running`,
/// `succeeded` (with the summary the synchronous import answers) or `failed` (with the reason;
/// nothing was written). Only the principal who started it (the same `sub`, with the territories
/// it was started with) sees it; for anyone else it does not exist (404). Poll until `status` is
/// `succeeded` or `failed`.
#[utoipa::path(
    tag = "indicators",
    operation_id = "get_import_job",
    params(("id" = Uuid, Path, description = "The job's id, from the `Location` of the 202.",
        example = "019ab3e0-0000-7000-8000-0000000000a1")),
    responses(
        (status = 200, description = "The job.", body = ImportJob),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:import"]))
)]
#[get("/import-jobs/{id}")]
pub async fn get_import_job(
    auth: Authorized<IndicatorsImport>,
    _query: NoParams,
    path: web::Path<String>,
    db: web::Data<Db>,
    jobs: web::Data<ImportJobs>,
) -> ApiResult<Json<ImportJob>> {
    let id = path_id(Resource::ImportJob, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let subject = auth.principal.subject.clone();
    let row = db
        .read(move |conn| visible(conn, id, &subject, &scope))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::ImportJob, id))?;
    Ok(Json(ImportJob::from_row(row, jobs.values_read(id))?))
}
