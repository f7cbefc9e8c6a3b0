//! Aggregate pulls: figures up the territory tree and across periods, by each indicator's rule.

use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

async fn value(app: &TestApp, token: &str, body: Value) {
    app.create("/api/v1/indicator-values", token, &body).await;
}

fn row<'a>(pull: &'a Value, org_unit: &str, period: &str) -> &'a Value {
    pull["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["org_unit"] == org_unit && r["period"] == period)
        .unwrap_or_else(|| panic!("{org_unit} {period} in {pull}"))
}

#[actix_web::test]
async fn pulls_aggregate_up_the_tree_and_over_time_by_each_rule() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CO", "CL"]);
        // Net coverage, a ratio: Medellín 800/1000, Bello 300/500; the country's own row.
        for (unit, figure, numerator, denominator) in [
            ("CO-05001", 80.0, 800.0, 1000.0),
            ("CO-05088", 60.0, 300.0, 500.0),
            ("CO", 90.0, 9000.0, 10000.0),
        ] {
            value(
                &app,
                &token,
                json!({"indicator": "CO_COBERTURA_NETA", "org_unit": unit,
                "period": "2017", "value": figure, "numerator": numerator,
                "denominator": denominator}),
            )
            .await;
        }
        // Days attended (a count recorded monthly), summed over months and territories.
        for (unit, period, count) in [
            ("CL-13101", "2017-03", 2.0),
            ("CL-13101", "2017-04", 3.0),
            ("CL-13102", "2017-04", 1.0),
            ("CL-13101", "2018-01", 7.0),
        ] {
            value(
                &app,
                &token,
                json!({"indicator": "CL_ASISTENCIA_DIAS_ASISTIDOS",
                "org_unit": unit, "period": period, "value": count}),
            )
            .await;
        }

        // Antioquia has no row of its own: its municipios' ratio of sums, (800 + 300) /
        // (1000 + 500) = 73.3%, not the mean of 80 and 60. The country answers with its own.
        let pull = app
            .read("/api/v1/analytics?indicator=CO_COBERTURA_NETA&period=2017&org_unit=CO-05&org_unit=CO&numerators=true", &token)
            .await;
        let antioquia = row(&pull, "CO-05", "2017");
        assert!((antioquia["value"].as_f64().unwrap() - 1100.0 / 1500.0 * 100.0).abs() < 1e-9);
        assert_eq!(antioquia["numerator"], 1100.0);
        assert_eq!(antioquia["denominator"], 1500.0);
        assert_eq!(antioquia["values"], 2);
        assert_eq!(antioquia["org_unit_name"], "Antioquia");
        assert_eq!(row(&pull, "CO", "2017")["value"], 90.0);
        assert!(pull["as_of"].is_string());

        // Months summed into the year and the quarter; 2018 kept apart.
        let pull = app
            .read("/api/v1/analytics?indicator=CL_ASISTENCIA_DIAS_ASISTIDOS&period=2017&period=2017Q2&period=2018&org_unit=CL-13", &token)
            .await;
        assert_eq!(row(&pull, "CL-13", "2017")["value"], 6.0);
        assert_eq!(row(&pull, "CL-13", "2017Q2")["value"], 4.0);
        assert_eq!(row(&pull, "CL-13", "2018")["value"], 7.0);

        // CHILDREN: every municipio of Antioquia, with or without values; fresh: a value
        // written a moment ago is in the next pull.
        value(
            &app,
            &token,
            json!({"indicator": "CO_COBERTURA_NETA", "org_unit": "CO-05002",
            "period": "2017", "value": 70.0}),
        )
        .await;
        let pull = app
            .read("/api/v1/analytics?indicator=CO_COBERTURA_NETA&period=2017&org_unit=CO-05&org_unit=CHILDREN", &token)
            .await;
        let rows = pull["rows"].as_array().unwrap();
        assert!(rows.len() > 100, "{} municipios", rows.len());
        assert_eq!(row(&pull, "CO-05001", "2017")["value"], 80.0);
        assert_eq!(row(&pull, "CO-05002", "2017")["value"], 70.0);
        assert_eq!(row(&pull, "CO-05004", "2017")["value"], Value::Null);

        // CSV, as a table or SDMX-style.
        let csv = app
            .send(reqwest::Method::GET, "/api/v1/analytics?indicator=CL_ASISTENCIA_DIAS_ASISTIDOS&period=2017&org_unit=CL-13&layout=sdmx",
                &token, None, &[("accept", "text/csv")])
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(
            csv,
            "INDICATOR,REF_AREA,TIME_PERIOD,OBS_VALUE\nCL_ASISTENCIA_DIAS_ASISTIDOS,CL-13,2017,6\n"
        );

        // Beyond the row cap, and without what a pull needs: a clear 400.
        let too_many = "/api/v1/analytics?indicator=CO_COBERTURA_NETA&period=2010&period=2011&period=2012&period=2013&period=2014&period=2015&period=2016&period=2017&period=2018&org_unit=CO&org_unit=LEVEL-3";
        let problem = assert_problem(app.get(too_many, Some(&token)).await, 400).await;
        assert_eq!(issues(&problem), ["org_unit out_of_range"]);
        let problem = assert_problem(app.get("/api/v1/analytics", Some(&token)).await, 400).await;
        assert_eq!(
            issues(&problem),
            ["indicator required", "org_unit required", "period required"]
        );
        // Well formed, but naming nothing: 404, as for other lists' unknown territories.
        let problem = assert_problem(
            app.get(
                "/api/v1/analytics?indicator=NO_SUCH&period=2017W53&org_unit=CO-05",
                Some(&token),
            )
            .await,
            404,
        )
        .await;
        assert_eq!(
            issues(&problem),
            ["indicator unknown_reference", "period unknown_reference"]
        );
        // A caller elsewhere pulls nothing of Antioquia's values.
        let stranger = app.token(ALL_SCOPES, &["CO-11"]);
        let pull = app
            .read(
                "/api/v1/analytics?indicator=CO_COBERTURA_NETA&period=2017&org_unit=CO-05",
                &stranger,
            )
            .await;
        assert_eq!(row(&pull, "CO-05", "2017")["value"], Value::Null);
    }
}

#[actix_web::test]
async fn a_network_aggregates_its_member_schools_on_the_periods_dates() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let school = |name: &str| {
            json!({"name": name, "country": "CL", "territory": "CL-09105",
            "dependency": "municipal_daem"})
        };
        let lircay = app
            .create("/api/v1/schools", &token, &school("Escuela Lircay"))
            .await;
        let quetroco = app
            .create("/api/v1/schools", &token, &school("Escuela Quetroco"))
            .await;
        let network = app
            .create(
                "/api/v1/networks",
                &token,
                &json!({"name": "Red de Freire",
                "kind": "red_mejoramiento_escolar", "territory": "CL-09105"}),
            )
            .await;
        let members = format!(
            "/api/v1/networks/{}/members",
            network["id"].as_str().unwrap()
        );
        app.create(
            &members,
            &token,
            &json!({"school_id": lircay["id"], "role": "member_school",
            "joined_on": "2018-03-01"}),
        )
        .await;
        app.create(
            &members,
            &token,
            &json!({"school_id": quetroco["id"], "role": "member_school",
            "joined_on": "2018-03-01", "left_on": "2019-04-01"}),
        )
        .await;
        for (school, period, days, expected) in [
            (&lircay, "2019-03", 180.0, 200.0),
            (&quetroco, "2019-03", 150.0, 200.0),
            (&lircay, "2019-05", 190.0, 200.0),
            (&quetroco, "2019-05", 100.0, 200.0),
        ] {
            value(
                &app,
                &token,
                json!({"indicator": "CL_ASISTENCIA_PROMEDIO",
                "org_unit": school["id"], "period": period, "value": days / expected * 100.0,
                "numerator": days, "denominator": expected}),
            )
            .await;
        }
        let id = network["id"].as_str().unwrap();
        let pull = app
            .read(&format!("/api/v1/analytics?indicator=CL_ASISTENCIA_PROMEDIO&period=2019-03&period=2019-05&org_unit={id}"), &token)
            .await;
        // March: both members, (180 + 150) / 400 = 82.5%; May: Quetroco had left, 95%.
        assert_eq!(row(&pull, id, "2019-03")["value"], 82.5);
        assert_eq!(row(&pull, id, "2019-05")["value"], 95.0);
        assert_eq!(row(&pull, id, "2019-05")["org_unit_name"], "Red de Freire");
    }
}

#[actix_web::test]
async fn the_demo_sets_the_official_rme_counts_beside_the_live_count_of_the_networks_loaded() {
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            crate::helpers::Options {
                customise: Some(Box::new(|settings| settings.demo_data = true)),
                ..crate::helpers::Options::default()
            },
        )
        .await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let pull = app
            .read("/api/v1/analytics?indicator=CL_REDES_MEJORAMIENTO_ACTIVAS&indicator=REDES_REDES_ACTIVAS&period=2014&period=2015&period=2016&period=2017&org_unit=CL", &token)
            .await;
        let figure = |indicator: &str, period: &str| {
            pull["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["indicator"] == indicator && r["period"] == period)
                .unwrap()["value"]
                .clone()
        };
        // Seed 002's official counts…
        assert_eq!(figure("CL_REDES_MEJORAMIENTO_ACTIVAS", "2015"), 523.0);
        assert_eq!(figure("CL_REDES_MEJORAMIENTO_ACTIVAS", "2016"), 505.0);
        assert_eq!(figure("CL_REDES_MEJORAMIENTO_ACTIVAS", "2017"), 481.0);
        // …beside the networks loaded, counted live: the 15 regional RMEs (founded in 2015,
        // with members since) and C Líder's alliance (no founding year, members undated).
        assert_eq!(figure("REDES_REDES_ACTIVAS", "2014"), 1.0);
        assert_eq!(figure("REDES_REDES_ACTIVAS", "2015"), 16.0);
        assert_eq!(figure("REDES_REDES_ACTIVAS", "2017"), 16.0);
        let rmes = app
            .read("/api/v1/analytics?indicator=REDES_REDES_ACTIVAS&period=2016&org_unit=CL&org_unit=LEVEL-2&disaggregation=kind%3Dred_mejoramiento_escolar", &token)
            .await;
        // With a level, the rows are the level's territories inside CL (DHIS2's `CL;LEVEL-2`).
        let rows = rmes["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 16, "the 16 regiones");
        let total: f64 = rows.iter().filter_map(|r| r["value"].as_f64()).sum();
        assert_eq!(total, 15.0);
        // One per región that has one: Tarapacá (CL-01) has its network.
        assert_eq!(
            rows.iter().find(|r| r["org_unit"] == "CL-01").unwrap()["value"],
            1.0
        );
    }
}

#[actix_web::test]
async fn agreements_count_as_on_time_by_the_day_they_were_done() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let network = app
            .create(
                "/api/v1/networks",
                &token,
                &json!({"name": "Red de Freire", "kind": "red_mejoramiento_escolar",
                        "territory": "CL-09105"}),
            )
            .await;
        let sessions = format!(
            "/api/v1/networks/{}/sessions",
            network["id"].as_str().unwrap()
        );
        // Done only with status done, and not in the future.
        let problem = assert_problem(
            app.post(
                &sessions,
                &token,
                &json!({"title": "S", "date": "2018-03-01",
                "agreements": [{"text": "Abierto", "done_on": "2018-03-02"},
                               {"text": "Futuro", "status": "done", "done_on": "2999-01-01"}]}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(
            issues(&problem),
            [
                "/agreements/0/done_on invalid_value",
                "/agreements/1/done_on invalid_value"
            ]
        );
        let session = app
            .create(&sessions, &token, &json!({"title": "S", "date": "2018-03-01", "status": "held",
                "agreements": [
                    {"text": "A tiempo", "due_on": "2018-04-30", "status": "done", "done_on": "2018-04-20"},
                    {"text": "Tarde", "due_on": "2018-04-30", "status": "done", "done_on": "2018-05-15"},
                    {"text": "Sin fecha de cumplimiento", "due_on": "2018-06-30", "status": "done"},
                    {"text": "Pendiente", "due_on": "2018-06-30"},
                ]}))
            .await;
        assert_eq!(session["agreements"][0]["done_on"], "2018-04-20");
        assert_eq!(session["agreements"][2]["done_on"], Value::Null);
        // Four due in 2018: on time the first (done by its date) and the third (done, no day
        // recorded, never followed up late); the second was done late; the fourth is open.
        let pull = app
            .read(&format!("/api/v1/analytics?indicator=REDES_ACUERDOS_A_TIEMPO&period=2018&org_unit={}&numerators=true",
                network["id"].as_str().unwrap()), &token)
            .await;
        let row = &pull["rows"][0];
        assert_eq!(
            (&row["numerator"], &row["denominator"]),
            (&json!(2.0), &json!(4.0))
        );
        assert_eq!(row["value"], 50.0);
    }
}
