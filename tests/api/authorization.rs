//! Object-level authorisation, walked over every operation of the OpenAPI document: a principal
//! of another region can neither read, list, change nor delete what a principal created in its
//! own, and cannot create there either. Operations added later are covered without editing this.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    ALL_SCOPES, IMPORT_JOBS, TestApp, assert_problem, backends, concrete_body, create_companions,
    dependency_rank, fill_path, record_created, start_import_job,
};

/// The first documented example of an operation's JSON body.
fn body_example(doc: &Value, operation: &Value) -> Option<Value> {
    let media = operation["requestBody"]["content"]
        .as_object()?
        .values()
        .next()?
        .clone();
    if !media["example"].is_null() {
        return Some(media["example"].clone());
    }
    if let Some(first) = media["examples"]
        .as_object()
        .and_then(|e| e.values().next())
    {
        return Some(first["value"].clone());
    }
    let name = media["schema"]["$ref"].as_str()?.rsplit('/').next()?;
    Some(doc["components"]["schemas"][name]["example"].clone())
}

/// Operations as (method, path template, operation), territory, management catalogues and
/// indicator definitions excluded: they are national reference data every principal with the
/// read scope reads in full, by design (and only national principals extend the management
/// catalogues). Indicator values are owned and stay in.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/")
            || path.starts_with("/api/v1/territories")
            || path.starts_with("/api/v1/catalogues")
            || path.starts_with("/api/v1/indicators")
        {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    found
}

#[actix_web::test]
async fn no_operation_lets_one_region_touch_anothers_objects() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
        let owner = app.token(ALL_SCOPES, &["CL-09"]);
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        let operations = operations(&doc);

        // The owner creates one object with every creating operation's example, what others
        // refer to first; nested collections under the objects created before them.
        let mut creations: Vec<&(String, String, Value)> = operations
            .iter()
            // A true action (`:import`, a secret's rotation) creates no object of its own.
            .filter(|(m, path, op)| {
                m == "POST" && !path.contains(':') && op["responses"]["201"].is_object()
            })
            .collect();
        creations.sort_by_key(|(_, path, _)| dependency_rank(path));
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut created: Vec<String> = Vec::new();
        for (_, path, operation) in creations {
            let body = body_example(&doc, operation).expect("POST has an example");
            let collection = fill_path(path, &ids).expect("the parent was created");
            let concrete = concrete_body(&body, &ids);
            let object = app.create(&collection, &owner, &concrete).await;
            let id = object["id"].as_str().unwrap().to_owned();
            created.push(if path.ends_with("/sessions") {
                format!("/api/v1/sessions/{id}")
            } else {
                format!("{collection}/{id}")
            });
            record_created(&mut ids, path, &object);
            create_companions(&app, &owner, path, &concrete, &mut ids).await;
        }
        assert!(created.len() >= 4, "{created:?}");
        // An import job the owner started: its status URL is the owner's alone.
        let import = doc["paths"]["/api/v1/indicator-values:import"]["post"].clone();
        let example = body_example(&doc, &import).expect("the import has an example");
        let job = start_import_job(&app, &owner, &example).await;
        ids.insert(IMPORT_JOBS.to_owned(), job);

        for (method, path, operation) in &operations {
            let name = format!("{method} {path}");
            let body = body_example(&doc, operation).map(|b| concrete_body(&b, &ids));
            let verb = Method::from_bytes(method.as_bytes()).unwrap();
            if !path.contains('{') {
                if method == "GET" {
                    // A list, whatever its page: none of the owner's ids.
                    let text = app
                        .get(&format!("{path}?limit=500"), Some(&stranger))
                        .await
                        .text()
                        .await
                        .unwrap();
                    for id in ids.values() {
                        assert!(!text.contains(id.as_str()), "{name} leaks {id}: {text}");
                    }
                } else {
                    // Creating in the owner's territory: 403 for a body that names the
                    // territory; for one that names an owner by id (an improvement cycle's
                    // school, a visit's school and people), the same 409 dangling-reference as
                    // for an id that does not exist, which reveals nothing.
                    let response = app.send(verb, path, &stranger, body.as_ref(), &[]).await;
                    if path.contains(':') {
                        // An import reports each foreign row as a conflict and writes nothing.
                        assert_eq!(response.status(), 200, "{name}");
                        let summary: Value = response.json().await.unwrap();
                        assert_eq!(summary["written"], false, "{name}: {summary}");
                        assert!(
                            summary["conflicts"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .all(|c| c["column"] == "org_unit"),
                            "{name}: {summary}"
                        );
                    } else if response.status() == 409 {
                        let problem = assert_problem(response, 409).await;
                        assert_eq!(
                            problem["type"], "urn:redes:problem:dangling-reference",
                            "{name}: {problem}"
                        );
                    } else {
                        assert_problem(response, 403).await;
                    }
                }
                continue;
            }
            let concrete = if path.ends_with("/by-code/{code}") {
                let school = app
                    .read(
                        &format!("/api/v1/schools/{}", ids["/api/v1/schools"]),
                        &owner,
                    )
                    .await;
                path.replace("{code}", &school["rbd"].to_string())
            } else if path.ends_with("/summary") {
                // Its required year first, so that the answer is about the network.
                let filled = fill_path(path, &ids).expect("the network was created");
                format!("{filled}?year=2017")
            } else {
                fill_path(path, &ids)
                    .unwrap_or_else(|| panic!("{name}: a path parameter this test does not know"))
            };
            let response = app
                .send(verb, &concrete, &stranger, body.as_ref(), &[])
                .await;
            assert_problem(response, 404).await;
        }

        // Nothing the stranger tried changed anything: every object is still at version 1.
        for path in &created {
            let response = app.get(path, Some(&owner)).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.headers()["etag"], "\"1\"", "{path}");
        }
        // And the stranger's change feed holds none of the owner's writes.
        let feed = app.get("/api/v1/changes?limit=1000", Some(&stranger)).await;
        let feed: Value = feed.json().await.unwrap();
        assert_eq!(feed["items"], json!([]));
    }
}
