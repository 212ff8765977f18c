//! The CLI over PostgreSQL: the same input gives the same store as with SQLite.
//!
//! Runs against `EARSHOT_TEST_POSTGRES_URL` when set (failing when it does not answer), else against
//! `postgres://postgres@127.0.0.1:5432/test` when something listens there; skipped otherwise. Each test
//! works in a schema of its own (named in the URL's `search_path`), dropped at the end.

mod support;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::pg::Schema;

fn earshot() -> Command {
    let mut c = Command::cargo_bin("earshot").unwrap();
    c.env_remove("EARSHOT_DB").env_remove("EARSHOT_CONFIG");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str], db: &str) -> Vec<u8> {
    let out = earshot().args(args).args(["--db", db]).output().unwrap();
    assert!(out.status.success(), "earshot {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn last_json(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    serde_json::from_str(text.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn ingest(db: &str) -> Value {
    let config = repo().join("crates/earshot/demo/earshot.toml");
    let out = earshot()
        .args(["ingest", "--json", "--quiet", "--config"])
        .arg(&config)
        .args(["--db", db])
        .args(support::stored::demo_and_fixture_inputs(&repo()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "fixtures hold rejects: {}", String::from_utf8_lossy(&out.stderr));
    last_json(&out.stdout)
}

#[test]
fn ingest_gives_the_same_store_as_sqlite() {
    let Some(schema) = Schema::new("cli", "same") else { return };
    let pg = schema.url();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("e.db").to_string_lossy().to_string();

    let (a, b) = (ingest(&sqlite), ingest(&pg));
    for key in ["read", "stored", "duplicates", "rejected", "skipped", "deletions", "posts_in_cases", "cases_opened"] {
        assert_eq!(a[key], b[key], "ingest summary {key}: sqlite {a} postgres {b}");
    }
    assert!(a["stored"].as_u64().unwrap() > 100 && a["cases_opened"].as_u64().unwrap() > 10, "{a}");

    let stats = |db: &str| last_json(&run(&["stats", "--json"], db));
    let (sa, sb) = (stats(&sqlite), stats(&pg));
    assert_eq!(sa, sb, "stats --json");
    assert!(sa["by_brand"].as_object().unwrap().len() >= 3 && sa["cases"].as_u64() > Some(10), "{sa}");
    for args in [
        &["cases", "--json", "--all"][..],
        &["storms", "--json"],
        &["rejects"],
        &["posts", "--search", "sandal"],
        // The report's facts are kept by each backend natively (threads, facts, discovery inputs, storms).
        &["report", "--format", "json", "--by", "day"],
    ] {
        assert_eq!(
            String::from_utf8_lossy(&run(args, &sqlite)),
            String::from_utf8_lossy(&run(args, &pg)),
            "earshot {args:?} differs"
        );
    }

    // Ingesting the same files again stores nothing new, in both.
    let again = ingest(&pg);
    let all = a["stored"].as_u64().unwrap() + a["duplicates"].as_u64().unwrap();
    assert_eq!((again["stored"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(all)));
    assert_eq!(stats(&pg), sb);
}

#[test]
fn the_config_storage_key_picks_the_store_and_db_wins() {
    let Some(schema) = Schema::new("cli", "config") else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("earshot.toml"),
        format!("storage = \"{}\"\n\n[[brands]]\nname = \"Gilt\"\nhandles = [\"@gilt\"]\n", schema.url()),
    )
    .unwrap();
    let demo = repo().join("crates/earshot/demo/gilt.x-v2.json");
    let out = earshot().current_dir(dir.path()).args(["ingest", "--json", "--quiet"]).arg(&demo).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stored = last_json(&out.stdout)["stored"].as_u64().unwrap();
    assert!(stored > 0);
    assert!(!dir.path().join("earshot.db").exists(), "the config's PostgreSQL store was used, not earshot.db");

    let out = earshot().current_dir(dir.path()).args(["stats", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(last_json(&out.stdout)["posts"].as_u64(), Some(stored));

    let out = earshot().current_dir(dir.path()).args(["stats", "--json", "--db", "other.db"]).output().unwrap();
    assert!(!out.status.success(), "an explicit --db wins over the config");
    assert!(String::from_utf8_lossy(&out.stderr).contains("other.db does not exist"));
}

#[test]
fn a_bad_url_is_a_clear_error_without_the_password() {
    let out = earshot()
        .args(["stats", "--db", "postgres://ann:hunter2@127.0.0.1:1/none?connect_timeout=2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to PostgreSQL at postgres://ann:***@127.0.0.1:1/none"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// `earshot serve` over PostgreSQL: brand scopes and actions work as over SQLite, and a second server on the
/// same database sees what the first did (the servers keep no state of their own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_works_over_postgres() {
    use earshot::serve::{App, ServeOptions, serve};
    let Some(schema) = Schema::new("cli", "serve") else { return };
    let pg = schema.url();
    let config = repo().join("crates/earshot/demo/earshot.toml");
    let demo: Vec<PathBuf> =
        ["gilt.x-v2.json", "brooks.x-v1.jsonl"].iter().map(|f| repo().join("crates/earshot/demo").join(f)).collect();
    let out = earshot()
        .args(["ingest", "--quiet", "--config"])
        .arg(&config)
        .args(["--db", &pg])
        .args(&demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = |name: &str, brand: &str| {
        let out = earshot()
            .args(["users", "add", name, "--role", "agent", "--brand", brand, "--token", "--db", &pg])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string()
    };
    let (gina, bob) = (token("gina", "Gilt"), token("bob", "Brooks"));

    let mut bases = Vec::new();
    let mut apps = Vec::new();
    for _ in 0..2 {
        // The sync PostgreSQL client runs its own small runtime: open it off the async threads, as
        // `earshot serve` does (it builds the app before starting tokio; requests use `spawn_blocking`).
        let opts = ServeOptions { db: pg.clone().into(), dry_run: true, ..ServeOptions::default() };
        let app = tokio::task::spawn_blocking(move || App::new(opts).unwrap()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push(format!("http://{}", listener.local_addr().unwrap()));
        apps.push(app.clone());
        tokio::spawn(serve(app, listener));
    }
    let client = reqwest::Client::new();
    let get = |base: &str, path: &str, token: &str| client.get(format!("{base}{path}")).bearer_auth(token).send();
    let r = get(&bases[0], "/api/v1/cases", &gina).await.unwrap();
    assert_eq!(r.status(), 200);
    let cases: Vec<Value> = r.json().await.unwrap();
    assert!(!cases.is_empty());
    assert!(cases.iter().all(|c| c["brand"] == "Gilt"), "a Gilt agent sees only Gilt's cases");
    let id = cases[0]["id"].as_i64().unwrap();
    assert_eq!(
        get(&bases[0], &format!("/api/v1/cases/{id}"), &bob).await.unwrap().status(),
        404,
        "another brand's case"
    );
    assert_eq!(get(&bases[0], "/api/v1/cases", "not-a-token").await.unwrap().status(), 401);

    let r = client
        .post(format!("{}/api/v1/cases/{id}/actions", bases[0]))
        .bearer_auth(&gina)
        .json(&serde_json::json!({"action": "note", "value": "called the warehouse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let case: Value = get(&bases[1], &format!("/api/v1/cases/{id}"), &gina).await.unwrap().json().await.unwrap();
    let notes = case["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "note").count();
    assert_eq!(notes, 1, "the other server sees the note: {case}");
    // Dropping a client's runtime inside the async runtime would panic; the process ends instead.
    std::mem::forget(apps);
}
