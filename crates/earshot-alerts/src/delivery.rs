//! The delivery journal: one record per alert per webhook, a plain serde value the store persists.
//!
//! ```text
//!          2xx                                   4xx (not 408/429), 3xx, attempts used up
//! pending ─────▶ sent               pending ───────────────────────────────────────────▶ failed
//!    ▲ │ 5xx, 408, 429, timeout, connection refused:                                     │
//!    │ └─ next_attempt_at = now + backoff (or Retry-After) ──▶ pending                    │
//!    └────────────────────────────────── requeue ──────────────────────────────────────────┘
//! ```
//!
//! Delivery is at-least-once: a timeout may hide a request the receiver did process, and it is sent
//! again. The `Earshot-Delivery` id is the same on every attempt (it is derived from the webhook,
//! storm, event and alert number, not drawn at random), so receivers drop the duplicate.

use crate::alerter::{Alert, AlertEvent};
use crate::config::{Format, Webhook};
use crate::payload;
use crate::subject::AlertSubject;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Sent,
    /// Given up; see `last_error`. [`Delivery::requeue`] tries again.
    Failed,
}

impl DeliveryState {
    /// The stable lowercase name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    /// Parses [`DeliveryState::as_str`].
    pub fn parse(name: &str) -> Option<DeliveryState> {
        [DeliveryState::Pending, DeliveryState::Sent, DeliveryState::Failed].into_iter().find(|s| s.as_str() == name)
    }
}

/// One alert to one webhook, with its attempts. Everything needed to send it again after a restart is
/// here (the body is kept as sent), except the webhook's secret, which stays in the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The `Earshot-Delivery` id ([`delivery_id`]); a natural primary key.
    pub id: String,
    /// The webhook's name.
    pub webhook: String,
    /// The storm.
    pub storm_id: String,
    /// The storm's brand, so the inbox can scope deliveries like everything else.
    pub brand: String,
    /// What happened to the storm.
    pub event: AlertEvent,
    /// The alert's number within its storm.
    pub seq: u32,
    /// The body's format.
    pub format: Format,
    /// The request body, sent byte for byte on every attempt.
    pub body: String,
    /// When the delivery was created (the body's `sent_at`).
    pub created_at: DateTime<Utc>,
    /// Where it is.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not to be attempted before this.
    pub next_attempt_at: DateTime<Utc>,
    /// When the latest attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the latest answer, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// Why the latest attempt failed, in words for the person reading the inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the receiver accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The delivery id: 32 hex digits of SHA-256 over the webhook name, storm id, event and alert number.
/// Deterministic, so a delivery re-created after a crash (before it was stored) keeps its id and the
/// receiver still dedupes it.
pub fn delivery_id(webhook: &str, storm_id: &str, event: AlertEvent, seq: u32) -> String {
    let mut hash = Sha256::new();
    // Unit separators keep ("a", "bc") and ("ab", "c") apart.
    for part in [webhook.as_bytes(), storm_id.as_bytes(), event.as_str().as_bytes(), seq.to_string().as_bytes()] {
        hash.update(part);
        hash.update([0x1f]);
    }
    hex::encode(&hash.finalize()[..16])
}

impl Delivery {
    /// A pending delivery of `alert` about `subject` to `webhook`, due at `now`, its body rendered.
    pub fn new(webhook: &Webhook, alert: &Alert, subject: &AlertSubject, now: DateTime<Utc>) -> Delivery {
        let id = delivery_id(&webhook.name, &alert.storm_id, alert.event, alert.seq);
        Delivery {
            body: payload::render(webhook.format, alert, subject, &id, now),
            id,
            webhook: webhook.name.clone(),
            storm_id: alert.storm_id.clone(),
            brand: subject.brand.clone(),
            event: alert.event,
            seq: alert.seq,
            format: webhook.format,
            created_at: now,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_attempt_at: None,
            last_status: None,
            last_error: None,
            delivered_at: None,
        }
    }

    /// Pending and due at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.state == DeliveryState::Pending && self.next_attempt_at <= now
    }

    /// Puts a failed delivery back in the queue, due at `now`, with a fresh attempt count; the id and
    /// body are kept, so the receiver can still dedupe. Returns false (changing nothing) unless failed.
    pub fn requeue(&mut self, now: DateTime<Utc>) -> bool {
        if self.state != DeliveryState::Failed {
            return false;
        }
        self.state = DeliveryState::Pending;
        self.attempts = 0;
        self.next_attempt_at = now;
        true
    }
}

/// One delivery per webhook that wants this alert (see [`Webhook::accepts`]), in webhook order.
pub fn plan(webhooks: &[Webhook], alert: &Alert, subject: &AlertSubject, now: DateTime<Utc>) -> Vec<Delivery> {
    webhooks.iter().filter(|w| w.accepts(alert.event, subject)).map(|w| Delivery::new(w, alert, subject, now)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::example;
    use earshot_outbox::Secret;

    fn alert(event: AlertEvent, seq: u32) -> Alert {
        Alert {
            storm_id: "storm-42".into(),
            event,
            seq,
            posts: 120,
            previous_posts: None,
            at: DateTime::from_timestamp(1_714_561_800, 0).unwrap(),
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = delivery_id("ops", "storm-42", AlertEvent::Opened, 0);
        assert_eq!(a.len(), 32);
        assert_eq!(a, delivery_id("ops", "storm-42", AlertEvent::Opened, 0));
        let others = [
            delivery_id("ops2", "storm-42", AlertEvent::Opened, 0),
            delivery_id("ops", "storm-4", AlertEvent::Opened, 0),
            delivery_id("ops", "storm-42", AlertEvent::Updated, 0),
            delivery_id("ops", "storm-42", AlertEvent::Opened, 1),
            delivery_id("op", "sstorm-42", AlertEvent::Opened, 0),
        ];
        assert!(others.iter().all(|o| *o != a));
    }

    #[test]
    fn plan_filters_and_renders_per_format() {
        let mut ops = Webhook::new("ops", "https://ops.example/hook", Some(Secret::new("s")), Format::Earshot).unwrap();
        ops.events = vec![AlertEvent::Opened];
        let slack = Webhook::new("slack", "https://chat.example/hook", None, Format::Slack).unwrap();
        let now = DateTime::from_timestamp(1_714_561_805, 0).unwrap();
        let webhooks = [ops, slack];

        let opened = plan(&webhooks, &alert(AlertEvent::Opened, 0), &example(), now);
        assert_eq!(opened.iter().map(|d| d.webhook.as_str()).collect::<Vec<_>>(), ["ops", "slack"]);
        let body: serde_json::Value = serde_json::from_str(&opened[0].body).unwrap();
        assert_eq!(body["delivery_id"], opened[0].id.as_str());
        assert!(serde_json::from_str::<serde_json::Value>(&opened[1].body).unwrap()["blocks"].is_array());
        assert!(opened.iter().all(|d| d.is_due(now) && d.attempts == 0 && d.brand == "Gilt"));

        let updated = plan(&webhooks, &alert(AlertEvent::Updated, 1), &example(), now);
        assert_eq!(updated.len(), 1, "ops only wants opened");
    }

    #[test]
    fn journal_round_trips_and_requeues_only_failures() {
        let w = Webhook::new("ops", "https://ops.example/hook", Some(Secret::new("s")), Format::Earshot).unwrap();
        let now = DateTime::from_timestamp(1_714_561_805, 0).unwrap();
        let mut d = Delivery::new(&w, &alert(AlertEvent::Closed, 3), &example(), now);
        assert!(!d.requeue(now));
        d.state = DeliveryState::Failed;
        d.attempts = 8;
        d.last_error = Some("HTTP 400".into());
        let back: Delivery = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        assert!(d.requeue(now));
        assert_eq!((d.state, d.attempts), (DeliveryState::Pending, 0));
        assert_eq!(DeliveryState::parse("failed"), Some(DeliveryState::Failed));
        assert_eq!(DeliveryState::parse("lost"), None);
    }
}
