//! The territory catalogue: filters, lookups, tree queries and pagination.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, backends};

fn keys(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|t| t["key"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_complete_catalogues_are_listed_by_level() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let comunas = app
            .get_all("/api/v1/territories?country=CL&level=comuna&limit=500")
            .await;
        assert_eq!(comunas.len(), 346);
        let municipios = app
            .get_all("/api/v1/territories?level=municipio&limit=500")
            .await;
        assert_eq!(municipios.len(), 1121);
        let regiones = app.get_all("/api/v1/territories?level=region").await;
        assert_eq!(regiones.len(), 16);
        let provincias = app.get_all("/api/v1/territories?level=provincia").await;
        assert_eq!(provincias.len(), 56);
        let departamentos = app.get_all("/api/v1/territories?level=departamento").await;
        assert_eq!(departamentos.len(), 33);
        assert!(
            municipios
                .iter()
                .all(|m| m["country"] == "CO" && m["depth"] == 2)
        );
    }
}

#[actix_web::test]
async fn filters_combine() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The contract's own example: comunas of the Santiago provincia named like "santiago".
        let page = app
            .get_json("/api/v1/territories?country=CL&level=comuna&parent=CL-131&q=santiago")
            .await;
        let found = keys(page["items"].as_array().unwrap());
        assert_eq!(found, vec!["CL-13101"]);
        let santiago = &page["items"][0];
        assert_eq!(santiago["name"], "Santiago");
        assert_eq!(santiago["code"], "13101");
        assert_eq!(santiago["level"], "comuna");
        assert_eq!(santiago["parent_key"], "CL-131");
        assert_eq!(santiago["depth"], 3);

        // The children of a provincia, by parent id this time: its 32 comunas.
        let provincia = app.get_json("/api/v1/territories/CL-131").await;
        let parent_id = provincia["id"].as_str().unwrap();
        let children = app
            .get_all(&format!("/api/v1/territories?parent={parent_id}&limit=10"))
            .await;
        assert_eq!(children.len(), 32);
        assert!(children.iter().all(|c| c["parent_key"] == "CL-131"));

        // Search ignores case and accents.
        let nunoa = app.get_json("/api/v1/territories?q=NUNOA").await;
        assert_eq!(keys(nunoa["items"].as_array().unwrap()), vec!["CL-13120"]);
        assert_eq!(nunoa["items"][0]["name"], "Ñuñoa");
        let bogota = app
            .get_json("/api/v1/territories?q=bogot%C3%A1&level=municipio")
            .await;
        assert_eq!(keys(bogota["items"].as_array().unwrap()), vec!["CO-11001"]);

        // Codes repeat across countries; `country` tells them apart.
        let both = app.get_json("/api/v1/territories?code=05").await;
        assert_eq!(
            keys(both["items"].as_array().unwrap()),
            vec!["CL-05", "CO-05"]
        );
        let antioquia = app.get_json("/api/v1/territories?code=05&country=CO").await;
        assert_eq!(antioquia["items"][0]["name"], "Antioquia");

        // LIKE wildcards in the search are literal text.
        let none = app.get_json("/api/v1/territories?q=%25").await;
        assert_eq!(none["items"].as_array().unwrap().len(), 0);
    }
}

#[actix_web::test]
async fn a_territory_is_found_by_key_or_id_and_unknown_ones_are_404() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let by_key = app.get_json("/api/v1/territories/CO-11001").await;
        assert_eq!(by_key["name"], "Bogotá, D.C.");
        assert_eq!(by_key["level"], "municipio");
        let id = by_key["id"].as_str().unwrap();
        let by_id = app.get_json(&format!("/api/v1/territories/{id}")).await;
        assert_eq!(by_id, by_key);
        // Keys are upper case, as documented.
        let lower = app
            .get("/api/v1/territories/co-11001", Some(&app.reader_token()))
            .await;
        assert_problem(lower, 404).await;
        let country = app.get_json("/api/v1/territories/CL").await;
        assert_eq!(country["level"], "country");
        assert_eq!(country["parent_id"], Value::Null);

        let token = app.reader_token();
        for missing in [
            "CL-99",
            "CO-99999",
            "not-a-key",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let response = app
                .get(&format!("/api/v1/territories/{missing}"), Some(&token))
                .await;
            let problem = assert_problem(response, 404).await;
            assert_eq!(problem["type"], "urn:redes:problem:not-found");
            assert!(
                problem["detail"].as_str().unwrap().contains(missing),
                "{problem}"
            );
        }
    }
}

#[actix_web::test]
async fn ancestors_and_descendants_follow_the_tree() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ancestors = app.get_json("/api/v1/territories/CL-13101/ancestors").await;
        assert_eq!(
            keys(ancestors["items"].as_array().unwrap()),
            vec!["CL", "CL-13", "CL-131"]
        );
        assert_eq!(ancestors["next_cursor"], Value::Null);
        let none = app.get_json("/api/v1/territories/CO/ancestors").await;
        assert!(none["items"].as_array().unwrap().is_empty());

        // The Región Metropolitana: 6 provincias and 52 comunas below it, itself excluded.
        let below = app
            .get_all("/api/v1/territories/CL-13/descendants?limit=20")
            .await;
        assert_eq!(below.len(), 58);
        assert!(!keys(&below).contains(&"CL-13".to_owned()));
        let comunas = app
            .get_all("/api/v1/territories/CL-13/descendants?level=comuna")
            .await;
        assert_eq!(comunas.len(), 52);
        assert!(keys(&comunas).iter().all(|k| k.starts_with("CL-13")));
        // A prefix that is not a subtree: CL-1 would catch CL-13..CL-16 if paths were matched
        // naively; CL-01 (Tarapacá) must not catch CL-011's neighbours from other regions.
        let tarapaca = app
            .get_all("/api/v1/territories/CL-01/descendants?level=comuna")
            .await;
        assert_eq!(tarapaca.len(), 7);
        assert!(keys(&tarapaca).iter().all(|k| k.starts_with("CL-01")));

        let all_colombia = app
            .get_all("/api/v1/territories/CO/descendants?limit=500")
            .await;
        assert_eq!(all_colombia.len(), 33 + 1121);
        let comunas_named_san = app
            .get_all("/api/v1/territories/CL/descendants?level=comuna&q=san")
            .await;
        assert!(
            comunas_named_san.iter().all(|c| c["name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("san"))
        );
        assert!(comunas_named_san.len() > 10);

        let token = app.reader_token();
        let response = app
            .get("/api/v1/territories/CL-99/descendants", Some(&token))
            .await;
        assert_problem(response, 404).await;
    }
}

#[actix_web::test]
async fn pages_are_stable_and_complete() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let first = app
            .get_json("/api/v1/territories?level=comuna&limit=100")
            .await;
        assert_eq!(first["items"].as_array().unwrap().len(), 100);
        assert!(first["next_cursor"].is_string());

        let all = app
            .get_all("/api/v1/territories?level=comuna&limit=100")
            .await;
        let all_keys = keys(&all);
        assert_eq!(all_keys.len(), 346);
        let unique: HashSet<&String> = all_keys.iter().collect();
        assert_eq!(unique.len(), 346, "no territory twice");
        let mut sorted = all_keys.clone();
        sorted.sort();
        assert_eq!(all_keys, sorted, "key order");

        // The default page size is 50.
        let default = app.get_json("/api/v1/territories").await;
        assert_eq!(default["items"].as_array().unwrap().len(), 50);
        // The last page says so.
        let last = app
            .get_json("/api/v1/territories?level=region&limit=16")
            .await;
        assert_eq!(last["next_cursor"], Value::Null);
    }
}

#[actix_web::test]
async fn malformed_parameters_are_all_reported() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.reader_token();
        let response = app
            .get(
                "/api/v1/territories?limit=501&level=barrio&country=AR&cursor=%%%&parent=CL-99&sort=name",
                Some(&token),
            )
            .await;
        let problem = assert_problem(response, 400).await;
        assert_eq!(problem["type"], "urn:redes:problem:invalid-parameters");
        let mut issues: Vec<(String, String)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["parameter"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        issues.sort();
        let mut expected: Vec<(String, String)> = [
            ("country", "invalid_choice"),
            ("cursor", "invalid_cursor"),
            ("level", "invalid_choice"),
            ("limit", "out_of_range"),
            ("parent", "unknown_territory"),
            ("sort", "unknown_parameter"),
        ]
        .iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect();
        expected.sort();
        assert_eq!(issues, expected, "{problem}");

        for (query, parameter, code) in [
            ("limit=ten", "limit", "invalid_integer"),
            ("limit=0", "limit", "out_of_range"),
            ("cursor=bm90LWEtY3Vyc29y", "cursor", "invalid_cursor"),
            ("parent=Santiago", "parent", "invalid_territory"),
            ("level=comuna&level=region", "level", "repeated_parameter"),
        ] {
            let response = app
                .get(&format!("/api/v1/territories?{query}"), Some(&token))
                .await;
            let problem = assert_problem(response, 400).await;
            assert_eq!(
                problem["errors"][0]["parameter"], parameter,
                "{query}: {problem}"
            );
            assert_eq!(problem["errors"][0]["code"], code, "{query}: {problem}");
        }
    }
}
