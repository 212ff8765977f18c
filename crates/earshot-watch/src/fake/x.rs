//! A fake X API v2: filtered stream, stream rules and recent search, with the bearer token checked.
//!
//! `GET /2/tweets/search/stream` streams newline-delimited JSON (`\r\n` after each tweet, a `\r\n`
//! keep-alive every second when idle), starting at the newest post when the request arrives, as X does.
//! `GET /2/tweets/search/recent` answers `since_id`, `max_results` (10–100) and `next_token`, newest
//! first, with `meta.newest_id` / `next_token`. `GET|POST /2/tweets/search/stream/rules` keep rules.
//! A 429 carries `x-rate-limit-limit`, `x-rate-limit-remaining: 0` and `x-rate-limit-reset` (epoch seconds).

use super::{Chaos, ConnChaos, Counters, Framing, Listener, Timeline, chaotic_stream, serve_router};
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The bearer token the fake accepts.
pub const TOKEN: &str = "fake-x-bearer-token";
/// The first tweet id; post `i` has id `FIRST_ID + i`.
pub const FIRST_ID: u64 = 1_800_000_000_000_000_000;

/// Shared state of the fake X API.
#[derive(Debug)]
pub struct Shared {
    /// The posts.
    pub timeline: Arc<Timeline>,
    /// What the fake did.
    pub counters: Counters,
    /// The rules, as `(id, value)`.
    pub rules: Mutex<Vec<(String, String)>>,
    chaos: Chaos,
    epoch: tokio::sync::watch::Receiver<u64>,
}

/// A fake X API on loopback.
#[derive(Debug)]
pub struct FakeX {
    /// State shared with the handlers.
    pub shared: Arc<Shared>,
    listener: Listener,
}

/// The tweet id of post `i`.
pub fn tweet_id(i: u64) -> String {
    (FIRST_ID + i).to_string()
}

fn author(i: u64) -> (String, String) {
    let a = super::customer_of(i);
    (format!("{}", 4_000_000 + a), format!("cust{a}"))
}

fn tweet(t: &Timeline, i: u64) -> Value {
    let id = tweet_id(i);
    let (author_id, _) = author(i);
    json!({
        "id": id, "edit_history_tweet_ids": [id],
        "text": format!("@GiltCare order #{i} still hasn't shipped, what is going on? #gilt"),
        "author_id": author_id,
        "created_at": t.time(i).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "conversation_id": id, "lang": "en",
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": i % 7, "quote_count": 0}
    })
}

fn user(i: u64) -> Value {
    let (id, username) = author(i);
    json!({"id": id, "username": username, "name": format!("Customer {username}"), "public_metrics": {"followers_count": 10 + i % 300}})
}

fn stream_line(t: &Timeline, i: u64) -> Vec<u8> {
    let v =
        json!({"data": tweet(t, i), "includes": {"users": [user(i)]}, "matching_rules": [{"id": "1", "tag": "gilt"}]});
    let mut line = serde_json::to_vec(&v).unwrap_or_default();
    line.extend_from_slice(b"\r\n");
    line
}

fn malformed(n: u64) -> Vec<u8> {
    if n.is_multiple_of(2) {
        b"{\"data\":{\"id\":\"17\",\"text\":\"cut sho\r\n".to_vec()
    } else {
        // Valid JSON, but a tweet without author_id: the decoder rejects it with that reason.
        format!("{{\"data\":{{\"id\":\"{}\",\"text\":\"who wrote this\"}}}}\r\n", 1_000 + n).into_bytes()
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn error(status: StatusCode, title: &str) -> Response {
    let body = json!({"title": title, "detail": title, "type": "about:blank", "status": status.as_u16()});
    Response::builder()
        .status(status)
        .header("content-type", "application/problem+json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn rate_limited(chaos: &Chaos) -> Response {
    let reset = chrono::Utc::now().timestamp() + chaos.retry_after as i64;
    let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    let h = r.headers_mut();
    h.insert("x-rate-limit-limit", 50.into());
    h.insert("x-rate-limit-remaining", 0.into());
    h.insert("x-rate-limit-reset", reset.into());
    r
}

async fn stream(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let conn = s.counters.connections.fetch_add(1, Ordering::Relaxed);
    if ConnChaos::rate_limited(&s.chaos, conn) {
        s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        return rate_limited(&s.chaos);
    }
    // X streams from "now": the start is fixed when the request arrives.
    let pos = s.timeline.published();
    let framing = Framing { keepalive: b"\r\n", event: stream_line, malformed };
    let body = chaotic_stream(
        s.clone(),
        |s| &s.counters,
        s.timeline.clone(),
        s.epoch.clone(),
        ConnChaos::new(s.chaos, conn),
        pos,
        framing,
    );
    Response::builder().header("content-type", "application/json").body(body).unwrap_or_default()
}

async fn recent(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if q.get("query").is_none_or(|q| q.trim().is_empty()) {
        return error(StatusCode::BAD_REQUEST, "query is required");
    }
    let n = s.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
    if ConnChaos::rest_rate_limited(&s.chaos, n) {
        s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        return rate_limited(&s.chaos);
    }
    let max: u64 = q.get("max_results").and_then(|m| m.parse().ok()).unwrap_or(10).clamp(10, 100);
    let published = s.timeline.published();
    let since = q.get("since_id").and_then(|v| v.parse::<u64>().ok()).map_or(0, |v| v.saturating_sub(FIRST_ID));
    // Newest first; next_token is the post number the next page starts below.
    let top = q.get("next_token").and_then(|t| t.parse::<u64>().ok()).unwrap_or(published).min(published);
    let ids: Vec<u64> = (since + 1..=top).rev().take(max as usize).collect();
    if ids.is_empty() {
        let body = json!({"meta": {"result_count": 0}});
        return Response::builder()
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap_or_default();
    }
    let lowest = *ids.last().unwrap_or(&1);
    let mut meta = json!({
        "result_count": ids.len(), "newest_id": tweet_id(ids[0]), "oldest_id": tweet_id(lowest)
    });
    if lowest > since + 1 {
        meta["next_token"] = json!((lowest - 1).to_string());
    }
    let body = json!({
        "data": ids.iter().map(|&i| tweet(&s.timeline, i)).collect::<Vec<_>>(),
        "includes": {"users": ids.iter().map(|&i| user(i)).collect::<Vec<_>>()},
        "meta": meta
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

async fn get_rules(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let rules = s.rules.lock().map(|r| r.clone()).unwrap_or_default();
    let data: Vec<Value> = rules.iter().map(|(id, v)| json!({"id": id, "value": v})).collect();
    let body = json!({"data": data, "meta": {"sent": chrono::Utc::now().to_rfc3339(), "result_count": data.len()}});
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

async fn post_rules(State(s): State<Arc<Shared>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let Some(add) = req["add"].as_array() else { return error(StatusCode::BAD_REQUEST, "expected add") };
    let mut rules = s.rules.lock().unwrap_or_else(|e| e.into_inner());
    let mut created = Vec::new();
    for r in add {
        let Some(v) = r["value"].as_str() else { return error(StatusCode::BAD_REQUEST, "rule without value") };
        let id = (1_900_000_000_000_000_000u64 + rules.len() as u64).to_string();
        rules.push((id.clone(), v.to_string()));
        created.push(json!({"id": id, "value": v}));
    }
    let body = json!({"data": created, "meta": {"summary": {"created": created.len(), "not_created": 0}}});
    Response::builder()
        .status(StatusCode::CREATED)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

impl FakeX {
    /// Starts the fake on a free loopback port.
    pub async fn start(chaos: Chaos) -> FakeX {
        let listener = Listener::bind().await;
        let shared = Arc::new(Shared {
            timeline: Arc::new(Timeline::new()),
            counters: Counters::default(),
            rules: Mutex::new(Vec::new()),
            chaos,
            epoch: listener.epoch(),
        });
        let router = Router::new()
            .route("/2/tweets/search/stream", axum::routing::get(stream))
            .route("/2/tweets/search/stream/rules", axum::routing::get(get_rules).post(post_rules))
            .route("/2/tweets/search/recent", axum::routing::get(recent))
            .with_state(shared.clone());
        listener.serve(serve_router(router));
        FakeX { shared, listener }
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
