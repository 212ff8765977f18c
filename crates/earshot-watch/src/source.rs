//! The [`Source`] trait every kind implements, the [`Link`] a source talks to the writer through, and the
//! registry ([`source_for`]) mapping a config kind to its implementation.
//!
//! A source only speaks its platform's protocol: it connects (resuming from [`Link::cursor`]), hands every
//! record over as the platform sent it, with the cursor that record advances to, and returns when the
//! connection ends. Reconnecting, backoff, health and committing are the driver's and the writer's jobs
//! (`run.rs`), the same for every kind.

use crate::config::{Kind, SourceConfig};
use chrono::{DateTime, Utc};
use earshot_core::decode::Decoder;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;

/// A boxed future, so that [`Source`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One record as the platform sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The bytes, in the format of the source's decoder (one JSON value without newlines for line formats).
    pub bytes: Vec<u8>,
    /// The cursor once this record is committed (`None`: it does not move the cursor, e.g. a malformed event).
    pub cursor: Option<String>,
    /// The platform's own time for the record, to measure lag.
    pub at: Option<DateTime<Utc>>,
}

/// What changed about a source's connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Connected (or a poll answered).
    Connected,
    /// Waiting before the next poll; nothing wrong.
    Idle,
    /// Waiting to reconnect after an error. `failing` once errors keep coming.
    BackingOff {
        /// What went wrong.
        error: String,
        /// Repeated failures without a record in between.
        failing: bool,
    },
    /// Posts may have been missed and the platform offers no way to read them again.
    Gap(String),
}

/// What readers send the writer.
#[derive(Debug)]
pub enum Msg {
    /// A record of source `source` (index in the config).
    Record(usize, Record),
    /// A health change of source `source`.
    Health(usize, Health),
}

/// How a session ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The server closed the stream; reconnect.
    Closed,
    /// A poll finished; poll again after this long.
    Wait(Duration),
}

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The platform said to slow down (429, or 503 with `Retry-After`).
    #[error("rate limited ({reason}); retrying in {wait:?}")]
    RateLimited {
        /// How long the platform asked to wait.
        wait: Duration,
        /// The status and headers that said so.
        reason: String,
    },
    /// A connection, HTTP or protocol error; retried with backoff.
    #[error("{0}")]
    Failed(String),
    /// The platform refused the token (401/403): expired, revoked or lacking a scope. Retried with backoff in
    /// case it is replaced, but the source counts as failing at once.
    #[error("{0}")]
    Unauthorized(String),
    /// The watch is shutting down.
    #[error("stopped")]
    Stopped,
}

impl From<reqwest::Error> for SourceError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's Display omits the cause ("error sending request"); the chain says what happened.
        let mut msg = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            msg.push_str(": ");
            msg.push_str(&c.to_string());
            cause = c.source();
        }
        SourceError::Failed(msg)
    }
}

/// A source's line to the writer, and what it resumes from.
#[derive(Debug)]
pub struct Link {
    index: usize,
    tx: mpsc::Sender<Msg>,
    /// The cursor of the last record handed over (committed ones on start): where the next session resumes.
    pub cursor: Option<String>,
    /// The token from `token_env`, when configured.
    pub token: Option<String>,
    /// A shared HTTP client (keep-alive, TLS set up once).
    pub http: reqwest::Client,
    /// Records handed over in the current session.
    pub delivered: u64,
}

impl Link {
    /// A link for source `index`.
    pub fn new(
        index: usize,
        tx: mpsc::Sender<Msg>,
        cursor: Option<String>,
        token: Option<String>,
        http: reqwest::Client,
    ) -> Link {
        Link { index, tx, cursor, token, http, delivered: 0 }
    }

    /// Hands a record to the writer. Waits while the writer's queue is full: this is the back-pressure
    /// that slows reading during a burst instead of growing memory.
    pub async fn emit(&mut self, record: Record) -> Result<(), SourceError> {
        if let Some(c) = &record.cursor {
            self.cursor = Some(c.clone());
        }
        self.delivered += 1;
        self.tx.send(Msg::Record(self.index, record)).await.map_err(|_| SourceError::Stopped)
    }

    /// Moves the cursor once everything handed over before is committed, without a record of its own (an
    /// empty record, which the writer does not decode): for back-fills read newest first, whose pages must
    /// all be committed before the cursor may pass them.
    pub async fn checkpoint(&mut self, cursor: String) -> Result<(), SourceError> {
        self.cursor = Some(cursor.clone());
        self.tx
            .send(Msg::Record(self.index, Record { bytes: Vec::new(), cursor: Some(cursor), at: None }))
            .await
            .map_err(|_| SourceError::Stopped)
    }

    /// Reports a health change.
    pub async fn health(&self, health: Health) -> Result<(), SourceError> {
        self.tx.send(Msg::Health(self.index, health)).await.map_err(|_| SourceError::Stopped)
    }
}

/// One kind of live source.
pub trait Source: Send + Sync {
    /// The decoder of the records this source hands over.
    fn decoder(&self) -> &'static dyn Decoder;
    /// Connects (or polls once), resuming from `link.cursor`, hands records over until the connection ends.
    fn session<'a>(&'a self, link: &'a mut Link) -> BoxFuture<'a, Result<SessionEnd, SourceError>>;
}

/// The registry: the implementation of each kind.
pub fn source_for(config: &SourceConfig) -> Box<dyn Source> {
    match config.kind {
        Kind::XStream => Box::new(crate::x::XStream::new(config)),
        Kind::Mastodon => Box::new(crate::mastodon::MastodonStreaming::new(config)),
        Kind::BlueskyJetstream => Box::new(crate::jetstream::Jetstream::new(config)),
        Kind::Feed => Box::new(crate::feed::FeedPoll::new(config)),
    }
}

/// How long a 429/503 response asks to wait: `Retry-After` (seconds or an HTTP date), X's
/// `x-rate-limit-reset` (epoch seconds), Mastodon's `X-RateLimit-Reset` (an ISO 8601 time).
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let until = |t: DateTime<Utc>| (t - now).to_std().ok().or(Some(Duration::ZERO));
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(t) = DateTime::parse_from_rfc2822(v) {
            return until(t.with_timezone(&Utc));
        }
    }
    if let Some(v) = get("x-rate-limit-reset").or(get("x-ratelimit-reset")).or(get("ratelimit-reset")) {
        if let Ok(epoch) = v.parse::<i64>() {
            return DateTime::from_timestamp(epoch, 0).and_then(until);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(v) {
            return until(t.with_timezone(&Utc));
        }
    }
    None
}

/// Turns a non-success HTTP status into the session's error: 429 (and 503 with a wait) as rate limiting,
/// anything else as a failure naming the status and the start of the body.
pub async fn status_error(what: &str, resp: reqwest::Response) -> SourceError {
    let status = resp.status();
    let wait = retry_after(resp.headers(), Utc::now());
    if status.as_u16() == 429 || (status.as_u16() == 503 && wait.is_some()) {
        return SourceError::RateLimited {
            wait: wait.unwrap_or(Duration::from_secs(60)),
            reason: format!("{what} answered {status}"),
        };
    }
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(200).collect();
    if matches!(status.as_u16(), 401 | 403) {
        return SourceError::Unauthorized(format!(
            "{what} answered {status}: the token was refused (expired, revoked or missing a scope): {}",
            body.trim()
        ));
    }
    SourceError::Failed(format!("{what} answered {status}: {}", body.trim()))
}

/// Orders numeric ids given as strings (X and Mastodon ids exceed what some JSON readers keep exact).
pub fn newer_id(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// Keeps the larger of a cursor and a candidate id.
pub fn max_id(cursor: Option<&str>, id: &str) -> String {
    match cursor {
        Some(c) if !newer_id(id, c) => c.to_string(),
        _ => id.to_string(),
    }
}

/// A WebSocket connection failure as a [`SourceError`]: a refused upgrade answered 429 waits as asked
/// (`Retry-After` or the platform's reset headers), 401/403 is a refused token, anything else is retried.
pub fn websocket_error(what: &str, target: &str, e: tokio_tungstenite::tungstenite::Error) -> SourceError {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(resp) if resp.status().as_u16() == 429 => {
            let wait = retry_after(resp.headers(), Utc::now()).unwrap_or(Duration::from_secs(60));
            SourceError::RateLimited { wait, reason: format!("{what} answered 429") }
        }
        Error::Http(resp) if matches!(resp.status().as_u16(), 401 | 403) => SourceError::Unauthorized(format!(
            "{what} answered {}: the token was refused (expired, revoked or missing a scope)",
            resp.status()
        )),
        e => SourceError::Failed(format!("cannot connect {what} to {target}: {e}")),
    }
}

/// The next data message of a WebSocket (text or binary, as bytes); `None` when the server closed it. Pings are
/// answered by tungstenite; `stall` without any message is an error.
pub async fn next_websocket_message<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    what: &str,
    stall: Duration,
) -> Result<Option<Vec<u8>>, SourceError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let msg = match tokio::time::timeout(stall, ws.next()).await {
            Err(_) => return Err(SourceError::Failed(format!("no {what} message or ping for {stall:?}"))),
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => return Err(SourceError::Failed(format!("{what} read failed: {e}"))),
            Ok(Some(Ok(m))) => m,
        };
        match msg {
            Message::Text(t) => return Ok(Some(t.as_str().as_bytes().to_vec())),
            Message::Binary(b) => return Ok(Some(b.to_vec())),
            Message::Close(_) => return Ok(None),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn reads_every_rate_limit_header() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1700000030"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("2023-11-14T22:13:40.000Z"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(20)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("Tue, 14 Nov 2023 22:14:20 GMT"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(60)));
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn compares_long_ids_as_numbers() {
        assert!(newer_id("1790000000000000010", "1790000000000000009"));
        assert!(newer_id("100", "99"));
        assert_eq!(max_id(Some("100"), "99"), "100");
        assert_eq!(max_id(None, "99"), "99");
    }
}
