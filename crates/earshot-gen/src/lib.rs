//! `earshot-gen`: realistic, deterministic social traffic for earshot's
//! tests, benchmarks and demo, with injected storms and a ground truth of
//! what was injected.
//!
//! - [`TextBank`] (`texts`): the real texts posts are made of — complaints,
//!   questions, praise, care replies and follow-ups from the public data sets
//!   in `shared/data` — cleaned and pooled by industry and category.
//! - [`world`]: brands (heavy-tailed volumes, home time zones, products, care
//!   teams with answer rates, delays and opening hours) and accounts derived
//!   from numbers, so memory does not grow with the audience.
//! - [`Generator`] (`generator`): an iterator of [`GenPost`]s in published
//!   order — daily and weekly seasonality, drifting noise, repeat customers,
//!   recurring organic hashtags and links, threads of care replies and
//!   follow-ups — with [`storm`]s mixed in as planned.
//! - [`format`]: [`PostWriter`] writes posts as X API v2 stream lines
//!   (default), Mastodon streaming events, Bluesky Jetstream events, earshot
//!   JSONL or TWCS CSV, each readable by earshot's decoders.
//! - [`Truth`]: the parameters, brands, totals and every injected storm with
//!   the native ids of its posts.
//!
//! **Invariant:** the output is a pure function of [`Params`] and the texts:
//! no wall clock, no global randomness; the same seed gives the same bytes.
//! Organic traffic does not depend on the storms asked for (they draw from
//! their own random streams and account numbers), so a run with
//! `--storms none` is the same stream minus the storm posts and the replies
//! to them.
//!
//! ```no_run
//! use earshot_gen::{Format, Generator, Params, TextBank};
//! let bank = TextBank::load(std::path::Path::new("../shared/data"))?;
//! let generator = Generator::new(Params::default(), &bank)?;
//! let (_, truth) = earshot_gen::generate(generator, Format::XV2, std::io::sink())?;
//! println!("{}", truth.summary_line());
//! # Ok::<(), earshot_gen::GenError>(())
//! ```

pub mod format;
pub mod generator;
mod names;
pub mod storm;
pub mod texts;
pub mod world;

pub use format::{Format, PostWriter};
pub use generator::{GenPost, Generator, Length, Origin, Params, Seg, Totals};
pub use names::Industry;
pub use storm::{Facet, StormCounts, StormKind, StormSpec, StormTruth};
pub use texts::{Category, TextBank};
pub use world::{Account, Brand};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// What can go wrong generating traffic.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The data directory lacks the texts posts are made of.
    #[error(
        "the texts to generate posts from are missing: {} not found; pass --data DIR (or set EARSHOT_DATA) \
         to the shared data directory, the one with complaints/, tweeteval-sentiment/, airline-sentiment/ and twcs/ \
         (see its README.md)",
        .missing.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingData {
        /// The directory searched.
        dir: PathBuf,
        /// Every required file that is absent.
        missing: Vec<PathBuf>,
    },
    /// A data set could not be read.
    #[error("cannot read the text data: {0}")]
    Data(#[from] earshot_classify::data::DataError),
    /// A data file is not in the expected shape.
    #[error("cannot read {path}: {reason}")]
    BadData {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No text survived cleaning.
    #[error("no usable texts in {what}: each needs 15–230 characters with some words once @handles are removed")]
    NoTexts {
        /// Where the texts came from.
        what: String,
    },
    /// `--storms` could not be read.
    #[error("invalid --storms {spec:?}: {reason}; write e.g. volume=1,negative=1,campaign=2,influencer=1, or none")]
    StormSpec {
        /// The spec as given.
        spec: String,
        /// Every problem found.
        reason: String,
    },
    /// `--format` names no format.
    #[error("unknown format {name:?}; the formats are {known}")]
    UnknownFormat {
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },
    /// The parameters are out of range.
    #[error("invalid parameters: {0}")]
    Params(String),
    /// The brand config could not be written.
    #[error("cannot write the brand config: {0}")]
    Config(String),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
}

/// A brand as the truth file describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandTruth {
    /// Name, as in the generated config.
    pub name: String,
    /// Main handle.
    pub handle: String,
    /// Care handle (writes the replies).
    pub care_handle: String,
    /// The main account's Bluesky DID.
    pub did: String,
    /// The care account's Bluesky DID.
    pub care_did: String,
    /// Industry.
    pub industry: Industry,
    /// Home time zone offset, minutes.
    pub utc_offset_min: i32,
    /// Expected posts per day including threads.
    pub rate_per_day: f64,
    /// Local hours the care team works, `None` = around the clock.
    pub staffed_hours: Option<(u32, u32)>,
    /// Share of complaints answered.
    pub answer_rate: f64,
    /// Median minutes to reply while staffed.
    pub reply_median_min: f64,
    /// Products.
    pub products: Vec<String>,
}

/// The ground truth of one run: what was asked for, what was generated, and
/// every injected storm with the native ids of its posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// `earshot-gen` and its version.
    pub generator: String,
    /// The parameters.
    pub params: Params,
    /// The output format (ids in `storms` use its scheme).
    pub format: Format,
    /// The storm counts asked for (resolved from `auto`).
    pub storm_counts: StormCounts,
    /// The brands.
    pub brands: Vec<BrandTruth>,
    /// Texts used per source file.
    pub texts: BTreeMap<String, usize>,
    /// Counts of what was written.
    pub totals: Totals,
    /// Every injected storm that made it into the output.
    pub storms: Vec<StormTruth>,
}

impl Truth {
    /// The truth so far about `generator`'s output in `format`.
    pub fn new(generator: &Generator<'_>, format: Format, bank: &TextBank) -> Truth {
        Truth {
            generator: format!("earshot-gen {}", env!("CARGO_PKG_VERSION")),
            params: generator.params().clone(),
            format,
            storm_counts: generator.storm_counts(),
            brands: generator
                .brands()
                .iter()
                .map(|b| BrandTruth {
                    name: b.name.clone(),
                    handle: b.main.username.clone(),
                    care_handle: b.care.username.clone(),
                    did: b.main.did(),
                    care_did: b.care.did(),
                    industry: b.industry,
                    utc_offset_min: b.utc_offset_min,
                    rate_per_day: (b.rate * 10.0).round() / 10.0,
                    staffed_hours: b.staffed_hours,
                    answer_rate: (b.answer_rate * 100.0).round() / 100.0,
                    reply_median_min: b.reply_median_min.round(),
                    products: b.products.clone(),
                })
                .collect(),
            texts: bank.sources().clone(),
            totals: generator.totals(),
            storms: generator.storm_truth(|id, author| format.native_id(id, author)),
        }
    }

    /// One line for stderr: what was written.
    pub fn summary_line(&self) -> String {
        let t = &self.totals;
        let span = match (t.first, t.last) {
            (Some(a), Some(b)) => format!(" from {} to {}", a.format("%Y-%m-%d %H:%M"), b.format("%Y-%m-%d %H:%M")),
            _ => String::new(),
        };
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.storms {
            *kinds.entry(s.kind.as_str()).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!(
            "generated {} {} posts for {} brands{span}: {} customer posts, {} brand replies, {} follow-ups, {} storm posts in {} storms{}",
            t.posts,
            self.format,
            self.brands.len(),
            t.organic,
            t.brand_replies,
            t.follow_ups,
            t.storm_posts,
            self.storms.len(),
            if kinds.is_empty() { String::new() } else { format!(" ({})", kinds.join(", ")) }
        )
    }
}

/// Writes every post of `generator` to `out` in `format`; returns the writer
/// and the ground truth. Streams: memory does not grow with the number of posts.
///
/// # Errors
/// [`GenError::Io`] when writing fails.
pub fn generate<W: Write>(mut generator: Generator<'_>, format: Format, out: W) -> Result<(W, Truth), GenError> {
    let mut writer = PostWriter::new(format, out, generator.brands())?;
    for post in generator.by_ref() {
        writer.write(&post)?;
    }
    let out = writer.finish()?;
    let truth = Truth::new(&generator, format, generator.bank());
    Ok((out, truth))
}

/// An `earshot.toml` with `brands` as `[[brands]]` tables (the format of
/// `crates/earshot/demo/earshot.toml`), so `earshot ingest --config` attributes generated posts.
///
/// # Errors
/// [`GenError::Config`] if serialization fails (it does not for generated brands).
pub fn config_toml(brands: &[Brand], params: &Params) -> Result<String, GenError> {
    let file = earshot_core::brand::BrandsFile { brands: brands.iter().map(Brand::config).collect() };
    let body = toml::to_string(&file).map_err(|e| GenError::Config(e.to_string()))?;
    Ok(format!(
        "# earshot.toml written by `earshot gen` (seed {}, {} brands): the generated brands, so that\n\
         # `earshot ingest --config` attributes the generated posts. Each brand speaks from its main and\n\
         # care handles (and their DIDs on Bluesky); its stem is an alias, its domain a keyword.\n\n{body}",
        params.seed, params.brands
    ))
}
