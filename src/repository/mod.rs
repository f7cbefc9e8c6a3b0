//! Diesel queries, one module per resource. Functions take a connection and return
//! `QueryResult`; lookups return `Option` rather than turning a database error into "not found".

pub mod audit;
pub mod by_ids;
pub mod catalogues;
pub mod changes;
pub mod clients;
pub mod idempotency;
pub mod import_jobs;
pub mod improvement_cycles;
pub mod indicators;
pub mod mentoring_visits;
pub mod networks;
pub mod organizations;
pub mod pei;
pub mod people;
pub mod plans;
pub mod platform;
pub mod schools;
pub mod scoped;
pub mod sessions;
pub mod territories;

use uuid::Uuid;

/// The result of a write that expected a row at a given version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome<T> {
    Done(T),
    /// Another transaction changed or deleted the row since it was read.
    Concurrent,
}

/// The sort key of lists ordered by folded name, then id (so that equal names still have a
/// stable order): the payload of their cursors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCursor {
    pub name: String,
    pub id: Uuid,
}

/// Separates name and id in a cursor; folded names never contain it.
const CURSOR_SEPARATOR: char = '\u{1f}';

impl NameCursor {
    pub fn encode(name: &str, id: Uuid) -> String {
        format!("{name}{CURSOR_SEPARATOR}{id}")
    }

    /// The sort key in a cursor payload. A payload without an id (a cursor of another list,
    /// such as the territories') reads as "after this name".
    pub fn decode(payload: &str) -> Option<NameCursor> {
        match payload.rsplit_once(CURSOR_SEPARATOR) {
            Some((name, id)) => Some(NameCursor {
                name: name.to_owned(),
                id: Uuid::try_parse(id).ok()?,
            }),
            None => Some(NameCursor {
                name: payload.to_owned(),
                id: Uuid::nil(),
            }),
        }
    }
}
