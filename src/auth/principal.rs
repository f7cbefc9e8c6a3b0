//! Who is calling: the `Principal` built from a verified token, and `Authorized<S>`, which also
//! demands a scope.

use std::collections::BTreeSet;
use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::{Deserialize, Serialize};

use super::scopes::Scope;
use super::{AuthError, KeySet, TerritoryScope};
use crate::catalog::{Catalogue, CatalogueEntry};
use crate::error::ApiError;

/// The claims Redes reads from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who the token is for.
    pub sub: String,
    /// Space-separated scopes, e.g. `territories:read schools:write`.
    #[serde(default)]
    pub scope: String,
    /// Keys or ids of the territory subtrees the principal may act in (`CL` for all of Chile).
    #[serde(default)]
    pub territories: Vec<String>,
    pub iss: String,
    pub aud: Audience,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The API client the token was issued to by `/oauth/token` (RFC 9068 §2.2); absent in
    /// tokens issued elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// `aud` is a string or a list of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// An authenticated caller. Cheap to clone: the principal of a verified token is built once and
/// shared by every request that presents the same token (see [`KeySet::authenticate`]).
#[derive(Debug, Clone)]
pub struct Principal(Arc<Identity>);

/// What a [`Principal`] is: who, with which scopes, over which territories.
#[derive(Debug)]
pub struct Identity {
    pub subject: String,
    pub scopes: BTreeSet<String>,
    /// The territories the token grants, resolved in the catalogue.
    pub territories: Vec<CatalogueEntry>,
    /// The same territories as a territorial scope (subtree roots).
    pub territory_scope: TerritoryScope,
    /// The API client the token was issued to, for tokens from `/oauth/token`.
    pub client_id: Option<String>,
    /// When the token expires (seconds since the epoch).
    pub expires_at: u64,
}

impl Deref for Principal {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.0
    }
}

/// The outcome of authenticating a request, kept in its extensions by [`identify`] so that the
/// token is verified once per request, whoever asks (rate limiting, idempotency, handlers).
#[derive(Debug, Clone)]
pub struct Authentication(pub Result<Principal, AuthError>);

impl Principal {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    pub(super) fn from_claims(
        claims: Claims,
        catalogue: &Catalogue,
    ) -> Result<Principal, AuthError> {
        let territories = claims
            .territories
            .iter()
            .map(|t| {
                catalogue
                    .resolve_str(t)
                    .cloned()
                    .ok_or_else(|| AuthError::UnknownTerritory(t.chars().take(64).collect()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let territory_scope =
            TerritoryScope::from_paths(territories.iter().map(|t| t.path.clone()));
        Ok(Principal(Arc::new(Identity {
            subject: claims.sub,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            territories,
            territory_scope,
            client_id: claims.client_id,
            expires_at: claims.exp,
        })))
    }

    /// The caller of a request, if it sent a valid token (after [`identify`] ran).
    pub fn of(req: &HttpRequest) -> Option<Principal> {
        match req.extensions().get::<Authentication>() {
            Some(Authentication(Ok(principal))) => Some(principal.clone()),
            _ => None,
        }
    }

    fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
        if let Some(Authentication(outcome)) = req.extensions().get::<Authentication>() {
            return outcome.clone().map_err(ApiError::Unauthenticated);
        }
        Principal::verify(req)
    }

    fn verify(req: &HttpRequest) -> Result<Principal, ApiError> {
        let (Some(keys), Some(catalogue)) = (
            req.app_data::<web::Data<KeySet>>(),
            req.app_data::<web::Data<Catalogue>>(),
        ) else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "the key set or the catalogue is not registered as app data"
            )));
        };
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated(AuthError::Missing))?;
        // A token seen before is found by its bytes: the header is not checked or split as text
        // again (a verified token is visible ASCII, and what surrounds it here is `Bearer` and
        // blanks, as the parsing below requires).
        if let Some(token) = bearer_bytes(header.as_bytes())
            && let Some(known) = keys.known(token).map_err(ApiError::Unauthenticated)?
        {
            return Ok(known);
        }
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthenticated(AuthError::NotBearer))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::Unauthenticated(AuthError::NotBearer)),
        };
        keys.authenticate(token, |claims| Principal::from_claims(claims, catalogue))
            .map_err(ApiError::Unauthenticated)
    }
}

/// The token of an `Authorization: Bearer <token>` header, as bytes, with the spaces and tabs
/// around it left out.
fn bearer_bytes(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = rest.iter().position(|b| !blank(b))?;
    let end = rest.iter().rposition(|b| !blank(b))?;
    Some(&rest[start..=end])
}

/// Middleware: verifies the request's bearer token, if it has an `Authorization` header, once,
/// and keeps the outcome in the request's extensions.
pub async fn identify(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        match Principal::verify(req.request()) {
            Ok(principal) => {
                req.extensions_mut().insert(Authentication(Ok(principal)));
            }
            Err(ApiError::Unauthenticated(reason)) => {
                req.extensions_mut().insert(Authentication(Err(reason)));
            }
            // Misconfiguration: left to the extractor, which answers it.
            Err(_) => {}
        }
    }
    next.call(req).await
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Principal::authenticate(req))
    }
}

/// An authenticated caller holding the scope `S`: 401 without a valid token, 403 without the
/// scope. Extracted before a handler's other arguments, so a caller without rights never learns
/// anything from validation errors.
#[derive(Debug, Clone)]
pub struct Authorized<S: Scope> {
    pub principal: Principal,
    scope: PhantomData<S>,
}

impl<S: Scope> FromRequest for Authorized<S> {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Principal::authenticate(req).and_then(|principal| {
            if principal.has_scope(S::NAME) {
                Ok(Authorized {
                    principal,
                    scope: PhantomData,
                })
            } else {
                Err(ApiError::MissingScope { scope: S::NAME })
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_bytes;

    #[test]
    fn the_token_is_what_follows_bearer_and_blanks() {
        assert_eq!(bearer_bytes(b"Bearer abc.def"), Some(&b"abc.def"[..]));
        assert_eq!(bearer_bytes(b"bEaReR \t abc.def \t"), Some(&b"abc.def"[..]));
        assert_eq!(bearer_bytes(b"Basic abc"), None);
        assert_eq!(bearer_bytes(b"Bearerabc"), None);
        assert_eq!(bearer_bytes(b"Bearer    "), None);
        // Only spaces and tabs are blanks: anything else stays, and the token is then not one
        // that was verified.
        assert_eq!(bearer_bytes(b"Bearer abc\x0c"), Some(&b"abc\x0c"[..]));
    }
}
