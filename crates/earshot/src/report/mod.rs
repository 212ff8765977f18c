//! Brand scorecards from public conversations alone (`earshot report`).
//!
//! Everything here is a pure function of the stored posts ([`ConversationRow`](earshot_store::ConversationRow)s)
//! and the brand config, so a scorecard is reproducible: the same store gives the same numbers, and the
//! written [`METHODOLOGY`] says exactly how each one is computed (`tests/report_reference.py` recomputes
//! them from the raw TWCS CSV following that text). At scale the report does not read posts: [`facts`]
//! keeps one small row per inbound conversation up to date as posts arrive, and [`metrics::aggregate`]
//! turns the period's rows into scorecards.

pub mod facts;
pub mod metrics;
pub mod render;

pub use facts::{Refreshed, refresh};
pub use metrics::{Period, Report, Scorecard, TrendRow, build};

use chrono::{DateTime, Utc};
use earshot_store::Store;

/// Builds the report from a store: brings its per-conversation facts up to date with the posts stored
/// since ([`refresh`]), then aggregates the facts of inbound published in `[since, until)` for its
/// brand accounts, with the remedies recorded in its cases. `by: None` with `chart_trends` picks a period
/// from the data's span (for the HTML trend chart).
pub fn from_store<S: Store + ?Sized>(
    store: &mut S,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    by: Option<Period>,
    chart_trends: bool,
) -> earshot_store::Result<Report> {
    let (_, accounts) = facts::refresh_with_accounts(store)?;
    let facts = store.report_facts(since, until)?;
    let posts = store.report_state()?.map_or(0, |s| s.posts as usize);
    let by = by.or_else(|| {
        chart_trends.then(|| {
            let days = facts.unanswered.iter().map(|u| u.day_ms);
            let times = facts.answered.iter().map(|f| f.published_ms).chain(days);
            let (first, last) = times.fold((None, None), |(lo, hi): (Option<i64>, Option<i64>), t| {
                (Some(lo.map_or(t, |x| x.min(t))), Some(hi.map_or(t, |x| x.max(t))))
            });
            let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms);
            match (since.or(first.and_then(at)), until.or(last.and_then(at))) {
                (Some(a), Some(b)) => Period::auto(b - a),
                _ => Period::Day,
            }
        })
    });
    let mut rep = metrics::aggregate(&accounts, facts.answered, &facts.unanswered, since, until, by, posts);
    rep.add_remedies(&store.remedy_counts(since, until)?);
    rep.add_storms(&store.storm_responses(since, until)?);
    Ok(rep)
}

/// Version of the written methodology; bumped whenever a definition below changes.
pub const METHODOLOGY_VERSION: &str = "2";

/// The methodology, printed in every report and in the docs.
pub const METHODOLOGY: &str = "\
Brand accounts: the handles of configured brands ([[brands]] handles); an author the source marks as a \
company care account (TWCS inbound=False) is a brand named by its handle; an unconfigured author who \
replied to posts that mention it and reply to nothing, written by at least 5 distinct customers, is a \
discovered brand named by its handle. \
Everyone else is a customer.
Threads: a post belongs to the thread of the root reached by following replies through stored posts; \
threads with the same platform conversation id are one thread. Brand accounts, threads and customers' later \
posts are read from the whole store, whatever the period (a reply after the period still answers an inbound in it).
Inbound: a customer post that replies to nothing and addresses the brand (mentions one of its handles, or \
is attributed to it by mention); counted when published in [since, until).
Replied / response rate: inbound whose thread holds a post by any of the brand's handles; rate = replied / \
inbound with a 95% Wilson interval.
Time to first response: the brand's earliest post in the thread minus the inbound's published time, in \
seconds (0 when earlier). Median and p90 are nearest-rank percentiles of the replied inbound: sort the n \
times ascending and take the ceil(p*n/100)-th. Within 1 h / 24 h: share of ALL inbound answered within \
3600 s / 86400 s (an unanswered post is not within), with a 95% Wilson interval.
Business hours (brands whose SLA policy has a calendar: IANA time zone, weekly hours, holidays): the same \
median and p90 counting only the calendar's business time between the inbound and the first response.
Replies per conversation: mean number of brand posts in replied threads.
Resolution: replied threads whose last post is by the customer and is positive (VADER compound >= 0.05); \
n = replied threads whose last post is analyzed.
Sentiment recovery: for replied threads with analyzed customer posts both before and after the first \
response, mean over threads of (mean compound after - mean compound before).
Remedies: per remedy kind, the brand's customer cases opened in [since, until) whose recorded remedies \
(offered in the brand's replies, as the case stage reads them) include it.
Storms: storms about the brand detected (detector fired) in [since, until); answered when the storm case or \
one of its member customer cases got a first brand reply at or after the storm's estimated onset; time to \
first answer = that earliest reply minus the onset, median and p90 nearest-rank over the answered storms.
Kept / lost: among replied customers who posted to or about the brand after its first response, lost when \
any such post threatens churn, kept when one declares loyalty and none threatens churn.
Trends (--by day|week|month): the same inbound, replied, median, p90 and within-1 h / 24 h figures per UTC \
calendar day, ISO week (from Monday) or month of the inbound's published time; an inbound's reply may fall \
in a later period.
Leaderboard: brands ranked by the lower bound of the response-rate interval, then by median time to first \
response, then by name.";
