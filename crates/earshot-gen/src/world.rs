//! The simulated world: accounts (customers, campaigners, influencers, the
//! people they mention, brand accounts) and brands with their industry,
//! products, home time zone, volume, seasonality and care team.
//!
//! Accounts are derived from a number and the seed alone, so an account
//! looks the same every time it posts without the generator remembering it:
//! memory stays bounded however long the stream runs.

use crate::names::{self, Industry};
use crate::texts::{Category, TextBank};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde::Serialize;

/// SplitMix64's finalizer: a bijection on `u64` that scatters bits, used to
/// derive independent seeds and ids from small numbers.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A generator for one purpose (`tag`) and one item (`n`), independent of every other.
///
/// ChaCha8 is used because `rand_chacha` documents its output as portable and
/// stable, so a seed gives the same stream on every machine.
pub(crate) fn rng_for(seed: u64, tag: u64, n: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix64(seed ^ mix64(tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix64(n))))
}

/// Account number spaces for [`Account::number`].
pub(crate) mod space {
    /// Organic customers.
    pub const ORGANIC: u64 = 0;
    /// Customers who take part in volume and negative storms.
    pub const STORM: u64 = 1;
    /// Campaign participants.
    pub const CAMPAIGN: u64 = 2;
    /// Influencers.
    pub const INFLUENCER: u64 = 3;
    /// Brand accounts.
    pub const BRAND: u64 = 4;
    /// People mentioned by campaigns.
    pub const BYSTANDER: u64 = 5;
}

/// Purpose tags for [`rng_for`].
pub(crate) mod tag {
    pub const WORLD: u64 = 1;
    pub const ACCOUNT: u64 = 2;
    pub const ORGANIC: u64 = 3;
    pub const STORM_PLAN: u64 = 4;
    pub const STORM_POSTS: u64 = 5;
    pub const THREAD: u64 = 6;
    pub const DAY: u64 = 7;
}

/// What kind of account, which decides its audience size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// An ordinary customer.
    Customer,
    /// A participant in a coordinated campaign (students, activists): small audiences.
    Campaigner,
    /// An account with a very large audience.
    Influencer,
    /// Someone mentioned by others (the person a campaign is for, a journalist).
    Bystander,
    /// A brand's own account.
    Brand,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The generator's number for it, unique across kinds.
    pub n: u64,
    /// What kind of account.
    pub kind: AccountKind,
    /// Numeric platform user id (X user ids, Mastodon account ids).
    pub id: u64,
    /// Handle without `@`, at most 15 characters of `[A-Za-z0-9_]`, unique.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Followers.
    pub followers: u64,
    /// Accounts followed.
    pub following: u64,
    /// Posts written so far.
    pub posts: u64,
    /// Verified (brands and influencers).
    pub verified: bool,
    /// Year the account was created.
    pub created_year: i32,
}

impl Account {
    /// The number of the `k`-th account in number space `space` (see
    /// [`space`]): spaces interleave, so numbers never collide and each space
    /// counts on its own (organic traffic does not shift when storms are added).
    pub(crate) fn number(space: u64, k: u64) -> u64 {
        k * 8 + space
    }

    /// Builds the account numbered `n` of `kind`; the same inputs always give the same account.
    pub(crate) fn new(seed: u64, kind: AccountKind, n: u64) -> Account {
        let mut rng = rng_for(seed, tag::ACCOUNT, n);
        let first = names::FIRST[rng.random_range(0..names::FIRST.len())];
        let last = names::LAST[rng.random_range(0..names::LAST.len())];
        let stem = match rng.random_range(0..7) {
            0 => format!("{}{}", first.to_lowercase(), last.to_lowercase()),
            1 => format!("{}_{}", first.to_lowercase(), last.to_lowercase()),
            2 => format!("{first}{last}"),
            3 => first.to_lowercase(),
            4 => format!("the{first}"),
            5 => format!("{}{}", &first[..1], last.to_lowercase()),
            _ => format!("{}_{}", last.to_lowercase(), &first[..1].to_lowercase()),
        };
        // The number keeps usernames unique: stems never end in a digit, so
        // the trailing digits are exactly `n` and no two accounts share one.
        let digits = n.to_string();
        let room = 15usize.saturating_sub(digits.len()).max(1);
        let stem: String = stem.chars().take(room).collect();
        let username = format!("{stem}{digits}");
        let lognormal = |median: f64, sigma: f64, rng: &mut ChaCha8Rng| -> f64 {
            // Median > 0 and sigma > 0 are constants below, so construction cannot fail.
            LogNormal::new(median.ln(), sigma).map(|d| d.sample(rng)).unwrap_or(median)
        };
        let (followers, verified) = match kind {
            AccountKind::Customer => (lognormal(150.0, 1.5, &mut rng).min(150_000.0), false),
            AccountKind::Campaigner => (lognormal(260.0, 0.8, &mut rng).min(20_000.0), false),
            AccountKind::Bystander => (lognormal(600.0, 1.0, &mut rng).min(80_000.0), false),
            AccountKind::Influencer => (lognormal(900_000.0, 0.8, &mut rng).clamp(200_000.0, 30_000_000.0), true),
            AccountKind::Brand => (lognormal(120_000.0, 1.2, &mut rng).clamp(2_000.0, 20_000_000.0), true),
        };
        // Old accounts have 9–10 digit ids, new ones 19 digits (X's snowflake
        // user ids). Multiplying by an odd number is a bijection modulo a power
        // of two, so each map is injective (for n < 2^31), the ranges are
        // disjoint, and ids are unique while looking random.
        let created_year = rng.random_range(2008..=2025);
        let id = if created_year < 2014 {
            100_000_000 + (n.wrapping_mul(0x9E37_79B1) & 0x7FFF_FFFF)
        } else {
            (1 << 60) + (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) & ((1 << 59) - 1))
        };
        Account {
            n,
            kind,
            id,
            username,
            name: format!("{first} {last}"),
            followers: followers as u64,
            following: lognormal(300.0, 1.0, &mut rng) as u64,
            posts: lognormal(3_000.0, 1.3, &mut rng) as u64 + 1,
            verified,
            created_year,
        }
    }

    /// A brand account: `username` as given, the brand's `name`.
    fn brand(seed: u64, n: u64, id: u64, username: String, name: String) -> Account {
        let mut a = Account::new(seed, AccountKind::Brand, n);
        a.id = id;
        a.username = username;
        a.name = name;
        a
    }

    /// The account's DID on Bluesky (`did:plc:` and 24 base-32 characters),
    /// derived from its number through a bijection, so DIDs are unique.
    pub fn did(&self) -> String {
        let mut s = String::with_capacity(32);
        s.push_str("did:plc:");
        base32(mix64(self.n), 13, &mut s);
        base32(mix64(self.n ^ 0x5bd1_e995), 11, &mut s);
        s
    }

    /// The account's Bluesky handle.
    pub fn bluesky_handle(&self) -> String {
        format!("{}.bsky.social", self.username.to_lowercase())
    }
}

/// Appends `len` characters of the base-32 alphabet atproto uses (`a-z2-7`) for the low bits of `v`.
pub(crate) fn base32(v: u64, len: usize, out: &mut String) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    for i in (0..len).rev() {
        let shift = (i * 5) as u32;
        let digit = if shift >= 64 { 0 } else { (v >> shift) & 31 };
        out.push(ALPHABET[digit as usize] as char);
    }
}

/// One generated brand.
#[derive(Debug, Clone, Serialize)]
pub struct Brand {
    /// Position in the brand list.
    pub index: usize,
    /// Display name, e.g. `Norvik Air`.
    pub name: String,
    /// Invented stem, e.g. `Norvik` (also an alias customers use).
    pub stem: String,
    /// Line of business.
    pub industry: Industry,
    /// The brand's main account (`@NorvikAir`), which customers mention most.
    pub main: Account,
    /// The care account (`@NorvikAirHelp`), which writes the brand's replies.
    pub care: Account,
    /// Web domain, a keyword in the config.
    pub domain: String,
    /// Product names, in the config so the analyzer can tell what a complaint is about.
    pub products: Vec<String>,
    /// Competitors' names (invented, not configured brands): a churn signal when named.
    pub competitors: Vec<String>,
    /// Home market's offset from UTC in minutes (fixed: no daylight saving).
    pub utc_offset_min: i32,
    /// Expected posts per day: customers' posts, the care team's replies and customers' follow-ups.
    pub rate: f64,
    /// Expected customer-started posts per day (what [`Brand::rate`] is made of before threads).
    pub origin_rate: f64,
    /// Weekend volume relative to weekdays.
    pub weekend: f64,
    /// Share of complaints the care team answers.
    pub answer_rate: f64,
    /// Median minutes to a first reply while staffed.
    pub reply_median_min: f64,
    /// Local hours the care team works (`[from, to)`), `None` = around the clock.
    pub staffed_hours: Option<(u32, u32)>,
    /// Share of customer-started posts per category: complaint, question, praise, neutral, negative.
    pub mix: [f64; 5],
}

/// The categories of [`Brand::mix`], in order.
pub(crate) const MIX_CATEGORIES: [Category; 5] =
    [Category::Complaint, Category::Question, Category::Praise, Category::Neutral, Category::Negative];

/// Probability that a customer follows up on a care reply.
pub(crate) const FOLLOW_UP_RATE: f64 = 0.35;

/// Posts in a thread at most (the opening post, replies and follow-ups).
pub(crate) const MAX_THREAD_DEPTH: u8 = 5;

/// How much likelier than average a care team answers a post of `category`.
pub(crate) fn answer_factor(category: Category) -> f64 {
    match category {
        Category::Complaint => 1.0,
        Category::Question => 1.1,
        Category::Negative => 0.8,
        Category::FollowUp => 0.85,
        Category::Praise => 0.3,
        Category::Neutral | Category::CareReply => 0.15,
    }
}

/// Mean of [`names::HOURLY`], to normalize the daily curve to a mean of 1.
fn hourly_mean() -> f64 {
    names::HOURLY.iter().sum::<f64>() / 24.0
}

impl Brand {
    /// Probability the care team answers a post of `category`.
    pub(crate) fn answer_probability(&self, category: Category) -> f64 {
        (self.answer_rate * answer_factor(category)).min(0.97)
    }

    /// Expected replies and follow-ups a customer post of `category` brings, given
    /// [`FOLLOW_UP_RATE`] and [`MAX_THREAD_DEPTH`].
    fn thread_posts(&self, category: Category) -> f64 {
        let (a0, af, f) =
            (self.answer_probability(category), self.answer_probability(Category::FollowUp), FOLLOW_UP_RATE);
        // depth 1 reply, 2 follow-up, 3 reply, 4 follow-up, 5 reply.
        a0 * (1.0 + f * (1.0 + af * (1.0 + f * (1.0 + af))))
    }

    /// Seasonal multiplier (mean 1 over a week) at `t_ms` (Unix milliseconds):
    /// the daily curve in the brand's local time, times its weekday/weekend level.
    pub fn season(&self, t_ms: i64) -> f64 {
        let local_min = t_ms.div_euclid(60_000) + i64::from(self.utc_offset_min);
        let day = local_min.div_euclid(1440);
        let minute = local_min.rem_euclid(1440) as f64;
        // Hourly values sit at the middle of their hour; interpolate between neighbours.
        let h = (minute / 60.0 - 0.5).rem_euclid(24.0);
        let (i, frac) = (h.floor() as usize % 24, h.fract());
        let curve = (names::HOURLY[i] * (1.0 - frac) + names::HOURLY[(i + 1) % 24] * frac) / hourly_mean();
        let weekday = local_weekday(day);
        let level = if weekday >= 5 { self.weekend } else { 1.0 };
        curve * level * 7.0 / (5.0 + 2.0 * self.weekend)
    }

    /// Local hour (0–23) at `t_ms`.
    pub fn local_hour(&self, t_ms: i64) -> u32 {
        let local_min = t_ms.div_euclid(60_000) + i64::from(self.utc_offset_min);
        (local_min.rem_euclid(1440) / 60) as u32
    }

    /// Local day number (days since 1970-01-01 in the brand's zone) at `t_ms`.
    pub(crate) fn local_day(&self, t_ms: i64) -> i64 {
        (t_ms.div_euclid(60_000) + i64::from(self.utc_offset_min)).div_euclid(1440)
    }

    /// The first moment at or after `t_ms` when the care team works.
    pub(crate) fn next_staffed(&self, t_ms: i64) -> i64 {
        let Some((from, to)) = self.staffed_hours else { return t_ms };
        let hour = self.local_hour(t_ms);
        if hour >= from && hour < to {
            return t_ms;
        }
        let local_min = t_ms.div_euclid(60_000) + i64::from(self.utc_offset_min);
        let day_start = local_min.div_euclid(1440) * 1440;
        let opening =
            if hour < from { day_start + i64::from(from) * 60 } else { day_start + 1440 + i64::from(from) * 60 };
        (opening - i64::from(self.utc_offset_min)) * 60_000
    }

    /// The `[[brands]]` entry for `earshot.toml`: both handles on every
    /// platform, and their DIDs on Bluesky (Jetstream names accounts by DID).
    pub fn config(&self) -> earshot_core::brand::BrandConfig {
        earshot_core::brand::BrandConfig {
            name: self.name.clone(),
            handles: vec![
                format!("@{}", self.main.username),
                format!("@{}", self.care.username),
                format!("bluesky:{}", self.main.did()),
                format!("bluesky:{}", self.care.did()),
            ],
            aliases: vec![self.stem.clone()],
            keywords: vec![self.domain.clone()],
            products: self.products.clone(),
            competitors: self.competitors.clone(),
        }
    }
}

/// Weekday of a day number, Monday = 0 (1970-01-01 was a Thursday).
pub(crate) fn local_weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Builds `count` brands whose expected volumes (heavy-tailed, log-normal
/// spread) average `rate` posts per day.
pub(crate) fn brands(seed: u64, count: usize, rate: f64, bank: &TextBank) -> Vec<Brand> {
    let mut rng = rng_for(seed, tag::WORLD, 0);
    let mut used: Vec<String> = Vec::new();
    let industry_weights: Vec<f64> = Industry::ALL.iter().map(|i| i.weight()).collect();
    let total_weight: f64 = industry_weights.iter().sum();
    let volume = LogNormal::new(0.0, 1.0).ok();
    let mut out: Vec<Brand> = Vec::with_capacity(count);
    let mut weights = Vec::with_capacity(count);
    for index in 0..count {
        let mut pick = rng.random_range(0.0..total_weight);
        let mut industry = Industry::Airline;
        for (ind, w) in Industry::ALL.iter().zip(&industry_weights) {
            if pick < *w {
                industry = *ind;
                break;
            }
            pick -= w;
        }
        let stem = new_stem(&mut rng, &mut used, bank);
        let handle = format!("{stem}{}", industry.suffix());
        let care_handle = [format!("{handle}Help"), format!("Ask{handle}"), format!("{stem}Care")]
            .into_iter()
            .find(|h| h.len() <= 15)
            .unwrap_or_else(|| format!("{stem}Care"));
        let name = format!("{stem} {}", industry.suffix());
        let base_id = 20_000_000 + index as u64 * 2;
        let n = Account::number(space::BRAND, index as u64 * 2);
        let main = Account::brand(seed, n, base_id, handle.clone(), name.clone());
        let mut care = Account::brand(seed, n + 8, base_id + 1, care_handle, format!("{name} Support"));
        care.followers = (main.followers / 8).max(500);
        let mut products: Vec<String> = industry.products().iter().map(|p| p.replace("{}", &stem)).collect();
        while products.len() > 4 {
            products.remove(rng.random_range(0..products.len()));
        }
        let competitors =
            (0..2).map(|_| format!("{} {}", new_stem(&mut rng, &mut used, bank), industry.suffix())).collect();
        let mut mix = [0.34, 0.20, 0.14, 0.22, 0.10];
        for m in &mut mix {
            *m *= rng.random_range(0.7..1.3);
        }
        let sum: f64 = mix.iter().sum();
        mix.iter_mut().for_each(|m| *m /= sum);
        weights.push(volume.map_or(1.0, |d| d.sample(&mut rng)));
        out.push(Brand {
            index,
            domain: format!("{}.com", handle.to_lowercase()),
            name,
            stem,
            industry,
            main,
            care,
            products,
            competitors,
            utc_offset_min: names::UTC_OFFSETS_MIN[rng.random_range(0..names::UTC_OFFSETS_MIN.len())],
            rate: 0.0,
            origin_rate: 0.0,
            weekend: rng.random_range(0.6..1.15),
            answer_rate: rng.random_range(0.15..0.6),
            reply_median_min: (rng.random_range(5f64.ln()..150f64.ln())).exp(),
            staffed_hours: match rng.random_range(0..10) {
                0..4 => None,
                4..7 => Some((8, 20)),
                _ => Some((7, 22)),
            },
            mix,
        });
    }
    // Heavy-tailed volumes, scaled so the mean is `rate`; no brand falls
    // below 8 % of it, so every brand has traffic to learn from.
    let mean = weights.iter().sum::<f64>() / count.max(1) as f64;
    for (b, w) in out.iter_mut().zip(&weights) {
        b.rate = rate * (w / mean).max(0.08);
        let per_origin: f64 = MIX_CATEGORIES.iter().zip(&b.mix).map(|(c, m)| m * b.thread_posts(*c)).sum();
        b.origin_rate = b.rate / (1.0 + per_origin);
    }
    out
}

/// An invented name stem not used yet and not a word of any text: two
/// syllables (`Norvik`), three once two-syllable names grow scarce.
fn new_stem(rng: &mut ChaCha8Rng, used: &mut Vec<String>, bank: &TextBank) -> String {
    let mut attempt = 0usize;
    loop {
        attempt += 1;
        let head = names::BRAND_HEAD[rng.random_range(0..names::BRAND_HEAD.len())];
        let tail = names::BRAND_TAIL[rng.random_range(0..names::BRAND_TAIL.len())];
        let mid = if attempt > 200 { names::BRAND_TAIL[rng.random_range(0..names::BRAND_TAIL.len())] } else { "" };
        let s = format!("{head}{mid}{tail}");
        if s.len() <= 9 && !used.iter().any(|u| u.eq_ignore_ascii_case(&s)) && !bank.has_word(&s) {
            used.push(s.clone());
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank() -> TextBank {
        TextBank::from_texts(["my order never arrived and nobody answers", "thanks for the quick help today"]).unwrap()
    }

    #[test]
    fn accounts_are_stable_unique_and_valid_handles() {
        let a = Account::new(7, AccountKind::Customer, Account::number(space::ORGANIC, 12));
        assert_eq!(a, Account::new(7, AccountKind::Customer, a.n));
        let mut names = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        let kinds = [
            (AccountKind::Customer, space::ORGANIC),
            (AccountKind::Customer, space::STORM),
            (AccountKind::Campaigner, space::CAMPAIGN),
            (AccountKind::Influencer, space::INFLUENCER),
            (AccountKind::Bystander, space::BYSTANDER),
        ];
        for (kind, sp) in kinds {
            for k in 0..3000 {
                let a = Account::new(7, kind, Account::number(sp, k));
                assert!(
                    a.username.len() <= 15 && a.username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{}",
                    a.username
                );
                assert!(names.insert(a.username.to_lowercase()), "duplicate {}", a.username);
                assert!(ids.insert(a.id));
            }
        }
        let did = a.did();
        assert_eq!(did.len(), "did:plc:".len() + 24, "{did}");
    }

    #[test]
    fn brands_have_distinct_names_short_handles_and_mean_rate() {
        let bs = brands(3, 40, 500.0, &bank());
        let mut seen = std::collections::HashSet::new();
        for b in &bs {
            assert!(seen.insert(b.stem.to_lowercase()));
            assert!(
                b.main.username.len() <= 15 && b.care.username.len() <= 15,
                "{} {}",
                b.main.username,
                b.care.username
            );
            assert!(b.origin_rate < b.rate && b.origin_rate > b.rate * 0.4);
        }
        let mean = bs.iter().map(|b| b.rate).sum::<f64>() / bs.len() as f64;
        assert!((mean - 500.0).abs() < 60.0, "mean {mean}");
        let max = bs.iter().map(|b| b.rate).fold(0.0, f64::max);
        let min = bs.iter().map(|b| b.rate).fold(f64::MAX, f64::min);
        assert!(max / min > 8.0, "volumes are heavy-tailed: {min}..{max}");
    }

    #[test]
    fn seasonality_averages_one_and_sleeps_at_night() {
        let b = &brands(1, 1, 100.0, &bank())[0];
        let week_ms = 7 * 86_400_000i64;
        let start = 1_767_571_200_000i64; // 2026-01-05T00:00Z, a Monday
        let n = 7 * 24 * 60;
        let mean: f64 = (0..n).map(|m| b.season(start + m * 60_000)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        let at_local = |h: i64| start + h * 3_600_000 - i64::from(b.utc_offset_min) * 60_000 + week_ms / 7;
        assert!(b.season(at_local(4)) < 0.35 * b.season(at_local(12)));
    }

    #[test]
    fn care_teams_wait_for_opening_hours() {
        let mut b = brands(1, 1, 100.0, &bank()).remove(0);
        b.staffed_hours = Some((8, 20));
        b.utc_offset_min = 0;
        let night = 1_767_571_200_000i64 + 2 * 3_600_000; // 02:00
        assert_eq!(b.next_staffed(night), 1_767_571_200_000 + 8 * 3_600_000);
        let late = 1_767_571_200_000i64 + 21 * 3_600_000;
        assert_eq!(b.next_staffed(late), 1_767_571_200_000 + 32 * 3_600_000);
        let noon = 1_767_571_200_000i64 + 12 * 3_600_000;
        assert_eq!(b.next_staffed(noon), noon);
    }
}
