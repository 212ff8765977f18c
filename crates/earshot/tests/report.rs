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
    assert_eq!(rep["methodology_version"], "2");
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
    assert!(gym["first_response_median_s"].as_f64().unwrap() <= 20.0 * 60.0, "Gymboree replied within 20 minutes");
    let gilt = brands.iter().find(|b| b["brand"] == "Gilt").unwrap();
    assert_eq!(gilt["lost"], 1, "Allie's 'last time I will shop with @Gilt' came after Gilt's reply");
    assert_eq!(gilt["remedies"]["refund"], 1, "Gilt could only refund");
    let brooks = brands.iter().find(|b| b["brand"] == "Brooks").unwrap();
    // Brooks answered Joel in 47 min, recorded a replacement, and he declared loyalty when it arrived the next day.
    assert_eq!(brooks["remedies"]["replacement"], 1);
    assert_eq!((brooks["kept"].as_u64(), brooks["lost"].as_u64()), (Some(1), Some(0)));
    assert_eq!(brooks["within_24h"], 1);
}

#[test]
fn demo_prints_the_three_scorecards_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let out = earshot().args(["demo", "--no-serve", "--db"]).arg(dir.path().join("d.db")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let at = text.find("scorecards (").expect("demo prints scorecards");
    let rows: Vec<&str> = text[at..].lines().skip(2).take(3).collect();
    let row = |brand: &str| *rows.iter().find(|r| r.contains(brand)).unwrap_or_else(|| panic!("{brand} in {rows:?}"));
    assert!(row("Gymboree").contains("17m24s"), "{rows:?}");
    assert!(row("Brooks").contains("replacement 1") && row("Brooks").contains("1/0 (n=1)"), "{rows:?}");
    assert!(row("Gilt").contains("0/1 (n=1)") && row("Gilt").contains("refund 1"), "{rows:?}");
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

/// Ingests `data` (a file under `../shared/data`), runs the Python reference with `ref_args`, and
/// checks every brand's counts and first-response percentiles against it. `None` when the data is absent.
fn equals_python_reference(data: &str, ref_args: &[&str]) -> Option<usize> {
    let input = repo().join("../shared/data").join(data);
    if !input.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/data");
        eprintln!("skipping: {} not found", input.display());
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ref.db");
    earshot().args(["ingest", "--db"]).arg(&db).arg(&input).assert().success();
    let rep = json_report(&db);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report_reference.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(ref_args)
        .arg(&input)
        .output()
        .expect("python3 must be installed");
    assert!(out.status.success(), "reference failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let brands = rep["brands"].as_array().unwrap();
    assert_eq!(brands.len(), reference.len(), "brand sets differ");
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
    Some(reference.len())
}

#[test]
fn twcs_medians_equal_the_independent_python_reference() {
    if let Some(brands) = equals_python_reference("twcs/twcs_head5000.csv", &[]) {
        assert_eq!(brands, 76);
    }
}

#[test]
fn ibm_conversation_medians_equal_the_independent_python_reference() {
    // 24 of the 25 companies have conversations in the dev set; each speaks as a care account.
    if let Some(brands) = equals_python_reference("ibm-customer-care/dev.json", &["--ibm"]) {
        assert_eq!(brands, 24);
    }
}

/// The business-hours variant on TWCS equals the Python reference's own walk over the calendar's days
/// (a zone without daylight saving, two spans on weekdays, a short Saturday, a holiday).
#[test]
fn business_hours_medians_equal_the_independent_python_reference() {
    let input = repo().join("../shared/data/twcs/twcs_head5000.csv");
    if !input.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/data");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ref.db");
    earshot().args(["ingest", "--db"]).arg(&db).arg(&input).assert().success();
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        "[sla.default]\nfirst_response = \"1h\"\n[sla.default.calendar]\ntimezone = \"Asia/Kolkata\"\n\
         holidays = [\"2017-11-01\"]\n[sla.default.calendar.hours]\nmon-fri = \"01:00-11:30, 13:00-20:00\"\n\
         sat = \"05:00-09:00\"\nsun = \"closed\"\n",
    )
    .unwrap();
    let out =
        earshot().args(["report", "--format", "json", "--config"]).arg(&config).arg("--db").arg(&db).output().unwrap();
    assert!(out.status.success(), "report failed: {}", String::from_utf8_lossy(&out.stderr));
    let rep: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let calendar = r#"{"timezone": "Asia/Kolkata", "hours": {"mon-fri": "01:00-11:30, 13:00-20:00",
        "sat": "05:00-09:00", "sun": "closed"}, "holidays": ["2017-11-01"]}"#;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report_reference.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(["--calendar", calendar])
        .arg(&input)
        .output()
        .expect("python3 must be installed");
    assert!(out.status.success(), "reference failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut differs_from_wall_time = 0;
    for b in rep["brands"].as_array().unwrap() {
        let name = b["brand"].as_str().unwrap().to_lowercase();
        assert_eq!(b["business_calendar"], "Asia/Kolkata", "{name}");
        for key in ["first_response_business_median_s", "first_response_business_p90_s"] {
            assert_eq!(b[key].as_f64(), reference[&name][key].as_f64(), "{name} {key}");
        }
        differs_from_wall_time += usize::from(b["first_response_business_median_s"] != b["first_response_median_s"]);
    }
    assert!(differs_from_wall_time > 30, "the calendar matters: {differs_from_wall_time}");
}

#[test]
fn trends_by_period_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let input = dir.path().join("posts.csv");
    // Week of Mon 2017-10-30: one inbound answered in 30 min; week of Mon 2017-11-06: one unanswered.
    std::fs::write(
        &input,
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n\
         1,acmecare,False,Tue Oct 31 22:30:00 +0000 2017,@cust1 sorry!,,2\n\
         2,cust1,True,Tue Oct 31 22:00:00 +0000 2017,@acmecare broken,1,\n\
         3,cust2,True,Mon Nov 06 08:00:00 +0000 2017,@acmecare hello?,,\n",
    )
    .unwrap();
    earshot().args(["ingest", "--db"]).arg(&db).arg(&input).assert().success();
    let run = |args: &[&str]| {
        let out = earshot().arg("report").args(args).arg("--db").arg(&db).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["--format", "json", "--by", "week"])).unwrap();
    assert_eq!(json["by"], "week");
    let t = json["trends"].as_array().unwrap();
    let view: Vec<(&str, &str, u64, u64)> = t
        .iter()
        .map(|r| {
            (
                r["brand"].as_str().unwrap(),
                r["period"].as_str().unwrap(),
                r["inbound"].as_u64().unwrap(),
                r["replied"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(view, [("acmecare", "2017-10-30", 1, 1), ("acmecare", "2017-11-06", 1, 0)]);
    assert_eq!(t[0]["first_response_median_s"], 1800.0);
    assert!(json_report(&db).get("trends").is_none(), "no trends without --by");
    let csv = run(&["--format", "csv", "--by", "day"]);
    // Columns are the JSON field names; pick the ones under test by name.
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {csv}"));
    let pick: Vec<String> =
        rows[1..].iter().map(|r| ["brand", "period", "inbound", "replied"].map(|c| r[col(c)]).join(" ")).collect();
    assert_eq!(pick, ["acmecare 2017-10-31 1 1", "acmecare 2017-11-06 1 0"], "{csv}");
    let table = run(&["--by", "month"]);
    assert!(table.contains("by month:") && table.contains("2017-10-01") && table.contains("2017-11-01"), "{table}");
    let md = run(&["--format", "md", "--by", "week"]);
    assert!(md.contains("## By week") && md.contains("| acmecare | 2017-11-06 | 1 | 0 |"), "{md}");
    let html = run(&["--format", "html"]);
    assert!(html.contains("class=\"chart trend\"") && html.contains("<polyline"), "trend chart in html");
}
