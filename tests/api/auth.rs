//! The token matrix: every bad token is 401 with `WWW-Authenticate`; a missing scope is 403.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::helpers::{
    ES256_KID, JWKS_KID, Options, RS256_KID, TEST_SECRET, TestApp, assert_problem, backends,
    claims, es256_key, fixture, other_rs256_key, rs256_key, sign,
};

const PATH: &str = "/api/v1/territories/CL-13";

fn with(mut base: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            base.as_object_mut().unwrap().remove(key);
        } else {
            base[key] = value.clone();
        }
    }
    base
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[actix_web::test]
async fn good_tokens_of_every_configured_kind_are_accepted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let scope = "territories:read";
        let hs = EncodingKey::from_secret(TEST_SECRET.as_bytes());
        let tokens = [
            ("minted", app.reader_token()),
            (
                "HS256 with kid",
                sign(Algorithm::HS256, Some("hs256"), &claims(scope), &hs),
            ),
            (
                "HS256 without kid",
                sign(Algorithm::HS256, None, &claims(scope), &hs),
            ),
            (
                "RS256 PEM",
                sign(
                    Algorithm::RS256,
                    Some(RS256_KID),
                    &claims(scope),
                    &rs256_key(),
                ),
            ),
            (
                "ES256 PEM",
                sign(
                    Algorithm::ES256,
                    Some(ES256_KID),
                    &claims(scope),
                    &es256_key(),
                ),
            ),
            (
                "RS256 JWKS",
                sign(
                    Algorithm::RS256,
                    Some(JWKS_KID),
                    &claims(scope),
                    &other_rs256_key(),
                ),
            ),
            (
                "audience list",
                sign(
                    Algorithm::HS256,
                    None,
                    &with(claims(scope), json!({"aud": ["other", "redes"]})),
                    &hs,
                ),
            ),
        ];
        for (name, token) in tokens {
            let response = app.get(PATH, Some(&token)).await;
            assert_eq!(
                response.status(),
                200,
                "{name}: {}",
                response.text().await.unwrap()
            );
        }
    }
}

#[actix_web::test]
async fn every_bad_token_is_401_with_a_challenge() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let scope = "territories:read";
        let now = jsonwebtoken::get_current_timestamp();
        let hs = EncodingKey::from_secret(TEST_SECRET.as_bytes());
        let good = claims(scope);
        // The RSA public key used as an HMAC secret: the key-confusion attack.
        let public_pem = std::fs::read(fixture("jwt/rs256-public.pem")).unwrap();
        let confusion = EncodingKey::from_secret(&public_pem);
        let unsigned = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&good.to_string())
        );
        let cases: Vec<(&str, Option<String>, &str)> = vec![
            ("no token", None, "Bearer realm=\"redes\""),
            (
                "malformed",
                Some("Bearer not.a.jwt".into()),
                "invalid_token",
            ),
            (
                "not bearer",
                Some("Basic dXNlcjpwYXNz".into()),
                "invalid_token",
            ),
            ("empty bearer", Some("Bearer ".into()), "invalid_token"),
            (
                "alg none",
                Some(format!("Bearer {unsigned}")),
                "invalid_token",
            ),
            (
                "expired",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"exp": now - 3600, "nbf": now - 7200})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "not yet valid",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"nbf": now + 3600})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "wrong audience",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"aud": "someone-else"})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "wrong issuer",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"iss": "https://evil.example"})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "missing exp",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"exp": null})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "missing aud",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"aud": null})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "wrong signature",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &good,
                        &EncodingKey::from_secret(b"another-secret-that-is-long-enough-too")
                    )
                )),
                "invalid_token",
            ),
            (
                "RS256 signed by an unknown key",
                Some(format!(
                    "Bearer {}",
                    sign(Algorithm::RS256, Some(RS256_KID), &good, &other_rs256_key())
                )),
                "invalid_token",
            ),
            (
                "HS256 against an RS256 key",
                Some(format!(
                    "Bearer {}",
                    sign(Algorithm::HS256, Some(RS256_KID), &good, &confusion)
                )),
                "invalid_token",
            ),
            (
                "unknown kid",
                Some(format!(
                    "Bearer {}",
                    sign(Algorithm::HS256, Some("nobody"), &good, &hs)
                )),
                "invalid_token",
            ),
            (
                "claim of the wrong type",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"territories": "CL"})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "scope of the wrong type",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"scope": ["territories:read"]})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
            (
                "unknown territory",
                Some(format!(
                    "Bearer {}",
                    sign(
                        Algorithm::HS256,
                        None,
                        &with(good.clone(), json!({"territories": ["CL-99"]})),
                        &hs
                    )
                )),
                "invalid_token",
            ),
        ];
        for (name, authorization, challenge) in cases {
            let mut request = app.client.get(app.url(PATH));
            if let Some(value) = authorization {
                request = request.header("Authorization", value);
            }
            let response = request.send().await.unwrap();
            let www = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{name}: no WWW-Authenticate"));
            assert!(www.starts_with("Bearer realm=\"redes\""), "{name}: {www}");
            assert!(www.contains(challenge), "{name}: {www}");
            let problem = assert_problem(response, 401).await;
            assert_eq!(
                problem["type"], "urn:redes:problem:unauthenticated",
                "{name}"
            );
        }
    }
}

#[actix_web::test]
async fn a_missing_scope_is_403_and_says_which() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let token = app.token(&["schools:read"], &["CL"]);
        let response = app.get(PATH, Some(&token)).await;
        let www = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(www.contains("insufficient_scope"), "{www}");
        assert!(www.contains("scope=\"territories:read\""), "{www}");
        let problem = assert_problem(response, 403).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("territories:read")
        );
        // Rights are checked before parameters: a caller without the scope learns nothing.
        let response = app
            .get("/api/v1/territories?limit=nope", Some(&token))
            .await;
        assert_problem(response, 403).await;
    }
}

#[actix_web::test]
async fn auth_problems_speak_the_clients_language() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let response = app
            .client
            .get(app.url(PATH))
            .header("Accept-Language", "es-CO,es;q=0.9")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-language"], "es");
        let problem = assert_problem(response, 401).await;
        assert_eq!(problem["title"], "Se requiere autenticación");
    }
}

#[actix_web::test]
async fn a_token_that_was_accepted_is_refused_once_it_expires() {
    // Verified tokens are remembered (an ES256 check is costly): the memory must not outlive
    // the token.
    for backend in backends() {
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(|settings| {
                    settings.jwt.leeway = std::time::Duration::ZERO;
                })),
                ..Options::default()
            },
        )
        .await;
        let now = jsonwebtoken::get_current_timestamp();
        let hs = EncodingKey::from_secret(TEST_SECRET.as_bytes());
        let token = sign(
            Algorithm::HS256,
            None,
            &with(claims("territories:read"), json!({"exp": now + 2})),
            &hs,
        );
        for _ in 0..3 {
            let response = app.get("/api/v1/territories/CL-09", Some(&token)).await;
            assert_eq!(response.status(), 200);
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(3100)).await;
        let response = app.get("/api/v1/territories/CL-09", Some(&token)).await;
        assert_problem(response, 401).await;
    }
}
