//! Mastodon streaming over server-sent events or a WebSocket, with REST catch-up after a gap.
//!
//! - Stream (`transport = "sse"`, the default): `GET /api/v1/streaming/public`, `…/hashtag?tag=…` or `…/user`
//!   (with the access token), read with `eventsource-stream`. An event cut by a dropped connection is never
//!   dispatched (SSE dispatches on the blank line).
//! - Stream (`transport = "websocket"`): `GET /api/v1/streaming?stream=public` (`hashtag&tag=…`, `user`)
//!   upgraded to a WebSocket, the token in the `Authorization` header (never in the URL, which proxies log);
//!   each text message is one event, `{"stream":[…],"event":"update","payload":"<status JSON>"}`.
//! - Every event is handed over in that WebSocket form, one line, which the `mastodon` decoder reads
//!   (`update` → a post; `delete` carries only a server-local id and is skipped with that reason).
//! - Catch-up: once the new stream is open, `GET /api/v1/timelines/public` (`tag/:tag`, `home`) pages
//!   forward from the cursor with `min_id` (Mastodon's `since_id` would return the *newest* page and
//!   leave a hole in a long gap; `min_id` returns the statuses immediately after it), 40 at a time.
//! - The cursor is the highest status id handed over: the serving instance's id, which is what its
//!   `min_id`/`since_id` take (the post's own identity is its URI, see the decoder).

use crate::config::{MastodonStream, MastodonTransport, SourceConfig};
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
    transport: MastodonTransport,
}

#[derive(Deserialize)]
struct WsEvent {
    event: String,
    payload: Option<String>,
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
            transport: config.transport,
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

    /// The WebSocket URL of the stream: the base URL's scheme turned into `ws`/`wss`.
    pub fn websocket_url(&self) -> String {
        let (scheme, rest) = match self.base.split_once("://") {
            Some(("https", rest)) => ("wss", rest),
            Some((_, rest)) => ("ws", rest),
            None => ("ws", self.base.as_str()),
        };
        let mut params = vec![("stream", self.stream_name())];
        if self.stream == MastodonStream::Hashtag
            && let Some(tag) = &self.tag
        {
            params.push(("tag", tag));
        }
        match reqwest::Url::parse_with_params(&format!("{scheme}://{rest}/api/v1/streaming"), &params) {
            Ok(u) => u.to_string(),
            Err(_) => format!("{scheme}://{rest}/api/v1/streaming?stream={}", self.stream_name()),
        }
    }

    /// The cursor and time an `update` event's status moves the source to.
    fn advance(link: &Link, event: &str, data: &str) -> (Option<String>, Option<DateTime<Utc>>) {
        if event == "update"
            && let Ok(m) = serde_json::from_str::<StatusMeta>(data)
        {
            return (Some(max_id(link.cursor.as_deref(), &m.id)), m.created_at);
        }
        (None, None)
    }

    async fn run_websocket(&self, link: &mut Link) -> Result<SessionEnd, SourceError> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = self.websocket_url();
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| SourceError::Failed(format!("bad streaming URL {url}: {e}")))?;
        if let Some(t) = &link.token {
            let value = format!("Bearer {t}")
                .parse()
                .map_err(|_| SourceError::Failed("the access token is not a valid header value".into()))?;
            request.headers_mut().insert("authorization", value);
        }
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| crate::source::websocket_error("mastodon streaming", &self.base, e))?;
        link.health(Health::Connected).await?;
        self.catch_up(link).await?;
        loop {
            let Some(bytes) = crate::source::next_websocket_message(&mut ws, "mastodon streaming", STALL).await? else {
                return Ok(SessionEnd::Closed);
            };
            // The message is already the event line the decoder reads; only the cursor is looked up here.
            let (cursor, at) = match serde_json::from_slice::<WsEvent>(&bytes) {
                Ok(e) => Self::advance(link, &e.event, e.payload.as_deref().unwrap_or_default()),
                Err(_) => (None, None),
            };
            let bytes = if bytes.contains(&b'\n') { crate::jetstream::one_line(bytes) } else { bytes };
            link.emit(Record { bytes, cursor, at }).await?;
        }
    }

    async fn run(&self, link: &mut Link) -> Result<SessionEnd, SourceError> {
        if self.transport == MastodonTransport::Websocket {
            return self.run_websocket(link).await;
        }
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
            let (cursor, at) = Self::advance(link, &event.event, &event.data);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn source(entry: &str) -> MastodonStreaming {
        MastodonStreaming::new(&toml::from_str::<SourceConfig>(entry).unwrap())
    }

    #[test]
    fn websocket_urls_follow_the_base_scheme_and_stream() {
        let s = source("kind = \"mastodon\"\nurl = \"https://mastodon.social/\"\ntransport = \"websocket\"");
        assert_eq!(s.transport, MastodonTransport::Websocket);
        assert_eq!(s.websocket_url(), "wss://mastodon.social/api/v1/streaming?stream=public");
        let s = source("kind = \"mastodon\"\nurl = \"http://127.0.0.1:9\"\nstream = \"hashtag\"\ntag = \"#café ok\"");
        assert_eq!(s.transport, MastodonTransport::Sse, "SSE unless asked");
        assert_eq!(s.websocket_url(), "ws://127.0.0.1:9/api/v1/streaming?stream=hashtag&tag=caf%C3%A9+ok");
    }

    #[test]
    fn transport_is_a_mastodon_setting() {
        let err = crate::config::sources_from_toml(
            "[[sources]]\nkind = \"feed\"\nurl = \"http://a\"\ntransport = \"websocket\"",
            |_| None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("transport is a Mastodon setting"), "{err}");
    }
}
