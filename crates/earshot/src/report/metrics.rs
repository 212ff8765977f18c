//! Computing scorecards: brand accounts, threads, inbound, responses, and the statistics over them,
//! exactly as [`METHODOLOGY`](super::METHODOLOGY) describes.

use super::METHODOLOGY_VERSION;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use earshot_core::brand::{BrandConfig, Via, parse_handle};
use earshot_core::post::normalize_handle;
use earshot_store::ConversationRow;
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
    /// The replied inbound's first-response times, seconds, ascending (for charts; not serialized).
    #[serde(skip)]
    pub first_response_times_s: Vec<f64>,
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
struct Accounts {
    /// Normalized handle → (platform or "" for every platform, brand index).
    handles: FxHashMap<String, Vec<(String, usize)>>,
    /// ASCII-lowercased brand name → index of the first brand with that name.
    names: FxHashMap<String, usize>,
    /// Brand name, display handles, source.
    brands: Vec<(String, Vec<String>, &'static str)>,
}

impl Accounts {
    fn brand_of(&self, row: &ConversationRow) -> Option<usize> {
        if let Some(b) = &row.brand_author
            && let Some(i) = self.by_name(b)
        {
            return Some(i);
        }
        self.by_handle(&row.platform, &row.author_handle)
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

    /// Configured brands, then care accounts, then authors discovered by their replies.
    fn find(configs: &[BrandConfig], rows: &[ConversationRow], parent: &[Option<usize>]) -> Accounts {
        let mut acc = Accounts::default();
        for c in configs {
            let i = acc.push(c.name.clone(), c.handles.clone(), "config");
            for spec in &c.handles {
                if let Ok((platform, handle)) = parse_handle(spec) {
                    acc.map_handle(platform.map(|p| p.as_str().to_string()).unwrap_or_default(), handle, i);
                }
            }
        }
        for r in rows {
            if r.author_care == Some(true) && acc.brand_of(r).is_none() {
                acc.add(&r.author_handle, &r.author_handle, "care_account");
            }
        }
        // Discovery: distinct authors answered whose post mentioned the replier.
        let mut answered: BTreeMap<String, (String, HashSet<String>)> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            let Some(p) = parent[i] else { continue };
            let parent = &rows[p];
            let me = norm(&r.author_handle);
            // Only customers count: brand care accounts mention the customers they answer, so a
            // customer replying to several brands must not look like a brand.
            if acc.brand_of(r).is_some() || acc.brand_of(parent).is_some() || norm(&parent.author_handle) == me {
                continue;
            }
            // The parent opened a conversation (replies to nothing) addressed to the replier: answering
            // many such openers is what care accounts do; customers chatting in a group thread do not.
            if parent.reply_to.is_none() && parent.mentions.iter().any(|m| norm(m) == me) {
                let entry =
                    answered.entry(me.into_owned()).or_insert_with(|| (r.author_handle.clone(), HashSet::new()));
                entry.1.insert(normalize_handle(&parent.author_handle));
            }
        }
        for (_, (handle, customers)) in answered {
            if customers.len() >= DISCOVERY_MIN_CUSTOMERS {
                acc.add(&handle, &handle, "replies");
            }
        }
        acc
    }
}

/// Per-brand accumulator.
#[derive(Debug, Default)]
struct Acc {
    inbound: u64,
    times: Vec<f64>,
    within_1h: u64,
    within_24h: u64,
    brand_posts: u64,
    resolution_n: u64,
    resolved: u64,
    recoveries: Vec<f64>,
    outcomes: HashMap<String, (bool, bool)>,
    /// Every inbound's published time and first-response time (None when unanswered), for trends.
    events: Vec<(DateTime<Utc>, Option<f64>)>,
}

/// Groups one brand's inbound events into per-period rows.
fn trend_rows(brand: &str, events: &[(DateTime<Utc>, Option<f64>)], by: Period) -> Vec<TrendRow> {
    let mut periods: BTreeMap<NaiveDate, (u64, Vec<f64>)> = BTreeMap::new();
    for (at, secs) in events {
        let e = periods.entry(by.start(*at)).or_default();
        e.0 += 1;
        e.1.extend(secs);
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

/// Builds the report from stored rows (any order) and the configured brands. Inbound is counted
/// when published in `[since, until)`; rows outside the period still link threads and replies.
/// With `by`, the report also holds per brand per period [`TrendRow`]s.
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
    let accounts = Accounts::find(configs, &rows, &parent);
    let speaker: Vec<Option<usize>> = rows.iter().map(|r| accounts.brand_of(r)).collect();
    let author: Vec<Cow<'_, str>> = rows.iter().map(|r| norm(&r.author_handle)).collect();

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
    let mut thread_of_key: FxHashMap<(&str, &str), usize> = FxHashMap::default();
    let mut threads: Vec<Vec<usize>> = Vec::new();
    let mut thread_of: Vec<usize> = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        let top = &rows[root[i].unwrap_or(i)];
        let key = (top.platform.as_str(), top.conversation_id.as_deref().unwrap_or(top.native_id.as_str()));
        let t = *thread_of_key.entry(key).or_insert_with(|| {
            threads.push(Vec::new());
            threads.len() - 1
        });
        threads[t].push(i);
        thread_of.push(t);
    }
    drop((root, thread_of_key));

    // Later posts of each customer, to read kept/lost after a first response.
    let mut by_author: FxHashMap<(&str, &str), Vec<usize>> = FxHashMap::default();
    for (i, r) in rows.iter().enumerate() {
        if speaker[i].is_none() {
            by_author.entry((r.platform.as_str(), author[i].as_ref())).or_default().push(i);
        }
    }
    let ctx = Ctx {
        rows: &rows,
        speaker: &speaker,
        author: &author,
        thread_of: &thread_of,
        accounts: &accounts,
        by_author: &by_author,
    };

    let in_period = |t: DateTime<Utc>| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u);
    let mut accs: Vec<Acc> = accounts.brands.iter().map(|_| Acc::default()).collect();
    let mut done: Vec<usize> = Vec::new();
    for thread in &threads {
        done.clear();
        for &i in thread {
            let r = &rows[i];
            if speaker[i].is_some() || r.reply_to.is_some() || !in_period(r.published_at) {
                continue;
            }
            for b in addressed(&accounts, r) {
                if done.contains(&b) {
                    continue; // one inbound per brand per thread: the first that opened it
                }
                done.push(b);
                score(&mut accs[b], b, i, thread, &ctx);
            }
        }
    }

    let mut trends: HashMap<&str, Vec<TrendRow>> = HashMap::new();
    if let Some(by) = by {
        for ((name, _, _), a) in accounts.brands.iter().zip(&accs) {
            trends.insert(name.as_str(), trend_rows(name, &a.events, by));
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
                first_response_times_s: a.times,
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
        posts: rows.len(),
        brands,
        by,
        trends,
    }
}

impl Report {
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

/// Whether a row is about brand `b`: it addresses it, or any attribution names it.
fn is_about(accounts: &Accounts, r: &ConversationRow, b: usize) -> bool {
    r.mentions.iter().any(|m| accounts.by_handle(&r.platform, m) == Some(b))
        || r.brands.iter().any(|a| accounts.by_name(&a.brand) == Some(b))
}

/// What scoring one inbound needs to look up.
struct Ctx<'a> {
    rows: &'a [ConversationRow],
    speaker: &'a [Option<usize>],
    /// Normalized author handle of every row.
    author: &'a [Cow<'a, str>],
    /// Thread index of every row.
    thread_of: &'a [usize],
    accounts: &'a Accounts,
    by_author: &'a FxHashMap<(&'a str, &'a str), Vec<usize>>,
}

/// Scores one inbound post `i` for brand `b` in its thread (row indexes in published order).
fn score(a: &mut Acc, b: usize, i: usize, thread: &[usize], ctx: &Ctx<'_>) {
    let Ctx { rows, speaker, author, thread_of, accounts, by_author } = ctx;
    a.inbound += 1;
    let r = &rows[i];
    let brand_posts: Vec<usize> = thread.iter().copied().filter(|&j| speaker[j] == Some(b)).collect();
    // Threads are in published order, so the first brand post is the first response.
    let Some(&first) = brand_posts.first() else {
        a.events.push((r.published_at, None));
        return;
    };
    let first_at = rows[first].published_at;
    let secs = (first_at - r.published_at).num_milliseconds().max(0) as f64 / 1000.0;
    a.times.push(secs);
    a.events.push((r.published_at, Some(secs)));
    a.within_1h += u64::from(secs <= 3600.0);
    a.within_24h += u64::from(secs <= 86_400.0);
    a.brand_posts += brand_posts.len() as u64;

    let customer: &str = &author[i];
    let is_customer = |j: usize| speaker[j].is_none() && author[j] == customer;
    if let Some(&last) = thread.last()
        && let Some(c) = rows[last].compound
    {
        a.resolution_n += 1;
        a.resolved += u64::from(is_customer(last) && c >= 0.05);
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for &j in thread {
        if is_customer(j)
            && let Some(c) = rows[j].compound
        {
            if rows[j].published_at < first_at || j == i { before.push(c) } else { after.push(c) }
        }
    }
    if let (Some(x), Some(y)) = (mean(&before), mean(&after)) {
        a.recoveries.push(y - x);
    }
    let later = by_author.get(&(r.platform.as_str(), customer)).map_or(&[][..], Vec::as_slice);
    for &j in later {
        if rows[j].published_at <= first_at || !(thread_of[j] == thread_of[i] || is_about(accounts, &rows[j], b)) {
            continue;
        }
        let e = a.outcomes.entry(customer.to_string()).or_insert((false, false));
        e.0 |= rows[j].loyalty;
        e.1 |= rows[j].churn;
    }
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
