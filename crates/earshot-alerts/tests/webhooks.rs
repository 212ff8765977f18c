//! Deliveries over real HTTP on loopback: an axum receiver that verifies signatures as a customer's
//! endpoint would, answers from a script (500, 429 with Retry-After, 400, slow answers, redirects),
//! and a Slack stand-in that checks Block Kit's limits. Time runs on a `ManualClock`, so retry
//! schedules are asserted exactly and nothing waits for real.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use earshot_alerts::sign::{DEFAULT_TOLERANCE, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use earshot_alerts::{
    Alert, AlertEvent, AlertPolicy, AlertSubject, Alerter, Attempt, Clock, Delivery, DeliveryState, Dispatcher, Format,
    ManualClock, Sample, Secret, StormPhase, VerifyError, Webhook, default_backoff, plan, verify,
};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec_5f2b8c0e9a7d4e1f";

/// How the receiver answers one request.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// Real time to wait before answering (for timeouts).
    delay: Duration,
}

impl Reply {
    fn status(status: u16, body: &str) -> Reply {
        Reply { status, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO }
    }

    fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    /// The receiver's verdict on the signature (when it has a secret).
    verified: Option<Result<(), VerifyError>>,
    /// Slack stand-in's verdict on the Block Kit payload.
    slack_problems: Vec<String>,
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct Receiver {
    inner: Arc<Mutex<(VecDeque<Reply>, Vec<Received>)>>,
    /// Verify `Earshot-Signature` with this secret, answering 401 when it fails.
    secret: Option<Vec<u8>>,
    /// Act as Slack: check the Block Kit payload, answering 400 `invalid_blocks` when it breaks a rule.
    slack: bool,
    /// The receiver's clock (shared with the dispatcher's, as if both ran on synchronised clocks).
    clock: ManualClock,
}

impl Receiver {
    async fn start(secret: Option<&str>, slack: bool, clock: &ManualClock) -> (Receiver, String) {
        let receiver = Receiver {
            inner: Arc::default(),
            secret: secret.map(|s| s.as_bytes().to_vec()),
            slack,
            clock: clock.clone(),
        };
        let app = Router::new().fallback(hook).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/earshot", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().0.extend(replies);
    }

    fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().1.clone()
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let verified = r.secret.as_ref().map(|secret| {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        verify(secret, get(TIMESTAMP_HEADER), &body, get(SIGNATURE_HEADER), r.clock.now(), DEFAULT_TOLERANCE)
    });
    let slack_problems = if r.slack { slack_problems(&body) } else { Vec::new() };
    let scripted = r.inner.lock().unwrap().0.pop_front();
    let reply = match (&verified, slack_problems.is_empty(), scripted) {
        (Some(Err(e)), _, _) => Reply::status(401, &e.to_string()),
        (_, false, _) => Reply::status(400, "invalid_blocks"),
        (_, true, Some(reply)) => reply,
        (_, true, None) => Reply::status(200, "ok"),
    };
    r.inner.lock().unwrap().1.push(Received { headers, body, verified, slack_problems, status: reply.status });
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
    }
    response
}

/// Block Kit rules an incoming webhook enforces (Slack answers `invalid_blocks` otherwise), and that no
/// customer text can ping or link: every `<` must open a link earshot made.
fn slack_problems(body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(body) else {
        return vec!["not a JSON object".into()];
    };
    let mut problem = |p: String| problems.push(p);
    for key in message.keys() {
        if !["text", "blocks"].contains(&key.as_str()) {
            problem(format!("unexpected top-level key {key}"));
        }
    }
    let mut mrkdwn = Vec::new();
    match message.get("text").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => mrkdwn.push(t.to_string()),
        _ => problem("no text fallback".into()),
    }
    let blocks = message.get("blocks").and_then(Value::as_array).cloned().unwrap_or_default();
    if blocks.is_empty() || blocks.len() > 50 {
        problem(format!("{} blocks (1 to 50 allowed)", blocks.len()));
    }
    let chars = |v: &Value| v["text"].as_str().map_or(0, |s| s.chars().count());
    let text_object = |v: &Value, max: usize, mrkdwn: &mut Vec<String>| -> Option<String> {
        let kind = v["type"].as_str().unwrap_or("");
        if !["plain_text", "mrkdwn"].contains(&kind) {
            return Some(format!("text object of type {kind:?}"));
        }
        let n = chars(v);
        if n == 0 || n > max {
            return Some(format!("text of {n} characters (1 to {max})"));
        }
        if kind == "mrkdwn" {
            mrkdwn.push(v["text"].as_str().unwrap().to_string());
        }
        None
    };
    for (i, block) in blocks.iter().enumerate() {
        match block["type"].as_str() {
            Some("header") => {
                if block["text"]["type"] != "plain_text" {
                    problem(format!("blocks[{i}]: header text must be plain_text"));
                }
                if let Some(p) = text_object(&block["text"], 150, &mut mrkdwn) {
                    problem(format!("blocks[{i}] header: {p}"));
                }
            }
            Some("section") => {
                let text = block.get("text");
                let fields = block.get("fields").and_then(Value::as_array);
                if text.is_none() && fields.is_none() {
                    problem(format!("blocks[{i}]: section without text or fields"));
                }
                if let Some(p) = text.and_then(|t| text_object(t, 3000, &mut mrkdwn)) {
                    problem(format!("blocks[{i}] section: {p}"));
                }
                if let Some(fields) = fields {
                    if fields.is_empty() || fields.len() > 10 {
                        problem(format!("blocks[{i}]: {} fields (1 to 10)", fields.len()));
                    }
                    for f in fields {
                        if let Some(p) = text_object(f, 2000, &mut mrkdwn) {
                            problem(format!("blocks[{i}] field: {p}"));
                        }
                    }
                }
            }
            Some("context") => {
                let elements = block["elements"].as_array().cloned().unwrap_or_default();
                if elements.is_empty() || elements.len() > 10 {
                    problem(format!("blocks[{i}]: {} context elements (1 to 10)", elements.len()));
                }
                for e in &elements {
                    if let Some(p) = text_object(e, 3000, &mut mrkdwn) {
                        problem(format!("blocks[{i}] context: {p}"));
                    }
                }
            }
            Some("divider") => {}
            other => problem(format!("blocks[{i}]: unexpected block type {other:?}")),
        }
    }
    for text in mrkdwn {
        let mut rest = text.as_str();
        while let Some(i) = rest.find('<') {
            let tail = &rest[i..];
            if !(tail.starts_with("<https://") || tail.starts_with("<http://")) || !tail.contains('|') {
                problem(format!("unescaped control sequence in {text:?}"));
                break;
            }
            rest = &tail[1..];
        }
    }
    problems
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_714_567_890, 0).unwrap()
}

fn subject() -> AlertSubject {
    AlertSubject {
        storm_id: "storm-2024-05-01-gilt-1".into(),
        brand: "Gilt".into(),
        kind: "volume".into(),
        facet: "hashtag".into(),
        key: "#giltdown".into(),
        started_at: t0() - chrono::Duration::minutes(40),
        detected_at: t0() - chrono::Duration::minutes(10),
        closed_at: None,
        posts: 140,
        authors: 96,
        hashtags: vec!["giltdown".into(), "outage".into()],
        samples: vec![
            Sample {
                author: "ana".into(),
                text: "Gilt app is down AGAIN & support says nothing".into(),
                url: Some("https://x.com/ana/status/1785000000000000001".into()),
            },
            Sample { author: "bo".into(), text: "cannot log in since 9am".into(), url: None },
        ],
        url: Some("https://earshot.example/storms/storm-2024-05-01-gilt-1".into()),
    }
}

fn alert(event: AlertEvent, seq: u32) -> Alert {
    Alert { storm_id: subject().storm_id, event, seq, posts: 140, previous_posts: None, at: t0() }
}

fn dispatcher(clock: &ManualClock) -> Dispatcher<ManualClock> {
    Dispatcher::with_clock(clock.clone()).unwrap().with_backoff(default_backoff().without_jitter())
}

fn signed(url: &str) -> Webhook {
    let mut w = Webhook::new("ops", url, Some(Secret::new(SECRET)), Format::Earshot).unwrap();
    w.secret_env = Some("OPS_WEBHOOK_SECRET".into());
    w
}

fn one_delivery(webhook: &Webhook, clock: &ManualClock) -> Delivery {
    let mut planned = plan(std::slice::from_ref(webhook), &alert(AlertEvent::Opened, 0), &subject(), clock.now());
    assert_eq!(planned.len(), 1);
    planned.remove(0)
}

async fn deliver(d: &Dispatcher<ManualClock>, w: &Webhook, delivery: &mut Delivery) -> Vec<Delivery> {
    let mut journal = Vec::new();
    d.deliver(w, delivery, &mut |record: &Delivery| journal.push(record.clone())).await;
    journal
}

#[tokio::test]
async fn the_receiver_verifies_the_documented_headers() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);

    let state = dispatcher(&clock).deliver(&webhook, &mut delivery, &mut |_: &Delivery| {}).await;
    assert_eq!(state, DeliveryState::Sent);

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(request.verified, Some(Ok(())));
    assert_eq!(request.header("earshot-timestamp"), "1714567890");
    assert!(request.header("earshot-signature").starts_with("v1="));
    assert_eq!(request.header("earshot-signature").len(), 3 + 64);
    assert_eq!(request.header("earshot-event"), "storm.opened");
    assert_eq!(request.header("earshot-delivery"), delivery.id);
    assert_eq!(request.header("content-type"), "application/json");
    assert!(request.header("user-agent").starts_with("earshot-alerts/"));
    // The body is the documented object, byte for byte what the journal keeps.
    assert_eq!(request.body, delivery.body.as_bytes());
    let body = request.json();
    assert_eq!(body["event"], "storm.opened");
    assert_eq!(body["delivery_id"], delivery.id.as_str());
    assert_eq!(body["storm"]["id"], "storm-2024-05-01-gilt-1");
    assert_eq!(body["storm"]["posts"], 140);
    assert_eq!((delivery.attempts, delivery.last_status, delivery.delivered_at), (1, Some(200), Some(t0())));
}

#[tokio::test]
async fn a_tampered_body_or_an_old_timestamp_fails_verification() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);
    dispatcher(&clock).deliver(&webhook, &mut delivery, &mut |_: &Delivery| {}).await;
    let original = receiver.received().remove(0);
    let (ts, sig) = (original.header(TIMESTAMP_HEADER).to_string(), original.header(SIGNATURE_HEADER).to_string());

    let secret = SECRET.as_bytes();
    let tampered = String::from_utf8(original.body.to_vec()).unwrap().replace("\"posts\":140", "\"posts\":14");
    assert_ne!(tampered.as_bytes(), &original.body[..]);
    assert_eq!(verify(secret, &ts, tampered.as_bytes(), &sig, t0(), DEFAULT_TOLERANCE), Err(VerifyError::Mismatch));
    assert_eq!(
        verify(b"another secret", &ts, &original.body, &sig, t0(), DEFAULT_TOLERANCE),
        Err(VerifyError::Mismatch)
    );
    let later = t0() + chrono::Duration::minutes(6);
    assert_eq!(
        verify(secret, &ts, &original.body, &sig, later, DEFAULT_TOLERANCE),
        Err(VerifyError::Stale { skew_secs: 360, tolerance_secs: 300 })
    );

    // The same replays sent over HTTP are refused by the receiver.
    let client = reqwest::Client::new();
    let replay = |body: Vec<u8>| {
        client
            .post(&url)
            .header(TIMESTAMP_HEADER, &ts)
            .header(SIGNATURE_HEADER, &sig)
            .header(DELIVERY_HEADER, &delivery.id)
            .header(EVENT_HEADER, "storm.opened")
            .body(body)
            .send()
    };
    assert_eq!(replay(tampered.into_bytes()).await.unwrap().status(), 401);
    clock.advance(Duration::from_secs(600));
    assert_eq!(replay(original.body.to_vec()).await.unwrap().status(), 401, "a captured request replayed 10 min later");
    let verdicts: Vec<_> = receiver.received().into_iter().map(|r| r.verified.unwrap()).collect();
    assert_eq!(verdicts[1], Err(VerifyError::Mismatch));
    assert!(matches!(verdicts[2], Err(VerifyError::Stale { skew_secs: 600, .. })));
}

#[tokio::test]
async fn a_500_then_200_is_retried_and_delivered_once() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script([Reply::status(500, "<html>upstream exploded</html>")]);
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);

    let journal = deliver(&dispatcher(&clock), &webhook, &mut delivery).await;

    assert_eq!(delivery.state, DeliveryState::Sent);
    assert_eq!(delivery.attempts, 2);
    assert_eq!(clock.slept(), [Duration::from_secs(2)], "the first backoff step");
    let got = receiver.received();
    assert_eq!(got.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 200], "delivered once");
    assert_eq!(got[0].header(DELIVERY_HEADER), got[1].header(DELIVERY_HEADER), "same id for the receiver to dedupe");
    assert_eq!(got[0].body, got[1].body, "same body");
    assert_eq!(got[1].header(TIMESTAMP_HEADER), "1714567892", "re-signed at the retry");
    assert_eq!(got[1].verified, Some(Ok(())));
    // The journal saw the failure, then the success.
    assert_eq!(journal.len(), 2);
    assert_eq!((journal[0].state, journal[0].last_status), (DeliveryState::Pending, Some(500)));
    let error = journal[0].last_error.as_deref().unwrap();
    assert!(
        error.starts_with("HTTP 500 (the receiver had a server error): <html>upstream exploded</html>; retrying in 2s"),
        "{error}"
    );
    assert_eq!(journal[0].next_attempt_at, t0() + chrono::Duration::seconds(2));
    assert_eq!((journal[1].state, journal[1].last_error.as_deref()), (DeliveryState::Sent, None));
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script([Reply::status(400, "{\"error\":\"unknown field storm\"}")]);
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);

    let journal = deliver(&dispatcher(&clock), &webhook, &mut delivery).await;

    assert_eq!(delivery.state, DeliveryState::Failed);
    assert_eq!((delivery.attempts, delivery.last_status), (1, Some(400)));
    assert_eq!(receiver.received().len(), 1);
    assert!(clock.slept().is_empty());
    assert_eq!(journal.len(), 1);
    let error = delivery.last_error.unwrap();
    assert!(
        error.starts_with(
            "HTTP 400: {\"error\":\"unknown field storm\"}; not retried: the receiver could not use the body"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_401_names_the_secret_variable() {
    let clock = ManualClock::new(t0());
    // The receiver holds another secret, so earshot's signature fails there.
    let (_receiver, url) = Receiver::start(Some("rotated-secret"), false, &clock).await;
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);
    deliver(&dispatcher(&clock), &webhook, &mut delivery).await;
    assert_eq!((delivery.state, delivery.attempts), (DeliveryState::Failed, 1));
    let error = delivery.last_error.unwrap();
    assert!(error.contains("HTTP 401") && error.contains("OPS_WEBHOOK_SECRET"), "{error}");
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script([
        Reply::status(429, "slow down").header("retry-after", "17"),
        Reply::status(503, "").header("retry-after", "Wed, 01 May 2024 12:53:00 GMT"),
    ]);
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);

    let journal = deliver(&dispatcher(&clock), &webhook, &mut delivery).await;

    assert_eq!(delivery.state, DeliveryState::Sent);
    // 17 s as asked (not the 2 s backoff); then until 12:53:00, which is 12:51:47 + 73 s.
    assert_eq!(clock.slept(), [Duration::from_secs(17), Duration::from_secs(73)]);
    assert_eq!(receiver.received().len(), 3);
    assert!(
        journal[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("HTTP 429 (rate limited): slow down; retrying in 17s as the receiver asked")
    );
}

#[tokio::test]
async fn retry_after_is_capped() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script([Reply::status(429, "").header("retry-after", "86400")]);
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);
    let d = dispatcher(&clock).with_max_retry_after(Duration::from_secs(900));
    deliver(&d, &webhook, &mut delivery).await;
    assert_eq!(delivery.state, DeliveryState::Sent);
    assert_eq!(clock.slept(), [Duration::from_secs(900)]);
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn server_errors_back_off_exponentially_then_fail() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script(std::iter::repeat_n(Reply::status(502, "bad gateway"), 4));
    let mut webhook = signed(&url);
    webhook.max_attempts = 4;
    let mut delivery = one_delivery(&webhook, &clock);

    deliver(&dispatcher(&clock), &webhook, &mut delivery).await;

    assert_eq!((delivery.state, delivery.attempts), (DeliveryState::Failed, 4));
    assert_eq!(clock.slept(), [2, 4, 8].map(Duration::from_secs));
    assert_eq!(receiver.received().len(), 4);
    let error = delivery.last_error.as_deref().unwrap();
    assert!(error.starts_with("gave up after 4 attempts; the last: HTTP 502"), "{error}");

    // Requeued once the receiver is back: same id, fresh attempts.
    assert!(delivery.requeue(clock.now()));
    deliver(&dispatcher(&clock), &webhook, &mut delivery).await;
    assert_eq!(delivery.state, DeliveryState::Sent);
    let got = receiver.received();
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|r| r.header(DELIVERY_HEADER) == delivery.id));
}

#[tokio::test]
async fn jittered_backoff_stays_within_its_bounds() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script(std::iter::repeat_n(Reply::status(500, ""), 5));
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);
    let d = Dispatcher::with_clock(clock.clone()).unwrap(); // default backoff: 25 % jitter
    deliver(&d, &webhook, &mut delivery).await;
    assert_eq!(delivery.state, DeliveryState::Sent);
    let slept = clock.slept();
    assert_eq!(slept.len(), 5);
    for (i, wait) in slept.iter().enumerate() {
        let full = Duration::from_secs(2 << i);
        assert!(*wait <= full && *wait >= full.mul_f64(0.75), "attempt {}: {wait:?} vs {full:?}", i + 1);
    }
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_retried() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    // The first answer comes far too late; the webhook gives up on it after 150 ms.
    receiver.script([Reply { delay: Duration::from_secs(30), ..Reply::status(200, "late") }]);
    let mut webhook = signed(&url);
    webhook.timeout = Duration::from_millis(150);
    let mut delivery = one_delivery(&webhook, &clock);
    let journal = deliver(&dispatcher(&clock), &webhook, &mut delivery).await;
    assert_eq!((delivery.state, delivery.attempts), (DeliveryState::Sent, 2));
    assert!(
        journal[0].last_error.as_deref().unwrap().starts_with("no answer within 150ms; retrying in 2s"),
        "{journal:?}"
    );

    // Nothing listens on this port any more.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let mut webhook = signed(&url);
    webhook.max_attempts = 2;
    let mut delivery = one_delivery(&webhook, &clock);
    let journal = deliver(&dispatcher(&clock), &webhook, &mut delivery).await;
    assert_eq!((delivery.state, delivery.attempts, delivery.last_status), (DeliveryState::Failed, 2, None));
    assert!(journal[0].last_error.as_deref().unwrap().starts_with("could not connect"), "{journal:?}");
    assert!(!journal[0].last_error.as_deref().unwrap().contains(&url), "URLs stay out of errors (they can be secrets)");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    receiver.script([Reply::status(308, "").header("location", "https://elsewhere.example/hook")]);
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);
    deliver(&dispatcher(&clock), &webhook, &mut delivery).await;
    assert_eq!((delivery.state, delivery.attempts), (DeliveryState::Failed, 1));
    let error = delivery.last_error.unwrap();
    assert!(
        error.starts_with("HTTP 308: redirected to https://elsewhere.example/hook; earshot does not follow redirects"),
        "{error}"
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_stored_delivery_resumes_its_schedule() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    let webhook = signed(&url);
    let mut delivery = one_delivery(&webhook, &clock);
    // As loaded from the store after a restart: one attempt made, the next due in 8 s.
    delivery.attempts = 1;
    delivery.next_attempt_at = t0() + chrono::Duration::seconds(8);
    let stored: Delivery = serde_json::from_str(&serde_json::to_string(&delivery).unwrap()).unwrap();
    let mut delivery = stored;
    deliver(&dispatcher(&clock), &webhook, &mut delivery).await;
    assert_eq!(clock.slept(), [Duration::from_secs(8)]);
    assert_eq!((delivery.state, delivery.attempts), (DeliveryState::Sent, 2));
    assert_eq!(receiver.received().len(), 1);

    // Attempting a finished delivery, or with the wrong webhook, sends nothing.
    let d = dispatcher(&clock);
    assert!(matches!(d.attempt(&webhook, &mut delivery).await, Attempt::Skipped { .. }));
    let other = Webhook::new("other", &url, None, Format::Earshot).unwrap();
    let mut fresh = one_delivery(&webhook, &clock);
    assert!(matches!(d.attempt(&other, &mut fresh).await, Attempt::Skipped { .. }));
    assert_eq!(receiver.received().len(), 1);
}

fn hostile_subject() -> AlertSubject {
    let mut s = subject();
    s.brand = "Gilt & Co <Retail>".into();
    s.key = format!("#{}", "x".repeat(400));
    s.hashtags = (0..30).map(|i| format!("tag{i}")).collect();
    s.samples = (0..12)
        .map(|i| Sample {
            author: format!("user{i}"),
            text: format!(
                "<!channel> <@U123> <#C1|general> {} & more\nsecond line",
                "very long complaint ".repeat(300)
            ),
            url: Some(format!("https://x.com/user{i}/status/{i}?a=1|b>c")),
        })
        .collect();
    s
}

#[tokio::test]
async fn the_slack_payload_has_the_shape_slack_accepts() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(None, true, &clock).await;
    let slack = Webhook::new("slack-care", &url, None, Format::Slack).unwrap();

    let mut closed = hostile_subject();
    closed.closed_at = Some(t0());
    let cases = [
        (alert(AlertEvent::Opened, 0), subject()),
        (Alert { previous_posts: Some(20), ..alert(AlertEvent::Updated, 1) }, hostile_subject()),
        (Alert { previous_posts: Some(140), ..alert(AlertEvent::Closed, 2) }, closed),
    ];
    for (alert, subject) in &cases {
        let mut delivery = plan(std::slice::from_ref(&slack), alert, subject, clock.now()).remove(0);
        deliver(&dispatcher(&clock), &slack, &mut delivery).await;
        let last = receiver.received().pop().unwrap();
        assert_eq!(last.slack_problems, Vec::<String>::new(), "{}", String::from_utf8_lossy(&last.body));
        assert_eq!(delivery.state, DeliveryState::Sent);
        assert!(last.headers.get(SIGNATURE_HEADER).is_none(), "no secret, no signature");
        assert_eq!(last.header(EVENT_HEADER), alert.event.as_str());
    }

    let got = receiver.received();
    let opened = got[0].json();
    assert_eq!(opened["text"], "Storm opened for Gilt · hashtag #giltdown: 140 posts from 96 authors (volume)");
    assert_eq!(opened["blocks"][0]["text"]["text"], "🚨 Storm opened: Gilt · hashtag #giltdown");
    assert_eq!(
        opened["blocks"][2]["text"]["text"],
        "> Gilt app is down AGAIN &amp; support says nothing\n— <https://x.com/ana/status/1785000000000000001|@ana>"
    );
    assert_eq!(opened["blocks"][3]["text"]["text"], "> cannot log in since 9am\n— @bo");
    let hostile = got[1].json();
    assert_eq!(hostile["blocks"].as_array().unwrap().len(), 2 + 3 + 1, "header, fields, three samples, context");
    assert!(!got[1].body.windows(10).any(|w| w == b"<!channel>"));

    // And the validator itself catches what Slack would refuse.
    assert!(
        !slack_problems(
            br#"{"text":"hi <!channel>","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]}"#
        )
        .is_empty()
    );
}

#[tokio::test]
async fn forty_updates_of_one_storm_make_one_opened_a_few_updates_and_one_closed() {
    let clock = ManualClock::new(t0());
    let (receiver, url) = Receiver::start(Some(SECRET), false, &clock).await;
    let webhook = signed(&url);
    let webhooks = [webhook.clone()];
    let d = dispatcher(&clock);
    let policy = AlertPolicy::default(); // 30 min cooldown, doubling + 10 posts, at most 6 updates
    let mut alerter = Alerter::new(policy);

    let mut storm = subject();
    storm.posts = 25;
    let mut events = vec![storm.event(StormPhase::Opened, t0())];
    for i in 1..=40u64 {
        // Reported every 2 minutes, growing fast at first, then slowly.
        storm.posts = 25 + i * i * 6;
        events.push(storm.event(StormPhase::Updated, t0() + chrono::Duration::minutes(2 * i as i64)));
    }
    events.push(storm.event(StormPhase::Closed, t0() + chrono::Duration::minutes(90)));

    for event in &events {
        // The receiver's clock follows the storm, as in production.
        if let Ok(ahead) = event.at.signed_duration_since(clock.now()).to_std() {
            clock.advance(ahead);
        }
        let mut alerts: Vec<Alert> = alerter.observe(event).into_iter().collect();
        alerts.extend(alerter.flush(event.at));
        for alert in alerts {
            let mut subject = storm.clone();
            subject.posts = alert.posts;
            for mut delivery in plan(&webhooks, &alert, &subject, clock.now()) {
                assert_eq!(d.deliver(&webhook, &mut delivery, &mut |_: &Delivery| {}).await, DeliveryState::Sent);
            }
        }
    }

    let got = receiver.received();
    let events: Vec<String> = got.iter().map(|r| r.header(EVENT_HEADER).to_string()).collect();
    let updates = events.iter().filter(|e| *e == "storm.updated").count();
    assert_eq!(events.first().map(String::as_str), Some("storm.opened"));
    assert_eq!(events.last().map(String::as_str), Some("storm.closed"));
    assert_eq!(events.iter().filter(|e| *e == "storm.opened").count(), 1);
    assert_eq!(events.iter().filter(|e| *e == "storm.closed").count(), 1);
    // 80 minutes of reports allow at most 80 / 30 + 1 cooled-down updates.
    assert!((1..=3).contains(&updates), "{events:?}");
    assert_eq!(events.len(), 2 + updates);
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    let sequences: Vec<u64> = bodies.iter().map(|b| b["sequence"].as_u64().unwrap()).collect();
    assert_eq!(sequences, (0..events.len() as u64).collect::<Vec<_>>());
    assert!(got.iter().all(|r| r.verified == Some(Ok(()))));
    // Updates report growth against the previous alert.
    for pair in bodies.windows(2).filter(|p| p[1]["event"] == "storm.updated") {
        assert_eq!(pair[1]["previous_posts"], pair[0]["storm"]["posts"]);
        assert!(pair[1]["storm"]["posts"].as_u64().unwrap() >= 2 * pair[0]["storm"]["posts"].as_u64().unwrap());
    }
}
