//! A school's PEI: revisions as history, sellos that keep their ids.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

#[actix_web::test]
async fn a_pei_keeps_its_history_and_its_sellos_keep_their_ids() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-03"]);
        let school = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Liceo Politécnico de Vallenar", "country": "CL",
                        "territory": "CL-03301", "dependency": "municipal_daem"}),
            )
            .await;
        let pei = format!("/api/v1/schools/{}/pei", school["id"].as_str().unwrap());
        assert_problem(app.get(&pei, Some(&token)).await, 404).await;
        let history = app.read(&format!("{pei}/history"), &token).await;
        assert_eq!(history["items"], json!([]));
        // A PATCH needs a PEI to change.
        let patch = json!({"vision": "Otra"});
        let response = app
            .send(Method::PATCH, &pei, &token, Some(&patch), &[])
            .await;
        assert_problem(response, 404).await;

        let first = json!({
            "period_from": 2019, "period_to": 2023,
            "vision": " Ser un liceo técnico profesional reconocido ",
            "sellos": [{"name": "Formación técnico profesional de excelencia"},
                       {"name": "Inclusión", "description": "Todos aprenden"}],
            "values": ["Respeto", " "],
            "profiles": {"estudiante": "Autónomo y responsable"},
        });
        let response = app.send(Method::PUT, &pei, &token, Some(&first), &[]).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let one: Value = response.json().await.unwrap();
        assert_eq!(one["revision"], 1);
        assert_eq!(one["vision"], "Ser un liceo técnico profesional reconocido");
        assert_eq!(one["values"], json!(["Respeto"]));
        assert_eq!(one["principles"], json!([]));
        let excellence = one["sellos"][0]["id"].clone();

        // A second revision keeps the first sello and drops the second.
        let second = json!({
            "period_from": 2019, "period_to": 2023,
            "sellos": [{"id": excellence, "name": "Formación TP de excelencia"},
                       {"name": "Vinculación con el territorio"}],
        });
        let response = app
            .send(
                Method::PUT,
                &pei,
                &token,
                Some(&second),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(response.status(), 200);
        let two: Value = response.json().await.unwrap();
        assert_eq!(two["revision"], 2);
        assert_eq!(two["sellos"][0]["id"], excellence);
        assert_eq!(two["sellos"][0]["name"], "Formación TP de excelencia");
        assert_ne!(two["sellos"][1]["id"], one["sellos"][1]["id"]);
        assert_eq!(app.read(&pei, &token).await, two);

        // PATCH writes the next revision; a stale If-Match is 412.
        let patch = json!({"values": ["Respeto", "Solidaridad"]});
        let stale = app
            .send(
                Method::PATCH,
                &pei,
                &token,
                Some(&patch),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_problem(stale, 412).await;
        let response = app
            .send(
                Method::PATCH,
                &pei,
                &token,
                Some(&patch),
                &[("if-match", "\"2\"")],
            )
            .await;
        assert_eq!(response.status(), 200);
        let three: Value = response.json().await.unwrap();
        assert_eq!(three["revision"], 3);
        assert_eq!(three["sellos"], two["sellos"]);

        // The history, newest first, paged.
        let history = app
            .read_all(&format!("{pei}/history?limit=2"), &token)
            .await;
        let revisions: Vec<i64> = history
            .iter()
            .map(|r| r["revision"].as_i64().unwrap())
            .collect();
        assert_eq!(revisions, vec![3, 2, 1]);
        assert_eq!(history[2], one);

        // Bad bodies: a period that ends before it starts, a sello of no one, an unknown actor.
        let backwards = json!({"period_from": 2023, "period_to": 2019});
        let problem = assert_problem(
            app.send(Method::PUT, &pei, &token, Some(&backwards), &[])
                .await,
            422,
        )
        .await;
        assert_eq!(issues(&problem), vec!["/period_to not_after"]);
        let foreign = json!({"period_from": 2019, "period_to": 2023,
                             "sellos": [{"id": "00000000-0000-4000-8000-000000000000", "name": "X"}]});
        let problem = assert_problem(
            app.send(Method::PUT, &pei, &token, Some(&foreign), &[])
                .await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), vec!["/sellos/0/id unknown_reference"]);
        let actor = json!({"period_from": 2019, "period_to": 2023, "profiles": {"alcalde": "X"}});
        assert_problem(
            app.send(Method::PUT, &pei, &token, Some(&actor), &[]).await,
            422,
        )
        .await;

        // Another region does not see it; reading is not writing.
        let stranger = app.token(ALL_SCOPES, &["CL-13"]);
        assert_problem(app.get(&pei, Some(&stranger)).await, 404).await;
        let reader = app.token(&["plans:read"], &["CL-03"]);
        assert_eq!(app.read(&pei, &reader).await, three);
        let refused = app
            .send(Method::PUT, &pei, &reader, Some(&first), &[])
            .await;
        assert_problem(refused, 403).await;

        // The feed tells integrators the PEI changed; it goes with its school.
        let school_path = format!("/api/v1/schools/{}", school["id"].as_str().unwrap());
        let deleted = app
            .send(Method::DELETE, &school_path, &token, None, &[])
            .await;
        assert_eq!(deleted.status(), 204);
        let feed = app.read("/api/v1/changes?resource=pei", &token).await;
        let operations: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["operation"].as_str().unwrap())
            .collect();
        assert_eq!(operations, vec!["created", "updated", "updated", "deleted"]);
        assert!(
            feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["id"] == school["id"])
        );
    }
}
