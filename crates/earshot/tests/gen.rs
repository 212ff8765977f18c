//! `earshot gen` end to end: generate traffic with storms, ingest it with the
//! generated brand config, and check the store against the ground truth.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG").env_remove("EARSHOT_DATA");
    c
}

/// `<repo>/../shared/data`, or `None` (with a note) outside CI when it is absent.
fn data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.join("complaints/train.csv").exists() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/data");
    eprintln!("skipping: {} not found", dir.display());
    None
}

/// Parses the last stdout line as JSON.
fn last_json(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    let line = text.lines().last().unwrap_or_else(|| panic!("no output: {text}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
}

/// Runs `earshot gen` into `dir`; returns the summary and the truth.
fn generate(dir: &Path, data: &Path, format: &str, extra: &[&str]) -> (Value, Value) {
    let out = earshot()
        .args(["gen", "--json", "--format", format, "--out"])
        .arg(dir.join("posts"))
        .arg("--truth")
        .arg(dir.join("truth.json"))
        .arg("--config-out")
        .arg(dir.join("earshot.toml"))
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("generated "), "one summary line on stderr: {stderr}");
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    (last_json(&out.stdout), truth)
}

/// Ingests the generated posts with the generated config; returns the ingest summary.
fn ingest(dir: &Path) -> Value {
    let out = earshot()
        .args(["ingest", "--json", "--db"])
        .arg(dir.join("t.db"))
        .arg("--config")
        .arg(dir.join("earshot.toml"))
        .arg(dir.join("posts"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "clean ingest: {}", String::from_utf8_lossy(&out.stderr));
    last_json(&out.stdout)
}

fn stats(db: &Path) -> Value {
    let out = earshot().args(["stats", "--json", "--db"]).arg(db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    last_json(&out.stdout)
}

fn count(db: &rusqlite::Connection, sql: &str) -> u64 {
    db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

#[test]
fn generated_stream_ingests_cleanly_attributed_and_as_the_truth_says() {
    let Some(data) = data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (summary, truth) = generate(
        dir.path(),
        &data,
        "x-v2",
        &[
            "--days",
            "2",
            "--brands",
            "3",
            "--rate",
            "400",
            "--seed",
            "7",
            "--storms",
            "volume=1,campaign=2,influencer=1",
        ],
    );
    let posts = truth["totals"]["posts"].as_u64().unwrap();
    assert_eq!(summary["posts"].as_u64(), Some(posts), "{summary}");
    assert!((1000..5000).contains(&posts), "a few thousand posts: {posts}");
    assert_eq!(truth["storms"].as_array().unwrap().len(), 4, "{}", truth["storms"]);

    let s = ingest(dir.path());
    assert_eq!((s["read"].as_u64(), s["stored"].as_u64()), (Some(posts), Some(posts)), "{s}");
    assert_eq!(
        (s["rejected"].as_u64(), s["duplicates"].as_u64(), s["skipped"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "{s}"
    );

    let db_path = dir.path().join("t.db");
    let st = stats(&db_path);
    assert_eq!(st["posts"].as_u64(), Some(posts));
    assert_eq!(st["by_brand"], truth["totals"]["by_brand"], "each post is attributed to its brand, and only to it");
    let replies = truth["totals"]["brand_replies"].as_u64().unwrap() + truth["totals"]["follow_ups"].as_u64().unwrap();
    assert!(replies > 0);
    assert_eq!(st["replies_linked"].as_u64(), Some(replies), "every reply threads to its parent: {st}");

    let db = rusqlite::Connection::open(&db_path).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM posts WHERE id NOT IN (SELECT post_id FROM post_brands)"), 0);
    let care_posts = count(&db, "SELECT count(DISTINCT post_id) FROM post_brands WHERE via = 'author'");
    assert_eq!(
        care_posts,
        truth["totals"]["brand_replies"].as_u64().unwrap(),
        "brand replies come from the care handles"
    );
    for storm in truth["storms"].as_array().unwrap() {
        let brand = storm["brand"].as_str().unwrap();
        let ids = storm["ids"].as_array().unwrap();
        assert_eq!(ids.len() as u64, storm["posts"].as_u64().unwrap());
        for id in ids {
            let found: u64 = db
                .query_row(
                    "SELECT count(*) FROM posts p JOIN post_brands b ON b.post_id = p.id WHERE p.native_id = ?1 AND b.brand = ?2",
                    rusqlite::params![id.as_str().unwrap(), brand],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap() as u64;
            assert_eq!(found, 1, "storm post {id} is stored and attributed to {brand}");
        }
        if storm["kind"] == "campaign" {
            assert!(storm["peak_authors_20m"].as_u64().unwrap() >= 20, "{storm}");
        }
    }
}

#[test]
fn mastodon_and_bluesky_streams_ingest_cleanly_with_threads() {
    let Some(data) = data() else { return };
    for format in ["mastodon", "bluesky-jetstream"] {
        let dir = tempfile::tempdir().unwrap();
        let (summary, truth) =
            generate(dir.path(), &data, format, &["--days", "1", "--brands", "2", "--rate", "500", "--seed", "3"]);
        let posts = summary["posts"].as_u64().unwrap();
        let s = ingest(dir.path());
        assert_eq!((s["stored"].as_u64(), s["rejected"].as_u64()), (Some(posts), Some(0)), "{format}: {s}");
        let st = stats(&dir.path().join("t.db"));
        assert_eq!(st["by_brand"], truth["totals"]["by_brand"], "{format}");
        let replies =
            truth["totals"]["brand_replies"].as_u64().unwrap() + truth["totals"]["follow_ups"].as_u64().unwrap();
        assert_eq!(st["replies_linked"].as_u64(), Some(replies), "{format}: {st}");
    }
}

#[test]
fn same_seed_same_stream_on_stdout() {
    let Some(data) = data() else { return };
    let run = |seed: &str| {
        let out = earshot()
            .args(["gen", "--posts", "300", "--brands", "2", "--format", "jsonl", "--seed", seed, "--data"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let a = run("5");
    assert_eq!(String::from_utf8_lossy(&a).lines().count(), 300);
    assert_eq!(a, run("5"));
    assert_ne!(a, run("6"));
}

#[test]
fn user_errors_say_what_to_do() {
    let out = earshot().args(["gen", "--days", "1", "--data", "/nonexistent/data"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/data/complaints/train.csv") && err.contains("--data"), "{err}");

    let out = earshot().args(["gen", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint: pass --out FILE"));

    let out = earshot().args(["gen", "--storms", "campain=2", "--data", "/nonexistent"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean campaign"));
}
