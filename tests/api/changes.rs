//! The change journal: ordered, with tombstones, scoped, and without gaps under concurrent
//! writers.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use diesel::Connection;
use redes::configuration::DatabaseUrl;
use redes::db::DbConnection;
use redes::repository::changes::{Change, Operation, append};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, Backend, Options, TestApp, backends};

fn school(name: &str, rbd: u32, territory: &str) -> Value {
    json!({"name": name, "country": "CL", "territory": territory, "rbd": rbd,
           "dependency": "municipal_daem"})
}

async fn feed(app: &TestApp, token: &str, query: &str) -> Value {
    app.read(&format!("/api/v1/changes?{query}"), token).await
}

fn entries(page: &Value) -> Vec<(String, String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["resource"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
                e["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn every_write_is_in_the_feed_in_order_with_tombstones() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let empty = feed(&app, &token, "after=0").await;
        assert_eq!(empty, json!({"items": [], "next_after": 0}));

        let daem = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "DAEM de Freire", "kind": "daem", "territory": "CL-09105"}),
            )
            .await;
        let liceo = app
            .create(
                "/api/v1/schools",
                &token,
                &school("Liceo", 5575, "CL-09105"),
            )
            .await;
        let path = format!("/api/v1/schools/{}", liceo["id"].as_str().unwrap());
        let patched = app
            .send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"rural": true})),
                &[],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let deleted = app.send(Method::DELETE, &path, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        // A refused write leaves no entry.
        let refused = app
            .post("/api/v1/schools", &token, &json!({"name": "x"}))
            .await;
        assert_eq!(refused.status(), 422);

        let page = feed(&app, &token, "after=0").await;
        let (daem_id, liceo_id) = (daem["id"].as_str().unwrap(), liceo["id"].as_str().unwrap());
        assert_eq!(
            entries(&page),
            vec![
                ("organization".into(), daem_id.into(), "created".into()),
                ("school".into(), liceo_id.into(), "created".into()),
                ("school".into(), liceo_id.into(), "updated".into()),
                ("school".into(), liceo_id.into(), "deleted".into()),
            ]
        );
        let seqs: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert_eq!(page["next_after"], seqs[3]);
        assert!(page["items"][0]["at"].as_str().unwrap().ends_with('Z'));

        // Polling from the last seq seen: nothing new, and the same sync point back.
        let last = seqs[3];
        let idle = feed(&app, &token, &format!("after={last}")).await;
        assert_eq!(idle, json!({"items": [], "next_after": last}));
        // Pages of one, and one resource type.
        let one = feed(&app, &token, "after=0&limit=1").await;
        assert_eq!(one["next_after"], seqs[0]);
        let second = feed(&app, &token, &format!("after={}&limit=1", seqs[0])).await;
        assert_eq!(second["items"][0]["seq"], seqs[1]);
        let orgs = feed(&app, &token, "resource=organization").await;
        assert_eq!(entries(&orgs).len(), 1);
        let both = feed(&app, &token, "resource=organization&resource=school").await;
        assert_eq!(entries(&both).len(), 4);

        let bad = app
            .get(
                "/api/v1/changes?after=-1&limit=5000&resource=nobody",
                Some(&token),
            )
            .await;
        let problem = crate::helpers::assert_problem(bad, 400).await;
        assert_eq!(
            crate::helpers::issues(&problem),
            vec![
                "after out_of_range",
                "limit out_of_range",
                "resource invalid_choice"
            ]
        );
    }
}

#[actix_web::test]
async fn the_feed_shows_each_principal_its_own_territories_and_what_left_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let national = app.token(ALL_SCOPES, &["CL"]);
        let araucania = app.token(ALL_SCOPES, &["CL-09"]);
        let metropolitana = app.token(ALL_SCOPES, &["CL-13"]);
        let south = app
            .create(
                "/api/v1/schools",
                &araucania,
                &school("Liceo Sur", 1, "CL-09105"),
            )
            .await;
        let north = app
            .create(
                "/api/v1/schools",
                &metropolitana,
                &school("Liceo Centro", 2, "CL-13101"),
            )
            .await;
        let ids =
            |page: &Value| -> Vec<String> { entries(page).into_iter().map(|e| e.1).collect() };
        let (south_id, north_id) = (south["id"].as_str().unwrap(), north["id"].as_str().unwrap());
        assert_eq!(ids(&feed(&app, &araucania, "").await), vec![south_id]);
        assert_eq!(ids(&feed(&app, &metropolitana, "").await), vec![north_id]);
        assert_eq!(
            ids(&feed(&app, &national, "").await),
            vec![south_id, north_id]
        );

        // The national principal moves the southern school to Santiago: both regions hear of it.
        let path = format!("/api/v1/schools/{south_id}");
        let moved = app
            .send(
                Method::PATCH,
                &path,
                &national,
                Some(&json!({"territory": "CL-13101"})),
                &[],
            )
            .await;
        assert_eq!(moved.status(), 200);
        assert_eq!(
            ids(&feed(&app, &araucania, "").await),
            vec![south_id, south_id]
        );
        assert_eq!(
            ids(&feed(&app, &metropolitana, "").await),
            vec![north_id, south_id]
        );
        // …and the region it left can no longer read it.
        crate::helpers::assert_problem(app.get(&path, Some(&araucania)).await, 404).await;
    }
}

/// A writer that holds its transaction open after appending its journal entry: a slow commit.
fn slow_writer(
    url: DatabaseUrl,
    territory_path: String,
    hold: Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut conn = match &url {
            DatabaseUrl::Postgres(url) => {
                DbConnection::Pg(diesel::PgConnection::establish(url).unwrap())
            }
            DatabaseUrl::Sqlite(path) => DbConnection::Sqlite(
                diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap(),
            ),
        };
        // Begun through Diesel's transaction manager, as `Db::write` does, so that Diesel
        // knows it is inside a transaction.
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        match &mut conn {
            DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction(pg).unwrap(),
            DbConnection::Sqlite(sqlite) => {
                diesel::connection::SimpleConnection::batch_execute(
                    sqlite,
                    "PRAGMA busy_timeout = 10000",
                )
                .unwrap();
                AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE").unwrap();
            }
        }
        append(
            &mut conn,
            &[Change {
                resource: "school",
                id: uuid::Uuid::new_v4(),
                operation: Operation::Created,
                territory_path,
                previous_territory_path: None,
            }],
        )
        .unwrap();
        std::thread::sleep(hold);
        match &mut conn {
            DbConnection::Pg(pg) => AnsiTransactionManager::commit_transaction(pg).unwrap(),
            DbConnection::Sqlite(sqlite) => {
                AnsiTransactionManager::commit_transaction(sqlite).unwrap()
            }
        }
    })
}

#[actix_web::test]
async fn a_slow_writer_never_makes_a_poller_skip_its_entry() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        // Writer A takes the next sequence number and holds its transaction open for a second…
        let writer = slow_writer(
            app.settings.database.url.clone(),
            "/CL/CL-09/CL-091/CL-09105/".into(),
            Duration::from_millis(1200),
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        // …while writer B, through the API, commits a write, and a poller follows the feed.
        let create = {
            let app_url = app.url("/api/v1/schools");
            let client = app.client.clone();
            let token = token.clone();
            actix_web::rt::spawn(async move {
                client
                    .post(app_url)
                    .bearer_auth(token)
                    .json(&school("Liceo B", 77, "CL-09105"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        };
        let mut after = 0;
        let mut seen = Vec::new();
        let started = std::time::Instant::now();
        while seen.len() < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "only saw {seen:?}"
            );
            let page = feed(&app, &token, &format!("after={after}")).await;
            for item in page["items"].as_array().unwrap() {
                seen.push(item["seq"].as_i64().unwrap());
            }
            after = page["next_after"].as_i64().unwrap();
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(create.await.unwrap(), 201);
        writer.join().unwrap();
        let everything: Vec<i64> = feed(&app, &token, "after=0").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seen, everything, "the poller saw every entry, in order");
    }
}

#[actix_web::test]
async fn concurrent_writers_and_a_poller_see_every_committed_write_exactly_once() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(|settings| {
                    settings.http.workers = 4;
                    settings.database.pool_size = 12;
                })),
                ..Options::default()
            },
        )
        .await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let writers = 8;
        let per_writer = if backend == Backend::Postgres { 25 } else { 12 };
        let mut handles = Vec::new();
        for w in 0..writers {
            let client = app.client.clone();
            let url = app.url("/api/v1/schools");
            let token = token.clone();
            handles.push(actix_web::rt::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..per_writer {
                    let rbd = 10_000 + w * 1000 + i;
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&school(&format!("Escuela {w}-{i}"), rbd, "CL-09105"))
                        .send()
                        .await
                        .unwrap();
                    if response.status() == 201 {
                        let body: Value = response.json().await.unwrap();
                        ids.push(body["id"].as_str().unwrap().to_owned());
                    }
                }
                ids
            }));
        }
        // Poll while the writers write.
        let mut observed: Vec<(i64, String)> = Vec::new();
        let mut after = 0;
        let mut writers_done = false;
        let mut committed: HashSet<String> = HashSet::new();
        loop {
            let page = feed(&app, &token, &format!("after={after}&limit=7")).await;
            for item in page["items"].as_array().unwrap() {
                observed.push((
                    item["seq"].as_i64().unwrap(),
                    item["id"].as_str().unwrap().to_owned(),
                ));
            }
            let next = page["next_after"].as_i64().unwrap();
            let idle = next == after;
            after = next;
            if writers_done && idle {
                break;
            }
            if !writers_done && handles.iter().all(|h| h.is_finished()) {
                for handle in handles.drain(..) {
                    committed.extend(handle.await.unwrap());
                }
                writers_done = true;
            }
        }
        assert_eq!(
            committed.len(),
            (writers * per_writer) as usize,
            "every write succeeded"
        );
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (_, id) in &observed {
            *counts.entry(id.as_str()).or_default() += 1;
        }
        assert!(counts.values().all(|n| *n == 1), "an entry was seen twice");
        let seen: HashSet<String> = observed.iter().map(|(_, id)| id.clone()).collect();
        let missed: Vec<&String> = committed.difference(&seen).collect();
        assert!(
            missed.is_empty(),
            "the poller missed {} committed writes",
            missed.len()
        );
        assert_eq!(
            seen.len(),
            committed.len(),
            "nothing observed that was not committed"
        );
        assert!(observed.windows(2).all(|w| w[0].0 < w[1].0), "in seq order");
    }
}
