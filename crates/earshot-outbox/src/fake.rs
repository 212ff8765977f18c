//! Fake X, Mastodon, Bluesky and WordPress APIs on loopback, for tests (feature `fake`).
//!
//! One axum server answers all four platforms' reply endpoints under one base URL (their paths do not
//! collide). It checks credentials and request shapes as the platforms document them, answers in
//! their shapes, records every request it receives, honours Mastodon's `Idempotency-Key`, and can be
//! told to fail the next requests of a platform.
//!
//! ```no_run
//! # async fn demo() {
//! use earshot_outbox::fake::{FakePlatforms, Failure};
//! use earshot_outbox::{Outbox, OutboxItem, Platform};
//!
//! let fake = FakePlatforms::start().await;
//! let publishers = fake.publishers("Gilt"); // one account per platform, pointing at the fake
//! fake.fail_next(Platform::X, 1, Failure::status(500));
//! let now = chrono::Utc::now();
//! let mut items = vec![OutboxItem::new("case-1", "draft-1", "Gilt", Platform::X, "1790000000000000000", "On it!", now)];
//! let outbox = Outbox { dry_run: false, ..Outbox::default() };
//! outbox.run(&mut items, &publishers, &mut (), now).await.unwrap();
//! assert_eq!(fake.received_on(Platform::X).len(), 1);
//! # }
//! ```
//!
//! Endpoints: `POST /2/tweets`; `POST /api/v1/statuses` (JSON or form), `GET /api/v2/search`;
//! `POST /xrpc/com.atproto.server.createSession`, `…refreshSession`, `GET …repo.getRecord`,
//! `POST …repo.createRecord`; `POST /wp-json/wp/v2/comments`. Where the fake is stricter than the
//! real platform it says so in its error message (Bluesky reply refs must name records it knows).

use crate::config::{Account, Credentials, Secret, Visibility};
use crate::publisher::Publishers;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use earshot_core::Platform;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The X user token the fake accepts.
pub const X_TOKEN: &str = "fake-x-user-token";
/// The Mastodon access token the fake accepts.
pub const MASTODON_TOKEN: &str = "fake-mastodon-token";
/// The brand's Bluesky handle.
pub const BLUESKY_HANDLE: &str = "gilt.fake.bsky";
/// The brand's Bluesky DID.
pub const BLUESKY_DID: &str = "did:plc:giltfake";
/// The brand's Bluesky app password.
pub const BLUESKY_APP_PASSWORD: &str = "fake-bsky-app-pass";
/// The customers' Bluesky handle, author of posts made with [`FakePlatforms::seed_bluesky_post`].
pub const CUSTOMER_HANDLE: &str = "customer.fake.bsky";
/// The customers' Bluesky DID.
pub const CUSTOMER_DID: &str = "did:plc:customerfake";
/// The WordPress user name the fake accepts.
pub const WORDPRESS_USER: &str = "gilt-care";
/// The WordPress application password the fake accepts (spaces are ignored, as WordPress does).
pub const WORDPRESS_APP_PASSWORD: &str = "abcd EFGH ijkl MNOP qrst UVWX";

const BSKY_POST: &str = "app.bsky.feed.post";

/// How to fail a request, in the platform's own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status (500, 503, 429, 401, 403, 404, 422 …).
    pub status: u16,
    /// With 429 or 503: seconds until the platform accepts calls again, sent in the platform's header
    /// (X `x-rate-limit-reset` as epoch seconds, Mastodon `Retry-After` and `X-RateLimit-Reset`,
    /// Bluesky `ratelimit-reset`, WordPress `Retry-After`).
    pub retry_after: Option<u64>,
}

impl Failure {
    /// Fail with this status.
    pub fn status(status: u16) -> Failure {
        Failure { status, retry_after: None }
    }

    /// 429 with the platform's rate-limit header saying to wait this many seconds.
    pub fn rate_limited(seconds: u64) -> Failure {
        Failure { status: 429, retry_after: Some(seconds) }
    }
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The platform whose endpoint was called (`None` for unknown paths).
    pub platform: Option<Platform>,
    /// `GET`, `POST`.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Headers, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
    /// The status the fake answered.
    pub status: u16,
}

impl Received {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// The running fake; stops when dropped.
pub struct FakePlatforms {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakePlatforms {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
struct FakeState {
    base: String,
    received: Vec<Received>,
    failures: HashMap<Platform, VecDeque<Failure>>,
    tweets: Vec<Value>,
    statuses: Vec<Value>,
    idempotency: HashMap<(String, String), usize>,
    known_statuses: HashMap<String, String>,
    bsky: BTreeMap<String, (String, Value)>,
    bsky_handles: HashMap<String, String>,
    sessions: HashMap<String, (String, bool)>,
    refresh_tokens: HashMap<String, String>,
    comments: Vec<Value>,
    counter: u64,
}

/// What a handler answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply { status, headers: Vec::new(), body }
}

impl FakePlatforms {
    /// Binds `127.0.0.1:0` and serves in the background on the current tokio runtime.
    ///
    /// # Panics
    /// When no loopback port can be bound, which no test can recover from.
    pub async fn start() -> FakePlatforms {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("the fake platforms cannot bind 127.0.0.1:0: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("the fake platforms have no local address: {e}"));
        let mut state = FakeState { base: format!("http://{addr}"), ..FakeState::default() };
        state.bsky_handles.insert(BLUESKY_HANDLE.into(), BLUESKY_DID.into());
        state.bsky_handles.insert(CUSTOMER_HANDLE.into(), CUSTOMER_DID.into());
        let state = Arc::new(Mutex::new(state));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("the fake platforms stopped: {e}");
            }
        });
        FakePlatforms { addr, state, task }
    }

    fn state(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.state)
    }

    /// `http://127.0.0.1:<port>`, the base URL of every platform.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// The requests to one platform's endpoints.
    pub fn received_on(&self, platform: Platform) -> Vec<Received> {
        self.state().received.iter().filter(|r| r.platform == Some(platform)).cloned().collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_received(&self) {
        self.state().received.clear();
    }

    /// Fails the next `n` calls to the platform's endpoint that creates the reply (tweets, statuses,
    /// createRecord, comments), before checking anything else.
    pub fn fail_next(&self, platform: Platform, n: usize, failure: Failure) {
        self.state().failures.entry(platform).or_default().extend(std::iter::repeat_n(failure, n));
    }

    /// Marks every Bluesky access token issued so far as expired (`400 ExpiredToken`).
    pub fn expire_bluesky_sessions(&self) {
        for (_, expired) in self.state().sessions.values_mut() {
            *expired = true;
        }
    }

    /// Makes a (remote) Mastodon status known to the instance's search; returns its local id.
    pub fn seed_mastodon_status(&self, uri: &str) -> String {
        let mut s = self.state();
        let id = s.next_id(110_000_000_000_000_000);
        s.known_statuses.insert(uri.to_string(), id.clone());
        id
    }

    /// A customer's Bluesky post, optionally replying to a known post; returns its AT URI.
    ///
    /// # Panics
    /// When `reply_to` is not a post the fake knows.
    pub fn seed_bluesky_post(&self, text: &str, reply_to: Option<&str>) -> String {
        let mut s = self.state();
        let mut record = json!({ "$type": BSKY_POST, "text": text, "createdAt": "2024-05-01T12:00:00.000Z" });
        if let Some(parent_uri) = reply_to {
            let (parent_cid, parent) =
                s.bsky.get(parent_uri).unwrap_or_else(|| panic!("seed_bluesky_post: unknown parent {parent_uri}"));
            let parent_ref = json!({ "uri": parent_uri, "cid": parent_cid });
            let root = parent.get("reply").and_then(|r| r.get("root")).cloned().unwrap_or_else(|| parent_ref.clone());
            record["reply"] = json!({ "root": root, "parent": parent_ref });
        }
        s.store_bsky(CUSTOMER_DID, record).0
    }

    /// Tweets created, as `{"id","text","in_reply_to_tweet_id"}`.
    pub fn tweets(&self) -> Vec<Value> {
        self.state().tweets.clone()
    }

    /// Mastodon statuses created, as the API returned them.
    pub fn statuses(&self) -> Vec<Value> {
        self.state().statuses.clone()
    }

    /// Bluesky records in the fake's repos, by AT URI, as `{"uri","cid","value"}`.
    pub fn bluesky_record(&self, uri: &str) -> Option<Value> {
        self.state().bsky.get(uri).map(|(cid, value)| json!({ "uri": uri, "cid": cid, "value": value }))
    }

    /// Bluesky posts the brand created, as `{"uri","cid","value"}`.
    pub fn bluesky_replies(&self) -> Vec<Value> {
        let prefix = format!("at://{BLUESKY_DID}/");
        self.state()
            .bsky
            .iter()
            .filter(|(uri, _)| uri.starts_with(&prefix))
            .map(|(uri, (cid, value))| json!({ "uri": uri, "cid": cid, "value": value }))
            .collect()
    }

    /// WordPress comments created, as the API returned them.
    pub fn comments(&self) -> Vec<Value> {
        self.state().comments.clone()
    }

    /// Credentials the fake accepts, for one platform (X, Mastodon, Bluesky, or `Blog` for WordPress).
    ///
    /// # Panics
    /// For [`Platform::Other`], which has no reply API.
    pub fn credentials(&self, platform: Platform) -> Credentials {
        let base = self.base_url();
        match platform {
            Platform::X => Credentials::x(base, Secret::new(X_TOKEN)),
            Platform::Mastodon => Credentials::mastodon(base, Secret::new(MASTODON_TOKEN), Some(Visibility::Public)),
            Platform::Bluesky => Credentials::bluesky(base, BLUESKY_HANDLE, Secret::new(BLUESKY_APP_PASSWORD)),
            Platform::Blog => Credentials::wordpress(base, WORDPRESS_USER, Secret::new(WORDPRESS_APP_PASSWORD)),
            Platform::Other => panic!("the fake platforms have no reply API for `other`"),
        }
    }

    /// One account per platform for `brand`, all pointing at the fake.
    pub fn accounts(&self, brand: &str) -> Vec<Account> {
        [Platform::X, Platform::Mastodon, Platform::Bluesky, Platform::Blog]
            .into_iter()
            .map(|p| Account { brand: brand.to_string(), credentials: self.credentials(p) })
            .collect()
    }

    /// Publishers for [`FakePlatforms::accounts`].
    ///
    /// # Panics
    /// When the HTTP client cannot be built.
    pub fn publishers(&self, brand: &str) -> Publishers {
        Publishers::from_accounts(&self.accounts(brand))
            .unwrap_or_else(|e| panic!("cannot build publishers for the fake platforms: {e}"))
    }
}

fn lock(state: &Mutex<FakeState>) -> MutexGuard<'_, FakeState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = lock(&state);
    let path = uri.path().to_string();
    let query: HashMap<String, String> =
        Query::<HashMap<String, String>>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let (platform, answer) = match (method.as_str(), path.as_str()) {
        ("POST", "/2/tweets") => (Some(Platform::X), s.x_create(&headers, &body)),
        ("POST", "/api/v1/statuses") => (Some(Platform::Mastodon), s.mastodon_create(&headers, &body)),
        ("GET", "/api/v2/search") => (Some(Platform::Mastodon), s.mastodon_search(&headers, &query)),
        ("POST", "/xrpc/com.atproto.server.createSession") => (Some(Platform::Bluesky), s.bsky_create_session(&body)),
        ("POST", "/xrpc/com.atproto.server.refreshSession") => (Some(Platform::Bluesky), s.bsky_refresh(&headers)),
        ("GET", "/xrpc/com.atproto.repo.getRecord") => (Some(Platform::Bluesky), s.bsky_get_record(&query)),
        ("POST", "/xrpc/com.atproto.repo.createRecord") => {
            (Some(Platform::Bluesky), s.bsky_create_record(&headers, &body))
        }
        ("POST", "/wp-json/wp/v2/comments") => (Some(Platform::Blog), s.wp_create(&headers, &body)),
        _ => (None, reply(404, json!({ "error": format!("the fake platforms have no {method} {path}") }))),
    };
    s.received.push(Received {
        platform,
        method: method.to_string(),
        path,
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        status: answer.status,
    });
    drop(s);
    let mut response = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json; charset=utf-8");
    for (k, v) in answer.headers {
        response = response.header(k, v);
    }
    response
        .body(Body::from(answer.body.to_string()))
        .unwrap_or_else(|e| Response::new(Body::from(format!("fake response error: {e}"))))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

fn json_object(headers: &HeaderMap, body: &[u8]) -> Option<Map<String, Value>> {
    if !is_json(headers) {
        return None;
    }
    match serde_json::from_slice(body).ok()? {
        Value::Object(o) => Some(o),
        _ => None,
    }
}

fn epoch_in(seconds: u64) -> i64 {
    Utc::now().timestamp() + i64::try_from(seconds).unwrap_or(i64::MAX / 2)
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl FakeState {
    fn next_id(&mut self, base: u64) -> String {
        self.counter += 1;
        (base + self.counter).to_string()
    }

    fn take_failure(&mut self, platform: Platform) -> Option<Reply> {
        let f = self.failures.get_mut(&platform)?.pop_front()?;
        let reason = StatusCode::from_u16(f.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        let mut r = match platform {
            Platform::X => {
                reply(f.status, json!({ "title": reason, "detail": reason, "type": "about:blank", "status": f.status }))
            }
            Platform::Mastodon => reply(
                f.status,
                json!({ "error": match f.status {
                    401 => "The access token is invalid",
                    404 => "Record not found",
                    422 => "Validation failed: Text character limit of 500 exceeded",
                    429 => "Too many requests",
                    _ => reason,
                } }),
            ),
            Platform::Bluesky => reply(
                f.status,
                json!({
                    "error": match f.status {
                        401 => "AuthenticationRequired",
                        429 => "RateLimitExceeded",
                        400 | 422 => "InvalidRequest",
                        s if s >= 500 => "InternalServerError",
                        _ => "Error",
                    },
                    "message": reason,
                }),
            ),
            _ => reply(
                f.status,
                json!({
                    "code": match f.status {
                        401 => "rest_not_logged_in",
                        404 => "rest_post_invalid_id",
                        422 | 400 => "rest_invalid_param",
                        429 => "rest_too_many_requests",
                        _ => "internal_server_error",
                    },
                    "message": reason,
                    "data": { "status": f.status },
                }),
            ),
        };
        if let Some(secs) = f.retry_after {
            let reset = epoch_in(secs);
            r.headers = match platform {
                Platform::X => vec![
                    ("x-rate-limit-limit", "100".into()),
                    ("x-rate-limit-remaining", "0".into()),
                    ("x-rate-limit-reset", reset.to_string()),
                ],
                Platform::Mastodon => vec![
                    ("retry-after", secs.to_string()),
                    ("x-ratelimit-limit", "300".into()),
                    ("x-ratelimit-remaining", "0".into()),
                    (
                        "x-ratelimit-reset",
                        DateTime::<Utc>::from_timestamp(reset, 0)
                            .unwrap_or_default()
                            .to_rfc3339_opts(SecondsFormat::Millis, true),
                    ),
                ],
                Platform::Bluesky => vec![
                    ("ratelimit-limit", "5000".into()),
                    ("ratelimit-remaining", "0".into()),
                    ("ratelimit-reset", reset.to_string()),
                ],
                _ => vec![("retry-after", secs.to_string())],
            };
        }
        Some(r)
    }

    // ---- X API v2 ----

    fn x_create(&mut self, headers: &HeaderMap, body: &[u8]) -> Reply {
        if let Some(r) = self.take_failure(Platform::X) {
            return r;
        }
        if bearer(headers) != Some(X_TOKEN) {
            return reply(
                401,
                json!({ "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized" }),
            );
        }
        let invalid = |message: String| {
            reply(
                400,
                json!({
                    "errors": [{ "message": message }],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                }),
            )
        };
        let Some(o) = json_object(headers, body) else {
            return invalid("the body must be a JSON object sent as application/json".into());
        };
        const KNOWN: [&str; 12] = [
            "text",
            "reply",
            "quote_tweet_id",
            "media",
            "poll",
            "reply_settings",
            "for_super_followers_only",
            "direct_message_deep_link",
            "geo",
            "nullcast",
            "community_id",
            "card_uri",
        ];
        if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return invalid(format!("The query parameter [{k}] is not one of [{}]", KNOWN.join(",")));
        }
        let Some(text) = o.get("text").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
            return invalid("$.text: a non-empty string is required".into());
        };
        if text.chars().count() > 280 {
            return reply(
                403,
                json!({
                    "detail": "You are not permitted to perform this action.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                    "errors": [{ "message": "Your Tweet text is too long." }],
                }),
            );
        }
        let mut in_reply_to = Value::Null;
        if let Some(r) = o.get("reply") {
            let Some(ro) = r.as_object() else { return invalid("$.reply: an object is required".into()) };
            if let Some(k) =
                ro.keys().find(|k| !["in_reply_to_tweet_id", "exclude_reply_user_ids"].contains(&k.as_str()))
            {
                return invalid(format!("$.reply.{k} is not a known field"));
            }
            match ro.get("in_reply_to_tweet_id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => in_reply_to = json!(id),
                _ => return invalid("$.reply.in_reply_to_tweet_id: a tweet id string of digits is required".into()),
            }
        }
        let id = self.next_id(1_790_000_000_000_000_000);
        self.tweets.push(json!({ "id": id, "text": text, "in_reply_to_tweet_id": in_reply_to }));
        reply(201, json!({ "data": { "id": id, "text": text, "edit_history_tweet_ids": [id] } }))
    }

    // ---- Mastodon ----

    fn mastodon_create(&mut self, headers: &HeaderMap, body: &[u8]) -> Reply {
        if let Some(r) = self.take_failure(Platform::Mastodon) {
            return r;
        }
        if bearer(headers) != Some(MASTODON_TOKEN) {
            return reply(401, json!({ "error": "The access token is invalid" }));
        }
        let params: Map<String, Value> = if is_json(headers) {
            match serde_json::from_slice(body) {
                Ok(Value::Object(o)) => o,
                _ => return reply(400, json!({ "error": "Error occurred while parsing request parameters." })),
            }
        } else {
            let fake_uri = format!("/?{}", String::from_utf8_lossy(body));
            let form = fake_uri
                .parse::<Uri>()
                .ok()
                .and_then(|u| Query::<HashMap<String, String>>::try_from_uri(&u).ok())
                .map(|q| q.0);
            match form {
                Some(f) => f.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
                None => return reply(400, json!({ "error": "Error occurred while parsing request parameters." })),
            }
        };
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
        if let Some(&i) = key.as_ref().and_then(|k| self.idempotency.get(&(MASTODON_TOKEN.to_string(), k.clone()))) {
            return reply(200, self.statuses[i].clone());
        }
        let text = params.get("status").and_then(Value::as_str).unwrap_or_default();
        if text.trim().is_empty() {
            return reply(422, json!({ "error": "Validation failed: Text can't be blank" }));
        }
        if text.chars().count() > 500 {
            return reply(422, json!({ "error": "Validation failed: Text character limit of 500 exceeded" }));
        }
        let in_reply_to_id = match params.get("in_reply_to_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => return reply(422, json!({ "error": "Validation failed: in_reply_to_id must be an id" })),
        };
        if let Some(id) = &in_reply_to_id
            && (id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return reply(404, json!({ "error": "Record not found" }));
        }
        let visibility = match params.get("visibility") {
            None | Some(Value::Null) => "public".to_string(),
            Some(Value::String(v)) if ["public", "unlisted", "private", "direct"].contains(&v.as_str()) => v.clone(),
            Some(_) => {
                return reply(422, json!({ "error": "Validation failed: Visibility is not included in the list" }));
            }
        };
        let id = self.next_id(112_000_000_000_000_000);
        let status = json!({
            "id": id,
            "uri": format!("{}/users/gilt/statuses/{id}", self.base),
            "url": format!("{}/@gilt/{id}", self.base),
            "created_at": now_rfc3339(),
            "content": format!("<p>{}</p>", html_escape(text)),
            "in_reply_to_id": in_reply_to_id,
            "in_reply_to_account_id": in_reply_to_id.as_ref().map(|_| "1"),
            "visibility": visibility,
            "account": { "id": "1", "username": "gilt", "acct": "gilt", "url": format!("{}/@gilt", self.base) },
        });
        self.statuses.push(status.clone());
        if let Some(k) = key {
            self.idempotency.insert((MASTODON_TOKEN.to_string(), k), self.statuses.len() - 1);
        }
        reply(200, status)
    }

    fn mastodon_search(&mut self, headers: &HeaderMap, query: &HashMap<String, String>) -> Reply {
        if bearer(headers) != Some(MASTODON_TOKEN) {
            return reply(401, json!({ "error": "The access token is invalid" }));
        }
        let Some(q) = query.get("q") else {
            return reply(400, json!({ "error": "Validation failed: q is missing" }));
        };
        let wants_statuses = query.get("type").is_none_or(|t| t == "statuses");
        let found = self
            .known_statuses
            .get(q)
            .map(|id| json!({ "id": id, "uri": q, "url": q, "content": "", "account": { "id": "2", "acct": "someone@elsewhere" } }))
            .or_else(|| self.statuses.iter().find(|s| s["uri"] == q.as_str() || s["url"] == q.as_str()).cloned());
        let statuses: Vec<Value> = found.into_iter().filter(|_| wants_statuses).collect();
        reply(200, json!({ "accounts": [], "statuses": statuses, "hashtags": [] }))
    }

    // ---- Bluesky ----

    fn bsky_error(status: u16, error: &str, message: &str) -> Reply {
        reply(status, json!({ "error": error, "message": message }))
    }

    fn new_session(&mut self, did: &str) -> Value {
        self.counter += 1;
        let access = format!("fake-access-{}", self.counter);
        let refresh = format!("fake-refresh-{}", self.counter);
        self.sessions.insert(access.clone(), (did.to_string(), false));
        self.refresh_tokens.insert(refresh.clone(), did.to_string());
        json!({ "accessJwt": access, "refreshJwt": refresh, "did": did, "handle": BLUESKY_HANDLE, "active": true })
    }

    fn bsky_create_session(&mut self, body: &[u8]) -> Reply {
        let params: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let (Some(identifier), Some(password)) =
            (params.get("identifier").and_then(Value::as_str), params.get("password").and_then(Value::as_str))
        else {
            return Self::bsky_error(
                400,
                "InvalidRequest",
                "Input must have the properties \"identifier\" and \"password\"",
            );
        };
        if ![BLUESKY_HANDLE, BLUESKY_DID].contains(&identifier) || password != BLUESKY_APP_PASSWORD {
            return Self::bsky_error(401, "AuthenticationRequired", "Invalid identifier or password");
        }
        reply(200, self.new_session(BLUESKY_DID))
    }

    fn bsky_refresh(&mut self, headers: &HeaderMap) -> Reply {
        let Some(did) = bearer(headers).and_then(|t| self.refresh_tokens.remove(t)) else {
            return Self::bsky_error(400, "ExpiredToken", "Token has been revoked");
        };
        reply(200, self.new_session(&did))
    }

    fn bsky_uri(&self, repo: &str, collection: &str, rkey: &str) -> String {
        let did = self.bsky_handles.get(repo).map_or(repo, String::as_str);
        format!("at://{did}/{collection}/{rkey}")
    }

    fn bsky_get_record(&mut self, query: &HashMap<String, String>) -> Reply {
        for p in ["repo", "collection", "rkey"] {
            if !query.contains_key(p) {
                return Self::bsky_error(
                    400,
                    "InvalidRequest",
                    &format!("Error: Params must have the property \"{p}\""),
                );
            }
        }
        let uri = self.bsky_uri(&query["repo"], &query["collection"], &query["rkey"]);
        match self.bsky.get(&uri) {
            Some((cid, value)) => reply(200, json!({ "uri": uri, "cid": cid, "value": value })),
            None => Self::bsky_error(400, "RecordNotFound", &format!("Could not locate record: {uri}")),
        }
    }

    fn store_bsky(&mut self, did: &str, record: Value) -> (String, String) {
        self.counter += 1;
        let rkey = format!("3kfake{:07}", self.counter);
        let cid = format!("bafyreifake{:020}", self.counter);
        let uri = format!("at://{did}/{BSKY_POST}/{rkey}");
        self.bsky.insert(uri.clone(), (cid.clone(), record));
        (uri, cid)
    }

    fn bsky_create_record(&mut self, headers: &HeaderMap, body: &[u8]) -> Reply {
        if let Some(r) = self.take_failure(Platform::Bluesky) {
            return r;
        }
        let did = match bearer(headers).and_then(|t| self.sessions.get(t)) {
            None => return Self::bsky_error(401, "AuthenticationRequired", "Authentication Required"),
            Some((_, true)) => return Self::bsky_error(400, "ExpiredToken", "Token has expired"),
            Some((did, false)) => did.clone(),
        };
        let invalid = |m: &str| Self::bsky_error(400, "InvalidRequest", m);
        let Some(o) = json_object(headers, body) else {
            return invalid("Input must be a JSON object sent as application/json");
        };
        let repo = o.get("repo").and_then(Value::as_str).unwrap_or_default();
        if self.bsky_handles.get(repo).map_or(repo, String::as_str) != did {
            return invalid(&format!("repo {repo:?} is not the session's repo {did}"));
        }
        if o.get("collection").and_then(Value::as_str) != Some(BSKY_POST) {
            return invalid("the fake only creates app.bsky.feed.post records");
        }
        let Some(record) = o.get("record").and_then(Value::as_object) else {
            return invalid("Input must have the property \"record\"");
        };
        if record.get("$type").and_then(Value::as_str) != Some(BSKY_POST) {
            return invalid("Invalid app.bsky.feed.post record: Record/$type must be app.bsky.feed.post");
        }
        let Some(text) = record.get("text").and_then(Value::as_str) else {
            return invalid("Invalid app.bsky.feed.post record: Record must have the property \"text\"");
        };
        if text.chars().count() > 300 {
            return invalid("Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes");
        }
        if record.get("createdAt").and_then(Value::as_str).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_none()
        {
            return invalid("Invalid app.bsky.feed.post record: Record/createdAt must be an valid atproto datetime");
        }
        if let Some(reply_refs) = record.get("reply")
            && let Err(m) = self.check_reply_refs(reply_refs)
        {
            return invalid(&format!("Invalid app.bsky.feed.post record: {m}"));
        }
        let (uri, cid) = self.store_bsky(&did, Value::Object(record.clone()));
        reply(
            200,
            json!({
                "uri": uri,
                "cid": cid,
                "commit": { "cid": format!("bafyreicommit{:020}", self.counter), "rev": format!("3kfakerev{:07}", self.counter) },
                "validationStatus": "valid",
            }),
        )
    }

    /// Stricter than a real PDS, which leaves this to the AppView: both refs must name records the
    /// fake knows, with their CIDs, and the root must be the parent's root (or the parent itself).
    fn check_reply_refs(&self, refs: &Value) -> Result<(), String> {
        let strong = |name: &str| -> Result<(String, String), String> {
            let r = refs.get(name).ok_or(format!("Record/reply must have the property \"{name}\""))?;
            match (r.get("uri").and_then(Value::as_str), r.get("cid").and_then(Value::as_str)) {
                (Some(uri), Some(cid)) => Ok((uri.to_string(), cid.to_string())),
                _ => Err(format!("Record/reply/{name} must be a strong ref {{uri, cid}}")),
            }
        };
        let (root, parent) = (strong("root")?, strong("parent")?);
        for (name, (uri, cid)) in [("root", &root), ("parent", &parent)] {
            match self.bsky.get(uri) {
                Some((known, _)) if known == cid => {}
                Some((known, _)) => {
                    return Err(format!("Record/reply/{name} cid {cid} is not {uri}'s cid {known} (fake check)"));
                }
                None => return Err(format!("Record/reply/{name} {uri} is not a record the fake knows (fake check)")),
            }
        }
        let parent_root = self.bsky.get(&parent.0).and_then(|(_, v)| v.get("reply")?.get("root")?.get("uri")?.as_str());
        let expected = parent_root.unwrap_or(&parent.0);
        if root.0 != expected {
            return Err(format!("Record/reply/root is {} but the thread root is {expected} (fake check)", root.0));
        }
        Ok(())
    }

    // ---- WordPress ----

    fn wp_create(&mut self, headers: &HeaderMap, body: &[u8]) -> Reply {
        if let Some(r) = self.take_failure(Platform::Blog) {
            return r;
        }
        let wp_error = |status: u16, code: &str, message: &str| {
            reply(status, json!({ "code": code, "message": message, "data": { "status": status } }))
        };
        match basic(headers) {
            None => return wp_error(401, "rest_comment_login_required", "Sorry, you must be logged in to comment."),
            Some((user, password))
                if user != WORDPRESS_USER || password.replace(' ', "") != WORDPRESS_APP_PASSWORD.replace(' ', "") =>
            {
                return wp_error(
                    401,
                    "incorrect_password",
                    "The provided password is an invalid application password.",
                );
            }
            Some(_) => {}
        }
        let Some(o) = json_object(headers, body) else {
            return wp_error(400, "rest_invalid_json", "Invalid JSON body passed.");
        };
        let post = match o.get("post").and_then(Value::as_u64) {
            Some(p) if p > 0 => p,
            _ => {
                return wp_error(
                    403,
                    "rest_comment_invalid_post_id",
                    "Sorry, you are not allowed to create this comment without a post.",
                );
            }
        };
        let parent = match o.get("parent") {
            None => 0,
            Some(v) => match v.as_u64() {
                Some(p) => p,
                None => return wp_error(400, "rest_invalid_param", "Invalid parameter(s): parent"),
            },
        };
        if parent != 0
            && let Some(c) = self.comments.iter().find(|c| c["id"] == parent)
            && c["post"] != post
        {
            return wp_error(400, "rest_comment_invalid_parent", "The parent comment belongs to another post.");
        }
        let Some(content) = o.get("content").and_then(Value::as_str).filter(|c| !c.trim().is_empty()) else {
            return wp_error(400, "rest_comment_content_invalid", "Invalid comment content.");
        };
        self.counter += 1;
        let id = self.counter;
        let now = Utc::now();
        let comment = json!({
            "id": id,
            "post": post,
            "parent": parent,
            "author": 7,
            "author_name": "Gilt Care",
            "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "date_gmt": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "content": { "rendered": format!("<p>{}</p>\n", html_escape(content)) },
            "link": format!("{}/?p={post}#comment-{id}", self.base),
            "status": "approved",
            "type": "comment",
        });
        self.comments.push(comment.clone());
        reply(201, comment)
    }
}
