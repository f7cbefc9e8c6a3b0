//! The service as an OAuth 2.0 authorisation server for its API clients: the token signer, the
//! cache of clients' states that token validation consults, and per-client rate limits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use crate::auth::signing::SigningKeys;
use crate::auth::{AuthError, Authentication};
use crate::configuration::{RateLimitSettings, Settings};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::repository::clients::{self, ClientState};

/// What `/oauth/token` needs: the signing keys and the tokens' lifetime, issuer and audience.
pub struct TokenIssuer {
    pub keys: SigningKeys,
    pub ttl: Duration,
    pub issuer: String,
    pub audience: String,
    /// Token requests per IP address.
    requests: governor::DefaultKeyedRateLimiter<IpAddr>,
}

impl TokenIssuer {
    pub fn new(keys: SigningKeys, settings: &Settings) -> TokenIssuer {
        let per_minute = NonZeroU32::new(settings.rate_limit.token_requests_per_minute)
            .unwrap_or(NonZeroU32::MIN);
        TokenIssuer {
            keys,
            ttl: settings.oauth.token_ttl,
            issuer: settings.jwt.issuer.clone(),
            audience: settings.jwt.audience.clone(),
            requests: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Whether another token request from `ip` may go on now; else the seconds to wait.
    pub fn admit(&self, ip: IpAddr) -> Result<(), u64> {
        if self.requests.len() > 10_000 {
            self.requests.retain_recent();
        }
        self.requests.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

/// API clients' states, as token validation needs them, kept for `REDES_OAUTH_CLIENT_CACHE`
/// so that validating a token costs a database read at most once per client and period.
pub struct ClientCache {
    ttl: Duration,
    entries: Mutex<HashMap<Uuid, (Instant, Option<ClientState>)>>,
}

impl ClientCache {
    pub fn new(ttl: Duration) -> ClientCache {
        ClientCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, id: Uuid) -> Option<Option<ClientState>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, state)| *state)
    }

    /// The client's state: cached, or read now.
    pub async fn state(&self, db: &Db, id: Uuid) -> ApiResult<Option<ClientState>> {
        if let Some(state) = self.cached(id) {
            return Ok(state);
        }
        let state = db.read(move |conn| Ok(clients::state(conn, id)?)).await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        }
        entries.insert(id, (Instant::now(), state));
        Ok(state)
    }

    /// Drops what is cached about a client (after a change on this instance).
    pub fn forget(&self, id: Uuid) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

/// The rate limit of the request's client, found while checking its state.
#[derive(Debug, Clone, Copy)]
pub struct ClientRateLimit(pub Option<u32>);

/// Middleware, after [`crate::auth::identify`]: a token issued to an API client is accepted only
/// while the client is active and not revoked (checked through the [`ClientCache`]).
pub async fn check_client(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let client = match req.extensions().get::<Authentication>() {
        Some(Authentication(Ok(principal))) => principal.client_id.clone(),
        _ => None,
    };
    if let Some(client) = client {
        let (Some(cache), Some(db)) = (
            req.app_data::<web::Data<ClientCache>>().cloned(),
            req.app_data::<web::Data<Db>>().cloned(),
        ) else {
            return Err(ApiError::internal(anyhow::anyhow!("client cache not registered")).into());
        };
        let state = match Uuid::try_parse(&client) {
            Ok(id) => match cache.state(&db, id).await {
                Ok(state) => state,
                Err(error) => {
                    let response = error.error_response();
                    return Ok(req.into_response(response).map_into_right_body());
                }
            },
            Err(_) => None,
        };
        match state {
            Some(state) if state.usable => {
                req.extensions_mut()
                    .insert(ClientRateLimit(state.rate_limit));
            }
            _ => {
                req.extensions_mut()
                    .insert(Authentication(Err(AuthError::ClientRevoked)));
            }
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Per-client token buckets (governor's GCRA): a sustained rate and a burst.
pub struct RateLimits {
    settings: RateLimitSettings,
    limiters: Mutex<HashMap<(String, u32), Arc<Limiter>>>,
}

/// The outcome of one check, for the `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again (or, refused, until the next request may go).
    pub reset: u64,
    pub per_second: u32,
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> RateLimits {
        RateLimits {
            settings,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// Checks one request of `owner` (a client id, or a token subject), whose own rate
    /// (requests per second) overrides the default. `None` when limits are off.
    pub fn check(
        &self,
        owner: &str,
        own_rate: Option<u32>,
    ) -> Option<Result<Allowance, Allowance>> {
        let per_second = own_rate.unwrap_or(self.settings.per_second);
        let per_second = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(self.settings.burst.max(per_second.get()))?;
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
            if limiters.len() > 50_000 {
                // Forgetting buckets only ever lets requests through: a bounded memory.
                limiters.clear();
            }
            Arc::clone(
                limiters
                    .entry((owner.to_owned(), per_second.get()))
                    .or_insert_with(|| {
                        Arc::new(
                            RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst))
                                .with_middleware::<StateInformationMiddleware>(),
                        )
                    }),
            )
        };
        let refill = |missing: u32| u64::from(missing).div_ceil(u64::from(per_second.get()));
        Some(match limiter.check() {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Ok(Allowance {
                    limit: burst.get(),
                    remaining,
                    reset: refill(burst.get().saturating_sub(remaining)),
                    per_second: per_second.get(),
                })
            }
            Err(not_until) => Err(Allowance {
                limit: burst.get(),
                remaining: 0,
                reset: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64,
                per_second: per_second.get(),
            }),
        })
    }
}

/// Middleware, after [`check_client`]: every request with a valid token counts against its
/// client's (or subject's) limit; over it, 429 with `Retry-After`. Requests without a valid
/// token (health, metrics, documents, the token endpoint) are not counted here.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let owner = match req.extensions().get::<Authentication>() {
        Some(Authentication(Ok(principal))) => Some(match &principal.client_id {
            Some(client) => format!("client:{client}"),
            None => format!("sub:{}", principal.subject),
        }),
        _ => None,
    };
    let own_rate = req
        .extensions()
        .get::<ClientRateLimit>()
        .and_then(|limit| limit.0);
    let outcome = match (owner, req.app_data::<web::Data<RateLimits>>()) {
        (Some(owner), Some(limits)) => limits.check(&owner, own_rate),
        _ => None,
    };
    match outcome {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(Err(refused)) => {
            let mut response = ApiError::TooManyRequests {
                retry_after: refused.reset,
                limit: refused.per_second,
            }
            .error_response();
            add_headers(response.headers_mut(), &refused);
            Ok(req.into_response(response).map_into_right_body())
        }
        Some(Ok(allowed)) => {
            let mut response = next.call(req).await?;
            add_headers(response.headers_mut(), &allowed);
            Ok(response.map_into_left_body())
        }
    }
}

/// The `RateLimit-*` fields of draft-ietf-httpapi-ratelimit-headers (limit, remaining, reset in
/// seconds) and the policy (burst; window in seconds to refill it).
fn add_headers(headers: &mut actix_web::http::header::HeaderMap, allowance: &Allowance) {
    let window = u64::from(allowance.limit).div_ceil(u64::from(allowance.per_second.max(1)));
    let fields = [
        ("ratelimit-limit", allowance.limit.to_string()),
        ("ratelimit-remaining", allowance.remaining.to_string()),
        ("ratelimit-reset", allowance.reset.to_string()),
        (
            "ratelimit-policy",
            format!("{};w={window}", allowance.limit),
        ),
    ];
    for (name, value) in fields {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_429_with_the_wait_and_others_are_not_affected() {
        let limits = RateLimits::new(RateLimitSettings {
            per_second: 1,
            burst: 3,
            token_requests_per_minute: 60,
        });
        for expected_remaining in [2, 1, 0] {
            let allowed = limits.check("client:a", None).unwrap().unwrap();
            assert_eq!(allowed.remaining, expected_remaining);
            assert_eq!(allowed.limit, 3);
        }
        let refused = limits.check("client:a", None).unwrap().unwrap_err();
        assert_eq!(refused.remaining, 0);
        assert!(refused.reset >= 1);
        assert!(limits.check("client:b", None).unwrap().is_ok());
        // A client's own rate replaces the default (a new bucket with its own size).
        assert!(limits.check("client:a", Some(100)).unwrap().is_ok());
    }

    #[test]
    fn a_rate_of_zero_turns_limits_off() {
        let limits = RateLimits::new(RateLimitSettings {
            per_second: 0,
            burst: 1,
            token_requests_per_minute: 60,
        });
        assert!(limits.check("client:a", None).is_none());
    }
}
