//! Mastodon streaming over server-sent events, with REST catch-up after a gap.
//!
//! - Stream: `GET /api/v1/streaming/public`, `…/hashtag?tag=…` or `…/user` (with the access token), read
//!   with `eventsource-stream`. Every event is handed over in the streaming API's WebSocket form,
//!   `{"stream":[…],"event":"update","payload":"<status JSON>"}`, one line, which the `mastodon` decoder
//!   reads (`update` → a post; `delete` carries only a server-local id and is skipped with that reason).
//!   An event cut by a dropped connection is never dispatched (SSE dispatches on the blank line).
//! - Catch-up: once the new stream is open, `GET /api/v1/timelines/public` (`tag/:tag`, `home`) pages
//!   forward from the cursor with `min_id` (Mastodon's `since_id` would return the *newest* page and
//!   leave a hole in a long gap; `min_id` returns the statuses immediately after it), 40 at a time.
//! - The cursor is the highest status id handed over: the serving instance's id, which is what its
//!   `min_id`/`since_id` take (the post's own identity is its URI, see the decoder).

use crate::config::{MastodonStream, SourceConfig};
use crate::source::{BoxFuture, Health, Link, Record, SessionEnd, Source, SourceError, max_id, status_error};
use chrono::{DateTime, Utc};
use earshot_core::decode::Decoder;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde::Deserialize;
use std::time::Duration;

/// Silence after which a stream is taken as dead (Mastodon sends a `:thump` heartbeat every ~10 s).
pub const STALL: Duration = Duration::from_secs(60);
/// Statuses per catch-up page (Mastodon's maximum).
pub const PAGE: usize = 40;

/// The Mastodon streaming source.
#[derive(Debug)]
pub struct MastodonStreaming {
    base: String,
    stream: MastodonStream,
    tag: Option<String>,
}

#[derive(Deserialize)]
struct StatusMeta {
    id: String,
    created_at: Option<DateTime<Utc>>,
}

impl MastodonStreaming {
    /// The source of a config entry.
    pub fn new(config: &SourceConfig) -> MastodonStreaming {
        MastodonStreaming {
            base: config.url.trim_end_matches('/').to_string(),
            stream: config.stream,
            tag: config.tag.as_deref().map(|t| t.trim_start_matches('#').to_string()),
        }
    }

    fn stream_name(&self) -> &'static str {
        match self.stream {
            MastodonStream::Public => "public",
            MastodonStream::Hashtag => "hashtag",
            MastodonStream::User => "user",
        }
    }

    fn request(&self, link: &Link, path: &str) -> reqwest::RequestBuilder {
        let mut req = link.http.get(format!("{}{path}", self.base));
        if self.stream == MastodonStream::Hashtag
            && let Some(tag) = &self.tag
            && path.starts_with("/api/v1/streaming")
        {
            req = req.query(&[("tag", tag)]);
        }
        if let Some(t) = &link.token {
            req = req.bearer_auth(t);
        }
        req
    }

    fn timeline_path(&self) -> String {
        match self.stream {
            MastodonStream::Public => "/api/v1/timelines/public".into(),
            MastodonStream::Hashtag => format!("/api/v1/timelines/tag/{}", self.tag.as_deref().unwrap_or_default()),
            MastodonStream::User => "/api/v1/timelines/home".into(),
        }
    }

    fn event_line(&self, event: &str, payload: &str) -> Result<Vec<u8>, SourceError> {
        let v = serde_json::json!({"stream": [self.stream_name()], "event": event, "payload": payload});
        serde_json::to_vec(&v).map_err(|e| SourceError::Failed(e.to_string()))
    }

    async fn catch_up(&self, link: &mut Link) -> Result<(), SourceError> {
        let path = self.timeline_path();
        while let Some(min_id) = link.cursor.clone() {
            let resp = self
                .request(link, &path)
                .query(&[("min_id", min_id.as_str()), ("limit", &PAGE.to_string())])
                .send()
                .await?;
            if !resp.status().is_success() {
                return Err(status_error("timeline catch-up", resp).await);
            }
            let page: Vec<Box<serde_json::value::RawValue>> = resp.json().await?;
            let mut statuses: Vec<(StatusMeta, Box<serde_json::value::RawValue>)> = Vec::with_capacity(page.len());
            let mut unreadable = Vec::new();
            for raw in page {
                match serde_json::from_str::<StatusMeta>(raw.get()) {
                    Ok(m) => statuses.push((m, raw)),
                    Err(_) => unreadable.push(raw),
                }
            }
            // Oldest first, so the cursor only moves forward.
            statuses.sort_by(|a, b| (a.0.id.len(), &a.0.id).cmp(&(b.0.id.len(), &b.0.id)));
            let n = statuses.len() + unreadable.len();
            for raw in unreadable {
                let bytes = self.event_line("update", raw.get())?;
                link.emit(Record { bytes, cursor: None, at: None }).await?;
            }
            for (meta, raw) in statuses {
                let cursor = Some(max_id(link.cursor.as_deref(), &meta.id));
                let bytes = self.event_line("update", raw.get())?;
                link.emit(Record { bytes, cursor, at: meta.created_at }).await?;
            }
            // Until an empty page: a server may return fewer than `limit` (filtered statuses) with more to come.
            if n == 0 || link.cursor.as_deref() == Some(min_id.as_str()) {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn run(&self, link: &mut Link) -> Result<SessionEnd, SourceError> {
        let path = format!("/api/v1/streaming/{}", self.stream_name());
        let resp = self.request(link, &path).header("accept", "text/event-stream").send().await?;
        if !resp.status().is_success() {
            return Err(status_error("streaming", resp).await);
        }
        link.health(Health::Connected).await?;
        self.catch_up(link).await?;
        let mut events = resp.bytes_stream().eventsource();
        loop {
            let event = match tokio::time::timeout(STALL, events.next()).await {
                Err(_) => return Err(SourceError::Failed(format!("no event or heartbeat for {STALL:?}"))),
                Ok(None) => return Ok(SessionEnd::Closed),
                Ok(Some(Err(e))) => return Err(SourceError::Failed(format!("streaming read failed: {e}"))),
                Ok(Some(Ok(e))) => e,
            };
            let (mut cursor, mut at) = (None, None);
            if event.event == "update"
                && let Ok(m) = serde_json::from_str::<StatusMeta>(&event.data)
            {
                cursor = Some(max_id(link.cursor.as_deref(), &m.id));
                at = m.created_at;
            }
            let bytes = self.event_line(&event.event, &event.data)?;
            link.emit(Record { bytes, cursor, at }).await?;
        }
    }
}

impl Source for MastodonStreaming {
    fn decoder(&self) -> &'static dyn Decoder {
        &earshot_core::decode::mastodon::Mastodon
    }

    fn session<'a>(&'a self, link: &'a mut Link) -> BoxFuture<'a, Result<SessionEnd, SourceError>> {
        Box::pin(self.run(link))
    }
}
