//! The API suite: the real application over HTTP, on a fresh database per test, on SQLite and,
//! when `REDES_TEST_DATABASE_URL` is set, on PostgreSQL too.

// Tests state their expectations with unwrap/expect: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analytics;
mod audit;
mod auth;
mod authorization;
mod bodies;
mod catalogues;
mod changes;
mod cli;
mod coalescing;
mod errors;
mod health;
mod helpers;
mod idempotency;
mod import_jobs;
mod improvement_cycles;
mod indicator_import;
mod indicators;
mod mentoring_visits;
mod networks;
mod oauth;
mod openapi;
mod organizations;
mod pei;
mod plans;
mod read_replica;
mod schools;
mod scoping;
mod sessions;
mod statements;
mod territories;
