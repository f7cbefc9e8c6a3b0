//! Spawning the real application on a fresh database per test, on SQLite and, when
//! `REDES_TEST_DATABASE_URL` is set, on PostgreSQL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use redes::auth::token::{TokenRequest, mint, signing_secret};
use redes::configuration::{DatabaseUrl, PublicKeyFile, Settings};
use redes::db::Db;
use redes::startup::Application;
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-production-use";
pub const RS256_KID: &str = "rs-test";
pub const ES256_KID: &str = "es-test";
pub const JWKS_KID: &str = "jwks-rs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends every test runs on: SQLite always, PostgreSQL when `REDES_TEST_DATABASE_URL`
/// names a server (CI sets it and fails if the server is unreachable).
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if postgres_admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    backends
}

fn postgres_admin_url() -> Option<String> {
    std::env::var("REDES_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A PostgreSQL database created for one test and dropped after it.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        let admin_url = postgres_admin_url().expect("REDES_TEST_DATABASE_URL is set");
        let name = format!("redes_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at REDES_TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the test database");
        let url = with_database(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// The same server URL with another database name (and the query string kept).
pub fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("REDES_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// A change a test makes to the settings before the app is built.
pub type Customise = Box<dyn FnOnce(&mut Settings)>;

/// How a test wants its application.
#[derive(Default)]
pub struct Options {
    /// Replace the database URL (e.g. to go through a proxy).
    pub database_url: Option<String>,
    /// Leave the JWT secret unset so that development mode generates one.
    pub generated_secret: bool,
    /// Do not wait for the database to be ready.
    pub no_wait: bool,
    pub customise: Option<Customise>,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub data_dir: TempDir,
    /// The app's database handle: its statement count shows what a request cost.
    pub db: Db,
    /// Dropped with the app: the PostgreSQL database goes with it.
    _database: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, options: Options) -> TestApp {
        init_test_logging();
        eprintln!("--- backend: {backend:?}");
        let data_dir = tempfile::tempdir().expect("temp dir");
        let database = match backend {
            Backend::Postgres if options.database_url.is_none() => Some(TestDatabase::create()),
            _ => None,
        };
        let url = match (&options.database_url, &database) {
            (Some(url), _) => DatabaseUrl::parse(url).expect("test database URL"),
            (None, Some(db)) => DatabaseUrl::Postgres(db.url.clone()),
            (None, None) => DatabaseUrl::Sqlite(data_dir.path().join("redes.db")),
        };
        let mut settings = Settings::development(url, data_dir.path()).expect("settings");
        settings.http.bind = "127.0.0.1:0".into();
        settings.http.workers = 1;
        settings.database.pool_size = 4;
        // Tests drive one subject faster than a client may go: per-client limits are off
        // unless a test turns them on (see `oauth.rs`).
        settings.rate_limit.per_second = 0;
        if !options.generated_secret {
            settings.jwt.secret = Some(SecretString::from(TEST_SECRET));
        }
        settings.jwt.public_keys = vec![
            PublicKeyFile {
                kid: RS256_KID.into(),
                path: fixture("jwt/rs256-public.pem"),
            },
            PublicKeyFile {
                kid: ES256_KID.into(),
                path: fixture("jwt/es256-public.pem"),
            },
        ];
        settings.jwt.jwks_file = Some(write_jwks(data_dir.path()));
        if let Some(customise) = options.customise {
            customise(&mut settings);
        }

        let application = Application::build(settings.clone()).expect("build the application");
        let port = application.port();
        let db = application.db().clone();
        actix_web::rt::spawn(application.run_until_stopped());
        if !options.no_wait {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !db.is_prepared() {
                assert!(
                    Instant::now() < deadline,
                    "the database was not prepared in 30 s"
                );
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            settings,
            data_dir,
            db,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// An HS256 token from the installation's secret.
    pub fn token(&self, scopes: &[&str], territories: &[&str]) -> String {
        self.token_for("tester", scopes, territories)
    }

    /// An HS256 token for another subject (`sub`).
    pub fn token_for(&self, subject: &str, scopes: &[&str], territories: &[&str]) -> String {
        let secret = signing_secret(&self.settings)
            .expect("secret")
            .expect("an HS256 secret is configured");
        mint(
            &self.settings,
            &secret,
            &TokenRequest {
                subject: subject.into(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                territories: territories.iter().map(|s| (*s).to_owned()).collect(),
                ttl: Duration::from_secs(600),
            },
        )
        .expect("mint")
    }

    /// A token for reading territories everywhere.
    pub fn reader_token(&self) -> String {
        self.token(&["territories:read"], &["CL", "CO"])
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// A request with a JSON body (when given) and the token.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, token, Some(body), &[])
            .await
    }

    /// POST expecting 201; returns the created object.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> Value {
        let response = self.post(path, token, body).await;
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, 201, "POST {path} {body}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// GET with a token, expecting 200 and JSON.
    pub async fn read(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, Some(token)).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    /// Follows `next_cursor` with a token, returning every item.
    pub async fn read_all(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next: Option<String> = None;
        loop {
            let page_path = match &next {
                None => path.to_owned(),
                Some(cursor) => format!("{path}{separator}cursor={cursor}"),
            };
            let page = self.read(&page_path, token).await;
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => next = Some(cursor.to_owned()),
                None => return items,
            }
        }
    }

    /// GET as a territory reader, expecting 200 and JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path, Some(&self.reader_token())).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    /// Follows `next_cursor` to the end, returning every item.
    pub async fn get_all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next: Option<String> = None;
        loop {
            let page_path = match &next {
                None => path.to_owned(),
                Some(cursor) => format!("{path}{separator}cursor={cursor}"),
            };
            let page = self.get_json(&page_path).await;
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => next = Some(cursor.to_owned()),
                None => return items,
            }
        }
    }
}

/// Every scope of this version, for tokens that may do anything in their territories.
pub const ALL_SCOPES: &[&str] = redes::auth::scopes::ALL;

/// The `errors` of a problem as `pointer-or-parameter code` strings, sorted.
pub fn issues(problem: &Value) -> Vec<String> {
    let mut issues: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let place = e["pointer"]
                        .as_str()
                        .or(e["parameter"].as_str())
                        .unwrap_or("?");
                    format!("{place} {}", e["code"].as_str().unwrap_or("?"))
                })
                .collect()
        })
        .unwrap_or_default();
    issues.sort();
    issues
}

/// Signs arbitrary claims with the test RSA or EC key, or an HMAC secret.
pub fn sign(algorithm: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

pub fn rs256_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("jwt/rs256-private.pem")).expect("read"))
        .expect("RSA key")
}

pub fn other_rs256_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("jwt/rs256-other-private.pem")).expect("read"))
        .expect("RSA key")
}

pub fn es256_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(fixture("jwt/es256-private.pem")).expect("read"))
        .expect("EC key")
}

/// Valid claims for the test installation, `exp` an hour away.
pub fn claims(scope: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "sub": "tester",
        "scope": scope,
        "territories": ["CL"],
        "iss": "redes",
        "aud": "redes",
        "exp": now + 3600,
        "nbf": now - 10,
        "iat": now - 10,
    })
}

/// A JWKS document with the public half of the "other" RSA key, under `JWKS_KID`.
fn write_jwks(dir: &Path) -> PathBuf {
    let public = std::fs::read(fixture("jwt/rs256-other-private.pem")).expect("read");
    let key = EncodingKey::from_rsa_pem(&public).expect("RSA key");
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).expect("jwk");
    jwk.common.key_id = Some(JWKS_KID.into());
    let path = dir.join("jwks.json");
    std::fs::write(&path, json!({"keys": [jwk]}).to_string()).expect("write JWKS");
    path
}

/// Test output stays quiet unless `TEST_LOG` is set.
fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        redes::telemetry::init("info", redes::telemetry::LogFormat::Pretty);
    }
}

/// Asserts a response is a problem with this status, and returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap_or("")
            .starts_with("urn:redes:problem:"),
        "{body}"
    );
    assert!(!body["title"].as_str().unwrap_or("").is_empty(), "{body}");
    assert!(!body["detail"].as_str().unwrap_or("").is_empty(), "{body}");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    body
}

/// A TCP proxy in front of PostgreSQL that a test can cut, to simulate an outage.
pub struct DbProxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl DbProxy {
    pub async fn start(target: String) -> DbProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let accept_up = Arc::clone(&up);
        let accept_cut = cut.clone();
        actix_web::rt::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !accept_up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut cut = accept_cut.subscribe();
                actix_web::rt::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        DbProxy { port, up, cut }
    }

    /// Refuses new connections and severs the open ones.
    pub fn go_down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    pub fn come_back(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `host:port` of the PostgreSQL server in REDES_TEST_DATABASE_URL.
pub fn postgres_address() -> String {
    let url =
        url::Url::parse(&postgres_admin_url().expect("REDES_TEST_DATABASE_URL")).expect("URL");
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    )
}

/// The database URL of `database` with its host and port replaced by the proxy's.
pub fn through_proxy(database: &TestDatabase, proxy: &DbProxy) -> String {
    let mut url = url::Url::parse(&database.url).expect("URL");
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy.port)).expect("port");
    url.to_string()
}

/// The example body with its references to other resources pointed at the ones created, at
/// any depth (affiliations, agreements), and attendance keyed by the person created.
pub fn concrete_body(body: &Value, created: &HashMap<String, String>) -> Value {
    let collection = |field: &str| match field {
        "school_id" | "host_school_id" | "owner_school_id" => Some("/api/v1/schools"),
        "organization_id" | "responsible_id" => Some("/api/v1/organizations"),
        "person_id" | "owner_person_id" | "mentor_person_id" => Some("/api/v1/people"),
        // A mentoring visit names two different people (see `create_companions`).
        "mentee_person_id" => Some(SECOND_PERSON),
        "network_id" => Some("/api/v1/networks"),
        // A plan link's item: the first goal of the plan created.
        "item_id" => Some(PLAN_GOAL),
        _ => None,
    };
    match body {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(field, value)| {
                    let value = match (collection(field), value) {
                        (Some(c), Value::String(_)) => created
                            .get(c)
                            .map_or_else(|| value.clone(), |id| Value::String(id.clone())),
                        (_, Value::Object(attendance)) if field == "attendance" => {
                            match created.get("/api/v1/people") {
                                Some(person) => Value::Object(
                                    attendance
                                        .values()
                                        .take(1)
                                        .map(|status| (person.clone(), status.clone()))
                                        .collect(),
                                ),
                                None => value.clone(),
                            }
                        }
                        _ => concrete_body(value, created),
                    };
                    (field.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| concrete_body(i, created)).collect())
        }
        other => other.clone(),
    }
}

/// Resources in the order they may be created: what refers to others after them.
pub fn dependency_rank(path: &str) -> u8 {
    let depth = u8::try_from(path.matches('{').count()).unwrap();
    if path.starts_with("/api/v1/plans") {
        6 + depth
    } else if path.starts_with("/api/v1/improvement-cycles")
        || path.starts_with("/api/v1/mentoring-visits")
    {
        6
    } else if path.starts_with("/api/v1/sessions") {
        5
    } else if path.starts_with("/api/v1/networks") {
        3 + depth
    } else if path.starts_with("/api/v1/people") {
        2
    } else if path.starts_with("/api/v1/schools") {
        1
    } else {
        0
    }
}

/// Records the id a POST to `template` created, under the collection its objects are read
/// from too (sessions are created under their network and live at `/api/v1/sessions`).
/// A plan's first goal is recorded under this key, for the links made from it.
pub const PLAN_GOAL: &str = "plan goal";

/// Records the id of the object a POST to `template` created, under the collection its
/// objects are read from too (sessions are created under their network and live at
/// `/api/v1/sessions`); for a plan, its first goal too.
pub fn record_created(ids: &mut HashMap<String, String>, template: &str, object: &Value) {
    let id = object["id"]
        .as_str()
        .expect("a created object has an id")
        .to_owned();
    if template.ends_with("/sessions") {
        ids.insert("/api/v1/sessions".to_owned(), id.clone());
    }
    if let Some(goal) = object
        .pointer("/objectives/0/goals/0/id")
        .and_then(Value::as_str)
    {
        ids.insert(PLAN_GOAL.to_owned(), goal.to_owned());
    }
    ids.insert(template.to_owned(), id);
}

/// Where the walks over every operation record a second person.
pub const SECOND_PERSON: &str = "/api/v1/people#second";

/// Creates, after the POST to `template` with `body`, what a later example needs twice: a
/// mentoring visit names two different people, so a second person is created like the first.
pub async fn create_companions(
    app: &TestApp,
    token: &str,
    template: &str,
    body: &Value,
    ids: &mut HashMap<String, String>,
) {
    if template == "/api/v1/people" {
        // Without affiliations, so that it holds no school back from being deleted.
        let mut body = body.clone();
        if let Some(fields) = body.as_object_mut() {
            fields.remove("affiliations");
        }
        let second = app.create(template, token, &body).await;
        let id = second["id"].as_str().expect("id").to_owned();
        ids.insert(SECOND_PERSON.to_owned(), id);
    }
}

/// A path template with each `{parameter}` replaced by the id created at the collection it
/// follows (`ids` by the template of the creating POST); `None` if one was not created.
pub fn fill_path(template: &str, ids: &HashMap<String, String>) -> Option<String> {
    let mut path = template.to_owned();
    for segment in template.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let collection = template.split(&format!("/{segment}")).next()?;
            path = path.replace(segment, ids.get(collection)?);
            let _ = name;
        }
    }
    Some(path)
}

/// Where the walks over every operation record the import job they start.
pub const IMPORT_JOBS: &str = "/api/v1/import-jobs";

/// Starts an import job (`Prefer: respond-async`) with `body`, expecting 202; returns its id.
pub async fn start_import_job(app: &TestApp, token: &str, body: &Value) -> String {
    let response = app
        .send(
            reqwest::Method::POST,
            "/api/v1/indicator-values:import",
            token,
            Some(body),
            &[("prefer", "respond-async")],
        )
        .await;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let job: Value = response.json().await.expect("job JSON");
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().expect("job id").to_owned();
    assert_eq!(location, format!("{IMPORT_JOBS}/{id}"));
    id
}
