//! The ingest pipeline: read → detect format → decode → attribute to brands → batch → store.
//!
//! Memory is bounded: records stream through one batch at a time, and each
//! batch commits in one transaction. A post counts as stored only once its
//! batch has committed, so killing the process loses at most the open batch,
//! and re-running the same command stores exactly what is missing.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use earshot_analyze::{Addressing, Analysis};
use earshot_core::brand::Brands;
use earshot_core::decode::{self, Decoded, Decoder, SNIFF_BYTES, SniffInput};
use earshot_store::{AnalysisRow, Batch, NewPost, NewReject, Store};
use serde::Serialize;
use std::io::{self, Read};
use std::time::{Duration, Instant};

/// Posts per transaction: large enough to amortise commit cost, small enough
/// that a kill loses little work and memory stays flat.
pub const DEFAULT_BATCH: usize = 5_000;

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
}

impl Summary {
    /// The one-line human summary.
    pub fn line(&self) -> String {
        format!(
            "read {} records from {} input{}: stored {}, duplicates {}, rejected {}, skipped {}, deletions {} in {:.2}s ({:.0} posts/s)",
            self.read,
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.stored,
            self.duplicates,
            self.rejected,
            self.skipped,
            self.deletions,
            self.elapsed_s,
            self.posts_per_s
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
    analysis: earshot_analyze::Context,
    batch: Batch,
    batch_size: usize,
    summary: Summary,
    started: Instant,
    clock: Box<dyn Fn() -> DateTime<Utc> + 's>,
    progress: Option<indicatif::ProgressBar>,
}

impl<'s, S: Store> Ingestor<'s, S> {
    /// A pipeline writing into `store`, attributing posts to `brands`.
    pub fn new(store: &'s mut S, brands: Brands) -> Self {
        Ingestor {
            store,
            analysis: earshot_analyze::Context::new(brands.configs()),
            brands,
            batch: Batch::default(),
            batch_size: DEFAULT_BATCH,
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

    /// Uses a fixed or simulated clock for `ingested_at` (tests, the demo).
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + 's) -> Self {
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
        let mut failure: Option<anyhow::Error> = None;
        decode::decode_reader(decoder, full, |item| {
            if failure.is_some() {
                return;
            }
            self.summary.read += 1;
            match item.decoded {
                Decoded::Post(post) => {
                    let brands = self.brands.attribute(&post);
                    let brand_author = self.brands.speaking_brand(&post).map(str::to_string);
                    let names: Vec<&str> = brands.iter().map(|a| a.brand.as_str()).collect();
                    let addressing = Addressing { brands: &names, brand_speaking: brand_author.is_some() };
                    let analysis = analysis_row(&earshot_analyze::analyze(&post, addressing, &self.analysis));
                    self.batch.posts.push(NewPost {
                        post: *post,
                        brands,
                        brand_author,
                        source: name.clone(),
                        analysis: Some(analysis),
                    });
                }
                Decoded::Deletion(d) => self.batch.deletions.push((d, name.clone())),
                Decoded::Skipped { reason } => {
                    tracing::debug!(input = %name, line = item.position.line, %reason, "skipped");
                    self.summary.skipped += 1;
                }
                Decoded::Rejected { within, reason, raw } => {
                    tracing::debug!(input = %name, line = item.position.line, %reason, "rejected");
                    self.batch.rejects.push(NewReject {
                        source: name.clone(),
                        position: item.position,
                        within,
                        format: decoder.name().to_string(),
                        reason,
                        raw: raw.or(item.record_raw).unwrap_or_default(),
                    });
                }
            }
            if self.batch.len() >= self.batch_size
                && let Err(e) = self.flush()
            {
                failure = Some(e);
            }
        })
        .with_context(|| format!("cannot read {name}"))?;
        if let Some(e) = failure {
            return Err(e.context(format!("while ingesting {name}")));
        }
        self.flush().with_context(|| format!("while ingesting {name}"))
    }

    /// Commits the open batch.
    pub fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let outcome = self.store.commit(&self.batch, (self.clock)()).context("cannot store a batch of posts")?;
        self.summary.stored += outcome.stored;
        self.summary.duplicates += outcome.duplicates;
        self.summary.deletions += self.batch.deletions.len() as u64;
        self.summary.rejected += self.batch.rejects.len() as u64;
        self.batch.clear();
        Ok(())
    }

    /// Finishes: commits what is left and returns the summary.
    pub fn finish(mut self) -> Result<Summary> {
        self.flush()?;
        if let Some(pb) = &self.progress {
            pb.finish_and_clear();
        }
        let elapsed = self.started.elapsed().max(Duration::from_micros(1));
        self.summary.elapsed_s = (elapsed.as_secs_f64() * 1000.0).round() / 1000.0;
        self.summary.posts_per_s =
            ((self.summary.stored + self.summary.duplicates) as f64 / elapsed.as_secs_f64()).round();
        Ok(self.summary)
    }
}

/// The stored form of an analysis: sortable columns plus the whole JSON.
pub fn analysis_row(a: &Analysis) -> AnalysisRow {
    AnalysisRow {
        versions: a.versions.join(","),
        compound: a.vader.compound,
        sentiment: None,
        complaint: None,
        severity: None,
        intent: None,
        issue: None,
        priority: i64::from(a.priority.score),
        // Serializing plain data structs to JSON cannot fail.
        json: serde_json::to_string(a).unwrap_or_default(),
    }
}
