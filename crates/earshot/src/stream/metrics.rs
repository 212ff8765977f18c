//! Health and lag of one `earshot worker`, served on `--metrics-addr`: `GET /metrics` (Prometheus text
//! format) and `GET /healthz` (200, or 503 with the reason).
//!
//! The worker's threads record what they do in [`Counters`] (atomics, and two small locked maps touched once
//! per batch or rebalance). A scrape reads them and asks JetStream for the consumer state of the partitions
//! this worker owns (`num_pending`, `num_ack_pending`, the ack floor): the lag is the broker's, read when asked,
//! so it is current even while the worker is stuck (e.g. pausing through a PostgreSQL outage).

use anyhow::{Context as _, Result};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use earshot_stream::{Delivery, NatsTransport, PartitionState, StreamError, Transport};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long a scrape waits for JetStream's consumer info before answering without it.
const CONSUMER_INFO_WAIT: Duration = Duration::from_secs(5);

/// What failed, for the error and pause counters (the `kind` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// PostgreSQL: commits, the lock connection, opening the store.
    Store,
    /// NATS: connecting, fetching, acknowledging, consumer info.
    Stream,
    /// The case stage (on its own connection; it restarts from the watermark).
    CaseStage,
}

impl Failure {
    const ALL: [Failure; 3] = [Failure::Store, Failure::Stream, Failure::CaseStage];

    fn label(self) -> &'static str {
        match self {
            Failure::Store => "store",
            Failure::Stream => "stream",
            Failure::CaseStage => "case_stage",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// A failure of the stream when a broker error is in the chain, else of the store.
    pub(super) fn of(e: &anyhow::Error) -> Failure {
        if e.chain().any(|c| c.is::<StreamError>()) { Failure::Stream } else { Failure::Store }
    }
}

/// What this worker committed in one partition since it started.
#[derive(Debug, Default, Clone)]
struct PartitionStats {
    messages: u64,
    posts_stored: u64,
    batches: u64,
    redeliveries: u64,
    last_seq: u64,
    last_commit_ms: i64,
}

/// What `/healthz` decides from.
#[derive(Debug, Default)]
struct Health {
    /// The last store operation failed with this; cleared when one succeeds.
    store: Option<String>,
    /// Connecting to NATS failed with this (before the first connection; afterwards the client's state says).
    connecting: Option<String>,
    /// Taking partitions failed with this last time.
    partitions: Option<String>,
    /// This worker's slot among the stream's workers (None until it has joined them).
    slot: Option<u32>,
    /// The partitions it owns.
    owned: BTreeSet<u32>,
}

/// Counters and state shared by a worker's threads: the status line, `/metrics` and `/healthz` read them.
#[derive(Debug)]
pub(super) struct Counters {
    /// Posts committed (new or already stored).
    pub(super) committed_posts: AtomicU64,
    /// Messages acknowledged.
    pub(super) acked: AtomicU64,
    /// Posts the case stage threaded in this worker.
    pub(super) threaded: AtomicU64,
    /// Storm events the case stage produced in this worker.
    pub(super) storm_events: AtomicU64,
    /// Whether this worker holds the case-stage lease.
    pub(super) leading: AtomicBool,
    /// Set when the worker is finishing: threads stop.
    pub(super) stop: AtomicBool,
    stream: String,
    started: Instant,
    transport: OnceLock<Arc<NatsTransport>>,
    health: Mutex<Health>,
    partitions: Mutex<BTreeMap<u32, PartitionStats>>,
    errors: [AtomicU64; 3],
    pauses: [AtomicU64; 3],
    /// Threads pausing after a failure right now.
    pausing: AtomicU64,
    max_post_id: AtomicI64,
    threaded_through: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data, consistent after any panic that poisoned it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Counters {
    /// Counters of a worker on stream `stream`.
    pub(super) fn new(stream: &str) -> Counters {
        Counters {
            committed_posts: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            threaded: AtomicU64::new(0),
            storm_events: AtomicU64::new(0),
            leading: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            stream: stream.to_string(),
            started: Instant::now(),
            transport: OnceLock::new(),
            health: Mutex::new(Health {
                connecting: Some("starting: not connected to NATS yet".into()),
                ..Health::default()
            }),
            partitions: Mutex::new(BTreeMap::new()),
            errors: Default::default(),
            pauses: Default::default(),
            pausing: AtomicU64::new(0),
            max_post_id: AtomicI64::new(0),
            threaded_through: AtomicI64::new(0),
        }
    }

    /// The worker is connected to the stream: scrapes read consumer info through `transport`.
    pub(super) fn connected(&self, transport: Arc<NatsTransport>) {
        let _ = self.transport.set(transport);
        lock(&self.health).connecting = None;
    }

    /// Counts a failure and, for the store and a first connection, remembers it as the reason for `/healthz`.
    pub(super) fn failed(&self, kind: Failure, e: &anyhow::Error) {
        self.errors[kind.index()].fetch_add(1, Ordering::Relaxed);
        let mut health = lock(&self.health);
        match kind {
            Failure::Store => health.store = Some(format!("{e:#}")),
            Failure::Stream if self.transport.get().is_none() => health.connecting = Some(format!("{e:#}")),
            Failure::Stream | Failure::CaseStage => {}
        }
    }

    /// An operation of `kind` succeeded: a remembered failure of it no longer holds.
    pub(super) fn succeeded(&self, kind: Failure) {
        if kind == Failure::Store {
            lock(&self.health).store = None;
        }
    }

    /// Sleeps `pause` after a failure of `kind` (counted, and shown as paused meanwhile); false when `stop` was
    /// set meanwhile.
    pub(super) fn pause(&self, kind: Failure, pause: Duration, stop: &AtomicBool) -> bool {
        self.pauses[kind.index()].fetch_add(1, Ordering::Relaxed);
        self.pausing.fetch_add(1, Ordering::Relaxed);
        let until = Instant::now() + pause;
        let mut stopped = false;
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100).min(until.saturating_duration_since(Instant::now())));
        }
        self.pausing.fetch_sub(1, Ordering::Relaxed);
        !stopped
    }

    /// The partitions owned after a rebalance, and why it failed when it did.
    pub(super) fn ownership(&self, slot: Option<u32>, owned: &BTreeSet<u32>, error: Option<&anyhow::Error>) {
        let mut health = lock(&self.health);
        health.slot = slot;
        health.owned.clone_from(owned);
        health.partitions = error.map(|e| format!("{e:#}"));
    }

    /// A batch of `partition` committed: `stored` new posts among `deliveries`.
    pub(super) fn committed(&self, partition: u32, deliveries: &[Delivery], stored: u64) {
        let mut all = lock(&self.partitions);
        let s = all.entry(partition).or_default();
        s.messages += deliveries.len() as u64;
        s.posts_stored += stored;
        s.batches += 1;
        s.redeliveries += deliveries.iter().filter(|d| d.delivered > 1).count() as u64;
        s.last_seq = s.last_seq.max(deliveries.iter().map(|d| d.seq).max().unwrap_or(0));
        s.last_commit_ms = chrono::Utc::now().timestamp_millis();
    }

    /// The case stage's position: the newest stored post id and the threading watermark.
    pub(super) fn case_stage_progress(&self, max_post_id: i64, threaded_through: i64) {
        self.max_post_id.store(max_post_id, Ordering::Relaxed);
        self.threaded_through.store(threaded_through, Ordering::Relaxed);
    }

    /// Ok with what the worker does, or Err with why it is not healthy.
    fn health(&self) -> Result<String, String> {
        let health = lock(&self.health);
        let Some(transport) = self.transport.get() else {
            return Err(format!("not connected to NATS: {}", health.connecting.as_deref().unwrap_or("connecting")));
        };
        if !transport.connected() {
            return Err("lost the connection to NATS (reconnecting)".into());
        }
        if let Some(e) = &health.store {
            return Err(format!("PostgreSQL is failing (pausing and retrying): {e}"));
        }
        if let Some(e) = &health.partitions {
            return Err(format!("cannot take partitions: {e}"));
        }
        if health.slot.is_none() {
            return Err("starting: has not joined the stream's workers yet".into());
        }
        Ok(if health.owned.is_empty() {
            "ok: waiting for partitions (other workers own them all)".into()
        } else {
            format!("ok: owns partitions {:?}", health.owned)
        })
    }

    /// JetStream's consumer state of every partition this worker owns (those it could read). Blocking.
    fn consumer_states(&self) -> BTreeMap<u32, PartitionState> {
        let Some(transport) = self.transport.get() else { return BTreeMap::new() };
        let owned = lock(&self.health).owned.clone();
        let mut out = BTreeMap::new();
        for p in owned {
            match transport.partition_state(p) {
                Ok(s) => {
                    out.insert(p, s);
                }
                Err(e) => self.failed(Failure::Stream, &e.into()),
            }
        }
        out
    }

    /// The Prometheus text of everything, with `consumers` from [`Counters::consumer_states`].
    fn render(&self, consumers: &BTreeMap<u32, PartitionState>) -> String {
        let stream = label(&self.stream);
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: &[(String, String)]| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
            for (labels, value) in rows {
                let _ = writeln!(out, "{name}{{stream=\"{stream}\"{labels}}} {value}");
            }
        };
        let one = |v: String| vec![(String::new(), v)];
        let healthy = self.health().is_ok();
        family(
            "earshot_worker_healthy",
            "gauge",
            "1 when the worker is connected to NATS and PostgreSQL and owns or waits for partitions (as /healthz).",
            &one(u8::from(healthy).to_string()),
        );
        family(
            "earshot_worker_uptime_seconds",
            "gauge",
            "Seconds since the worker started.",
            &one(format!("{:.3}", self.started.elapsed().as_secs_f64())),
        );
        let transport = self.transport.get();
        family(
            "earshot_worker_stream_connected",
            "gauge",
            "1 while the NATS client is connected.",
            &one(u8::from(transport.is_some_and(|t| t.connected())).to_string()),
        );
        let owned = lock(&self.health).owned.clone();
        if let Some(t) = transport {
            family("earshot_worker_partitions", "gauge", "Partitions of the stream.", &one(t.partitions().to_string()));
            let rows: Vec<_> = (0..t.partitions())
                .map(|p| (format!(",partition=\"{p}\""), u8::from(owned.contains(&p)).to_string()))
                .collect();
            family("earshot_worker_partition_owned", "gauge", "1 for each partition this worker owns.", &rows);
        }
        let per_consumer = |f: &dyn Fn(&PartitionState) -> u64| -> Vec<(String, String)> {
            consumers.iter().map(|(p, s)| (format!(",partition=\"{p}\""), f(s).to_string())).collect()
        };
        family(
            "earshot_worker_consumer_pending_messages",
            "gauge",
            "Messages of an owned partition not delivered yet (JetStream consumer num_pending).",
            &per_consumer(&|s| s.pending),
        );
        family(
            "earshot_worker_consumer_ack_pending_messages",
            "gauge",
            "Messages of an owned partition delivered and not acknowledged yet (JetStream consumer num_ack_pending).",
            &per_consumer(&|s| s.unacked),
        );
        family(
            "earshot_worker_consumer_ack_floor_sequence",
            "gauge",
            "Stream sequence up to which an owned partition's messages are all acknowledged.",
            &per_consumer(&|s| s.acked_through),
        );
        let stats = lock(&self.partitions).clone();
        let per_partition = |f: &dyn Fn(&PartitionStats) -> String| -> Vec<(String, String)> {
            stats.iter().map(|(p, s)| (format!(",partition=\"{p}\""), f(s))).collect()
        };
        family(
            "earshot_worker_messages_committed_total",
            "counter",
            "Messages (posts, deletions, rejects) this worker committed, by partition.",
            &per_partition(&|s| s.messages.to_string()),
        );
        family(
            "earshot_worker_posts_stored_total",
            "counter",
            "New posts this worker stored, by partition (a post already stored is not counted again).",
            &per_partition(&|s| s.posts_stored.to_string()),
        );
        family(
            "earshot_worker_batches_committed_total",
            "counter",
            "Batches this worker committed, by partition.",
            &per_partition(&|s| s.batches.to_string()),
        );
        family(
            "earshot_worker_redeliveries_total",
            "counter",
            "Messages this worker received again (a previous delivery was not acknowledged), by partition.",
            &per_partition(&|s| s.redeliveries.to_string()),
        );
        family(
            "earshot_worker_last_committed_sequence",
            "gauge",
            "The highest stream sequence this worker committed, by partition.",
            &per_partition(&|s| s.last_seq.to_string()),
        );
        family(
            "earshot_worker_last_commit_timestamp_seconds",
            "gauge",
            "When this worker last committed a batch of the partition (Unix seconds).",
            &per_partition(&|s| format!("{:.3}", s.last_commit_ms as f64 / 1000.0)),
        );
        let leading = self.leading.load(Ordering::Relaxed);
        family(
            "earshot_worker_case_stage_leader",
            "gauge",
            "1 while this worker holds the case-stage lease (threads posts into cases, detects storms).",
            &one(u8::from(leading).to_string()),
        );
        family(
            "earshot_worker_posts_threaded_total",
            "counter",
            "Posts the case stage threaded in this worker.",
            &one(self.threaded.load(Ordering::Relaxed).to_string()),
        );
        family(
            "earshot_worker_storm_events_total",
            "counter",
            "Storm events the case stage produced in this worker.",
            &one(self.storm_events.load(Ordering::Relaxed).to_string()),
        );
        if leading {
            let max = self.max_post_id.load(Ordering::Relaxed);
            let through = self.threaded_through.load(Ordering::Relaxed);
            family(
                "earshot_worker_threaded_through",
                "gauge",
                "The case stage's watermark: every stored post up to this id is threaded (leader only).",
                &one(through.to_string()),
            );
            family(
                "earshot_worker_max_post_id",
                "gauge",
                "The newest stored post id, a stream sequence (leader only).",
                &one(max.to_string()),
            );
            family(
                "earshot_worker_threading_lag",
                "gauge",
                "Newest stored post id minus the threading watermark: stored posts not threaded yet, counted in \
                 stream sequences (deletions and rejects in between count too; leader only).",
                &one((max - through).max(0).to_string()),
            );
        }
        let by_kind = |counts: &[AtomicU64; 3]| -> Vec<(String, String)> {
            Failure::ALL
                .iter()
                .map(|k| (format!(",kind=\"{}\"", k.label()), counts[k.index()].load(Ordering::Relaxed).to_string()))
                .collect()
        };
        family(
            "earshot_worker_errors_total",
            "counter",
            "Failed operations by kind: store (PostgreSQL), stream (NATS), case_stage.",
            &by_kind(&self.errors),
        );
        family(
            "earshot_worker_pauses_total",
            "counter",
            "Backoff pauses after a failure by kind (the worker retries the same work afterwards).",
            &by_kind(&self.pauses),
        );
        family(
            "earshot_worker_paused",
            "gauge",
            "1 while a worker thread pauses after a failure (e.g. PostgreSQL down).",
            &one(u8::from(self.pausing.load(Ordering::Relaxed) > 0).to_string()),
        );
        out
    }
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The running endpoint; dropping it stops the server.
#[derive(Debug)]
pub(super) struct Server {
    /// Where it listens (the port chosen when asked for port 0).
    pub(super) addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Listens on `addr` (bound before returning, so a taken port is an error at start) and serves `/metrics` and
/// `/healthz` from `counters` on a thread of its own.
pub(super) fn serve(addr: &str, counters: Arc<Counters>) -> Result<Server> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!(
            "cannot listen on {addr} for metrics\nhint: pass another --metrics-addr HOST:PORT (port 0 picks a free one)"
        )
    })?;
    listener.set_nonblocking(true).context("cannot set up the metrics listener")?;
    let local = listener.local_addr().context("cannot read the metrics listener's address")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the metrics server's runtime")?;
    let app = Router::new().route("/metrics", get(metrics)).route("/healthz", get(healthz)).with_state(counters);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("worker-metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => axum::serve(l, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await
                        .map_err(anyhow::Error::from),
                    Err(e) => Err(e.into()),
                };
                if let Err(e) = served {
                    eprintln!("worker: the metrics server stopped: {e:#}");
                }
            })
        })
        .context("cannot start the metrics server's thread")?;
    Ok(Server { addr: local, shutdown: Some(tx), thread: Some(thread) })
}

async fn metrics(State(counters): State<Arc<Counters>>) -> Response {
    // Consumer info is a request to the broker through the transport's blocking API: off the server's thread,
    // and bounded, so a broker that does not answer leaves out those lines rather than hanging the scrape.
    let reader = counters.clone();
    let consumers =
        tokio::time::timeout(CONSUMER_INFO_WAIT, tokio::task::spawn_blocking(move || reader.consumer_states()))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], counters.render(&consumers)).into_response()
}

async fn healthz(State(counters): State<Arc<Counters>>) -> Response {
    match counters.health() {
        Ok(what) => (StatusCode::OK, format!("{what}\n")).into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("unavailable: {why}\n")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_connection_store_and_ownership() {
        let c = Counters::new("s");
        assert!(c.health().unwrap_err().contains("not connected to NATS"));
        c.failed(Failure::Stream, &anyhow::anyhow!("connection refused"));
        assert!(c.health().unwrap_err().contains("connection refused"));
        let text = c.render(&BTreeMap::new());
        assert!(text.contains("earshot_worker_healthy{stream=\"s\"} 0\n"), "{text}");
        assert!(text.contains("earshot_worker_errors_total{stream=\"s\",kind=\"stream\"} 1\n"), "{text}");
        // No leader: no threading gauges.
        assert!(!text.contains("earshot_worker_threading_lag"), "{text}");
        c.leading.store(true, Ordering::Relaxed);
        c.case_stage_progress(120, 100);
        let text = c.render(&BTreeMap::new());
        assert!(text.contains("earshot_worker_threading_lag{stream=\"s\"} 20\n"), "{text}");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
