//! Bluesky Jetstream over WebSocket, resuming with `cursor`.
//!
//! `{url}/subscribe?wantedCollections=app.bsky.feed.post&cursor=<time_us>`: every text message is one
//! JSON event for the `bluesky` decoder. Jetstream replays from any cursor within its retention, so a gap
//! is always back-filled by reconnecting with the last committed `time_us` minus `rewind` seconds (the
//! events read twice deduplicate by AT URI). The rewind never goes back past the cursor the previous
//! connection resumed from: a connection that keeps dropping sooner than the rewind window would otherwise
//! replay the same events forever. The cursor is the highest `time_us` handed over.

use crate::config::SourceConfig;
use crate::source::{BoxFuture, Health, Link, Record, SessionEnd, Source, SourceError};
use chrono::DateTime;
use earshot_core::decode::Decoder;
use serde::Deserialize;
use std::time::Duration;

/// Silence after which a connection is taken as dead.
pub const STALL: Duration = Duration::from_secs(60);

/// The Jetstream source.
#[derive(Debug)]
pub struct Jetstream {
    base: String,
    rewind_us: i64,
    /// The (not rewound) cursor the previous connection resumed from.
    last_cursor: std::sync::Mutex<Option<i64>>,
}

#[derive(Deserialize)]
struct EventMeta {
    time_us: i64,
}

impl Jetstream {
    /// The source of a config entry.
    pub fn new(config: &SourceConfig) -> Jetstream {
        let rewind = config.rewind.unwrap_or(5.0).max(0.0);
        Jetstream {
            base: config.url.trim_end_matches('/').to_string(),
            rewind_us: (rewind * 1e6) as i64,
            last_cursor: std::sync::Mutex::new(None),
        }
    }

    /// The subscribe URL resuming from `cursor`, rewound, but not past the previous connection's cursor.
    pub fn url(&self, cursor: Option<&str>) -> String {
        let cursor = cursor.and_then(|c| c.parse::<i64>().ok());
        let mut last = self.last_cursor.lock().unwrap_or_else(|e| e.into_inner());
        let start = cursor.map(|c| {
            let rewound = (c - self.rewind_us).max(0);
            match *last {
                Some(l) if l <= c => rewound.max(l),
                _ => rewound,
            }
        });
        *last = cursor;
        self.url_from(start)
    }

    fn url_from(&self, start: Option<i64>) -> String {
        let mut url = self.base.clone();
        if !url.ends_with("/subscribe") {
            url.push_str("/subscribe");
        }
        url.push_str(if url.contains('?') { "&" } else { "?" });
        url.push_str("wantedCollections=app.bsky.feed.post");
        if let Some(c) = start {
            url.push_str(&format!("&cursor={c}"));
        }
        url
    }

    async fn run(&self, link: &mut Link) -> Result<SessionEnd, SourceError> {
        let url = self.url(link.cursor.as_deref());
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| crate::source::websocket_error("jetstream", &self.base, e))?;
        link.health(Health::Connected).await?;
        loop {
            let Some(bytes) = crate::source::next_websocket_message(&mut ws, "jetstream", STALL).await? else {
                return Ok(SessionEnd::Closed);
            };
            let meta = serde_json::from_slice::<EventMeta>(&bytes).ok();
            let bytes = if bytes.contains(&b'\n') { one_line(bytes) } else { bytes };
            let (cursor, at) = match meta {
                Some(m) => {
                    let newer =
                        link.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()).is_none_or(|c| m.time_us > c);
                    (newer.then(|| m.time_us.to_string()), DateTime::from_timestamp_micros(m.time_us))
                }
                None => (None, None),
            };
            link.emit(Record { bytes, cursor, at }).await?;
        }
    }
}

/// Re-serializes a pretty-printed event onto one line (the decoder reads one event per line); bytes that
/// are not JSON are kept as they are and become one reject.
pub(crate) fn one_line(bytes: Vec<u8>) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) => serde_json::to_vec(&v).unwrap_or(bytes),
        Err(_) => bytes,
    }
}

impl Source for Jetstream {
    fn decoder(&self) -> &'static dyn Decoder {
        &earshot_core::decode::bluesky_jetstream::BlueskyJetstream
    }

    fn session<'a>(&'a self, link: &'a mut Link) -> BoxFuture<'a, Result<SessionEnd, SourceError>> {
        Box::pin(self.run(link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_url_rewinds_the_cursor() {
        let config: SourceConfig =
            toml::from_str("kind = \"bluesky_jetstream\"\nurl = \"wss://jetstream2.us-east.bsky.network/\"").unwrap();
        let j = Jetstream::new(&config);
        assert_eq!(j.url(None), "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post");
        assert_eq!(
            j.url(Some("1725911162329308")),
            "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post&cursor=1725911157329308"
        );
        // A connection that got less than 5 s further: back to where it resumed, no further, so that a
        // stream dropping sooner than the rewind window still makes progress.
        assert!(j.url(Some("1725911163329308")).ends_with("&cursor=1725911162329308"));
        assert!(j.url(Some("1725911163329308")).ends_with("&cursor=1725911163329308"));
        assert!(j.url(Some("1725911173329308")).ends_with("&cursor=1725911168329308"));
    }
}
