//! Distributed mode: `earshot ingest --stream` publishes decoded posts to a partitioned stream, and
//! `earshot worker` processes (fetch → analyze → commit → acknowledge) into a shared PostgreSQL store.
//!
//! - **Partitions.** A post goes to the partition of its case brand (the brand that wrote it, else the first
//!   brand it addresses; none: the empty key), so a brand's posts are delivered in order to one owner.
//! - **Ids.** The worker stores each post under its message's stream sequence number
//!   ([`PostgresStore::commit_with_ids`]), so the store's post order is the publish order — the order an
//!   embedded `earshot ingest` of the same files stores them in — whichever worker commits first.
//! - **Ownership.** A worker owns a partition while its lock connection holds the partition's session
//!   advisory lock; it takes a fair share (partitions ÷ live workers, each live worker holding one slot lock)
//!   and gives extras back. When a worker dies its connection closes, PostgreSQL frees its locks, and another
//!   worker takes the partitions over, rewinding a partition that had unacknowledged messages so they come
//!   back first, in order.
//! - **Cases and storms.** One worker at a time holds the case-stage lease (a session lock on the
//!   connection it writes cases through) and runs the embedded [`crate::cases::CaseStage`] over the posts
//!   every partition has committed ([`Transport::settled_through`] caps [`Store::posts_after`]). It resumes
//!   from the store's watermark and saved storm tracker, so a handover loses and repeats nothing.
//! - **Acknowledgements** go out only after the batch commits; a redelivered message stores nothing twice
//!   (same id, same `(platform, native_id)`).
//! - **Failures.** A store or broker error pauses the worker with backoff (1 s doubling to 30 s) and it tries
//!   again; it never drops a batch and does not exit.
//! - **Metrics.** With `--metrics-addr`, `/metrics` and `/healthz` report consumer lag, commits, the case
//!   stage, errors and pauses ([`metrics`]).

mod metrics;

use crate::ingest::understand;
use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use earshot_core::brand::{BrandConfig, Brands};
use earshot_core::decode::{self, Decoded, Decoder, SNIFF_BYTES, SniffInput};
use earshot_core::{Deletion, Post};
use earshot_store::{AnyStore, Batch, NewPost, NewReject, PostgresStore, Store};
use earshot_stream::{Delivery, NatsTransport, Outgoing, Transport, partition_of};
use metrics::{Counters, Failure};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Messages published per broker round (all in flight, then confirmed).
const PUBLISH_BATCH: usize = 5_000;
/// Worker slot locks looked at when counting live workers.
const MAX_WORKERS: u32 = 64;
/// Longest pause after repeated failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One stream message: what a decoder made of a record, with where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    /// A post.
    Post {
        /// The input it was read from.
        source: String,
        /// The post.
        post: Box<Post>,
    },
    /// A deletion notice.
    Deletion {
        /// The input it was read from.
        source: String,
        /// The notice.
        deletion: Deletion,
    },
    /// A record that could not be decoded (stored in `rejects`).
    Reject {
        /// The input it was read from.
        source: String,
        /// Line, byte offset and record index of the record.
        line: u64,
        /// Byte offset.
        byte: u64,
        /// Record index.
        record: u64,
        /// Where inside the record.
        within: Option<String>,
        /// The decoder.
        format: String,
        /// Why.
        reason: String,
        /// The raw bytes.
        raw: Vec<u8>,
    },
}

impl Envelope {
    /// The message id the broker dedupes on: the same post published twice is one message.
    fn id(&self) -> String {
        match self {
            Envelope::Post { post, .. } => format!("{}:{}", post.platform.as_str(), post.native_id),
            Envelope::Deletion { deletion, .. } => {
                format!("delete:{}:{}", deletion.platform.as_str(), deletion.native_id)
            }
            Envelope::Reject { source, byte, within, .. } => {
                format!("reject:{source}:{byte}:{}", within.as_deref().unwrap_or(""))
            }
        }
    }
}

/// The brand whose partition a post goes to: the brand speaking, else the first one addressed (the brand the
/// case stage files it under), else none.
pub fn partition_key(brands: &Brands, post: &Post) -> Option<String> {
    brands
        .speaking_brand(post)
        .map(str::to_string)
        .or_else(|| brands.attribute(post).into_iter().next().map(|a| a.brand))
}

/// What `earshot ingest --stream` did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PublishSummary {
    /// Records read.
    pub read: u64,
    /// Messages the broker stored (posts, deletions, rejects).
    pub published: u64,
    /// Messages the broker dropped as already published (same id within its duplicate window).
    pub duplicates: u64,
    /// Posts among the records.
    pub posts: u64,
    /// Records rejected (published as rejects, stored by the workers).
    pub rejected: u64,
    /// Valid records without a post.
    pub skipped: u64,
    /// Deletion notices.
    pub deletions: u64,
    /// Inputs read.
    pub files: u64,
    /// Wall time.
    pub elapsed_s: f64,
    /// Messages per second.
    pub messages_per_s: f64,
    /// Posts per partition.
    pub partitions: BTreeMap<u32, u64>,
}

/// Decodes `paths` and publishes every post, deletion and reject to `transport`, partitioned by brand.
pub fn publish_inputs(
    transport: &dyn Transport,
    brands: &Brands,
    paths: &[String],
    format: Option<&'static dyn Decoder>,
) -> Result<PublishSummary> {
    let started = Instant::now();
    let mut summary = PublishSummary::default();
    let partitions = transport.partitions();
    for path in paths {
        let crate::ingest::Input { name, mut reader, .. } = crate::ingest::Input::open(path)?;
        let mut head = Vec::new();
        (&mut reader).take(SNIFF_BYTES as u64).read_to_end(&mut head).with_context(|| format!("cannot read {name}"))?;
        let decoder = match format {
            Some(d) => d,
            None => {
                let file_name = Path::new(&name).file_name().and_then(|n| n.to_str());
                decode::detect(SniffInput { head: &head, file_name }, &name)?
            }
        };
        summary.files += 1;
        let full = std::io::Cursor::new(head).chain(reader);
        let mut pending: Vec<Outgoing> = Vec::with_capacity(PUBLISH_BATCH);
        let mut failed: Option<anyhow::Error> = None;
        let flush = |pending: &mut Vec<Outgoing>, summary: &mut PublishSummary| -> Result<()> {
            let sent = transport.publish(std::mem::take(pending)).context("cannot publish to the stream")?;
            summary.published += sent.stored;
            summary.duplicates += sent.duplicates;
            Ok(())
        };
        let read = decode::decode_reader(decoder, full, |item| {
            if failed.is_some() {
                return;
            }
            summary.read += 1;
            let (envelope, partition) = match item.decoded {
                Decoded::Post(post) => {
                    summary.posts += 1;
                    let key = partition_key(brands, &post).unwrap_or_default();
                    let p = partition_of(&key, partitions);
                    *summary.partitions.entry(p).or_default() += 1;
                    (Envelope::Post { source: name.clone(), post }, p)
                }
                Decoded::Deletion(deletion) => {
                    summary.deletions += 1;
                    (Envelope::Deletion { source: name.clone(), deletion }, partition_of("", partitions))
                }
                Decoded::Skipped { .. } => {
                    summary.skipped += 1;
                    return;
                }
                Decoded::Rejected { within, reason, raw } => {
                    summary.rejected += 1;
                    let envelope = Envelope::Reject {
                        source: name.clone(),
                        line: item.position.line,
                        byte: item.position.byte,
                        record: item.position.record,
                        within,
                        format: decoder.name().to_string(),
                        reason,
                        raw: raw.or(item.record_raw).unwrap_or_default(),
                    };
                    (envelope, partition_of("", partitions))
                }
            };
            let id = envelope.id();
            match serde_json::to_vec(&envelope) {
                Ok(payload) => pending.push(Outgoing { partition, id, payload }),
                Err(e) => failed = Some(anyhow::Error::new(e).context("cannot encode a message")),
            }
            if pending.len() >= PUBLISH_BATCH
                && let Err(e) = flush(&mut pending, &mut summary)
            {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            return Err(e.context(format!("while publishing {name}")));
        }
        read.with_context(|| format!("cannot read {name}"))?;
        flush(&mut pending, &mut summary).with_context(|| format!("while publishing {name}"))?;
    }
    let elapsed = started.elapsed().max(Duration::from_micros(1)).as_secs_f64();
    summary.elapsed_s = (elapsed * 1000.0).round() / 1000.0;
    summary.messages_per_s = ((summary.published + summary.duplicates) as f64 / elapsed).round();
    Ok(summary)
}

/// Everything a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `nats://HOST:PORT`.
    pub stream_url: String,
    /// The JetStream stream.
    pub stream_name: String,
    /// Partitions when the worker creates the stream (an existing stream keeps its own).
    pub partitions: Option<u32>,
    /// The PostgreSQL URL.
    pub db: String,
    /// The config file (brands, SLA, storms): the same as the publishers'.
    pub config: Option<PathBuf>,
    /// Messages fetched and committed per transaction.
    pub batch: usize,
    /// Threads that analyze one batch.
    pub threads: usize,
    /// Exit once everything published is committed and threaded and nothing came for this long.
    pub exit_when_idle: Option<Duration>,
    /// How often a status line goes to standard error.
    pub status_every: Duration,
    /// Do not run the case stage (only when another worker is meant to).
    pub no_cases: bool,
    /// Where to serve `/metrics` and `/healthz` (`HOST:PORT`; port 0 picks a free one); None: no endpoint.
    pub metrics_addr: Option<String>,
}

fn open_pg(target: &str) -> Result<PostgresStore> {
    match earshot_store::open(target)
        .with_context(|| format!("cannot use database {}", earshot_store::redact_url(target)))?
    {
        AnyStore::Postgres(s) => Ok(*s),
        AnyStore::Sqlite(_) => bail!(
            "earshot worker needs a PostgreSQL store, not {target}\nhint: pass --db postgres://USER@HOST:PORT/DB (several workers share it)"
        ),
    }
}

/// Retries `f` with backoff until it succeeds, logging and counting each failure as one of `kind`; gives up
/// only when `stop` is set.
fn with_backoff<T>(
    counters: &Counters,
    kind: Failure,
    what: &str,
    stop: &AtomicBool,
    mut f: impl FnMut() -> Result<T>,
) -> Option<T> {
    let mut pause = Duration::from_secs(1);
    loop {
        match f() {
            Ok(v) => {
                counters.succeeded(kind);
                return Some(v);
            }
            Err(e) => {
                eprintln!("worker: {what} failed, retrying in {}s: {e:#}", pause.as_secs());
                counters.failed(kind, &e);
                if !counters.pause(kind, pause, stop) {
                    return None;
                }
                pause = (pause * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn lock_name(kind: &str, stream: &str, n: u32) -> String {
    format!("{kind}.{stream}.{n}")
}

/// Runs a worker until it is idle for `exit_when_idle` (or forever).
pub fn run_worker(opts: WorkerOptions) -> Result<()> {
    let config_path = opts.config.clone();
    let brand_configs: Vec<BrandConfig> = match &config_path {
        Some(p) => crate::config::load_brands(p)?,
        None => Vec::new(),
    };
    // Fail early on a bad [sla] or [storms] section, before taking any work.
    crate::cases::load_policies(config_path.as_deref())?;
    let counters = Arc::new(Counters::new(&opts.stream_name));
    // Up before connecting, so /healthz says why while the worker waits for NATS or PostgreSQL. Declared after
    // `counters` and never given it, so on every way out the server stops first and the counters (holding the
    // transport, whose runtime must not be dropped inside the server's) go last, on this thread.
    let _server = match &opts.metrics_addr {
        Some(addr) => {
            let server = metrics::serve(addr, counters.clone())?;
            eprintln!("worker: metrics on http://{}/metrics, health on http://{}/healthz", server.addr, server.addr);
            Some(server)
        }
        None => None,
    };
    let stop = AtomicBool::new(false);
    let transport: Arc<NatsTransport> = Arc::new(
        with_backoff(&counters, Failure::Stream, "connecting to the stream", &stop, || {
            Ok(NatsTransport::open(&opts.stream_url, &opts.stream_name, opts.partitions)?)
        })
        .expect("retries until it connects"),
    );
    counters.connected(transport.clone());
    let mut store = with_backoff(&counters, Failure::Store, "opening the store", &stop, || open_pg(&opts.db))
        .expect("retries until it opens");
    if !brand_configs.is_empty() {
        let brands = brand_configs.clone();
        with_backoff(&counters, Failure::Store, "storing the brands", &stop, || {
            Ok(store.upsert_brands(&brands, Utc::now())?)
        });
    } else {
        let from_store = with_backoff(&counters, Failure::Store, "reading the brands", &stop, || Ok(store.brands()?))
            .unwrap_or_default();
        return run_with(opts, from_store, store, transport, counters.clone());
    }
    run_with(opts, brand_configs, store, transport, counters.clone())
}

fn run_with(
    opts: WorkerOptions,
    brand_configs: Vec<BrandConfig>,
    store: PostgresStore,
    transport: Arc<NatsTransport>,
    counters: Arc<Counters>,
) -> Result<()> {
    let brands = Brands::new(brand_configs);
    let analysis = earshot_analyze::Context::new(brands.configs());
    let topic = transport.topic().clone();
    eprintln!(
        "worker: stream {} ({} partitions) at {}, store {}",
        topic.name,
        topic.partitions,
        opts.stream_url,
        earshot_store::redact_url(&opts.db)
    );
    std::thread::scope(|scope| -> Result<()> {
        let leader = (!opts.no_cases).then(|| {
            let (opts, transport, counters) = (&opts, transport.clone(), counters.clone());
            scope.spawn(move || lead_cases(opts, &*transport, &counters))
        });
        let result = process_partitions(&opts, &brands, &analysis, store, &*transport, &counters);
        counters.stop.store(true, Ordering::Relaxed);
        if let Some(l) = leader {
            l.join().map_err(|_| anyhow::anyhow!("the case stage thread panicked"))?;
        }
        result
    })
}

/// The partitions this worker owns, through the session locks of its lock connection.
struct Ownership {
    stream: String,
    partitions: u32,
    locks: Option<PostgresStore>,
    slot: Option<u32>,
    owned: BTreeSet<u32>,
}

impl Ownership {
    /// Takes this worker's slot and its fair share of partitions; gives extras back. A lost lock connection
    /// drops everything (the locks went with it) and starts again on a new one.
    fn rebalance(&mut self, db: &str, transport: &dyn Transport) -> Result<()> {
        if self.locks.is_none() {
            self.owned.clear();
            self.slot = None;
            self.locks = Some(open_pg(db)?);
        }
        let result = self.rebalance_on(transport);
        if let Err(e) = &result
            && e.downcast_ref::<earshot_store::StoreError>()
                .is_some_and(|e| matches!(e, earshot_store::StoreError::SessionLost { .. }))
        {
            eprintln!("worker: lost the lock connection; partitions {:?} are free for others", self.owned);
            self.locks = None;
            self.owned.clear();
            self.slot = None;
        }
        result
    }

    fn rebalance_on(&mut self, transport: &dyn Transport) -> Result<()> {
        let locks = self.locks.as_mut().expect("opened above");
        if self.slot.is_none() {
            for k in 0..MAX_WORKERS {
                if locks.try_lock(&lock_name("worker", &self.stream, k))? {
                    self.slot = Some(k);
                    break;
                }
            }
            if self.slot.is_none() {
                bail!("more than {MAX_WORKERS} workers on stream {}", self.stream);
            }
        }
        let slots: Vec<String> = (0..MAX_WORKERS).map(|k| lock_name("worker", &self.stream, k)).collect();
        let live = locks.locks_held(&slots)?.max(1) as u32;
        let share = self.partitions.div_ceil(live) as usize;
        while self.owned.len() > share {
            let p = *self.owned.iter().next_back().expect("not empty");
            locks.unlock(&lock_name("partition", &self.stream, p))?;
            self.owned.remove(&p);
            eprintln!("worker: gave partition {p} back ({live} workers share {} partitions)", self.partitions);
        }
        // Start from a different partition in each slot, so workers starting together do not collide.
        let start = self.slot.unwrap_or(0) * share as u32;
        for i in 0..self.partitions {
            if self.owned.len() >= share {
                break;
            }
            let p = (start + i) % self.partitions;
            if self.owned.contains(&p) || !locks.try_lock(&lock_name("partition", &self.stream, p))? {
                continue;
            }
            // A previous owner that died left fetched, unacknowledged messages: have them delivered again
            // first, before anything later, so the partition keeps its order.
            if transport.partition_state(p)?.unacked > 0 {
                transport.rewind(p)?;
            }
            self.owned.insert(p);
            eprintln!("worker: took partition {p}");
        }
        Ok(())
    }
}

fn process_partitions(
    opts: &WorkerOptions,
    brands: &Brands,
    analysis: &earshot_analyze::Context,
    mut store: PostgresStore,
    transport: &dyn Transport,
    counters: &Counters,
) -> Result<()> {
    let topic_name = opts.stream_name.clone();
    let mut own = Ownership {
        stream: topic_name,
        partitions: transport.partitions(),
        locks: None,
        slot: None,
        owned: BTreeSet::new(),
    };
    let never = AtomicBool::new(false);
    let mut last_rebalance: Option<Instant> = None;
    let mut last_message = Instant::now();
    let mut last_status = Instant::now();
    let mut status_posts = 0u64;
    let mut pause = Duration::from_secs(1);
    loop {
        if last_rebalance.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            let result = own.rebalance(&opts.db, transport);
            counters.ownership(own.slot, &own.owned, result.as_ref().err());
            if let Err(e) = result {
                eprintln!("worker: cannot take partitions, retrying in {}s: {e:#}", pause.as_secs());
                let kind = Failure::of(&e);
                counters.failed(kind, &e);
                counters.pause(kind, pause, &never);
                pause = (pause * 2).min(MAX_BACKOFF);
                continue;
            }
            // The lock connection answered: PostgreSQL is there.
            counters.succeeded(Failure::Store);
            pause = Duration::from_secs(1);
            last_rebalance = Some(Instant::now());
        }
        let owned: Vec<u32> = own.owned.iter().copied().collect();
        let wait = if owned.len() > 1 { Duration::from_millis(20) } else { Duration::from_millis(500) };
        let mut got_any = false;
        for p in &owned {
            let deliveries = match transport.fetch(*p, opts.batch, wait) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("worker: fetching partition {p} failed, retrying: {e:#}");
                    counters.failed(Failure::Stream, &e.into());
                    counters.pause(Failure::Stream, Duration::from_secs(1), &never);
                    continue;
                }
            };
            if deliveries.is_empty() {
                continue;
            }
            got_any = true;
            let n = deliveries.len() as u64;
            let (batch, ids) = to_batch(&deliveries, brands, analysis, opts.threads);
            // Commit, retrying through a database outage; only then acknowledge.
            let outcome = with_backoff(counters, Failure::Store, "committing a batch", &never, || {
                store.commit_with_ids(&batch, &ids, Utc::now()).context("cannot store a batch of posts")
            })
            .unwrap_or_default();
            counters.committed_posts.fetch_add(ids.len() as u64, Ordering::Relaxed);
            counters.committed(*p, &deliveries, outcome.stored);
            if let Err(e) = transport.ack(deliveries) {
                // Not acknowledged: delivered again later and stored nothing the second time.
                eprintln!("worker: acknowledging partition {p} failed (the messages come again): {e:#}");
                counters.failed(Failure::Stream, &e.into());
            } else {
                counters.acked.fetch_add(n, Ordering::Relaxed);
            }
        }
        if owned.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
        if got_any {
            last_message = Instant::now();
        }
        if last_status.elapsed() >= opts.status_every {
            let committed = counters.committed_posts.load(Ordering::Relaxed);
            let rate = (committed - status_posts) as f64 / last_status.elapsed().as_secs_f64();
            status_posts = committed;
            last_status = Instant::now();
            let lag: Vec<String> = (0..transport.partitions())
                .filter_map(|p| transport.partition_state(p).ok().map(|s| format!("{p}:{}", s.lag())))
                .collect();
            eprintln!(
                "worker: status owned={:?} posts_per_s={rate:.0} committed_posts={committed} acked={} lag=[{}] case_stage={} threaded={} storm_events={}",
                own.owned,
                counters.acked.load(Ordering::Relaxed),
                lag.join(" "),
                if counters.leading.load(Ordering::Relaxed) { "leader" } else { "standby" },
                counters.threaded.load(Ordering::Relaxed),
                counters.storm_events.load(Ordering::Relaxed),
            );
        }
        if let Some(idle) = opts.exit_when_idle
            && last_message.elapsed() >= idle
        {
            match all_done(&mut store, transport) {
                Ok(true) => {
                    eprintln!(
                        "worker: idle for {}s with everything committed and threaded; exiting (committed {} posts)",
                        idle.as_secs(),
                        counters.committed_posts.load(Ordering::Relaxed)
                    );
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) => {
                    eprintln!("worker: checking progress failed: {e:#}");
                    counters.failed(Failure::of(&e), &e);
                }
            }
        }
    }
}

/// True when every published message is acknowledged and every stored post is threaded.
fn all_done(store: &mut PostgresStore, transport: &dyn Transport) -> Result<bool> {
    let settled = transport.settled_through()?;
    let busy = (0..transport.partitions()).any(|p| transport.partition_state(p).is_ok_and(|s| s.lag() > 0));
    if busy {
        return Ok(false);
    }
    store.cap_posts_after(None);
    let through = store.threaded_through()?;
    Ok(store.posts_after(through, 1)?.is_empty() && settled > 0)
}

/// Decodes deliveries into a batch (posts attributed and analyzed) with each post's id (its sequence number).
fn to_batch(
    deliveries: &[Delivery],
    brands: &Brands,
    analysis: &earshot_analyze::Context,
    threads: usize,
) -> (Batch, Vec<i64>) {
    let mut batch = Batch::default();
    let mut ids = Vec::new();
    for d in deliveries {
        match serde_json::from_slice::<Envelope>(&d.payload) {
            Ok(Envelope::Post { source, post }) => {
                ids.push(d.seq as i64);
                batch.posts.push(NewPost {
                    post: *post,
                    brands: Vec::new(),
                    brand_author: None,
                    source,
                    analysis: None,
                });
            }
            Ok(Envelope::Deletion { source, deletion }) => batch.deletions.push((deletion, source)),
            Ok(Envelope::Reject { source, line, byte, record, within, format, reason, raw }) => {
                batch.rejects.push(NewReject {
                    source,
                    position: decode::Position { line, byte, record },
                    within,
                    format,
                    reason,
                    raw,
                })
            }
            // A message this version cannot read is kept as a reject rather than blocking its partition.
            Err(e) => batch.rejects.push(NewReject {
                source: format!("stream message {}", d.seq),
                position: decode::Position { line: 0, byte: 0, record: d.seq },
                within: None,
                format: "earshot-stream".into(),
                reason: format!("unreadable stream message: {e}"),
                raw: d.payload.to_vec(),
            }),
        }
    }
    analyze_split(&mut batch.posts, brands, analysis, threads);
    (batch, ids)
}

/// [`understand`] over `threads` contiguous runs (the result does not depend on the count).
fn analyze_split(posts: &mut [NewPost], brands: &Brands, analysis: &earshot_analyze::Context, threads: usize) {
    if threads <= 1 || posts.len() < 2 * threads {
        understand(posts, brands, analysis);
        return;
    }
    let run = posts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for chunk in posts.chunks_mut(run) {
            scope.spawn(move || understand(chunk, brands, analysis));
        }
    });
}

/// The case stage under its lease: threads what every partition has committed, in post id (publish) order.
fn lead_cases(opts: &WorkerOptions, transport: &dyn Transport, counters: &Counters) {
    let lease = format!("cases.{}", opts.stream_name);
    while !counters.stop.load(Ordering::Relaxed) {
        let Some(mut store) =
            with_backoff(counters, Failure::CaseStage, "opening the store for the case stage", &counters.stop, || {
                open_pg(&opts.db)
            })
        else {
            return;
        };
        // Wait for the lease (another worker may hold it), then run until something fails.
        loop {
            if counters.stop.load(Ordering::Relaxed) {
                return;
            }
            match store.try_lock(&lease) {
                Ok(true) => break,
                Ok(false) => std::thread::sleep(Duration::from_millis(500)),
                Err(e) => {
                    eprintln!("worker: case stage: cannot take the lease: {e:#}");
                    counters.failed(Failure::CaseStage, &e.into());
                    std::thread::sleep(Duration::from_secs(1));
                    break;
                }
            }
        }
        if let Err(e) = run_cases(opts, transport, counters, &mut store) {
            counters.leading.store(false, Ordering::Relaxed);
            eprintln!("worker: case stage stopped, starting again from what was committed: {e:#}");
            counters.failed(Failure::CaseStage, &e);
            counters.pause(Failure::CaseStage, Duration::from_secs(1), &counters.stop);
        }
    }
}

fn run_cases(
    opts: &WorkerOptions,
    transport: &dyn Transport,
    counters: &Counters,
    store: &mut PostgresStore,
) -> Result<()> {
    // Holding the lease means this connection holds the lock; a store that reconnected would not.
    anyhow::ensure!(store.try_lock(&format!("cases.{}", opts.stream_name))?, "the case stage lease is held elsewhere");
    let config = opts.config.as_deref();
    let policies = crate::cases::load_policies(config)?;
    let storms = crate::storms::stage_from_config(store, config)?;
    let mut stage = crate::cases::CaseStage::open_with(store, policies, Some(storms))?;
    counters.leading.store(true, Ordering::Relaxed);
    eprintln!("worker: holds the case stage");
    let batch = crate::cases::THREAD_BATCH;
    while !counters.stop.load(Ordering::Relaxed) {
        // Drained first: then the settled sequence read after it covers everything published before.
        let drained_before = drained(transport)?;
        let settled = transport.settled_through()?;
        store.cap_posts_after(Some(settled as i64));
        let through = store.threaded_through()?;
        counters.case_stage_progress(store.max_post_id()?, through);
        // Whole threading batches, as an embedded ingest cuts them (the stage's results can depend on where
        // its batches end); the last, partial one only once the stream is drained.
        let next = store.posts_after(through, batch)?;
        let Some(last) = next.last().map(|p| p.id) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        if next.len() < batch && !drained_before {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        store.cap_posts_after(Some(last));
        let t = Instant::now();
        let done = stage.run(store, now())?;
        // The gauges first, so a scrape that sees the posts counted as threaded sees the watermark moved.
        counters.case_stage_progress(store.max_post_id()?, store.threaded_through()?);
        counters.threaded.fetch_add(done.posts, Ordering::Relaxed);
        counters.storm_events.fetch_add(done.storm_events, Ordering::Relaxed);
        tracing::info!(posts = done.posts, cases_opened = done.opened, secs = t.elapsed().as_secs_f64(), "threaded");
    }
    counters.leading.store(false, Ordering::Relaxed);
    Ok(())
}

/// True when no partition has anything left to deliver or acknowledge.
fn drained(transport: &dyn Transport) -> Result<bool> {
    for p in 0..transport.partitions() {
        if transport.partition_state(p)?.lag() > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}
