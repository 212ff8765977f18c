//! `earshot bench` runs the same pipeline as `earshot ingest`: same input and config, same store.

use assert_cmd::Command;
use rusqlite::Connection;
use std::path::Path;

fn earshot() -> Command {
    Command::cargo_bin("earshot").expect("earshot binary")
}

/// The shared data the generator builds posts from (`<repo>/../shared/data`, as in CI).
fn data_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

fn last_json(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().expect("output")).expect("JSON on the last line")
}

/// Every row that does not depend on the wall clock, in a stable order, one string per row.
fn content(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).expect("open store");
    let queries = [
        "SELECT p.platform, p.native_id, p.text, p.author_handle, p.brand_author, p.published_at, p.raw, \
         a.versions, a.analysis FROM posts p LEFT JOIN post_analysis a ON a.post_id = p.id ORDER BY p.id",
        "SELECT p.native_id, b.brand, b.via FROM post_brands b JOIN posts p ON p.id = b.post_id \
         ORDER BY p.id, b.brand",
        "SELECT id, brand, customer, platform, kind, status, priority, issue, sentiment, opened_at, \
         last_activity_at, first_response_at, merged_into FROM cases ORDER BY id",
        "SELECT c.case_id, p.native_id FROM case_posts c JOIN posts p ON p.id = c.post_id ORDER BY c.case_id, p.id",
        "SELECT id, brand, kind, facet, key, status, started_at, detected_at, posts, authors, case_id FROM storms \
         ORDER BY id",
    ];
    let mut rows = Vec::new();
    for q in queries {
        let mut stmt = conn.prepare(q).expect(q);
        let n = stmt.column_count();
        let mut it = stmt.query([]).expect(q);
        while let Some(row) = it.next().expect(q) {
            let cells: Vec<String> =
                (0..n).map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).expect("cell"))).collect();
            rows.push(format!("{}: {}", &q[..20], cells.join(" | ")));
        }
    }
    rows
}

#[test]
fn the_bench_store_equals_an_ingest_of_the_same_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = earshot()
        .args(["bench", "--posts", "3000", "--brands", "8", "--threads", "2", "--baseline", "none", "--json"])
        .arg("--data")
        .arg(data_dir())
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .success();
    let figures = last_json(&out.get_output().stdout);
    assert_eq!(figures["posts"], 3000);
    assert!(figures["posts_per_s"].as_f64().expect("posts_per_s") > 0.0);
    assert!(figures["peak_rss_bytes"].as_u64().expect("peak_rss_bytes") > 0);
    assert!(figures["baseline_posts_per_s"].is_null() && figures["ratio"].is_null());
    assert!(figures["cases_opened"].as_u64().expect("cases_opened") > 0, "the bench threads into cases");
    assert!(figures["storm_events"].as_u64().expect("storm_events") > 0, "the generated traffic has storms");
    for stage in ["decode_s", "analyze_s", "commit_s", "cases_s"] {
        assert!(figures["stages"][stage].as_f64().expect(stage) > 0.0, "{stage} measured");
    }

    // The same input and config through `earshot ingest`, analysis on one thread this time.
    let ingested = dir.path().join("ingest.db");
    earshot()
        .args(["ingest", "--threads", "1", "--quiet", "--json"])
        .arg("--config")
        .arg(dir.path().join("earshot.toml"))
        .arg("--db")
        .arg(&ingested)
        .arg(dir.path().join("bench-x-v2-3000.jsonl"))
        .assert()
        .success();
    let (bench, ingest) = (content(&dir.path().join("bench.db")), content(&ingested));
    assert!(bench.len() > 3 * 3000, "posts, links, cases and case posts are compared");
    assert_eq!(bench.len(), ingest.len());
    for (b, i) in bench.iter().zip(&ingest) {
        assert_eq!(b, i);
    }
}

#[test]
fn the_bench_runs_the_python_baseline_on_the_same_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = earshot()
        .args(["bench", "--posts", "600", "--brands", "4", "--baseline", "python", "--json"])
        .arg("--data")
        .arg(data_dir())
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .success();
    let figures = last_json(&out.get_output().stdout);
    let baseline = figures["baseline_posts_per_s"].as_f64().expect("baseline_posts_per_s");
    let ratio = figures["ratio"].as_f64().expect("ratio");
    assert!(baseline > 0.0);
    let expected = figures["posts_per_s"].as_f64().expect("posts_per_s") / baseline;
    assert!((ratio - expected).abs() <= 0.01 + expected * 1e-9, "ratio {ratio} vs {expected}");
    assert!(figures["baseline_store_bytes"].as_u64().expect("baseline store") > 0, "the baseline stored its posts");
}
