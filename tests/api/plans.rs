//! Plans (PME, PMI, PAM, planes normativos), their links, and the articulation gap report.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use redes::auth::TerritoryScope;
use redes::configuration::DatabaseUrl;
use redes::db::DbConnection;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, Options, TestApp, assert_problem, backends, issues};

fn id(object: &Value) -> String {
    object["id"].as_str().unwrap().to_owned()
}

fn school(name: &str) -> Value {
    json!({"name": name, "country": "CL", "territory": "CL-01101", "dependency": "municipal_daem"})
}

/// The id of a catalogue item, by the catalogue's kind and the item's code, in the catalogue's
/// latest version or the one given.
async fn item(app: &TestApp, token: &str, kind: &str, code: &str) -> String {
    item_of(app, token, kind, None, code).await
}

async fn item_of(
    app: &TestApp,
    token: &str,
    kind: &str,
    version: Option<&str>,
    code: &str,
) -> String {
    let list = app
        .read(&format!("/api/v1/catalogues?kind={kind}&country=CL"), token)
        .await;
    let catalogue = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|c| version.is_none_or(|v| c["version"] == v))
        .unwrap()
        .clone();
    let catalogue = app
        .read(&format!("/api/v1/catalogues/{}", id(&catalogue)), token)
        .await;
    let found = catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {kind}"));
    id(found)
}

/// An action with dates, status and execution.
fn action(title: &str, dates: Option<(&str, &str)>, status: &str, executed: i64) -> Value {
    let mut action = json!({"title": title, "status": status, "executed_percent": executed});
    if let Some((starts, ends)) = dates {
        action["starts_on"] = json!(starts);
        action["ends_on"] = json!(ends);
    }
    action
}

fn actions_of(plan: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    for objective in plan["objectives"].as_array().unwrap() {
        for goal in objective["goals"].as_array().unwrap() {
            for strategy in goal["strategies"].as_array().unwrap() {
                found.extend(strategy["actions"].as_array().unwrap().iter().cloned());
            }
        }
    }
    found
}

async fn link(app: &TestApp, token: &str, plan: &str, body: Value) -> Value {
    app.create(&format!("/api/v1/plans/{plan}/links"), token, &body)
        .await
}

#[actix_web::test]
async fn a_pme_keeps_its_tree_ids_across_rewrites_and_checks_what_it_names() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-01"]);
        let liceo = app
            .create(
                "/api/v1/schools",
                &token,
                &school("Liceo Elena Duvauchelle"),
            )
            .await;
        // A PME from 2019 uses the management model in force then: the 2014 one.
        let pedagogica = item_of(&app, &token, "management_model", Some("2014"), "GP").await;
        let subdimension = item_of(&app, &token, "management_model", Some("2014"), "GP-1").await;
        let body = json!({
            "kind": "pme",
            "school_id": id(&liceo),
            "title": " PME 2019-2022 ",
            "period_from": 2019, "period_to": 2022,
            "phase": "implementation",
            "self_assessment": [{"item_id": subdimension, "level": 2}],
            "objectives": [{
                "title": "Fortalecer las prácticas pedagógicas",
                "dimension_id": pedagogica,
                "goals": [{
                    "title": "Mejorar la asistencia", "indicator": "Asistencia promedio",
                    "baseline": 86.5, "target": 90, "unit": "%",
                    "strategies": [{"title": "Trabajo colaborativo", "actions": [{
                        "title": "Pasantías pedagógicas",
                        "starts_on": "2019-04-01", "ends_on": "2019-11-29",
                        "funding": [{"source": "sep", "amount": 1200000}],
                        "subdimension_ids": [subdimension],
                    }]}]
                }]
            }]
        });
        let response = app.post("/api/v1/plans", &token, &body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let plan: Value = response.json().await.unwrap();
        assert_eq!(plan["title"], "PME 2019-2022");
        assert_eq!(plan["country"], "CL");
        // No catalogue named: the management model in force in 2019 (the 2014 one).
        let model = app
            .read(
                &format!(
                    "/api/v1/catalogues/{}",
                    plan["catalogue_id"].as_str().unwrap()
                ),
                &token,
            )
            .await;
        assert_eq!(model["version"], "2014");
        let first = &actions_of(&plan)[0];
        assert_eq!(first["status"], "planned");
        assert_eq!(first["executed_percent"], 0);
        assert_eq!(
            first["funding"],
            json!([{"source": "sep", "amount": 1200000}])
        );
        assert_eq!(app.read(&location, &token).await, plan);

        // A rewrite that gives the action back keeps its id (and its links); a new one is new.
        let goal_id = plan["objectives"][0]["goals"][0]["id"].clone();
        link(
            &app,
            &token,
            &id(&plan),
            json!({"item_id": goal_id, "type": "indicator", "indicator_code": "ASISTENCIA"}),
        )
        .await;
        let mut second = body.clone();
        let objective = &mut second["objectives"][0];
        objective["id"] = plan["objectives"][0]["id"].clone();
        objective["goals"][0]["id"] = goal_id.clone();
        objective["goals"][0]["strategies"][0]["actions"] = json!([
            {"id": first["id"], "title": "Pasantías pedagógicas entre liceos", "status": "in_progress", "executed_percent": 40},
            {"title": "Jornadas de reflexión docente"},
        ]);
        let response = app
            .send(
                Method::PUT,
                &location,
                &token,
                Some(&second),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(response.status(), 200);
        let rewritten: Value = response.json().await.unwrap();
        assert_eq!(rewritten["version"], 2);
        let actions = actions_of(&rewritten);
        assert_eq!(actions[0]["id"], first["id"]);
        assert_eq!(actions[0]["executed_percent"], 40);
        assert_ne!(actions[1]["id"], first["id"]);
        let links = app.read(&format!("{location}/links"), &token).await;
        assert_eq!(
            links["items"].as_array().unwrap().len(),
            1,
            "the goal's link stays"
        );

        // A merge patch; a stale If-Match is 412.
        let patch = json!({"phase": "evaluation"});
        let response = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&patch),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_problem(response, 412).await;
        let response = app
            .send(Method::PATCH, &location, &token, Some(&patch), &[])
            .await;
        assert_eq!(response.status(), 200);
        let patched: Value = response.json().await.unwrap();
        assert_eq!(patched["phase"], "evaluation");
        assert_eq!(actions_of(&patched)[0]["id"], first["id"]);

        // What a body names must exist where it should, each once.
        let mut wrong = body.clone();
        wrong["period_to"] = json!(2025);
        wrong["objectives"][0]["dimension_id"] = json!(subdimension);
        wrong["self_assessment"] = json!([{"item_id": pedagogica, "level": 2}]);
        wrong["objectives"][0]["goals"][0]["strategies"][0]["actions"][0]["ends_on"] =
            json!("2019-01-01");
        wrong["objectives"][0]["goals"][0]["strategies"][0]["actions"][0]["id"] = json!(goal_id);
        let problem = assert_problem(app.post("/api/v1/plans", &token, &wrong).await, 422).await;
        let mut found = issues(&problem);
        found.sort();
        assert_eq!(
            found,
            [
                "/objectives/0/dimension_id unknown_reference",
                "/objectives/0/goals/0/strategies/0/actions/0/ends_on not_after",
                "/objectives/0/goals/0/strategies/0/actions/0/id unknown_reference",
                "/period_from overlapping_plan",
                "/period_to out_of_range",
                "/self_assessment/0/item_id unknown_reference",
            ],
            "{problem}"
        );
        // A second PME over the same years; a PMI for a Chilean school; an owner and a kind
        // that change.
        let problem = assert_problem(app.post("/api/v1/plans", &token, &body).await, 422).await;
        assert_eq!(issues(&problem), ["/period_from overlapping_plan"]);
        let mut pmi = body.clone();
        pmi["kind"] = json!("pmi");
        pmi["objectives"] = json!([]);
        pmi["self_assessment"] = json!([]);
        let problem = assert_problem(app.post("/api/v1/plans", &token, &pmi).await, 422).await;
        assert_eq!(issues(&problem), ["/school_id wrong_country"]);
        let response = app
            .send(Method::PUT, &location, &token, Some(&pmi), &[])
            .await;
        assert_problem(response, 409).await;

        // Listed with its counts; the school cannot go while it has a plan.
        let list = app
            .read(
                &format!("/api/v1/plans?school_id={}&year=2020&kind=pme", id(&liceo)),
                &token,
            )
            .await;
        assert_eq!(list["items"][0]["actions"], 2);
        assert_eq!(list["items"][0]["goals"], 1);
        let none = app.read("/api/v1/plans?year=2023", &token).await;
        assert_eq!(none["items"], json!([]));
        let response = app
            .send(
                Method::DELETE,
                &format!("/api/v1/schools/{}", id(&liceo)),
                &token,
                None,
                &[],
            )
            .await;
        assert_problem(response, 409).await;

        // Another region sees nothing of it.
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        assert_problem(app.get(&location, Some(&stranger)).await, 404).await;

        let response = app.send(Method::DELETE, &location, &token, None, &[]).await;
        assert_eq!(response.status(), 204);
        assert_problem(app.get(&location, Some(&token)).await, 404).await;
        let feed = app
            .read("/api/v1/changes?resource=plan&limit=100", &token)
            .await;
        let operations: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        assert_eq!(operations, ["created", "updated", "updated", "deleted"]);
    }
}

#[actix_web::test]
async fn links_reach_only_what_the_plans_school_has() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-01"]);
        let liceo = app
            .create(
                "/api/v1/schools",
                &token,
                &school("Liceo Luis Cruz Martínez"),
            )
            .await;
        let other = app
            .create("/api/v1/schools", &token, &school("Colegio Deportivo"))
            .await;
        let pei = app
            .send(Method::PUT, &format!("/api/v1/schools/{}/pei", id(&liceo)), &token,
                Some(&json!({"period_from": 2019, "period_to": 2023, "sellos": [{"name": "Excelencia"}]})), &[])
            .await;
        let pei: Value = pei.json().await.unwrap();
        let sello = pei["sellos"][0]["id"].as_str().unwrap().to_owned();
        let other_pei = app
            .send(Method::PUT, &format!("/api/v1/schools/{}/pei", id(&other)), &token,
                Some(&json!({"period_from": 2019, "period_to": 2023, "sellos": [{"name": "Deporte"}]})), &[])
            .await;
        let other_pei: Value = other_pei.json().await.unwrap();
        let convivencia = item(&app, &token, "planes_normativos", "CONVIVENCIA").await;
        let plan = app
            .create("/api/v1/plans", &token, &json!({
                "kind": "pme", "school_id": id(&liceo), "title": "PME", "period_from": 2019, "period_to": 2022,
                "objectives": [{"title": "O", "goals": [{"title": "G", "strategies": [{"title": "E",
                    "actions": [{"title": "A"}]}]}]}],
            }))
            .await;
        let plan_id = id(&plan);
        let action = actions_of(&plan)[0]["id"].as_str().unwrap().to_owned();
        let goal = plan["objectives"][0]["goals"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let links = format!("/api/v1/plans/{plan_id}/links");

        let made = link(&app, &token, &plan_id, json!({"item_id": action, "type": "sello", "target_id": sello, "valid_from": "2019-03-01"})).await;
        assert_eq!(made["target_name"], "Excelencia");
        assert_eq!(made["valid_to"], Value::Null);
        let made = link(&app, &token, &plan_id, json!({"item_id": action, "type": "plan_normativo", "target_id": convivencia, "valid_from": "2019-03-01"})).await;
        assert_eq!(
            made["target_name"],
            "Plan de Gestión de la Convivencia Escolar"
        );

        // Another school's sello; an agreement that does not exist (both 409: a dangling
        // reference); the same link again; a sello from a goal; support from a PME.
        let refused = [
            (
                json!({"item_id": action, "type": "sello", "target_id": other_pei["sellos"][0]["id"]}),
                409,
                "/target_id unknown_reference",
            ),
            (
                json!({"item_id": action, "type": "agreement", "target_id": sello}),
                409,
                "/target_id unknown_reference",
            ),
            (
                json!({"item_id": action, "type": "sello", "target_id": sello}),
                422,
                "/target_id duplicate",
            ),
            (
                json!({"item_id": goal, "type": "sello", "target_id": sello}),
                422,
                "/item_id wrong_kind",
            ),
            (
                json!({"item_id": action, "type": "supports", "target_id": goal}),
                422,
                "/type not_applicable",
            ),
        ];
        for (body, status, expected) in refused {
            let problem = assert_problem(app.post(&links, &token, &body).await, status).await;
            assert_eq!(issues(&problem), [expected], "{body}");
        }
        let problem = assert_problem(
            app.post(
                &links,
                &token,
                &json!({"item_id": goal, "type": "indicator"}),
            )
            .await,
            422,
        )
        .await;
        assert!(!issues(&problem).is_empty());

        // A short-cycle improvement plan the action carries out; it cannot go while linked,
        // nor can its school.
        let cycle = app
            .create("/api/v1/improvement-cycles", &token, &json!({
                "school_id": id(&liceo), "title": "Preguntas de inicio",
                "problem_of_practice": "Poca participación en clases de lenguaje.",
                "aim": {"statement": "Mejorar la comprensión lectora.", "measure": "Prueba de la red",
                        "target": 60, "unit": "%", "due_on": "2019-11-29"},
                "driver": "Participación activa", "change_idea": "Una pregunta desafiante al inicio",
            }))
            .await;
        let made = link(
            &app,
            &token,
            &plan_id,
            json!({"item_id": action, "type": "improvement_cycle",
            "target_id": id(&cycle), "valid_from": "2019-03-01"}),
        )
        .await;
        assert_eq!(made["target_id"], id(&cycle).as_str());
        let response = app
            .send(
                Method::DELETE,
                &format!("/api/v1/improvement-cycles/{}", id(&cycle)),
                &token,
                None,
                &[],
            )
            .await;
        assert_problem(response, 409).await;

        // Ended links stay, dated; the list reads them on a day.
        let all = app.read(&links, &token).await;
        let first = all["items"][0]["id"].as_str().unwrap().to_owned();
        let response = app
            .send(
                Method::PATCH,
                &format!("{links}/{first}"),
                &token,
                Some(&json!({"valid_to": "2019-12-31", "note": "Reformulado"})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(response.status(), 200);
        let ended: Value = response.json().await.unwrap();
        assert_eq!(ended["valid_to"], "2019-12-31");
        assert_eq!(ended["version"], 2);
        let response = app
            .send(
                Method::PATCH,
                &format!("{links}/{first}"),
                &token,
                Some(&json!({"valid_to": "2018-01-01"})),
                &[],
            )
            .await;
        assert_problem(response, 422).await;
        let in_2020 = app.read(&format!("{links}?on=2020-06-01"), &token).await;
        assert_eq!(in_2020["items"].as_array().unwrap().len(), 2);
        let sellos = app
            .read(&format!("{links}?type=sello&on=2019-06-01"), &token)
            .await;
        assert_eq!(sellos["items"][0]["id"], first.as_str());

        let response = app
            .send(
                Method::DELETE,
                &format!("{links}/{first}"),
                &token,
                None,
                &[],
            )
            .await;
        assert_eq!(response.status(), 204);
        assert_problem(
            app.get(&format!("{links}/{first}"), Some(&token)).await,
            404,
        )
        .await;
    }
}

/// How many SQL statements the network report runs, on a connection of its own that counts
/// them.
fn report_statements(app: &TestApp, network: &str) -> usize {
    let mut conn = match &app.settings.database.url {
        DatabaseUrl::Sqlite(path) => {
            DbConnection::Sqlite(SqliteConnection::establish(&path.display().to_string()).unwrap())
        }
        DatabaseUrl::Postgres(url) => DbConnection::Pg(PgConnection::establish(url).unwrap()),
    };
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    conn.set_instrumentation(Box::new(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }) as Box<dyn Instrumentation>);
    let scope = TerritoryScope::from_paths(["/CL/".to_owned()]);
    let on = chrono::NaiveDate::from_ymd_opt(2019, 6, 30).unwrap();
    let network = uuid::Uuid::parse_str(network).unwrap();
    redes::routes::articulation::network_report(&mut conn, network, &scope, on, 10).unwrap();
    statements.load(Ordering::SeqCst)
}

#[actix_web::test]
async fn the_gap_report_gives_the_hand_counted_figures_for_a_school_and_its_network() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-01"]);
        let liceo = app
            .create("/api/v1/schools", &token, &school("Instituto Comercial"))
            .await;
        let deportivo = app
            .create("/api/v1/schools", &token, &school("Colegio Deportivo"))
            .await;
        let gone = app
            .create("/api/v1/schools", &token, &school("Politécnico"))
            .await;
        let network = app
            .create(
                "/api/v1/networks",
                &token,
                &json!({
                    "name": "Red EMTP", "kind": "red_mejoramiento_escolar", "territory": "CL-01101",
                    "objective": "Articular el PEI, el PME y los planes normativos",
                    "work_plans": {"2019": {"objectives": ["Pasantías pedagógicas"]}},
                }),
            )
            .await;
        let members = format!("/api/v1/networks/{}/members", id(&network));
        for (school, left_on) in [
            (&liceo, None),
            (&deportivo, None),
            (&gone, Some("2019-03-01")),
        ] {
            app.create(
                &members,
                &token,
                &json!({"school_id": id(school), "role": "member_school",
                "joined_on": "2015-03-01", "left_on": left_on}),
            )
            .await;
        }
        let pei = app
            .send(Method::PUT, &format!("/api/v1/schools/{}/pei", id(&liceo)), &token,
                Some(&json!({"period_from": 2019, "period_to": 2023,
                    "sellos": [{"name": "Excelencia técnico profesional"}, {"name": "Inclusión"}]})), &[])
            .await;
        let pei: Value = pei.json().await.unwrap();
        let excelencia = pei["sellos"][0]["id"].clone();
        let convivencia = item(&app, &token, "planes_normativos", "CONVIVENCIA").await;
        let ciudadana = item(&app, &token, "planes_normativos", "FORMACION-CIUDADANA").await;

        // Three goals (one states its indicator, one is linked to one, one has none) and five
        // actions: A1 carries a sello, a plan and a network objective, on schedule; A2 carries
        // a plan and is overdue; A3 carries nothing and is behind (20% done of 100% due);
        // A4 is done; A5's sello link ended before the report's date.
        let plan = app
            .create("/api/v1/plans", &token, &json!({
                "kind": "pme", "school_id": id(&liceo), "title": "PME 2019-2022",
                "period_from": 2019, "period_to": 2022,
                "objectives": [{"title": "Gestión pedagógica", "goals": [
                    {"title": "G1", "indicator": "Asistencia", "strategies": [{"title": "E1", "actions": [
                        action("A1", Some(("2019-03-01", "2019-12-31")), "in_progress", 50),
                        action("A2", Some(("2019-03-01", "2019-05-31")), "in_progress", 80),
                        action("A3", Some(("2019-06-01", "2019-06-30")), "in_progress", 20),
                        action("A4", Some(("2019-01-01", "2019-02-01")), "done", 100),
                        action("A5", None, "planned", 0),
                    ]}]},
                    {"title": "G2"},
                    {"title": "G3"},
                ]}],
            }))
            .await;
        let plan_id = id(&plan);
        let actions: Vec<String> = actions_of(&plan).iter().map(id).collect();
        let goals: Vec<String> = plan["objectives"][0]["goals"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect();
        for body in [
            json!({"item_id": actions[0], "type": "sello", "target_id": excelencia, "valid_from": "2019-03-01"}),
            json!({"item_id": actions[0], "type": "plan_normativo", "target_id": convivencia, "valid_from": "2019-03-01"}),
            json!({"item_id": actions[0], "type": "network_objective", "target_id": id(&network),
                   "objective": "Articular el PEI, el PME y los planes normativos", "valid_from": "2019-03-01"}),
            json!({"item_id": actions[1], "type": "plan_normativo", "target_id": ciudadana, "valid_from": "2019-03-01"}),
            json!({"item_id": actions[4], "type": "sello", "target_id": excelencia, "valid_from": "2019-03-01", "valid_to": "2019-05-01"}),
            json!({"item_id": goals[1], "type": "indicator", "indicator_code": "SIMCE_LECTURA", "valid_from": "2019-03-01"}),
        ] {
            link(&app, &token, &plan_id, body).await;
        }
        // A network objective the network does not state is refused.
        let problem = assert_problem(app.post(&format!("/api/v1/plans/{plan_id}/links"), &token,
            &json!({"item_id": actions[2], "type": "network_objective", "target_id": id(&network), "objective": "Otra cosa"})).await, 409).await;
        assert_eq!(issues(&problem), ["/objective unknown_reference"]);

        let report = app
            .read(
                &format!("/api/v1/schools/{}/articulation?on=2019-06-30", id(&liceo)),
                &token,
            )
            .await;
        assert_eq!(report["plan_ids"], json!([plan_id]));
        assert_eq!(report["has_pei"], true);
        assert_eq!(
            report["figures"],
            json!({
                "sellos": {"total": 2, "articulated": 1},
                "planes_normativos": {"total": 6, "articulated": 2},
                "actions": {"total": 5, "articulated": 2},
                "goals": {"total": 3, "articulated": 2},
                "overdue_actions": 1, "behind_actions": 1,
                "coverage": 0.375,
            })
        );
        let titles = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    i["title"]
                        .as_str()
                        .or(i["name"].as_str())
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(titles(&report["sellos_without_action"]), ["Inclusión"]);
        assert_eq!(
            report["planes_normativos_without_action"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            titles(&report["actions_without_articulation"]),
            ["A3", "A4", "A5"]
        );
        assert_eq!(titles(&report["goals_without_indicator"]), ["G3"]);
        assert_eq!(titles(&report["overdue_actions"]), ["A2"]);
        assert_eq!(report["behind_actions"][0]["title"], "A3");
        assert_eq!(report["behind_actions"][0]["expected_percent"], 100);

        // The same counts as live platform indicators for 2019 (as of its last day), in the
        // comuna and for the network: only the Instituto has a PME that year. Coverage: 1 of 2
        // sellos and 2 of 6 planes normativos; execution: (0.5 + 0.8 + 0.2 + 1 + 0) / 5.
        let pull = app
            .read(&format!("/api/v1/analytics?indicator=REDES_COBERTURA_ARTICULACION&indicator=REDES_EJECUCION_ACCIONES_PLAN&indicator=REDES_ACCIONES_PLAN&period=2019&org_unit=CL-01101&org_unit={}&numerators=true", id(&network)), &token)
            .await;
        let live = |indicator: &str, unit: &str| -> Value {
            pull["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["indicator"] == indicator && r["org_unit"] == unit)
                .unwrap_or_else(|| panic!("{indicator} {unit} in {pull}"))
                .clone()
        };
        for unit in ["CL-01101", id(&network).as_str()] {
            let coverage = live("REDES_COBERTURA_ARTICULACION", unit);
            assert_eq!(coverage["value"], 37.5, "{unit}");
            assert_eq!(
                (&coverage["numerator"], &coverage["denominator"]),
                (&json!(3.0), &json!(8.0))
            );
            let execution = live("REDES_EJECUCION_ACCIONES_PLAN", unit);
            assert_eq!(execution["value"], 50.0, "{unit}");
            assert_eq!(live("REDES_ACCIONES_PLAN", unit)["value"], 5.0);
        }
        let sellos = app
            .read("/api/v1/analytics?indicator=REDES_COBERTURA_ARTICULACION&period=2019&org_unit=CL-01101&disaggregation=element%3Dsello", &token)
            .await;
        assert_eq!(sellos["rows"][0]["value"], 50.0);
        // 2018 is before the PME: nothing to count.
        let before = app
            .read("/api/v1/analytics?indicator=REDES_COBERTURA_ARTICULACION&period=2018&org_unit=CL-01101", &token)
            .await;
        assert_eq!(before["rows"][0]["value"], Value::Null);
        // In 2023 the PME no longer covers the year: only the PEI and the planes count.
        let later = app
            .read(
                &format!("/api/v1/schools/{}/articulation?on=2023-06-30", id(&liceo)),
                &token,
            )
            .await;
        assert_eq!(later["figures"]["actions"]["total"], 0);
        assert_eq!(later["figures"]["coverage"], 0.0);

        // CSV: one row per finding, after the header.
        let response = app
            .send(
                Method::GET,
                &format!("/api/v1/schools/{}/articulation?on=2019-06-30", id(&liceo)),
                &token,
                None,
                &[("accept", "text/csv")],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = response.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 1 + 4 + 3 + 1 + 1 + 1, "{csv}");
        assert!(lines[0].starts_with("finding,id,plan_id,name"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("behind_action,") && l.ends_with(",20,100")),
            "{csv}"
        );

        // The network on that day: two members (the third left), their sums, the objective
        // one school carries and the one nobody does.
        let network_report = format!(
            "/api/v1/networks/{}/articulation?on=2019-06-30",
            id(&network)
        );
        let report = app.read(&network_report, &token).await;
        assert_eq!(report["member_schools"], 2);
        assert_eq!(report["not_visible"], 0);
        assert_eq!(
            report["figures"]["sellos"],
            json!({"total": 2, "articulated": 1})
        );
        assert_eq!(
            report["figures"]["planes_normativos"],
            json!({"total": 12, "articulated": 2})
        );
        assert_eq!(
            report["figures"]["actions"],
            json!({"total": 5, "articulated": 2})
        );
        let coverage = report["figures"]["coverage"].as_f64().unwrap();
        assert!((coverage - 3.0 / 14.0).abs() < 1e-9, "{coverage}");
        assert_eq!(
            report["objectives"],
            json!([
                {"objective": "Articular el PEI, el PME y los planes normativos", "schools": 1},
                {"objective": "Pasantías pedagógicas", "schools": 0},
            ])
        );
        assert_eq!(
            report["objectives_not_carried"],
            json!(["Pasantías pedagógicas"])
        );
        let csv = app
            .send(
                Method::GET,
                &format!("{network_report}&format=csv"),
                &token,
                None,
                &[],
            )
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 3, "{csv}");

        // A network linked to cannot be deleted.
        let response = app
            .send(
                Method::DELETE,
                &format!("/api/v1/networks/{}", id(&network)),
                &token,
                None,
                &[],
            )
            .await;
        assert_problem(response, 409).await;

        // The report's statements do not grow with the network: a third member with a PEI
        // and a plan of its own adds none.
        let before = report_statements(&app, &id(&network));
        let tercero = app
            .create("/api/v1/schools", &token, &school("Liceo Tercero"))
            .await;
        app.create(
            &members,
            &token,
            &json!({"school_id": id(&tercero), "role": "member_school", "joined_on": "2015-03-01"}),
        )
        .await;
        app.send(
            Method::PUT,
            &format!("/api/v1/schools/{}/pei", id(&tercero)),
            &token,
            Some(&json!({"period_from": 2019, "period_to": 2023, "sellos": [{"name": "Arte"}]})),
            &[],
        )
        .await;
        app.create("/api/v1/plans", &token, &json!({"kind": "pme", "school_id": id(&tercero), "title": "PME",
            "period_from": 2019, "period_to": 2022,
            "objectives": [{"title": "O", "goals": [{"title": "G", "strategies": [{"title": "E", "actions": [{"title": "A"}]}]}]}]})).await;
        assert_eq!(report_statements(&app, &id(&network)), before);
        assert!(before <= 12, "{before} statements");
    }
}

#[actix_web::test]
async fn a_secretarias_pam_supports_the_pmis_of_its_own_schools() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CO-05001"]);
        let secretaria = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "Secretaría de Educación de Medellín",
                "kind": "secretaria", "territory": "CO-05001", "secretaria_level": "municipal"}),
            )
            .await;
        let escuela = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Institución Educativa Rural", "country": "CO",
                "territory": "CO-05001", "dane_code": "105001000108", "sector": "oficial", "secretaria_id": id(&secretaria)}),
            )
            .await;
        let tree = json!([{"title": "Gestión académica", "goals": [{"title": "Mejorar", "strategies": [{"title": "E", "actions": [{"title": "Acompañamiento"}]}]}]}]);
        let pmi = app
            .create(
                "/api/v1/plans",
                &token,
                &json!({"kind": "pmi", "school_id": id(&escuela), "title": "PMI 2024",
                "period_from": 2024, "period_to": 2026, "objectives": tree}),
            )
            .await;
        let catalogue = app
            .read(
                &format!(
                    "/api/v1/catalogues/{}",
                    pmi["catalogue_id"].as_str().unwrap()
                ),
                &token,
            )
            .await;
        assert_eq!(catalogue["kind"], "areas_de_gestion");
        let problem = assert_problem(
            app.post(
                "/api/v1/plans",
                &token,
                &json!({"kind": "pam", "school_id": id(&escuela),
            "title": "PAM", "period_from": 2024, "period_to": 2027}),
            )
            .await,
            422,
        )
        .await;
        assert!(!issues(&problem).is_empty());
        let pam = app
            .create(
                "/api/v1/plans",
                &token,
                &json!({"kind": "pam", "organization_id": id(&secretaria), "title": "PAM 2024-2027",
                "period_from": 2024, "period_to": 2027, "objectives": tree}),
            )
            .await;
        let supported = actions_of(&pmi)[0]["id"].clone();
        let made = link(
            &app,
            &token,
            &id(&pam),
            json!({"item_id": actions_of(&pam)[0]["id"], "type": "supports",
            "target_id": supported, "valid_from": "2024-02-01"}),
        )
        .await;
        assert_eq!(made["target_name"], "Acompañamiento");
        // The PMI cannot drop the supported action, nor go, while the PAM links to it.
        let response = app
            .send(
                Method::PATCH,
                &format!("/api/v1/plans/{}", id(&pmi)),
                &token,
                Some(&json!({"objectives": []})),
                &[],
            )
            .await;
        assert_problem(response, 409).await;
        let response = app
            .send(
                Method::DELETE,
                &format!("/api/v1/plans/{}", id(&pmi)),
                &token,
                None,
                &[],
            )
            .await;
        assert_problem(response, 409).await;
        // A Secretaría cannot go while it has a PAM.
        let response = app
            .send(
                Method::DELETE,
                &format!("/api/v1/organizations/{}", id(&secretaria)),
                &token,
                None,
                &[],
            )
            .await;
        assert_problem(response, 409).await;
    }
}

#[actix_web::test]
async fn the_demo_shows_the_tarapaca_networks_articulation_as_hand_counted() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(|settings| settings.demo_data = true)),
                ..Options::default()
            },
        )
        .await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let network = redes::demo::network_id("rme-tarapaca-red-emtp-municipal");
        let report = app
            .read(
                &format!("/api/v1/networks/{network}/articulation?on=2026-06-30"),
                &token,
            )
            .await;
        // Five member liceos; two have a PEI and a PME (demo/plans.json): Elena Duvauchelle
        // carries 2 of its 3 sellos and 2 planes with 2 of its 3 actions; Baldomero Wolnistky
        // 1 of 2 sellos and 1 plan with both actions, one of them behind (30% done, 42% due
        // by 30 June of a 2 March - 11 December action).
        assert_eq!(report["member_schools"], 5);
        assert_eq!(
            report["figures"],
            json!({
                "sellos": {"total": 5, "articulated": 3},
                "planes_normativos": {"total": 30, "articulated": 3},
                "actions": {"total": 5, "articulated": 4},
                "goals": {"total": 3, "articulated": 2},
                "overdue_actions": 0, "behind_actions": 1,
                "coverage": 6.0 / 35.0,
            })
        );
        assert_eq!(report["objectives"][0]["schools"], 2);
        assert_eq!(report["objectives_not_carried"], json!([]));

        // The Aysén school's PME action is linked to its short-cycle improvement plan.
        let school = redes::demo::school_id("rio-ibanez-escuela-aonikenk-de-puerto-ibanez");
        let plans = app
            .read(&format!("/api/v1/plans?school_id={school}"), &token)
            .await;
        let plan = plans["items"][0]["id"].as_str().unwrap().to_owned();
        let links = app
            .read(
                &format!("/api/v1/plans/{plan}/links?type=improvement_cycle"),
                &token,
            )
            .await;
        let cycle = links["items"][0]["target_id"].as_str().unwrap().to_owned();
        let cycle = app
            .read(&format!("/api/v1/improvement-cycles/{cycle}"), &token)
            .await;
        assert_eq!(cycle["pdsa"][0]["act"]["decision"], "adapt");
        assert_eq!(
            links["items"][0]["target_name"],
            "Lectura en voz alta al inicio de la jornada"
        );
    }
}
