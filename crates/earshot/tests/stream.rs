//! Distributed mode end to end: `earshot ingest --stream` into NATS JetStream, `earshot worker`s into
//! PostgreSQL, compared with an embedded `earshot ingest` of the same input into SQLite.
//!
//! Needs NATS with JetStream (`EARSHOT_TEST_NATS_URL`, default `nats://127.0.0.1:4222`) and PostgreSQL
//! (`EARSHOT_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`). Skipped with a message
//! when one does not answer and `CI` is unset; in CI they must run. Each test uses a database and a stream of
//! its own, dropped at the end. `EARSHOT_STREAM_E2E_POSTS` sets the size of the large test (default 1,000,000).

mod support;

use earshot_store::{CaseQuery, Store, StormQuery};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::stream::*;

/// Everything that must be equal between the two stores, without row ids or wall-clock times.
#[derive(Debug, PartialEq)]
struct Content {
    /// Posts in id order: the post, its brands, its analysis.
    posts: Vec<String>,
    /// Cases keyed by their posts (storm cases by their storm), with their columns: how many of each.
    cases: BTreeMap<String, usize>,
    /// Storms: how many of each.
    storms: BTreeMap<String, usize>,
    rejects: usize,
}

fn content(store: &dyn Store) -> Content {
    let mut posts = Vec::new();
    let mut key_of: BTreeMap<i64, String> = BTreeMap::new();
    let mut case_posts: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let chunk = store.posts_after(after, 5000).unwrap();
        let Some(last) = chunk.last() else { break };
        after = last.id;
        let ids: Vec<i64> = chunk.iter().map(|p| p.id).collect();
        for p in &chunk {
            let key = format!("{}:{}", p.post.platform.as_str(), p.post.native_id);
            let mut brands: Vec<String> = p.brands.iter().map(|a| format!("{}/{}", a.brand, a.via.as_str())).collect();
            brands.sort();
            posts.push(format!(
                "{key} | {} | {} | {:?} | {:?} | {} | {:?} | {:?} | {}",
                p.post.author.handle,
                p.post.published_at,
                p.brand_author,
                p.deleted_at,
                p.post.text,
                brands,
                p.post.raw.len(),
                p.analysis.as_ref().map(|a| a.to_string()).unwrap_or_default()
            ));
            key_of.insert(p.id, key);
        }
        for (post, case) in store.cases_of_posts(&ids).unwrap() {
            case_posts.entry(case).or_default().push(key_of[&post].clone());
        }
    }
    let mut cases = BTreeMap::new();
    let all = CaseQuery { all: true, storm_members: true, limit: None, ..CaseQuery::default() };
    for c in store.cases(&all).unwrap() {
        let mut members = case_posts.remove(&c.id).unwrap_or_default();
        members.sort();
        let storm = c
            .data
            .get("storm")
            .map(|s| format!("{} {} {} {} {}", s["kind"], s["facet"], s["key"], s["started_at"], s["posts"]));
        let key = format!(
            "{members:?} {storm:?} | {} {} {} {} {} {} {:?} {:?} {} {} {:?} {:?} storm_member={}",
            c.brand,
            c.customer,
            c.platform,
            c.kind,
            c.status,
            c.priority,
            c.issue,
            c.sentiment,
            c.opened_at,
            c.last_activity_at,
            c.first_response_at,
            c.resolved_at,
            c.storm_case.is_some()
        );
        *cases.entry(key).or_insert(0) += 1;
    }
    let mut storms = BTreeMap::new();
    for s in store.storms(&StormQuery { limit: None, ..StormQuery::default() }).unwrap() {
        let key = format!(
            "{} {} {} {} {} {} {} {} {:?} {} {} {}",
            s.brand,
            s.kind,
            s.facet,
            s.key,
            s.status,
            s.started_at,
            s.detected_at,
            s.last_post_at,
            s.closed_at,
            s.posts,
            s.authors,
            s.case_id.is_some()
        );
        *storms.entry(key).or_insert(0) += 1;
    }
    Content { posts, cases, storms, rejects: store.stats().unwrap().rejects as usize }
}

fn assert_same(embedded: &Content, distributed: &Content) {
    assert_eq!(embedded.posts.len(), distributed.posts.len(), "number of posts");
    for (i, (a, b)) in embedded.posts.iter().zip(&distributed.posts).enumerate() {
        assert_eq!(a, b, "post #{i} (in id order)");
    }
    let diff = |a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>| -> Vec<String> {
        a.iter().filter(|(k, n)| b.get(*k) != Some(n)).map(|(k, n)| format!("{n}x {k}")).take(5).collect()
    };
    assert!(
        embedded.cases == distributed.cases,
        "cases differ ({} vs {} kinds): only embedded: {:#?}\nonly distributed: {:#?}",
        embedded.cases.len(),
        distributed.cases.len(),
        diff(&embedded.cases, &distributed.cases),
        diff(&distributed.cases, &embedded.cases)
    );
    assert!(
        embedded.storms == distributed.storms,
        "storms differ: only embedded: {:#?}\nonly distributed: {:#?}",
        diff(&embedded.storms, &distributed.storms),
        diff(&distributed.storms, &embedded.storms)
    );
    assert_eq!(embedded.rejects, distributed.rejects, "rejects");
}

fn embedded(dir: &Path, config: &Path, inputs: &[PathBuf]) -> (PathBuf, serde_json::Value) {
    let db = dir.join("embedded.db");
    let out = run_ok(
        earshot()
            .args(["ingest", "--quiet", "--json", "--threads", "2", "--config"])
            .arg(config)
            .arg("--db")
            .arg(&db)
            .args(inputs),
    );
    (db, last_json(&out))
}

fn worker(nats: &str, stream: &str, db: &str, config: &Path, log: &Path) -> Child {
    earshot()
        .args(["worker", "--stream", nats, "--stream-name", stream, "--db", db, "--exit-when-idle", "5"])
        .args(["--status-every", "5", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::options().create(true).append(true).open(log).unwrap())
        .spawn()
        .unwrap()
}

fn open_pg(url: &str) -> earshot_store::AnyStore {
    earshot_store::open(url).unwrap()
}

/// The demo stories and every fixture format (rejects and deletions included), through the stream into two
/// workers: the same posts, analyses, brand links, cases and storms as an embedded ingest.
#[test]
fn two_workers_store_what_an_embedded_ingest_stores() {
    let Some((nats, pg)) = services() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = repo().join("crates/earshot/demo/earshot.toml");
    let inputs = support::stored::demo_and_fixture_inputs(&repo());
    let (sqlite, summary) = embedded(dir.path(), &config, &inputs);

    let db = Database::new(&pg, "small");
    let stream = StreamName { url: nats.clone(), name: unique("small").replace('_', "-") };
    let published = publish(&nats, &stream.name, &config, &inputs);
    assert_eq!(published["read"], summary["read"], "{published}");
    assert!(published["partitions"].as_object().unwrap().len() > 1, "posts spread over partitions: {published}");
    // Publishing again within the duplicate window adds nothing.
    let again = publish(&nats, &stream.name, &config, &inputs);
    let all = published["published"].as_u64().unwrap() + published["duplicates"].as_u64().unwrap();
    assert_eq!((again["published"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(all)));

    let logs = [dir.path().join("w1.log"), dir.path().join("w2.log")];
    let workers: Vec<Child> = logs.iter().map(|log| worker(&nats, &stream.name, &db.url(), &config, log)).collect();
    for (w, log) in workers.into_iter().zip(&logs) {
        wait(w, log, Duration::from_secs(300));
    }
    let leaders = logs.iter().filter(|l| std::fs::read_to_string(l).unwrap().contains("holds the case stage")).count();
    assert!(leaders >= 1, "one worker ran the case stage");

    let a = content(&earshot_store::open(sqlite.to_str().unwrap()).unwrap());
    let b = content(&open_pg(&db.url()));
    assert!(
        a.posts.len() > 100 && a.cases.len() > 10 && a.rejects > 0,
        "{} posts, {} cases",
        a.posts.len(),
        a.cases.len()
    );
    assert_same(&a, &b);
    // `stats --json` agrees too.
    let stats = |target: &str| last_json(&run_ok(earshot().args(["stats", "--json", "--db", target])));
    assert_eq!(stats(sqlite.to_str().unwrap()), stats(&db.url()));
}

/// The floor: N generated posts (default 1,000,000) through JetStream into two workers and PostgreSQL, the
/// worker holding the case stage killed with SIGKILL mid-run and started again: exactly the posts, cases and
/// storms of the embedded mode.
#[test]
fn a_million_posts_through_two_workers_with_one_killed_equal_the_embedded_store() {
    let Some((nats, pg)) = services() else { return };
    let posts: u64 = std::env::var("EARSHOT_STREAM_E2E_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posts.jsonl");
    let config = dir.path().join("earshot.toml");
    // Traffic of the last few days: the case stage evicts what is older than 60 days by the wall clock.
    let days = (posts / 200_000).max(1) + 1;
    let start = (chrono::Utc::now() - chrono::Duration::days(days as i64 + 1)).format("%Y-%m-%dT00:00:00Z").to_string();
    let rate = (posts / days / 50 + 1).to_string();
    let data = repo().join("../shared/data");
    let t = Instant::now();
    run_ok(
        earshot()
            .args(["gen", "--posts", &posts.to_string(), "--brands", "50", "--rate", &rate, "--start", &start, "--out"])
            .arg(&input)
            .arg("--config-out")
            .arg(&config)
            .arg("--data")
            .arg(&data),
    );
    eprintln!("generated {posts} posts in {:.0}s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let (sqlite, summary) = embedded(dir.path(), &config, std::slice::from_ref(&input));
    eprintln!("embedded ingest: {:.0}s ({summary})", t.elapsed().as_secs_f64());
    assert_eq!(summary["stored"].as_u64(), Some(posts));

    let db = Database::new(&pg, "floor");
    let stream = StreamName { url: nats.clone(), name: unique("floor").replace('_', "-") };
    let t = Instant::now();
    let published = publish(&nats, &stream.name, &config, std::slice::from_ref(&input));
    assert_eq!(published["published"].as_u64(), Some(posts));
    eprintln!("published in {:.0}s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let logs: Vec<PathBuf> = (1..=3).map(|i| dir.path().join(format!("w{i}.log"))).collect();
    let first = worker(&nats, &stream.name, &db.url(), &config, &logs[0]);
    std::thread::sleep(Duration::from_secs(2));
    let second = worker(&nats, &stream.name, &db.url(), &config, &logs[1]);
    // Kill the worker holding the case stage once a fifth of the posts are committed (mid-batch: it commits
    // and threads continuously).
    let store = open_pg(&db.url());
    let deadline = Instant::now() + Duration::from_secs(3600);
    while store.stats().map(|s| s.posts).unwrap_or(0) < posts / 5 {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(500));
    }
    let leader_log = |l: &Path| std::fs::read_to_string(l).unwrap_or_default().contains("holds the case stage");
    let (mut victim, survivor, victim_log, survivor_log) =
        if leader_log(&logs[1]) { (second, first, &logs[1], &logs[0]) } else { (first, second, &logs[0], &logs[1]) };
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    let killed_at = store.stats().unwrap().posts;
    eprintln!(
        "killed a worker at {killed_at} committed posts, {:.0}s in (log {})",
        t.elapsed().as_secs_f64(),
        victim_log.display()
    );
    std::thread::sleep(Duration::from_secs(3));
    let restarted = worker(&nats, &stream.name, &db.url(), &config, &logs[2]);
    let limit = Duration::from_secs(7200);
    wait(survivor, survivor_log, limit);
    wait(restarted, &logs[2], limit);
    let elapsed = t.elapsed().as_secs_f64();
    eprintln!(
        "distributed: {posts} posts in {elapsed:.0}s ({:.0} posts/s) with a worker killed",
        posts as f64 / elapsed
    );
    assert!(killed_at < posts, "the kill happened mid-run");

    let t = Instant::now();
    let a = content(&earshot_store::open(sqlite.to_str().unwrap()).unwrap());
    let b = content(&store);
    eprintln!("compared in {:.0}s", t.elapsed().as_secs_f64());
    assert_eq!(a.posts.len() as u64, posts);
    assert!(!a.storms.is_empty(), "the generated traffic has storms");
    assert_same(&a, &b);
}

/// Misuse is a clear error before anything runs (no services needed).
#[test]
fn a_worker_needs_a_stream_and_a_postgres_store() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        earshot().current_dir(dir.path()).args(["worker", "--db", "postgres://x@127.0.0.1:1/x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no stream to consume") && err.contains("hint: pass --stream nats://"), "{err}");

    let out = earshot()
        .current_dir(dir.path())
        .args(["worker", "--stream", "nats://127.0.0.1:4222", "--db", "local.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("earshot worker needs a PostgreSQL store, not local.db"), "{err}");

    // The config's `stream` key switches ingest to publishing: an unreachable server is an error, not a
    // silent local ingest.
    std::fs::write(dir.path().join("earshot.toml"), "stream = \"nats://127.0.0.1:1\"\n").unwrap();
    let demo = repo().join("crates/earshot/demo/gilt.x-v2.json");
    let out = earshot().current_dir(dir.path()).args(["ingest", "--quiet"]).arg(&demo).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to NATS at nats://127.0.0.1:1"), "{err}");
    assert!(!dir.path().join("earshot.db").exists(), "nothing was stored locally");
}

/// PostgreSQL going away under a working worker (every connection to its database terminated, three times — what a
/// server restart or failover does to clients): the worker pauses, reconnects and goes on, and the store ends with
/// exactly what the embedded mode stores — nothing dropped, nothing twice.
#[test]
fn a_worker_pauses_when_postgres_drops_its_connections_and_resumes_losing_nothing() {
    let Some((nats, pg)) = services() else { return };
    let posts: u64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posts.jsonl");
    let config = dir.path().join("earshot.toml");
    let start = (chrono::Utc::now() - chrono::Duration::days(3)).format("%Y-%m-%dT00:00:00Z").to_string();
    run_ok(
        earshot()
            .args(["gen", "--posts", &posts.to_string(), "--brands", "10", "--rate", "1000", "--start", &start])
            .arg("--out")
            .arg(&input)
            .arg("--config-out")
            .arg(&config)
            .arg("--data")
            .arg(repo().join("../shared/data")),
    );
    let (sqlite, summary) = embedded(dir.path(), &config, std::slice::from_ref(&input));
    assert_eq!(summary["stored"].as_u64(), Some(posts));

    let db = Database::new(&pg, "outage");
    let stream = StreamName { url: nats.clone(), name: unique("outage").replace('_', "-") };
    let published = publish(&nats, &stream.name, &config, std::slice::from_ref(&input));
    assert_eq!(published["published"].as_u64(), Some(posts));

    let log = dir.path().join("w.log");
    let child = worker(&nats, &stream.name, &db.url(), &config, &log);
    // The test's own connections are named so that the outages spare them.
    let mut admin = postgres::Client::connect(&pg, postgres::NoTls).unwrap();
    let mut check =
        postgres::Client::connect(&format!("{}?application_name=earshot-test-check", db.url()), postgres::NoTls)
            .unwrap();
    let mut committed = || -> u64 {
        check.query_one("SELECT count(*) FROM posts", &[]).map(|r| r.get::<_, i64>(0) as u64).unwrap_or(0)
    };
    let mut outages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    for fifth in 1..=3 {
        // Cut at 1/5, 2/5 and 3/5 of the posts committed, so each outage lands mid-run.
        while committed() < posts * fifth / 5 {
            assert!(Instant::now() < deadline, "no progress: {}", std::fs::read_to_string(&log).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(100));
        }
        let cut: i64 = admin
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name NOT LIKE 'earshot-test%'",
                &[&db.name],
            )
            .unwrap()
            .get(0);
        outages.push(cut);
    }
    wait(child, &log, Duration::from_secs(600));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(outages.iter().all(|&n| n > 0), "connections were cut each time: {outages:?}");
    assert!(text.contains("retrying"), "the worker paused and retried:\n{text}");

    let a = content(&earshot_store::open(sqlite.to_str().unwrap()).unwrap());
    let b = content(&open_pg(&db.url()));
    assert_eq!(a.posts.len() as u64, posts);
    assert_same(&a, &b);
}
