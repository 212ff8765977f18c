//! Fake platform servers on loopback, for tests (feature `fake`): an X filtered stream
//! ([`x::FakeX`]), Mastodon streaming ([`mastodon::FakeMastodon`]), a Jetstream WebSocket
//! ([`jetstream::FakeJetstream`]) and a blog feed ([`feed::FakeFeed`]).
//!
//! Each speaks its platform's documented wire format and serves a [`Timeline`] of numbered posts that the
//! test publishes (all at once, or at a rate in the background). [`Chaos`] makes it behave like the real
//! thing on a bad day: connections dropped at random points (optionally in the middle of an event),
//! events sent twice, malformed events, `429` answers with the platform's rate-limit headers, and
//! restarts (the port refuses connections for a while and open streams are cut).
//!
//! The platforms' replay rules are kept: X and Mastodon streams start at "now" (missed posts are only
//! reachable through recent search / timelines), Jetstream replays from a `cursor`, a feed shows only
//! its latest items.

pub mod feed;
pub mod jetstream;
pub mod mastodon;
pub mod x;

use chrono::{DateTime, Utc};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How badly a fake behaves. The default is a perfect server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    /// Drop each connection after a random number of events in this range (inclusive).
    pub drop_after: Option<(u64, u64)>,
    /// A dropped connection cuts its last event in half.
    pub mid_event: bool,
    /// Probability that an event is sent twice.
    pub duplicates: f64,
    /// Send a malformed event after every n-th event (0: never).
    pub malformed_every: u64,
    /// Answer every n-th stream connection attempt (feeds: every n-th request) with 429 (0: never).
    pub rate_limit_every: u64,
    /// Answer every n-th back-fill request (X recent search, Mastodon timelines) with 429 (0: never).
    pub rest_rate_limit_every: u64,
    /// The wait the 429 asks for, in seconds.
    pub retry_after: u64,
    /// Seed of the random choices.
    pub seed: u64,
}

impl Default for Chaos {
    fn default() -> Self {
        Chaos {
            drop_after: None,
            mid_event: false,
            duplicates: 0.0,
            malformed_every: 0,
            rate_limit_every: 0,
            rest_rate_limit_every: 0,
            retry_after: 1,
            seed: 7,
        }
    }
}

impl Chaos {
    /// A bad day: drops every 200–1,500 events (half of them mid-event), 2% duplicates, a malformed
    /// event every 500, a 429 on every 4th connection and every 25th back-fill request.
    pub fn rough(seed: u64) -> Chaos {
        Chaos {
            drop_after: Some((200, 1_500)),
            mid_event: true,
            duplicates: 0.02,
            malformed_every: 500,
            rate_limit_every: 4,
            rest_rate_limit_every: 25,
            retry_after: 1,
            seed,
        }
    }
}

/// What a fake did, for assertions.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connection attempts (including those answered 429).
    pub connections: AtomicU64,
    /// 429 answers.
    pub rate_limited: AtomicU64,
    /// Connections dropped on purpose.
    pub drops: AtomicU64,
    /// Events sent twice.
    pub duplicates: AtomicU64,
    /// Malformed events sent.
    pub malformed: AtomicU64,
    /// Back-fill / catch-up / poll requests answered.
    pub rest_requests: AtomicU64,
}

impl Counters {
    /// A counter's value.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Posts numbered 1, 2, 3 … in publication order, with the time each was published.
#[derive(Debug)]
pub struct Timeline {
    published: watch::Sender<u64>,
    /// Publication times in microseconds since the epoch, strictly increasing (Jetstream's `time_us`).
    times: Mutex<Vec<i64>>,
}

impl Timeline {
    fn new() -> Timeline {
        Timeline { published: watch::channel(0).0, times: Mutex::new(Vec::new()) }
    }

    /// Posts published so far.
    pub fn published(&self) -> u64 {
        *self.published.borrow()
    }

    /// Publishes `n` more posts now.
    pub fn publish(&self, n: u64) {
        let now = Utc::now().timestamp_micros();
        if let Ok(mut t) = self.times.lock() {
            for _ in 0..n {
                let next = t.last().map_or(now, |l| now.max(l + 1));
                t.push(next);
            }
        }
        self.published.send_modify(|p| *p += n);
    }

    /// When post `i` (1-based) was published.
    pub fn time(&self, i: u64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.time_us(i)).unwrap_or_default()
    }

    /// When post `i` (1-based) was published, in microseconds (unique per post).
    pub fn time_us(&self, i: u64) -> i64 {
        self.times.lock().ok().and_then(|t| t.get(i.saturating_sub(1) as usize).copied()).unwrap_or_default()
    }

    /// The number of posts published before `time_us` (so replay from a cursor starts after them).
    pub fn count_before(&self, time_us: i64) -> u64 {
        self.times.lock().map(|t| t.partition_point(|&x| x < time_us) as u64).unwrap_or(0)
    }

    /// Waits until more than `pos` posts are published, or `timeout` passes; returns the count.
    pub async fn wait_beyond(&self, pos: u64, timeout: Duration) -> u64 {
        let mut rx = self.published.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|p| *p > pos)).await;
        self.published()
    }
}

/// Distinct customers each fake platform's posts come from.
pub const CUSTOMERS: u64 = 100_000;

/// The customer who wrote post `i`: scattered over [`CUSTOMERS`] so that, as in a real storm, most customers post a
/// few times and no one's case grows with the length of the run (a handful of authors posting every second would
/// measure one customer's ever-growing case, not a platform's traffic).
pub fn customer_of(i: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17) % CUSTOMERS
}

/// Publishes `n` posts at `per_second` in the background (in 5 ms steps).
pub fn publish_at_rate(timeline: Arc<Timeline>, n: u64, per_second: u64) -> JoinHandle<()> {
    tokio::spawn(async move {
        let step = Duration::from_millis(5);
        let per_step = (per_second as f64 * step.as_secs_f64()).max(1.0);
        let mut tick = tokio::time::interval(step);
        let (mut done, mut owed) = (0u64, 0f64);
        while done < n {
            tick.tick().await;
            owed += per_step;
            let k = (owed as u64).min(n - done);
            owed -= k as f64;
            timeline.publish(k);
            done += k;
        }
    })
}

/// A loopback listener that can be restarted on the same port or stopped; streams watch [`Listener::epoch`]
/// and end (cutting the connection) when it changes.
pub struct Listener {
    addr: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
    epoch: watch::Sender<u64>,
    bound: Mutex<Option<tokio::net::TcpListener>>,
    serve: std::sync::OnceLock<ServeFn>,
}

type ServeFn = Box<dyn Fn(tokio::net::TcpListener) -> JoinHandle<()> + Send + Sync>;

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Listener {
    /// Binds a free loopback port (serving starts with [`Listener::serve`]).
    pub async fn bind() -> Listener {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        Listener {
            addr,
            task: Mutex::new(None),
            epoch: watch::channel(0).0,
            bound: Mutex::new(Some(listener)),
            serve: std::sync::OnceLock::new(),
        }
    }

    /// Starts serving with `serve` (called again on every restart).
    pub fn serve(&self, serve: impl Fn(tokio::net::TcpListener) -> JoinHandle<()> + Send + Sync + 'static) {
        let serve = self.serve.get_or_init(|| Box::new(serve));
        if let Some(l) = self.bound.lock().ok().and_then(|mut b| b.take())
            && let Ok(mut t) = self.task.lock()
        {
            *t = Some(serve(l));
        }
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A receiver that changes when open streams must be cut.
    pub fn epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Closes the port and cuts every open stream.
    pub fn stop(&self) {
        if let Ok(mut t) = self.task.lock()
            && let Some(task) = t.take()
        {
            task.abort();
        }
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Stops, refuses connections for `pause`, then serves again on the same port.
    pub async fn restart(&self, pause: Duration) {
        self.stop();
        tokio::time::sleep(pause).await;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        if let (Some(serve), Ok(mut t)) = (self.serve.get(), self.task.lock()) {
            *t = Some(serve(listener));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Per-connection chaos decisions.
#[derive(Debug)]
pub(crate) struct ConnChaos {
    rng: fastrand::Rng,
    chaos: Chaos,
    /// Events left before this connection is dropped.
    left: Option<u64>,
    sent: u64,
}

impl ConnChaos {
    pub(crate) fn new(chaos: Chaos, connection: u64) -> ConnChaos {
        let mut rng = fastrand::Rng::with_seed(chaos.seed.wrapping_mul(1_000_003).wrapping_add(connection));
        let left = chaos.drop_after.map(|(a, b)| rng.u64(a..=b.max(a)));
        ConnChaos { rng, chaos, left, sent: 0 }
    }

    /// Whether a connection attempt is answered 429.
    pub(crate) fn rate_limited(chaos: &Chaos, connection: u64) -> bool {
        every(chaos.rate_limit_every, connection)
    }

    /// Whether a back-fill request is answered 429.
    pub(crate) fn rest_rate_limited(chaos: &Chaos, request: u64) -> bool {
        every(chaos.rest_rate_limit_every, request)
    }

    /// Counts one event; `Some(cut)` when the connection must drop now (`cut`: cut the event in half).
    pub(crate) fn drop_now(&mut self) -> Option<bool> {
        self.sent += 1;
        let left = self.left.as_mut()?;
        if *left == 0 {
            return Some(self.chaos.mid_event && self.rng.bool());
        }
        *left -= 1;
        None
    }

    pub(crate) fn duplicate(&mut self) -> bool {
        self.chaos.duplicates > 0.0 && self.rng.f64() < self.chaos.duplicates
    }

    pub(crate) fn malformed(&self) -> bool {
        self.chaos.malformed_every > 0 && self.sent.is_multiple_of(self.chaos.malformed_every)
    }
}

fn every(n: u64, i: u64) -> bool {
    n > 0 && i % n == n - 1
}

/// An HTTP date (`Last-Modified`, `Retry-After`).
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The error that ends a streamed HTTP body, so the server aborts the connection mid-response.
pub(crate) fn cut() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fake server dropped the connection")
}

/// A streamed response body fed by a task: the task sends chunks, an `Err` aborts the connection.
pub(crate) fn channel_body(
    capacity: usize,
) -> (tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>, axum::body::Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(capacity);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    (tx, axum::body::Body::from_stream(stream))
}

/// How one kind of chunked HTTP stream frames its records (X's newline-delimited JSON, Mastodon's SSE).
pub(crate) struct Framing {
    /// Sent when a second passes without a post.
    pub keepalive: &'static [u8],
    /// Post `i` of the timeline, framed.
    pub event: fn(&Timeline, u64) -> Vec<u8>,
    /// The `n`th malformed record, framed.
    pub malformed: fn(u64) -> Vec<u8>,
}

/// A chunked response body streaming `timeline` from post `pos` on, with the connection's chaos applied (drops,
/// some mid-record, duplicates, malformed records) and cut when the server restarts (`epoch` changes) — what the
/// X and Mastodon fakes share. `counters` are the server's.
pub(crate) fn chaotic_stream<S: Send + Sync + 'static>(
    server: Arc<S>,
    counters: fn(&S) -> &Counters,
    timeline: Arc<Timeline>,
    mut epoch: tokio::sync::watch::Receiver<u64>,
    mut chaos: ConnChaos,
    mut pos: u64,
    framing: Framing,
) -> axum::body::Body {
    let (tx, body) = channel_body(16);
    epoch.mark_unchanged();
    tokio::spawn(async move {
        let c = counters(&server);
        let mut last: Option<Vec<u8>> = None;
        loop {
            let published = tokio::select! {
                p = timeline.wait_beyond(pos, Duration::from_secs(1)) => p,
                _ = epoch.changed() => { let _ = tx.send(Err(cut())).await; return; }
            };
            if published <= pos {
                if tx.send(Ok(framing.keepalive.to_vec())).await.is_err() {
                    return;
                }
                continue;
            }
            while pos < published {
                if let Some(mid) = chaos.drop_now() {
                    c.drops.fetch_add(1, Ordering::Relaxed);
                    if mid {
                        let e = (framing.event)(&timeline, pos + 1);
                        let _ = tx.send(Ok(e[..e.len() / 2].to_vec())).await;
                    }
                    let _ = tx.send(Err(cut())).await;
                    return;
                }
                pos += 1;
                let e = (framing.event)(&timeline, pos);
                if tx.send(Ok(e.clone())).await.is_err() {
                    return;
                }
                if chaos.duplicate()
                    && let Some(prev) = last.take()
                {
                    c.duplicates.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(Ok(prev)).await;
                }
                if chaos.malformed() {
                    let n = c.malformed.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(Ok((framing.malformed)(n))).await;
                }
                last = Some(e);
            }
        }
    });
    body
}

/// Serves an axum router on a listener.
pub(crate) fn serve_router(router: axum::Router) -> impl Fn(tokio::net::TcpListener) -> JoinHandle<()> + Send + Sync {
    move |listener| {
        let router = router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        })
    }
}
