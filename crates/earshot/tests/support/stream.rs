//! What the distributed-mode tests share: the services (NATS, PostgreSQL) or a skip, a database and a stream of
//! the test's own (dropped at the end), the binary, and running it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_NATS: &str = "nats://127.0.0.1:4222";

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("earshot")
}

pub fn earshot() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG").env_remove("EARSHOT_STREAM");
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn reachable(host_port: &str) -> bool {
    std::net::ToSocketAddrs::to_socket_addrs(host_port)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// The services, or None (skip) when one is missing outside CI.
pub fn services() -> Option<(String, String)> {
    let nats = std::env::var("EARSHOT_TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS.into());
    let pg = std::env::var("EARSHOT_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    let pg_addr = pg.split('@').nth(1).and_then(|r| r.split('/').next()).unwrap_or("127.0.0.1:5432").to_string();
    let ok = reachable(nats.trim_start_matches("nats://")) && reachable(&pg_addr);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the stream tests: NATS at {nats} and PostgreSQL at {pg}"
        );
        eprintln!("skipped: needs NATS at {nats} and PostgreSQL at {pg}");
        return None;
    }
    Some((nats, pg))
}

pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("e2e_{tag}_{}_{nanos}", std::process::id())
}

/// A database of its own, dropped at the end.
pub struct Database {
    admin: String,
    /// The database name.
    pub name: String,
}

impl Database {
    /// Creates it on the server of `base` (a PostgreSQL URL).
    pub fn new(base: &str, tag: &str) -> Database {
        let name = unique(tag);
        let admin = base.rsplit_once('/').map_or(base.to_string(), |(host, _)| format!("{host}/postgres"));
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        Database { admin, name }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        self.admin.rsplit_once('/').map(|(host, _)| format!("{host}/{}", self.name)).unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls)
            && let Err(e) = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
        {
            eprintln!("could not drop database {}: {e}", self.name);
        }
    }
}

/// A stream name of its own, deleted at the end.
pub struct StreamName {
    /// The NATS URL.
    pub url: String,
    /// The stream name.
    pub name: String,
}

impl Drop for StreamName {
    fn drop(&mut self) {
        if let Ok(t) = earshot_stream::NatsTransport::open(&self.url, &self.name, None) {
            let _ = t.delete();
        }
    }
}

pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn last_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn publish(nats: &str, stream: &str, config: &Path, inputs: &[PathBuf]) -> serde_json::Value {
    let out = run_ok(
        earshot()
            .args(["ingest", "--json", "--stream", nats, "--stream-name", stream, "--config"])
            .arg(config)
            .args(inputs),
    );
    last_json(&out)
}

pub fn wait(mut child: Child, log: &Path, limit: Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "worker failed: {}", std::fs::read_to_string(log).unwrap_or_default());
            return;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("worker still running after {limit:?}: {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
