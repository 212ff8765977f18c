//! Deterministic traffic for the storm tests: organic brand traffic with daily and weekly
//! seasonality, and injected coordinated campaigns. Used by the other test files through
//! `mod support;` (it has no tests of its own).
#![allow(dead_code)]

use earshot_storms::Observation;
use earshot_storms::storm::StormEvent;
use earshot_storms::tracker::StormTracker;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;
/// Monday 2024-01-01 00:00 UTC.
pub const T0: i64 = 1_704_067_200;

/// An owned post; [`Post::obs`] borrows it as an [`Observation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub brand: String,
    pub id: i64,
    pub published: i64,
    pub author: String,
    pub text: String,
    pub hashtags: Vec<String>,
    pub links: Vec<String>,
    pub mentions: Vec<String>,
    pub products: Vec<String>,
    pub complaint: f32,
    pub negative: bool,
    pub followers: u64,
    pub reposts: u64,
    pub from_brand: bool,
}

impl Post {
    pub fn obs(&self) -> Observation<'_> {
        Observation {
            brand: &self.brand,
            post_id: self.id,
            published: self.published,
            author: &self.author,
            text: &self.text,
            hashtags: &self.hashtags,
            links: &self.links,
            mentions: &self.mentions,
            products: &self.products,
            complaint: self.complaint,
            negative: self.negative,
            followers: self.followers,
            reposts: self.reposts,
            from_brand: self.from_brand,
        }
    }

    /// A plain customer post.
    pub fn new(brand: &str, id: i64, published: i64, author: &str, text: &str) -> Post {
        Post {
            brand: brand.into(),
            id,
            published,
            author: author.into(),
            text: text.into(),
            hashtags: vec![],
            links: vec![],
            mentions: vec![brand.into()],
            products: vec![],
            complaint: 0.1,
            negative: false,
            followers: 200,
            reposts: 0,
            from_brand: false,
        }
    }
}

/// How much a brand posts and when.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    /// Mean posts per hour on a weekday.
    pub per_hour: f64,
    /// Daily swing: the rate goes from `1 - amp` to `1 + amp` times the mean.
    pub amp: f64,
    /// Hour of day (UTC) of the daily peak.
    pub peak_hour: f64,
    /// Weekend rate as a share of the weekday rate.
    pub weekend: f64,
}

impl Brand {
    pub fn new(name: &str, per_hour: f64, amp: f64, peak_hour: f64, weekend: f64) -> Brand {
        Brand { name: name.into(), per_hour, amp, peak_hour, weekend }
    }

    fn rate(&self, t: i64) -> f64 {
        let h = (t.rem_euclid(DAY)) as f64 / HOUR as f64;
        let daily = 1.0 + self.amp * (2.0 * std::f64::consts::PI * (h - self.peak_hour) / 24.0).cos();
        // T0 is a Monday: days 5 and 6 of each week are the weekend.
        let dow = (t - T0).div_euclid(DAY).rem_euclid(7);
        let weekly = if dow >= 5 { self.weekend } else { 1.0 };
        self.per_hour / HOUR as f64 * daily * weekly
    }

    fn max_rate(&self) -> f64 {
        self.per_hour / HOUR as f64 * (1.0 + self.amp) * self.weekend.max(1.0)
    }
}

/// The four brands of the simulations: quiet, medium, busy, and one that peaks at night.
pub fn brands() -> Vec<Brand> {
    vec![
        Brand::new("pebble", 8.0, 0.8, 15.0, 0.7),
        Brand::new("gymboree", 60.0, 0.7, 19.0, 0.6),
        Brand::new("megamart", 150.0, 0.6, 18.0, 1.2),
        Brand::new("nightowl", 30.0, 0.9, 2.0, 1.0),
    ]
}

/// A Zipf(1) draw from `0..n`.
fn zipf(rng: &mut ChaCha8Rng, n: usize) -> usize {
    // Inverse of the continuous approximation of the harmonic CDF: fast and good enough.
    let u: f64 = rng.random();
    let x = ((n as f64 + 1.0).powf(u) - 1.0).floor() as usize;
    x.min(n - 1)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn words(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n).map(|_| format!("w{}", zipf(rng, 3000))).collect::<Vec<_>>().join(" ")
}

const PRODUCTS: [&str; 12] = [
    "romper", "onesie", "jacket", "sneakers", "backpack", "pajamas", "hoodie", "leggings", "dress", "cap", "socks",
    "mittens",
];

/// Organic traffic for `brands` over `[start, start + days)`: Poisson arrivals following each
/// brand's daily and weekly cycle; many hashtags (the brand's own tag on a quarter of posts,
/// popular shared tags, novel one-off tags), links, mention sets, products, near-duplicate
/// templates, heavy-tailed reach. Sorted by published time; ids from `first_id` on.
pub fn organic(brands: &[Brand], start: i64, days: i64, seed: u64, first_id: i64) -> Vec<Post> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let end = start + days * DAY;
    let mut novel = 0u64;
    for b in brands {
        let max = b.max_rate();
        let mut t = start as f64;
        loop {
            let u: f64 = rng.random::<f64>().max(1e-12);
            t += -u.ln() / max;
            let ts = t as i64;
            if ts >= end {
                break;
            }
            if rng.random::<f64>() * max > b.rate(ts) {
                continue;
            }
            let author = if rng.random::<f64>() < 0.3 {
                format!("{}_fan{}", b.name, zipf(&mut rng, 300))
            } else {
                format!("user{}", rng.random_range(0..200_000))
            };
            let mut hashtags = Vec::new();
            if rng.random::<f64>() < 0.25 {
                hashtags.push(b.name.clone());
            }
            if rng.random::<f64>() < 0.2 {
                hashtags.push(format!("tag{}", zipf(&mut rng, 400)));
            }
            if rng.random::<f64>() < 0.03 {
                novel += 1;
                hashtags.push(format!("new{novel}"));
            }
            let mut links = Vec::new();
            if rng.random::<f64>() < 0.08 {
                links.push(format!("https://{}.com/p/{}", b.name, zipf(&mut rng, 20)));
            }
            if rng.random::<f64>() < 0.04 {
                links.push(format!("https://news.example/{}", zipf(&mut rng, 500)));
            }
            let mut mentions = vec![b.name.clone()];
            if rng.random::<f64>() < 0.06 {
                mentions.push(format!("{}help", b.name));
            }
            if rng.random::<f64>() < 0.02 {
                mentions.push(format!("user{}", rng.random_range(0..200_000)));
            }
            let mut products = Vec::new();
            if rng.random::<f64>() < 0.3 {
                products.push(PRODUCTS[zipf(&mut rng, PRODUCTS.len())].to_string());
            }
            let text = if rng.random::<f64>() < 0.03 {
                let p = products.first().map_or("order", String::as_str);
                format!("just got my new {p} from @{} and i love it so much", b.name)
            } else {
                let n = rng.random_range(4..30);
                format!("@{} {}", b.name, words(&mut rng, n))
            };
            let complaint = if rng.random::<f64>() < 0.2 { 0.8 } else { 0.1 };
            let negative = rng.random::<f64>() < 0.25;
            let followers = (5.0 + 1.3 * normal(&mut rng)).exp() as u64;
            let reposts = if rng.random::<f64>() < 0.1 { zipf(&mut rng, 50) as u64 } else { 0 };
            out.push(Post {
                brand: b.name.clone(),
                id: 0,
                published: ts,
                author,
                text,
                hashtags,
                links,
                mentions,
                products,
                complaint,
                negative,
                followers,
                reposts,
                from_brand: false,
            });
        }
    }
    out.sort_by(|a, b| a.published.cmp(&b.published).then(a.brand.cmp(&b.brand)));
    for (i, p) in out.iter_mut().enumerate() {
        p.id = first_id + i as i64;
    }
    out
}

/// When a campaign's posts arrive within its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Evenly spaced over the span.
    Even,
    /// Uniformly at random within the span (the first post at the onset).
    Random,
    /// Most posts early (exponential decay, a third of the span).
    FrontLoaded,
}

/// What a campaign's posts share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    Hashtag(String),
    Link(String),
    Mentions(Vec<String>),
    /// Only a copy-pasted text.
    Text,
}

/// A coordinated campaign to inject.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub brand: String,
    pub onset: i64,
    pub authors: usize,
    pub span: i64,
    pub shape: Shape,
    pub shared: Shared,
    /// The posts are copies of one text with small edits (else varied texts).
    pub copypasta: bool,
    pub complaint: bool,
}

/// The posts of a campaign, ids from `first_id` on, sorted by published time.
pub fn campaign(c: &Campaign, seed: u64, first_id: i64) -> Vec<Post> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut times: Vec<i64> = (0..c.authors)
        .map(|i| match c.shape {
            Shape::Even => c.onset + (i as i64 * c.span) / c.authors as i64,
            Shape::Random if i == 0 => c.onset,
            Shape::Random => c.onset + rng.random_range(0..c.span),
            Shape::FrontLoaded => {
                let u: f64 = rng.random::<f64>().max(1e-12);
                let dt = (-u.ln() * c.span as f64 / 3.0) as i64;
                if i == 0 { c.onset } else { c.onset + dt.min(c.span - 1) }
            }
        })
        .collect();
    times.sort_unstable();
    let base = "we the students of olivet college demand that you stop selling clothes made with \
                sweatshop labour and answer us";
    times
        .into_iter()
        .enumerate()
        .map(|(i, ts)| {
            let author = format!("camp{}_{}", seed % 100_000, i);
            let text = if c.copypasta {
                let edit = ["today", "now", "please", "asap", "seriously"][i % 5];
                format!("@{} {base} {edit}", c.brand)
            } else {
                format!("@{} {}", c.brand, words(&mut rng, 12))
            };
            let mut p = Post::new(&c.brand, first_id + i as i64, ts, &author, &text);
            match &c.shared {
                Shared::Hashtag(h) => p.hashtags.push(h.clone()),
                Shared::Link(l) => p.links.push(l.clone()),
                Shared::Mentions(m) => p.mentions = m.clone(),
                Shared::Text => {}
            }
            p.negative = c.complaint;
            p.complaint = if c.complaint { 0.9 } else { 0.2 };
            p.followers = 50 + (i as u64 * 37) % 400;
            p
        })
        .collect()
}

/// Merge streams by published time (stable: ties keep stream order).
pub fn merge(mut streams: Vec<Vec<Post>>) -> Vec<Post> {
    let mut all: Vec<Post> = streams.drain(..).flatten().collect();
    all.sort_by_key(|p| p.published);
    all
}

/// Feed every post, then advance far enough for every storm to close.
pub fn run(tracker: &mut StormTracker, posts: &[Post]) -> Vec<StormEvent> {
    let mut out = Vec::new();
    for p in posts {
        tracker.observe(&p.obs(), &mut out);
    }
    if let Some(last) = posts.last() {
        tracker.advance(last.published + 2 * DAY, &mut out);
    }
    out
}

/// Storms opened, by id, in order.
pub fn opened(events: &[StormEvent]) -> Vec<&earshot_storms::storm::Storm> {
    events
        .iter()
        .filter_map(|e| match e {
            StormEvent::Opened(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Final state of each storm (its Closed event), in closing order.
pub fn closed(events: &[StormEvent]) -> Vec<&earshot_storms::storm::Storm> {
    events
        .iter()
        .filter_map(|e| match e {
            StormEvent::Closed(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Median and maximum of a list.
pub fn median_max(v: &mut [i64]) -> (i64, i64) {
    v.sort_unstable();
    if v.is_empty() {
        return (0, 0);
    }
    (v[v.len() / 2], v[v.len() - 1])
}
