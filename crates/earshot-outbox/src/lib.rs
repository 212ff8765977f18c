//! Replying to customers through the platforms' APIs.
//!
//! Two layers, kept apart so the second can be tested without a network:
//!
//! - **Publishers** ([`Publisher`], one file per platform, registered in [`publisher_for`]): turn a
//!   [`ReplyRequest`] into one API call (two or three for Bluesky) and return what was created as
//!   [`Sent`], or a [`PublishError`] that says what failed, where, and what to do.
//!   X API v2 (`x`), Mastodon (`mastodon`), Bluesky / AT Protocol (`bluesky`) and WordPress
//!   comments (`wordpress`, earshot's [`Platform::Blog`]).
//! - **The outbox** ([`Outbox`], [`OutboxItem`]): storage-agnostic state machine for replies waiting
//!   to go out. Time is an input; it retries with exponential backoff and seeded jitter
//!   ([`Backoff`]), honours `Retry-After` / rate-limit reset headers, fails permanent errors with a
//!   readable reason, records `sending` before every call through a [`Journal`] so a crash never
//!   silently double-posts, and has a dry-run mode that calls nothing.
//!
//! Credentials come from the `[outbox]` section of `earshot.toml` ([`OutboxConfig`]); secrets are
//! read from environment variables the config names, never from the file.
//!
//! With the `fake` feature, [`fake::FakePlatforms`] serves all four APIs on loopback for tests.
//!
//! [`Platform::Blog`]: earshot_core::Platform::Blog

mod backoff;
mod bluesky;
mod config;
mod error;
mod http;
mod key;
mod mastodon;
mod outbox;
mod publisher;
mod wordpress;
mod x;

#[cfg(feature = "fake")]
pub mod fake;

pub use backoff::Backoff;
pub use config::{Account, AccountConfig, Auth, ConfigError, Credentials, OutboxConfig, Secret, Visibility};
pub use earshot_core::Platform;
pub use error::{ErrorClass, PublishError, RetryAt};
pub use key::idempotency_key;
pub use outbox::{
    Delivery, Journal, JournalError, Outbox, OutboxItem, OutboxState, Outcome, RunReport, idempotency_window,
};
pub use publisher::{BoxFuture, Publisher, Publishers, ReplyRequest, Sent, publisher_for};
