//! The ingest pipeline: read → detect format → decode → attribute to brands → batch → store.
//!
//! Three stages on their own threads: the caller's thread reads and decodes; an
//! analysis stage attributes each post to brands and analyzes it (split over the
//! [`AnalysisPool`]'s [`Ingestor::threads`] threads, in order); a writer thread commits batches.
//! Bounded queues between them ([`WRITE_QUEUE`] batches) give back-pressure, so
//! memory stays flat however large the input. Each batch commits in one
//! transaction and is counted only once committed, so killing the process loses
//! at most the queued batches, and re-running the same command stores exactly
//! what is missing.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use earshot_analyze::{Addressing, Analysis};
use earshot_core::brand::Brands;
use earshot_core::decode::{self, Decoded, Decoder, SNIFF_BYTES, SniffInput};
use earshot_store::{AnalysisRow, Batch, NewPost, NewReject, Store};
use serde::Serialize;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Posts per transaction: large enough to amortise commit cost, small enough
/// that a kill loses little work and memory stays flat.
pub const DEFAULT_BATCH: usize = 5_000;

/// Batches decoded ahead of the writer. Two keep the writer busy while the
/// decoder fills the next one; more would only hold memory.
pub const WRITE_QUEUE: usize = 2;

/// The outcome of an ingest run; `--json` prints it as the last line.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Records read: posts, deletions, skipped records and rejects.
    pub read: u64,
    /// New posts stored.
    pub stored: u64,
    /// Posts already in the store.
    pub duplicates: u64,
    /// Records rejected (kept in the rejects table with source, position and reason).
    pub rejected: u64,
    /// Valid records that carry no post (likes, identity events, keep-alives).
    pub skipped: u64,
    /// Deletion notices recorded.
    pub deletions: u64,
    /// Inputs read.
    pub files: u64,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Posts (stored + duplicates) per second.
    pub posts_per_s: f64,
    /// Posts threaded into cases (new links).
    pub posts_in_cases: u64,
    /// Cases opened.
    pub cases_opened: u64,
    /// Storm events (opened, updated, closed) detected while threading.
    pub storm_events: u64,
    /// Busy time of each stage, in seconds (stages overlap, so they can add up to more than `elapsed_s`).
    pub stages: StageTimes,
}

/// Seconds each pipeline stage spent working (not waiting on its neighbours).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct StageTimes {
    /// Reading, framing and decoding records (the caller's thread).
    pub decode_s: f64,
    /// Brand attribution and every analyzer (wall time of the analysis stage, over all its threads).
    pub analyze_s: f64,
    /// SQLite transactions of posts, brand links, analyses, deletions and rejects.
    pub commit_s: f64,
    /// Threading into cases, SLA clocks, storm detection and their commits (runs after the inputs are stored).
    pub cases_s: f64,
    /// Bringing the report's per-conversation facts up to date (after threading).
    pub report_s: f64,
}

impl StageTimes {
    fn add(&mut self, other: &StageTimes) {
        self.decode_s += other.decode_s;
        self.analyze_s += other.analyze_s;
        self.commit_s += other.commit_s;
        self.cases_s += other.cases_s;
        self.report_s += other.report_s;
    }
}

impl Summary {
    /// The one-line human summary.
    pub fn line(&self) -> String {
        format!(
            "read {} records from {} input{}: stored {}, duplicates {}, rejected {}, skipped {}, deletions {} in {:.2}s ({:.0} posts/s); {} posts threaded, {} cases opened, {} storm events",
            self.read,
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.stored,
            self.duplicates,
            self.rejected,
            self.skipped,
            self.deletions,
            self.elapsed_s,
            self.posts_per_s,
            self.posts_in_cases,
            self.cases_opened,
            self.storm_events
        )
    }
}

/// One input to ingest.
pub struct Input<'a> {
    /// Name used in rejects and messages (file path or `-`).
    pub name: String,
    /// The bytes.
    pub reader: Box<dyn Read + 'a>,
    /// Size in bytes when known (for progress).
    pub len: Option<u64>,
}

impl<'a> Input<'a> {
    /// Opens a path, or stdin for `-`.
    pub fn open(path: &str) -> Result<Input<'static>> {
        if path == "-" {
            return Ok(Input { name: "-".into(), reader: Box::new(io::stdin().lock()), len: None });
        }
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open {path}\nhint: check the path; use - to read standard input"))?;
        let len = file.metadata().ok().map(|m| m.len());
        Ok(Input { name: path.to_string(), reader: Box::new(file), len })
    }

    /// Wraps in-memory bytes (demo fixtures, tests).
    pub fn from_bytes(name: &str, bytes: &'a [u8]) -> Input<'a> {
        Input { name: name.into(), reader: Box::new(bytes), len: Some(bytes.len() as u64) }
    }
}

/// Drives inputs through decoding, attribution and the store.
pub struct Ingestor<'s, S: Store> {
    store: &'s mut S,
    brands: Brands,
    /// Started on the first input (or given with [`Ingestor::pool`]) and kept for every later one.
    pool: Option<Arc<AnalysisPool>>,
    batch_size: usize,
    threads: usize,
    summary: Summary,
    started: Instant,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync + 's>,
    progress: Option<indicatif::ProgressBar>,
}

impl<'s, S: Store + Send> Ingestor<'s, S> {
    /// A pipeline writing into `store`, attributing posts to `brands`.
    pub fn new(store: &'s mut S, brands: Brands) -> Self {
        Ingestor {
            store,
            pool: None,
            brands,
            batch_size: DEFAULT_BATCH,
            threads: 1,
            summary: Summary::default(),
            started: Instant::now(),
            clock: Box::new(Utc::now),
            progress: None,
        }
    }

    /// Sets posts per transaction.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets the threads that attribute and analyze posts (at least 1). Results do not depend on it: a batch is
    /// split into contiguous runs and stays in input order.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Analyzes on `pool` (started for the same brands), so that a caller ingesting many small inputs — `earshot
    /// watch` commits every fraction of a second — keeps its analysis threads and their warm word caches.
    /// The pool's thread count wins over [`Ingestor::threads`].
    pub fn pool(mut self, pool: Arc<AnalysisPool>) -> Self {
        self.threads = pool.threads();
        self.pool = Some(pool);
        self
    }

    /// Uses a fixed or simulated clock for `ingested_at` (tests, the demo).
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 's) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Shows a progress bar on standard error.
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show.then(|| {
            let pb = indicatif::ProgressBar::new(0);
            pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            pb
        });
        self
    }

    /// Ingests one input, detecting its format unless `format` is given.
    pub fn ingest(&mut self, input: Input<'_>, format: Option<&'static dyn Decoder>) -> Result<()> {
        let Input { name, mut reader, len } = input;
        let mut head = Vec::with_capacity(SNIFF_BYTES.min(len.unwrap_or(SNIFF_BYTES as u64) as usize));
        (&mut reader).take(SNIFF_BYTES as u64).read_to_end(&mut head).with_context(|| format!("cannot read {name}"))?;
        let decoder = match format {
            Some(d) => d,
            None => {
                let file_name = std::path::Path::new(&name).file_name().and_then(|n| n.to_str());
                decode::detect(SniffInput { head: &head, file_name }, &name)?
            }
        };
        tracing::info!(input = %name, format = decoder.name(), "ingesting");
        self.summary.files += 1;
        let full = io::Cursor::new(head).chain(reader);
        let full: Box<dyn Read> = match &self.progress {
            Some(pb) => {
                pb.reset();
                match len {
                    Some(n) => {
                        pb.set_length(n);
                        pb.set_style(
                            indicatif::ProgressStyle::with_template(
                                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                            .progress_chars("=> "),
                        );
                    }
                    None => pb.set_style(indicatif::ProgressStyle::default_spinner()),
                }
                pb.set_message(name.clone());
                Box::new(pb.wrap_read(full))
            }
            None => Box::new(full),
        };
        let pool =
            self.pool.get_or_insert_with(|| Arc::new(AnalysisPool::new(self.threads, self.brands.clone()))).clone();
        let Ingestor { store, batch_size, summary, clock, .. } = self;
        let batch_size = *batch_size;
        let clock = &**clock;
        let store: &mut S = store;
        std::thread::scope(|scope| -> Result<()> {
            let (to_analysis, decoded) = std::sync::mpsc::sync_channel::<Batch>(WRITE_QUEUE);
            let (to_writer, queued) = std::sync::mpsc::sync_channel::<Batch>(WRITE_QUEUE);
            let analyzer = scope.spawn(move || -> f64 {
                let mut busy = Duration::ZERO;
                for mut batch in decoded {
                    let t = Instant::now();
                    pool.understand(&mut batch.posts);
                    busy += t.elapsed();
                    // A failed send means the writer stopped on an error, reported below.
                    if to_writer.send(batch).is_err() {
                        break;
                    }
                }
                busy.as_secs_f64()
            });
            let writer = scope.spawn(move || -> Result<Summary> {
                let mut committed = Summary::default();
                let mut busy = Duration::ZERO;
                for batch in queued {
                    let t = Instant::now();
                    let outcome = store.commit(&batch, clock()).context("cannot store a batch of posts")?;
                    busy += t.elapsed();
                    committed.stored += outcome.stored;
                    committed.duplicates += outcome.duplicates;
                    committed.deletions += batch.deletions.len() as u64;
                    committed.rejected += batch.rejects.len() as u64;
                }
                committed.stages.commit_s = busy.as_secs_f64();
                Ok(committed)
            });
            let mut batch = Batch::default();
            let mut downstream_gone = false;
            let mut waiting = Duration::ZERO;
            let t_read = Instant::now();
            let read = decode::decode_reader(decoder, full, |item| {
                if downstream_gone {
                    return;
                }
                summary.read += 1;
                match item.decoded {
                    Decoded::Post(post) => batch.posts.push(NewPost {
                        post: *post,
                        brands: Vec::new(),
                        brand_author: None,
                        source: name.clone(),
                        analysis: None,
                    }),
                    Decoded::Deletion(d) => batch.deletions.push((d, name.clone())),
                    Decoded::Skipped { reason } => {
                        tracing::debug!(input = %name, line = item.position.line, %reason, "skipped");
                        summary.skipped += 1;
                    }
                    Decoded::Rejected { within, reason, raw } => {
                        tracing::debug!(input = %name, line = item.position.line, %reason, "rejected");
                        batch.rejects.push(NewReject {
                            source: name.clone(),
                            position: item.position,
                            within,
                            format: decoder.name().to_string(),
                            reason,
                            raw: raw.or(item.record_raw).unwrap_or_default(),
                        });
                    }
                }
                if batch.len() >= batch_size {
                    let t = Instant::now();
                    downstream_gone = to_analysis.send(std::mem::take(&mut batch)).is_err();
                    waiting += t.elapsed();
                }
            });
            if !downstream_gone && !batch.is_empty() {
                let _ = to_analysis.send(batch);
            }
            drop(to_analysis);
            summary.stages.decode_s += (t_read.elapsed().saturating_sub(waiting)).as_secs_f64();
            summary.stages.analyze_s += analyzer.join().map_err(|_| anyhow::anyhow!("the analysis thread panicked"))?;
            let committed = writer
                .join()
                .map_err(|_| anyhow::anyhow!("the store writer thread panicked"))?
                .with_context(|| format!("while ingesting {name}"))?;
            summary.stored += committed.stored;
            summary.duplicates += committed.duplicates;
            summary.deletions += committed.deletions;
            summary.rejected += committed.rejected;
            summary.stages.add(&committed.stages);
            read.with_context(|| format!("cannot read {name}"))
        })
    }

    /// Finishes and returns the summary (every batch is committed by then).
    pub fn finish(self) -> Result<Summary> {
        if let Some(pb) = &self.progress {
            pb.finish_and_clear();
        }
        let elapsed = self.started.elapsed().max(Duration::from_micros(1));
        let mut summary = self.summary;
        summary.elapsed_s = (elapsed.as_secs_f64() * 1000.0).round() / 1000.0;
        summary.posts_per_s = ((summary.stored + summary.duplicates) as f64 / elapsed.as_secs_f64()).round();
        Ok(summary)
    }
}

/// The stages after storing — threading into cases with SLA clocks, storm detection, and the report's
/// per-conversation facts — over every post stored since the last run, with the brand config, SLA policies and storm settings of `config_path`. Adds the counts and
/// the stage's time to `summary`. `earshot ingest` and `earshot bench` both call this after [`Ingestor::finish`].
pub fn thread_stored(
    store: &mut dyn Store,
    config_path: Option<&std::path::Path>,
    summary: &mut Summary,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = Instant::now();
    let policies = crate::cases::load_policies(config_path)?;
    let storms = crate::storms::stage_from_config(store, config_path)?;
    let threaded = crate::cases::CaseStage::open_with(store, policies, Some(storms))?.run(store, now)?;
    summary.posts_in_cases += threaded.linked;
    summary.cases_opened += threaded.opened;
    summary.storm_events += threaded.storm_events;
    summary.stages.cases_s += t.elapsed().as_secs_f64();
    let t = Instant::now();
    crate::report::refresh(store).context("cannot update the report's conversation facts")?;
    summary.stages.report_s += t.elapsed().as_secs_f64();
    Ok(())
}

/// Attributes and analyzes `posts` in place.
pub fn understand(posts: &mut [NewPost], brands: &Brands, ctx: &earshot_analyze::Context) {
    for np in posts {
        let attributions = brands.attribute(&np.post);
        let brand_author = brands.speaking_brand(&np.post).map(str::to_string);
        let names: Vec<&str> = attributions.iter().map(|a| a.brand.as_str()).collect();
        let addressing = Addressing { brands: &names, brand_speaking: brand_author.is_some() };
        np.analysis = Some(analysis_row(&earshot_analyze::analyze(&np.post, addressing, ctx)));
        np.brands = attributions;
        np.brand_author = brand_author;
    }
}

/// Long-lived threads that attribute and analyze posts, so their per-thread word caches (VADER, the classifiers'
/// feature rows) stay warm from one batch — and one input — to the next.
///
/// A batch is cut into contiguous runs, one per thread, and put back in order, so the result is the same for any
/// number of threads. The threads end when the pool is dropped.
pub struct AnalysisPool {
    workers: Vec<PoolWorker>,
}

struct PoolWorker {
    to: Option<std::sync::mpsc::Sender<Vec<NewPost>>>,
    from: std::sync::Mutex<std::sync::mpsc::Receiver<Vec<NewPost>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl AnalysisPool {
    /// Starts `threads` (at least 1) analysis threads for `brands`, with the shipped models.
    pub fn new(threads: usize, brands: Brands) -> AnalysisPool {
        let shared = Arc::new((earshot_analyze::Context::new(brands.configs()), brands));
        let workers = (0..threads.max(1))
            .map(|i| {
                let (to, work) = std::sync::mpsc::channel::<Vec<NewPost>>();
                let (done, from) = std::sync::mpsc::channel::<Vec<NewPost>>();
                let shared = shared.clone();
                let handle = std::thread::Builder::new()
                    .name(format!("analyze-{i}"))
                    .spawn(move || {
                        let (ctx, brands) = &*shared;
                        for mut run in work {
                            understand(&mut run, brands, ctx);
                            if done.send(run).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("cannot start an analysis thread");
                PoolWorker { to: Some(to), from: std::sync::Mutex::new(from), handle: Some(handle) }
            })
            .collect();
        AnalysisPool { workers }
    }

    /// The number of analysis threads.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Attributes and analyzes `posts` in place, in order. One caller at a time: the batch's runs and their
    /// results travel over each thread's one pair of channels.
    pub fn understand(&self, posts: &mut Vec<NewPost>) {
        let parts = if posts.len() < 2 * self.workers.len() { 1 } else { self.workers.len() };
        let run = posts.len().div_ceil(parts).max(1);
        let mut runs: Vec<Vec<NewPost>> = Vec::with_capacity(parts);
        while posts.len() > run {
            runs.push(posts.split_off(posts.len() - run));
        }
        runs.push(std::mem::take(posts));
        runs.reverse();
        // A worker only goes away by panicking; the batch must then not reach the writer short of posts.
        let receivers: Vec<_> = self.workers[..runs.len()]
            .iter()
            .map(|w| w.from.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
            .collect();
        for (run, w) in runs.into_iter().zip(&self.workers) {
            w.to.as_ref().expect("pool in use").send(run).expect("an analysis thread stopped");
        }
        for from in receivers {
            posts.extend(from.recv().expect("an analysis thread stopped"));
        }
    }
}

impl Drop for AnalysisPool {
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.to = None;
        }
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// The stored form of an analysis: sortable columns plus the whole JSON.
pub fn analysis_row(a: &Analysis) -> AnalysisRow {
    AnalysisRow {
        versions: a.versions.join(","),
        compound: a.vader.compound,
        sentiment: Some(a.sentiment.label.to_string()),
        complaint: Some(f64::from(a.complaint.probability)),
        severity: Some(i64::from(a.severity)),
        intent: Some(a.intent.to_string()),
        issue: Some(a.issue.to_string()),
        priority: i64::from(a.priority.score),
        // Serializing plain data structs to JSON cannot fail.
        json: serde_json::to_string(a).unwrap_or_default(),
    }
}
