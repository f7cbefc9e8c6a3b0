//! Organisations: CRUD, validation, filters, references and uniqueness.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

fn daem_freire() -> Value {
    json!({"name": "DAEM de Freire", "kind": "daem", "territory": "CL-09105", "rut": "69.190.700-7"})
}

#[actix_web::test]
async fn an_organization_is_created_read_replaced_patched_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let response = app
            .post("/api/v1/organizations", &token, &daem_freire())
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        assert_eq!(location, format!("/api/v1/organizations/{id}"));
        assert_eq!(created["name"], "DAEM de Freire");
        assert_eq!(created["kind"], "daem");
        assert_eq!(created["country"], "CL");
        assert_eq!(created["territory"], "CL-09105");
        assert_eq!(
            created["rut"], "69190700-7",
            "the RUT is stored in canonical form"
        );
        assert_eq!(created["etc_code"], Value::Null);

        let read = app.get(&location, Some(&token)).await;
        assert_eq!(read.headers()["etag"], "\"1\"");
        assert_eq!(read.json::<Value>().await.unwrap(), created);

        let mut replacement = daem_freire();
        replacement["name"] = json!("Departamento de Educación Municipal de Freire");
        let replaced = app
            .send(Method::PUT, &location, &token, Some(&replacement), &[])
            .await;
        assert_eq!(replaced.status(), 200);
        assert_eq!(replaced.headers()["etag"], "\"2\"");
        let replaced: Value = replaced.json().await.unwrap();
        assert_eq!(
            replaced["name"],
            "Departamento de Educación Municipal de Freire"
        );
        assert_eq!(replaced["created_at"], created["created_at"]);

        let patched = app
            .send(
                Method::PATCH,
                &location,
                &token,
                Some(&json!({"rut": null})),
                &[],
            )
            .await;
        assert_eq!(patched.status(), 200);
        assert_eq!(patched.headers()["etag"], "\"3\"");
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["rut"], Value::Null);
        assert_eq!(
            patched["name"], replaced["name"],
            "a patch keeps what it does not name"
        );

        let deleted = app.send(Method::DELETE, &location, &token, None, &[]).await;
        assert_eq!(deleted.status(), 204);
        assert_problem(app.get(&location, Some(&token)).await, 404).await;
        let again = app.send(Method::DELETE, &location, &token, None, &[]).await;
        assert_problem(again, 404).await;
    }
}

#[actix_web::test]
async fn every_problem_of_a_body_is_reported_with_its_pointer() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL", "CO"]);
        let response = app
            .post(
                "/api/v1/organizations",
                &token,
                &json!({"name": "  ", "kind": "colegio", "territory": 5, "rut": "123", "extra": 1}),
            )
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["type"], "urn:redes:problem:validation-failed");
        assert_eq!(
            issues(&problem),
            vec![
                "/extra unknown_field",
                "/kind invalid_value",
                "/name invalid_format",
                "/rut invalid_format",
                "/territory invalid_value",
            ]
        );
        let kind_message = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["pointer"] == "/kind")
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            kind_message.contains("daem") && kind_message.contains("ministry"),
            "{kind_message}"
        );

        // The level a kind needs is in the documented schema for keys, and checked in the
        // catalogue for ids.
        let region_id = app.get_json("/api/v1/territories/CL-09").await["id"].clone();
        for (body, status, expected) in [
            (
                json!({"name": "DAEM", "kind": "daem", "territory": "CL-09"}),
                422,
                vec!["/territory invalid_format"],
            ),
            (
                json!({"name": "DAEM", "kind": "daem", "territory": region_id}),
                422,
                vec!["/territory wrong_territory_level"],
            ),
            (
                json!({"name": "SED", "kind": "secretaria", "territory": "CL-09105"}),
                422,
                vec!["/territory invalid_format"],
            ),
            (
                json!({"name": "DAEM", "kind": "daem", "territory": "CL-99999"}),
                409,
                vec!["/territory unknown_territory"],
            ),
            (
                json!({"name": "DAEM", "kind": "daem", "territory": "CL-09105", "etc_code": "12"}),
                422,
                vec!["/etc_code not_applicable"],
            ),
            (
                json!({"name": "SED", "kind": "secretaria", "territory": "CO-05001",
                       "rut": "69190700-7"}),
                422,
                vec!["/rut not_applicable"],
            ),
            (
                json!({"name": "SED Antioquia", "kind": "secretaria", "territory": "CO-05",
                       "secretaria_level": "municipal"}),
                422,
                vec!["/territory invalid_format"],
            ),
            (
                json!({}),
                422,
                vec!["/kind required", "/name required", "/territory required"],
            ),
            (json!([1, 2]), 422, vec!["invalid_value"]),
        ] {
            let response = app.post("/api/v1/organizations", &token, &body).await;
            let problem = assert_problem(response, status).await;
            let expected: Vec<String> = expected.into_iter().map(|e| e.trim().to_owned()).collect();
            let found: Vec<String> = issues(&problem)
                .into_iter()
                .map(|e| e.trim().to_owned())
                .collect();
            assert_eq!(found, expected, "{body}");
        }

        // A RUT whose check digit does not match is kept, with a warning.
        let odd = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "DAEM", "kind": "daem", "territory": "CL-09105", "rut": "69190700-8"}),
            )
            .await;
        assert_eq!(odd["rut"], "69190700-8");
        assert_eq!(odd["warnings"][0]["code"], "rut_check_digit_mismatch");
        assert!(
            odd["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains('7')
        );
    }
}

#[actix_web::test]
async fn organizations_are_filtered_and_paged() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL", "CO"]);
        for body in [
            daem_freire(),
            json!({"name": "DEPROV Cautín", "kind": "deprov", "territory": "CL-091"}),
            json!({"name": "SLEP Andalién Sur", "kind": "slep", "territory": "CL-08"}),
            json!({"name": "Ministerio de Educación", "kind": "ministry", "territory": "CL"}),
            json!({"name": "Secretaría de Educación de Medellín", "kind": "secretaria",
                   "territory": "CO-05001", "etc_code": "3763", "secretaria_level": "municipal"}),
            json!({"name": "Secretaría de Educación de Antioquia", "kind": "secretaria",
                   "territory": "CO-05", "secretaria_level": "departamental"}),
        ] {
            app.create("/api/v1/organizations", &token, &body).await;
        }
        let names = |items: Vec<Value>| -> Vec<String> {
            items
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let all = app.read_all("/api/v1/organizations?limit=2", &token).await;
        assert_eq!(all.len(), 6);
        assert_eq!(
            names(all),
            vec![
                "DAEM de Freire",
                "DEPROV Cautín",
                "Ministerio de Educación",
                "Secretaría de Educación de Antioquia",
                "Secretaría de Educación de Medellín",
                "SLEP Andalién Sur",
            ],
            "by name, ignoring case and accents"
        );
        let araucania = app
            .read_all("/api/v1/organizations?territory=CL-09", &token)
            .await;
        assert_eq!(names(araucania), vec!["DAEM de Freire", "DEPROV Cautín"]);
        let colombia = app
            .read_all("/api/v1/organizations?country=CO", &token)
            .await;
        assert_eq!(colombia.len(), 2);
        let kinds = app
            .read_all("/api/v1/organizations?kind=daem&kind=slep", &token)
            .await;
        assert_eq!(names(kinds), vec!["DAEM de Freire", "SLEP Andalién Sur"]);
        let search = app.read_all("/api/v1/organizations?q=CAUTIN", &token).await;
        assert_eq!(names(search), vec!["DEPROV Cautín"]);

        let bad = app
            .get(
                "/api/v1/organizations?kind=colegio&cursor=bm90LWEtY3Vyc29y",
                Some(&token),
            )
            .await;
        let problem = assert_problem(bad, 400).await;
        assert_eq!(
            issues(&problem),
            vec!["cursor invalid_cursor", "kind invalid_choice"]
        );
    }
}

#[actix_web::test]
async fn unique_values_and_references_are_protected() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let daem = app
            .create("/api/v1/organizations", &token, &daem_freire())
            .await;
        let mut twin = daem_freire();
        twin["name"] = json!("Otro DAEM");
        let problem =
            assert_problem(app.post("/api/v1/organizations", &token, &twin).await, 409).await;
        assert_eq!(issues(&problem), vec!["/rut taken"]);

        let school = json!({"name": "Liceo de Freire", "country": "CL", "territory": "CL-09105",
            "rbd": 5575, "dependency": "municipal_daem", "sostenedor_id": daem["id"]});
        app.create("/api/v1/schools", &token, &school).await;
        let path = format!("/api/v1/organizations/{}", daem["id"].as_str().unwrap());
        let refused = app.send(Method::DELETE, &path, &token, None, &[]).await;
        let problem = assert_problem(refused, 409).await;
        assert_eq!(problem["type"], "urn:redes:problem:in-use");
        assert_eq!(
            app.get(&path, Some(&token)).await.status(),
            200,
            "still there"
        );
    }
}
