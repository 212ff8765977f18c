//! Storm alerts: signed outgoing webhooks, with a cooldown so one storm is one alert plus updates.
//!
//! The pieces, in the order an alert flows through them:
//!
//! - [`Alerter`] (`alerter`): pure logic deciding which storm events become alerts — one
//!   `storm.opened`, updates only on material growth and at most once per cooldown, one
//!   `storm.closed`. Time is an input and its state ([`AlerterState`]) is serde, so it survives
//!   restarts. Storms come in as [`StormEvent`]s; what is said about them as an [`AlertSubject`],
//!   which the pipeline maps from the storm detector's own type (or reads from JSON).
//! - [`AlertsConfig`] (`config`): the `[alerts]` section of `earshot.toml` — cooldown and update
//!   policy, and `[[alerts.webhooks]]` with URL, signing secret (from an environment variable only),
//!   format, brand/kind/event filters, timeout and attempts. Every problem is reported at once, naming
//!   its table and field.
//! - [`plan`] / [`Delivery`] (`delivery`): one journal record per alert per webhook, its body rendered
//!   once ([`payload`]: earshot's JSON or a Slack Block Kit message) and a deterministic id receivers
//!   dedupe on. A plain serde struct: the store persists it; this crate speaks no SQL.
//! - [`Dispatcher`] (`dispatch`): signed POSTs ([`sign`]: `Earshot-Signature: v1=<hex HMAC-SHA256 of
//!   "<timestamp>.<body>">`), retries with exponential backoff and jitter on connection failures,
//!   timeouts, 408, 429 (honouring `Retry-After`) and 5xx; no retry on other 4xx. Time and sleeping
//!   come from a [`Clock`], so tests run real HTTP with a [`ManualClock`] and never wait.
//!
//! ```no_run
//! # async fn demo(storm_json: serde_json::Value) -> Result<(), Box<dyn std::error::Error>> {
//! use earshot_alerts::{Alerter, AlertSubject, AlertsConfig, Dispatcher, StormPhase, plan};
//!
//! let config = AlertsConfig::from_toml(&std::fs::read_to_string("earshot.toml")?)?;
//! let alerts = config.resolve(|name| std::env::var(name).ok())?;
//! let mut alerter = Alerter::new(alerts.policy); // or Alerter::with_state(policy, stored_state)
//! let dispatcher = Dispatcher::new()?;
//!
//! let storm = AlertSubject::from_value(storm_json)?;
//! let now = chrono::Utc::now();
//! if let Some(alert) = alerter.observe(&storm.event(StormPhase::Opened, now)) {
//!     for mut delivery in plan(&alerts.webhooks, &alert, &storm, now) {
//!         let webhook = alerts.webhooks.iter().find(|w| w.name == delivery.webhook).unwrap();
//!         dispatcher.deliver(webhook, &mut delivery, &mut |d| { /* store d */ }).await;
//!     }
//! }
//! # Ok(()) }
//! ```

mod alerter;
mod config;
mod delivery;
mod dispatch;
pub mod payload;
pub mod sign;
mod subject;

pub use alerter::{Alert, AlertEvent, AlertPolicy, Alerter, AlerterState, StormAlertState, StormEvent, StormPhase};
pub use config::{
    Alerts, AlertsConfig, ConfigError, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT, Format, Problem, Webhook, WebhookConfig,
};
pub use delivery::{Delivery, DeliveryState, delivery_id, plan};
pub use dispatch::{
    Attempt, BoxFuture, Clock, DEFAULT_MAX_RETRY_AFTER, DispatchError, Dispatcher, ManualClock, SystemClock,
    default_backoff,
};
pub use earshot_outbox::{Backoff, Secret};
pub use sign::{VerifyError, verify};
pub use subject::{AlertSubject, Sample, SubjectError};
