//! Authentication (Bearer JWT) and authorisation (scopes, territories).

mod keys;
mod principal;
pub mod scopes;
pub mod secrets;
pub mod signing;
pub mod territorial;
pub mod token;

pub use keys::{KeySet, KeySetError};
pub use principal::{Audience, Authentication, Authorized, Claims, Identity, Principal, identify};
pub use territorial::TerritoryScope;

use crate::i18n::Lang;

/// Why a request is not authenticated. Each answers 401 with a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("no configured key matches the token's kid or algorithm")]
    UnknownKey,
    #[error("the token's algorithm is not the one pinned for its key")]
    AlgorithmMismatch,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token comes from another issuer")]
    WrongIssuer,
    #[error("the token lacks the claim `{0}`")]
    MissingClaim(String),
    #[error("a claim has the wrong type")]
    InvalidClaims,
    #[error("the token names an unknown territory `{0}`")]
    UnknownTerritory(String),
    #[error("the token's API client is revoked or suspended")]
    ClientRevoked,
}

impl AuthError {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AuthError::Missing => lang.pick(
                "Falta el token: envíe `Authorization: Bearer <token>`.".into(),
                "No token: send `Authorization: Bearer <token>`.".into(),
            ),
            AuthError::NotBearer => lang.pick(
                "La cabecera Authorization debe ser `Bearer <token>`.".into(),
                "The Authorization header must be `Bearer <token>`.".into(),
            ),
            AuthError::Malformed => lang.pick(
                "El token no es un JWT bien formado.".into(),
                "The token is not a well-formed JWT.".into(),
            ),
            AuthError::UnknownKey => lang.pick(
                "Ninguna clave configurada corresponde al `kid` o al algoritmo del token.".into(),
                "No configured key matches the token's `kid` or algorithm.".into(),
            ),
            AuthError::AlgorithmMismatch => lang.pick(
                "El algoritmo del token no es el fijado para su clave.".into(),
                "The token's algorithm is not the one pinned for its key.".into(),
            ),
            AuthError::BadSignature => lang.pick(
                "La firma del token no es válida.".into(),
                "The token's signature does not verify.".into(),
            ),
            AuthError::Expired => lang.pick(
                "El token expiró: obtenga uno nuevo.".into(),
                "The token has expired: get a new one.".into(),
            ),
            AuthError::NotYetValid => lang.pick(
                "El token aún no es válido (`nbf`).".into(),
                "The token is not valid yet (`nbf`).".into(),
            ),
            AuthError::WrongAudience => lang.pick(
                "El token es para otra audiencia (`aud`).".into(),
                "The token is for another audience (`aud`).".into(),
            ),
            AuthError::WrongIssuer => lang.pick(
                "El token proviene de otro emisor (`iss`).".into(),
                "The token comes from another issuer (`iss`).".into(),
            ),
            AuthError::MissingClaim(claim) => lang.pick(
                format!("Al token le falta el claim `{claim}`."),
                format!("The token lacks the claim `{claim}`."),
            ),
            AuthError::InvalidClaims => lang.pick(
                "Un claim del token tiene un tipo incorrecto (`sub` y `scope` son texto, \
                 `territories` una lista de texto)."
                    .into(),
                "A claim of the token has the wrong type (`sub` and `scope` are strings, \
                 `territories` a list of strings)."
                    .into(),
            ),
            AuthError::ClientRevoked => lang.pick(
                "El cliente de API de este token fue revocado o suspendido.".into(),
                "This token's API client has been revoked or suspended.".into(),
            ),
            AuthError::UnknownTerritory(territory) => lang.pick(
                format!("El token nombra un territorio desconocido: `{territory}`."),
                format!("The token names an unknown territory: `{territory}`."),
            ),
        }
    }

    /// The RFC 6750 challenge. Without a token there is no error code (§3.1).
    pub fn www_authenticate(&self) -> String {
        match self {
            AuthError::Missing => "Bearer realm=\"redes\"".to_owned(),
            other => {
                let description: String = other
                    .to_string()
                    .chars()
                    .filter(|c| c.is_ascii() && *c != '"' && *c != '\\')
                    .collect();
                format!(
                    "Bearer realm=\"redes\", error=\"invalid_token\", \
                     error_description=\"{description}\""
                )
            }
        }
    }
}
