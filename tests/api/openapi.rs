//! The contract: the committed document matches the code, and every operation behaves as the
//! document says about authentication, scopes and parameters.

use std::collections::HashMap;

use serde_json::Value;

use crate::helpers::{
    IMPORT_JOBS, TestApp, assert_problem, backends, concrete_body, create_companions,
    dependency_rank, record_created, start_import_job,
};

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = redes::openapi::document_json().unwrap();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code.\n\
         Regenerate it with:  cargo run -- openapi > openapi/openapi.json\n\
         and commit it with the change."
    );
}

/// A value for a parameter, from its example, default or first enum value.
fn sample(parameter: &Value) -> String {
    let schema = &parameter["schema"];
    let value = [
        &parameter["example"],
        &schema["example"],
        &schema["default"],
        &schema["enum"][0],
        &schema["items"]["enum"][0],
    ]
    .into_iter()
    .find(|v| !v.is_null())
    .cloned()
    .unwrap_or(Value::Null);
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

struct Operation {
    method: String,
    path: String,
    /// Authenticated with HTTP Basic (the token endpoint), tested in `oauth.rs`.
    basic: bool,
    scopes: Option<Vec<String>>,
    parameters: Vec<Value>,
    /// The first example of the JSON request body, if the operation takes one.
    body_example: Option<Value>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let scopes = operation["security"].as_array().map(|requirements| {
                requirements
                    .iter()
                    .flat_map(|r| r["bearer"].as_array().cloned().unwrap_or_default())
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect()
            });
            let content = &operation["requestBody"]["content"];
            let media = content
                .as_object()
                .and_then(|c| c.values().next())
                .cloned()
                .unwrap_or(Value::Null);
            let body_example = if !media["example"].is_null() {
                Some(media["example"].clone())
            } else if let Some(examples) = media["examples"].as_object() {
                examples.values().next().map(|e| e["value"].clone())
            } else if let Some(reference) = media["schema"]["$ref"].as_str() {
                let name = reference.rsplit('/').next().unwrap();
                Some(doc["components"]["schemas"][name]["example"].clone())
            } else {
                None
            };
            let basic = operation["security"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r.get("basic").is_some()));
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                basic,
                scopes,
                parameters: operation["parameters"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
                body_example,
            });
        }
    }
    operations
}

/// The concrete path: each path parameter from the object created at the collection the
/// parameter follows (`{member_id}` of `/networks/{id}/members/{member_id}` from the POST to
/// `/networks/{id}/members`), else from its example.
fn concrete_path(operation: &Operation, created: &HashMap<String, String>) -> String {
    let mut path = operation.path.clone();
    for parameter in operation.parameters.iter().filter(|p| p["in"] == "path") {
        let name = parameter["name"].as_str().unwrap();
        let placeholder = format!("/{{{name}}}");
        let collection = operation
            .path
            .split(&placeholder)
            .next()
            .unwrap_or_default();
        let value = match created.get(collection) {
            Some(id) => id.clone(),
            None => sample(parameter),
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

/// Creations first (their ids feed the rest, what others refer to first), reads, changes,
/// deletions last (what refers to others first).
fn order(operation: &Operation) -> (u8, i8, String) {
    let rank = i8::try_from(dependency_rank(&operation.path)).unwrap();
    match operation.method.as_str() {
        "POST" => (0, rank, operation.path.clone()),
        // A PUT that creates a school's one PEI comes with the creations.
        "PUT" if operation.path.ends_with("/pei") => (0, rank, operation.path.clone()),
        "GET" => (1, 0, operation.path.clone()),
        // A plan's rewrites replace the items its links start from: after the links are done
        // with, before the plan is deleted.
        "PUT" | "PATCH" if operation.path == "/api/v1/plans/{id}" => {
            (4, -rank, format!("0 {}", operation.path))
        }
        "PUT" => (2, 0, operation.path.clone()),
        "PATCH" => (3, 0, operation.path.clone()),
        _ => (4, -rank, format!("1 {}", operation.path)),
    }
}

/// A write asked only to report what it would do (`dry_run`) writes nothing to audit.
fn is_dry_run(query: &[(String, String)], body: Option<&Value>) -> bool {
    query
        .iter()
        .any(|(name, value)| name == "dry_run" && value == "true")
        || body.is_some_and(|b| b["dry_run"] == true || b["options"]["dry_run"] == true)
}

#[actix_web::test]
async fn every_operation_enforces_its_documented_security_and_works_with_its_examples() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
        let mut operations = operations(&doc);
        assert!(operations.len() >= 20, "{} operations", operations.len());
        operations.sort_by_key(order);
        let mut created: HashMap<String, String> = HashMap::new();
        let auditor = app.token(&["audit:read"], &["CL", "CO"]);
        for operation in &operations {
            let method = reqwest::Method::from_bytes(operation.method.as_bytes()).unwrap();
            let path = concrete_path(operation, &created);
            let name = format!("{} {}", operation.method, operation.path);
            let request = |token: Option<&str>| {
                let mut request = app.client.request(method.clone(), app.url(&path));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = &operation.body_example {
                    request = request.json(&concrete_body(body, &created));
                }
                request
            };
            if operation.basic {
                continue;
            }
            let Some(scopes) = &operation.scopes else {
                let response = request(None).send().await.unwrap();
                assert_eq!(response.status(), 200, "{name} is public");
                continue;
            };

            let anonymous = request(None).send().await.unwrap();
            assert!(
                anonymous.headers().contains_key("www-authenticate"),
                "{name}"
            );
            assert_problem(anonymous, 401).await;

            // An operation any valid token may call (token info) has no scope to lack.
            if !scopes.is_empty() {
                let powerless = app.token(&[], &["CL", "CO"]);
                assert_problem(request(Some(&powerless)).send().await.unwrap(), 403).await;
            }

            // With its scopes, its example body and every documented query parameter set to its
            // example, the operation succeeds: the code accepts what the document promises. A
            // body that grants scopes (an API client's) needs the caller to hold them too.
            let granted: Vec<String> = operation
                .body_example
                .as_ref()
                .and_then(|b| b["scopes"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            let scopes: Vec<&str> = scopes.iter().chain(&granted).map(String::as_str).collect();
            let token = app.token(&scopes, &["CL", "CO"]);
            let query: Vec<(String, String)> = operation
                .parameters
                .iter()
                .filter(|p| p["in"] == "query")
                .filter(|p| p["name"] != "cursor")
                .map(|p| (p["name"].as_str().unwrap().to_owned(), sample(p)))
                // A parameter with no documented value is left out rather than sent empty.
                .filter(|(_, value)| !value.is_empty())
                .collect();
            let request_id = format!("openapi-{}", uuid::Uuid::new_v4());
            let response = request(Some(&token))
                .query(&query)
                .header("X-Request-Id", &request_id)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(
                status.is_success(),
                "{name} with {query:?}: {status} {text}"
            );
            // Nothing is written without its audit entry: every successful write leaves at
            // least one entry carrying its request id.
            if operation.method != "GET" && !is_dry_run(&query, operation.body_example.as_ref()) {
                let entries = app
                    .read(&format!("/api/v1/audit?request_id={request_id}"), &auditor)
                    .await;
                assert!(
                    !entries["items"].as_array().unwrap().is_empty(),
                    "{name} wrote without an audit entry"
                );
            }
            // The import also runs as a job (`Prefer: respond-async`): its status URL is the
            // object the job operation reads.
            if operation.path.ends_with(":import")
                && let Some(example) = &operation.body_example
            {
                let id = start_import_job(&app, &token, &concrete_body(example, &created)).await;
                created.insert(IMPORT_JOBS.to_owned(), id);
            }
            // A true action (`:import`, a secret's rotation) creates no object of its own.
            if operation.method == "POST" && !operation.path.contains(':') && status == 201 {
                let body: Value = serde_json::from_str(&text).unwrap();
                record_created(&mut created, &operation.path, &body);
                if let Some(example) = &operation.body_example {
                    let example = concrete_body(example, &created);
                    create_companions(&app, &token, &operation.path, &example, &mut created).await;
                }
            }
        }
    }
}

#[test]
fn the_document_describes_every_operation_and_schema() {
    let doc: Value = serde_json::from_str(&redes::openapi::document_json().unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    for operation in operations(&doc) {
        let raw = &doc["paths"][&operation.path][operation.method.to_lowercase()];
        assert!(
            raw["summary"].is_string(),
            "{} has no summary",
            operation.path
        );
        assert!(
            raw["description"].is_string(),
            "{} has no description",
            operation.path
        );
        let id = raw["operationId"].as_str().unwrap();
        assert!(!id.is_empty());
        for parameter in &operation.parameters {
            assert!(
                parameter["description"].is_string(),
                "{} {}",
                operation.path,
                parameter["name"]
            );
            // Free text in a query is bounded and NUL-free in the document, as the server
            // reads it: a value the document allows is never refused with a 400.
            let schema = &parameter["schema"];
            let free_text = parameter["in"] == "query"
                && parameter["name"] != "cursor"
                && schema["type"] == "string"
                && schema["enum"].is_null()
                && schema["format"].is_null();
            if free_text {
                let pattern = schema["pattern"].as_str().unwrap_or_else(|| {
                    panic!(
                        "{} {} {}: free text without a pattern",
                        operation.method, operation.path, parameter["name"]
                    )
                });
                // A pattern of fixed alternatives bounds the length itself.
                let open = pattern.contains('*') || pattern.contains('+');
                assert!(
                    !open || schema["maxLength"].is_u64(),
                    "{} {} {}: free text without maxLength",
                    operation.method,
                    operation.path,
                    parameter["name"]
                );
            }
        }
        // Request bodies are closed: a property a client may not set is refused, not ignored.
        let bodies = raw["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flatten();
        // CSV bodies are files, not objects.
        for (media_type, content) in
            bodies.filter(|(media, _)| media.as_str() == "application/json")
        {
            let reference = content["schema"]["$ref"].as_str().unwrap_or_else(|| {
                panic!(
                    "{} {} {media_type}: not a named schema",
                    operation.method, operation.path
                )
            });
            let name = reference.trim_start_matches("#/components/schemas/");
            assert_eq!(
                doc["components"]["schemas"][name]["additionalProperties"],
                Value::Bool(false),
                "the body of {} {} ({name}) is open",
                operation.method,
                operation.path
            );
        }
        if let Some(scopes) = operation.scopes.as_ref().filter(|_| !operation.basic) {
            let statuses: &[&str] = if scopes.is_empty() {
                &["401", "503"]
            } else {
                &["401", "403", "503"]
            };
            for status in statuses {
                assert!(
                    raw["responses"][status].is_object(),
                    "{} lacks {status}",
                    operation.path
                );
            }
        }
    }
    // Two Rust types with one schema name would silently share it (utoipa keeps the last):
    // a plan's strategy is not an import's.
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Strategy"]["properties"]["actions"].is_object());
    assert!(schemas["ImportStrategy"]["enum"].is_array());
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(
            schema["description"].is_string(),
            "schema {name} has no description"
        );
        assert!(!schema["example"].is_null(), "schema {name} has no example");
    }
}
