//! One store type for the CLI whichever backend a target names: a file path opens SQLite, a
//! `postgres://` or `postgresql://` URL opens PostgreSQL.

use crate::{
    Accounts, AlertRow, AnalysisRow, Batch, BatchOutcome, CaseQuery, CaseRow, CaseWrite, ConversationRow, PostQuery,
    ReportAccountInputs, ReportFacts, ReportState, ReportWrite, Result, SessionRow, Snapshot, SourceState, SqliteStore,
    Stats, Store, StoredCaseEvent, StoredPost, StoredReject, StormQuery, StormResponse, StormRow, UserRow,
};
use chrono::{DateTime, Utc};
use earshot_core::brand::BrandConfig;

/// A store of either backend, implementing [`Store`] and [`Accounts`] by delegation.
#[derive(Debug)]
pub enum AnyStore {
    /// An embedded SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database (shared by many processes). Boxed: its client is several times larger.
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::PostgresStore>),
}

/// True when `target` is a PostgreSQL connection URL rather than a file path.
pub fn is_postgres_url(target: &str) -> bool {
    let lower = target.get(..13).unwrap_or(target).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A store target for messages and logs: a URL's password replaced by `***` (paths are returned as they are).
pub fn redact_url(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once("://") else { return target.to_string() };
    match rest.rfind('@').map(|at| rest.split_at(at)) {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{host}"),
            None => target.to_string(),
        },
        None => target.to_string(),
    }
}

/// Opens (creating and migrating as needed) the store `target` names: PostgreSQL for a `postgres://` or
/// `postgresql://` URL, else the SQLite file at that path.
pub fn open(target: &str) -> Result<AnyStore> {
    if is_postgres_url(target) {
        #[cfg(feature = "postgres")]
        return crate::PostgresStore::open(target).map(|s| AnyStore::Postgres(Box::new(s)));
        #[cfg(not(feature = "postgres"))]
        return Err(crate::StoreError::Unsupported(
            "this earshot was built without PostgreSQL support (cargo feature `postgres`)".into(),
        ));
    }
    SqliteStore::open(target).map(AnyStore::Sqlite)
}

impl AnyStore {
    /// The backend's name (`sqlite` or `postgres`), for messages.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(s: SqliteStore) -> Self {
        AnyStore::Sqlite(s)
    }
}

#[cfg(feature = "postgres")]
impl From<crate::PostgresStore> for AnyStore {
    fn from(s: crate::PostgresStore) -> Self {
        AnyStore::Postgres(Box::new(s))
    }
}

/// Calls the same method on whichever store is inside.
macro_rules! each {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl Store for AnyStore {
    fn commit(&mut self, batch: &Batch, now: DateTime<Utc>) -> Result<BatchOutcome> {
        each!(self, s => s.commit(batch, now))
    }
    fn upsert_brands(&mut self, brands: &[BrandConfig], now: DateTime<Utc>) -> Result<()> {
        each!(self, s => s.upsert_brands(brands, now))
    }
    fn brands(&self) -> Result<Vec<BrandConfig>> {
        each!(self, s => s.brands())
    }
    fn stats(&self) -> Result<Stats> {
        each!(self, s => s.stats())
    }
    fn posts(&self, query: &PostQuery) -> Result<Vec<StoredPost>> {
        each!(self, s => s.posts(query))
    }
    fn post(&self, platform: &str, native_id: &str) -> Result<Option<StoredPost>> {
        each!(self, s => s.post(platform, native_id))
    }
    fn rejects(&self, limit: usize) -> Result<Vec<StoredReject>> {
        each!(self, s => s.rejects(limit))
    }
    fn reanalyze(&mut self, batch: usize, analyze: &mut dyn FnMut(&StoredPost) -> AnalysisRow) -> Result<u64> {
        each!(self, s => s.reanalyze(batch, analyze))
    }
    fn posts_after(&self, after_id: i64, limit: usize) -> Result<Vec<StoredPost>> {
        each!(self, s => s.posts_after(after_id, limit))
    }
    fn threaded_through(&self) -> Result<i64> {
        each!(self, s => s.threaded_through())
    }
    fn write_cases(&mut self, write: &CaseWrite, now: DateTime<Utc>) -> Result<()> {
        each!(self, s => s.write_cases(write, now))
    }
    fn cases(&self, query: &CaseQuery) -> Result<Vec<CaseRow>> {
        each!(self, s => s.cases(query))
    }
    fn case(&self, id: i64) -> Result<Option<CaseRow>> {
        each!(self, s => s.case(id))
    }
    fn case_posts(&self, id: i64) -> Result<Vec<StoredPost>> {
        each!(self, s => s.case_posts(id))
    }
    fn case_events(&self, id: i64) -> Result<Vec<StoredCaseEvent>> {
        each!(self, s => s.case_events(id))
    }
    fn recent_cases(&self, since: DateTime<Utc>) -> Result<Vec<CaseRow>> {
        each!(self, s => s.recent_cases(since))
    }
    fn max_case_id(&self) -> Result<i64> {
        each!(self, s => s.max_case_id())
    }
    fn last_published(&self) -> Result<Option<DateTime<Utc>>> {
        each!(self, s => s.last_published())
    }
    fn cases_of_posts(&self, post_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        each!(self, s => s.cases_of_posts(post_ids))
    }
    fn storm_members(&self, storm_case: i64, limit: usize) -> Result<Vec<CaseRow>> {
        each!(self, s => s.storm_members(storm_case, limit))
    }
    fn storms(&self, query: &StormQuery) -> Result<Vec<StormRow>> {
        each!(self, s => s.storms(query))
    }
    fn storm(&self, id: &str) -> Result<Option<StormRow>> {
        each!(self, s => s.storm(id))
    }
    fn snapshot(&self, name: &str) -> Result<Option<Snapshot>> {
        each!(self, s => s.snapshot(name))
    }
    fn alerts(&self, brands: Option<&[String]>, storm_id: Option<&str>, limit: usize) -> Result<Vec<AlertRow>> {
        each!(self, s => s.alerts(brands, storm_id, limit))
    }
    fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertRow>> {
        each!(self, s => s.due_alerts(now, limit))
    }
    fn update_alert(&mut self, alert: &AlertRow) -> Result<()> {
        each!(self, s => s.update_alert(alert))
    }
    fn conversation_rows(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<ConversationRow>> {
        each!(self, s => s.conversation_rows(since, until))
    }
    fn remedy_counts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String, u64)>> {
        each!(self, s => s.remedy_counts(since, until))
    }
    fn report_state(&self) -> Result<Option<ReportState>> {
        each!(self, s => s.report_state())
    }
    fn report_new_rows(&self, after_id: i64, limit: usize) -> Result<Vec<(ConversationRow, Option<String>)>> {
        each!(self, s => s.report_new_rows(after_id, limit))
    }
    fn report_rows_by_native(
        &self,
        platform: &str,
        native_ids: &[String],
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        each!(self, s => s.report_rows_by_native(platform, native_ids))
    }
    fn report_children(&self, platform: &str, native_ids: &[String], max_id: i64) -> Result<Vec<(String, String)>> {
        each!(self, s => s.report_children(platform, native_ids, max_id))
    }
    fn report_threads(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        each!(self, s => s.report_threads(after, limit))
    }
    fn report_thread_rows(&self, threads: &[String]) -> Result<Vec<(String, ConversationRow)>> {
        each!(self, s => s.report_thread_rows(threads))
    }
    fn report_account_inputs(&self, min_customers: usize) -> Result<ReportAccountInputs> {
        each!(self, s => s.report_account_inputs(min_customers))
    }
    fn write_report(&mut self, write: &ReportWrite) -> Result<()> {
        each!(self, s => s.write_report(write))
    }
    fn report_lease(&mut self, holder: &str, now: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Result<bool> {
        each!(self, s => s.report_lease(holder, now, until))
    }
    fn report_facts(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<ReportFacts> {
        each!(self, s => s.report_facts(since, until))
    }
    fn storm_responses(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<StormResponse>> {
        each!(self, s => s.storm_responses(since, until))
    }
    fn source_state(&self, name: &str) -> Result<Option<SourceState>> {
        each!(self, s => s.source_state(name))
    }
    fn save_source_state(&mut self, state: &SourceState) -> Result<()> {
        each!(self, s => s.save_source_state(state))
    }
    fn source_states(&self) -> Result<Vec<SourceState>> {
        each!(self, s => s.source_states())
    }
}

impl Accounts for AnyStore {
    fn add_user(&mut self, user: &UserRow, now: DateTime<Utc>) -> Result<i64> {
        each!(self, s => s.add_user(user, now))
    }
    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        each!(self, s => s.user_by_name(name))
    }
    fn users(&self) -> Result<Vec<UserRow>> {
        each!(self, s => s.users())
    }
    fn add_token(&mut self, user_id: i64, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        each!(self, s => s.add_token(user_id, token_hash, now))
    }
    fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>> {
        each!(self, s => s.user_by_token(token_hash))
    }
    fn add_session(&mut self, id_hash: &str, user_id: i64, csrf: &str, expires_at: DateTime<Utc>) -> Result<()> {
        each!(self, s => s.add_session(id_hash, user_id, csrf, expires_at))
    }
    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>> {
        each!(self, s => s.session(id_hash, now))
    }
    fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        each!(self, s => s.delete_session(id_hash))
    }
}
