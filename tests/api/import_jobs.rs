//! Import jobs: `POST /api/v1/indicator-values:import` with `Prefer: respond-async` answers 202
//! and a status URL; `GET /api/v1/import-jobs/{id}` follows the job to its summary.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use redes::configuration::DatabaseUrl;
use redes::db::{DbConnection, DbTime, DbUuid};
use redes::repository::import_jobs::{self as repo, JobRow};
use serde_json::{Value, json};

use crate::helpers::{IMPORT_JOBS, Options, TestApp, assert_problem, backends, start_import_job};

const IMPORT: &str = "/api/v1/indicator-values:import";

fn importer(app: &TestApp, territories: &[&str]) -> String {
    app.token(&["indicators:import", "indicators:read"], territories)
}

/// Polls the job until it is done; fails with its last state after 30 s.
async fn wait_for(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = app.read(&format!("{IMPORT_JOBS}/{id}"), token).await;
        match job["status"].as_str() {
            Some("succeeded" | "failed") => return job,
            Some("queued" | "running") => {}
            other => panic!("job {id}: unexpected status {other:?}: {job}"),
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not finish in 30 s: {job}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post_csv_async(app: &TestApp, token: &str, query: &str, csv: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("{IMPORT}{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("prefer", "wait=10, respond-async")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, token: &str) -> usize {
    app.read_all("/api/v1/indicator-values?limit=500", token)
        .await
        .len()
}

#[actix_web::test]
async fn an_import_runs_as_a_job_and_its_url_gives_the_summary() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO", "CL"]);
        let csv = "indicator,org_unit,period,value,disaggregation\n\
                   CO_COBERTURA_NETA,05001,2017,88.5,level=primaria\n\
                   CO_COBERTURA_NETA,CO-05001,2018,89,level=primaria\n\
                   CL_IDPS_CLIMA_CONVIVENCIA,9101,2017,74,grado=4b\n";
        let response = post_csv_async(&app, &token, "?strategy=create", csv).await;
        assert_eq!(response.status(), 202);
        assert_eq!(response.headers()["preference-applied"], "respond-async");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let accepted: Value = response.json().await.unwrap();
        let id = accepted["id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("{IMPORT_JOBS}/{id}"));
        assert!(
            ["queued", "running", "succeeded"].contains(&accepted["status"].as_str().unwrap()),
            "{accepted}"
        );
        assert_eq!(accepted["strategy"], "create");
        assert_eq!(accepted["summary"], Value::Null);

        let job = wait_for(&app, &token, &id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["values_read"], 3, "{job}");
        assert_eq!(job["summary"]["written"], true, "{job}");
        assert_eq!(job["summary"]["imported"], 3, "{job}");
        assert_eq!(job["summary"]["conflicts"], json!([]));
        assert_eq!(job["error"], Value::Null);
        assert!(job["started_at"].is_string() && job["finished_at"].is_string());
        assert_eq!(count(&app, &token).await, 3);
        // Journalled like any import: a Secretaría's pull sees the values.
        let feed = app
            .read(
                "/api/v1/changes?resource=indicator_value&limit=100",
                &app.token(&["changes:read"], &["CO", "CL"]),
            )
            .await;
        assert_eq!(feed["items"].as_array().unwrap().len(), 3, "{feed}");

        // Again with `create`: every row conflicts, atomic, nothing written; the job succeeded
        // (the import ran) and its summary says so.
        let response = post_csv_async(&app, &token, "?strategy=create", csv).await;
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let job = wait_for(&app, &token, &id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["summary"]["written"], false, "{job}");
        assert_eq!(
            job["summary"]["conflicts"].as_array().unwrap().len(),
            3,
            "{job}"
        );
        assert_eq!(job["summary"]["conflicts"][0]["row"], 2);

        // The job keeps the caller's territories: rows outside them are conflicts.
        let medellin = importer(&app, &["CO-05001"]);
        let foreign = "indicator,org_unit,period,value\nCO_COBERTURA_NETA,11001,2017,80\n";
        let response = post_csv_async(&app, &medellin, "", foreign).await;
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let job = wait_for(&app, &medellin, &id).await;
        assert_eq!(job["summary"]["written"], false, "{job}");
        assert_eq!(
            job["summary"]["conflicts"][0]["column"], "org_unit",
            "{job}"
        );
        assert_eq!(count(&app, &token).await, 3);
    }
}

#[actix_web::test]
async fn a_dry_run_job_counts_and_writes_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        let body = json!({
            "dry_run": true,
            "values": [
                {"indicator": "CO_COBERTURA_NETA", "org_unit": "05001", "period": "2017",
                 "disaggregation": {"level": "primaria"}, "value": 87.5},
                {"indicator": "CO_COBERTURA_NETA", "org_unit": "CO-05001", "period": "2017",
                 "value": 84.1}
            ]
        });
        let id = start_import_job(&app, &token, &body).await;
        let job = wait_for(&app, &token, &id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["dry_run"], true);
        assert_eq!(job["summary"]["imported"], 2, "{job}");
        assert_eq!(job["summary"]["written"], false, "{job}");
        assert_eq!(count(&app, &token).await, 0);
    }
}

#[actix_web::test]
async fn a_job_is_only_its_principals() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO-05"]);
        let body = json!({"values": [{"indicator": "CO_COBERTURA_NETA", "org_unit": "05001",
                                      "period": "2017", "value": 87.5}]});
        let id = start_import_job(&app, &token, &body).await;
        let job = wait_for(&app, &token, &id).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        let path = format!("{IMPORT_JOBS}/{id}");

        // Another subject, even with the same territories: as if it did not exist.
        let other = app.token_for("someone-else", &["indicators:import"], &["CO-05"]);
        assert_problem(app.get(&path, Some(&other)).await, 404).await;
        // The same subject with other territories: the same.
        let elsewhere = app.token(&["indicators:import"], &["CO-11"]);
        assert_problem(app.get(&path, Some(&elsewhere)).await, 404).await;
        // Territories that include the job's: visible.
        let wider = app.token(&["indicators:import"], &["CO"]);
        assert_eq!(app.get(&path, Some(&wider)).await.status(), 200);
        // Without the scope: 403.
        let reader = app.token(&["indicators:read"], &["CO"]);
        assert_problem(app.get(&path, Some(&reader)).await, 403).await;

        // Unknown or malformed ids: 404.
        let unknown = format!("{IMPORT_JOBS}/{}", uuid::Uuid::now_v7());
        assert_problem(app.get(&unknown, Some(&token)).await, 404).await;
        let malformed = format!("{IMPORT_JOBS}/nope");
        assert_problem(app.get(&malformed, Some(&token)).await, 404).await;
    }
}

#[actix_web::test]
async fn a_job_request_is_checked_before_it_is_accepted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        // A CSV header that has neither the generic columns nor a mapping's: 422, no job.
        let response = post_csv_async(&app, &token, "", "a,b\n1,2\n").await;
        assert_problem(response, 422).await;
        let response = post_csv_async(&app, &token, "?mapping=nope", "a,b\n1,2\n").await;
        assert_problem(response, 422).await;
        let response = post_csv_async(&app, &token, "?strategy=sometimes", "a,b\n1,2\n").await;
        assert_problem(response, 400).await;
        let plain = app
            .client
            .post(app.url(IMPORT))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .header("prefer", "respond-async")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_problem(plain, 415).await;
        let malformed = app
            .client
            .post(app.url(IMPORT))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("prefer", "respond-async")
            .body("{")
            .send()
            .await
            .unwrap();
        assert_problem(malformed, 400).await;
        let invalid = app
            .send(
                reqwest::Method::POST,
                IMPORT,
                &token,
                Some(&json!({"values": [{"indicator": 1}]})),
                &[("prefer", "respond-async")],
            )
            .await;
        assert_problem(invalid, 422).await;
        // Other preferences alone leave the import synchronous.
        let response = app
            .send(
                reqwest::Method::POST,
                IMPORT,
                &token,
                Some(&json!({"values": []})),
                &[("prefer", "return=minimal")],
            )
            .await;
        assert_eq!(response.status(), 200);
    }
}

fn connect(url: &DatabaseUrl) -> DbConnection {
    match url {
        DatabaseUrl::Sqlite(path) => {
            DbConnection::Sqlite(SqliteConnection::establish(&path.display().to_string()).unwrap())
        }
        DatabaseUrl::Postgres(url) => DbConnection::Pg(PgConnection::establish(url).unwrap()),
    }
}

#[actix_web::test]
async fn jobs_left_running_by_a_dead_process_are_marked_failed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // A job as a process that died mid-import leaves it: running, its heartbeat old.
        let id = uuid::Uuid::now_v7();
        let long_ago = DbTime::new(chrono::Utc::now() - chrono::Duration::minutes(5));
        let mut conn = connect(&app.settings.database.url);
        repo::insert(
            &mut conn,
            &JobRow {
                id: DbUuid(id),
                subject: "tester".into(),
                territories: "/CO/".into(),
                status: "running".into(),
                strategy: "create_and_update".into(),
                dry_run: false,
                atomic: true,
                values_read: 1000,
                summary: None,
                error: None,
                created_at: long_ago,
                started_at: Some(long_ago),
                finished_at: None,
                updated_at: long_ago,
            },
        )
        .unwrap();
        drop(conn);

        // A new instance on the same database finds it abandoned at start.
        let url = match &app.settings.database.url {
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        let restarted = TestApp::spawn_with(
            backend,
            Options {
                database_url: Some(url),
                ..Options::default()
            },
        )
        .await;
        let token = restarted.token(&["indicators:import"], &["CO"]);
        let job = restarted.read(&format!("{IMPORT_JOBS}/{id}"), &token).await;
        assert_eq!(job["status"], "failed", "{job}");
        assert!(job["error"].as_str().unwrap().contains("stopped"), "{job}");
        assert!(job["finished_at"].is_string(), "{job}");
    }
}
