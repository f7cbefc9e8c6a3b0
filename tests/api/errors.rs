//! Errors are problems, requests carry ids, and the edges (unknown paths, methods, CORS) answer
//! as documented.

use redes::configuration::CorsOrigins;

use crate::helpers::{Options, TestApp, assert_problem, backends};

#[actix_web::test]
async fn unknown_paths_are_404_problems_and_wrong_methods_405() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        for path in [
            "/nope",
            "/api/v1/nope",
            "/api/v2/territories",
            "/api/v1/territories/",
            // The router enters a group of routes by the first segment, whole.
            "/api/v1/territoriesx/CL-13",
            "/api/v1/territories:import",
        ] {
            let response = app.get(path, Some(&app.reader_token())).await;
            let problem = assert_problem(response, 404).await;
            assert_eq!(problem["instance"], path);
        }
        // Paths are compared percent-decoded, the first segment as the rest.
        let response = app
            .get("/api/v1/%74erritories/CL-13", Some(&app.reader_token()))
            .await;
        assert_eq!(response.status(), 200);
        let response = app
            .client
            .delete(app.url("/api/v1/territories/CL-13"))
            .bearer_auth(app.reader_token())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "GET");
        let problem = assert_problem(response, 405).await;
        assert_eq!(problem["type"], "urn:redes:problem:method-not-allowed");
        // A body where none is expected changes nothing.
        let response = app
            .client
            .post(app.url("/api/v1/territories"))
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_problem(response, 405).await;
    }
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let response = app
            .client
            .get(app.url("/api/v1/territories/CL-99"))
            .bearer_auth(app.reader_token())
            .header("X-Request-Id", "integrator-42")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "integrator-42");
        let problem = assert_problem(response, 404).await;
        assert_eq!(problem["request_id"], "integrator-42");

        let ok = app.get("/health/live", None).await;
        assert_eq!(ok.headers()["x-content-type-options"], "nosniff");
        let generated = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

        // An id unfit for logs and headers is replaced, not echoed.
        let response = app
            .client
            .get(app.url("/health/live"))
            .header("X-Request-Id", "x".repeat(300))
            .send()
            .await
            .unwrap();
        let replaced = response.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
    }
}

#[actix_web::test]
async fn problems_follow_accept_language() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        for (accept, title) in [
            (None, "Not found"),
            (Some("es"), "No encontrado"),
            (Some("es-CL,en;q=0.5"), "No encontrado"),
            (Some("en-GB,es;q=0.5"), "Not found"),
            (Some("fr-FR"), "Not found"),
        ] {
            let mut request = app.client.get(app.url("/nowhere"));
            if let Some(accept) = accept {
                request = request.header("Accept-Language", accept);
            }
            let problem = assert_problem(request.send().await.unwrap(), 404).await;
            assert_eq!(problem["title"], title, "{accept:?}");
        }
    }
}

#[actix_web::test]
async fn docs_are_served_offline() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let redirect = app.get("/docs", None).await;
        assert_eq!(redirect.status(), 308);
        assert_eq!(redirect.headers()["location"], "/docs/");
        let page = app.get("/docs/", None).await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("swagger-ui"));
        let initializer = app.get("/docs/swagger-initializer.js", None).await;
        assert!(initializer.text().await.unwrap().contains("/openapi.json"));
        let spec = app.get("/openapi.json", None).await;
        assert_eq!(spec.status(), 200);
        assert_eq!(spec.headers()["content-type"], "application/json");
        let spec: serde_json::Value = spec.json().await.unwrap();
        assert_eq!(spec["openapi"], "3.1.0");
        // The served document is the committed one.
        let committed: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(spec, committed);
        let missing = app.get("/docs/missing.js", None).await;
        assert_problem(missing, 404).await;
    }
}

#[actix_web::test]
async fn cors_admits_only_configured_origins() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(|settings| {
                    settings.http.cors_origins =
                        CorsOrigins::List(vec!["https://app.example.org".into()]);
                })),
                ..Options::default()
            },
        )
        .await;
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/territories"))
            .header("Origin", "https://app.example.org")
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 200);
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            "https://app.example.org"
        );
        let response = app
            .client
            .get(app.url("/api/v1/territories/CL"))
            .bearer_auth(app.reader_token())
            .header("Origin", "https://app.example.org")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let exposed = response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(exposed.contains("x-request-id"), "{exposed}");

        let foreign = app
            .client
            .get(app.url("/api/v1/territories/CL"))
            .bearer_auth(app.reader_token())
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        // The browser, not the server, enforces CORS: no allow header, so its page cannot read.
        assert!(
            foreign
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
}
