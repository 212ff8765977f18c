//! X API v2 filtered stream, with recent search to back-fill gaps and as a polling fallback.
//!
//! - Rules: on the first session the configured `rules` are compared with
//!   `GET /2/tweets/search/stream/rules` and the missing ones added with `POST …/rules` (`{"add": […]}`);
//!   rules added by others are left alone.
//! - Stream: `GET /2/tweets/search/stream` with the bearer token, newline-delimited JSON, `\r\n`
//!   keep-alives every 20 s (a silence of [`STALL`] reconnects). Each non-blank line is one record for the
//!   `x-v2` decoder; a line cut by a dropped connection is discarded (the back-fill reads it again).
//! - Back-fill: X does not replay the stream, so after every reconnect, once the new stream is open (so
//!   nothing falls between the two), `GET /2/tweets/search/recent?since_id=<cursor>` reads what was
//!   missed, page by page (`next_token`); each page is one record (a response document the decoder reads
//!   whole). Recent search covers 7 days; a longer gap, or no rules to search with, is recorded as a gap.
//! - Polling fallback: when the stream endpoint is refused (403: the app has no stream access), the
//!   source polls recent search every `poll_interval` instead.
//! - The cursor is the highest tweet id handed over.

use crate::config::SourceConfig;
use crate::source::{BoxFuture, Health, Link, Record, SessionEnd, Source, SourceError, max_id, status_error};
use chrono::{DateTime, Utc};
use earshot_core::decode::Decoder;
use futures_util::StreamExt;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Silence after which a stream is taken as dead (X sends a keep-alive every 20 s).
pub const STALL: Duration = Duration::from_secs(30);

/// Fields and expansions asked for, so posts carry authors, references and media.
pub const FIELDS: &str = "tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities,public_metrics,lang,note_tweet,attachments\
&expansions=author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys\
&user.fields=username,name,public_metrics&media.fields=type,url,preview_image_url,variants";

/// The X filtered stream source.
#[derive(Debug)]
pub struct XStream {
    base: String,
    rules: Vec<String>,
    poll: Duration,
    rules_checked: AtomicBool,
    polling: AtomicBool,
    /// A back-fill cut short (429, dropped connection): the next session continues it where it stopped.
    pending: std::sync::Mutex<Option<Backfill>>,
}

/// Where a back-fill stands.
#[derive(Debug, Clone, Default)]
struct Backfill {
    since: Option<String>,
    next: Option<String>,
    newest: Option<String>,
}

#[derive(Deserialize)]
struct LineMeta {
    data: Option<TweetMeta>,
}

#[derive(Deserialize)]
struct TweetMeta {
    id: String,
    created_at: Option<DateTime<Utc>>,
}

impl XStream {
    /// The source of a config entry.
    pub fn new(config: &SourceConfig) -> XStream {
        XStream {
            base: config.url.trim_end_matches('/').to_string(),
            rules: config.rules.clone(),
            poll: config.poll_interval(),
            rules_checked: AtomicBool::new(false),
            polling: AtomicBool::new(false),
            pending: std::sync::Mutex::new(None),
        }
    }

    fn query(&self) -> Option<String> {
        match self.rules.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(many.iter().map(|r| format!("({r})")).collect::<Vec<_>>().join(" OR ")),
        }
    }

    async fn ensure_rules(&self, link: &Link, token: &str) -> Result<(), SourceError> {
        if self.rules.is_empty() || self.rules_checked.load(Ordering::Relaxed) {
            return Ok(());
        }
        let url = format!("{}/2/tweets/search/stream/rules", self.base);
        let resp = link.http.get(&url).bearer_auth(token).send().await?;
        if !resp.status().is_success() {
            return Err(status_error("GET stream rules", resp).await);
        }
        let have: serde_json::Value = resp.json().await?;
        let existing: Vec<&str> =
            have["data"].as_array().map(|a| a.iter().filter_map(|r| r["value"].as_str()).collect()).unwrap_or_default();
        let add: Vec<serde_json::Value> = self
            .rules
            .iter()
            .filter(|r| !existing.contains(&r.as_str()))
            .map(|r| serde_json::json!({"value": r, "tag": r}))
            .collect();
        if !add.is_empty() {
            let resp = link.http.post(&url).bearer_auth(token).json(&serde_json::json!({"add": add})).send().await?;
            if !resp.status().is_success() {
                return Err(status_error("POST stream rules", resp).await);
            }
        }
        self.rules_checked.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Reads recent search since the cursor, page by page, handing each page over as one record.
    async fn backfill(&self, link: &mut Link, token: &str) -> Result<(), SourceError> {
        let Some(query) = self.query() else {
            if link.cursor.is_some() {
                link.health(Health::Gap(
                    "no rules configured, so the gap since the last post cannot be searched".into(),
                ))
                .await?;
            }
            return Ok(());
        };
        // Pages come newest first: the cursor moves only once the last (oldest) page is handed over, and a
        // back-fill cut half-way continues with its next page in the next session (pages handed over are
        // committed in order before the cursor moves), instead of starting again or skipping older pages.
        let resumed = self.pending.lock().ok().and_then(|mut p| p.take());
        // Without a cursor (the very first run) the stream starts "now"; only polling reads the newest page,
        // to have a cursor to continue from, rather than paging through a week of history.
        let first_poll = resumed.is_none() && link.cursor.is_none();
        if first_poll && !self.polling.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Backfill { since, mut next, newest: mut newest_seen } =
            resumed.unwrap_or(Backfill { since: link.cursor.clone(), next: None, newest: None });
        let remember = |next: &Option<String>, newest: &Option<String>| {
            if let Ok(mut p) = self.pending.lock() {
                *p = Some(Backfill { since: since.clone(), next: next.clone(), newest: newest.clone() });
            }
        };
        loop {
            remember(&next, &newest_seen);
            let mut req = link
                .http
                .get(format!("{}/2/tweets/search/recent?{FIELDS}", self.base))
                .bearer_auth(token)
                .query(&[("query", query.as_str()), ("max_results", "100")]);
            if let Some(s) = &since {
                req = req.query(&[("since_id", s.as_str())]);
            }
            if let Some(t) = &next {
                req = req.query(&[("next_token", t.as_str())]);
            }
            let resp = req.send().await?;
            if resp.status().as_u16() == 400 {
                // since_id older than the 7 days recent search covers: the rest of the gap is gone.
                let body = resp.text().await.unwrap_or_default();
                link.health(Health::Gap(format!("recent search refused the back-fill: {}", body.trim()))).await?;
                return Ok(());
            }
            if !resp.status().is_success() {
                return Err(status_error("recent search", resp).await);
            }
            let page: serde_json::Value = resp.json().await?;
            let newest = page["meta"]["newest_id"].as_str().map(str::to_string);
            next = page["meta"]["next_token"].as_str().filter(|_| !first_poll).map(str::to_string);
            if page.get("data").is_some_and(|d| d.as_array().is_some_and(|a| !a.is_empty())) {
                let at = page["data"][0]["created_at"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
                if let Some(n) = newest {
                    newest_seen = Some(max_id(newest_seen.as_deref(), &n));
                }
                // Compact JSON has no raw newlines, so the page is one line for the x-v2 decoder.
                let bytes = serde_json::to_vec(&page).map_err(|e| SourceError::Failed(e.to_string()))?;
                link.emit(Record { bytes, cursor: None, at }).await?;
            }
            if next.is_none() {
                if let Ok(mut p) = self.pending.lock() {
                    *p = None;
                }
                if let Some(n) = newest_seen {
                    link.checkpoint(max_id(link.cursor.as_deref(), &n)).await?;
                }
                return Ok(());
            }
        }
    }

    async fn run(&self, link: &mut Link) -> Result<SessionEnd, SourceError> {
        let token = link.token.clone().ok_or_else(|| SourceError::Failed("x_stream needs a bearer token".into()))?;
        self.ensure_rules(link, &token).await?;
        if self.polling.load(Ordering::Relaxed) {
            self.backfill(link, &token).await?;
            link.health(Health::Idle).await?;
            return Ok(SessionEnd::Wait(self.poll));
        }
        let resp =
            link.http.get(format!("{}/2/tweets/search/stream?{FIELDS}", self.base)).bearer_auth(&token).send().await?;
        if resp.status().as_u16() == 403 && self.query().is_some() {
            tracing::warn!(url = %self.base, "filtered stream refused (403); polling recent search instead");
            self.polling.store(true, Ordering::Relaxed);
            return Ok(SessionEnd::Wait(Duration::ZERO));
        }
        if !resp.status().is_success() {
            return Err(status_error("filtered stream", resp).await);
        }
        link.health(Health::Connected).await?;
        // The stream is open (its start is fixed), so back-filling now leaves no hole between the two.
        let resuming = self.pending.lock().is_ok_and(|p| p.is_some());
        self.backfill(link, &token).await?;
        if resuming {
            // The finished back-fill ended where it started, sessions ago; what came since is searched now.
            self.backfill(link, &token).await?;
        }
        let mut body = resp.bytes_stream();
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        loop {
            let chunk = match tokio::time::timeout(STALL, body.next()).await {
                Err(_) => return Err(SourceError::Failed(format!("no data or keep-alive for {STALL:?}"))),
                Ok(None) => return Ok(SessionEnd::Closed),
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(Some(Ok(c))) => c,
            };
            buf.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
                let line = trim(&buf[start..start + nl]);
                start += nl + 1;
                if line.is_empty() {
                    continue; // keep-alive
                }
                let meta = serde_json::from_slice::<LineMeta>(line).ok().and_then(|m| m.data);
                let cursor = meta.as_ref().map(|m| max_id(link.cursor.as_deref(), &m.id));
                let at = meta.and_then(|m| m.created_at);
                link.emit(Record { bytes: line.to_vec(), cursor, at }).await?;
            }
            buf.drain(..start);
        }
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    let start = line[..end].iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(end);
    &line[start..end]
}

impl Source for XStream {
    fn decoder(&self) -> &'static dyn Decoder {
        &earshot_core::decode::x_v2::XV2
    }

    fn session<'a>(&'a self, link: &'a mut Link) -> BoxFuture<'a, Result<SessionEnd, SourceError>> {
        Box::pin(self.run(link))
    }
}
