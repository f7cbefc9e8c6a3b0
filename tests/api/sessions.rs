//! People, person members, sessions with attendance and agreements, and yearly summaries.

use reqwest::Method;
use serde_json::{Value, json};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use redes::configuration::DatabaseUrl;
use redes::db::DbConnection;

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

/// How many SQL statements the yearly summary of `network` runs, on a connection of its own to
/// the app's database that counts them.
fn summary_statements(app: &TestApp, network: &str) -> usize {
    let mut conn = match &app.settings.database.url {
        DatabaseUrl::Sqlite(path) => {
            DbConnection::Sqlite(SqliteConnection::establish(&path.display().to_string()).unwrap())
        }
        DatabaseUrl::Postgres(url) => DbConnection::Pg(PgConnection::establish(url).unwrap()),
    };
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    let counting = move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    };
    conn.set_instrumentation(Box::new(counting) as Box<dyn Instrumentation>);
    let network = uuid::Uuid::parse_str(network).unwrap();
    redes::repository::sessions::summary(
        &mut conn,
        network,
        "2017-01-01",
        "2017-12-31",
        "2026-11-24",
    )
    .unwrap();
    statements.load(Ordering::SeqCst)
}

fn id(object: &Value) -> &str {
    object["id"].as_str().unwrap()
}

fn school(name: &str) -> Value {
    json!({"name": name, "country": "CL", "territory": "CL-09105", "dependency": "municipal_daem"})
}

async fn network(app: &TestApp, token: &str) -> Value {
    app.create(
        "/api/v1/networks",
        token,
        &json!({"name": "Red de Freire", "kind": "red_mejoramiento_escolar",
                "territory": "CL-09105", "founded_year": 2015}),
    )
    .await
}

#[actix_web::test]
async fn people_are_personal_data_seen_only_with_people_read_in_their_territory() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let escuela = app
            .create("/api/v1/schools", &token, &school("Escuela Lircay"))
            .await;
        let body = json!({
            "name": "  María González ",
            "email": "maria.gonzalez@example.cl",
            "phone": "+56 9 1234 5678",
            "territory": "CL-09105",
            "affiliations": [{"school_id": id(&escuela), "position": "director"}],
        });
        let response = app.post("/api/v1/people", &token, &body).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let person: Value = response.json().await.unwrap();
        assert_eq!(person["name"], "María González");
        assert_eq!(person["country"], "CL");
        assert_eq!(
            person["affiliations"],
            json!([{"school_id": id(&escuela), "organization_id": null, "position": "director"}])
        );
        assert_eq!(app.read(&location, &token).await, person);

        // Filters: by school, by position, by name without accents.
        for query in [
            format!("school_id={}", id(&escuela)),
            "position=director".to_owned(),
            "q=gonzalez".to_owned(),
        ] {
            let page = app.read(&format!("/api/v1/people?{query}"), &token).await;
            assert_eq!(page["items"].as_array().unwrap().len(), 1, "{query}");
        }
        let none = app.read("/api/v1/people?position=utp", &token).await;
        assert_eq!(none["items"], json!([]));

        // Invalid e-mail and phone, an affiliation with two places, one with none.
        let bad = json!({"name": "X", "email": "no-at-sign", "phone": "call me",
                         "territory": "CL-09105"});
        let problem = assert_problem(app.post("/api/v1/people", &token, &bad).await, 422).await;
        assert_eq!(
            issues(&problem),
            vec!["/email invalid_format", "/phone invalid_format"]
        );
        let unplaced = json!({"name": "X", "territory": "CL-09105",
                              "affiliations": [{"position": "docente"}]});
        assert_problem(app.post("/api/v1/people", &token, &unplaced).await, 422).await;

        // Another region, or no people:read, does not see them.
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        assert_problem(app.get(&location, Some(&stranger)).await, 404).await;
        let no_people = app.token(&["networks:read"], &["CL-09"]);
        assert_problem(app.get(&location, Some(&no_people)).await, 403).await;

        // As a network member, their name shows only to callers who may read them.
        let red = network(&app, &token).await;
        let members = format!("/api/v1/networks/{}/members", id(&red));
        let member = app
            .create(
                &members,
                &token,
                &json!({"person_id": id(&person), "role": "director", "joined_on": "2016-03-01"}),
            )
            .await;
        assert_eq!(member["person_id"], person["id"]);
        assert_eq!(member["name"], "María González");
        let without = app.read(&members, &no_people).await;
        assert_eq!(without["items"][0]["person_id"], person["id"]);
        assert_eq!(without["items"][0]["name"], Value::Null);
        let people_only = app
            .read(
                &format!("{members}?member_kind=person&on=2016-06-01"),
                &token,
            )
            .await;
        assert_eq!(people_only["items"].as_array().unwrap().len(), 1);

        // Their networks, on a date.
        let theirs = app
            .read(&format!("{location}/networks?on=2016-06-01"), &token)
            .await;
        assert_eq!(theirs["items"][0]["network_id"], red["id"]);
        let before = app
            .read(&format!("{location}/networks?on=2016-01-01"), &token)
            .await;
        assert_eq!(before["items"], json!([]));

        // Patch; then deletion is refused while the membership names them.
        let patched = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"phone": null, "affiliations": []})),
                &[],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["phone"], Value::Null);
        assert_eq!(patched["affiliations"], json!([]));
        let refused = app.send(Method::DELETE, &location, &token, None, &[]).await;
        assert_problem(refused, 409).await;
        let member_path = format!("{members}/{}", id(&member));
        let removed = app
            .send(Method::DELETE, &member_path, &token, None, &[])
            .await;
        assert_eq!(removed.status(), 204);
        let deleted = app.send(Method::DELETE, &location, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        assert_problem(app.get(&location, Some(&token)).await, 404).await;
    }
}

#[actix_web::test]
async fn a_session_is_recorded_with_attendance_and_agreements() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let host = app
            .create("/api/v1/schools", &token, &school("Liceo Juan Schleyer"))
            .await;
        let ana = app
            .create(
                "/api/v1/people",
                &token,
                &json!({"name": "Ana", "territory": "CL-09105"}),
            )
            .await;
        let red = network(&app, &token).await;
        let sessions = format!("/api/v1/networks/{}/sessions", id(&red));
        let body = json!({
            "title": "Los sellos del PEI en el PME",
            "date": "2017-04-12",
            "start_time": "09:30",
            "duration_minutes": 180.0,
            "modality": "in_person",
            "status": "held",
            "host_school_id": id(&host),
            "place": "Biblioteca",
            "agenda": ["Bienvenida", "  ", "Sellos del PEI"],
            "attendance": {id(&ana): "present"},
            "participant_counts": [{"role": "docente", "count": 20, "invited": 25}],
            "agreements": [
                {"text": "Presentar los sellos en el PME", "owner_school_id": id(&host),
                 "due_on": "2017-05-10"},
                {"text": "Leer el PEI", "owner_person_id": id(&ana), "status": "done"},
            ],
            "evidence": [{"title": "Acta", "url": "https://example.cl/acta.pdf", "kind": "minutes"}],
        });
        let response = app.post(&sessions, &token, &body).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let session: Value = response.json().await.unwrap();
        assert!(location.starts_with("/api/v1/sessions/"), "{location}");
        assert_eq!(session["network_id"], red["id"]);
        assert_eq!(session["duration_minutes"], 180);
        assert_eq!(session["agenda"], json!(["Bienvenida", "Sellos del PEI"]));
        assert_eq!(session["attendance"], json!({id(&ana): "present"}));
        assert_eq!(session["participant_counts"][0]["unit"], "people");
        assert_eq!(session["agreements"][0]["status"], "open");
        assert_eq!(session["agreements"][1]["status"], "done");
        assert_eq!(app.read(&location, &token).await, session);

        // A second session follows the first agreement up; a patch keeps agreement ids.
        let follow = app
            .create(
                &sessions,
                &token,
                &json!({"title": "Seguimiento", "date": "2017-05-10", "modality": "virtual"}),
            )
            .await;
        let mut agreements = session["agreements"].clone();
        agreements[0]["status"] = json!("done");
        agreements[0]["followed_up_in"] = follow["id"].clone();
        let patched = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"agreements": agreements})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(
            patched["agreements"][0]["id"],
            session["agreements"][0]["id"]
        );
        assert_eq!(patched["agreements"][0]["followed_up_in"], follow["id"]);
        assert_eq!(patched["attendance"], session["attendance"]);

        // Filters: dates, host, modality; the cross-network list too.
        for (query, expected) in [
            ("from=2017-05-01", vec!["Seguimiento"]),
            ("to=2017-04-30", vec!["Los sellos del PEI en el PME"]),
            ("modality=virtual", vec!["Seguimiento"]),
            (
                "status=held&status=planned",
                vec!["Los sellos del PEI en el PME", "Seguimiento"],
            ),
        ] {
            let page = app.read(&format!("{sessions}?{query}"), &token).await;
            let titles: Vec<&str> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["title"].as_str().unwrap())
                .collect();
            assert_eq!(titles, expected, "{query}");
        }
        let hosted = app
            .read(
                &format!(
                    "/api/v1/sessions?host_school_id={}&territory=CL-09",
                    id(&host)
                ),
                &token,
            )
            .await;
        assert_eq!(hosted["items"].as_array().unwrap().len(), 1);
        let elsewhere = app.read("/api/v1/sessions?territory=CL-13", &token).await;
        assert_eq!(elsewhere["items"], json!([]));

        // Unknown references are conflicts; an agreement id from elsewhere too.
        let dangling = json!({"title": "X", "host_school_id": "00000000-0000-4000-8000-000000000000",
                              "attendance": {"00000000-0000-4000-8000-000000000001": "absent"}});
        let problem = assert_problem(app.post(&sessions, &token, &dangling).await, 409).await;
        assert_eq!(
            issues(&problem),
            vec![
                "/attendance/00000000-0000-4000-8000-000000000001 unknown_reference",
                "/host_school_id unknown_reference",
            ]
        );
        let foreign_agreement = json!({"title": "X", "agreements": [
            {"id": session["agreements"][0]["id"], "text": "Robado"}]});
        assert_problem(app.post(&sessions, &token, &foreign_agreement).await, 409).await;
        let bad_time = json!({"title": "X", "start_time": "25:00"});
        let problem = assert_problem(app.post(&sessions, &token, &bad_time).await, 422).await;
        assert_eq!(issues(&problem), vec!["/start_time invalid_format"]);

        // Another region sees nothing; a session followed up elsewhere cannot go; a network
        // with sessions cannot go either.
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        assert_problem(app.get(&location, Some(&stranger)).await, 404).await;
        let follow_path = format!("/api/v1/sessions/{}", id(&follow));
        let refused = app
            .send(Method::DELETE, &follow_path, &token, None, &[])
            .await;
        assert_problem(refused, 409).await;
        let network_path = format!("/api/v1/networks/{}", id(&red));
        let refused = app
            .send(Method::DELETE, &network_path, &token, None, &[])
            .await;
        assert_problem(refused, 409).await;
        for path in [&location, &follow_path, &network_path] {
            let deleted = app.send(Method::DELETE, path, &token, None, &[]).await;
            assert_eq!(deleted.status(), 204, "{path}");
        }
        let feed = app
            .read("/api/v1/changes?resource=session&limit=100", &token)
            .await;
        let operations: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["operation"].as_str().unwrap())
            .collect();
        assert_eq!(
            operations,
            vec!["created", "created", "updated", "deleted", "deleted"]
        );
    }
}

#[actix_web::test]
async fn the_yearly_summary_matches_hand_counted_figures() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let a = app
            .create("/api/v1/schools", &token, &school("Escuela A"))
            .await;
        let b = app
            .create("/api/v1/schools", &token, &school("Escuela B"))
            .await;
        let c = app
            .create("/api/v1/schools", &token, &school("Escuela C"))
            .await;
        let mut people = Vec::new();
        for name in ["P1", "P2", "P3"] {
            let person = app
                .create(
                    "/api/v1/people",
                    &token,
                    &json!({"name": name, "territory": "CL-09105"}),
                )
                .await;
            people.push(id(&person).to_owned());
        }
        let red = network(&app, &token).await;
        let members = format!("/api/v1/networks/{}/members", id(&red));
        for member in [
            json!({"school_id": id(&a), "role": "member_school", "joined_on": "2015-03-01"}),
            json!({"school_id": id(&b), "role": "member_school", "joined_on": "2017-03-01"}),
            json!({"school_id": id(&c), "role": "member_school", "left_on": "2017-06-01"}),
            json!({"person_id": people[0], "role": "coordinator", "joined_on": "2017-02-01"}),
        ] {
            app.create(&members, &token, &member).await;
        }
        let sessions = format!("/api/v1/networks/{}/sessions", id(&red));
        let (p1, p2, p3) = (&people[0], &people[1], &people[2]);
        for body in [
            json!({"title": "S1", "date": "2017-03-15", "status": "held", "host_school_id": id(&a),
                   "attendance": {p1: "present", p2: "absent"},
                   "agreements": [{"text": "Vencido", "due_on": "2017-05-01"},
                                  {"text": "Hecho", "status": "done"}]}),
            json!({"title": "S2", "date": "2017-06-20", "status": "held", "host_school_id": id(&b),
                   "attendance": {p1: "present", p2: "excused", p3: "present"},
                   "participant_counts": [{"role": "docente", "count": 20, "invited": 25},
                                          {"role": "participant", "count": 5},
                                          {"role": "participant", "unit": "organizations", "count": 3}],
                   "agreements": [{"text": "Futuro", "due_on": "2999-01-01"}]}),
            json!({"title": "S3", "date": "2017-09-01", "status": "cancelled", "host_school_id": id(&c),
                   "agreements": [{"text": "Descartado", "status": "dropped"}]}),
            json!({"title": "S4", "date": "2018-01-10", "status": "held", "host_school_id": id(&c),
                   "attendance": {p3: "absent"}}),
            json!({"title": "Sin fecha", "status": "held", "attendance": {p2: "absent"}}),
        ] {
            app.create(&sessions, &token, &body).await;
        }

        let summary = app
            .read(
                &format!("/api/v1/networks/{}/summary?year=2017", id(&red)),
                &token,
            )
            .await;
        let rate = summary["attendance"]["rate"].as_f64().unwrap();
        // (3 present + 20 counted with their invited) / (5 recorded + 25 invited).
        assert!((rate - 23.0 / 30.0).abs() < 1e-4, "{rate}");
        let mut summary = summary;
        summary["attendance"]["rate"] = Value::Null;
        summary["as_of"] = Value::Null;
        assert_eq!(
            summary,
            json!({
                "network_id": red["id"],
                "year": 2017,
                "as_of": null,
                "sessions": {"scheduled": 3, "held": 2, "pending": 0, "cancelled": 1,
                             "held_rate": 0.6667},
                "attendance": {"present": 3, "absent": 1, "excused": 1, "counted": 25,
                               "invited": 25, "rate": null},
                "distinct_hosts": 2,
                "agreements": {"made": 4, "open": 2, "done": 1, "dropped": 1, "overdue": 1},
                "members": {"at_start": 2, "at_end": 3, "schools_at_start": 2,
                            "schools_at_end": 2},
            })
        );

        // The same figures as live platform indicators, for the network and its región.
        let pull = app
            .read(&format!("/api/v1/analytics?indicator=REDES_SESIONES_REALIZADAS&indicator=REDES_PARTICIPANTES&indicator=REDES_TASA_ASISTENCIA&indicator=REDES_ACUERDOS_EXIGIBLES&indicator=REDES_ACUERDOS_A_TIEMPO&period=2017&org_unit={}&org_unit=CL-09&numerators=true", id(&red)), &token)
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
        for unit in [id(&red), "CL-09"] {
            assert_eq!(
                live("REDES_SESIONES_REALIZADAS", unit)["value"],
                2.0,
                "{unit}"
            );
            // 3 present, plus 25 people counted (the 3 organisations are not people).
            assert_eq!(live("REDES_PARTICIPANTES", unit)["value"], 28.0);
            let rate = live("REDES_TASA_ASISTENCIA", unit);
            assert_eq!(
                (&rate["numerator"], &rate["denominator"]),
                (&json!(23.0), &json!(30.0))
            );
            assert!((rate["value"].as_f64().unwrap() - 2300.0 / 30.0).abs() < 1e-9);
            // "Vencido" fell due in 2017 and is still open; "Futuro" is not due yet.
            assert_eq!(live("REDES_ACUERDOS_EXIGIBLES", unit)["value"], 1.0);
            assert_eq!(live("REDES_ACUERDOS_A_TIEMPO", unit)["value"], 0.0);
        }
        // By modality: none of 2017's held sessions states one, so none was virtual.
        let virtual_sessions = app
            .read(&format!("/api/v1/analytics?indicator=REDES_SESIONES_REALIZADAS&period=2017&org_unit={}&disaggregation=modality%3Dvirtual", id(&red)), &token)
            .await;
        assert_eq!(virtual_sessions["rows"][0]["value"], Value::Null);
        // A live indicator takes no recorded values: they would be counted twice.
        let problem = assert_problem(
            app.post(
                "/api/v1/indicator-values",
                &token,
                &json!({"indicator": "REDES_SESIONES_REALIZADAS", "org_unit": "CL-09",
                        "period": "2017-03", "value": 4}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(issues(&problem), ["/indicator invalid_value"]);

        // A year without sessions: zeros and no rates.
        let empty = app
            .read(
                &format!("/api/v1/networks/{}/summary?year=2014", id(&red)),
                &token,
            )
            .await;
        assert_eq!(empty["sessions"]["scheduled"], 0);
        assert_eq!(empty["sessions"]["held_rate"], Value::Null);
        assert_eq!(empty["attendance"]["rate"], Value::Null);
        assert_eq!(empty["members"]["at_end"], 1);

        // The network's agreements across its sessions: open, overdue, paged.
        let agreements = format!("/api/v1/networks/{}/agreements", id(&red));
        for (query, expected) in [
            ("status=open", vec!["Vencido", "Futuro"]),
            ("overdue=true", vec!["Vencido"]),
            ("status=dropped&status=done", vec!["Hecho", "Descartado"]),
        ] {
            let page = app.read(&format!("{agreements}?{query}"), &token).await;
            let texts: Vec<&str> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["text"].as_str().unwrap())
                .collect();
            assert_eq!(texts, expected, "{query}");
        }
        let all = app.read_all(&format!("{agreements}?limit=1"), &token).await;
        assert_eq!(all.len(), 4);
        assert_eq!(all[0]["session_title"], "S1");
        assert_eq!(all[0]["session_date"], "2017-03-15");

        // The figures are one SQL statement, whatever the number of sessions.
        assert_eq!(summary_statements(&app, id(&red)), 1);

        // The year is required and bounded.
        let path = format!("/api/v1/networks/{}/summary", id(&red));
        let problem = assert_problem(app.get(&path, Some(&token)).await, 400).await;
        assert_eq!(issues(&problem), vec!["year required"]);
        let problem = assert_problem(
            app.get(&format!("{path}?year=1800"), Some(&token)).await,
            400,
        )
        .await;
        assert_eq!(issues(&problem), vec!["year out_of_range"]);
    }
}
