//! Building and running the service: `Application::build(settings)` → `port()` →
//! `run_until_stopped()`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, Condition, DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::{self, KeySet};
use crate::catalog::Catalogue;
use crate::configuration::{CorsOrigins, Settings};
use crate::db::{Db, DbConnection, migrations};
use crate::error::{json_error, path_error, query_error, render_problems};
use crate::metrics::Metrics;
use crate::repository::territories::{SyncOutcome, sync_catalogue};
use crate::telemetry::{REQUEST_ID_HEADER, RedesRootSpan, observe};
use crate::{openapi, routes};

/// A built service, bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    draining: Draining,
    drain: std::time::Duration,
}

/// Set once a stop signal arrived: readiness answers 503 while requests are still served, so
/// that load balancers stop sending new connections before the listener closes.
#[derive(Clone, Default)]
pub struct Draining(Arc<std::sync::atomic::AtomicBool>);

impl Draining {
    pub fn is_draining(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// Everything the request handlers share.
#[derive(Clone)]
struct AppState {
    db: Db,
    keys: web::Data<KeySet>,
    catalogue: web::Data<Catalogue>,
    metrics: web::Data<Metrics>,
    /// The document served at `/openapi.json`, serialised once and shared by every worker
    /// (a parsed copy per worker cost several MB each).
    openapi_json: web::Bytes,
    routes: web::Data<routes::RouteTable>,
    import_jobs: web::Data<crate::import_jobs::ImportJobs>,
    token_issuer: web::Data<crate::oauth::TokenIssuer>,
    client_cache: web::Data<crate::oauth::ClientCache>,
    rate_limits: web::Data<crate::oauth::RateLimits>,
    settings_data: web::Data<Settings>,
    draining: Draining,
    settings: Arc<Settings>,
}

impl Application {
    /// Binds the port and starts preparing the database in the background: the service answers
    /// at once, `/health/ready` turns 200 when migrations and reference data are in place.
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        if let Some(problem) = settings.database.problem() {
            anyhow::bail!("invalid settings: {problem}");
        }
        let catalogue = Arc::new(Catalogue::embedded()?);
        let (mut keys, secret) = auth::token::key_set(&settings)?;
        let signing =
            auth::signing::SigningKeys::load_or_generate(&settings.oauth.signing_key_dir)?;
        for (kid, key) in signing.decoding_keys() {
            keys.add_es256(&kid, key)?;
        }
        if keys.is_empty() {
            return Err(auth::KeySetError::NoKeys.into());
        }
        // The dummy hash wrong client ids are checked against, made before the first request.
        auth::secrets::warm_up();
        tracing::info!(keys = ?keys.describe(), "token keys loaded");
        if let Some(path) = secret.as_ref().and_then(|s| s.generated_at.as_ref()) {
            tracing::info!(
                secret_file = %path.display(),
                "development mode: tokens are signed with a generated secret. Mint one with \
                 `cargo run --release -- token --sub me --scope territories:read --territory CL`"
            );
        }

        let db = Db::new(&settings.database);
        let prepare_catalogue = Arc::clone(&catalogue);
        let demo = settings.demo_data;
        db.prepare_in_background(move |conn| {
            prepare_database(conn, &prepare_catalogue, demo)?;
            // Only a serving process does this: `redes migrate` or `redes import` next to a
            // running service must not fail its jobs.
            let abandoned = crate::import_jobs::fail_abandoned_at_start(conn)
                .context("cannot mark abandoned import jobs")?;
            if abandoned > 0 {
                tracing::warn!(
                    abandoned,
                    "import jobs left unfinished by a stopped process marked failed"
                );
            }
            Ok(())
        })
        .context("cannot start the database preparation thread")?;
        if let Some(replica) = db.read_replica() {
            // The replica follows the primary's schema: it is ready once it has every
            // migration of this build, which it gets by replication after the primary ran them.
            replica
                .prepare_in_background(migrations::check_applied)
                .context("cannot start the read replica's preparation thread")?;
        }

        let listener = TcpListener::bind(&settings.http.bind)
            .with_context(|| format!("cannot listen on {}", settings.http.bind))?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            address = %listener.local_addr()?,
            database = %settings.database.url,
            read_replica = settings.database.read_url.as_ref().map(tracing::field::display),
            "Redes is listening; API docs at /docs"
        );

        let draining = Draining::default();
        let document = openapi::document()?;
        // Compile the contract now: a document that does not compile must stop the start.
        crate::contract::contract().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let state = AppState {
            db: db.clone(),
            keys: web::Data::new(keys),
            catalogue: web::Data::from(catalogue),
            metrics: web::Data::new(Metrics::new(db.read_replica().is_some())?),
            routes: web::Data::new(routes::RouteTable::from_openapi(&document)),
            openapi_json: web::Bytes::from(serde_json::to_vec(&document)?),
            import_jobs: web::Data::new(crate::import_jobs::ImportJobs::default()),
            token_issuer: web::Data::new(crate::oauth::TokenIssuer::new(signing, &settings)),
            client_cache: web::Data::new(crate::oauth::ClientCache::new(
                settings.oauth.client_cache,
            )),
            rate_limits: web::Data::new(crate::oauth::RateLimits::new(settings.rate_limit)),
            settings_data: web::Data::new(settings.clone()),
            settings: Arc::new(settings.clone()),
            draining: draining.clone(),
        };
        let server = HttpServer::new(move || app(state.clone()))
            .listen(listener)?
            .workers(settings.http.workers)
            .shutdown_timeout(settings.http.shutdown_timeout.as_secs())
            .client_request_timeout(settings.http.client_request_timeout)
            // Signals are handled in `run_until_stopped`, to drain before stopping.
            .disable_signals()
            .run();
        Ok(Application {
            port,
            server,
            db,
            draining,
            drain: settings.http.shutdown_drain,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database handle (tests use it to wait for readiness).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting connections and gives in-flight
    /// requests `REDES_SHUTDOWN_TIMEOUT` to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let draining = self.draining.clone();
        let drain = self.drain;
        actix_web::rt::spawn(async move {
            if let Err(error) = stop_signal().await {
                tracing::error!(error = %error, "cannot listen for stop signals");
                return;
            }
            draining.start();
            tracing::info!(
                drain_ms = drain.as_millis() as u64,
                "stop signal: draining, then finishing in-flight requests"
            );
            actix_web::rt::time::sleep(drain).await;
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C).
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// Applies migrations, loads the territory catalogue and, with `demo`, the demo data if it was
/// never loaded (what a user deletes from it stays deleted; `redes seed-demo` restores it).
/// Demo data that does not load is logged, not fatal: the service still serves.
pub fn prepare_database(
    conn: &mut DbConnection,
    catalogue: &Arc<Catalogue>,
    demo: bool,
) -> anyhow::Result<()> {
    let applied = migrations::run_pending(conn).map_err(|e| anyhow::anyhow!(e))?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "migrations applied");
    }
    match sync_catalogue(conn, catalogue).context("cannot load the territory catalogue")? {
        SyncOutcome::Unchanged => {}
        SyncOutcome::Loaded { inserted, updated } => {
            tracing::info!(inserted, updated, "territory catalogue loaded");
        }
    }
    match crate::repository::catalogues::sync_builtin(conn)
        .context("cannot load the management catalogues")?
    {
        crate::repository::catalogues::SyncOutcome::Unchanged => {}
        crate::repository::catalogues::SyncOutcome::Loaded { catalogues, items } => {
            tracing::info!(catalogues, items, "management catalogues loaded");
        }
    }
    match crate::repository::indicators::sync_builtin(conn)
        .context("cannot load the indicator definitions")?
    {
        crate::repository::indicators::SyncOutcome::Unchanged => {}
        crate::repository::indicators::SyncOutcome::Loaded { indicators } => {
            tracing::info!(indicators, "indicator definitions loaded");
        }
    }
    if demo {
        match crate::demo::load_once(conn, catalogue) {
            Ok(None) => {}
            Ok(Some(outcome)) if outcome.is_empty() => {}
            Ok(Some(outcome)) => tracing::info!(
                organizations = outcome.organizations,
                schools = outcome.schools,
                networks = outcome.networks,
                members = outcome.members,
                sessions = outcome.sessions,
                peis = outcome.peis,
                plans = outcome.plans,
                plan_links = outcome.links,
                improvement_cycles = outcome.cycles,
                indicator_values = outcome.indicator_values,
                "demo data loaded (REDES_DEMO_DATA=false to start without it)"
            ),
            Err(error) => tracing::error!(error = format!("{error:#}"), "demo data not loaded"),
        }
    }
    Ok(())
}

fn app(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let http = &state.settings.http;
    let (cors_enabled, cors) = cors(&http.cors_origins);
    let app = App::new()
        .app_data(web::Data::new(state.db.clone()))
        .app_data(state.keys.clone())
        .app_data(state.catalogue.clone())
        .app_data(state.metrics.clone())
        .app_data(state.import_jobs.clone())
        .app_data(state.token_issuer.clone())
        .app_data(state.client_cache.clone())
        .app_data(state.rate_limits.clone())
        .app_data(state.settings_data.clone())
        .app_data(web::PayloadConfig::new(http.max_body_bytes))
        .app_data(web::Data::new(crate::idempotency::IdempotencyConfig {
            max_body_bytes: http.max_body_bytes,
        }))
        .app_data(
            web::JsonConfig::default()
                .limit(http.max_body_bytes)
                .error_handler(json_error(http.max_body_bytes)),
        )
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error));
    routes::register_served(app)
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/openapi.json")))
        .route("/openapi.json", {
            let document = state.openapi_json.clone();
            web::get().to(move || {
                let document = document.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type(header::ContentType::json())
                        .body(document)
                }
            })
        })
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            }),
        )
        .app_data(state.routes.clone())
        // One per worker: built by each worker's call of this factory.
        .app_data(crate::telemetry::RouteTemplates::default())
        // One per worker too: reads by id that arrive together on a worker share a statement.
        .app_data(web::Data::new(routes::schools::schools_by_id(
            state.db.clone(),
        )))
        .app_data(web::Data::new(routes::organizations::organizations_by_id(
            state.db.clone(),
        )))
        .app_data(web::Data::new(state.draining.clone()))
        .default_service(web::to(routes::fallback))
        // Inside `identify`, which tells it the caller, and inside `render_problems`, whose
        // problems it keeps as written.
        .wrap(from_fn(crate::idempotency::guard))
        // Inside `identify`, so that the principal is known when the actor is set.
        .wrap(from_fn(crate::audit::attribute))
        .wrap(from_fn(crate::oauth::rate_limit))
        .wrap(from_fn(crate::oauth::check_client))
        .wrap(from_fn(auth::identify))
        .wrap(Condition::new(cors_enabled, cors))
        .wrap(from_fn(render_problems))
        // Browsers must not guess a type for an API response (a JSON string rendered as HTML).
        .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
        .wrap(Compress::default())
        .wrap(TracingLogger::<RedesRootSpan>::new())
        .wrap(from_fn(observe))
}

fn cors(origins: &CorsOrigins) -> (bool, Cors) {
    let base = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            crate::idempotency::IDEMPOTENCY_KEY,
            REQUEST_ID_HEADER,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            crate::idempotency::IDEMPOTENT_REPLAYED,
            REQUEST_ID_HEADER,
        ])
        .max_age(3600);
    match origins {
        CorsOrigins::None => (false, base),
        CorsOrigins::Any => (true, base.allow_any_origin().send_wildcard()),
        CorsOrigins::List(list) => (
            true,
            list.iter()
                .fold(base, |cors, origin| cors.allowed_origin(origin)),
        ),
    }
}
