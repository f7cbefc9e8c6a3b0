//! The `redes` binary: `token` mints what the service accepts; `openapi` prints the contract.

use std::process::Command;

use crate::helpers::{Backend, Options, TestApp};

fn redes() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redes"))
}

#[actix_web::test]
async fn a_token_minted_by_the_cli_opens_the_api_in_development() {
    // Development mode with no secret configured: the service generates one under its data
    // directory, and `redes token` signs with the same one.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            generated_secret: true,
            ..Options::default()
        },
    )
    .await;
    let output = redes()
        .args([
            "token",
            "--sub",
            "ana",
            "--scope",
            "territories:read",
            "--territory",
            "CL",
        ])
        .args(["--territory", "CO-11", "--ttl", "10m"])
        .env("REDES_DATA_DIR", app.data_dir.path())
        .env_remove("REDES_JWT_SECRET")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "the token alone on stdout");
    assert_eq!(token.split('.').count(), 3);

    let response = app
        .get("/api/v1/territories?level=municipio&limit=500", Some(token))
        .await;
    assert_eq!(response.status(), 200);

    // A token signed with another installation's secret is refused.
    let elsewhere = tempfile::tempdir().unwrap();
    let foreign = redes()
        .args(["token", "--sub", "ana", "--scope", "territories:read"])
        .env("REDES_DATA_DIR", elsewhere.path())
        .env_remove("REDES_JWT_SECRET")
        .output()
        .unwrap();
    let foreign = String::from_utf8(foreign.stdout).unwrap();
    let response = app.get("/api/v1/territories", Some(foreign.trim())).await;
    assert_eq!(response.status(), 401);
}

#[test]
fn the_cli_refuses_unknown_territories_and_production_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = redes()
        .args(["token", "--sub", "ana", "--territory", "CL-99"])
        .env("REDES_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("CL-99"));
    assert!(output.stdout.is_empty());

    let output = redes()
        .args(["token", "--sub", "ana"])
        .env("REDES_ENV", "production")
        .env("REDES_DATA_DIR", dir.path())
        .env_remove("REDES_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        !dir.path().join("jwt-dev-secret").exists(),
        "production never generates a secret"
    );

    let output = redes()
        .args(["token", "--sub", "ana"])
        .env("REDES_ENV", "production")
        .env("REDES_JWT_SECRET", "short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("32 bytes"));
}

#[test]
fn the_cli_prints_the_committed_contract() {
    let output = redes().arg("openapi").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["token", "--help"],
        vec!["openapi", "--help"],
        vec!["import", "indicators", "--help"],
    ] {
        let output = redes().args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
    let serve = redes().args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&serve.stdout).contains("REDES_DATABASE_URL"));
}

/// `redes client …` on the app's own database.
fn client_cli(app: &TestApp, args: &[&str]) -> Vec<serde_json::Value> {
    let mut command = redes();
    command
        .arg("client")
        .args(args)
        .env("REDES_DATA_DIR", app.data_dir.path())
        .env("REDES_LOG", "error");
    if let redes::configuration::DatabaseUrl::Postgres(url) = &app.settings.database.url {
        command.env("REDES_DATABASE_URL", url);
    } else {
        command.env_remove("REDES_DATABASE_URL");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "client {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[actix_web::test]
async fn the_first_administrator_is_created_from_the_cli_and_gets_tokens() {
    for backend in crate::helpers::backends() {
        let app = TestApp::spawn(backend).await;
        let created = client_cli(
            &app,
            &[
                "create",
                "--name",
                "Primera administración",
                "--scope",
                "all",
                "--territory",
                "CL",
            ],
        );
        let admin = &created[0];
        let id = admin["client_id"].as_str().unwrap().to_owned();
        let secret = admin["client_secret"].as_str().unwrap().to_owned();
        assert!(
            admin["scopes"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("clients:write"))
        );

        let token = |secret: String| {
            let (app, id) = (&app, id.clone());
            async move {
                app.client
                    .post(app.url("/oauth/token"))
                    .basic_auth(id, Some(secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let response = token(secret.clone()).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let access = body["access_token"].as_str().unwrap();
        // The administrator manages clients through the API from here on.
        let list = app.read("/api/v1/clients", access).await;
        assert_eq!(list["items"][0]["client_id"], id.as_str());

        let listed = client_cli(&app, &["list"]);
        assert_eq!(listed.len(), 1);
        assert!(listed[0].get("client_secret").is_none());

        let rotated = client_cli(&app, &["rotate", &id, "--overlap", "1h"]);
        let new_secret = rotated[0]["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(
            token(secret.clone()).await.status(),
            200,
            "within the overlap"
        );
        assert_eq!(token(new_secret.clone()).await.status(), 200);

        let revoked = client_cli(&app, &["revoke", &id]);
        assert_eq!(revoked[0]["revoked"], true);
        assert_eq!(token(new_secret).await.status(), 401);
    }
}

#[actix_web::test]
async fn production_with_no_other_issuer_serves_the_tokens_it_issues() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            customise: Some(Box::new(|settings| {
                settings.environment = redes::configuration::Environment::Production;
                settings.jwt.secret = None;
                settings.jwt.public_keys.clear();
                settings.jwt.jwks_file = None;
            })),
            ..Options::default()
        },
    )
    .await;
    let created = client_cli(
        &app,
        &[
            "create",
            "--name",
            "Única",
            "--scope",
            "territories:read",
            "--territory",
            "CL",
        ],
    );
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(
            created[0]["client_id"].as_str().unwrap(),
            created[0]["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let comunas = app
        .get("/api/v1/territories?level=comuna&limit=1", Some(token))
        .await;
    assert_eq!(comunas.status(), 200);
}
