//! Injected storms: what can be asked for (`--storms volume=1,campaign=3`),
//! how each is planned (which brand, when, how many posts by whom), and what
//! the ground truth says about it.
//!
//! The kinds mirror what earshot's storm detectors look for:
//!
//! | kind | what is injected | facet | key |
//! |---|---|---|---|
//! | `volume` | complaints about the brand (usually one product) at ×5–10 its expected rate for 45–90 min, at least 20 posts | `complaints` | the product, or none |
//! | `negative` | negative posts at ×3–6 the expected rate for 1–2.5 h, at least 20 posts | `negative` | none |
//! | `campaign` | 20–200 distinct authors within 6–20 min sharing one hashtag, or near-duplicate text, or one link, or one set of mentioned accounts | `hashtag`, `text`, `link`, `mentions` | the tag (without `#`), the original text, the URL, or the mentioned handles besides the brand's (`@a @b`) |
//! | `influencer` | one negative post by an account with 200k+ followers and hundreds of reposts | `negative` | the author's `@handle` |

use crate::GenError;
use crate::names;
use crate::texts::Category;
use crate::world::{Account, AccountKind, Brand, rng_for, space, tag};
use chrono::{DateTime, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Poisson};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What kind of storm.
///
/// Organic traffic never has an author above 150,000 followers, and
/// influencers have at least 200,000, so an influencer storm is unambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StormKind {
    /// A spike in complaint volume about a brand or product.
    Volume,
    /// A spike of negative sentiment.
    Negative,
    /// Many distinct authors acting together within minutes.
    Campaign,
    /// One negative post with a very large reach.
    Influencer,
}

impl StormKind {
    /// Every kind, in a stable order.
    pub const ALL: [StormKind; 4] =
        [StormKind::Volume, StormKind::Negative, StormKind::Campaign, StormKind::Influencer];

    /// The stable lowercase name used in `--storms` and the truth file.
    pub fn as_str(self) -> &'static str {
        match self {
            StormKind::Volume => "volume",
            StormKind::Negative => "negative",
            StormKind::Campaign => "campaign",
            StormKind::Influencer => "influencer",
        }
    }
}

/// What a storm's posts have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// Every post about the brand.
    All,
    /// Complaints.
    Complaints,
    /// Negative posts.
    Negative,
    /// One hashtag.
    Hashtag,
    /// Near-duplicate text.
    Text,
    /// One link.
    Link,
    /// One set of mentioned accounts.
    Mentions,
}

/// How many storms of each kind to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StormCounts {
    /// Volume storms.
    pub volume: u32,
    /// Negative-sentiment storms.
    pub negative: u32,
    /// Coordinated campaigns.
    pub campaign: u32,
    /// Influencer posts.
    pub influencer: u32,
}

impl StormCounts {
    /// No storms.
    pub const NONE: StormCounts = StormCounts { volume: 0, negative: 0, campaign: 0, influencer: 0 };

    /// What `--storms` means when not given: per started week of traffic,
    /// one volume, one negative, two campaigns (so two facets get exercised)
    /// and one influencer storm.
    pub fn per_week(days: f64) -> StormCounts {
        let weeks = (days / 7.0).ceil().max(1.0) as u32;
        StormCounts { volume: weeks, negative: weeks, campaign: 2 * weeks, influencer: weeks }
    }

    /// Total storms.
    pub fn total(&self) -> u32 {
        self.volume + self.negative + self.campaign + self.influencer
    }

    fn get_mut(&mut self, kind: StormKind) -> &mut u32 {
        match kind {
            StormKind::Volume => &mut self.volume,
            StormKind::Negative => &mut self.negative,
            StormKind::Campaign => &mut self.campaign,
            StormKind::Influencer => &mut self.influencer,
        }
    }

    fn get(&self, kind: StormKind) -> u32 {
        match kind {
            StormKind::Volume => self.volume,
            StormKind::Negative => self.negative,
            StormKind::Campaign => self.campaign,
            StormKind::Influencer => self.influencer,
        }
    }
}

/// `--storms`: `auto` (see [`StormCounts::per_week`]), `none`, or `KIND=COUNT,...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StormSpec {
    /// [`StormCounts::per_week`] of the generated span.
    #[default]
    Auto,
    /// Exactly these counts (unlisted kinds: none).
    Counts(StormCounts),
}

impl StormSpec {
    /// The counts for a span of `days`.
    pub fn counts(&self, days: f64) -> StormCounts {
        match self {
            StormSpec::Auto => StormCounts::per_week(days),
            StormSpec::Counts(c) => *c,
        }
    }
}

impl FromStr for StormSpec {
    type Err = GenError;

    fn from_str(spec: &str) -> Result<StormSpec, GenError> {
        let spec_err = |reason: String| GenError::StormSpec { spec: spec.to_string(), reason };
        match spec.trim() {
            "auto" | "" => return Ok(StormSpec::Auto),
            "none" | "0" => return Ok(StormSpec::Counts(StormCounts::NONE)),
            _ => {}
        }
        let mut counts = StormCounts::NONE;
        let mut problems = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((kind, count)) = part.split_once('=') else {
                problems.push(format!("{part:?} is not KIND=COUNT"));
                continue;
            };
            let kind = kind.trim().to_ascii_lowercase();
            let Some(k) = StormKind::ALL.iter().copied().find(|k| k.as_str() == kind) else {
                let names: Vec<&str> = StormKind::ALL.iter().map(|k| k.as_str()).collect();
                let hint = names
                    .iter()
                    .find(|n| n.starts_with(&kind[..kind.len().min(3)]))
                    .map(|n| format!(" (did you mean {n}?)"))
                    .unwrap_or_default();
                problems.push(format!("unknown storm kind {kind:?}{hint}; kinds are {}", names.join(", ")));
                continue;
            };
            match count.trim().parse::<u32>() {
                Ok(n) => *counts.get_mut(k) += n,
                Err(_) => problems.push(format!("count {count:?} of {kind} is not a whole number")),
            }
        }
        if problems.is_empty() { Ok(StormSpec::Counts(counts)) } else { Err(spec_err(problems.join("; "))) }
    }
}

/// One planned storm: everything decided before the stream starts, so the
/// storm is the same whatever else happens; post contents are drawn when
/// each post's minute comes.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub kind: StormKind,
    pub brand: usize,
    pub facet: Facet,
    pub key: Option<String>,
    /// Post times (Unix ms), sorted.
    pub times: Vec<i64>,
    /// Author of each post, parallel to `times`.
    pub authors: Vec<Account>,
    /// Index of the next post to emit.
    pub next: usize,
    /// The product a volume storm is about.
    pub product: Option<String>,
    /// The original text of a near-duplicate campaign.
    pub base_text: Option<String>,
    /// The hashtag, link or extra mentioned accounts of a campaign.
    pub tag: Option<String>,
    pub link: Option<String>,
    pub mentions: Vec<Account>,
    /// Text category of the posts.
    pub category: Category,
    /// Rate multiplier of volume and negative storms.
    pub multiplier: Option<f64>,
    pub planned_onset: i64,
    pub planned_end: i64,
    /// What was emitted: (id, time, author).
    pub emitted: Vec<(u64, i64, Account)>,
}

/// The ground truth about one injected storm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StormTruth {
    /// Position in the truth file.
    pub id: usize,
    /// What kind.
    pub kind: StormKind,
    /// The brand's name (as in the generated config).
    pub brand: String,
    /// What its posts share.
    pub facet: Facet,
    /// The shared hashtag / text / link / mentions, the product, or the influencer's handle.
    pub key: Option<String>,
    /// Time of its first post.
    pub onset: DateTime<Utc>,
    /// Time of its last post.
    pub end: DateTime<Utc>,
    /// Distinct authors of its posts.
    pub authors: u64,
    /// Its posts (not counting brand replies to them).
    pub posts: u64,
    /// Most distinct authors within any 20 minutes (the campaign criterion is 20 authors in 20 minutes).
    pub peak_authors_20m: u64,
    /// For volume and negative storms: the rate multiplier at the plateau.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// For influencer storms: the author's followers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// Native ids of its posts, in the output format's id scheme, in stream order.
    pub ids: Vec<String>,
}

/// An account `k` in number space `space`.
pub(crate) fn account(seed: u64, kind: AccountKind, space: u64, k: u64) -> Account {
    Account::new(seed, kind, Account::number(space, k))
}

/// Trapezoid intensity over a storm's life (0..1): a 15 % ramp up, a plateau, a decay over the last 40 %.
fn shape(x: f64) -> f64 {
    if x < 0.15 {
        0.2 + 0.8 * x / 0.15
    } else if x < 0.6 {
        1.0
    } else {
        1.0 - 0.8 * (x - 0.6) / 0.4
    }
}

/// Plans every storm of `counts` over `[from, to)` (Unix ms).
pub(crate) fn plan(seed: u64, counts: StormCounts, brands: &[Brand], from: i64, to: i64) -> Vec<Plan> {
    let mut rng = rng_for(seed, tag::STORM_PLAN, 0);
    let mut order: Vec<usize> = (0..brands.len()).collect();
    order.shuffle(&mut rng);
    let facets = [Facet::Hashtag, Facet::Text, Facet::Link, Facet::Mentions];
    let mut facet_at = rng.random_range(0..facets.len());
    let mut plans: Vec<Plan> = Vec::new();
    let (mut storm_k, mut campaign_k, mut influencer_k, mut bystander_k) = (0u64, 0u64, 0u64, 0u64);
    let span = (to - from).max(0);
    let warmup = (span / 4).min(86_400_000);
    let mut index = 0usize;
    for kind in StormKind::ALL {
        for _ in 0..counts.get(kind) {
            let brand = &brands[order[index % order.len()]];
            index += 1;
            let minutes: i64 = match kind {
                StormKind::Volume => rng.random_range(45..=90),
                StormKind::Negative => rng.random_range(60..=150),
                StormKind::Campaign => rng.random_range(6..=20),
                StormKind::Influencer => 1,
            };
            let duration = minutes * 60_000;
            let onset =
                pick_onset(&mut rng, brand, &plans, from + warmup, to - duration - 600_000, from, to - duration);
            let end = onset + duration;
            let mut p = Plan {
                kind,
                brand: brand.index,
                facet: Facet::All,
                key: None,
                times: Vec::new(),
                authors: Vec::new(),
                next: 0,
                product: None,
                base_text: None,
                tag: None,
                link: None,
                mentions: Vec::new(),
                category: Category::Complaint,
                multiplier: None,
                planned_onset: onset,
                planned_end: end,
                emitted: Vec::new(),
            };
            match kind {
                StormKind::Volume | StormKind::Negative => {
                    let (lo, hi) = if kind == StormKind::Volume { (5.0, 10.0) } else { (3.0, 6.0) };
                    let m: f64 = rng.random_range(lo..hi);
                    p.multiplier = Some((m * 10.0).round() / 10.0);
                    // Extra posts on top of organic traffic: (m - 1) × the expected rate, shaped.
                    let per_min: Vec<f64> = (0..minutes)
                        .map(|i| {
                            let t = onset + i * 60_000 + 30_000;
                            brand.origin_rate / 1440.0 * brand.season(t) * (m - 1.0) * shape(i as f64 / minutes as f64)
                        })
                        .collect();
                    let expected: f64 = per_min.iter().sum();
                    let n = Poisson::new(expected.max(1e-9)).map(|d| d.sample(&mut rng) as usize).unwrap_or(0).max(20);
                    p.times = sample_times(&mut rng, &per_min, onset, n);
                    for _ in 0..n {
                        p.authors.push(account(seed, AccountKind::Customer, space::STORM, storm_k));
                        storm_k += 1;
                    }
                    if kind == StormKind::Volume {
                        p.facet = Facet::Complaints;
                        p.category = Category::Complaint;
                        if rng.random_bool(0.75) && !brand.products.is_empty() {
                            let product = brand.products[rng.random_range(0..brand.products.len())].clone();
                            p.key = Some(product.clone());
                            p.product = Some(product);
                        }
                    } else {
                        p.facet = Facet::Negative;
                        p.category = Category::Negative;
                    }
                }
                StormKind::Campaign => {
                    p.facet = facets[facet_at % facets.len()];
                    facet_at += 1;
                    p.category = if rng.random_bool(0.5) { Category::Complaint } else { Category::Negative };
                    // Log-uniform 20..200 distinct authors, front-loaded within the window;
                    // some post twice or three times.
                    let authors = (rng.random_range(20f64.ln()..200f64.ln())).exp().round() as u64;
                    let mut posts: Vec<(i64, Account)> = Vec::new();
                    for _ in 0..authors {
                        let a = account(seed, AccountKind::Campaigner, space::CAMPAIGN, campaign_k);
                        campaign_k += 1;
                        let first = onset + (duration as f64 * rng.random::<f64>().powf(1.4)) as i64;
                        posts.push((first, a.clone()));
                        let mut last = first;
                        for p_more in [0.25, 0.06] {
                            if rng.random_bool(p_more) {
                                last += rng.random_range(60_000..duration + 600_000);
                                posts.push((last, a.clone()));
                            }
                        }
                    }
                    posts.sort_by_key(|(t, a)| (*t, a.n));
                    (p.times, p.authors) = posts.into_iter().unzip();
                    let stem = &brand.stem;
                    match p.facet {
                        Facet::Hashtag => {
                            let t = names::CAMPAIGN_TAGS[rng.random_range(0..names::CAMPAIGN_TAGS.len())];
                            let person = names::FIRST[rng.random_range(0..names::FIRST.len())];
                            let town = names::TOWNS[rng.random_range(0..names::TOWNS.len())];
                            let tag = t.replace("{b}", stem).replace("{p}", person).replace("{c}", town);
                            p.key = Some(tag.clone());
                            p.tag = Some(tag);
                        }
                        Facet::Link => {
                            let t = names::CAMPAIGN_LINKS[rng.random_range(0..names::CAMPAIGN_LINKS.len())];
                            let slug = if t.contains("bit.ly") || t.contains("reddit") {
                                let mut s = String::new();
                                crate::world::base32(rng.random(), 7, &mut s);
                                s
                            } else {
                                let mut words: Vec<&str> = names::SLUG_WORDS.to_vec();
                                words.shuffle(&mut rng);
                                words[..rng.random_range(2..=4)].join("-")
                            };
                            let url = t.replace("{b}", &stem.to_lowercase()).replace("{s}", &slug);
                            p.key = Some(url.clone());
                            p.link = Some(url);
                        }
                        Facet::Mentions => {
                            let extra = rng.random_range(1..=2);
                            for _ in 0..extra {
                                p.mentions.push(account(seed, AccountKind::Bystander, space::BYSTANDER, bystander_k));
                                bystander_k += 1;
                            }
                            let mut handles: Vec<String> =
                                p.mentions.iter().map(|a| format!("@{}", a.username)).collect();
                            handles.sort();
                            p.key = Some(handles.join(" "));
                        }
                        // The key of a text campaign is its original text, drawn when the first post is made.
                        _ => {}
                    }
                }
                StormKind::Influencer => {
                    p.facet = Facet::Negative;
                    p.category = Category::Negative;
                    let a = account(seed, AccountKind::Influencer, space::INFLUENCER, influencer_k);
                    influencer_k += 1;
                    p.key = Some(format!("@{}", a.username));
                    p.times = vec![onset];
                    p.authors = vec![a];
                }
            }
            p.planned_end = p.times.last().copied().unwrap_or(end).max(end);
            plans.push(p);
        }
    }
    plans
}

/// A storm onset for `brand` in `[lo, hi)` (falling back to `[lo2, hi2)` when
/// that is empty): preferably in the brand's local daytime (8–22 h), at least
/// six hours from its other storms.
fn pick_onset(rng: &mut impl Rng, brand: &Brand, plans: &[Plan], lo: i64, hi: i64, lo2: i64, hi2: i64) -> i64 {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo2, hi2.max(lo2 + 1)) };
    let mut t = lo;
    for attempt in 0..80 {
        // Whole minutes: onsets read well in the truth file.
        t = rng.random_range(lo..hi) / 60_000 * 60_000;
        let hour = brand.local_hour(t);
        let daytime = (8..22).contains(&hour) || attempt >= 40;
        let apart = plans.iter().filter(|p| p.brand == brand.index).all(|p| {
            (t - p.planned_onset).abs() > 6 * 3_600_000
                && (t > p.planned_end + 3_600_000 || t + 3_600_000 < p.planned_onset)
        });
        if daytime && (apart || attempt >= 70) {
            break;
        }
    }
    t
}

/// `n` times drawn with probability proportional to `per_min` (one weight per minute from `onset`), sorted.
fn sample_times(rng: &mut impl Rng, per_min: &[f64], onset: i64, n: usize) -> Vec<i64> {
    let total: f64 = per_min.iter().sum();
    let mut times: Vec<i64> = (0..n)
        .map(|_| {
            let mut x = rng.random_range(0.0..total.max(1e-12));
            let mut minute = per_min.len().saturating_sub(1);
            for (i, w) in per_min.iter().enumerate() {
                if x < *w {
                    minute = i;
                    break;
                }
                x -= w;
            }
            onset + minute as i64 * 60_000 + rng.random_range(0..60_000)
        })
        .collect();
    times.sort_unstable();
    times
}

/// Most distinct authors within any `window_ms`, over `(time, author number)` pairs sorted by time.
pub(crate) fn peak_authors(posts: &[(i64, u64)], window_ms: i64) -> u64 {
    let mut best = 0usize;
    let mut counts: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut lo = 0usize;
    for (t, a) in posts {
        *counts.entry(*a).or_default() += 1;
        while posts[lo].0 <= t - window_ms {
            let e = counts.entry(posts[lo].1).or_default();
            *e -= 1;
            if *e == 0 {
                counts.remove(&posts[lo].1);
            }
            lo += 1;
        }
        best = best.max(counts.len());
    }
    best as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storm_specs_parse_and_explain_mistakes() {
        assert_eq!("none".parse::<StormSpec>().unwrap(), StormSpec::Counts(StormCounts::NONE));
        assert_eq!("auto".parse::<StormSpec>().unwrap(), StormSpec::Auto);
        let s: StormSpec = "volume=2, campaign=3".parse().unwrap();
        assert_eq!(s, StormSpec::Counts(StormCounts { volume: 2, negative: 0, campaign: 3, influencer: 0 }));
        let e = "campain=3,volume=x".parse::<StormSpec>().unwrap_err().to_string();
        assert!(e.contains("did you mean campaign") && e.contains("not a whole number"), "{e}");
        assert_eq!(StormCounts::per_week(30.0).campaign, 10);
    }

    #[test]
    fn peak_authors_counts_distinct_authors_in_a_sliding_window() {
        let m = 60_000;
        let posts = [(0, 1), (m, 2), (2 * m, 1), (25 * m, 3), (26 * m, 4), (27 * m, 5), (28 * m, 3)];
        assert_eq!(peak_authors(&posts, 20 * m), 3);
        assert_eq!(peak_authors(&posts, 30 * m), 5);
        assert_eq!(peak_authors(&[], 20 * m), 0);
    }
}
