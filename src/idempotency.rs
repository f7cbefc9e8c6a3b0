//! `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first response to
//! a key is kept for [`KEEP`] per caller and replayed to a retry with the same key and request;
//! the same key with another request is 422, and a retry while the first is served is 409.
//!
//! The stored response is written after the handler's transaction commits, not in it: if the
//! process dies between the two, the key stays `running` until [`ABANDON_AFTER`], and then a
//! retry runs the request again. Keys are forgotten lazily: expired rows are taken over when
//! their key comes back, and a small share of claims deletes every expired row.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::db::{Db, DbTime};
use crate::error::{ApiError, PROBLEM_JSON};
use crate::repository::idempotency::{self as repo, Claim, Lifetimes, StoredResponse};

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set to `true` on a replayed response.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a key's response is kept.
pub const KEEP: chrono::Duration = chrono::Duration::hours(24);
/// After this, a claim still `running` is taken to be abandoned (its process died): longer than
/// any request may last (the database statement timeout is 30 s by default).
pub const ABANDON_AFTER: chrono::Duration = chrono::Duration::minutes(2);
/// The longest response body kept; a larger one is answered but not kept (its key is released).
pub const MAX_STORED_BODY: usize = 1024 * 1024;
/// The longest key.
pub const MAX_KEY_LENGTH: usize = 255;
/// Seconds a client is asked to wait while the first request with its key is served.
pub const IN_PROGRESS_RETRY_AFTER: u32 = 1;
/// One claim in this many also deletes the expired keys.
const CLEANUP_ONE_IN: u32 = 64;

/// POSTs that are not resource writes and take no key (a token request is answered afresh).
pub const EXCLUDED_PATHS: &[&str] = &["/oauth/token"];

/// The response headers a replay repeats; not those about the message or the moment (`Date`,
/// `X-Request-Id`, `Content-Length`, `Content-Encoding`).
const REPLAYED_HEADERS: &[&str] = &[
    "content-type",
    "content-language",
    "content-location",
    "location",
    "etag",
    "last-modified",
    "cache-control",
    "link",
    "retry-after",
    "www-authenticate",
    "allow",
    "vary",
    "preference-applied",
];

/// What the middleware needs from the settings (app data).
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyConfig {
    pub max_body_bytes: usize,
}

/// The key of a request's `Idempotency-Key` header: 1 to 255 visible ASCII characters, sent
/// once. The draft makes the value a Structured Field string (`"…"`), which is accepted and
/// unquoted; so is a bare token, as most clients send it.
pub fn parse_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::InvalidIdempotencyKey);
    }
    let raw = value.as_bytes();
    let visible =
        |bytes: &[u8]| !bytes.is_empty() && bytes.iter().all(|b| (b'!'..=b'~').contains(b));
    if raw.len() > MAX_KEY_LENGTH || !visible(raw) {
        return Err(ApiError::InvalidIdempotencyKey);
    }
    let key = match raw {
        // The draft's form, a Structured Field string; escapes are not needed by any key.
        [b'"', inner @ .., b'"'] if raw.len() >= 2 => {
            if !visible(inner) || inner.contains(&b'"') || inner.contains(&b'\\') {
                return Err(ApiError::InvalidIdempotencyKey);
            }
            inner
        }
        _ => raw,
    };
    String::from_utf8(key.to_vec())
        .map(Some)
        .map_err(|_| ApiError::InvalidIdempotencyKey)
}

/// SHA-256 (hex) of the method, path with query, and body: what makes two requests the same.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for part in [method.as_bytes(), path_and_query.as_bytes(), body] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a response is kept for replay: successes and the client's own mistakes, which a
/// retry would repeat; not what a retry may change (408, 409, 429, 5xx).
fn keeps(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && !matches!(
                status,
                StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
            ))
}

/// Middleware: runs after `auth::identify` (the caller is known) and inside `render_problems`.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST
        || !req.headers().contains_key(IDEMPOTENCY_KEY)
        || EXCLUDED_PATHS.contains(&req.path())
    {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    // Without a valid token the handler answers 401; nothing to remember.
    let Some(principal) = Principal::of(req.request()) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match parse_key(req.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        Err(error) => return Ok(req.error_response(error)),
    };
    let (Some(db), Some(config)) = (
        req.app_data::<web::Data<Db>>().cloned(),
        req.app_data::<web::Data<IdempotencyConfig>>()
            .map(|config| *config.get_ref()),
    ) else {
        return Ok(req.error_response(ApiError::internal(anyhow::anyhow!(
            "the database or the idempotency settings are not registered as app data"
        ))));
    };
    let limit = config.max_body_bytes;
    // A body announced too large is left to the handler, which answers 413 as without a key.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let (http_req, payload) = req.into_parts();
    let body = match read_body(payload, limit).await {
        Ok(body) => body,
        Err(error) => {
            return Ok(ServiceRequest::from_parts(http_req, Payload::None).error_response(error));
        }
    };
    let path_and_query = http_req
        .uri()
        .path_and_query()
        .map_or_else(|| http_req.path().to_owned(), |p| p.as_str().to_owned());
    let fingerprint = fingerprint(http_req.method().as_str(), &path_and_query, &body);
    let owner = principal
        .client_id
        .clone()
        .unwrap_or_else(|| principal.subject.clone());
    let req = ServiceRequest::from_parts(http_req, Payload::from(body));

    let claimed = {
        let (owner, key) = (owner.clone(), key.clone());
        db.write(move |tx| {
            let now = DbTime::now();
            if rand::random_ratio(1, CLEANUP_ONE_IN) {
                let forgotten = repo::delete_expired(tx.conn(), now)?;
                tracing::debug!(forgotten, "expired idempotency keys deleted");
            }
            let lifetimes = Lifetimes {
                keep: KEEP,
                abandon_after: ABANDON_AFTER,
            };
            Ok(repo::claim(
                tx.conn(),
                &owner,
                &key,
                &fingerprint,
                now,
                lifetimes,
            )?)
        })
        .await
    };
    let claimed_at = match claimed {
        Ok(Claim::Claimed(at)) => at,
        Ok(Claim::Replay(stored)) => return Ok(replay(req, stored)),
        Ok(Claim::Mismatch) => return Ok(req.error_response(ApiError::IdempotencyKeyReused)),
        Ok(Claim::InProgress) => return Ok(req.error_response(ApiError::IdempotencyKeyInUse)),
        Err(error) => return Ok(req.error_response(error)),
    };

    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            release(&db, owner, key, claimed_at).await;
            return Err(error);
        }
    };
    let status = response.status();
    if !keeps(status) {
        release(&db, owner, key, claimed_at).await;
        return Ok(response.map_into_boxed_body());
    }
    let (http_req, res) = response.into_parts();
    let mut headers = stored_headers(res.headers());
    let (res, body) = match crate::error::rendered_problem(&http_req, &res) {
        // An error is kept as `render_problems` will write it, in this client's language.
        Some(Ok((problem, lang))) => {
            headers.retain(|(name, _)| {
                !["content-type", "content-language", "cache-control"].contains(&name.as_str())
            });
            headers.push(("content-type".into(), PROBLEM_JSON.into()));
            headers.push(("content-language".into(), lang.tag().into()));
            headers.push(("cache-control".into(), "no-store".into()));
            (res.map_into_boxed_body(), problem)
        }
        Some(Err(error)) => {
            release(&db, owner, key, claimed_at).await;
            return Err(actix_web::error::ErrorInternalServerError(error));
        }
        None => {
            let fits = match res.body().size() {
                BodySize::None => true,
                BodySize::Sized(length) => length <= MAX_STORED_BODY as u64,
                BodySize::Stream => false,
            };
            if !fits {
                tracing::info!(
                    "response too large to keep for its idempotency key; the key is released"
                );
                release(&db, owner, key, claimed_at).await;
                return Ok(ServiceResponse::new(http_req, res.map_into_boxed_body()));
            }
            let (head, body) = res.into_parts();
            match actix_web::body::to_bytes(body).await {
                Ok(bytes) => (head.set_body(BoxBody::new(bytes.clone())), bytes.to_vec()),
                Err(error) => {
                    let error: Box<dyn std::error::Error> = error.into();
                    let error = anyhow::anyhow!("cannot read the response body: {error}");
                    release(&db, owner, key, claimed_at).await;
                    return Ok(
                        ServiceResponse::new(http_req, head.set_body(BoxBody::new(())))
                            .error_response(ApiError::internal(error)),
                    );
                }
            }
        }
    };
    let stored = StoredResponse {
        status: status.as_u16(),
        headers: serde_json::to_string(&headers).unwrap_or_else(|_| "[]".into()),
        body,
    };
    let kept = db
        .write(move |tx| Ok(repo::store(tx.conn(), &owner, &key, claimed_at, &stored)?))
        .await;
    match kept {
        Ok(true) => {}
        Ok(false) => tracing::warn!("idempotency claim lost before its response was kept"),
        // The request's own work is done and committed: answer it; the key stays `running`
        // until abandoned, then a retry runs again (documented).
        Err(error) => {
            tracing::warn!(error = %error, "cannot keep the response of an idempotency key")
        }
    }
    Ok(ServiceResponse::new(http_req, res))
}

/// Reads the whole body, refusing one beyond `limit` (413, as the extractors do).
async fn read_body(mut payload: Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| match error {
            actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
            _ => ApiError::MalformedJson("the body could not be read".into()),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The headers of `headers` a replay repeats, as `[name, value]` pairs.
fn stored_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    REPLAYED_HEADERS
        .iter()
        .flat_map(|name| {
            headers
                .get_all(*name)
                .filter_map(|value| value.to_str().ok())
                .map(|value| ((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

/// The kept response, marked `Idempotent-Replayed: true`.
fn replay(req: ServiceRequest, stored: StoredResponse) -> ServiceResponse<BoxBody> {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    let headers: Vec<(String, String)> = serde_json::from_str(&stored.headers).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.append_header((name, value));
        }
    }
    response.insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")));
    req.into_response(response.body(stored.body))
}

/// Gives the key up so that a retry runs again; a failure is logged (the claim is then
/// abandoned after [`ABANDON_AFTER`]).
async fn release(db: &Db, owner: String, key: String, claimed_at: DbTime) {
    let released = db
        .write(move |tx| Ok(repo::release(tx.conn(), &owner, &key, claimed_at)?))
        .await;
    if let Err(error) = released {
        tracing::warn!(error = %error, "cannot release an idempotency key");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(values: &[&[u8]]) -> Result<Option<String>, ApiError> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(IDEMPOTENCY_KEY, HeaderValue::from_bytes(value).unwrap());
        }
        parse_key(&headers)
    }

    #[test]
    fn keys_are_visible_ascii_bare_or_quoted() {
        assert_eq!(key(&[]).unwrap(), None);
        assert_eq!(key(&[b"abc-1"]).unwrap().as_deref(), Some("abc-1"));
        assert_eq!(key(&[b"\"abc-1\""]).unwrap().as_deref(), Some("abc-1"));
        assert_eq!(key(&[b"\""]).unwrap().as_deref(), Some("\""));
        let longest = "k".repeat(MAX_KEY_LENGTH);
        assert_eq!(key(&[longest.as_bytes()]).unwrap(), Some(longest.clone()));
        let too_long = "k".repeat(MAX_KEY_LENGTH + 1);
        for bad in [
            &b""[..],
            b"a b",
            b"\"\"",
            b"\"a\"b\"",
            b"\"a\\b\"",
            too_long.as_bytes(),
            "ñ".as_bytes(),
        ] {
            assert!(key(&[bad]).is_err(), "{bad:?}");
        }
        assert!(key(&[b"a", b"a"]).is_err());
    }

    #[test]
    fn the_fingerprint_tells_requests_apart() {
        let a = fingerprint("POST", "/x", b"{}");
        assert_eq!(a, fingerprint("POST", "/x", b"{}"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, fingerprint("POST", "/x?y=1", b"{}"));
        assert_ne!(a, fingerprint("POST", "/x", b"{ }"));
        // Lengths are hashed: moving bytes between parts changes it.
        assert_ne!(
            fingerprint("POST", "/ab", b"c"),
            fingerprint("POST", "/a", b"bc")
        );
    }

    #[test]
    fn retries_may_change_what_is_not_kept() {
        assert!(keeps(StatusCode::CREATED));
        assert!(keeps(StatusCode::ACCEPTED));
        assert!(keeps(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(keeps(StatusCode::FORBIDDEN));
        for status in [408, 409, 429, 500, 503] {
            assert!(!keeps(StatusCode::from_u16(status).unwrap()), "{status}");
        }
    }
}
