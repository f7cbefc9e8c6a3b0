//! Schools: both countries' fields, official-code lookups, check-digit warnings, filters,
//! keyset pagination with inserts between pages, references, ETags.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

fn liceo(name: &str, rbd: u32) -> Value {
    json!({"name": name, "country": "CL", "territory": "CL-09105", "rbd": rbd,
           "dependency": "municipal_daem", "levels": ["basica_ninos"], "rural": false})
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_chilean_school_keeps_a_wrong_rbd_check_digit_with_a_warning() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let good = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Liceo Bicentenario de Freire", "country": "CL",
                        "territory": "CL-09105", "rbd": 5575, "rbd_dv": "1",
                        "dependency": "municipal_daem",
                        "levels": ["media_hc_jovenes", "basica_ninos"], "rural": false}),
            )
            .await;
        assert_eq!(good["rbd"], 5575);
        assert_eq!(good["rbd_dv"], "1");
        assert_eq!(good["warnings"], json!([]));
        assert_eq!(good["status"], "funcionando", "the default status");
        assert_eq!(
            good["levels"],
            json!(["basica_ninos", "media_hc_jovenes"]),
            "COD_ENSE2 order"
        );
        assert_eq!(good["dane_code"], Value::Null);
        assert_eq!(good["sedes"], json!([]));

        // Published data has RBDs whose check digit does not match: kept, with a warning.
        let odd = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Escuela Rural Quitratúe", "country": "CL", "territory": "CL-09105",
                        "rbd": 5576, "rbd_dv": "4", "dependency": "municipal_daem"}),
            )
            .await;
        assert_eq!(odd["rbd_dv"], "4");
        let warning = &odd["warnings"][0];
        assert_eq!(warning["pointer"], "/rbd_dv");
        assert_eq!(warning["code"], "rbd_check_digit_mismatch");
        assert!(warning["message"].as_str().unwrap().contains("should be"));
        // Without a check digit one is computed (5577 → 8).
        let computed = app
            .create("/api/v1/schools", &token, &liceo("Escuela Ñielol", 5577))
            .await;
        assert_eq!(computed["rbd_dv"], "8");
        assert_eq!(computed["warnings"], json!([]));

        // The warning follows the client's language on every read.
        let id = odd["id"].as_str().unwrap();
        let spanish = app
            .send(
                Method::GET,
                &format!("/api/v1/schools/{id}"),
                &token,
                None,
                &[("Accept-Language", "es")],
            )
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert!(
            spanish["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("debería ser")
        );

        // Lookup by official code: RBD with or without its (right) check digit.
        for code in ["5575", "5575-1"] {
            let found = app
                .read(&format!("/api/v1/schools/by-code/{code}"), &token)
                .await;
            assert_eq!(found["id"], good["id"], "{code}");
        }
        for code in ["5575-2", "99999", "abc", "0"] {
            let response = app
                .get(&format!("/api/v1/schools/by-code/{code}"), Some(&token))
                .await;
            assert_problem(response, 404).await;
        }

        let problem = assert_problem(
            app.post("/api/v1/schools", &token, &liceo("Otro liceo", 5575))
                .await,
            409,
        )
        .await;
        assert_eq!(issues(&problem), vec!["/rbd taken"]);
    }
}

#[actix_web::test]
async fn a_colombian_school_has_its_dane_code_sector_and_sedes() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CO"]);
        let secretaria = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "Secretaría de Educación de Medellín", "kind": "secretaria",
                        "territory": "CO-05001", "etc_code": "3763", "secretaria_level": "municipal"}),
            )
            .await;
        let school = app
            .create(
                "/api/v1/schools",
                &token,
                &json!({"name": "Institución Educativa Javiera Londoño", "country": "CO",
                        "territory": "CO-05001", "dane_code": "105001000108", "sector": "oficial",
                        "secretaria_id": secretaria["id"],
                        "sedes": [
                            {"name": "Sede Principal", "dane_code": "105001000108", "zone": "urbana", "main": true},
                            {"name": "Sede Santa Elena", "dane_code": "205266000001", "zone": "rural"}
                        ]}),
            )
            .await;
        assert_eq!(school["country"], "CO");
        assert_eq!(school["sector"], "oficial");
        assert_eq!(school["rbd"], Value::Null);
        assert_eq!(school["levels"], json!([]));
        assert_eq!(school["sedes"][1]["main"], false);
        // The second sede's code names another municipio (05266): a warning, not a refusal.
        assert_eq!(school["warnings"].as_array().unwrap().len(), 1);
        assert_eq!(school["warnings"][0]["pointer"], "/sedes/1/dane_code");
        assert_eq!(
            school["warnings"][0]["code"],
            "dane_code_municipio_mismatch"
        );

        let found = app
            .read("/api/v1/schools/by-code/105001000108", &token)
            .await;
        assert_eq!(found["id"], school["id"]);

        let response = app
            .post(
                "/api/v1/schools",
                &token,
                &json!({"name": "IE", "country": "CO", "territory": "CO-05001", "dane_code": "12345",
                        "sector": "publico", "rbd": 1, "levels": ["basica_ninos"],
                        "secretaria_id": "00000000-0000-0000-0000-000000000000",
                        "sedes": [{"name": "A", "main": true}, {"name": "B", "main": true, "floor": 2}, 7]}),
            )
            .await;
        // Everything the documented schema says is reported at once…
        let problem = assert_problem(response, 422).await;
        assert_eq!(
            issues(&problem),
            vec![
                "/dane_code invalid_format",
                "/levels not_applicable",
                "/rbd not_applicable",
                "/sector invalid_value",
                "/sedes/1/floor unknown_field",
                "/sedes/2 invalid_value",
            ]
        );
        // …and a well-formed body that names a Secretaría that does not exist is 404.
        let response = app
            .post(
                "/api/v1/schools",
                &token,
                &json!({"name": "IE", "country": "CO", "territory": "CO-05001",
                        "dane_code": "105001000999", "sector": "oficial",
                        "secretaria_id": "00000000-0000-0000-0000-000000000000"}),
            )
            .await;
        let problem = assert_problem(response, 409).await;
        assert_eq!(problem["type"], "urn:redes:problem:dangling-reference");
        assert_eq!(issues(&problem), vec!["/secretaria_id unknown_reference"]);
    }
}

#[actix_web::test]
async fn schools_are_filtered() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let daem = app
            .create(
                "/api/v1/organizations",
                &token,
                &json!({"name": "DAEM de Freire", "kind": "daem", "territory": "CL-09105"}),
            )
            .await;
        let mut a = liceo("Liceo Araucanía", 100);
        a["sostenedor_id"] = daem["id"].clone();
        a["levels"] = json!(["media_tp_jovenes"]);
        app.create("/api/v1/schools", &token, &a).await;
        let mut b = liceo("Escuela Rural Pelales", 101);
        b["rural"] = json!(true);
        b["status"] = json!("en_receso");
        app.create("/api/v1/schools", &token, &b).await;
        let c = json!({"name": "Colegio San Ignacio", "country": "CL", "territory": "CL-13101",
                       "rbd": 102, "dependency": "particular_pagado"});
        app.create("/api/v1/schools", &token, &c).await;

        let sostenedor = format!("sostenedor={}", daem["id"].as_str().unwrap());
        for (query, expected) in [
            (
                "territory=CL-09",
                vec!["Escuela Rural Pelales", "Liceo Araucanía"],
            ),
            ("territory=CL-13101", vec!["Colegio San Ignacio"]),
            ("dependency=particular_pagado", vec!["Colegio San Ignacio"]),
            (
                "dependency=particular_pagado&dependency=municipal_daem",
                vec![
                    "Colegio San Ignacio",
                    "Escuela Rural Pelales",
                    "Liceo Araucanía",
                ],
            ),
            ("level=media_tp_jovenes", vec!["Liceo Araucanía"]),
            ("level=basica_ninos", vec!["Escuela Rural Pelales"]),
            ("rural=true", vec!["Escuela Rural Pelales"]),
            ("rural=false", vec!["Liceo Araucanía"]),
            ("status=en_receso", vec!["Escuela Rural Pelales"]),
            (sostenedor.as_str(), vec!["Liceo Araucanía"]),
            ("q=ARAUCANIA", vec!["Liceo Araucanía"]),
            ("country=CO", vec![]),
        ] {
            let found = app
                .read_all(&format!("/api/v1/schools?{query}"), &token)
                .await;
            assert_eq!(names(&found), expected, "{query}");
        }

        let response = app
            .get(
                "/api/v1/schools?rural=maybe&level=kinder&sostenedor=x&territory=CL-1",
                Some(&token),
            )
            .await;
        let problem = assert_problem(response, 400).await;
        assert_eq!(
            issues(&problem),
            vec![
                "level invalid_choice",
                "rural invalid_choice",
                "sostenedor invalid_value",
                "territory invalid_territory",
            ]
        );
    }
}

/// A región's list reads the región stored beside each school's territory: it pages in name
/// order and follows a school that moves to another región.
#[actix_web::test]
async fn a_region_lists_its_schools_and_follows_a_move() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        for (i, name) in ["Escuela C", "Escuela A", "Escuela B"].iter().enumerate() {
            app.create("/api/v1/schools", &token, &liceo(name, 3000 + i as u32))
                .await;
        }
        let santiago = json!({"name": "Escuela D", "country": "CL", "territory": "CL-13101",
                              "rbd": 3010, "dependency": "municipal_daem"});
        app.create("/api/v1/schools", &token, &santiago).await;

        let araucania = app
            .read_all("/api/v1/schools?territory=CL-09&limit=1", &token)
            .await;
        assert_eq!(
            names(&araucania),
            vec!["Escuela A", "Escuela B", "Escuela C"]
        );
        let metropolitana = app
            .read_all(
                "/api/v1/schools?territory=CL-13&dependency=municipal_daem",
                &token,
            )
            .await;
        assert_eq!(names(&metropolitana), vec!["Escuela D"]);

        let moved = &araucania[1];
        let path = format!("/api/v1/schools/{}", moved["id"].as_str().unwrap());
        let response = app.get(&path, Some(&token)).await;
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let response = app
            .send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"territory": "CL-13101"})),
                &[("If-Match", &etag)],
            )
            .await;
        assert_eq!(response.status(), 200);
        let araucania = app
            .read_all("/api/v1/schools?territory=CL-09", &token)
            .await;
        assert_eq!(names(&araucania), vec!["Escuela A", "Escuela C"]);
        let metropolitana = app
            .read_all("/api/v1/schools?territory=CL-13", &token)
            .await;
        assert_eq!(names(&metropolitana), vec!["Escuela B", "Escuela D"]);
        // The comuna and the country still see it where it is.
        let comuna = app
            .read_all("/api/v1/schools?territory=CL-13101", &token)
            .await;
        assert_eq!(names(&comuna), vec!["Escuela B", "Escuela D"]);
        let country = app.read_all("/api/v1/schools?territory=CL", &token).await;
        assert_eq!(country.len(), 4);
    }
}

#[actix_web::test]
async fn pages_neither_skip_nor_repeat_when_rows_are_inserted_between_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        for (i, name) in [
            "Escuela A",
            "Escuela B",
            "Escuela C",
            "Escuela D",
            "Escuela E",
        ]
        .iter()
        .enumerate()
        {
            app.create("/api/v1/schools", &token, &liceo(name, 1000 + i as u32))
                .await;
        }
        let first = app.read("/api/v1/schools?limit=2", &token).await;
        assert_eq!(
            names(first["items"].as_array().unwrap()),
            vec!["Escuela A", "Escuela B"]
        );
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();

        // One row lands before the cursor, one after, and one already seen is deleted.
        app.create("/api/v1/schools", &token, &liceo("Escuela AA", 2000))
            .await;
        app.create("/api/v1/schools", &token, &liceo("Escuela Z", 2001))
            .await;
        let a = first["items"][0]["id"].as_str().unwrap();
        let deleted = app
            .send(
                Method::DELETE,
                &format!("/api/v1/schools/{a}"),
                &token,
                None,
                &[],
            )
            .await;
        assert_eq!(deleted.status(), 204);

        let mut rest = Vec::new();
        let mut next = Some(cursor);
        while let Some(cursor) = next {
            let page = app
                .read(&format!("/api/v1/schools?limit=2&cursor={cursor}"), &token)
                .await;
            rest.extend(page["items"].as_array().unwrap().iter().cloned());
            next = page["next_cursor"].as_str().map(str::to_owned);
        }
        assert_eq!(
            names(&rest),
            vec!["Escuela C", "Escuela D", "Escuela E", "Escuela Z"]
        );
        let ids: HashSet<&str> = rest.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), rest.len());
    }
}

#[actix_web::test]
async fn references_must_be_visible_organizations_of_the_right_kind() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let national = app.token(ALL_SCOPES, &["CL"]);
        let slep = app
            .create(
                "/api/v1/organizations",
                &national,
                &json!({"name": "SLEP Costa Araucanía", "kind": "slep", "territory": "CL-09"}),
            )
            .await;
        let deprov = app
            .create(
                "/api/v1/organizations",
                &national,
                &json!({"name": "DEPROV Cautín", "kind": "deprov", "territory": "CL-091"}),
            )
            .await;
        let elsewhere = app
            .create(
                "/api/v1/organizations",
                &national,
                &json!({"name": "DAEM de Santiago", "kind": "daem", "territory": "CL-13101"}),
            )
            .await;
        // A principal of one comuna may name the SLEP of its región, whose territory contains
        // the school's, though the SLEP is outside its own territories.
        let comuna = app.token(ALL_SCOPES, &["CL-09105"]);
        let mut school = liceo("Liceo de Freire", 5575);
        school["dependency"] = json!("slep");
        school["sostenedor_id"] = slep["id"].clone();
        let created = app.create("/api/v1/schools", &comuna, &school).await;
        assert_eq!(created["sostenedor_id"], slep["id"]);
        assert_problem(
            app.get(
                &format!("/api/v1/organizations/{}", slep["id"].as_str().unwrap()),
                Some(&comuna),
            )
            .await,
            404,
        )
        .await;

        // A malformed or wrong-kind reference is invalid (422); one that names nothing the
        // caller may name dangles (409), whether it exists elsewhere or not at all.
        for (reference, status, code) in [
            (deprov["id"].clone(), 422, "/sostenedor_id wrong_kind"),
            (
                elsewhere["id"].clone(),
                409,
                "/sostenedor_id unknown_reference",
            ),
            (
                json!("8f14e45f-ceea-467f-a0e0-e1b3a1b1b1b1"),
                409,
                "/sostenedor_id unknown_reference",
            ),
            (json!("not-a-uuid"), 422, "/sostenedor_id invalid_format"),
        ] {
            let mut body = liceo("Escuela", 7000);
            body["sostenedor_id"] = reference;
            let problem =
                assert_problem(app.post("/api/v1/schools", &comuna, &body).await, status).await;
            assert_eq!(issues(&problem), vec![code]);
        }
    }
}

#[actix_web::test]
async fn etags_make_reads_cheap_and_writes_safe() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL"]);
        let response = app
            .post("/api/v1/schools", &token, &liceo("Liceo", 5575))
            .await;
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let school: Value = response.json().await.unwrap();
        let path = format!("/api/v1/schools/{}", school["id"].as_str().unwrap());

        let cached = app
            .send(
                Method::GET,
                &path,
                &token,
                None,
                &[("If-None-Match", &etag)],
            )
            .await;
        assert_eq!(cached.status(), 304);
        assert_eq!(cached.headers()["etag"], etag.as_str());
        assert!(cached.bytes().await.unwrap().is_empty());
        let weak = app
            .send(
                Method::GET,
                &path,
                &token,
                None,
                &[("If-None-Match", &format!("W/{etag}"))],
            )
            .await;
        assert_eq!(weak.status(), 304);
        let stale_read = app
            .send(
                Method::GET,
                &path,
                &token,
                None,
                &[("If-None-Match", "\"99\"")],
            )
            .await;
        assert_eq!(stale_read.status(), 200);

        // Two clients read version 1; the first write wins, the second gets 412.
        let first = app
            .send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"name": "Liceo A"})),
                &[("If-Match", &etag)],
            )
            .await;
        assert_eq!(first.status(), 200);
        let new_etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(new_etag, etag);
        let second = app
            .send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"name": "Liceo B"})),
                &[("If-Match", &etag)],
            )
            .await;
        let problem = assert_problem(second, 412).await;
        assert_eq!(problem["type"], "urn:redes:problem:precondition-failed");
        assert_eq!(
            app.read(&path, &token).await["name"],
            "Liceo A",
            "the stale write changed nothing"
        );

        let stale_put = app
            .send(
                Method::PUT,
                &path,
                &token,
                Some(&liceo("Liceo C", 5575)),
                &[("If-Match", &etag)],
            )
            .await;
        assert_problem(stale_put, 412).await;
        let stale_delete = app
            .send(Method::DELETE, &path, &token, None, &[("If-Match", &etag)])
            .await;
        assert_problem(stale_delete, 412).await;
        let delete = app
            .send(
                Method::DELETE,
                &path,
                &token,
                None,
                &[("If-Match", &new_etag)],
            )
            .await;
        assert_eq!(delete.status(), 204);
    }
}

#[actix_web::test]
async fn a_chilean_school_may_wait_for_its_rbd_but_not_its_check_digit_alone() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(ALL_SCOPES, &["CL-09"]);
        let mut body = json!({"name": "Escuela Rural El Lliuco", "country": "CL",
                              "territory": "CL-09105", "dependency": "municipal_daem"});
        let school = app.create("/api/v1/schools", &token, &body).await;
        assert_eq!(school["rbd"], Value::Null);
        assert_eq!(school["rbd_dv"], Value::Null);

        body["rbd_dv"] = json!("9");
        let response = app.post("/api/v1/schools", &token, &body).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(issues(&problem), vec!["/rbd required"]);

        // The RBD arrives later; its check digit is computed.
        let path = format!("/api/v1/schools/{}", school["id"].as_str().unwrap());
        let patched = app
            .send(
                Method::PATCH,
                &path,
                &token,
                Some(&json!({"rbd": 5575})),
                &[],
            )
            .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.unwrap();
        assert_eq!(patched["rbd_dv"], "1");
    }
}

/// Many clients writing at once each get their write, on both databases: on SQLite, whose
/// writers otherwise poll for the lock and can miss it for the whole busy timeout, requests
/// take their turn to write in order (`Db::write`).
#[actix_web::test]
async fn concurrent_writers_all_get_their_write() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(&["schools:write"], &["CL"]);
        let (writers, each) = (16u32, 12u32);
        let mut handles = Vec::new();
        for w in 0..writers {
            let client = app.client.clone();
            let url = app.url("/api/v1/schools");
            let token = token.clone();
            handles.push(actix_web::rt::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..each {
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&liceo(&format!("Escuela {w}-{i}"), 20_000 + w * 100 + i))
                        .send()
                        .await
                        .unwrap();
                    statuses.push(response.status().as_u16());
                }
                statuses
            }));
        }
        let mut created = 0;
        for handle in handles {
            for status in handle.await.unwrap() {
                assert_eq!(status, 201, "{backend:?}");
                created += 1;
            }
        }
        assert_eq!(created, writers * each);
        let listed = app
            .read_all(
                "/api/v1/schools?limit=200",
                &app.token(&["schools:read"], &["CL"]),
            )
            .await;
        let ours = listed
            .iter()
            .filter(|s| s["name"].as_str().unwrap().starts_with("Escuela "))
            .count();
        assert_eq!(ours as u32, writers * each, "{backend:?}");
    }
}
