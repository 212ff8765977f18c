//! PostgreSQL-only behaviour: migrations under concurrency, schema selection, locking. The behaviour both
//! backends share is in `contract.rs`.

use super::*;
use crate::contract::Place;
use crate::contract::pg::{PgPlace, schema_name, url};
use crate::{NewPost, open};
use earshot_core::brand::Via;

fn post(id: &str) -> NewPost {
    NewPost {
        post: Post::new(
            Platform::X,
            id,
            Author { handle: "ann".into(), ..Author::default() },
            "a sandal",
            Utc::now(),
            "t",
        ),
        brands: vec![Attribution { brand: "Gilt".into(), via: Via::Mention }],
        brand_author: None,
        source: "s".into(),
        analysis: None,
    }
}

#[test]
fn processes_starting_at_once_migrate_once() {
    let Some(place) = PgPlace::new() else { return };
    let opened: Vec<Result<PostgresStore>> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..4).map(|_| scope.spawn(|| PostgresStore::open_in_schema(place.url, &place.schema))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for store in &opened {
        let store = store.as_ref().expect("every process opens the store");
        assert_eq!(store.schema_version().unwrap(), PostgresStore::latest_version());
    }
    let s = opened.into_iter().next().unwrap().unwrap();
    let n: i64 = s.client().query_one("SELECT COUNT(*) FROM schema_migrations", &[]).unwrap().get(0);
    assert_eq!(n as usize, MIGRATIONS.len(), "each migration applied once");
}

#[test]
fn the_url_search_path_names_the_schema_and_it_is_created() {
    let Some(url) = url() else { return };
    let place = PgPlace { url, schema: schema_name() };
    let sep = if url.contains('?') { '&' } else { '?' };
    let target = format!("{url}{sep}options=-csearch_path%3D{}", place.schema);
    let mut store = match open(&target).unwrap() {
        crate::AnyStore::Postgres(s) => s,
        other => panic!("a postgres:// URL opens PostgreSQL, got {}", other.backend()),
    };
    store.commit(&Batch { posts: vec![post("1")], ..Batch::default() }, Utc::now()).unwrap();
    let n: i64 =
        store.client().query_one(&format!("SELECT COUNT(*) FROM \"{}\".posts", place.schema), &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(place) = PgPlace::new() else { return };
    place.open().client().execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')", &[]).unwrap();
    let err = PostgresStore::open_in_schema(place.url, &place.schema).unwrap_err().to_string();
    assert!(err.contains("version 999") && err.contains("upgrade earshot"), "{err}");
}

/// Writers commit in turn, so a reader following ids (the threading watermark) never skips a post that
/// commits later with a smaller id.
#[test]
fn concurrent_writers_make_ids_visible_in_order() {
    let Some(place) = PgPlace::new() else { return };
    let mut reader = place.open();
    let seen = std::thread::scope(|scope| {
        for w in 0..2 {
            let mut s = place.open();
            scope.spawn(move || {
                for b in 0..20 {
                    let posts = (0..25).map(|i| post(&format!("{w}-{b}-{i}"))).collect();
                    s.commit(&Batch { posts, ..Batch::default() }, Utc::now()).unwrap();
                }
            });
        }
        // Follow the stream like the case stage does: everything up to the last id seen is done.
        let mut after = 0;
        let mut seen = 0;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while seen < 1000 && std::time::Instant::now() < deadline {
            let page = reader.posts_after(after, 50).unwrap();
            if let Some(last) = page.last() {
                after = last.id;
            }
            seen += page.len();
        }
        seen
    });
    assert_eq!(seen, 1000, "a watermark reader saw every post exactly once");
    assert_eq!(reader.stats().unwrap().posts, 1000);
    reader.write_cases(&CaseWrite { threaded_through: Some(1), ..CaseWrite::default() }, Utc::now()).unwrap();
}

#[test]
fn full_text_search_can_use_the_gin_index() {
    let Some(place) = PgPlace::new() else { return };
    let s = place.open();
    let mut c = s.client();
    c.batch_execute("SET enable_seqscan = off").unwrap();
    let plan: Vec<String> = c
        .query(
            &format!("EXPLAIN SELECT {POST_COLUMNS} FROM posts p WHERE p.search @@ websearch_to_tsquery('simple', $1)"),
            &[&"sandal"],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(plan.join("\n").contains("posts_search"), "{plan:?}");
}

#[test]
fn passwords_are_not_shown() {
    assert_eq!(crate::redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
    assert_eq!(crate::redact_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(crate::redact_url("postgresql://h/db"), "postgresql://h/db");
    assert!(crate::is_postgres_url("PostgreSQL://h/db") && crate::is_postgres_url("postgres://h"));
    assert!(!crate::is_postgres_url("earshot.db") && !crate::is_postgres_url("/tmp/postgres.db"));
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let err = PostgresStore::open("postgres://nobody:pw@127.0.0.1:1/none?connect_timeout=2").unwrap_err().to_string();
    assert!(err.starts_with("cannot connect to PostgreSQL at postgres://nobody:***@127.0.0.1:1/none"), "{err}");
}

/// A dropped connection (server restart, failover, idle timeout) costs one failed call, not the process.
#[test]
fn a_lost_connection_is_opened_again() {
    let Some(place) = PgPlace::new() else { return };
    let mut s = place.open();
    s.commit(&Batch { posts: vec![post("1")], ..Batch::default() }, Utc::now()).unwrap();
    let kill = |s: &PostgresStore| {
        let pid: i32 = s.client().query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        let mut admin = postgres::Client::connect(place.url, NoTls).unwrap();
        admin.execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
    };
    kill(&s);
    let first = s.stats();
    let again = s.stats().expect("the second call reconnects");
    assert_eq!(again.posts, 1);
    assert!(first.is_err() || first.unwrap().posts == 1);
    kill(&s);
    let _ = s.commit(&Batch { posts: vec![post("2")], ..Batch::default() }, Utc::now());
    s.commit(&Batch { posts: vec![post("2"), post("3")], ..Batch::default() }, Utc::now()).expect("writes resume");
    assert_eq!(s.stats().unwrap().posts, 3, "the staging table is there again, nothing lost or doubled");
}

/// `earshot worker`'s writes: posts under given ids (stream sequence numbers) from several writers at once,
/// out of order; a redelivered batch stores nothing; the case stage reads only up to a cap.
#[test]
fn posts_under_given_ids_commit_out_of_order_and_reads_stop_at_the_cap() {
    let Some(place) = PgPlace::new() else { return };
    let mut a = PostgresStore::open_in_schema(place.url, &place.schema).unwrap();
    let mut b = PostgresStore::open_in_schema(place.url, &place.schema).unwrap();
    let batch = |ids: &[i64]| Batch { posts: ids.iter().map(|i| post(&format!("n{i}"))).collect(), ..Batch::default() };
    // Writer b commits the later sequence numbers first.
    let out = b.commit_with_ids(&batch(&[4, 5]), &[4, 5], Utc::now()).unwrap();
    assert_eq!((out.stored, out.duplicates), (2, 0));
    a.commit_with_ids(&batch(&[1, 3]), &[1, 3], Utc::now()).unwrap();
    // A redelivery of the same messages: nothing new, no error.
    let again = a.commit_with_ids(&batch(&[1, 3]), &[1, 3], Utc::now()).unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 2));
    // A copy of a post under a later sequence number is a duplicate: the first copy keeps its id.
    let mut dup = batch(&[6]);
    dup.posts[0] = post("n1");
    assert_eq!(a.commit_with_ids(&dup, &[6], Utc::now()).unwrap().duplicates, 1);

    let ids = |s: &PostgresStore| {
        s.posts_after(0, 100).unwrap().iter().map(|p| (p.id, p.post.native_id.clone())).collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), [(1, "n1".into()), (3, "n3".into()), (4, "n4".into()), (5, "n5".into())]);
    a.cap_posts_after(Some(3));
    assert_eq!(ids(&a), [(1, "n1".into()), (3, "n3".into())]);
    assert_eq!(a.posts_after(1, 100).unwrap().len(), 1);
    assert_eq!(a.stats().unwrap().posts, 4);
    assert!(a.commit_with_ids(&batch(&[7]), &[], Utc::now()).is_err(), "one id per post");
}

#[test]
fn session_locks_are_exclusive_counted_and_released_with_the_connection() {
    let Some(place) = PgPlace::new() else { return };
    let mut a = PostgresStore::open_in_schema(place.url, &place.schema).unwrap();
    let mut b = PostgresStore::open_in_schema(place.url, &place.schema).unwrap();
    let names: Vec<String> = (0..3).map(|i| format!("slot.{i}")).collect();
    assert!(a.try_lock("slot.0").unwrap());
    assert!(a.try_lock("slot.0").unwrap(), "re-entrant for its holder");
    assert!(!b.try_lock("slot.0").unwrap(), "held by another connection");
    assert!(b.try_lock("slot.1").unwrap());
    assert_eq!(a.locks_held(&names).unwrap(), 2);
    // The other schema's locks of the same name are other locks.
    let other = PgPlace::new().unwrap();
    let mut c = PostgresStore::open_in_schema(other.url, &other.schema).unwrap();
    assert!(c.try_lock("slot.1").unwrap());
    assert_eq!(a.locks_held(&names).unwrap(), 2);

    assert!(b.unlock("slot.1").unwrap());
    assert_eq!(a.locks_held(&names).unwrap(), 1);
    // The holder's connection goes away (a killed worker): the lock is free, and the holder does not
    // reconnect silently (it would not hold the lock any more).
    let pid: i32 = a.client().query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    b.client().execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !b.try_lock("slot.0").unwrap() {
        assert!(std::time::Instant::now() < deadline, "the lock was not released");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The first query may be the one that finds the connection closed; from then on it is SessionLost.
    let _ = a.stats();
    let err = a.stats().unwrap_err();
    assert!(matches!(err, StoreError::SessionLost { .. }), "{err}");
}

/// Collects a feed's events.
fn feed_in(url: &str, schema: &str) -> (crate::ChangeFeed, std::sync::mpsc::Receiver<crate::FeedEvent>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let feed = crate::ChangeFeed::start_postgres(url, Some(schema), move |e| {
        let _ = tx.lock().unwrap().send(e);
    })
    .unwrap();
    assert!(feed.wait_connected(std::time::Duration::from_secs(10)), "{:?}", feed.status());
    (feed, rx)
}

/// Stores in other schemas of the same database notify on the same channel; a feed keeps its own schema's.
#[test]
fn the_change_feed_hears_only_its_schema() {
    let Some(place) = PgPlace::new() else { return };
    let other = PgPlace { url: place.url, schema: schema_name() };
    let (_feed, rx) = feed_in(place.url, &place.schema);
    other.open().commit(&Batch { posts: vec![post("1")], ..Batch::default() }, Utc::now()).unwrap();
    let heard = rx.recv_timeout(std::time::Duration::from_millis(1500));
    assert!(heard.is_err(), "another schema's commit: {heard:?}");
    place.open().commit(&Batch { posts: vec![post("1")], ..Batch::default() }, Utc::now()).unwrap();
    let heard = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(heard, crate::FeedEvent::Changed(crate::Change::Posts));
}

/// A notification is sent on commit only: a rolled-back write is not heard.
#[test]
fn a_rolled_back_write_is_not_heard() {
    let Some(place) = PgPlace::new() else { return };
    let (_feed, rx) = feed_in(place.url, &place.schema);
    let s = place.open();
    {
        let mut client = s.client();
        let mut tx = client.transaction().unwrap();
        feed::notify(&mut tx, crate::Change::Cases).unwrap();
        tx.rollback().unwrap();
    }
    let heard = rx.recv_timeout(std::time::Duration::from_millis(1500));
    assert!(heard.is_err(), "a rolled-back transaction: {heard:?}");
}

/// When the listening connection is killed, the feed says so, connects again, says it may have missed
/// changes, and hears the next commit.
#[test]
fn the_change_feed_reconnects_after_its_connection_is_killed() {
    let Some(place) = PgPlace::new() else { return };
    let name = format!("feed_{}", place.schema);
    let sep = if place.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}application_name={name}", place.url);
    let mut s = place.open();
    let (feed, rx) = feed_in(&url, &place.schema);
    let killed: i64 = s
        .client()
        .query_one(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&format!("{name}-changes")],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    let wait = std::time::Duration::from_secs(10);
    assert!(matches!(rx.recv_timeout(wait).unwrap(), crate::FeedEvent::Lost(_)));
    assert_eq!(rx.recv_timeout(wait).unwrap(), crate::FeedEvent::Resumed);
    let status = feed.status();
    assert!(status.connected && status.reconnects == 1 && status.last_error.is_some(), "{status:?}");
    s.commit(&Batch { posts: vec![post("1")], ..Batch::default() }, Utc::now()).unwrap();
    assert_eq!(rx.recv_timeout(wait).unwrap(), crate::FeedEvent::Changed(crate::Change::Posts));
}
