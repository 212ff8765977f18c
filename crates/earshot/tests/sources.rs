//! Channel health end to end: `earshot watch` against a fake X server that is killed sends one signed
//! `source.failing` webhook naming the source, and one `source.recovered` when the server is back; the
//! inbox's `/sources` page and API show the status to signed-in users only, escaping remote error texts,
//! and `/metrics` carries the per-source gauges.

use earshot::auth;
use earshot::serve::{App, ServeOptions, serve};
use earshot_store::{Accounts, SourceState, SqliteStore, Store, UserRow};
use earshot_watch::fake::{Chaos, Counters, x::FakeX};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_health_test";
mod support;
use support::webhook::{Received, receiver};

fn events(received: &Received, name: &str) -> Vec<(axum::http::HeaderMap, String)> {
    let got = received.lock().unwrap();
    got.iter().filter(|(h, _)| h.get("earshot-event").and_then(|v| v.to_str().ok()) == Some(name)).cloned().collect()
}

fn wait_for(received: &Received, name: &str, limit: Duration) -> (axum::http::HeaderMap, String) {
    let start = Instant::now();
    loop {
        if let Some(e) = events(received, name).into_iter().next() {
            return e;
        }
        assert!(start.elapsed() < limit, "no {name} webhook within {limit:?}: {:?}", received.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn verified(headers: &axum::http::HeaderMap, body: &str) -> serde_json::Value {
    let header = |n: &str| headers.get(n).unwrap_or_else(|| panic!("{n} header")).to_str().unwrap().to_string();
    earshot_alerts::verify(
        SECRET.as_bytes(),
        &header("earshot-timestamp"),
        body.as_bytes(),
        &header("earshot-signature"),
        chrono::Utc::now(),
        Duration::from_secs(300),
    )
    .expect("signed with the webhook's secret");
    assert_eq!(header("earshot-delivery").len(), 32);
    serde_json::from_str(body).unwrap()
}

/// Kills the child on drop, so a failed assertion does not leave `earshot watch` running.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_killed_source_fires_one_signed_failing_webhook_and_one_recovery() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let received: Received = Arc::default();
    let addr = rt.block_on(receiver(received.clone()));
    let x = rt.block_on(FakeX::start(Chaos::default()));
    let url = x.url();
    x.stop();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watch.db");
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        format!(
            "[[brands]]\nname = \"Gilt\"\nhandles = [\"@GiltCare\"]\n\n\
             [[sources]]\nname = \"x-main\"\nkind = \"x_stream\"\nurl = \"{url}\"\ntoken_env = \"FAKE_X_TOKEN\"\n\
             reconnect_min = 0.02\nreconnect_max = 0.1\nfailing_alert = 0.5\n\n\
             [alerts]\n[[alerts.webhooks]]\nname = \"ops\"\nurl = \"http://{addr}/hook\"\nsecret_env = \"EARSHOT_TEST_HEALTH_SECRET\"\n"
        ),
    )
    .unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("earshot"))
        .env_remove("EARSHOT_DB")
        .env_remove("EARSHOT_CONFIG")
        .env("FAKE_X_TOKEN", earshot_watch::fake::x::TOKEN)
        .env("EARSHOT_TEST_HEALTH_SECRET", SECRET)
        .args(["watch", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--exit-when-idle", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);

    let (headers, body) = wait_for(&received, "source.failing", Duration::from_secs(30));
    let v = verified(&headers, &body);
    assert_eq!(v["event"], "source.failing");
    assert_eq!(v["source"]["source"], "x-main");
    assert_eq!(v["source"]["kind"], "x_stream");
    assert_eq!(v["source"]["status"], "failing");
    assert!(v["source"]["errors"].as_i64().unwrap() >= 3, "{v}");
    assert!(v["source"]["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");

    // The server comes back on the same port: one recovery, and still only one failing alert.
    rt.block_on(x.restart(Duration::ZERO));
    let (headers, body) = wait_for(&received, "source.recovered", Duration::from_secs(30));
    let v = verified(&headers, &body);
    assert_eq!(v["source"]["source"], "x-main");
    assert_eq!(v["source"]["status"], "connected");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(events(&received, "source.failing").len(), 1, "one alert per failure");
    assert_eq!(events(&received, "source.recovered").len(), 1, "one alert per recovery");
}

const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\"";

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sources_page_shows_failing_status_to_signed_in_users_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sources.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let now = chrono::Utc::now();
    let state = |name: &str, status: &str, error: Option<&str>, last_post: Option<i64>| SourceState {
        name: name.into(),
        kind: "x_stream".into(),
        url: "http://127.0.0.1:9".into(),
        cursor: last_post.map(|_| "1850000000000000042".into()),
        status: status.into(),
        status_since: now - chrono::TimeDelta::seconds(90),
        last_post_at: last_post.map(|s| now - chrono::TimeDelta::seconds(s)),
        lag_ms: last_post.map(|_| 1500),
        records: 10,
        stored: 9,
        rejected: 1,
        errors: 7,
        reconnects: 7,
        gaps: 0,
        last_error: error.map(String::from),
        updated_at: now,
    };
    store.save_source_state(&state("x-main", "failing", Some(HOSTILE), Some(600))).unwrap();
    store.save_source_state(&state("blog", "connected", None, Some(5))).unwrap();
    let user = UserRow {
        id: 0,
        name: "gina".into(),
        role: "agent".into(),
        brands: vec!["Gilt".into()],
        password_hash: Some(auth::hash_password("gina-password").unwrap()),
    };
    store.add_user(&user, now).unwrap();
    drop(store);
    let app = App::new(ServeOptions { db, dry_run: true, ..ServeOptions::default() }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(app, listener));

    // Not signed in: the page redirects to the login, the API and metrics answer 401.
    let r = client().get(format!("{base}/sources")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(r.headers()["location"].to_str().unwrap().contains("/login"));
    let body = r.text().await.unwrap();
    assert!(!body.contains("x-main"), "nothing about sources before login");
    assert_eq!(client().get(format!("{base}/api/v1/sources")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(client().get(format!("{base}/metrics")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let r = client()
        .post(format!("{base}/login"))
        .form(&[("name", "gina"), ("password", "gina-password")])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let r = client().get(format!("{base}/sources")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"data-source="x-main" data-status="failing""#), "{page}");
    assert!(page.contains(r#"<span class="pill p-urgent">failing</span>"#), "{page}");
    assert!(page.contains(r#"data-source="blog" data-status="connected""#), "{page}");
    assert!(page.contains("10m 0s ago") || page.contains("10m 1s ago"), "last post age: {page}");
    assert!(!page.contains("<script>alert"), "the remote error text is escaped: {page}");
    assert!(page.contains("&lt;script&gt;alert("), "{page}");
    assert!(page.contains(r#"href="/sources""#), "the nav links the page");

    let api: serde_json::Value = client()
        .get(format!("{base}/api/v1/sources"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x = api.as_array().unwrap().iter().find(|s| s["name"] == "x-main").expect("x-main in the API");
    assert_eq!(x["status"], "failing");
    assert_eq!(x["last_error"], HOSTILE, "JSON carries the text as it is");
    assert_eq!(x["errors"], 7);

    let metrics = client().get(format!("{base}/metrics")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("earshot_source_up{source=\"x-main\",kind=\"x_stream\"} 0\n"), "{metrics}");
    assert!(metrics.contains("earshot_source_up{source=\"blog\",kind=\"x_stream\"} 1\n"), "{metrics}");
    assert!(metrics.contains("earshot_source_errors_total{source=\"x-main\",kind=\"x_stream\"} 7\n"), "{metrics}");
    let last_post = (now - chrono::TimeDelta::seconds(600)).timestamp_millis() as f64 / 1000.0;
    assert!(
        metrics.contains(&format!(
            "earshot_source_last_post_timestamp_seconds{{source=\"x-main\",kind=\"x_stream\"}} {last_post:.3}\n"
        )),
        "{metrics}"
    );
}

/// `earshot serve` listens to its config's `[[sources]]` itself: posts from a live X stream land in the store while
/// the inbox serves, and the source's health is saved.
#[test]
fn serve_runs_the_configured_sources() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let x = Arc::new(rt.block_on(FakeX::start(Chaos::default())));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("serve.db");
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        format!(
            "[[brands]]\nname = \"Gilt\"\nhandles = [\"@GiltCare\"]\n\n\
             [[sources]]\nname = \"x-live\"\nkind = \"x_stream\"\nurl = \"{}\"\ntoken_env = \"FAKE_X_TOKEN\"\n\
             rules = [\"@GiltCare\"]\nreconnect_min = 0.02\n",
            x.url()
        ),
    )
    .unwrap();
    drop(SqliteStore::open(&db).unwrap());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("earshot"))
        .env_remove("EARSHOT_DB")
        .env_remove("EARSHOT_CONFIG")
        .env("FAKE_X_TOKEN", earshot_watch::fake::x::TOKEN)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--config"])
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let start = Instant::now();
    while Counters::get(&x.shared.counters.connections) == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "serve never connected to the source");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    x.timeline().publish(300);
    let stored = || -> i64 {
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM posts WHERE source = 'x-live'", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    while stored() < 300 {
        assert!(start.elapsed() < Duration::from_secs(60), "only {} of 300 live posts stored", stored());
        std::thread::sleep(Duration::from_millis(100));
    }
    // The cursor and health are saved just after the posts they cover are committed.
    let store = SqliteStore::open(&db).unwrap();
    let last = earshot_watch::fake::x::tweet_id(300);
    let state = loop {
        let state = store.source_state("x-live").unwrap().expect("the source's health is saved");
        if state.cursor.as_deref() == Some(last.as_str()) || start.elapsed() > Duration::from_secs(60) {
            break state;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(state.cursor.as_deref(), Some(last.as_str()));
    assert_eq!(state.status, "connected");
    // The inbox is up at the same time.
    let r = rt.block_on(client().get(format!("http://127.0.0.1:{port}/login")).send()).unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
