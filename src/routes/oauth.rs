//! The token endpoint (RFC 6749 §4.4, client credentials), token info, and the JWKS document
//! with the keys the service signs its tokens with.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::signing::PublicJwk;
use crate::auth::{Audience, Claims, Principal, secrets};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::oauth::TokenIssuer;
use crate::openapi::responses;
use crate::query::NoParams;
use crate::repository::clients as repo;
use crate::routes::clients::{ClientTerritory, territory};

/// The form of `POST /oauth/token` (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "client_credentials", "scope": "schools:read"}))]
pub struct TokenForm {
    /// `client_credentials` (read as text so that another value gets RFC 6749's
    /// `unsupported_grant_type`, and none `invalid_request`).
    #[schema(value_type = GrantType, required = true)]
    pub grant_type: Option<String>,
    /// Space-separated scopes to narrow the token to (each one the client's); absent: all of
    /// the client's scopes.
    #[schema(example = "schools:read", nullable = false)]
    pub scope: Option<String>,
    /// The client's id, if not sent with HTTP Basic.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// The client's secret, if not sent with HTTP Basic.
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
}

/// The grant `POST /oauth/token` supports: client credentials (RFC 6749 §4.4). Only in the
/// document, for clients generated from it (the form reads `grant_type` as text).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "client_credentials")]
#[allow(dead_code)]
pub enum GrantType {
    ClientCredentials,
}

/// A token (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 600,
    "scope": "schools:read indicators:read"
}))]
pub struct TokenResponse {
    /// A JWT signed ES256 by the service (its keys at `/.well-known/jwks.json`).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// What a token grants, as `GET /oauth/token_info` tells its bearer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "active": true,
    "client_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "subject": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "scopes": ["schools:read", "indicators:read"],
    "territories": [{"key": "CL-09", "name": "La Araucanía", "level": "region"}],
    "expires_at": "2026-11-24T12:10:00Z",
    "expires_in": 587
}))]
pub struct TokenInfo {
    /// Always `true`: an invalid token gets 401.
    pub active: bool,
    /// The API client the token was issued to; `null` for tokens issued elsewhere.
    pub client_id: Option<String>,
    /// The token's `sub`.
    pub subject: String,
    pub scopes: Vec<String>,
    /// The territories the token acts in, with their names and levels.
    pub territories: Vec<ClientTerritory>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub expires_at: DateTime<Utc>,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// A JWKS document (RFC 7517).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
    "kid": "awPbFUkLQrUrIF4bQ8HmdnBtjQFev2-nlxwZR40PxSY",
    "x": "zJXOoV-hkoHljOTRB3bqFhDsZQnuoEpseLdq0efhCec",
    "y": "PMmMsxrXnZ3wWS3EYMrwh3ZFGrSkgNVUlQLLaQbw7SE"}]}))]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

fn oauth_error(error: &'static str, es: String, en: String, basic: bool) -> ApiError {
    let status = if error == "invalid_client" {
        actix_web::http::StatusCode::UNAUTHORIZED
    } else {
        actix_web::http::StatusCode::BAD_REQUEST
    };
    ApiError::OAuth {
        error,
        status,
        detail: (es, en),
        basic,
    }
}

fn invalid_request(es: &str, en: &str) -> ApiError {
    oauth_error("invalid_request", es.into(), en.into(), false)
}

/// `client_id:client_secret` from `Authorization: Basic`, each form-urlencoded (RFC 6749
/// §2.3.1). `Ok(None)` without such a header.
fn basic_credentials(req: &HttpRequest) -> ApiResult<Option<(String, String)>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        oauth_error(
            "invalid_client",
            "La cabecera Authorization debe ser `Basic base64(client_id:client_secret)`.".into(),
            "The Authorization header must be `Basic base64(client_id:client_secret)`.".into(),
            true,
        )
    };
    let value = value.to_str().map_err(|_| bad())?;
    let encoded = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => rest.trim(),
        _ => return Err(bad()),
    };
    let decoded = STANDARD.decode(encoded).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|t| t.into_owned())
            .map_err(|_| bad())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// Get a token (OAuth 2.0 client credentials).
///
/// RFC 6749 §4.4: `grant_type=client_credentials`, form-encoded, with the client's id and
/// secret in HTTP Basic (preferred) or as `client_id` and `client_secret` form parameters.
/// `scope` narrows the token to some of the client's scopes; it can never widen them. The token
/// is a JWT signed ES256 by the service, with the same claims as tokens issued elsewhere plus
/// `client_id`; it expires after `REDES_OAUTH_TOKEN_TTL` (10 minutes by default): ask for a new
/// one rather than refreshing. Errors are problems that also carry RFC 6749's `error` and
/// `error_description`; wrong credentials answer 401 `invalid_client` whether or not the client
/// exists, in the same time. At most `REDES_TOKEN_RATE_LIMIT` requests per minute from one
/// address (429 beyond).
#[utoipa::path(
    tag = "oauth",
    operation_id = "create_token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded",
        description = "The grant."),
    responses(
        (status = 200, description = "A token.", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or \
            `invalid_scope` (in `error`).", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret, or a \
            suspended or revoked client.", body = crate::error::Problem,
            content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"redes\"` when \
                HTTP Basic was used."))),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 429, response = responses::TooManyRequests),
        (status = 503, response = responses::Unavailable),
    ),
    security((), ("basic" = []))
)]
#[post("/oauth/token")]
pub async fn create_token(
    req: HttpRequest,
    _query: NoParams,
    body: web::Bytes,
    db: web::Data<Db>,
    issuer: web::Data<TokenIssuer>,
) -> ApiResult<HttpResponse> {
    if let Some(peer) = req.peer_addr()
        && let Err(retry_after) = issuer.admit(peer.ip())
    {
        return Err(ApiError::TooManyRequests {
            retry_after,
            limit: 0,
        });
    }
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form_type {
        return Err(invalid_request(
            "El cuerpo debe ser `application/x-www-form-urlencoded` (RFC 6749 §4.4.2).",
            "The body must be `application/x-www-form-urlencoded` (RFC 6749 §4.4.2).",
        ));
    }
    let form: TokenForm = serde_urlencoded::from_bytes(&body).map_err(|_| {
        invalid_request(
            "El formulario no se puede leer o repite un parámetro.",
            "The form cannot be read or repeats a parameter.",
        )
    })?;
    let basic = basic_credentials(&req)?;
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, form.client_id, form.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(invalid_request(
                "Envíe las credenciales en HTTP Basic o en el formulario, no en ambos.",
                "Send the credentials in HTTP Basic or in the form, not both.",
            ));
        }
        (Some(pair), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return Err(oauth_error(
                "invalid_client",
                "Faltan las credenciales del cliente (HTTP Basic o client_id y client_secret)."
                    .into(),
                "The client's credentials are missing (HTTP Basic, or client_id and \
                 client_secret)."
                    .into(),
                true,
            ));
        }
    };
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => {
            return Err(invalid_request(
                "Falta `grant_type`: use `client_credentials`.",
                "`grant_type` is missing: use `client_credentials`.",
            ));
        }
        Some(_) => {
            return Err(oauth_error(
                "unsupported_grant_type",
                "Solo se admite `grant_type=client_credentials`.".into(),
                "Only `grant_type=client_credentials` is supported.".into(),
                false,
            ));
        }
    }
    let invalid_client = move || {
        oauth_error(
            "invalid_client",
            "Cliente desconocido, secreto incorrecto, o cliente suspendido o revocado.".into(),
            "Unknown client, wrong secret, or a suspended or revoked client.".into(),
            used_basic,
        )
    };
    let id = Uuid::try_parse(client_id.trim()).ok();
    let row = match id {
        Some(id) => db.read(move |conn| Ok(repo::find(conn, id)?)).await?,
        None => None,
    };
    // The same work whether or not the client exists: one argon2 verification (two only while
    // a rotation's overlap lasts), then the same refusal.
    let now = Utc::now();
    let verified = web::block(move || match row {
        None => {
            secrets::verify_nothing(&secret);
            None
        }
        Some(row) => {
            let current = secrets::verify(&secret, &row.secret_hash);
            let previous = !current
                && row
                    .previous_secret_expires_at
                    .is_some_and(|until| until.get() > now)
                && row
                    .previous_secret_hash
                    .as_deref()
                    .is_some_and(|hash| secrets::verify(&secret, hash));
            ((current || previous) && row.usable()).then_some(row)
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(client) = verified else {
        return Err(invalid_client());
    };
    let granted: Vec<String> = match form.scope.as_deref().map(str::trim) {
        None | Some("") => client.scope_list(),
        Some(requested) => {
            let held = client.scope_list();
            let mut granted: Vec<String> = Vec::new();
            for scope in requested.split_whitespace() {
                if !held.iter().any(|h| h == scope) {
                    return Err(oauth_error(
                        "invalid_scope",
                        format!("El cliente no tiene el permiso (scope) `{scope}`."),
                        format!("The client does not hold the scope `{scope}`."),
                        false,
                    ));
                }
                if !granted.iter().any(|g| g == scope) {
                    granted.push(scope.to_owned());
                }
            }
            granted
        }
    };
    let issued_at = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: client.id.0.to_string(),
        scope: granted.join(" "),
        territories: client.territory_list(),
        iss: issuer.issuer.clone(),
        aud: Audience::One(issuer.audience.clone()),
        exp: issued_at + issuer.ttl.as_secs(),
        nbf: Some(issued_at),
        iat: Some(issued_at),
        client_id: Some(client.id.0.to_string()),
    };
    let token = issuer.keys.sign(&claims).map_err(ApiError::internal)?;
    let client_key = client.id.0;
    db.write(move |tx| Ok(repo::touch(tx.conn(), client_key)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: issuer.ttl.as_secs(),
            scope: claims.scope,
        }))
}

/// Token info.
///
/// What the caller's token grants: its client (for tokens from `/oauth/token`), subject,
/// scopes, territories with their names and levels, and expiry. Any valid token may ask; an
/// invalid, expired or revoked one gets 401.
#[utoipa::path(
    tag = "oauth",
    operation_id = "get_token_info",
    responses(
        (status = 200, description = "What the token grants.", body = TokenInfo),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 429, response = responses::TooManyRequests),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/oauth/token_info")]
pub async fn get_token_info(principal: Principal, _query: NoParams) -> ApiResult<HttpResponse> {
    let expires_at =
        DateTime::<Utc>::from_timestamp(i64::try_from(principal.expires_at).unwrap_or(i64::MAX), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let info = TokenInfo {
        active: true,
        client_id: principal.client_id.clone(),
        subject: principal.subject.clone(),
        scopes: principal.scopes.iter().cloned().collect(),
        territories: principal.territories.iter().map(territory).collect(),
        expires_in: principal
            .expires_at
            .saturating_sub(jsonwebtoken::get_current_timestamp()),
        expires_at,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(info))
}

/// The service's public signing keys (JWKS).
///
/// The keys that verify the tokens `/oauth/token` issues, by `kid`: the signing key first,
/// then retired keys still valid. A resource server of your own can verify Redes' tokens with
/// them.
#[utoipa::path(
    tag = "oauth",
    operation_id = "get_jwks",
    responses(
        (status = 200, description = "The JWKS document.", body = Jwks,
            content_type = "application/jwk-set+json"),
        (status = 400, response = responses::BadRequest),
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn get_jwks(_query: NoParams, issuer: web::Data<TokenIssuer>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .json(Jwks {
            keys: issuer.keys.public_keys(),
        })
}
