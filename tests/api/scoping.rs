//! Territorial scope: two principals in different regions each see and change only their own.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, TestApp, assert_problem, backends, issues};

fn school(name: &str, rbd: u32, territory: &str) -> Value {
    json!({"name": name, "country": "CL", "territory": territory, "rbd": rbd,
           "dependency": "municipal_daem"})
}

#[actix_web::test]
async fn principals_of_two_regions_see_and_change_only_their_own() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let araucania = app.token(ALL_SCOPES, &["CL-09"]);
        let metropolitana = app.token(ALL_SCOPES, &["CL-13"]);
        let south = app
            .create(
                "/api/v1/schools",
                &araucania,
                &school("Liceo Sur", 1, "CL-09105"),
            )
            .await;
        let north = app
            .create(
                "/api/v1/schools",
                &metropolitana,
                &school("Liceo Centro", 2, "CL-13101"),
            )
            .await;
        let daem = app
            .create(
                "/api/v1/organizations",
                &araucania,
                &json!({"name": "DAEM de Freire", "kind": "daem", "territory": "CL-09105"}),
            )
            .await;

        // Lists never contain a foreign row, whatever the filters.
        for query in ["", "?territory=CL-13", "?territory=CL", "?q=liceo"] {
            let seen = app
                .read_all(&format!("/api/v1/schools{query}"), &araucania)
                .await;
            assert!(
                seen.iter().all(|s| s["id"] == south["id"]),
                "{query}: {seen:?}"
            );
        }
        let orgs = app.read_all("/api/v1/organizations", &metropolitana).await;
        assert!(orgs.is_empty());

        // A foreign object does not exist for reads or writes.
        let foreign = format!("/api/v1/schools/{}", north["id"].as_str().unwrap());
        assert_problem(app.get(&foreign, Some(&araucania)).await, 404).await;
        let code = app.get("/api/v1/schools/by-code/2", Some(&araucania)).await;
        assert_problem(code, 404).await;
        for (method, body) in [
            (Method::PUT, school("Tomado", 2, "CL-09105")),
            (Method::PATCH, json!({"name": "Tomado"})),
        ] {
            let response = app
                .send(method, &foreign, &araucania, Some(&body), &[])
                .await;
            assert_problem(response, 404).await;
        }
        assert_problem(
            app.send(Method::DELETE, &foreign, &araucania, None, &[])
                .await,
            404,
        )
        .await;
        let foreign_org = format!("/api/v1/organizations/{}", daem["id"].as_str().unwrap());
        assert_problem(app.get(&foreign_org, Some(&metropolitana)).await, 404).await;
        assert_problem(
            app.send(Method::DELETE, &foreign_org, &metropolitana, None, &[])
                .await,
            404,
        )
        .await;
        assert_eq!(
            app.read(&foreign, &metropolitana).await["name"],
            "Liceo Centro",
            "unchanged"
        );

        // Writing into a foreign territory is forbidden, pointing at the territory.
        let response = app
            .post(
                "/api/v1/schools",
                &araucania,
                &school("Intruso", 3, "CL-13101"),
            )
            .await;
        let problem = assert_problem(response, 403).await;
        assert_eq!(problem["type"], "urn:redes:problem:foreign-territory");
        assert_eq!(issues(&problem), vec!["/territory foreign_territory"]);
        let own = format!("/api/v1/schools/{}", south["id"].as_str().unwrap());
        let moved = app
            .send(
                Method::PATCH,
                &own,
                &araucania,
                Some(&json!({"territory": "CL-13101"})),
                &[],
            )
            .await;
        assert_problem(moved, 403).await;
        assert_eq!(app.read(&own, &araucania).await["territory"], "CL-09105");

        // A national principal sees both; one without territories sees nothing and writes nothing.
        let national = app.token(ALL_SCOPES, &["CL"]);
        assert_eq!(app.read_all("/api/v1/schools", &national).await.len(), 2);
        let nowhere = app.token(ALL_SCOPES, &[]);
        assert!(app.read_all("/api/v1/schools", &nowhere).await.is_empty());
        assert_problem(app.get(&own, Some(&nowhere)).await, 404).await;
        let response = app
            .post("/api/v1/schools", &nowhere, &school("X", 4, "CL-09105"))
            .await;
        assert_problem(response, 403).await;
    }
}
