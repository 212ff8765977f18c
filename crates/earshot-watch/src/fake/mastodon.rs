//! A fake Mastodon server: streaming over server-sent events and a WebSocket, and the timelines used to catch up.
//!
//! `GET /api/v1/streaming/{public,hashtag,user}` streams `event: update` / `data: <status>` events from
//! the newest status when the request arrives (Mastodon does not replay), a `:thump` heartbeat every
//! second when idle, and now and then a `delete` event. `GET /api/v1/streaming?stream=…` upgraded to a
//! WebSocket sends the same events as text messages, `{"stream":[…],"event":"update","payload":"<status>"}`,
//! with a ping every idle second; drops close the TCP connection without a close frame. `GET /api/v1/timelines/{public,tag/:tag,home}`
//! answers `min_id` (the page immediately after it), `since_id` (the newest page after it), `max_id` and
//! `limit` (default 20, at most 40), newest first, with a `Link` header, as Mastodon does. A 429 carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset` (ISO 8601).

use super::{Chaos, ConnChaos, Counters, Framing, Listener, Timeline, chaotic_stream, serve_router};
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The access token the fake accepts (required only for the user stream and home timeline).
pub const TOKEN: &str = "fake-mastodon-token";
/// The server's host.
pub const HOST: &str = "fake.social";
/// The first status id; post `i` has id `FIRST_ID + i`.
pub const FIRST_ID: u64 = 110_000_000_000_000_000;

/// Shared state of the fake Mastodon server.
#[derive(Debug)]
pub struct Shared {
    /// The posts.
    pub timeline: Arc<Timeline>,
    /// What the fake did.
    pub counters: Counters,
    chaos: Chaos,
    epoch: tokio::sync::watch::Receiver<u64>,
}

/// A fake Mastodon server on loopback.
#[derive(Debug)]
pub struct FakeMastodon {
    /// State shared with the handlers.
    pub shared: Arc<Shared>,
    listener: Listener,
}

/// The server-local id of post `i`.
pub fn status_id(i: u64) -> String {
    (FIRST_ID + i).to_string()
}

/// The status URI (its ActivityPub id, the post's native id) of post `i`.
pub fn status_uri(i: u64) -> String {
    format!("https://{HOST}/users/cust{}/statuses/{}", super::customer_of(i), status_id(i))
}

fn status(t: &Timeline, i: u64) -> Value {
    let a = super::customer_of(i);
    json!({
        "id": status_id(i),
        "created_at": t.time(i).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "in_reply_to_id": null, "in_reply_to_account_id": null, "sensitive": false, "spoiler_text": "",
        "visibility": "public", "language": "en",
        "uri": status_uri(i),
        "url": format!("https://{HOST}/@cust{a}/{}", status_id(i)),
        "replies_count": 0, "reblogs_count": 0, "favourites_count": i % 5, "edited_at": null,
        "content": format!("<p>Gilt support, parcel {i} never arrived and nobody answers <a href=\"https://{HOST}/tags/gilt\" class=\"mention hashtag\" rel=\"tag\">#<span>gilt</span></a></p>"),
        "reblog": null,
        "account": {
            "id": (1000 + a).to_string(), "username": format!("cust{a}"), "acct": format!("cust{a}"),
            "display_name": format!("Customer {a}"), "locked": false, "bot": false, "group": false,
            "created_at": "2023-01-01T00:00:00.000Z", "note": "", "url": format!("https://{HOST}/@cust{a}"),
            "followers_count": 20 + a, "following_count": 10, "statuses_count": 100
        },
        "media_attachments": [], "mentions": [], "tags": [{"name": "gilt", "url": format!("https://{HOST}/tags/gilt")}],
        "emojis": [], "card": null, "poll": null
    })
}

fn event(t: &Timeline, i: u64) -> Vec<u8> {
    format!("event: update\ndata: {}\n\n", status(t, i)).into_bytes()
}

fn malformed(n: u64) -> Vec<u8> {
    match n % 3 {
        0 => b"event: update\ndata: {\"id\": \"12\", \"content\": \"<p>cut\n\n".to_vec(),
        // A status without uri, url or account: rejected with the decoder's reason.
        1 => {
            format!("event: update\ndata: {{\"id\":\"{}\",\"content\":\"<p>anonymous</p>\"}}\n\n", 50 + n).into_bytes()
        }
        // A delete carries a server-local id only: skipped, with the reason.
        _ => format!("event: delete\ndata: {}\n\n", FIRST_ID + n).into_bytes(),
    }
}

/// Post `i` as a WebSocket message.
fn ws_event(t: &Timeline, i: u64, stream: &str) -> String {
    json!({"stream": [stream], "event": "update", "payload": status(t, i).to_string()}).to_string()
}

fn ws_malformed(n: u64, stream: &str) -> String {
    match n % 3 {
        0 => "{\"stream\":[\"public\"],\"event\":\"update\",\"payload\":\"{\\\"id\\\": \\\"12\\\", \\\"cont".into(),
        1 => json!({"stream": [stream], "event": "update",
                    "payload": json!({"id": (50 + n).to_string(), "content": "<p>anonymous</p>"}).to_string()})
        .to_string(),
        _ => json!({"stream": [stream], "event": "delete", "payload": (FIRST_ID + n).to_string()}).to_string(),
    }
}

/// `GET /api/v1/streaming?stream=…`: the WebSocket form of the streaming API.
async fn streaming_ws(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    mut req: axum::extract::Request,
) -> Response {
    let headers = req.headers();
    let token_ok = authorized(headers) || q.get("access_token").map(String::as_str) == Some(TOKEN);
    let stream = q.get("stream").cloned().unwrap_or_default();
    match stream.as_str() {
        "public" => {}
        "hashtag" if q.get("tag").is_some_and(|t| !t.is_empty()) => {}
        "user" if token_ok => {}
        "user" => return json_response(StatusCode::UNAUTHORIZED, json!({"error": "The access token is invalid"})),
        _ => return json_response(StatusCode::BAD_REQUEST, json!({"error": "Unknown stream type"})),
    }
    let upgrade =
        headers.get("upgrade").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = headers.get("sec-websocket-key").filter(|_| upgrade).cloned() else {
        return json_response(StatusCode::BAD_REQUEST, json!({"error": "Expected a WebSocket upgrade"}));
    };
    let conn = s.counters.connections.fetch_add(1, Ordering::Relaxed);
    if ConnChaos::rate_limited(&s.chaos, conn) {
        s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        return rate_limited(&s.chaos);
    }
    let pos = s.timeline.published();
    let chaos = s.chaos;
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else { return };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            io,
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        ws_session(s, ws, ConnChaos::new(chaos, conn), pos, stream).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()))
        .body(Body::empty())
        .unwrap_or_default()
}

async fn ws_session<S>(
    s: Arc<Shared>,
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    mut chaos: ConnChaos,
    mut pos: u64,
    stream: String,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut epoch = s.epoch.clone();
    epoch.mark_unchanged();
    let mut last: Option<String> = None;
    loop {
        let published = tokio::select! {
            p = s.timeline.wait_beyond(pos, Duration::from_secs(1)) => p,
            _ = epoch.changed() => return,
        };
        if published <= pos {
            if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                return;
            }
            continue;
        }
        while pos < published {
            if chaos.drop_now().is_some() {
                // What was sent arrives; then gone without a close frame, like a crashed server or a cut cable.
                s.counters.drops.fetch_add(1, Ordering::Relaxed);
                // A FIN, not a reset: a reset can make the client's kernel discard what it has not read yet.
                let _ = ws.flush().await;
                let _ = tokio::io::AsyncWriteExt::shutdown(ws.get_mut()).await;
                return;
            }
            pos += 1;
            let e = ws_event(&s.timeline, pos, &stream);
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
                let _ = ws.feed(Message::text(ws_malformed(n, &stream))).await;
            }
            last = Some(e);
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn rate_limited(chaos: &Chaos) -> Response {
    let reset = chrono::Utc::now() + chrono::Duration::seconds(chaos.retry_after as i64);
    let mut r = json_response(StatusCode::TOO_MANY_REQUESTS, json!({"error": "Too many requests"}));
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", 300.into());
    h.insert("x-ratelimit-remaining", 0.into());
    if let Ok(v) = reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).parse() {
        h.insert("x-ratelimit-reset", v);
    }
    r
}

async fn streaming(
    State(s): State<Arc<Shared>>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match kind.as_str() {
        "public" => {}
        "hashtag" if q.get("tag").is_some_and(|t| !t.is_empty()) => {}
        "user" if authorized(&headers) => {}
        "user" => return json_response(StatusCode::UNAUTHORIZED, json!({"error": "The access token is invalid"})),
        _ => return json_response(StatusCode::BAD_REQUEST, json!({"error": "Unknown stream type"})),
    }
    let conn = s.counters.connections.fetch_add(1, Ordering::Relaxed);
    if ConnChaos::rate_limited(&s.chaos, conn) {
        s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        return rate_limited(&s.chaos);
    }
    let pos = s.timeline.published();
    let framing = Framing { keepalive: b":thump\n", event, malformed };
    let body = chaotic_stream(
        s.clone(),
        |s| &s.counters,
        s.timeline.clone(),
        s.epoch.clone(),
        ConnChaos::new(s.chaos, conn),
        pos,
        framing,
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-store")
        .body(body)
        .unwrap_or_default()
}

fn id_param(q: &HashMap<String, String>, name: &str) -> Option<u64> {
    q.get(name).and_then(|v| v.parse::<u64>().ok()).map(|v| v.saturating_sub(FIRST_ID))
}

async fn timeline(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    home: bool,
) -> Response {
    if home && !authorized(&headers) {
        return json_response(StatusCode::UNAUTHORIZED, json!({"error": "The access token is invalid"}));
    }
    let n = s.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
    if ConnChaos::rest_rate_limited(&s.chaos, n) {
        s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        return rate_limited(&s.chaos);
    }
    let limit = q.get("limit").and_then(|l| l.parse::<u64>().ok()).unwrap_or(20).clamp(1, 40);
    let published = s.timeline.published();
    let below = id_param(&q, "max_id").unwrap_or(published + 1).min(published + 1);
    let ids: Vec<u64> = if let Some(min) = id_param(&q, "min_id") {
        // The page immediately after min_id, still returned newest first.
        let mut v: Vec<u64> = (min + 1..below).take(limit as usize).collect();
        v.reverse();
        v
    } else {
        let since = id_param(&q, "since_id").unwrap_or(0);
        (since + 1..below).rev().take(limit as usize).collect()
    };
    let body: Vec<Value> = ids.iter().map(|&i| status(&s.timeline, i)).collect();
    let mut r = json_response(StatusCode::OK, Value::Array(body));
    if let (Some(newest), Some(oldest)) = (ids.first(), ids.last()) {
        let link = format!(
            "<http://{HOST}/api/v1/timelines/public?max_id={}>; rel=\"next\", <http://{HOST}/api/v1/timelines/public?min_id={}>; rel=\"prev\"",
            status_id(*oldest),
            status_id(*newest)
        );
        if let Ok(v) = link.parse() {
            r.headers_mut().insert("link", v);
        }
    }
    r
}

impl FakeMastodon {
    /// Starts the fake on a free loopback port.
    pub async fn start(chaos: Chaos) -> FakeMastodon {
        let listener = Listener::bind().await;
        let shared = Arc::new(Shared {
            timeline: Arc::new(Timeline::new()),
            counters: Counters::default(),
            chaos,
            epoch: listener.epoch(),
        });
        let router = Router::new()
            .route("/api/v1/streaming/{kind}", axum::routing::get(streaming))
            .route("/api/v1/streaming", axum::routing::get(streaming_ws))
            .route(
                "/api/v1/timelines/public",
                axum::routing::get(|s, h, q| async move { timeline(s, h, q, false).await }),
            )
            .route(
                "/api/v1/timelines/tag/{tag}",
                axum::routing::get(|s, h, q| async move { timeline(s, h, q, false).await }),
            )
            .route("/api/v1/timelines/home", axum::routing::get(|s, h, q| async move { timeline(s, h, q, true).await }))
            .with_state(shared.clone());
        listener.serve(serve_router(router));
        FakeMastodon { shared, listener }
    }

    /// The base URL (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr())
    }

    /// The posts.
    pub fn timeline(&self) -> Arc<Timeline> {
        self.shared.timeline.clone()
    }

    /// Restarts the server: open streams are cut, the port refuses connections for `pause`.
    pub async fn restart(&self, pause: Duration) {
        self.listener.restart(pause).await;
    }

    /// Stops the server for good.
    pub fn stop(&self) {
        self.listener.stop();
    }
}
