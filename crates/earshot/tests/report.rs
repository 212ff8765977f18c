//! `earshot report` end to end: the JSON contract, the demo stories, escaping in HTML, and the
//! TWCS numbers against an independent Python computation of the written methodology.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_report(db: &Path) -> serde_json::Value {
    let out = earshot().args(["report", "--format", "json", "--db"]).arg(db).output().unwrap();
    assert!(out.status.success(), "report failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn demo_db(dir: &Path) -> PathBuf {
    let db = dir.join("demo.db");
    earshot().args(["demo", "--no-serve", "--db"]).arg(&db).assert().success();
    db
}

#[test]
fn demo_report_shows_the_three_brands_with_the_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let rep = json_report(&demo_db(dir.path()));
    assert_eq!(rep["methodology_version"], "1");
    let brands = rep["brands"].as_array().unwrap();
    let names: Vec<&str> = brands.iter().map(|b| b["brand"].as_str().unwrap()).collect();
    for n in ["Gilt", "Brooks", "Gymboree"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    for b in brands {
        for key in [
            "brand",
            "handles",
            "inbound",
            "replied",
            "response_rate",
            "first_response_median_s",
            "first_response_p90_s",
            "within_1h_share",
            "sentiment_recovery",
            "methodology_version",
        ] {
            assert!(b.get(key).is_some(), "{key} missing in {b}");
        }
    }
    let gym = brands.iter().find(|b| b["brand"] == "Gymboree").unwrap();
    // Gymboree answered @katecoxpr (15:08:41) at 15:26:05: 17 min 24 s, the only reply.
    assert_eq!(gym["replied"], 1);
    assert_eq!(gym["first_response_median_s"], 1044.0);
    let gilt = brands.iter().find(|b| b["brand"] == "Gilt").unwrap();
    assert_eq!(gilt["lost"], 1, "Allie's 'last time I will shop with @Gilt' came after Gilt's reply");
}

#[test]
fn every_format_renders_and_html_escapes_brand_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let toml = dir.path().join("earshot.toml");
    std::fs::write(&toml, "[[brands]]\nname = \"<b>Evil & Co</b>\"\nhandles = [\"@evilco\"]\n").unwrap();
    let input = dir.path().join("posts.csv");
    std::fs::write(
        &input,
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n\
         1,evilco,False,Tue Oct 31 22:30:00 +0000 2017,@cust1 sorry!,,2\n\
         2,cust1,True,Tue Oct 31 22:00:00 +0000 2017,@evilco broken,1,\n",
    )
    .unwrap();
    earshot().args(["ingest", "--config"]).arg(&toml).arg("--db").arg(&db).arg(&input).assert().success();
    for fmt in ["table", "json", "csv", "md", "html"] {
        let out = earshot().args(["report", "--format", fmt, "--db"]).arg(&db).output().unwrap();
        assert!(out.status.success(), "{fmt}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        if fmt == "html" {
            assert!(text.contains("&lt;b&gt;Evil &amp; Co&lt;/b&gt;"), "{text}");
            assert!(!text.contains("<b>Evil"), "unescaped brand in html");
            assert!(text.contains("<svg"));
        }
    }
    let rep = json_report(&db);
    let b = &rep["brands"][0];
    assert_eq!(b["inbound"], 1);
    assert_eq!(b["first_response_median_s"], 1800.0);
    assert_eq!(b["within_1h_share"], 1.0);
}

#[test]
fn twcs_medians_equal_the_independent_python_reference() {
    let csv = repo().join("../shared/data/twcs/twcs_head5000.csv");
    if !csv.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/data");
        eprintln!("skipping: {} not found", csv.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("twcs.db");
    earshot().args(["ingest", "--db"]).arg(&db).arg(&csv).assert().success();
    let rep = json_report(&db);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report_reference.py");
    let out = std::process::Command::new("python3").arg(&script).arg(&csv).output().expect("python3 must be installed");
    assert!(out.status.success(), "reference failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let brands = rep["brands"].as_array().unwrap();
    assert_eq!(brands.len(), reference.len(), "brand sets differ");
    assert_eq!(reference.len(), 76);
    for b in brands {
        let name = b["brand"].as_str().unwrap().to_lowercase();
        let want = &reference[&name];
        for key in ["inbound", "replied", "within_1h", "within_24h"] {
            assert_eq!(b[key].as_u64(), want[key].as_u64(), "{name} {key}");
        }
        for key in ["first_response_median_s", "first_response_p90_s"] {
            assert_eq!(b[key].as_f64(), want[key].as_f64(), "{name} {key}");
        }
    }
}
