//! Live listening for earshot (`earshot watch`): X filtered stream, Mastodon streaming, Bluesky Jetstream
//! and RSS/Atom feeds, read continuously into the same pipeline as `earshot ingest`.
//!
//! - [`config`]: the `[[sources]]` entries of `earshot.toml`;
//! - [`source`]: the [`source::Source`] trait (one implementation per kind, registered in
//!   [`source::source_for`]): a source only speaks its protocol and hands raw records over with the cursor
//!   each one advances to; [`x`], [`mastodon`], [`jetstream`], [`feed`] are the kinds;
//! - [`run`]: reconnects with backoff and jitter, honours rate limits, bounds memory with a bounded queue,
//!   commits through a [`run::Sink`] and only then saves cursors and health.
//!
//! **Invariant:** records reach the store exactly as the platform sent them (the decoders in
//! `earshot-core` parse them; nothing here does); a cursor never moves past an uncommitted post. Delivery
//! is at-least-once from the platforms and exactly-once in the store, by platform id.
//!
//! The `fake` feature adds local servers speaking each protocol, for tests.

pub mod config;
#[cfg(feature = "fake")]
pub mod fake;
pub mod feed;
pub mod jetstream;
pub mod mastodon;
pub mod run;
pub mod source;
pub mod x;

pub use config::{ConfigError, Kind, SourceConfig, sources_from_toml};
pub use run::{Counts, HealthAlert, Options, Sink, Summary, run};
