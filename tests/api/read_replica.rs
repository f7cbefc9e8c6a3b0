//! A read replica (`REDES_DATABASE_READ_URL`): analytics pulls and the change feed go to it,
//! everything else stays on the primary, nothing can be written through it, and its outage
//! costs only those two endpoints (503, then recovery by itself).
//!
//! The "replica" here is the test's own database reached through a proxy the test can cut:
//! which pool served a request shows in each pool's statement count.

use std::time::{Duration, Instant};

use redes::configuration::{DatabaseUrl, Settings};
use redes::error::ApiError;
use redes::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{
    ALL_SCOPES, Backend, DbProxy, Options, TestApp, TestDatabase, assert_problem, backends,
    postgres_address, through_proxy,
};

const PULL: &str =
    "/api/v1/analytics?indicator=CL_ASISTENCIA_DIAS_ASISTIDOS&period=2017&org_unit=CL-13";
const FEED: &str = "/api/v1/changes?after=0";

/// Waits until the replica is taken up, at most `within`.
async fn until_ready(replica: &redes::db::Db, within: Duration) {
    let deadline = Instant::now() + within;
    while !replica.is_prepared() {
        assert!(
            Instant::now() < deadline,
            "the replica was not taken up in {within:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn heavy_reads_go_to_the_replica_and_its_outage_costs_only_them() {
    for backend in backends() {
        match backend {
            Backend::Sqlite => sqlite_has_no_replica(),
            Backend::Postgres => {
                postgres_with_a_replica().await;
                a_replica_without_this_builds_migrations_waits_for_them().await;
            }
        }
    }
}

/// A replica behind SQLite is a configuration mistake, refused at start with the reason.
fn sqlite_has_no_replica() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::development(DatabaseUrl::Sqlite(dir.path().join("redes.db")), dir.path())
            .unwrap();
    settings.database.read_url = Some(DatabaseUrl::Postgres(
        "postgres://redes@replica.example.org/redes".into(),
    ));
    let error = match Application::build(settings) {
        Ok(_) => panic!("a SQLite primary with a read replica started"),
        Err(error) => format!("{error:#}"),
    };
    assert!(
        error.contains("REDES_DATABASE_READ_URL: needs REDES_DATABASE_URL on PostgreSQL"),
        "{error}"
    );
}

async fn postgres_with_a_replica() {
    let database = TestDatabase::create();
    let proxy = DbProxy::start(postgres_address()).await;
    let replica_url = through_proxy(&database, &proxy);
    let app = TestApp::spawn_with(
        Backend::Postgres,
        Options {
            database_url: Some(database.url.clone()),
            customise: Some(Box::new(move |settings| {
                settings.database.read_url = Some(DatabaseUrl::Postgres(replica_url));
            })),
            ..Options::default()
        },
    )
    .await;
    let replica = app.db.read_replica().expect("a replica is configured");
    until_ready(replica, Duration::from_secs(20)).await;
    let token = app.token(ALL_SCOPES, &["CL"]);

    // Writes go to the primary.
    let school = app
        .create(
            "/api/v1/schools",
            &token,
            &json!({"name": "Escuela Réplica", "country": "CL", "territory": "CL-13101",
                    "rbd": 9902, "dependency": "municipal_daem"}),
        )
        .await;
    let school_path = format!("/api/v1/schools/{}", school["id"].as_str().unwrap());
    app.create(
        "/api/v1/indicator-values",
        &token,
        &json!({"indicator": "CL_ASISTENCIA_DIAS_ASISTIDOS", "org_unit": "CL-13101",
                "period": "2017-03", "value": 4.0}),
    )
    .await;

    // The pull and the feed are read on the replica, and only there.
    let (primary_before, replica_before) = (app.db.statements(), replica.statements());
    let pull = app.read(PULL, &token).await;
    assert_eq!(pull["rows"][0]["value"], 4.0, "{pull}");
    let feed = app.read(FEED, &token).await;
    assert!(
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["id"] == school["id"]),
        "{feed}"
    );
    assert_eq!(
        app.db.statements(),
        primary_before,
        "the primary served part of a pull or of the feed"
    );
    assert!(replica.statements() >= replica_before + 2);
    // A read by id stays on the primary (it may follow a write of the same client).
    app.read(&school_path, &token).await;
    assert!(app.db.statements() > primary_before);
    assert_eq!(app.db.replica().statements(), replica.statements());

    // Nothing can be written through the replica's pool, even when its URL names the primary.
    let write = replica
        .read(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("CREATE TABLE written_through_the_replica (x integer)")
                .execute(conn)
                .map_err(ApiError::from)
        })
        .await;
    assert!(write.is_err(), "the replica's pool wrote");

    let health = app.get_json("/health/ready").await;
    assert_eq!(health["read_replica"], "ready", "{health}");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("redes_db_read_replica_ready 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("redes_db_read_replica_statements_total"),
        "{metrics}"
    );

    // The replica goes away: the pull and the feed answer 503 with Retry-After and no internal
    // detail; the rest of the API and readiness carry on.
    proxy.go_down();
    for path in [PULL, FEED] {
        let response = app.get(path, Some(&token)).await;
        assert!(response.headers().contains_key("retry-after"), "{path}");
        let problem = assert_problem(response, 503).await;
        assert_eq!(problem["type"], "urn:redes:problem:service-unavailable");
        let detail = problem["detail"].as_str().unwrap().to_lowercase();
        for leak in ["replica", "connection", "refused", "postgres", "closed"] {
            assert!(!detail.contains(leak), "internal detail leaked: {detail}");
        }
    }
    assert_eq!(app.read(&school_path, &token).await["id"], school["id"]);
    let health = app.get_json("/health/ready").await;
    assert_eq!(health["status"], "ready", "{health}");
    assert_eq!(health["read_replica"], "unavailable", "{health}");

    // It comes back: the pool reconnects by itself.
    proxy.come_back();
    let started = Instant::now();
    loop {
        let response = app.get(PULL, Some(&token)).await;
        if response.status() == 200 {
            let pull: Value = response.json().await.unwrap();
            assert_eq!(pull["rows"][0]["value"], 4.0, "{pull}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pull did not recover within 10 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get_json("/health/ready").await["read_replica"], "ready");
}

/// A replica that lacks a migration of this build is not used until it has them all.
async fn a_replica_without_this_builds_migrations_waits_for_them() {
    // The "replica" is an empty database: what a replica that has not yet replayed the
    // primary's migrations (or follows another database) looks like.
    let behind = TestDatabase::create();
    let replica_url = behind.url.clone();
    let app = TestApp::spawn_with(
        Backend::Postgres,
        Options {
            customise: Some(Box::new(move |settings| {
                settings.database.read_url = Some(DatabaseUrl::Postgres(replica_url));
            })),
            ..Options::default()
        },
    )
    .await;
    let token = app.token(ALL_SCOPES, &["CL"]);
    // The primary serves; the replica's endpoints answer 503 rather than read a wrong schema.
    app.read("/api/v1/territories/CL-13", &token).await;
    let health = app.get_json("/health/ready").await;
    assert_eq!(health["read_replica"], "unavailable", "{health}");
    for path in [PULL, FEED] {
        let response = app.get(path, Some(&token)).await;
        assert!(response.headers().contains_key("retry-after"), "{path}");
        assert_problem(response, 503).await;
    }
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("redes_db_read_replica_ready 0"),
        "{metrics}"
    );

    // It catches up (here: migrated by hand): it is used from then on, without a restart.
    {
        use diesel::Connection;
        let mut conn =
            redes::db::DbConnection::Pg(diesel::PgConnection::establish(&behind.url).unwrap());
        redes::db::migrations::run_pending(&mut conn).unwrap();
    }
    // The check is retried with a pause of at most 5 s.
    until_ready(app.db.read_replica().unwrap(), Duration::from_secs(15)).await;
    let feed = app.read(FEED, &token).await;
    assert_eq!(feed["items"], json!([]), "{feed}");
    assert_eq!(app.get_json("/health/ready").await["read_replica"], "ready");
}
