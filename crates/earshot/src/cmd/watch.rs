//! `earshot watch`: listen to the `[[sources]]` of `earshot.toml` continuously.
//!
//! The sources, reconnects, back-pressure and cursors live in `earshot-watch`; this file is the sink that
//! makes live records go through exactly what `earshot ingest` does: the same `Ingestor` (decode,
//! attribute, analyze, commit), then the case stage (threading, storms) and queued alerts.
//!
//! Health alerts (a source failing or silent past its threshold, and its recovery) go to the `[alerts]`
//! webhooks from a thread of their own, so a slow receiver never holds up reading or committing. They are
//! signed exactly as storm alerts (`Earshot-Signature` over `"<timestamp>.<body>"`, see `earshot-alerts`),
//! with `Earshot-Event: source.failing | source.silent | source.recovered`. They are sent directly, not
//! through the `alerts` journal: `Dispatcher` and the journal only know storm events.

use super::DbArg;
use anyhow::{Context, Result};
use earshot::config;
use earshot::ingest::{Ingestor, Input};
use earshot_core::brand::Brands;
use earshot_core::decode::Decoder;
use earshot_store::{AnyStore, Store};
use earshot_watch::{Counts, Options, Sink};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use earshot_alerts::{Alerts, Format, Webhook, sign};
use earshot_watch::HealthAlert;

/// The deterministic `Earshot-Delivery` id of a health alert to a webhook: receivers dedupe retries on it.
fn delivery_id(webhook: &str, alert: &HealthAlert) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in [webhook, alert.source.as_str(), alert.event, &alert.since.timestamp_millis().to_string()] {
        hash.update(part.as_bytes());
        hash.update([0x1f]);
    }
    hex::encode(&hash.finalize()[..16])
}

/// The request body of a health alert in the webhook's format.
pub(crate) fn health_body(format: Format, alert: &HealthAlert, id: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    match format {
        Format::Slack => {
            let icon = if alert.event == "source.recovered" { ":white_check_mark:" } else { ":rotating_light:" };
            let text = format!(
                "{icon} earshot: source *{}* ({}) {}: {}{}",
                alert.source,
                alert.kind,
                alert.event.trim_start_matches("source."),
                alert.reason,
                alert.last_error.as_deref().map(|e| format!(" — last error: {e}")).unwrap_or_default()
            );
            serde_json::json!({ "text": text }).to_string()
        }
        _ => serde_json::json!({
            "event": alert.event,
            "delivery": id,
            "sent_at": now,
            "source": alert,
        })
        .to_string(),
    }
}

/// Sends one health alert to one webhook, retrying connection failures, 408, 429 and 5xx with
/// exponential backoff up to the webhook's attempts. Returns whether it was delivered.
async fn send_health(client: &reqwest::Client, webhook: &Webhook, alert: &HealthAlert) -> bool {
    let id = delivery_id(&webhook.name, alert);
    let body = health_body(webhook.format, alert, &id, chrono::Utc::now());
    for attempt in 1..=webhook.max_attempts.max(1) {
        let ts = chrono::Utc::now().timestamp();
        let mut req = client
            .post(webhook.url.clone())
            .timeout(webhook.timeout)
            .header("content-type", "application/json")
            .header(sign::TIMESTAMP_HEADER, ts.to_string())
            .header(sign::DELIVERY_HEADER, &id)
            .header(sign::EVENT_HEADER, alert.event);
        if let Some(secret) = &webhook.secret {
            req = req.header(sign::SIGNATURE_HEADER, sign::signature(secret.expose().as_bytes(), ts, body.as_bytes()));
        }
        let why = match req.body(body.clone()).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!(webhook = %webhook.name, source = %alert.source, event = alert.event, "health alert delivered");
                return true;
            }
            Ok(r) => {
                let status = r.status().as_u16();
                if !matches!(status, 408 | 429 | 500..=599) {
                    tracing::warn!(webhook = %webhook.name, target = %webhook.target(), "health alert refused: HTTP {status}");
                    return false;
                }
                format!("HTTP {status}")
            }
            Err(e) => format!("could not send: {}", e.without_url()),
        };
        tracing::warn!(webhook = %webhook.name, target = %webhook.target(), attempt, "health alert not delivered: {why}");
        if attempt < webhook.max_attempts {
            tokio::time::sleep(Duration::from_millis(500u64 << attempt.min(6))).await;
        }
    }
    false
}

/// Starts the health alert sender: every alert to every webhook without an event filter (a webhook that
/// lists events asked for those storm events only). Ends when the watch loop drops its sender.
fn health_sender(
    alerts: Alerts,
) -> Result<(tokio::sync::mpsc::UnboundedSender<HealthAlert>, std::thread::JoinHandle<()>)> {
    let webhooks: Vec<Webhook> = alerts.webhooks.into_iter().filter(|w| w.events.is_empty()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<HealthAlert>();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting tokio")?;
    let client = reqwest::Client::builder()
        .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("setting up the webhook client")?;
    let handle = std::thread::Builder::new()
        .name("health-alerts".into())
        .spawn(move || {
            runtime.block_on(async {
                while let Some(alert) = rx.recv().await {
                    for w in &webhooks {
                        send_health(&client, w, &alert).await;
                    }
                }
            })
        })
        .context("starting the health alert thread")?;
    Ok((tx, handle))
}

/// Arguments of `earshot watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config with [[brands]] and [[sources]] (default: ./earshot.toml).
    #[arg(long, env = "EARSHOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// Exit once no source has delivered a post for this many seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub exit_when_idle: Option<f64>,
    /// Print the summary as JSON on the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// Commits live records through the `earshot ingest` pipeline.
struct PipelineSink {
    store: AnyStore,
    brands: Brands,
    /// Analysis threads kept for the whole watch (as many as `earshot ingest --threads` defaults to), so their word
    /// caches stay warm across the many small commits.
    pool: std::sync::Arc<earshot::ingest::AnalysisPool>,
    cases: earshot::cases::CaseStage,
    /// Webhooks and a second connection for the delivery journal (sending is async and journals as it goes).
    alerts: Option<(earshot_alerts::Alerts, Mutex<AnyStore>)>,
}

impl Sink for PipelineSink {
    fn ingest(&mut self, source: &str, decoder: &'static dyn Decoder, input: &[u8]) -> Result<Counts> {
        let mut ingestor = Ingestor::new(&mut self.store, self.brands.clone()).pool(self.pool.clone());
        ingestor.ingest(Input::from_bytes(source, input), Some(decoder))?;
        let s = ingestor.finish()?;
        Ok(Counts {
            stored: s.stored,
            duplicates: s.duplicates,
            rejected: s.rejected,
            skipped: s.skipped,
            deletions: s.deletions,
        })
    }

    fn settle(&mut self) -> Result<()> {
        self.cases.run(&mut self.store, chrono::Utc::now())?;
        earshot::report::refresh(&mut self.store)?;
        if let Some((alerts, journal)) = &self.alerts {
            let due = journal
                .lock()
                .map_err(|_| anyhow::anyhow!("store lock poisoned"))?
                .due_alerts(chrono::Utc::now(), 1)?;
            if !due.is_empty() {
                // On the writer's blocking thread: waiting here is the back-pressure, as for a commit.
                let (sent, failed) =
                    tokio::runtime::Handle::current().block_on(earshot::alerts::send_due(journal, alerts))?;
                tracing::info!(sent, failed, "storm alerts");
            }
        }
        Ok(())
    }

    fn store(&mut self) -> &mut dyn Store {
        &mut self.store
    }
}

/// Runs `sources` (read from the config file at `config_path`, whose text is `text`) into the store of `db` until
/// `idle` passes without a record, or Ctrl-C: what `earshot watch` does, and `earshot serve` on a thread of its own.
pub(crate) fn watch(
    config_path: &std::path::Path,
    text: &str,
    sources: Vec<earshot_watch::SourceConfig>,
    db: &DbArg,
    idle: Option<Duration>,
) -> Result<earshot_watch::Summary> {
    let mut store = db.open_with(Some(config_path))?;
    let brand_configs = config::load_brands(config_path)?;
    store.upsert_brands(&brand_configs, chrono::Utc::now())?;
    let policies = earshot::cases::load_policies(Some(config_path))?;
    let storms = earshot::storms::stage_from_config(&store, Some(config_path))?;
    let cases = earshot::cases::CaseStage::open_with(&store, policies, Some(storms))?;
    let alerts =
        match earshot::alerts::from_toml(text).with_context(|| format!("in config file {}", config_path.display()))? {
            Some(a) => Some((a, Mutex::new(db.open_with(Some(config_path))?))),
            None => None,
        };
    let threads = super::ingest::default_threads();
    let (health_alerts, sender) = match &alerts {
        Some((a, _)) => {
            let (tx, handle) = health_sender(a.clone())?;
            (Some(tx), Some(handle))
        }
        None => (None, None),
    };
    let brands = Brands::new(brand_configs);
    let pool = std::sync::Arc::new(earshot::ingest::AnalysisPool::new(threads, brands.clone()));
    let sink = PipelineSink { store, brands, pool, cases, alerts };
    let options = Options { exit_when_idle: idle, health_alerts, ..Options::default() };
    let result = earshot_watch::run(sources, sink, options);
    // The loop dropped its sender: alerts already raised are delivered (or given up) before returning.
    if let Some(h) = sender {
        let _ = h.join();
    }
    Ok(result?.0)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let config_path = config::resolve(args.config.as_deref())?.context(
        "no config file: earshot watch reads its [[sources]] from earshot.toml\nhint: pass --config PATH or create ./earshot.toml (see README \"Live listening\")",
    )?;
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read config file {}", config_path.display()))?;
    let sources = earshot_watch::sources_from_toml(&text, |name| std::env::var(name).ok())
        .with_context(|| format!("in config file {}", config_path.display()))?;
    let idle = match args.exit_when_idle {
        Some(s) if !(s.is_finite() && s >= 0.0) => anyhow::bail!("--exit-when-idle takes seconds ≥ 0, not {s}"),
        Some(s) => Some(Duration::from_secs_f64(s)),
        None => None,
    };
    eprintln!(
        "watching {} source{}: {}{}",
        sources.len(),
        if sources.len() == 1 { "" } else { "s" },
        sources.iter().map(|s| format!("{} ({})", s.name, s.kind.as_str())).collect::<Vec<_>>().join(", "),
        if idle.is_none() { "; Ctrl-C stops" } else { "" }
    );
    let summary = watch(&config_path, &text, sources, &args.db, idle)?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "watched {:.1}s: {} records ({:.0}/s), stored {}, duplicates {}, rejected {}, skipped {}, deletions {}; {} commits, {} reconnects",
            summary.elapsed_s,
            summary.records,
            summary.records_per_s,
            summary.stored,
            summary.duplicates,
            summary.rejected,
            summary.skipped,
            summary.deletions,
            summary.commits,
            summary.reconnects
        );
        if summary.rejected > 0 {
            println!("hint: see why with `earshot rejects --db {}`", args.db.shown());
        }
    }
    Ok(if summary.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(event: &'static str) -> HealthAlert {
        let t = "2026-01-01T00:00:00Z".parse().unwrap();
        HealthAlert {
            event,
            source: "x-main".into(),
            kind: "x_stream".into(),
            url: "https://api.x.com".into(),
            status: "failing".into(),
            reason: "failing for 61s (threshold 60s)".into(),
            since: t,
            at: t,
            last_post_at: None,
            errors: 4,
            last_error: Some("connection refused".into()),
        }
    }

    #[test]
    fn health_bodies_and_ids() {
        let now = chrono::Utc::now();
        let a = alert("source.failing");
        let id = delivery_id("ops", &a);
        assert_eq!(id, delivery_id("ops", &a), "retries keep their id");
        assert_ne!(id, delivery_id("ops", &alert("source.recovered")));
        assert_ne!(id, delivery_id("pager", &a));
        let v: serde_json::Value = serde_json::from_str(&health_body(Format::Earshot, &a, &id, now)).unwrap();
        assert_eq!((v["event"].as_str(), v["delivery"].as_str()), (Some("source.failing"), Some(id.as_str())));
        assert_eq!(v["source"]["source"], "x-main");
        let slack: serde_json::Value = serde_json::from_str(&health_body(Format::Slack, &a, &id, now)).unwrap();
        let text = slack["text"].as_str().unwrap();
        assert!(text.contains("*x-main*") && text.contains("failing") && text.contains("connection refused"), "{text}");
    }
}
