//! Networks and their dated members; the demo networks of the source documents.

use std::collections::HashMap;
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, Backend, Options, TestApp, assert_problem, backends, issues};
use redes::configuration::DatabaseUrl;

fn school(name: &str, territory: &str) -> Value {
    json!({"name": name, "country": "CL", "territory": territory, "dependency": "municipal_daem"})
}

fn id(object: &Value) -> &str {
    object["id"].as_str().unwrap()
}

async fn members_on(app: &TestApp, token: &str, network: &str, on: &str) -> Vec<String> {
    let mut names: Vec<String> = app
        .read_all(
            &format!("/api/v1/networks/{network}/members?on={on}"),
            token,
        )
        .await
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[actix_web::test]
async fn a_network_is_created_read_changed_and_deleted_with_its_members() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let deprov = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "DEPROV Cautín", "kind": "deprov", "territory": "CL-091"}),
            )
            .await;
        let body = json!({
            "name": "  Red de Escuelas Municipales de Freire ",
            "kind": "red_mejoramiento_escolar",
            "territory": "CL-09105",
            "responsible_id": id(&deprov),
            // Integers as JSON Schema counts them: 2015.0 is 2015.
            "founded_year": 2015.0,
            "objective": "Fortalecer las prácticas pedagógicas",
            "mobilisation": ["Comparten prácticas", "  "],
            "work_plans": {
                "2017": {"objectives": ["Articular PEI y PME"], "topics": [],
                         "hilo_conductor": "La articulación"},
                "2016": {"objectives": [], "topics": ["Sellos del PEI"]},
            },
        });
        let response = app.post("/api/v1/networks", &token, &body).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(response.headers()["etag"], "\"1\"");
        let network: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/networks/{}", id(&network)));
        assert_eq!(network["name"], "Red de Escuelas Municipales de Freire");
        assert_eq!(network["country"], "CL");
        assert_eq!(network["status"], "active");
        assert_eq!(network["founded_year"], 2015);
        // Blank list items are dropped; work plans come back by year.
        assert_eq!(network["mobilisation"], json!(["Comparten prácticas"]));
        assert_eq!(
            network["work_plans"]["2016"]["topics"],
            json!(["Sellos del PEI"])
        );
        assert_eq!(
            network["work_plans"]["2017"]["hilo_conductor"],
            "La articulación"
        );
        assert_eq!(app.read(&location, &token).await, network);

        // A plan for a year out of range, a name missing: every problem at once.
        let mut bad = body.clone();
        bad["work_plans"] = json!({"1850": {}});
        bad.as_object_mut().unwrap().remove("name");
        let problem = assert_problem(app.post("/api/v1/networks", &token, &bad).await, 422).await;
        assert_eq!(
            issues(&problem),
            vec!["/name required", "/work_plans invalid_format"]
        );
        // A responsible organisation that does not exist: the reference dangles.
        let mut dangling = body.clone();
        dangling["responsible_id"] = json!("00000000-0000-4000-8000-000000000000");
        let problem =
            assert_problem(app.post("/api/v1/networks", &token, &dangling).await, 409).await;
        assert_eq!(issues(&problem), vec!["/responsible_id unknown_reference"]);

        // PATCH merges; lists are replaced whole.
        let patched = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"status": "paused", "status_since": "2018-03-01",
                             "mobilisation": ["Se visitan"], "objective": null})),
                &[("If-Match", "\"1\"")],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["status"], "paused");
        assert_eq!(patched["status_since"], "2018-03-01");
        assert_eq!(patched["mobilisation"], json!(["Se visitan"]));
        assert_eq!(patched["objective"], Value::Null);
        assert_eq!(patched["work_plans"], network["work_plans"]);
        let stale = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"status": "active"})),
                &[("If-Match", "\"1\"")],
            )
            .await;
        assert_problem(stale, 412).await;

        // Members, then deletion of the whole network: every deletion is in the feed.
        let liceo = app
            .create("/api/v1/schools", &token, &school("Liceo", "CL-09105"))
            .await;
        let member = app
            .create(
                &format!("{location}/members"),
                &token,
                &json!({"school_id": id(&liceo), "role": "member_school"}),
            )
            .await;
        // The organisation and the school are now referred to.
        let path = format!("/api/v1/organizations/{}", id(&deprov));
        let refused = app.send(Method::DELETE, &path, &token, None, &[]).await;
        assert_problem(refused, 409).await;
        let path = format!("/api/v1/schools/{}", id(&liceo));
        let refused = app.send(Method::DELETE, &path, &token, None, &[]).await;
        assert_problem(refused, 409).await;

        let deleted = app.send(Method::DELETE, &location, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        assert_problem(app.get(&location, Some(&token)).await, 404).await;
        let feed = app.read("/api/v1/changes?limit=100", &token).await;
        let tombstones: Vec<(&str, &str)> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["operation"] == "deleted")
            .map(|e| (e["resource"].as_str().unwrap(), e["id"].as_str().unwrap()))
            .collect();
        assert_eq!(
            tombstones,
            vec![("network_member", id(&member)), ("network", id(&network))]
        );
        // Nothing refers to the school any more.
        let deleted = app.send(Method::DELETE, &path, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
    }
}

#[actix_web::test]
async fn members_are_dated_and_listed_on_a_date() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let network = app
            .create(
                "/api/v1/networks",
                &token,
                &json!({"name": "Red de Freire", "kind": "red_mejoramiento_escolar",
                        "territory": "CL-09105", "founded_year": 2015}),
            )
            .await;
        let members = format!("/api/v1/networks/{}/members", id(&network));
        let coipue = app
            .create(
                "/api/v1/schools",
                &token,
                &school("Escuela Armando Coipue", "CL-09105"),
            )
            .await;
        let liceo = app
            .create(
                "/api/v1/schools",
                &token,
                &school("Liceo Juan Schleyer", "CL-09105"),
            )
            .await;
        let daem = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "DAEM de Freire", "kind": "daem", "territory": "CL-09105"}),
            )
            .await;
        app.create(
            &members,
            &token,
            &json!({"school_id": id(&coipue), "role": "member_school", "joined_on": "2015-01-01"}),
        )
        .await;
        let joined_2016 = app
            .create(
                &members,
                &token,
                &json!({"school_id": id(&liceo), "role": "member_school",
                        "joined_on": "2016-01-01"}),
            )
            .await;
        assert_eq!(joined_2016["name"], "Liceo Juan Schleyer");
        let daem_member = app
            .create(
                &members,
                &token,
                &json!({"organization_id": id(&daem), "role": "sostenedor_representative",
                        "joined_on": "2015-03-01", "left_on": "2017-03-01"}),
            )
            .await;
        assert_eq!(daem_member["school_id"], Value::Null);

        // The Liceo does not count in 2015; the DAEM left on 2017-03-01 (that day it is out).
        assert_eq!(
            members_on(&app, &token, id(&network), "2015-06-01").await,
            vec!["DAEM de Freire", "Escuela Armando Coipue"]
        );
        assert_eq!(
            members_on(&app, &token, id(&network), "2016-06-01").await,
            vec![
                "DAEM de Freire",
                "Escuela Armando Coipue",
                "Liceo Juan Schleyer"
            ]
        );
        assert_eq!(
            members_on(&app, &token, id(&network), "2017-03-01").await,
            vec!["Escuela Armando Coipue", "Liceo Juan Schleyer"]
        );
        assert!(
            members_on(&app, &token, id(&network), "2014-12-31")
                .await
                .is_empty()
        );
        // Without a date: the whole history, in the order recorded; filters by kind and role.
        let history = app.read_all(&members, &token).await;
        assert_eq!(history.len(), 3);
        assert_eq!(history[1]["id"], joined_2016["id"]);
        let schools_only = app
            .read_all(
                &format!("{members}?member_kind=school&role=member_school"),
                &token,
            )
            .await;
        assert_eq!(schools_only.len(), 2);
        let page = app.read(&format!("{members}?limit=2"), &token).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        assert!(page["next_cursor"].is_string());

        // A school's networks, on a date.
        let of_liceo = format!("/api/v1/schools/{}/networks", id(&liceo));
        let all = app.read(&of_liceo, &token).await;
        assert_eq!(all["items"][0]["network_name"], "Red de Freire");
        assert_eq!(all["items"][0]["joined_on"], "2016-01-01");
        let in_2015 = app.read(&format!("{of_liceo}?on=2015-06-01"), &token).await;
        assert_eq!(in_2015["items"], json!([]));

        // The same school in the same role over an overlapping period: 409.
        let overlap = app
            .post(
                &members,
                &token,
                &json!({"school_id": id(&liceo), "role": "member_school",
                        "joined_on": "2017-01-01"}),
            )
            .await;
        let problem = assert_problem(overlap, 409).await;
        assert_eq!(issues(&problem), vec!["/joined_on overlap"]);
        // Closing the first period makes room for a second one.
        let closing = app
            .send(
                Method::PATCH,
                &format!("{members}/{}", id(&joined_2016)),
                &token,
                Some(&json!({"left_on": "2017-01-01"})),
                &[],
            )
            .await;
        assert_eq!(closing.status(), 200);
        app.create(
            &members,
            &token,
            &json!({"school_id": id(&liceo), "role": "member_school", "joined_on": "2018-01-01"}),
        )
        .await;
        assert_eq!(
            members_on(&app, &token, id(&network), "2017-06-01").await,
            vec!["Escuela Armando Coipue"]
        );

        // Bad memberships: one member only, a period that ends after it starts.
        let both = app
            .post(
                &members,
                &token,
                &json!({"school_id": id(&liceo), "organization_id": id(&daem), "role": "host"}),
            )
            .await;
        let problem = assert_problem(both, 422).await;
        assert_eq!(issues(&problem), vec!["/organization_id not_applicable"]);
        let none = app.post(&members, &token, &json!({"role": "host"})).await;
        let problem = assert_problem(none, 422).await;
        assert_eq!(issues(&problem), vec!["/person_id required"]);
        let backwards = app
            .post(
                &members,
                &token,
                &json!({"school_id": id(&liceo), "role": "host",
                        "joined_on": "2016-01-01", "left_on": "2016-01-01"}),
            )
            .await;
        let problem = assert_problem(backwards, 422).await;
        assert_eq!(issues(&problem), vec!["/left_on not_after"]);
        let bad = app
            .post(
                &members,
                &token,
                &json!({"role": "host", "joined_on": "2016-02-30"}),
            )
            .await;
        assert_problem(bad, 422).await;
        let unknown = app
            .post(
                &members,
                &token,
                &json!({"school_id": "00000000-0000-4000-8000-000000000000", "role": "host"}),
            )
            .await;
        let problem = assert_problem(unknown, 409).await;
        assert_eq!(problem["type"], "urn:redes:problem:dangling-reference");
        assert_eq!(issues(&problem), vec!["/school_id unknown_reference"]);
        let bad_date = app
            .get(&format!("{members}?on=2016-6-1"), Some(&token))
            .await;
        let problem = assert_problem(bad_date, 400).await;
        assert_eq!(issues(&problem), vec!["on invalid_format"]);
        // The member itself cannot change.
        let moved = app
            .send(
                Method::PATCH,
                &format!("{members}/{}", id(&joined_2016)),
                &token,
                Some(&json!({"school_id": id(&coipue)})),
                &[],
            )
            .await;
        assert_problem(moved, 422).await;
    }
}

#[actix_web::test]
async fn a_network_is_seen_where_its_schools_are_and_changed_only_where_it_is() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let santiago = app.token(ALL_SCOPES, &["CL-13"]);
        let araucania = app.token(ALL_SCOPES, &["CL-09"]);
        let valparaiso = app.token(ALL_SCOPES, &["CL-05"]);
        let national = app.token(ALL_SCOPES, &["CL"]);
        let reader = app.token(&["schools:read"], &["CL"]);
        // A national network with a school in Araucanía.
        let network = app
            .create(
                "/api/v1/networks",
                &national,
                &json!({"name": "Red Nacional de Liceos TP", "kind": "other", "territory": "CL"}),
            )
            .await;
        let school = app
            .create(
                "/api/v1/schools",
                &araucania,
                &school("Liceo Sur", "CL-09105"),
            )
            .await;
        let members = format!("/api/v1/networks/{}/members", id(&network));
        app.create(
            &members,
            &national,
            &json!({"school_id": id(&school), "role": "member_school", "joined_on": "2017-01-01"}),
        )
        .await;
        let path = format!("/api/v1/networks/{}", id(&network));

        // Araucanía sees it through its school, with its members; Valparaíso and Santiago do not.
        app.read(&path, &araucania).await;
        assert_eq!(app.read_all(&members, &araucania).await.len(), 1);
        let listed = app.read_all("/api/v1/networks", &araucania).await;
        assert_eq!(listed.len(), 1);
        for stranger in [&valparaiso, &santiago] {
            assert_problem(app.get(&path, Some(stranger)).await, 404).await;
            assert_problem(app.get(&members, Some(stranger)).await, 404).await;
            assert!(app.read_all("/api/v1/networks", stranger).await.is_empty());
        }
        // Seeing is not changing: the network's own territory is not Araucanía's.
        let change = app
            .send(
                Method::PATCH,
                &path,
                &araucania,
                Some(&json!({"status": "closed"})),
                &[],
            )
            .await;
        assert_problem(change, 403).await;
        let add = app
            .post(
                &members,
                &araucania,
                &json!({"school_id": id(&school), "role": "host"}),
            )
            .await;
        assert_problem(add, 403).await;
        let delete = app.send(Method::DELETE, &path, &araucania, None, &[]).await;
        assert_problem(delete, 403).await;
        // Nor can a network be created outside the caller's territories.
        let outside = app
            .post(
                "/api/v1/networks",
                &araucania,
                &json!({"name": "Red", "kind": "other", "territory": "CL-13101"}),
            )
            .await;
        assert_problem(outside, 403).await;
        // Without the scope: 403 before anything else.
        assert_problem(app.get(&path, Some(&reader)).await, 403).await;
        assert_problem(app.get("/api/v1/networks", Some(&reader)).await, 403).await;
    }
}

fn database_url(app: &TestApp) -> String {
    match &app.settings.database.url {
        DatabaseUrl::Sqlite(path) => path.display().to_string(),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

#[actix_web::test]
async fn the_demo_networks_of_the_sources_are_loaded_once() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(|settings| settings.demo_data = true)),
                ..Options::default()
            },
        )
        .await;
        let token = app.token(ALL_SCOPES, &["CL", "CO"]);
        let networks = app.read_all("/api/v1/networks", &token).await;
        let kinds: Vec<&str> = networks
            .iter()
            .map(|n| n["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == "red_mejoramiento_escolar")
                .count(),
            15
        );
        assert!(
            networks
                .iter()
                .any(|n| n["name"] == "Escuela de Secretarías"
                    && n["country"] == "CO"
                    && n["kind"] == "red_secretarias")
        );

        // The Escuela de Secretarías: its two groups of encounters, with their head counts.
        let escuela = networks
            .iter()
            .find(|n| n["name"] == "Escuela de Secretarías")
            .unwrap();
        let sessions = app
            .read_all(
                &format!("/api/v1/networks/{}/sessions", id(escuela)),
                &token,
            )
            .await;
        let mut counts: Vec<(String, i64)> = sessions
            .iter()
            .flat_map(|s| s["participant_counts"].as_array().unwrap().clone())
            .map(|c| {
                (
                    c["unit"].as_str().unwrap().to_owned(),
                    c["count"].as_i64().unwrap(),
                )
            })
            .collect();
        counts.sort();
        assert_eq!(
            counts,
            vec![
                ("organizations".to_owned(), 85),
                ("people".to_owned(), 6000)
            ]
        );
        assert!(
            sessions
                .iter()
                .all(|s| s["status"] == "held" && s["date"].is_null())
        );

        // Magallanes: 19 schools, 18 municipal and one particular subvencionado.
        let magallanes = app
            .read_all("/api/v1/networks?territory=CL-12", &token)
            .await;
        assert_eq!(magallanes.len(), 1);
        let members = app
            .read_all(
                &format!(
                    "/api/v1/networks/{}/members?member_kind=school&on=2017-06-01",
                    id(&magallanes[0])
                ),
                &token,
            )
            .await;
        assert_eq!(members.len(), 19);
        let mut dependencies: HashMap<String, usize> = HashMap::new();
        for member in &members {
            let school = app
                .read(
                    &format!("/api/v1/schools/{}", member["school_id"].as_str().unwrap()),
                    &token,
                )
                .await;
            *dependencies
                .entry(school["dependency"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        assert_eq!(dependencies["municipal_daem"], 18);
        assert_eq!(dependencies["particular_subvencionado"], 1);

        // Freire: the Liceo that joined in 2016 does not count in 2015.
        let freire = app
            .read_all("/api/v1/networks?territory=CL-09105", &token)
            .await;
        assert_eq!(freire.len(), 1);
        assert!(
            freire[0]["objective"]
                .as_str()
                .is_some_and(|o| !o.is_empty())
        );
        let in_2015 = members_on(&app, &token, id(&freire[0]), "2015-06-01").await;
        let in_2016 = members_on(&app, &token, id(&freire[0]), "2016-06-01").await;
        assert_eq!(in_2016.len(), in_2015.len() + 1);

        // Loading again changes nothing.
        let before = app.read("/api/v1/changes?limit=1000", &token).await;
        let output = Command::new(env!("CARGO_BIN_EXE_redes"))
            .arg("seed-demo")
            .env("REDES_DATABASE_URL", database_url(&app))
            .env("REDES_DATA_DIR", app.data_dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
            stderr.contains(
                "0 organisations, 0 schools, 0 networks, 0 memberships, 0 sessions, 0 PEIs, \
                 0 plans, 0 plan links, 0 improvement cycles, 0 indicator values added"
            ),
            "{stderr}"
        );
        let after = app.read("/api/v1/changes?limit=1000", &token).await;
        assert_eq!(before["next_after"], after["next_after"]);
        assert!(before["next_after"].as_i64().unwrap() > 300);
        if backend == Backend::Sqlite {
            // The demo load is logged in the same way on both; one run is enough here.
            assert!(stderr.contains("demo data in sqlite://"), "{stderr}");
        }

        // What a user deletes from the demo stays deleted when the service starts again…
        let path = format!("/api/v1/networks/{}", id(&freire[0]));
        let deleted = app.send(Method::DELETE, &path, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        let again = TestApp::spawn_with(
            backend,
            Options {
                database_url: Some(database_url(&app)),
                customise: Some(Box::new(|settings| settings.demo_data = true)),
                ..Options::default()
            },
        )
        .await;
        assert_problem(again.get(&path, Some(&token)).await, 404).await;
        // …until `redes seed-demo` restores it, with its members.
        let output = Command::new(env!("CARGO_BIN_EXE_redes"))
            .arg("seed-demo")
            .env("REDES_DATABASE_URL", database_url(&app))
            .env("REDES_DATA_DIR", app.data_dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(
                "0 organisations, 0 schools, 1 networks, 7 memberships, 0 sessions, 0 PEIs"
            ),
            "{stderr}"
        );
        assert_eq!(
            members_on(&app, &token, id(&freire[0]), "2016-06-01").await,
            in_2016
        );
    }
}
