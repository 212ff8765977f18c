//! `earshot watch` end to end: the binary against the four fake platforms at once (X stream, Mastodon
//! SSE, Jetstream WebSocket, a feed), all misbehaving. Live posts must go through the same pipeline as
//! `earshot ingest` (analysis, brands, cases), each stored once, malformed events quarantined with their
//! source and reason, and every source's cursor and health saved.

mod support;
use support::stored::assert_once;

use assert_cmd::Command;
use earshot_watch::fake::{Chaos, Counters, publish_at_rate};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

const BRANDS: &str = r#"
[[brands]]
name = "Gilt"
handles = ["@GiltCare"]
aliases = ["Gilt"]
keywords = ["gilt.com"]
"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG").env("FAKE_X_TOKEN", earshot_watch::fake::x::TOKEN);
    c
}

fn scalar(db: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Waits (in the runtime) until `connections()` passes `n`, then publishes at `rate`.
fn publish_once_connected(
    rt: &tokio::runtime::Runtime,
    timeline: Arc<earshot_watch::fake::Timeline>,
    connections: impl Fn() -> u64 + Send + 'static,
    n: u64,
    rate: u64,
) {
    rt.spawn(async move {
        while connections() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = publish_at_rate(timeline, n, rate).await;
    });
}

#[test]
fn watch_runs_every_kind_through_the_ingest_pipeline() {
    const N: u64 = 2_500;
    let rt = runtime();
    let x = Arc::new(rt.block_on(earshot_watch::fake::x::FakeX::start(Chaos::rough(21))));
    let masto = Arc::new(rt.block_on(earshot_watch::fake::mastodon::FakeMastodon::start(Chaos::rough(22))));
    let jet = Arc::new(rt.block_on(earshot_watch::fake::jetstream::FakeJetstream::start(Chaos::rough(23))));
    let feed_chaos = Chaos { drop_after: Some((0, 4)), rate_limit_every: 6, malformed_every: 101, ..Chaos::default() };
    let feed = Arc::new(rt.block_on(earshot_watch::fake::feed::FakeFeed::start(feed_chaos, 400)));
    feed.grow_per_request(100, N);
    let f = x.clone();
    publish_once_connected(&rt, x.timeline(), move || Counters::get(&f.shared.counters.connections), N, 3_000);
    let f = masto.clone();
    publish_once_connected(&rt, masto.timeline(), move || Counters::get(&f.shared.counters.connections), N, 3_000);
    let f = jet.clone();
    publish_once_connected(&rt, jet.timeline(), move || Counters::get(&f.shared.counters.connections), N, 3_000);
    let f = jet.clone();
    rt.spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        f.restart(Duration::from_millis(300)).await;
    });

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watch.db");
    let config = dir.path().join("earshot.toml");
    let tuning = "reconnect_min = 0.02\nreconnect_max = 0.25";
    std::fs::write(
        &config,
        format!(
            "{BRANDS}
[[sources]]
name = \"x\"
kind = \"x_stream\"
url = \"{}\"
token_env = \"FAKE_X_TOKEN\"
rules = [\"@GiltCare\"]
{tuning}

[[sources]]
name = \"mastodon\"
kind = \"mastodon\"
url = \"{}\"
{tuning}

[[sources]]
name = \"bluesky\"
kind = \"bluesky_jetstream\"
url = \"{}\"
rewind = 0.01
{tuning}

[[sources]]
name = \"blog\"
kind = \"feed\"
url = \"{}\"
poll_interval = 0.02
{tuning}
",
            x.url(),
            masto.url(),
            jet.url(),
            feed.url()
        ),
    )
    .unwrap();

    let out = earshot()
        .args(["watch", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--exit-when-idle", "2.5", "--json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit 1: finished, with rejects\nstdout: {stdout}\nstderr: {stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    eprintln!("{summary}");

    assert_once(&db, "x", (1..=N).map(earshot_watch::fake::x::tweet_id));
    assert_once(&db, "mastodon", (1..=N).map(earshot_watch::fake::mastodon::status_uri));
    assert_once(&db, "bluesky", (1..=N).map(earshot_watch::fake::jetstream::at_uri));
    assert_once(&db, "blog", (1..=N).map(earshot_watch::fake::feed::guid));
    assert_eq!(summary["stored"], 4 * N);

    // The same pipeline as `earshot ingest`: analyzed, attributed to the brand, threaded into cases.
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM post_analysis"), (4 * N) as i64);
    assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT post_id) FROM post_brands WHERE brand = 'Gilt'"), (4 * N) as i64);
    assert!(scalar(&db, "SELECT COUNT(*) FROM cases") > 0);
    // Each post's source is the name of its [[sources]] entry.
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM posts WHERE source = 'bluesky' AND platform = 'bluesky'"), N as i64);

    // Malformed events are quarantined with their source and a reason, from every kind.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn.prepare("SELECT source, reason FROM rejects").unwrap();
    let rejects: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
    let sources: HashSet<&str> = rejects.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sources, HashSet::from(["x", "mastodon", "bluesky", "blog"]), "{rejects:?}");
    assert!(rejects.iter().all(|(_, reason)| !reason.trim().is_empty()));

    // Cursors and health, per source.
    let mut stmt =
        conn.prepare("SELECT name, kind, cursor, status, stored, reconnects FROM sources ORDER BY name").unwrap();
    let states: Vec<(String, String, Option<String>, String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(states.len(), 4, "{states:?}");
    for (name, _, cursor, status, stored, _) in &states {
        assert!(cursor.is_some(), "{name} saved its cursor");
        assert_eq!(status, "idle", "{name} is idle after the watch stopped");
        assert_eq!(*stored, N as i64, "{name}");
    }
    let x_state = states.iter().find(|s| s.0 == "x").unwrap();
    assert_eq!(x_state.2.as_deref(), Some(earshot_watch::fake::x::tweet_id(N).as_str()));
    assert!(states.iter().find(|s| s.0 == "bluesky").unwrap().5 > 0, "jetstream reconnected after the restart");
}

#[test]
fn a_dead_source_turns_failing_and_bad_config_is_explained() {
    let rt = runtime();
    let x = rt.block_on(earshot_watch::fake::x::FakeX::start(Chaos::default()));
    let url = x.url();
    x.stop();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watch.db");
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        format!(
            "{BRANDS}\n[[sources]]\nname = \"x\"\nkind = \"x_stream\"\nurl = \"{url}\"\ntoken_env = \"FAKE_X_TOKEN\"\nreconnect_min = 0.02\nreconnect_max = 0.1\n"
        ),
    )
    .unwrap();
    earshot()
        .args(["watch", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--exit-when-idle", "1"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (status, errors, last_error): (String, i64, String) = conn
        .query_row("SELECT status, errors, last_error FROM sources WHERE name = 'x'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(status, "failing");
    assert!(errors >= 3, "{errors}");
    assert!(last_error.contains("error sending request") || last_error.contains("onnect"), "{last_error}");

    // The token variable unset: a clear error before anything starts, naming the variable.
    let out = earshot()
        .env_remove("FAKE_X_TOKEN")
        .args(["watch", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FAKE_X_TOKEN is not set"), "{stderr}");
    // No sources at all.
    std::fs::write(&config, BRANDS).unwrap();
    let out = earshot().args(["watch", "--config"]).arg(&config).arg("--db").arg(&db).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [[sources]] configured"));
}

/// Throughput and memory of `earshot watch` on a burst: Jetstream delivering `EARSHOT_WATCH_POSTS` posts
/// (default 50,000) as fast as the pipeline takes them. A measurement, not a check: run it with
/// `cargo test --release -p earshot --test watch -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement; run on demand"]
fn burst_throughput_and_memory() {
    let n: u64 = std::env::var("EARSHOT_WATCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let rt = runtime();
    let jet = Arc::new(rt.block_on(earshot_watch::fake::jetstream::FakeJetstream::start(Chaos::default())));
    let f = jet.clone();
    publish_once_connected(&rt, jet.timeline(), move || Counters::get(&f.shared.counters.connections), n, 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watch.db");
    let config = dir.path().join("earshot.toml");
    std::fs::write(&config, format!("{BRANDS}\n[[sources]]\nkind = \"bluesky_jetstream\"\nurl = \"{}\"\n", jet.url()))
        .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("earshot");
    let mut child = std::process::Command::new(bin)
        .args(["watch", "--json", "--exit-when-idle", "2", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let (mut peak_kib, mut samples) = (0u64, Vec::new());
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
            samples.push(kib);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let busy = summary["elapsed_s"].as_f64().unwrap() - 2.0;
    let third = samples.len() / 3;
    eprintln!(
        "{n} posts: {:.0} posts/s while busy ({busy:.2}s, idle wait excluded); peak RSS {:.1} MiB; RSS at 1/3 {:.1} MiB, at 2/3 {:.1} MiB; {summary}",
        summary["stored"].as_f64().unwrap() / busy,
        peak_kib as f64 / 1024.0,
        samples.get(third).copied().unwrap_or_default() as f64 / 1024.0,
        samples.get(2 * third).copied().unwrap_or_default() as f64 / 1024.0,
    );
    assert_eq!(summary["stored"], n);
}
