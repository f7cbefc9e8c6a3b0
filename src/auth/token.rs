//! The HS256 secret (configured, or generated for development) and minting tokens with it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};

use super::principal::{Audience, Claims};
use super::{KeySet, KeySetError};
use crate::configuration::{Environment, Settings};

/// The file, under the data directory, holding the generated development secret.
pub const DEV_SECRET_FILE: &str = "jwt-dev-secret";
const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

/// The HS256 secret and where it came from.
pub struct SigningSecret {
    pub kid: String,
    pub secret: SecretSlice<u8>,
    /// Set when the secret was generated for development (and where it is stored).
    pub generated_at: Option<PathBuf>,
}

/// The HS256 secret this installation uses, if any: `REDES_JWT_SECRET`, or in development a
/// secret generated once and kept under the data directory. Production never generates one.
pub fn signing_secret(settings: &Settings) -> Result<Option<SigningSecret>, KeySetError> {
    let kid = settings.jwt.secret_kid.clone();
    if let Some(secret) = &settings.jwt.secret {
        let bytes = secret.expose_secret().as_bytes().to_vec();
        if settings.environment == Environment::Production
            && bytes.len() < MIN_PRODUCTION_SECRET_BYTES
        {
            return Err(KeySetError::ShortSecret);
        }
        return Ok(Some(SigningSecret {
            kid,
            secret: bytes.into(),
            generated_at: None,
        }));
    }
    if settings.environment == Environment::Production {
        return Ok(None);
    }
    let path = settings.data_dir.join(DEV_SECRET_FILE);
    let secret = development_secret(&path).map_err(|source| KeySetError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(Some(SigningSecret {
        kid,
        secret: secret.into(),
        generated_at: Some(path),
    }))
}

/// Reads the development secret, creating it (32 random bytes, owner-only) on first use.
fn development_secret(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())?;
            Ok(secret.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(path)?.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e),
    }
}

/// The key set of this installation, and the HS256 secret in it if any.
pub fn key_set(settings: &Settings) -> Result<(KeySet, Option<SigningSecret>), KeySetError> {
    let mut keys = KeySet::new(
        &settings.jwt.issuer,
        &settings.jwt.audience,
        settings.jwt.leeway,
    );
    let secret = signing_secret(settings)?;
    if let Some(secret) = &secret {
        keys.add_hs256(&secret.kid, secret.secret.expose_secret())?;
    }
    for file in &settings.jwt.public_keys {
        keys.add_pem_file(&file.kid, &file.path)?;
    }
    if let Some(path) = &settings.jwt.jwks_file {
        keys.add_jwks_file(path)?;
    }
    // Empty is not an error here: the service adds its own signing keys (for `/oauth/token`),
    // so a production installation may trust no other issuer.
    Ok((keys, secret))
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub subject: String,
    pub scopes: Vec<String>,
    pub territories: Vec<String>,
    pub ttl: Duration,
}

/// Signs a token with the HS256 secret, with `iat`, `nbf` and `exp` from now.
pub fn mint(
    settings: &Settings,
    secret: &SigningSecret,
    request: &TokenRequest,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: request.subject.clone(),
        scope: request.scopes.join(" "),
        territories: request.territories.clone(),
        iss: settings.jwt.issuer.clone(),
        aud: Audience::One(settings.jwt.audience.clone()),
        exp: now + request.ttl.as_secs(),
        nbf: Some(now),
        iat: Some(now),
        client_id: None,
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(secret.kid.clone());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.secret.expose_secret()),
    )
}
