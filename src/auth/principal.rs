//! Who is calling: the `Principal` built from a verified token, and `Authorized<S>`, which also
//! demands a scope.

use std::collections::BTreeSet;
use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::{Deserialize, Serialize};

use super::scopes::Scope;
use super::{AuthError, KeySet};
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
}

/// `aud` is a string or a list of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub scopes: BTreeSet<String>,
    /// The territories the token grants, resolved in the catalogue.
    pub territories: Vec<CatalogueEntry>,
}

impl Principal {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    fn from_claims(claims: Claims, catalogue: &Catalogue) -> Result<Principal, AuthError> {
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
        Ok(Principal {
            subject: claims.sub,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            territories,
        })
    }

    fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
        let (Some(keys), Some(catalogue)) = (
            req.app_data::<web::Data<KeySet>>(),
            req.app_data::<web::Data<Catalogue>>(),
        ) else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "the key set or the catalogue is not registered as app data"
            )));
        };
        let value = req
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated(AuthError::Missing))?;
        let value = value
            .to_str()
            .map_err(|_| ApiError::Unauthenticated(AuthError::NotBearer))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::Unauthenticated(AuthError::NotBearer)),
        };
        let claims = keys.verify(token).map_err(ApiError::Unauthenticated)?;
        Principal::from_claims(claims, catalogue).map_err(ApiError::Unauthenticated)
    }
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
