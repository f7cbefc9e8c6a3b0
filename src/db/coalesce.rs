//! Reads by id that arrive together on one HTTP worker, answered by one statement.
//!
//! On PostgreSQL most of what a read by id costs the database is the statement, not the row:
//! parsing the message, running the executor, the round trip (docs/PERFORMANCE.md: a school by
//! id cost PostgreSQL 34 µs, and each further row of a page about 4 µs). Under load, the
//! requests waiting on a worker's connections would each send that statement in turn. Here
//! they join one: the first read by id on a worker schedules a flush and waits; the flush first
//! lets the worker read the requests already waiting on its other connections (they join the
//! same batch), then reads every id asked with one statement (`id = ANY($1)`, prepared once)
//! and hands each request its row.
//!
//! - Nothing waits for company: a lone request is read at once, with a batch of one.
//! - A request never sees older data than it would alone: a batch's statement starts after
//!   every request in it arrived, and later requests go to the next batch.
//! - Each request checks its own scope on the row it gets (the statement is the same for
//!   every caller), so callers with different territories share a batch safely.
//! - When the batch's statement fails, an outage (503) is every request's answer; any other
//!   failure sends each request to read alone, so that each gets its own answer.
//!
//! Only on PostgreSQL, and only with `REDES_DB_COALESCE_READS` on (the default): SQLite reads
//! in the process, without a round trip to share, and `IN (…)` of a varying length would be
//! prepared at every batch.
//!
//! One [`ByIdBatches`] per HTTP worker (registered in the app factory), so a batch is only ever
//! touched from its worker's thread: no lock (the `Arc` only shares it with the worker's own
//! flush task).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use diesel::QueryResult;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{Db, DbConnection};
use crate::error::{ApiError, ApiResult};

/// The most ids one statement asks for; a larger batch is read in several statements.
const MAX_BATCH: usize = 256;

/// Reads the rows of these ids (each at most once, in any order, none for an unknown id).
pub type FetchMany<Row> = fn(&mut DbConnection, &[Uuid]) -> QueryResult<Vec<Row>>;

/// Reads by id of one kind of row, coalesced per worker. See the module's documentation.
pub struct ByIdBatches<Row> {
    db: Db,
    fetch: FetchMany<Row>,
    key: fn(&Row) -> Uuid,
    waiting: RefCell<Vec<Waiter<Row>>>,
    /// Whether a flush is scheduled for the requests in `waiting`.
    scheduled: Cell<bool>,
}

struct Waiter<Row> {
    id: Uuid,
    answer: oneshot::Sender<Answer<Row>>,
}

enum Answer<Row> {
    Found(Option<Row>),
    Unavailable(String),
    /// The batch failed otherwise: read alone.
    Alone,
}

impl<Row: Clone + Send + 'static> ByIdBatches<Row> {
    pub fn new(db: Db, fetch: FetchMany<Row>, key: fn(&Row) -> Uuid) -> Self {
        ByIdBatches {
            db,
            fetch,
            key,
            waiting: RefCell::new(Vec::new()),
            scheduled: Cell::new(false),
        }
    }

    /// The row with this id (before any scope check: the caller checks its own), read with
    /// the other reads by id that are waiting on this worker. `self` is the worker's handle
    /// (`web::Data::into_inner`): the flush it may schedule keeps a clone.
    pub async fn find(self: Arc<Self>, id: Uuid) -> ApiResult<Option<Row>> {
        if !self.db.coalesces_reads() {
            return self.alone(id).await;
        }
        let (answer, answered) = oneshot::channel();
        self.waiting.borrow_mut().push(Waiter { id, answer });
        if !self.scheduled.replace(true) {
            // A task of its own, not this request's: a client that hangs up drops its request,
            // never the batch the others wait for.
            let batches = Arc::clone(&self);
            actix_web::rt::spawn(async move { batches.flush().await });
        }
        match answered.await {
            Ok(Answer::Found(row)) => Ok(row),
            Ok(Answer::Unavailable(reason)) => Err(ApiError::Unavailable(reason)),
            // The flush ended without answering (the worker is stopping) or the batch failed.
            Ok(Answer::Alone) | Err(_) => self.alone(id).await,
        }
    }

    async fn alone(&self, id: Uuid) -> ApiResult<Option<Row>> {
        let fetch = self.fetch;
        self.db
            .read_short(move |conn| Ok(fetch(conn, &[id])?.pop()))
            .await
    }

    async fn flush(&self) {
        // The requests already waiting on this worker's other connections are read when the
        // worker next polls its sockets; yielding lets it do that before the batch is taken.
        tokio::task::yield_now().await;
        let waiters = std::mem::take(&mut *self.waiting.borrow_mut());
        self.scheduled.set(false);
        let mut waiters = waiters.into_iter().peekable();
        while waiters.peek().is_some() {
            let batch: Vec<Waiter<Row>> = waiters.by_ref().take(MAX_BATCH).collect();
            self.read_batch(batch).await;
        }
    }

    async fn read_batch(&self, batch: Vec<Waiter<Row>>) {
        let mut ids: Vec<Uuid> = batch.iter().map(|waiter| waiter.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let fetch = self.fetch;
        match self.db.read_short(move |conn| Ok(fetch(conn, &ids)?)).await {
            Ok(rows) => {
                let mut rows: HashMap<Uuid, Row> = rows
                    .into_iter()
                    .map(|row| ((self.key)(&row), row))
                    .collect();
                let mut asked: HashMap<Uuid, usize> = HashMap::new();
                for waiter in &batch {
                    *asked.entry(waiter.id).or_default() += 1;
                }
                for waiter in batch {
                    let left = asked.entry(waiter.id).or_default();
                    *left -= 1;
                    // The last request for a row takes it; the others get copies.
                    let row = if *left == 0 {
                        rows.remove(&waiter.id)
                    } else {
                        rows.get(&waiter.id).cloned()
                    };
                    // A request whose client hung up no longer listens: nothing to do.
                    let _ = waiter.answer.send(Answer::Found(row));
                }
            }
            Err(ApiError::Unavailable(reason)) => {
                for waiter in batch {
                    let _ = waiter.answer.send(Answer::Unavailable(reason.clone()));
                }
            }
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    reads = batch.len(),
                    "a batch of reads by id failed; each is read alone"
                );
                for waiter in batch {
                    let _ = waiter.answer.send(Answer::Alone);
                }
            }
        }
    }
}
