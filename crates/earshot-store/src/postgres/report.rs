//! The report's pre-aggregated facts on PostgreSQL (migration 0004), as SQLite's; see [`crate::report`].
//! Writes are set-based (`unnest` of one array per column), one statement per table.

use super::{Param, PostgresStore, clean, parse_json, via_from};
use crate::{
    ConversationRow, Doing, ReportAccountInputs, ReportCare, ReportFact, ReportFacts, ReportPair, ReportState,
    ReportWrite, Result, UnansweredDay,
};
use chrono::{DateTime, Utc};
use earshot_core::brand::Attribution;
use postgres::Row;

/// The columns of a [`ConversationRow`] (0–14), as `conversation_rows` reads them; `p` is posts, `a` post_analysis.
pub(super) const CONVERSATION: &str = "p.id, p.platform, p.native_id, p.author_handle, p.author_care, p.brand_author, \
     (SELECT string_agg(b.brand || E'\\t' || b.via, E'\\n' ORDER BY b.brand COLLATE \"C\") \
      FROM post_brands b WHERE b.post_id = p.id), \
     p.mentions, p.published_at, p.reply_to, p.conversation_id, a.sentiment, a.compound, \
     strpos(a.analysis, '\"kind\":\"churn_threat\"') > 0, strpos(a.analysis, '\"kind\":\"loyalty\"') > 0";

/// Reads a [`ConversationRow`] from the [`CONVERSATION`] columns.
pub(super) fn conversation(r: &Row) -> Result<ConversationRow, postgres::Error> {
    let brands = r
        .try_get::<_, Option<String>>(6)?
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(brand, via)| Attribution { brand: brand.to_string(), via: via_from(via) })
                .collect()
        })
        .unwrap_or_default();
    Ok(ConversationRow {
        id: r.try_get(0)?,
        platform: r.try_get(1)?,
        native_id: r.try_get(2)?,
        author_handle: r.try_get(3)?,
        author_care: r.try_get(4)?,
        brand_author: r.try_get(5)?,
        brands,
        mentions: parse_json(r.try_get(7)?),
        published_at: r.try_get(8)?,
        reply_to: r.try_get(9)?,
        conversation_id: r.try_get(10)?,
        sentiment: r.try_get(11)?,
        compound: r.try_get(12)?,
        churn: r.try_get::<_, Option<bool>>(13)?.unwrap_or(false),
        loyalty: r.try_get::<_, Option<bool>>(14)?.unwrap_or(false),
    })
}

fn with_thread(rows: Vec<Row>, doing: &'static str) -> Result<Vec<(ConversationRow, Option<String>)>> {
    rows.iter().map(|r| Ok((conversation(r)?, r.try_get(15)?))).collect::<Result<_, postgres::Error>>().doing(doing)
}

impl PostgresStore {
    pub(super) fn report_state_pg(&self) -> Result<Option<ReportState>> {
        const DOING: &str = "reading the report's state";
        let row = self
            .conn()?
            .query_opt("SELECT fingerprint, through_id, posts FROM report_state WHERE id = 1", &[])
            .doing(DOING)?;
        row.map(|r| -> Result<_, postgres::Error> {
            Ok(ReportState {
                fingerprint: r.try_get(0)?,
                through_id: r.try_get(1)?,
                posts: r.try_get::<_, i64>(2)? as u64,
            })
        })
        .transpose()
        .doing(DOING)
    }

    pub(super) fn report_new_rows_pg(
        &self,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        const DOING: &str = "reading new posts for the report";
        let sql = format!(
            "SELECT {CONVERSATION}, t.thread FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id \
             LEFT JOIN report_post_threads t ON t.post_id = p.id WHERE p.id > $1 ORDER BY p.id LIMIT $2"
        );
        let rows = self.conn()?.query(&sql, &[&after_id, &(limit as i64)]).doing(DOING)?;
        with_thread(rows, DOING)
    }

    pub(super) fn report_rows_by_native_pg(
        &self,
        platform: &str,
        native_ids: &[String],
    ) -> Result<Vec<(ConversationRow, Option<String>)>> {
        const DOING: &str = "reading parent posts for the report";
        let sql = format!(
            "SELECT {CONVERSATION}, t.thread FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id \
             LEFT JOIN report_post_threads t ON t.post_id = p.id \
             WHERE p.platform = $1 AND p.native_id = ANY($2)"
        );
        let rows = self.conn()?.query(&sql, &[&platform, &native_ids]).doing(DOING)?;
        with_thread(rows, DOING)
    }

    pub(super) fn report_children_pg(
        &self,
        platform: &str,
        native_ids: &[String],
        max_id: i64,
    ) -> Result<Vec<(String, String)>> {
        const DOING: &str = "reading replies that arrived before their parent";
        let rows = self
            .conn()?
            .query(
                "SELECT p.reply_to, t.thread FROM posts p JOIN report_post_threads t ON t.post_id = p.id \
                 WHERE p.platform = $1 AND p.reply_to = ANY($2) AND p.id <= $3",
                &[&platform, &native_ids, &max_id],
            )
            .doing(DOING)?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, postgres::Error>>().doing(DOING)
    }

    pub(super) fn report_threads_pg(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        const DOING: &str = "listing report threads";
        let rows = self
            .conn()?
            .query(
                "SELECT DISTINCT thread COLLATE \"C\" FROM report_post_threads \
                 WHERE $1::text IS NULL OR thread COLLATE \"C\" > $1::text COLLATE \"C\" \
                 ORDER BY 1 LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .doing(DOING)?;
        rows.iter().map(|r| r.try_get(0)).collect::<Result<_, postgres::Error>>().doing(DOING)
    }

    pub(super) fn report_thread_rows_pg(&self, threads: &[String]) -> Result<Vec<(String, ConversationRow)>> {
        const DOING: &str = "reading report threads";
        let sql = format!(
            "SELECT {CONVERSATION}, t.thread FROM report_post_threads t JOIN posts p ON p.id = t.post_id \
             LEFT JOIN post_analysis a ON a.post_id = p.id WHERE t.thread = ANY($1)"
        );
        let rows = self.conn()?.query(&sql, &[&threads]).doing(DOING)?;
        rows.iter().map(|r| Ok((r.try_get(15)?, conversation(r)?))).collect::<Result<_, postgres::Error>>().doing(DOING)
    }

    pub(super) fn report_account_inputs_pg(&self, min_customers: usize) -> Result<ReportAccountInputs> {
        const DOING: &str = "reading brand-account discovery inputs";
        let mut conn = self.conn()?;
        let care = conn
            .query(
                "SELECT platform, handle_norm, brand_author, handle, published_at, post_id FROM report_care \
                 ORDER BY published_at, post_id",
                &[],
            )
            .doing(DOING)?
            .iter()
            .map(|r| -> Result<_, postgres::Error> {
                Ok(ReportCare {
                    platform: r.try_get(0)?,
                    handle_norm: r.try_get(1)?,
                    brand_author: r.try_get(2)?,
                    handle: r.try_get(3)?,
                    published_ms: r.try_get(4)?,
                    post_id: r.try_get(5)?,
                })
            })
            .collect::<Result<_, _>>()
            .doing(DOING)?;
        let pairs = conn
            .query(
                "SELECT platform, replier, customer, replier_brand_author, customer_brand_author, replier_handle, \
                 published_at, post_id FROM report_pairs WHERE replier IN (SELECT replier FROM report_pairs \
                 GROUP BY replier HAVING count(DISTINCT customer) >= $1) ORDER BY published_at, post_id",
                &[&(min_customers as i64)],
            )
            .doing(DOING)?
            .iter()
            .map(|r| -> Result<_, postgres::Error> {
                Ok(ReportPair {
                    platform: r.try_get(0)?,
                    replier: r.try_get(1)?,
                    customer: r.try_get(2)?,
                    replier_brand_author: r.try_get(3)?,
                    customer_brand_author: r.try_get(4)?,
                    replier_handle: r.try_get(5)?,
                    published_ms: r.try_get(6)?,
                    post_id: r.try_get(7)?,
                })
            })
            .collect::<Result<_, _>>()
            .doing(DOING)?;
        Ok(ReportAccountInputs { care, pairs })
    }

    /// Rows within one write must be unique per key (an upsert may not touch a row twice): the report's
    /// refresh merges them before writing.
    pub(super) fn write_report_pg(&mut self, w: &ReportWrite) -> Result<()> {
        const DOING: &str = "writing report facts";
        let mut tx = self.conn_mut()?.transaction().doing("starting a transaction")?;
        if w.reset_facts {
            tx.batch_execute("DELETE FROM report_facts; DELETE FROM report_about; DELETE FROM report_unanswered_days;")
                .doing(DOING)?;
        }
        for (old, new) in &w.renames {
            tx.execute("UPDATE report_post_threads SET thread = $2 WHERE thread = $1", &[old, new]).doing(DOING)?;
            tx.execute("DELETE FROM report_facts WHERE thread = $1", &[old]).doing(DOING)?;
        }
        if !w.threads.is_empty() {
            let ids: Vec<i64> = w.threads.iter().map(|t| t.0).collect();
            let threads: Vec<&str> = w.threads.iter().map(|t| t.1.as_str()).collect();
            tx.execute(
                "INSERT INTO report_post_threads (post_id, thread) SELECT * FROM unnest($1::bigint[], $2::text[]) \
                 ON CONFLICT (post_id) DO UPDATE SET thread = excluded.thread",
                &[&ids, &threads],
            )
            .doing(DOING)?;
        }
        if !w.care.is_empty() {
            let c = &w.care;
            let s = |f: fn(&ReportCare) -> &str| c.iter().map(|x| clean(f(x)).into_owned()).collect::<Vec<_>>();
            let i = |f: fn(&ReportCare) -> i64| c.iter().map(f).collect::<Vec<_>>();
            tx.execute(
                "INSERT INTO report_care (platform, handle_norm, brand_author, handle, published_at, post_id) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) \
                 ON CONFLICT (platform, handle_norm, brand_author) DO UPDATE SET handle = excluded.handle, \
                 published_at = excluded.published_at, post_id = excluded.post_id \
                 WHERE (excluded.published_at, excluded.post_id) < (report_care.published_at, report_care.post_id)",
                &[
                    &s(|x| &x.platform),
                    &s(|x| &x.handle_norm),
                    &s(|x| &x.brand_author),
                    &s(|x| &x.handle),
                    &i(|x| x.published_ms),
                    &i(|x| x.post_id),
                ],
            )
            .doing(DOING)?;
        }
        if !w.pairs.is_empty() {
            let c = &w.pairs;
            let s = |f: fn(&ReportPair) -> &str| c.iter().map(|x| clean(f(x)).into_owned()).collect::<Vec<_>>();
            let i = |f: fn(&ReportPair) -> i64| c.iter().map(f).collect::<Vec<_>>();
            tx.execute(
                "INSERT INTO report_pairs (platform, replier, customer, replier_brand_author, customer_brand_author, \
                 replier_handle, published_at, post_id) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::bigint[], $8::bigint[]) \
                 ON CONFLICT (platform, replier, customer, replier_brand_author, customer_brand_author) DO UPDATE SET \
                 replier_handle = excluded.replier_handle, published_at = excluded.published_at, \
                 post_id = excluded.post_id \
                 WHERE (excluded.published_at, excluded.post_id) < (report_pairs.published_at, report_pairs.post_id)",
                &[
                    &s(|x| &x.platform),
                    &s(|x| &x.replier),
                    &s(|x| &x.customer),
                    &s(|x| &x.replier_brand_author),
                    &s(|x| &x.customer_brand_author),
                    &s(|x| &x.replier_handle),
                    &i(|x| x.published_ms),
                    &i(|x| x.post_id),
                ],
            )
            .doing(DOING)?;
        }
        if !w.replace_facts_of.is_empty() {
            tx.execute("DELETE FROM report_facts WHERE thread = ANY($1)", &[&w.replace_facts_of]).doing(DOING)?;
        }
        if !w.facts.is_empty() {
            let f = &w.facts;
            let s = |g: fn(&ReportFact) -> &str| f.iter().map(|x| clean(g(x)).into_owned()).collect::<Vec<_>>();
            let i = |g: fn(&ReportFact) -> i64| f.iter().map(g).collect::<Vec<_>>();
            let o = |g: fn(&ReportFact) -> Option<i64>| f.iter().map(g).collect::<Vec<_>>();
            let b = |g: fn(&ReportFact) -> bool| f.iter().map(g).collect::<Vec<_>>();
            let resolution: Vec<Option<bool>> = f.iter().map(|x| x.resolution).collect();
            let recovery: Vec<Option<f64>> = f.iter().map(|x| x.recovery).collect();
            let params: [Param<'_>; 14] = [
                &s(|x| &x.thread),
                &s(|x| &x.brand),
                &i(|x| x.post_id),
                &s(|x| &x.platform),
                &s(|x| &x.customer),
                &i(|x| x.published_ms),
                &o(|x| x.prev_published_ms),
                &o(|x| x.first_reply_ms),
                &i(|x| x.brand_posts),
                &resolution,
                &recovery,
                &b(|x| x.after_any),
                &b(|x| x.after_loyal),
                &b(|x| x.after_churn),
            ];
            tx.execute(
                "INSERT INTO report_facts (thread, brand, post_id, platform, customer, published_at, \
                 prev_published_at, first_reply_at, brand_posts, resolution, recovery, after_any, after_loyal, \
                 after_churn) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], \
                 $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[], $11::float8[], $12::boolean[], \
                 $13::boolean[], $14::boolean[])",
                &params,
            )
            .doing(DOING)?;
        }
        if !w.about.is_empty() {
            let a = &w.about;
            let s = |g: fn(&crate::ReportAbout) -> &str| a.iter().map(|x| clean(g(x)).into_owned()).collect::<Vec<_>>();
            let last: Vec<i64> = a.iter().map(|x| x.last_ms).collect();
            let loyal: Vec<Option<i64>> = a.iter().map(|x| x.last_loyal_ms).collect();
            let churn: Vec<Option<i64>> = a.iter().map(|x| x.last_churn_ms).collect();
            tx.execute(
                "INSERT INTO report_about (platform, customer, brand, last_at, last_loyal_at, last_churn_at) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) \
                 ON CONFLICT (platform, customer, brand) DO UPDATE SET \
                 last_at = greatest(report_about.last_at, excluded.last_at), \
                 last_loyal_at = greatest(report_about.last_loyal_at, excluded.last_loyal_at), \
                 last_churn_at = greatest(report_about.last_churn_at, excluded.last_churn_at)",
                &[&s(|x| &x.platform), &s(|x| &x.customer), &s(|x| &x.brand), &last, &loyal, &churn],
            )
            .doing(DOING)?;
        }
        if let Some(s) = &w.state {
            tx.execute(
                "INSERT INTO report_state (id, fingerprint, through_id, posts) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 through_id = excluded.through_id, posts = excluded.posts",
                &[&s.fingerprint, &s.through_id, &(s.posts as i64)],
            )
            .doing(DOING)?;
        }
        tx.commit().doing("committing report facts")
    }

    pub(super) fn report_facts_pg(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<ReportFacts> {
        const DOING: &str = "reading report facts";
        let lo = since.map_or(i64::MIN, |t| t.timestamp_millis());
        let hi = until.map_or(i64::MAX, |t| t.timestamp_millis());
        let mut conn = self.conn()?;
        let rows = conn
            .query(
                "SELECT f.brand, f.post_id, f.customer, f.published_at, f.prev_published_at, f.first_reply_at, \
                 f.brand_posts, f.resolution, f.recovery, f.after_any, f.after_loyal, f.after_churn, \
                 a.last_at, a.last_loyal_at, a.last_churn_at \
                 FROM report_facts f LEFT JOIN report_about a \
                 ON a.platform = f.platform AND a.customer = f.customer AND a.brand = f.brand \
                 WHERE f.first_reply_at IS NOT NULL AND f.published_at >= $1 AND f.published_at < $2",
                &[&lo, &hi],
            )
            .doing(DOING)?;
        let answered = rows
            .iter()
            .map(|r| -> Result<_, postgres::Error> {
                Ok(ReportFact {
                    thread: String::new(),
                    brand: r.try_get(0)?,
                    post_id: r.try_get(1)?,
                    platform: String::new(),
                    customer: r.try_get(2)?,
                    published_ms: r.try_get(3)?,
                    prev_published_ms: r.try_get(4)?,
                    first_reply_ms: r.try_get(5)?,
                    brand_posts: r.try_get(6)?,
                    resolution: r.try_get(7)?,
                    recovery: r.try_get(8)?,
                    after_any: r.try_get(9)?,
                    after_loyal: r.try_get(10)?,
                    after_churn: r.try_get(11)?,
                    about_ms: r.try_get(12)?,
                    about_loyal_ms: r.try_get(13)?,
                    about_churn_ms: r.try_get(14)?,
                })
            })
            .collect::<Result<_, _>>()
            .doing(DOING)?;
        // Unanswered inbound: whole days of the period from the per-day counts; the partial first and last
        // days, and later openers of a thread (whose first opener is before `since`), from the facts.
        let (first_day, end_day) = crate::report::whole_days(lo, hi);
        let mut unanswered: Vec<UnansweredDay> = Vec::new();
        let mut counted = |sql: &str, a: i64, b: i64| -> Result<()> {
            for r in conn.query(sql, &[&a, &b]).doing(DOING)? {
                let day = || -> Result<_, postgres::Error> {
                    Ok(UnansweredDay {
                        brand: r.try_get(0)?,
                        day_ms: r.try_get(1)?,
                        inbound: r.try_get::<_, i64>(2)? as u64,
                    })
                };
                unanswered.push(day().doing(DOING)?);
            }
            Ok(())
        };
        const DAYS: &str =
            "SELECT brand, day, inbound FROM report_unanswered_days WHERE day >= $1 AND day < $2 AND inbound > 0";
        const EDGE: &str = "SELECT brand, published_at - mod(mod(published_at, 86400000) + 86400000, 86400000) AS day, \
             count(*) FROM report_facts WHERE first_reply_at IS NULL AND published_at >= $1 AND published_at < $2 \
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
        counted(
            "SELECT brand, published_at - mod(mod(published_at, 86400000) + 86400000, 86400000) AS day, count(*) \
             FROM report_facts WHERE first_reply_at IS NULL AND prev_published_at IS NOT NULL \
             AND published_at >= $1 AND published_at < $2 AND prev_published_at < $1 GROUP BY brand, day",
            lo,
            hi,
        )?;
        Ok(ReportFacts { answered, unanswered })
    }
}

impl PostgresStore {
    pub(super) fn storm_responses_pg(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<crate::StormResponse>> {
        const DOING: &str = "reading storms and their first answers";
        let mut conds = vec!["true".to_string()];
        let args = super::period_conds("s.detected_at", since, until, &mut conds);
        let sql = format!(
            "SELECT s.brand, s.id, s.kind, s.started_at, s.detected_at, \
             (SELECT min(x.t) FROM (SELECT c.first_response_at AS t FROM cases c WHERE c.storm_case = s.case_id \
              UNION ALL SELECT c.first_response_at FROM cases c WHERE c.id = s.case_id) x \
              WHERE x.t >= s.started_at) \
             FROM storms s WHERE {} ORDER BY lower(s.brand) COLLATE \"C\", s.detected_at, s.id COLLATE \"C\"",
            conds.join(" AND ")
        );
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let rows = self.conn()?.query(&sql, &params).doing(DOING)?;
        let ms = |t: DateTime<Utc>| t.timestamp_millis();
        rows.iter()
            .map(|r| -> Result<_, postgres::Error> {
                Ok(crate::StormResponse {
                    brand: r.try_get(0)?,
                    storm_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    started_ms: ms(r.try_get(3)?),
                    detected_ms: ms(r.try_get(4)?),
                    first_answer_ms: r.try_get::<_, Option<DateTime<Utc>>>(5)?.map(ms),
                })
            })
            .collect::<Result<_, _>>()
            .doing(DOING)
    }
}

impl PostgresStore {
    pub(super) fn report_lease_pg(
        &mut self,
        holder: &str,
        now: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        const DOING: &str = "taking the report's refresh lease";
        let conn = self.conn_mut()?;
        let Some(until) = until else {
            conn.execute("UPDATE report_lease SET until = 0 WHERE id = 1 AND holder = $1", &[&holder]).doing(DOING)?;
            return Ok(true);
        };
        let changed = conn
            .execute(
                "INSERT INTO report_lease (id, holder, until) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET \
                 holder = excluded.holder, until = excluded.until \
                 WHERE report_lease.holder = excluded.holder OR report_lease.until <= $3",
                &[&holder, &until.timestamp_millis(), &now.timestamp_millis()],
            )
            .doing(DOING)?;
        Ok(changed == 1)
    }
}
