//! The inbox and API over real HTTP on loopback: who may see what, escaping, CSRF, actions.

use earshot::auth;
use earshot::cases::CaseStage;
use earshot::ingest::{Ingestor, Input};
use earshot::serve::{App, ServeOptions, serve};
use earshot_core::brand::{Brands, BrandsFile};
use earshot_store::{Accounts, SqliteStore, UserRow};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

const XSS: &str = r#"{"data":{"id":"990000000000000001","text":"Gilt <script>alert(1)</script> broke my order","author_id":"77","created_at":"2012-01-05T10:00:00.000Z","conversation_id":"990000000000000001"},"includes":{"users":[{"id":"77","username":"mallory","name":"<b>Mal</b>"}]}}
"#;

struct Server {
    base: String,
    db: std::path::PathBuf,
    gilt_token: String,
    brooks_token: String,
    _dir: tempfile::TempDir,
}

fn user(store: &mut SqliteStore, name: &str, role: &str, brand: &str, password: Option<&str>) -> i64 {
    let u = UserRow {
        id: 0,
        name: name.into(),
        role: role.into(),
        brands: vec![brand.into()],
        password_hash: password.map(|p| auth::hash_password(p).unwrap()),
    };
    store.add_user(&u, chrono::Utc::now()).unwrap()
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db");
    let mut store = SqliteStore::open(&db).unwrap();
    earshot::demo::build(&mut store).unwrap();
    let brands = BrandsFile::from_toml(earshot::demo::CONFIG).unwrap().brands;
    let mut ing = Ingestor::new(&mut store, Brands::new(brands));
    ing.ingest(Input::from_bytes("xss.jsonl", XSS.as_bytes()), None).unwrap();
    ing.finish().unwrap();
    CaseStage::open(&store, Default::default()).unwrap().run(&mut store, chrono::Utc::now()).unwrap();
    let gilt = user(&mut store, "gina", "agent", "Gilt", Some("gina-password"));
    let brooks = user(&mut store, "bob", "agent", "Brooks", None);
    user(&mut store, "vera", "viewer", "Gilt", Some("vera-password"));
    let (gilt_token, brooks_token) = (auth::new_secret(), auth::new_secret());
    store.add_token(gilt, &auth::token_hash(&gilt_token), chrono::Utc::now()).unwrap();
    store.add_token(brooks, &auth::token_hash(&brooks_token), chrono::Utc::now()).unwrap();
    drop(store);
    let app = App::new(ServeOptions { db, dry_run: true, ..ServeOptions::default() }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(app, listener));
    Server { base, db: dir.path().join("inbox.db"), gilt_token, brooks_token, _dir: dir }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn get_json(s: &Server, path: &str, token: &str) -> (StatusCode, Value) {
    let r = client().get(format!("{}{path}", s.base)).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Logs in through the form; returns the session cookie.
async fn login(s: &Server, name: &str, password: &str) -> Option<String> {
    let r = client()
        .post(format!("{}/login", s.base))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .unwrap();
    let cookie = r.headers().get("set-cookie")?.to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    Some(cookie.split(';').next().unwrap().to_string())
}

async fn page(s: &Server, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = client().get(format!("{}{path}", s.base)).header("cookie", cookie).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// POSTs a case action through the API; returns the status and the JSON answer (`null` when not JSON).
async fn post_action(s: &Server, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{}/api/v1/cases/{id}/actions", s.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
}

/// What another process does: ingests `lines` into the database and threads them.
fn ingest_more(store: &mut SqliteStore, lines: &str) {
    let brands = BrandsFile::from_toml(earshot::demo::CONFIG).unwrap().brands;
    let mut ing = Ingestor::new(store, Brands::new(brands));
    ing.ingest(Input::from_bytes("more.jsonl", lines.as_bytes()), None).unwrap();
    ing.finish().unwrap();
    CaseStage::open(store, Default::default()).unwrap().run(store, chrono::Utc::now()).unwrap();
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[i..i + 64].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_get_401_or_the_login_page() {
    let s = start().await;
    let c = client();
    let r = c.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
    for path in ["/api/v1/cases", "/api/v1/cases/1", "/api/v1/posts", "/api/v1/me", "/metrics"] {
        let r = c.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        let r = c.get(format!("{}{path}", s.base)).bearer_auth("not-a-token").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path} with a bad token");
    }
    let r = c
        .post(format!("{}/api/v1/cases/1/actions", s.base))
        .json(&serde_json::json!({"action": "note", "value": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().await.unwrap().status(), StatusCode::OK);
    assert!(login(&s, "gina", "wrong").await.is_none(), "a wrong password gets no session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_of_brand_a_sees_nothing_of_brand_b() {
    let s = start().await;
    let (status, gilt) = get_json(&s, "/api/v1/cases?all=true&limit=1000", &s.gilt_token).await;
    assert_eq!(status, StatusCode::OK);
    let gilt = gilt.as_array().unwrap().clone();
    assert!(!gilt.is_empty());
    assert!(gilt.iter().all(|c| c["brand"] == "Gilt"), "{gilt:?}");
    for c in &gilt {
        assert!(c["id"].is_i64() && c["status"].is_string() && c["priority"].is_i64(), "{c}");
    }
    let (_, brooks) = get_json(&s, "/api/v1/cases?all=true&limit=1000", &s.brooks_token).await;
    let brooks = brooks.as_array().unwrap().clone();
    assert!(!brooks.is_empty() && brooks.iter().all(|c| c["brand"] == "Brooks"));
    for c in &brooks {
        let id = c["id"].as_i64().unwrap();
        let (st, _) = get_json(&s, &format!("/api/v1/cases/{id}"), &s.gilt_token).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "case {id} of Brooks");
        let r = client()
            .post(format!("{}/api/v1/cases/{id}/actions", s.base))
            .bearer_auth(&s.gilt_token)
            .json(&serde_json::json!({"action": "note", "value": "peek"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let (st, _) = get_json(&s, "/api/v1/posts?brand=Brooks", &s.gilt_token).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, posts) = get_json(&s, "/api/v1/posts?limit=1000", &s.gilt_token).await;
    assert_eq!(st, StatusCode::OK);
    for p in posts.as_array().unwrap() {
        let brands: Vec<&str> = p["brands"].as_array().unwrap().iter().map(|a| a["brand"].as_str().unwrap()).collect();
        assert!(brands.contains(&"Gilt") || p["brand_author"] == "Gilt", "{p}");
    }
    // The web pages too.
    let cookie = login(&s, "gina", "gina-password").await.expect("login works");
    for c in &brooks {
        let (st, _) = page(&s, &format!("/cases/{}", c["id"]), &cookie).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    let (st, html) = page(&s, "/?status=&brand=Brooks", &cookie).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("joel_haverford"), "no Brooks customer on a Gilt agent's list");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_text_is_escaped_and_forms_need_the_csrf_token() {
    let s = start().await;
    let cookie = login(&s, "gina", "gina-password").await.expect("login works");
    let (_, cases) = get_json(&s, "/api/v1/cases?all=true&limit=1000", &s.gilt_token).await;
    let xss = cases.as_array().unwrap().iter().find(|c| c["customer"] == "mallory").expect("the script post's case");
    let id = xss["id"].as_i64().unwrap();
    let (st, html) = page(&s, &format!("/cases/{id}"), &cookie).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"), "post text renders as text");
    let (_, list) = page(&s, "/", &cookie).await;
    assert!(!list.contains("<script>alert(1)"));

    // A form post without the session's token is refused; with it, the action lands.
    let url = format!("{}/cases/{id}/actions", s.base);
    let r = client()
        .post(&url)
        .header("cookie", &cookie)
        .form(&[("action", "remedy"), ("value", "apology")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = csrf_of(&html);
    let r = client()
        .post(&url)
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("action", "remedy"), ("value", "gift_card")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, case) = get_json(&s, &format!("/api/v1/cases/{id}"), &s.gilt_token).await;
    assert_eq!(case["remedies"], serde_json::json!(["gift_card"]), "{case}");

    // A viewer reads but may not act.
    let viewer = login(&s, "vera", "vera-password").await.unwrap();
    let (_, vhtml) = page(&s, &format!("/cases/{id}"), &viewer).await;
    let r = client()
        .post(&url)
        .header("cookie", &viewer)
        .form(&[("csrf", csrf_of(&vhtml).as_str()), ("action", "status"), ("value", "resolved")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_remedy_and_resolve_through_the_api() {
    let s = start().await;
    let (_, cases) = get_json(&s, "/api/v1/cases?limit=1000", &s.gilt_token).await;
    let id = cases.as_array().unwrap().iter().find(|c| c["customer"] == "mallory").unwrap()["id"].as_i64().unwrap();
    let act = |body: Value| {
        let (base, token) = (s.base.clone(), s.gilt_token.clone());
        async move {
            let r = client()
                .post(format!("{base}/api/v1/cases/{id}/actions"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, r) = act(serde_json::json!({"action": "reply", "value": {"text": "So sorry! A replacement ships today.", "remedies": ["apology", "replacement"]}})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(r["case"]["first_response_at"].is_string());
    let (st, _) = act(serde_json::json!({"action": "remedy", "value": "replacement"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, r) = act(serde_json::json!({"action": "status", "value": "resolved"})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let (_, case) = get_json(&s, &format!("/api/v1/cases/{id}"), &s.gilt_token).await;
    assert_eq!(case["status"], "resolved");
    let first = case["sla"].as_array().unwrap().iter().find(|t| t["target"] == "first_response").unwrap();
    assert_eq!(first["state"], "breached", "the post is from 2012: its first response came years late: {case}");
    let history = case["sla_history"].as_array().unwrap();
    assert!(history.iter().any(|t| t["to_state"] == "breached"), "the breach is part of the history: {case}");
    let kinds: Vec<&str> = case["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"reply") && kinds.contains(&"remedy") && kinds.contains(&"status"), "{kinds:?}");
    let (st, _) = act(serde_json::json!({"action": "remedy", "value": "a pony"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_pages_hear_about_posts_ingested_by_another_process() {
    let s = start().await;
    let cookie = login(&s, "gina", "gina-password").await.unwrap();
    let mut events = client().get(format!("{}/events", s.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    // Let the change feed take its first look at the file.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let line = r#"{"data":{"id":"990000000000000002","text":"@Gilt where is my order?","author_id":"78","created_at":"2012-01-06T10:00:00.000Z"},"includes":{"users":[{"id":"78","username":"newcomer"}]}}
"#;
    let db = s.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = SqliteStore::open(&db).unwrap();
        ingest_more(&mut store, line);
    })
    .await
    .unwrap();
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut seen = String::new();
        while let Some(chunk) = events.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: cases") {
                return seen;
            }
        }
        seen
    })
    .await
    .expect("an SSE event within 10 s");
    assert!(got.contains("event: cases"), "{got}");
}

/// Two cases of one customer become one: the lead merges them, the merged case leaves the queue, and the thread,
/// notes and remedies of both show on the case that remains. Agents may not merge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_merges_two_cases_of_one_customer_into_one_thread() {
    let s = start().await;
    // mallory writes again two weeks later: a new case, because her first one went quiet long ago.
    let line = r#"{"data":{"id":"990000000000000003","text":"@Gilt still no answer about my broken order","author_id":"77","created_at":"2012-01-19T10:00:00.000Z"},"includes":{"users":[{"id":"77","username":"mallory"}]}}
"#;
    let db = s.db.clone();
    let lead_token = tokio::task::spawn_blocking(move || {
        let mut store = SqliteStore::open(&db).unwrap();
        ingest_more(&mut store, line);
        let lead = user(&mut store, "lena", "lead", "Gilt", None);
        let token = auth::new_secret();
        store.add_token(lead, &auth::token_hash(&token), chrono::Utc::now()).unwrap();
        token
    })
    .await
    .unwrap();
    let (_, cases) = get_json(&s, "/api/v1/cases?customer=mallory&limit=1000", &s.gilt_token).await;
    let mut ids: Vec<i64> = cases.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids.len(), 2, "two cases for mallory: {cases}");
    let (into, from) = (ids[0], ids[1]);
    let act = |token: String, id: i64, body: Value| {
        let s = &s;
        async move { post_action(s, &token, id, body).await }
    };
    let (st, _) =
        act(s.gilt_token.clone(), from, serde_json::json!({"action": "note", "value": "second message"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, r) = act(s.gilt_token.clone(), from, serde_json::json!({"action": "merge", "value": into})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "an agent may not merge: {r}");
    let (st, r) = act(lead_token.clone(), from, serde_json::json!({"action": "merge", "value": into})).await;
    assert_eq!(st, StatusCode::OK, "{r}");

    let (_, queue) = get_json(&s, "/api/v1/cases?customer=mallory&limit=1000", &s.gilt_token).await;
    let left: Vec<i64> = queue.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(left, vec![into], "the merged case left the queue");
    let (st, case) = get_json(&s, &format!("/api/v1/cases/{into}"), &s.gilt_token).await;
    assert_eq!(st, StatusCode::OK);
    let texts: Vec<&str> = case["posts"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert!(
        texts.iter().any(|t| t.contains("<script>")) && texts.iter().any(|t| t.contains("still no answer")),
        "{texts:?}"
    );
    assert!(case.to_string().contains("second message"), "the merged case's note came along: {case}");
    let (st, cross) = act(lead_token, into, serde_json::json!({"action": "merge", "value": into})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a case cannot merge into itself: {cross}");
}
