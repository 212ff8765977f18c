//! The inbox in a real browser (Debian's chromium, headless, through chromedriver): log in, open the top case,
//! reply through a fake X API (a local server speaking X API v2), record a remedy, resolve, and see the SLA met. Screenshots go to `target/screenshots/`.
//!
//! Needs `chromium` and `chromedriver` on PATH (`.ci/run` installs them). Without them the test is skipped locally
//! and fails under CI.

use earshot::auth;
use earshot::cases::CaseStage;
use earshot::ingest::{Ingestor, Input};
use earshot::serve::{App, ServeOptions, serve};
use earshot_core::brand::{Brands, BrandsFile};
use earshot_store::{Accounts, SqliteStore, UserRow};
use fantoccini::Locator;
use std::path::PathBuf;
use std::time::Duration;

mod support;

/// Polls until the element's text contains `needle` (pages reload after each form post).
async fn wait_text(c: &fantoccini::Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t.contains(needle) {
                return t;
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never showed {needle:?}; last text: {last}");
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_replies_records_a_remedy_and_resolves_within_the_sla() {
    // Two TLS stacks meet in this test (fantoccini's and the outbox's HTTP client): pick one crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();

    // A store with the seed stories plus one fresh complaint, published five minutes ago.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("browser.db");
    let mut store = SqliteStore::open(&db).unwrap();
    earshot::demo::build(&mut store).unwrap();
    let published = (chrono::Utc::now() - chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%S.000Z");
    let fresh = format!(
        r#"{{"data":{{"id":"991000000000000001","text":"@Gilt my Jack Rogers sandals arrived broken AGAIN. This is the last time I shop with you, Nordstrom it is","author_id":"88","created_at":"{published}","conversation_id":"991000000000000001","entities":{{"mentions":[{{"start":0,"end":5,"username":"Gilt","id":"17226154"}}]}}}},"includes":{{"users":[{{"id":"88","username":"dana_buys","name":"Dana","public_metrics":{{"followers_count":52000}}}}]}}}}
"#
    );
    let brands = BrandsFile::from_toml(earshot::demo::CONFIG).unwrap().brands;
    let mut ing = Ingestor::new(&mut store, Brands::new(brands));
    ing.ingest(Input::from_bytes("fresh.jsonl", fresh.as_bytes()), None).unwrap();
    ing.finish().unwrap();
    CaseStage::open(&store, Default::default()).unwrap().run(&mut store, chrono::Utc::now()).unwrap();
    let user = UserRow {
        id: 0,
        name: "gina".into(),
        role: "agent".into(),
        brands: vec!["Gilt".into()],
        password_hash: Some(auth::hash_password("gina-password").unwrap()),
    };
    store.add_user(&user, chrono::Utc::now()).unwrap();
    drop(store);

    // Replies go to a local server that speaks X API v2.
    let fake = earshot_outbox::fake::FakePlatforms::start().await;
    let publishers = std::sync::Arc::new(fake.publishers("Gilt"));
    let app =
        App::new(ServeOptions { db, dry_run: false, publishers: Some(publishers), ..ServeOptions::default() }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(app, listener));

    let Some((c, _driver)) = support::chrome::start().await else { return };
    let shots = screenshots();

    // Log in.
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("input[name=name]")).await.unwrap().send_keys("gina").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("gina-password").await.unwrap();
    c.find(Locator::Id("login")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("cases")).await.unwrap();
    std::fs::write(shots.join("inbox.png"), c.screenshot().await.unwrap()).unwrap();

    // The fresh, urgent complaint is on top; open it.
    let top = c.find(Locator::Css("#cases tbody tr:first-child a")).await.unwrap();
    top.click().await.unwrap();
    c.wait().for_element(Locator::Id("sla")).await.unwrap();
    let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(body.contains("dana_buys"), "the top case is the fresh complaint:\n{body}");
    assert!(body.contains("gift_card"), "the suggested reply goes beyond a bare refund:\n{body}");

    // Reply with the first suggestion.
    c.find(Locator::Css("button.send-reply")).await.unwrap().click().await.unwrap();
    wait_text(&c, ".flash", "reply sent on x").await;
    let tweets = fake.tweets();
    assert_eq!(tweets.len(), 1, "one reply posted: {tweets:?}");
    assert_eq!(tweets[0]["in_reply_to_tweet_id"], "991000000000000001", "{tweets:?}");
    assert!(tweets[0]["text"].as_str().unwrap().contains("gift card"), "{tweets:?}");

    // Record a remedy.
    // The fourth remedy is gift_card.
    c.find(Locator::Css("#remedy-select option:nth-child(4)")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("record-remedy")).await.unwrap().click().await.unwrap();
    wait_text(&c, ".flash", "remedy recorded").await;
    wait_text(&c, "#remedies", "gift_card").await;

    // Resolve.
    // The fourth status is resolved.
    c.find(Locator::Css("#status-select option:nth-child(4)")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("set-status")).await.unwrap().click().await.unwrap();
    wait_text(&c, ".flash", "status: resolved").await;
    wait_text(&c, "#status", "resolved").await;

    // The SLA shows met: answered and resolved within the targets.
    let sla = c.find(Locator::Id("sla")).await.unwrap().text().await.unwrap();
    let first = sla.lines().find(|l| l.contains("first_response")).unwrap_or_default();
    assert!(first.contains("met"), "first response met:\n{sla}");
    let resolution = sla.lines().find(|l| l.contains("resolution")).unwrap_or_default();
    assert!(resolution.contains("met"), "resolution met:\n{sla}");
    std::fs::write(shots.join("case.png"), c.screenshot().await.unwrap()).unwrap();
    c.close().await.unwrap();
}
