//! Settings, read from `REDES_*` environment variables with defaults that run a development
//! service on a fresh machine. Every setting is listed in README.md. Secrets are kept in
//! [`SecretString`] so they never reach a log line or a `Debug` print.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::telemetry::LogFormat;

/// Whether this is a development or a production installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Generates a JWT secret under the data directory when none is configured.
    Development,
    /// Refuses to start without explicitly configured token keys.
    Production,
}

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A `postgres://` or `postgresql://` URL, given to libpq as it is.
    Postgres(String),
    /// A SQLite database file.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://PATH` or a plain path.
    pub fn parse(value: &str) -> Result<DatabaseUrl, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("is empty".into());
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(value.to_owned()));
        }
        if let Some(path) = value.strip_prefix("sqlite://") {
            return DatabaseUrl::sqlite_path(path);
        }
        if let Some((scheme, _)) = value.split_once(':') {
            // A Windows drive letter is one character; anything else before a colon is a
            // misspelt URL (`postgresql:db`, `sqlite:x`), which must not silently become a file.
            if scheme.len() > 1 {
                return Err(format!(
                    "`{scheme}:` is not a supported scheme: use postgres://…, postgresql://…, \
                     sqlite://PATH or a plain file path"
                ));
            }
        }
        DatabaseUrl::sqlite_path(value)
    }

    fn sqlite_path(path: &str) -> Result<DatabaseUrl, String> {
        if path.is_empty() {
            return Err("the SQLite path is empty".into());
        }
        if path.contains(":memory:") || path.starts_with("file:") {
            return Err(
                "in-memory SQLite is not supported (each pooled connection would get \
                        its own empty database): give a file path"
                    .into(),
            );
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgres",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }
}

/// Shows the URL without its password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => {
                let Some((scheme, rest)) = url.split_once("://") else {
                    return f.write_str("postgres://…");
                };
                match rest.split_once('@') {
                    Some((credentials, host)) => match credentials.split_once(':') {
                        Some((user, _)) => write!(f, "{scheme}://{user}:***@{host}"),
                        None => write!(f, "{scheme}://{credentials}@{host}"),
                    },
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    /// A PostgreSQL read replica of `url` for the heavy reads that tolerate a lag of seconds
    /// (analytics pulls and the change feed); everything else stays on `url`.
    pub read_url: Option<DatabaseUrl>,
    /// Maximum connections in the pool.
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before answering 503.
    pub pool_timeout: Duration,
    /// PostgreSQL `statement_timeout` for every pooled connection.
    pub statement_timeout: Duration,
    /// Whether short reads run on the HTTP worker when a connection is free at once
    /// (`Db::read_short`), instead of always going through the blocking pool.
    pub inline_reads: bool,
    /// Whether reads by id that arrive together on a worker share one statement on
    /// PostgreSQL (`db::coalesce`).
    pub coalesce_reads: bool,
}

impl DatabaseSettings {
    /// Why these settings cannot run, if they cannot: a read replica is a PostgreSQL server
    /// that follows a PostgreSQL primary (SQLite has no replicas).
    pub fn problem(&self) -> Option<String> {
        match (&self.url, &self.read_url) {
            (_, None) | (DatabaseUrl::Postgres(_), Some(DatabaseUrl::Postgres(_))) => None,
            (_, Some(DatabaseUrl::Sqlite(_))) => Some(
                "REDES_DATABASE_READ_URL: a read replica is a PostgreSQL server: give a \
                 postgres://… URL"
                    .into(),
            ),
            (DatabaseUrl::Sqlite(_), Some(_)) => Some(
                "REDES_DATABASE_READ_URL: needs REDES_DATABASE_URL on PostgreSQL (SQLite has no \
                 read replicas)"
                    .into(),
            ),
        }
    }
}

/// A public key to verify tokens with, from a PEM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyFile {
    pub kid: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 shared secret (development, or a single trusted issuer).
    pub secret: Option<SecretString>,
    /// The `kid` of the HS256 key, written in minted tokens.
    pub secret_kid: String,
    pub issuer: String,
    pub audience: String,
    /// RS256/ES256 public keys, each with the `kid` tokens name it by.
    pub public_keys: Vec<PublicKeyFile>,
    /// A JWKS document (RFC 7517) with public keys.
    pub jwks_file: Option<PathBuf>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

/// API clients and the token endpoint (`/oauth/token`).
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Where the service's token signing keys (ES256, PKCS#8 PEM) are kept: the newest signs,
    /// all verify and are published at `/.well-known/jwks.json`. Generated on first start.
    pub signing_key_dir: PathBuf,
    /// Lifetime of the tokens `/oauth/token` issues.
    pub token_ttl: Duration,
    /// How long a client's state (active, revoked, rate limit) is cached when validating its
    /// tokens: a revocation reaches every instance within this time.
    pub client_cache: Duration,
}

/// Requests per client (or, for tokens issued elsewhere, per subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Sustained requests per second; 0 turns rate limiting off.
    pub per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
    /// Token requests per minute from one IP address (argon2 is slow on purpose: unbounded
    /// guessing would also be a way to load the CPU).
    pub token_requests_per_minute: u32,
}

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers: only same-origin pages and non-browser clients.
    None,
    /// Any origin (tokens travel in a header, never in cookies, so this leaks no credentials).
    Any,
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub bind: String,
    pub workers: usize,
    pub max_body_bytes: usize,
    /// Time a client has to send the request head before it gets 408.
    pub client_request_timeout: Duration,
    /// Time in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// Time between a stop signal and closing the listener, while readiness answers 503.
    pub shutdown_drain: Duration,
    pub cors_origins: CorsOrigins,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// Where the default SQLite database and the generated development secret live.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub jwt: JwtSettings,
    pub oauth: OAuthSettings,
    pub rate_limit: RateLimitSettings,
    pub http: HttpSettings,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// Load the demo networks of `demo/networks.json` at start (what is not loaded yet).
    pub demo_data: bool,
}

/// Settings that could not be read, all of them at once.
#[derive(Debug, thiserror::Error)]
#[error("invalid settings:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let environment = match var("REDES_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                problems.push(format!(
                    "REDES_ENV: `{other}` is neither `development` nor `production`"
                ));
                Environment::Development
            }
        };
        let data_dir = PathBuf::from(var("REDES_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let url = match var("REDES_DATABASE_URL") {
            None => DatabaseUrl::Sqlite(data_dir.join("redes.db")),
            Some(value) => DatabaseUrl::parse(&value).unwrap_or_else(|reason| {
                problems.push(format!("REDES_DATABASE_URL: {reason}"));
                DatabaseUrl::Sqlite(data_dir.join("redes.db"))
            }),
        };
        let read_url = var("REDES_DATABASE_READ_URL").and_then(|value| {
            DatabaseUrl::parse(&value)
                .map_err(|reason| problems.push(format!("REDES_DATABASE_READ_URL: {reason}")))
                .ok()
        });
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            match var(name) {
                None => default,
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        problems.push(format!(
                            "{name}: `{value}` is not a whole number between {min} and {max}"
                        ));
                        default
                    }
                },
            }
        };
        let pool_size = number("REDES_DB_POOL_SIZE", 10, 1, 1000) as u32;
        // Twice the CPUs: a short read holds its worker for the database's round trip
        // (`Db::read_short`), and the other worker of the pair keeps the CPU busy meanwhile.
        let workers = number(
            "REDES_WORKERS",
            std::thread::available_parallelism().map_or(4, |n| 2 * n.get() as u64),
            1,
            1024,
        ) as usize;
        let max_body_bytes = number("REDES_MAX_BODY_BYTES", 1024 * 1024, 1024, 1 << 30) as usize;
        let rate_limit = RateLimitSettings {
            per_second: number("REDES_RATE_LIMIT", 100, 0, 1_000_000) as u32,
            burst: number("REDES_RATE_LIMIT_BURST", 200, 1, 1_000_000) as u32,
            token_requests_per_minute: number("REDES_TOKEN_RATE_LIMIT", 60, 1, 1_000_000) as u32,
        };

        let mut duration = |name: &str, default: Duration| -> Duration {
            match var(name) {
                None => default,
                Some(value) => parse_duration(&value).unwrap_or_else(|| {
                    problems.push(format!(
                        "{name}: `{value}` is not a duration such as `2s`, `500ms` or `1m`"
                    ));
                    default
                }),
            }
        };
        let pool_timeout = duration("REDES_DB_POOL_TIMEOUT", Duration::from_secs(2));
        let statement_timeout = duration("REDES_DB_STATEMENT_TIMEOUT", Duration::from_secs(30));
        let leeway = duration("REDES_JWT_LEEWAY", Duration::from_secs(30));
        let client_request_timeout = duration("REDES_CLIENT_TIMEOUT", Duration::from_secs(10));
        let shutdown_timeout = duration("REDES_SHUTDOWN_TIMEOUT", Duration::from_secs(30));
        let shutdown_drain = duration("REDES_SHUTDOWN_DRAIN", Duration::ZERO);
        let signing_key_dir = var("REDES_OAUTH_KEY_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("oauth-keys"));
        let token_ttl = duration("REDES_OAUTH_TOKEN_TTL", Duration::from_secs(600));
        let client_cache = duration("REDES_OAUTH_CLIENT_CACHE", Duration::from_secs(5));
        if token_ttl < Duration::from_secs(60) || token_ttl > Duration::from_secs(86_400) {
            problems.push("REDES_OAUTH_TOKEN_TTL: must be between 1m and 24h".to_owned());
        }
        if client_cache > Duration::from_secs(300) {
            problems.push("REDES_OAUTH_CLIENT_CACHE: must be at most 5m".to_owned());
        }

        let public_keys = match var("REDES_JWT_PUBLIC_KEYS") {
            None => Vec::new(),
            Some(value) => parse_public_keys(&value).unwrap_or_else(|reason| {
                problems.push(format!("REDES_JWT_PUBLIC_KEYS: {reason}"));
                Vec::new()
            }),
        };
        let cors_origins = match var("REDES_CORS_ORIGINS").as_deref().map(str::trim) {
            None => CorsOrigins::None,
            Some("*") => CorsOrigins::Any,
            Some(list) => {
                let origins: Vec<String> = list
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                for origin in &origins {
                    if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                        problems.push(format!(
                            "REDES_CORS_ORIGINS: `{origin}` is not an origin such as \
                             https://app.example.org"
                        ));
                    }
                }
                CorsOrigins::List(origins)
            }
        };
        // Any problem fails the start, so the value given back for a bad one is never used.
        let mut flag = |name: &str, default: bool| -> bool {
            match var(name).as_deref().map(str::trim) {
                None => default,
                Some("true") => true,
                Some("false") => false,
                Some(other) => {
                    problems.push(format!("{name}: `{other}` is neither true nor false"));
                    default
                }
            }
        };
        let demo_data = flag("REDES_DEMO_DATA", environment == Environment::Development);
        let inline_reads = flag("REDES_DB_INLINE_READS", true);
        let coalesce_reads = flag("REDES_DB_COALESCE_READS", true);
        let log_format = match var("REDES_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("auto") => LogFormat::Auto,
            Some("json") => LogFormat::Json,
            Some("pretty") | Some("text") => LogFormat::Pretty,
            Some(other) => {
                problems.push(format!(
                    "REDES_LOG_FORMAT: `{other}` is not one of auto, json, pretty"
                ));
                LogFormat::Auto
            }
        };

        let settings = Settings {
            environment,
            data_dir,
            database: DatabaseSettings {
                url,
                read_url,
                pool_size,
                pool_timeout,
                statement_timeout,
                inline_reads,
                coalesce_reads,
            },
            jwt: JwtSettings {
                secret: var("REDES_JWT_SECRET").map(SecretString::from),
                secret_kid: var("REDES_JWT_SECRET_KID").unwrap_or_else(|| "hs256".into()),
                issuer: var("REDES_JWT_ISSUER").unwrap_or_else(|| "redes".into()),
                audience: var("REDES_JWT_AUDIENCE").unwrap_or_else(|| "redes".into()),
                public_keys,
                jwks_file: var("REDES_JWT_JWKS_FILE").map(PathBuf::from),
                leeway,
            },
            oauth: OAuthSettings {
                signing_key_dir,
                token_ttl,
                client_cache,
            },
            rate_limit,
            http: HttpSettings {
                bind: var("REDES_BIND").unwrap_or_else(|| DEFAULT_BIND.into()),
                workers,
                max_body_bytes,
                client_request_timeout,
                shutdown_timeout,
                shutdown_drain,
                cors_origins,
            },
            log_filter: var("REDES_LOG")
                .or_else(|| var("RUST_LOG"))
                .unwrap_or_else(|| "info".into()),
            log_format,
            demo_data,
        };
        problems.extend(settings.database.problem());
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError(problems))
        }
    }

    /// Defaults for a development service over the given database (used by tests and tools).
    pub fn development(database: DatabaseUrl, data_dir: &Path) -> Result<Settings, ConfigError> {
        let mut settings = Settings::from_lookup(|_| None)?;
        settings.data_dir = data_dir.to_path_buf();
        settings.oauth.signing_key_dir = data_dir.join("oauth-keys");
        settings.database.url = database;
        // Tests and tools start from an empty database; they load the demo data on purpose.
        settings.demo_data = false;
        Ok(settings)
    }
}

/// `2s`, `500ms`, `1m`, `1h` (humantime), or a bare number of seconds.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    humantime::parse_duration(value).ok()
}

/// `kid=path[,kid=path…]`.
fn parse_public_keys(value: &str) -> Result<Vec<PublicKeyFile>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((kid, path)) if !kid.trim().is_empty() && !path.trim().is_empty() => {
                Ok(PublicKeyFile {
                    kid: kid.trim().to_owned(),
                    path: PathBuf::from(path.trim()),
                })
            }
            _ => Err(format!(
                "`{entry}` is not `kid=/path/to/key.pem` (entries are separated by commas)"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_under_data() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.http.bind, "127.0.0.1:8080");
        assert_eq!(
            s.database.url,
            DatabaseUrl::Sqlite(PathBuf::from("./data/redes.db"))
        );
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.database.pool_timeout, Duration::from_secs(2));
        assert!(s.database.inline_reads);
        assert!(s.database.coalesce_reads);
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(s.http.workers, 2 * cpus);
    }

    #[test]
    fn inline_reads_can_be_turned_off_and_nothing_else_is_accepted() {
        let off = settings(&[("REDES_DB_INLINE_READS", "false")]).unwrap();
        assert!(!off.database.inline_reads);
        let error = settings(&[("REDES_DB_INLINE_READS", "sometimes")]).unwrap_err();
        assert!(
            format!("{error}").contains("REDES_DB_INLINE_READS"),
            "{error}"
        );
    }

    #[test]
    fn coalesced_reads_can_be_turned_off_and_nothing_else_is_accepted() {
        let off = settings(&[("REDES_DB_COALESCE_READS", "false")]).unwrap();
        assert!(!off.database.coalesce_reads);
        assert!(off.database.inline_reads);
        let error = settings(&[("REDES_DB_COALESCE_READS", "maybe")]).unwrap_err();
        assert!(
            format!("{error}").contains("REDES_DB_COALESCE_READS"),
            "{error}"
        );
    }

    #[test]
    fn database_urls_choose_the_backend() {
        let parse = |v: &str| DatabaseUrl::parse(v);
        assert!(matches!(
            parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert_eq!(
            parse("sqlite:///tmp/r.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/tmp/r.db")))
        );
        assert_eq!(
            parse("sqlite://data/r.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("data/r.db")))
        );
        assert_eq!(
            parse("./data/r.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("./data/r.db")))
        );
        assert!(parse("postgresql:db").is_err());
        assert!(parse("mysql://h/db").is_err());
        assert!(parse("sqlite://:memory:").is_err());
    }

    #[test]
    fn a_read_replica_is_postgresql_behind_postgresql() {
        let primary = ("REDES_DATABASE_URL", "postgres://redes@primary/redes");
        let s = settings(&[
            primary,
            ("REDES_DATABASE_READ_URL", "postgres://redes@replica/redes"),
        ])
        .unwrap();
        assert_eq!(
            s.database.read_url,
            Some(DatabaseUrl::Postgres(
                "postgres://redes@replica/redes".into()
            ))
        );
        assert_eq!(settings(&[primary]).unwrap().database.read_url, None);

        let on_sqlite =
            settings(&[("REDES_DATABASE_READ_URL", "postgres://redes@replica/redes")]).unwrap_err();
        assert_eq!(on_sqlite.0.len(), 1, "{on_sqlite}");
        assert!(
            on_sqlite.0[0].contains("needs REDES_DATABASE_URL on PostgreSQL"),
            "{on_sqlite}"
        );
        let sqlite_replica =
            settings(&[primary, ("REDES_DATABASE_READ_URL", "/tmp/replica.db")]).unwrap_err();
        assert!(
            sqlite_replica.0[0].contains("give a postgres://"),
            "{sqlite_replica}"
        );
        let misspelt =
            settings(&[primary, ("REDES_DATABASE_READ_URL", "postgresql:replica")]).unwrap_err();
        assert_eq!(misspelt.0.len(), 1, "{misspelt}");
        assert!(
            misspelt.0[0].starts_with("REDES_DATABASE_READ_URL: `postgresql:`"),
            "{misspelt}"
        );
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://redes:s3cret@db:5432/redes").unwrap();
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("redes:***@db:5432/redes"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = settings(&[
            ("REDES_ENV", "staging"),
            ("REDES_DB_POOL_SIZE", "zero"),
            ("REDES_DB_POOL_TIMEOUT", "soon"),
            ("REDES_JWT_PUBLIC_KEYS", "no-equals-sign"),
        ])
        .unwrap_err();
        assert_eq!(error.0.len(), 4, "{error}");
    }

    #[test]
    fn public_keys_and_cors_lists_parse() {
        let s = settings(&[
            ("REDES_JWT_PUBLIC_KEYS", "a=/k/a.pem, b=/k/b.pem"),
            (
                "REDES_CORS_ORIGINS",
                "https://app.example.org/, http://localhost:5173",
            ),
        ])
        .unwrap();
        assert_eq!(s.jwt.public_keys.len(), 2);
        assert_eq!(s.jwt.public_keys[1].kid, "b");
        assert_eq!(
            s.http.cors_origins,
            CorsOrigins::List(vec![
                "https://app.example.org".into(),
                "http://localhost:5173".into()
            ])
        );
    }
}
