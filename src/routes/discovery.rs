//! `GET /api/v1`: what an integrator needs to start, without a token.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::configuration::Settings;
use crate::openapi::responses;
use crate::query::NoParams;

/// The API's version, links and published limits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "name": "Redes API",
    "version": "0.1.0",
    "build": "dev",
    "links": {
        "openapi": "/openapi.json", "docs": "/docs/", "token": "/oauth/token",
        "token_info": "/oauth/token_info", "jwks": "/.well-known/jwks.json",
        "changes": "/api/v1/changes", "health": "/health/ready"
    },
    "limits": {
        "page_size_default": 50, "page_size_max": 500, "max_body_bytes": 1048576,
        "rate_limit_per_second": 100, "rate_limit_burst": 200,
        "token_requests_per_minute": 60, "token_lifetime_seconds": 600,
        "analytics_row_cap": 10000, "idempotency_key_hours": 24
    },
    "scopes": ["territories:read", "schools:read"]
}))]
pub struct Discovery {
    pub name: &'static str,
    /// The API's version (semantic versioning; the path's `v1` changes only on breaking
    /// changes).
    pub version: &'static str,
    /// The build, as set by `REDES_BUILD` when the binary was built (`dev` otherwise).
    pub build: &'static str,
    pub links: Links,
    pub limits: Limits,
    /// Every scope a token may carry.
    pub scopes: Vec<&'static str>,
}

/// Where things are.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"openapi": "/openapi.json", "docs": "/docs/", "token": "/oauth/token",
    "token_info": "/oauth/token_info", "jwks": "/.well-known/jwks.json",
    "changes": "/api/v1/changes", "health": "/health/ready"}))]
pub struct Links {
    /// The OpenAPI 3.1 document.
    pub openapi: &'static str,
    /// The interactive documentation.
    pub docs: &'static str,
    /// The OAuth 2.0 token endpoint (client credentials).
    pub token: &'static str,
    /// What the caller's token grants.
    pub token_info: &'static str,
    /// The keys the service signs tokens with.
    pub jwks: &'static str,
    /// The change feed, to sync from.
    pub changes: &'static str,
    /// Readiness.
    pub health: &'static str,
}

/// The limits this installation applies.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"page_size_default": 50, "page_size_max": 500,
    "max_body_bytes": 1048576, "rate_limit_per_second": 100, "rate_limit_burst": 200,
    "token_requests_per_minute": 60, "token_lifetime_seconds": 600,
    "analytics_row_cap": 10000, "idempotency_key_hours": 24}))]
pub struct Limits {
    pub page_size_default: i64,
    pub page_size_max: i64,
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Sustained requests per second per client (0: no limit); a client may have its own.
    pub rate_limit_per_second: u32,
    /// Requests a client may make at once above the sustained rate.
    pub rate_limit_burst: u32,
    /// Requests to the token endpoint per minute from one address.
    pub token_requests_per_minute: u32,
    pub token_lifetime_seconds: u64,
    /// Rows an analytics pull may return.
    pub analytics_row_cap: usize,
    /// How long a response is kept for replay under its `Idempotency-Key`.
    pub idempotency_key_hours: u32,
}

/// Discovery.
///
/// The API's version and build, links to its contract, documentation, token endpoint, keys and
/// change feed, and the limits this installation applies. No token needed.
#[utoipa::path(
    tag = "operations",
    operation_id = "get_discovery",
    responses(
        (status = 200, description = "The API's description.", body = Discovery),
        (status = 400, response = responses::BadRequest),
    )
)]
#[get("")]
pub async fn get_discovery(
    _query: NoParams,
    settings: web::Data<Settings>,
) -> web::Json<Discovery> {
    web::Json(Discovery {
        name: "Redes API",
        version: env!("CARGO_PKG_VERSION"),
        build: option_env!("REDES_BUILD").unwrap_or("dev"),
        links: Links {
            openapi: "/openapi.json",
            docs: "/docs/",
            token: "/oauth/token",
            token_info: "/oauth/token_info",
            jwks: "/.well-known/jwks.json",
            changes: "/api/v1/changes",
            health: "/health/ready",
        },
        limits: Limits {
            page_size_default: crate::pagination::DEFAULT_LIMIT,
            page_size_max: crate::pagination::MAX_LIMIT,
            max_body_bytes: settings.http.max_body_bytes,
            rate_limit_per_second: settings.rate_limit.per_second,
            rate_limit_burst: settings.rate_limit.burst,
            token_requests_per_minute: settings.rate_limit.token_requests_per_minute,
            token_lifetime_seconds: settings.oauth.token_ttl.as_secs(),
            analytics_row_cap: crate::routes::analytics::ROW_CAP,
            idempotency_key_hours: 24,
        },
        scopes: crate::auth::scopes::ALL.to_vec(),
    })
}
