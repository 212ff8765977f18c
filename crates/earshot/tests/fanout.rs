//! Live pages hear every change to the shared store, whichever process made it: `earshot serve` processes are
//! stateless over PostgreSQL (an agent's action through one reaches the browsers connected to another; posts
//! ingested by a separate `earshot ingest` reach them all), and over one SQLite file (another process's
//! ingest reaches the server's live pages).
//!
//! Real processes: each `earshot serve` and `earshot ingest` is the built binary. The PostgreSQL tests run
//! against `EARSHOT_TEST_POSTGRES_URL` (else the default URL when it answers; skipped otherwise), each in a schema of its own (named in
//! the URL's `search_path`), dropped at the end.

mod support;

use serde_json::Value;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::pg::Schema;
use tokio::sync::mpsc;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("earshot")
}

fn earshot(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir).env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo(file: &str) -> PathBuf {
    repo().join("crates/earshot/demo").join(file)
}

/// Runs `earshot ARGS` to success; its stdout.
fn run(dir: &Path, args: &[&str]) -> String {
    let out = earshot(dir).args(args).output().unwrap();
    assert!(out.status.success(), "earshot {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new API token for an agent of `brand`.
fn token(dir: &Path, db: &str, name: &str, brand: &str) -> String {
    let out = run(dir, &["users", "add", name, "--role", "agent", "--brand", brand, "--token", "--db", db]);
    out.lines().last().unwrap().trim().to_string()
}

/// Ingests one new customer post to Gilt (with the demo's brands), from a process of its own.
fn ingest_new_post(dir: &Path, db: &str, id: u64) {
    let line = format!(
        r#"{{"data":{{"id":"{id}","text":"@Gilt where is my order?","author_id":"78","created_at":"2012-01-06T10:00:00.000Z"}},"includes":{{"users":[{{"id":"78","username":"newcomer"}}]}}}}"#
    );
    let file = dir.join(format!("new-{id}.jsonl"));
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let config = demo("earshot.toml");
    run(dir, &["ingest", "--quiet", "--config", config.to_str().unwrap(), "--db", db, file.to_str().unwrap()]);
}

/// An `earshot serve` process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    /// What it wrote to standard error (its log) so far.
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, db: &str) -> Server {
        let mut child = earshot(dir)
            .args(["serve", "--no-watch", "--addr", "127.0.0.1:0", "--db", db])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (stderr, kept) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[serve] {line}");
                kept.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("earshot serve printed its address").unwrap();
            if let Some(rest) = line.strip_prefix("earshot inbox on ") {
                break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_string();
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, base, log }
    }

    async fn metrics(&self, token: &str) -> String {
        let r = reqwest::Client::new().get(format!("{}/metrics", self.base)).bearer_auth(token).send().await.unwrap();
        r.text().await.unwrap()
    }

    /// Waits until the server's change feed is connected (its `/metrics` say so).
    async fn wait_feed(&self, token: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let metrics = self.metrics(token).await;
            if metrics.lines().any(|l| l.starts_with("earshot_change_feed_up{") && l.ends_with(" 1")) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the change feed never connected:\n{metrics}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Subscribes to `/events`; the names of the events received, as they arrive.
    async fn events(&self, token: &str) -> Events {
        let mut r =
            reqwest::Client::new().get(format!("{}/events", self.base)).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = String::new();
            while let Ok(Some(chunk)) = r.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find('\n') {
                    let line: String = buf.drain(..=end).collect();
                    if let Some(name) = line.trim_end().strip_prefix("event: ") {
                        let _ = tx.send(name.to_string());
                    }
                }
            }
        });
        Events(rx)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SSE event names from one subscription.
struct Events(mpsc::UnboundedReceiver<String>);

impl Events {
    /// Waits up to `within` for an event named `name`; the time it took. Other events are skipped.
    async fn expect(&mut self, name: &str, within: Duration) -> Duration {
        let started = tokio::time::Instant::now();
        let got = tokio::time::timeout(within, async {
            while let Some(n) = self.0.recv().await {
                if n == name {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(matches!(got, Ok(true)), "no `{name}` event within {within:?}");
        started.elapsed()
    }

    /// The names of the events received within `d`.
    async fn during(&mut self, d: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(d, async {
            while let Some(n) = self.0.recv().await {
                out.push(n);
            }
        })
        .await;
        out
    }
}

/// A store with the demo's cases, and a Gilt agent's token.
fn seeded(dir: &Path, db: &str) -> String {
    let config = demo("earshot.toml");
    let gilt = demo("gilt.x-v2.json");
    run(dir, &["ingest", "--quiet", "--config", config.to_str().unwrap(), "--db", db, gilt.to_str().unwrap()]);
    token(dir, db, "gina", "Gilt")
}

async fn first_case(base: &str, token: &str) -> i64 {
    let cases: Vec<Value> = reqwest::Client::new()
        .get(format!("{base}/api/v1/cases"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    cases[0]["id"].as_i64().unwrap()
}

/// Two `earshot serve` processes over one PostgreSQL schema: an agent's action through A reaches the live pages
/// of B (and A's own, once); posts ingested by a separate `earshot ingest` reach both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_over_postgres_hear_each_other_and_ingest() {
    let Some(schema) = Schema::new("fanout", "two") else { return };
    let dir = tempfile::tempdir().unwrap();
    let pg = schema.url();
    let gina = tokio::task::block_in_place(|| seeded(dir.path(), &pg));
    let (a, b) = tokio::task::block_in_place(|| (Server::start(dir.path(), &pg), Server::start(dir.path(), &pg)));
    a.wait_feed(&gina).await;
    b.wait_feed(&gina).await;
    let (mut on_a, mut on_b) = (a.events(&gina).await, b.events(&gina).await);
    // Let the subscriptions settle: nothing is announced while nothing changes.
    let idle = on_b.during(Duration::from_millis(500)).await;
    assert!(idle.is_empty(), "{idle:?}");

    let id = first_case(&a.base, &gina).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/cases/{id}/actions", a.base))
        .bearer_auth(&gina)
        .json(&serde_json::json!({"action": "assign", "value": "gina"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let took = on_b.expect("cases", Duration::from_secs(5)).await;
    eprintln!("B heard A's action after {took:?}");
    on_a.expect("cases", Duration::from_secs(5)).await;
    let again = on_a.during(Duration::from_millis(1500)).await;
    assert!(!again.contains(&"cases".to_string()), "A announced its own action twice: {again:?}");

    let dir2 = dir.path().to_path_buf();
    let pg2 = pg.clone();
    tokio::task::spawn_blocking(move || ingest_new_post(&dir2, &pg2, 990_000_000_000_000_002)).await.unwrap();
    let took = on_b.expect("cases", Duration::from_secs(5)).await;
    eprintln!("B heard the separate ingest's cases after {took:?} (after the ingest process ended)");
    on_a.expect("cases", Duration::from_secs(5)).await;
    let _ = on_b.during(Duration::from_millis(300)).await;
    let metrics = b.metrics(&gina).await;
    assert!(metrics.contains("earshot_change_feed_up{backend=\"postgres\"} 1"), "{metrics}");
    assert!(metrics.contains("earshot_change_feed_reconnects_total{backend=\"postgres\"} 0"), "{metrics}");
}

/// When a server's listening connection is killed, its log and `/metrics` say so, it connects again, and its live
/// pages are told to reload (notifications sent meanwhile are lost); then it hears changes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_listen_connection_drops_says_so_and_catches_up() {
    let Some(schema) = Schema::new("fanout", "drop") else { return };
    let dir = tempfile::tempdir().unwrap();
    // An application name of its own, so only this server's listening connection is killed.
    let app = schema.name.clone();
    let pg = format!("{}&application_name={app}", schema.url());
    let gina = tokio::task::block_in_place(|| seeded(dir.path(), &pg));
    let server = tokio::task::block_in_place(|| Server::start(dir.path(), &pg));
    server.wait_feed(&gina).await;
    let mut events = server.events(&gina).await;

    let base = schema.base.clone();
    let killed = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        let row = c
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = $1",
                &[&format!("{app}-changes")],
            )
            .unwrap();
        row.get::<_, i64>(0)
    })
    .await
    .unwrap();
    assert_eq!(killed, 1, "the server's one listening connection");
    let took = events.expect("cases", Duration::from_secs(10)).await;
    eprintln!("pages told to reload {took:?} after the listening connection was killed");
    let metrics = server.metrics(&gina).await;
    assert!(metrics.contains("earshot_change_feed_reconnects_total{backend=\"postgres\"} 1"), "{metrics}");
    assert!(metrics.contains("earshot_change_feed_up{backend=\"postgres\"} 1"), "{metrics}");
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("change feed: lost"), "the log says so: {log}");

    let (dir2, pg2) = (dir.path().to_path_buf(), pg.clone());
    tokio::task::spawn_blocking(move || ingest_new_post(&dir2, &pg2, 990_000_000_000_000_004)).await.unwrap();
    events.expect("cases", Duration::from_secs(5)).await;
}

/// `earshot serve` over a SQLite file, `earshot ingest` into the same file from another process: the live page
/// hears the new posts and cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_over_sqlite_hears_another_process_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db").to_string_lossy().into_owned();
    let gina = tokio::task::block_in_place(|| seeded(dir.path(), &db));
    let server = tokio::task::block_in_place(|| Server::start(dir.path(), &db));
    server.wait_feed(&gina).await;
    let mut events = server.events(&gina).await;
    let idle = events.during(Duration::from_millis(1200)).await;
    assert!(idle.is_empty(), "nothing changed, nothing announced: {idle:?}");

    let (dir2, db2) = (dir.path().to_path_buf(), db.clone());
    tokio::task::spawn_blocking(move || ingest_new_post(&dir2, &db2, 990_000_000_000_000_003)).await.unwrap();
    let took = events.expect("cases", Duration::from_secs(5)).await;
    eprintln!("heard the other process's ingest after {took:?} (after the ingest process ended)");
    let _ = events.during(Duration::from_millis(1000)).await;

    // An action through the server: announced once (the poller does not announce it again).
    let id = first_case(&server.base, &gina).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/cases/{id}/actions", server.base))
        .bearer_auth(&gina)
        .json(&serde_json::json!({"action": "note", "value": "called the warehouse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let heard = events.during(Duration::from_millis(2000)).await;
    assert_eq!(heard.iter().filter(|n| *n == "cases").count(), 1, "the action is announced once: {heard:?}");
}
