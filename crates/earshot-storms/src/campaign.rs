//! Coordinated-campaign detection: many distinct authors sharing one key within minutes, judged
//! against that key's own baseline.
//!
//! # Keys
//!
//! Each customer post yields keys ([`keys_of`]): each hashtag, each link (normalized by
//! [`normalize_link`]), its set of mentioned accounts when it names at least two
//! ([`mention_set`]), its near-duplicate text cluster ([`crate::minhash`]; from the cluster's second
//! post on, so a near-duplicate campaign with no other shared key fires one author later than a
//! hashtag campaign), and — for complaint or negative posts only — each product it names. Keys are kept per brand in a [`KeyTable`].
//!
//! # The test: is this key over-represented right now?
//!
//! For each key the table keeps a sliding window (event time, [`KeyRule::window_secs`]) of the
//! posts carrying it, and a 7-day baseline of how many posts carried it (filled as posts leave the
//! window, so a burst never raises its own baseline while it is being judged). The brand keeps the
//! same counts for all its posts. When a new distinct author enters a key's window, with `n`
//! distinct authors in the window, `N` brand posts in the same window and the key's baseline share
//! `s = (key posts + prior_keys) / (brand posts + prior_posts)` over the last 7 days, the key fires
//! when
//!
//! - `n >= min_authors`, and
//! - `P(Binomial(N, s) >= n) <= max_p_value`: the chance that at least `n` of the window's `N`
//!   posts carry the key if each did at its usual share.
//!
//! Conditioning on the brand's current volume `N` is what separates a campaign from organic
//! traffic: the brand's own tag used by many people all day, or a seasonal peak, raises `N` and the
//! key's count together (its share stays at its baseline), while a campaign puts one key, never or
//! rarely seen before, into many distinct authors' posts within minutes. Counting distinct authors
//! (not posts) means one account repeating itself is not a campaign.
//!
//! Product keys count only complaint or negative posts and compare with the brand's complaint or
//! negative volume, so "complaints about one product doubled" is judged against that product's
//! usual share of complaints.
//!
//! # Bounded memory
//!
//! Per brand: at most [`CampaignConfig::max_keys`] keys (over the cap, keys without live window
//! entries or an open storm are forgotten, those with the thinnest baseline first, down to 7/8 of
//! the cap, so eviction is amortized and one-off keys never push out learned ones); at most [`CampaignConfig::max_window_entries`] entries per key window (the oldest
//! leave first and count into the baseline; a key that busy cannot look new anyway); windows evict
//! by event time; the brand's per-minute counts cover the longest window and its day counts 7
//! days. All state is integers, so a JSON snapshot restores it exactly.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

use crate::storm::Facet;

/// Days in the baseline.
pub const BASELINE_DAYS: i64 = 7;

/// FNV-1a, 64 bit: a stable, dependency-free hash for keys, authors and shingles. Hand-written
/// because the std hasher is not guaranteed stable across Rust releases, and storm ids, text
/// clusters and snapshots must not change when the compiler does.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Fnv {
    /// A fresh hasher.
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    /// Feed bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv::new()
    }
}

/// FNV-1a of a string.
pub fn hash_str(s: &str) -> u64 {
    let mut h = Fnv::new();
    h.write(s.as_bytes());
    h.finish()
}

/// Which kind of key; also the prefix of the key's id in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// A hashtag.
    Hashtag,
    /// A link.
    Link,
    /// A set of at least two mentioned accounts.
    Mentions,
    /// A near-duplicate text cluster.
    Text,
    /// A product (complaint or negative posts only).
    Product,
}

impl KeyKind {
    /// The storm facet this key kind reports under.
    pub fn facet(self) -> Facet {
        match self {
            KeyKind::Hashtag => Facet::Hashtag,
            KeyKind::Link => Facet::Link,
            KeyKind::Mentions => Facet::Mentions,
            KeyKind::Text => Facet::Text,
            KeyKind::Product => Facet::Product,
        }
    }

    fn prefix(self) -> char {
        match self {
            KeyKind::Hashtag => 'h',
            KeyKind::Link => 'l',
            KeyKind::Mentions => 'm',
            KeyKind::Text => 't',
            KeyKind::Product => 'p',
        }
    }

    /// The table id of `key`: a one-letter kind prefix, `:`, the key.
    pub fn id(self, key: &str) -> String {
        let mut s = String::with_capacity(key.len() + 2);
        s.push(self.prefix());
        s.push(':');
        s.push_str(key);
        s
    }

    /// Split a table id back into kind and key.
    pub fn parse_id(id: &str) -> Option<(KeyKind, &str)> {
        let (p, key) = id.split_at_checked(2)?;
        let kind = match p {
            "h:" => KeyKind::Hashtag,
            "l:" => KeyKind::Link,
            "m:" => KeyKind::Mentions,
            "t:" => KeyKind::Text,
            "p:" => KeyKind::Product,
            _ => return None,
        };
        Some((kind, key))
    }
}

/// How one kind of key is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyRule {
    /// Watch this kind of key at all.
    pub enabled: bool,
    /// Sliding window, seconds of event time. Short windows detect sooner; the window also bounds
    /// how spread out a campaign may be and still be seen as one.
    pub window_secs: i64,
    /// Fewest distinct authors in the window before the key can fire. With a 600 s window and 5,
    /// a campaign of 20 authors spread evenly over 20 minutes fires at its 5th author (~4 min).
    pub min_authors: u32,
    /// Largest p-value of the baseline test that fires. Every new distinct author of every key is a
    /// test, so this must be small: 1e-6 keeps organic traffic under one false storm per brand per
    /// week in the 30-day simulation (`tests/simulation.rs`).
    pub max_p_value: f64,
}

impl Default for KeyRule {
    fn default() -> KeyRule {
        KeyRule { enabled: true, window_secs: 600, min_authors: 5, max_p_value: 1e-6 }
    }
}

/// Campaign detection settings (`[storms.campaign]` in `earshot.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignConfig {
    /// Hashtags.
    pub hashtag: KeyRule,
    /// Links.
    pub link: KeyRule,
    /// Sets of two or more mentioned accounts.
    pub mentions: KeyRule,
    /// Near-duplicate texts (MinHash/LSH clusters).
    pub text: KeyRule,
    /// Products named in complaint or negative posts; a one-hour window by default, since a
    /// product's complaints build up over an hour rather than minutes.
    pub product: KeyRule,
    /// Pseudo-count of posts for a key never seen: with `prior_posts`, a new key's share is
    /// `prior_keys / prior_posts` on a new brand and `prior_keys / (brand posts + prior_posts)`
    /// later, so a brand with little history needs a stronger burst.
    pub prior_keys: f64,
    /// Pseudo-count of brand posts (see `prior_keys`).
    pub prior_posts: f64,
    /// No campaign fires for a brand until its first post is this old (event time): a brand's first
    /// hours have no baselines, and its own popular tags would all look new.
    pub warmup_secs: i64,
    /// During the warm-up a key still fires with at least this many distinct authors in its window …
    pub cold_start_min_authors: u32,
    /// … when they are at least this share of the brand's posts in the window (a key that is nearly all
    /// of a brand's traffic: organic tags never are).
    pub cold_start_share: f64,
    /// Keys kept per brand (see the module docs for eviction). 896 keeps the hash table at 2048
    /// slots (a table more than half full under churn doubles instead of rehashing in place):
    /// about 200 KiB when full, much less for most brands.
    pub max_keys: usize,
    /// Entries kept per key window.
    pub max_window_entries: usize,
    /// Posts with fewer words (after dropping mentions and links) get no text-cluster key: short
    /// texts ("thanks @brand!") are near-duplicates of each other by chance.
    pub text_min_tokens: usize,
    /// How long a text cluster is remembered after its last post, seconds.
    pub text_retention_secs: i64,
    /// LSH band buckets kept per brand (8 per distinct recent text; recurring texts are kept
    /// first). 896 keeps the hash table at 2048 slots (about 80 KiB).
    pub max_text_buckets: usize,
    /// Most mentions a post may name and still give a mention-set key (mass tagging beyond this is
    /// ignored as noise).
    pub max_mentions: usize,
    /// Keys taken from one post per kind (the first ones), so one post cannot flood the table.
    pub max_keys_per_post: usize,
}

impl Default for CampaignConfig {
    fn default() -> CampaignConfig {
        CampaignConfig {
            hashtag: KeyRule::default(),
            link: KeyRule::default(),
            mentions: KeyRule::default(),
            text: KeyRule::default(),
            product: KeyRule { window_secs: 3600, min_authors: 8, max_p_value: 1e-6, enabled: true },
            prior_keys: 1.0,
            prior_posts: 200.0,
            warmup_secs: 6 * 3600,
            cold_start_min_authors: 20,
            cold_start_share: 0.8,
            max_keys: 896,
            max_window_entries: 512,
            text_min_tokens: 6,
            text_retention_secs: 86_400,
            max_text_buckets: 896,
            max_mentions: 10,
            max_keys_per_post: 8,
        }
    }
}

impl CampaignConfig {
    /// The rule for a kind of key.
    pub fn rule(&self, kind: KeyKind) -> &KeyRule {
        match kind {
            KeyKind::Hashtag => &self.hashtag,
            KeyKind::Link => &self.link,
            KeyKind::Mentions => &self.mentions,
            KeyKind::Text => &self.text,
            KeyKind::Product => &self.product,
        }
    }

    /// The longest enabled window, seconds.
    pub fn max_window_secs(&self) -> i64 {
        [KeyKind::Hashtag, KeyKind::Link, KeyKind::Mentions, KeyKind::Text, KeyKind::Product]
            .into_iter()
            .map(|k| self.rule(k))
            .filter(|r| r.enabled)
            .map(|r| r.window_secs)
            .max()
            .unwrap_or(0)
    }
}

/// Normalize a link so trivially different spellings share a key: lower-case scheme and host,
/// drop `www.`, the fragment, `utm_*` tracking parameters and a trailing `/`.
pub fn normalize_link(link: &str) -> String {
    let link = link.trim();
    let link = link.split('#').next().unwrap_or(link);
    let (scheme, rest) = match link.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => (String::new(), link),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> =
        query.split('&').filter(|p| !p.is_empty() && !p.to_ascii_lowercase().starts_with("utm_")).collect();
    let path = path.trim_end_matches('/');
    let mut out = String::with_capacity(link.len());
    if !scheme.is_empty() {
        // http and https lead to the same page for a campaign's purposes.
        out.push_str(if scheme == "http" { "https" } else { &scheme });
        out.push_str("://");
    }
    out.push_str(host);
    out.push_str(path);
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out
}

/// The mention-set key: distinct handles, sorted, comma-joined; `None` for fewer than two or more
/// than `max` handles.
pub fn mention_set(mentions: &[String], max: usize) -> Option<String> {
    let mut v: Vec<&str> = mentions.iter().map(|m| m.trim_start_matches('@')).filter(|m| !m.is_empty()).collect();
    v.sort_unstable();
    v.dedup();
    (v.len() >= 2 && v.len() <= max).then(|| v.join(","))
}

/// Words of a post for near-duplicate detection and terms: whitespace-separated words minus
/// mentions and links, split on anything not alphanumeric, lower-cased. Hashtag words are kept.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        if word.starts_with('@') || word.contains("://") || word.starts_with("www.") {
            continue;
        }
        for t in word.split(|c: char| !c.is_alphanumeric()) {
            if !t.is_empty() {
                out.push(t.to_lowercase());
            }
        }
    }
    out
}

/// Common English function words, left out of a storm's top terms.
const STOPWORDS: &[&str] = &[
    "about", "after", "again", "all", "also", "and", "any", "are", "been", "before", "but", "can", "cant", "could",
    "did", "didn", "does", "doesn", "don", "dont", "for", "from", "get", "got", "had", "has", "have", "her", "here",
    "him", "his", "how", "its", "just", "let", "like", "more", "most", "much", "not", "now", "off", "one", "only",
    "our", "out", "over", "please", "really", "she", "should", "some", "still", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "too", "very", "was", "were", "what", "when", "where", "which",
    "while", "who", "why", "will", "with", "would", "yet", "you", "your",
];

/// Content words for a storm's top terms: 3+ letters, not numbers, not stopwords, distinct.
pub fn terms(tokens: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = tokens
        .iter()
        .map(String::as_str)
        .filter(|t| t.chars().count() >= 3)
        .filter(|t| !t.chars().all(|c| c.is_ascii_digit()))
        .filter(|t| STOPWORDS.binary_search(t).is_err())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The campaign keys of one post (table ids, see [`KeyKind::id`]), at most `max_keys_per_post` per
/// kind, deduplicated. `text_cluster` is the post's near-duplicate cluster, if it has one; `bad`
/// says whether it is a complaint or negative (product keys need it).
pub fn keys_of(
    hashtags: &[String],
    links: &[String],
    mentions: &[String],
    products: &[String],
    text_cluster: Option<u64>,
    bad: bool,
    cfg: &CampaignConfig,
) -> Vec<(KeyKind, String)> {
    let mut out: Vec<(KeyKind, String)> = Vec::new();
    let n = cfg.max_keys_per_post;
    if cfg.hashtag.enabled {
        for h in hashtags.iter().take(n) {
            let h = h.trim_start_matches('#');
            if !h.is_empty() {
                out.push((KeyKind::Hashtag, KeyKind::Hashtag.id(h)));
            }
        }
    }
    if cfg.link.enabled {
        for l in links.iter().take(n) {
            let l = normalize_link(l);
            if !l.is_empty() {
                out.push((KeyKind::Link, KeyKind::Link.id(&l)));
            }
        }
    }
    if cfg.mentions.enabled
        && let Some(m) = mention_set(mentions, cfg.max_mentions)
    {
        out.push((KeyKind::Mentions, KeyKind::Mentions.id(&m)));
    }
    if cfg.text.enabled
        && let Some(c) = text_cluster
    {
        out.push((KeyKind::Text, KeyKind::Text.id(&format!("{c:016x}"))));
    }
    if cfg.product.enabled && bad {
        for p in products.iter().take(n) {
            if !p.is_empty() {
                out.push((KeyKind::Product, KeyKind::Product.id(p)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `ln(n!)`: exact sums below 32, Stirling's series above (error below 1e-10).
pub fn ln_factorial(n: u64) -> f64 {
    if n < 32 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x * x)
}

/// Upper tail `P(X >= k)` of a binomial distribution with `n` trials of probability `p`.
///
/// Hand-written (a statistics crate would be a large dependency for one function): from `k` up,
/// each term is the previous times `(n - j) / (j + 1) * p / (1 - p)`, a ratio that falls below 1
/// past the mean, so summing until the terms vanish is exact to rounding. Counts no further than
/// one standard deviation above the mean return 1 (never a surprise), and a sum that has not
/// converged after 10,000 terms also returns 1, so a rounding problem can only make the detector
/// quieter, never fire it.
pub fn binomial_tail(n: u64, p: f64, k: u64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (nf, kf) = (n as f64, k as f64);
    let mean = nf * p;
    if kf <= mean + (mean * (1.0 - p)).sqrt() {
        return 1.0;
    }
    let odds = (p / (1.0 - p)).ln();
    let mut ln_term =
        ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k) + kf * p.ln() + (nf - kf) * (1.0 - p).ln();
    let mut sum = 0.0;
    for j in (k..=n).take(10_000) {
        let term = ln_term.exp();
        sum += term;
        if j == n || term <= sum * 1e-12 {
            return sum.min(1.0);
        }
        ln_term += ((n - j) as f64).ln() - ((j + 1) as f64).ln() + odds;
    }
    1.0
}

/// Counts per day for the last [`BASELINE_DAYS`] days, indexed by day number.
///
/// The result of adding counts does not depend on their order (a count for a day that has already
/// left the ring is dropped; one that leaves later is cleared), which keeps the detector
/// independent of when window entries are evicted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRing {
    last_day: i64,
    counts: [u32; BASELINE_DAYS as usize],
}

impl DayRing {
    /// Add `n` to the day of `ts` (Unix seconds).
    pub fn add(&mut self, ts: i64, n: u32) {
        let day = ts.div_euclid(86_400);
        if self.counts.iter().all(|&c| c == 0) && day > self.last_day {
            self.last_day = day;
        }
        if day > self.last_day {
            let gap = day - self.last_day;
            if gap >= BASELINE_DAYS {
                self.counts = [0; BASELINE_DAYS as usize];
            } else {
                for d in self.last_day + 1..=day {
                    self.counts[d.rem_euclid(BASELINE_DAYS) as usize] = 0;
                }
            }
            self.last_day = day;
        }
        if day <= self.last_day - BASELINE_DAYS {
            return;
        }
        let slot = &mut self.counts[day.rem_euclid(BASELINE_DAYS) as usize];
        *slot = slot.saturating_add(n);
    }

    /// Total over the [`BASELINE_DAYS`] days ending with the day of `now`.
    pub fn total(&self, now: i64) -> u64 {
        let today = now.div_euclid(86_400);
        let lo = (today - BASELINE_DAYS + 1).max(self.last_day - BASELINE_DAYS + 1);
        let hi = today.min(self.last_day);
        (lo..=hi).map(|d| u64::from(self.counts[d.rem_euclid(BASELINE_DAYS) as usize])).sum()
    }
}

/// Counts per minute over a bounded span of recent minutes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteRing {
    first_minute: i64,
    counts: VecDeque<u32>,
}

impl MinuteRing {
    /// Count one post published at `ts`, keeping at most `span` minutes (the newest).
    pub fn add(&mut self, ts: i64, span: usize) {
        let m = ts.div_euclid(60);
        let span = span.max(1);
        if self.counts.is_empty() {
            self.first_minute = m;
            self.counts.push_back(0);
        }
        if m < self.first_minute {
            let need = (self.first_minute - m) as usize;
            if need + self.counts.len() > span {
                return; // older than what is kept
            }
            for _ in 0..need {
                self.counts.push_front(0);
            }
            self.first_minute = m;
        }
        let last = self.first_minute + self.counts.len() as i64 - 1;
        if m > last {
            let grow = (m - last) as usize;
            if grow >= span {
                self.counts.clear();
                self.counts.push_back(0);
                self.first_minute = m;
            } else {
                for _ in 0..grow {
                    self.counts.push_back(0);
                }
            }
        }
        while self.counts.len() > span {
            self.counts.pop_front();
            self.first_minute += 1;
        }
        let i = (m - self.first_minute) as usize;
        self.counts[i] = self.counts[i].saturating_add(1);
    }

    /// Posts in the minutes overlapping `(now - window, now]`.
    pub fn sum(&self, now: i64, window: i64) -> u64 {
        let lo = (now - window).div_euclid(60);
        let hi = now.div_euclid(60);
        self.counts
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let m = self.first_minute + *i as i64;
                m >= lo && m <= hi
            })
            .map(|(_, c)| u64::from(*c))
            .sum()
    }

    /// Heap bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.counts.capacity() * 4
    }
}

/// One post in a key's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Published time.
    pub published: i64,
    /// Hash of the author's handle.
    pub author: u64,
    /// The post.
    pub post_id: i64,
}

/// A key's live window: its entries and their distinct authors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Window {
    /// Entries, sorted by published time.
    entries: VecDeque<Entry>,
    /// Distinct authors and their entry counts, sorted by author hash.
    authors: Vec<(u64, u32)>,
}

impl Window {
    /// Insert an entry in published order; true when its author is new to the window.
    fn insert(&mut self, e: Entry) -> bool {
        let at = self.entries.partition_point(|x| x.published <= e.published);
        self.entries.insert(at, e);
        match self.authors.binary_search_by_key(&e.author, |a| a.0) {
            Ok(i) => {
                self.authors[i].1 += 1;
                false
            }
            Err(i) => {
                self.authors.insert(i, (e.author, 1));
                true
            }
        }
    }

    /// Remove the oldest entry.
    fn pop_front(&mut self) -> Option<Entry> {
        let e = self.entries.pop_front()?;
        if let Ok(i) = self.authors.binary_search_by_key(&e.author, |a| a.0) {
            self.authors[i].1 -= 1;
            if self.authors[i].1 == 0 {
                self.authors.remove(i);
            }
        }
        Some(e)
    }
}

/// What the table remembers about one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeyState {
    kind: KeyKind,
    /// The live window; `None` while the key is quiet (most keys, most of the time), so a quiet
    /// key costs one table slot.
    window: Option<Box<Window>>,
    /// Posts that carried the key and left the window, per day.
    baseline: DayRing,
    /// Latest published time of a post carrying the key.
    last_seen: i64,
    /// The open storm this key belongs to (its sequence number), if any.
    storm: Option<u64>,
}

impl KeyState {
    fn new(kind: KeyKind) -> KeyState {
        KeyState { kind, window: None, baseline: DayRing::default(), last_seen: i64::MIN, storm: None }
    }

    /// Move entries older than the window into the baseline; drop the window once empty.
    fn evict(&mut self, now: i64, window: i64) {
        let Some(w) = self.window.as_mut() else {
            return;
        };
        while w.entries.front().is_some_and(|e| e.published <= now - window) {
            if let Some(e) = w.pop_front() {
                self.baseline.add(e.published, 1);
            }
        }
        if w.entries.is_empty() {
            self.window = None;
        }
    }

    /// True when an entry is still inside the window at `now`.
    fn live(&self, now: i64, window: i64) -> bool {
        self.window.as_ref().and_then(|w| w.entries.back()).is_some_and(|e| e.published > now - window)
    }

    /// Heap bytes outside the table's slot (the key's text, the window).
    fn heap_bytes(&self, key_len: usize) -> usize {
        key_len
            + self.window.as_ref().map_or(0, |w| {
                std::mem::size_of::<Window>()
                    + w.entries.capacity() * std::mem::size_of::<Entry>()
                    + w.authors.capacity() * std::mem::size_of::<(u64, u32)>()
            })
    }
}

/// A key crossed its threshold: what the tracker needs to open or link a storm.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    /// The key's kind.
    pub kind: KeyKind,
    /// The key (without the kind prefix).
    pub key: String,
    /// The window's entries (the burst's posts), oldest first.
    pub entries: Vec<Entry>,
    /// Distinct authors in the window.
    pub authors: u64,
    /// Expected distinct authors from the baseline (`s * N`).
    pub expected: f64,
    /// The binomial tail probability.
    pub p_value: f64,
}

/// What [`KeyTable::observe`] found for one key of one post.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyOutcome {
    /// Nothing to report.
    Quiet,
    /// The key belongs to this open storm: the post joins it.
    InStorm(u64),
    /// The key fired.
    Fired(Burst),
}

/// Per-brand campaign state: key windows and baselines, and the brand's own volume counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyTable {
    keys: HashMap<String, KeyState>,
    all_minutes: MinuteRing,
    bad_minutes: MinuteRing,
    all_days: DayRing,
    bad_days: DayRing,
    dropped_keys: u64,
}

impl KeyTable {
    /// Count one brand post in the brand-wide volumes (call once per post, before its keys).
    pub fn count_post(&mut self, published: i64, bad: bool, cfg: &CampaignConfig) {
        let span = (cfg.max_window_secs() / 60 + 2) as usize;
        self.all_minutes.add(published, span);
        self.all_days.add(published, 1);
        if bad {
            self.bad_minutes.add(published, span);
            self.bad_days.add(published, 1);
        }
    }

    /// Add a post's entry to one key's window and judge the key at event time `now`.
    ///
    /// `can_fire` is false during the brand's warm-up.
    pub fn observe(
        &mut self,
        id: &str,
        kind: KeyKind,
        e: Entry,
        now: i64,
        can_fire: bool,
        cfg: &CampaignConfig,
    ) -> KeyOutcome {
        let rule = cfg.rule(kind);
        let window = rule.window_secs;
        if !self.keys.contains_key(id) {
            self.make_room(now, cfg);
            if self.keys.len() >= cfg.max_keys.max(1) {
                // Every key is live or in a storm: a hard cap, so a flood of distinct keys
                // cannot grow memory; the new key is not watched.
                self.dropped_keys += 1;
                return KeyOutcome::Quiet;
            }
            self.keys.insert(id.to_string(), KeyState::new(kind));
        }
        let Some(st) = self.keys.get_mut(id) else {
            return KeyOutcome::Quiet; // inserted just above
        };
        st.evict(now, window);
        st.last_seen = st.last_seen.max(e.published);
        if e.published <= now - window {
            // Already outside the window (a late post): straight into the baseline.
            st.baseline.add(e.published, 1);
            return st.storm.map_or(KeyOutcome::Quiet, KeyOutcome::InStorm);
        }
        let w = st.window.get_or_insert_with(Box::default);
        let new_author = w.insert(e);
        while w.entries.len() > cfg.max_window_entries.max(1) {
            if let Some(old) = w.pop_front() {
                st.baseline.add(old.published, 1);
            }
        }
        let n = w.authors.len() as u64;
        if let Some(seq) = st.storm {
            return KeyOutcome::InStorm(seq);
        }
        if !(new_author && n >= u64::from(rule.min_authors)) {
            return KeyOutcome::Quiet;
        }
        let (pop_minutes, pop_days) = if kind == KeyKind::Product {
            (&self.bad_minutes, &self.bad_days)
        } else {
            (&self.all_minutes, &self.all_days)
        };
        let big_n = pop_minutes.sum(now, window).max(n);
        // During the warm-up the brand has no baselines, so only an overwhelming key can be told from
        // organic use: many distinct authors, and most of the brand's traffic in the window (a class
        // mass-tweeting a brand earshot has only just started hearing; a brand's own tag on a quarter
        // of its posts is not that).
        let overwhelming =
            n >= u64::from(cfg.cold_start_min_authors) && n as f64 >= cfg.cold_start_share * big_n as f64;
        if !(can_fire || overwhelming) {
            return KeyOutcome::Quiet;
        }
        let share = ((st.baseline.total(now) as f64 + cfg.prior_keys) / (pop_days.total(now) as f64 + cfg.prior_posts))
            .min(1.0);
        let expected = share * big_n as f64;
        let p = binomial_tail(big_n, share, n);
        if p > rule.max_p_value {
            return KeyOutcome::Quiet;
        }
        let key = KeyKind::parse_id(id).map_or(id, |(_, k)| k).to_string();
        KeyOutcome::Fired(Burst {
            kind,
            key,
            entries: st.window.as_ref().map(|w| w.entries.iter().copied().collect()).unwrap_or_default(),
            authors: n,
            expected,
            p_value: p,
        })
    }

    /// Attach key `id` to open storm `seq` (its posts then join the storm, and it does not fire
    /// again while the storm is open).
    pub fn attach(&mut self, id: &str, seq: u64) {
        if let Some(st) = self.keys.get_mut(id) {
            st.storm = Some(seq);
        }
    }

    /// Detach key `id` from storm `seq` (when the storm closes).
    pub fn detach(&mut self, id: &str, seq: u64) {
        if let Some(st) = self.keys.get_mut(id)
            && st.storm == Some(seq)
        {
            st.storm = None;
        }
    }

    /// Move every key's expired window entries into its baseline. Call now and then so quiet
    /// keys do not hold entries; the result never depends on when it is called.
    pub fn maintain(&mut self, now: i64, cfg: &CampaignConfig) {
        for st in self.keys.values_mut() {
            st.evict(now, cfg.rule(st.kind).window_secs);
        }
    }

    /// Over the cap, forget keys that have no live window entries and no open storm, thinnest
    /// baseline first (then least recently seen), down to 7/8 of the cap. One-off keys (a novel
    /// tag, a unique text) go before keys whose baseline took days to learn.
    fn make_room(&mut self, now: i64, cfg: &CampaignConfig) {
        if self.keys.len() < cfg.max_keys.max(1) {
            return;
        }
        let target = cfg.max_keys * 7 / 8;
        let mut victims: Vec<(u64, i64, &String)> = self
            .keys
            .iter()
            .filter(|(_, st)| st.storm.is_none() && !st.live(now, cfg.rule(st.kind).window_secs))
            .map(|(k, st)| (st.baseline.total(now), st.last_seen, k))
            .collect();
        // The smallest by (baseline, last seen, key), which are unique: the choice does not
        // depend on hash-map order. Partitioned in linear time rather than sorted.
        let excess = self.keys.len().saturating_sub(target);
        if excess < victims.len() {
            victims.select_nth_unstable(excess);
        }
        let drop: Vec<String> = victims.into_iter().take(excess).map(|(_, _, k)| k.clone()).collect();
        for k in drop {
            self.keys.remove(&k);
        }
    }

    /// New keys not watched because the table was full of live keys.
    pub fn dropped_keys(&self) -> u64 {
        self.dropped_keys
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Heap bytes held, estimated from capacities.
    pub fn memory_bytes(&self) -> usize {
        // Every slot of the hash table (a key and its state, plus a control byte), used or not.
        self.keys.capacity() * (std::mem::size_of::<(String, KeyState)>() + 1)
            + self.keys.iter().map(|(k, st)| st.heap_bytes(k.capacity())).sum::<usize>()
            + self.all_minutes.memory_bytes()
            + self.bad_minutes.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn links_normalize_tracking_and_spelling_away() {
        for (a, b) in [
            ("https://www.Example.com/a/?utm_source=x#top", "https://example.com/a"),
            ("http://example.com/a", "https://example.com/a"),
            ("https://example.com/a?id=3&utm_medium=y", "https://example.com/a?id=3"),
            ("example.com", "example.com"),
            ("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path"),
        ] {
            assert_eq!(normalize_link(a), b, "{a}");
        }
    }

    #[test]
    fn mention_sets_need_two_to_ten_distinct_handles() {
        assert_eq!(mention_set(&s(&["b", "a", "b"]), 10), Some("a,b".into()));
        assert_eq!(mention_set(&s(&["a"]), 10), None);
        assert_eq!(mention_set(&s(&["a", "b", "c"]), 2), None);
    }

    #[test]
    fn tokens_drop_mentions_and_links_and_keep_hashtag_words() {
        assert_eq!(
            tokens("@Gymboree your #Sale is BROKEN: https://x.co/1 don't"),
            s(&["your", "sale", "is", "broken", "don", "t"])
        );
        let t = tokens("the parcel parcel arrived 123 broken and the box");
        assert_eq!(terms(&t), vec!["arrived", "box", "broken", "parcel"]);
        let mut sorted = STOPWORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOPWORDS, "STOPWORDS must stay sorted for binary search");
    }

    #[test]
    fn keys_of_covers_every_kind_and_gates_products_on_complaints() {
        let cfg = CampaignConfig::default();
        let k = keys_of(
            &s(&["olivetsocial", "olivetsocial"]),
            &s(&["https://x.co/a/"]),
            &s(&["gymboree", "ceo"]),
            &s(&["romper"]),
            Some(0xab),
            true,
            &cfg,
        );
        let ids: Vec<&str> = k.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, vec!["h:olivetsocial", "l:https://x.co/a", "m:ceo,gymboree", "t:00000000000000ab", "p:romper"]);
        let k = keys_of(&[], &[], &[], &s(&["romper"]), None, false, &cfg);
        assert!(k.is_empty());
        assert_eq!(KeyKind::parse_id("m:a,b"), Some((KeyKind::Mentions, "a,b")));
        assert_eq!(KeyKind::parse_id("x"), None);
    }

    #[test]
    fn binomial_tail_matches_exact_sums() {
        // Reference values: exact rational sums of the pmf (Python `fractions`).
        for (n, p, k, want) in [
            (30, 0.048, 10, 8.01923602162138e-07),
            (9, 0.11, 5, 0.00138383045498687),
            (100, 0.5, 60, 0.028443966820490395),
            (2000, 0.001, 12, 1.3336458047715913e-06),
        ] {
            let got = binomial_tail(n, p, k);
            assert!((got / want - 1.0).abs() < 1e-8, "{n} {p} {k}: {got} vs {want}");
        }
        assert_eq!(binomial_tail(10, 0.5, 5), 1.0, "at the mean: no surprise");
        assert_eq!(binomial_tail(10, 0.5, 11), 0.0);
        assert_eq!(binomial_tail(10, 0.0, 1), 0.0);
        assert_eq!(binomial_tail(10, 1.0, 10), 1.0);
        assert!((binomial_tail(10, 0.3, 10) / 0.3f64.powi(10) - 1.0).abs() < 1e-12);
        assert!((ln_factorial(40) - 110.320_639_714_757_4).abs() < 1e-9);
        assert!((ln_factorial(31) - 78.092_223_553_315_32).abs() < 1e-9);
    }

    #[test]
    fn day_ring_keeps_seven_days_whatever_the_order() {
        let day = 86_400;
        let adds = [0, day, 3 * day, 8 * day + 5, 2 * day, 9 * day];
        let mut fwd = DayRing::default();
        for &t in &adds {
            fwd.add(t, 1);
        }
        let mut rev = DayRing::default();
        for &t in adds.iter().rev() {
            rev.add(t, 1);
        }
        // Days 3, 8, 9 are within 7 days of day 9.
        assert_eq!(fwd.total(9 * day), 3);
        assert_eq!(rev.total(9 * day), 3);
        assert_eq!(fwd.total(20 * day), 0);
    }

    #[test]
    fn minute_ring_sums_a_window_and_drops_what_it_cannot_hold() {
        let mut r = MinuteRing::default();
        for t in [0, 30, 61, 125, 600] {
            r.add(t, 12);
        }
        assert_eq!(r.sum(600, 600), 5);
        assert_eq!(r.sum(600, 120), 1);
        r.add(2000, 12);
        assert_eq!(r.sum(2000, 600), 1);
        r.add(0, 12); // too old to hold
        assert_eq!(r.sum(2000, 3000), 1);
    }

    fn entry(t: i64, author: u64, id: i64) -> Entry {
        Entry { published: t, author, post_id: id }
    }

    #[test]
    fn a_new_key_fires_at_min_authors_and_not_for_one_repeating_author() {
        let cfg = CampaignConfig::default();
        let mut t = KeyTable::default();
        // A day of history so the brand has a baseline.
        for i in 0..2000 {
            t.count_post(i * 40, false, &cfg);
        }
        let base = 80_000;
        for i in 0..10 {
            t.count_post(base + i, false, &cfg);
            let out = t.observe("h:spam", KeyKind::Hashtag, entry(base + i, 7, i), base + i, true, &cfg);
            assert_eq!(out, KeyOutcome::Quiet, "one author is never a campaign");
        }
        let mut fired = None;
        for i in 0..10 {
            let ts = base + 100 + i;
            t.count_post(ts, false, &cfg);
            if let KeyOutcome::Fired(b) =
                t.observe("h:olivet", KeyKind::Hashtag, entry(ts, 100 + i as u64, 100 + i), ts, true, &cfg)
            {
                fired = Some((i, b));
                break;
            }
        }
        let (i, b) = fired.expect("fires");
        assert_eq!(i + 1, i64::from(cfg.hashtag.min_authors));
        assert_eq!(b.key, "olivet");
        assert_eq!(b.entries.len(), 5);
        assert!(b.p_value <= cfg.hashtag.max_p_value);
    }

    #[test]
    fn a_key_at_its_usual_share_does_not_fire() {
        let cfg = CampaignConfig::default();
        let mut t = KeyTable::default();
        // Six days: every 4th post carries #brand, 100 posts an hour, each by a new author; judged
        // once the warm-up is over.
        let mut id = 0;
        for i in 0..(6 * 24 * 100) {
            let ts = i * 36;
            t.count_post(ts, false, &cfg);
            if i % 4 == 0 {
                id += 1;
                let warm = ts >= cfg.warmup_secs;
                let out = t.observe("h:brand", KeyKind::Hashtag, entry(ts, id, id as i64), ts, warm, &cfg);
                assert!(!matches!(out, KeyOutcome::Fired(_)), "fired at post {i}");
            }
        }
        assert!(t.len() == 1);
    }

    #[test]
    fn key_table_stays_within_its_cap() {
        let cfg = CampaignConfig { max_keys: 64, ..CampaignConfig::default() };
        let mut t = KeyTable::default();
        for i in 0..1000 {
            let ts = i * 700; // every key's window has expired by the next one
            t.count_post(ts, false, &cfg);
            t.observe(&format!("h:k{i}"), KeyKind::Hashtag, entry(ts, 1, i), ts, true, &cfg);
            assert!(t.len() <= 64);
        }
    }
}
