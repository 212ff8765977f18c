//! Brand scorecards from public conversations alone (`earshot report`).
//!
//! Everything here is a pure function of the stored posts ([`ConversationRow`]s) and the brand
//! config, so a scorecard is reproducible: the same store gives the same numbers, and the written
//! [`METHODOLOGY`] says exactly how each one is computed (`tests/report_reference.py` recomputes
//! them from the raw TWCS CSV following that text).

pub mod metrics;
pub mod render;

pub use metrics::{Period, Report, Scorecard, TrendRow, build};

use chrono::{DateTime, TimeDelta, Utc};
use earshot_store::Store;

/// Replies and threads are read this far beyond the period, so an inbound near its end still sees its answer.
pub const THREAD_MARGIN_DAYS: i64 = 30;

/// Builds the report from a store: its conversations around `[since, until)`, its configured
/// brands, and the remedies recorded in its cases. `by: None` with `chart_trends` picks a period
/// from the data's span (for the HTML trend chart).
pub fn from_store<S: Store + ?Sized>(
    store: &S,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    by: Option<Period>,
    chart_trends: bool,
) -> earshot_store::Result<Report> {
    let margin = TimeDelta::days(THREAD_MARGIN_DAYS);
    let rows = store.conversation_rows(since.map(|t| t - margin), until.map(|t| t + margin))?;
    let configs = store.brands()?;
    let by = by.or_else(|| {
        chart_trends.then(|| {
            let first = rows.iter().map(|r| r.published_at).min();
            let last = rows.iter().map(|r| r.published_at).max();
            match (since.or(first), until.or(last)) {
                (Some(a), Some(b)) => Period::auto(b - a),
                _ => Period::Day,
            }
        })
    });
    let mut rep = build(&configs, rows, since, until, by);
    rep.add_remedies(&store.remedy_counts(since, until)?);
    Ok(rep)
}

/// Version of the written methodology; bumped whenever a definition below changes.
pub const METHODOLOGY_VERSION: &str = "1";

/// The methodology, printed in every report and in the docs.
pub const METHODOLOGY: &str = "\
Brand accounts: the handles of configured brands ([[brands]] handles); an author the source marks as a \
company care account (TWCS inbound=False) is a brand named by its handle; an unconfigured author who \
replied to posts that mention it and reply to nothing, written by at least 5 distinct customers, is a \
discovered brand named by its handle. \
Everyone else is a customer.
Threads: a post belongs to the thread of the root reached by following replies through stored posts; \
threads with the same platform conversation id are one thread.
Inbound: a customer post that replies to nothing and addresses the brand (mentions one of its handles, or \
is attributed to it by mention); counted when published in [since, until).
Replied / response rate: inbound whose thread holds a post by any of the brand's handles; rate = replied / \
inbound with a 95% Wilson interval.
Time to first response: the brand's earliest post in the thread minus the inbound's published time, in \
seconds (0 when earlier). Median and p90 are nearest-rank percentiles of the replied inbound: sort the n \
times ascending and take the ceil(p*n/100)-th. Within 1 h / 24 h: share of ALL inbound answered within \
3600 s / 86400 s (an unanswered post is not within), with a 95% Wilson interval.
Replies per conversation: mean number of brand posts in replied threads.
Resolution: replied threads whose last post is by the customer and is positive (VADER compound >= 0.05); \
n = replied threads whose last post is analyzed.
Sentiment recovery: for replied threads with analyzed customer posts both before and after the first \
response, mean over threads of (mean compound after - mean compound before).
Remedies: per remedy kind, the brand's customer cases opened in [since, until) whose recorded remedies \
(offered in the brand's replies, as the case stage reads them) include it.
Kept / lost: among replied customers who posted to or about the brand after its first response, lost when \
any such post threatens churn, kept when one declares loyalty and none threatens churn.
Trends (--by day|week|month): the same inbound, replied, median, p90 and within-1 h / 24 h figures per UTC \
calendar day, ISO week (from Monday) or month of the inbound's published time; an inbound's reply may fall \
in a later period.
Leaderboard: brands ranked by the lower bound of the response-rate interval, then by median time to first \
response, then by name.";
