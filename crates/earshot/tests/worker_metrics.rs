//! `earshot worker --metrics-addr`: `/metrics` and `/healthz` of a real worker (NATS JetStream + PostgreSQL),
//! scraped while it consumes a few thousand published posts and after it has drained them; and `/healthz`
//! saying why while a service is unreachable.
//!
//! Needs the same services as `tests/stream.rs` (`EARSHOT_TEST_NATS_URL`, `EARSHOT_TEST_POSTGRES_URL`, with
//! loopback defaults) and is skipped the same way when they do not answer outside CI.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::stream::*;

const POSTS: u64 = 3000;

/// A worker process, killed when dropped (a test that fails midway leaves nothing running).
struct Worker(Option<Child>);

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start_worker(nats: &str, stream: &str, db: &str, config: Option<&Path>, log: &Path, idle: u64) -> Worker {
    let mut cmd = earshot();
    cmd.args(["worker", "--stream", nats, "--stream-name", stream, "--db", db, "--metrics-addr", "127.0.0.1:0"])
        .args(["--batch", "100", "--status-every", "60", "--exit-when-idle", &idle.to_string()]);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::options().create(true).append(true).open(log).unwrap())
        .spawn()
        .unwrap();
    Worker(Some(child))
}

/// The metrics address the worker logged (it listens on port 0).
fn metrics_addr(log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("metrics on http://").nth(1) {
            return rest.split('/').next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the worker did not log its metrics address: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET path` over HTTP/1.1: the status and the body, None when nothing answers.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(15))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.split(' ').nth(1)?.parse().ok()?, body.to_string()))
}

fn scrape(addr: &str) -> String {
    let (status, body) = get(addr, "/metrics").expect("the metrics endpoint answers");
    assert_eq!(status, 200, "{body}");
    body
}

/// The values of a metric's samples (every label set).
fn values(text: &str, name: &str) -> Vec<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            (series.split('{').next() == Some(name)).then(|| value.parse().ok()).flatten()
        })
        .collect()
}

fn total(text: &str, name: &str) -> f64 {
    values(text, name).iter().sum()
}

fn health(addr: &str) -> (u16, String) {
    get(addr, "/healthz").expect("the health endpoint answers")
}

/// A few thousand generated posts published while one worker runs: the scrapes see lag while it works; once it
/// has drained, nothing is pending, every post is counted as stored and threaded, and it is healthy.
#[test]
fn metrics_show_lag_while_working_and_none_after_draining() {
    let Some((nats, pg)) = services() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posts.jsonl");
    let config = dir.path().join("earshot.toml");
    let start = (chrono::Utc::now() - chrono::Duration::days(3)).format("%Y-%m-%dT00:00:00Z").to_string();
    run_ok(
        earshot()
            .args(["gen", "--posts", &POSTS.to_string(), "--brands", "12", "--start", &start, "--out"])
            .arg(&input)
            .arg("--config-out")
            .arg(&config)
            .arg("--data")
            .arg(repo().join("../shared/data")),
    );
    let db = Database::new(&pg, "wmetrics");
    let stream = StreamName { url: nats.clone(), name: unique("wmetrics").replace('_', "-") };
    let log = dir.path().join("worker.log");
    let t = Instant::now();
    // Idle long enough after draining for the scrapes below to see the drained state before it exits.
    let mut worker = start_worker(&nats, &stream.name, &db.url(), Some(&config), &log, 8);
    let addr = metrics_addr(&log);

    // Connected, nothing published yet: healthy, every partition owned, nothing pending.
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = loop {
        let (status, body) = health(&addr);
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "never healthy: {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(first.starts_with("ok: owns partitions"), "{first}");
    let text = scrape(&addr);
    let partitions = total(&text, "earshot_worker_partitions");
    assert!(partitions >= 1.0, "{text}");
    assert_eq!(total(&text, "earshot_worker_partition_owned"), partitions, "one worker owns every partition: {text}");
    assert_eq!(values(&text, "earshot_worker_consumer_pending_messages").len() as f64, partitions, "{text}");
    assert_eq!(total(&text, "earshot_worker_consumer_pending_messages"), 0.0, "{text}");
    assert_eq!(total(&text, "earshot_worker_healthy"), 1.0, "{text}");
    assert_eq!(total(&text, "earshot_worker_stream_connected"), 1.0, "{text}");

    // Publish while scraping.
    let publisher = {
        let (nats, name, config, input) = (nats.clone(), stream.name.clone(), config.clone(), input.clone());
        std::thread::spawn(move || publish(&nats, &name, &config, &[input]))
    };
    let mut published = None;
    let mut publisher = Some(publisher);
    let (mut max_lag, mut max_threading_lag, mut scrapes, mut last_stored) = (0.0f64, 0.0f64, 0, 0.0);
    let deadline = Instant::now() + Duration::from_secs(300);
    let drained = loop {
        if publisher.as_ref().is_some_and(|p| p.is_finished()) {
            published = Some(publisher.take().unwrap().join().unwrap());
        }
        let text = scrape(&addr);
        scrapes += 1;
        let pending = total(&text, "earshot_worker_consumer_pending_messages");
        let unacked = total(&text, "earshot_worker_consumer_ack_pending_messages");
        let stored = total(&text, "earshot_worker_posts_stored_total");
        let threading_lag = total(&text, "earshot_worker_threading_lag");
        max_lag = max_lag.max(pending + unacked);
        max_threading_lag = max_threading_lag.max(threading_lag);
        assert!(stored >= last_stored, "a counter went down: {stored} after {last_stored}");
        last_stored = stored;
        let threaded = total(&text, "earshot_worker_posts_threaded_total");
        if published.is_some()
            && stored == POSTS as f64
            && pending + unacked == 0.0
            && threaded == POSTS as f64
            && threading_lag == 0.0
        {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "not drained after {scrapes} scrapes: {text}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let drained_after = t.elapsed();
    let published = published.unwrap();
    assert_eq!(published["published"].as_u64(), Some(POSTS), "{published}");
    assert!(max_lag > 0.0, "a scrape while it worked saw messages pending ({scrapes} scrapes)");
    assert!(max_threading_lag > 0.0, "a scrape saw posts stored and not threaded yet");

    // Drained: nothing pending, every message counted once, the case stage caught up.
    let text = drained;
    assert_eq!(total(&text, "earshot_worker_messages_committed_total"), POSTS as f64, "{text}");
    assert!(total(&text, "earshot_worker_batches_committed_total") >= (POSTS / 100) as f64, "{text}");
    assert_eq!(total(&text, "earshot_worker_redeliveries_total"), 0.0, "{text}");
    // A fresh stream numbers its messages 1..=POSTS.
    let last_seq = values(&text, "earshot_worker_last_committed_sequence").into_iter().fold(0.0, f64::max);
    assert_eq!(last_seq, POSTS as f64, "{text}");
    let now = chrono::Utc::now().timestamp() as f64;
    for at in values(&text, "earshot_worker_last_commit_timestamp_seconds") {
        assert!(at > now - 600.0 && at <= now + 1.0, "last commit at {at}, now {now}");
    }
    assert_eq!(total(&text, "earshot_worker_case_stage_leader"), 1.0, "{text}");
    assert_eq!(total(&text, "earshot_worker_threading_lag"), 0.0, "{text}");
    assert_eq!(total(&text, "earshot_worker_max_post_id"), total(&text, "earshot_worker_threaded_through"), "{text}");
    assert_eq!(values(&text, "earshot_worker_errors_total").len(), 3, "{text}");
    assert!(text.contains("earshot_worker_errors_total{stream=\"") && text.contains("kind=\"store\"} 0\n"), "{text}");
    assert_eq!(total(&text, "earshot_worker_paused"), 0.0, "{text}");
    assert!(total(&text, "earshot_worker_uptime_seconds") > 0.0, "{text}");
    let (status, body) = health(&addr);
    assert_eq!(status, 200, "{body}");
    let settled = scrape(&addr);
    assert_eq!(total(&settled, "earshot_worker_consumer_pending_messages"), 0.0, "{settled}");
    assert_eq!(total(&settled, "earshot_worker_posts_stored_total"), POSTS as f64, "{settled}");

    // It exits by itself once idle, and the endpoint goes with it.
    wait(worker.0.take().unwrap(), &log, Duration::from_secs(120));
    assert!(get(&addr, "/healthz").is_none(), "the endpoint stopped with the worker");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("panicked"), "a clean exit: {text}");
    eprintln!(
        "{POSTS} posts drained in {:.1}s after start ({scrapes} scrapes; most messages pending or unacknowledged at \
         once: {max_lag}; most posts waiting to be threaded: {max_threading_lag})",
        drained_after.as_secs_f64()
    );
}

/// While PostgreSQL or NATS cannot be reached the worker keeps retrying, and `/healthz` answers 503 with why.
#[test]
fn healthz_is_503_with_the_reason_while_a_service_is_unreachable() {
    let Some((nats, pg)) = services() else { return };
    let dir = tempfile::tempdir().unwrap();
    let stream = StreamName { url: nats.clone(), name: unique("wmhealth").replace('_', "-") };
    let cases = [
        // Nothing listens on port 1.
        (nats.as_str(), "postgres://postgres@127.0.0.1:1/none", "PostgreSQL is failing"),
        ("nats://127.0.0.1:1", pg.as_str(), "not connected to NATS"),
    ];
    for (i, (nats, db, why)) in cases.into_iter().enumerate() {
        let log = dir.path().join(format!("worker{i}.log"));
        let _worker = start_worker(nats, &stream.name, db, None, &log, 60);
        let addr = metrics_addr(&log);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = health(&addr);
            if status == 503 && body.contains(why) {
                break;
            }
            assert!(Instant::now() < deadline, "expected 503 with {why:?}, got {status}: {body}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = scrape(&addr);
        assert_eq!(total(&text, "earshot_worker_healthy"), 0.0, "{text}");
        let kind = if why.contains("NATS") { "stream" } else { "store" };
        let errors = text
            .lines()
            .find(|l| l.starts_with("earshot_worker_errors_total") && l.contains(&format!("kind=\"{kind}\"")))
            .and_then(|l| l.rsplit_once(' '))
            .map(|(_, v)| v.parse::<f64>().unwrap());
        assert!(errors.is_some_and(|n| n >= 1.0), "{kind} errors counted: {text}");
    }
}
