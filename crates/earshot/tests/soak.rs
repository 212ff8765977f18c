//! The live-listening soak: `earshot watch` against three fake platforms (X filtered stream, Mastodon SSE,
//! Bluesky Jetstream) publishing together for ten minutes, with dropped connections, duplicate deliveries,
//! malformed events and a server restart each. Every post must be stored exactly once, the watch must keep up
//! (what is left when publishing stops drains quickly), and its memory must stay flat.
//!
//! Ignored by default, because it takes ten minutes and builds the release binary; CI runs it explicitly
//! (`.ci/run`: `EARSHOT_SOAK_RATE=2000`, ten minutes), by hand: `cargo test -p earshot --test soak -- --ignored
//! --nocapture`. At 2,000 posts/s every post is stored once, the watch keeps up, and resident memory levels off
//! (~400 MiB from the fourth minute: the threader's index, capped at 1M posts, and SQLite's caches). The issue's rate,
//! 5,000 posts/s (`EARSHOT_SOAK_RATE=5000`), is not sustained yet (~2,100–2,600 posts/s on a shared 2-core machine:
//! the case stage's SQLite writes); figures in BENCHMARKS.md ("Live listening: soak").
//!
//! The figures (sustained posts/s, backlog, resident memory over time, reconnects) are printed and written to
//! `target/artifacts/soak.json`. Tunable for a longer manual run (README "Live listening"):
//! `EARSHOT_SOAK_SECS` (default 600), `EARSHOT_SOAK_RATE` (posts/s over all sources, default 1000) and
//! `EARSHOT_SOAK_BIN` (the binary to soak; default: the release binary, built here with `cargo build --release`
//! first — a throughput test of an unoptimized build would measure the compiler's debug settings, not earshot).

mod support;
use support::stored::assert_once;

use earshot_watch::fake::{Chaos, Counters, Timeline, publish_at_rate};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}")),
        Err(_) => default,
    }
}

/// Resident memory of a process in bytes, from `/proc/<pid>/status` (`VmRSS`).
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn stored_count(db: &std::path::Path) -> Option<i64> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    conn.query_row("SELECT COUNT(*) FROM posts", [], |r| r.get(0)).ok()
}

/// A mild bad day, kept up for ten minutes: drops every 20–80k events (some mid-event), 0.1% duplicates, a
/// malformed event every 20,000, and (scheduled by the test) one restart per server.
fn soak_chaos(seed: u64) -> Chaos {
    Chaos {
        drop_after: Some((20_000, 80_000)),
        mid_event: true,
        duplicates: 0.001,
        malformed_every: 20_000,
        rate_limit_every: 0,
        rest_rate_limit_every: 0,
        retry_after: 1,
        seed,
    }
}

/// Builds the release binary (the release profile has its own build lock, so this works inside `cargo test`) and
/// returns its path.
fn release_binary() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("soak: building the release binary (cargo build --release -p earshot --bin earshot)…");
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--release", "-p", "earshot", "--bin", "earshot"])
        .status()
        .expect("cannot run cargo");
    assert!(status.success(), "cargo build --release failed");
    let target =
        std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| root.join("target"));
    target.join("release").join("earshot")
}

#[test]
#[ignore = "manual soak (10+ minutes); memory is not flat yet, see the module docs"]
fn watch_soak_keeps_up_for_ten_minutes_with_flat_memory() {
    let secs = env_u64("EARSHOT_SOAK_SECS", 600).max(30);
    let rate = env_u64("EARSHOT_SOAK_RATE", 1_000).max(10);
    // X 40%, Mastodon 30%, Jetstream 30%.
    let rates = [rate * 4 / 10, rate * 3 / 10, rate - rate * 4 / 10 - rate * 3 / 10];
    let counts: Vec<u64> = rates.iter().map(|r| r * secs).collect();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let x = Arc::new(rt.block_on(earshot_watch::fake::x::FakeX::start(soak_chaos(31))));
    let masto = Arc::new(rt.block_on(earshot_watch::fake::mastodon::FakeMastodon::start(soak_chaos(32))));
    let jet = Arc::new(rt.block_on(earshot_watch::fake::jetstream::FakeJetstream::start(soak_chaos(33))));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("soak.db");
    let config = dir.path().join("earshot.toml");
    let tuning = "reconnect_min = 0.05\nreconnect_max = 1";
    std::fs::write(
        &config,
        format!(
            r#"
[[brands]]
name = "Gilt"
handles = ["@GiltCare"]
aliases = ["Gilt"]
keywords = ["gilt.com"]

[[sources]]
name = "x"
kind = "x_stream"
url = "{}"
token_env = "FAKE_X_TOKEN"
rules = ["@GiltCare"]
{tuning}

[[sources]]
name = "mastodon"
kind = "mastodon"
url = "{}"
{tuning}

[[sources]]
name = "bluesky"
kind = "bluesky_jetstream"
url = "{}"
rewind = 0.01
{tuning}
"#,
            x.url(),
            masto.url(),
            jet.url(),
        ),
    )
    .unwrap();

    let bin = std::env::var("EARSHOT_SOAK_BIN").map(std::path::PathBuf::from).unwrap_or_else(|_| release_binary());
    let mut child = std::process::Command::new(&bin)
        .env_remove("EARSHOT_DB")
        .env_remove("EARSHOT_CONFIG")
        .env("FAKE_X_TOKEN", earshot_watch::fake::x::TOKEN)
        .args(["watch", "--json", "--exit-when-idle", "10", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let pid = child.id();
    // Drain stderr so a chatty child never blocks on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    // Every source connected before publishing starts: the X and Mastodon streams begin at "now".
    let connected = |c: &Counters| Counters::get(&c.connections) > 0;
    let wait_start = Instant::now();
    while !(connected(&x.shared.counters) && connected(&masto.shared.counters) && connected(&jet.shared.counters)) {
        assert!(wait_start.elapsed() < Duration::from_secs(60), "the sources did not connect within a minute");
        assert!(child.try_wait().unwrap().is_none(), "earshot watch exited before connecting");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let timelines: [Arc<Timeline>; 3] = [x.timeline(), masto.timeline(), jet.timeline()];
    let publishing_started = Instant::now();
    let publishers: Vec<_> = {
        let _guard = rt.enter();
        timelines.iter().zip(rates).zip(&counts).map(|((t, r), n)| publish_at_rate(t.clone(), *n, r)).collect()
    };
    // One restart per server, spread over the run.
    {
        let (x, masto, jet) = (x.clone(), masto.clone(), jet.clone());
        rt.spawn(async move {
            let third = Duration::from_secs(secs) / 4;
            tokio::time::sleep(third).await;
            x.restart(Duration::from_millis(500)).await;
            tokio::time::sleep(third).await;
            masto.restart(Duration::from_millis(500)).await;
            tokio::time::sleep(third).await;
            jet.restart(Duration::from_millis(500)).await;
        });
    }

    // Sample memory every second and the backlog (published − stored) every five.
    let total: u64 = counts.iter().sum();
    let mut rss: Vec<(f64, u64)> = Vec::new();
    let mut backlog: Vec<(f64, i64)> = Vec::new();
    let mut publishing_done_at: Option<f64> = None;
    let deadline = Duration::from_secs(secs + 600);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let t = publishing_started.elapsed();
        assert!(t < deadline, "earshot watch still running {}s after publishing started", t.as_secs());
        if let Some(r) = rss_bytes(pid) {
            rss.push((t.as_secs_f64(), r));
        }
        if publishing_done_at.is_none() && publishers.iter().all(|p| p.is_finished()) {
            publishing_done_at = Some(t.as_secs_f64());
        }
        if rss.len().is_multiple_of(5) {
            let published: u64 = timelines.iter().map(|t| t.published()).sum();
            if let Some(stored) = stored_count(&db) {
                backlog.push((t.as_secs_f64(), published as i64 - stored));
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let finished_at = publishing_started.elapsed().as_secs_f64();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let stderr = stderr_reader.join().unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "exit 1: finished, with rejects (got {status:?})\nstdout: {stdout}\nstderr: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap();

    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    eprintln!("earshot watch, last lines of stderr:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    eprintln!("summary: {summary}");
    // Nothing lost, nothing twice.
    assert_once(&db, "x", (1..=counts[0]).map(earshot_watch::fake::x::tweet_id));
    assert_once(&db, "mastodon", (1..=counts[1]).map(earshot_watch::fake::mastodon::status_uri));
    assert_once(&db, "bluesky", (1..=counts[2]).map(earshot_watch::fake::jetstream::at_uri));
    assert!(summary["rejected"].as_u64().unwrap_or(0) > 0, "malformed events are quarantined: {summary}");

    // Kept up: once publishing stopped, the rest was stored within two minutes (the watch then idles 10 s).
    let published_for = publishing_done_at.expect("publishing finished");
    let drained_in = finished_at - published_for - 10.0;
    let sustained = total as f64 / (finished_at - 10.0);
    let max_backlog = backlog.iter().map(|b| b.1).max().unwrap_or(0);

    // Flat memory: the peak of the second half is within 1.5× (+64 MiB) the peak of the first half (after a 30 s
    // warm-up). Commits allocate and free tens of MiB each, so single samples swing; growth with time would not stay
    // inside this bound over ten minutes.
    let half = published_for / 2.0;
    let peak = |from: f64, to: f64| rss.iter().filter(|(t, _)| *t >= from && *t < to).map(|r| r.1).max().unwrap_or(0);
    let (early, late) = (peak(30f64.min(half / 2.0), half), peak(half, finished_at));
    let mib = |b: u64| b as f64 / (1 << 20) as f64;

    let drops = [&x.shared.counters, &masto.shared.counters, &jet.shared.counters].map(|c| Counters::get(&c.drops));
    let figures = serde_json::json!({
        "seconds": secs,
        "rate_per_s": rate,
        "posts": total,
        "published_in_s": published_for,
        "finished_in_s": finished_at,
        "drained_after_publishing_s": drained_in,
        "sustained_posts_per_s": sustained.round(),
        "max_backlog_posts": max_backlog,
        "rss_peak_first_half_mib": mib(early).round(),
        "rss_peak_second_half_mib": mib(late).round(),
        "rss_samples_mib": rss.iter().step_by(10).map(|(t, r)| [t.round(), mib(*r).round()]).collect::<Vec<_>>(),
        "backlog_samples": backlog.iter().map(|(t, b)| [t.round(), *b as f64]).collect::<Vec<_>>(),
        "reconnects": summary["reconnects"],
        "rejected": summary["rejected"],
        "duplicates": summary["duplicates"],
        "commits": summary["commits"],
        "drops": drops,
    });
    eprintln!("soak: {figures}");
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    if std::fs::create_dir_all(&artifacts).is_ok() {
        let _ = std::fs::write(artifacts.join("soak.json"), serde_json::to_string_pretty(&figures).unwrap());
    }

    assert!(drained_in < 120.0, "the watch fell behind: {drained_in:.0}s to drain after publishing stopped\n{figures}");
    assert!(late as f64 <= early as f64 * 1.5 + 64.0 * (1 << 20) as f64, "memory grew: {figures}");
    assert!(late < 1 << 30, "over 1 GiB: {figures}");
}
