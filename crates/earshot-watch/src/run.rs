//! The watch loop: one reader task per source, one writer, a bounded queue between them.
//!
//! Readers ([`drive`]) run a source's sessions forever, reconnecting with exponential backoff and full
//! jitter, or after the wait a 429 asked for. Every record goes into one bounded queue ([`Options::queue`]
//! records): when the writer falls behind (a storm), `Link::emit` waits, so reading slows and memory stays
//! flat. The writer gathers records for up to [`Options::batch_wait`] or [`Options::batch_records`],
//! hands them to the [`Sink`] on a blocking thread (the store is synchronous), and only after the sink
//! has committed them saves each source's cursor and health: a crash can lose queued records but never
//! move a cursor past an uncommitted post, and the records read again deduplicate by platform id.

use crate::config::SourceConfig;
use crate::source::{Health, Link, Msg, Record, SessionEnd, Source, SourceError, source_for};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use earshot_core::decode::{Decoder, Framing};
use earshot_store::{SourceState, Store};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What a sink made of one source's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New posts stored.
    pub stored: u64,
    /// Posts already stored.
    pub duplicates: u64,
    /// Records rejected with a reason.
    pub rejected: u64,
    /// Valid records without a post.
    pub skipped: u64,
    /// Deletion notices.
    pub deletions: u64,
}

/// Where records go: decoded and committed exactly as `earshot ingest` does (the `earshot` binary's sink
/// runs its `Ingestor`, then threading, storms and alerts).
pub trait Sink: Send + 'static {
    /// Decodes `input` (records of one source, framed for `decoder`) and commits what it holds;
    /// `source` names the posts' and rejects' source.
    fn ingest(&mut self, source: &str, decoder: &'static dyn Decoder, input: &[u8]) -> Result<Counts>;
    /// Runs the stages that follow a commit (threading into cases, storms, alerts).
    fn settle(&mut self) -> Result<()>;
    /// The store cursors and health are saved in.
    fn store(&mut self) -> &mut dyn Store;
}

/// Tuning of the watch loop.
#[derive(Debug, Clone)]
pub struct Options {
    /// Stop once no source has delivered a record for this long.
    pub exit_when_idle: Option<Duration>,
    /// Commit once this many records are waiting.
    pub batch_records: usize,
    /// Commit records at most this long after the first of them arrived.
    pub batch_wait: Duration,
    /// Records queued between the readers and the writer (the back-pressure bound).
    pub queue: usize,
    /// Errors in a row, without a record in between, after which a source counts as failing.
    pub failing_after: u32,
    /// Where health alerts go ([`HealthAlert`]: a source failing or silent past its threshold, and its
    /// recovery). Unbounded so the writer never waits on a slow webhook; alerts are rare by construction.
    pub health_alerts: Option<mpsc::UnboundedSender<HealthAlert>>,
}

/// A source crossed its alert threshold (`failing_alert`, `silence_alert` in its `[[sources]]` entry), or
/// came back after one: one alert per crossing, one per recovery.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthAlert {
    /// `source.failing`, `source.silent` or `source.recovered`.
    pub event: &'static str,
    /// The source's name.
    pub source: String,
    /// Its kind.
    pub kind: String,
    /// Its endpoint (never a credential).
    pub url: String,
    /// Its status when the alert was raised.
    pub status: String,
    /// Why, in words.
    pub reason: String,
    /// When the condition began (for `source.recovered`: when the alerted condition began).
    pub since: DateTime<Utc>,
    /// When the alert was raised.
    pub at: DateTime<Utc>,
    /// The last record's arrival.
    pub last_post_at: Option<DateTime<Utc>>,
    /// Errors so far.
    pub errors: i64,
    /// The last error (text from the remote server: escape before showing).
    pub last_error: Option<String>,
}

/// The alert condition a source is in at `now`, if any: `(event, since, reason)`. Failing counts from the
/// status change; silence from the later of the last record and `started` (a source silent before this
/// run began is not blamed for the time it was not watched).
pub fn alert_condition(
    config: &SourceConfig,
    state: &SourceState,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<(&'static str, DateTime<Utc>, String)> {
    let secs = |d: chrono::TimeDelta| d.num_milliseconds() as f64 / 1000.0;
    if state.status == "failing"
        && let Some(limit) = config.failing_alert()
        && secs(now - state.status_since) >= limit.as_secs_f64()
    {
        let why = format!("failing for {:.0}s (threshold {:.0}s)", secs(now - state.status_since), limit.as_secs_f64());
        return Some(("source.failing", state.status_since, why));
    }
    if let Some(limit) = config.silence_alert() {
        let from = state.last_post_at.map_or(started, |t| t.max(started));
        if secs(now - from) >= limit.as_secs_f64() {
            let why = format!("no post for {:.0}s (threshold {:.0}s)", secs(now - from), limit.as_secs_f64());
            return Some(("source.silent", from, why));
        }
    }
    None
}

impl Default for Options {
    fn default() -> Self {
        Options {
            exit_when_idle: None,
            batch_records: 2_000,
            batch_wait: Duration::from_millis(250),
            queue: 4_096,
            failing_after: 3,
            health_alerts: None,
        }
    }
}

/// Totals of a watch run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Records delivered by the sources.
    pub records: u64,
    /// New posts stored.
    pub stored: u64,
    /// Posts already stored (re-deliveries, overlaps of back-fill and stream).
    pub duplicates: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Valid records without a post.
    pub skipped: u64,
    /// Deletions recorded.
    pub deletions: u64,
    /// Commits (batches).
    pub commits: u64,
    /// Reconnections.
    pub reconnects: u64,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Records per second over the run.
    pub records_per_s: f64,
}

/// The delay before reconnect attempt `attempt` (1-based): `min · 2^(attempt-1)` capped at `max`, then
/// "full jitter" in its upper half so that many clients do not reconnect in step.
pub fn backoff(attempt: u32, min: Duration, max: Duration) -> Duration {
    let exp = min.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(max);
    let half = exp / 2;
    half + Duration::from_secs_f64(half.as_secs_f64() * fastrand::f64())
}

/// Runs a source's sessions until the writer stops.
async fn drive(config: SourceConfig, source: Box<dyn Source>, mut link: Link, failing_after: u32) {
    let (min, max) = config.reconnect();
    let mut attempt: u32 = 0;
    loop {
        link.delivered = 0;
        let result = source.session(&mut link).await;
        if link.delivered > 0 {
            attempt = 0;
        }
        let (wait, health) = match result {
            Err(SourceError::Stopped) => return,
            Ok(SessionEnd::Wait(d)) => {
                attempt = 0;
                (d, None)
            }
            Ok(SessionEnd::Closed) => {
                attempt += 1;
                let error = "the server closed the stream".to_string();
                (backoff(attempt, min, max), Some(Health::BackingOff { error, failing: attempt >= failing_after }))
            }
            Err(SourceError::RateLimited { wait, reason }) => {
                attempt += 1;
                let error = format!("rate limited: {reason}; waiting {:.1}s", wait.as_secs_f64());
                // A little jitter past the reset, never before it.
                let wait = wait + Duration::from_millis(fastrand::u64(0..250));
                (wait, Some(Health::BackingOff { error, failing: attempt >= failing_after }))
            }
            Err(SourceError::Unauthorized(error)) => {
                attempt += 1;
                let error = match &config.token_env {
                    Some(var) => format!("{error}\nhint: renew the token in ${var} and restart"),
                    None => format!("{error}\nhint: this source needs a token: set token_env in its [[sources]] entry"),
                };
                tracing::error!(source = %config.name, "{error}");
                (backoff(attempt, min, max), Some(Health::BackingOff { error, failing: true }))
            }
            Err(SourceError::Failed(error)) => {
                attempt += 1;
                tracing::warn!(source = %config.name, attempt, "{error}");
                (backoff(attempt, min, max), Some(Health::BackingOff { error, failing: attempt >= failing_after }))
            }
        };
        if let Some(h) = health
            && link.health(h).await.is_err()
        {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// Cuts one source's records into the inputs handed to the sink: line formats get one record per line,
/// many per input; a record that is not one JSON value on one line goes alone (the framer would take a
/// first line that is not JSON as the start of a document), so the decoder rejects exactly that record;
/// document formats get one input per record.
pub fn inputs(decoder: &dyn Decoder, records: &[Record]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if decoder.framing() != Framing::Lines {
        out.extend(records.iter().filter(|r| !r.bytes.is_empty()).map(|r| r.bytes.clone()));
        return out;
    }
    let mut lines: Vec<u8> = Vec::new();
    for r in records.iter().filter(|r| !r.bytes.is_empty()) {
        let single = !r.bytes.contains(&b'\n') && serde_json::from_slice::<serde::de::IgnoredAny>(&r.bytes).is_ok();
        if single {
            lines.extend_from_slice(&r.bytes);
            lines.push(b'\n');
        } else {
            out.push(r.bytes.clone());
        }
    }
    if !lines.is_empty() {
        out.push(lines);
    }
    out
}

struct Pending {
    records: Vec<Vec<Record>>,
    count: usize,
    first_at: Option<Instant>,
}

struct Writer<S: Sink> {
    sink: Option<S>,
    configs: Vec<SourceConfig>,
    decoders: Vec<&'static dyn Decoder>,
    states: Vec<SourceState>,
    dirty: Vec<bool>,
    summary: Summary,
    /// Per source, the alert raised and not yet recovered: `(event, since)`.
    alerted: Vec<Option<(&'static str, DateTime<Utc>)>>,
    started: DateTime<Utc>,
    health_alerts: Option<mpsc::UnboundedSender<HealthAlert>>,
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

impl<S: Sink> Writer<S> {
    /// Raises an alert for each source that crossed a threshold, and a recovery for each alerted source
    /// that is connected (or idle between polls) again with the condition gone. Never waits.
    fn check_alerts(&mut self, now: DateTime<Utc>) {
        for i in 0..self.states.len() {
            let (c, s) = (&self.configs[i], &self.states[i]);
            let condition = alert_condition(c, s, self.started, now);
            let raise = match (self.alerted[i], &condition) {
                (None, Some((event, since, why))) => {
                    self.alerted[i] = Some((event, *since));
                    Some((*event, *since, why.clone()))
                }
                (Some((_, since)), None) if s.status == "connected" || s.status == "idle" => {
                    self.alerted[i] = None;
                    Some(("source.recovered", since, format!("{} again", s.status)))
                }
                _ => None,
            };
            let Some((event, since, reason)) = raise else { continue };
            tracing::warn!(source = %s.name, event, "{reason}");
            let alert = HealthAlert {
                event,
                source: s.name.clone(),
                kind: s.kind.clone(),
                url: s.url.clone(),
                status: s.status.clone(),
                reason,
                since,
                at: now,
                last_post_at: s.last_post_at,
                errors: s.errors,
                last_error: s.last_error.clone(),
            };
            if let Some(tx) = &self.health_alerts
                && tx.send(alert).is_err()
            {
                tracing::warn!("the health alert sender stopped; alert dropped");
            }
        }
    }

    fn apply(&mut self, i: usize, h: Health) {
        let s = &mut self.states[i];
        let t = now();
        let set_status = |s: &mut SourceState, status: &str| {
            if s.status != status {
                s.status = status.to_string();
                s.status_since = t;
            }
        };
        match h {
            Health::Connected => set_status(s, "connected"),
            Health::Idle => set_status(s, "idle"),
            Health::BackingOff { error, failing } => {
                set_status(s, if failing { "failing" } else { "backing_off" });
                s.errors += 1;
                s.reconnects += 1;
                self.summary.reconnects += 1;
                s.last_error = Some(error);
            }
            Health::Gap(why) => {
                tracing::warn!(source = %s.name, "gap: {why}");
                s.gaps += 1;
                s.last_error = Some(format!("gap: {why}"));
            }
        }
        s.updated_at = t;
        self.dirty[i] = true;
    }

    /// Commits pending records, then saves cursors and health of the sources that changed.
    async fn flush(&mut self, pending: &mut Pending) -> Result<()> {
        if pending.count == 0 && !self.dirty.iter().any(|d| *d) {
            return Ok(());
        }
        let records: Vec<Vec<Record>> = pending.records.iter_mut().map(std::mem::take).collect();
        pending.count = 0;
        pending.first_at = None;
        let mut sink = self.sink.take().context("the writer lost its sink")?;
        let decoders = self.decoders.clone();
        let names: Vec<String> = self.configs.iter().map(|c| c.name.clone()).collect();
        let mut states = self.states.clone();
        let mut dirty = std::mem::take(&mut self.dirty);
        let (sink, result) = tokio::task::spawn_blocking(move || {
            let result = (|| -> Result<Vec<Counts>> {
                let mut all = vec![Counts::default(); records.len()];
                let mut any = false;
                for (i, recs) in records.iter().enumerate() {
                    if recs.is_empty() {
                        continue;
                    }
                    any = true;
                    for input in inputs(decoders[i], recs) {
                        let c = sink.ingest(&names[i], decoders[i], &input)?;
                        let a = &mut all[i];
                        a.stored += c.stored;
                        a.duplicates += c.duplicates;
                        a.rejected += c.rejected;
                        a.skipped += c.skipped;
                        a.deletions += c.deletions;
                    }
                }
                if any {
                    sink.settle()?;
                }
                // Only now, with the posts committed, do the cursors move.
                let t = now();
                for (i, recs) in records.iter().enumerate() {
                    if recs.is_empty() {
                        continue;
                    }
                    let s = &mut states[i];
                    if let Some(c) = recs.iter().rev().find_map(|r| r.cursor.clone()) {
                        s.cursor = Some(c);
                    }
                    if let Some(at) = recs.iter().rev().find_map(|r| r.at) {
                        s.lag_ms = Some((t - at).num_milliseconds().max(0));
                    }
                    s.last_post_at = Some(t);
                    s.records += recs.len() as i64;
                    s.stored += all[i].stored as i64;
                    s.rejected += all[i].rejected as i64;
                    s.updated_at = t;
                    dirty[i] = true;
                }
                for (s, d) in states.iter().zip(&dirty) {
                    if *d {
                        sink.store().save_source_state(s).context("saving a source's cursor and health")?;
                    }
                }
                Ok(all)
            })();
            (sink, result.map(|all| (all, records, states)))
        })
        .await
        .context("the store writer panicked")?;
        self.sink = Some(sink);
        let (all, records, states) = result?;
        self.states = states;
        self.dirty = vec![false; self.states.len()];
        self.summary.commits += 1;
        tracing::debug!(commits = self.summary.commits, records = self.summary.records, "committed");
        for (c, recs) in all.iter().zip(&records) {
            self.summary.records += recs.len() as u64;
            self.summary.stored += c.stored;
            self.summary.duplicates += c.duplicates;
            self.summary.rejected += c.rejected;
            self.summary.skipped += c.skipped;
            self.summary.deletions += c.deletions;
        }
        Ok(())
    }
}

/// Watches every source until `exit_when_idle` passes without a record (or Ctrl-C), committing through
/// `sink`. Returns the totals and the sink.
pub fn run<S: Sink>(configs: Vec<SourceConfig>, mut sink: S, options: Options) -> Result<(Summary, S)> {
    anyhow::ensure!(
        !configs.is_empty(),
        "no [[sources]] configured\nhint: add [[sources]] entries (kind, url, token_env) to earshot.toml; see README \"Live listening\""
    );
    let started = Instant::now();
    let t = now();
    let mut states = Vec::with_capacity(configs.len());
    let mut tokens = Vec::with_capacity(configs.len());
    for c in &configs {
        tokens.push(c.token.as_ref().map(|t| t.0.clone()));
        let prior = sink.store().source_state(&c.name).context("reading a source's saved cursor")?;
        states.push(match prior {
            // A saved cursor of another kind or endpoint would resume the wrong stream.
            Some(p) if p.kind == c.kind.as_str() && p.url == c.url => SourceState { status: "idle".into(), ..p },
            _ => SourceState {
                name: c.name.clone(),
                kind: c.kind.as_str().into(),
                url: c.url.clone(),
                cursor: None,
                status: "idle".into(),
                status_since: t,
                last_post_at: None,
                lag_ms: None,
                records: 0,
                stored: 0,
                rejected: 0,
                errors: 0,
                reconnects: 0,
                gaps: 0,
                last_error: None,
                updated_at: t,
            },
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let sources: Vec<Box<dyn Source>> = configs.iter().map(source_for).collect();
    let decoders: Vec<&'static dyn Decoder> = sources.iter().map(|s| s.decoder()).collect();
    let n = configs.len();
    let mut writer = Writer {
        sink: Some(sink),
        configs: configs.clone(),
        decoders,
        dirty: vec![true; n],
        states,
        summary: Summary::default(),
        alerted: vec![None; n],
        started: t,
        health_alerts: options.health_alerts.clone(),
    };
    let result = runtime.block_on(async {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("setting up the HTTP client")?;
        let (tx, mut rx) = mpsc::channel::<Msg>(options.queue.max(1));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (source, config)) in sources.into_iter().zip(configs.iter().cloned()).enumerate() {
            let link = Link::new(i, tx.clone(), writer.states[i].cursor.clone(), tokens[i].take(), http.clone());
            tasks.spawn(drive(config, source, link, options.failing_after));
        }
        drop(tx);
        let mut pending = Pending { records: vec![Vec::new(); n], count: 0, first_at: None };
        let mut last_record = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let flush_at = pending.first_at.map(|f| f + options.batch_wait);
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(Msg::Record(i, r)) => {
                        last_record = Instant::now();
                        pending.first_at.get_or_insert(last_record);
                        pending.records[i].push(r);
                        pending.count += 1;
                        if pending.count >= options.batch_records {
                            writer.flush(&mut pending).await?;
                        }
                    }
                    Some(Msg::Health(i, h)) => {
                        tracing::debug!(source = %writer.configs[i].name, ?h, "health");
                        writer.apply(i, h);
                    }
                    None => break,
                },
                _ = async { tokio::time::sleep_until(flush_at.unwrap_or_else(Instant::now).into()).await }, if flush_at.is_some() => {
                    writer.flush(&mut pending).await?;
                }
                _ = tick.tick() => {
                    writer.check_alerts(now());
                    if pending.count == 0 {
                        // Health changes without records are saved here, at most five times a second.
                        writer.flush(&mut pending).await?;
                    }
                    if let Some(idle) = options.exit_when_idle && pending.count == 0 && last_record.elapsed() >= idle {
                        tracing::info!("no source delivered a record for {idle:?}; stopping");
                        break;
                    }
                }
                _ = &mut ctrl_c => {
                    eprintln!("stopping: committing what was read…");
                    break;
                }
            }
        }
        tasks.abort_all();
        // Records already queued were read from the platforms: commit them before stopping.
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Record(i, r) => {
                    pending.records[i].push(r);
                    pending.count += 1;
                }
                Msg::Health(i, h) => writer.apply(i, h),
            }
        }
        // Nothing is connected any more; a failing source stays failing, so the inbox still says so.
        for i in 0..n {
            if writer.states[i].status != "failing" {
                writer.states[i].status = "idle".into();
                writer.states[i].status_since = now();
            }
            writer.dirty[i] = true;
        }
        writer.flush(&mut pending).await?;
        anyhow::Ok(())
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    result?;
    let mut summary = writer.summary;
    let elapsed = started.elapsed().as_secs_f64().max(1e-6);
    summary.elapsed_s = (elapsed * 1000.0).round() / 1000.0;
    summary.records_per_s = (summary.records as f64 / elapsed).round();
    let sink = writer.sink.context("the writer lost its sink")?;
    Ok((summary, sink))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Record {
        Record { bytes: s.as_bytes().to_vec(), cursor: None, at: None }
    }

    fn state(status: &str, since: DateTime<Utc>, last_post_at: Option<DateTime<Utc>>) -> SourceState {
        SourceState {
            name: "x".into(),
            kind: "x_stream".into(),
            url: "http://127.0.0.1:1".into(),
            cursor: None,
            status: status.into(),
            status_since: since,
            last_post_at,
            lag_ms: None,
            records: 0,
            stored: 0,
            rejected: 0,
            errors: 3,
            reconnects: 3,
            gaps: 0,
            last_error: Some("refused".into()),
            updated_at: since,
        }
    }

    #[test]
    fn alerts_fire_past_their_thresholds_only() {
        let cfg = |extra: &str| {
            crate::config::sources_from_toml(
                &format!("[[sources]]\nkind = \"feed\"\nurl = \"http://a\"\n{extra}"),
                |_| None,
            )
            .unwrap()
            .remove(0)
        };
        let t0 = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |s: i64| t0 + chrono::TimeDelta::seconds(s);
        let default = cfg("");
        assert_eq!(default.failing_alert(), Some(Duration::from_secs(60)));
        assert_eq!(default.silence_alert(), None, "silence alerts are off unless configured");
        let failing = state("failing", at(10), None);
        assert!(alert_condition(&default, &failing, t0, at(69)).is_none());
        let (event, since, why) = alert_condition(&default, &failing, t0, at(70)).unwrap();
        assert_eq!((event, since), ("source.failing", at(10)));
        assert!(why.contains("threshold 60s"), "{why}");
        assert!(alert_condition(&default, &state("backing_off", at(0), None), t0, at(1000)).is_none());

        let quiet = cfg("silence_alert = 600\nfailing_alert = 5");
        let connected = state("connected", at(0), Some(at(100)));
        assert!(alert_condition(&quiet, &connected, t0, at(699)).is_none());
        assert_eq!(alert_condition(&quiet, &connected, t0, at(700)).unwrap().0, "source.silent");
        // Silence before this run started does not count.
        assert!(alert_condition(&quiet, &connected, at(500), at(1000)).is_none());
        assert_eq!(alert_condition(&quiet, &failing, t0, at(15)).unwrap().0, "source.failing");
        assert!(
            crate::config::sources_from_toml("[[sources]]\nkind=\"feed\"\nurl=\"http://a\"\nsilence_alert=-1", |_| {
                None
            })
            .is_err()
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 1..12 {
            let full = (min * (1 << (attempt - 1))).min(max);
            let d = backoff(attempt, min, max);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} not in [{:?}, {full:?}]", full / 2);
        }
    }

    #[test]
    fn a_record_that_is_not_one_json_line_goes_alone() {
        let d = &earshot_core::decode::bluesky_jetstream::BlueskyJetstream;
        let got = inputs(d, &[rec("{oops"), rec("{\"a\":1}"), rec("{\"b\":\n2}"), rec("{\"c\":3}")]);
        assert_eq!(got, vec![b"{oops".to_vec(), b"{\"b\":\n2}".to_vec(), b"{\"a\":1}\n{\"c\":3}\n".to_vec()]);
        let f = &earshot_core::decode::feed::Feed;
        assert_eq!(inputs(f, &[rec("<rss/>"), rec("<rss/>")]).len(), 2);
    }
}
