//! Mentoring visits: people by id only, stable agreement ids, date rules, ETags, scope,
//! filters, paging and the change journal.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

const VISITS: &str = "/api/v1/mentoring-visits";

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

async fn person(app: &TestApp, token: &str, name: &str) -> Value {
    app.create(
        "/api/v1/people",
        token,
        &json!({"name": name, "territory": "CL-09105"}),
    )
    .await
}

fn visit(school: &Value, mentor: &Value, mentee: &Value, on: &str) -> Value {
    json!({
        "school_id": id(school),
        "mentor_person_id": id(mentor),
        "mentee_person_id": id(mentee),
        "mentee_role": "director",
        "visited_on": on,
        "focus": "Acompañamiento al aula",
    })
}

#[actix_web::test]
async fn a_visit_is_recorded_with_agreements_that_keep_their_ids() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let escuela = school(&app, &token, "Escuela Lircay").await;
        let mentora = person(&app, &token, "Carmen Mentora").await;
        let directora = person(&app, &token, "Ana Directora").await;
        let mut body = visit(&escuela, &mentora, &directora, "2024-04-26");
        body["observations"] = json!("  Aplican la pauta de observación. ");
        body["agreements"] = json!([
            {"description": "Observar dos clases con la pauta", "due_on": "2024-05-10"},
            {"description": "Compartir la pauta con el equipo", "status": "done"},
        ]);
        body["follow_up"] = json!("Revisar las observaciones");
        body["follow_up_on"] = json!("2024-05-24");
        let response = app.post(VISITS, &token, &body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        assert_eq!(location, format!("{VISITS}/{}", id(&created)));
        assert_eq!(created["observations"], "Aplican la pauta de observación.");
        assert_eq!(created["mentor_person_id"], mentora["id"]);
        assert_eq!(created["mentee_person_id"], directora["id"]);
        assert_eq!(created["agreements"][0]["status"], "open");
        assert_eq!(created["agreements"][1]["status"], "done");
        // People by id only: no names in the visit.
        assert!(!created.to_string().contains("Carmen"), "{created}");
        assert!(!created.to_string().contains("Ana Directora"), "{created}");
        assert_eq!(app.read(&location, &token).await, created);

        // PUT keeps the agreement given back with its id; a stale ETag is refused.
        let kept = created["agreements"][0]["id"].clone();
        let mut replacement = body.clone();
        replacement["agreements"] =
            json!([{"id": kept, "description": "Observar dos clases", "status": "done"}]);
        replacement["mentee_role"] = json!("teacher");
        let stale = app
            .send(
                Method::PUT,
                &location,
                &token,
                Some(&replacement),
                &[("if-match", "\"2\"")],
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
        assert_eq!(replaced["agreements"].as_array().unwrap().len(), 1);
        assert_eq!(replaced["agreements"][0]["id"], kept);
        assert_eq!(replaced["mentee_role"], "teacher");

        // PATCH merges; a follow-up date before the visit is a conflict with its state.
        let patched = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"follow_up_on": "2024-05-31", "observations": null})),
                &[],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["follow_up_on"], "2024-05-31");
        assert_eq!(patched["observations"], Value::Null);
        assert_eq!(patched["agreements"], replaced["agreements"]);
        let early = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"visited_on": "2024-06-01"})),
                &[],
            )
            .await;
        let problem = assert_problem(early, 409).await;
        assert_eq!(issues(&problem), vec!["/follow_up_on not_after"]);

        // The people named cannot be deleted under the visit.
        let person_url = format!("/api/v1/people/{}", id(&mentora));
        let refused = app
            .send(Method::DELETE, &person_url, &token, None, &[])
            .await;
        assert_problem(refused, 409).await;

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
        let journal = app
            .read("/api/v1/changes?resource=mentoring_visit", &token)
            .await;
        let operations: Vec<&str> = journal["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["id"], created["id"]);
                e["operation"].as_str().unwrap()
            })
            .collect();
        assert_eq!(operations, ["created", "updated", "updated", "deleted"]);
        let deleted_person = app
            .send(Method::DELETE, &person_url, &token, None, &[])
            .await;
        assert_eq!(deleted_person.status(), 204);
    }
}

#[actix_web::test]
async fn a_visit_names_two_different_people_the_caller_may_refer_to() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let national = app.token(ALL_SCOPES, &["CL"]);
        let escuela = school(&app, &token, "Escuela Lircay").await;
        let mentora = person(&app, &token, "Carmen").await;
        let santiago = app
            .create(
                "/api/v1/people",
                &national,
                &json!({"name": "Pedro", "territory": "CL-13101"}),
            )
            .await;

        let same = visit(&escuela, &mentora, &mentora, "2024-04-26");
        let problem = assert_problem(app.post(VISITS, &token, &same).await, 422).await;
        assert_eq!(issues(&problem), vec!["/mentee_person_id duplicate"]);
        let mut early = visit(&escuela, &mentora, &santiago, "2024-04-26");
        early["follow_up_on"] = json!("2024-04-26");
        let problem = assert_problem(app.post(VISITS, &token, &early).await, 422).await;
        assert_eq!(
            issues(&problem),
            vec![
                "/follow_up_on not_after",
                "/mentee_person_id unknown_reference"
            ]
        );
        // A person of another region is, to this caller, one that does not exist.
        let foreign = visit(&escuela, &mentora, &santiago, "2024-04-26");
        let problem = assert_problem(app.post(VISITS, &token, &foreign).await, 409).await;
        assert_eq!(
            issues(&problem),
            vec!["/mentee_person_id unknown_reference"]
        );
        let mut bad = visit(&escuela, &mentora, &santiago, "2024-13-01");
        bad["mentee_role"] = json!("student");
        let problem = assert_problem(app.post(VISITS, &token, &bad).await, 422).await;
        assert_eq!(
            issues(&problem),
            vec!["/mentee_role invalid_value", "/visited_on invalid_format"]
        );
    }
}

#[actix_web::test]
async fn visits_are_scoped_filtered_by_date_and_paged() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        let lircay = school(&app, &token, "Escuela Lircay").await;
        let nahuel = school(&app, &token, "Escuela Nahuelbuta").await;
        let carmen = person(&app, &token, "Carmen").await;
        let ana = person(&app, &token, "Ana").await;
        let luis = person(&app, &token, "Luis").await;
        // Created out of date order: the list is by day.
        let may = app
            .create(VISITS, &token, &visit(&lircay, &carmen, &ana, "2024-05-10"))
            .await;
        let april = app
            .create(
                VISITS,
                &token,
                &visit(&lircay, &carmen, &luis, "2024-04-12"),
            )
            .await;
        let june = app
            .create(VISITS, &token, &visit(&nahuel, &ana, &luis, "2024-06-03"))
            .await;
        let ids =
            |items: Vec<Value>| -> Vec<String> { items.iter().map(|v| id(v).to_owned()).collect() };
        let all = app.read_all(&format!("{VISITS}?limit=1"), &token).await;
        assert_eq!(ids(all), [id(&april), id(&may), id(&june)]);
        for (query, expected) in [
            (
                format!("school_id={}", id(&lircay)),
                vec![id(&april), id(&may)],
            ),
            (
                format!("mentor_person_id={}", id(&carmen)),
                vec![id(&april), id(&may)],
            ),
            (
                format!("mentee_person_id={}", id(&luis)),
                vec![id(&april), id(&june)],
            ),
            ("from=2024-05-01".to_owned(), vec![id(&may), id(&june)]),
            ("to=2024-05-10".to_owned(), vec![id(&april), id(&may)]),
            ("from=2024-05-01&to=2024-05-31".to_owned(), vec![id(&may)]),
        ] {
            let items = app.read_all(&format!("{VISITS}?{query}"), &token).await;
            assert_eq!(ids(items), expected, "{query}");
        }
        assert_problem(
            app.get(&format!("{VISITS}?from=mayo"), Some(&token)).await,
            400,
        )
        .await;

        // Another region sees none and can touch none.
        assert_eq!(app.read(VISITS, &stranger).await["items"], json!([]));
        let url = format!("{VISITS}/{}", id(&may));
        assert_problem(app.get(&url, Some(&stranger)).await, 404).await;
        let patch = app
            .send(
                Method::PATCH,
                &url,
                &stranger,
                Some(&json!({"focus": "Otro"})),
                &[],
            )
            .await;
        assert_problem(patch, 404).await;
        assert_problem(
            app.send(Method::DELETE, &url, &stranger, None, &[]).await,
            404,
        )
        .await;

        // The school's visits go with it.
        let school_url = format!("/api/v1/schools/{}", id(&nahuel));
        assert_eq!(
            app.send(Method::DELETE, &school_url, &token, None, &[])
                .await
                .status(),
            204
        );
        assert_problem(
            app.get(&format!("{VISITS}/{}", id(&june)), Some(&token))
                .await,
            404,
        )
        .await;
        let journal = app
            .read("/api/v1/changes?resource=mentoring_visit", &token)
            .await;
        let last = journal["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["id"].clone(), last["operation"].clone()),
            (june["id"].clone(), json!("deleted"))
        );
    }
}
