//! Reads by id that arrive together on a worker share one statement on PostgreSQL
//! (`db::coalesce`): each request still gets its own row, its own scope check and its own
//! ETag, and a row the caller may not see stays a 404 even when another caller's request in the
//! same statement sees it.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, Backend, Options, TestApp, backends};

fn id(object: &Value) -> String {
    object["id"].as_str().expect("an id").to_owned()
}

/// One read and what it must answer: the status and, for a 200, the name.
struct Read {
    token: String,
    path: String,
    name: Option<&'static str>,
}

/// Sends every read at once, checks each answer, and says how many statements they took.
async fn read_together(app: &TestApp, reads: &[Read]) -> u64 {
    let before = app.db.statements();
    let answers = join_all(reads.iter().map(|read| async move {
        let response = app.get(&read.path, Some(&read.token)).await;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|value| value.to_str().expect("an ASCII ETag").to_owned());
        let body: Value = response.json().await.expect("a JSON body");
        (status, etag, body)
    }))
    .await;
    let statements = app.db.statements() - before;
    for (read, (status, etag, body)) in reads.iter().zip(answers) {
        match read.name {
            Some(name) => {
                assert_eq!(status, 200, "{}: {body}", read.path);
                assert_eq!(body["name"], name, "{}", read.path);
                assert_eq!(etag.as_deref(), Some("\"1\""), "{}", read.path);
            }
            None => {
                assert_eq!(status, 404, "{}: {body}", read.path);
                assert_eq!(body["status"], 404, "{}: a problem", read.path);
            }
        }
    }
    statements
}

#[actix_web::test]
async fn reads_by_id_that_arrive_together_each_get_their_own_answer() {
    let mut runs: Vec<(Backend, bool)> = backends().into_iter().map(|b| (b, true)).collect();
    if backends().contains(&Backend::Postgres) {
        runs.push((Backend::Postgres, false));
    }
    for (backend, coalesce) in runs {
        eprintln!("--- coalesced reads: {coalesce}");
        let app = TestApp::spawn_with(
            backend,
            Options {
                customise: Some(Box::new(move |settings| {
                    settings.database.coalesce_reads = coalesce;
                })),
                ..Options::default()
            },
        )
        .await;
        let admin = app.token(ALL_SCOPES, &["CL"]);
        let mut created = Vec::new();
        for (name, territory) in [
            ("Liceo de Freire", "CL-09105"),
            ("Liceo de Santiago", "CL-13101"),
        ] {
            let school = app
                .create(
                    "/api/v1/schools",
                    &admin,
                    &json!({"name": name, "country": "CL", "territory": territory,
                            "dependency": "municipal_daem"}),
                )
                .await;
            created.push(format!("/api/v1/schools/{}", id(&school)));
        }
        for (name, territory) in [
            ("DAEM de Freire", "CL-09105"),
            ("DAEM de Santiago", "CL-13101"),
        ] {
            let organization = app
                .create(
                    "/api/v1/organizations",
                    &admin,
                    &json!({"name": name, "kind": "daem", "territory": territory}),
                )
                .await;
            created.push(format!("/api/v1/organizations/{}", id(&organization)));
        }
        let [freire, santiago, daem_freire, daem_santiago] =
            <[String; 4]>::try_from(created).expect("four paths");
        let scopes = ["schools:read", "organizations:read"];
        let araucania = app.token(&scopes, &["CL-09"]);
        let metropolitana = app.token(&scopes, &["CL-13"]);
        let unknown = uuid::Uuid::new_v4();

        let cases = [
            (&araucania, &freire, Some("Liceo de Freire")),
            (&araucania, &santiago, None),
            (&metropolitana, &santiago, Some("Liceo de Santiago")),
            (&metropolitana, &freire, None),
            (&araucania, &daem_freire, Some("DAEM de Freire")),
            (&araucania, &daem_santiago, None),
            (&metropolitana, &daem_santiago, Some("DAEM de Santiago")),
            (&metropolitana, &daem_freire, None),
            (&araucania, &format!("/api/v1/schools/{unknown}"), None),
            (
                &metropolitana,
                &format!("/api/v1/organizations/{unknown}"),
                None,
            ),
        ];
        // Each case four times over, interleaved: the same row asked by several requests, and
        // by callers who may and may not see it.
        let reads: Vec<Read> = (0..4)
            .flat_map(|_| cases.iter())
            .map(|(token, path, name)| Read {
                token: (*token).clone(),
                path: (*path).clone(),
                name: *name,
            })
            .collect();
        let requests = reads.len() as u64;

        // Whether requests share a statement depends on when they reach the worker, so a few
        // rounds are sent; on PostgreSQL with coalescing, one that shares is expected.
        let expect_shared = backend == Backend::Postgres && coalesce;
        let mut fewest = u64::MAX;
        for _ in 0..10 {
            let statements = read_together(&app, &reads).await;
            fewest = fewest.min(statements);
            if expect_shared && fewest < requests {
                break;
            }
        }
        if expect_shared {
            assert!(
                fewest < requests,
                "{requests} reads by id sent together never shared a statement"
            );
        } else {
            assert!(
                fewest >= requests,
                "{backend:?}, coalescing {coalesce}: {requests} reads took {fewest} statements"
            );
        }

        // A read alone is still one statement.
        let before = app.db.statements();
        let alone = app.read(&freire, &araucania).await;
        assert_eq!(alone["name"], "Liceo de Freire");
        assert_eq!(app.db.statements() - before, 1);
    }
}
