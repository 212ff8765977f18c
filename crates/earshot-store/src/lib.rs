//! Earshot's storage: the [`Store`] trait every backend implements, the
//! embedded SQLite backend ([`SqliteStore`]) that needs no set-up, and the
//! PostgreSQL backend (`PostgresStore`, feature `postgres`) that many processes
//! share. [`open`] picks one from a target: a `postgres://` URL or a file path.
//! [`ChangeFeed`] tells a long-running reader when another connection committed
//! posts or cases (PostgreSQL `LISTEN`/`NOTIFY`, SQLite `PRAGMA data_version`).
//!
//! Invariant: this is the only crate that speaks SQL. A post is stored once per
//! `(platform, native_id)` however often it is ingested, and everything in one
//! [`Batch`] (posts, their brand links, deletions and rejects) commits
//! atomically, so a killed run can simply be re-run.

use chrono::{DateTime, Utc};
use earshot_core::brand::{Attribution, BrandConfig};
use earshot_core::decode::Position;
use earshot_core::{Deletion, Post};
use serde::{Deserialize, Serialize};

mod any;
mod feed;
#[cfg(feature = "postgres")]
mod postgres;
mod report;
mod sqlite;
pub use any::{AnyStore, is_postgres_url, open, redact_url};
pub use feed::{CHANNEL, Change, ChangeFeed, FeedEvent, FeedStatus};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use report::{
    ReportAbout, ReportAccountInputs, ReportCare, ReportFact, ReportFacts, ReportPair, ReportState, ReportWrite,
    StormResponse, UnansweredDay,
};
pub use sqlite::SqliteStore;
#[cfg(test)]
mod contract;

/// Storage failures. Every message says what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The path or URL.
        path: String,
        /// The driver's error.
        source: rusqlite::Error,
    },
    /// Migrating the schema failed.
    #[error("cannot migrate database schema: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    /// Any other database error, with what was being done.
    #[error("database error while {doing}: {source}")]
    Sql {
        /// What was being done.
        doing: &'static str,
        /// The driver's error.
        source: rusqlite::Error,
    },
    /// The PostgreSQL server could not be reached or refused the login.
    #[cfg(feature = "postgres")]
    #[error("cannot connect to PostgreSQL at {target}: {}", postgres::reason(error))]
    Connect {
        /// The URL, without its password.
        target: String,
        /// The driver's error (its whole story is in this error's message).
        error: ::postgres::Error,
    },
    /// A PostgreSQL error, with what was being done.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL error while {doing}: {}", postgres::reason(error))]
    Postgres {
        /// What was being done.
        doing: &'static str,
        /// The driver's error (its whole story is in this error's message).
        error: ::postgres::Error,
    },
    /// The connection holding a session lock dropped (the server restarted, or the network failed): the
    /// lock is gone with it, so the holder must open the store again and take the lock anew.
    #[cfg(feature = "postgres")]
    #[error(
        "lost the PostgreSQL session at {target} (and the locks it held)\nhint: open the store again; the work resumes from what was committed"
    )]
    SessionLost {
        /// The URL, without its password.
        target: String,
    },
    /// The target names a backend this build does not have, or the database is not one this version can use.
    #[error("{0}")]
    Unsupported(String),
    /// A value could not be encoded or decoded.
    #[error("cannot encode/decode stored {what}: {source}")]
    Codec {
        /// What.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub(crate) trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T>;
}

impl<T> Doing<T> for rusqlite::Result<T> {
    fn doing(self, doing: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Sql { doing, source })
    }
}

#[cfg(feature = "postgres")]
impl<T> Doing<T> for std::result::Result<T, ::postgres::Error> {
    fn doing(self, doing: &'static str) -> Result<T> {
        self.map_err(|error| StoreError::Postgres { doing, error })
    }
}

/// A post ready to store, with what the pipeline learned about it.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// The decoded post.
    pub post: Post,
    /// The brands it addresses or is written by.
    pub brands: Vec<Attribution>,
    /// The brand speaking, when one of its handles wrote it.
    pub brand_author: Option<String>,
    /// Where it came from (file path, `-` for stdin, a stream name).
    pub source: String,
    /// What the Understand stage said, when analysis ran.
    pub analysis: Option<AnalysisRow>,
}

/// A post's analysis as stored: sortable columns plus the full JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisRow {
    /// Analyzer and model versions, comma-separated.
    pub versions: String,
    /// VADER compound.
    pub compound: f64,
    /// Sentiment label.
    pub sentiment: Option<String>,
    /// Complaint probability.
    pub complaint: Option<f64>,
    /// Complaint severity 0–4.
    pub severity: Option<i64>,
    /// Intent label.
    pub intent: Option<String>,
    /// Issue type.
    pub issue: Option<String>,
    /// Priority 0–100.
    pub priority: i64,
    /// The whole analysis as JSON.
    pub json: String,
}

/// A record that could not be decoded, kept with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewReject {
    /// File path, `-` for stdin, or a stream name.
    pub source: String,
    /// Position of the record in the source.
    pub position: Position,
    /// Position inside the record (e.g. `data[3]`), when it holds many items.
    pub within: Option<String>,
    /// The decoder that rejected it.
    pub format: String,
    /// Why, as a sentence fragment.
    pub reason: String,
    /// The raw bytes.
    pub raw: Vec<u8>,
}

/// Everything to commit in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Posts.
    pub posts: Vec<NewPost>,
    /// Deletion notices.
    pub deletions: Vec<(Deletion, String)>,
    /// Rejected records.
    pub rejects: Vec<NewReject>,
}

impl Batch {
    /// Number of items in the batch.
    pub fn len(&self) -> usize {
        self.posts.len() + self.deletions.len() + self.rejects.len()
    }

    /// True when there is nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.posts.clear();
        self.deletions.clear();
        self.rejects.clear();
    }
}

/// What committing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    /// New posts stored.
    pub stored: u64,
    /// Posts already stored before (same platform and native id), left as they were.
    pub duplicates: u64,
    /// Deletions recorded (new or repeated).
    pub deletions: u64,
    /// Rejects recorded (a reject seen before is not stored twice).
    pub rejects_new: u64,
}

/// Counts over the whole store, for `earshot stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Posts stored.
    pub posts: u64,
    /// Rejected records kept.
    pub rejects: u64,
    /// Brands known (configured or discovered).
    pub brands: u64,
    /// Deletion notices recorded.
    pub deletions: u64,
    /// Posts whose parent post is stored too.
    pub replies_linked: u64,
    /// Posts with a stored analysis.
    pub analyzed: u64,
    /// Posts per platform.
    pub by_platform: std::collections::BTreeMap<String, u64>,
    /// Posts per decoder.
    pub by_format: std::collections::BTreeMap<String, u64>,
    /// Posts per brand (any attribution).
    pub by_brand: std::collections::BTreeMap<String, u64>,
    /// Earliest and latest published time.
    pub first_published: Option<DateTime<Utc>>,
    /// Latest published time.
    pub last_published: Option<DateTime<Utc>>,
    /// Customer cases.
    pub cases: u64,
    /// Cases per status.
    pub cases_by_status: std::collections::BTreeMap<String, u64>,
}

/// A filter for listing posts.
#[derive(Debug, Clone, Default)]
pub struct PostQuery {
    /// Only posts attributed to this brand (case-insensitive name).
    pub brand: Option<String>,
    /// Full-text query: plain words are ANDed (punctuation is ignored; no words means no filter). PostgreSQL
    /// also reads web-search syntax (`"a phrase"`, `or`, `-word`, see `websearch_to_tsquery`).
    pub search: Option<String>,
    /// Only this platform.
    pub platform: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// A stored post with its store id and attributions.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPost {
    /// Store-assigned id.
    pub id: i64,
    /// The post as decoded.
    #[serde(flatten)]
    pub post: Post,
    /// When earshot stored it.
    pub ingested_at: DateTime<Utc>,
    /// Brand attributions.
    pub brands: Vec<Attribution>,
    /// The brand speaking, when a brand wrote it.
    pub brand_author: Option<String>,
    /// When it was deleted on the platform, if a deletion was seen.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The stored analysis, when the post was analyzed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<serde_json::Value>,
}

/// A stored reject.
#[derive(Debug, Clone, Serialize)]
pub struct StoredReject {
    /// Store id.
    pub id: i64,
    /// The reject.
    #[serde(flatten)]
    pub reject: NewReject,
    /// When it was recorded.
    pub rejected_at: DateTime<Utc>,
}

/// A case as stored: the columns the inbox sorts and filters by, and the whole case as JSON (`data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    /// Case id.
    pub id: i64,
    /// The brand it is for.
    pub brand: String,
    /// The customer's handle.
    pub customer: String,
    /// Platform of the opening post.
    pub platform: String,
    /// `customer` (one person) or `storm` (many, one plan).
    pub kind: String,
    /// `new`, `open`, `waiting_on_customer`, `resolved` or `closed`.
    pub status: String,
    /// The agent working it.
    pub assignee: Option<String>,
    /// 0–100, from the analysis of its posts.
    pub priority: i64,
    /// What went wrong (the issue type of its most urgent customer post).
    pub issue: Option<String>,
    /// Sentiment of the latest customer post.
    pub sentiment: Option<String>,
    /// Published time of the opening post (SLA clocks start here).
    pub opened_at: DateTime<Utc>,
    /// Published time of its latest post or action.
    pub last_activity_at: DateTime<Utc>,
    /// The brand's first reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The next SLA due time, when a target is running.
    pub due_at: Option<DateTime<Utc>>,
    /// The most pressing SLA state (`running`, `warning`, `breached`, `met`, ...).
    pub sla_state: Option<String>,
    /// The case it was merged into.
    pub merged_into: Option<i64>,
    /// The whole case.
    pub data: serde_json::Value,
    /// The storm case it belongs to (set by storm detection only; a whole-row write leaves it as stored).
    #[serde(default)]
    pub storm_case: Option<i64>,
}

/// A post's membership in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseLink {
    /// The stored post.
    pub post_id: i64,
    /// The case.
    pub case_id: i64,
    /// `customer`, `brand` or `participant`.
    pub role: String,
    /// Which threading rule put it there.
    pub rule: String,
}

/// Something that happened to a case (SLA event, agent action, outbox result). Appended, never rewritten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// The case.
    pub case_id: i64,
    /// When it happened (published time for posts, wall time for actions).
    pub at: DateTime<Utc>,
    /// What kind of event (`customer_posted`, `brand_replied`, `assigned`, `note`, `remedy`, `status`, ...).
    pub kind: String,
    /// Who did it (a user name), when a person did.
    pub actor: Option<String>,
    /// Details.
    pub data: serde_json::Value,
}

/// A stored [`CaseEvent`] with its id (ids increase in insertion order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCaseEvent {
    /// Event id.
    pub id: i64,
    /// The event.
    #[serde(flatten)]
    pub event: CaseEvent,
}

/// Case changes committed together: case rows (insert or replace), post links, events, and how far threading got.
#[derive(Debug, Clone, Default)]
pub struct CaseWrite {
    /// Cases to insert or replace, whole.
    pub cases: Vec<CaseRow>,
    /// New post-to-case links (a post already linked keeps its case).
    pub links: Vec<CaseLink>,
    /// Events to append.
    pub events: Vec<CaseEvent>,
    /// Every post with an id up to this one is threaded.
    pub threaded_through: Option<i64>,
    /// Cases that joined a storm: (member case, storm case).
    pub storm_members: Vec<(i64, i64)>,
    /// Storms to insert or replace, whole (written after the cases, so a storm may point at its storm case).
    pub storms: Vec<StormRow>,
    /// Alerts to queue; one already queued under the same id is kept as it is.
    pub alerts: Vec<AlertRow>,
    /// Streaming state to save with this write (valid through `threaded_through`).
    pub snapshot: Option<Snapshot>,
}

/// A storm as stored: the columns `earshot storms` and the inbox filter by, and the whole storm as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StormRow {
    /// Deterministic id from the detector (brand, kind, key, onset).
    pub id: String,
    /// The brand it is about.
    pub brand: String,
    /// `volume`, `negative`, `campaign` or `influencer`.
    pub kind: String,
    /// What was counted: `all`, `complaints`, `negative`, `hashtag`, `text`, `link`, `mentions`, `post`...
    pub facet: String,
    /// The hashtag, link, text cluster... (empty for brand-wide facets).
    pub key: String,
    /// `open` or `closed`.
    pub status: String,
    /// Estimated onset (published time).
    pub started_at: DateTime<Utc>,
    /// Published time of the post whose arrival fired the detector.
    pub detected_at: DateTime<Utc>,
    /// Published time of its latest post.
    pub last_post_at: DateTime<Utc>,
    /// When it subsided.
    pub closed_at: Option<DateTime<Utc>>,
    /// Posts in it.
    pub posts: i64,
    /// Distinct authors in it.
    pub authors: i64,
    /// The storm case in the inbox.
    pub case_id: Option<i64>,
    /// The whole storm.
    pub data: serde_json::Value,
}

/// One outgoing alert (a storm event for one webhook) and its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    /// Delivery id, stable across retries (receivers dedupe on it).
    pub id: String,
    /// The storm.
    pub storm_id: String,
    /// The storm's brand (alerts are scoped like storms).
    pub brand: String,
    /// `storm.opened`, `storm.updated` or `storm.closed`.
    pub event: String,
    /// The webhook's name (its URL is in the config, not stored).
    pub webhook: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When to try next (pending only).
    pub next_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The payload and anything the sender needs.
    pub data: serde_json::Value,
}

/// The columns of one stored post that brand scorecards (`earshot report`) need, and nothing more:
/// reading whole [`StoredPost`]s (raw source, all JSON fields) for every post would dominate a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationRow {
    /// Store id.
    pub id: i64,
    /// Platform name (`x`, `mastodon`, ...).
    pub platform: String,
    /// The platform's id of the post.
    pub native_id: String,
    /// The author's handle as stored.
    pub author_handle: String,
    /// What the source said about the author being a company care account (TWCS `inbound=False`).
    pub author_care: Option<bool>,
    /// The configured brand that wrote it, when one did.
    pub brand_author: Option<String>,
    /// Brand attributions.
    pub brands: Vec<Attribution>,
    /// Handles mentioned in the text.
    pub mentions: Vec<String>,
    /// Published time.
    pub published_at: DateTime<Utc>,
    /// The native id of the post it replies to.
    pub reply_to: Option<String>,
    /// The platform's conversation id, when it has one.
    pub conversation_id: Option<String>,
    /// Sentiment label, when analyzed.
    pub sentiment: Option<String>,
    /// VADER compound, when analyzed.
    pub compound: Option<f64>,
    /// The analysis found a churn threat.
    pub churn: bool,
    /// The analysis found a loyalty declaration.
    pub loyalty: bool,
}

/// The saved state of a streaming stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The stage (`storms`).
    pub name: String,
    /// Valid for every post with an id up to this one.
    pub through: i64,
    /// Serialized state.
    pub data: Vec<u8>,
}

/// A live source's resume point and health (`earshot watch`), one per `[[sources]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceState {
    /// The source's configured name.
    pub name: String,
    /// `x_stream`, `mastodon`, `bluesky_jetstream` or `feed`.
    pub kind: String,
    /// The endpoint (never a credential).
    pub url: String,
    /// Where reading resumes; covers only committed posts.
    pub cursor: Option<String>,
    /// `connected`, `backing_off`, `failing` or `idle`.
    pub status: String,
    /// When `status` last changed.
    pub status_since: DateTime<Utc>,
    /// When the source last delivered a record.
    pub last_post_at: Option<DateTime<Utc>>,
    /// How far behind the platform's own clock the last record was when committed, in milliseconds.
    pub lag_ms: Option<i64>,
    /// Records delivered and committed (posts, duplicates, deletions, skips, rejects).
    pub records: i64,
    /// New posts stored.
    pub stored: i64,
    /// Records rejected (quarantined in `rejects`).
    pub rejected: i64,
    /// Connection and protocol errors.
    pub errors: i64,
    /// Reconnections.
    pub reconnects: i64,
    /// Gaps that could not be back-filled (the platform offers no way to read them again).
    pub gaps: i64,
    /// The last error, for the inbox.
    pub last_error: Option<String>,
    /// When this row was written.
    pub updated_at: DateTime<Utc>,
}

/// Which storms to list.
#[derive(Debug, Clone, Default)]
pub struct StormQuery {
    /// Only these brands (the caller's scope); `None` = all.
    pub brands: Option<Vec<String>>,
    /// One brand.
    pub brand: Option<String>,
    /// Only open ones.
    pub open_only: bool,
    /// At most this many, newest detection first (default 100).
    pub limit: Option<usize>,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Only these brands (the caller's scope); `None` = all.
    pub brands: Option<Vec<String>>,
    /// One brand.
    pub brand: Option<String>,
    /// One status; `None` lists active ones (new, open, waiting on customer) unless `all` is set.
    pub status: Option<String>,
    /// Every status.
    pub all: bool,
    /// One assignee (`""` = unassigned).
    pub assignee: Option<String>,
    /// One customer (their handle as stored on the case).
    pub customer: Option<String>,
    /// Also list cases that are part of a storm (the queue shows their storm case instead).
    pub storm_members: bool,
    /// One issue type.
    pub issue: Option<String>,
    /// One sentiment label.
    pub sentiment: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<usize>,
    /// Skip this many.
    pub offset: usize,
}

/// A user of the inbox and API. `brands` is the scope: the brands whose cases and posts they may see (`*` = all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// User id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// `admin`, `lead`, `agent` or `viewer`.
    pub role: String,
    /// Brands in scope.
    pub brands: Vec<String>,
    /// Argon2 PHC string, when the user has a password.
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
}

/// A login session (the id itself is only ever in the user's cookie; the store has its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The user.
    pub user: UserRow,
    /// The anti-CSRF token of this session's forms.
    pub csrf: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Users, sessions and API tokens: who may see what.
pub trait Accounts {
    /// Creates a user (fails when the name is taken).
    fn add_user(&mut self, user: &UserRow, now: DateTime<Utc>) -> Result<i64>;
    /// A user by name (case-insensitive).
    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>>;
    /// Every user.
    fn users(&self) -> Result<Vec<UserRow>>;
    /// Records an API token hash for a user.
    fn add_token(&mut self, user_id: i64, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    /// The user of an API token hash.
    fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>>;
    /// Records a session.
    fn add_session(&mut self, id_hash: &str, user_id: i64, csrf: &str, expires_at: DateTime<Utc>) -> Result<()>;
    /// A live session by id hash (expired ones are not returned).
    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>>;
    /// Ends a session.
    fn delete_session(&mut self, id_hash: &str) -> Result<()>;
}

/// The storage interface. The embedded SQLite store and the PostgreSQL store implement the same contract,
/// tested once for both (`contract.rs`).
pub trait Store {
    /// Commits a batch atomically; `now` is the ingestion time recorded on new posts.
    fn commit(&mut self, batch: &Batch, now: DateTime<Utc>) -> Result<BatchOutcome>;
    /// Records the configured brands (insert or update by name).
    fn upsert_brands(&mut self, brands: &[BrandConfig], now: DateTime<Utc>) -> Result<()>;
    /// The brands recorded so far.
    fn brands(&self) -> Result<Vec<BrandConfig>>;
    /// Counts.
    fn stats(&self) -> Result<Stats>;
    /// Newest posts matching a query.
    fn posts(&self, query: &PostQuery) -> Result<Vec<StoredPost>>;
    /// One post by platform and native id.
    fn post(&self, platform: &str, native_id: &str) -> Result<Option<StoredPost>>;
    /// Newest rejects.
    fn rejects(&self, limit: usize) -> Result<Vec<StoredReject>>;
    /// Re-analyzes every stored post with `analyze` (with its brand attributions),
    /// in batches of `batch` posts per transaction; returns how many were analyzed.
    fn reanalyze(&mut self, batch: usize, analyze: &mut dyn FnMut(&StoredPost) -> AnalysisRow) -> Result<u64>;

    /// Posts with an id above `after_id`, in id order (the order they were stored), at most `limit`.
    fn posts_after(&self, after_id: i64, limit: usize) -> Result<Vec<StoredPost>>;
    /// The id up to which every post has been threaded into cases.
    fn threaded_through(&self) -> Result<i64>;
    /// Commits case changes atomically.
    fn write_cases(&mut self, write: &CaseWrite, now: DateTime<Utc>) -> Result<()>;
    /// Cases matching a query: most urgent first (priority, then SLA due time, then age).
    fn cases(&self, query: &CaseQuery) -> Result<Vec<CaseRow>>;
    /// One case.
    fn case(&self, id: i64) -> Result<Option<CaseRow>>;
    /// The posts of a case, by published time.
    fn case_posts(&self, id: i64) -> Result<Vec<StoredPost>>;
    /// The events of a case, in order.
    fn case_events(&self, id: i64) -> Result<Vec<StoredCaseEvent>>;
    /// Cases with activity at or after `since` (to rebuild the threader's memory), with their posts' ids.
    fn recent_cases(&self, since: DateTime<Utc>) -> Result<Vec<CaseRow>>;
    /// The largest case id (0 when none).
    fn max_case_id(&self) -> Result<i64>;
    /// The newest published time of any stored post (an index lookup, unlike [`Store::stats`]).
    fn last_published(&self) -> Result<Option<DateTime<Utc>>>;

    /// The cases of stored posts, as (post id, case id), for the posts that have one.
    fn cases_of_posts(&self, post_ids: &[i64]) -> Result<Vec<(i64, i64)>>;
    /// The customer cases of a storm case, oldest first.
    fn storm_members(&self, storm_case: i64, limit: usize) -> Result<Vec<CaseRow>>;
    /// Storms matching a query, newest detection first.
    fn storms(&self, query: &StormQuery) -> Result<Vec<StormRow>>;
    /// One storm.
    fn storm(&self, id: &str) -> Result<Option<StormRow>>;
    /// The saved state of a streaming stage.
    fn snapshot(&self, name: &str) -> Result<Option<Snapshot>>;
    /// Alerts of some storms (all when `storm_id` is `None`), newest first, within a brand scope.
    fn alerts(&self, brands: Option<&[String]>, storm_id: Option<&str>, limit: usize) -> Result<Vec<AlertRow>>;
    /// Pending alerts due at `now`, oldest first.
    fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertRow>>;
    /// Records a delivery attempt's result (state, attempts, next try, error).
    fn update_alert(&mut self, alert: &AlertRow) -> Result<()>;
    /// Posts published in `[since, until)` (either bound optional) with the columns scorecards need,
    /// by published time then id, read in one scan of the published-time index.
    fn conversation_rows(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<ConversationRow>>;
    /// Per brand, how many customer cases opened in `[since, until)` recorded each remedy
    /// (`data.case.remedies`), as `(brand, remedy, cases)` sorted by brand then remedy. The default
    /// pages through [`Store::cases`]; backends override it with one aggregate query.
    fn remedy_counts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String, u64)>> {
        let mut counts: std::collections::BTreeMap<(String, String), u64> = std::collections::BTreeMap::new();
        let mut offset = 0;
        loop {
            let page = self.cases(&CaseQuery {
                all: true,
                storm_members: true,
                limit: Some(1000),
                offset,
                ..CaseQuery::default()
            })?;
            for c in &page {
                let in_period = since.is_none_or(|s| c.opened_at >= s) && until.is_none_or(|u| c.opened_at < u);
                if c.kind != "customer" || !in_period {
                    continue;
                }
                let remedies = c.data.pointer("/case/remedies").and_then(|r| r.as_array());
                for r in remedies.into_iter().flatten().filter_map(|r| r.as_str()) {
                    *counts.entry((c.brand.clone(), r.to_string())).or_default() += 1;
                }
            }
            if page.len() < 1000 {
                break;
            }
            offset += page.len();
        }
        Ok(counts.into_iter().map(|((b, r), n)| (b, r, n)).collect())
    }
    /// Where the report's pre-aggregated facts stand (`None` before they were first built).
    fn report_state(&self) -> Result<Option<ReportState>>;
    /// Posts with an id above `after_id`, in id order, at most `limit`, each with its report thread when it has one.
    fn report_new_rows(&self, after_id: i64, limit: usize) -> Result<Vec<(ConversationRow, Option<String>)>>;
    /// Stored posts of `platform` with these native ids, each with its report thread when it has one.
    fn report_rows_by_native(
        &self,
        platform: &str,
        native_ids: &[String],
    ) -> Result<Vec<(ConversationRow, Option<String>)>>;
    /// Threaded posts with an id up to `max_id` that reply to one of `native_ids` on `platform`, as
    /// `(reply_to, thread)`: the threads a late parent joins.
    fn report_children(&self, platform: &str, native_ids: &[String], max_id: i64) -> Result<Vec<(String, String)>>;
    /// Up to `limit` report thread keys after `after`, in key order.
    fn report_threads(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    /// Every post of these report threads, as `(thread, row)`.
    fn report_thread_rows(&self, threads: &[String]) -> Result<Vec<(String, ConversationRow)>>;
    /// The stored inputs of brand-account discovery (care accounts, replier-opener pairs), earliest first; only
    /// the pairs of repliers with at least `min_customers` distinct customers (no other can be discovered).
    fn report_account_inputs(&self, min_customers: usize) -> Result<ReportAccountInputs>;
    /// Applies one change of the report's facts atomically.
    fn write_report(&mut self, write: &ReportWrite) -> Result<()>;
    /// Takes (or renews) the lease that lets one process at a time bring the report's facts up to date:
    /// true when `holder` now holds it until `until` (it was free, expired at `now`, or already held by
    /// `holder`). `until: None` releases it.
    fn report_lease(&mut self, holder: &str, now: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Result<bool>;
    /// Facts of inbound published in `[since, until)`: answered ones with the customer's latest posts about the
    /// brand filled in, and unanswered ones counted per brand per UTC day, keeping only the first opener of a
    /// thread for a brand in the period (`prev_published_ms` before `since`, or none).
    fn report_facts(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<ReportFacts>;
    /// Storms detected in `[since, until)` (their `detected_at`), each with its brand's first answer after the
    /// onset, by brand then detection time.
    fn storm_responses(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>)
    -> Result<Vec<StormResponse>>;
    /// The saved state of one live source.
    fn source_state(&self, name: &str) -> Result<Option<SourceState>>;
    /// Saves a live source's state (insert or replace by name).
    fn save_source_state(&mut self, state: &SourceState) -> Result<()>;
    /// Every live source's state, by name.
    fn source_states(&self) -> Result<Vec<SourceState>>;
}
