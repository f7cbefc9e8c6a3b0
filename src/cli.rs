//! The `redes` command line: `serve` (the default), `migrate`, `token`, `openapi`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::scopes;
use crate::auth::token::{TokenRequest, key_set, mint};
use crate::catalog::Catalogue;
use crate::configuration::{Settings, parse_duration};
use crate::db::Db;
use crate::startup::{Application, prepare_database};
use crate::{openapi, telemetry};

const SETTINGS_HELP: &str = "\
Settings (environment variables; all optional in development):
  REDES_BIND                  address to listen on [default: 127.0.0.1:8080]
  REDES_DATABASE_URL          postgres://…, postgresql://…, sqlite://PATH or a path
                              [default: ./data/redes.db]
  REDES_ENV                   development | production [default: development]
  REDES_DATA_DIR              default database and development secret [default: ./data]
  REDES_JWT_SECRET            HS256 secret (at least 32 bytes in production)
  REDES_JWT_SECRET_KID        kid of the HS256 key [default: hs256]
  REDES_JWT_ISSUER            required `iss` [default: redes]
  REDES_JWT_AUDIENCE          required `aud` [default: redes]
  REDES_JWT_PUBLIC_KEYS       kid=/path/key.pem,… (RSA → RS256, EC P-256 → ES256)
  REDES_JWT_JWKS_FILE         JWKS document with RS256/ES256 keys
  REDES_JWT_LEEWAY            clock skew allowed on exp/nbf [default: 30s]
  REDES_DB_POOL_SIZE          pooled connections [default: 10]
  REDES_DB_POOL_TIMEOUT       wait for a connection before 503 [default: 2s]
  REDES_DB_STATEMENT_TIMEOUT  PostgreSQL statement_timeout [default: 30s]
  REDES_DB_INLINE_READS       short reads on the HTTP worker: true | false [default: true]
  REDES_WORKERS               HTTP worker threads [default: twice the number of CPUs]
  REDES_MAX_BODY_BYTES        largest request body [default: 1048576]
  REDES_CLIENT_TIMEOUT        time to send the request head before 408 [default: 10s]
  REDES_SHUTDOWN_TIMEOUT      grace period for in-flight requests on SIGTERM [default: 30s]
  REDES_SHUTDOWN_DRAIN        on SIGTERM, serve this long with readiness 503 first [default: 0s]
  REDES_CORS_ORIGINS          * or a comma-separated list of origins [default: none]
  REDES_LOG                   log filter, RUST_LOG syntax [default: info]
  REDES_LOG_FORMAT            auto | json | pretty [default: auto: JSON unless a terminal]
  REDES_DEMO_DATA             load the demo networks at start: true | false
                              [default: true in development, false in production]";

#[derive(Debug, Parser)]
#[command(
    name = "redes",
    version,
    about = "Redes: the REST API of school-improvement networks (Chile, Colombia)",
    after_long_help = SETTINGS_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default): applies migrations, loads the territory catalogue, listens.
    #[command(after_long_help = SETTINGS_HELP)]
    Serve,
    /// Apply pending migrations and load the territory catalogue, then exit.
    #[command(after_long_help = SETTINGS_HELP)]
    Migrate,
    /// Apply migrations and load the demo networks of the source documents (what is not loaded
    /// yet: loading twice changes nothing), then exit.
    #[command(name = "seed-demo", after_long_help = SETTINGS_HELP)]
    SeedDemo,
    /// Mint a token signed with the configured HS256 secret (the generated one in development)
    /// and print it alone on stdout.
    #[command(after_long_help = SETTINGS_HELP)]
    Token(TokenArgs),
    /// Print the OpenAPI document (regenerate the committed one with
    /// `cargo run -- openapi > openapi/openapi.json`).
    Openapi,
    /// Import data files into the database (as a national principal).
    #[command(subcommand, after_long_help = SETTINGS_HELP)]
    Import(ImportCommand),
    /// Manage API clients (credentials for `/oauth/token`) directly in the database: how the
    /// first administrator of a new installation gets in.
    #[command(subcommand, after_long_help = SETTINGS_HELP)]
    Client(ClientCommand),
    /// Retire the token signing key (it keeps verifying) and generate a new one; restart the
    /// instances to sign with it.
    #[command(name = "rotate-signing-key", after_long_help = SETTINGS_HELP)]
    RotateSigningKey,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Create a client and print it as JSON, with its `client_secret` (shown this once).
    Create(ClientCreateArgs),
    /// List the clients as JSON lines (never their secrets).
    List,
    /// Issue a new secret and print it as JSON (shown this once).
    Rotate {
        /// The client's id.
        client_id: String,
        /// Keep the current secret valid this long beside the new one (e.g. 1h, 1d; at most 7d).
        #[arg(long, value_parser = parse_overlap)]
        overlap: Option<Duration>,
    },
    /// Revoke (delete) a client: its secrets and tokens stop working, for good.
    Revoke {
        /// The client's id.
        client_id: String,
    },
}

#[derive(Debug, Args)]
struct ClientCreateArgs {
    /// What the client is (a system, an integration).
    #[arg(long)]
    name: String,
    /// Who to call about it.
    #[arg(long)]
    contact: Option<String>,
    /// Scopes, space-separated and/or repeated; `all` for every scope (a first administrator).
    #[arg(long = "scope", value_name = "SCOPES", required = true)]
    scopes: Vec<String>,
    /// A territory its tokens act in, by key (CL, CL-13, CO-11001) or id; repeatable.
    #[arg(long = "territory", value_name = "KEY", required = true)]
    territories: Vec<String>,
    /// Sustained requests per second for its tokens (default: the service's).
    #[arg(long)]
    rate_limit: Option<i32>,
}

fn parse_overlap(value: &str) -> Result<Duration, String> {
    match parse_duration(value) {
        Some(d) if d <= Duration::from_secs(7 * 24 * 3600) => Ok(d),
        Some(_) => Err("at most 7 days".into()),
        None => Err(format!("`{value}` is not a duration such as 1h or 1d")),
    }
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import indicator values from a CSV file (generic, or MEN's municipal statistics through
    /// its declared mapping) or a JSON file (an array of value bodies), read as a stream.
    Indicators(ImportIndicatorsArgs),
}

#[derive(Debug, Args)]
struct ImportIndicatorsArgs {
    /// The file: `.json` for JSON, anything else is read as CSV.
    file: std::path::PathBuf,
    /// create | update | create_and_update | delete
    #[arg(long, default_value = "create_and_update", value_parser = parse_strategy)]
    strategy: crate::import::ImportStrategy,
    /// Check and count, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the good rows even if others conflict (default: any conflict, nothing written).
    #[arg(long)]
    best_effort: bool,
    /// Read the CSV through this declared mapping (`men-municipal`) rather than by its header.
    #[arg(long)]
    mapping: Option<String>,
}

fn parse_strategy(value: &str) -> Result<crate::import::ImportStrategy, String> {
    value
        .parse()
        .map_err(|()| format!("one of {}", crate::import::STRATEGIES.join(", ")))
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The token's subject (`sub`): who it is for.
    #[arg(long)]
    sub: String,
    /// Scopes, space-separated and/or repeated: --scope "territories:read schools:write".
    #[arg(long = "scope", value_name = "SCOPES")]
    scopes: Vec<String>,
    /// A territory the token may act in, by key (CL, CL-13, CO-11001) or id; repeatable.
    #[arg(long = "territory", value_name = "KEY")]
    territories: Vec<String>,
    /// Lifetime: 30m, 1h, 7d… (humantime) or seconds.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    ttl: Duration,
}

fn parse_ttl(value: &str) -> Result<Duration, String> {
    match parse_duration(value) {
        Some(ttl) if !ttl.is_zero() && ttl <= Duration::from_secs(366 * 24 * 3600) => Ok(ttl),
        Some(_) => Err("the lifetime must be between 1 second and a year".into()),
        None => Err(format!("`{value}` is not a duration such as 30m, 1h or 7d")),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        return match openapi::document_json() {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        };
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("redes: {error}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Serve => {
            telemetry::init(&settings.log_filter, settings.log_format);
            serve(settings)
        }
        Command::Migrate => {
            telemetry::init(&settings.log_filter, settings.log_format);
            migrate(&settings)
        }
        Command::SeedDemo => {
            crate::audit::set_process_principal("cli");
            telemetry::init(&settings.log_filter, settings.log_format);
            seed_demo(&settings)
        }
        Command::Token(args) => token(&settings, args),
        Command::Import(ImportCommand::Indicators(args)) => {
            crate::audit::set_process_principal("cli");
            import_indicators(&settings, &args)
        }
        Command::Client(command) => {
            crate::audit::set_process_principal("cli");
            client(&settings, command)
        }
        Command::RotateSigningKey => {
            match crate::auth::signing::SigningKeys::rotate(&settings.oauth.signing_key_dir) {
                Ok(keys) => {
                    eprintln!(
                        "redes: new signing key `{}` in {}; restart the instances to sign with it \
                         (the retired keys keep verifying until you delete their files)",
                        keys.current_kid(),
                        settings.oauth.signing_key_dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error),
            }
        }
        Command::Openapi => ExitCode::SUCCESS,
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("redes: {error}");
    ExitCode::FAILURE
}

fn serve(settings: Settings) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings)?;
        application.run_until_stopped().await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "Redes stopped");
            fail(&format!("{error:#}"))
        }
    }
}

fn migrate(settings: &Settings) -> ExitCode {
    let result = Catalogue::embedded()
        .map_err(anyhow::Error::from)
        .and_then(|catalogue| {
            let catalogue = std::sync::Arc::new(catalogue);
            Db::new(&settings.database).prepare_now(&|conn: &mut crate::db::DbConnection| {
                prepare_database(conn, &catalogue, false)
            })
        });
    match result {
        Ok(()) => {
            eprintln!("redes: {} is migrated and loaded", settings.database.url);
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("{error:#}")),
    }
}

fn import_indicators(settings: &Settings, args: &ImportIndicatorsArgs) -> ExitCode {
    use crate::import::{self, ImportOptions, Source};
    let options = ImportOptions {
        strategy: args.strategy,
        dry_run: args.dry_run,
        atomic: !args.best_effort,
    };
    let bar = std::cell::RefCell::new(None::<indicatif::ProgressBar>);
    let result = Catalogue::embedded()
        .map_err(anyhow::Error::from)
        .and_then(|catalogue| {
            let catalogue = std::sync::Arc::new(catalogue);
            let db = Db::new(&settings.database);
            db.prepare_now(&|conn: &mut crate::db::DbConnection| {
                prepare_database(conn, &catalogue, false)
            })?;
            // A national principal: both countries' roots.
            let scope = crate::auth::TerritoryScope::from_paths(
                ["CL", "CO"]
                    .iter()
                    .filter_map(|root| catalogue.resolve_str(root))
                    .map(|entry| entry.path.clone()),
            );
            let summary = std::cell::RefCell::new(None);
            db.prepare_now(&|conn: &mut crate::db::DbConnection| {
                let file = std::fs::File::open(&args.file)?;
                let progress = progress_bar(file.metadata()?.len());
                bar.replace(Some(progress.clone()));
                // The bar counts the bytes read, so it moves as the stream is consumed.
                let reader = progress.wrap_read(file);
                let is_json = args
                    .file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"));
                let outcome = crate::db::in_write_transaction_keeping(conn, |tx| {
                    let source = if is_json {
                        let values: Vec<serde_json::Value> = serde_json::from_reader(
                            std::io::BufReader::new(reader),
                        )
                        .map_err(|e| crate::error::ApiError::MalformedJson(e.to_string()))?;
                        Source::Json(values)
                    } else {
                        Source::Csv(Box::new(reader), args.mapping.clone())
                    };
                    let mut report = |values: u64| progress.set_message(format!("{values} values"));
                    import::run(tx, &catalogue, &scope, options, source, &mut report)
                });
                match outcome {
                    Ok(outcome) => {
                        summary.replace(Some(outcome));
                        Ok(())
                    }
                    Err(error) => Err(anyhow::anyhow!("{}", describe(&error))),
                }
            })?;
            summary
                .into_inner()
                .ok_or_else(|| anyhow::anyhow!("the import did not run"))
        });
    if let Some(bar) = bar.into_inner() {
        bar.finish_and_clear();
    }
    match result {
        Ok(summary) => {
            for conflict in &summary.conflicts {
                eprintln!(
                    "redes: row {}{}: {}",
                    conflict.row,
                    conflict
                        .column
                        .as_deref()
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default(),
                    conflict.reason
                );
            }
            match serde_json::to_string_pretty(&summary) {
                Ok(json) => println!("{json}"),
                Err(error) => return fail(&error),
            }
            let verb = if summary.written {
                "written"
            } else {
                "nothing written"
            };
            eprintln!(
                "redes: {verb}: {} imported, {} updated, {} ignored, {} deleted, {} conflicts",
                summary.imported,
                summary.updated,
                summary.ignored,
                summary.deleted,
                summary.conflicts.len()
            );
            if summary.conflicts.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => fail(&format!("{error:#}")),
    }
}

/// An error of the whole import, for the terminal.
fn describe(error: &crate::error::ApiError) -> String {
    match error {
        crate::error::ApiError::Validation(issues) => issues
            .iter()
            .map(|issue| issue.kind.message(crate::i18n::Lang::En))
            .collect::<Vec<_>>()
            .join("; "),
        other => format!("{other}"),
    }
}

/// A bar over the file's bytes, drawn on stderr only when stderr is a terminal, so that logs and
/// pipes stay clean.
fn progress_bar(bytes: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(bytes),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn seed_demo(settings: &Settings) -> ExitCode {
    let result = Catalogue::embedded()
        .map_err(anyhow::Error::from)
        .and_then(|catalogue| {
            let catalogue = std::sync::Arc::new(catalogue);
            let db = Db::new(&settings.database);
            db.prepare_now(&|conn: &mut crate::db::DbConnection| {
                prepare_database(conn, &catalogue, false)
            })?;
            let outcome = std::cell::Cell::new(None);
            db.prepare_now(&|conn: &mut crate::db::DbConnection| {
                outcome.set(Some(crate::demo::load(conn, &catalogue)?));
                Ok(())
            })?;
            outcome
                .into_inner()
                .ok_or_else(|| anyhow::anyhow!("the demo data was not loaded"))
        });
    match result {
        Ok(outcome) => {
            eprintln!(
                "redes: demo data in {}: {} organisations, {} schools, {} networks, {} memberships, {} sessions, {} PEIs, {} plans, {} plan links, {} improvement cycles, {} indicator values added",
                settings.database.url,
                outcome.organizations,
                outcome.schools,
                outcome.networks,
                outcome.members,
                outcome.sessions,
                outcome.peis,
                outcome.plans,
                outcome.links,
                outcome.cycles,
                outcome.indicator_values
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("{error:#}")),
    }
}

fn token(settings: &Settings, args: TokenArgs) -> ExitCode {
    let catalogue = match Catalogue::embedded() {
        Ok(catalogue) => catalogue,
        Err(error) => return fail(&error),
    };
    for territory in &args.territories {
        if catalogue.resolve_str(territory).is_none() {
            return fail(&format!(
                "`{territory}` is not a territory key or id (examples: CL, CL-13, CL-13101, CO-11001)"
            ));
        }
    }
    let scopes: Vec<String> = args
        .scopes
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect();
    for scope in &scopes {
        if !scopes::ALL.contains(&scope.as_str()) {
            eprintln!(
                "redes: warning: `{scope}` is not a scope this version knows ({})",
                scopes::ALL.join(", ")
            );
        }
    }
    let secret = match key_set(settings) {
        Ok((_, Some(secret))) => secret,
        Ok((_, None)) => {
            return fail(&"no HS256 secret is configured: set REDES_JWT_SECRET");
        }
        Err(error) => return fail(&error),
    };
    let request = TokenRequest {
        subject: args.sub,
        scopes,
        territories: args.territories,
        ttl: args.ttl,
    };
    match mint(settings, &secret, &request) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// Runs `work` on a connection to the migrated database.
fn with_database<T>(
    settings: &Settings,
    work: impl Fn(&mut crate::db::DbConnection, &Catalogue) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let catalogue = std::sync::Arc::new(Catalogue::embedded()?);
    let db = Db::new(&settings.database);
    db.prepare_now(&|conn: &mut crate::db::DbConnection| {
        prepare_database(conn, &catalogue, false)
    })?;
    let outcome = std::cell::RefCell::new(None);
    db.prepare_now(&|conn: &mut crate::db::DbConnection| {
        *outcome.borrow_mut() = Some(work(conn, &catalogue)?);
        Ok(())
    })?;
    outcome
        .into_inner()
        .ok_or_else(|| anyhow::anyhow!("the database work did not run"))
}

fn client(settings: &Settings, command: ClientCommand) -> ExitCode {
    use crate::db::in_write_transaction;
    use crate::repository::changes::Operation;
    use crate::repository::clients as repo;
    use crate::routes::clients::{
        ApiClient, ClientInput, ScopeName, audit_entry, new_client, rotated,
    };
    let parse_id = |raw: &str| {
        uuid::Uuid::try_parse(raw.trim())
            .map_err(|_| anyhow::anyhow!("`{raw}` is not a client id (a UUID)"))
    };
    let result = match command {
        ClientCommand::Create(args) => {
            let mut scopes: Vec<String> = args
                .scopes
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_owned)
                .collect();
            if scopes.iter().any(|s| s == "all") {
                scopes = scopes::ALL.iter().map(|s| (*s).to_owned()).collect();
            }
            let input = ClientInput {
                name: args.name,
                contact: args.contact,
                scopes: scopes.into_iter().map(ScopeName).collect(),
                territories: args.territories,
                rate_limit: args.rate_limit,
                active: true,
            };
            let input = std::cell::RefCell::new(Some(input));
            with_database(settings, |conn, catalogue| {
                let input = input
                    .borrow_mut()
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("the client was already created"))?;
                let (row, secret) = new_client(input, catalogue, None, "cli")
                    .map_err(|e| anyhow::anyhow!("{}", e.describe_plainly()))?;
                let entry = audit_entry(Operation::Created, None, Some(&row), catalogue);
                in_write_transaction(conn, |tx| {
                    repo::insert(tx.conn(), &row)?;
                    tx.audit_all(entry);
                    Ok(())
                })
                .map_err(|e| anyhow::anyhow!("{}", e.describe_plainly()))?;
                let mut json = serde_json::to_value(ApiClient::from_row(&row, catalogue))?;
                json["client_secret"] = serde_json::Value::String(secret);
                Ok(vec![json])
            })
        }
        ClientCommand::List => with_database(settings, |conn, catalogue| {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let rows = repo::list(conn, after, 500)?;
                after = rows.last().map(|r| (r.name.clone(), r.id.0));
                let done = rows.len() < 500;
                for row in &rows {
                    all.push(serde_json::to_value(ApiClient::from_row(row, catalogue))?);
                }
                if done {
                    return Ok(all);
                }
            }
        }),
        ClientCommand::Rotate { client_id, overlap } => parse_id(&client_id).and_then(|id| {
            with_database(settings, |conn, catalogue| {
                let row = repo::find(conn, id)?
                    .ok_or_else(|| anyhow::anyhow!("there is no client `{id}`"))?;
                let overlap = overlap.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
                let before = row.clone();
                let (mut row, secret) =
                    rotated(row, overlap).map_err(|e| anyhow::anyhow!("{e}"))?;
                in_write_transaction(conn, |tx| {
                    repo::save(tx.conn(), &mut row)?;
                    tx.audit_all(audit_entry(
                        Operation::Updated,
                        Some(&before),
                        Some(&row),
                        catalogue,
                    ));
                    Ok(())
                })
                .map_err(|e| anyhow::anyhow!("{}", e.describe_plainly()))?;
                Ok(vec![serde_json::json!({
                    "client_id": id,
                    "client_secret": secret,
                    "previous_secret_expires_at":
                        row.previous_secret_expires_at.map(crate::db::DbTime::get),
                })])
            })
        }),
        ClientCommand::Revoke { client_id } => parse_id(&client_id).and_then(|id| {
            with_database(settings, |conn, catalogue| {
                let row = repo::find(conn, id)?
                    .ok_or_else(|| anyhow::anyhow!("there is no client `{id}`"))?;
                let entry = audit_entry(Operation::Deleted, Some(&row), None, catalogue);
                in_write_transaction(conn, |tx| {
                    repo::delete(tx.conn(), id)?;
                    tx.audit_all(entry);
                    Ok(())
                })
                .map_err(|e| anyhow::anyhow!("{}", e.describe_plainly()))?;
                Ok(vec![serde_json::json!({"client_id": id, "revoked": true})])
            })
        }),
    };
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("{error:#}")),
    }
}
