//! The `earshot` binary's library half: the ingest pipeline shared by
//! `earshot ingest`, `earshot demo` and `earshot bench`, and config loading.
//!
//! Keeping the pipeline here (not in `main.rs`) lets benches and tests drive
//! the exact code path the CLI uses.

pub mod alerts;
pub mod auth;
pub mod bench;
pub mod cases;
pub mod config;
pub mod demo;
pub mod ingest;
pub mod report;
pub mod serve;
pub mod storms;
pub mod stream;
