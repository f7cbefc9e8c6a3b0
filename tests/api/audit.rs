//! The audit log: every write with its principal, request and changed fields, personal data
//! masked, filterable, scoped by territory.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends};

fn school(name: &str, rbd: u32, territory: &str) -> Value {
    json!({"name": name, "country": "CL", "territory": territory, "rbd": rbd,
           "dependency": "municipal_daem"})
}

async fn audit(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    app.read_all(&format!("/api/v1/audit?{query}"), token).await
}

#[actix_web::test]
async fn a_school_created_updated_and_deleted_leaves_three_entries() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token_for("ana@mineduc.cl", ALL_SCOPES, &["CL"]);
        let created = app
            .send(
                Method::POST,
                "/api/v1/schools",
                &token,
                Some(&school("Escuela Básica", 5575, "CL-09105")),
                &[("X-Request-Id", "req-create-1")],
            )
            .await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/schools/{id}");
        let patched = app
            .send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"name": "Escuela Los Aromos", "rural": true})),
                &[("X-Request-Id", "req-patch-1")],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let deleted = app
            .send(
                Method::DELETE,
                &path,
                &token,
                None,
                &[("X-Request-Id", "req-delete-1")],
            )
            .await;
        assert_eq!(deleted.status(), 204);

        let entries = audit(&app, &token, &format!("resource=school&resource_id={id}")).await;
        assert_eq!(entries.len(), 3, "{entries:#?}");
        // Newest first.
        let (deletion, update, creation) = (&entries[0], &entries[1], &entries[2]);
        assert!(deletion["seq"].as_i64() > update["seq"].as_i64());
        for (entry, operation, request) in [
            (creation, "created", "req-create-1"),
            (update, "updated", "req-patch-1"),
            (deletion, "deleted", "req-delete-1"),
        ] {
            assert_eq!(entry["operation"], operation);
            assert_eq!(entry["request_id"], request);
            assert_eq!(entry["principal"], "ana@mineduc.cl");
            assert_eq!(entry["client_id"], Value::Null);
            assert_eq!(entry["resource"], "school");
            assert_eq!(entry["resource_id"], id.as_str());
            assert!(entry["at"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(
            creation["changes"]["name"],
            json!({"after": "Escuela Básica"})
        );
        assert_eq!(creation["changes"]["rbd"], json!({"after": 5575}));
        assert_eq!(
            update["changes"],
            json!({
                "name": {"before": "Escuela Básica", "after": "Escuela Los Aromos"},
                "rural": {"before": null, "after": true},
                "version": {"before": 1, "after": 2},
            })
        );
        assert_eq!(
            deletion["changes"]["name"],
            json!({"before": "Escuela Los Aromos"})
        );
        assert!(deletion["changes"]["name"].get("after").is_none());
    }
}

#[actix_web::test]
async fn personal_data_is_masked() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let person = app
            .create(
                "/api/v1/people",
                &token,
                &json!({"name": "María González", "email": "maria@example.cl",
                        "territory": "CL-09105"}),
            )
            .await;
        let id = person["id"].as_str().unwrap();
        let patched = app
            .send(
                Method::PATCH,
                &format!("/api/v1/people/{id}"),
                &token,
                Some(&json!({"name": "María José González"})),
                &[],
            )
            .await;
        assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
        let entries = audit(&app, &token, "resource=person").await;
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0]["changes"],
            json!({"name": {"before": "***", "after": "***"},
                   "version": {"before": 1, "after": 2}})
        );
        assert_eq!(entries[1]["changes"]["name"], json!({"after": "***"}));
        assert_eq!(entries[1]["changes"]["email"], json!({"after": "***"}));
        assert_eq!(entries[1]["changes"]["phone"], json!({"after": null}));
        let text = serde_json::to_string(&entries).unwrap();
        assert!(!text.contains("María"), "{text}");
        assert!(!text.contains("maria@"), "{text}");
    }
}

#[actix_web::test]
async fn filters_narrow_the_log() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ana = app.token_for("ana", ALL_SCOPES, &["CL"]);
        let beto = app.token_for("beto", ALL_SCOPES, &["CL"]);
        let before = chrono::Utc::now() - chrono::Duration::seconds(1);
        let liceo = app
            .create("/api/v1/schools", &ana, &school("Liceo", 5575, "CL-09105"))
            .await;
        app.create(
            "/api/v1/schools",
            &beto,
            &school("Escuela", 5576, "CL-09105"),
        )
        .await;
        let id = liceo["id"].as_str().unwrap();
        let deleted = app
            .send(
                Method::DELETE,
                &format!("/api/v1/schools/{id}"),
                &beto,
                None,
                &[],
            )
            .await;
        assert_eq!(deleted.status(), 204);

        assert_eq!(audit(&app, &ana, "principal=ana").await.len(), 1);
        assert_eq!(audit(&app, &ana, "principal=beto").await.len(), 2);
        assert_eq!(audit(&app, &ana, "operation=deleted").await.len(), 1);
        assert_eq!(
            audit(&app, &ana, &format!("resource_id={id}")).await.len(),
            2
        );
        assert_eq!(audit(&app, &ana, "resource=network").await.len(), 0);
        let since = before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let since = since.replace('+', "%2B");
        assert_eq!(audit(&app, &ana, &format!("since={since}")).await.len(), 3);
        assert_eq!(audit(&app, &ana, &format!("until={since}")).await.len(), 0);
        // Pages of one follow each other, newest first.
        let all = audit(&app, &ana, "limit=1").await;
        assert_eq!(all.len(), 3);
        assert!(all[0]["seq"].as_i64() > all[2]["seq"].as_i64());

        let bad = app
            .get(
                "/api/v1/audit?since=yesterday&operation=renamed&cursor=zz",
                Some(&ana),
            )
            .await;
        let problem = assert_problem(bad, 400).await;
        assert_eq!(
            crate::helpers::issues(&problem),
            [
                "cursor invalid_cursor",
                "operation invalid_choice",
                "since invalid_format"
            ],
            "{problem}"
        );
        // Another list's cursor reads as "from the start", as in every list.
        let territories = app
            .read("/api/v1/territories?limit=1", &app.reader_token())
            .await;
        let foreign = territories["next_cursor"].as_str().unwrap();
        let page = app
            .read(&format!("/api/v1/audit?cursor={foreign}"), &ana)
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        // Sent empty is not absent.
        let empty = assert_problem(app.get("/api/v1/audit?until=", Some(&ana)).await, 400).await;
        assert_eq!(crate::helpers::issues(&empty), ["until invalid_format"]);
    }
}

#[actix_web::test]
async fn the_log_is_scoped_by_territory_and_needs_its_scope() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let national = app.token(ALL_SCOPES, &["CL"]);
        app.create(
            "/api/v1/schools",
            &national,
            &school("Liceo", 5575, "CL-09105"),
        )
        .await;
        // Araucanía (CL-09) sees it; Metropolitana (CL-13) does not.
        let araucania = app.token(&["audit:read"], &["CL-09"]);
        assert_eq!(audit(&app, &araucania, "").await.len(), 1);
        let santiago = app.token(&["audit:read"], &["CL-13"]);
        assert_eq!(audit(&app, &santiago, "").await.len(), 0);

        let without = app.token(&["schools:read", "changes:read"], &["CL"]);
        let refused = app.get("/api/v1/audit", Some(&without)).await;
        assert_problem(refused, 403).await;
        let anonymous = app.get("/api/v1/audit", None).await;
        assert_problem(anonymous, 401).await;
    }
}

#[actix_web::test]
async fn definitions_outside_the_territory_tree_are_audited_for_whole_countries() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ministry = app.token_for("men", ALL_SCOPES, &["CO"]);
        let body = json!({
            "code": "CO_JORNADA_UNICA",
            "name_es": "Matrícula en jornada única",
            "name_en": "Enrolment in full-day schooling",
            "unit": "percent", "value_type": "number",
            "aggregation_territory": "ratio", "aggregation_time": "last",
            "disaggregations": [], "periodicity": "yearly", "country": "CO",
        });
        let created = app.create("/api/v1/indicators", &ministry, &body).await;
        let deleted = app
            .send(
                Method::DELETE,
                "/api/v1/indicators/CO_JORNADA_UNICA",
                &ministry,
                None,
                &[],
            )
            .await;
        assert_eq!(deleted.status(), 204);
        let entries = audit(&app, &ministry, "resource=indicator").await;
        assert_eq!(entries.len(), 2, "{entries:#?}");
        assert_eq!(entries[0]["operation"], "deleted");
        assert_eq!(entries[1]["operation"], "created");
        assert_eq!(entries[1]["resource_id"], created["id"]);
        assert_eq!(entries[1]["principal"], "men");
        assert_eq!(
            entries[1]["changes"]["code"],
            json!({"after": "CO_JORNADA_UNICA"})
        );
        // A Secretaría (not the whole country) does not see them.
        let secretaria = app.token(&["audit:read"], &["CO-05"]);
        assert!(audit(&app, &secretaria, "").await.is_empty());
    }
}

#[actix_web::test]
async fn an_import_jobs_writes_are_the_requesters() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token_for(
            "importer",
            &["indicators:import", "indicators:read", "audit:read"],
            &["CO"],
        );
        let body = json!({"values": [{"indicator": "CO_COBERTURA_NETA", "org_unit": "05001",
                                      "period": "2017", "value": 87.5}]});
        let response = app
            .send(
                Method::POST,
                "/api/v1/indicator-values:import",
                &token,
                Some(&body),
                &[
                    ("prefer", "respond-async"),
                    ("X-Request-Id", "import-job-1"),
                ],
            )
            .await;
        assert_eq!(response.status(), 202);
        let job: Value = response.json().await.unwrap();
        let status = format!("/api/v1/import-jobs/{}", job["id"].as_str().unwrap());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let job = app.read(&status, &token).await;
            if job["status"] == "succeeded" {
                break;
            }
            assert_ne!(job["status"], "failed", "{job}");
            assert!(std::time::Instant::now() < deadline, "{job}");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let entries = audit(&app, &token, "resource=indicator_value").await;
        assert_eq!(entries.len(), 1, "{entries:#?}");
        assert_eq!(entries[0]["principal"], "importer");
        assert_eq!(entries[0]["request_id"], "import-job-1");
        assert_eq!(entries[0]["changes"]["value"], json!({"after": 87.5}));
    }
}
