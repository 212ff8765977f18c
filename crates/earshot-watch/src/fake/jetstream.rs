//! A fake Bluesky Jetstream: `GET /subscribe?wantedCollections=…&cursor=…` upgraded to a WebSocket that
//! sends one JSON event per text message. Without a cursor it starts at the newest event; with one it
//! replays every event with `time_us ≥ cursor`, then goes live, as Jetstream does. A 429 refuses the
//! upgrade with `Retry-After`. Drops close the TCP connection without a close frame.

use super::{Chaos, ConnChaos, Counters, Listener, Timeline};
use futures_util::SinkExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

/// Shared state of the fake Jetstream.
#[derive(Debug)]
pub struct Shared {
    /// The posts.
    pub timeline: Arc<Timeline>,
    /// What the fake did.
    pub counters: Counters,
    /// Cursors asked for, in order (`None`: no cursor).
    pub cursors: std::sync::Mutex<Vec<Option<i64>>>,
    chaos: Chaos,
    epoch: tokio::sync::watch::Receiver<u64>,
}

/// A fake Jetstream on loopback.
#[derive(Debug)]
pub struct FakeJetstream {
    /// State shared with the connections.
    pub shared: Arc<Shared>,
    listener: Listener,
}

const ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A record key in TID form (13 base32-sortable characters) for post `i`.
pub fn rkey(i: u64) -> String {
    let mut v = (1u64 << 59) | i;
    let mut out = vec![b'2'; 13];
    for c in out.iter_mut().rev() {
        *c = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The DID of the author of post `i`.
pub fn did(i: u64) -> String {
    format!("did:plc:custfake{:016}", super::customer_of(i))
}

/// The AT URI (the post's native id) of post `i`.
pub fn at_uri(i: u64) -> String {
    format!("at://{}/app.bsky.feed.post/{}", did(i), rkey(i))
}

fn event(t: &Timeline, i: u64) -> String {
    json!({
        "did": did(i), "time_us": t.time_us(i), "kind": "commit",
        "commit": {
            "rev": rkey(i + 7), "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey(i),
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": t.time(i).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "langs": ["en"],
                "text": format!("gilt.com checkout broke again, order {i} charged twice #gilt")
            },
            "cid": format!("bafyreifake{i:020}")
        }
    })
    .to_string()
}

fn malformed(n: u64) -> String {
    if n.is_multiple_of(2) {
        "{\"did\":\"did:plc:broken\",\"time_us\":17,\"kind\":\"commit\",\"commit\":{\"rev\":".into()
    } else {
        // A post commit without rkey: rejected with the decoder's reason.
        json!({"did": "did:plc:norkey", "time_us": 18, "kind": "commit",
               "commit": {"operation": "create", "collection": "app.bsky.feed.post", "record": {"text": "x"}}})
        .to_string()
    }
}

async fn connection(s: Arc<Shared>, stream: tokio::net::TcpStream) {
    let conn = s.counters.connections.fetch_add(1, Ordering::Relaxed);
    let limited = ConnChaos::rate_limited(&s.chaos, conn);
    let mut cursor: Option<i64> = None;
    let retry = s.chaos.retry_after;
    // The callback's error type is tungstenite's, large or not.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let query = req.uri().query().unwrap_or_default();
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("cursor=") {
                cursor = v.parse().ok();
            }
        }
        if req.uri().path() != "/subscribe" {
            let mut e = ErrorResponse::new(Some("not found".into()));
            *e.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::NOT_FOUND;
            return Err(e);
        }
        if limited {
            let mut e = ErrorResponse::new(Some("rate limited".into()));
            *e.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::TOO_MANY_REQUESTS;
            if let Ok(v) = retry.to_string().parse() {
                e.headers_mut().insert("retry-after", v);
            }
            return Err(e);
        }
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        if limited {
            s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        return;
    };
    if let Ok(mut c) = s.cursors.lock() {
        c.push(cursor);
    }
    let mut pos = match cursor {
        Some(c) => s.timeline.count_before(c),
        None => s.timeline.published(),
    };
    let mut epoch = s.epoch.clone();
    epoch.mark_unchanged();
    let mut chaos = ConnChaos::new(s.chaos, conn);
    let mut last: Option<String> = None;
    loop {
        let published = tokio::select! {
            p = s.timeline.wait_beyond(pos, Duration::from_secs(1)) => p,
            _ = epoch.changed() => return,
        };
        while pos < published {
            if chaos.drop_now().is_some() {
                // Gone without a close frame, like a crashed server or a cut cable.
                s.counters.drops.fetch_add(1, Ordering::Relaxed);
                return;
            }
            pos += 1;
            let e = event(&s.timeline, pos);
            if ws.feed(Message::text(e.clone())).await.is_err() {
                return;
            }
            if chaos.duplicate()
                && let Some(prev) = last.take()
            {
                s.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                let _ = ws.feed(Message::text(prev)).await;
            }
            if chaos.malformed() {
                let n = s.counters.malformed.fetch_add(1, Ordering::Relaxed);
                let _ = ws.feed(Message::text(malformed(n))).await;
            }
            last = Some(e);
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

impl FakeJetstream {
    /// Starts the fake on a free loopback port.
    pub async fn start(chaos: Chaos) -> FakeJetstream {
        let listener = Listener::bind().await;
        let shared = Arc::new(Shared {
            timeline: Arc::new(Timeline::new()),
            counters: Counters::default(),
            cursors: Default::default(),
            chaos,
            epoch: listener.epoch(),
        });
        let s = shared.clone();
        listener.serve(move |l: tokio::net::TcpListener| {
            let s = s.clone();
            tokio::spawn(async move {
                // Connections live in this set, so stopping the listener task ends them all.
                let mut conns = tokio::task::JoinSet::new();
                while let Ok((stream, _)) = l.accept().await {
                    conns.spawn(connection(s.clone(), stream));
                    while conns.try_join_next().is_some() {}
                }
            })
        });
        FakeJetstream { shared, listener }
    }

    /// The base URL (`ws://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("ws://{}", self.listener.addr())
    }

    /// The posts.
    pub fn timeline(&self) -> Arc<Timeline> {
        self.shared.timeline.clone()
    }

    /// Restarts the server: connections are cut, the port refuses connections for `pause`.
    pub async fn restart(&self, pause: Duration) {
        self.listener.restart(pause).await;
    }

    /// Stops the server for good.
    pub fn stop(&self) {
        self.listener.stop();
    }
}
