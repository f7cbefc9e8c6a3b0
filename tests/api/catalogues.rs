//! The management catalogues: versioned data read by everyone, extended by national
//! administrators.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, backends, issues};

fn names(catalogue: &Value, level: &str) -> Vec<String> {
    catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["level"] == level)
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_catalogues_are_versioned_data_that_national_administrators_extend() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let reader = app.token(&["plans:read"], &["CL-09"]);
        let all = app.read("/api/v1/catalogues", &reader).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 4);
        assert_eq!(all["next_cursor"], Value::Null);

        // Chile's model in two versions: Convivencia Escolar became Formación y Convivencia.
        let models = app
            .read(
                "/api/v1/catalogues?kind=management_model&country=CL",
                &reader,
            )
            .await;
        let models = models["items"].as_array().unwrap();
        let versions: Vec<&str> = models
            .iter()
            .map(|c| c["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, vec!["2014", "2020"]);
        assert!(names(&models[0], "dimension").contains(&"Convivencia Escolar".to_owned()));
        assert!(names(&models[1], "dimension").contains(&"Formación y Convivencia".to_owned()));
        for model in models {
            assert_eq!(names(model, "dimension").len(), 4);
            assert_eq!(names(model, "subdimension").len(), 12);
            assert_eq!(names(model, "area"), vec!["Área de Resultados"]);
            // Every subdimension hangs from a dimension listed before it.
            let items = model["items"].as_array().unwrap();
            for (index, item) in items.iter().enumerate() {
                if item["level"] == "subdimension" {
                    let parent = items[..index]
                        .iter()
                        .find(|p| p["id"] == item["parent_id"])
                        .unwrap();
                    assert_eq!(parent["level"], "dimension");
                }
            }
        }

        // The six planes normativos with their legal basis; Colombia's four áreas.
        let planes = app
            .read("/api/v1/catalogues?kind=planes_normativos", &reader)
            .await;
        let planes = &planes["items"][0];
        assert_eq!(names(planes, "plan").len(), 6);
        let convivencia = planes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "CONVIVENCIA")
            .unwrap();
        assert!(
            convivencia["legal_basis"]
                .as_str()
                .unwrap()
                .contains("20.536")
        );
        let colombia = app.read("/api/v1/catalogues?country=CO", &reader).await;
        assert_eq!(
            names(&colombia["items"][0], "area"),
            vec![
                "Gestión directiva",
                "Gestión académica",
                "Gestión administrativa y financiera",
                "Gestión de la comunidad"
            ]
        );
        let id = planes["id"].as_str().unwrap();
        assert_eq!(
            app.read(&format!("/api/v1/catalogues/{id}"), &reader).await,
            *planes
        );

        // Only a national administrator of the catalogue's country adds items.
        let items = format!("/api/v1/catalogues/{id}/items");
        let body = json!({"code": "PLAN-LECTOR", "name": "Plan lector comunal", "level": "plan"});
        let regional = app.token(&["catalogues:admin"], &["CL-09"]);
        assert_problem(app.post(&items, &regional, &body).await, 403).await;
        let colombian = app.token(&["catalogues:admin"], &["CO"]);
        assert_problem(app.post(&items, &colombian, &body).await, 403).await;
        assert_problem(app.post(&items, &reader, &body).await, 403).await;
        let admin = app.token(&["catalogues:admin", "plans:read", "changes:read"], &["CL"]);
        let response = app.post(&items, &admin, &body).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let added: Value = response.json().await.unwrap();
        assert_eq!(added["builtin"], false);
        assert_eq!(app.read(&location, &reader).await, added);
        let listed = app.read(&format!("/api/v1/catalogues/{id}"), &reader).await;
        assert_eq!(
            listed["items"].as_array().unwrap().last().unwrap()["id"],
            added["id"]
        );

        // A taken code, an unknown parent, a bad code.
        let problem = assert_problem(app.post(&items, &admin, &body).await, 409).await;
        assert_eq!(issues(&problem), vec!["/code taken"]);
        let orphan = json!({"code": "X", "name": "X", "level": "plan",
                            "parent_id": "00000000-0000-4000-8000-000000000000"});
        assert_problem(app.post(&items, &admin, &orphan).await, 409).await;
        let lower = json!({"code": "plan lector", "name": "X", "level": "plan"});
        let problem = assert_problem(app.post(&items, &admin, &lower).await, 422).await;
        assert_eq!(issues(&problem), vec!["/code invalid_format"]);

        // Built-in items stay; added ones go, in the change feed.
        let builtin = format!("{items}/{}", convivencia["id"].as_str().unwrap());
        let refused = app.send(Method::DELETE, &builtin, &admin, None, &[]).await;
        assert_problem(refused, 409).await;
        let deleted = app.send(Method::DELETE, &location, &admin, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        assert_problem(app.get(&location, Some(&reader)).await, 404).await;
        let feed = app
            .read("/api/v1/changes?resource=catalogue_item", &admin)
            .await;
        let operations: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["operation"].as_str().unwrap())
            .collect();
        assert_eq!(operations, vec!["created", "deleted"]);
    }
}
