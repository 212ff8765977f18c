//! A fake blog: `GET /feed.xml`, an RSS 2.0 feed of the latest `window` posts, newest first, with `ETag`
//! and `Last-Modified`, answering `304 Not Modified` to `If-None-Match` / `If-Modified-Since` when nothing
//! changed. Optionally every request first publishes more posts ([`FakeFeed::grow_per_request`]), so a
//! test decides how fast the blog moves relative to the poller. Drops cut the document in the middle.

use super::{Chaos, ConnChaos, Counters, Listener, Timeline, channel_body, cut, http_date, serve_router};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The blog's host.
pub const HOST: &str = "blog.fake.example";

/// Shared state of the fake blog.
#[derive(Debug)]
pub struct Shared {
    /// The posts.
    pub timeline: Arc<Timeline>,
    /// What the fake did (`rest_requests`: 200 answers; `connections`: every request).
    pub counters: Counters,
    /// `304 Not Modified` answers.
    pub not_modified: AtomicU64,
    window: u64,
    grow: AtomicU64,
    grow_until: AtomicU64,
    chaos: Chaos,
}

/// A fake blog on loopback.
#[derive(Debug)]
pub struct FakeFeed {
    /// State shared with the handler.
    pub shared: Arc<Shared>,
    listener: Listener,
}

/// The guid (the post's native id) of post `i`.
pub fn guid(i: u64) -> String {
    format!("https://{HOST}/?p={i}")
}

fn item(t: &Timeline, i: u64, out: &mut String) {
    let _ = writeln!(
        out,
        "<item><title>Gilt lost my order {i}</title><link>https://{HOST}/{i}/gilt-lost-my-order/</link>\
         <dc:creator><![CDATA[Blogger {a}]]></dc:creator><pubDate>{date}</pubDate><category><![CDATA[Rants]]></category>\
         <guid isPermaLink=\"false\">{guid}</guid><description><![CDATA[Third week waiting for Gilt to answer about order {i}.]]></description>\
         <content:encoded><![CDATA[<p>Third week waiting for <strong>Gilt</strong> to answer about order {i}. Refund please.</p>]]></content:encoded>\
         <slash:comments>0</slash:comments></item>",
        a = i % 53,
        date = t.time(i).to_rfc2822(),
        guid = guid(i)
    );
}

fn malformed_item(n: u64, out: &mut String) {
    // No guid, no link: the decoder rejects the item with its reason and keeps the others.
    let _ = writeln!(out, "<item><title>Orphan {n}</title><description>no id and no date</description></item>");
}

fn document(s: &Shared, published: u64) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:slash=\"http://purl.org/rss/1.0/modules/slash/\">\n<channel>\
         <title>A customer's blog</title><link>https://blog.fake.example</link><description>Rants</description>\
         <language>en-US</language>\n",
    );
    let low = published.saturating_sub(s.window);
    for i in (low + 1..=published).rev() {
        item(&s.timeline, i, &mut out);
        if s.chaos.malformed_every > 0 && i % s.chaos.malformed_every == 0 {
            s.counters.malformed.fetch_add(1, Ordering::Relaxed);
            malformed_item(i, &mut out);
        }
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

async fn feed(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let conn = s.counters.connections.fetch_add(1, Ordering::Relaxed);
    if ConnChaos::rate_limited(&s.chaos, conn) {
        s.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        return Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("retry-after", s.chaos.retry_after.to_string())
            .body(Body::from("slow down"))
            .unwrap_or_default();
    }
    let grow = s.grow.load(Ordering::Relaxed);
    let until = s.grow_until.load(Ordering::Relaxed);
    let now_published = s.timeline.published();
    if grow > 0 && now_published < until {
        s.timeline.publish(grow.min(until - now_published));
    }
    let published = s.timeline.published();
    let etag = format!("\"v{published}\"");
    let modified = http_date(s.timeline.time(published.max(1)));
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if header("if-none-match") == Some(etag.as_str())
        || (header("if-none-match").is_none() && header("if-modified-since") == Some(modified.as_str()))
    {
        s.not_modified.fetch_add(1, Ordering::Relaxed);
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", etag)
            .header("last-modified", modified)
            .body(Body::empty())
            .unwrap_or_default();
    }
    s.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
    let doc = document(&s, published).into_bytes();
    let mut chaos = ConnChaos::new(s.chaos, conn);
    let (tx, body) = channel_body(4);
    let cut_here = chaos.drop_now().is_some();
    if cut_here {
        s.counters.drops.fetch_add(1, Ordering::Relaxed);
    }
    tokio::spawn(async move {
        if cut_here {
            let _ = tx.send(Ok(doc[..doc.len() / 2].to_vec())).await;
            let _ = tx.send(Err(cut())).await;
        } else {
            let _ = tx.send(Ok(doc)).await;
        }
    });
    Response::builder()
        .header("content-type", "application/rss+xml; charset=UTF-8")
        .header("etag", etag)
        .header("last-modified", modified)
        .body(body)
        .unwrap_or_default()
}

impl FakeFeed {
    /// Starts the fake on a free loopback port, serving the latest `window` posts. With `chaos.drop_after`
    /// set to `(0, k)`, about one response in `k+1` is cut in the middle.
    pub async fn start(chaos: Chaos, window: u64) -> FakeFeed {
        let listener = Listener::bind().await;
        let shared = Arc::new(Shared {
            timeline: Arc::new(Timeline::new()),
            counters: Counters::default(),
            not_modified: AtomicU64::new(0),
            window: window.max(1),
            grow: AtomicU64::new(0),
            grow_until: AtomicU64::new(0),
            chaos,
        });
        let router = Router::new().route("/feed.xml", axum::routing::get(feed)).with_state(shared.clone());
        listener.serve(serve_router(router));
        FakeFeed { shared, listener }
    }

    /// The feed's URL.
    pub fn url(&self) -> String {
        format!("http://{}/feed.xml", self.listener.addr())
    }

    /// The posts.
    pub fn timeline(&self) -> Arc<Timeline> {
        self.shared.timeline.clone()
    }

    /// Every request first publishes `n` more posts, until `until` are published.
    pub fn grow_per_request(&self, n: u64, until: u64) {
        self.shared.grow.store(n, Ordering::Relaxed);
        self.shared.grow_until.store(until, Ordering::Relaxed);
    }

    /// Restarts the server: the port refuses connections for `pause`.
    pub async fn restart(&self, pause: Duration) {
        self.listener.restart(pause).await;
    }

    /// Stops the server for good.
    pub fn stop(&self) {
        self.listener.stop();
    }
}
