//! Killing ingestion at any moment and re-running the same command ends with
//! every post stored exactly once.

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const POSTS: usize = 200_000;
const MALFORMED_EVERY: usize = 20_000;

fn count_posts(db: &std::path::Path) -> u64 {
    if !db.exists() {
        return 0;
    }
    let Ok(conn) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    conn.query_row("SELECT COUNT(*) FROM posts", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).unwrap_or(0)
}

#[test]
fn sigkill_mid_ingest_then_rerun_stores_everything_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posts.jsonl");
    let db = dir.path().join("k.db");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    let mut malformed = 0;
    for i in 0..POSTS {
        if i % MALFORMED_EVERY == 7 {
            writeln!(f, "{{\"id\": \"broken-{i}\", \"text\": ").unwrap();
            malformed += 1;
        }
        writeln!(
            f,
            r#"{{"id":"p{i}","text":"post number {i} about @gilt and #sandals","author":"user{}","created_at":{}}}"#,
            i % 977,
            1_325_376_000 + i as i64
        )
        .unwrap();
    }
    drop(f);

    let ingest = || {
        let mut c = Command::cargo_bin("earshot").unwrap();
        c.args(["ingest", "--json", "--batch", "500", "--db"]).arg(&db).arg(&input);
        c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG").stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    };

    // Kill three times, each time after a few more batches have committed.
    let mut kills = Vec::new();
    for round in 1..=3u64 {
        let before = count_posts(&db);
        let mut child = ingest().spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let n = count_posts(&db);
            if n >= before + 2_000 * round || Instant::now() > deadline {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("ingest finished before it could be killed ({status}); make the input larger");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let after = count_posts(&db);
        assert!(after < POSTS as u64, "killed mid-run (round {round}: {after} posts)");
        kills.push(after);
    }

    let out = ingest().output().unwrap();
    assert_eq!(out.status.code(), Some(1), "exit 1: the malformed lines were rejected");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let already = *kills.last().unwrap();
    assert_eq!(summary["duplicates"].as_u64(), Some(already), "what was committed before the kill: {summary}");
    assert_eq!(summary["stored"].as_u64(), Some(POSTS as u64 - already), "{summary}");
    assert_eq!(summary["rejected"].as_u64(), Some(malformed), "{summary}");

    let conn = rusqlite::Connection::open(&db).unwrap();
    let (total, distinct): (i64, i64) = conn
        .query_row("SELECT COUNT(*), COUNT(DISTINCT native_id) FROM posts", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((total, distinct), (POSTS as i64, POSTS as i64));
    let rejects: i64 = conn.query_row("SELECT COUNT(*) FROM rejects", [], |r| r.get(0)).unwrap();
    assert_eq!(rejects, malformed as i64, "rejects are kept once across runs");
    let fts: i64 =
        conn.query_row("SELECT COUNT(*) FROM posts_fts WHERE posts_fts MATCH 'sandals'", [], |r| r.get(0)).unwrap();
    assert_eq!(fts, POSTS as i64, "the search index matches the posts exactly");
}
