//! Storm alerts in the pipeline: which storm events become webhook deliveries (queued in the store with the
//! storm, in the same transaction), and the sender that works the queue.
//!
//! Deciding and sending are apart on purpose: deciding is deterministic and happens where storms are
//! detected; sending needs the network and may be retried for hours. The store's `alerts` table is the
//! journal between them, so a crash neither loses an alert nor sends one twice under two ids.

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use earshot_alerts::{
    AlertSubject, Alerter, AlerterState, Alerts, AlertsConfig, Delivery, DeliveryState, Dispatcher, Sample, StormPhase,
    plan,
};
use earshot_store::{AlertRow, Store};
use earshot_storms::storm::{Storm, StormEvent};

/// Decides alerts from storm events (`[alerts]` in `earshot.toml`).
#[derive(Debug)]
pub struct AlertStage {
    alerts: Alerts,
    alerter: Alerter,
    /// The inbox's public URL, to link a storm case from the alert.
    public_url: Option<String>,
}

impl AlertStage {
    /// From a resolved `[alerts]` section and the alerter's saved state.
    pub fn new(alerts: Alerts, state: Option<AlerterState>, public_url: Option<String>) -> AlertStage {
        let alerter = match state {
            Some(s) => Alerter::with_state(alerts.policy, s),
            None => Alerter::new(alerts.policy),
        };
        AlertStage { alerts, alerter, public_url }
    }

    /// The alerter's state, to save with the storm tracker.
    pub fn state(&self) -> &AlerterState {
        self.alerter.state()
    }

    /// The deliveries (one per matching webhook) an event calls for, as rows to queue.
    pub fn alerts_for(&mut self, event: &StormEvent, case_id: i64, now: DateTime<Utc>) -> Vec<AlertRow> {
        let storm = event.storm();
        let (phase, at) = match event {
            StormEvent::Opened(s) => (StormPhase::Opened, s.detected_at),
            StormEvent::Updated(s) => (StormPhase::Updated, s.last_post_at),
            StormEvent::Closed(s) => (StormPhase::Closed, s.closed_at.unwrap_or(s.last_post_at)),
        };
        let subject = subject(storm, self.public_url.as_deref().map(|u| format!("{u}/cases/{case_id}")));
        let Some(alert) = self.alerter.observe(&subject.event(phase, secs(at))) else { return Vec::new() };
        plan(&self.alerts.webhooks, &alert, &subject, now).into_iter().filter_map(|d| row_of(&d).ok()).collect()
    }
}

fn secs(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}

/// What an alert says about a storm.
pub fn subject(storm: &Storm, url: Option<String>) -> AlertSubject {
    AlertSubject {
        storm_id: storm.id.clone(),
        brand: storm.brand.clone(),
        kind: storm.kind.as_str().into(),
        facet: storm.facet.as_str().into(),
        key: storm.key.clone(),
        started_at: secs(storm.started_at),
        detected_at: secs(storm.detected_at),
        closed_at: storm.closed_at.map(secs),
        posts: storm.posts,
        authors: storm.authors,
        hashtags: storm.top_hashtags.iter().map(|c| c.value.clone()).collect(),
        samples: storm
            .sample_text
            .iter()
            .map(|t| Sample {
                author: storm.participants.first().cloned().unwrap_or_default(),
                text: t.clone(),
                url: None,
            })
            .collect(),
        url,
    }
}

fn row_of(d: &Delivery) -> Result<AlertRow> {
    Ok(AlertRow {
        id: d.id.clone(),
        storm_id: d.storm_id.clone(),
        brand: d.brand.clone(),
        event: d.event.as_str().into(),
        webhook: d.webhook.clone(),
        state: d.state.as_str().into(),
        attempts: i64::from(d.attempts),
        created_at: d.created_at,
        next_at: (d.state == DeliveryState::Pending).then_some(d.next_attempt_at),
        sent_at: d.delivered_at,
        last_error: d.last_error.clone(),
        data: serde_json::to_value(d).context("encoding an alert delivery")?,
    })
}

/// Reads and resolves `[alerts]` from a config file's text; `None` when it configures no webhook.
pub fn from_toml(text: &str) -> Result<Option<Alerts>> {
    let config = AlertsConfig::from_toml(text).context("in the [alerts] section")?;
    let alerts = config.resolve(|name| std::env::var(name).ok()).context("in the [alerts] section")?;
    Ok((!alerts.webhooks.is_empty()).then_some(alerts))
}

/// Sends every due alert in the store once (each with its own retries and backoff, journaled after every
/// attempt), and returns how many were delivered and how many failed for good.
pub async fn send_due(store: &std::sync::Mutex<dyn Store + Send>, alerts: &Alerts) -> Result<(u64, u64)> {
    let dispatcher = Dispatcher::new().context("setting up the webhook client")?;
    let due = store.lock().map_err(|_| anyhow::anyhow!("store lock poisoned"))?.due_alerts(Utc::now(), 1000)?;
    let (mut sent, mut failed) = (0, 0);
    for row in due {
        let mut delivery: Delivery = match serde_json::from_value(row.data.clone()) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(alert = %row.id, "unreadable alert delivery, skipped: {e}");
                continue;
            }
        };
        let Some(webhook) = alerts.webhooks.iter().find(|w| w.name == delivery.webhook) else {
            tracing::warn!(alert = %row.id, webhook = %delivery.webhook, "no such webhook in the config any more");
            continue;
        };
        let mut journal = |d: &Delivery| {
            if let Ok(r) = row_of(d)
                && let Ok(mut s) = store.lock()
                && let Err(e) = s.update_alert(&r)
            {
                tracing::warn!(alert = %r.id, "could not record an alert attempt: {e}");
            }
        };
        match dispatcher.deliver(webhook, &mut delivery, &mut journal).await {
            DeliveryState::Sent => sent += 1,
            DeliveryState::Failed => failed += 1,
            _ => {}
        }
    }
    Ok((sent, failed))
}

/// Sends the alerts queued in `store` when the config at `path` has webhooks (what `earshot ingest` does
/// after detecting storms). A receiver that stays down leaves its alerts failed in the journal, visible in
/// the inbox, and is not an ingest error.
pub fn send_configured(store: impl Store + Send + 'static, path: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let Some(alerts) = from_toml(&text).with_context(|| format!("in config file {}", path.display()))? else {
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting tokio")?;
    let store = std::sync::Mutex::new(store);
    let (sent, failed) = runtime.block_on(send_due(&store, &alerts))?;
    if sent + failed > 0 {
        eprintln!("alerts: {sent} delivered, {failed} failed (see `earshot storms` and the inbox)");
    }
    Ok(())
}
