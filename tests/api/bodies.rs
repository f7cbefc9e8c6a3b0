//! Bad bodies: malformed JSON 400, wrong content type 415, oversize 413, wrong types and
//! unknown enum values 422 with a pointer to every bad field.

use serde_json::json;

use crate::helpers::{ALL_SCOPES, Options, TestApp, assert_problem, backends, issues};

#[actix_web::test]
async fn malformed_json_is_400_and_wrong_content_types_415() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let raw = |content_type: Option<&'static str>, body: &'static str| {
            let mut request = app
                .client
                .post(app.url("/api/v1/schools"))
                .bearer_auth(&token)
                .body(body);
            if let Some(content_type) = content_type {
                request = request.header("Content-Type", content_type);
            }
            request.send()
        };
        let problem = assert_problem(
            raw(Some("application/json"), "{\"name\": ").await.unwrap(),
            400,
        )
        .await;
        assert_eq!(problem["type"], "urn:redes:problem:malformed-json");
        assert!(
            problem["detail"].as_str().unwrap().contains("line 1"),
            "{problem}"
        );
        assert_problem(raw(Some("application/json"), "").await.unwrap(), 400).await;
        assert_problem(
            raw(Some("application/json"), "{\"a\": \"\\ud800\"}")
                .await
                .unwrap(),
            400,
        )
        .await;
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let problem = assert_problem(raw(content_type, "{}").await.unwrap(), 415).await;
            assert_eq!(problem["type"], "urn:redes:problem:unsupported-media-type");
        }
        // A merge patch may say so.
        let created = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Liceo", "country": "CL", "territory": "CL-09105", "rbd": 9,
                        "dependency": "municipal_daem"}),
            )
            .await;
        let response = app
            .client
            .patch(app.url(&format!(
                "/api/v1/schools/{}",
                created["id"].as_str().unwrap()
            )))
            .bearer_auth(&token)
            .header("Content-Type", "application/merge-patch+json")
            .body(r#"{"rural": true}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

#[actix_web::test]
async fn oversize_bodies_are_413() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(|settings| settings.http.max_body_bytes = 4096)),
                ..Options::default()
            },
        )
        .await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let big = json!({"name": "x".repeat(5000), "country": "CL"});
        let problem = assert_problem(app.post("/api/v1/schools", &token, &big).await, 413).await;
        assert_eq!(problem["type"], "urn:redes:problem:payload-too-large");
        assert!(problem["detail"].as_str().unwrap().contains("4096"));
    }
}

#[actix_web::test]
async fn wrong_types_and_unknown_values_point_at_every_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let body = json!({
            "name": ["not", "text"],
            "country": "CL",
            "territory": "CL-09105",
            "rbd": "5575",
            "rbd_dv": "12",
            "dependency": "municipal",
            "levels": ["basica_ninos", "kinder", "basica_ninos"],
            "rural": "no",
            "status": 1,
            "sostenedor_id": 42,
            "color": "azul"
        });
        let response = app
            .client
            .post(app.url("/api/v1/schools"))
            .bearer_auth(&token)
            .header("Accept-Language", "es-CL")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422).await;
        assert_eq!(
            issues(&problem),
            vec![
                "/color unknown_field",
                "/dependency invalid_value",
                "/levels duplicate",
                "/levels/1 invalid_value",
                "/name invalid_value",
                "/rbd invalid_value",
                "/rbd_dv invalid_format",
                "/rural invalid_value",
                "/sostenedor_id invalid_value",
                "/status invalid_value",
            ]
        );
        assert_eq!(problem["title"], "Datos no válidos");
        let dependency = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["pointer"] == "/dependency")
            .unwrap();
        assert!(
            dependency["message"]
                .as_str()
                .unwrap()
                .contains("municipal_daem"),
            "{dependency}"
        );

        // Text with accents, ñ, quotes and SQL-looking content round-trips untouched.
        let name = "Escuela Ñuñoa O'Higgins \"Los Aromos\"; DROP TABLE schools; --";
        let created = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": name, "country": "CL", "territory": "CL-13120", "rbd": 8,
                        "dependency": "municipal_daem"}),
            )
            .await;
        assert_eq!(created["name"], name);
        let found = app
            .read_all("/api/v1/schools?q=nunoa%20o%27higgins", &token)
            .await;
        assert_eq!(found.len(), 1);
        let control = app
            .post(
                "/api/v1/schools",
                &token,
                &json!({"name": "Escuela\u{0}", "country": "CL", "territory": "CL-13120",
                        "rbd": 7, "dependency": "municipal_daem"}),
            )
            .await;
        let problem = assert_problem(control, 422).await;
        assert_eq!(issues(&problem), vec!["/name invalid_format"]);
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("NUL")
        );
    }
}

#[actix_web::test]
async fn hostile_bodies_get_clear_answers_and_change_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let send = |body: Vec<u8>| {
            app.client
                .post(app.url("/api/v1/schools"))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
        };
        // Deeply nested JSON: refused by the parser's recursion limit, not the stack.
        let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_problem(send(nested.into_bytes()).await.unwrap(), 400).await;
        let nested_field = format!(
            r#"{{"name": {}1{}, "country": "CL"}}"#,
            "[".repeat(120),
            "]".repeat(120)
        );
        let problem = assert_problem(send(nested_field.into_bytes()).await.unwrap(), 422).await;
        assert!(
            issues(&problem).contains(&"/name invalid_value".to_owned()),
            "{problem}"
        );
        // A huge string within the body limit: one clear issue, not an echo of the string.
        let huge = json!({"name": "x".repeat(500_000), "country": "CL", "territory": "CL-13101",
                          "rbd": 1, "dependency": "municipal_daem"});
        let problem = assert_problem(send(huge.to_string().into_bytes()).await.unwrap(), 422).await;
        assert_eq!(issues(&problem), vec!["/name too_long"]);
        assert!(problem.to_string().len() < 2000);
        // Invalid UTF-8 and NUL characters.
        let mut invalid = br#"{"name": "Escuela "#.to_vec();
        invalid.extend_from_slice(&[0xff, 0xfe]);
        invalid.extend_from_slice(br#"", "country": "CL"}"#);
        assert_problem(send(invalid).await.unwrap(), 400).await;
        let nul = json!({"name": "Escuela\u{0}Rural", "country": "CL", "territory": "CL-13101",
                         "rbd": 1, "dependency": "municipal_daem"});
        let problem = assert_problem(send(nul.to_string().into_bytes()).await.unwrap(), 422).await;
        assert_eq!(issues(&problem), vec!["/name invalid_format"]);
        let nul_query = app.get("/api/v1/schools?q=a%00b", Some(&token)).await;
        assert_problem(nul_query, 400).await;
        // None of it was stored.
        assert!(app.read_all("/api/v1/schools", &token).await.is_empty());
        let feed = app.read("/api/v1/changes", &token).await;
        assert_eq!(feed["items"], json!([]));
    }
}

#[actix_web::test]
async fn a_client_too_slow_to_send_its_request_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(
        crate::helpers::Backend::Sqlite,
        Options {
            customise: Some(Box::new(|settings| {
                settings.http.client_request_timeout = std::time::Duration::from_millis(500);
            })),
            ..Options::default()
        },
    )
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    socket
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        socket.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}
