//! Sending deliveries: signed POSTs, retries with exponential backoff and jitter, `Retry-After`.
//!
//! [`Dispatcher::attempt`] makes one HTTP call and records its outcome in the [`Delivery`];
//! [`Dispatcher::deliver`] repeats attempts, sleeping between them, until the delivery is sent or
//! failed. Time comes from a [`Clock`], which also sleeps, so tests run a whole retry schedule
//! instantly with [`ManualClock`] while the HTTP stays real.
//!
//! What is retried: connection failures, timeouts, HTTP 408, 429 and 5xx (after `Retry-After` when the
//! receiver sends one, else the backoff). What is not: other 4xx (the receiver will not accept this
//! body: retrying cannot help) and 3xx (redirects are not followed, so a signed POST never silently
//! changes target). Either way the reason is kept in [`Delivery::last_error`] in words.

use crate::config::Webhook;
use crate::delivery::{Delivery, DeliveryState};
use crate::sign::{self, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use chrono::{DateTime, Utc};
use earshot_outbox::Backoff;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A boxed future, so [`Clock`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where time comes from: the wall clock in production, [`ManualClock`] in tests.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
    /// Waits `duration` (of this clock's time).
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// The wall clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to, or when something sleeps on it: sleeping advances it at
/// once and records the duration. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<(DateTime<Utc>, Vec<Duration>)>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock { inner: Arc::new(Mutex::new((start, Vec::new()))) }
    }

    fn lock(&self) -> MutexGuard<'_, (DateTime<Utc>, Vec<Duration>)> {
        // A panic while holding this lock cannot leave the pair inconsistent; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut inner = self.lock();
        inner.0 += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }

    /// Every sleep so far, in order.
    pub fn slept(&self) -> Vec<Duration> {
        self.lock().1.clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.lock().0
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        self.advance(duration);
        self.lock().1.push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// What one attempt did.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Not delivered; tried again at `at`.
    Retry {
        /// The new `next_attempt_at`.
        at: DateTime<Utc>,
        /// Why, in words.
        reason: String,
    },
    /// Given up.
    Failed {
        /// Why, and what to do.
        reason: String,
    },
    /// Nothing was sent: the delivery is not pending, or is for another webhook.
    Skipped {
        /// Which.
        reason: String,
    },
}

/// The HTTP client could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("could not set up the HTTP client for alert webhooks: {0}")]
pub struct DispatchError(String);

/// Sends deliveries to webhooks. One per process: it holds the connection pool.
#[derive(Debug, Clone)]
pub struct Dispatcher<C = SystemClock> {
    client: reqwest::Client,
    clock: C,
    backoff: Backoff,
    max_retry_after: Duration,
}

/// Default retry schedule: 2 s, doubling, up to 10 min, up to 25 % jitter — 8 attempts span about 4 min.
pub fn default_backoff() -> Backoff {
    Backoff::new(Duration::from_secs(2), 2.0, Duration::from_secs(600), 0.25)
}

/// The longest `Retry-After` honoured by default (longer requests wait this long).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How much of an error body is kept.
const BODY_SNIPPET: usize = 300;

impl Dispatcher<SystemClock> {
    /// A dispatcher on the wall clock.
    pub fn new() -> Result<Dispatcher<SystemClock>, DispatchError> {
        Dispatcher::with_clock(SystemClock)
    }
}

impl<C: Clock> Dispatcher<C> {
    /// A dispatcher on `clock`, with [`default_backoff`].
    pub fn with_clock(clock: C) -> Result<Dispatcher<C>, DispatchError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("earshot-alerts/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DispatchError(chain(&e)))?;
        Ok(Dispatcher { client, clock, backoff: default_backoff(), max_retry_after: DEFAULT_MAX_RETRY_AFTER })
    }

    /// Uses another retry schedule.
    pub fn with_backoff(self, backoff: Backoff) -> Dispatcher<C> {
        Dispatcher { backoff, ..self }
    }

    /// Caps how long a `Retry-After` may make a delivery wait.
    pub fn with_max_retry_after(self, max: Duration) -> Dispatcher<C> {
        Dispatcher { max_retry_after: max, ..self }
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Sends the delivery once, now, and records the outcome in it (attempts, status, error, state,
    /// `next_attempt_at`). Does not wait for `next_attempt_at`: [`Dispatcher::deliver`] does.
    pub async fn attempt(&self, webhook: &Webhook, delivery: &mut Delivery) -> Attempt {
        if delivery.state != DeliveryState::Pending {
            return Attempt::Skipped { reason: format!("the delivery is {}, not pending", delivery.state.as_str()) };
        }
        if delivery.webhook != webhook.name {
            return Attempt::Skipped {
                reason: format!("the delivery is for webhook {:?}, not {:?}", delivery.webhook, webhook.name),
            };
        }
        let now = self.clock.now();
        delivery.attempts += 1;
        delivery.last_attempt_at = Some(now);
        let timestamp = now.timestamp();
        let mut request = self
            .client
            .post(webhook.url.clone())
            .timeout(webhook.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(DELIVERY_HEADER, &delivery.id)
            .header(EVENT_HEADER, delivery.event.as_str());
        if let Some(secret) = &webhook.secret {
            request = request.header(
                SIGNATURE_HEADER,
                sign::signature(secret.expose().as_bytes(), timestamp, delivery.body.as_bytes()),
            );
        }
        let outcome = match request.body(delivery.body.clone()).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                delivery.last_status = Some(status);
                let headers = response.headers().clone();
                let body = if response.status().is_success() { String::new() } else { read_snippet(response).await };
                self.judge(webhook, delivery, status, &headers, &body, now)
            }
            Err(e) => {
                delivery.last_status = None;
                let (timeout, connect) = (e.is_timeout(), e.is_connect());
                // The URL may be a secret (Slack's are): keep it out of the message.
                let detail = chain(&e.without_url());
                let reason = if timeout {
                    format!("no answer within {}", humantime::format_duration(webhook.timeout))
                } else if connect {
                    format!("could not connect: {detail}")
                } else {
                    format!("the request failed: {detail}")
                };
                self.retry(webhook, delivery, reason, None, now)
            }
        };
        match &outcome {
            Attempt::Delivered { status } => {
                delivery.state = DeliveryState::Sent;
                delivery.delivered_at = Some(now);
                delivery.last_error = None;
                tracing::info!(webhook = %webhook.name, delivery = %delivery.id, event = delivery.event.as_str(), status, "alert delivered");
            }
            Attempt::Retry { at, reason } => {
                delivery.next_attempt_at = *at;
                delivery.last_error = Some(reason.clone());
                tracing::warn!(webhook = %webhook.name, target = %webhook.target(), delivery = %delivery.id, attempt = delivery.attempts, retry_at = %at, "alert not delivered: {reason}");
            }
            Attempt::Failed { reason } => {
                delivery.state = DeliveryState::Failed;
                delivery.last_error = Some(reason.clone());
                tracing::warn!(webhook = %webhook.name, target = %webhook.target(), delivery = %delivery.id, attempt = delivery.attempts, "alert failed: {reason}");
            }
            Attempt::Skipped { .. } => {}
        }
        outcome
    }

    /// Attempts the delivery until it is sent or failed, waiting for `next_attempt_at` before each
    /// attempt (so a delivery loaded from the store resumes its schedule), and calls `journal` after
    /// every attempt so the caller can persist the record. Returns the final state.
    pub async fn deliver(
        &self,
        webhook: &Webhook,
        delivery: &mut Delivery,
        journal: &mut (dyn FnMut(&Delivery) + Send),
    ) -> DeliveryState {
        while delivery.state == DeliveryState::Pending {
            if let Ok(wait) = delivery.next_attempt_at.signed_duration_since(self.clock.now()).to_std()
                && !wait.is_zero()
            {
                self.clock.sleep(wait).await;
            }
            if let Attempt::Skipped { .. } = self.attempt(webhook, delivery).await {
                break;
            }
            journal(delivery);
        }
        delivery.state
    }

    /// The outcome of an HTTP answer.
    fn judge(
        &self,
        webhook: &Webhook,
        delivery: &Delivery,
        status: u16,
        headers: &HeaderMap,
        body: &str,
        now: DateTime<Utc>,
    ) -> Attempt {
        let said = if body.is_empty() { String::new() } else { format!(": {body}") };
        match status {
            200..=299 => Attempt::Delivered { status },
            408 | 429 | 500..=599 => {
                let retry_after = retry_after(headers, now).map(|d| d.min(self.max_retry_after));
                let why = match status {
                    429 => "rate limited".to_string(),
                    408 => "the receiver timed out reading the request".to_string(),
                    _ => "the receiver had a server error".to_string(),
                };
                self.retry(webhook, delivery, format!("HTTP {status} ({why}){said}"), retry_after, now)
            }
            300..=399 => {
                let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).filter(|_| !webhook.url_is_secret);
                let to = location.map(|l| format!(" to {l}")).unwrap_or_default();
                Attempt::Failed {
                    reason: format!(
                        "HTTP {status}: redirected{to}; earshot does not follow redirects, so a signed POST never \
                         changes target: put the final URL in the webhook's config"
                    ),
                }
            }
            _ => Attempt::Failed { reason: format!("HTTP {status}{said}; not retried: {}", hint(status, webhook)) },
        }
    }

    /// A retry after `retry_after` or the backoff, or a failure when attempts are used up.
    fn retry(
        &self,
        webhook: &Webhook,
        delivery: &Delivery,
        reason: String,
        retry_after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Attempt {
        if delivery.attempts >= webhook.max_attempts {
            return Attempt::Failed {
                reason: format!(
                    "gave up after {} attempts; the last: {reason}. Requeue it once the receiver is back",
                    delivery.attempts
                ),
            };
        }
        let wait = retry_after.unwrap_or_else(|| self.backoff.delay(delivery.attempts, seed(&delivery.id)));
        let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        let when = match retry_after {
            Some(_) => format!("retrying in {} as the receiver asked", humantime::format_duration(wait)),
            None => format!("retrying in {}", humantime::format_duration(round_to_ms(wait))),
        };
        Attempt::Retry { at, reason: format!("{reason}; {when}") }
    }
}

/// What to do about a status that is not retried.
fn hint(status: u16, webhook: &Webhook) -> String {
    let secret =
        webhook.secret_env.as_deref().map_or("its signing secret".to_string(), |env| format!("the secret in {env}"));
    match status {
        401 | 403 => format!(
            "the receiver refused the request; check that it verifies with {secret} and that its clock is right \
             (signatures older than 5 minutes fail), then requeue"
        ),
        404 | 410 => "the URL is wrong or the webhook was removed (Slack answers 404 no_service, 410 channel_is_archived); fix the url and requeue".into(),
        413 => "the body is too large for the receiver; raise its limit or narrow the webhook with kinds or events".into(),
        400 | 422 => "the receiver could not use the body; check that its format matches the webhook's format".into(),
        _ => "check the receiver's logs, then requeue".into(),
    }
}

/// The delay a `Retry-After` header asks for: delay-seconds or an HTTP date (RFC 9110).
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some(at.signed_duration_since(now).to_std().unwrap_or(Duration::ZERO))
}

/// The start of an error body, on one line.
async fn read_snippet(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    // Read at most a few KiB: an error page can be large, and only its start is shown.
    while bytes.len() < 4096 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(BODY_SNIPPET).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// Jitter seed from the delivery id, so a schedule is reproducible per delivery yet spread across them.
fn seed(id: &str) -> u64 {
    id.get(..16).and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or_else(|| {
        id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    })
}

fn round_to_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z").unwrap().with_timezone(&Utc);
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            h
        };
        assert_eq!(retry_after(&headers("120"), now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT"), now), Some(Duration::from_secs(60)));
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:00:00 GMT"), now),
            Some(Duration::ZERO),
            "past dates: now"
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = DateTime::from_timestamp(1_000, 0).unwrap();
        let clock = ManualClock::new(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(5));
        drop(shared.sleep(Duration::from_secs(7)));
        assert_eq!(clock.now(), DateTime::from_timestamp(1_012, 0).unwrap());
        assert_eq!(clock.slept(), [Duration::from_secs(7)]);
    }

    #[test]
    fn deliveries_can_be_spawned_on_a_multithreaded_runtime() {
        fn is_send<T: Send>(_: &T) {}
        let dispatcher = Dispatcher::new().unwrap();
        let webhook = Webhook::new("ops", "https://ops.example/hook", None, crate::Format::Earshot).unwrap();
        let alert = crate::Alert {
            storm_id: "s".into(),
            event: crate::AlertEvent::Opened,
            seq: 0,
            posts: 1,
            previous_posts: None,
            at: Utc::now(),
        };
        let mut delivery = Delivery::new(&webhook, &alert, &crate::subject::example(), Utc::now());
        let mut journal = |_: &Delivery| {};
        let future = dispatcher.deliver(&webhook, &mut delivery, &mut journal);
        is_send(&future);
    }

    #[test]
    fn seeds_differ_per_delivery() {
        assert_ne!(seed("0123456789abcdef0000"), seed("1123456789abcdef0000"));
        assert_eq!(seed("0000000000000010ffff"), 16);
        assert_ne!(seed("not-hex"), seed("not-hex2"));
    }
}
