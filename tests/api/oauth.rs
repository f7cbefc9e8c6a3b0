//! API clients and the client credentials grant: creating a client, getting tokens with it,
//! what the tokens grant, rotation, revocation, the keys, discovery and rate limits.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, assert_problem, backends};

const ADMIN_SCOPES: &[&str] = &[
    "clients:read",
    "clients:write",
    "schools:read",
    "schools:write",
    "changes:read",
];

/// A school body in La Araucanía (Temuco) or, with `CL-13101`, in Santiago.
fn school(rbd: u32, comuna: &str) -> Value {
    json!({
        "country": "CL", "name": format!("Escuela {rbd}"), "territory": comuna,
        "rbd": rbd, "dependency": "municipal_daem", "levels": ["basica_ninos"], "rural": false
    })
}

async fn create_client(app: &TestApp, admin: &str, scopes: &[&str], territories: &[&str]) -> Value {
    let response = app
        .post(
            "/api/v1/clients",
            admin,
            &json!({"name": "Sistema de la SEREMI", "contact": "ti@seremi.example.cl",
                    "scopes": scopes, "territories": territories}),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/clients/{}", body["client_id"].as_str().unwrap())
    );
    body
}

/// `POST /oauth/token` with HTTP Basic and the given form.
async fn token_request(
    app: &TestApp,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn token_of(app: &TestApp, client: &Value, scope: Option<&str>) -> String {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = token_request(
        app,
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
        &form,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    body["access_token"].as_str().unwrap().to_owned()
}

async fn oauth_error(response: reqwest::Response, status: u16, error: &str) -> Value {
    let problem = assert_problem(response, status).await;
    assert_eq!(problem["error"], error, "{problem}");
    assert_eq!(problem["error_description"], problem["detail"]);
    problem
}

#[actix_web::test]
async fn a_client_gets_tokens_with_its_rights_and_no_more() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(ADMIN_SCOPES, &["CL-09"]);
        let client =
            create_client(&app, &admin, &["schools:read", "schools:write"], &["CL-09"]).await;
        let id = client["client_id"].as_str().unwrap().to_owned();
        let secret = client["client_secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("rds_"), "{secret}");
        assert_eq!(client["status"], "active");
        assert_eq!(client["territories"][0]["name"], "La Araucanía");

        // The secret is shown once: never in reads or lists.
        let read = app.read(&format!("/api/v1/clients/{id}"), &admin).await;
        assert!(read.get("client_secret").is_none());
        assert!(!read.to_string().contains(&secret));
        let list = app.read("/api/v1/clients", &admin).await;
        assert!(!list.to_string().contains(&secret));
        assert_eq!(list["items"].as_array().unwrap().len(), 1);

        // A token with all its scopes, in its territories, signed ES256 with a published key.
        let token = token_of(&app, &client, None).await;
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        let jwks: Value = app
            .get("/.well-known/jwks.json", None)
            .await
            .json()
            .await
            .unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == header.kid.clone().unwrap().as_str())
            .expect("the token's kid is published");
        let key =
            DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
                .unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[app.settings.jwt.audience.as_str()]);
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], id.as_str());
        assert_eq!(claims["client_id"], id.as_str());
        assert_eq!(claims["territories"], json!(["CL-09"]));
        assert_eq!(claims["scope"], "schools:read schools:write");

        let info = app.read("/oauth/token_info", &token).await;
        assert_eq!(info["client_id"], id.as_str());
        assert_eq!(info["scopes"], json!(["schools:read", "schools:write"]));
        assert_eq!(
            info["territories"],
            json!([{"key": "CL-09", "name": "La Araucanía", "level": "region"}])
        );
        assert!(info["expires_in"].as_u64().unwrap() <= 600);

        // It writes in its territory, not elsewhere.
        assert_eq!(
            app.post("/api/v1/schools", &token, &school(5501, "CL-09105"))
                .await
                .status(),
            201
        );
        assert_problem(
            app.post("/api/v1/schools", &token, &school(5502, "CL-13101"))
                .await,
            403,
        )
        .await;

        // Narrowed: only what was asked; widened: refused.
        let narrow = token_of(&app, &client, Some("schools:read")).await;
        assert_problem(
            app.post("/api/v1/schools", &narrow, &school(5503, "CL-09105"))
                .await,
            403,
        )
        .await;
        let wide = token_request(
            &app,
            &id,
            &secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "schools:read people:read"),
            ],
        )
        .await;
        oauth_error(wide, 400, "invalid_scope").await;

        // The credentials may come in the form instead of HTTP Basic, not in both.
        let form = app
            .client
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        let both = token_request(
            &app,
            &id,
            &secret,
            &[("grant_type", "client_credentials"), ("client_id", &id)],
        )
        .await;
        oauth_error(both, 400, "invalid_request").await;

        // Wrong secret and unknown client: the same 401, with a Basic challenge.
        let wrong = token_request(
            &app,
            &id,
            "rds_wrong",
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert!(
            wrong.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        let wrong = oauth_error(wrong, 401, "invalid_client").await;
        let unknown = token_request(
            &app,
            "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
            &secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
        let unknown = oauth_error(unknown, 401, "invalid_client").await;
        assert_eq!(wrong["detail"], unknown["detail"]);
        let not_an_id = token_request(
            &app,
            "admin",
            "admin",
            &[("grant_type", "client_credentials")],
        )
        .await;
        oauth_error(not_an_id, 401, "invalid_client").await;
        let missing = app
            .client
            .post(app.url("/oauth/token"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        oauth_error(missing, 401, "invalid_client").await;

        // Other grants, a missing grant and a JSON body are the client's mistakes: 400.
        let password = token_request(&app, &id, &secret, &[("grant_type", "password")]).await;
        oauth_error(password, 400, "unsupported_grant_type").await;
        let no_grant = token_request(&app, &id, &secret, &[]).await;
        oauth_error(no_grant, 400, "invalid_request").await;
        let json_body = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(&id, Some(&secret))
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap();
        oauth_error(json_body, 400, "invalid_request").await;

        // Its last use is recorded.
        let read = app.read(&format!("/api/v1/clients/{id}"), &admin).await;
        assert!(read["last_used_at"].is_string());
    }
}

#[actix_web::test]
async fn an_administrator_grants_only_what_it_holds_where_it_acts() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let araucania = app.token(ADMIN_SCOPES, &["CL-09"]);
        let santiago = app.token(ADMIN_SCOPES, &["CL-13"]);
        let escalate = app
            .post(
                "/api/v1/clients",
                &araucania,
                &json!({"name": "x", "scopes": ["people:read"], "territories": ["CL-09"]}),
            )
            .await;
        let problem = assert_problem(escalate, 403).await;
        assert_eq!(problem["type"], "urn:redes:problem:scope-not-held");
        assert_eq!(problem["errors"][0]["pointer"], "/scopes/0");
        let foreign = app
            .post(
                "/api/v1/clients",
                &araucania,
                &json!({"name": "x", "scopes": ["schools:read"], "territories": ["CL-13"]}),
            )
            .await;
        assert_problem(foreign, 403).await;
        let invalid = app
            .post("/api/v1/clients", &araucania, &json!({"name": " ", "scopes": ["schools:fly"], "territories": ["XX-99"], "secret": "mine"}))
            .await;
        let problem = assert_problem(invalid, 422).await;
        let pointers: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect();
        for pointer in ["/name", "/scopes/0", "/territories/0"] {
            assert!(pointers.contains(&pointer), "{pointer} in {problem}");
        }

        let client = create_client(&app, &araucania, &["schools:read"], &["CL-09"]).await;
        let id = client["client_id"].as_str().unwrap();
        // Another region's administrator neither sees nor touches it.
        assert_problem(
            app.get(&format!("/api/v1/clients/{id}"), Some(&santiago))
                .await,
            404,
        )
        .await;
        let list = app.read("/api/v1/clients", &santiago).await;
        assert_eq!(list["items"], json!([]));
        let revoke = app
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/clients/{id}"),
                &santiago,
                None,
                &[],
            )
            .await;
        assert_problem(revoke, 404).await;
        // Without clients:write, no changes; without clients:read, no reads.
        let reader = app.token(&["clients:read"], &["CL-09"]);
        assert_problem(app.post("/api/v1/clients", &reader, &json!({})).await, 403).await;
        let writer = app.token(&["clients:write"], &["CL-09"]);
        assert_problem(app.get("/api/v1/clients", Some(&writer)).await, 403).await;

        // Pages of clients, by name, without repeats.
        for _ in 0..4 {
            create_client(&app, &araucania, &["schools:read"], &["CL-09105"]).await;
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/clients?limit=2".to_owned();
        loop {
            let page = app.read(&path, &araucania).await;
            for item in page["items"].as_array().unwrap() {
                seen.push(item["client_id"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/clients?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5);
        seen.dedup();
        assert_eq!(seen.len(), 5);
    }
}

fn short_cache(settings: &mut redes::configuration::Settings) {
    settings.oauth.client_cache = Duration::from_millis(200);
}

#[actix_web::test]
async fn rotation_keeps_the_old_secret_for_its_overlap_and_revocation_ends_everything() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(short_cache)),
                ..Options::default()
            },
        )
        .await;
        let admin = app.token(ADMIN_SCOPES, &["CL-09"]);
        let client = create_client(&app, &admin, &["schools:read"], &["CL-09"]).await;
        let id = client["client_id"].as_str().unwrap().to_owned();
        let first = client["client_secret"].as_str().unwrap().to_owned();
        let grant = [("grant_type", "client_credentials")];

        // With an overlap both secrets work; without one only the newest.
        let rotated = app
            .post(
                &format!("/api/v1/clients/{id}/secret"),
                &admin,
                &json!({"overlap_seconds": 3600}),
            )
            .await;
        assert_eq!(rotated.status(), 200);
        let rotated: Value = rotated.json().await.unwrap();
        let second = rotated["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(first, second);
        assert!(rotated["previous_secret_expires_at"].is_string());
        assert_eq!(token_request(&app, &id, &first, &grant).await.status(), 200);
        assert_eq!(
            token_request(&app, &id, &second, &grant).await.status(),
            200
        );
        let rotated: Value = app
            .post(&format!("/api/v1/clients/{id}/secret"), &admin, &json!({}))
            .await
            .json()
            .await
            .unwrap();
        let third = rotated["client_secret"].as_str().unwrap().to_owned();
        assert!(rotated["previous_secret_expires_at"].is_null());
        oauth_error(
            token_request(&app, &id, &second, &grant).await,
            401,
            "invalid_client",
        )
        .await;
        assert_eq!(token_request(&app, &id, &third, &grant).await.status(), 200);

        // Suspended: tokens stop working within the cache's time, and come back when reactivated.
        let token = token_of(
            &app,
            &json!({"client_id": id, "client_secret": third}),
            None,
        )
        .await;
        assert_eq!(app.get("/api/v1/schools", Some(&token)).await.status(), 200);
        let suspend = app
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/clients/{id}"),
                &admin,
                Some(&json!({"active": false})),
                &[],
            )
            .await;
        assert_eq!(suspend.status(), 200);
        let suspended: Value = suspend.json().await.unwrap();
        assert_eq!(suspended["status"], "suspended");
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let refused = assert_problem(app.get("/api/v1/schools", Some(&token)).await, 401).await;
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("revoked or suspended"),
            "{refused}"
        );
        oauth_error(
            token_request(&app, &id, &third, &grant).await,
            401,
            "invalid_client",
        )
        .await;
        app.send(
            reqwest::Method::PATCH,
            &format!("/api/v1/clients/{id}"),
            &admin,
            Some(&json!({"active": true})),
            &[],
        )
        .await;
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.get("/api/v1/schools", Some(&token)).await.status(), 200);

        // Revoked: at once on this instance, for good.
        let revoke = app
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/clients/{id}"),
                &admin,
                None,
                &[],
            )
            .await;
        assert_eq!(revoke.status(), 204);
        assert_problem(app.get("/api/v1/schools", Some(&token)).await, 401).await;
        oauth_error(
            token_request(&app, &id, &third, &grant).await,
            401,
            "invalid_client",
        )
        .await;
        assert_problem(
            app.get(&format!("/api/v1/clients/{id}"), Some(&admin))
                .await,
            404,
        )
        .await;
        let again = app
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/clients/{id}"),
                &admin,
                None,
                &[],
            )
            .await;
        assert_problem(again, 404).await;
        let change = app
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/clients/{id}"),
                &admin,
                Some(&json!({"active": true})),
                &[],
            )
            .await;
        assert_problem(change, 404).await;
        assert_problem(
            app.post(&format!("/api/v1/clients/{id}/secret"), &admin, &json!({}))
                .await,
            404,
        )
        .await;
    }
}

#[actix_web::test]
async fn discovery_describes_the_api_without_a_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get("/api/v1", None).await;
    assert_eq!(response.status(), 200);
    let discovery: Value = response.json().await.unwrap();
    assert_eq!(discovery["version"], env!("CARGO_PKG_VERSION"));
    for (link, path) in [
        ("openapi", "/openapi.json"),
        ("token", "/oauth/token"),
        ("jwks", "/.well-known/jwks.json"),
        ("changes", "/api/v1/changes"),
        ("token_info", "/oauth/token_info"),
    ] {
        assert_eq!(discovery["links"][link], path);
    }
    assert_eq!(discovery["limits"]["page_size_max"], 500);
    assert_eq!(
        discovery["limits"]["max_body_bytes"],
        app.settings.http.max_body_bytes
    );
    assert_eq!(discovery["limits"]["analytics_row_cap"], 10_000);
    assert!(
        discovery["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("clients:write"))
    );
    // Every link answers.
    for link in ["openapi", "jwks"] {
        let path = discovery["links"][link].as_str().unwrap();
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
}

fn tight_limits(settings: &mut redes::configuration::Settings) {
    settings.rate_limit.per_second = 1;
    settings.rate_limit.burst = 3;
    settings.rate_limit.token_requests_per_minute = 4;
}

#[actix_web::test]
async fn a_client_over_its_limit_gets_429_and_others_and_health_go_on() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(tight_limits)),
                ..Options::default()
            },
        )
        .await;
        let busy = app.token_for("busy", &["territories:read"], &["CL"]);
        let calm = app.token_for("calm", &["territories:read"], &["CL"]);
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let response = app.get("/api/v1/territories?limit=1", Some(&busy)).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["ratelimit-limit"], "3");
            remaining.push(
                response.headers()["ratelimit-remaining"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        assert_eq!(remaining, ["2", "1", "0"]);
        let refused = app.get("/api/v1/territories?limit=1", Some(&busy)).await;
        assert_eq!(refused.status(), 429);
        let retry: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry), "{retry}");
        assert_eq!(refused.headers()["ratelimit-remaining"], "0");
        assert_eq!(refused.headers()["ratelimit-policy"], "3;w=3");
        let problem = assert_problem(refused, 429).await;
        assert_eq!(problem["type"], "urn:redes:problem:too-many-requests");

        // Another client is not affected; health, metrics and documents are not counted.
        assert_eq!(
            app.get("/api/v1/territories?limit=1", Some(&calm))
                .await
                .status(),
            200
        );
        for path in [
            "/health/live",
            "/health/ready",
            "/metrics",
            "/openapi.json",
            "/api/v1",
        ] {
            assert_eq!(app.get(path, None).await.status(), 200, "{path}");
        }
        // After the wait, the client goes on.
        actix_web::rt::time::sleep(Duration::from_secs(retry)).await;
        assert_eq!(
            app.get("/api/v1/territories?limit=1", Some(&busy))
                .await
                .status(),
            200
        );

        // The token endpoint counts requests per address, whatever the credentials.
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(
                token_request(&app, "x", "y", &[("grant_type", "client_credentials")])
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(statuses, [401, 401, 401, 401, 429]);
    }
}
