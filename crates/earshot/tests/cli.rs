//! End-to-end tests of the `earshot` binary on real-format files.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared_data(rel: &str) -> PathBuf {
    repo().join("../shared/data").join(rel)
}

/// Parses the last stdout line as JSON.
fn last_json(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    let line = text.lines().last().unwrap_or_else(|| panic!("no output: {text}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
}

fn stats(db: &Path) -> Value {
    let out = earshot().args(["stats", "--json", "--db"]).arg(db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    last_json(&out.stdout)
}

#[test]
fn twcs_sample_is_stored_once_with_reply_links() {
    let csv_path = shared_data("twcs/twcs_head5000.csv");
    if !csv_path.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/data");
        eprintln!("skipping: {} not found", csv_path.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = earshot().args(["ingest", "--json", "--db"]).arg(&db).arg(&csv_path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = last_json(&out.stdout);
    assert_eq!((s["read"].as_u64(), s["stored"].as_u64()), (Some(5000), Some(5000)), "{s}");
    assert_eq!((s["duplicates"].as_u64(), s["rejected"].as_u64()), (Some(0), Some(0)), "{s}");

    // Reply links, computed independently from the CSV.
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let ids: HashSet<&str> = rows.iter().map(|r| &r[0]).collect();
    let linked = rows.iter().filter(|r| !r[6].is_empty() && ids.contains(&r[6])).count() as u64;
    assert!(linked > 3000, "the sample is made of threads: {linked}");
    let st = stats(&db);
    assert_eq!(st["posts"].as_u64(), Some(5000));
    assert_eq!(st["replies_linked"].as_u64(), Some(linked), "{st}");

    let again = earshot().args(["ingest", "--json", "--db"]).arg(&db).arg(&csv_path).output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    let s = last_json(&again.stdout);
    assert_eq!((s["stored"].as_u64(), s["duplicates"].as_u64()), (Some(0), Some(5000)), "{s}");
    assert_eq!(s["posts_in_cases"].as_u64(), Some(0), "re-running threads nothing twice: {s}");
    assert_eq!(stats(&db)["posts"].as_u64(), Some(5000));
}

#[test]
fn malformed_records_are_rejected_with_position_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let input = dir.path().join("mixed.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"id":"1","text":"my sandal broke @gilt","author":"kay","created_at":"2012-01-05T14:02:00Z"}"#,
            "\n{not json\n",
            r#"{"id":"2","author":"kay","created_at":"2012-01-05T14:03:00Z"}"#,
            "\n",
            r#"{"id":"3","text":"thanks @brooksrunning","author":"joel","created_at":"2012-01-04T10:00:00Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = earshot().args(["ingest", "--json", "--format", "jsonl", "--db"]).arg(&db).arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "rejects make exit code 1");
    let s = last_json(&out.stdout);
    assert_eq!((s["read"].as_u64(), s["stored"].as_u64(), s["rejected"].as_u64()), (Some(4), Some(2), Some(2)));
    let out = earshot().args(["rejects", "--json", "--db"]).arg(&db).output().unwrap();
    let rejects: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rejects.len(), 2);
    let lines: HashSet<u64> = rejects.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, HashSet::from([2, 3]));
    for r in &rejects {
        assert!(r["source"].as_str().unwrap().ends_with("mixed.jsonl"));
        assert!(!r["reason"].as_str().unwrap().is_empty());
        assert!(!r["raw"].as_str().unwrap().is_empty(), "raw bytes are kept: {r}");
    }
    // Re-running stores nothing twice, not even rejects.
    let out = earshot().args(["ingest", "--json", "--db"]).arg(&db).arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let st = stats(&db);
    assert_eq!((st["posts"].as_u64(), st["rejects"].as_u64()), (Some(2), Some(2)));
}

#[test]
fn stdin_search_and_brand_filter() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let config = dir.path().join("earshot.toml");
    std::fs::write(&config, "[[brands]]\nname = \"Gilt\"\nhandles = [\"@gilt\"]\n[[brands]]\nname = \"Brooks\"\nhandles = [\"@brooksrunning\"]\n").unwrap();
    let input = concat!(
        r#"{"id":"1","text":"@gilt my sandal broke","author":"kay","created_at":"2012-01-05T14:02:00Z"}"#,
        "\n",
        r#"{"id":"2","text":"@brooksrunning my tights ripped","author":"joel","created_at":"2012-01-04T10:00:00Z"}"#,
        "\n",
        r#"{"id":"3","text":"So sorry! A refund is on its way.","author":"gilt","created_at":"2012-01-05T15:00:00Z","reply_to":"1"}"#,
        "\n"
    );
    let out = earshot()
        .args(["ingest", "--json", "--db"])
        .arg(&db)
        .arg("--config")
        .arg(&config)
        .arg("-")
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stats(&db)["brands"].as_u64(), Some(2));
    let posts = |args: &[&str]| -> Vec<Value> {
        let out = earshot().arg("posts").arg("--json").arg("--db").arg(&db).args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let found = posts(&["--search", "sandal"]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["native_id"], "1");
    let gilt = posts(&["--brand", "Gilt"]);
    let ids: Vec<&str> = gilt.iter().map(|p| p["native_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["3", "1"], "newest first, the brand's own reply included");
    assert_eq!(gilt[0]["brand_author"], "Gilt");
    assert_eq!(posts(&["--limit", "1"]).len(), 1);
}

#[test]
fn fatal_errors_exit_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let out = earshot().args(["ingest", "--db"]).arg(&db).arg(dir.path().join("missing.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist") && err.contains("hint:"), "{err}");
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x00\x01 nothing earshot knows").unwrap();
    let out = earshot().args(["ingest", "--db"]).arg(&db).arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
    let out = earshot().args(["stats", "--db"]).arg(dir.path().join("none.db")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_is_deterministic_and_tells_the_seed_stories() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let run = || {
        let out = earshot().args(["demo", "--no-serve", "--db"]).arg(&db).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    assert_eq!(first, run(), "the demo is deterministic");
    for needle in ["Gilt", "Brooks", "Gymboree", "OlivetSocial", "Nordstrom"] {
        assert!(first.contains(needle), "demo output mentions {needle}:\n{first}");
    }
    let st = stats(&db);
    assert_eq!(st["rejects"].as_u64(), Some(0), "{st}");
    assert!(st["posts"].as_u64().unwrap() >= 45, "{st}");
    assert_eq!(st["brands"].as_u64(), Some(3));
    assert!(st["by_brand"]["Gymboree"].as_u64().unwrap() >= 36, "{st}");
    assert_eq!(st["by_platform"]["blog"].as_u64(), Some(6), "two blog posts and four comments: {st}");
    assert_eq!(st["analyzed"], st["posts"], "every post is analyzed on ingest: {st}");

    // Allie's last tweet names Gilt's competitor and threatens churn; the analysis says so and why.
    let out = earshot()
        .args(["posts", "--json", "--brand", "Gilt", "--search", "Nordstrom", "--platform", "x", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let post: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    let kinds: Vec<&str> =
        post["analysis"]["signals"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"competitor") && kinds.contains(&"churn_threat"), "{post}");
    let factors = post["analysis"]["priority"]["factors"].as_array().unwrap();
    assert!(factors.iter().any(|f| f["name"] == "churn_threat"), "{post}");

    let out = earshot().args(["reanalyze", "--json", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success());
    assert_eq!(last_json(&out.stdout)["analyzed"], st["posts"]);
}

fn cases(db: &Path, extra: &[&str]) -> Vec<Value> {
    let out =
        earshot().args(["cases", "--json", "--all", "--limit", "1000", "--db"]).arg(db).args(extra).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn demo_seed_stories_become_cases() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = earshot().args(["demo", "--no-serve", "--json", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = last_json(&out.stdout);
    assert!(summary["cases_opened"].as_u64().unwrap() >= 3, "{summary}");

    // Gilt: the sandal thread is one case; the brand offered a refund (and the waitlist, not the sandals) and the
    // customer left for Nordstrom.
    let gilt = cases(&db, &["--brand", "Gilt"]);
    let sandal = gilt.iter().find(|c| c["customer"] == "alliewhitford").expect("Gilt case for the sandal tweets");
    assert_eq!(sandal["data"]["case"]["post_ids"].as_array().unwrap().len(), 4, "{sandal}");
    assert_eq!(sandal["data"]["case"]["outcome"], "lost", "{sandal}");
    assert!(sandal["data"]["case"]["outcome_evidence"]["reason"].as_str().unwrap().contains("Nordstrom"), "{sandal}");
    let offered: Vec<&str> =
        sandal["data"]["remedies_offered"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(offered.contains(&"refund") && !offered.contains(&"replacement"), "{sandal}");
    let remedies: Vec<&str> =
        sandal["data"]["case"]["remedies"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(remedies.contains(&"refund") && !remedies.contains(&"gift_card"), "a bare refund: {sandal}");
    assert_eq!(sandal["issue"], "defect_or_damage", "{sandal}");

    // Brooks: replaced within 24 hours, customer kept.
    let brooks = cases(&db, &["--brand", "Brooks"]);
    let tights = brooks.iter().find(|c| c["customer"] == "joel_haverford").expect("Brooks case for the tights");
    assert_eq!(tights["data"]["case"]["outcome"], "kept", "{tights}");
    assert!(tights["data"]["remedies_offered"].as_array().unwrap().iter().any(|r| r == "replacement"), "{tights}");

    // Gymboree answered the #OlivetSocial professor within its first-response target (1 hour by default).
    let gym = cases(&db, &["--brand", "Gymboree", "--storm-members"]);
    assert!(gym.len() >= 36, "one case per student: {}", gym.len());
    // … collapsed into one storm case in the queue.
    let queue = cases(&db, &["--brand", "Gymboree"]);
    assert!(queue.iter().any(|c| c["kind"] == "storm") && queue.len() < 5, "{queue:?}");
    let answered: Vec<&Value> = gym.iter().filter(|c| !c["first_response_at"].is_null()).collect();
    assert!(!answered.is_empty());
    for c in answered {
        let opened = c["opened_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let first = c["first_response_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert!(first - opened <= chrono::Duration::hours(1), "{c}");
    }

    // Re-running the demo rebuilds the same cases.
    let before = cases(&db, &[]);
    let out = earshot().args(["demo", "--no-serve", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success());
    assert_eq!(cases(&db, &[]), before);
}

#[test]
fn classify_prints_the_contract_fields_per_line() {
    let input =
        "@Gilt my sandals arrived broken, last time I shop with you\nthank you so much, love the new tights!\n\n";
    let out = earshot().args(["classify", "--json"]).write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one object per input line, blank lines included");
    for v in &lines {
        for k in ["compound", "pos", "neu", "neg"] {
            assert!(v["vader"][k].is_f64(), "{v}");
        }
        assert!(["negative", "neutral", "positive"].contains(&v["sentiment"]["label"].as_str().unwrap()));
        assert!(v["sentiment"]["scores"].is_object());
        let p = v["complaint"]["probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p) && v["complaint"]["label"].is_boolean());
        assert!(v["severity"].as_u64().unwrap() <= 4);
        assert!(v["intent"].is_string() && v["issue"].is_string() && v["signals"].is_array());
        assert!(v["priority"]["score"].as_u64().unwrap() <= 100);
    }
    let (angry, happy) = (&lines[0], &lines[1]);
    assert_eq!(angry["complaint"]["label"], true);
    assert_eq!(happy["complaint"]["label"], false);
    assert_eq!(happy["sentiment"]["label"], "positive");
    assert!(angry["priority"]["score"].as_u64() > happy["priority"]["score"].as_u64());
    assert!(angry["signals"].as_array().unwrap().iter().any(|s| s["kind"] == "churn_threat"));
}
