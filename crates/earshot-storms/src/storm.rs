//! Storms as objects: what the inbox shows as ONE case per burst.
//!
//! A [`Storm`] is opened when a detector fires, grows as member posts arrive, and is closed when it
//! has been quiet for the tracker's `quiet_secs`. The [`crate::tracker::StormTracker`] reports each
//! step as a [`StormEvent`]. Everything here is plain data (`Clone + Serialize + Deserialize`) so
//! the pipeline can store storms as JSON and link member cases by post id.
//!
//! # Kinds, facets and keys
//!
//! | [`StormKind`] | detector | [`Facet`] / `key` |
//! |---|---|---|
//! | `volume` | rate anomaly over all mentions or complaints; a product whose complaints surge | `all` / `all`, `complaints` / `complaints`, `product` / product name |
//! | `negative` | rate anomaly over negative-sentiment posts | `negative` / `negative` |
//! | `campaign` | many distinct authors sharing one key within minutes | `hashtag`, `link`, `mentions` (sorted, comma-joined), `text` (near-duplicate cluster id, hex) |
//! | `influencer` | a negative post whose reach is far above the brand's usual | `author` / the author's handle |
//!
//! When several detectors fire on the same burst (a hashtag campaign also trips the near-duplicate
//! and volume detectors), they are linked into one storm: every detector that fired is listed in
//! [`Storm::signals`], and the storm's kind/facet/key are those of the most specific signal
//! (campaign, then a product surge, then negative, then volume). [`Storm::id`] is fixed when the
//! storm opens and never changes, so the pipeline can key its case on it.

use serde::{Deserialize, Serialize};

/// What kind of storm: the exact strings `volume`, `negative`, `campaign`, `influencer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StormKind {
    /// Post volume far above the brand's seasonal baseline (all mentions, complaints, or one
    /// product's complaints).
    Volume,
    /// Negative-sentiment volume far above the brand's seasonal baseline.
    Negative,
    /// Many distinct authors sharing one hashtag, link, mention set or near-duplicate text.
    Campaign,
    /// One negative post with a reach far above the brand's usual.
    Influencer,
}

impl StormKind {
    /// The kind as stored and shown: `volume`, `negative`, `campaign` or `influencer`.
    pub fn as_str(self) -> &'static str {
        match self {
            StormKind::Volume => "volume",
            StormKind::Negative => "negative",
            StormKind::Campaign => "campaign",
            StormKind::Influencer => "influencer",
        }
    }
}

impl std::fmt::Display for StormKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a storm's `key` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facet {
    /// Every mention of the brand (volume storms).
    All,
    /// Posts judged complaints (volume storms).
    Complaints,
    /// Posts with negative sentiment (negative storms).
    Negative,
    /// One hashtag (key: the tag without `#`, lower-cased).
    Hashtag,
    /// One link (key: the normalized URL).
    Link,
    /// One set of mentioned accounts (key: handles sorted and comma-joined).
    Mentions,
    /// One cluster of near-duplicate texts (key: the cluster id in hex; see
    /// [`Storm::sample_text`] for what it says).
    Text,
    /// One product from the brand's catalogue (key: the product name).
    Product,
    /// One author (influencer storms; key: the handle).
    Author,
}

impl Facet {
    /// The facet as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Facet::All => "all",
            Facet::Complaints => "complaints",
            Facet::Negative => "negative",
            Facet::Hashtag => "hashtag",
            Facet::Link => "link",
            Facet::Mentions => "mentions",
            Facet::Text => "text",
            Facet::Product => "product",
            Facet::Author => "author",
        }
    }
}

impl std::fmt::Display for Facet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detector firing that opened or joined a storm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// The detector's kind.
    pub kind: StormKind,
    /// What it watched.
    pub facet: Facet,
    /// The key within the facet (a hashtag, link, …; the facet name for volume detectors).
    pub key: String,
    /// Event time at which it fired (see [`Storm::detected_at`]).
    pub detected_at: i64,
    /// What it saw: distinct authors in the window (campaign), posts in the bucket (volume), the
    /// post's reach (influencer).
    pub observed: u64,
    /// What the key's baseline expected instead (campaign: distinct authors in the window at the
    /// key's usual share of the brand's current volume); 0 where the detector does not say.
    pub expected: f64,
    /// How surprising, as `floor(-log10 p)` of the baseline test (campaign detectors); the volume
    /// detector's score in percent; 0 for influencer posts. An integer so storms compare exactly
    /// after a JSON round trip.
    pub strength: u32,
}

/// A value and how many member posts carried it (hashtags, terms, products).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// The hashtag, term or product.
    pub value: String,
    /// Member posts carrying it (exact while fewer distinct values than the counter's capacity
    /// were seen; otherwise an upper bound, Space-Saving style).
    pub count: u64,
}

/// A storm: one burst the brand should see as one case.
///
/// Caps are set in [`crate::tracker::Limits`]; counts (`posts`, `authors`) stay exact past them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Storm {
    /// Deterministic id: the kind at opening and a hash of brand, facet, key and `started_at`,
    /// e.g. `campaign-1f3a…`. Fixed for the storm's life.
    pub id: String,
    /// The most specific kind among its signals.
    pub kind: StormKind,
    /// The brand it is about.
    pub brand: String,
    /// What `key` is (see the table in the module docs).
    pub facet: Facet,
    /// The hashtag, link, mention set, text cluster, product, author or volume facet.
    pub key: String,
    /// Estimated onset: the earliest post of the burst window (campaign), the start of the first
    /// anomalous bucket (volume), the post itself (influencer).
    pub started_at: i64,
    /// When the detector fired, in event time. Campaign and influencer storms: exactly the
    /// published time of the post whose arrival fired the detector. Volume storms: the end of the
    /// anomalous bucket plus the allowed lateness, the event time at which that bucket is closed
    /// (whichever post or `advance` call moved event time past it, so batching cannot change it).
    pub detected_at: i64,
    /// Published time of the latest member post.
    pub last_post_at: i64,
    /// When it closed: the end of its last activity plus the tracker's `quiet_secs`; `None` while
    /// open.
    pub closed_at: Option<i64>,
    /// Member posts (exact).
    pub posts: u64,
    /// Distinct member authors (exact up to [`crate::tracker::Limits::max_storm_authors`]; see
    /// `authors_exact`).
    pub authors: u64,
    /// False once the storm has more distinct authors than the tracker keeps ids for; `authors`
    /// is then a lower bound.
    pub authors_exact: bool,
    /// Most frequent hashtags among member posts, most frequent first.
    pub top_hashtags: Vec<Count>,
    /// Most frequent content words among member posts seen whole (the post that fired and later
    /// members; burst posts seen before the storm opened contribute hashtags and products only).
    pub top_terms: Vec<Count>,
    /// Most frequent products among member posts.
    pub top_products: Vec<Count>,
    /// The first few member post ids (for a quick look).
    pub sample_post_ids: Vec<i64>,
    /// The text of the post that fired the detector (truncated), so a text-cluster or influencer
    /// storm says what it is about.
    pub sample_text: Option<String>,
    /// Author handles, in order of first appearance, up to a cap; `authors` stays exact.
    pub participants: Vec<String>,
    /// Member post ids, in order of joining, up to a cap; `posts` stays exact.
    pub member_post_ids: Vec<i64>,
    /// Every detector firing linked into this storm, first the one that opened it (capped).
    pub signals: Vec<Signal>,
}

impl Storm {
    /// True while the storm has not closed.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A change to a storm, in the order it happened in event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "storm", rename_all = "lowercase")]
pub enum StormEvent {
    /// A detector fired and no open storm covered the burst.
    Opened(Storm),
    /// The storm grew past a milestone, another detector was linked into it, or it changed and
    /// `update_every_secs` passed since the last event (rate-limited: never one per post).
    Updated(Storm),
    /// The storm was quiet for `quiet_secs`; `closed_at` is set.
    Closed(Storm),
}

impl StormEvent {
    /// The storm the event is about.
    pub fn storm(&self) -> &Storm {
        match self {
            StormEvent::Opened(s) | StormEvent::Updated(s) | StormEvent::Closed(s) => s,
        }
    }
}

/// The deterministic storm id: `<kind>-<16 hex digits>` from brand, facet, key and onset.
pub fn storm_id(kind: StormKind, brand: &str, facet: Facet, key: &str, started_at: i64) -> String {
    let mut h = crate::campaign::Fnv::new();
    h.write(brand.as_bytes());
    h.write(&[0]);
    h.write(facet.as_str().as_bytes());
    h.write(&[0]);
    h.write(key.as_bytes());
    h.write(&[0]);
    h.write(&started_at.to_le_bytes());
    format!("{}-{:016x}", kind.as_str(), h.finish())
}

/// A bounded heavy-hitters counter (Space-Saving, Metwally et al. 2005): keeps `cap` values; a new
/// value replaces the least frequent one and inherits its count plus one, so the true top values
/// are kept and counts are exact while fewer than `cap` distinct values were seen.
///
/// Hand-written: a dozen lines over a `Vec`, with deterministic tie-breaking (counts, then value)
/// that the crates found (which use hash maps) do not give, and it must serialize.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopCounter {
    items: Vec<(String, u64)>,
}

impl TopCounter {
    /// Count one occurrence of `value`, keeping at most `cap` values.
    pub fn add(&mut self, value: &str, cap: usize) {
        if let Some(item) = self.items.iter_mut().find(|(v, _)| v == value) {
            item.1 += 1;
            return;
        }
        if self.items.len() < cap {
            self.items.push((value.to_string(), 1));
            return;
        }
        // Replace the least frequent (ties: the greatest value, so the choice is deterministic).
        let Some(min) = self.items.iter_mut().min_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0))) else {
            return; // cap == 0: keep nothing
        };
        min.0 = value.to_string();
        min.1 += 1;
    }

    /// The `n` most frequent values, most frequent first (ties: alphabetical).
    pub fn top(&self, n: usize) -> Vec<Count> {
        let mut v: Vec<&(String, u64)> = self.items.iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.into_iter().take(n).map(|(value, count)| Count { value: value.clone(), count: *count }).collect()
    }

    /// Heap bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<(String, u64)>()
            + self.items.iter().map(|(s, _)| s.capacity()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_as_the_agreed_strings() {
        for (k, s) in [
            (StormKind::Volume, "\"volume\""),
            (StormKind::Negative, "\"negative\""),
            (StormKind::Campaign, "\"campaign\""),
            (StormKind::Influencer, "\"influencer\""),
        ] {
            assert_eq!(serde_json::to_string(&k).unwrap(), s);
            assert_eq!(format!("\"{k}\""), s);
        }
        assert_eq!(serde_json::to_string(&Facet::Mentions).unwrap(), "\"mentions\"");
    }

    #[test]
    fn ids_are_deterministic_and_distinguish_onsets() {
        let a = storm_id(StormKind::Campaign, "gymboree", Facet::Hashtag, "olivetsocial", 100);
        let b = storm_id(StormKind::Campaign, "gymboree", Facet::Hashtag, "olivetsocial", 100);
        let c = storm_id(StormKind::Campaign, "gymboree", Facet::Hashtag, "olivetsocial", 101);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("campaign-") && a.len() == "campaign-".len() + 16);
    }

    #[test]
    fn top_counter_keeps_heavy_hitters_within_its_cap() {
        let mut t = TopCounter::default();
        for i in 0..100 {
            t.add("heavy", 4);
            t.add(&format!("rare{i}"), 4);
            if i % 2 == 0 {
                t.add("medium", 4);
            }
        }
        let top = t.top(2);
        assert_eq!(top[0].value, "heavy");
        assert_eq!(top[0].count, 100);
        assert_eq!(top[1].value, "medium");
        assert!(t.items.len() <= 4);
    }

    #[test]
    fn top_counter_is_exact_below_cap_and_orders_ties_alphabetically() {
        let mut t = TopCounter::default();
        for v in ["b", "a", "c", "a"] {
            t.add(v, 8);
        }
        let top: Vec<(String, u64)> = t.top(3).into_iter().map(|c| (c.value, c.count)).collect();
        assert_eq!(top, vec![("a".into(), 2), ("b".into(), 1), ("c".into(), 1)]);
    }

    #[test]
    fn events_serialize_with_a_tag() {
        let s = Storm {
            id: "x".into(),
            kind: StormKind::Volume,
            brand: "b".into(),
            facet: Facet::All,
            key: "all".into(),
            started_at: 0,
            detected_at: 1,
            last_post_at: 1,
            closed_at: None,
            posts: 1,
            authors: 1,
            authors_exact: true,
            top_hashtags: vec![],
            top_terms: vec![],
            top_products: vec![],
            sample_post_ids: vec![1],
            sample_text: None,
            participants: vec!["a".into()],
            member_post_ids: vec![1],
            signals: vec![],
        };
        let e = StormEvent::Opened(s);
        let j = serde_json::to_string(&e).unwrap();
        assert!(j.starts_with("{\"event\":\"opened\",\"storm\":{"), "{j}");
        assert_eq!(serde_json::from_str::<StormEvent>(&j).unwrap(), e);
    }
}
