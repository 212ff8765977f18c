//! The stream itself: [`Generator`] yields [`GenPost`]s in published-time
//! order, one minute of simulated time at a time, holding only what is still
//! to come (replies not yet due, the rest of the minute) — never the stream.
//!
//! Each minute, every brand gets a Poisson number of customer-started posts
//! whose mean is its rate × the daily and weekly season × slowly drifting
//! noise (an hourly AR(1) in log space plus a per-day level). Storm posts
//! planned for the minute join them. When a customer post is emitted, the
//! brand's care team may answer it (after a log-normal delay, waiting for
//! opening hours), and the customer may follow up on that answer, and so on:
//! replies are scheduled into a time-ordered queue and emitted when due.

use crate::GenError;
use crate::names;
use crate::storm::{self, Facet, Plan, StormCounts, StormKind, StormSpec, StormTruth};
use crate::texts::{BRAND_MARK, Category, TextBank};
use crate::world::{self, Account, AccountKind, Brand, FOLLOW_UP_RATE, MAX_THREAD_DEPTH, rng_for, space, tag};
use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal, Poisson};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

/// X's snowflake epoch (2010-11-04T01:42:54.657Z): ids are milliseconds since it, shifted left 22 bits.
pub const TWITTER_EPOCH_MS: i64 = 1_288_834_974_657;

/// One piece of a post's text.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    /// Plain text.
    Text(String),
    /// A mention of an account (rendered per platform: `@name`, `@name.bsky.social`, …).
    Mention(Account),
    /// A hashtag, without `#`.
    Tag(String),
    /// A link (its full URL; X shows it as a t.co link).
    Link(String),
}

/// Where a post comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A customer-started post of organic traffic.
    Organic,
    /// A care account's reply.
    Reply,
    /// A customer's follow-up on a care reply.
    FollowUp,
    /// A post of the injected storm with this index in the truth.
    Storm(usize),
}

impl Origin {
    /// Bits 20–21 of generated ids: each origin numbers its posts on its own.
    fn code(self) -> u64 {
        match self {
            Origin::Organic => 0,
            Origin::Reply => 1,
            Origin::FollowUp => 2,
            Origin::Storm(_) => 3,
        }
    }
}

/// A post another post refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct PostRef {
    /// Its id.
    pub id: u64,
    /// Its author.
    pub author: Account,
}

/// Public engagement counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    /// Likes.
    pub likes: u64,
    /// Reposts.
    pub reposts: u64,
    /// Replies.
    pub replies: u64,
    /// Quotes.
    pub quotes: u64,
}

/// One generated post, platform-neutral; [`crate::format`] writes it in a platform's format.
#[derive(Debug, Clone, PartialEq)]
pub struct GenPost {
    /// Snowflake id: `(ms since` [`TWITTER_EPOCH_MS`]`) << 22 | origin << 20 | counter`. Unique, time-ordered.
    pub id: u64,
    /// Published time, Unix milliseconds.
    pub at_ms: i64,
    /// Index of the brand it is about (or written by).
    pub brand: usize,
    /// Who wrote it.
    pub author: Account,
    /// Written by the brand's care account.
    pub from_brand: bool,
    /// Where it comes from.
    pub origin: Origin,
    /// What kind of text it is.
    pub category: Category,
    /// Its text, in pieces.
    pub segs: Vec<Seg>,
    /// The post it replies to.
    pub reply_to: Option<PostRef>,
    /// The first post of its thread, when it is a reply.
    pub root: Option<PostRef>,
    /// Engagement counts.
    pub metrics: Metrics,
    /// Position in its thread (0 = it starts one).
    pub depth: u8,
}

impl GenPost {
    /// Published time.
    pub fn published(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.at_ms).single().unwrap_or_default()
    }

    /// The id of its thread's first post.
    pub fn conversation_id(&self) -> u64 {
        self.root.as_ref().map_or(self.id, |r| r.id)
    }

    /// The text as X shows it (mentions as `@name`, full links).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for seg in &self.segs {
            match seg {
                Seg::Text(t) => s.push_str(t),
                Seg::Mention(a) => {
                    s.push('@');
                    s.push_str(&a.username);
                }
                Seg::Tag(t) => {
                    s.push('#');
                    s.push_str(t);
                }
                Seg::Link(l) => s.push_str(l),
            }
        }
        s
    }

    /// Mentioned accounts, in order, without repeats.
    pub fn mentions(&self) -> Vec<&Account> {
        let mut out: Vec<&Account> = Vec::new();
        for seg in &self.segs {
            if let Seg::Mention(a) = seg
                && !out.iter().any(|o| o.n == a.n)
            {
                out.push(a);
            }
        }
        out
    }

    /// Hashtags, in order, without repeats (case-insensitive).
    pub fn hashtags(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for seg in &self.segs {
            if let Seg::Tag(t) = seg
                && !out.iter().any(|o| o.eq_ignore_ascii_case(t))
            {
                out.push(t);
            }
        }
        out
    }

    /// Links, in order, without repeats.
    pub fn links(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for seg in &self.segs {
            if let Seg::Link(l) = seg
                && !out.iter().any(|o| o.eq_ignore_ascii_case(l))
            {
                out.push(l);
            }
        }
        out
    }
}

/// How much traffic to generate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    /// This many days from the start; posts due later are not written.
    Days(f64),
    /// Exactly this many posts (the span is as long as they take).
    Posts(u64),
}

/// Generation parameters. Everything about the output follows from these and the text bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Start of the simulated span.
    pub start: DateTime<Utc>,
    /// How much.
    pub length: Length,
    /// Number of brands.
    pub brands: usize,
    /// Mean posts per day per brand, threads included (brands differ: heavy-tailed around this mean).
    pub rate: f64,
    /// Seed: the same parameters and seed give the same stream, byte for byte.
    pub seed: u64,
    /// Storms to inject.
    pub storms: StormSpec,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            // A Monday, so a week of traffic starts with weekdays. Fixed: no wall clock.
            start: Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap_or_default(),
            length: Length::Days(7.0),
            brands: 5,
            rate: 300.0,
            seed: 42,
            storms: StormSpec::Auto,
        }
    }
}

impl Params {
    /// Checks the parameters, reporting every problem at once.
    ///
    /// # Errors
    /// [`GenError::Params`] with one sentence per problem.
    pub fn validate(&self) -> Result<(), GenError> {
        let mut problems = Vec::new();
        if self.brands == 0 || self.brands > 10_000 {
            problems.push(format!("--brands must be between 1 and 10000, not {}", self.brands));
        }
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 10_000_000.0) {
            problems.push(format!(
                "--rate must be a positive number of posts per day (at most 10000000), not {}",
                self.rate
            ));
        }
        match self.length {
            Length::Days(d) if !(d.is_finite() && d > 0.0 && d <= 3660.0) => {
                problems.push(format!("--days must be more than 0 and at most 3660, not {d}"))
            }
            Length::Posts(0) => problems.push("--posts must be at least 1".to_string()),
            _ => {}
        }
        let earliest = Utc.with_ymd_and_hms(2011, 1, 1, 0, 0, 0).single().unwrap_or_default();
        let latest = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single().unwrap_or_default();
        if self.start < earliest || self.start > latest {
            problems.push(format!(
                "--start must be between 2011 and 2100 (X ids encode time since 2010), not {}",
                self.start
            ));
        }
        if problems.is_empty() { Ok(()) } else { Err(GenError::Params(problems.join("; "))) }
    }

    /// The span in days: exact for [`Length::Days`], estimated from the brands' rates for [`Length::Posts`].
    pub fn days(&self) -> f64 {
        match self.length {
            Length::Days(d) => d,
            Length::Posts(n) => n as f64 / (self.rate * self.brands as f64),
        }
    }
}

/// Counts of what was generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Posts written.
    pub posts: u64,
    /// Customer-started posts of organic traffic.
    pub organic: u64,
    /// Care accounts' replies.
    pub brand_replies: u64,
    /// Customers' follow-ups on care replies.
    pub follow_ups: u64,
    /// Posts of injected storms.
    pub storm_posts: u64,
    /// Posts per brand name (each post is about exactly one brand).
    pub by_brand: BTreeMap<String, u64>,
    /// Posts per text category.
    pub by_category: BTreeMap<String, u64>,
    /// Time of the first post.
    pub first: Option<DateTime<Utc>>,
    /// Time of the last post.
    pub last: Option<DateTime<Utc>>,
}

/// A post waiting for its time.
#[derive(Debug)]
struct Pending {
    at: i64,
    seq: u64,
    post: GenPost,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Per-brand drifting volume level.
#[derive(Debug, Clone, Default)]
struct Noise {
    /// Log level, AR(1) per hour.
    hourly: f64,
    /// Log level of the current local day.
    daily: f64,
    hour: i64,
    day: i64,
    /// Today's topic hashtag, if the brand has one today.
    topic: Option<String>,
}

/// AR(1) coefficient of the hourly log level: drift lasts a few hours.
const NOISE_PHI: f64 = 0.85;
/// Stationary standard deviation of the hourly log level.
const NOISE_SD: f64 = 0.18;
/// Standard deviation of the daily log level.
const DAY_SD: f64 = 0.10;
/// Recent customers remembered per brand, for repeat posts.
const RECENT: usize = 4096;
/// Regular customers per brand, who post often.
const REGULARS: u64 = 25;

/// The stream of generated posts, in published-time order. See the module docs.
pub struct Generator<'a> {
    params: Params,
    bank: &'a TextBank,
    brands: Vec<Brand>,
    counts: StormCounts,
    end_ms: Option<i64>,
    limit: Option<u64>,
    filled_to: i64,
    queue: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    organic_rng: ChaCha8Rng,
    storm_rng: ChaCha8Rng,
    noise: Vec<Noise>,
    recent: Vec<VecDeque<u64>>,
    next_customer: u64,
    plans: Vec<Plan>,
    id_counters: [u64; 4],
    /// Counts kept by index; [`Generator::totals`] names them.
    totals: Totals,
    by_brand: Vec<u64>,
    by_category: [u64; Category::ALL.len()],
}

impl std::fmt::Debug for Generator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").field("params", &self.params).field("emitted", &self.totals.posts).finish()
    }
}

impl<'a> Generator<'a> {
    /// Sets up the world (brands, storm plans) for `params`, drawing texts from `bank`.
    ///
    /// # Errors
    /// [`GenError::Params`] when the parameters are invalid; [`GenError::NoTexts`] for an empty bank.
    pub fn new(params: Params, bank: &'a TextBank) -> Result<Generator<'a>, GenError> {
        params.validate()?;
        if bank.is_empty() {
            return Err(GenError::NoTexts { what: "the text bank".to_string() });
        }
        let seed = params.seed;
        let brands = world::brands(seed, params.brands, params.rate, bank);
        let start_ms = params.start.timestamp_millis();
        let days = params.days();
        let (end_ms, limit) = match params.length {
            Length::Days(d) => (Some(start_ms + (d * 86_400_000.0) as i64), None),
            Length::Posts(n) => (None, Some(n)),
        };
        // With a post count, storms are planned inside the expected span, so
        // they are over before the last post is written.
        let plan_to = end_ms.unwrap_or(start_ms + (days * 0.9 * 86_400_000.0) as i64);
        let counts = params.storms.counts(days);
        let plans = storm::plan(seed, counts, &brands, start_ms, plan_to);
        let mut noise = vec![Noise { hour: i64::MIN, day: i64::MIN, ..Noise::default() }; brands.len()];
        let mut organic_rng = rng_for(seed, tag::ORGANIC, 0);
        // Start each brand's level from its stationary distribution, not from zero.
        if let Ok(d) = Normal::new(0.0, NOISE_SD) {
            for n in &mut noise {
                n.hourly = d.sample(&mut organic_rng);
            }
        }
        let next_customer = REGULARS * brands.len() as u64;
        let params_brands = brands.len();
        Ok(Generator {
            recent: vec![VecDeque::new(); brands.len()],
            params,
            bank,
            brands,
            counts,
            end_ms,
            limit,
            filled_to: start_ms,
            queue: BinaryHeap::new(),
            seq: 0,
            organic_rng,
            storm_rng: rng_for(seed, tag::STORM_POSTS, 0),
            noise,
            next_customer,
            plans,
            id_counters: [0; 4],
            totals: Totals::default(),
            by_brand: vec![0; params_brands],
            by_category: [0; Category::ALL.len()],
        })
    }

    /// The generated brands.
    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }

    /// The text bank posts are drawn from.
    pub fn bank(&self) -> &'a TextBank {
        self.bank
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The storm counts the parameters resolved to.
    pub fn storm_counts(&self) -> StormCounts {
        self.counts
    }

    /// Counts of what has been emitted so far.
    pub fn totals(&self) -> Totals {
        let mut t = self.totals.clone();
        t.by_brand = self.brands.iter().zip(&self.by_brand).map(|(b, n)| (b.name.clone(), *n)).collect();
        t.by_category = Category::ALL
            .iter()
            .zip(&self.by_category)
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c.as_str().to_string(), *n))
            .collect();
        t
    }

    /// The ground truth about the storms injected so far (complete once the
    /// iterator is exhausted), naming posts with `native_id`.
    pub fn storm_truth(&self, native_id: impl Fn(u64, &Account) -> String) -> Vec<StormTruth> {
        let mut out = Vec::new();
        for p in self.plans.iter().filter(|p| !p.emitted.is_empty()) {
            let posts: Vec<(i64, u64)> = p.emitted.iter().map(|(_, t, a)| (*t, a.n)).collect();
            let mut authors: Vec<u64> = posts.iter().map(|(_, a)| *a).collect();
            authors.sort_unstable();
            authors.dedup();
            let first = p.emitted.first().map_or(0, |e| e.1);
            let last = p.emitted.last().map_or(0, |e| e.1);
            let ms = |t: i64| Utc.timestamp_millis_opt(t).single().unwrap_or_default();
            out.push(StormTruth {
                id: out.len(),
                kind: p.kind,
                brand: self.brands[p.brand].name.clone(),
                facet: p.facet,
                key: p.key.clone(),
                onset: ms(first),
                end: ms(last),
                authors: authors.len() as u64,
                posts: p.emitted.len() as u64,
                peak_authors_20m: storm::peak_authors(&posts, 20 * 60_000),
                multiplier: p.multiplier,
                followers: (p.kind == StormKind::Influencer).then(|| p.authors[0].followers),
                ids: p.emitted.iter().map(|(id, _, a)| native_id(*id, a)).collect(),
            });
        }
        out
    }

    fn push(&mut self, post: GenPost) {
        self.seq += 1;
        self.queue.push(Reverse(Pending { at: post.at_ms, seq: self.seq, post }));
    }

    /// Generates the next minute of customer-started and storm posts.
    fn fill_minute(&mut self) {
        let t0 = self.filled_to;
        for b in 0..self.brands.len() {
            let level = self.level(b, t0);
            let brand = &self.brands[b];
            let lambda = brand.origin_rate / 1440.0 * brand.season(t0 + 30_000) * level;
            let k = poisson(&mut self.organic_rng, lambda);
            for _ in 0..k {
                let at = t0 + self.organic_rng.random_range(0..60_000);
                let post = self.organic(b, at);
                self.push(post);
            }
        }
        for i in 0..self.plans.len() {
            while self.plans[i].next < self.plans[i].times.len()
                && self.plans[i].times[self.plans[i].next] < t0 + 60_000
            {
                let post = self.storm_post(i);
                self.plans[i].next += 1;
                self.push(post);
            }
        }
        self.filled_to = t0 + 60_000;
    }

    /// Brand `b`'s noise multiplier at `t` (advancing its hourly and daily levels as time passes).
    fn level(&mut self, b: usize, t: i64) -> f64 {
        let hour = t.div_euclid(3_600_000);
        let day = self.brands[b].local_day(t);
        let rng = &mut self.organic_rng;
        let n = &mut self.noise[b];
        if n.hour != hour {
            let innovation = NOISE_SD * (1.0 - NOISE_PHI * NOISE_PHI).sqrt();
            let e = Normal::new(0.0, innovation).map(|d| d.sample(rng)).unwrap_or(0.0);
            n.hourly = NOISE_PHI * n.hourly + e;
            n.hour = hour;
        }
        if n.day != day {
            n.daily = Normal::new(0.0, DAY_SD).map(|d| d.sample(rng)).unwrap_or(0.0);
            n.day = day;
            // A third of days a brand has a topic of the day (a sale, an update) that many customers tag.
            let mut day_rng = rng_for(self.params.seed, tag::DAY, (b as u64) << 32 ^ day as u64);
            n.topic = day_rng.random_bool(0.35).then(|| {
                let t = names::DAILY_TOPIC_TAGS[day_rng.random_range(0..names::DAILY_TOPIC_TAGS.len())];
                t.replace("{}", &self.brands[b].stem)
            });
        }
        // exp(x - σ²/2) has mean 1 for x ~ N(0, σ²).
        (n.hourly + n.daily - (NOISE_SD * NOISE_SD + DAY_SD * DAY_SD) / 2.0).exp()
    }

    /// The author of an organic post: a regular, a recent customer again, or someone new.
    fn organic_author(&mut self, b: usize) -> Account {
        let rng = &mut self.organic_rng;
        let r: f64 = rng.random();
        let k = if r < 0.05 {
            // Regulars, Zipf-like: the first few post most.
            let i = (REGULARS as f64 * rng.random::<f64>().powi(2)) as u64;
            b as u64 * REGULARS + i.min(REGULARS - 1)
        } else if r < 0.30 && !self.recent[b].is_empty() {
            self.recent[b][rng.random_range(0..self.recent[b].len())]
        } else {
            let k = self.next_customer;
            self.next_customer += 1;
            let recent = &mut self.recent[b];
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(k);
            k
        };
        Account::new(self.params.seed, AccountKind::Customer, Account::number(space::ORGANIC, k))
    }

    fn organic(&mut self, b: usize, at: i64) -> GenPost {
        let author = self.organic_author(b);
        let friend = if self.organic_rng.random_bool(0.03) && !self.recent[b].is_empty() {
            let k = self.recent[b][self.organic_rng.random_range(0..self.recent[b].len())];
            let f = Account::new(self.params.seed, AccountKind::Customer, Account::number(space::ORGANIC, k));
            (f.n != author.n).then_some(f)
        } else {
            None
        };
        let brand = &self.brands[b];
        let rng = &mut self.organic_rng;
        let mut pick = rng.random::<f64>();
        let mut category = Category::Neutral;
        for (c, m) in world::MIX_CATEGORIES.iter().zip(&brand.mix) {
            if pick < *m {
                category = *c;
                break;
            }
            pick -= m;
        }
        let weekday = world::local_weekday(brand.local_day(at));
        let extras = Extras {
            organic: true,
            day_topic: self.noise[b].topic.as_deref(),
            weekday,
            friend: friend.as_ref(),
            ..Extras::default()
        };
        let segs = customer_segs(rng, self.bank, brand, category, &extras);
        let metrics = small_metrics(rng);
        GenPost {
            id: 0,
            at_ms: at,
            brand: b,
            author,
            from_brand: false,
            origin: Origin::Organic,
            category,
            segs,
            reply_to: None,
            root: None,
            metrics,
            depth: 0,
        }
    }

    fn storm_post(&mut self, i: usize) -> GenPost {
        let rng = &mut self.storm_rng;
        let plan = &mut self.plans[i];
        let brand = &self.brands[plan.brand];
        if plan.facet == Facet::Text && plan.base_text.is_none() {
            // A text that reads well copied: a mid-length complaint, with the brand's full name.
            let mut text = String::new();
            for _ in 0..50 {
                text = self.bank.pick(rng, brand.industry, plan.category).replace(BRAND_MARK, &brand.name);
                if (60..=180).contains(&text.chars().count()) && !text.contains("http") {
                    break;
                }
            }
            plan.key = Some(text.clone());
            plan.base_text = Some(text);
        }
        let plan = &*plan;
        let at = plan.times[plan.next];
        let author = plan.authors[plan.next].clone();
        let category = plan.category;
        let body = plan.base_text.as_deref().map(|b| perturb(rng, b, plan.next == 0));
        let mut extras = Extras {
            product: plan.product.as_deref(),
            body: body.as_deref(),
            lead_only: body.is_some(),
            ..Extras::default()
        };
        match plan.facet {
            Facet::Hashtag => extras.tag = plan.tag.as_deref(),
            Facet::Link => extras.link = plan.link.as_deref(),
            Facet::Mentions => extras.mentions = &plan.mentions,
            _ => {}
        }
        let segs = customer_segs(rng, self.bank, brand, category, &extras);
        let metrics = if plan.kind == StormKind::Influencer {
            Metrics {
                likes: rng.random_range(2_000..60_000),
                reposts: rng.random_range(300..6_000),
                replies: rng.random_range(100..2_500),
                quotes: rng.random_range(30..600),
            }
        } else {
            small_metrics(rng)
        };
        GenPost {
            id: 0,
            at_ms: at,
            brand: plan.brand,
            author,
            from_brand: false,
            origin: Origin::Storm(i),
            category,
            segs,
            reply_to: None,
            root: None,
            metrics,
            depth: 0,
        }
    }

    /// Gives a due post its id, counts it, and schedules what may follow it.
    fn emit(&mut self, mut post: GenPost) -> GenPost {
        let code = post.origin.code();
        let counter = self.id_counters[code as usize];
        self.id_counters[code as usize] += 1;
        post.id = (((post.at_ms - TWITTER_EPOCH_MS) as u64) << 22) | (code << 20) | (counter & 0xF_FFFF);
        let t = &mut self.totals;
        t.posts += 1;
        match post.origin {
            Origin::Organic => t.organic += 1,
            Origin::Reply => t.brand_replies += 1,
            Origin::FollowUp => t.follow_ups += 1,
            Origin::Storm(i) => {
                t.storm_posts += 1;
                self.plans[i].emitted.push((post.id, post.at_ms, post.author.clone()));
            }
        }
        self.by_brand[post.brand] += 1;
        self.by_category[post.category as usize] += 1;
        let published = post.published();
        t.first.get_or_insert(published);
        t.last = Some(published);
        self.schedule_thread(&post);
        post
    }

    /// The care team may answer a customer post; a customer may follow up on an answer.
    fn schedule_thread(&mut self, post: &GenPost) {
        if post.depth >= MAX_THREAD_DEPTH {
            return;
        }
        let brand = &self.brands[post.brand];
        let mut rng = rng_for(self.params.seed, tag::THREAD, post.id);
        let this = PostRef { id: post.id, author: post.author.clone() };
        let root = post.root.clone().unwrap_or_else(|| this.clone());
        let next = if !post.from_brand {
            let storm_kind = match post.origin {
                Origin::Storm(i) => Some(self.plans[i].kind),
                _ => None,
            };
            let (p, median) = match storm_kind {
                Some(StormKind::Influencer) => (0.95, (brand.reply_median_min / 4.0).max(3.0)),
                // A care team answers a few campaign posts, not each copy.
                Some(StormKind::Campaign) => (brand.answer_probability(post.category) * 0.15, brand.reply_median_min),
                _ => (brand.answer_probability(post.category), brand.reply_median_min),
            };
            if !rng.random_bool(p) {
                return;
            }
            let delay = lognormal_minutes(&mut rng, median, 1.0, 2_880.0);
            let at = brand.next_staffed(post.at_ms + 30_000) + delay;
            let body = self.bank.pick(&mut rng, brand.industry, Category::CareReply);
            let mut segs = vec![Seg::Mention(post.author.clone()), Seg::Text(" ".into())];
            push_body(body, &brand.name, &mut segs);
            GenPost {
                id: 0,
                at_ms: at,
                brand: post.brand,
                author: brand.care.clone(),
                from_brand: true,
                origin: Origin::Reply,
                category: Category::CareReply,
                segs,
                reply_to: Some(this),
                root: Some(root),
                metrics: Metrics { likes: rng.random_range(0..3), ..Metrics::default() },
                depth: post.depth + 1,
            }
        } else {
            let Some(customer) = post.reply_to.as_ref().map(|r| r.author.clone()) else { return };
            if !rng.random_bool(FOLLOW_UP_RATE) {
                return;
            }
            let at = post.at_ms + lognormal_minutes(&mut rng, 15.0, 1.3, 1_440.0);
            let body = self.bank.pick(&mut rng, brand.industry, Category::FollowUp);
            let mut segs = vec![Seg::Mention(brand.care.clone()), Seg::Text(" ".into())];
            push_body(body, &brand.name, &mut segs);
            GenPost {
                id: 0,
                at_ms: at,
                brand: post.brand,
                author: customer,
                from_brand: false,
                origin: Origin::FollowUp,
                category: Category::FollowUp,
                segs,
                reply_to: Some(this),
                root: Some(root),
                metrics: small_metrics(&mut rng),
                depth: post.depth + 1,
            }
        };
        self.push(next);
    }
}

impl Iterator for Generator<'_> {
    type Item = GenPost;

    fn next(&mut self) -> Option<GenPost> {
        loop {
            if self.limit.is_some_and(|l| self.totals.posts >= l) {
                return None;
            }
            let span_over = self.end_ms.is_some_and(|end| self.filled_to >= end);
            // Everything before `filled_to` has been generated, so the earliest
            // queued post before it is the next one in time order. Replies are
            // always scheduled after their parent, so order is never broken.
            let due = self.queue.peek().is_some_and(|p| p.0.at < self.filled_to || span_over);
            if due {
                let Reverse(p) = self.queue.pop()?;
                if self.end_ms.is_some_and(|end| p.at >= end) {
                    self.queue.clear();
                    return None;
                }
                return Some(self.emit(p.post));
            }
            if span_over {
                return None;
            }
            self.fill_minute();
        }
    }
}

/// Options for [`customer_segs`].
#[derive(Default)]
pub(crate) struct Extras<'a> {
    /// Use this text (brand name already in) instead of drawing one.
    pub body: Option<&'a str>,
    /// Name this product.
    pub product: Option<&'a str>,
    /// Add this hashtag.
    pub tag: Option<&'a str>,
    /// Add this link.
    pub link: Option<&'a str>,
    /// Mention these accounts too.
    pub mentions: &'a [Account],
    /// Organic decorations: occasional hashtags, help links, a friend cc'd.
    pub organic: bool,
    /// The brand's topic of the day.
    pub day_topic: Option<&'a str>,
    /// Local weekday, Monday = 0.
    pub weekday: usize,
    /// A friend to cc.
    pub friend: Option<&'a Account>,
    /// Always mention the brand first (copies of a campaign text keep their shape).
    pub lead_only: bool,
}

/// A customer's post to `brand`: a real text of `category`, the brand's handle
/// at the start (most often) or the end, or only its name in the text.
pub(crate) fn customer_segs(
    rng: &mut impl Rng,
    bank: &TextBank,
    brand: &Brand,
    category: Category,
    x: &Extras<'_>,
) -> Vec<Seg> {
    let drawn;
    let body = match x.body {
        Some(b) => b,
        None => {
            drawn = bank.pick(rng, brand.industry, category);
            drawn
        }
    };
    let name: &str = if rng.random_bool(0.7) { &brand.name } else { &brand.stem };
    let handle = if rng.random_bool(0.75) { &brand.main } else { &brand.care };
    let style: f64 = rng.random();
    let has_name = body.contains(BRAND_MARK);
    let lead = x.lead_only || !x.mentions.is_empty() || style < 0.80 || (style >= 0.94 && !has_name);
    let name_only = !lead && style >= 0.94;
    let mut segs: Vec<Seg> = Vec::with_capacity(8);
    if lead {
        segs.push(Seg::Mention(handle.clone()));
        let mut extra: Vec<&Account> = x.mentions.iter().collect();
        extra.shuffle(rng);
        for m in extra {
            segs.push(Seg::Text(" ".into()));
            segs.push(Seg::Mention(m.clone()));
        }
        segs.push(Seg::Text(" ".into()));
    }
    let long = body.chars().count() > 190;
    let product_form = x.product.map(|p| (p, rng.random_range(0..3)));
    if let Some((p, 0)) = product_form {
        segs.push(Seg::Text(format!("{p}: ")));
    }
    push_body(body, name, &mut segs);
    if let Some((p, form)) = product_form {
        match form {
            1 => segs.push(Seg::Text(format!(" ({p})"))),
            2 => segs.push(Seg::Text(format!(" — {p}"))),
            _ => {}
        }
    }
    if let Some(t) = x.tag {
        segs.push(Seg::Text(" ".into()));
        segs.push(Seg::Tag(t.to_string()));
    }
    if let Some(l) = x.link {
        segs.push(Seg::Text(" ".into()));
        segs.push(Seg::Link(l.to_string()));
    }
    if x.organic && !long {
        if rng.random_bool(0.14) {
            let t = organic_tag(rng, brand, category, x.day_topic, x.weekday);
            segs.push(Seg::Text(" ".into()));
            segs.push(Seg::Tag(t));
        }
        if rng.random_bool(0.03) {
            // A handful of help articles per brand that customers keep sharing.
            const ARTICLES: [&str; 5] = ["refunds", "delays", "account-access", "contact-us", "service-status"];
            let a = ARTICLES[(rng.random::<f64>().powi(2) * ARTICLES.len() as f64) as usize % ARTICLES.len()];
            segs.push(Seg::Text(" ".into()));
            segs.push(Seg::Link(format!("https://{}/help/{a}", brand.domain)));
        }
        if let Some(f) = x.friend {
            segs.push(Seg::Text(" cc ".into()));
            segs.push(Seg::Mention(f.clone()));
        }
    }
    if !lead && !name_only {
        segs.push(Seg::Text(" ".into()));
        segs.push(Seg::Mention(handle.clone()));
    }
    segs
}

/// An organic hashtag: the day's topic, a complaint or praise tag, the
/// weekday's tag, the brand's own or its industry's — the popular ones are
/// Zipf-weighted so a few recur all day long.
fn organic_tag(rng: &mut impl Rng, brand: &Brand, category: Category, topic: Option<&str>, weekday: usize) -> String {
    let r: f64 = rng.random();
    if let Some(t) = topic
        && r < 0.35
    {
        return t.to_string();
    }
    let r: f64 = rng.random();
    match category {
        Category::Complaint | Category::Negative if r < 0.5 => zipf(rng, names::COMPLAINT_TAGS),
        Category::Praise if r < 0.5 => zipf(rng, names::PRAISE_TAGS),
        _ if r < 0.6 => {
            if rng.random_bool(0.15) {
                names::WEEKDAY_TAGS[weekday % 7].to_string()
            } else if rng.random_bool(0.6) {
                brand.main.username.clone()
            } else {
                brand.stem.clone()
            }
        }
        _ => zipf(rng, brand.industry.hashtags()),
    }
}

/// An item of `list`, the `r`-th with weight 1/r: a few recur, the rest are rarer.
fn zipf<R: Rng + ?Sized>(rng: &mut R, list: &[&str]) -> String {
    let total: f64 = (1..=list.len()).map(|r| 1.0 / r as f64).sum();
    let mut x = rng.random_range(0.0..total);
    for (r, t) in list.iter().enumerate() {
        let w = 1.0 / (r + 1) as f64;
        if x < w {
            return (*t).to_string();
        }
        x -= w;
    }
    list[0].to_string()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits a cleaned text into segments: [`BRAND_MARK`] becomes `name`,
/// `#tags` and `http(s)://` links become their own segments.
///
/// The rules are those of `earshot_core::decode::text::entities`, which
/// decoders of text-only formats use, so what is written as a tag or link
/// here is found as one there.
pub(crate) fn push_body(text: &str, name: &str, segs: &mut Vec<Seg>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j].1);
        let prev_ok = prev.is_none_or(|p| !(is_word(p) || p == '/' || p == '&'));
        if c == BRAND_MARK {
            plain.push_str(name);
            i += 1;
            continue;
        }
        if (c == 'h' || c == 'H') && prev_ok {
            let rest = &text[at..];
            let lower = rest.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                let end = rest
                    .find(|ch: char| ch.is_whitespace() || ch == '"' || ch == '<' || ch == '>' || ch == BRAND_MARK)
                    .unwrap_or(rest.len());
                let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '”', '’']);
                if url.len() > 8 {
                    if !plain.is_empty() {
                        segs.push(Seg::Text(std::mem::take(&mut plain)));
                    }
                    segs.push(Seg::Link(url.to_string()));
                    i += url.chars().count();
                    continue;
                }
            }
        }
        if (c == '#' || c == '＃') && prev_ok {
            let mut j = i + 1;
            while j < chars.len() && is_word(chars[j].1) {
                j += 1;
            }
            let tag: String = chars[i + 1..j].iter().map(|(_, c)| *c).collect();
            if j > i + 1 && tag.chars().any(char::is_alphabetic) {
                if !plain.is_empty() {
                    segs.push(Seg::Text(std::mem::take(&mut plain)));
                }
                segs.push(Seg::Tag(tag));
                i = j;
                continue;
            }
        }
        plain.push(c);
        i += 1;
    }
    if !plain.is_empty() {
        segs.push(Seg::Text(plain));
    }
}

/// A near-duplicate of a campaign text: one or two small edits (an emoji or
/// ending, a dropped word, changed case, a word in front). The first copy is the original.
pub(crate) fn perturb(rng: &mut impl Rng, base: &str, first: bool) -> String {
    if first {
        return base.to_string();
    }
    let mut words: Vec<String> = base.split(' ').map(str::to_string).collect();
    for _ in 0..rng.random_range(1..=2) {
        match rng.random_range(0..5) {
            0 => {
                let e = names::ENDINGS[rng.random_range(0..names::ENDINGS.len())];
                if let Some(last) = words.last_mut() {
                    last.push_str(e);
                }
            }
            1 if words.len() > 6 => {
                words.remove(rng.random_range(1..words.len()));
            }
            2 => {
                let i = rng.random_range(0..words.len());
                let w = &words[i];
                let flipped: String = match w.chars().next() {
                    Some(c) if c.is_lowercase() => c.to_uppercase().chain(w.chars().skip(1)).collect(),
                    Some(c) => c.to_lowercase().chain(w.chars().skip(1)).collect(),
                    None => String::new(),
                };
                words[i] = flipped;
            }
            3 => {
                const FRONT: [&str; 5] = ["Please", "Hey", "Seriously", "Wow.", "Again:"];
                words.insert(0, FRONT[rng.random_range(0..FRONT.len())].to_string());
            }
            _ => {
                if let Some(last) = words.last_mut() {
                    if last.ends_with('.') {
                        last.pop();
                        last.push('!');
                    } else {
                        last.push_str("!!");
                    }
                }
            }
        }
    }
    words.join(" ")
}

/// Small engagement counts of an ordinary post.
fn small_metrics(rng: &mut impl Rng) -> Metrics {
    Metrics {
        likes: (rng.random::<f64>().powi(3) * 8.0) as u64,
        reposts: u64::from(rng.random_bool(0.05)) * rng.random_range(1..4),
        replies: 0,
        quotes: 0,
    }
}

/// A Poisson count with mean `lambda` (0 for a non-positive mean).
fn poisson(rng: &mut impl Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    Poisson::new(lambda).map(|d| d.sample(rng) as u64).unwrap_or(0)
}

/// A log-normal delay in ms with `median` minutes, clamped to 1 minute..`max` minutes.
fn lognormal_minutes(rng: &mut impl Rng, median: f64, sigma: f64, max: f64) -> i64 {
    let minutes = LogNormal::new(median.max(0.1).ln(), sigma).map(|d| d.sample(rng)).unwrap_or(median);
    (minutes.clamp(1.0, max) * 60_000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_segments_match_core_entity_rules() {
        let mut segs = Vec::new();
        let text = format!("{BRAND_MARK} lost my bag #fail see http://t.co/abc123. order #12345 a#b (#ok)");
        push_body(&text, "Norvik Air", &mut segs);
        let post = GenPost {
            id: 1,
            at_ms: 0,
            brand: 0,
            author: Account::new(1, AccountKind::Customer, 0),
            from_brand: false,
            origin: Origin::Organic,
            category: Category::Complaint,
            segs,
            reply_to: None,
            root: None,
            metrics: Metrics::default(),
            depth: 0,
        };
        assert_eq!(post.text(), "Norvik Air lost my bag #fail see http://t.co/abc123. order #12345 a#b (#ok)");
        let core = earshot_core::decode::text::entities(&post.text());
        assert_eq!(post.hashtags(), core.hashtags);
        assert_eq!(post.links(), core.links);
        assert_eq!(post.hashtags(), ["fail", "ok"]);
    }

    #[test]
    fn near_duplicates_stay_near() {
        let mut rng = rng_for(1, 99, 0);
        let base = "My order has not arrived after three weeks and nobody answers the phone at all.";
        assert_eq!(perturb(&mut rng, base, true), base);
        for _ in 0..50 {
            let copy = perturb(&mut rng, base, false);
            let a: std::collections::HashSet<&str> = base.split(' ').collect();
            let b: std::collections::HashSet<&str> = copy.split(' ').collect();
            let jaccard = a.intersection(&b).count() as f64 / a.union(&b).count() as f64;
            assert!(jaccard > 0.6, "{copy}");
        }
    }
}
