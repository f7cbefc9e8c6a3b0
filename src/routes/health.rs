//! Operations endpoints: liveness, readiness and metrics. They need no token: orchestrators and
//! Prometheus call them (keep them off the public internet with your network policy).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::metrics::Metrics;
use crate::openapi::responses;
use crate::startup::Draining;

/// The service's health.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "postgres", "read_replica": "ready"}))]
pub struct Health {
    /// `live` or `ready`.
    pub status: &'static str,
    /// The database backend (`postgres` or `sqlite`), for readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// For readiness, when a read replica is configured (`REDES_DATABASE_READ_URL`): `ready`,
    /// or `unavailable` while analytics pulls and the change feed answer 503. The replica does
    /// not decide readiness: every instance shares it, so taking them out of the load balancer
    /// would not bring it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_replica: Option<&'static str>,
}

/// Liveness.
///
/// The process is up and serving HTTP. It does not look at the database: restart the process
/// only if this fails.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process is alive.", body = Health,
        example = json!({"status": "live"})))
)]
#[get("/health/live")]
pub async fn live() -> web::Json<Health> {
    web::Json(Health {
        status: "live",
        database: None,
        read_replica: None,
    })
}

/// Readiness.
///
/// The database is reachable, migrated and loaded with the reference data. While it is not, this
/// answers 503 and so does every API call that needs the database; the service recovers by
/// itself when the database returns. After a stop signal it answers 503 for
/// `REDES_SHUTDOWN_DRAIN` while the service still serves, so that load balancers stop sending
/// it new connections before it closes its listener.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve.", body = Health),
        (status = 503, response = responses::Unavailable),
    )
)]
#[get("/health/ready")]
pub async fn ready(db: web::Data<Db>, draining: web::Data<Draining>) -> ApiResult<Json<Health>> {
    if draining.is_draining() {
        return Err(ApiError::Unavailable("the service is stopping".into()));
    }
    let replica = async {
        match db.read_replica() {
            Some(replica) => Some(replica.ping().await.is_ok()),
            None => None,
        }
    };
    // At once, so that a replica that does not answer does not delay the primary's verdict.
    let (primary, replica) = tokio::join!(db.ping(), replica);
    primary?;
    Ok(Json(Health {
        status: "ready",
        database: Some(db.backend()),
        read_replica: replica.map(|up| if up { "ready" } else { "unavailable" }),
    }))
}

/// Prometheus metrics.
///
/// Text exposition format 0.0.4: `redes_http_requests_total` by method, route and status; `redes_http_request_duration_seconds` by method and route;
/// `redes_db_pool_connections` by state, `redes_db_pool_max_size`, `redes_db_ready`,
/// `redes_db_statements_total`; with a read replica, `redes_db_read_replica_pool_connections`
/// by state, `redes_db_read_replica_ready` and `redes_db_read_replica_statements_total`.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Metrics in Prometheus text format.",
        content_type = "text/plain; version=0.0.4", body = String))
)]
#[get("/metrics")]
pub async fn metrics(db: web::Data<Db>, metrics: web::Data<Metrics>) -> ApiResult<HttpResponse> {
    let prepared = db.is_prepared();
    let replica = db
        .read_replica()
        .map(|replica| replica.pool_snapshot(replica.is_prepared()));
    let text = metrics
        .render(&db.pool_snapshot(prepared), replica.as_ref())
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
