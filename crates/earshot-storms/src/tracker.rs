//! The storm tracker: every detector, per brand, in event time, turned into storms.
//!
//! [`StormTracker::observe`] takes one [`Observation`] at a time (roughly in published order) and
//! pushes a [`StormEvent`] whenever a storm opens, grows past a milestone or closes.
//! [`StormTracker::advance`] moves event time without a post. The whole tracker is
//! `Serialize + Deserialize`: the pipeline snapshots it and resumes after a crash.
//!
//! # Event time
//!
//! Event time is the *watermark*: the latest published time seen (or passed to `advance`). A post
//! more than [`TrackerConfig::allowed_lateness_secs`] behind the watermark is counted as late and
//! ignored. Timers fire in event-time order, each at a time fixed by the data: a volume bucket
//! `[s, s + bucket)` is pushed to its detector at `s + bucket + lateness`; a storm closes at the end
//! of its last activity plus [`TrackerConfig::quiet_secs`]. So the events do not depend on batch
//! boundaries: calling `advance(t)` with any `t` no later than the next post's published time, or
//! snapshotting and restoring in between, yields the same events (property-tested in
//! `tests/properties.rs`).
//!
//! # Detectors and linking
//!
//! - **Volume** ([`VolumeSettings`]): per brand, three detectors over counts per bucket: all
//!   mentions, complaints (`complaint >= complaint_threshold`) and negative posts.
//! - **Campaign** ([`crate::campaign`]): hashtags, links, mention sets, near-duplicate texts
//!   ([`crate::minhash`]) and products in complaints, each against its own baseline.
//! - **Influencer** ([`crate::influencer`]): a negative post with reach far above the brand's usual.
//!
//! One burst is one storm. When a campaign key fires, the posts of its window are compared with the
//! members of the brand's open storms: if at least [`TrackerConfig::link_overlap`] of them already
//! belong to one, the key is linked into that storm (a [`crate::storm::Signal`]) instead of opening
//! another. When a volume bucket is anomalous, the posts that open storms already claim in that
//! bucket are taken out and the detector is asked again (on a copy): if the rest is not anomalous,
//! the storm that claims the most explains the anomaly and the volume signal is linked into it.
//! Influencer storms are never merged: one post, one storm (later posts by the same author join it).
//!
//! # Members
//!
//! A post joins an open storm when it carries one of the storm's keys (a campaign key: this
//! extends the storm's activity), matches a volume storm's facet (all / complaints / negative: it
//! joins but the activity is extended only by anomalous buckets), or is by the author of an
//! influencer storm (extends it). Posts by the brand itself (`from_brand`) are never counted.
//!
//! # Bounded memory
//!
//! Per brand: the campaign key table and text clusters (caps in [`crate::campaign::CampaignConfig`]);
//! recent posts for linking, kept for the longest window plus the lateness, at most
//! [`Limits::max_recent_posts`]; unflushed volume buckets (at most [`Limits::max_bucket_entries`]
//! post references each, counts exact); two reach histograms of 1 KiB each; the volume detectors.
//! Per storm: the caps in [`Limits`]. At most [`Limits::max_open_storms_per_brand`] storms are open
//! per brand. A brand idle for [`Limits::brand_idle_secs`] with no open storm is forgotten.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use crate::Observation;
use crate::campaign::{self, Burst, CampaignConfig, Entry, KeyKind, KeyOutcome, KeyTable};
use crate::influencer::{InfluencerConfig, ReachStats};
use crate::minhash::{self, TextClusters};
use crate::storm::{Facet, Signal, Storm, StormEvent, StormKind, TopCounter, storm_id};

/// The volume detector the tracker runs (one per brand and volume facet).
type VolumeDetectorImpl = crate::volume::VolumeDetector;
/// The volume detector's configuration type.
type VolumeConfigImpl = crate::volume::VolumeConfig;

/// A score at or above this is a volume detection (the agreed contract of `VolumeDetector::push`).
pub const VOLUME_THRESHOLD: f64 = 0.5;

/// The three volume facets, in the order their detectors run.
const VOLUME_FACETS: [Facet; 3] = [Facet::All, Facet::Complaints, Facet::Negative];

/// Post flag: judged a complaint.
const COMPLAINT: u8 = 1;
/// Post flag: negative sentiment.
const NEGATIVE: u8 = 2;

/// Volume detection settings (`[storms.volume]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeSettings {
    /// Run the volume detectors.
    pub enabled: bool,
    /// Bucket length, seconds (also the cadence of idle-brand sweeps).
    pub bucket_secs: i64,
    /// Empty buckets more than this long after the last post of all brands are not pushed (a
    /// stream that stopped for a month does not replay a month of zeros when it resumes).
    pub max_gap_secs: i64,
}

impl Default for VolumeSettings {
    fn default() -> VolumeSettings {
        VolumeSettings { enabled: true, bucket_secs: 300, max_gap_secs: 2 * 86_400 }
    }
}

/// Caps that bound memory (`[storms.limits]`). Counts stay exact past every cap except
/// `max_storm_authors` (see [`Storm::authors_exact`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Author handles listed per storm ([`Storm::participants`]).
    pub max_participants: usize,
    /// Member post ids listed per storm ([`Storm::member_post_ids`]), the first ones to join.
    pub max_member_ids: usize,
    /// Post ids in [`Storm::sample_post_ids`].
    pub max_sample_ids: usize,
    /// Entries in each top list ([`Storm::top_hashtags`], …).
    pub max_top: usize,
    /// Values each top list tracks (Space-Saving capacity; more is more exact).
    pub top_capacity: usize,
    /// Signals kept per storm.
    pub max_signals: usize,
    /// Distinct authors whose ids a storm keeps for an exact count.
    pub max_storm_authors: usize,
    /// Characters of [`Storm::sample_text`].
    pub sample_text_chars: usize,
    /// Recent posts kept per brand to link detectors into one storm (they are kept for the longest
    /// campaign window plus a bucket and the lateness: about 70 minutes by default). 896 keeps the
    /// hash table at 2048 slots.
    pub max_recent_posts: usize,
    /// Post references kept per unflushed volume bucket (to seed and link volume storms).
    pub max_bucket_entries: usize,
    /// Storms open at once per brand; a detector firing beyond it is counted, not opened.
    pub max_open_storms_per_brand: usize,
    /// A brand with no post for this long (and no open storm) is forgotten, baselines included.
    pub brand_idle_secs: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_participants: 200,
            max_member_ids: 1000,
            max_sample_ids: 10,
            max_top: 10,
            top_capacity: 64,
            max_signals: 32,
            max_storm_authors: 100_000,
            sample_text_chars: 280,
            max_recent_posts: 896,
            max_bucket_entries: 1024,
            max_open_storms_per_brand: 32,
            brand_idle_secs: 8 * 86_400,
        }
    }
}

/// Tracker settings: `[storms]` in `earshot.toml`. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// How far behind the watermark a post may be published and still count, seconds. Volume
    /// buckets are pushed this long after they end, so it also delays volume detection.
    pub allowed_lateness_secs: i64,
    /// A storm closes after this long without activity, seconds.
    pub quiet_secs: i64,
    /// An open storm that changed emits an update at most this often (event time), besides
    /// milestones (10, 20, 50, 100, … posts) and newly linked detectors.
    pub update_every_secs: i64,
    /// Complaint probability at or above which a post counts as a complaint.
    pub complaint_threshold: f32,
    /// Share of a firing detector's posts that must already belong to an open storm to link into
    /// it rather than open another.
    pub link_overlap: f64,
    /// Volume detectors.
    pub volume: VolumeSettings,
    /// Campaign detectors.
    pub campaign: CampaignConfig,
    /// Influential negative posts.
    pub influencer: InfluencerConfig,
    /// Memory caps.
    pub limits: Limits,
}

impl Default for TrackerConfig {
    fn default() -> TrackerConfig {
        TrackerConfig {
            allowed_lateness_secs: 120,
            quiet_secs: 1800,
            update_every_secs: 300,
            complaint_threshold: 0.5,
            link_overlap: 0.5,
            volume: VolumeSettings::default(),
            campaign: CampaignConfig::default(),
            influencer: InfluencerConfig::default(),
            limits: Limits::default(),
        }
    }
}

/// An invalid `[storms]` configuration: every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid [storms] configuration:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// What is wrong and what to set instead, one sentence each.
    pub problems: Vec<String>,
}

impl TrackerConfig {
    /// Check every setting; report all problems at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Vec::new();
        let positive = |p: &mut Vec<String>, name: &str, v: i64| {
            if v <= 0 {
                p.push(format!("`{name}` is {v}; set it to a positive number of seconds"));
            }
        };
        positive(&mut p, "quiet_secs", self.quiet_secs);
        positive(&mut p, "update_every_secs", self.update_every_secs);
        positive(&mut p, "volume.bucket_secs", self.volume.bucket_secs);
        positive(&mut p, "volume.max_gap_secs", self.volume.max_gap_secs);
        positive(&mut p, "limits.brand_idle_secs", self.limits.brand_idle_secs);
        for (name, kind) in [
            ("hashtag", KeyKind::Hashtag),
            ("link", KeyKind::Link),
            ("mentions", KeyKind::Mentions),
            ("text", KeyKind::Text),
            ("product", KeyKind::Product),
        ] {
            let r = self.campaign.rule(kind);
            positive(&mut p, &format!("campaign.{name}.window_secs"), r.window_secs);
            if r.window_secs > 86_400 {
                p.push(format!(
                    "`campaign.{name}.window_secs` is {}; at most 86400 (one day) is supported",
                    r.window_secs
                ));
            }
            if r.min_authors < 2 {
                p.push(format!(
                    "`campaign.{name}.min_authors` is {}; a campaign needs at least 2 authors",
                    r.min_authors
                ));
            }
            if !(r.max_p_value > 0.0 && r.max_p_value < 1.0) {
                p.push(format!(
                    "`campaign.{name}.max_p_value` is {}; set it between 0 and 1 (e.g. 1e-6)",
                    r.max_p_value
                ));
            }
        }
        if self.allowed_lateness_secs < 0 {
            p.push(format!("`allowed_lateness_secs` is {}; set it to 0 or more seconds", self.allowed_lateness_secs));
        }
        if !(0.0..=1.0).contains(&self.complaint_threshold) {
            p.push(format!("`complaint_threshold` is {}; set it between 0 and 1", self.complaint_threshold));
        }
        if !(self.link_overlap > 0.0 && self.link_overlap <= 1.0) {
            p.push(format!("`link_overlap` is {}; set it above 0 and at most 1", self.link_overlap));
        }
        if !(self.campaign.prior_keys > 0.0 && self.campaign.prior_posts > 0.0) {
            p.push("`campaign.prior_keys` and `campaign.prior_posts` must be positive".into());
        }
        if !(self.campaign.cold_start_share > 0.0 && self.campaign.cold_start_share <= 1.0) {
            p.push(format!(
                "`campaign.cold_start_share` is {}; set it above 0 and at most 1 (e.g. 0.5)",
                self.campaign.cold_start_share
            ));
        }
        if self.campaign.max_keys < 8 {
            p.push(format!("`campaign.max_keys` is {}; keep at least 8 keys per brand", self.campaign.max_keys));
        }
        if !(self.influencer.quantile > 0.0 && self.influencer.quantile <= 1.0) {
            p.push(format!(
                "`influencer.quantile` is {}; set it above 0 and at most 1 (e.g. 0.99)",
                self.influencer.quantile
            ));
        }
        if self.influencer.factor <= 0.0 {
            p.push(format!("`influencer.factor` is {}; set it above 0 (e.g. 5)", self.influencer.factor));
        }
        if p.is_empty() { Ok(()) } else { Err(ConfigError { problems: p }) }
    }

    /// How long recent posts are kept for linking: the longest window and a bucket, plus lateness.
    fn recent_horizon(&self) -> i64 {
        self.campaign.max_window_secs().max(self.volume.bucket_secs)
            + self.volume.bucket_secs
            + 2 * self.allowed_lateness_secs
    }
}

/// Counters of what the tracker did with its input (never silent about dropped posts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerStats {
    /// Observations passed to `observe`.
    pub observations: u64,
    /// Posts by the brand itself, not counted.
    pub from_brand: u64,
    /// Posts further behind the watermark than the allowed lateness, ignored.
    pub late: u64,
    /// Posts whose id was seen recently for the same brand, ignored.
    pub duplicates: u64,
    /// Storms opened.
    pub opened: u64,
    /// Storms closed.
    pub closed: u64,
    /// Detector firings linked into an existing storm.
    pub linked: u64,
    /// Detector firings not opened because the brand had the maximum of open storms.
    pub suppressed: u64,
    /// Brands forgotten after being idle.
    pub brands_forgotten: u64,
}

/// What a brand's recent post looked like, for linking and for storms opened after it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Digest {
    published: i64,
    author: String,
    hashtags: Vec<String>,
    products: Vec<String>,
    /// Open storms it is a member of (sequence numbers).
    storms: Vec<u64>,
}

/// Recent posts of one brand, by id, evicted by event time and count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Recent {
    order: VecDeque<i64>,
    posts: HashMap<i64, Digest>,
}

impl Recent {
    fn evict(&mut self, now: i64, horizon: i64, cap: usize) {
        while let Some(&id) = self.order.front() {
            let old = self.posts.get(&id).is_none_or(|d| d.published <= now - horizon);
            if !(old || self.order.len() > cap) {
                break;
            }
            self.order.pop_front();
            self.posts.remove(&id);
        }
    }

    fn memory_bytes(&self) -> usize {
        self.order.capacity() * 8
            + self.posts.capacity() * (std::mem::size_of::<(i64, Digest)>() + 1)
            + self
                .posts
                .values()
                .map(|d| {
                    d.author.capacity()
                        + d.hashtags.capacity() * 24
                        + d.hashtags.iter().map(String::capacity).sum::<usize>()
                        + d.products.capacity() * 24
                        + d.products.iter().map(String::capacity).sum::<usize>()
                        + d.storms.capacity() * 8
                })
                .sum::<usize>()
    }
}

/// One post in an unflushed volume bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct BucketEntry {
    post_id: i64,
    author: u64,
    flags: u8,
}

/// A volume bucket not pushed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingBucket {
    start: i64,
    counts: [u32; 3],
    entries: Vec<BucketEntry>,
}

/// Everything the tracker keeps about one brand.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BrandState {
    first_seen: i64,
    last_seen: i64,
    keys: KeyTable,
    texts: TextClusters,
    recent: Recent,
    /// Unflushed buckets, oldest first.
    pending: VecDeque<PendingBucket>,
    /// First bucket this brand pushes to its volume detectors.
    volume_from: i64,
    /// One detector per entry of [`VOLUME_FACETS`] (empty when volume detection is off).
    volume: Vec<VolumeDetectorImpl>,
    reach: ReachStats,
    /// Open storms (sequence numbers), in opening order.
    open: Vec<u64>,
    /// Posts observed, for the maintenance cadence.
    observed: u64,
}

impl BrandState {
    /// Add this brand's bytes to `r`, by component.
    fn memory(&self, r: &mut MemoryReport) {
        r.other += std::mem::size_of::<BrandState>() + self.open.capacity() * 8;
        r.keys += self.keys.memory_bytes();
        r.text_clusters += self.texts.memory_bytes();
        r.recent_posts += self.recent.memory_bytes();
        r.volume += self.pending.capacity() * std::mem::size_of::<PendingBucket>()
            + self.pending.iter().map(|p| p.entries.capacity() * std::mem::size_of::<BucketEntry>()).sum::<usize>()
            + self.volume.iter().map(VolumeDetectorImpl::memory_bytes).sum::<usize>();
        r.reach += self.reach.memory_bytes();
    }
}

/// Where a tracker's memory goes, in bytes estimated from capacities (see
/// [`StormTracker::memory_report`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryReport {
    /// Brands with state.
    pub brands: usize,
    /// Campaign key tables (windows, baselines) and brand volume counts.
    pub keys: usize,
    /// Near-duplicate text LSH buckets.
    pub text_clusters: usize,
    /// Recent posts kept for linking.
    pub recent_posts: usize,
    /// Volume detectors and unflushed buckets.
    pub volume: usize,
    /// Reach histograms.
    pub reach: usize,
    /// Open storms.
    pub storms: usize,
    /// Everything else (brand names, the close schedule, fixed parts).
    pub other: usize,
}

impl MemoryReport {
    /// All components.
    pub fn total(&self) -> usize {
        self.keys + self.text_clusters + self.recent_posts + self.volume + self.reach + self.storms + self.other
    }
}

/// A storm while open: the public [`Storm`] plus what it needs to grow.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenStorm {
    storm: Storm,
    /// Hashes of distinct authors (for the exact count; capped).
    authors: HashSet<u64>,
    hashtags: TopCounter,
    terms: TopCounter,
    products: TopCounter,
    /// Campaign key-table ids attached to this storm.
    keys: Vec<String>,
    /// Volume facets whose posts join it.
    facets: Vec<Facet>,
    /// Author whose posts join it (influencer storms).
    author: Option<String>,
    /// End of the latest activity; the storm closes at `quiet_from + quiet_secs`.
    quiet_from: i64,
    /// Posts at the last emitted event.
    emitted_posts: u64,
    /// Event time of the last emitted event.
    emitted_at: i64,
    /// Changed since the last emitted event.
    changed: bool,
}

impl OpenStorm {
    fn memory_bytes(&self) -> usize {
        let s = &self.storm;
        std::mem::size_of::<OpenStorm>()
            + self.authors.capacity() * 9
            + self.hashtags.memory_bytes()
            + self.terms.memory_bytes()
            + self.products.memory_bytes()
            + self.keys.iter().map(|k| k.capacity() + 24).sum::<usize>()
            + s.participants.iter().map(|p| p.capacity() + 24).sum::<usize>()
            + (s.member_post_ids.capacity() + s.sample_post_ids.capacity()) * 8
            + s.signals.capacity() * std::mem::size_of::<Signal>()
            + s.id.capacity()
            + s.brand.capacity()
            + s.key.capacity()
            + s.sample_text.as_ref().map_or(0, String::capacity)
    }
}

/// One post as a storm member.
struct Member<'a> {
    post_id: i64,
    published: i64,
    author_hash: u64,
    author: Option<&'a str>,
    hashtags: &'a [String],
    products: &'a [String],
    terms: &'a [&'a str],
}

/// The streaming storm tracker. See the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StormTracker {
    config: TrackerConfig,
    /// Latest event time seen.
    watermark: Option<i64>,
    /// Latest published time of an observed post.
    last_post_at: Option<i64>,
    /// Start of the oldest bucket not flushed yet.
    flushed_until: Option<i64>,
    brands: BTreeMap<String, BrandState>,
    open: BTreeMap<u64, OpenStorm>,
    /// (close due, storm sequence number).
    closes: BTreeSet<(i64, u64)>,
    next_seq: u64,
    stats: TrackerStats,
}

impl StormTracker {
    /// A tracker with `config`.
    ///
    /// # Panics
    ///
    /// When `config` is invalid; check user-supplied settings with [`TrackerConfig::validate`] or
    /// use [`StormTracker::try_new`].
    pub fn new(config: TrackerConfig) -> StormTracker {
        match StormTracker::try_new(config) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// A tracker with `config`, or every problem with it.
    pub fn try_new(config: TrackerConfig) -> Result<StormTracker, ConfigError> {
        config.validate()?;
        Ok(StormTracker {
            config,
            watermark: None,
            last_post_at: None,
            flushed_until: None,
            brands: BTreeMap::new(),
            open: BTreeMap::new(),
            closes: BTreeSet::new(),
            next_seq: 0,
            stats: TrackerStats::default(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// What the tracker did with its input so far.
    pub fn stats(&self) -> &TrackerStats {
        &self.stats
    }

    /// The current event time (latest published time or `advance` time), if any.
    pub fn watermark(&self) -> Option<i64> {
        self.watermark
    }

    /// Brands with state.
    pub fn brands(&self) -> usize {
        self.brands.len()
    }

    /// Storms open now, oldest first.
    pub fn open_storms(&self) -> impl Iterator<Item = &Storm> {
        self.open.values().map(|o| &o.storm)
    }

    /// Bytes held, estimated from capacities (the figure the memory caps bound).
    pub fn memory_bytes(&self) -> usize {
        self.memory_report().total()
    }

    /// [`StormTracker::memory_bytes`] by component.
    pub fn memory_report(&self) -> MemoryReport {
        let mut r = MemoryReport {
            brands: self.brands.len(),
            other: std::mem::size_of::<StormTracker>() + self.closes.len() * 40,
            ..MemoryReport::default()
        };
        for (name, b) in &self.brands {
            r.other += name.capacity() + 64;
            b.memory(&mut r);
        }
        r.storms = self.open.values().map(|o| o.memory_bytes() + 48).sum();
        r
    }

    /// Feed one observation; events for storms opened, updated or closed go to `out`.
    pub fn observe(&mut self, o: &Observation<'_>, out: &mut Vec<StormEvent>) {
        self.stats.observations += 1;
        if o.from_brand {
            self.stats.from_brand += 1;
            return;
        }
        self.advance(o.published, out);
        let now = self.watermark.unwrap_or(o.published);
        if o.published < now - self.config.allowed_lateness_secs {
            self.stats.late += 1;
            return;
        }
        let cfg = &self.config;
        let lim = &cfg.limits;
        let mut flags = 0;
        if o.complaint >= cfg.complaint_threshold {
            flags |= COMPLAINT;
        }
        if o.negative {
            flags |= NEGATIVE;
        }
        let bad = flags != 0;
        let bucket_secs = cfg.volume.bucket_secs;
        let bucket = o.published.div_euclid(bucket_secs) * bucket_secs;
        let flushed_until = *self.flushed_until.get_or_insert(bucket);
        let brand = self.brands.entry(o.brand.to_string()).or_insert_with(|| BrandState {
            first_seen: o.published,
            last_seen: o.published,
            keys: KeyTable::default(),
            texts: TextClusters::default(),
            recent: Recent::default(),
            pending: VecDeque::new(),
            volume_from: bucket.max(flushed_until),
            volume: if cfg.volume.enabled {
                (0..VOLUME_FACETS.len())
                    .map(|_| VolumeDetectorImpl::new(VolumeConfigImpl { bucket_secs, ..Default::default() }))
                    .collect()
            } else {
                Vec::new()
            },
            reach: ReachStats::default(),
            open: Vec::new(),
            observed: 0,
        });
        if brand.recent.posts.contains_key(&o.post_id) {
            self.stats.duplicates += 1;
            return;
        }
        self.last_post_at = Some(self.last_post_at.map_or(o.published, |t| t.max(o.published)));
        brand.last_seen = brand.last_seen.max(o.published);
        brand.first_seen = brand.first_seen.min(o.published);
        brand.observed += 1;
        let author_hash = campaign::hash_str(o.author);

        // Volume: count into the post's (unflushed) bucket.
        if bucket >= flushed_until {
            let at = brand.pending.partition_point(|p| p.start < bucket);
            if brand.pending.get(at).is_none_or(|p| p.start != bucket) {
                brand.pending.insert(at, PendingBucket { start: bucket, counts: [0; 3], entries: Vec::new() });
            }
            let pb = &mut brand.pending[at];
            pb.counts[0] += 1;
            if flags & COMPLAINT != 0 {
                pb.counts[1] += 1;
            }
            if flags & NEGATIVE != 0 {
                pb.counts[2] += 1;
            }
            if pb.entries.len() < lim.max_bucket_entries {
                pb.entries.push(BucketEntry { post_id: o.post_id, author: author_hash, flags });
            }
        }

        // Remember the post for linking.
        let horizon = cfg.recent_horizon();
        brand.recent.evict(now, horizon, lim.max_recent_posts.saturating_sub(1));
        brand.recent.order.push_back(o.post_id);
        brand.recent.posts.insert(
            o.post_id,
            Digest {
                published: o.published,
                author: o.author.to_string(),
                hashtags: o.hashtags.iter().take(8).cloned().collect(),
                products: o.products.iter().take(8).cloned().collect(),
                storms: Vec::new(),
            },
        );

        // Campaign keys.
        let toks = campaign::tokens(o.text);
        // A text cluster becomes a campaign key from its second post on: most texts are one-offs,
        // and a key per one-off text would fill the key table with keys that never fire.
        let cluster = if cfg.campaign.text.enabled {
            minhash::signature(&toks, cfg.campaign.text_min_tokens)
                .map(|sig| {
                    brand.texts.assign(
                        &sig,
                        o.published,
                        now,
                        cfg.campaign.text_retention_secs,
                        cfg.campaign.max_text_buckets,
                    )
                })
                .and_then(|(cluster, existed)| existed.then_some(cluster))
        } else {
            None
        };
        brand.keys.count_post(o.published, bad, &cfg.campaign);
        let keys = campaign::keys_of(o.hashtags, o.links, o.mentions, o.products, cluster, bad, &cfg.campaign);
        let can_fire = now - brand.first_seen >= cfg.campaign.warmup_secs;
        let entry = Entry { published: o.published, author: author_hash, post_id: o.post_id };
        let mut extend: Vec<u64> = Vec::new();
        let mut bursts: Vec<(String, Burst)> = Vec::new();
        for (kind, id) in keys {
            match brand.keys.observe(&id, kind, entry, now, can_fire, &cfg.campaign) {
                KeyOutcome::Quiet => {}
                KeyOutcome::InStorm(seq) => extend.push(seq),
                KeyOutcome::Fired(b) => bursts.push((id, b)),
            }
        }
        if brand.observed.is_multiple_of(256) {
            brand.keys.maintain(now, &cfg.campaign);
        }
        let mut join: Vec<u64> = Vec::new();
        for &seq in &brand.open {
            let Some(os) = self.open.get(&seq) else {
                continue;
            };
            if os.author.as_deref() == Some(o.author) {
                extend.push(seq);
            } else if os.facets.iter().any(|f| facet_matches(*f, flags)) {
                join.push(seq);
            }
        }
        extend.sort_unstable();
        extend.dedup();
        join.retain(|s| !extend.contains(s));
        let term_list = campaign::terms(&toks);
        let member = Member {
            post_id: o.post_id,
            published: o.published,
            author_hash,
            author: Some(o.author),
            hashtags: o.hashtags,
            products: o.products,
            terms: &term_list,
        };
        let mut touched: Vec<u64> = Vec::new();
        for (seq, extends) in extend.iter().map(|s| (*s, true)).chain(join.iter().map(|s| (*s, false))) {
            self.add_member(o.brand, seq, &member);
            if extends {
                self.extend(seq, o.published);
            }
            touched.push(seq);
        }
        for (id, burst) in bursts {
            if let Some(seq) = self.on_burst(o, &id, burst, &member, now, out) {
                touched.push(seq);
            }
        }
        let influencer = match self.brands.get_mut(o.brand) {
            Some(b) => b.reach.observe(o.followers, o.reposts, o.negative, &self.config.influencer),
            None => None,
        };
        if let Some(reach) = influencer {
            let already =
                touched.iter().any(|s| self.open.get(s).is_some_and(|os| os.author.as_deref() == Some(o.author)));
            if !already {
                self.open_influencer(o, reach, &member, out);
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for seq in touched {
            self.maybe_emit(seq, now, false, out);
        }
    }

    /// Advance event time to `now` without a post: close storms quiet since, push volume buckets
    /// that are due. A `now` behind the watermark does nothing.
    pub fn advance(&mut self, now: i64, out: &mut Vec<StormEvent>) {
        if self.watermark.is_some_and(|w| now <= w) {
            return;
        }
        let b = self.config.volume.bucket_secs;
        let lateness = self.config.allowed_lateness_secs;
        loop {
            let flush_due = self.flushed_until.map(|s| s + b + lateness);
            let close_due = self.closes.first().map(|(t, _)| *t);
            match (flush_due, close_due) {
                (Some(f), c) if f <= now && c.is_none_or(|c| f <= c) => {
                    let s = self.flushed_until.unwrap_or_default();
                    self.flush(s, f, out);
                    self.flushed_until = Some(s + b);
                    // After a long silence, jump over empty buckets instead of pushing zeros.
                    let gap_end = self.last_post_at.map_or(i64::MAX, |t| t + self.config.volume.max_gap_secs);
                    let next = s + b;
                    if next >= gap_end {
                        // Buckets from here on are empty and are not pushed: skip to the last one
                        // due at `now`. Only idle-brand sweeps are skipped, and those only depend
                        // on the latest sweep time, so the result is the same as flushing each.
                        let resume = (now - lateness).div_euclid(b) * b - b;
                        if resume > next {
                            self.flushed_until = Some(resume);
                        }
                    }
                }
                (_, Some(c)) if c <= now => {
                    if let Some((due, seq)) = self.closes.pop_first() {
                        self.close(seq, due, out);
                    }
                }
                _ => break,
            }
        }
        self.watermark = Some(now);
    }

    /// Push bucket `s` of every brand to its volume detectors at event time `due`, and forget idle
    /// brands.
    fn flush(&mut self, s: i64, due: i64, out: &mut Vec<StormEvent>) {
        let b = self.config.volume.bucket_secs;
        let idle = self.config.limits.brand_idle_secs;
        let in_gap = self.last_post_at.is_some_and(|t| s >= t + self.config.volume.max_gap_secs);
        let names: Vec<String> = self.brands.keys().cloned().collect();
        for name in names {
            let Some(brand) = self.brands.get_mut(&name) else {
                continue;
            };
            if brand.open.is_empty() && brand.last_seen + idle < due {
                self.brands.remove(&name);
                self.stats.brands_forgotten += 1;
                continue;
            }
            let pb = if brand.pending.front().is_some_and(|p| p.start <= s) { brand.pending.pop_front() } else { None };
            if brand.volume.is_empty() || brand.volume_from > s || (in_gap && pb.is_none()) {
                continue;
            }
            let pb = pb.unwrap_or(PendingBucket { start: s, counts: [0; 3], entries: Vec::new() });
            for (i, facet) in VOLUME_FACETS.into_iter().enumerate() {
                let count = pb.counts[i];
                let claimed = self.claimed(&name, &pb, facet);
                let Some(brand) = self.brands.get_mut(&name) else {
                    break;
                };
                let probe = (!claimed.is_empty()).then(|| brand.volume[i].clone());
                let reading = brand.volume[i].push_reading(s, f64::from(count));
                if reading.score >= VOLUME_THRESHOLD {
                    let score = reading.score;
                    self.on_volume(&name, facet, &pb, s, s + b, due, score, claimed, probe, out);
                } else if reading.raw_score >= VOLUME_THRESHOLD {
                    // The detector alerts once per surge; a later bucket that is itself anomalous
                    // keeps the surge's storm active.
                    self.continue_volume(&name, facet, &pb, s + b, due, out);
                }
            }
        }
    }

    /// Posts of `pb` matching `facet` that each open storm of the brand already claims, scaled to
    /// the bucket's exact count when the bucket's references were capped; (seq, claimed), most
    /// first.
    fn claimed(&self, brand: &str, pb: &PendingBucket, facet: Facet) -> Vec<(u64, f64)> {
        let Some(b) = self.brands.get(brand) else {
            return Vec::new();
        };
        if b.open.is_empty() {
            return Vec::new();
        }
        let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
        let mut stored = 0u32;
        for e in pb.entries.iter().filter(|e| facet_matches(facet, e.flags)) {
            stored += 1;
            if let Some(d) = b.recent.posts.get(&e.post_id) {
                for s in &d.storms {
                    if self.open.contains_key(s) {
                        *counts.entry(*s).or_default() += 1;
                    }
                }
            }
        }
        let i = VOLUME_FACETS.iter().position(|f| *f == facet).unwrap_or(0);
        let scale = if stored == 0 { 1.0 } else { f64::from(pb.counts[i]) / f64::from(stored) };
        let mut v: Vec<(u64, f64)> = counts.into_iter().map(|(s, c)| (s, f64::from(c) * scale)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// A volume detector flagged bucket `[s, end)` of `brand` at event time `due`.
    #[allow(clippy::too_many_arguments)]
    fn on_volume(
        &mut self,
        brand: &str,
        facet: Facet,
        pb: &PendingBucket,
        s: i64,
        end: i64,
        due: i64,
        score: f64,
        claimed: Vec<(u64, f64)>,
        probe: Option<VolumeDetectorImpl>,
        out: &mut Vec<StormEvent>,
    ) {
        let kind = if facet == Facet::Negative { StormKind::Negative } else { StormKind::Volume };
        let i = VOLUME_FACETS.iter().position(|f| *f == facet).unwrap_or(0);
        let count = pb.counts[i];
        let signal = Signal {
            kind,
            facet,
            key: facet.as_str().to_string(),
            detected_at: due,
            observed: u64::from(count),
            expected: 0.0,
            strength: (score.clamp(0.0, 1.0) * 100.0).round() as u32,
        };
        let own = self
            .brands
            .get(brand)
            .and_then(|b| b.open.iter().copied().find(|s| self.open.get(s).is_some_and(|o| o.facets.contains(&facet))));
        let target = own.or_else(|| {
            let (seq, c) = claimed.first().copied()?;
            let mut probe = probe?;
            let rest = (f64::from(count) - c).max(0.0);
            (probe.push_reading(s, rest).raw_score < VOLUME_THRESHOLD).then_some(seq)
        });
        // A surge while a campaign against the brand is going on is that campaign's wake (its stragglers
        // without the hashtag, people piling on): one burst, one storm.
        let target = target.or_else(|| {
            let b = self.brands.get(brand)?;
            b.open.iter().copied().find(|q| {
                self.open.get(q).is_some_and(|o| o.storm.kind == StormKind::Campaign && o.storm.last_post_at >= s)
            })
        });
        let members: Vec<BucketEntry> = pb.entries.iter().filter(|e| facet_matches(facet, e.flags)).copied().collect();
        if let Some(seq) = target {
            let fresh = self.link_signal(seq, signal);
            // A volume storm of this facet takes the bucket's posts; a storm that merely explains
            // the surge (a campaign) keeps only its own members.
            if own.is_some() {
                for e in &members {
                    self.add_entry_member(brand, seq, e.post_id, e.author);
                }
            }
            self.extend(seq, end);
            if fresh {
                self.stats.linked += 1;
            }
            self.maybe_emit(seq, due, fresh, out);
            return;
        }
        let Some(seq) = self.open_storm(brand, kind, facet, facet.as_str(), s, due, None, signal) else {
            return;
        };
        if let Some(os) = self.open.get_mut(&seq) {
            os.facets.push(facet);
        }
        for e in &members {
            self.add_entry_member(brand, seq, e.post_id, e.author);
        }
        self.extend(seq, end);
        self.emit_opened(seq, due, out);
    }

    /// A later anomalous bucket of a surge that already alerted: the storm that holds the surge's
    /// volume signal (if still open) stays active through the bucket's end; a volume storm of this
    /// facet also takes the bucket's posts.
    fn continue_volume(
        &mut self,
        brand: &str,
        facet: Facet,
        pb: &PendingBucket,
        end: i64,
        due: i64,
        out: &mut Vec<StormEvent>,
    ) {
        let Some(b) = self.brands.get(brand) else {
            return;
        };
        let holder = b.open.iter().copied().find(|s| {
            self.open.get(s).is_some_and(|o| {
                o.storm
                    .signals
                    .iter()
                    .any(|x| x.facet == facet && matches!(x.kind, StormKind::Volume | StormKind::Negative))
            })
        });
        let Some(seq) = holder else {
            return;
        };
        if self.open.get(&seq).is_some_and(|o| o.facets.contains(&facet)) {
            for e in pb.entries.iter().filter(|e| facet_matches(facet, e.flags)) {
                self.add_entry_member(brand, seq, e.post_id, e.author);
            }
        }
        self.extend(seq, end);
        self.maybe_emit(seq, due, false, out);
    }

    /// A campaign key fired on post `o`: link it into the open storm that already holds most of its
    /// posts, or open a storm. Returns the storm touched.
    fn on_burst(
        &mut self,
        o: &Observation<'_>,
        id: &str,
        burst: Burst,
        member: &Member<'_>,
        now: i64,
        out: &mut Vec<StormEvent>,
    ) -> Option<u64> {
        let kind = if burst.kind == KeyKind::Product { StormKind::Volume } else { StormKind::Campaign };
        let facet = burst.kind.facet();
        let signal = Signal {
            kind,
            facet,
            key: burst.key.clone(),
            detected_at: o.published,
            observed: burst.authors,
            expected: burst.expected,
            strength: (-burst.p_value.max(1e-300).log10()).floor().max(0.0) as u32,
        };
        let brand = self.brands.get(o.brand)?;
        let mut best: Option<(usize, u64)> = None;
        for &seq in &brand.open {
            if self.open.get(&seq).is_none_or(|os| os.storm.kind == StormKind::Influencer) {
                continue;
            }
            let overlap = burst
                .entries
                .iter()
                .filter(|e| brand.recent.posts.get(&e.post_id).is_some_and(|d| d.storms.contains(&seq)))
                .count();
            if best.is_none_or(|(n, _)| overlap > n) {
                best = Some((overlap, seq));
            }
        }
        let mut linked =
            best.filter(|(n, _)| *n as f64 >= self.config.link_overlap * burst.entries.len() as f64 && *n > 0);
        if linked.is_none() && burst.kind == KeyKind::Mentions {
            // A mention campaign's posts rarely name exactly the same accounts (one adds a friend, one drops
            // the brand): a set sharing at least two accounts with an open storm's set is the same campaign.
            let accounts: HashSet<&str> = burst.key.split(',').collect();
            linked = brand
                .open
                .iter()
                .copied()
                .find(|seq| {
                    self.open.get(seq).is_some_and(|os| {
                        os.keys.iter().filter_map(|k| KeyKind::parse_id(k)).any(|(kind, key)| {
                            kind == KeyKind::Mentions && key.split(',').filter(|a| accounts.contains(a)).count() >= 2
                        })
                    })
                })
                .map(|seq| (0, seq));
        }
        if linked.is_none() && burst.kind == KeyKind::Text {
            // Edited copies of one text drift into neighbouring near-duplicate clusters: a text burst while a
            // text campaign against the same brand is active is the same campaign.
            let since = burst.entries.iter().map(|e| e.published).min().unwrap_or(o.published);
            linked = brand
                .open
                .iter()
                .copied()
                .find(|seq| {
                    self.open.get(seq).is_some_and(|os| {
                        os.storm.kind == StormKind::Campaign
                            && os.storm.last_post_at >= since
                            && os
                                .keys
                                .iter()
                                .filter_map(|k| KeyKind::parse_id(k))
                                .any(|(kind, _)| kind == KeyKind::Text)
                    })
                })
                .map(|seq| (0, seq));
        }
        let started = burst.entries.iter().map(|e| e.published).min().unwrap_or(o.published);
        let seq = if let Some((_, seq)) = linked {
            self.link_signal(seq, signal);
            self.stats.linked += 1;
            seq
        } else {
            let text = Some(o.text);
            self.open_storm(o.brand, kind, facet, &burst.key, started, o.published, text, signal)?
        };
        if let Some(b) = self.brands.get_mut(o.brand) {
            b.keys.attach(id, seq);
        }
        if let Some(os) = self.open.get_mut(&seq) {
            os.keys.push(id.to_string());
        }
        for e in &burst.entries {
            if e.post_id == member.post_id {
                self.add_member(o.brand, seq, member);
            } else {
                self.add_entry_member(o.brand, seq, e.post_id, e.author);
            }
            self.extend(seq, e.published);
        }
        if linked.is_some() {
            self.maybe_emit(seq, now, true, out);
        } else {
            self.emit_opened(seq, now, out);
        }
        Some(seq)
    }

    /// Open an influencer storm for post `o`.
    fn open_influencer(&mut self, o: &Observation<'_>, reach: u64, member: &Member<'_>, out: &mut Vec<StormEvent>) {
        let signal = Signal {
            kind: StormKind::Influencer,
            facet: Facet::Author,
            key: o.author.to_string(),
            detected_at: o.published,
            observed: reach,
            expected: 0.0,
            strength: 0,
        };
        let Some(seq) = self.open_storm(
            o.brand,
            StormKind::Influencer,
            Facet::Author,
            o.author,
            o.published,
            o.published,
            Some(o.text),
            signal,
        ) else {
            return;
        };
        if let Some(os) = self.open.get_mut(&seq) {
            os.author = Some(o.author.to_string());
        }
        self.add_member(o.brand, seq, member);
        self.extend(seq, o.published);
        let now = self.watermark.unwrap_or(o.published);
        self.emit_opened(seq, now, out);
    }

    /// Create an open storm (no members yet). `None` when the brand has its maximum open.
    #[allow(clippy::too_many_arguments)]
    fn open_storm(
        &mut self,
        brand: &str,
        kind: StormKind,
        facet: Facet,
        key: &str,
        started_at: i64,
        detected_at: i64,
        text: Option<&str>,
        signal: Signal,
    ) -> Option<u64> {
        let lim = &self.config.limits;
        let b = self.brands.get_mut(brand)?;
        if b.open.len() >= lim.max_open_storms_per_brand {
            self.stats.suppressed += 1;
            return None;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        b.open.push(seq);
        self.stats.opened += 1;
        let storm = Storm {
            id: storm_id(kind, brand, facet, key, started_at),
            kind,
            brand: brand.to_string(),
            facet,
            key: key.to_string(),
            started_at,
            detected_at,
            last_post_at: started_at,
            closed_at: None,
            posts: 0,
            authors: 0,
            authors_exact: true,
            top_hashtags: Vec::new(),
            top_terms: Vec::new(),
            top_products: Vec::new(),
            sample_post_ids: Vec::new(),
            sample_text: text.map(|t| t.chars().take(lim.sample_text_chars).collect()),
            participants: Vec::new(),
            member_post_ids: Vec::new(),
            signals: vec![signal],
        };
        self.open.insert(
            seq,
            OpenStorm {
                storm,
                authors: HashSet::new(),
                hashtags: TopCounter::default(),
                terms: TopCounter::default(),
                products: TopCounter::default(),
                keys: Vec::new(),
                facets: Vec::new(),
                author: None,
                quiet_from: started_at,
                emitted_posts: 0,
                emitted_at: detected_at,
                changed: false,
            },
        );
        self.closes.insert((started_at + self.config.quiet_secs, seq));
        Some(seq)
    }

    /// Record another detector's signal in storm `seq`; relabel the storm when the signal is more
    /// specific. Returns false when the same detector had already signalled it.
    fn link_signal(&mut self, seq: u64, signal: Signal) -> bool {
        let max = self.config.limits.max_signals;
        let Some(os) = self.open.get_mut(&seq) else {
            return false;
        };
        let s = &mut os.storm;
        if s.signals.iter().any(|x| x.kind == signal.kind && x.facet == signal.facet && x.key == signal.key) {
            return false;
        }
        if specificity(signal.kind, signal.facet) > specificity(s.kind, s.facet) {
            s.kind = signal.kind;
            s.facet = signal.facet;
            s.key = signal.key.clone();
        }
        if s.signals.len() < max {
            s.signals.push(signal);
        }
        os.changed = true;
        true
    }

    /// Move storm `seq`'s activity to at least `t` and reschedule its close.
    fn extend(&mut self, seq: u64, t: i64) {
        let quiet = self.config.quiet_secs;
        let Some(os) = self.open.get_mut(&seq) else {
            return;
        };
        if t <= os.quiet_from {
            return;
        }
        self.closes.remove(&(os.quiet_from + quiet, seq));
        os.quiet_from = t;
        self.closes.insert((t + quiet, seq));
    }

    /// Add a post seen before as a member (from a window or bucket reference), using its digest
    /// when still held.
    fn add_entry_member(&mut self, brand: &str, seq: u64, post_id: i64, author_hash: u64) {
        let digest = self.brands.get(brand).and_then(|b| b.recent.posts.get(&post_id)).cloned();
        let member = Member {
            post_id,
            published: digest.as_ref().map_or(i64::MIN, |d| d.published),
            author_hash,
            author: digest.as_ref().map(|d| d.author.as_str()),
            hashtags: digest.as_ref().map_or(&[], |d| d.hashtags.as_slice()),
            products: digest.as_ref().map_or(&[], |d| d.products.as_slice()),
            terms: &[],
        };
        self.add_member(brand, seq, &member);
    }

    /// Add one post to storm `seq` unless it is already a member.
    fn add_member(&mut self, brand: &str, seq: u64, m: &Member<'_>) {
        let lim = &self.config.limits;
        if let Some(d) = self.brands.get_mut(brand).and_then(|b| b.recent.posts.get_mut(&m.post_id)) {
            if d.storms.contains(&seq) {
                return;
            }
            d.storms.push(seq);
        }
        let Some(os) = self.open.get_mut(&seq) else {
            return;
        };
        let s = &mut os.storm;
        s.posts += 1;
        s.last_post_at = s.last_post_at.max(m.published);
        if os.authors.contains(&m.author_hash) {
            // counted
        } else if os.authors.len() < lim.max_storm_authors {
            os.authors.insert(m.author_hash);
            s.authors += 1;
            if let Some(a) = m.author
                && s.participants.len() < lim.max_participants
            {
                s.participants.push(a.to_string());
            }
        } else {
            s.authors_exact = false;
        }
        if s.member_post_ids.len() < lim.max_member_ids {
            s.member_post_ids.push(m.post_id);
        }
        if s.sample_post_ids.len() < lim.max_sample_ids {
            s.sample_post_ids.push(m.post_id);
        }
        let cap = lim.top_capacity;
        for h in m.hashtags {
            os.hashtags.add(h, cap);
        }
        for p in m.products {
            os.products.add(p, cap);
        }
        for t in m.terms {
            os.terms.add(t, cap);
        }
        os.changed = true;
    }

    /// Refresh a storm's top lists from its counters.
    fn sync(&mut self, seq: u64) {
        let n = self.config.limits.max_top;
        if let Some(os) = self.open.get_mut(&seq) {
            os.storm.top_hashtags = os.hashtags.top(n);
            os.storm.top_terms = os.terms.top(n);
            os.storm.top_products = os.products.top(n);
        }
    }

    fn emit_opened(&mut self, seq: u64, now: i64, out: &mut Vec<StormEvent>) {
        self.sync(seq);
        if let Some(os) = self.open.get_mut(&seq) {
            os.emitted_posts = os.storm.posts;
            os.emitted_at = now;
            os.changed = false;
            out.push(StormEvent::Opened(os.storm.clone()));
        }
    }

    /// Emit an update for storm `seq` when forced (a new detector linked), when it grew past a
    /// milestone, or when it changed and `update_every_secs` passed since its last event.
    fn maybe_emit(&mut self, seq: u64, now: i64, force: bool, out: &mut Vec<StormEvent>) {
        let every = self.config.update_every_secs;
        self.sync(seq);
        let Some(os) = self.open.get_mut(&seq) else {
            return;
        };
        let due =
            force || os.storm.posts >= next_milestone(os.emitted_posts) || (os.changed && now >= os.emitted_at + every);
        if due && (os.changed || force) {
            os.emitted_posts = os.storm.posts;
            os.emitted_at = now;
            os.changed = false;
            out.push(StormEvent::Updated(os.storm.clone()));
        }
    }

    /// Close storm `seq` at `due`.
    fn close(&mut self, seq: u64, due: i64, out: &mut Vec<StormEvent>) {
        self.sync(seq);
        let Some(mut os) = self.open.remove(&seq) else {
            return;
        };
        if let Some(b) = self.brands.get_mut(&os.storm.brand) {
            b.open.retain(|s| *s != seq);
            for k in &os.keys {
                b.keys.detach(k, seq);
            }
        }
        os.storm.closed_at = Some(due);
        self.stats.closed += 1;
        out.push(StormEvent::Closed(os.storm));
    }
}

/// Does a post with `flags` belong to volume facet `f`?
fn facet_matches(f: Facet, flags: u8) -> bool {
    match f {
        Facet::All => true,
        Facet::Complaints => flags & COMPLAINT != 0,
        Facet::Negative => flags & NEGATIVE != 0,
        _ => false,
    }
}

/// How specific a signal is: a storm takes the label of its most specific signal.
fn specificity(kind: StormKind, facet: Facet) -> u8 {
    match (kind, facet) {
        (StormKind::Influencer, _) => 4,
        (StormKind::Campaign, _) => 3,
        (StormKind::Volume, Facet::Product) => 2,
        (StormKind::Negative, _) => 1,
        (StormKind::Volume, _) => 0,
    }
}

/// The next milestone of the 1-2-5 series (1, 2, 5, 10, 20, 50, …) strictly above `posts`.
fn next_milestone(posts: u64) -> u64 {
    let mut m = 1u64;
    loop {
        for f in [1, 2, 5] {
            let v = m.saturating_mul(f);
            if v > posts {
                return v;
            }
        }
        if m > u64::MAX / 10 {
            return u64::MAX;
        }
        m *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_follow_the_1_2_5_series() {
        let v: Vec<u64> = [0, 1, 4, 5, 9, 10, 19, 99, 100].into_iter().map(next_milestone).collect();
        assert_eq!(v, vec![1, 2, 5, 10, 10, 20, 20, 100, 200]);
    }

    #[test]
    fn invalid_configs_report_every_problem() {
        let mut c = TrackerConfig { quiet_secs: 0, link_overlap: 2.0, ..TrackerConfig::default() };
        c.campaign.text.min_authors = 1;
        let e = c.validate().unwrap_err();
        assert_eq!(e.problems.len(), 3, "{e}");
        let msg = e.to_string();
        assert!(msg.contains("`quiet_secs` is 0"), "{msg}");
        assert!(msg.contains("campaign.text.min_authors"), "{msg}");
        assert!(StormTracker::try_new(c).is_err());
        assert!(TrackerConfig::default().validate().is_ok());
    }

    #[test]
    fn config_reads_from_partial_toml_like_json() {
        let c: TrackerConfig =
            serde_json::from_str(r#"{"quiet_secs": 600, "campaign": {"hashtag": {"min_authors": 8}}}"#).unwrap();
        assert_eq!(c.quiet_secs, 600);
        assert_eq!(c.campaign.hashtag.min_authors, 8);
        assert_eq!(c.campaign.hashtag.window_secs, 600);
        assert!(serde_json::from_str::<TrackerConfig>(r#"{"quiet": 1}"#).is_err());
    }
}
