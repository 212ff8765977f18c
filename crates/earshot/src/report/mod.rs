//! Brand scorecards from public conversations alone (`earshot report`).
//!
//! Everything here is a pure function of the stored posts ([`ConversationRow`]s) and the brand
//! config, so a scorecard is reproducible: the same store gives the same numbers, and the written
//! [`METHODOLOGY`] says exactly how each one is computed (`tests/report_reference.py` recomputes
//! them from the raw TWCS CSV following that text).

pub mod metrics;
pub mod render;

pub use metrics::{Report, Scorecard, build};

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
Kept / lost: among replied customers who posted to or about the brand after its first response, lost when \
any such post threatens churn, kept when one declares loyalty and none threatens churn.
Leaderboard: brands ranked by the lower bound of the response-rate interval, then by median time to first \
response, then by name.";
