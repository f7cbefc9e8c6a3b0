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
