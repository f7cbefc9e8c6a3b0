//! The keys tokens are verified with, each pinned to one algorithm and named by a `kid`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::AuthError;
use super::principal::{Claims, Principal};

struct VerifyingKey {
    kid: String,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The configured verification keys with the expected issuer and audience.
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    issuer: String,
    audience: String,
    leeway: u64,
    verified: Verified,
}

/// Tokens already verified, with the principal built from their claims: a client sends the same
/// token with every request until it expires, and checking an ES256 signature (the tokens of
/// `/oauth/token`) costs more than the rest of a read by id (docs/PERFORMANCE.md); building the
/// principal again (its scopes, its territories resolved in the catalogue) cost a fifth of one.
/// Only tokens whose signature, issuer, audience, dates and territories passed are kept, under
/// their exact text, and expiry is checked again at every use. Bounded: when full, it starts
/// over.
struct Verified {
    tokens: Mutex<HashMap<Box<[u8]>, Principal, TailHash>>,
}

/// Hashes a token by its last 32 bytes (and its length), the end of its signature: hashing
/// the whole token (several hundred bytes) cost more than the lookup's other work. Only
/// verified tokens are stored, so nobody can fill the map with colliding keys; a lookup still
/// compares the whole token.
#[derive(Default)]
struct TailHash(std::hash::RandomState);

struct TailHasher(std::hash::DefaultHasher);

impl std::hash::BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

impl std::hash::Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(&bytes[bytes.len().saturating_sub(32)..]);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// At most this many tokens are remembered (a few MB).
const VERIFIED_CAPACITY: usize = 4096;

impl Verified {
    fn get(&self, token: &[u8]) -> Option<Principal> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(token).cloned()
    }

    fn remember(&self, token: &str, principal: &Principal) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= VERIFIED_CAPACITY {
            tokens.clear();
        }
        tokens.insert(token.as_bytes().into(), principal.clone());
    }

    fn forget(&self, token: &[u8]) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.remove(token);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    #[error(
        "no token keys could be loaded: set REDES_JWT_SECRET, REDES_JWT_PUBLIC_KEYS or \
         REDES_JWT_JWKS_FILE, or check REDES_OAUTH_KEY_DIR"
    )]
    NoKeys,
    #[error("REDES_JWT_SECRET must be at least 32 bytes in production")]
    ShortSecret,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds neither an RSA nor an EC public key in PEM form")]
    BadPem { path: PathBuf },
    #[error("{path} is not a JWKS document: {reason}")]
    BadJwks { path: PathBuf, reason: String },
    #[error("two keys have the kid `{0}`")]
    DuplicateKid(String),
}

impl KeySet {
    pub fn new(issuer: &str, audience: &str, leeway: Duration) -> Self {
        KeySet {
            keys: Vec::new(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway: leeway.as_secs(),
            verified: Verified {
                tokens: Mutex::new(HashMap::default()),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid`s and algorithms configured, for the start-up log.
    pub fn describe(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| format!("{} ({:?})", k.kid, k.algorithm))
            .collect()
    }

    fn push(
        &mut self,
        kid: &str,
        algorithm: Algorithm,
        key: DecodingKey,
    ) -> Result<(), KeySetError> {
        if self.keys.iter().any(|k| k.kid == kid) {
            return Err(KeySetError::DuplicateKid(kid.to_owned()));
        }
        self.keys.push(VerifyingKey {
            kid: kid.to_owned(),
            algorithm,
            key,
        });
        Ok(())
    }

    /// An HS256 shared secret.
    pub fn add_hs256(&mut self, kid: &str, secret: &[u8]) -> Result<(), KeySetError> {
        self.push(kid, Algorithm::HS256, DecodingKey::from_secret(secret))
    }

    /// The service's own ES256 keys (see [`super::signing`]).
    pub fn add_es256(&mut self, kid: &str, key: DecodingKey) -> Result<(), KeySetError> {
        self.push(kid, Algorithm::ES256, key)
    }

    /// A PEM public key: RSA keys verify RS256 only, EC (P-256) keys ES256 only.
    pub fn add_pem_file(&mut self, kid: &str, path: &Path) -> Result<(), KeySetError> {
        let pem = std::fs::read(path).map_err(|source| KeySetError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
            self.push(kid, Algorithm::RS256, key)
        } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
            self.push(kid, Algorithm::ES256, key)
        } else {
            Err(KeySetError::BadPem {
                path: path.to_path_buf(),
            })
        }
    }

    /// Every RS256 or ES256 signing key of a JWKS document that has a `kid`; keys for other
    /// algorithms or for encryption are skipped with a warning.
    pub fn add_jwks_file(&mut self, path: &Path) -> Result<(), KeySetError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeySetError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| KeySetError::BadJwks {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.as_deref() else {
                tracing::warn!(path = %path.display(), "skipping a JWKS key without kid");
                continue;
            };
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                (Some(KeyAlgorithm::RS256), AlgorithmParameters::RSA(_))
                | (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
                (Some(KeyAlgorithm::ES256), AlgorithmParameters::EllipticCurve(ec))
                | (None, AlgorithmParameters::EllipticCurve(ec))
                    if ec.curve == EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => {
                    tracing::warn!(kid, "skipping a JWKS key that is neither RS256 nor ES256");
                    continue;
                }
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| KeySetError::BadJwks {
                path: path.to_path_buf(),
                reason: format!("key {kid}: {e}"),
            })?;
            self.push(kid, algorithm, key)?;
        }
        Ok(())
    }

    /// Verifies a token and returns its principal, built from its claims by `principal` the
    /// first time the token is seen (an error there is the token's, and nothing is kept).
    ///
    /// The key is chosen by the token's `kid`, or, without one, as the only key for the token's
    /// algorithm. The algorithm is the key's own, never the header's: an HS256 token presented
    /// for an RS256 key is refused (the classic key-confusion attack), and `alg: none` does not
    /// even parse.
    pub fn authenticate(
        &self,
        token: &str,
        principal: impl FnOnce(Claims) -> Result<Principal, AuthError>,
    ) -> Result<Principal, AuthError> {
        if let Some(known) = self.known(token.as_bytes())? {
            return Ok(known);
        }
        let principal = principal(self.verify_signed(token)?)?;
        self.verified.remember(token, &principal);
        Ok(principal)
    }

    /// The principal of a token verified before, if it is remembered; `Expired` once it has
    /// expired since.
    pub fn known(&self, token: &[u8]) -> Result<Option<Principal>, AuthError> {
        let Some(known) = self.verified.get(token) else {
            return Ok(None);
        };
        // The same rule as the first verification: expired once `exp` is more than the leeway
        // in the past.
        let now = jsonwebtoken::get_current_timestamp();
        if known.expires_at.saturating_add(self.leeway) < now {
            self.verified.forget(token);
            return Err(AuthError::Expired);
        }
        Ok(Some(known))
    }

    fn verify_signed(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let key = match header.kid.as_deref() {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid == kid)
                .ok_or(AuthError::UnknownKey)?,
            None => {
                let mut candidates = self.keys.iter().filter(|k| k.algorithm == header.alg);
                match (candidates.next(), candidates.next()) {
                    (Some(key), None) => key,
                    _ => return Err(AuthError::UnknownKey),
                }
            }
        };
        if key.algorithm != header.alg {
            return Err(AuthError::AlgorithmMismatch);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
                ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => AuthError::InvalidClaims,
                ErrorKind::InvalidAlgorithm => AuthError::AlgorithmMismatch,
                _ => AuthError::Malformed,
            })
    }
}
