//! `GET /dashboard` over real HTTP on loopback: login required, each user sees only the brands in
//! their scope (table and charts), and brand names are escaped.

use earshot::auth;
use earshot::ingest::{Ingestor, Input};
use earshot::serve::{App, ServeOptions, serve};
use earshot_core::brand::{BrandConfig, Brands, BrandsFile};
use earshot_store::{Accounts, SqliteStore, Store, UserRow};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

const EVIL: &str = "<script>alert(1)</script> & Co";

/// A customer asks @evilco, and @evilco answers ten minutes later.
const EVIL_THREAD: &str = r#"{"id":"e1","text":"@evilco my order is late","author":"cust9","created_at":"2012-01-05T10:00:00Z"}
{"id":"e2","text":"@cust9 sorry, on it","author":"evilco","created_at":"2012-01-05T10:10:00Z","reply_to":"e1"}
"#;

fn user(store: &mut SqliteStore, name: &str, role: &str, brand: &str, password: &str) {
    let u = UserRow {
        id: 0,
        name: name.into(),
        role: role.into(),
        brands: vec![brand.into()],
        password_hash: Some(auth::hash_password(password).unwrap()),
    };
    store.add_user(&u, chrono::Utc::now()).unwrap();
}

async fn start(dir: &std::path::Path) -> String {
    let db = dir.join("dash.db");
    let mut store = SqliteStore::open(&db).unwrap();
    earshot::demo::build(&mut store).unwrap();
    let mut brands = BrandsFile::from_toml(earshot::demo::CONFIG).unwrap().brands;
    brands.push(BrandConfig { name: EVIL.into(), handles: vec!["@evilco".into()], ..Default::default() });
    store.upsert_brands(&brands, chrono::Utc::now()).unwrap();
    let mut ing = Ingestor::new(&mut store, Brands::new(brands));
    ing.ingest(Input::from_bytes("evil.jsonl", EVIL_THREAD.as_bytes()), None).unwrap();
    ing.finish().unwrap();
    user(&mut store, "gina", "agent", "Gilt", "gina-password");
    user(&mut store, "ada", "admin", "*", "ada-password");
    drop(store);
    let app = App::new(ServeOptions { db, dry_run: true, ..ServeOptions::default() }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(app, listener));
    base
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn login(base: &str, name: &str, password: &str) -> String {
    let r =
        client().post(format!("{base}/login")).form(&[("name", name), ("password", password)]).send().await.unwrap();
    let cookie = r.headers().get("set-cookie").expect("logged in").to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().to_string()
}

async fn dashboard(base: &str, cookie: &str, query: &str) -> (StatusCode, String) {
    let r = client().get(format!("{base}/dashboard{query}")).header("cookie", cookie).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_only_brands_in_scope_with_escaped_names() {
    let dir = tempfile::tempdir().unwrap();
    let base = start(dir.path()).await;

    let r = client().get(format!("{base}/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous users go to the login page");
    assert_eq!(r.headers()["location"], "/login");

    // An agent of Gilt: Gilt's scorecard and charts, no other brand anywhere on the page.
    let gina = login(&base, "gina", "gina-password").await;
    let (status, html) = dashboard(&base, &gina, "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for chart in ["chart leaderboard", "chart distribution", "chart trend", "chart recovery"] {
        assert!(html.contains(chart), "{chart} missing");
    }
    assert!(html.contains("<td>Gilt<div"), "Gilt's row");
    assert!(html.contains("41m29s"), "Gilt's median first response");
    for other in ["Brooks", "Gymboree", "evilco", "script"] {
        assert!(!html.contains(other), "{other} leaked to a Gilt agent");
    }
    assert!(html.contains("href=\"/dashboard\""), "nav link");

    // An admin sees every brand; the hostile brand name is text, never markup.
    let ada = login(&base, "ada", "ada-password").await;
    let (status, html) = dashboard(&base, &ada, "?by=week").await;
    assert_eq!(status, StatusCode::OK);
    for b in ["Gilt", "Brooks", "Gymboree"] {
        assert!(html.contains(&format!("<td>{b}<div")), "{b} row for the admin");
    }
    assert!(!html.contains("<script>alert(1)"), "unescaped brand name");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"), "escaped brand name");
    assert!(html.contains("10m00s"), "the evilco reply ten minutes later");

    // Bad filters are a clear 400, not a blank page.
    let (status, body) = dashboard(&base, &ada, "?by=year").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("day, week or month"), "{body}");
    let (status, _) = dashboard(&base, &ada, "?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, html) = dashboard(&base, &ada, "?since=2015-01-01&until=2016-01-01").await;
    assert_eq!(status, StatusCode::OK);
    // Only 2015's inbound counts: Gymboree's reply time shows, Gilt's 2012 one does not.
    assert!(html.contains("17m24s") && !html.contains("41m29s"), "period filter");
}
