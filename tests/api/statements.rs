//! What a request costs the database, counted: every statement the app's pool sends (the
//! `redes_db_statements_total` of `/metrics`). A list page is one statement; a resource by id
//! is one; a network's summary and reports take a fixed number, whatever the network's size.

use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, backends};

/// The statements `GET path` sent, and its status.
async fn statements_of(app: &TestApp, path: &str, token: &str) -> (u16, u64) {
    let before = app.db.statements();
    let response = app.get(path, Some(token)).await;
    let status = response.status().as_u16();
    // The body is read whole: a streamed answer may still be reading when headers arrive.
    let _ = response.bytes().await.expect("the body");
    (status, app.db.statements() - before)
}

fn id(object: &Value) -> String {
    object["id"].as_str().expect("an id").to_owned()
}

/// A network in Freire with `schools` member schools, `people` member people, and a held
/// session with everyone's attendance and an agreement.
async fn network_of(
    app: &TestApp,
    token: &str,
    name: &str,
    schools: usize,
    people: usize,
) -> String {
    let network = app
        .create(
            "/api/v1/networks",
            token,
            &json!({"name": name, "kind": "red_mejoramiento_escolar", "territory": "CL-09105"}),
        )
        .await;
    let network = id(&network);
    let mut school_ids = Vec::new();
    for n in 0..schools {
        let school = app
            .create(
                "/api/v1/schools",
                token,
                &json!({"name": format!("{name} escuela {n}"), "country": "CL",
                        "territory": "CL-09105", "dependency": "municipal_daem"}),
            )
            .await;
        let school = id(&school);
        app.create(
            &format!("/api/v1/networks/{network}/members"),
            token,
            &json!({"school_id": school, "role": "member_school", "joined_on": "2016-03-01"}),
        )
        .await;
        school_ids.push(school);
    }
    let mut attendance = serde_json::Map::new();
    for n in 0..people {
        let person = app
            .create(
                "/api/v1/people",
                token,
                &json!({"name": format!("{name} persona {n}"), "territory": "CL-09105"}),
            )
            .await;
        let person = id(&person);
        app.create(
            &format!("/api/v1/networks/{network}/members"),
            token,
            &json!({"person_id": person, "role": "director", "joined_on": "2016-03-01"}),
        )
        .await;
        attendance.insert(person, json!(if n % 3 == 0 { "absent" } else { "present" }));
    }
    app.create(
        &format!("/api/v1/networks/{network}/sessions"),
        token,
        &json!({"title": "Sesión de marzo", "date": "2017-03-15", "status": "held",
                "attendance": attendance,
                "agreements": [{"text": "Compartir el PME", "due_on": "2017-04-15",
                                "owner_school_id": school_ids.first()}]}),
    )
    .await;
    network
}

#[actix_web::test]
async fn a_list_page_and_a_resource_by_id_cost_a_fixed_number_of_statements() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let network = network_of(&app, &token, "Red de Freire", 4, 3).await;
        let larger = network_of(&app, &token, "Red de Perquenco", 9, 7).await;
        let schools = app
            .read("/api/v1/schools?territory=CL-09105&limit=2", &token)
            .await;
        let school = id(&schools["items"][0]);
        let cursor = schools["next_cursor"]
            .as_str()
            .expect("a second page")
            .to_owned();

        // One statement: the page (or the row) is all there is to read.
        let mut costly = Vec::new();
        for path in [
            "/api/v1/schools?territory=CL-09105&limit=50".to_owned(),
            "/api/v1/schools?territory=CL-09&dependency=municipal_daem&limit=50".to_owned(),
            format!("/api/v1/schools?territory=CL-09105&limit=2&cursor={cursor}"),
            "/api/v1/schools?dependency=municipal_daem&q=escuela&limit=50".to_owned(),
            "/api/v1/organizations?limit=50".to_owned(),
            "/api/v1/mentoring-visits?limit=50".to_owned(),
            "/api/v1/changes?limit=50".to_owned(),
            "/api/v1/audit?limit=50".to_owned(),
            format!("/api/v1/schools/{school}"),
        ] {
            let (status, statements) = statements_of(&app, &path, &token).await;
            assert_eq!(status, 200, "{path}");
            if statements != 1 {
                costly.push(format!("{path}: {statements}"));
            }
        }
        assert!(costly.is_empty(), "more than one statement: {costly:#?}");

        // A page and what its rows carry (member counts, attendance, agreements, names): one
        // statement per kind of thing, never one per row (docs/PERFORMANCE.md lists these). A
        // page of 2 costs what a page of 50 costs, and a larger network's lists what a
        // smaller one's do.
        for (path, most) in [
            ("/api/v1/networks?", 2),
            ("/api/v1/people?", 2),
            ("/api/v1/sessions?", 6),
            ("/api/v1/plans?", 2),
            ("/api/v1/improvement-cycles?", 3),
            ("/api/v1/indicator-values?", 2),
        ] {
            let (status, of_two) = statements_of(&app, &format!("{path}limit=2"), &token).await;
            assert_eq!(status, 200, "{path}");
            let (status, of_all) = statements_of(&app, &format!("{path}limit=50"), &token).await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(of_two, of_all, "{path}: a page of 2 and of 50");
            assert!(of_all <= most, "{path}: {of_all} statements");
        }
        for (list, most) in [("members", 5), ("sessions", 6), ("agreements", 3)] {
            let (status, of_small) = statements_of(
                &app,
                &format!("/api/v1/networks/{network}/{list}?limit=50"),
                &token,
            )
            .await;
            assert_eq!(status, 200, "{list}");
            let (status, of_large) = statements_of(
                &app,
                &format!("/api/v1/networks/{larger}/{list}?limit=50"),
                &token,
            )
            .await;
            assert_eq!(status, 200, "{list}");
            assert_eq!(of_small, of_large, "{list} of a small and a larger network");
            assert!(of_large <= most, "{list}: {of_large} statements");
        }

        // And the count is real: a write is several (its row, the journal, the audit log).
        let before = app.db.statements();
        app.create(
            "/api/v1/schools",
            &token,
            &json!({"name": "Otra", "country": "CL", "territory": "CL-09105",
                    "dependency": "municipal_daem"}),
        )
        .await;
        assert!(app.db.statements() - before > 1);
    }
}

#[actix_web::test]
async fn a_summary_and_reports_cost_the_same_for_a_small_and_a_large_network() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let small = network_of(&app, &token, "Red chica", 1, 1).await;
        let large = network_of(&app, &token, "Red grande", 8, 6).await;
        for report in ["summary?year=2017", "articulation", "agreements"] {
            let (status, of_small) =
                statements_of(&app, &format!("/api/v1/networks/{small}/{report}"), &token).await;
            assert_eq!(status, 200, "{report}");
            let (status, of_large) =
                statements_of(&app, &format!("/api/v1/networks/{large}/{report}"), &token).await;
            assert_eq!(status, 200, "{report}");
            eprintln!(
                "{report}: {of_small} statements for the small network, {of_large} for the large"
            );
            assert_eq!(of_small, of_large, "{report}");
            assert!(of_small <= 12, "{report}: {of_small} statements");
        }
        let schools = app
            .read("/api/v1/schools?q=red%20grande&limit=50", &token)
            .await;
        let mut costs = Vec::new();
        for school in schools["items"].as_array().expect("items") {
            let (status, statements) = statements_of(
                &app,
                &format!("/api/v1/schools/{}/articulation", id(school)),
                &token,
            )
            .await;
            assert_eq!(status, 200);
            costs.push(statements);
        }
        costs.dedup();
        assert_eq!(costs.len(), 1, "articulation reports cost {costs:?}");
    }
}
