//! The service's own token signing keys (ES256), for the tokens `/oauth/token` issues.
//!
//! They live in one directory (`REDES_OAUTH_KEY_DIR`, by default `data/oauth-keys/`):
//! `signing-key.pem` signs; `retired-*.pem` keys, left there by a rotation, still verify until
//! they are deleted (after the longest token lifetime). All are published at
//! `/.well-known/jwks.json`. The first start generates `signing-key.pem`; several instances
//! sharing the directory agree on it (it is created exclusively).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::principal::Claims;

pub const SIGNING_FILE: &str = "signing-key.pem";
const RETIRED_PREFIX: &str = "retired-";

/// A public key as published in the JWKS document (RFC 7517, RFC 7518 §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
    "kid": "awPbFUkLQrUrIF4bQ8HmdnBtjQFev2-nlxwZR40PxSY",
    "x": "zJXOoV-hkoHljOTRB3bqFhDsZQnuoEpseLdq0efhCec",
    "y": "PMmMsxrXnZ3wWS3EYMrwh3ZFGrSkgNVUlQLLaQbw7SE"}))]
pub struct PublicJwk {
    /// `EC`.
    pub kty: &'static str,
    /// `P-256`.
    pub crv: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// `ES256`.
    pub alg: &'static str,
    /// The key's RFC 7638 thumbprint.
    pub kid: String,
    /// The point's x coordinate, base64url.
    pub x: String,
    /// The point's y coordinate, base64url.
    pub y: String,
}

/// One key pair.
struct KeyPair {
    jwk: PublicJwk,
    encoding: EncodingKey,
}

impl KeyPair {
    fn from_pem(pem: &str) -> Result<KeyPair, SigningKeyError> {
        let secret = SecretKey::from_pkcs8_pem(pem).map_err(|_| SigningKeyError::NotAKey)?;
        KeyPair::from_secret(&secret)
    }

    fn from_secret(secret: &SecretKey) -> Result<KeyPair, SigningKeyError> {
        let point = secret.public_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(SigningKeyError::NotAKey);
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        // RFC 7638: the required members, in lexicographic order, without spaces.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| SigningKeyError::NotAKey)?;
        let encoding =
            EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| SigningKeyError::NotAKey)?;
        Ok(KeyPair {
            jwk: PublicJwk {
                kty: "EC",
                crv: "P-256",
                use_: "sig",
                alg: "ES256",
                kid,
                x,
                y,
            },
            encoding,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("cannot read or write the signing keys in {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a file in the signing key directory is not a P-256 private key in PKCS#8 PEM")]
    NotAKey,
    #[error("{path}: {source}")]
    InFile {
        path: PathBuf,
        source: Box<SigningKeyError>,
    },
}

/// The signing key and the retired keys still published.
pub struct SigningKeys {
    current: KeyPair,
    retired: Vec<KeyPair>,
}

impl SigningKeys {
    /// Loads the keys of `dir`, generating the signing key on first use.
    pub fn load_or_generate(dir: &Path) -> Result<SigningKeys, SigningKeyError> {
        let io = |source| SigningKeyError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let current_path = dir.join(SIGNING_FILE);
        let current = match std::fs::read_to_string(&current_path) {
            Ok(pem) => in_file(&current_path, KeyPair::from_pem(&pem))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                generate_into(&current_path).map_err(io)?;
                let pem = std::fs::read_to_string(&current_path).map_err(io)?;
                in_file(&current_path, KeyPair::from_pem(&pem))?
            }
            Err(e) => return Err(io(e)),
        };
        let mut retired = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(RETIRED_PREFIX) && n.ends_with(".pem"))
            })
            .collect();
        entries.sort();
        for path in entries {
            let pem = std::fs::read_to_string(&path).map_err(io)?;
            retired.push(in_file(&path, KeyPair::from_pem(&pem))?);
        }
        Ok(SigningKeys { current, retired })
    }

    /// Retires the signing key (renamed `retired-<time>.pem`) and generates a new one. Running
    /// instances pick it up when they restart; until then they keep signing with the old key,
    /// which every instance still accepts.
    pub fn rotate(dir: &Path) -> Result<SigningKeys, SigningKeyError> {
        let io = |source| SigningKeyError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let current = dir.join(SIGNING_FILE);
        if current.exists() {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
            std::fs::rename(&current, dir.join(format!("{RETIRED_PREFIX}{stamp}.pem")))
                .map_err(io)?;
        }
        SigningKeys::load_or_generate(dir)
    }

    /// The `kid` tokens are signed with now.
    pub fn current_kid(&self) -> &str {
        &self.current.jwk.kid
    }

    /// Every key that verifies, signing key first.
    pub fn public_keys(&self) -> Vec<PublicJwk> {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .map(|pair| pair.jwk.clone())
            .collect()
    }

    /// The keys as verification keys, with their `kid`s.
    pub fn decoding_keys(&self) -> Vec<(String, DecodingKey)> {
        self.public_keys()
            .into_iter()
            .filter_map(|jwk| {
                DecodingKey::from_ec_components(&jwk.x, &jwk.y)
                    .ok()
                    .map(|key| (jwk.kid, key))
            })
            .collect()
    }

    /// Signs claims with the signing key (ES256, with its `kid`).
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.current.jwk.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.current.encoding)
    }
}

fn in_file<T>(path: &Path, result: Result<T, SigningKeyError>) -> Result<T, SigningKeyError> {
    result.map_err(|source| SigningKeyError::InFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
}

/// Writes a new P-256 key to `path`, owner-only, unless another process created it first.
fn generate_into(path: &Path) -> std::io::Result<()> {
    let secret = loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        // A scalar outside [1, n) has probability below 2^-32: draw again.
        if let Ok(secret) = SecretKey::from_slice(&bytes) {
            break secret;
        }
    };
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => file.write_all(pem.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_tokens_its_published_key_verifies_and_rotation_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SigningKeys::load_or_generate(dir.path()).unwrap();
        let again = SigningKeys::load_or_generate(dir.path()).unwrap();
        assert_eq!(keys.current_kid(), again.current_kid(), "the key is kept");
        assert_eq!(
            keys.current_kid().len(),
            43,
            "a SHA-256 thumbprint in base64url"
        );

        let claims = Claims {
            sub: "c".into(),
            scope: "schools:read".into(),
            territories: vec!["CL".into()],
            iss: "redes".into(),
            aud: super::super::principal::Audience::One("redes".into()),
            exp: jsonwebtoken::get_current_timestamp() + 60,
            nbf: None,
            iat: None,
            client_id: Some("c".into()),
        };
        let token = keys.sign(&claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(keys.current_kid()));
        let (_, key) = &keys.decoding_keys()[0];
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&["redes"]);
        let decoded = jsonwebtoken::decode::<Claims>(&token, key, &validation).unwrap();
        assert_eq!(decoded.claims, claims);

        let rotated = SigningKeys::rotate(dir.path()).unwrap();
        assert_ne!(rotated.current_kid(), keys.current_kid());
        let published: Vec<String> = rotated.public_keys().into_iter().map(|k| k.kid).collect();
        assert_eq!(published.len(), 2);
        assert!(published.contains(&keys.current_kid().to_owned()));
    }

    #[test]
    fn a_file_that_is_not_a_key_stops_the_start_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SIGNING_FILE), "not a key").unwrap();
        let error = SigningKeys::load_or_generate(dir.path()).err().unwrap();
        assert!(error.to_string().contains(SIGNING_FILE), "{error}");
    }
}
