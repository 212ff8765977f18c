//! The report's pre-aggregated facts on SQLite (migration 0011); see [`crate::report`].

use super::{SqliteStore, from_ms, has, ms, parse_json, via_from};
use crate::{
    ConversationRow, Doing, ReportAccountInputs, ReportCare, ReportFact, ReportFacts, ReportPair, ReportState,
    ReportWrite, Result, StoreError, UnansweredDay,
};
use chrono::{DateTime, Utc};
use earshot_core::brand::Attribution;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

/// The columns of a [`ConversationRow`] (0–13), as `conversation_rows` reads them; `p` is posts, `a` post_analysis.
pub(super) const CONVERSATION: &str = "p.id, p.platform, p.native_id, p.author_handle, p.author_care, p.brand_author, \
     (SELECT group_concat(b.brand || char(9) || b.via, char(10)) FROM post_brands b WHERE b.post_id = p.id), \
     p.mentions, p.published_at, p.reply_to, p.conversation_id, a.sentiment, a.compound, a.analysis";

/// Reads a [`ConversationRow`] from the [`CONVERSATION`] columns.
pub(super) fn conversation(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
    let brands = r
        .get::<_, Option<String>>(6)?
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(brand, via)| Attribution { brand: brand.to_string(), via: via_from(via) })
                .collect()
        })
        .unwrap_or_default();
    Ok(ConversationRow {
        id: r.get(0)?,
        platform: r.get(1)?,
        native_id: r.get(2)?,
        author_handle: r.get(3)?,
        author_care: r.get(4)?,
        brand_author: r.get(5)?,
        brands,
        mentions: parse_json(r.get(7)?),
        published_at: from_ms(r.get(8)?),
        reply_to: r.get(9)?,
        conversation_id: r.get(10)?,
        sentiment: r.get(11)?,
        compound: r.get(12)?,
        churn: has(r, 13, "\"kind\":\"churn_threat\"")?,
        loyalty: has(r, 13, "\"kind\":\"loyalty\"")?,
    })
}

/// The key a fact shares with its customer's row in report_about.
fn key(f: &ReportFact) -> (&str, &str, &str) {
    (f.platform.as_str(), f.customer.as_str(), f.brand.as_str())
}

/// Text column `i`, read in place.
fn text<'r>(r: &'r Row<'_>, i: usize) -> Result<&'r str> {
    r.get_ref(i).and_then(|v| v.as_str().map_err(Into::into)).doing("reading report facts")
}

fn unanswered_day(r: &Row<'_>) -> rusqlite::Result<UnansweredDay> {
    Ok(UnansweredDay { brand: r.get(0)?, day_ms: r.get(1)?, inbound: r.get::<_, i64>(2)? as u64 })
}

fn json_list(v: &[String]) -> Result<String> {
    serde_json::to_string(v).map_err(|source| StoreError::Codec { what: "id list", source })
}

fn bounds(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> (i64, i64) {
    (since.map_or(i64::MIN, ms), until.map_or(i64::MAX, ms))
}

impl SqliteStore {
    pub(super) fn report_state_sqlite(&self) -> Result<Option<ReportState>> {
        self.conn
            .query_row("SELECT fingerprint, through_id, posts FROM report_state WHERE id = 1", [], |r| {
                Ok(ReportState { fingerprint: r.get(0)?, through_id: r.get(1)?, posts: r.get::<_, i64>(2)? as u64 })
            })
            .optional()
            .doing("reading the report's state")
    }

    pub(super) fn report_new_rows_sqlite(
        &self,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        const DOING: &str = "reading new posts for the report";
        let sql = format!(
            "SELECT {CONVERSATION}, t.thread FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id \
             LEFT JOIN report_post_threads t ON t.post_id = p.id WHERE p.id > ?1 ORDER BY p.id LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing(DOING)?;
        let rows =
            stmt.query_map(params![after_id, limit as i64], |r| Ok((conversation(r)?, r.get(14)?))).doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    pub(super) fn report_rows_by_native_sqlite(
        &self,
        platform: &str,
        native_ids: &[String],
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        const DOING: &str = "reading parent posts for the report";
        let sql = format!(
            "SELECT {CONVERSATION}, t.thread FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id \
             LEFT JOIN report_post_threads t ON t.post_id = p.id \
             WHERE p.platform = ?1 AND p.native_id IN (SELECT value FROM json_each(?2))"
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing(DOING)?;
        let rows = stmt
            .query_map(params![platform, json_list(native_ids)?], |r| Ok((conversation(r)?, r.get(14)?)))
            .doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    pub(super) fn report_children_sqlite(
        &self,
        platform: &str,
        native_ids: &[String],
        max_id: i64,
    ) -> Result<Vec<(String, String)>> {
        const DOING: &str = "reading replies that arrived before their parent";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.reply_to, t.thread FROM posts p JOIN report_post_threads t ON t.post_id = p.id \
                 WHERE p.platform = ?1 AND p.reply_to IN (SELECT value FROM json_each(?2)) AND p.id <= ?3",
            )
            .doing(DOING)?;
        let rows = stmt
            .query_map(params![platform, json_list(native_ids)?, max_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    pub(super) fn report_threads_sqlite(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        const DOING: &str = "listing report threads";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT thread FROM report_post_threads WHERE ?1 IS NULL OR thread > ?1 \
                 ORDER BY thread LIMIT ?2",
            )
            .doing(DOING)?;
        let rows = stmt.query_map(params![after, limit as i64], |r| r.get(0)).doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    pub(super) fn report_thread_rows_sqlite(&self, threads: &[String]) -> Result<Vec<(String, ConversationRow)>> {
        const DOING: &str = "reading report threads";
        let sql = format!(
            "SELECT {CONVERSATION}, t.thread FROM report_post_threads t JOIN posts p ON p.id = t.post_id \
             LEFT JOIN post_analysis a ON a.post_id = p.id \
             WHERE t.thread IN (SELECT value FROM json_each(?1))"
        );
        let mut stmt = self.conn.prepare_cached(&sql).doing(DOING)?;
        let rows = stmt.query_map(params![json_list(threads)?], |r| Ok((r.get(14)?, conversation(r)?))).doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }

    pub(super) fn report_account_inputs_sqlite(&self, min_customers: usize) -> Result<ReportAccountInputs> {
        const DOING: &str = "reading brand-account discovery inputs";
        let mut care = self
            .conn
            .prepare_cached(
                "SELECT platform, handle_norm, brand_author, handle, published_at, post_id FROM report_care \
                 ORDER BY published_at, post_id",
            )
            .doing(DOING)?;
        let care = care
            .query_map([], |r| {
                Ok(ReportCare {
                    platform: r.get(0)?,
                    handle_norm: r.get(1)?,
                    brand_author: r.get(2)?,
                    handle: r.get(3)?,
                    published_ms: r.get(4)?,
                    post_id: r.get(5)?,
                })
            })
            .doing(DOING)?
            .collect::<rusqlite::Result<_>>()
            .doing(DOING)?;
        let mut pairs = self
            .conn
            .prepare_cached(
                "SELECT platform, replier, customer, replier_brand_author, customer_brand_author, replier_handle, \
                 published_at, post_id FROM report_pairs WHERE replier IN (SELECT replier FROM report_pairs \
                 GROUP BY replier HAVING count(DISTINCT customer) >= ?1) ORDER BY published_at, post_id",
            )
            .doing(DOING)?;
        let pairs = pairs
            .query_map(params![min_customers as i64], |r| {
                Ok(ReportPair {
                    platform: r.get(0)?,
                    replier: r.get(1)?,
                    customer: r.get(2)?,
                    replier_brand_author: r.get(3)?,
                    customer_brand_author: r.get(4)?,
                    replier_handle: r.get(5)?,
                    published_ms: r.get(6)?,
                    post_id: r.get(7)?,
                })
            })
            .doing(DOING)?
            .collect::<rusqlite::Result<_>>()
            .doing(DOING)?;
        Ok(ReportAccountInputs { care, pairs })
    }

    pub(super) fn write_report_sqlite(&mut self, w: &ReportWrite) -> Result<()> {
        const DOING: &str = "writing report facts";
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).doing("starting a transaction")?;
        if w.reset_facts {
            tx.execute_batch("DELETE FROM report_facts; DELETE FROM report_about; DELETE FROM report_unanswered_days;")
                .doing(DOING)?;
        }
        for (old, new) in &w.renames {
            tx.execute("UPDATE report_post_threads SET thread = ?2 WHERE thread = ?1", params![old, new])
                .doing(DOING)?;
            tx.execute("DELETE FROM report_facts WHERE thread = ?1", params![old]).doing(DOING)?;
        }
        {
            let mut put = tx
                .prepare_cached("INSERT OR REPLACE INTO report_post_threads (post_id, thread) VALUES (?1, ?2)")
                .doing(DOING)?;
            for (id, thread) in &w.threads {
                put.execute(params![id, thread]).doing(DOING)?;
            }
            let mut care = tx
                .prepare_cached(
                    "INSERT INTO report_care (platform, handle_norm, brand_author, handle, published_at, post_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (platform, handle_norm, brand_author) DO UPDATE SET handle = excluded.handle, \
                     published_at = excluded.published_at, post_id = excluded.post_id \
                     WHERE (excluded.published_at, excluded.post_id) < (published_at, post_id)",
                )
                .doing(DOING)?;
            for c in &w.care {
                care.execute(params![c.platform, c.handle_norm, c.brand_author, c.handle, c.published_ms, c.post_id])
                    .doing(DOING)?;
            }
            let mut pair = tx
                .prepare_cached(
                    "INSERT INTO report_pairs (platform, replier, customer, replier_brand_author, \
                     customer_brand_author, replier_handle, published_at, post_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (platform, replier, customer, replier_brand_author, customer_brand_author) DO UPDATE SET \
                     replier_handle = excluded.replier_handle, published_at = excluded.published_at, \
                     post_id = excluded.post_id WHERE (excluded.published_at, excluded.post_id) < (published_at, post_id)",
                )
                .doing(DOING)?;
            for p in &w.pairs {
                pair.execute(params![
                    p.platform,
                    p.replier,
                    p.customer,
                    p.replier_brand_author,
                    p.customer_brand_author,
                    p.replier_handle,
                    p.published_ms,
                    p.post_id
                ])
                .doing(DOING)?;
            }
            let mut drop = tx.prepare_cached("DELETE FROM report_facts WHERE thread = ?1").doing(DOING)?;
            for t in &w.replace_facts_of {
                drop.execute(params![t]).doing(DOING)?;
            }
            let mut fact = tx
                .prepare_cached(
                    "INSERT INTO report_facts (answered, published_at, post_id, brand, thread, platform, \
                     customer, prev_published_at, first_reply_at, brand_posts, resolution, recovery, after_any, \
                     after_loyal, after_churn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .doing(DOING)?;
            for f in &w.facts {
                fact.execute(params![
                    f.first_reply_ms.is_some(),
                    f.published_ms,
                    f.post_id,
                    f.brand,
                    f.thread,
                    f.platform,
                    f.customer,
                    f.prev_published_ms,
                    f.first_reply_ms,
                    f.brand_posts,
                    f.resolution,
                    f.recovery,
                    f.after_any,
                    f.after_loyal,
                    f.after_churn
                ])
                .doing(DOING)?;
            }
            let mut about = tx
                .prepare_cached(
                    "INSERT INTO report_about (platform, customer, brand, last_at, last_loyal_at, last_churn_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (platform, customer, brand) DO UPDATE SET \
                     last_at = max(last_at, excluded.last_at), \
                     last_loyal_at = max(coalesce(last_loyal_at, excluded.last_loyal_at), coalesce(excluded.last_loyal_at, last_loyal_at)), \
                     last_churn_at = max(coalesce(last_churn_at, excluded.last_churn_at), coalesce(excluded.last_churn_at, last_churn_at))",
                )
                .doing(DOING)?;
            for a in &w.about {
                about
                    .execute(params![a.platform, a.customer, a.brand, a.last_ms, a.last_loyal_ms, a.last_churn_ms])
                    .doing(DOING)?;
            }
            if let Some(s) = &w.state {
                tx.execute(
                    "INSERT OR REPLACE INTO report_state (id, fingerprint, through_id, posts) VALUES (1, ?1, ?2, ?3)",
                    params![s.fingerprint, s.through_id, s.posts as i64],
                )
                .doing(DOING)?;
            }
        }
        tx.commit().doing("committing report facts")
    }

    pub(super) fn report_facts_sqlite(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<ReportFacts> {
        const DOING: &str = "reading report facts";
        let (lo, hi) = bounds(since, until);
        // Answered inbound: one range of the clustered key. The customers' latest posts about the brand are
        // merged in from one ordered scan of report_about: a lookup per fact was random I/O over millions of
        // rows (11 s for 1.7M facts at 9M posts, against under a second for the scan).
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT brand, post_id, customer, published_at, prev_published_at, first_reply_at, brand_posts, \
                 resolution, recovery, after_any, after_loyal, after_churn, platform \
                 FROM report_facts WHERE answered = 1 AND published_at >= ?1 AND published_at < ?2",
            )
            .doing(DOING)?;
        let mut answered: Vec<ReportFact> = stmt
            .query_map(params![lo, hi], |r| {
                Ok(ReportFact {
                    thread: String::new(),
                    brand: r.get(0)?,
                    post_id: r.get(1)?,
                    platform: r.get(12)?,
                    customer: r.get(2)?,
                    published_ms: r.get(3)?,
                    prev_published_ms: r.get(4)?,
                    first_reply_ms: r.get(5)?,
                    brand_posts: r.get(6)?,
                    resolution: r.get(7)?,
                    recovery: r.get(8)?,
                    after_any: r.get(9)?,
                    after_loyal: r.get(10)?,
                    after_churn: r.get(11)?,
                    about_ms: None,
                    about_loyal_ms: None,
                    about_churn_ms: None,
                })
            })
            .doing(DOING)?
            .collect::<rusqlite::Result<_>>()
            .doing(DOING)?;
        if !answered.is_empty() {
            let mut order: Vec<usize> = (0..answered.len()).collect();
            order.sort_unstable_by(|&a, &b| key(&answered[a]).cmp(&key(&answered[b])));
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT platform, customer, brand, last_at, last_loyal_at, last_churn_at FROM report_about \
                     ORDER BY platform, customer, brand",
                )
                .doing(DOING)?;
            let mut rows = stmt.query([]).doing(DOING)?;
            let mut at = 0;
            while at < order.len()
                && let Some(r) = rows.next().doing(DOING)?
            {
                let about = (text(r, 0)?, text(r, 1)?, text(r, 2)?);
                while at < order.len() && key(&answered[order[at]]) < about {
                    at += 1;
                }
                let times = (r.get(3).doing(DOING)?, r.get(4).doing(DOING)?, r.get(5).doing(DOING)?);
                while at < order.len() && key(&answered[order[at]]) == about {
                    let f = &mut answered[order[at]];
                    (f.about_ms, f.about_loyal_ms, f.about_churn_ms) = (Some(times.0), times.1, times.2);
                    at += 1;
                }
            }
        }
        // Unanswered inbound: whole days of the period from the per-day counts; the partial first and last
        // days, and later openers of a thread (whose first opener is before `since`), from the facts.
        let (first_day, end_day) = crate::report::whole_days(lo, hi);
        let mut unanswered: Vec<UnansweredDay> = Vec::new();
        let mut counted = |sql: &str, a: i64, b: i64| -> Result<()> {
            let mut stmt = self.conn.prepare_cached(sql).doing(DOING)?;
            let rows = stmt.query_map(params![a, b], unanswered_day).doing(DOING)?;
            unanswered.extend(rows.collect::<rusqlite::Result<Vec<_>>>().doing(DOING)?);
            Ok(())
        };
        const DAYS: &str =
            "SELECT brand, day, inbound FROM report_unanswered_days WHERE day >= ?1 AND day < ?2 AND inbound > 0";
        const EDGE: &str = "SELECT brand, published_at - (published_at % 86400000 + 86400000) % 86400000 AS day, \
             count(*) FROM report_facts WHERE answered = 0 AND published_at >= ?1 AND published_at < ?2 \
             AND prev_published_at IS NULL GROUP BY brand, day";
        if first_day < end_day {
            counted(DAYS, first_day, end_day)?;
            for (a, b) in [(lo, first_day), (end_day, hi)] {
                if a < b {
                    counted(EDGE, a, b)?;
                }
            }
        } else if lo < hi {
            counted(EDGE, lo, hi)?;
        }
        // Later openers of a thread count when the thread's first opener is before `since`.
        counted(
            "SELECT brand, published_at - (published_at % 86400000 + 86400000) % 86400000 AS day, count(*) \
             FROM report_facts INDEXED BY report_facts_later WHERE answered = 0 AND prev_published_at IS NOT NULL \
             AND published_at >= ?1 AND published_at < ?2 AND prev_published_at < ?1 GROUP BY brand, day",
            lo,
            hi,
        )?;
        Ok(ReportFacts { answered, unanswered })
    }
}

impl SqliteStore {
    pub(super) fn storm_responses_sqlite(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<crate::StormResponse>> {
        const DOING: &str = "reading storms and their first answers";
        // The storm case and its members (cases_by_storm); each case's first_response_at is the brand's first reply.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.brand, s.id, s.kind, s.started_at, s.detected_at, \
                 (SELECT min(x.t) FROM (SELECT c.first_response_at AS t FROM cases c WHERE c.storm_case = s.case_id \
                  UNION ALL SELECT c.first_response_at FROM cases c WHERE c.id = s.case_id) x \
                  WHERE x.t >= s.started_at) \
                 FROM storms s INDEXED BY storms_by_detection WHERE s.detected_at >= ?1 AND s.detected_at < ?2 \
                 ORDER BY s.brand, s.detected_at, s.id",
            )
            .doing(DOING)?;
        let (lo, hi) = bounds(since, until);
        let rows = stmt
            .query_map(params![lo, hi], |r| {
                Ok(crate::StormResponse {
                    brand: r.get(0)?,
                    storm_id: r.get(1)?,
                    kind: r.get(2)?,
                    started_ms: r.get(3)?,
                    detected_ms: r.get(4)?,
                    first_answer_ms: r.get(5)?,
                })
            })
            .doing(DOING)?;
        rows.collect::<rusqlite::Result<_>>().doing(DOING)
    }
}

impl SqliteStore {
    pub(super) fn report_lease_sqlite(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        const DOING: &str = "taking the report's refresh lease";
        let Some(until) = until else {
            self.conn
                .execute("UPDATE report_lease SET until = 0 WHERE id = 1 AND holder = ?1", params![holder])
                .doing(DOING)?;
            return Ok(true);
        };
        let changed = self
            .conn
            .execute(
                "INSERT INTO report_lease (id, holder, until) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET \
                 holder = excluded.holder, until = excluded.until \
                 WHERE report_lease.holder = excluded.holder OR report_lease.until <= ?3",
                params![holder, ms(until), ms(now)],
            )
            .doing(DOING)?;
        Ok(changed == 1)
    }
}
