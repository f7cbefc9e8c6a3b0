//! `POST /api/v1/indicator-values:import`: indicator values in bulk, from JSON or CSV (see
//! [`crate::import`]).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::scopes::IndicatorsImport;
use crate::auth::{Authorized, TerritoryScope};
use crate::catalog::Catalogue;
use crate::db::{Db, DbTime, DbUuid};
use crate::error::{ApiError, ApiResult, Issue, IssueKind};
use crate::import::{self, ImportOptions, ImportStrategy, ImportSummary, STRATEGIES, Source};
use crate::import_jobs::ImportJobs;
use crate::json;
use crate::openapi::responses;
use crate::query::QueryParams;
use crate::repository::import_jobs::{self as jobs_repo, JobRow};
use crate::routes::import_jobs::{ImportJob, territories_text};
use crate::routes::indicators::ValueInput;

/// The JSON body of `POST /api/v1/indicator-values:import`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "strategy": "create_and_update",
    "dry_run": false,
    "atomic": true,
    "values": [
        {"indicator": "CO_COBERTURA_NETA", "org_unit": "05001", "period": "2017",
         "disaggregation": {"level": "primaria"}, "value": 87.5, "source": "MEN"},
        {"indicator": "CO_COBERTURA_NETA", "org_unit": "CO-05001", "period": "2017",
         "value": 84.1, "source": "MEN"}
    ]
}))]
pub struct ImportBody {
    /// `create` (a value that exists is a conflict), `update` (a missing one is a conflict),
    /// `create_and_update` (the default) or `delete` (a missing one is ignored). Overrides the
    /// query parameter.
    pub strategy: Option<ImportStrategy>,
    /// Check and count, write nothing. Default `false`.
    pub dry_run: Option<bool>,
    /// Default `true`: any conflict and nothing is written. `false`: the good rows are written.
    pub atomic: Option<bool>,
    /// Value bodies, as `POST /api/v1/indicator-values` takes them; the org unit may also be an
    /// official code (DIVIPOLA, CUT, `rbd:N`, `dane:N`).
    #[schema(max_items = 100000)]
    pub values: Vec<ValueInput>,
}

/// The JSON body as read: values one by one, so that a bad one is a conflict of its row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBody {
    strategy: Option<ImportStrategy>,
    dry_run: Option<bool>,
    atomic: Option<bool>,
    values: Vec<serde_json::Value>,
}

/// Options of `POST /api/v1/indicator-values:import` (for a JSON body, its fields win).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `create`, `update`, `create_and_update` or `delete`.
    #[param(value_type = Option<ImportStrategy>, example = "create_and_update")]
    pub strategy: Option<String>,
    /// Check and count, write nothing.
    #[param(default = false, example = false)]
    pub dry_run: Option<bool>,
    /// `true` (default): any conflict and nothing is written; `false`: best effort.
    #[param(default = true, example = true)]
    pub atomic: Option<bool>,
    /// For CSV: read the file through this declared mapping (`men-municipal`) rather than by
    /// its header (the generic layout, or a mapping whose columns the header has).
    #[param(example = "men-municipal", max_length = 64)]
    pub mapping: Option<String>,
}

/// Whether the request asks to be answered before the work is done (RFC 7240
/// `Prefer: respond-async`, among other preferences); other preferences are ignored.
fn prefers_async(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::HeaderName::from_static("prefer"))
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|preference| {
            preference
                .split([';', '='])
                .next()
                .unwrap_or_default()
                .trim()
        })
        .any(|name| name.eq_ignore_ascii_case("respond-async"))
}

/// Import indicator values.
///
/// Rows from a JSON body (`values`: value bodies) or a CSV file (`text/csv`): the generic
/// header `indicator,org_unit,period,value[,numerator,denominator,disaggregation,source,comment]`
/// (`disaggregation` as `level=primaria;sex=f`), or MEN's municipal statistics as published
/// (or as the open-data API exports them), read through the mapping
/// `catalog/indicators/men-municipal.json`. Org units are territory keys or ids, official codes
/// (DIVIPOLA `05001`, `05`; CUT `13101`), `rbd:N` or `dane:N`, in the caller's territories.
/// Each row is checked like `POST /api/v1/indicator-values` and journalled like it.
///
/// Answers 200 with a summary in every case where the request itself is sound, conflicts
/// included: `written` says whether anything was kept (`false` on a dry run, and when an atomic
/// import met a conflict). Rows are numbered as in the file (the CSV header is row 1). A CSV
/// may be UTF-8 (with or without a byte-order mark) or Windows-1252 / Latin-1. The body
/// is bounded by `REDES_MAX_BODY_BYTES`; import larger files with `redes import indicators`.
///
/// With `Prefer: respond-async` (RFC 7240) the request is checked as above (400, 413, 415, 422
/// come first), then answered 202 with `Location: /api/v1/import-jobs/{id}` and the job, which
/// runs in the background with the caller's territories: poll `GET /api/v1/import-jobs/{id}`
/// until it `succeeded` (with this same summary) or `failed`.
#[utoipa::path(
    tag = "indicators",
    operation_id = "import_indicator_values",
    params(ImportParams,
        ("Prefer" = Option<String>, Header, description = "`respond-async` to run the import as a \
job: 202 with the job's URL in `Location` (RFC 7240); other preferences are ignored.",
            example = "respond-async")),
    request_body(content(
        (ImportBody = "application/json"),
        (String = "text/csv", example = "indicator,org_unit,period,value,disaggregation\nCO_COBERTURA_NETA,05001,2017,87.5,level=primaria\n")
    ), description = "The values: JSON, or a CSV file (generic or MEN's municipal file)."),
    responses(
        (status = 200, description = "The summary (conflicts included; see `written`).",
            body = ImportSummary),
        (status = 202, description = "Accepted as a job (`Prefer: respond-async`): poll its URL.",
            body = ImportJob,
            headers(("Location" = String, description = "The job's URL: `/api/v1/import-jobs/{id}`."),
                    ("Preference-Applied" = String, description = "`respond-async`."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["indicators:import"]))
)]
#[post("/indicator-values:import")]
pub async fn import_indicator_values(
    auth: Authorized<IndicatorsImport>,
    query: QueryParams,
    request: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
    jobs: web::Data<ImportJobs>,
) -> ApiResult<HttpResponse> {
    let mut reader = query.reader(&["strategy", "dry_run", "atomic", "mapping"]);
    let mut options = ImportOptions::default();
    if let Some(strategy) = reader.choice::<ImportStrategy>("strategy", STRATEGIES) {
        options.strategy = strategy;
    }
    if let Some(dry_run) = reader.boolean("dry_run") {
        options.dry_run = dry_run;
    }
    if let Some(atomic) = reader.boolean("atomic") {
        options.atomic = atomic;
    }
    let mapping = reader.text("mapping", 64);
    reader.finish()?;
    let asynchronous = prefers_async(&request);
    let media = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let source = match media.as_str() {
        "application/json" => {
            let raw: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
            // The body must be what the contract documents (422 with pointers otherwise);
            // rows that break rules beyond the schema are conflicts of their rows.
            crate::contract::contract()?.check("import_indicator_values", &raw)?;
            let raw: RawBody = serde_json::from_value(raw).map_err(|e| {
                ApiError::Validation(vec![Issue::body(
                    "",
                    IssueKind::InvalidBody {
                        detail: e.to_string(),
                    },
                )])
            })?;
            options.strategy = raw.strategy.unwrap_or(options.strategy);
            options.dry_run = raw.dry_run.unwrap_or(options.dry_run);
            options.atomic = raw.atomic.unwrap_or(options.atomic);
            Source::Json(raw.values)
        }
        "text/csv" => {
            if asynchronous {
                // A file whose header cannot be read is the request's 422, not a failed job.
                import::check_csv_header(&body[..], mapping.as_deref())?;
            }
            Source::Csv(Box::new(std::io::Cursor::new(body)), mapping)
        }
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let scope = TerritoryScope::of(&auth.principal);
    let catalogue = catalogue.into_inner();
    if asynchronous {
        let now = DbTime::now();
        let row = JobRow {
            id: DbUuid(uuid::Uuid::now_v7()),
            subject: auth.principal.subject.clone(),
            territories: territories_text(&scope),
            status: jobs_repo::QUEUED.to_owned(),
            strategy: strategy_code(options.strategy).to_owned(),
            dry_run: options.dry_run,
            atomic: options.atomic,
            values_read: 0,
            summary: None,
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
        };
        let id = row.id.0;
        let job = ImportJob::from_row(row.clone(), None)?;
        db.write(move |tx| Ok(jobs_repo::insert(tx.conn(), &row)?))
            .await?;
        jobs.into_inner()
            .start(&db, catalogue, scope, options, source, id);
        return Ok(HttpResponse::Accepted()
            .insert_header((header::LOCATION, format!("/api/v1/import-jobs/{id}")))
            .insert_header(("Preference-Applied", "respond-async"))
            .json(job));
    }
    let summary = db
        .write_keeping(move |tx| import::run(tx, &catalogue, &scope, options, source, &mut |_| {}))
        .await?;
    Ok(json::respond(HttpResponse::Ok(), &summary))
}

fn strategy_code(strategy: ImportStrategy) -> &'static str {
    match strategy {
        ImportStrategy::Create => "create",
        ImportStrategy::Update => "update",
        ImportStrategy::CreateAndUpdate => "create_and_update",
        ImportStrategy::Delete => "delete",
    }
}
