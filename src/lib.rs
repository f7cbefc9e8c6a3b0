//! Redes: a REST/JSON API for school-improvement networks.
//!
//! The binary (`src/main.rs`) is a thin shell over this library so that the integration tests in
//! `tests/api/` can build and run the very same application.

pub mod audit;
pub mod auth;
pub mod body;
pub mod catalog;
pub mod chart;
pub mod cli;
pub mod configuration;
pub mod contract;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod etag;
pub mod i18n;
pub mod idempotency;
pub mod import;
pub mod import_jobs;
pub mod json;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod pagination;
pub mod query;
pub mod repository;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod telemetry;
pub mod text_encoding;
