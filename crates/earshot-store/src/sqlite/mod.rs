//! The embedded SQLite store: one file, WAL mode, versioned migrations.

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
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::LazyLock;

pub(crate) mod feed;
mod report;

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_posts.sql")),
        M::up(include_str!("migrations/0002_fts_batch_index.sql")),
        M::up(include_str!("migrations/0003_post_analysis.sql")),
        M::up(include_str!("migrations/0004_cases.sql")),
        M::up(include_str!("migrations/0005_users.sql")),
        M::up(include_str!("migrations/0006_post_brands_by_post.sql")),
        M::up(include_str!("migrations/0007_inbox_queue_indexes.sql")),
        M::up(include_str!("migrations/0008_storms.sql")),
        M::up(include_str!("migrations/0009_sources.sql")),
        M::up(include_str!("migrations/0010_report_remedies.sql")),
        M::up(include_str!("migrations/0011_report_facts.sql")),
    ])
});

/// The embedded SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn json<T: serde::Serialize>(v: &T, what: &'static str) -> Result<String> {
    serde_json::to_string(v).map_err(|source| StoreError::Codec { what, source })
}

fn opt_json<T: serde::Serialize>(v: &[T], what: &'static str) -> Result<Option<String>> {
    if v.is_empty() { Ok(None) } else { json(&v, what).map(Some) }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it to the latest schema.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref();
        let conn =
            Connection::open(path).map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
        Self::init(conn)
    }

    /// An in-memory store, for tests.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn =
            Connection::open_in_memory().map_err(|source| StoreError::Open { path: ":memory:".into(), source })?;
        Self::init(conn)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore> {
        // WAL lets readers (the inbox) work while ingest writes; NORMAL sync is
        // durable across process crashes (only an OS crash can lose the last
        // transactions), which is the guarantee ingest promises.
        conn.pragma_update(None, "journal_mode", "WAL").doing("enabling WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL").doing("setting synchronous mode")?;
        conn.pragma_update(None, "foreign_keys", "ON").doing("enabling foreign keys")?;
        conn.pragma_update(None, "busy_timeout", 10_000).doing("setting busy timeout")?;
        conn.pragma_update(None, "cache_size", -64_000).doing("setting cache size")?;
        MIGRATIONS.to_latest(&mut conn)?;
        Ok(SqliteStore { conn })
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64> {
        self.conn.pragma_query_value(None, "user_version", |r| r.get(0)).doing("reading schema version")
    }

    /// Direct access for tests and tools in this workspace.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

const POST_COLUMNS: &str = "p.id, p.platform, p.native_id, p.url, p.author_id, p.author_handle, p.author_name, \
     p.author_followers, p.author_url, p.author_care, p.text, p.lang, p.published_at, p.ingested_at, p.kind, \
     p.reply_to, p.reply_to_author, p.conversation_id, p.refs, p.mentions, p.hashtags, p.links, p.media, \
     p.metrics, p.brand_author, p.format, p.raw, p.deleted_at, \
     (SELECT a.analysis FROM post_analysis a WHERE a.post_id = p.id)";

/// Whether text column `idx` contains `needle`, read in place (no copy); false for NULL.
fn has(r: &Row<'_>, idx: usize, needle: &str) -> rusqlite::Result<bool> {
    Ok(match r.get_ref(idx)? {
        rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).is_ok_and(|t| t.contains(needle)),
        _ => false,
    })
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(v: Option<String>) -> T {
    v.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn row_to_post(r: &Row<'_>) -> rusqlite::Result<StoredPost> {
    let platform: String = r.get(1)?;
    let kind: String = r.get(14)?;
    let post = Post {
        platform: Platform::parse(&platform).unwrap_or(Platform::Other),
        native_id: r.get(2)?,
        url: r.get(3)?,
        author: Author {
            id: r.get(4)?,
            handle: r.get(5)?,
            display_name: r.get(6)?,
            followers: r.get::<_, Option<i64>>(7)?.map(|v| v.max(0) as u64),
            url: r.get(8)?,
            care_account: r.get::<_, Option<bool>>(9)?,
        },
        text: r.get(10)?,
        lang: r.get(11)?,
        published_at: from_ms(r.get(12)?),
        kind: match kind.as_str() {
            "reply" => PostKind::Reply,
            "repost" => PostKind::Repost,
            "quote" => PostKind::Quote,
            _ => PostKind::Original,
        },
        reply_to: r.get(15)?,
        reply_to_author: r.get(16)?,
        conversation_id: r.get(17)?,
        references: r.get(18)?,
        mentions: parse_json(r.get(19)?),
        hashtags: parse_json(r.get(20)?),
        links: parse_json(r.get(21)?),
        media: parse_json(r.get(22)?),
        metrics: parse_json::<Metrics>(r.get(23)?),
        format: r.get(25)?,
        raw: r.get(26)?,
    };
    Ok(StoredPost {
        id: r.get(0)?,
        post,
        ingested_at: from_ms(r.get(13)?),
        brands: Vec::new(),
        brand_author: r.get(24)?,
        deleted_at: r.get::<_, Option<i64>>(27)?.map(from_ms),
        analysis: r.get::<_, Option<String>>(28)?.and_then(|s| serde_json::from_str(&s).ok()),
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

impl SqliteStore {
    fn fill_brands(&self, posts: &mut [StoredPost]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT brand, via FROM post_brands WHERE post_id = ?1 ORDER BY brand")
            .doing("reading post brands")?;
        for p in posts {
            let rows = stmt
                .query_map([p.id], |r| {
                    Ok(Attribution { brand: r.get(0)?, via: via_from(r.get::<_, String>(1)?.as_str()) })
                })
                .doing("reading post brands")?;
            p.brands = rows.collect::<rusqlite::Result<_>>().doing("reading post brands")?;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn commit(&mut self, batch: &Batch, now: DateTime<Utc>) -> Result<BatchOutcome> {
        let mut out = BatchOutcome::default();
        // Immediate: the write lock is taken (waiting out the busy timeout) before the first read, so another
        // writer committing in between (the report's facts, another process) cannot fail this one with BUSY.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).doing("starting a transaction")?;
        // Rows inserted by this batch get ids above the current maximum (ids are
        // assigned in increasing order and never reused while rows exist).
        let max_before: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM posts", [], |r| r.get(0))
            .doing("reading the last post id")?;
        {
            let mut insert_post = tx
                .prepare_cached(
                    "INSERT INTO posts (platform, native_id, url, author_id, author_handle, author_name, \
                     author_followers, author_url, author_care, text, lang, published_at, ingested_at, kind, \
                     reply_to, reply_to_author, conversation_id, refs, mentions, hashtags, links, media, metrics, \
                     brand_author, format, source, raw, deleted_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
                     ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, \
                     (SELECT deleted_at FROM deletions WHERE platform = ?1 AND native_id = ?2)) \
                     ON CONFLICT (platform, native_id) DO NOTHING",
                )
                .doing("preparing post insert")?;
            let mut insert_brand = tx
                .prepare_cached("INSERT OR IGNORE INTO post_brands (brand, post_id, via) VALUES (?1, ?2, ?3)")
                .doing("preparing brand link insert")?;
            for np in &batch.posts {
                let p = &np.post;
                let metrics = if p.metrics.is_empty() { None } else { Some(json(&p.metrics, "metrics")?) };
                let changed = insert_post
                    .execute(params![
                        p.platform.as_str(),
                        p.native_id,
                        p.url,
                        p.author.id,
                        p.author.handle,
                        p.author.display_name,
                        p.author.followers.map(|f| f.min(i64::MAX as u64) as i64),
                        p.author.url,
                        p.author.care_account,
                        p.text,
                        p.lang,
                        ms(p.published_at),
                        ms(now),
                        p.kind.as_str(),
                        p.reply_to,
                        p.reply_to_author,
                        p.conversation_id,
                        p.references,
                        opt_json(&p.mentions, "mentions")?,
                        opt_json(&p.hashtags, "hashtags")?,
                        opt_json(&p.links, "links")?,
                        opt_json(&p.media, "media")?,
                        metrics,
                        np.brand_author,
                        p.format,
                        np.source,
                        p.raw,
                    ])
                    .doing("inserting a post")?;
                if changed == 0 {
                    out.duplicates += 1;
                    continue;
                }
                out.stored += 1;
                let id = tx.last_insert_rowid();
                if let Some(a) = &np.analysis {
                    put_analysis(&tx, id, a)?;
                }
                for a in &np.brands {
                    insert_brand.execute(params![a.brand, id, a.via.as_str()]).doing("linking a post to a brand")?;
                }
            }
            let mut insert_deletion = tx
                .prepare_cached(
                    "INSERT INTO deletions (platform, native_id, deleted_at, source, raw) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (platform, native_id) DO NOTHING",
                )
                .doing("preparing deletion insert")?;
            let mut mark_deleted = tx
                .prepare_cached(
                    "UPDATE posts SET deleted_at = COALESCE(?3, ?4) \
                     WHERE platform = ?1 AND native_id = ?2 AND deleted_at IS NULL",
                )
                .doing("preparing deletion update")?;
            for (d, source) in &batch.deletions {
                insert_deletion
                    .execute(params![d.platform.as_str(), d.native_id, d.deleted_at.map(ms), source, d.raw])
                    .doing("recording a deletion")?;
                mark_deleted
                    .execute(params![d.platform.as_str(), d.native_id, d.deleted_at.map(ms), ms(now)])
                    .doing("marking a post deleted")?;
                out.deletions += 1;
            }
            let mut insert_reject = tx
                .prepare_cached(
                    "INSERT INTO rejects (source, line, byte, record, within, format, reason, raw, rejected_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
                )
                .doing("preparing reject insert")?;
            for r in &batch.rejects {
                out.rejects_new += insert_reject
                    .execute(params![
                        r.source,
                        r.position.line as i64,
                        r.position.byte as i64,
                        r.position.record as i64,
                        r.within.as_deref().unwrap_or(""),
                        r.format,
                        r.reason,
                        r.raw,
                        ms(now),
                    ])
                    .doing("recording a reject")? as u64;
            }
        }
        if out.stored > 0 {
            tx.prepare_cached(
                "INSERT INTO posts_fts (rowid, text, author_handle) SELECT id, text, author_handle FROM posts WHERE id > ?1",
            )
            .doing("preparing the search index update")?
            .execute([max_before])
            .doing("indexing new posts for search")?;
        }
        tx.commit().doing("committing a batch")?;
        Ok(out)
    }

    fn upsert_brands(&mut self, brands: &[BrandConfig], now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction().doing("starting a transaction")?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO brands (name, config, discovered, updated_at) VALUES (?1, ?2, 0, ?3) \
                     ON CONFLICT (name) DO UPDATE SET config = excluded.config, discovered = 0, \
                     updated_at = excluded.updated_at",
                )
                .doing("preparing brand upsert")?;
            for b in brands {
                stmt.execute(params![b.name, json(b, "brand config")?, ms(now)]).doing("recording a brand")?;
            }
        }
        tx.commit().doing("committing brands")
    }

    fn brands(&self) -> Result<Vec<BrandConfig>> {
        let mut stmt = self.conn.prepare_cached("SELECT config FROM brands ORDER BY name").doing("reading brands")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).doing("reading brands")?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.doing("reading brands")?;
            out.push(serde_json::from_str(&text).map_err(|source| StoreError::Codec { what: "brand config", source })?);
        }
        Ok(out)
    }

    fn stats(&self) -> Result<Stats> {
        let c = &self.conn;
        let count = |sql: &str| -> Result<u64> {
            c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|v| v.max(0) as u64).doing("counting")
        };
        let group = |sql: &str| -> Result<std::collections::BTreeMap<String, u64>> {
            let mut stmt = c.prepare(sql).doing("counting")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).doing("counting")?;
            rows.map(|r| r.map(|(k, v)| (k, v.max(0) as u64))).collect::<rusqlite::Result<_>>().doing("counting")
        };
        let (first, last): (Option<i64>, Option<i64>) = c
            .query_row("SELECT MIN(published_at), MAX(published_at) FROM posts", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .doing("reading time range")?;
        Ok(Stats {
            posts: count("SELECT COUNT(*) FROM posts")?,
            rejects: count("SELECT COUNT(*) FROM rejects")?,
            brands: count("SELECT COUNT(*) FROM brands")?,
            deletions: count("SELECT COUNT(*) FROM deletions")?,
            analyzed: count("SELECT COUNT(*) FROM post_analysis")?,
            replies_linked: count(
                "SELECT COUNT(*) FROM posts c WHERE c.reply_to IS NOT NULL AND EXISTS \
                 (SELECT 1 FROM posts p WHERE p.platform = c.platform AND p.native_id = c.reply_to)",
            )?,
            by_platform: group("SELECT platform, COUNT(*) FROM posts GROUP BY platform")?,
            by_format: group("SELECT format, COUNT(*) FROM posts GROUP BY format")?,
            by_brand: group("SELECT brand, COUNT(*) FROM post_brands GROUP BY brand")?,
            first_published: first.map(from_ms),
            last_published: last.map(from_ms),
            cases: count("SELECT COUNT(*) FROM cases")?,
            cases_by_status: group("SELECT status, COUNT(*) FROM cases GROUP BY status")?,
        })
    }

    fn posts(&self, q: &PostQuery) -> Result<Vec<StoredPost>> {
        let mut sql = format!("SELECT {POST_COLUMNS} FROM posts p");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let mut conds = Vec::new();
        if let Some(search) = q.search.as_deref().map(fts_query).filter(|s| !s.is_empty()) {
            sql.push_str(" JOIN posts_fts f ON f.rowid = p.id");
            conds.push(format!("posts_fts MATCH ?{}", args.len() + 1));
            args.push(Box::new(search));
        }
        if let Some(brand) = &q.brand {
            conds.push(format!(
                "EXISTS (SELECT 1 FROM post_brands b WHERE b.post_id = p.id AND b.brand = ?{} COLLATE NOCASE)",
                args.len() + 1
            ));
            args.push(Box::new(brand.clone()));
        }
        if let Some(platform) = &q.platform {
            conds.push(format!("p.platform = ?{}", args.len() + 1));
            args.push(Box::new(platform.clone()));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY p.published_at DESC, p.id DESC LIMIT {}", q.limit.max(1)));
        let mut stmt = self.conn.prepare(&sql).doing("querying posts")?;
        let params: Vec<&dyn rusqlite::ToSql> = args.iter().map(|b| b.as_ref()).collect();
        let mut posts: Vec<StoredPost> = stmt
            .query_map(params.as_slice(), row_to_post)
            .doing("querying posts")?
            .collect::<rusqlite::Result<_>>()
            .doing("querying posts")?;
        self.fill_brands(&mut posts)?;
        Ok(posts)
    }

    fn post(&self, platform: &str, native_id: &str) -> Result<Option<StoredPost>> {
        let sql = format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.platform = ?1 AND p.native_id = ?2");
        let found =
            self.conn.query_row(&sql, params![platform, native_id], row_to_post).optional().doing("reading a post")?;
        let mut posts: Vec<StoredPost> = found.into_iter().collect();
        self.fill_brands(&mut posts)?;
        Ok(posts.pop())
    }

    fn reanalyze(&mut self, batch: usize, analyze: &mut dyn FnMut(&StoredPost) -> AnalysisRow) -> Result<u64> {
        let mut last = 0i64;
        let mut done = 0u64;
        let sql = format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.id > ?1 ORDER BY p.id LIMIT ?2");
        loop {
            let mut posts: Vec<StoredPost> = self
                .conn
                .prepare_cached(&sql)
                .doing("reading posts to re-analyze")?
                .query_map(params![last, batch.max(1) as i64], row_to_post)
                .doing("reading posts to re-analyze")?
                .collect::<rusqlite::Result<_>>()
                .doing("reading posts to re-analyze")?;
            let Some(tail) = posts.last() else { break };
            last = tail.id;
            self.fill_brands(&mut posts)?;
            let tx = self.conn.transaction().doing("starting a transaction")?;
            for p in &posts {
                put_analysis(&tx, p.id, &analyze(p))?;
            }
            tx.commit().doing("committing re-analysis")?;
            done += posts.len() as u64;
        }
        Ok(done)
    }

    fn rejects(&self, limit: usize) -> Result<Vec<StoredReject>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, source, line, byte, record, within, format, reason, raw, rejected_at \
                 FROM rejects ORDER BY id DESC LIMIT ?1",
            )
            .doing("reading rejects")?;
        let rows = stmt
            .query_map([limit.max(1) as i64], |r| {
                let within: String = r.get(5)?;
                Ok(StoredReject {
                    id: r.get(0)?,
                    reject: NewReject {
                        source: r.get(1)?,
                        position: Position {
                            line: r.get::<_, i64>(2)? as u64,
                            byte: r.get::<_, i64>(3)? as u64,
                            record: r.get::<_, i64>(4)? as u64,
                        },
                        within: if within.is_empty() { None } else { Some(within) },
                        format: r.get(6)?,
                        reason: r.get(7)?,
                        raw: r.get(8)?,
                    },
                    rejected_at: from_ms(r.get(9)?),
                })
            })
            .doing("reading rejects")?;
        rows.collect::<rusqlite::Result<_>>().doing("reading rejects")
    }

    fn posts_after(&self, after_id: i64, limit: usize) -> Result<Vec<StoredPost>> {
        let sql = format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.id > ?1 ORDER BY p.id LIMIT ?2");
        let mut posts: Vec<StoredPost> = self
            .conn
            .prepare_cached(&sql)
            .doing("reading new posts")?
            .query_map(params![after_id, limit.max(1) as i64], row_to_post)
            .doing("reading new posts")?
            .collect::<rusqlite::Result<_>>()
            .doing("reading new posts")?;
        self.fill_brands(&mut posts)?;
        Ok(posts)
    }

    fn threaded_through(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT value FROM pipeline_state WHERE name = 'threaded_through'", [], |r| r.get(0))
            .optional()
            .doing("reading threading progress")
            .map(Option::unwrap_or_default)
    }

    fn write_cases(&mut self, w: &CaseWrite, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).doing("starting a transaction")?;
        {
            let mut put_case = tx
                .prepare_cached(
                    // An upsert, not INSERT OR REPLACE: replacing deletes the row, and the delete would cascade to the
                    // case's links and events.
                    "INSERT INTO cases (id, brand, customer, platform, kind, status, assignee, priority, \
                     issue, sentiment, opened_at, last_activity_at, first_response_at, resolved_at, due_at, sla_state, \
                     merged_into, data, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) \
                     ON CONFLICT (id) DO UPDATE SET brand = excluded.brand, customer = excluded.customer, \
                     platform = excluded.platform, kind = excluded.kind, status = excluded.status, \
                     assignee = excluded.assignee, priority = excluded.priority, issue = excluded.issue, \
                     sentiment = excluded.sentiment, opened_at = excluded.opened_at, \
                     last_activity_at = excluded.last_activity_at, first_response_at = excluded.first_response_at, \
                     resolved_at = excluded.resolved_at, due_at = excluded.due_at, sla_state = excluded.sla_state, \
                     merged_into = excluded.merged_into, data = excluded.data, updated_at = excluded.updated_at",
                )
                .doing("preparing case insert")?;
            for c in &w.cases {
                put_case
                    .execute(params![
                        c.id,
                        c.brand,
                        c.customer,
                        c.platform,
                        c.kind,
                        c.status,
                        c.assignee,
                        c.priority,
                        c.issue,
                        c.sentiment,
                        ms(c.opened_at),
                        ms(c.last_activity_at),
                        c.first_response_at.map(ms),
                        c.resolved_at.map(ms),
                        c.due_at.map(ms),
                        c.sla_state,
                        c.merged_into,
                        json(&c.data, "case")?,
                        ms(now),
                    ])
                    .doing("storing a case")?;
            }
            // A merged case's posts belong to the case it was merged into: the inbox shows one thread.
            let mut relink = tx
                .prepare_cached("UPDATE case_posts SET case_id = ?2 WHERE case_id = ?1")
                .doing("preparing post relinking")?;
            for c in w.cases.iter().filter(|c| c.merged_into.is_some()) {
                relink.execute(params![c.id, c.merged_into]).doing("moving a merged case's posts")?;
            }
            let mut link = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO case_posts (post_id, case_id, role, rule) VALUES (?1, ?2, ?3, ?4)",
                )
                .doing("preparing case link")?;
            for l in &w.links {
                link.execute(params![l.post_id, l.case_id, l.role, l.rule]).doing("linking a post to its case")?;
            }
            let mut event = tx
                .prepare_cached("INSERT INTO case_events (case_id, at, kind, actor, data) VALUES (?1, ?2, ?3, ?4, ?5)")
                .doing("preparing case event")?;
            for e in &w.events {
                event
                    .execute(params![e.case_id, ms(e.at), e.kind, e.actor, json(&e.data, "case event")?])
                    .doing("recording a case event")?;
            }
            let mut join_storm = tx
                .prepare_cached("UPDATE cases SET storm_case = ?2 WHERE id = ?1 AND id <> ?2")
                .doing("preparing storm membership")?;
            for (member, storm_case) in &w.storm_members {
                join_storm.execute(params![member, storm_case]).doing("recording storm membership")?;
            }
            let mut put_storm = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO storms (id, brand, kind, facet, key, status, started_at, detected_at, \
                     last_post_at, closed_at, posts, authors, case_id, data, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .doing("preparing storm insert")?;
            for st in &w.storms {
                put_storm
                    .execute(params![
                        st.id,
                        st.brand,
                        st.kind,
                        st.facet,
                        st.key,
                        st.status,
                        ms(st.started_at),
                        ms(st.detected_at),
                        ms(st.last_post_at),
                        st.closed_at.map(ms),
                        st.posts,
                        st.authors,
                        st.case_id,
                        json(&st.data, "storm")?,
                        ms(now)
                    ])
                    .doing("recording a storm")?;
            }
            let mut put_alert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO alerts (id, storm_id, brand, event, webhook, state, attempts, created_at, \
                     next_at, sent_at, last_error, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .doing("preparing alert insert")?;
            for a in &w.alerts {
                put_alert
                    .execute(params![
                        a.id,
                        a.storm_id,
                        a.brand,
                        a.event,
                        a.webhook,
                        a.state,
                        a.attempts,
                        ms(a.created_at),
                        a.next_at.map(ms),
                        a.sent_at.map(ms),
                        a.last_error,
                        json(&a.data, "alert")?
                    ])
                    .doing("queueing an alert")?;
            }
            if let Some(snap) = &w.snapshot {
                tx.execute(
                    "INSERT OR REPLACE INTO pipeline_snapshots (name, through, data) VALUES (?1, ?2, ?3)",
                    params![snap.name, snap.through, snap.data],
                )
                .doing("saving streaming state")?;
            }
            if let Some(t) = w.threaded_through {
                tx.execute(
                    "INSERT INTO pipeline_state (name, value) VALUES ('threaded_through', ?1) \
                     ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
                    params![t],
                )
                .doing("recording threading progress")?;
            }
        }
        tx.commit().doing("committing cases")
    }

    fn cases(&self, q: &CaseQuery) -> Result<Vec<CaseRow>> {
        let Some((sql, args)) = case_list_sql(q) else { return Ok(Vec::new()) };
        let mut stmt = self.conn.prepare_cached(&sql).doing("listing cases")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter().map(|b| b.as_ref())), row_to_case)
            .doing("listing cases")?;
        rows.collect::<rusqlite::Result<_>>().doing("listing cases")
    }

    fn case(&self, id: i64) -> Result<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.id = ?1");
        self.conn.query_row(&sql, params![id], row_to_case).optional().doing("reading a case")
    }

    fn case_posts(&self, id: i64) -> Result<Vec<StoredPost>> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM case_posts cp JOIN posts p ON p.id = cp.post_id \
             WHERE cp.case_id = ?1 ORDER BY p.published_at, p.id"
        );
        let mut posts: Vec<StoredPost> = self
            .conn
            .prepare_cached(&sql)
            .doing("reading a case's posts")?
            .query_map(params![id], row_to_post)
            .doing("reading a case's posts")?
            .collect::<rusqlite::Result<_>>()
            .doing("reading a case's posts")?;
        self.fill_brands(&mut posts)?;
        Ok(posts)
    }

    fn case_events(&self, id: i64) -> Result<Vec<StoredCaseEvent>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, case_id, at, kind, actor, data FROM case_events WHERE case_id = ?1 ORDER BY id")
            .doing("reading case events")?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(StoredCaseEvent {
                    id: r.get(0)?,
                    event: CaseEvent {
                        case_id: r.get(1)?,
                        at: from_ms(r.get(2)?),
                        kind: r.get(3)?,
                        actor: r.get(4)?,
                        data: parse_json_value(r.get(5)?),
                    },
                })
            })
            .doing("reading case events")?;
        rows.collect::<rusqlite::Result<_>>().doing("reading case events")
    }

    fn recent_cases(&self, since: DateTime<Utc>) -> Result<Vec<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.last_activity_at >= ?1 ORDER BY c.id");
        let mut stmt = self.conn.prepare_cached(&sql).doing("reading recent cases")?;
        let rows = stmt.query_map(params![ms(since)], row_to_case).doing("reading recent cases")?;
        rows.collect::<rusqlite::Result<_>>().doing("reading recent cases")
    }

    fn last_published(&self) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT MAX(published_at) FROM posts", [], |r| r.get(0))
            .doing("reading the newest post time")?;
        Ok(v.map(from_ms))
    }

    fn cases_of_posts(&self, post_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT post_id, case_id FROM case_posts WHERE post_id = ?1")
            .doing("finding posts' cases")?;
        let mut out = Vec::with_capacity(post_ids.len());
        for id in post_ids {
            if let Some(pair) =
                stmt.query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?))).optional().doing("finding posts' cases")?
            {
                out.push(pair);
            }
        }
        Ok(out)
    }

    fn storm_members(&self, storm_case: i64, limit: usize) -> Result<Vec<CaseRow>> {
        let sql =
            format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.storm_case = ?1 ORDER BY c.opened_at, c.id LIMIT ?2");
        let mut stmt = self.conn.prepare_cached(&sql).doing("listing a storm's cases")?;
        let rows = stmt.query_map(params![storm_case, limit as i64], row_to_case).doing("listing a storm's cases")?;
        rows.collect::<rusqlite::Result<_>>().doing("listing a storm's cases")
    }

    fn storms(&self, q: &StormQuery) -> Result<Vec<StormRow>> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut args: Vec<String> = Vec::new();
        if !in_scope(q.brands.as_deref(), &mut conds, &mut args) {
            return Ok(Vec::new());
        }
        if let Some(b) = &q.brand {
            args.push(b.clone());
            conds.push(format!("brand = ?{}", args.len()));
        }
        if q.open_only {
            conds.push("status = 'open'".into());
        }
        let sql = format!(
            "SELECT {STORM_COLUMNS} FROM storms WHERE {} ORDER BY detected_at DESC, id LIMIT {}",
            conds.join(" AND "),
            q.limit.unwrap_or(100).min(10_000)
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing("listing storms")?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), row_to_storm).doing("listing storms")?;
        rows.collect::<rusqlite::Result<_>>().doing("listing storms")
    }

    fn storm(&self, id: &str) -> Result<Option<StormRow>> {
        let sql = format!("SELECT {STORM_COLUMNS} FROM storms WHERE id = ?1");
        self.conn.query_row(&sql, params![id], row_to_storm).optional().doing("reading a storm")
    }

    fn snapshot(&self, name: &str) -> Result<Option<Snapshot>> {
        self.conn
            .query_row("SELECT name, through, data FROM pipeline_snapshots WHERE name = ?1", params![name], |r| {
                Ok(Snapshot { name: r.get(0)?, through: r.get(1)?, data: r.get(2)? })
            })
            .optional()
            .doing("reading streaming state")
    }

    fn alerts(&self, brands: Option<&[String]>, storm_id: Option<&str>, limit: usize) -> Result<Vec<AlertRow>> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut args: Vec<String> = Vec::new();
        if !in_scope(brands, &mut conds, &mut args) {
            return Ok(Vec::new());
        }
        if let Some(id) = storm_id {
            args.push(id.to_string());
            conds.push(format!("storm_id = ?{}", args.len()));
        }
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE {} ORDER BY created_at DESC, id LIMIT {}",
            conds.join(" AND "),
            limit.min(10_000)
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing("listing alerts")?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), row_to_alert).doing("listing alerts")?;
        rows.collect::<rusqlite::Result<_>>().doing("listing alerts")
    }

    fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertRow>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE state = 'pending' AND (next_at IS NULL OR next_at <= ?1) \
             ORDER BY created_at, id LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing("reading due alerts")?;
        let rows = stmt.query_map(params![ms(now), limit as i64], row_to_alert).doing("reading due alerts")?;
        rows.collect::<rusqlite::Result<_>>().doing("reading due alerts")
    }

    fn update_alert(&mut self, a: &AlertRow) -> Result<()> {
        self.conn
            .execute(
                "UPDATE alerts SET state = ?2, attempts = ?3, next_at = ?4, sent_at = ?5, last_error = ?6 WHERE id = ?1",
                params![a.id, a.state, a.attempts, a.next_at.map(ms), a.sent_at.map(ms), a.last_error],
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
        // One range scan of posts_published; brands come from the post_brands_post index and
        // signals are found by substring in the compact analysis JSON (no per-row JSON parse), read
        // in place: SQLite's instr() compared byte by byte and took a fifth of a 1M-post report.
        let sql = format!(
            "SELECT {} FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id \
             WHERE p.published_at >= ?1 AND p.published_at < ?2 ORDER BY p.published_at, p.id",
            report::CONVERSATION
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing(DOING)?;
        let lo = since.map_or(i64::MIN, ms);
        let hi = until.map_or(i64::MAX, ms);
        let rows = stmt.query_map(params![lo, hi], report::conversation).doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    fn remedy_counts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String, u64)>> {
        const DOING: &str = "counting remedies for a report";
        let mut stmt = self
            .conn
            .prepare_cached(
                // The first two terms are the partial index `cases_with_remedies`'s own WHERE clause.
                "SELECT c.brand, r.value, count(*) \
                 FROM cases c INDEXED BY cases_with_remedies, json_each(c.data, '$.case.remedies') r \
                 WHERE c.kind = 'customer' AND json_array_length(c.data, '$.case.remedies') > 0 \
                 AND c.opened_at >= ?1 AND c.opened_at < ?2 AND r.type = 'text' \
                 GROUP BY c.brand, r.value ORDER BY c.brand, r.value",
            )
            .doing(DOING)?;
        let rows = stmt
            .query_map(params![since.map_or(i64::MIN, ms), until.map_or(i64::MAX, ms)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })
            .doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    fn report_state(&self) -> Result<Option<ReportState>> {
        self.report_state_sqlite()
    }

    fn report_new_rows(&self, after_id: i64, limit: usize) -> Result<Vec<(ConversationRow, Option<String>)>> {
        self.report_new_rows_sqlite(after_id, limit)
    }

    fn report_rows_by_native(
        &self,
        platform: &str,
        native_ids: &[String],
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        self.report_rows_by_native_sqlite(platform, native_ids)
    }

    fn report_children(&self, platform: &str, native_ids: &[String], max_id: i64) -> Result<Vec<(String, String)>> {
        self.report_children_sqlite(platform, native_ids, max_id)
    }

    fn report_threads(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.report_threads_sqlite(after, limit)
    }

    fn report_thread_rows(&self, threads: &[String]) -> Result<Vec<(String, ConversationRow)>> {
        self.report_thread_rows_sqlite(threads)
    }

    fn report_account_inputs(&self, min_customers: usize) -> Result<ReportAccountInputs> {
        self.report_account_inputs_sqlite(min_customers)
    }

    fn write_report(&mut self, write: &ReportWrite) -> Result<()> {
        self.write_report_sqlite(write)
    }

    fn storm_responses(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<StormResponse>> {
        self.storm_responses_sqlite(since, until)
    }

    fn report_lease(&mut self, holder: &str, now: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Result<bool> {
        self.report_lease_sqlite(holder, now, until)
    }

    fn report_facts(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<ReportFacts> {
        self.report_facts_sqlite(since, until)
    }

    fn source_state(&self, name: &str) -> Result<Option<SourceState>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE name = ?1");
        self.conn.query_row(&sql, params![name], row_to_source).optional().doing("reading a source's state")
    }

    fn save_source_state(&mut self, s: &SourceState) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO sources (name, kind, url, cursor, status, status_since, last_post_at, lag_ms, \
                 records, stored, rejected, errors, reconnects, gaps, last_error, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )
            .doing("saving a source's state")?
            .execute(params![
                s.name,
                s.kind,
                s.url,
                s.cursor,
                s.status,
                ms(s.status_since),
                s.last_post_at.map(ms),
                s.lag_ms,
                s.records,
                s.stored,
                s.rejected,
                s.errors,
                s.reconnects,
                s.gaps,
                s.last_error,
                ms(s.updated_at)
            ])
            .doing("saving a source's state")?;
        Ok(())
    }

    fn source_states(&self) -> Result<Vec<SourceState>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources ORDER BY name");
        let mut stmt = self.conn.prepare_cached(&sql).doing("listing sources")?;
        let rows = stmt.query_map([], row_to_source).doing("listing sources")?;
        rows.collect::<rusqlite::Result<_>>().doing("listing sources")
    }

    fn max_case_id(&self) -> Result<i64> {
        self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM cases", [], |r| r.get(0)).doing("reading case ids")
    }
}

const SOURCE_COLUMNS: &str = "name, kind, url, cursor, status, status_since, last_post_at, lag_ms, records, stored, \
     rejected, errors, reconnects, gaps, last_error, updated_at";

fn row_to_source(r: &Row<'_>) -> rusqlite::Result<SourceState> {
    Ok(SourceState {
        name: r.get(0)?,
        kind: r.get(1)?,
        url: r.get(2)?,
        cursor: r.get(3)?,
        status: r.get(4)?,
        status_since: from_ms(r.get(5)?),
        last_post_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
        lag_ms: r.get(7)?,
        records: r.get(8)?,
        stored: r.get(9)?,
        rejected: r.get(10)?,
        errors: r.get(11)?,
        reconnects: r.get(12)?,
        gaps: r.get(13)?,
        last_error: r.get(14)?,
        updated_at: from_ms(r.get(15)?),
    })
}

/// The SQL and arguments listing cases for `q` (`None`: an empty scope, nothing to list).
fn case_list_sql(q: &CaseQuery) -> Option<(String, Vec<Box<dyn rusqlite::ToSql>>)> {
    let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases c");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
    // Keep these two conditions word for word: the partial queue indexes of migration 0007 apply only
    // when the query's WHERE repeats theirs.
    let mut conds = vec!["c.merged_into IS NULL".to_string()];
    let arg = |v: Box<dyn rusqlite::ToSql>, args: &mut Vec<Box<dyn rusqlite::ToSql>>| {
        args.push(v);
        args.len()
    };
    if let Some(scope) = &q.brands {
        if scope.is_empty() {
            return None;
        }
        let marks: Vec<String> = scope.iter().map(|b| format!("?{}", arg(Box::new(b.clone()), &mut args))).collect();
        conds.push(format!("c.brand IN ({})", marks.join(", ")));
    }
    if let Some(b) = &q.brand {
        conds.push(format!("c.brand = ?{}", arg(Box::new(b.clone()), &mut args)));
    }
    match &q.status {
        Some(st) => conds.push(format!("c.status = ?{}", arg(Box::new(st.clone()), &mut args))),
        None if !q.all => conds.push("c.status IN ('new', 'open', 'waiting_on_customer')".into()),
        None => {}
    }
    match q.assignee.as_deref() {
        Some("") => conds.push("c.assignee IS NULL".into()),
        Some(a) => conds.push(format!("c.assignee = ?{}", arg(Box::new(a.to_string()), &mut args))),
        None => {}
    }
    if !q.storm_members {
        conds.push("c.storm_case IS NULL".into());
    }
    if let Some(who) = &q.customer {
        conds.push(format!("c.customer = ?{}", arg(Box::new(who.clone()), &mut args)));
    }
    if let Some(i) = &q.issue {
        conds.push(format!("c.issue = ?{}", arg(Box::new(i.clone()), &mut args)));
    }
    if let Some(se) = &q.sentiment {
        conds.push(format!("c.sentiment = ?{}", arg(Box::new(se.clone()), &mut args)));
    }
    sql.push_str(" WHERE ");
    sql.push_str(&conds.join(" AND "));
    let limit = arg(Box::new(q.limit.unwrap_or(100).min(10_000) as i64), &mut args);
    let offset = arg(Box::new(q.offset as i64), &mut args);
    sql.push_str(&format!(
        " ORDER BY c.priority DESC, c.due_at IS NULL, c.due_at, c.opened_at LIMIT ?{limit} OFFSET ?{offset}"
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
            args.push(b.clone());
            format!("?{}", args.len())
        })
        .collect();
    conds.push(format!("brand IN ({})", marks.join(", ")));
    true
}

const STORM_COLUMNS: &str = "id, brand, kind, facet, key, status, started_at, detected_at, last_post_at, \
                             closed_at, posts, authors, case_id, data";

fn row_to_storm(r: &Row<'_>) -> rusqlite::Result<StormRow> {
    Ok(StormRow {
        id: r.get(0)?,
        brand: r.get(1)?,
        kind: r.get(2)?,
        facet: r.get(3)?,
        key: r.get(4)?,
        status: r.get(5)?,
        started_at: from_ms(r.get(6)?),
        detected_at: from_ms(r.get(7)?),
        last_post_at: from_ms(r.get(8)?),
        closed_at: r.get::<_, Option<i64>>(9)?.map(from_ms),
        posts: r.get(10)?,
        authors: r.get(11)?,
        case_id: r.get(12)?,
        data: parse_json_value(r.get(13)?),
    })
}

const ALERT_COLUMNS: &str =
    "id, storm_id, brand, event, webhook, state, attempts, created_at, next_at, sent_at, last_error, data";

fn row_to_alert(r: &Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        storm_id: r.get(1)?,
        brand: r.get(2)?,
        event: r.get(3)?,
        webhook: r.get(4)?,
        state: r.get(5)?,
        attempts: r.get(6)?,
        created_at: from_ms(r.get(7)?),
        next_at: r.get::<_, Option<i64>>(8)?.map(from_ms),
        sent_at: r.get::<_, Option<i64>>(9)?.map(from_ms),
        last_error: r.get(10)?,
        data: parse_json_value(r.get(11)?),
    })
}

fn row_to_user(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        brands: parse_json(r.get::<_, Option<String>>(3)?),
        password_hash: r.get(4)?,
    })
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.brands, u.password_hash";

impl Accounts for SqliteStore {
    fn add_user(&mut self, user: &UserRow, now: DateTime<Utc>) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO users (name, role, brands, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.name, user.role, json(&user.brands, "user brands")?, user.password_hash, ms(now)],
            )
            .doing("adding a user (is the name taken?)")?;
        Ok(self.conn.last_insert_rowid())
    }

    fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?1");
        self.conn.query_row(&sql, params![name], row_to_user).optional().doing("reading a user")
    }

    fn users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name");
        let mut stmt = self.conn.prepare_cached(&sql).doing("listing users")?;
        let rows = stmt.query_map([], row_to_user).doing("listing users")?;
        rows.collect::<rusqlite::Result<_>>().doing("listing users")
    }

    fn add_token(&mut self, user_id: i64, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?1, ?2, ?3)",
                params![token_hash, user_id, ms(now)],
            )
            .doing("adding an API token")?;
        Ok(())
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1");
        self.conn.query_row(&sql, params![token_hash], row_to_user).optional().doing("checking an API token")
    }

    fn add_session(&mut self, id_hash: &str, user_id: i64, csrf: &str, expires_at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![id_hash, user_id, csrf, ms(expires_at)],
            )
            .doing("starting a session")?;
        Ok(())
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = ?1 AND s.expires_at > ?2"
        );
        self.conn
            .query_row(&sql, params![id_hash, ms(now)], |r| {
                Ok(SessionRow { user: row_to_user(r)?, csrf: r.get(5)?, expires_at: from_ms(r.get(6)?) })
            })
            .optional()
            .doing("checking a session")
    }

    fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash]).doing("ending a session")?;
        Ok(())
    }
}

const CASE_COLUMNS: &str = "c.id, c.brand, c.customer, c.platform, c.kind, c.status, c.assignee, c.priority, \
     c.issue, c.sentiment, c.opened_at, c.last_activity_at, c.first_response_at, c.resolved_at, c.due_at, c.sla_state, \
     c.merged_into, c.data, c.storm_case";

fn parse_json_value(s: String) -> serde_json::Value {
    serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
}

fn row_to_case(r: &Row<'_>) -> rusqlite::Result<CaseRow> {
    Ok(CaseRow {
        id: r.get(0)?,
        brand: r.get(1)?,
        customer: r.get(2)?,
        platform: r.get(3)?,
        kind: r.get(4)?,
        status: r.get(5)?,
        assignee: r.get(6)?,
        priority: r.get(7)?,
        issue: r.get(8)?,
        sentiment: r.get(9)?,
        opened_at: from_ms(r.get(10)?),
        last_activity_at: from_ms(r.get(11)?),
        first_response_at: r.get::<_, Option<i64>>(12)?.map(from_ms),
        resolved_at: r.get::<_, Option<i64>>(13)?.map(from_ms),
        due_at: r.get::<_, Option<i64>>(14)?.map(from_ms),
        sla_state: r.get(15)?,
        merged_into: r.get(16)?,
        data: parse_json_value(r.get(17)?),
        storm_case: r.get(18)?,
    })
}

fn put_analysis(conn: &Connection, post_id: i64, a: &AnalysisRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO post_analysis (post_id, versions, compound, sentiment, complaint, severity, intent, \
         issue, priority, analysis) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .doing("preparing analysis insert")?
    .execute(params![
        post_id,
        a.versions,
        a.compound,
        a.sentiment,
        a.complaint,
        a.severity,
        a.intent,
        a.issue,
        a.priority,
        a.json
    ])
    .doing("storing an analysis")?;
    Ok(())
}

/// Turns user input into a safe FTS5 query: each word becomes a quoted term
/// (so `can't` or `@gilt` never hit FTS5 syntax errors), all ANDed.
fn fts_query(input: &str) -> String {
    input
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
