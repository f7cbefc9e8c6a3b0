//! The audit log: who wrote what, when, through which request.
//!
//! Every write transaction ([`crate::db::Tx`]) turns each change it records into an
//! [`AuditEntry`] and inserts them in the same transaction as the write itself, so a write can
//! never commit without its audit entries (and a failed audit insert rolls the write back).
//!
//! Who wrote is the [`Actor`] of the request being served. The [`attribute`] middleware puts it
//! in a task-local when the request arrives; [`crate::db::Db`] reads it in the async context and
//! carries it to the blocking thread that runs the transaction (and to background jobs started by
//! the request). Writes outside any request are attributed to the process: `cli` for the command
//! line, `system` for the server's own work (the demo data loaded at start-up).

use std::cell::RefCell;
use std::sync::OnceLock;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::repository::changes::{Change, Operation};
use crate::telemetry::RequestId;

/// What a masked personal value reads as in the log.
pub const MASK: &str = "***";

/// Who writes: the principal (a token's `sub`, or `cli`/`system`), its API client, the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: String,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    fn of_process() -> Actor {
        Actor {
            principal: PROCESS_PRINCIPAL
                .get()
                .copied()
                .unwrap_or("system")
                .to_owned(),
            client_id: None,
            request_id: None,
        }
    }
}

tokio::task_local! {
    static REQUEST_ACTOR: Actor;
}

thread_local! {
    /// The actor of the work running on this (blocking) thread, set by [`with_actor`].
    static THREAD_ACTOR: RefCell<Option<Actor>> = const { RefCell::new(None) };
}

static PROCESS_PRINCIPAL: OnceLock<&'static str> = OnceLock::new();

/// Names the principal of writes made outside any request (`cli` for command-line work). Set
/// once, at start; later calls are ignored.
pub fn set_process_principal(principal: &'static str) {
    PROCESS_PRINCIPAL.get_or_init(|| principal);
}

/// The actor of the current request (or blocking work started by one), else the process.
pub fn current() -> Actor {
    if let Ok(actor) = REQUEST_ACTOR.try_with(Clone::clone) {
        return actor;
    }
    THREAD_ACTOR
        .with(|slot| slot.borrow().clone())
        .unwrap_or_else(Actor::of_process)
}

/// Runs blocking `work` as `actor`: the transactions it opens are attributed to it.
pub fn with_actor<T>(actor: Actor, work: impl FnOnce() -> T) -> T {
    let previous = THREAD_ACTOR.with(|slot| slot.replace(Some(actor)));
    // Restored even if `work` panics, so that a pooled thread never carries a stale actor.
    struct Restore(Option<Actor>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD_ACTOR.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    work()
}

/// Middleware, inside `identify`: serves the request with its [`Actor`] in a task-local.
/// Requests without a valid token write nothing, but are attributed to `anonymous` all the same.
pub async fn attribute(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let principal = Principal::of(req.request());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.as_str().to_owned());
    let actor = Actor {
        principal: principal
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), |p| p.subject.clone()),
        client_id: principal.and_then(|p| p.client_id.clone()),
        request_id,
    };
    REQUEST_ACTOR.scope(actor, next.call(req)).await
}

/// One audited write, to be inserted with the transaction that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The resource type (`school`, `person`, `indicator`, `api_client` …).
    pub resource: &'static str,
    /// The resource's id as text (a UUID for most resources).
    pub resource_id: String,
    pub operation: Operation,
    /// Where the resource is (was, for a deletion); empty for resources outside the territory
    /// tree (indicator definitions, API clients), which only principals of a whole country read.
    pub territory_path: String,
    /// Where it was before an update that moved it; empty when it did not move.
    pub previous_territory_path: String,
    /// `{"field": {"before": x, "after": y}}` for the fields that changed.
    pub changes: Value,
}

impl AuditEntry {
    /// An entry for a write that is not in the change journal (indicator definitions, API
    /// clients): give the before and after snapshots (`None` for a creation or a deletion) and
    /// pass it to [`crate::db::Tx::audit`]. An empty `territory_path` is read only by principals
    /// holding a whole country.
    pub fn new(
        resource: &'static str,
        resource_id: impl Into<String>,
        operation: Operation,
        territory_path: impl Into<String>,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> AuditEntry {
        AuditEntry {
            resource,
            resource_id: resource_id.into(),
            operation,
            territory_path: territory_path.into(),
            previous_territory_path: String::new(),
            changes: diff(resource, before, after),
        }
    }

    /// The entry of a journalled change.
    pub fn of_change(change: &Change, before: Option<&Value>, after: Option<&Value>) -> Self {
        AuditEntry {
            resource: change.resource,
            resource_id: change.id.to_string(),
            operation: change.operation,
            territory_path: change.territory_path.clone(),
            previous_territory_path: change.previous_territory_path.clone().unwrap_or_default(),
            changes: diff(change.resource, before, after),
        }
    }
}

/// Fields holding personal data, per resource: the log says that they changed, not their values.
pub fn masked_fields(resource: &str) -> &'static [&'static str] {
    match resource {
        "person" => &["name", "search_name", "email", "phone"],
        _ => &[],
    }
}

/// `{"field": {"before": x, "after": y}}` over the fields of two JSON objects whose values
/// differ; only `after` for a creation, only `before` for a deletion; personal data masked.
pub fn diff(resource: &str, before: Option<&Value>, after: Option<&Value>) -> Value {
    let masked = masked_fields(resource);
    let shown = |field: &str, value: &Value| {
        if masked.contains(&field) && !value.is_null() {
            Value::String(MASK.to_owned())
        } else {
            value.clone()
        }
    };
    let empty = Map::new();
    let before_fields = before.and_then(Value::as_object).unwrap_or(&empty);
    let after_fields = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Map::new();
    let mut names: Vec<&String> = before_fields.keys().chain(after_fields.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let old = before_fields.get(name);
        let new = after_fields.get(name);
        if before.is_some() && after.is_some() && old == new {
            continue;
        }
        let mut field = Map::new();
        if before.is_some() {
            field.insert("before".into(), shown(name, old.unwrap_or(&Value::Null)));
        }
        if after.is_some() {
            field.insert("after".into(), shown(name, new.unwrap_or(&Value::Null)));
        }
        out.insert(name.clone(), Value::Object(field));
    }
    Value::Object(out)
}

/// A snapshot of any serialisable row, for [`crate::db::Tx::record_diff`]. A row that cannot be
/// serialised (it never happens with plain rows) is logged as an empty snapshot rather than
/// failing the write.
pub fn snapshot<T: serde::Serialize>(row: &T) -> Value {
    serde_json::to_value(row).unwrap_or_else(|error| {
        tracing::error!(error = %error, "cannot snapshot a row for the audit log");
        Value::Object(Map::new())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn updates_keep_only_changed_fields_and_mask_personal_data() {
        let before = json!({"name": "Ana", "email": "a@x.cl", "country": "CL", "v": 1});
        let after = json!({"name": "Ana María", "email": "a@x.cl", "country": "CL", "v": 2});
        assert_eq!(
            diff("person", Some(&before), Some(&after)),
            json!({"name": {"before": "***", "after": "***"}, "v": {"before": 1, "after": 2}})
        );
        assert_eq!(
            diff("school", Some(&before), Some(&after))["name"],
            json!({"before": "Ana", "after": "Ana María"})
        );
    }

    #[test]
    fn creations_and_deletions_carry_one_side() {
        let row = json!({"name": "Ana", "phone": null});
        assert_eq!(
            diff("person", None, Some(&row)),
            json!({"name": {"after": "***"}, "phone": {"after": null}})
        );
        assert_eq!(
            diff("school", Some(&row), None),
            json!({"name": {"before": "Ana"}, "phone": {"before": null}})
        );
    }

    #[test]
    fn the_thread_actor_is_restored() {
        let actor = Actor {
            principal: "u".into(),
            client_id: None,
            request_id: Some("r".into()),
        };
        assert_eq!(with_actor(actor.clone(), current), actor);
        assert_ne!(current().principal, "u");
    }
}
