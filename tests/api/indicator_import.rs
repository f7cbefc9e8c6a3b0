//! `POST /api/v1/indicator-values:import` and `redes import indicators`: bulk values from JSON,
//! a generic CSV, or MEN's municipal file through its declared mapping.

use std::process::Command;

use redes::configuration::DatabaseUrl;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, backends, fixture, issues};

const IMPORT: &str = "/api/v1/indicator-values:import";

fn importer(app: &TestApp, territories: &[&str]) -> String {
    app.token(&["indicators:import", "indicators:read"], territories)
}

async fn post_csv(app: &TestApp, token: &str, query: &str, csv: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("{IMPORT}{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Every value of `indicator` as `(org_unit, period, disaggregation, value)`, sorted.
async fn values(app: &TestApp, token: &str, indicator: &str) -> Vec<(String, String, Value, f64)> {
    let mut found: Vec<_> = app
        .read_all(
            &format!("/api/v1/indicator-values?indicator={indicator}&limit=500"),
            token,
        )
        .await
        .into_iter()
        .map(|v| {
            (
                v["org_unit"].as_str().unwrap().to_owned(),
                v["period"].as_str().unwrap().to_owned(),
                v["disaggregation"].clone(),
                v["value"].as_f64().unwrap(),
            )
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.2.to_string()).cmp(&(&b.0, &b.2.to_string())));
    found
}

async fn count(app: &TestApp, token: &str) -> usize {
    app.read_all("/api/v1/indicator-values?limit=500", token)
        .await
        .len()
}

fn assert_men_values(coverage: &[(String, String, Value, f64)]) {
    let of = |unit: &str, level: Option<&str>| {
        coverage
            .iter()
            .find(|(u, p, d, _)| {
                u == unit && p == "2017" && d.get("level").and_then(Value::as_str) == level
            })
            .map(|v| v.3)
    };
    assert_eq!(of("CO-05001", Some("primaria")), Some(88.5));
    assert_eq!(of("CO-05001", None), Some(87.1));
    assert_eq!(of("CO", None), Some(85.5));
    assert_eq!(of("CO-11001", Some("media")), Some(50.3));
    // An empty cell is no value, not 0.
    assert_eq!(of("CO-11001", Some("transicion")), None);
    // 3 totals, 4 + 4 + 3 levels.
    assert_eq!(coverage.len(), 14);
}

#[actix_web::test]
async fn the_men_municipal_file_imports_through_its_declared_mapping() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        let published = std::fs::read_to_string(fixture("men-municipal-2017.csv")).unwrap();
        let (status, summary) = post_csv(&app, &token, "", &published).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["conflicts"], json!([]));
        assert_eq!(summary["written"], true);
        // Per row: population, 5 coverage cells, 2 dropout cells, minus the empty ones.
        assert_eq!(summary["imported"], 8 + 7 + 7);
        assert_men_values(&values(&app, &token, "CO_COBERTURA_NETA").await);
        let dropout = values(&app, &token, "CO_DESERCION").await;
        assert_eq!(dropout.len(), 5);
        let population = values(&app, &token, "CO_POBLACION_5_16").await;
        assert!(population.contains(&("CO".into(), "2017".into(), json!({}), 10_000_000.0)));
        let one = &app
            .read_all(
                "/api/v1/indicator-values?indicator=CO_COBERTURA_NETA&org_unit=CO-05001&disaggregation=level=primaria",
                &token,
            )
            .await[0];
        assert_eq!(one["source"], "Ministerio de Educación Nacional");

        // The open-data export (mangled headers, codes without their leading zero) is the same
        // file: everything is already there, unchanged.
        let open_data =
            std::fs::read_to_string(fixture("men-municipal-2017-open-data.csv")).unwrap();
        let (status, summary) = post_csv(&app, &token, "", &open_data).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["imported"], 0);
        assert_eq!(summary["ignored"], 22);
        assert_eq!(summary["conflicts"], json!([]));

        // Creating them again conflicts, each row named as in the file.
        let (_, summary) = post_csv(&app, &token, "?strategy=create", &open_data).await;
        assert_eq!(summary["written"], false);
        assert_eq!(summary["conflicts"].as_array().unwrap().len(), 22);
        assert_eq!(summary["conflicts"][0]["row"], 2);
        assert_eq!(summary["conflicts"][0]["column"], "poblaci_n_5_16");
    }
}

#[actix_web::test]
async fn the_men_file_saved_by_excel_in_windows_1252_or_with_a_bom_imports_the_same() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        let published = std::fs::read_to_string(fixture("men-municipal-2017.csv")).unwrap();
        let (latin, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&published);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&latin).is_err(), "the file has accents");
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(published.as_bytes());
        for (bytes, imported) in [(latin.into_owned(), 22), (with_bom, 0)] {
            let response = app
                .client
                .post(app.url(IMPORT))
                .bearer_auth(&token)
                .header("content-type", "text/csv")
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let summary: Value = response.json().await.unwrap();
            // `AÑO` and `COBERTURA_NETA_TRANSICIÓN` are read as the mapping names them; the
            // second file holds the same values, so nothing new.
            assert_eq!(summary["conflicts"], json!([]), "{summary}");
            assert_eq!(summary["imported"], imported, "{summary}");
        }
        assert_men_values(&values(&app, &token, "CO_COBERTURA_NETA").await);
    }
}

#[actix_web::test]
async fn the_open_data_export_and_an_explicit_mapping_import_into_an_empty_database() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        let open_data =
            std::fs::read_to_string(fixture("men-municipal-2017-open-data.csv")).unwrap();
        let (status, summary) = post_csv(&app, &token, "?mapping=men-municipal", &open_data).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["imported"], 22);
        assert_men_values(&values(&app, &token, "CO_COBERTURA_NETA").await);

        let (status, summary) = post_csv(&app, &token, "?mapping=nope", &open_data).await;
        assert_eq!(status, 422, "{summary}");
    }
}

#[actix_web::test]
async fn strategies_dry_runs_and_atomicity_over_the_generic_csv_and_json() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO", "CL"]);
        let csv = "indicator,org_unit,period,value,disaggregation,comment\n\
                   CO_COBERTURA_NETA,05001,2017,88.5,level=primaria,\n\
                   CO_COBERTURA_NETA,CO-05001,2018,89,level=primaria;,revisado\n\
                   CL_IDPS_CLIMA_CONVIVENCIA,9101,2017,74,grado=4b,\n";

        // A dry run counts and writes nothing.
        let (status, summary) = post_csv(&app, &token, "?dry_run=true", csv).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["imported"], 3, "{summary}");
        assert_eq!(summary["written"], false);
        assert_eq!(count(&app, &token).await, 0);

        let (_, summary) = post_csv(&app, &token, "?strategy=create", csv).await;
        assert_eq!(summary["imported"], 3, "{summary}");
        assert_eq!(summary["written"], true);
        let chile = values(&app, &token, "CL_IDPS_CLIMA_CONVIVENCIA").await;
        assert_eq!(chile[0].0, "CL-09101");

        // Create twice: conflicts, nothing written.
        let (_, summary) = post_csv(&app, &token, "?strategy=create", csv).await;
        assert_eq!(summary["conflicts"].as_array().unwrap().len(), 3);
        assert_eq!(summary["conflicts"][1]["row"], 3);

        // Update of a missing value: a conflict; atomic, so the good row is not written.
        let update = "indicator,org_unit,period,value,disaggregation\n\
                      CO_COBERTURA_NETA,05001,2017,90,level=primaria\n\
                      CO_COBERTURA_NETA,05001,2019,91,level=primaria\n";
        let (_, summary) = post_csv(&app, &token, "?strategy=update", update).await;
        assert_eq!(summary["written"], false);
        assert_eq!(summary["conflicts"][0]["row"], 3);
        let coverage = values(&app, &token, "CO_COBERTURA_NETA").await;
        assert!(coverage.iter().any(|v| v.1 == "2017" && v.3 == 88.5));

        // Best effort: the good row is written, the bad one reported.
        let (_, summary) = post_csv(&app, &token, "?strategy=update&atomic=false", update).await;
        assert_eq!(summary["written"], true);
        assert_eq!(summary["updated"], 1);
        assert_eq!(summary["conflicts"].as_array().unwrap().len(), 1);
        let coverage = values(&app, &token, "CO_COBERTURA_NETA").await;
        assert!(coverage.iter().any(|v| v.1 == "2017" && v.3 == 90.0));

        // Bad rows name their column; an atomic import with them leaves nothing behind.
        let bad = "indicator,org_unit,period,value,disaggregation\n\
                   CO_COBERTURA_NETA,05001,2020,80,level=primaria\n\
                   CO_COBERTURA_NETA,99999,2020,80,\n\
                   CO_COBERTURA_NETA,05001,2020Q1,x,\n\
                   CO_NOPE,05001,2020,1,\n\
                   CO_COBERTURA_NETA,05001,2020,80,level=doctorado\n";
        let (_, summary) = post_csv(&app, &token, "", bad).await;
        assert_eq!(summary["written"], false, "{summary}");
        let columns: Vec<(u64, &str)> = summary["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["row"].as_u64().unwrap(), c["column"].as_str().unwrap()))
            .collect();
        assert_eq!(
            columns,
            [
                (3, "org_unit"),
                (4, "value"),
                (5, "indicator"),
                (6, "disaggregation")
            ],
            "{summary}"
        );
        assert_eq!(count(&app, &token).await, 3);

        // JSON: the same, rows numbered from 1; delete ignores what is missing.
        let body = json!({
            "strategy": "delete",
            "values": [
                {"indicator": "CO_COBERTURA_NETA", "org_unit": "CO-05001", "period": "2017",
                 "disaggregation": {"level": "primaria"}, "value": 0},
                {"indicator": "CO_COBERTURA_NETA", "org_unit": "CO-05001", "period": "2030",
                 "value": 0}
            ]
        });
        let response = app.post(IMPORT, &token, &body).await;
        assert_eq!(response.status(), 200);
        let summary: Value = response.json().await.unwrap();
        assert_eq!(summary["deleted"], 1, "{summary}");
        assert_eq!(summary["ignored"], 1);
        assert_eq!(count(&app, &token).await, 2);
        // The deletion is journalled like a single one.
        let changes = app
            .read_all(
                "/api/v1/changes?limit=500",
                &app.token(&["changes:read"], &["CO", "CL"]),
            )
            .await;
        assert!(
            changes
                .iter()
                .any(|c| c["operation"] == "deleted" && c["resource"] == "indicator_value"),
            "{changes:?}"
        );

        // A body that is not what the contract documents is refused whole, with pointers.
        let response = app
            .post(IMPORT, &token, &json!({"values": [{"indicator": 1}]}))
            .await;
        let problem = assert_problem(response, 422).await;
        assert!(
            issues(&problem).iter().any(|i| i.starts_with("/values/0")),
            "{problem}"
        );

        let response = app
            .client
            .post(app.url(IMPORT))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_problem(response, 415).await;
        let (status, _) = post_csv(&app, &token, "", "a,b\n1,2\n").await;
        assert_eq!(status, 422);
    }
}

#[actix_web::test]
async fn an_import_stays_in_the_callers_territories_and_needs_its_scope() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let medellin = importer(&app, &["CO-05001"]);
        let published = std::fs::read_to_string(fixture("men-municipal-2017.csv")).unwrap();
        let (status, summary) = post_csv(&app, &medellin, "", &published).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["written"], false);
        let rows: Vec<u64> = summary["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["column"] == "CÓDIGO_MUNICIPIO")
            .map(|c| c["row"].as_u64().unwrap())
            .collect();
        // The national and Bogotá rows, each value of them.
        assert!(
            rows.contains(&2) && rows.contains(&4) && !rows.contains(&3),
            "{rows:?}"
        );

        let (_, summary) = post_csv(&app, &medellin, "?atomic=false", &published).await;
        assert_eq!(summary["imported"], 7, "{summary}");
        let everything = app.token(&["indicators:read"], &["CO"]);
        assert_eq!(count(&app, &everything).await, 7);

        let writer = app.token(&["indicators:write"], &["CO"]);
        let (status, _) = post_csv(&app, &writer, "", &published).await;
        assert_eq!(status, 403);
    }
}

#[actix_web::test]
async fn the_cli_imports_a_file_as_a_national_principal() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let url = match &app.settings.database.url {
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_redes"))
                .args(["import", "indicators"])
                .args(args)
                .env("REDES_DATABASE_URL", &url)
                .env("REDES_DATA_DIR", app.data_dir.path())
                .env("REDES_LOG", "warn")
                .output()
                .unwrap()
        };
        let file = fixture("men-municipal-2017.csv");
        let file = file.to_str().unwrap();
        let output = run(&[file, "--dry-run"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(summary["imported"], 22);
        assert_eq!(summary["written"], false);

        let output = run(&[file, "--strategy", "create"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let token = app.token(&["indicators:read"], &["CO"]);
        assert_men_values(&values(&app, &token, "CO_COBERTURA_NETA").await);

        let output = run(&[file, "--strategy", "create"]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("row 2"), "{stderr}");
        assert!(stderr.contains("nothing written"), "{stderr}");
    }
}

#[actix_web::test]
async fn schools_are_named_by_rbd_or_dane_code() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(crate::helpers::ALL_SCOPES, &["CL", "CO"]);
        let liceo = app
            .create(
                "/api/v1/schools",
                &admin,
                &json!({"name": "Liceo de Lautaro", "country": "CL", "territory": "CL-09105",
                        "rbd": 5575, "dependency": "municipal_daem", "levels": ["basica_ninos"],
                        "rural": false}),
            )
            .await;
        let secretaria = app
            .create(
                "/api/v1/organizations",
                &admin,
                &json!({"name": "Secretaría de Educación de Medellín", "kind": "secretaria",
                        "territory": "CO-05001", "etc_code": "3763", "secretaria_level": "municipal"}),
            )
            .await;
        let institucion = app
            .create(
                "/api/v1/schools",
                &admin,
                &json!({"name": "Institución Educativa Javiera Londoño", "country": "CO",
                        "territory": "CO-05001", "dane_code": "105001000108", "sector": "oficial",
                        "secretaria_id": secretaria["id"],
                        "sedes": [{"name": "Sede Principal", "dane_code": "105001000108",
                                   "zone": "urbana", "main": true}]}),
            )
            .await;
        let token = importer(&app, &["CL", "CO"]);
        let csv = "indicator,org_unit,period,value,disaggregation\n\
                   CL_IDPS_CLIMA_CONVIVENCIA,rbd:5575,2017,74,grado=4b\n\
                   CL_IDPS_CLIMA_CONVIVENCIA,rbd:99999,2017,70,grado=4b\n\
                   CO_COBERTURA_NETA,105001000108,2017,91,\n";
        let (status, summary) = post_csv(&app, &token, "?atomic=false", csv).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["imported"], 2, "{summary}");
        assert_eq!(summary["conflicts"][0]["row"], 3);
        assert_eq!(summary["conflicts"][0]["column"], "org_unit");
        let idps = values(&app, &token, "CL_IDPS_CLIMA_CONVIVENCIA").await;
        assert_eq!(idps[0].0, liceo["id"].as_str().unwrap());
        let coverage = values(&app, &token, "CO_COBERTURA_NETA").await;
        assert_eq!(coverage[0].0, institucion["id"].as_str().unwrap());
    }
}

#[actix_web::test]
async fn a_large_file_imports_in_batches_and_sees_its_own_rows() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        // 2,400 values over several batches, in the order a file sorted by municipio has them.
        let mut csv = String::from("indicator,org_unit,period,value,disaggregation\n");
        let municipios = ["05001", "05002", "05004", "05021", "05030", "05031"];
        let mut rows = 0;
        for code in municipios {
            for year in 2000..2020 {
                for level in ["transicion", "primaria", "secundaria", "media"] {
                    for indicator in [
                        "CO_COBERTURA_NETA",
                        "CO_DESERCION",
                        "CO_APROBACION",
                        "CO_REPITENCIA",
                        "CO_REPROBACION",
                    ] {
                        csv.push_str(&format!(
                            "{indicator},{code},{year},{rows}.5,level={level}\n"
                        ));
                        rows += 1;
                    }
                }
            }
        }
        assert_eq!(rows, 2400);
        // A repeated key inside a batch: the second row sees the first.
        let repeated = "CO_COBERTURA_NETA,05001,2000,1,level=transicion\n";
        let mut with_repeat = csv.clone();
        with_repeat.push_str(repeated);
        let (status, summary) = post_csv(&app, &token, "?strategy=create", &with_repeat).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["imported"], 2400, "{summary}");
        assert_eq!(
            summary["conflicts"].as_array().unwrap().len(),
            1,
            "{summary}"
        );
        assert_eq!(summary["conflicts"][0]["row"], 2402, "{summary}");
        assert_eq!(count(&app, &token).await, 0, "atomic: nothing written");

        let (_, summary) = post_csv(&app, &token, "", &with_repeat).await;
        assert_eq!(summary["imported"], 2400, "{summary}");
        assert_eq!(summary["updated"], 1, "{summary}");
        assert_eq!(summary["written"], true, "{summary}");
        assert_eq!(count(&app, &token).await, 2400);
        // Every write is journalled: the created values and the update.
        let reader = app.token(&["changes:read"], &["CO"]);
        let (mut after, mut entries) = (0, 0);
        loop {
            let page = app
                .read(
                    &format!("/api/v1/changes?resource=indicator_value&limit=1000&after={after}"),
                    &reader,
                )
                .await;
            let items = page["items"].as_array().unwrap().len();
            if items == 0 {
                break;
            }
            entries += items;
            after = page["next_after"].as_i64().unwrap();
        }
        assert_eq!(entries, 2401);
        // Importing it again changes nothing.
        let (_, summary) = post_csv(&app, &token, "", &csv).await;
        assert_eq!(summary["ignored"], 2399, "{summary}");
        assert_eq!(summary["updated"], 1, "{summary}");
    }
}

#[actix_web::test]
async fn a_nul_in_a_csv_cell_is_that_rows_conflict_not_a_server_error() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = importer(&app, &["CO"]);
        let csv = "indicator,org_unit,period,value,comment\n\
                   CO_COBERTURA_NETA,CO-05001,2017,80,ok\n\
                   CO_COBERTURA_NETA,CO-05088,2017,70,bad\u{0}note\n";
        let (status, summary) = post_csv(&app, &token, "?atomic=false", csv).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["imported"], 1, "{summary}");
        assert_eq!(summary["conflicts"][0]["row"], 3);
        assert_eq!(summary["conflicts"][0]["column"], "comment");
    }
}
