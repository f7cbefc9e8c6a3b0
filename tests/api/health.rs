//! Liveness, readiness through a database outage, and metrics.

use std::time::{Duration, Instant};

use redes::configuration::DatabaseUrl;

use crate::helpers::{
    Backend, DbProxy, Options, TestApp, TestDatabase, assert_problem, backends, postgres_address,
    through_proxy,
};

#[actix_web::test]
async fn live_and_ready_when_the_database_is_up() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let live = app.get("/health/live", None).await;
        assert_eq!(live.status(), 200);
        assert_eq!(
            live.json::<serde_json::Value>().await.unwrap()["status"],
            "live"
        );
        let ready: serde_json::Value = app.get("/health/ready", None).await.json().await.unwrap();
        assert_eq!(ready["status"], "ready");
        let expected = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(ready["database"], expected);
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.reader_token();
        app.get("/api/v1/territories/CL-13", Some(&token)).await;
        app.get("/api/v1/territories/CL-99", Some(&token)).await;
        app.get("/api/v1/territories/CL-98", Some(&token)).await;
        // Paths of one shape (a UUID in place of another) share their route (403 here: the token
        // cannot read schools); a path no route matches is `unmatched`, even after a matching
        // one of nearly the same shape.
        for id in [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()] {
            app.get(&format!("/api/v1/schools/{id}"), Some(&token))
                .await;
        }
        app.get(
            &format!("/api/v1/schools/{}/nothing", uuid::Uuid::new_v4()),
            Some(&token),
        )
        .await;
        let response = app.get("/metrics", None).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = response.text().await.unwrap();
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.starts_with(needle))
                .unwrap_or_else(|| panic!("no `{needle}` in\n{text}"))
                .to_owned()
        };
        let route = r#"route="/api/v1/territories/{territory}""#;
        assert!(
            line(&format!(
                r#"redes_http_requests_total{{method="GET",{route},status="404"}}"#
            ))
            .ends_with(" 2")
        );
        assert!(
            line(&format!(
                r#"redes_http_requests_total{{method="GET",{route},status="200"}}"#
            ))
            .ends_with(" 1")
        );
        assert!(
            line(r#"redes_http_requests_total{method="GET",route="/api/v1/schools/{id}",status="403"}"#)
                .ends_with(" 2")
        );
        assert!(
            line(r#"redes_http_requests_total{method="GET",route="unmatched",status="404"}"#)
                .ends_with(" 1")
        );
        line("redes_http_request_duration_seconds_bucket{");
        assert!(line("redes_db_pool_max_size").ends_with(" 4"));
        assert!(line("redes_db_ready").ends_with(" 1"));
        line(r#"redes_db_pool_connections{state="idle"}"#);
    }
}

/// A token that reads territories and schools (a school by id is a short read on the worker
/// thread, `Db::read_short`; a territory goes through the blocking pool).
fn reader(app: &TestApp) -> String {
    app.token(&["territories:read", "schools:read"], &["CL", "CO"])
}

/// Polls until `path` answers `status`, returning how long it took.
async fn wait_for(app: &TestApp, path: &str, status: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(reader(app))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if response.is_ok_and(|r| r.status() == status) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{path} did not answer {status} within {within:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn assert_unavailable(app: &TestApp, path: &str) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(reader(app))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "2", "{path}");
    let problem = assert_problem(response, 503).await;
    assert_eq!(problem["type"], "urn:redes:problem:service-unavailable");
    let detail = problem["detail"].as_str().unwrap().to_lowercase();
    for leak in [
        "connection",
        "refused",
        "postgres",
        "sqlite",
        "5432",
        "closed",
    ] {
        assert!(!detail.contains(leak), "internal detail leaked: {detail}");
    }
}

#[actix_web::test]
async fn not_ready_while_the_database_is_unreachable_then_recovers_by_itself() {
    for backend in backends() {
        match backend {
            Backend::Sqlite => sqlite_outage().await,
            Backend::Postgres => postgres_outage().await,
        }
    }
}

/// PostgreSQL behind a proxy the test cuts: down at start, then down again mid-run.
async fn postgres_outage() {
    let database = TestDatabase::create();
    let proxy = DbProxy::start(postgres_address()).await;
    proxy.go_down();
    // It starts while the database is unreachable…
    let app = TestApp::spawn_with(
        Backend::Postgres,
        Options {
            database_url: Some(through_proxy(&database, &proxy)),
            no_wait: true,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    assert_problem(app.get("/health/ready", None).await, 503).await;
    assert_unavailable(&app, "/api/v1/territories/CL-13").await;

    // …becomes ready when it appears…
    proxy.come_back();
    wait_for(&app, "/health/ready", 200, Duration::from_secs(20)).await;
    wait_for(
        &app,
        "/api/v1/territories/CL-13",
        200,
        Duration::from_secs(5),
    )
    .await;

    let writer = app.token(&["schools:write"], &["CL"]);
    let school = app
        .create(
            "/api/v1/schools",
            &writer,
            &serde_json::json!({"name": "Escuela Proxy", "country": "CL",
                                "territory": "CL-13101", "rbd": 9901,
                                "dependency": "municipal_daem"}),
        )
        .await;
    let school = format!("/api/v1/schools/{}", school["id"].as_str().unwrap());
    wait_for(&app, &school, 200, Duration::from_secs(5)).await;

    // …reports the outage at once when it goes away mid-run…
    proxy.go_down();
    let noticed = wait_for(&app, "/health/ready", 503, Duration::from_secs(5)).await;
    assert!(
        noticed < Duration::from_secs(2),
        "readiness took {noticed:?} to notice"
    );
    assert_unavailable(&app, "/api/v1/territories/CL-13").await;
    assert_unavailable(&app, &school).await;

    // …and serves again as soon as it is back, discarding the dead pooled connections.
    proxy.come_back();
    let recovered = wait_for(
        &app,
        "/api/v1/territories/CL-13",
        200,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        recovered < Duration::from_secs(3),
        "recovery took {recovered:?}"
    );
    assert_eq!(app.get("/health/ready", None).await.status(), 200);
    wait_for(&app, &school, 200, Duration::from_secs(3)).await;
}

/// SQLite whose file cannot be opened at start, until it can.
async fn sqlite_outage() {
    // The database's directory is blocked by a regular file of the same name.
    let blocked = tempfile::tempdir().unwrap();
    let directory = blocked.path().join("db");
    std::fs::write(&directory, b"not a directory").unwrap();
    let url = DatabaseUrl::Sqlite(directory.join("redes.db")).to_string();
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            database_url: Some(url),
            no_wait: true,
            ..Options::default()
        },
    )
    .await;
    assert_problem(app.get("/health/ready", None).await, 503).await;
    assert_unavailable(&app, "/api/v1/territories/CL-13").await;

    std::fs::remove_file(&directory).unwrap();
    wait_for(&app, "/health/ready", 200, Duration::from_secs(20)).await;
    let page = app.get_json("/api/v1/territories/CL-13").await;
    assert_eq!(page["key"], "CL-13");
}
