//! Short-cycle improvement plans: owners, PDSA cycles and measures with stable ids, measure
//! points, ETags, scope, filters, paging and the change journal.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

const CYCLES: &str = "/api/v1/improvement-cycles";

fn id(object: &Value) -> &str {
    object["id"].as_str().unwrap()
}

async fn school(app: &TestApp, token: &str, name: &str) -> Value {
    app.create(
        "/api/v1/schools",
        token,
        &json!({"name": name, "country": "CL", "territory": "CL-09105",
                "dependency": "municipal_daem"}),
    )
    .await
}

async fn network(app: &TestApp, token: &str) -> Value {
    app.create(
        "/api/v1/networks",
        token,
        &json!({"name": "Red de Freire", "kind": "red_mejoramiento_escolar",
                "territory": "CL-09105"}),
    )
    .await
}

fn cycle(owner: (&str, &str), title: &str) -> Value {
    json!({
        owner.0: owner.1,
        "title": title,
        "problem_of_practice": "Los estudiantes de 4° básico participan poco en lenguaje.",
        "aim": {"statement": "Mejorar la comprensión lectora de 4° básico.",
                "measure": "Logro en la prueba de la red", "baseline": 48, "target": 60.5,
                "unit": "%", "due_on": "2024-06-28"},
        "driver": "Participación activa en clases",
        "change_idea": "Iniciar cada clase con una pregunta desafiante",
    })
}

async fn changes(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let page = app
        .read(
            "/api/v1/changes?resource=improvement_cycle&limit=1000",
            token,
        )
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_cycle_keeps_its_pdsa_and_measure_ids_through_put_and_patch() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let escuela = school(&app, &token, "Escuela Lircay").await;
        let mut body = cycle(("school_id", id(&escuela)), "  Preguntas de inicio ");
        body["pdsa"] = json!([{"plan": {"questions": ["¿Aumenta la participación?", "  "],
            "predictions": ["3 de cada 4 responderán"], "who": "Equipo de 4°",
            "when": "2024-04-08"}}]);
        body["measures"] = json!([{"name": "Responden la pregunta", "unit": "%", "points": [
            {"on": "2024-04-12", "value": 68, "note": "Tres cursos"},
            {"on": "2024-04-08", "value": 52.5}]}]);
        let response = app.post(CYCLES, &token, &body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        assert_eq!(location, format!("{CYCLES}/{}", id(&created)));
        assert_eq!(created["title"], "Preguntas de inicio");
        assert_eq!(created["school_id"], escuela["id"]);
        assert_eq!(created["network_id"], Value::Null);
        assert_eq!(created["status"], "active");
        assert_eq!(created["aim"]["baseline"], 48.0);
        assert_eq!(created["aim"]["target"], 60.5);
        assert_eq!(
            created["pdsa"][0]["plan"]["questions"],
            json!(["¿Aumenta la participación?"])
        );
        assert_eq!(created["pdsa"][0]["do"], Value::Null);
        // Points are kept by day, whatever the order given.
        let days: Vec<&str> = created["measures"][0]["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["on"].as_str().unwrap())
            .collect();
        assert_eq!(days, ["2024-04-08", "2024-04-12"]);
        assert_eq!(app.read(&location, &token).await, created);
        let cached = app
            .send(
                Method::GET,
                &location,
                &token,
                None,
                &[("if-none-match", "\"1\"")],
            )
            .await;
        assert_eq!(cached.status(), 304);

        // PUT: the PDSA cycle given back with its id stays it, completed; a new one is added.
        let pdsa_id = created["pdsa"][0]["id"].clone();
        let measure_id = created["measures"][0]["id"].clone();
        let mut replacement = body.clone();
        replacement["pdsa"] = json!([
            {"id": pdsa_id, "plan": created["pdsa"][0]["plan"],
             "do": {"observations": "Se aplicó en tres cursos.", "carried_out_on": "2024-04-08"},
             "study": {"results": "68 %", "learning": "Preguntas más breves."},
             "act": {"decision": "adapt", "next_steps": "Probar una pregunta más breve."}},
            {"plan": {"questions": ["¿Y con una pregunta escrita en la pizarra?"]}},
        ]);
        replacement["measures"][0]["id"] = measure_id.clone();
        let stale = app
            .send(
                Method::PUT,
                &location,
                &token,
                Some(&replacement),
                &[("if-match", "\"7\"")],
            )
            .await;
        assert_problem(stale, 412).await;
        let replaced = app
            .send(
                Method::PUT,
                &location,
                &token,
                Some(&replacement),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(replaced.status(), 200);
        assert_eq!(replaced.headers()["etag"], "\"2\"");
        let replaced: Value = replaced.json().await.unwrap();
        assert_eq!(replaced["pdsa"][0]["id"], pdsa_id);
        assert_eq!(replaced["pdsa"][0]["act"]["decision"], "adapt");
        assert_eq!(
            replaced["pdsa"][0]["study"]["compared_with_predictions"],
            Value::Null
        );
        assert_ne!(replaced["pdsa"][1]["id"], pdsa_id);
        assert_eq!(replaced["measures"][0]["id"], measure_id);

        // An id that is not one of the cycle's own is refused, pointing at it.
        let mut foreign = replacement.clone();
        foreign["pdsa"][1]["id"] = json!(uuid::Uuid::now_v7());
        let problem = assert_problem(
            app.send(Method::PUT, &location, &token, Some(&foreign), &[])
                .await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), vec!["/pdsa/1/id unknown_reference"]);
        let mut twice = replacement.clone();
        twice["pdsa"][1]["id"] = pdsa_id.clone();
        let problem = assert_problem(
            app.send(Method::PUT, &location, &token, Some(&twice), &[])
                .await,
            422,
        )
        .await;
        assert_eq!(issues(&problem), vec!["/pdsa/1/id duplicate"]);

        // PATCH: a merge; ids stay; the owner moves to a network by naming it and nulling the
        // school; naming both is a conflict with the current state.
        let red = network(&app, &token).await;
        let patched = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"status": "completed", "school_id": null, "network_id": id(&red)})),
                &[("if-match", "\"2\"")],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["status"], "completed");
        assert_eq!(patched["network_id"], red["id"]);
        assert_eq!(patched["school_id"], Value::Null);
        assert_eq!(patched["pdsa"], replaced["pdsa"]);
        assert_eq!(patched["measures"], replaced["measures"]);
        let both = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"school_id": id(&escuela)})),
                &[],
            )
            .await;
        assert_problem(both, 409).await;
        let bad_status = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"status": "paused"})),
                &[],
            )
            .await;
        let problem = assert_problem(bad_status, 422).await;
        assert_eq!(issues(&problem), vec!["/status invalid_value"]);

        // The network owns a cycle: it cannot be deleted under it.
        let network_url = format!("/api/v1/networks/{}", id(&red));
        let refused = app
            .send(Method::DELETE, &network_url, &token, None, &[])
            .await;
        assert_problem(refused, 409).await;

        // DELETE: If-Match first, then gone; every write is in the journal.
        let stale = app
            .send(
                Method::DELETE,
                &location,
                &token,
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_problem(stale, 412).await;
        let deleted = app
            .send(
                Method::DELETE,
                &location,
                &token,
                None,
                &[("if-match", "\"3\"")],
            )
            .await;
        assert_eq!(deleted.status(), 204);
        assert_problem(app.get(&location, Some(&token)).await, 404).await;
        let cycle_id = id(&created).to_owned();
        assert_eq!(
            changes(&app, &token).await,
            vec![
                (cycle_id.clone(), "created".to_owned()),
                (cycle_id.clone(), "updated".to_owned()),
                (cycle_id.clone(), "updated".to_owned()),
                (cycle_id, "deleted".to_owned()),
            ]
        );
    }
}

#[actix_web::test]
async fn measure_points_and_owners_are_validated_with_pointers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let escuela = school(&app, &token, "Escuela Lircay").await;
        let owner = ("school_id", id(&escuela));

        // Two points on one day; a day that does not exist; a value out of range.
        let mut body = cycle(owner, "Mediciones");
        body["measures"] = json!([
            {"name": "Asistencia", "unit": "%", "points": [
                {"on": "2024-04-08", "value": 90}, {"on": "2024-04-08", "value": 91}]},
            {"name": "Lectura", "unit": "palabras por minuto", "points": [
                {"on": "2024-02-30", "value": 40}, {"on": "2024-03-01", "value": 1e13}]},
        ]);
        let problem = assert_problem(app.post(CYCLES, &token, &body).await, 422).await;
        assert_eq!(
            issues(&problem),
            vec![
                "/measures/1/points/0/on invalid_format",
                "/measures/1/points/1/value invalid_value",
            ]
        );
        body["measures"][1]["points"] = json!([]);
        let problem = assert_problem(app.post(CYCLES, &token, &body).await, 422).await;
        assert_eq!(issues(&problem), vec!["/measures/0/points/1/on duplicate"]);

        // Exactly one owner.
        let mut both = cycle(owner, "Dos dueños");
        both["network_id"] = json!(id(&network(&app, &token).await));
        let problem = assert_problem(app.post(CYCLES, &token, &both).await, 422).await;
        assert_eq!(issues(&problem), vec!["/network_id not_applicable"]);
        let mut neither = cycle(owner, "Sin dueño");
        neither.as_object_mut().unwrap().remove("school_id");
        let problem = assert_problem(app.post(CYCLES, &token, &neither).await, 422).await;
        assert_eq!(issues(&problem), vec!["/network_id required"]);

        // An owner the caller cannot see, like one that does not exist, is a dangling
        // reference; an aim without its target, or a blank title, is invalid.
        let stranger_token = app.token(ALL_SCOPES, &["CL-13"]);
        let problem = assert_problem(
            app.post(CYCLES, &stranger_token, &cycle(owner, "Ajeno"))
                .await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), vec!["/school_id unknown_reference"]);
        let mut incomplete = cycle(owner, "   ");
        incomplete["aim"].as_object_mut().unwrap().remove("target");
        incomplete["extra"] = json!(1);
        let problem = assert_problem(app.post(CYCLES, &token, &incomplete).await, 422).await;
        assert_eq!(
            issues(&problem),
            vec![
                "/aim/target required",
                "/extra unknown_field",
                "/title invalid_format"
            ]
        );
        assert_eq!(changes(&app, &token).await, vec![]);
    }
}

#[actix_web::test]
async fn cycles_are_scoped_filtered_paged_and_go_with_their_school() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        let lircay = school(&app, &token, "Escuela Lircay").await;
        let nahuel = school(&app, &token, "Escuela Nahuelbuta").await;
        let red = network(&app, &token).await;
        let first = app
            .create(CYCLES, &token, &cycle(("school_id", id(&lircay)), "Uno"))
            .await;
        let mut done = cycle(("school_id", id(&lircay)), "Dos");
        done["status"] = json!("completed");
        let second = app.create(CYCLES, &token, &done).await;
        let third = app
            .create(CYCLES, &token, &cycle(("network_id", id(&red)), "Tres"))
            .await;
        let fourth = app
            .create(CYCLES, &token, &cycle(("school_id", id(&nahuel)), "Cuatro"))
            .await;

        // Filters, and pages in the order of creation.
        let titles = |items: Vec<Value>| -> Vec<String> {
            items
                .iter()
                .map(|c| c["title"].as_str().unwrap().to_owned())
                .collect()
        };
        for (query, expected) in [
            (format!("school_id={}", id(&lircay)), vec!["Uno", "Dos"]),
            (format!("network_id={}", id(&red)), vec!["Tres"]),
            ("status=completed".to_owned(), vec!["Dos"]),
            (
                "status=active&status=abandoned".to_owned(),
                vec!["Uno", "Tres", "Cuatro"],
            ),
        ] {
            let items = app.read_all(&format!("{CYCLES}?{query}"), &token).await;
            assert_eq!(titles(items), expected, "{query}");
        }
        let page = app.read(&format!("{CYCLES}?limit=3"), &token).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        assert!(page["next_cursor"].is_string());
        let all = app.read_all(&format!("{CYCLES}?limit=1"), &token).await;
        assert_eq!(titles(all), ["Uno", "Dos", "Tres", "Cuatro"]);
        let bad = app
            .get(&format!("{CYCLES}?status=paused&limit=0"), Some(&token))
            .await;
        assert_problem(bad, 400).await;

        // Another region sees none of them and can touch none of them.
        let listed = app.read(CYCLES, &stranger).await;
        assert_eq!(listed["items"], json!([]));
        for cycle_object in [&first, &third] {
            let url = format!("{CYCLES}/{}", id(cycle_object));
            assert_problem(app.get(&url, Some(&stranger)).await, 404).await;
            let whole = cycle(("school_id", id(&nahuel)), "Ajeno");
            let response = app
                .send(Method::PUT, &url, &stranger, Some(&whole), &[])
                .await;
            assert_problem(response, 404).await;
            let response = app
                .send(
                    Method::PATCH,
                    &url,
                    &stranger,
                    Some(&json!({"status": "abandoned"})),
                    &[],
                )
                .await;
            assert_problem(response, 404).await;
            let response = app.send(Method::DELETE, &url, &stranger, None, &[]).await;
            assert_problem(response, 404).await;
        }
        // Without the plans scopes, nothing.
        let no_plans = app.token(&["schools:read"], &["CL-09"]);
        assert_problem(app.get(CYCLES, Some(&no_plans)).await, 403).await;

        // A school's cycles go with it, each with a tombstone in the journal.
        let school_url = format!("/api/v1/schools/{}", id(&lircay));
        let deleted = app
            .send(Method::DELETE, &school_url, &token, None, &[])
            .await;
        assert_eq!(deleted.status(), 204);
        for gone in [&first, &second] {
            let url = format!("{CYCLES}/{}", id(gone));
            assert_problem(app.get(&url, Some(&token)).await, 404).await;
        }
        let journal = changes(&app, &token).await;
        for gone in [&first, &second] {
            assert!(journal.contains(&(id(gone).to_owned(), "deleted".to_owned())));
        }
        let left = app.read_all(CYCLES, &token).await;
        assert_eq!(titles(left), ["Tres", "Cuatro"]);
        let _ = fourth;
    }
}

#[actix_web::test]
async fn cycles_and_visits_follow_their_owner_to_a_new_territory() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let national = app.token(ALL_SCOPES, &["CL"]);
        let araucania = app.token(ALL_SCOPES, &["CL-09"]);
        let metropolitana = app.token(ALL_SCOPES, &["CL-13"]);
        let escuela = school(&app, &national, "Escuela Lircay").await;
        let red = network(&app, &national).await;
        let owned = app
            .create(
                CYCLES,
                &national,
                &cycle(("school_id", id(&escuela)), "Uno"),
            )
            .await;
        let networked = app
            .create(CYCLES, &national, &cycle(("network_id", id(&red)), "Dos"))
            .await;
        let mentor = app
            .create(
                "/api/v1/people",
                &national,
                &json!({"name": "Carmen", "territory": "CL-13101"}),
            )
            .await;
        let mentee = app
            .create(
                "/api/v1/people",
                &national,
                &json!({"name": "Ana", "territory": "CL-13101"}),
            )
            .await;
        let visit = app
            .create(
                "/api/v1/mentoring-visits",
                &national,
                &json!({"school_id": id(&escuela), "mentor_person_id": id(&mentor),
                        "mentee_person_id": id(&mentee), "mentee_role": "teacher",
                        "visited_on": "2024-04-26", "focus": "Lectura"}),
            )
            .await;
        let urls = [
            format!("{CYCLES}/{}", id(&owned)),
            format!("/api/v1/mentoring-visits/{}", id(&visit)),
        ];
        for url in &urls {
            assert_eq!(app.get(url, Some(&araucania)).await.status(), 200);
            assert_eq!(app.get(url, Some(&metropolitana)).await.status(), 404);
        }

        // The school and the network move to Santiago: what they own moves with them.
        for owner in [
            format!("/api/v1/schools/{}", id(&escuela)),
            format!("/api/v1/networks/{}", id(&red)),
        ] {
            let moved = app
                .send(
                    Method::PATCH,
                    &owner,
                    &national,
                    Some(&json!({"territory": "CL-13101"})),
                    &[],
                )
                .await;
            assert_eq!(moved.status(), 200, "{owner}");
        }
        for url in urls.iter().chain([&format!("{CYCLES}/{}", id(&networked))]) {
            assert_problem(app.get(url, Some(&araucania)).await, 404).await;
            let response = app.get(url, Some(&metropolitana)).await;
            assert_eq!(response.status(), 200, "{url}");
            assert_eq!(response.headers()["etag"], "\"2\"", "{url}");
        }
        // Both regions' feeds learn of the move.
        for token in [&araucania, &metropolitana] {
            let journal = changes(&app, token).await;
            assert!(
                journal.contains(&(id(&owned).to_owned(), "updated".to_owned())),
                "{journal:?}"
            );
        }
    }
}

#[actix_web::test]
async fn a_networks_cycle_is_seen_where_the_network_is_and_written_where_it_lives() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let national = app.token(ALL_SCOPES, &["CL"]);
        let santiago = app.token(ALL_SCOPES, &["CL-13"]);
        let red = network(&app, &national).await;
        let liceo = app
            .create(
                "/api/v1/schools",
                &national,
                &json!({"name": "Liceo de Santiago", "country": "CL", "territory": "CL-13101",
                        "dependency": "municipal_daem"}),
            )
            .await;
        app.create(
            &format!("/api/v1/networks/{}/members", id(&red)),
            &national,
            &json!({"school_id": id(&liceo), "role": "member_school", "joined_on": "2016-03-01"}),
        )
        .await;
        let networked = app
            .create(
                CYCLES,
                &national,
                &cycle(("network_id", id(&red)), "De la red"),
            )
            .await;
        let url = format!("{CYCLES}/{}", id(&networked));

        // Santiago sees the network through its member school, and so the network's cycle…
        assert_eq!(app.read(&url, &santiago).await["id"], networked["id"]);
        let listed = app.read(CYCLES, &santiago).await;
        assert_eq!(listed["items"][0]["id"], networked["id"]);
        // …but writes only where the network lives.
        let patch = app
            .send(
                Method::PATCH,
                &url,
                &santiago,
                Some(&json!({"status": "abandoned"})),
                &[],
            )
            .await;
        assert_problem(patch, 403).await;
        let refused = app
            .post(CYCLES, &santiago, &cycle(("network_id", id(&red)), "Otra"))
            .await;
        let problem = assert_problem(refused, 403).await;
        assert_eq!(issues(&problem), vec!["/network_id foreign_territory"]);
        assert_problem(
            app.send(Method::DELETE, &url, &santiago, None, &[]).await,
            403,
        )
        .await;
    }
}
