//! The Warn stage end to end: the #OlivetSocial campaign of the seed stories becomes one storm and one storm
//! case, `earshot storms` lists it (JSON contract), a signed webhook announces it, and `detect-series` scores
//! a count series.

use assert_cmd::Command;
use earshot_store::{CaseQuery, SqliteStore, Store, StormQuery};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod support;

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG");
    c
}

fn demo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo").join(name)
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn the_olivet_campaign_is_one_storm_and_one_storm_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    earshot().args(["demo", "--no-serve", "--db"]).arg(&db).assert().success();

    let out = earshot().args(["storms", "--json", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let storms = json_lines(&out.stdout);
    let olivet: Vec<&Value> = storms
        .iter()
        .filter(|s| s["brand"] == "Gymboree" && s["hashtags"].as_array().unwrap().iter().any(|h| h == "olivetsocial"))
        .collect();
    assert_eq!(olivet.len(), 1, "one storm for the whole campaign: {storms:#?}");
    let s = olivet[0];
    for field in ["brand", "kind", "started_at", "detected_at", "posts", "authors", "hashtags"] {
        assert!(!s[field].is_null(), "{field} is part of the contract: {s}");
    }
    assert_eq!(s["kind"], "campaign", "{s}");
    assert!(s["authors"].as_u64().unwrap() >= 20, "{s}");
    let started = chrono::DateTime::parse_from_rfc3339(s["started_at"].as_str().unwrap()).unwrap();
    let detected = chrono::DateTime::parse_from_rfc3339(s["detected_at"].as_str().unwrap()).unwrap();
    assert!(detected >= started, "{s}");
    assert!((detected - started).num_minutes() <= 20, "detected while the campaign is going on: {s}");
    // `detected_at` is the published time of the post that fired the detector.
    let store = SqliteStore::open(&db).unwrap();
    let olivet_times: Vec<_> = store
        .posts(&earshot_store::PostQuery { brand: Some("Gymboree".into()), limit: 1000, ..Default::default() })
        .unwrap()
        .into_iter()
        .map(|p| p.post.published_at)
        .collect();
    assert!(olivet_times.iter().any(|t| t.timestamp() == detected.timestamp()), "{s}");

    // One storm case in the queue instead of forty customer cases; members point at it.
    let row = store.storms(&StormQuery::default()).unwrap().into_iter().find(|r| r.id == s["id"]).unwrap();
    let case_id = row.case_id.expect("a storm case");
    let case = store.case(case_id).unwrap().unwrap();
    assert_eq!(case.kind, "storm");
    let members = store.storm_members(case_id, 1000).unwrap();
    assert!(members.len() >= 20, "the campaign's cases are members: {}", members.len());
    let queue =
        store.cases(&CaseQuery { brand: Some("Gymboree".into()), limit: Some(1000), ..Default::default() }).unwrap();
    assert!(queue.iter().any(|c| c.id == case_id));
    assert!(queue.iter().all(|c| c.storm_case.is_none()), "members leave the queue");
    assert!(queue.len() < 10, "the queue shows the storm, not forty tickets: {}", queue.len());
    // Gymboree's reply to one participant 20 minutes in answers the storm case within its 1 h target.
    let first = case.first_response_at.expect("the storm case was answered");
    assert!((first - case.opened_at).num_minutes() <= 60, "{case:?}");
}

#[test]
fn a_storm_is_announced_by_a_signed_webhook() {
    let received: support::webhook::Received = Arc::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr = {
        let received = received.clone();
        runtime.block_on(support::webhook::receiver(received))
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[alerts]\ncooldown = \"30m\"\n\n[[alerts.webhooks]]\nname = \"ops\"\nurl = \"http://{addr}/hook\"\nsecret_env = \"EARSHOT_TEST_HOOK_SECRET\"\n",
            earshot::demo::CONFIG
        ),
    )
    .unwrap();
    let db = dir.path().join("w.db");
    let ingest_olivet = || {
        earshot()
            .env("EARSHOT_TEST_HOOK_SECRET", "whsec_test_secret")
            .args(["ingest", "--db"])
            .arg(&db)
            .arg("--config")
            .arg(&config)
            .arg(demo_file("olivet.x-v2-stream.jsonl"))
            .assert()
            .success();
    };
    ingest_olivet();
    let got = received.lock().unwrap().clone();
    let opened: Vec<_> = got
        .iter()
        .filter(|(h, _)| h.get("earshot-event").and_then(|v| v.to_str().ok()) == Some("storm.opened"))
        .collect();
    assert_eq!(opened.len(), 1, "one opening alert for one storm: {got:?}");
    let (headers, body) = opened[0];
    let header = |n: &str| headers.get(n).unwrap_or_else(|| panic!("{n} header")).to_str().unwrap().to_string();
    let timestamp = header("earshot-timestamp");
    earshot_alerts::verify(
        b"whsec_test_secret",
        &timestamp,
        body.as_bytes(),
        &header("earshot-signature"),
        chrono::Utc::now(),
        std::time::Duration::from_secs(300),
    )
    .expect("the signature verifies");
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["storm"]["brand"], "Gymboree", "{payload}");
    // Running again delivers nothing twice: the journal keeps what was sent.
    let before = received.lock().unwrap().len();
    ingest_olivet();
    assert_eq!(received.lock().unwrap().len(), before);
    let store = SqliteStore::open(&db).unwrap();
    let alerts = store.alerts(None, None, 100).unwrap();
    assert!(alerts.iter().any(|a| a.event == "storm.opened" && a.state == "sent"), "{alerts:?}");
}

#[test]
fn detect_series_writes_a_score_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("series.csv");
    let mut text = String::from("timestamp,value\n");
    let start = chrono::NaiveDate::from_ymd_opt(2015, 2, 26).unwrap().and_hms_opt(0, 0, 0).unwrap();
    for i in 0..(3 * 288) {
        let t = start + chrono::Duration::minutes(5 * i);
        let v = if i == 2 * 288 + 100 { 400 } else { 20 + (i % 3) };
        text.push_str(&format!("{},{v}\n", t.format("%Y-%m-%d %H:%M:%S")));
    }
    std::fs::write(&csv, text).unwrap();
    let out = earshot().args(["storms", "detect-series"]).arg(&csv).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(rows[0], "timestamp,value,anomaly_score");
    assert_eq!(rows.len(), 3 * 288 + 1);
    let scores: Vec<f64> = rows[1..].iter().map(|r| r.rsplit(',').next().unwrap().parse().unwrap()).collect();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    let fired: Vec<usize> = scores.iter().enumerate().filter(|(_, s)| **s >= 0.5).map(|(i, _)| i).collect();
    assert_eq!(fired, vec![2 * 288 + 100], "only the spike is a detection");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "timestamp,value\n2015-02-26 00:00:00,1\nnot a time,2\n").unwrap();
    let out = earshot().args(["storms", "detect-series"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv") && err.contains("line 3"), "{err}");
}
