//! Indicator definitions (the built-in catalogue) and indicator values.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

#[actix_web::test]
async fn the_definitions_are_a_catalogue_read_by_code() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(&["indicators:read"], &["CO"]);
        let colombia = app.read_all("/api/v1/indicators?country=CO", &token).await;
        assert!(colombia.iter().all(|i| i["country"] == "CO"));
        let codes: Vec<&str> = colombia
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        for code in [
            "CO_TASA_MATRICULACION_5_16",
            "CO_COBERTURA_NETA",
            "CO_COBERTURA_BRUTA",
            "CO_DESERCION",
            "CO_APROBACION",
            "CO_REPROBACION",
            "CO_REPITENCIA",
        ] {
            assert!(codes.contains(&code), "{code} in {codes:?}");
        }
        let platform = app
            .read_all("/api/v1/indicators?country=none", &token)
            .await;
        assert!(!platform.is_empty());
        assert!(platform.iter().all(|i| i["country"] == Value::Null));

        let coverage = app
            .read("/api/v1/indicators/CO_COBERTURA_NETA", &token)
            .await;
        assert_eq!(coverage["unit"], "percent");
        assert_eq!(coverage["periodicity"], "yearly");
        assert_eq!(
            coverage["disaggregations"][0]["values"],
            json!(["transicion", "primaria", "secundaria", "media"])
        );
        let by_id = app
            .read(
                &format!("/api/v1/indicators/{}", coverage["id"].as_str().unwrap()),
                &token,
            )
            .await;
        assert_eq!(by_id, coverage);
        let english = app
            .send(
                Method::GET,
                "/api/v1/indicators/CO_COBERTURA_NETA",
                &token,
                None,
                &[("accept-language", "en")],
            )
            .await;
        let english: Value = english.json().await.unwrap();
        assert_eq!(english["name"], english["name_en"]);
        assert_problem(
            app.get("/api/v1/indicators/NO_SUCH_THING", Some(&token))
                .await,
            404,
        )
        .await;
        let problem = assert_problem(
            app.get("/api/v1/indicators?country=AR", Some(&token)).await,
            400,
        )
        .await;
        assert_eq!(issues(&problem), ["country invalid_choice"]);
    }
}

#[actix_web::test]
async fn values_are_checked_against_their_definition_and_scoped_by_territory() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let medellin = app.token(ALL_SCOPES, &["CO-05001"]);
        let body = json!({
            "indicator": "CO_COBERTURA_NETA", "org_unit": "CO-05001", "period": "2017",
            "disaggregation": {"level": "primaria"}, "value": 87.5, "source": " MEN ",
        });
        let response = app.post("/api/v1/indicator-values", &medellin, &body).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let value: Value = response.json().await.unwrap();
        assert_eq!(value["indicator"], "CO_COBERTURA_NETA");
        assert_eq!(value["org_unit"], "CO-05001");
        assert_eq!(value["org_unit_kind"], "territory");
        assert_eq!(value["org_unit_name"], "Medellín");
        assert_eq!(value["period_start"], "2017-01-01");
        assert_eq!(value["period_end"], "2017-12-31");
        assert_eq!(value["disaggregation"], json!({"level": "primaria"}));
        assert_eq!(value["value"], 87.5);
        assert_eq!(value["source"], "MEN");
        assert_eq!(app.read(&location, &medellin).await, value);

        // One value per indicator, org unit, period and disaggregation.
        let problem = assert_problem(
            app.post("/api/v1/indicator-values", &medellin, &body).await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), ["/period taken"]);
        let mut total = body.clone();
        total["disaggregation"] = json!({});
        total["value"] = json!(90.1);
        app.create("/api/v1/indicator-values", &medellin, &total)
            .await;

        // What the definition does not allow, all at once.
        let wrong = json!({
            "indicator": "CO_POBLACION_5_16", "org_unit": "CO-05001", "period": "2017Q1",
            "disaggregation": {"level": "primaria"}, "value": 10.5, "denominator": 0,
        });
        let problem = assert_problem(
            app.post("/api/v1/indicator-values", &medellin, &wrong)
                .await,
            422,
        )
        .await;
        assert_eq!(
            issues(&problem),
            [
                "/denominator invalid_value",
                "/disaggregation/level invalid_value",
                "/period invalid_format",
                "/value invalid_value",
            ]
        );
        let mut unknown = body.clone();
        unknown["indicator"] = json!("NO_SUCH_THING");
        let problem = assert_problem(
            app.post("/api/v1/indicator-values", &medellin, &unknown)
                .await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), ["/indicator unknown_reference"]);
        // Another territory is not the caller's to write.
        let mut bogota = body.clone();
        bogota["org_unit"] = json!("CO-11001");
        assert_problem(
            app.post("/api/v1/indicator-values", &medellin, &bogota)
                .await,
            403,
        )
        .await;

        // Filters, each repeatable; a caller elsewhere sees none of it.
        let list = app
            .read(
                "/api/v1/indicator-values?indicator=CO_COBERTURA_NETA&org_unit=CO-05001&period=2017&period=2018",
                &medellin,
            )
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        let totals = app
            .read(
                "/api/v1/indicator-values?indicator=CO_COBERTURA_NETA&disaggregation=total",
                &medellin,
            )
            .await;
        assert_eq!(totals["items"].as_array().unwrap().len(), 1);
        assert_eq!(totals["items"][0]["value"], 90.1);
        let none = app
            .read(
                "/api/v1/indicator-values?indicator=NO_SUCH_THING",
                &medellin,
            )
            .await;
        assert_eq!(none["items"], json!([]));
        let problem = assert_problem(
            app.get("/api/v1/indicator-values?period=2017Q5", Some(&medellin))
                .await,
            400,
        )
        .await;
        assert_eq!(issues(&problem), ["period invalid_format"]);
        let stranger = app.token(ALL_SCOPES, &["CO-11001"]);
        let theirs = app.read("/api/v1/indicator-values", &stranger).await;
        assert_eq!(theirs["items"], json!([]));
        assert_problem(app.get(&location, Some(&stranger)).await, 404).await;

        // PUT changes the figures, not what the value is of.
        let mut changed = body.clone();
        changed["value"] = json!(88.0);
        changed["numerator"] = json!(8800);
        changed["denominator"] = json!(10000);
        let response = app
            .send(
                Method::PUT,
                &location,
                &medellin,
                Some(&changed),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(response.status(), 200);
        let replaced: Value = response.json().await.unwrap();
        assert_eq!(replaced["version"], 2);
        assert_eq!(replaced["value"], 88.0);
        assert_eq!(replaced["numerator"], 8800.0);
        let mut moved = changed.clone();
        moved["period"] = json!("2018");
        let response = app
            .send(Method::PUT, &location, &medellin, Some(&moved), &[])
            .await;
        assert_problem(response, 409).await;
        let response = app
            .send(
                Method::DELETE,
                &location,
                &medellin,
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_problem(response, 412).await;
        let response = app
            .send(Method::DELETE, &location, &medellin, None, &[])
            .await;
        assert_eq!(response.status(), 204);
        assert_problem(app.get(&location, Some(&medellin)).await, 404).await;

        let feed = app
            .read(
                "/api/v1/changes?resource=indicator_value&limit=100",
                &medellin,
            )
            .await;
        let operations: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        assert_eq!(operations, ["created", "created", "updated", "deleted"]);
    }
}

#[actix_web::test]
async fn a_schools_value_follows_the_schools_territory() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let school = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Escuela Lircay", "country": "CL", "territory": "CL-09105",
                        "dependency": "municipal_daem"}),
            )
            .await;
        let id = school["id"].as_str().unwrap();
        let value = app
            .create(
                "/api/v1/indicator-values",
                &token,
                &json!({"indicator": "CL_ASISTENCIA_PROMEDIO", "org_unit": id,
                        "period": "2019-03", "value": 91.3}),
            )
            .await;
        assert_eq!(value["org_unit"], id);
        assert_eq!(value["org_unit_kind"], "school");
        assert_eq!(value["org_unit_name"], "Escuela Lircay");
        assert_eq!(value["period_end"], "2019-03-31");
        let listed = app
            .read(&format!("/api/v1/indicator-values?org_unit={id}"), &token)
            .await;
        assert_eq!(listed["items"][0]["id"], value["id"]);
        // A school with values cannot be deleted: they would name nothing.
        let response = app
            .send(
                Method::DELETE,
                &format!("/api/v1/schools/{id}"),
                &token,
                None,
                &[],
            )
            .await;
        assert_problem(response, 409).await;
        let elsewhere = app.token(ALL_SCOPES, &["CL-13"]);
        let problem = assert_problem(
            app.post(
                "/api/v1/indicator-values",
                &elsewhere,
                &json!({"indicator": "CL_ASISTENCIA_PROMEDIO", "org_unit": id,
                        "period": "2019-04", "value": 90.0}),
            )
            .await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), ["/org_unit unknown_reference"]);
    }
}

#[actix_web::test]
async fn a_countrys_principal_adds_a_definition_of_its_own_and_removes_it_while_unused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ministry = app.token(ALL_SCOPES, &["CO"]);
        let secretaria = app.token(ALL_SCOPES, &["CO-05"]);
        let body = json!({
            "code": "CO_JORNADA_UNICA",
            "name_es": " Matrícula en jornada única ",
            "name_en": "Enrolment in full-day schooling",
            "unit": "percent", "value_type": "number",
            "aggregation_territory": "ratio", "aggregation_time": "last",
            "disaggregations": [{"code": "level", "values": ["primaria", "secundaria"]}],
            "periodicity": "yearly", "source": "MEN", "country": "CO",
        });
        // A Secretaría's principal is not the whole country: 403.
        let problem = assert_problem(
            app.post("/api/v1/indicators", &secretaria, &body).await,
            403,
        )
        .await;
        assert_eq!(issues(&problem), ["/country foreign_territory"]);
        // Without the scope: 403 too.
        let reader = app.token(&["indicators:read", "indicators:write"], &["CO"]);
        assert_problem(app.post("/api/v1/indicators", &reader, &body).await, 403).await;

        let response = app.post("/api/v1/indicators", &ministry, &body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(
            response.headers()["location"],
            "/api/v1/indicators/CO_JORNADA_UNICA"
        );
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["name_es"], "Matrícula en jornada única");
        assert_eq!(created["builtin"], false);
        let read = app
            .read("/api/v1/indicators/CO_JORNADA_UNICA", &secretaria)
            .await;
        assert_eq!(read["id"], created["id"]);

        // The same code again: 409. Reserved prefix, unknown formula terms, bad categories: 422.
        let problem =
            assert_problem(app.post("/api/v1/indicators", &ministry, &body).await, 409).await;
        assert_eq!(issues(&problem), ["/code taken"]);
        let mut bad = body.clone();
        bad["code"] = json!("REDES_MIO");
        bad["formula"] =
            json!({"numerator": "NO_SUCH", "denominator": "CO_COBERTURA_NETA", "factor": 0});
        bad["disaggregations"] = json!([{"code": "Nivel", "values": ["a", "a"]}]);
        let problem =
            assert_problem(app.post("/api/v1/indicators", &ministry, &bad).await, 422).await;
        assert_eq!(
            issues(&problem),
            [
                "/code invalid_value",
                "/disaggregations/0/code invalid_value",
                "/disaggregations/0/values/1 invalid_value",
                "/formula/factor invalid_value",
                "/formula/numerator unknown_reference",
            ]
        );

        // It is used like a built-in one: a Secretaría records values, analytics pulls them.
        app.create(
            "/api/v1/indicator-values",
            &secretaria,
            &json!({"indicator": "CO_JORNADA_UNICA", "org_unit": "CO-05001", "period": "2024",
                    "value": 25.0, "numerator": 250.0, "denominator": 1000.0,
                    "disaggregation": {"level": "primaria"}}),
        )
        .await;
        let pull = app
            .read("/api/v1/analytics?indicator=CO_JORNADA_UNICA&period=2024&org_unit=CO-05&disaggregation=level%3Dprimaria", &secretaria)
            .await;
        assert_eq!(pull["rows"][0]["value"], 25.0);

        // In use: 409; built in: 409; once its values are gone, removed.
        let path = "/api/v1/indicators/CO_JORNADA_UNICA";
        let in_use = app.send(Method::DELETE, path, &ministry, None, &[]).await;
        assert_problem(in_use, 409).await;
        let builtin = app
            .send(
                Method::DELETE,
                "/api/v1/indicators/CO_DESERCION",
                &ministry,
                None,
                &[],
            )
            .await;
        assert_problem(builtin, 409).await;
        let values = app
            .read_all(
                "/api/v1/indicator-values?indicator=CO_JORNADA_UNICA",
                &ministry,
            )
            .await;
        for value in values {
            let value_path = format!("/api/v1/indicator-values/{}", value["id"].as_str().unwrap());
            let deleted = app
                .send(Method::DELETE, &value_path, &ministry, None, &[])
                .await;
            assert_eq!(deleted.status(), 204);
        }
        let by_secretaria = app.send(Method::DELETE, path, &secretaria, None, &[]).await;
        assert_problem(by_secretaria, 403).await;
        let removed = app.send(Method::DELETE, path, &ministry, None, &[]).await;
        assert_eq!(removed.status(), 204);
        assert_problem(app.get(path, Some(&ministry)).await, 404).await;
    }
}
