//! Rows of the report's pre-aggregated facts (`earshot report`): per-conversation facts kept up to date
//! as posts arrive, so a scorecard reads one small row per inbound conversation instead of every post.
//!
//! The store only keeps these rows; what they mean (threads, brand accounts, first responses) is
//! computed by earshot's `report::facts`, which writes them with [`crate::Store::write_report`].
//! Times are Unix milliseconds (UTC), as posts store them.

use serde::Serialize;

/// How far the facts go: which brand accounts they were computed for, and up to which post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportState {
    /// Fingerprint of the brand accounts the facts were computed with; other accounts mean a rebuild.
    pub fingerprint: String,
    /// Every post with an id up to this one is threaded and counted in the facts.
    pub through_id: i64,
    /// Posts threaded so far.
    pub posts: u64,
}

/// One customer post that opened a conversation addressed to a brand, with what followed in its thread.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportFact {
    /// Thread key (platform and root conversation id).
    pub thread: String,
    /// Brand name.
    pub brand: String,
    /// Store id of the opening post.
    pub post_id: i64,
    /// Platform of the opening post.
    pub platform: String,
    /// Normalized handle of the customer who wrote it.
    pub customer: String,
    /// Its published time.
    pub published_ms: i64,
    /// Published time of an earlier opening post for the same brand in the same thread (only the first in a
    /// period counts).
    pub prev_published_ms: Option<i64>,
    /// Published time of the brand's first post in the thread.
    pub first_reply_ms: Option<i64>,
    /// The brand's posts in the thread.
    pub brand_posts: i64,
    /// Whether the thread ends with a positive post by the customer (`None`: last post not analyzed).
    pub resolution: Option<bool>,
    /// Customer's mean compound after the first reply minus before (`None` without both).
    pub recovery: Option<f64>,
    /// The customer posted again in the thread after the first reply.
    pub after_any: bool,
    /// ... with a loyalty declaration.
    pub after_loyal: bool,
    /// ... with a churn threat.
    pub after_churn: bool,
    /// Latest post of this customer about the brand anywhere (read from [`ReportAbout`]; ignored on write).
    pub about_ms: Option<i64>,
    /// Latest such post declaring loyalty.
    pub about_loyal_ms: Option<i64>,
    /// Latest such post threatening churn.
    pub about_churn_ms: Option<i64>,
}

/// The facts a report reads for a period: answered inbound one by one, unanswered ones counted per day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportFacts {
    /// Answered inbound published in the period (`thread` and `platform` are not read: empty).
    pub answered: Vec<ReportFact>,
    /// Unanswered inbound published in the period that are the first of their thread for their brand in it.
    pub unanswered: Vec<UnansweredDay>,
}

/// Unanswered inbound of one brand on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnansweredDay {
    /// Brand name.
    pub brand: String,
    /// Start of the UTC day, ms.
    pub day_ms: i64,
    /// How many.
    pub inbound: u64,
}

/// A customer's latest posts about a brand (upserted with the maximum of each time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportAbout {
    /// Platform.
    pub platform: String,
    /// Normalized customer handle.
    pub customer: String,
    /// Brand name.
    pub brand: String,
    /// Latest post about the brand.
    pub last_ms: i64,
    /// Latest one declaring loyalty.
    pub last_loyal_ms: Option<i64>,
    /// Latest one threatening churn.
    pub last_churn_ms: Option<i64>,
}

/// The earliest post of an author the source marks as a company care account (upserted keeping the earliest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportCare {
    /// Platform.
    pub platform: String,
    /// Normalized handle.
    pub handle_norm: String,
    /// The configured brand the post names as its author (`""` when none).
    pub brand_author: String,
    /// The handle as written on that post.
    pub handle: String,
    /// Its published time.
    pub published_ms: i64,
    /// Its store id.
    pub post_id: i64,
}

/// The earliest reply of one author to a conversation opener that mentioned it, per opener author
/// (brand discovery), upserted keeping the earliest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportPair {
    /// Platform.
    pub platform: String,
    /// Normalized handle of the replier.
    pub replier: String,
    /// Normalized handle of the opener's author.
    pub customer: String,
    /// The reply's configured brand author (`""` when none).
    pub replier_brand_author: String,
    /// The opener's configured brand author (`""` when none).
    pub customer_brand_author: String,
    /// The replier's handle as written on the reply.
    pub replier_handle: String,
    /// The reply's published time.
    pub published_ms: i64,
    /// The reply's store id.
    pub post_id: i64,
}

/// Inputs of brand-account discovery, read whole (they are small: one row per care account and
/// per replier-opener pair).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportAccountInputs {
    /// Care accounts, earliest first.
    pub care: Vec<ReportCare>,
    /// Replier-opener pairs, earliest first.
    pub pairs: Vec<ReportPair>,
}

/// One atomic change of the facts, applied in field order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportWrite {
    /// Delete every fact and every customer-about row first (a rebuild).
    pub reset_facts: bool,
    /// Move every post of thread `.0` into thread `.1` (a late parent joined them) and drop `.0`'s facts.
    pub renames: Vec<(String, String)>,
    /// Post id → thread (insert or replace).
    pub threads: Vec<(i64, String)>,
    /// Care-account rows to upsert.
    pub care: Vec<ReportCare>,
    /// Replier-opener rows to upsert.
    pub pairs: Vec<ReportPair>,
    /// Threads whose facts are replaced by `facts` (their old facts are deleted).
    pub replace_facts_of: Vec<String>,
    /// New facts.
    pub facts: Vec<ReportFact>,
    /// Customer-about rows to upsert (keeping the latest times).
    pub about: Vec<ReportAbout>,
    /// The new state, when it changes.
    pub state: Option<ReportState>,
}

/// One storm detected in a report's period and when its brand first answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StormResponse {
    /// The brand it is about.
    pub brand: String,
    /// The storm's id.
    pub storm_id: String,
    /// `volume`, `negative`, `campaign` or `influencer`.
    pub kind: String,
    /// Estimated onset (published time), ms.
    pub started_ms: i64,
    /// When the detector fired, ms.
    pub detected_ms: i64,
    /// The brand's first reply at or after the onset in the storm case or any of its member cases
    /// (their `first_response_at`), ms.
    pub first_answer_ms: Option<i64>,
}

/// The whole UTC days within `[lo, hi)` ms, as `[first day start, end of the last whole day)` (empty when
/// `first >= end`); unbounded sides stay unbounded.
pub(crate) fn whole_days(lo: i64, hi: i64) -> (i64, i64) {
    const DAY: i64 = 86_400_000;
    let first = if lo == i64::MIN {
        i64::MIN
    } else {
        lo.div_euclid(DAY).saturating_add(i64::from(lo.rem_euclid(DAY) != 0)).saturating_mul(DAY)
    };
    let end = if hi == i64::MAX { i64::MAX } else { hi.div_euclid(DAY).saturating_mul(DAY) };
    (first, end)
}
