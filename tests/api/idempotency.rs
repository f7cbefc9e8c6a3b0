//! `Idempotency-Key` on POST: a retry gets the first response again; the same key for another
//! request is 422, while the first is served 409; errors a retry may cure are not kept.

use reqwest::Method;
use serde_json::{Value, json};

use redes::db::{Db, DbTime};
use redes::idempotency::{ABANDON_AFTER, KEEP, fingerprint};
use redes::repository::idempotency::{self as repo, Claim, Lifetimes};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends};

const SCHOOLS: &str = "/api/v1/schools";

fn liceo(name: &str, rbd: u32) -> Value {
    json!({"name": name, "country": "CL", "territory": "CL-09105", "rbd": rbd,
           "dependency": "municipal_daem", "levels": ["basica_ninos"], "rural": false})
}

async fn post_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.send(
        Method::POST,
        SCHOOLS,
        token,
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn school_names(app: &TestApp, token: &str) -> Vec<String> {
    app.read_all(SCHOOLS, token)
        .await
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Claims a key directly in the app's database, as a request that is still being served.
async fn claim_directly(app: &TestApp, owner: &str, key: &str, body: &Value, at: DbTime) {
    let db = Db::new(&app.settings.database);
    let (owner, key) = (owner.to_owned(), key.to_owned());
    let fingerprint = fingerprint("POST", SCHOOLS, &serde_json::to_vec(body).unwrap());
    let claim = actix_web::rt::task::spawn_blocking(move || {
        db.execute_blocking(|conn| {
            let lifetimes = Lifetimes {
                keep: KEEP,
                abandon_after: ABANDON_AFTER,
            };
            Ok(repo::claim(
                conn,
                &owner,
                &key,
                &fingerprint,
                at,
                lifetimes,
            )?)
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(claim, Claim::Claimed(_)), "{claim:?}");
}

#[actix_web::test]
async fn a_retry_with_the_same_key_and_body_gets_the_first_response_again() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let body = liceo("Liceo Idempotente", 5575);

        let first = post_with_key(&app, &token, "create-liceo-1", &body).await;
        assert_eq!(first.status(), 201);
        assert_eq!(header(&first, "idempotent-replayed"), None);
        let location = header(&first, "location").expect("Location");
        let etag = header(&first, "etag");
        let first_body: Value = first.json().await.unwrap();

        let retry = post_with_key(&app, &token, "create-liceo-1", &body).await;
        assert_eq!(retry.status(), 201);
        assert_eq!(
            header(&retry, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(header(&retry, "location"), Some(location));
        assert_eq!(header(&retry, "etag"), etag);
        assert_eq!(
            header(&retry, "content-type").as_deref(),
            Some("application/json")
        );
        let retry_body: Value = retry.json().await.unwrap();
        assert_eq!(retry_body, first_body);

        // The same key in its Structured Field form (the draft's) is the same key.
        let quoted = post_with_key(&app, &token, "\"create-liceo-1\"", &body).await;
        assert_eq!(
            header(&quoted, "idempotent-replayed").as_deref(),
            Some("true")
        );

        assert_eq!(school_names(&app, &token).await, vec!["Liceo Idempotente"]);
    }
}

#[actix_web::test]
async fn the_same_key_for_another_request_is_refused_and_another_caller_has_its_own_keys() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let created = post_with_key(&app, &token, "k-1", &liceo("Escuela Uno", 5575)).await;
        assert_eq!(created.status(), 201);

        let other_body = post_with_key(&app, &token, "k-1", &liceo("Escuela Dos", 5576)).await;
        let problem = assert_problem(other_body, 422).await;
        assert_eq!(problem["type"], "urn:redes:problem:idempotency-key-reused");
        assert_eq!(school_names(&app, &token).await, vec!["Escuela Uno"]);

        // Another subject's key of the same name is its own.
        let other = app.token_for("someone-else", ALL_SCOPES, &["CL"]);
        let theirs = post_with_key(&app, &other, "k-1", &liceo("Escuela Tres", 5577)).await;
        assert_eq!(theirs.status(), 201);
        assert_eq!(header(&theirs, "idempotent-replayed"), None);
        let mut names = school_names(&app, &token).await;
        names.sort();
        assert_eq!(names, vec!["Escuela Tres", "Escuela Uno"]);
    }
}

#[actix_web::test]
async fn a_retry_while_the_first_is_served_is_409_and_an_abandoned_claim_is_taken_over() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let body = liceo("Escuela en Curso", 5575);
        claim_directly(&app, "tester", "busy", &body, DbTime::now()).await;

        let busy = post_with_key(&app, &token, "busy", &body).await;
        assert_eq!(header(&busy, "retry-after").as_deref(), Some("1"));
        let problem = assert_problem(busy, 409).await;
        assert_eq!(problem["type"], "urn:redes:problem:idempotency-key-in-use");
        assert!(school_names(&app, &token).await.is_empty());

        // A claim older than any request can last was left by a process that died.
        let long_ago =
            DbTime::new(chrono::Utc::now() - ABANDON_AFTER - chrono::Duration::seconds(5));
        let body = liceo("Escuela Retomada", 5576);
        claim_directly(&app, "tester", "abandoned", &body, long_ago).await;
        let taken = post_with_key(&app, &token, "abandoned", &body).await;
        assert_eq!(taken.status(), 201);
        assert_eq!(header(&taken, "idempotent-replayed"), None);
        let replayed = post_with_key(&app, &token, "abandoned", &body).await;
        assert_eq!(
            header(&replayed, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(school_names(&app, &token).await, vec!["Escuela Retomada"]);
    }
}

#[actix_web::test]
async fn a_client_error_is_replayed_but_a_conflict_a_retry_may_cure_is_not_kept() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);

        // 422: the same request would fail the same way; its problem is kept as sent.
        let invalid = json!({"name": "Sin País", "territory": "CL-09105"});
        let first = app
            .send(
                Method::POST,
                SCHOOLS,
                &token,
                Some(&invalid),
                &[("Idempotency-Key", "bad"), ("Accept-Language", "es")],
            )
            .await;
        assert_eq!(header(&first, "content-language").as_deref(), Some("es"));
        let first = assert_problem(first, 422).await;
        let retry = post_with_key(&app, &token, "bad", &invalid).await;
        assert_eq!(
            header(&retry, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(header(&retry, "content-language").as_deref(), Some("es"));
        assert_eq!(retry.status(), 422);
        let retry: Value = retry.json().await.unwrap();
        assert_eq!(retry, first, "the first problem, request id included");

        // 409 (the RBD is taken) depends on the state, which may change: not kept.
        let holder = app.create(SCHOOLS, &token, &liceo("Titular", 5575)).await;
        let twin = liceo("Gemelo", 5575);
        assert_problem(post_with_key(&app, &token, "twin", &twin).await, 409).await;
        let again = post_with_key(&app, &token, "twin", &twin).await;
        assert_eq!(header(&again, "idempotent-replayed"), None);
        assert_problem(again, 409).await;
        let path = format!("{SCHOOLS}/{}", holder["id"].as_str().unwrap());
        let deleted = app.send(Method::DELETE, &path, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        let created = post_with_key(&app, &token, "twin", &twin).await;
        assert_eq!(created.status(), 201);
        assert_eq!(header(&created, "idempotent-replayed"), None);
        assert_eq!(school_names(&app, &token).await, vec!["Gemelo"]);
    }
}

#[actix_web::test]
async fn without_a_key_nothing_changes_and_a_malformed_key_is_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let body = liceo("Escuela Repetida", 5575);
        let mut second = body.clone();
        second["rbd"] = json!(5576);
        assert_eq!(app.post(SCHOOLS, &token, &body).await.status(), 201);
        assert_eq!(app.post(SCHOOLS, &token, &second).await.status(), 201);
        assert_eq!(school_names(&app, &token).await.len(), 2);

        let too_long = "k".repeat(256);
        for key in ["", "has space", "\"\"", too_long.as_str(), "ñandú"] {
            let response = app
                .client
                .post(app.url(SCHOOLS))
                .bearer_auth(&token)
                .header("Idempotency-Key", key.as_bytes())
                .json(&liceo("Nunca", 5590))
                .send()
                .await
                .unwrap();
            let problem = assert_problem(response, 400).await;
            assert_eq!(
                problem["type"], "urn:redes:problem:invalid-idempotency-key",
                "{key:?}"
            );
            assert_eq!(problem["errors"][0]["header"], "Idempotency-Key");
        }
        // Twice is once too many.
        let twice = app
            .client
            .post(app.url(SCHOOLS))
            .bearer_auth(&token)
            .header("Idempotency-Key", "a")
            .header("Idempotency-Key", "b")
            .json(&liceo("Nunca", 5590))
            .send()
            .await
            .unwrap();
        assert_problem(twice, 400).await;
        // Without a token the key is not looked at: 401 as ever.
        let anonymous = app
            .client
            .post(app.url(SCHOOLS))
            .header("Idempotency-Key", "has space")
            .json(&liceo("Nunca", 5590))
            .send()
            .await
            .unwrap();
        assert_problem(anonymous, 401).await;
        assert_eq!(school_names(&app, &token).await.len(), 2);
    }
}

#[actix_web::test]
async fn an_oversize_body_with_a_key_is_still_413() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let mut body = liceo("Grande", 5575);
        body["name"] = json!("x".repeat(app.settings.http.max_body_bytes + 1));
        let response = post_with_key(&app, &token, "big", &body).await;
        assert_problem(response, 413).await;
        assert!(school_names(&app, &token).await.is_empty());
    }
}

#[actix_web::test]
async fn an_async_import_started_with_a_key_is_started_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token_for("importer", &["indicators:import"], &["CO-05"]);
        let body = json!({"values": [{"indicator": "CO_COBERTURA_NETA", "org_unit": "05001",
                                      "period": "2017", "value": 87.5}]});
        let start = || async {
            app.send(
                Method::POST,
                "/api/v1/indicator-values:import",
                &token,
                Some(&body),
                &[("Prefer", "respond-async"), ("Idempotency-Key", "import-1")],
            )
            .await
        };
        let first = start().await;
        assert_eq!(first.status(), 202);
        let location = header(&first, "location").expect("Location");
        let job: Value = first.json().await.unwrap();
        let retry = start().await;
        assert_eq!(retry.status(), 202);
        assert_eq!(
            header(&retry, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(header(&retry, "location"), Some(location));
        let replayed: Value = retry.json().await.unwrap();
        assert_eq!(replayed["id"], job["id"], "the same job, not a second one");
    }
}

/// PostgreSQL only (a proxy the test cuts): with the database down the key cannot be claimed,
/// the answer is 503 and nothing is kept, so the retry after the outage runs the request.
#[actix_web::test]
async fn with_the_database_down_the_claim_is_503_and_the_retry_runs() {
    use crate::helpers::{
        Backend, DbProxy, Options, TestDatabase, postgres_address, through_proxy,
    };
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    let database = TestDatabase::create();
    let proxy = DbProxy::start(postgres_address()).await;
    let app = TestApp::spawn_with(
        Backend::Postgres,
        Options {
            database_url: Some(through_proxy(&database, &proxy)),
            ..Options::default()
        },
    )
    .await;
    let token = app.token(ALL_SCOPES, &["CL"]);
    let body = liceo("Escuela Tras el Corte", 5575);
    proxy.go_down();
    let down = post_with_key(&app, &token, "outage", &body).await;
    assert!(header(&down, "retry-after").is_some());
    assert_problem(down, 503).await;
    proxy.come_back();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let created = loop {
        let response = post_with_key(&app, &token, "outage", &body).await;
        if response.status() != 503 || std::time::Instant::now() > deadline {
            break response;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "idempotent-replayed"), None);
    let replayed = post_with_key(&app, &token, "outage", &body).await;
    assert_eq!(
        header(&replayed, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(
        school_names(&app, &token).await,
        vec!["Escuela Tras el Corte"]
    );
}
