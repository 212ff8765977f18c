//! The HTML report in a real browser (Debian's chromium, headless, through chromedriver): every chart
//! is laid out with a size, draws marks, and carries its axes, units and legend. The page and a
//! screenshot are saved under `target/artifacts/` for CI to keep.
//!
//! Needs `chromium` and `chromedriver` on PATH (`.ci/run` installs them). Without them the test is
//! skipped locally and fails under CI.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

mod support;

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG");
    c
}

/// A store with real conversations: the TWCS sample when present, the seed stories otherwise.
fn store(dir: &Path) -> PathBuf {
    let db = dir.join("report.db");
    let twcs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/twcs/twcs_head5000.csv");
    if twcs.exists() {
        earshot().args(["ingest", "--db"]).arg(&db).arg(&twcs).assert().success();
    } else {
        earshot().args(["demo", "--no-serve", "--db"]).arg(&db).assert().success();
    }
    db
}

/// What the page says about each chart after layout.
const PROBE: &str = r#"
return JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => {
  const box = s.getBoundingClientRect();
  const marks = [...s.querySelectorAll('rect, polyline, circle, line')];
  return {
    class: s.getAttribute('class'),
    width: box.width,
    height: box.height,
    drawn: marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length,
    legend: s.querySelectorAll('g.legend').length,
    text: [...s.querySelectorAll('text')].map(t => t.textContent).join(' | '),
  };
}));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_report_renders_its_charts_in_chromium() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let out = earshot().args(["report", "--format", "html", "--db"]).arg(&db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let page = artifacts.join("report.html");
    std::fs::write(&page, &out.stdout).unwrap();

    let Some((c, _driver)) = support::chrome::start().await else { return };
    c.goto(&format!("file://{}", page.canonicalize().unwrap().display())).await.unwrap();

    let probe = c.execute(PROBE, vec![]).await.unwrap();
    let charts: Vec<serde_json::Value> = serde_json::from_str(probe.as_str().unwrap()).unwrap();
    let find = |class: &str| {
        charts
            .iter()
            .find(|ch| ch["class"].as_str() == Some(&format!("chart {class}")))
            .unwrap_or_else(|| panic!("no {class} chart in {charts:?}"))
    };
    // Axis ticks with units, and the legend's words, per chart.
    for (class, needles) in [
        ("leaderboard", &["0%", "50%", "100%", "response rate", "95% interval"][..]),
        ("distribution", &["0%", "100%", "≤15m", "≤1h", ">24h", "none", "time to first response"][..]),
        ("trend", &["1 min", "1 h", "1 d", "7 d", "log scale", "UTC"][..]),
        ("recovery", &["-1.0", "+0.0", "+1.0", "VADER compound", "warmer", "colder"][..]),
    ] {
        let ch = find(class);
        assert!(ch["width"].as_f64().unwrap() > 300.0 && ch["height"].as_f64().unwrap() > 50.0, "{class}: {ch}");
        assert!(ch["drawn"].as_u64().unwrap() > 5, "{class} draws no marks: {ch}");
        assert!(ch["legend"].as_u64().unwrap() >= 1, "{class} has no legend: {ch}");
        let text = ch["text"].as_str().unwrap();
        for n in needles {
            assert!(text.contains(n), "{class} lacks {n:?}: {text}");
        }
    }
    // The trend chart has dated periods on its x axis and at least one line.
    let trend = find("trend");
    assert!(trend["text"].as_str().unwrap().contains("2017-"), "{trend}");

    // Whole page in one screenshot: grow the window to the document's height.
    let height = c.execute("return document.documentElement.scrollHeight", vec![]).await.unwrap();
    let height = height.as_u64().unwrap_or(3000).clamp(800, 8000) as u32;
    c.set_window_size(1400, height).await.unwrap();
    let png = c.screenshot().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank 1400-wide page compresses to a few kilobytes; charts and tables make it far larger.
    assert!(png.len() > 40_000, "screenshot looks blank: {} bytes", png.len());
    std::fs::write(artifacts.join("report.png"), &png).unwrap();
    c.close().await.unwrap();
}
