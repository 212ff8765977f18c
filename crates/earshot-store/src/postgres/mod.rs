//! The PostgreSQL store: the same contract as the SQLite store, for many processes sharing one database.
//!
//! - Migrations are versioned in `schema_migrations` and applied in one transaction under an advisory lock
//!   on the schema, so processes starting at once do not race; the schema named first in the connection's
//!   `search_path` (default `public`) is created when missing, so one database can hold several stores.
//! - A batch is copied into a temporary staging table with `COPY … FROM STDIN (FORMAT binary)` and moved
//!   into `posts` with one `INSERT … SELECT … ON CONFLICT DO NOTHING`: a post is stored once per
//!   `(platform, native_id)`, the first copy in a batch wins, and ids follow batch order.
//! - Commits of posts take a transaction-scoped advisory lock, so post ids become visible in increasing
//!   order and the threading watermark (`threaded_through`) never passes a post still being committed.
//! - Full-text search is a generated `tsvector` column (GIN index) queried with `websearch_to_tsquery`.
//! - Times are `TIMESTAMPTZ` written at millisecond precision, as SQLite stores them, so both backends
//!   return the same values.
//!
//! The sync `postgres` client needs `&mut` for every query while [`Store`]'s readers take `&self`, so the
//! connection sits behind a mutex (one connection per store, as with SQLite).

use crate::{
    Accounts, AlertRow, AnalysisRow, Batch, BatchOutcome, CaseEvent, CaseQuery, CaseRow, CaseWrite, ConversationRow,
    Doing, NewReject, PostQuery, ReportAccountInputs, ReportFacts, ReportState, ReportWrite, Result, SessionRow,
    Snapshot, SourceState, Stats, Store, StoreError, StoredCaseEvent, StoredPost, StoredReject, StormQuery,
    StormResponse, StormRow, UserRow,
};
use chrono::{DateTime, TimeZone, Utc};
use earshot_core::brand::{Attribution, BrandConfig, Via};
use earshot_core::decode::Position;
use earshot_core::{Author, Metrics, Platform, Post, PostKind};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls, Row};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

pub(crate) mod feed;
mod report;

/// Versioned migrations: (version, name, SQL). A version is never edited once released; add a new one.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "schema", include_str!("migrations/0001_schema.sql")),
    (2, "sources", include_str!("migrations/0002_sources.sql")),
    (3, "report_remedies", include_str!("migrations/0003_report_remedies.sql")),
    (4, "report_facts", include_str!("migrations/0004_report_facts.sql")),
];

/// The PostgreSQL store.
pub struct PostgresStore {
    client: Mutex<Client>,
    /// How to connect again when the connection drops (a server restart, a failover).
    config: postgres::Config,
    schema: Option<String>,
    target: String,
    /// Set once this connection holds a session lock ([`PostgresStore::try_lock`]): a lost connection is then
    /// an error ([`StoreError::SessionLost`]) instead of a silent reconnect, which would no longer hold it.
    pinned: bool,
    /// When set, [`Store::posts_after`] returns no post with a higher id (see [`PostgresStore::cap_posts_after`]).
    posts_cap: Option<i64>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("target", &self.target).finish_non_exhaustive()
    }
}

type Param<'a> = &'a (dyn ToSql + Sync);

/// Times are kept at millisecond precision, like the SQLite store, so both return the same values.
/// Adds `column >= since` and `column < until` (when given) to `conds` as numbered parameters, and returns the
/// parameters in order.
fn period_conds(
    column: &str,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    conds: &mut Vec<String>,
) -> Vec<DateTime<Utc>> {
    let mut args = Vec::new();
    for (t, op) in [(since, ">="), (until, "<")] {
        if let Some(t) = t {
            args.push(ms(t));
            conds.push(format!("{column} {op} ${}", args.len()));
        }
    }
    args
}

fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis()).single().unwrap_or(t)
}

/// PostgreSQL text cannot hold NUL; input text with one is kept with U+FFFD in its place (raw records are
/// stored as bytes, exactly).
fn clean(s: &str) -> Cow<'_, str> {
    if s.contains('\0') { Cow::Owned(s.replace('\0', "\u{FFFD}")) } else { Cow::Borrowed(s) }
}

fn clean_opt(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(clean)
}

fn json<T: serde::Serialize>(v: &T, what: &'static str) -> Result<String> {
    serde_json::to_string(v).map_err(|source| StoreError::Codec { what, source })
}

fn opt_json<T: serde::Serialize>(v: &[T], what: &'static str) -> Result<Option<String>> {
    if v.is_empty() { Ok(None) } else { json(&v, what).map(Some) }
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(v: Option<String>) -> T {
    v.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn parse_json_value(s: String) -> serde_json::Value {
    serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
}

/// What went wrong, in one line: the server's own words for a database error (with its detail and hint),
/// else the driver's message and its cause (`error communicating with the server: Connection refused`).
pub(crate) fn reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut out = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            out.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            out.push_str(&format!(" (hint: {hint})"));
        }
        return out;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// A SQL identifier, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/db[?options=...]`), creates
    /// the schema first in its `search_path` when missing, and migrates it to the latest version. Without a
    /// password in the URL, `PGPASSWORD` is used when set.
    pub fn open(url: &str) -> Result<PostgresStore> {
        Self::open_in(url, None)
    }

    /// Like [`PostgresStore::open`], in schema `schema` (created when missing) instead of the URL's
    /// `search_path`.
    pub fn open_in_schema(url: &str, schema: &str) -> Result<PostgresStore> {
        Self::open_in(url, Some(schema))
    }

    fn open_in(url: &str, schema: Option<&str>) -> Result<PostgresStore> {
        let target = crate::redact_url(url);
        let mut config: postgres::Config =
            url.parse().map_err(|error| StoreError::Connect { target: target.clone(), error })?;
        if config.get_password().is_none()
            && let Ok(password) = std::env::var("PGPASSWORD")
        {
            config.password(password);
        }
        if config.get_application_name().is_none() {
            config.application_name("earshot");
        }
        let schema = schema.map(str::to_string);
        let client = connect(&config, schema.as_deref(), &target, true)?;
        Ok(PostgresStore { client: Mutex::new(client), config, schema, target, pinned: false, posts_cap: None })
    }

    /// The schema version (the newest migration applied).
    pub fn schema_version(&self) -> Result<i32> {
        self.conn()?
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])
            .doing("reading the schema version")
            .map(|r| r.get(0))
    }

    /// The newest schema version this build knows.
    pub fn latest_version() -> i32 {
        MIGRATIONS.last().map_or(0, |m| m.0)
    }

    /// The URL it is connected to, without the password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Direct access for tests and tools in this workspace (the connection as it is, not re-opened).
    pub fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection, opened again first when it was lost: a request that fails because the server went
    /// away is an error, and the next one reconnects (a long-running `serve` survives a database restart).
    fn conn(&self) -> Result<MutexGuard<'_, Client>> {
        // A panic while holding the connection leaves no half-done transaction behind (the driver rolls an
        // unfinished one back), so a poisoned lock is safe to take over.
        let mut client = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if client.is_closed() {
            if self.pinned {
                return Err(StoreError::SessionLost { target: self.target.clone() });
            }
            *client = connect(&self.config, self.schema.as_deref(), &self.target, false)?;
        }
        Ok(client)
    }

    fn conn_mut(&mut self) -> Result<&mut Client> {
        let PostgresStore { client, config, schema, target, pinned, .. } = self;
        let client = client.get_mut().unwrap_or_else(|e| e.into_inner());
        if client.is_closed() {
            if *pinned {
                return Err(StoreError::SessionLost { target: target.clone() });
            }
            *client = connect(config, schema.as_deref(), target, false)?;
        }
        Ok(client)
    }

    /// Takes the session-level advisory lock `name` (scoped to this store's schema) when free; true when this
    /// connection holds it now. The lock lasts as long as the connection: the server releases it when the
    /// process dies or the connection drops, which is how `earshot worker` hands partitions and the case
    /// stage over. From then on the store no longer reconnects silently ([`StoreError::SessionLost`]).
    pub fn try_lock(&mut self, name: &str) -> Result<bool> {
        let held: bool = self
            .conn_mut()?
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended('earshot.lock.' || current_schema() || '.' || $1, 0))",
                &[&name],
            )
            .doing("taking an advisory lock")?
            .get(0);
        self.pinned |= held;
        Ok(held)
    }

    /// Releases a lock taken with [`PostgresStore::try_lock`] (false when this connection did not hold it).
    pub fn unlock(&mut self, name: &str) -> Result<bool> {
        Ok(self
            .conn_mut()?
            .query_one(
                "SELECT pg_advisory_unlock(hashtextextended('earshot.lock.' || current_schema() || '.' || $1, 0))",
                &[&name],
            )
            .doing("releasing an advisory lock")?
            .get(0))
    }

    /// How many of the locks `names` some connection holds now (e.g. live workers, one slot lock each).
    pub fn locks_held(&self, names: &[String]) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN unnest($1::text[]) AS n(name) \
                 ON l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database \
                 WHERE datname = current_database()) \
                 AND ((l.classid::bigint << 32) | l.objid::bigint) \
                   = hashtextextended('earshot.lock.' || current_schema() || '.' || n.name, 0)",
                &[&names],
            )
            .doing("counting advisory locks")?
            .get(0);
        Ok(n as u64)
    }

    /// Makes [`Store::posts_after`] return no post with an id above `cap` (`None`: no cap). A stream-fed
    /// store's ids are stream sequence numbers, committed out of order by several workers: the case stage
    /// threads only up to the sequence every partition has committed, so it never steps over a gap.
    pub fn cap_posts_after(&mut self, cap: Option<i64>) {
        self.posts_cap = cap;
    }

    /// The highest post id stored (0 when none). In a stream-fed store that is the newest committed stream
    /// sequence, so minus [`Store::threaded_through`] it bounds what the case stage still has to thread.
    pub fn max_post_id(&self) -> Result<i64> {
        self.conn()?
            .query_one("SELECT COALESCE(MAX(id), 0) FROM posts", &[])
            .doing("reading post ids")
            .map(|r| r.get(0))
    }

    /// Commits `batch` like [`Store::commit`], with post `i` stored under id `ids[i]` (the stream sequence
    /// number of its message) instead of the next free one. Any number of writers may do this at once; a
    /// batch committed twice (a redelivery) stores nothing the second time, since a post's id and content
    /// come from its message.
    pub fn commit_with_ids(&mut self, batch: &Batch, ids: &[i64], now: DateTime<Utc>) -> Result<BatchOutcome> {
        if ids.len() != batch.posts.len() {
            return Err(StoreError::Unsupported(format!(
                "commit_with_ids: {} ids for {} posts",
                ids.len(),
                batch.posts.len()
            )));
        }
        self.commit_posts(batch, now, Some(ids))
    }
}

/// Opens a connection in the store's schema (migrating it first when `migrate_schema`), with the staging table.
fn connect(config: &postgres::Config, schema: Option<&str>, target: &str, migrate_schema: bool) -> Result<Client> {
    let mut client =
        config.connect(NoTls).map_err(|error| StoreError::Connect { target: target.to_string(), error })?;
    if let Some(schema) = schema {
        client.batch_execute(&format!("SET search_path TO {}", ident(schema))).doing("choosing the schema")?;
    }
    if migrate_schema {
        migrate(&mut client)?;
    }
    // The batch's posts are copied here, then moved into `posts` in one statement (see `commit`).
    client
        .batch_execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS post_stage (ord BIGINT NOT NULL, platform TEXT, native_id TEXT, \
             url TEXT, author_id TEXT, author_handle TEXT, author_name TEXT, author_followers BIGINT, \
             author_url TEXT, author_care BOOLEAN, text TEXT, lang TEXT, published_at TIMESTAMPTZ, kind TEXT, \
             reply_to TEXT, reply_to_author TEXT, conversation_id TEXT, refs TEXT, mentions TEXT, hashtags TEXT, \
             links TEXT, media TEXT, metrics TEXT, brand_author TEXT, format TEXT, source TEXT, raw BYTEA) \
             ON COMMIT DELETE ROWS",
        )
        .doing("creating the staging table")?;
    Ok(client)
}

/// Brings the schema of the connection's `search_path` to the latest version, creating it when missing.
fn migrate(client: &mut Client) -> Result<()> {
    const DOING: &str = "migrating the schema";
    let mut tx = client.transaction().doing(DOING)?;
    let schema: String = match tx.query_one("SELECT current_schema()", &[]).doing(DOING)?.get::<_, Option<String>>(0) {
        Some(s) => s,
        None => {
            // The schema does not exist yet: the first entry of the search path names it.
            let path: String = tx.query_one("SHOW search_path", &[]).doing(DOING)?.get(0);
            let first = path.split(',').next().unwrap_or("public").trim().trim_matches('"').to_string();
            if first.is_empty() || first == "$user" {
                return Err(StoreError::Unsupported(format!(
                    "no schema to use: search_path is {path:?}; set one in the URL (options=-csearch_path%3DNAME)"
                )));
            }
            first
        }
    };
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('earshot.migrate.' || $1, 0))", &[&schema])
        .doing(DOING)?;
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&schema))).doing("creating the schema")?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .doing(DOING)?;
    let applied: Vec<i32> =
        tx.query("SELECT version FROM schema_migrations", &[]).doing(DOING)?.iter().map(|r| r.get(0)).collect();
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(newer) = applied.iter().copied().find(|v| *v > latest) {
        return Err(StoreError::Unsupported(format!(
            "database schema {schema} is at version {newer}, newer than this earshot knows ({latest}): upgrade earshot"
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql).map_err(|error| StoreError::Postgres { doing: DOING, error })?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[version, name]).doing(DOING)?;
    }
    tx.commit().doing(DOING)
}

const POST_COLUMNS: &str = "p.id, p.platform, p.native_id, p.url, p.author_id, p.author_handle, p.author_name, \
     p.author_followers, p.author_url, p.author_care, p.text, p.lang, p.published_at, p.ingested_at, p.kind, \
     p.reply_to, p.reply_to_author, p.conversation_id, p.refs, p.mentions, p.hashtags, p.links, p.media, \
     p.metrics, p.brand_author, p.format, p.raw, p.deleted_at, \
     (SELECT a.analysis FROM post_analysis a WHERE a.post_id = p.id)";

fn row_to_post(r: &Row) -> Result<StoredPost, postgres::Error> {
    let platform: String = r.try_get(1)?;
    let kind: String = r.try_get(14)?;
    let raw: Vec<u8> = r.try_get(26)?;
    let post = Post {
        platform: Platform::parse(&platform).unwrap_or(Platform::Other),
        native_id: r.try_get(2)?,
        url: r.try_get(3)?,
        author: Author {
            id: r.try_get(4)?,
            handle: r.try_get(5)?,
            display_name: r.try_get(6)?,
            followers: r.try_get::<_, Option<i64>>(7)?.map(|v| v.max(0) as u64),
            url: r.try_get(8)?,
            care_account: r.try_get(9)?,
        },
        text: r.try_get(10)?,
        lang: r.try_get(11)?,
        published_at: r.try_get(12)?,
        kind: match kind.as_str() {
            "reply" => PostKind::Reply,
            "repost" => PostKind::Repost,
            "quote" => PostKind::Quote,
            _ => PostKind::Original,
        },
        reply_to: r.try_get(15)?,
        reply_to_author: r.try_get(16)?,
        conversation_id: r.try_get(17)?,
        references: r.try_get(18)?,
        mentions: parse_json(r.try_get(19)?),
        hashtags: parse_json(r.try_get(20)?),
        links: parse_json(r.try_get(21)?),
        media: parse_json(r.try_get(22)?),
        metrics: parse_json::<Metrics>(r.try_get(23)?),
        format: r.try_get(25)?,
        raw: String::from_utf8(raw).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    };
    Ok(StoredPost {
        id: r.try_get(0)?,
        post,
        ingested_at: r.try_get(13)?,
        brands: Vec::new(),
        brand_author: r.try_get(24)?,
        deleted_at: r.try_get(27)?,
        analysis: r.try_get::<_, Option<String>>(28)?.and_then(|s| serde_json::from_str(&s).ok()),
    })
}

fn via_from(s: &str) -> Via {
    match s {
        "author" => Via::Author,
        "reply" => Via::Reply,
        "mention" => Via::Mention,
        _ => Via::Keyword,
    }
}

/// Runs a post query and fills in the posts' brands (one query for all of them).
fn read_posts(
    c: &mut impl GenericClient,
    sql: &str,
    args: &[Param<'_>],
    doing: &'static str,
) -> Result<Vec<StoredPost>> {
    let rows = c.query(sql, args).doing(doing)?;
    let mut posts = rows.iter().map(row_to_post).collect::<Result<Vec<_>, _>>().doing(doing)?;
    fill_brands(c, &mut posts)?;
    Ok(posts)
}

fn fill_brands(c: &mut impl GenericClient, posts: &mut [StoredPost]) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let rows = c
        .query(
            "SELECT post_id, brand, via FROM post_brands WHERE post_id = ANY($1) ORDER BY post_id, brand COLLATE \"C\"",
            &[&ids],
        )
        .doing("reading post brands")?;
    let mut by_post: HashMap<i64, Vec<Attribution>> = HashMap::new();
    for r in &rows {
        let via: String = r.get(2);
        by_post.entry(r.get(0)).or_default().push(Attribution { brand: r.get(1), via: via_from(&via) });
    }
    for p in posts {
        p.brands = by_post.remove(&p.id).unwrap_or_default();
    }
    Ok(())
}

/// Stores (or replaces) analyses, in one statement.
fn put_analyses(c: &mut impl GenericClient, rows: &[(i64, &AnalysisRow)]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let versions: Vec<&str> = rows.iter().map(|r| r.1.versions.as_str()).collect();
    let compound: Vec<f64> = rows.iter().map(|r| r.1.compound).collect();
    let sentiment: Vec<Option<&str>> = rows.iter().map(|r| r.1.sentiment.as_deref()).collect();
    let complaint: Vec<Option<f64>> = rows.iter().map(|r| r.1.complaint).collect();
    let severity: Vec<Option<i64>> = rows.iter().map(|r| r.1.severity).collect();
    let intent: Vec<Option<&str>> = rows.iter().map(|r| r.1.intent.as_deref()).collect();
    let issue: Vec<Option<&str>> = rows.iter().map(|r| r.1.issue.as_deref()).collect();
    let priority: Vec<i64> = rows.iter().map(|r| r.1.priority).collect();
    let analysis: Vec<&str> = rows.iter().map(|r| r.1.json.as_str()).collect();
    c.execute(
        "INSERT INTO post_analysis (post_id, versions, compound, sentiment, complaint, severity, intent, issue, \
         priority, analysis) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::float8[], $6::bigint[], \
         $7::text[], $8::text[], $9::bigint[], $10::text[]) \
         ON CONFLICT (post_id) DO UPDATE SET versions = excluded.versions, compound = excluded.compound, \
         sentiment = excluded.sentiment, complaint = excluded.complaint, severity = excluded.severity, \
         intent = excluded.intent, issue = excluded.issue, priority = excluded.priority, analysis = excluded.analysis",
        &[&ids, &versions, &compound, &sentiment, &complaint, &severity, &intent, &issue, &priority, &analysis],
    )
    .doing("storing analyses")?;
    Ok(())
}

/// The columns of `post_stage` that `COPY` fills, in order, with their types.
const STAGE_COLUMNS: &str = "ord, platform, native_id, url, author_id, author_handle, author_name, author_followers, \
     author_url, author_care, text, lang, published_at, kind, reply_to, reply_to_author, conversation_id, refs, \
     mentions, hashtags, links, media, metrics, brand_author, format, source, raw";

const STAGE_TYPES: &[Type] = &[
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::BOOL,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BYTEA,
];

impl PostgresStore {
    /// [`Store::commit`], with the posts' ids given (`ids`, same order) or assigned in commit order.
    fn commit_posts(&mut self, batch: &Batch, now: DateTime<Utc>, ids: Option<&[i64]>) -> Result<BatchOutcome> {
        let now = ms(now);
        let mut out = BatchOutcome::default();
        let client = self.conn_mut()?;
        let mut tx = client.transaction().doing("starting a transaction")?;
        if !batch.posts.is_empty() {
            // Committers of posts take turns, so ids become visible in increasing order (see the module doc).
            // Given ids do not depend on commit order: those writers commit side by side.
            if ids.is_none() {
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('earshot.posts.' || current_schema(), 0))",
                    &[],
                )
                .doing("waiting for other writers")?;
            }
            {
                let sink = tx
                    .copy_in(&format!("COPY post_stage ({STAGE_COLUMNS}) FROM STDIN (FORMAT binary)"))
                    .doing("staging posts")?;
                let mut writer = BinaryCopyInWriter::new(sink, STAGE_TYPES);
                for (ord, np) in batch.posts.iter().enumerate() {
                    let p = &np.post;
                    let metrics = if p.metrics.is_empty() { None } else { Some(json(&p.metrics, "metrics")?) };
                    let ord = ids.map_or(ord as i64, |ids| ids[ord]);
                    let row: [Param<'_>; 27] = [
                        &ord,
                        &p.platform.as_str(),
                        &clean(&p.native_id),
                        &clean_opt(&p.url),
                        &clean_opt(&p.author.id),
                        &clean(&p.author.handle),
                        &clean_opt(&p.author.display_name),
                        &p.author.followers.map(|f| f.min(i64::MAX as u64) as i64),
                        &clean_opt(&p.author.url),
                        &p.author.care_account,
                        &clean(&p.text),
                        &clean_opt(&p.lang),
                        &ms(p.published_at),
                        &p.kind.as_str(),
                        &clean_opt(&p.reply_to),
                        &clean_opt(&p.reply_to_author),
                        &clean_opt(&p.conversation_id),
                        &clean_opt(&p.references),
                        &opt_json(&p.mentions, "mentions")?,
                        &opt_json(&p.hashtags, "hashtags")?,
                        &opt_json(&p.links, "links")?,
                        &opt_json(&p.media, "media")?,
                        &metrics,
                        &clean_opt(&np.brand_author),
                        &clean(&p.format),
                        &clean(&np.source),
                        &p.raw.as_bytes(),
                    ];
                    writer.write(&row).doing("staging posts")?;
                }
                writer.finish().doing("staging posts")?;
            }
            // The first copy of each post in the batch, in batch order; a post stored before is left as it is.
            // With given ids, `ord` is the id (and still the order).
            let (id_column, id_value, overriding) =
                if ids.is_some() { ("id, ", "s.ord, ", "OVERRIDING SYSTEM VALUE ") } else { ("", "", "") };
            let inserted = tx
                .query(
                    &format!(
                    "INSERT INTO posts ({id_column}platform, native_id, url, author_id, author_handle, author_name, \
                     author_followers, author_url, author_care, text, lang, published_at, ingested_at, kind, \
                     reply_to, reply_to_author, conversation_id, refs, mentions, hashtags, links, media, metrics, \
                     brand_author, format, source, raw, deleted_at) {overriding}\
                     SELECT {id_value}s.platform, s.native_id, s.url, s.author_id, s.author_handle, s.author_name, \
                     s.author_followers, s.author_url, s.author_care, s.text, s.lang, s.published_at, $1, s.kind, \
                     s.reply_to, s.reply_to_author, s.conversation_id, s.refs, s.mentions, s.hashtags, s.links, \
                     s.media, s.metrics, s.brand_author, s.format, s.source, s.raw, \
                     (SELECT d.deleted_at FROM deletions d WHERE d.platform = s.platform AND d.native_id = s.native_id) \
                     FROM (SELECT DISTINCT ON (platform, native_id) * FROM post_stage \
                           ORDER BY platform, native_id, ord) s \
                     ORDER BY s.ord \
                     ON CONFLICT (platform, native_id) DO NOTHING \
                     RETURNING id, platform, native_id"),
                    &[&now],
                )
                .doing("inserting posts")?;
            out.stored = inserted.len() as u64;
            out.duplicates = batch.posts.len() as u64 - out.stored;
            let mut new_ids: HashMap<(String, String), i64> =
                inserted.iter().map(|r| ((r.get(1), r.get(2)), r.get(0))).collect();
            let (mut b_brand, mut b_post, mut b_via) = (Vec::new(), Vec::new(), Vec::new());
            let mut analyses = Vec::new();
            for np in &batch.posts {
                if new_ids.is_empty() {
                    break;
                }
                let key = (np.post.platform.as_str().to_string(), clean(&np.post.native_id).into_owned());
                let Some(id) = new_ids.remove(&key) else { continue };
                for a in &np.brands {
                    b_brand.push(clean(&a.brand));
                    b_post.push(id);
                    b_via.push(a.via.as_str());
                }
                if let Some(a) = &np.analysis {
                    analyses.push((id, a));
                }
            }
            if !b_post.is_empty() {
                tx.execute(
                    "INSERT INTO post_brands (brand, post_id, via) \
                     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
                    &[&b_brand, &b_post, &b_via],
                )
                .doing("linking posts to brands")?;
            }
            put_analyses(&mut tx, &analyses)?;
        }
        if !batch.deletions.is_empty() {
            let platform: Vec<&str> = batch.deletions.iter().map(|(d, _)| d.platform.as_str()).collect();
            let native: Vec<Cow<'_, str>> = batch.deletions.iter().map(|(d, _)| clean(&d.native_id)).collect();
            let at: Vec<Option<DateTime<Utc>>> = batch.deletions.iter().map(|(d, _)| d.deleted_at.map(ms)).collect();
            let source: Vec<Cow<'_, str>> = batch.deletions.iter().map(|(_, s)| clean(s)).collect();
            let raw: Vec<&[u8]> = batch.deletions.iter().map(|(d, _)| d.raw.as_bytes()).collect();
            // The first notice of a post counts (as in the SQLite store, which applies them in order).
            tx.execute(
                "WITH d AS (SELECT DISTINCT ON (platform, native_id) * \
                   FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bytea[]) \
                   WITH ORDINALITY AS u(platform, native_id, deleted_at, source, raw, ord) \
                   ORDER BY platform, native_id, ord), \
                 ins AS (INSERT INTO deletions (platform, native_id, deleted_at, source, raw) \
                   SELECT platform, native_id, deleted_at, source, raw FROM d ORDER BY ord \
                   ON CONFLICT (platform, native_id) DO NOTHING) \
                 UPDATE posts p SET deleted_at = COALESCE(d.deleted_at, $6) FROM d \
                 WHERE p.platform = d.platform AND p.native_id = d.native_id AND p.deleted_at IS NULL",
                &[&platform, &native, &at, &source, &raw, &now],
            )
            .doing("recording deletions")?;
            out.deletions = batch.deletions.len() as u64;
        }
        if !batch.rejects.is_empty() {
            let rs = &batch.rejects;
            let source: Vec<Cow<'_, str>> = rs.iter().map(|r| clean(&r.source)).collect();
            let line: Vec<i64> = rs.iter().map(|r| r.position.line as i64).collect();
            let byte: Vec<i64> = rs.iter().map(|r| r.position.byte as i64).collect();
            let record: Vec<i64> = rs.iter().map(|r| r.position.record as i64).collect();
            let within: Vec<Cow<'_, str>> = rs.iter().map(|r| clean(r.within.as_deref().unwrap_or(""))).collect();
            let format: Vec<Cow<'_, str>> = rs.iter().map(|r| clean(&r.format)).collect();
            let reason: Vec<Cow<'_, str>> = rs.iter().map(|r| clean(&r.reason)).collect();
            let raw: Vec<&[u8]> = rs.iter().map(|r| r.raw.as_slice()).collect();
            out.rejects_new = tx
                .execute(
                    "INSERT INTO rejects (source, line, byte, record, within, format, reason, raw, rejected_at) \
                     SELECT source, line, byte, record, within, format, reason, raw, $9 \
                     FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], \
                     $7::text[], $8::bytea[]) WITH ORDINALITY \
                     AS u(source, line, byte, record, within, format, reason, raw, ord) \
                     ORDER BY ord ON CONFLICT DO NOTHING",
                    &[&source, &line, &byte, &record, &within, &format, &reason, &raw, &now],
                )
                .doing("recording rejects")?;
        }
        if out.stored > 0 || out.deletions > 0 {
            feed::notify(&mut tx, crate::Change::Posts)?;
        }
        tx.commit().doing("committing a batch")?;
        Ok(out)
    }
}

impl Store for PostgresStore {
    fn commit(&mut self, batch: &Batch, now: DateTime<Utc>) -> Result<BatchOutcome> {
        self.commit_posts(batch, now, None)
    }

    fn upsert_brands(&mut self, brands: &[BrandConfig], now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.conn_mut()?.transaction().doing("starting a transaction")?;
        let stmt = tx
            .prepare(
                "INSERT INTO brands (name, config, discovered, updated_at) VALUES ($1, $2, false, $3) \
                 ON CONFLICT (name) DO UPDATE SET config = excluded.config, discovered = false, \
                 updated_at = excluded.updated_at",
            )
            .doing("preparing brand upsert")?;
        for b in brands {
            tx.execute(&stmt, &[&clean(&b.name), &json(b, "brand config")?, &ms(now)]).doing("recording a brand")?;
        }
        tx.commit().doing("committing brands")
    }

    fn brands(&self) -> Result<Vec<BrandConfig>> {
        let rows = self
            .conn()?
            .query("SELECT config FROM brands ORDER BY lower(name) COLLATE \"C\", name COLLATE \"C\"", &[])
            .doing("reading brands")?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(|source| StoreError::Codec { what: "brand config", source })
            })
            .collect()
    }

    fn stats(&self) -> Result<Stats> {
        let mut c = self.conn()?;
        let mut count = |sql: &str| -> Result<u64> {
            c.query_one(sql, &[]).doing("counting").map(|r| r.get::<_, i64>(0).max(0) as u64)
        };
        let posts = count("SELECT COUNT(*) FROM posts")?;
        let rejects = count("SELECT COUNT(*) FROM rejects")?;
        let brands = count("SELECT COUNT(*) FROM brands")?;
        let deletions = count("SELECT COUNT(*) FROM deletions")?;
        let analyzed = count("SELECT COUNT(*) FROM post_analysis")?;
        let replies_linked = count(
            "SELECT COUNT(*) FROM posts c WHERE c.reply_to IS NOT NULL AND EXISTS \
             (SELECT 1 FROM posts p WHERE p.platform = c.platform AND p.native_id = c.reply_to)",
        )?;
        let cases = count("SELECT COUNT(*) FROM cases")?;
        let mut group = |sql: &str| -> Result<BTreeMap<String, u64>> {
            let rows = c.query(sql, &[]).doing("counting")?;
            Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1).max(0) as u64)).collect())
        };
        let by_platform = group("SELECT platform, COUNT(*) FROM posts GROUP BY platform")?;
        let by_format = group("SELECT format, COUNT(*) FROM posts GROUP BY format")?;
        let by_brand = group("SELECT brand, COUNT(*) FROM post_brands GROUP BY brand")?;
        let cases_by_status = group("SELECT status, COUNT(*) FROM cases GROUP BY status")?;
        let range =
            c.query_one("SELECT MIN(published_at), MAX(published_at) FROM posts", &[]).doing("reading time range")?;
        Ok(Stats {
            posts,
            rejects,
            brands,
            deletions,
            replies_linked,
            analyzed,
            by_platform,
            by_format,
            by_brand,
            first_published: range.get(0),
            last_published: range.get(1),
            cases,
            cases_by_status,
        })
    }

    fn posts(&self, q: &PostQuery) -> Result<Vec<StoredPost>> {
        let mut sql = format!("SELECT {POST_COLUMNS} FROM posts p");
        let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        let mut conds = Vec::new();
        // Like the SQLite store: input without a single word is no filter (not "match nothing").
        if let Some(search) = q.search.as_deref().filter(|s| s.chars().any(char::is_alphanumeric)) {
            args.push(Box::new(clean(search).into_owned()));
            conds.push(format!("p.search @@ websearch_to_tsquery('simple', ${})", args.len()));
        }
        if let Some(brand) = &q.brand {
            args.push(Box::new(clean(brand).into_owned()));
            conds.push(format!(
                "EXISTS (SELECT 1 FROM post_brands b WHERE b.post_id = p.id AND b.brand = ${} COLLATE nocase)",
                args.len()
            ));
        }
        if let Some(platform) = &q.platform {
            args.push(Box::new(clean(platform).into_owned()));
            conds.push(format!("p.platform = ${}", args.len()));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY p.published_at DESC, p.id DESC LIMIT {}", q.limit.max(1)));
        let params: Vec<Param<'_>> = args.iter().map(|b| b.as_ref() as Param<'_>).collect();
        read_posts(&mut *self.conn()?, &sql, &params, "querying posts")
    }

    fn post(&self, platform: &str, native_id: &str) -> Result<Option<StoredPost>> {
        let sql = format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.platform = $1 AND p.native_id = $2");
        Ok(read_posts(&mut *self.conn()?, &sql, &[&clean(platform), &clean(native_id)], "reading a post")?.pop())
    }

    fn rejects(&self, limit: usize) -> Result<Vec<StoredReject>> {
        const DOING: &str = "reading rejects";
        let rows = self
            .conn()?
            .query(
                "SELECT id, source, line, byte, record, within, format, reason, raw, rejected_at \
                 FROM rejects ORDER BY id DESC LIMIT $1",
                &[&(limit.max(1) as i64)],
            )
            .doing(DOING)?;
        rows.iter()
            .map(|r| -> Result<StoredReject, postgres::Error> {
                let within: String = r.try_get(5)?;
                Ok(StoredReject {
                    id: r.try_get(0)?,
                    reject: NewReject {
                        source: r.try_get(1)?,
                        position: Position {
                            line: r.try_get::<_, i64>(2)? as u64,
                            byte: r.try_get::<_, i64>(3)? as u64,
                            record: r.try_get::<_, i64>(4)? as u64,
                        },
                        within: if within.is_empty() { None } else { Some(within) },
                        format: r.try_get(6)?,
                        reason: r.try_get(7)?,
                        raw: r.try_get(8)?,
                    },
                    rejected_at: r.try_get(9)?,
                })
            })
            .collect::<Result<_, _>>()
            .doing(DOING)
    }

    fn reanalyze(&mut self, batch: usize, analyze: &mut dyn FnMut(&StoredPost) -> AnalysisRow) -> Result<u64> {
        let mut last = 0i64;
        let mut done = 0u64;
        let sql = format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.id > $1 ORDER BY p.id LIMIT $2");
        let client = self.conn_mut()?;
        loop {
            let posts = read_posts(client, &sql, &[&last, &(batch.max(1) as i64)], "reading posts to re-analyze")?;
            let Some(tail) = posts.last() else { break };
            last = tail.id;
            let rows: Vec<(i64, AnalysisRow)> = posts.iter().map(|p| (p.id, analyze(p))).collect();
            let refs: Vec<(i64, &AnalysisRow)> = rows.iter().map(|(id, a)| (*id, a)).collect();
            let mut tx = client.transaction().doing("starting a transaction")?;
            put_analyses(&mut tx, &refs)?;
            tx.commit().doing("committing re-analysis")?;
            done += posts.len() as u64;
        }
        Ok(done)
    }

    fn posts_after(&self, after_id: i64, limit: usize) -> Result<Vec<StoredPost>> {
        let sql = format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.id > $1 AND p.id <= $3 ORDER BY p.id LIMIT $2");
        let cap = self.posts_cap.unwrap_or(i64::MAX);
        read_posts(&mut *self.conn()?, &sql, &[&after_id, &(limit.max(1) as i64), &cap], "reading new posts")
    }

    fn threaded_through(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_opt("SELECT value FROM pipeline_state WHERE name = 'threaded_through'", &[])
            .doing("reading threading progress")?
            .map_or(0, |r| r.get(0)))
    }

    fn write_cases(&mut self, w: &CaseWrite, now: DateTime<Utc>) -> Result<()> {
        let now = ms(now);
        let mut tx = self.conn_mut()?.transaction().doing("starting a transaction")?;
        if !w.cases.is_empty() {
            // A case written twice in one write ends as its last version (one upsert may not touch a row twice).
            let mut last: HashMap<i64, usize> = HashMap::new();
            for (i, c) in w.cases.iter().enumerate() {
                last.insert(c.id, i);
            }
            let cases: Vec<&CaseRow> =
                w.cases.iter().enumerate().filter(|(i, c)| last[&c.id] == *i).map(|(_, c)| c).collect();
            let col_s = |f: fn(&CaseRow) -> &str| cases.iter().map(|c| clean(f(c))).collect::<Vec<_>>();
            let col_o = |f: fn(&CaseRow) -> &Option<String>| cases.iter().map(|c| clean_opt(f(c))).collect::<Vec<_>>();
            let col_t =
                |f: fn(&CaseRow) -> Option<DateTime<Utc>>| cases.iter().map(|c| f(c).map(ms)).collect::<Vec<_>>();
            let id: Vec<i64> = cases.iter().map(|c| c.id).collect();
            let priority: Vec<i64> = cases.iter().map(|c| c.priority).collect();
            let merged: Vec<Option<i64>> = cases.iter().map(|c| c.merged_into).collect();
            let data: Vec<String> = cases.iter().map(|c| json(&c.data, "case")).collect::<Result<_>>()?;
            tx.execute(
                // An upsert that keeps `storm_case` (written by storm detection only) as stored.
                "INSERT INTO cases (id, brand, customer, platform, kind, status, assignee, priority, issue, sentiment, \
                 opened_at, last_activity_at, first_response_at, resolved_at, due_at, sla_state, merged_into, data, \
                 updated_at) \
                 SELECT u.*, $19 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                 $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::timestamptz[], \
                 $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::text[], \
                 $17::bigint[], $18::text[]) AS u \
                 ON CONFLICT (id) DO UPDATE SET brand = excluded.brand, customer = excluded.customer, \
                 platform = excluded.platform, kind = excluded.kind, status = excluded.status, \
                 assignee = excluded.assignee, priority = excluded.priority, issue = excluded.issue, \
                 sentiment = excluded.sentiment, opened_at = excluded.opened_at, \
                 last_activity_at = excluded.last_activity_at, first_response_at = excluded.first_response_at, \
                 resolved_at = excluded.resolved_at, due_at = excluded.due_at, sla_state = excluded.sla_state, \
                 merged_into = excluded.merged_into, data = excluded.data, updated_at = excluded.updated_at",
                &[
                    &id,
                    &col_s(|c| c.brand.as_str()),
                    &col_s(|c| c.customer.as_str()),
                    &col_s(|c| c.platform.as_str()),
                    &col_s(|c| c.kind.as_str()),
                    &col_s(|c| c.status.as_str()),
                    &col_o(|c| &c.assignee),
                    &priority,
                    &col_o(|c| &c.issue),
                    &col_o(|c| &c.sentiment),
                    &col_t(|c| Some(c.opened_at)),
                    &col_t(|c| Some(c.last_activity_at)),
                    &col_t(|c| c.first_response_at),
                    &col_t(|c| c.resolved_at),
                    &col_t(|c| c.due_at),
                    &col_o(|c| &c.sla_state),
                    &merged,
                    &data,
                    &now,
                ],
            )
            .doing("storing cases")?;
            // A merged case's posts belong to the case it was merged into: the inbox shows one thread.
            for c in w.cases.iter().filter(|c| c.merged_into.is_some()) {
                tx.execute("UPDATE case_posts SET case_id = $2 WHERE case_id = $1", &[&c.id, &c.merged_into])
                    .doing("moving a merged case's posts")?;
            }
        }
        if !w.links.is_empty() {
            let post: Vec<i64> = w.links.iter().map(|l| l.post_id).collect();
            let case: Vec<i64> = w.links.iter().map(|l| l.case_id).collect();
            let role: Vec<&str> = w.links.iter().map(|l| l.role.as_str()).collect();
            let rule: Vec<&str> = w.links.iter().map(|l| l.rule.as_str()).collect();
            // A post already linked keeps its case; within one write, the first link wins.
            tx.execute(
                "INSERT INTO case_posts (post_id, case_id, role, rule) \
                 SELECT post_id, case_id, role, rule FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) \
                 WITH ORDINALITY AS u(post_id, case_id, role, rule, ord) ORDER BY ord ON CONFLICT DO NOTHING",
                &[&post, &case, &role, &rule],
            )
            .doing("linking posts to their cases")?;
        }
        if !w.events.is_empty() {
            let case: Vec<i64> = w.events.iter().map(|e| e.case_id).collect();
            let at: Vec<DateTime<Utc>> = w.events.iter().map(|e| ms(e.at)).collect();
            let kind: Vec<&str> = w.events.iter().map(|e| e.kind.as_str()).collect();
            let actor: Vec<Option<Cow<'_, str>>> = w.events.iter().map(|e| clean_opt(&e.actor)).collect();
            let data: Vec<String> = w.events.iter().map(|e| json(&e.data, "case event")).collect::<Result<_>>()?;
            tx.execute(
                "INSERT INTO case_events (case_id, at, kind, actor, data) \
                 SELECT case_id, at, kind, actor, data FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], \
                 $4::text[], $5::text[]) WITH ORDINALITY AS u(case_id, at, kind, actor, data, ord) ORDER BY ord",
                &[&case, &at, &kind, &actor, &data],
            )
            .doing("recording case events")?;
        }
        for (member, storm_case) in &w.storm_members {
            tx.execute("UPDATE cases SET storm_case = $2 WHERE id = $1 AND id <> $2", &[member, storm_case])
                .doing("recording storm membership")?;
        }
        for st in &w.storms {
            tx.execute(
                "INSERT INTO storms (id, brand, kind, facet, key, status, started_at, detected_at, last_post_at, \
                 closed_at, posts, authors, case_id, data, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (id) DO UPDATE SET brand = excluded.brand, kind = excluded.kind, facet = excluded.facet, \
                 key = excluded.key, status = excluded.status, started_at = excluded.started_at, \
                 detected_at = excluded.detected_at, last_post_at = excluded.last_post_at, \
                 closed_at = excluded.closed_at, posts = excluded.posts, authors = excluded.authors, \
                 case_id = excluded.case_id, data = excluded.data, updated_at = excluded.updated_at",
                &[
                    &st.id,
                    &clean(&st.brand),
                    &st.kind,
                    &st.facet,
                    &clean(&st.key),
                    &st.status,
                    &ms(st.started_at),
                    &ms(st.detected_at),
                    &ms(st.last_post_at),
                    &st.closed_at.map(ms),
                    &st.posts,
                    &st.authors,
                    &st.case_id,
                    &json(&st.data, "storm")?,
                    &now,
                ],
            )
            .doing("recording a storm")?;
        }
        for a in &w.alerts {
            tx.execute(
                "INSERT INTO alerts (id, storm_id, brand, event, webhook, state, attempts, created_at, next_at, \
                 sent_at, last_error, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &a.id,
                    &a.storm_id,
                    &clean(&a.brand),
                    &a.event,
                    &a.webhook,
                    &a.state,
                    &a.attempts,
                    &ms(a.created_at),
                    &a.next_at.map(ms),
                    &a.sent_at.map(ms),
                    &clean_opt(&a.last_error),
                    &json(&a.data, "alert")?,
                ],
            )
            .doing("queueing an alert")?;
        }
        if let Some(snap) = &w.snapshot {
            tx.execute(
                "INSERT INTO pipeline_snapshots (name, through, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET through = excluded.through, data = excluded.data",
                &[&snap.name, &snap.through, &snap.data],
            )
            .doing("saving streaming state")?;
        }
        if let Some(t) = w.threaded_through {
            tx.execute(
                "INSERT INTO pipeline_state (name, value) VALUES ('threaded_through', $1) \
                 ON CONFLICT (name) DO UPDATE SET value = GREATEST(pipeline_state.value, excluded.value)",
                &[&t],
            )
            .doing("recording threading progress")?;
        }
        if !(w.cases.is_empty() && w.events.is_empty() && w.storms.is_empty() && w.storm_members.is_empty()) {
            // Sent on commit, to `earshot serve` instances listening (see `crate::feed`).
            feed::notify(&mut tx, crate::Change::Cases)?;
        }
        tx.commit().doing("committing cases")
    }

    fn cases(&self, q: &CaseQuery) -> Result<Vec<CaseRow>> {
        let Some((sql, args)) = case_list_sql(q) else { return Ok(Vec::new()) };
        let params: Vec<Param<'_>> = args.iter().map(|b| b.as_ref() as Param<'_>).collect();
        read_cases(&mut *self.conn()?, &sql, &params, "listing cases")
    }

    fn case(&self, id: i64) -> Result<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.id = $1");
        Ok(read_cases(&mut *self.conn()?, &sql, &[&id], "reading a case")?.pop())
    }

    fn case_posts(&self, id: i64) -> Result<Vec<StoredPost>> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM case_posts cp JOIN posts p ON p.id = cp.post_id \
             WHERE cp.case_id = $1 ORDER BY p.published_at, p.id"
        );
        read_posts(&mut *self.conn()?, &sql, &[&id], "reading a case's posts")
    }

    fn case_events(&self, id: i64) -> Result<Vec<StoredCaseEvent>> {
        const DOING: &str = "reading case events";
        let rows = self
            .conn()?
            .query("SELECT id, case_id, at, kind, actor, data FROM case_events WHERE case_id = $1 ORDER BY id", &[&id])
            .doing(DOING)?;
        rows.iter()
            .map(|r| -> Result<StoredCaseEvent, postgres::Error> {
                Ok(StoredCaseEvent {
                    id: r.try_get(0)?,
                    event: CaseEvent {
                        case_id: r.try_get(1)?,
                        at: r.try_get(2)?,
                        kind: r.try_get(3)?,
                        actor: r.try_get(4)?,
                        data: parse_json_value(r.try_get(5)?),
                    },
                })
            })
            .collect::<Result<_, _>>()
            .doing(DOING)
    }

    fn recent_cases(&self, since: DateTime<Utc>) -> Result<Vec<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.last_activity_at >= $1 ORDER BY c.id");
        read_cases(&mut *self.conn()?, &sql, &[&ms(since)], "reading recent cases")
    }

    fn max_case_id(&self) -> Result<i64> {
        self.conn()?
            .query_one("SELECT COALESCE(MAX(id), 0) FROM cases", &[])
            .doing("reading case ids")
            .map(|r| r.get(0))
    }

    fn last_published(&self) -> Result<Option<DateTime<Utc>>> {
        self.conn()?
            .query_one("SELECT MAX(published_at) FROM posts", &[])
            .doing("reading the newest post time")
            .map(|r| r.get(0))
    }

    fn cases_of_posts(&self, post_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        if post_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .conn()?
            .query(
                "SELECT cp.post_id, cp.case_id FROM unnest($1::bigint[]) WITH ORDINALITY AS u(post_id, ord) \
                 JOIN case_posts cp ON cp.post_id = u.post_id ORDER BY u.ord",
                &[&post_ids],
            )
            .doing("finding posts' cases")?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn storm_members(&self, storm_case: i64, limit: usize) -> Result<Vec<CaseRow>> {
        let sql =
            format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.storm_case = $1 ORDER BY c.opened_at, c.id LIMIT $2");
        read_cases(&mut *self.conn()?, &sql, &[&storm_case, &(limit as i64)], "listing a storm's cases")
    }

    fn storms(&self, q: &StormQuery) -> Result<Vec<StormRow>> {
        let mut conds = vec!["true".to_string()];
        let mut args: Vec<String> = Vec::new();
        if !in_scope(q.brands.as_deref(), &mut conds, &mut args) {
            return Ok(Vec::new());
        }
        if let Some(b) = &q.brand {
            args.push(clean(b).into_owned());
            conds.push(format!("brand = ${}", args.len()));
        }
        if q.open_only {
            conds.push("status = 'open'".into());
        }
        let sql = format!(
            "SELECT {STORM_COLUMNS} FROM storms WHERE {} ORDER BY detected_at DESC, id COLLATE \"C\" LIMIT {}",
            conds.join(" AND "),
            q.limit.unwrap_or(100).min(10_000)
        );
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let rows = self.conn()?.query(&sql, &params).doing("listing storms")?;
        rows.iter().map(row_to_storm).collect::<Result<_, _>>().doing("listing storms")
    }

    fn storm(&self, id: &str) -> Result<Option<StormRow>> {
        let sql = format!("SELECT {STORM_COLUMNS} FROM storms WHERE id = $1");
        let row = self.conn()?.query_opt(&sql, &[&id]).doing("reading a storm")?;
        row.as_ref().map(row_to_storm).transpose().doing("reading a storm")
    }

    fn snapshot(&self, name: &str) -> Result<Option<Snapshot>> {
        let row = self
            .conn()?
            .query_opt("SELECT name, through, data FROM pipeline_snapshots WHERE name = $1", &[&name])
            .doing("reading streaming state")?;
        Ok(row.map(|r| Snapshot { name: r.get(0), through: r.get(1), data: r.get(2) }))
    }

    fn alerts(&self, brands: Option<&[String]>, storm_id: Option<&str>, limit: usize) -> Result<Vec<AlertRow>> {
        let mut conds = vec!["true".to_string()];
        let mut args: Vec<String> = Vec::new();
        if !in_scope(brands, &mut conds, &mut args) {
            return Ok(Vec::new());
        }
        if let Some(id) = storm_id {
            args.push(id.to_string());
            conds.push(format!("storm_id = ${}", args.len()));
        }
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE {} ORDER BY created_at DESC, id COLLATE \"C\" LIMIT {}",
            conds.join(" AND "),
            limit.min(10_000)
        );
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let rows = self.conn()?.query(&sql, &params).doing("listing alerts")?;
        rows.iter().map(row_to_alert).collect::<Result<_, _>>().doing("listing alerts")
    }

    fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertRow>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE state = 'pending' AND (next_at IS NULL OR next_at <= $1) \
             ORDER BY created_at, id COLLATE \"C\" LIMIT $2"
        );
        let rows = self.conn()?.query(&sql, &[&ms(now), &(limit as i64)]).doing("reading due alerts")?;
        rows.iter().map(row_to_alert).collect::<Result<_, _>>().doing("reading due alerts")
    }

    fn update_alert(&mut self, a: &AlertRow) -> Result<()> {
        self.conn_mut()?
            .execute(
                "UPDATE alerts SET state = $2, attempts = $3, next_at = $4, sent_at = $5, last_error = $6 WHERE id = $1",
                &[&a.id, &a.state, &a.attempts, &a.next_at.map(ms), &a.sent_at.map(ms), &clean_opt(&a.last_error)],
            )
            .doing("recording an alert delivery")?;
        Ok(())
    }

    fn conversation_rows(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<ConversationRow>> {
        const DOING: &str = "reading posts for a report";
        let mut conds = vec!["true".to_string()];
        let args = period_conds("p.published_at", since, until, &mut conds);
        // Signals are found by substring in the compact analysis JSON (no per-row JSON parse), as in SQLite.
        let sql = format!(
            "SELECT {} FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id \
             WHERE {} ORDER BY p.published_at, p.id",
            report::CONVERSATION,
            conds.join(" AND ")
        );
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let rows = self.conn()?.query(&sql, &params).doing(DOING)?;
        rows.iter().map(report::conversation).collect::<Result<_, _>>().doing(DOING)
    }

    fn report_state(&self) -> Result<Option<ReportState>> {
        self.report_state_pg()
    }

    fn report_new_rows(&self, after_id: i64, limit: usize) -> Result<Vec<(ConversationRow, Option<String>)>> {
        self.report_new_rows_pg(after_id, limit)
    }

    fn report_rows_by_native(
        &self,
        platform: &str,
        native_ids: &[String],
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        self.report_rows_by_native_pg(platform, native_ids)
    }

    fn report_children(&self, platform: &str, native_ids: &[String], max_id: i64) -> Result<Vec<(String, String)>> {
        self.report_children_pg(platform, native_ids, max_id)
    }

    fn report_threads(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.report_threads_pg(after, limit)
    }

    fn report_thread_rows(&self, threads: &[String]) -> Result<Vec<(String, ConversationRow)>> {
        self.report_thread_rows_pg(threads)
    }

    fn report_account_inputs(&self, min_customers: usize) -> Result<ReportAccountInputs> {
        self.report_account_inputs_pg(min_customers)
    }

    fn write_report(&mut self, write: &ReportWrite) -> Result<()> {
        self.write_report_pg(write)
    }

    fn storm_responses(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<StormResponse>> {
        self.storm_responses_pg(since, until)
    }

    fn report_lease(&mut self, holder: &str, now: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Result<bool> {
        self.report_lease_pg(holder, now, until)
    }

    fn report_facts(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<ReportFacts> {
        self.report_facts_pg(since, until)
    }

    fn remedy_counts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String, u64)>> {
        const DOING: &str = "counting remedies for a report";
        // The first three terms are the partial index `cases_with_remedies`'s own WHERE clause.
        let mut conds = vec![
            "c.kind = 'customer'".to_string(),
            "jsonb_typeof(c.data::jsonb #> '{case,remedies}') = 'array'".to_string(),
            "c.data::jsonb #> '{case,remedies}' <> '[]'::jsonb".to_string(),
        ];
        let args = period_conds("c.opened_at", since, until, &mut conds);
        let sql = format!(
            "SELECT min(x.brand), x.remedy, count(*) FROM ( \
               SELECT c.brand, r.value #>> '{{}}' AS remedy \
               FROM (SELECT brand, data::jsonb #> '{{case,remedies}}' AS remedies FROM cases c WHERE {}) c \
               CROSS JOIN LATERAL jsonb_array_elements(c.remedies) r(value) \
               WHERE jsonb_typeof(r.value) = 'string') x \
             GROUP BY lower(x.brand), x.remedy ORDER BY lower(x.brand) COLLATE \"C\", x.remedy COLLATE \"C\"",
            conds.join(" AND ")
        );
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let rows = self.conn()?.query(&sql, &params).doing(DOING)?;
        rows.iter()
            .map(|r| -> Result<_, postgres::Error> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<_, i64>(2)?.max(0) as u64))
            })
            .collect::<Result<_, _>>()
            .doing(DOING)
    }

    fn source_state(&self, name: &str) -> Result<Option<SourceState>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE name = $1");
        let row = self.conn()?.query_opt(&sql, &[&clean(name)]).doing("reading a source's state")?;
        row.as_ref().map(row_to_source).transpose().doing("reading a source's state")
    }

    fn save_source_state(&mut self, s: &SourceState) -> Result<()> {
        self.conn_mut()?
            .execute(
                "INSERT INTO sources (name, kind, url, cursor, status, status_since, last_post_at, lag_ms, records, \
                 stored, rejected, errors, reconnects, gaps, last_error, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, url = excluded.url, cursor = excluded.cursor, \
                 status = excluded.status, status_since = excluded.status_since, \
                 last_post_at = excluded.last_post_at, lag_ms = excluded.lag_ms, records = excluded.records, \
                 stored = excluded.stored, rejected = excluded.rejected, errors = excluded.errors, \
                 reconnects = excluded.reconnects, gaps = excluded.gaps, last_error = excluded.last_error, \
                 updated_at = excluded.updated_at",
                &[
                    &clean(&s.name),
                    &s.kind,
                    &clean(&s.url),
                    &clean_opt(&s.cursor),
                    &s.status,
                    &ms(s.status_since),
                    &s.last_post_at.map(ms),
                    &s.lag_ms,
                    &s.records,
                    &s.stored,
                    &s.rejected,
                    &s.errors,
                    &s.reconnects,
                    &s.gaps,
                    &clean_opt(&s.last_error),
                    &ms(s.updated_at),
                ],
            )
            .doing("saving a source's state")?;
        Ok(())
    }

    fn source_states(&self) -> Result<Vec<SourceState>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources ORDER BY name COLLATE \"C\"");
        let rows = self.conn()?.query(&sql, &[]).doing("listing sources")?;
        rows.iter().map(row_to_source).collect::<Result<_, _>>().doing("listing sources")
    }
}

const SOURCE_COLUMNS: &str = "name, kind, url, cursor, status, status_since, last_post_at, lag_ms, records, stored, \
     rejected, errors, reconnects, gaps, last_error, updated_at";

fn row_to_source(r: &Row) -> Result<SourceState, postgres::Error> {
    Ok(SourceState {
        name: r.try_get(0)?,
        kind: r.try_get(1)?,
        url: r.try_get(2)?,
        cursor: r.try_get(3)?,
        status: r.try_get(4)?,
        status_since: r.try_get(5)?,
        last_post_at: r.try_get(6)?,
        lag_ms: r.try_get(7)?,
        records: r.try_get(8)?,
        stored: r.try_get(9)?,
        rejected: r.try_get(10)?,
        errors: r.try_get(11)?,
        reconnects: r.try_get(12)?,
        gaps: r.try_get(13)?,
        last_error: r.try_get(14)?,
        updated_at: r.try_get(15)?,
    })
}

const CASE_COLUMNS: &str = "c.id, c.brand, c.customer, c.platform, c.kind, c.status, c.assignee, c.priority, \
     c.issue, c.sentiment, c.opened_at, c.last_activity_at, c.first_response_at, c.resolved_at, c.due_at, c.sla_state, \
     c.merged_into, c.data, c.storm_case";

fn row_to_case(r: &Row) -> Result<CaseRow, postgres::Error> {
    Ok(CaseRow {
        id: r.try_get(0)?,
        brand: r.try_get(1)?,
        customer: r.try_get(2)?,
        platform: r.try_get(3)?,
        kind: r.try_get(4)?,
        status: r.try_get(5)?,
        assignee: r.try_get(6)?,
        priority: r.try_get(7)?,
        issue: r.try_get(8)?,
        sentiment: r.try_get(9)?,
        opened_at: r.try_get(10)?,
        last_activity_at: r.try_get(11)?,
        first_response_at: r.try_get(12)?,
        resolved_at: r.try_get(13)?,
        due_at: r.try_get(14)?,
        sla_state: r.try_get(15)?,
        merged_into: r.try_get(16)?,
        data: parse_json_value(r.try_get(17)?),
        storm_case: r.try_get(18)?,
    })
}

fn read_cases(c: &mut Client, sql: &str, args: &[Param<'_>], doing: &'static str) -> Result<Vec<CaseRow>> {
    let rows = c.query(sql, args).doing(doing)?;
    rows.iter().map(row_to_case).collect::<Result<_, _>>().doing(doing)
}

/// The SQL and arguments listing cases for `q` (`None`: an empty scope, nothing to list). The same filters
/// and order as the SQLite store; the conditions match the partial queue indexes of the schema.
fn case_list_sql(q: &CaseQuery) -> Option<(String, Vec<Box<dyn ToSql + Sync>>)> {
    let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases c");
    let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut conds = vec!["c.merged_into IS NULL".to_string()];
    let arg = |v: Box<dyn ToSql + Sync>, args: &mut Vec<Box<dyn ToSql + Sync>>| {
        args.push(v);
        args.len()
    };
    if let Some(scope) = &q.brands {
        if scope.is_empty() {
            return None;
        }
        let marks: Vec<String> =
            scope.iter().map(|b| format!("${}", arg(Box::new(clean(b).into_owned()), &mut args))).collect();
        conds.push(format!("c.brand IN ({})", marks.join(", ")));
    }
    if let Some(b) = &q.brand {
        conds.push(format!("c.brand = ${}", arg(Box::new(clean(b).into_owned()), &mut args)));
    }
    match &q.status {
        Some(st) => conds.push(format!("c.status = ${}", arg(Box::new(clean(st).into_owned()), &mut args))),
        None if !q.all => conds.push("c.status IN ('new', 'open', 'waiting_on_customer')".into()),
        None => {}
    }
    match q.assignee.as_deref() {
        Some("") => conds.push("c.assignee IS NULL".into()),
        Some(a) => conds.push(format!("c.assignee = ${}", arg(Box::new(clean(a).into_owned()), &mut args))),
        None => {}
    }
    if !q.storm_members {
        conds.push("c.storm_case IS NULL".into());
    }
    if let Some(who) = &q.customer {
        conds.push(format!("c.customer = ${}", arg(Box::new(clean(who).into_owned()), &mut args)));
    }
    if let Some(i) = &q.issue {
        conds.push(format!("c.issue = ${}", arg(Box::new(clean(i).into_owned()), &mut args)));
    }
    if let Some(se) = &q.sentiment {
        conds.push(format!("c.sentiment = ${}", arg(Box::new(clean(se).into_owned()), &mut args)));
    }
    sql.push_str(" WHERE ");
    sql.push_str(&conds.join(" AND "));
    let limit = arg(Box::new(q.limit.unwrap_or(100).min(10_000) as i64), &mut args);
    let offset = arg(Box::new(q.offset as i64), &mut args);
    sql.push_str(&format!(
        " ORDER BY c.priority DESC, c.due_at ASC NULLS LAST, c.opened_at, c.id LIMIT ${limit} OFFSET ${offset}"
    ));
    Some((sql, args))
}

/// Adds a `brand IN (...)` condition for a caller's brand scope (`None`: every brand). False when the scope is
/// empty: nothing can match, the caller returns no rows.
fn in_scope(scope: Option<&[String]>, conds: &mut Vec<String>, args: &mut Vec<String>) -> bool {
    let Some(scope) = scope else { return true };
    if scope.is_empty() {
        return false;
    }
    let marks: Vec<String> = scope
        .iter()
        .map(|b| {
            args.push(clean(b).into_owned());
            format!("${}", args.len())
        })
        .collect();
    conds.push(format!("brand IN ({})", marks.join(", ")));
    true
}

const STORM_COLUMNS: &str = "id, brand, kind, facet, key, status, started_at, detected_at, last_post_at, \
                             closed_at, posts, authors, case_id, data";

fn row_to_storm(r: &Row) -> Result<StormRow, postgres::Error> {
    Ok(StormRow {
        id: r.try_get(0)?,
        brand: r.try_get(1)?,
        kind: r.try_get(2)?,
        facet: r.try_get(3)?,
        key: r.try_get(4)?,
        status: r.try_get(5)?,
        started_at: r.try_get(6)?,
        detected_at: r.try_get(7)?,
        last_post_at: r.try_get(8)?,
        closed_at: r.try_get(9)?,
        posts: r.try_get(10)?,
        authors: r.try_get(11)?,
        case_id: r.try_get(12)?,
        data: parse_json_value(r.try_get(13)?),
    })
}

const ALERT_COLUMNS: &str =
    "id, storm_id, brand, event, webhook, state, attempts, created_at, next_at, sent_at, last_error, data";

fn row_to_alert(r: &Row) -> Result<AlertRow, postgres::Error> {
    Ok(AlertRow {
        id: r.try_get(0)?,
        storm_id: r.try_get(1)?,
        brand: r.try_get(2)?,
        event: r.try_get(3)?,
        webhook: r.try_get(4)?,
        state: r.try_get(5)?,
        attempts: r.try_get(6)?,
        created_at: r.try_get(7)?,
        next_at: r.try_get(8)?,
        sent_at: r.try_get(9)?,
        last_error: r.try_get(10)?,
        data: parse_json_value(r.try_get(11)?),
    })
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.brands, u.password_hash";

fn row_to_user(r: &Row) -> Result<UserRow, postgres::Error> {
    Ok(UserRow {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: r.try_get(2)?,
        brands: parse_json(r.try_get::<_, Option<String>>(3)?),
        password_hash: r.try_get(4)?,
    })
}

impl Accounts for PostgresStore {
    fn add_user(&mut self, user: &UserRow, now: DateTime<Utc>) -> Result<i64> {
        self.conn_mut()?
            .query_one(
                "INSERT INTO users (name, role, brands, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
                &[&clean(&user.name), &user.role, &json(&user.brands, "user brands")?, &user.password_hash, &ms(now)],
            )
            .doing("adding a user (is the name taken?)")
            .map(|r| r.get(0))
    }

    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1");
        let row = self.conn()?.query_opt(&sql, &[&clean(name)]).doing("reading a user")?;
        row.as_ref().map(row_to_user).transpose().doing("reading a user")
    }

    fn users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY lower(u.name) COLLATE \"C\", u.id");
        let rows = self.conn()?.query(&sql, &[]).doing("listing users")?;
        rows.iter().map(row_to_user).collect::<Result<_, _>>().doing("listing users")
    }

    fn add_token(&mut self, user_id: i64, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn_mut()?
            .execute(
                "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
                &[&token_hash, &user_id, &ms(now)],
            )
            .doing("adding an API token")?;
        Ok(())
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1");
        let row = self.conn()?.query_opt(&sql, &[&clean(token_hash)]).doing("checking an API token")?;
        row.as_ref().map(row_to_user).transpose().doing("checking an API token")
    }

    fn add_session(&mut self, id_hash: &str, user_id: i64, csrf: &str, expires_at: DateTime<Utc>) -> Result<()> {
        self.conn_mut()?
            .execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
                &[&id_hash, &user_id, &csrf, &ms(expires_at)],
            )
            .doing("starting a session")?;
        Ok(())
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2"
        );
        let row = self.conn()?.query_opt(&sql, &[&clean(id_hash), &ms(now)]).doing("checking a session")?;
        row.as_ref()
            .map(|r| -> Result<SessionRow, postgres::Error> {
                Ok(SessionRow { user: row_to_user(r)?, csrf: r.try_get(5)?, expires_at: r.try_get(6)? })
            })
            .transpose()
            .doing("checking a session")
    }

    fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        self.conn_mut()?
            .execute("DELETE FROM sessions WHERE id_hash = $1", &[&clean(id_hash)])
            .doing("ending a session")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
