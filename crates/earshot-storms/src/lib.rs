//! The Warn stage: streaming storm detectors that run as posts arrive, in
//! event (published) time, with bounded memory per brand.
//!
//! - [`volume`]: a seasonal rate-anomaly detector over bucketed counts (also
//!   what `earshot storms detect-series` runs over a `timestamp,value` CSV);
//! - [`nab`]: the Numenta Anomaly Benchmark scorer, implemented faithfully so
//!   the volume detector can be compared with published detectors;
//! - [`campaign`], [`tracker`], [`storm`]: coordinated-campaign detection and
//!   storms as objects (opened, updated, closed).
//!
//! **Invariant:** no I/O beyond readers/writers handed in, no wall clock:
//! time is always an argument, so every detector is deterministic and
//! independent of batch boundaries.

pub mod campaign;
pub mod influencer;
pub mod minhash;
pub mod nab;
pub mod series;
pub mod storm;
pub mod tracker;
pub mod volume;

/// One post as the storm detectors see it: the pipeline builds it from a
/// stored, analyzed post attributed to `brand`. Borrowed, so feeding the
/// tracker allocates nothing per post unless a storm keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The brand the post was attributed to (one observation per brand).
    pub brand: &'a str,
    /// The store's id of the post (stable, unique).
    pub post_id: i64,
    /// Published time, Unix seconds (event time: never when earshot saw it).
    pub published: i64,
    /// Author handle (or id when no handle), lower-cased by the caller.
    pub author: &'a str,
    /// Plain text.
    pub text: &'a str,
    /// Hashtags without `#`, lower-cased.
    pub hashtags: &'a [String],
    /// Expanded links.
    pub links: &'a [String],
    /// Mentioned handles without `@`, lower-cased.
    pub mentions: &'a [String],
    /// Products from the brand's catalogue named in the post.
    pub products: &'a [String],
    /// Complaint probability in [0, 1].
    pub complaint: f32,
    /// Sentiment is negative (the analyzer's label).
    pub negative: bool,
    /// The author's followers, when known.
    pub followers: u64,
    /// Reposts + quotes, when known.
    pub reposts: u64,
    /// The post is by the brand's own care account (never counted as a
    /// customer in a storm).
    pub from_brand: bool,
}
