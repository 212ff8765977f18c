//! Computing scorecards: brand accounts, threads, inbound, responses, and the statistics over them,
//! exactly as [`METHODOLOGY`](super::METHODOLOGY) describes.

use super::METHODOLOGY_VERSION;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use earshot_cases::Calendar;
use earshot_core::brand::{BrandConfig, Via, parse_handle};
use earshot_core::post::normalize_handle;
use earshot_store::{
    ConversationRow, ReportAbout, ReportAccountInputs, ReportCare, ReportFact, ReportPair, StormResponse, UnansweredDay,
};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An unconfigured author who replied to this many distinct authors that mentioned them is a brand.
pub const DISCOVERY_MIN_CUSTOMERS: usize = 5;

/// z for a 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A whole report: the period, the method, and one scorecard per brand in leaderboard order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Version of the methodology the numbers follow.
    pub methodology_version: &'static str,
    /// The methodology text.
    pub methodology: &'static str,
    /// Inbound counted from this time (inclusive), when bounded.
    pub since: Option<DateTime<Utc>>,
    /// Inbound counted until this time (exclusive), when bounded.
    pub until: Option<DateTime<Utc>>,
    /// Posts read to build the report.
    pub posts: usize,
    /// One scorecard per brand, best first.
    pub brands: Vec<Scorecard>,
    /// The trend period (`day`, `week`, `month`), when trends were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<Period>,
    /// Per brand per period rows (brands in leaderboard order, periods ascending), when `by` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trends: Option<Vec<TrendRow>>,
}

/// The length of a trend period. Periods are UTC calendar days, ISO weeks (from Monday) and months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// UTC calendar day.
    Day,
    /// ISO week, Monday to Sunday (UTC).
    Week,
    /// Calendar month (UTC).
    Month,
}

impl Period {
    /// The first day of the period holding `t`.
    pub fn start(self, t: DateTime<Utc>) -> NaiveDate {
        let d = t.date_naive();
        match self {
            Period::Day => d,
            Period::Week => d - TimeDelta::days(i64::from(d.weekday().num_days_from_monday())),
            Period::Month => d.with_day(1).unwrap_or(d),
        }
    }

    /// A period that gives a readable chart over `span`: days up to two months, weeks up to a year, then months.
    pub fn auto(span: TimeDelta) -> Period {
        if span <= TimeDelta::days(62) {
            Period::Day
        } else if span <= TimeDelta::days(366) {
            Period::Week
        } else {
            Period::Month
        }
    }
}

/// One brand's numbers in one period (inbound counted by its published time, as in the scorecard).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRow {
    /// Brand name.
    pub brand: String,
    /// First day of the period (`YYYY-MM-DD`, UTC).
    pub period: NaiveDate,
    /// Inbound published in the period.
    pub inbound: u64,
    /// Of those, answered.
    pub replied: u64,
    /// replied / inbound.
    pub response_rate: Option<f64>,
    /// 95% Wilson interval of the response rate.
    pub response_rate_ci: Option<[f64; 2]>,
    /// Median time to first response, seconds (nearest rank; n = replied).
    pub first_response_median_s: Option<f64>,
    /// 90th percentile time to first response, seconds.
    pub first_response_p90_s: Option<f64>,
    /// Share of the period's inbound answered within one hour.
    pub within_1h_share: Option<f64>,
    /// Share of the period's inbound answered within 24 hours.
    pub within_24h_share: Option<f64>,
    /// Methodology version.
    pub methodology_version: &'static str,
}

/// One brand's numbers for the period; every statistic comes with its sample size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// Leaderboard position, from 1.
    pub rank: usize,
    /// Brand name.
    pub brand: String,
    /// The handles it speaks from.
    pub handles: Vec<String>,
    /// How it became a brand: `config`, `care_account` or `replies`.
    pub source: &'static str,
    /// Customer posts that addressed it and started a conversation.
    pub inbound: u64,
    /// Inbound that got a reply in their thread.
    pub replied: u64,
    /// replied / inbound.
    pub response_rate: Option<f64>,
    /// 95% Wilson interval of the response rate.
    pub response_rate_ci: Option<[f64; 2]>,
    /// Median time to first response, seconds (nearest rank; n = replied).
    pub first_response_median_s: Option<f64>,
    /// 90th percentile time to first response, seconds (nearest rank; n = replied).
    pub first_response_p90_s: Option<f64>,
    /// Inbound answered within one hour.
    pub within_1h: u64,
    /// within_1h / inbound.
    pub within_1h_share: Option<f64>,
    /// 95% Wilson interval of that share.
    pub within_1h_ci: Option<[f64; 2]>,
    /// Inbound answered within 24 hours.
    pub within_24h: u64,
    /// within_24h / inbound.
    pub within_24h_share: Option<f64>,
    /// 95% Wilson interval of that share.
    pub within_24h_ci: Option<[f64; 2]>,
    /// Mean brand posts per replied thread (n = replied).
    pub replies_per_conversation: Option<f64>,
    /// Replied threads whose last post is analyzed (the resolution sample).
    pub resolution_n: u64,
    /// Of those, threads ending with a positive customer post.
    pub resolved: u64,
    /// resolved / resolution_n.
    pub resolution_rate: Option<f64>,
    /// 95% Wilson interval of the resolution rate.
    pub resolution_ci: Option<[f64; 2]>,
    /// Threads with customer sentiment both before and after the first response.
    pub sentiment_recovery_n: u64,
    /// Mean (after - before) customer VADER compound over those threads.
    pub sentiment_recovery: Option<f64>,
    /// Replied customers who posted to or about the brand after its first response.
    pub outcome_n: u64,
    /// Of those, customers declaring loyalty and no churn.
    pub kept: u64,
    /// Of those, customers threatening churn.
    pub lost: u64,
    /// Remedies recorded in the brand's customer cases opened in the period: remedy → cases.
    pub remedies: BTreeMap<String, u64>,
    /// The time zone of the brand's business-hours calendar (its SLA policy's), when one is configured.
    pub business_calendar: Option<String>,
    /// Median time to first response counting business hours only, seconds (nearest rank; n = replied).
    pub first_response_business_median_s: Option<f64>,
    /// 90th percentile of the same.
    pub first_response_business_p90_s: Option<f64>,
    /// Storms about the brand detected in the period.
    pub storms: u64,
    /// Of those, storms the brand answered (a reply in the storm case or a member case after the onset).
    pub storms_answered: u64,
    /// Median time from a storm's onset to the brand's first answer, seconds (nearest rank; n = storms_answered).
    pub storm_first_answer_median_s: Option<f64>,
    /// 90th percentile of the same.
    pub storm_first_answer_p90_s: Option<f64>,
    /// The replied inbound's first-response times, seconds, ascending (for charts; not serialized).
    #[serde(skip)]
    pub first_response_times_s: Vec<f64>,
    /// The replied inbound's (published, first reply) times in ms, for business hours (not serialized).
    #[serde(skip)]
    pub responses_ms: Vec<(i64, i64)>,
    /// Methodology version (repeated so one row stands alone in CSV/JSON consumers).
    pub methodology_version: &'static str,
}

/// Nearest-rank percentile `p` (1–100) of ascending `sorted` values: the ceil(p*n/100)-th value.
/// Integer arithmetic, so the rank never depends on floating-point rounding.
pub fn percentile(sorted: &[f64], p: usize) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

/// 95% Wilson score interval of `k` successes in `n` trials (`None` when n = 0).
pub fn wilson(k: u64, n: u64) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some([(center - half).max(0.0), (center + half).min(1.0)])
}

fn ratio(k: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

/// A handle as [`normalize_handle`] makes it (trimmed, no `@`, lowercase), borrowed when it already is:
/// the report compares millions of handles and most need no new string.
fn norm(handle: &str) -> Cow<'_, str> {
    let h = handle.trim().trim_start_matches('@');
    if h.is_ascii() && !h.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(h)
    } else {
        Cow::Owned(h.to_lowercase())
    }
}

/// Who speaks for which brand.
#[derive(Debug, Default)]
pub struct Accounts {
    /// Normalized handle → (platform or "" for every platform, brand index).
    handles: FxHashMap<String, Vec<(String, usize)>>,
    /// ASCII-lowercased brand name → index of the first brand with that name.
    names: FxHashMap<String, usize>,
    /// Brand name, display handles, source.
    brands: Vec<(String, Vec<String>, &'static str)>,
}

/// `None` for the empty string (stored inputs write a missing brand author as "").
fn some(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl Accounts {
    fn brand_of(&self, row: &ConversationRow) -> Option<usize> {
        self.brand_of_parts(row.brand_author.as_deref(), &row.platform, &row.author_handle)
    }

    /// The brand of a post by `handle` on `platform` whose configured brand author is `brand_author`.
    fn brand_of_parts(&self, brand_author: Option<&str>, platform: &str, handle: &str) -> Option<usize> {
        if let Some(b) = brand_author
            && let Some(i) = self.by_name(b)
        {
            return Some(i);
        }
        self.by_handle(platform, handle)
    }

    fn by_name(&self, name: &str) -> Option<usize> {
        self.names.get(name.to_ascii_lowercase().as_str()).copied()
    }

    fn by_handle(&self, platform: &str, handle: &str) -> Option<usize> {
        let list = self.handles.get(norm(handle).as_ref())?;
        list.iter().find(|(p, _)| p == platform).or_else(|| list.iter().find(|(p, _)| p.is_empty())).map(|(_, i)| *i)
    }

    /// Maps a handle to brand `i` (a later mapping of the same platform and handle replaces an earlier one).
    fn map_handle(&mut self, platform: String, handle: String, i: usize) {
        let list = self.handles.entry(handle).or_default();
        match list.iter_mut().find(|(p, _)| *p == platform) {
            Some(entry) => entry.1 = i,
            None => list.push((platform, i)),
        }
    }

    fn push(&mut self, name: String, handles: Vec<String>, source: &'static str) -> usize {
        let i = self.brands.len();
        self.names.entry(name.to_ascii_lowercase()).or_insert(i);
        self.brands.push((name, handles, source));
        i
    }

    fn add(&mut self, name: &str, handle: &str, source: &'static str) {
        let i = self.push(name.to_string(), vec![format!("@{handle}")], source);
        self.map_handle(String::new(), normalize_handle(handle), i);
    }

    /// Configured brands, then care accounts, then authors discovered by their replies, from the
    /// discovery inputs ([`care_input`], [`pair_input`]: the earliest post per key, earliest first).
    /// Replaying only the earliest post of each key is exact: whether a post is skipped depends on its
    /// key alone and on accounts that only grow.
    pub fn from_inputs(configs: &[BrandConfig], inputs: &ReportAccountInputs) -> Accounts {
        let mut acc = Accounts::default();
        for c in configs {
            let i = acc.push(c.name.clone(), c.handles.clone(), "config");
            for spec in &c.handles {
                if let Ok((platform, handle)) = parse_handle(spec) {
                    acc.map_handle(platform.map(|p| p.as_str().to_string()).unwrap_or_default(), handle, i);
                }
            }
        }
        for c in &inputs.care {
            if acc.brand_of_parts(some(&c.brand_author), &c.platform, &c.handle).is_none() {
                acc.add(&c.handle, &c.handle, "care_account");
            }
        }
        // Discovery: distinct authors answered whose post mentioned the replier. Only customers count:
        // brand care accounts mention the customers they answer, so a customer replying to several brands
        // must not look like a brand.
        let mut answered: BTreeMap<&str, (&str, HashSet<&str>)> = BTreeMap::new();
        for p in &inputs.pairs {
            if acc.brand_of_parts(some(&p.replier_brand_author), &p.platform, &p.replier).is_some()
                || acc.brand_of_parts(some(&p.customer_brand_author), &p.platform, &p.customer).is_some()
            {
                continue;
            }
            let entry =
                answered.entry(p.replier.as_str()).or_insert_with(|| (p.replier_handle.as_str(), HashSet::new()));
            entry.1.insert(p.customer.as_str());
        }
        for (_, (handle, customers)) in answered {
            if customers.len() >= DISCOVERY_MIN_CUSTOMERS {
                acc.add(handle, handle, "replies");
            }
        }
        acc
    }

    /// Identifies these accounts (names, handles, sources, handle map) and the facts' format: stored facts
    /// computed for other accounts are rebuilt.
    pub fn fingerprint(&self) -> String {
        let mut handles: Vec<(&String, &Vec<(String, usize)>)> = self.handles.iter().collect();
        handles.sort();
        let text = format!("{FACTS_VERSION}\n{:?}\n{:?}", self.brands, handles);
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        format!("{FACTS_VERSION}:{}:{h:016x}", self.brands.len())
    }

    /// Index of the first brand named exactly `name` (facts name their brand).
    fn index_by_exact_name(&self) -> FxHashMap<&str, usize> {
        let mut m = FxHashMap::default();
        for (i, (name, _, _)) in self.brands.iter().enumerate() {
            m.entry(name.as_str()).or_insert(i);
        }
        m
    }
}

/// Version of the stored facts' meaning; part of the accounts fingerprint, so a change rebuilds them.
pub const FACTS_VERSION: &str = "f1";

/// The discovery input a post gives when its author is a company care account.
pub fn care_input(r: &ConversationRow) -> Option<ReportCare> {
    (r.author_care == Some(true)).then(|| ReportCare {
        platform: r.platform.clone(),
        handle_norm: normalize_handle(&r.author_handle),
        brand_author: r.brand_author.clone().unwrap_or_default(),
        handle: r.author_handle.clone(),
        published_ms: r.published_at.timestamp_millis(),
        post_id: r.id,
    })
}

/// The discovery input a reply gives: its author answered a conversation opener that mentioned it.
/// Care accounts are brands whatever else they do, so their posts give none.
pub fn pair_input(r: &ConversationRow, parent: &ConversationRow) -> Option<ReportPair> {
    if r.author_care == Some(true) || parent.author_care == Some(true) || parent.reply_to.is_some() {
        return None;
    }
    let me = norm(&r.author_handle);
    let customer = norm(&parent.author_handle);
    if customer == me || !parent.mentions.iter().any(|m| norm(m) == me) {
        return None;
    }
    Some(ReportPair {
        platform: r.platform.clone(),
        replier: me.into_owned(),
        customer: customer.into_owned(),
        replier_brand_author: r.brand_author.clone().unwrap_or_default(),
        customer_brand_author: parent.brand_author.clone().unwrap_or_default(),
        replier_handle: r.author_handle.clone(),
        published_ms: r.published_at.timestamp_millis(),
        post_id: r.id,
    })
}

/// Collects discovery inputs keeping the earliest post per key.
#[derive(Debug, Default)]
pub struct InputsBuilder {
    care: FxHashMap<(String, String, String), ReportCare>,
    pairs: FxHashMap<(String, String, String, String, String), ReportPair>,
}

impl InputsBuilder {
    /// Adds a care-account post.
    pub fn care(&mut self, c: ReportCare) {
        let key = (c.platform.clone(), c.handle_norm.clone(), c.brand_author.clone());
        let e = self.care.entry(key).or_insert_with(|| c.clone());
        if (c.published_ms, c.post_id) < (e.published_ms, e.post_id) {
            *e = c;
        }
    }

    /// Adds a replier-opener pair.
    pub fn pair(&mut self, p: ReportPair) {
        let key = (
            p.platform.clone(),
            p.replier.clone(),
            p.customer.clone(),
            p.replier_brand_author.clone(),
            p.customer_brand_author.clone(),
        );
        let e = self.pairs.entry(key).or_insert_with(|| p.clone());
        if (p.published_ms, p.post_id) < (e.published_ms, e.post_id) {
            *e = p;
        }
    }

    /// The inputs, earliest first.
    pub fn finish(self) -> ReportAccountInputs {
        let mut care: Vec<ReportCare> = self.care.into_values().collect();
        care.sort_by_key(|c| (c.published_ms, c.post_id));
        let mut pairs: Vec<ReportPair> = self.pairs.into_values().collect();
        pairs.sort_by_key(|p| (p.published_ms, p.post_id));
        ReportAccountInputs { care, pairs }
    }
}

/// Per-brand accumulator.
#[derive(Debug, Default)]
struct Acc {
    inbound: u64,
    times: Vec<f64>,
    responses_ms: Vec<(i64, i64)>,
    within_1h: u64,
    within_24h: u64,
    brand_posts: u64,
    resolution_n: u64,
    resolved: u64,
    recoveries: Vec<f64>,
    outcomes: HashMap<String, (bool, bool)>,
    /// Every inbound's published time and first-response time (None when unanswered), for trends.
    events: Vec<(DateTime<Utc>, Option<f64>)>,
    /// Unanswered inbound counted per UTC day (read from the store that way), for trends.
    unanswered_days: Vec<(DateTime<Utc>, u64)>,
}

/// Groups one brand's inbound events into per-period rows.
fn trend_rows(
    brand: &str,
    events: &[(DateTime<Utc>, Option<f64>)],
    unanswered_days: &[(DateTime<Utc>, u64)],
    by: Period,
) -> Vec<TrendRow> {
    let mut periods: BTreeMap<NaiveDate, (u64, Vec<f64>)> = BTreeMap::new();
    for (at, secs) in events {
        let e = periods.entry(by.start(*at)).or_default();
        e.0 += 1;
        e.1.extend(secs);
    }
    for (day, n) in unanswered_days {
        periods.entry(by.start(*day)).or_default().0 += n;
    }
    periods
        .into_iter()
        .map(|(period, (inbound, mut times))| {
            times.sort_by(f64::total_cmp);
            let replied = times.len() as u64;
            let within = |limit: f64| times.iter().filter(|t| **t <= limit).count() as u64;
            TrendRow {
                brand: brand.to_string(),
                period,
                inbound,
                replied,
                response_rate: ratio(replied, inbound),
                response_rate_ci: wilson(replied, inbound),
                first_response_median_s: percentile(&times, 50),
                first_response_p90_s: percentile(&times, 90),
                within_1h_share: ratio(within(3600.0), inbound),
                within_24h_share: ratio(within(86_400.0), inbound),
                methodology_version: METHODOLOGY_VERSION,
            }
        })
        .collect()
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The latest posts of a customer about a brand: (platform, customer, brand) → (any, loyalty, churn) times in ms.
pub type AboutMap = FxHashMap<(String, String, String), (i64, Option<i64>, Option<i64>)>;

/// Turns an [`AboutMap`] into rows to store.
pub fn about_rows(about: AboutMap) -> Vec<ReportAbout> {
    about
        .into_iter()
        .map(|((platform, customer, brand), (last_ms, last_loyal_ms, last_churn_ms))| ReportAbout {
            platform,
            customer,
            brand,
            last_ms,
            last_loyal_ms,
            last_churn_ms,
        })
        .collect()
}

/// The facts of one thread, `rows` in published-then-id order: one [`ReportFact`] per customer post that
/// opened it for a brand (replies to nothing, addresses the brand), and each customer post's brands
/// added to `about`.
pub fn thread_facts(
    accounts: &Accounts,
    thread: &str,
    rows: &[&ConversationRow],
    facts: &mut Vec<ReportFact>,
    about: &mut AboutMap,
) {
    let speaker: Vec<Option<usize>> = rows.iter().map(|r| accounts.brand_of(r)).collect();
    let author: Vec<Cow<'_, str>> = rows.iter().map(|r| norm(&r.author_handle)).collect();
    for (j, r) in rows.iter().enumerate() {
        if speaker[j].is_some() {
            continue;
        }
        let t = r.published_at.timestamp_millis();
        for b in about_brands(accounts, r) {
            let key = (r.platform.clone(), author[j].to_string(), accounts.brands[b].0.clone());
            let e = about.entry(key).or_insert((t, None, None));
            e.0 = e.0.max(t);
            if r.loyalty {
                e.1 = e.1.max(Some(t));
            }
            if r.churn {
                e.2 = e.2.max(Some(t));
            }
        }
    }
    // Earlier openers per brand in this thread (only the first one in a period counts).
    let mut opened: Vec<(usize, i64)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if speaker[i].is_some() || r.reply_to.is_some() {
            continue;
        }
        for b in addressed(accounts, r) {
            let published_ms = r.published_at.timestamp_millis();
            let prev = match opened.iter_mut().find(|(x, _)| *x == b) {
                Some(e) => Some(std::mem::replace(&mut e.1, published_ms)),
                None => {
                    opened.push((b, published_ms));
                    None
                }
            };
            facts.push(score(accounts, thread, b, i, prev, rows, &speaker, &author));
        }
    }
}

/// The fact of inbound post `i` for brand `b` in its thread (rows in published order).
#[allow(clippy::too_many_arguments)]
fn score(
    accounts: &Accounts,
    thread: &str,
    b: usize,
    i: usize,
    prev_published_ms: Option<i64>,
    rows: &[&ConversationRow],
    speaker: &[Option<usize>],
    author: &[Cow<'_, str>],
) -> ReportFact {
    let r = rows[i];
    let customer: &str = &author[i];
    let mut fact = ReportFact {
        thread: thread.to_string(),
        brand: accounts.brands[b].0.clone(),
        post_id: r.id,
        platform: r.platform.clone(),
        customer: customer.to_string(),
        published_ms: r.published_at.timestamp_millis(),
        prev_published_ms,
        first_reply_ms: None,
        brand_posts: 0,
        resolution: None,
        recovery: None,
        after_any: false,
        after_loyal: false,
        after_churn: false,
        about_ms: None,
        about_loyal_ms: None,
        about_churn_ms: None,
    };
    // Rows are in published order, so the first brand post is the first response.
    let Some(first) = (0..rows.len()).find(|&j| speaker[j] == Some(b)) else { return fact };
    let first_at = rows[first].published_at;
    fact.first_reply_ms = Some(first_at.timestamp_millis());
    fact.brand_posts = speaker.iter().filter(|s| **s == Some(b)).count() as i64;
    let is_customer = |j: usize| speaker[j].is_none() && author[j] == customer;
    if let Some(c) = rows.last().and_then(|l| l.compound) {
        fact.resolution = Some(is_customer(rows.len() - 1) && c >= 0.05);
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (j, row) in rows.iter().enumerate() {
        if !is_customer(j) {
            continue;
        }
        if let Some(c) = row.compound {
            if row.published_at < first_at || j == i { before.push(c) } else { after.push(c) }
        }
        if row.published_at > first_at {
            fact.after_any = true;
            fact.after_loyal |= row.loyalty;
            fact.after_churn |= row.churn;
        }
    }
    if let (Some(x), Some(y)) = (mean(&before), mean(&after)) {
        fact.recovery = Some(y - x);
    }
    fact
}

/// Builds the report from stored rows (any order) and the configured brands: the same facts the store
/// keeps ([`thread_facts`]), aggregated by [`aggregate`]. Inbound is counted when published in
/// `[since, until)`; every row links threads and replies. With `by`, the report also holds per brand per
/// period [`TrendRow`]s.
pub fn build(
    configs: &[BrandConfig],
    mut rows: Vec<ConversationRow>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    by: Option<Period>,
) -> Report {
    rows.sort_by_key(|r| (r.published_at, r.id));
    // The stored parent of every row, looked up once.
    let parent: Vec<Option<usize>> = {
        let by_id: FxHashMap<(&str, &str), usize> =
            rows.iter().enumerate().map(|(i, r)| ((r.platform.as_str(), r.native_id.as_str()), i)).collect();
        rows.iter()
            .map(|r| r.reply_to.as_deref().and_then(|id| by_id.get(&(r.platform.as_str(), id))).copied())
            .collect()
    };
    let mut inputs = InputsBuilder::default();
    for (i, r) in rows.iter().enumerate() {
        if let Some(c) = care_input(r) {
            inputs.care(c);
        }
        if let Some(p) = parent[i].and_then(|p| pair_input(r, &rows[p])) {
            inputs.pair(p);
        }
    }
    let accounts = Accounts::from_inputs(configs, &inputs.finish());

    // Thread of every row: follow stored parents to the root (memoized; a cycle stops where it closes).
    let mut root: Vec<Option<usize>> = vec![None; rows.len()];
    let mut path = Vec::new();
    let mut seen = FxHashSet::default();
    for start in 0..rows.len() {
        path.clear();
        seen.clear();
        let mut at = start;
        let top = loop {
            if let Some(r) = root[at] {
                break r;
            }
            if !seen.insert(at) {
                break at;
            }
            path.push(at);
            match parent[at] {
                Some(p) if p != at => at = p,
                _ => break at,
            }
        };
        for &p in &path {
            root[p] = Some(top);
        }
    }
    drop(seen);
    let mut threads: FxHashMap<String, Vec<&ConversationRow>> = FxHashMap::default();
    let mut order: Vec<String> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let key = thread_key(&rows[root[i].unwrap_or(i)]);
        let list = threads.entry(key).or_insert_with_key(|k| {
            order.push(k.clone());
            Vec::new()
        });
        list.push(r);
    }
    let mut facts = Vec::new();
    let mut about = AboutMap::default();
    for key in &order {
        thread_facts(&accounts, key, &threads[key], &mut facts, &mut about);
    }
    attach_about(&mut facts, &about);
    aggregate(&accounts, facts, &[], since, until, by, rows.len())
}

/// The thread key of a root post: its platform and conversation id (its own id when it has none).
pub fn thread_key(root: &ConversationRow) -> String {
    format!("{}\u{1f}{}", root.platform, root.conversation_id.as_deref().unwrap_or(root.native_id.as_str()))
}

/// Fills answered facts' customer-about times from `about`, as the store's `report_facts` does.
fn attach_about(facts: &mut [ReportFact], about: &AboutMap) {
    for f in facts.iter_mut().filter(|f| f.first_reply_ms.is_some()) {
        if let Some(&(last, loyal, churn)) = about.get(&(f.platform.clone(), f.customer.clone(), f.brand.clone())) {
            f.about_ms = Some(last);
            f.about_loyal_ms = loyal;
            f.about_churn_ms = churn;
        }
    }
}

/// Aggregates facts of inbound (any order) into scorecards for `accounts`: the period keeps inbound
/// published in `[since, until)`, the first per brand per thread. `unanswered` adds unanswered inbound
/// already counted per day (and already filtered so). `posts` is what the facts cover.
pub fn aggregate(
    accounts: &Accounts,
    mut facts: Vec<ReportFact>,
    unanswered: &[UnansweredDay],
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    by: Option<Period>,
    posts: usize,
) -> Report {
    let index = accounts.index_by_exact_name();
    let brand_ix = |f: &ReportFact| index.get(f.brand.as_str()).copied().unwrap_or(usize::MAX);
    // The order inbound are scored in (means are summed in it): published time, post, brand.
    facts.sort_by_cached_key(|f| (f.published_ms, f.post_id, brand_ix(f)));
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    let in_period = |t: DateTime<Utc>| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u);
    let mut accs: Vec<Acc> = accounts.brands.iter().map(|_| Acc::default()).collect();
    for u in unanswered {
        if let Some(&b) = index.get(u.brand.as_str()) {
            accs[b].inbound += u.inbound;
            accs[b].unanswered_days.push((at(u.day_ms), u.inbound));
        }
    }
    for f in &facts {
        let b = brand_ix(f);
        let published = at(f.published_ms);
        // An earlier opener of the same thread for the brand counts instead when it is in the period too.
        let earlier_counts = f.prev_published_ms.is_some_and(|p| since.is_none_or(|s| at(p) >= s));
        if b == usize::MAX || !in_period(published) || earlier_counts {
            continue;
        }
        let a = &mut accs[b];
        a.inbound += 1;
        let Some(first_ms) = f.first_reply_ms else {
            a.events.push((published, None));
            continue;
        };
        let secs = (first_ms - f.published_ms).max(0) as f64 / 1000.0;
        a.times.push(secs);
        a.responses_ms.push((f.published_ms, first_ms));
        a.events.push((published, Some(secs)));
        a.within_1h += u64::from(secs <= 3600.0);
        a.within_24h += u64::from(secs <= 86_400.0);
        a.brand_posts += f.brand_posts as u64;
        if let Some(resolved) = f.resolution {
            a.resolution_n += 1;
            a.resolved += u64::from(resolved);
        }
        if let Some(r) = f.recovery {
            a.recoveries.push(r);
        }
        let later = |t: Option<i64>| t.is_some_and(|t| t > first_ms);
        if f.after_any || later(f.about_ms) {
            let e = a.outcomes.entry(f.customer.clone()).or_insert((false, false));
            e.0 |= f.after_loyal || later(f.about_loyal_ms);
            e.1 |= f.after_churn || later(f.about_churn_ms);
        }
    }

    let mut trends: HashMap<&str, Vec<TrendRow>> = HashMap::new();
    if let Some(by) = by {
        for ((name, _, _), a) in accounts.brands.iter().zip(&accs) {
            trends.insert(name.as_str(), trend_rows(name, &a.events, &a.unanswered_days, by));
        }
    }
    let mut brands: Vec<Scorecard> = accounts
        .brands
        .iter()
        .zip(accs)
        .map(|((name, handles, source), mut a)| {
            a.times.sort_by(f64::total_cmp);
            let replied = a.times.len() as u64;
            let kept = a.outcomes.values().filter(|(k, l)| *k && !*l).count() as u64;
            let lost = a.outcomes.values().filter(|(_, l)| *l).count() as u64;
            Scorecard {
                rank: 0,
                brand: name.clone(),
                handles: handles.clone(),
                source,
                inbound: a.inbound,
                replied,
                response_rate: ratio(replied, a.inbound),
                response_rate_ci: wilson(replied, a.inbound),
                first_response_median_s: percentile(&a.times, 50),
                first_response_p90_s: percentile(&a.times, 90),
                within_1h: a.within_1h,
                within_1h_share: ratio(a.within_1h, a.inbound),
                within_1h_ci: wilson(a.within_1h, a.inbound),
                within_24h: a.within_24h,
                within_24h_share: ratio(a.within_24h, a.inbound),
                within_24h_ci: wilson(a.within_24h, a.inbound),
                replies_per_conversation: ratio(a.brand_posts, replied),
                resolution_n: a.resolution_n,
                resolved: a.resolved,
                resolution_rate: ratio(a.resolved, a.resolution_n),
                resolution_ci: wilson(a.resolved, a.resolution_n),
                sentiment_recovery_n: a.recoveries.len() as u64,
                sentiment_recovery: mean(&a.recoveries),
                outcome_n: a.outcomes.len() as u64,
                kept,
                lost,
                remedies: BTreeMap::new(),
                business_calendar: None,
                first_response_business_median_s: None,
                first_response_business_p90_s: None,
                storms: 0,
                storms_answered: 0,
                storm_first_answer_median_s: None,
                storm_first_answer_p90_s: None,
                first_response_times_s: a.times,
                responses_ms: a.responses_ms,
                methodology_version: METHODOLOGY_VERSION,
            }
        })
        .collect();
    let lower = |s: &Scorecard| s.response_rate_ci.map_or(-1.0, |c| c[0]);
    brands.sort_by(|a, b| {
        lower(b)
            .total_cmp(&lower(a))
            .then(
                a.first_response_median_s
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.first_response_median_s.unwrap_or(f64::INFINITY)),
            )
            .then(a.brand.to_lowercase().cmp(&b.brand.to_lowercase()))
    });
    for (i, s) in brands.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    let trends = by.map(|_| brands.iter().flat_map(|s| trends.remove(s.brand.as_str()).unwrap_or_default()).collect());
    Report {
        methodology_version: METHODOLOGY_VERSION,
        methodology: super::METHODOLOGY,
        since,
        until,
        posts,
        brands,
        by,
        trends,
    }
}

impl Report {
    /// Adds the business-hours variant of time to first response to the brands `calendar_of` gives a
    /// calendar: the business time between each replied inbound's published time and the first reply.
    pub fn add_business_hours<'c>(&mut self, calendar_of: impl Fn(&str) -> Option<&'c Calendar>) {
        for s in &mut self.brands {
            let Some(cal) = calendar_of(&s.brand) else { continue };
            let mut times: Vec<f64> = s
                .responses_ms
                .iter()
                .map(|&(published, first)| {
                    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
                    cal.business_time_between(at(published), at(first.max(published))).as_millis() as f64 / 1000.0
                })
                .collect();
            times.sort_by(f64::total_cmp);
            s.business_calendar = Some(cal.config().timezone.clone());
            s.first_response_business_median_s = percentile(&times, 50);
            s.first_response_business_p90_s = percentile(&times, 90);
        }
    }

    /// Adds storms (from [`earshot_store::Store::storm_responses`]) to the scorecards of the brands they name.
    pub fn add_storms(&mut self, storms: &[StormResponse]) {
        for s in &mut self.brands {
            let mine: Vec<&StormResponse> = storms.iter().filter(|x| x.brand.eq_ignore_ascii_case(&s.brand)).collect();
            let mut times: Vec<f64> = mine
                .iter()
                .filter_map(|x| x.first_answer_ms.map(|a| (a - x.started_ms).max(0) as f64 / 1000.0))
                .collect();
            times.sort_by(f64::total_cmp);
            s.storms = mine.len() as u64;
            s.storms_answered = times.len() as u64;
            s.storm_first_answer_median_s = percentile(&times, 50);
            s.storm_first_answer_p90_s = percentile(&times, 90);
        }
    }

    /// Adds remedy counts `(brand, remedy, cases)` (from [`earshot_store::Store::remedy_counts`]) to
    /// the scorecards of the brands they name.
    pub fn add_remedies(&mut self, counts: &[(String, String, u64)]) {
        for (brand, remedy, n) in counts {
            if let Some(s) = self.brands.iter_mut().find(|s| s.brand.eq_ignore_ascii_case(brand)) {
                *s.remedies.entry(remedy.clone()).or_default() += n;
            }
        }
    }
}

/// The brands a row addresses: it mentions one of their handles, or is attributed to them by mention
/// or reply. Ascending, without duplicates.
fn addressed(accounts: &Accounts, r: &ConversationRow) -> Vec<usize> {
    let mut to: Vec<usize> = r.mentions.iter().filter_map(|m| accounts.by_handle(&r.platform, m)).collect();
    to.extend(
        r.brands
            .iter()
            .filter(|a| matches!(a.via, Via::Mention | Via::Reply))
            .filter_map(|a| accounts.by_name(&a.brand)),
    );
    to.sort_unstable();
    to.dedup();
    to
}

/// The brands a row is about: it addresses them, or any attribution names them. Ascending, without duplicates.
fn about_brands(accounts: &Accounts, r: &ConversationRow) -> Vec<usize> {
    let mut to: Vec<usize> = r.mentions.iter().filter_map(|m| accounts.by_handle(&r.platform, m)).collect();
    to.extend(r.brands.iter().filter_map(|a| accounts.by_name(&a.brand)));
    to.sort_unstable();
    to.dedup();
    to
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(id: i64, author: &str, care: bool, at_s: i64, reply_to: Option<i64>, mentions: &[&str]) -> ConversationRow {
        ConversationRow {
            id,
            platform: "x".into(),
            native_id: id.to_string(),
            author_handle: author.into(),
            author_care: Some(care),
            brand_author: None,
            brands: Vec::new(),
            mentions: mentions.iter().map(|m| m.to_string()).collect(),
            published_at: Utc.timestamp_opt(1_500_000_000 + at_s, 0).unwrap(),
            reply_to: reply_to.map(|r| r.to_string()),
            conversation_id: None,
            sentiment: None,
            compound: None,
            churn: false,
            loyalty: false,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 50), Some(5.0));
        assert_eq!(percentile(&v, 90), Some(9.0));
        assert_eq!(percentile(&v[..1], 90), Some(1.0));
        assert_eq!(percentile(&v[..3], 50), Some(2.0));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn wilson_matches_published_values() {
        // 8 of 10: the textbook 95% Wilson interval is 0.490–0.943.
        let [lo, hi] = wilson(8, 10).unwrap();
        assert!((lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson(0, 0), None);
        let [lo, _] = wilson(0, 5).unwrap();
        assert_eq!(lo, 0.0);
    }

    #[test]
    fn inbound_replies_and_first_response_follow_the_thread() {
        let rows = vec![
            row(1, "cust", false, 0, None, &["Acme"]),
            row(2, "acme", true, 600, Some(1), &["cust"]),
            row(3, "cust", false, 700, Some(2), &["acme"]),
            row(4, "acme", true, 800, Some(3), &["cust"]),
            // Unanswered opener, and a reply to the brand that is not an inbound.
            row(5, "other", false, 1000, None, &["acme"]),
            row(6, "other", false, 1100, Some(2), &["acme"]),
        ];
        let rep = build(&[], rows, None, None, None);
        let acme = &rep.brands[0];
        assert_eq!((acme.brand.as_str(), acme.source), ("acme", "care_account"));
        assert_eq!((acme.inbound, acme.replied), (2, 1));
        assert_eq!(acme.first_response_median_s, Some(600.0));
        assert_eq!(acme.replies_per_conversation, Some(2.0));
        assert_eq!(acme.within_1h_share, Some(0.5));
    }

    #[test]
    fn period_bounds_count_inbound_but_keep_late_replies() {
        let rows = vec![row(1, "cust", false, 0, None, &["acme"]), row(2, "acme", true, 90_000, Some(1), &[])];
        let until = Some(Utc.timestamp_opt(1_500_000_000 + 10, 0).unwrap());
        let rep = build(&[], rows.clone(), None, until, None);
        assert_eq!((rep.brands[0].inbound, rep.brands[0].replied), (1, 1));
        assert_eq!(rep.brands[0].within_24h, 0);
        let since = Some(Utc.timestamp_opt(1_500_000_000 + 10, 0).unwrap());
        assert_eq!(build(&[], rows, since, None, None).brands[0].inbound, 0);
    }

    #[test]
    fn trends_group_inbound_by_period() {
        // Inbound on Monday 2017-07-10 (answered in 10 min), Tuesday (unanswered), and the next Monday (answered in 2 h).
        let day = 86_400;
        let base = 1_499_644_800 - 1_500_000_000; // 2017-07-10T00:00:00Z relative to row()'s origin
        let rows = vec![
            row(1, "c1", false, base, None, &["acme"]),
            row(2, "acme", true, base + 600, Some(1), &["c1"]),
            row(3, "c2", false, base + day, None, &["acme"]),
            row(4, "c3", false, base + 7 * day, None, &["acme"]),
            row(5, "acme", true, base + 7 * day + 7200, Some(4), &["c3"]),
        ];
        let rep = build(&[], rows.clone(), None, None, Some(Period::Week));
        let t = rep.trends.unwrap();
        let view: Vec<(String, u64, u64, Option<f64>)> =
            t.iter().map(|r| (r.period.to_string(), r.inbound, r.replied, r.first_response_median_s)).collect();
        assert_eq!(
            view,
            [("2017-07-10".to_string(), 2, 1, Some(600.0)), ("2017-07-17".to_string(), 1, 1, Some(7200.0))]
        );
        assert_eq!(t[0].within_1h_share, Some(0.5));
        let days = build(&[], rows.clone(), None, None, Some(Period::Day)).trends.unwrap();
        assert_eq!(days.iter().map(|r| r.inbound).collect::<Vec<_>>(), [1, 1, 1]);
        let months = build(&[], rows.clone(), None, None, Some(Period::Month)).trends.unwrap();
        assert_eq!((months[0].period.to_string(), months[0].inbound), ("2017-07-01".to_string(), 3));
        assert!(build(&[], rows, None, None, None).trends.is_none());
    }

    #[test]
    fn storms_per_brand_with_time_to_first_answer() {
        let rows = vec![row(1, "cust", false, 0, None, &["acme"]), row(2, "acme", true, 60, Some(1), &[])];
        let mut rep = build(&[], rows, None, None, None);
        let storm = |id: &str, brand: &str, started: i64, answer: Option<i64>| StormResponse {
            brand: brand.into(),
            storm_id: id.into(),
            kind: "volume".into(),
            started_ms: started * 1000,
            detected_ms: started * 1000 + 600_000,
            first_answer_ms: answer.map(|a| a * 1000),
        };
        rep.add_storms(&[
            storm("a", "ACME", 100, Some(400)),
            storm("b", "acme", 1000, Some(1060)),
            storm("c", "acme", 5000, Some(9000)),
            storm("d", "acme", 7000, None),
            storm("e", "globex", 0, Some(10)),
        ]);
        let acme = &rep.brands[0];
        assert_eq!((acme.storms, acme.storms_answered), (4, 3), "names compare ignoring case");
        assert_eq!((acme.storm_first_answer_median_s, acme.storm_first_answer_p90_s), (Some(300.0), Some(4000.0)));
    }

    #[test]
    fn business_hours_count_only_opening_hours() {
        // Inbound Friday 2017-07-14 16:30 UTC, answered Monday 09:30: one business hour (Fri 16:30-17:00
        // and Mon 09:00-09:30) on a Mon-Fri 09:00-17:00 UTC calendar.
        let friday = 1_500_049_800 - 1_500_000_000;
        let monday = friday + 3 * 86_400 - 7 * 3600;
        let rows = vec![row(1, "cust", false, friday, None, &["acme"]), row(2, "acme", true, monday, Some(1), &[])];
        let mut rep = build(&[], rows, None, None, None);
        let cal = Calendar::new("UTC", [("mon-fri", "09:00-17:00")], []).unwrap();
        rep.add_business_hours(|b| (b == "acme").then_some(&cal));
        let acme = &rep.brands[0];
        assert_eq!(acme.first_response_median_s, Some((monday - friday) as f64));
        assert_eq!(
            (acme.first_response_business_median_s, acme.business_calendar.as_deref()),
            (Some(3600.0), Some("UTC"))
        );
    }

    #[test]
    fn configured_handles_and_discovery() {
        let cfg = BrandConfig {
            name: "Acme".into(),
            handles: vec!["@acme".into(), "@acmehelp".into()],
            ..Default::default()
        };
        let mut rows = Vec::new();
        for c in 0..5 {
            rows.push(row(100 + c, &format!("c{c}"), false, c * 10, None, &["helpdesk"]));
            rows.push(row(200 + c, "helpdesk", false, c * 10 + 5, Some(100 + c), &[]));
        }
        rows.push(row(300, "c0", false, 100, None, &["acmehelp"]));
        rows.push(row(301, "acmehelp", false, 160, Some(300), &[]));
        let rep = build(&[cfg], rows, None, None, None);
        let acme = rep.brands.iter().find(|b| b.brand == "Acme").unwrap();
        assert_eq!((acme.inbound, acme.replied, acme.first_response_median_s), (1, 1, Some(60.0)));
        let desk = rep.brands.iter().find(|b| b.brand == "helpdesk").unwrap();
        assert_eq!((desk.source, desk.inbound, desk.replied), ("replies", 5, 5));
    }
}
