//! The store contract: one behaviour suite, run against every backend.
//!
//! Each test is a function generic over a [`Place`] (where a test's stores live) and runs once per backend:
//! `contract::sqlite::NAME` always, `contract::postgres::NAME` against PostgreSQL at
//! `EARSHOT_TEST_POSTGRES_URL` when set (failing when it cannot connect), else at
//! `postgres://postgres@127.0.0.1:5432/test` when that answers (skipped, with a note, when it does not).
//! Every PostgreSQL test gets its own schema, dropped at the end, so tests run in parallel.
//! Backend-specific checks (query plans, WAL, advisory locks) stay beside each backend.

use crate::{
    Accounts, AlertRow, AnalysisRow, Batch, CaseEvent, CaseLink, CaseQuery, CaseRow, CaseWrite, Change, ChangeFeed,
    FeedEvent, NewPost, NewReject, PostQuery, ReportAbout, ReportCare, ReportFact, ReportFacts, ReportPair,
    ReportState, ReportWrite, Snapshot, SourceState, SqliteStore, Store, StormQuery, StormRow, UnansweredDay, UserRow,
};
use chrono::{DateTime, TimeZone, Utc};
use earshot_core::brand::{Attribution, BrandConfig, Via};
use earshot_core::decode::Position;
use earshot_core::{Author, Deletion, Platform, Post};

/// Where one test's stores live; dropping it removes them.
pub(crate) trait Place: Sized {
    type S: Store + Accounts + Send + 'static;
    /// Proptest cases per property (a PostgreSQL case creates and migrates schemas).
    const CASES: u32;
    /// A new, empty place, or `None` when the backend is not available here (the test is skipped).
    fn new() -> Option<Self>;
    /// A connection to the place's store (the same store each time).
    fn open(&self) -> Self::S;
    /// The place's change feed.
    fn feed(&self, sink: impl Fn(FeedEvent) + Send + Sync + 'static) -> ChangeFeed;
}

/// A SQLite file in a temporary directory.
pub(crate) struct SqlitePlace(tempfile::TempDir);

impl Place for SqlitePlace {
    type S = SqliteStore;
    const CASES: u32 = 48;
    fn new() -> Option<Self> {
        Some(SqlitePlace(tempfile::tempdir().unwrap()))
    }
    fn open(&self) -> SqliteStore {
        SqliteStore::open(self.0.path().join("earshot.db")).unwrap()
    }
    fn feed(&self, sink: impl Fn(FeedEvent) + Send + Sync + 'static) -> ChangeFeed {
        ChangeFeed::start(&self.0.path().join("earshot.db").to_string_lossy(), sink).unwrap()
    }
}

#[cfg(feature = "postgres")]
pub(crate) use pg::PgPlace;

#[cfg(feature = "postgres")]
pub(crate) mod pg {
    use super::Place;
    use crate::PostgresStore;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    /// The server the PostgreSQL contract runs against, when there is one.
    pub(crate) fn url() -> Option<&'static str> {
        static URL: OnceLock<Option<String>> = OnceLock::new();
        URL.get_or_init(|| {
            if let Ok(url) = std::env::var("EARSHOT_TEST_POSTGRES_URL") {
                return Some(url);
            }
            let mut config: postgres::Config = DEFAULT_URL.parse().unwrap();
            config.connect_timeout(std::time::Duration::from_secs(2));
            match config.connect(postgres::NoTls) {
                Ok(_) => Some(DEFAULT_URL.to_string()),
                Err(e) => {
                    eprintln!("PostgreSQL contract tests skipped: {DEFAULT_URL} does not answer ({e})");
                    None
                }
            }
        })
        .as_deref()
    }

    /// A fresh schema name, unique across parallel tests and test processes.
    pub(crate) fn schema_name() -> String {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        format!("t_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
    }

    /// A schema of its own, dropped (with everything in it) at the end.
    pub(crate) struct PgPlace {
        pub(crate) url: &'static str,
        pub(crate) schema: String,
    }

    impl Place for PgPlace {
        type S = PostgresStore;
        const CASES: u32 = 6;
        fn new() -> Option<Self> {
            Some(PgPlace { url: url()?, schema: schema_name() })
        }
        fn open(&self) -> PostgresStore {
            PostgresStore::open_in_schema(self.url, &self.schema).unwrap()
        }
        fn feed(&self, sink: impl Fn(crate::FeedEvent) + Send + Sync + 'static) -> crate::ChangeFeed {
            crate::ChangeFeed::start_postgres(self.url, Some(&self.schema), sink).unwrap()
        }
    }

    impl Drop for PgPlace {
        fn drop(&mut self) {
            match postgres::Client::connect(self.url, postgres::NoTls) {
                Ok(mut c) => {
                    if let Err(e) = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema)) {
                        eprintln!("could not drop test schema {}: {e}", self.schema);
                    }
                }
                Err(e) => eprintln!("could not drop test schema {}: {e}", self.schema),
            }
        }
    }
}

/// Declares each contract test once per backend.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name::<super::SqlitePlace>() } )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $( #[test] fn $name() { super::$name::<super::PgPlace>() } )*
        }
    };
}

contract_tests!(
    a_post_is_stored_once,
    full_text_search_and_brand_filter,
    rejects_are_kept_once,
    deletions_mark_posts_in_either_order,
    brands_round_trip,
    reopening_keeps_data,
    a_second_connection_sees_commits,
    cases_round_trip_with_links_events_and_progress,
    case_queue_is_scoped_filtered_and_ordered,
    batching_does_not_change_the_result,
    analysis_is_stored_and_reanalyzed,
    merging_moves_the_posts_to_the_case_that_remains,
    storms_alerts_and_snapshots_round_trip,
    posts_round_trip_every_field,
    text_with_a_nul_byte_is_stored,
    accounts_round_trip,
    conversation_rows_cover_a_time_range,
    storm_members_and_cases_of_posts,
    source_states_round_trip,
    remedy_counts_per_brand,
    report_facts_round_trip,
    report_lease_is_held_by_one_at_a_time,
    storm_responses_per_brand,
    the_change_feed_reports_commits_once,
);

/// Opens a place's store, or ends the test when the backend is not available here.
macro_rules! store {
    ($p:ident) => {
        let Some($p) = P::new() else { return };
    };
}

/// A fixed instant `secs` after 2017-07-14 (shared with the SQLite-only tests).
pub(crate) fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_500_000_000 + secs, 0).unwrap()
}

/// A post by `alice` mentioning Gilt (shared with the SQLite-only tests).
pub(crate) fn post(id: &str, text: &str) -> NewPost {
    NewPost {
        post: Post {
            lang: Some("en".into()),
            mentions: vec!["gilt".into()],
            raw: format!("{{\"id\":\"{id}\"}}"),
            ..Post::new(
                Platform::X,
                id,
                Author { handle: "alice".into(), ..Author::default() },
                text,
                t(id.len() as i64),
                "test",
            )
        },
        brands: vec![Attribution { brand: "Gilt".into(), via: Via::Mention }],
        brand_author: None,
        source: "test.jsonl".into(),
        analysis: None,
    }
}

pub(crate) fn batch(posts: Vec<NewPost>) -> Batch {
    Batch { posts, ..Batch::default() }
}

fn a_post_is_stored_once<P: Place>() {
    store!(p);
    let mut s = p.open();
    let o = s.commit(&batch(vec![post("1", "broken sandal"), post("1", "again")]), t(0)).unwrap();
    assert_eq!((o.stored, o.duplicates), (1, 1));
    let o = s.commit(&batch(vec![post("1", "x"), post("2", "y")]), t(1)).unwrap();
    assert_eq!((o.stored, o.duplicates), (1, 1));
    let st = s.stats().unwrap();
    assert_eq!(st.posts, 2);
    assert_eq!(st.by_brand.get("Gilt"), Some(&2));
    let p = s.post("x", "1").unwrap().unwrap();
    assert_eq!(p.post.text, "broken sandal", "the first version is kept");
    assert_eq!(p.brands, vec![Attribution { brand: "Gilt".into(), via: Via::Mention }]);
    let order: Vec<String> = s.posts_after(0, 10).unwrap().into_iter().map(|p| p.post.native_id).collect();
    assert_eq!(order, vec!["1", "2"], "ids follow the order posts were stored in");
}

fn full_text_search_and_brand_filter<P: Place>() {
    store!(p);
    let mut s = p.open();
    s.commit(&batch(vec![post("1", "my sandal broke"), post("22", "tights ripped")]), t(0)).unwrap();
    let q = |search: &str| PostQuery { search: Some(search.into()), limit: 10, ..PostQuery::default() };
    let found = s.posts(&q("sandal")).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].post.native_id, "1");
    assert_eq!(s.posts(&q("SANDAL broke")).unwrap().len(), 1, "words are ANDed, case-insensitively");
    assert_eq!(s.posts(&q("sandal ripped")).unwrap().len(), 0);
    assert_eq!(s.posts(&q("alice")).unwrap().len(), 2, "author handles are searched too");
    assert_eq!(s.posts(&q("can't \"(")).unwrap().len(), 0, "search syntax in user input is harmless");
    assert_eq!(s.posts(&q("!!!")).unwrap().len(), 2, "no words means no filter");
    let by_brand = s.posts(&PostQuery { brand: Some("gilt".into()), limit: 10, ..PostQuery::default() }).unwrap();
    assert_eq!(by_brand.len(), 2);
    assert_eq!(by_brand[0].post.native_id, "22", "newest first");
    assert!(
        s.posts(&PostQuery { brand: Some("Brooks".into()), limit: 10, ..PostQuery::default() }).unwrap().is_empty()
    );
    assert_eq!(s.posts(&PostQuery { platform: Some("x".into()), limit: 1, ..PostQuery::default() }).unwrap().len(), 1);
}

fn rejects_are_kept_once<P: Place>() {
    store!(p);
    let mut s = p.open();
    let r = NewReject {
        source: "a.jsonl".into(),
        position: Position { line: 3, byte: 120, record: 2 },
        within: None,
        format: "jsonl".into(),
        reason: "invalid JSON".into(),
        raw: b"{oops\xff".to_vec(),
    };
    let other = NewReject { within: Some("data[3]".into()), ..r.clone() };
    let b = Batch { rejects: vec![r.clone(), r.clone()], ..Batch::default() };
    assert_eq!(s.commit(&b, t(0)).unwrap().rejects_new, 1, "a repeat within a batch is the same reject");
    let b = Batch { rejects: vec![r.clone(), other.clone()], ..Batch::default() };
    assert_eq!(s.commit(&b, t(1)).unwrap().rejects_new, 1);
    let stored = s.rejects(10).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].reject, other, "newest first");
    assert_eq!(stored[1].reject, r, "raw bytes are kept exactly");
    assert_eq!(stored[1].rejected_at, t(0));
    assert_eq!(s.stats().unwrap().rejects, 2);
}

fn deletions_mark_posts_in_either_order<P: Place>() {
    store!(p);
    let mut s = p.open();
    let del = |id: &str, at: Option<DateTime<Utc>>| {
        (Deletion { platform: Platform::X, native_id: id.into(), deleted_at: at, raw: "{}".into() }, "s".to_string())
    };
    s.commit(&batch(vec![post("1", "a"), post("333", "c")]), t(0)).unwrap();
    let o = s
        .commit(
            &Batch {
                deletions: vec![del("1", Some(t(9))), del("2", Some(t(9))), del("1", Some(t(5)))],
                ..Batch::default()
            },
            t(1),
        )
        .unwrap();
    assert_eq!(o.deletions, 3);
    s.commit(&Batch { deletions: vec![del("333", None)], ..Batch::default() }, t(7)).unwrap();
    s.commit(&batch(vec![post("2", "b")]), t(2)).unwrap();
    assert_eq!(s.post("x", "1").unwrap().unwrap().deleted_at, Some(t(9)), "the first notice counts");
    assert_eq!(s.post("x", "2").unwrap().unwrap().deleted_at, Some(t(9)), "a notice before the post counts");
    assert_eq!(s.post("x", "333").unwrap().unwrap().deleted_at, Some(t(7)), "no time: when it was seen");
    assert_eq!(s.stats().unwrap().deletions, 3);
}

fn brands_round_trip<P: Place>() {
    store!(p);
    let mut s = p.open();
    let b = BrandConfig { name: "Gilt".into(), handles: vec!["@gilt".into()], ..BrandConfig::default() };
    let a = BrandConfig { name: "acme".into(), ..BrandConfig::default() };
    s.upsert_brands(&[b.clone(), a.clone()], t(0)).unwrap();
    s.upsert_brands(std::slice::from_ref(&b), t(1)).unwrap();
    let renamed = BrandConfig { name: "GILT".into(), ..b.clone() };
    s.upsert_brands(std::slice::from_ref(&renamed), t(2)).unwrap();
    assert_eq!(s.brands().unwrap(), vec![a, renamed], "names are case-insensitive, listed by name");
    assert_eq!(s.stats().unwrap().brands, 2);
}

fn reopening_keeps_data<P: Place>() {
    store!(p);
    p.open().commit(&batch(vec![post("1", "a")]), t(0)).unwrap();
    let s = p.open();
    assert_eq!(s.stats().unwrap().posts, 1);
    let mut s = p.open();
    assert_eq!(s.commit(&batch(vec![post("1", "a")]), t(0)).unwrap().duplicates, 1);
}

fn a_second_connection_sees_commits<P: Place>() {
    store!(p);
    let mut writer = p.open();
    let reader = p.open();
    writer.commit(&batch(vec![post("1", "a")]), t(0)).unwrap();
    assert_eq!(reader.stats().unwrap().posts, 1);
    writer.write_cases(&CaseWrite { threaded_through: Some(5), ..CaseWrite::default() }, t(0)).unwrap();
    assert_eq!(reader.threaded_through().unwrap(), 5);
}

fn case_row(id: i64, brand: &str, status: &str, priority: i64, due: Option<i64>) -> CaseRow {
    CaseRow {
        id,
        brand: brand.into(),
        customer: "alice".into(),
        platform: "x".into(),
        kind: "customer".into(),
        status: status.into(),
        assignee: None,
        priority,
        issue: Some("defect_or_damage".into()),
        sentiment: Some("negative".into()),
        opened_at: t(0),
        last_activity_at: t(10),
        first_response_at: None,
        resolved_at: None,
        due_at: due.map(t),
        sla_state: Some("running".into()),
        merged_into: None,
        data: serde_json::json!({"case": {"id": id}}),
        storm_case: None,
    }
}

fn cases_round_trip_with_links_events_and_progress<P: Place>() {
    store!(p);
    let mut s = p.open();
    s.commit(&batch(vec![post("1", "broken sandal"), post("22", "still broken")]), t(0)).unwrap();
    let ids: Vec<i64> = s.posts_after(0, 10).unwrap().iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(s.threaded_through().unwrap(), 0);
    let write = CaseWrite {
        cases: vec![case_row(1, "Gilt", "new", 40, Some(3600))],
        links: ids
            .iter()
            .map(|&p| CaseLink { post_id: p, case_id: 1, role: "customer".into(), rule: "new".into() })
            .collect(),
        events: vec![CaseEvent {
            case_id: 1,
            at: t(1),
            kind: "opened".into(),
            actor: None,
            data: serde_json::json!({}),
        }],
        threaded_through: Some(ids[1]),
        ..CaseWrite::default()
    };
    s.write_cases(&write, t(100)).unwrap();
    // Re-writing is idempotent for links and never moves progress backwards.
    s.write_cases(&CaseWrite { threaded_through: Some(ids[0]), ..write.clone() }, t(100)).unwrap();
    assert_eq!(s.threaded_through().unwrap(), ids[1]);
    assert!(s.posts_after(ids[1], 10).unwrap().is_empty());
    assert_eq!(s.case(1).unwrap().unwrap(), write.cases[0]);
    assert!(s.case(2).unwrap().is_none());
    assert_eq!(s.case_posts(1).unwrap().len(), 2);
    let events = s.case_events(1).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].id < events[1].id);
    assert_eq!(events[0].event, write.events[0]);
    assert_eq!(s.max_case_id().unwrap(), 1);
    assert_eq!(s.last_published().unwrap(), Some(t(2)), "post \"22\" is published at t(2)");
    assert_eq!(s.stats().unwrap().cases, 1);
    assert_eq!(s.stats().unwrap().cases_by_status.get("new"), Some(&1));
    assert_eq!(s.recent_cases(t(10)).unwrap().len(), 1);
    assert!(s.recent_cases(t(11)).unwrap().is_empty());
    // A whole-row write keeps the last version of a case written twice.
    let twice = CaseWrite {
        cases: vec![case_row(1, "Gilt", "open", 50, None), case_row(1, "Gilt", "resolved", 60, None)],
        ..CaseWrite::default()
    };
    s.write_cases(&twice, t(200)).unwrap();
    assert_eq!(s.case(1).unwrap().unwrap().status, "resolved");
}

fn case_queue_is_scoped_filtered_and_ordered<P: Place>() {
    store!(p);
    let mut s = p.open();
    let cases = vec![
        case_row(1, "Gilt", "new", 40, Some(7200)),
        case_row(2, "Gilt", "open", 40, Some(3600)),
        case_row(3, "Gilt", "resolved", 90, None),
        case_row(4, "Brooks", "new", 80, Some(60)),
        case_row(5, "Gilt", "new", 70, None),
        CaseRow {
            assignee: Some("bo".into()),
            sentiment: Some("positive".into()),
            ..case_row(6, "Gilt", "new", 10, None)
        },
        CaseRow { merged_into: Some(1), ..case_row(7, "Gilt", "new", 99, None) },
    ];
    s.write_cases(&CaseWrite { cases, ..CaseWrite::default() }, t(0)).unwrap();
    let ids = |q: CaseQuery| s.cases(&q).unwrap().iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(CaseQuery::default()), vec![4, 5, 2, 1, 6], "priority, then due time; resolved and merged hidden");
    assert_eq!(ids(CaseQuery { brands: Some(vec!["gilt".into()]), ..CaseQuery::default() }), vec![5, 2, 1, 6]);
    assert_eq!(ids(CaseQuery { brands: Some(vec![]), ..CaseQuery::default() }), Vec::<i64>::new());
    assert_eq!(ids(CaseQuery { all: true, brand: Some("Gilt".into()), ..CaseQuery::default() }), vec![3, 5, 2, 1, 6]);
    assert_eq!(ids(CaseQuery { status: Some("open".into()), ..CaseQuery::default() }), vec![2]);
    assert_eq!(ids(CaseQuery { assignee: Some(String::new()), limit: Some(2), ..CaseQuery::default() }), vec![4, 5]);
    assert_eq!(ids(CaseQuery { assignee: Some("bo".into()), ..CaseQuery::default() }), vec![6]);
    assert_eq!(ids(CaseQuery { sentiment: Some("positive".into()), ..CaseQuery::default() }), vec![6]);
    assert_eq!(
        ids(CaseQuery { issue: Some("defect_or_damage".into()), offset: 3, ..CaseQuery::default() }),
        vec![1, 6]
    );
    assert_eq!(
        ids(CaseQuery { customer: Some("alice".into()), brand: Some("brooks".into()), ..CaseQuery::default() }),
        vec![4]
    );
}

/// However posts are split into batches and repeated, the store ends the same.
fn batching_does_not_change_the_result<P: Place>() {
    use proptest::test_runner::{Config, TestRunner};
    if P::new().is_none() {
        return;
    }
    let mut runner = TestRunner::new(Config { cases: P::CASES, ..Config::default() });
    let strategy = (proptest::collection::vec(0u8..40, 0..60), 1usize..20);
    runner
        .run(&strategy, |(ids, cut)| {
            let (whole_place, split_place) = (P::new().unwrap(), P::new().unwrap());
            let (mut whole, mut split) = (whole_place.open(), split_place.open());
            let posts: Vec<NewPost> = ids.iter().map(|i| post(&i.to_string(), "t")).collect();
            let o = whole.commit(&batch(posts.clone()), t(0)).unwrap();
            let mut stored = 0;
            for chunk in posts.chunks(cut) {
                stored += split.commit(&batch(chunk.to_vec()), t(0)).unwrap().stored;
            }
            proptest::prop_assert_eq!(o.stored, stored);
            proptest::prop_assert_eq!(o.stored + o.duplicates, ids.len() as u64);
            let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
            proptest::prop_assert_eq!(whole.stats().unwrap().posts, distinct.len() as u64);
            proptest::prop_assert_eq!(split.stats().unwrap().posts, distinct.len() as u64);
            let order =
                |s: &P::S| s.posts_after(0, 100).unwrap().into_iter().map(|p| p.post.native_id).collect::<Vec<_>>();
            proptest::prop_assert_eq!(order(&whole), order(&split), "ids follow first appearance");
            Ok(())
        })
        .unwrap();
}

fn analysis_row(priority: i64) -> AnalysisRow {
    AnalysisRow {
        versions: "v1".into(),
        compound: -0.5,
        sentiment: Some("negative".into()),
        complaint: Some(0.9),
        severity: Some(3),
        intent: Some("complaint".into()),
        issue: Some("defect_or_damage".into()),
        priority,
        json: format!("{{\"priority\":{priority},\"signals\":[{{\"kind\":\"churn_threat\"}}]}}"),
    }
}

fn analysis_is_stored_and_reanalyzed<P: Place>() {
    store!(p);
    let mut s = p.open();
    let mut p = post("1", "broken");
    p.analysis = Some(analysis_row(70));
    s.commit(&batch(vec![p, post("2", "fine")]), t(0)).unwrap();
    assert_eq!(s.stats().unwrap().analyzed, 1);
    assert_eq!(s.post("x", "1").unwrap().unwrap().analysis.unwrap()["priority"], 70);
    let mut seen = Vec::new();
    let n = s
        .reanalyze(1, &mut |p| {
            seen.push((p.post.native_id.clone(), p.brands.len()));
            analysis_row(10)
        })
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen, vec![("1".to_string(), 1), ("2".to_string(), 1)], "brands are filled for analyzers");
    assert_eq!(s.stats().unwrap().analyzed, 2);
    assert_eq!(s.post("x", "2").unwrap().unwrap().analysis.unwrap()["priority"], 10);
}

fn merging_moves_the_posts_to_the_case_that_remains<P: Place>() {
    store!(p);
    let mut s = p.open();
    s.commit(&batch(vec![post("1", "broken sandal"), post("22", "still broken")]), t(0)).unwrap();
    let ids: Vec<i64> = s.posts_after(0, 10).unwrap().iter().map(|p| p.id).collect();
    let link = |post_id, case_id| CaseLink { post_id, case_id, role: "customer".into(), rule: "new".into() };
    let write = CaseWrite {
        cases: vec![case_row(1, "Gilt", "new", 40, None), case_row(2, "Gilt", "new", 40, None)],
        links: vec![link(ids[0], 1), link(ids[1], 2)],
        ..CaseWrite::default()
    };
    s.write_cases(&write, t(1)).unwrap();
    let merged = CaseRow { merged_into: Some(1), ..case_row(2, "Gilt", "new", 40, None) };
    s.write_cases(&CaseWrite { cases: vec![merged], ..CaseWrite::default() }, t(2)).unwrap();
    assert_eq!(s.case_posts(1).unwrap().len(), 2);
    assert!(s.case_posts(2).unwrap().is_empty());
}

fn storms_alerts_and_snapshots_round_trip<P: Place>() {
    store!(p);
    let mut s = p.open();
    let storm = |id: &str, brand: &str, detected: i64, status: &str| StormRow {
        id: id.into(),
        brand: brand.into(),
        kind: "campaign".into(),
        facet: "hashtag".into(),
        key: "olivetsocial".into(),
        status: status.into(),
        started_at: t(detected - 60),
        detected_at: t(detected),
        last_post_at: t(detected + 60),
        closed_at: None,
        posts: 40,
        authors: 35,
        case_id: Some(1),
        data: serde_json::json!({"participants": ["a", "b"]}),
    };
    let alert = AlertRow {
        id: "d1".into(),
        storm_id: "s1".into(),
        brand: "Gymboree".into(),
        event: "storm.opened".into(),
        webhook: "ops".into(),
        state: "pending".into(),
        attempts: 0,
        created_at: t(10),
        next_at: None,
        sent_at: None,
        last_error: None,
        data: serde_json::json!({"body": "{}"}),
    };
    let write = CaseWrite {
        cases: vec![case_row(1, "Gymboree", "new", 90, None)],
        storms: vec![storm("s1", "Gymboree", 10, "open"), storm("s2", "Gilt", 20, "closed")],
        alerts: vec![alert.clone()],
        snapshot: Some(Snapshot { name: "storms".into(), through: 7, data: vec![1, 2, 3] }),
        ..CaseWrite::default()
    };
    s.write_cases(&write, t(30)).unwrap();
    let all: Vec<String> = s.storms(&StormQuery::default()).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(all, vec!["s2", "s1"], "newest detection first");
    let scoped = s.storms(&StormQuery { brands: Some(vec!["gymboree".into()]), ..StormQuery::default() }).unwrap();
    assert_eq!(scoped, vec![storm("s1", "Gymboree", 10, "open")]);
    assert!(s.storms(&StormQuery { brands: Some(vec![]), ..StormQuery::default() }).unwrap().is_empty());
    assert_eq!(s.storms(&StormQuery { open_only: true, ..StormQuery::default() }).unwrap().len(), 1);
    assert_eq!(s.storms(&StormQuery { brand: Some("Gilt".into()), ..StormQuery::default() }).unwrap().len(), 1);
    assert_eq!(s.storm("s2").unwrap(), Some(storm("s2", "Gilt", 20, "closed")));
    assert_eq!(s.snapshot("storms").unwrap().unwrap().data, vec![1, 2, 3]);
    assert!(s.snapshot("other").unwrap().is_none());
    // A storm written again is replaced whole; so is the snapshot.
    let grown =
        StormRow { posts: 80, closed_at: Some(t(99)), status: "closed".into(), ..storm("s1", "Gymboree", 10, "open") };
    let snap = Snapshot { name: "storms".into(), through: 9, data: vec![4] };
    s.write_cases(
        &CaseWrite { storms: vec![grown.clone()], snapshot: Some(snap.clone()), ..CaseWrite::default() },
        t(31),
    )
    .unwrap();
    assert_eq!(s.storm("s1").unwrap(), Some(grown));
    assert_eq!(s.snapshot("storms").unwrap(), Some(snap));

    // Queueing the same alert again keeps the first (its delivery state is the journal).
    assert_eq!(s.due_alerts(t(10), 10).unwrap(), vec![alert.clone()]);
    assert!(s.due_alerts(t(9), 10).unwrap().len() == 1, "no next time: due at once");
    let sent = AlertRow { state: "sent".into(), attempts: 1, sent_at: Some(t(11)), ..alert.clone() };
    s.update_alert(&sent).unwrap();
    s.write_cases(&CaseWrite { alerts: vec![alert.clone()], ..CaseWrite::default() }, t(40)).unwrap();
    assert!(s.due_alerts(t(100), 10).unwrap().is_empty());
    assert_eq!(s.alerts(Some(&["Gymboree".to_string()]), Some("s1"), 10).unwrap(), vec![sent]);
    assert!(s.alerts(Some(&["Gilt".to_string()]), None, 10).unwrap().is_empty());
    assert!(s.alerts(Some(&[]), None, 10).unwrap().is_empty());
    let retry = AlertRow { id: "d2".into(), next_at: Some(t(50)), ..alert };
    s.write_cases(&CaseWrite { alerts: vec![retry.clone()], ..CaseWrite::default() }, t(40)).unwrap();
    assert!(s.due_alerts(t(49), 10).unwrap().is_empty(), "not before its next try");
    assert_eq!(s.due_alerts(t(50), 10).unwrap(), vec![retry]);
    assert_eq!(s.alerts(None, None, 10).unwrap().len(), 2);
}

fn posts_round_trip_every_field<P: Place>() {
    store!(p);
    let mut s = p.open();
    let mut np = post("7", "Thanks @gilt! #love https://x.co/a");
    np.post.url = Some("https://x.com/alice/status/7".into());
    np.post.author = Author {
        id: Some("u1".into()),
        handle: "alice".into(),
        display_name: Some("Alice Ä".into()),
        followers: Some(1234),
        url: Some("https://x.com/alice".into()),
        care_account: Some(false),
    };
    np.post.kind = earshot_core::PostKind::Reply;
    np.post.reply_to = Some("6".into());
    np.post.reply_to_author = Some("gilt".into());
    np.post.conversation_id = Some("5".into());
    np.post.references = Some("quote:4".into());
    np.post.hashtags = vec!["love".into()];
    np.post.links = vec!["https://x.co/a".into()];
    np.post.metrics.likes = Some(3);
    np.post.published_at = Utc.timestamp_millis_opt(1_500_000_000_123).unwrap();
    np.brand_author = Some("Gilt".into());
    np.brands = vec![
        Attribution { brand: "Gilt".into(), via: Via::Reply },
        Attribution { brand: "Acme".into(), via: Via::Keyword },
    ];
    s.commit(&batch(vec![np.clone(), post("6", "parent")]), t(5)).unwrap();
    let got = s.post("x", "7").unwrap().unwrap();
    assert_eq!(got.post, np.post);
    assert_eq!(got.ingested_at, t(5));
    assert_eq!(got.brand_author.as_deref(), Some("Gilt"));
    assert_eq!(got.brands, vec![np.brands[1].clone(), np.brands[0].clone()], "brands by name");
    assert_eq!(got.deleted_at, None);
    assert!(got.analysis.is_none());
    assert!(s.post("x", "8").unwrap().is_none());
    assert!(s.post("mastodon", "7").unwrap().is_none());
    let st = s.stats().unwrap();
    assert_eq!(st.replies_linked, 1);
    assert_eq!(st.by_platform.get("x"), Some(&2));
    assert_eq!(st.by_format.get("test"), Some(&2));
    assert_eq!(st.first_published, Some(np.post.published_at));
    assert_eq!(st.last_published, Some(t(1)), "post \"6\" is published at t(1)");
}

fn text_with_a_nul_byte_is_stored<P: Place>() {
    store!(p);
    let mut s = p.open();
    let mut np = post("1", "bad\0byte broken");
    np.post.raw = "{\"text\":\"bad\0byte\"}".into();
    let o = s.commit(&batch(vec![np.clone()]), t(0)).unwrap();
    assert_eq!(o.stored, 1, "a NUL in input text does not fail the batch");
    let got = s.post("x", "1").unwrap().unwrap();
    assert_eq!(got.post.raw, np.post.raw, "the raw record is kept exactly");
    assert!(got.post.text.starts_with("bad") && got.post.text.ends_with("byte broken"));
}

fn accounts_round_trip<P: Place>() {
    store!(p);
    let mut s = p.open();
    let ann = UserRow {
        id: 0,
        name: "Ann".into(),
        role: "agent".into(),
        brands: vec!["Gilt".into()],
        password_hash: Some("$argon2id$v=19$x".into()),
    };
    let id = s.add_user(&ann, t(0)).unwrap();
    assert!(s.add_user(&UserRow { name: "ANN".into(), ..ann.clone() }, t(0)).is_err(), "names are unique, any case");
    let bo =
        s.add_user(&UserRow { name: "bo".into(), password_hash: None, brands: vec!["*".into()], ..ann.clone() }, t(0));
    let bo = bo.unwrap();
    assert_ne!(id, bo);
    let found = s.user_by_name("ann").unwrap().unwrap();
    assert_eq!(found, UserRow { id, ..ann.clone() });
    assert_eq!(s.users().unwrap().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), vec!["Ann", "bo"]);
    s.add_token(id, "hash-of-token", t(0)).unwrap();
    assert_eq!(s.user_by_token("hash-of-token").unwrap().map(|u| u.id), Some(id));
    assert!(s.user_by_token("other").unwrap().is_none());
    s.add_session("sess", bo, "csrf1", t(100)).unwrap();
    let live = s.session("sess", t(99)).unwrap().unwrap();
    assert_eq!((live.user.id, live.csrf.as_str(), live.expires_at), (bo, "csrf1", t(100)));
    assert!(s.session("sess", t(100)).unwrap().is_none(), "expired");
    s.delete_session("sess").unwrap();
    assert!(s.session("sess", t(0)).unwrap().is_none());
}

fn conversation_rows_cover_a_time_range<P: Place>() {
    store!(p);
    let mut s = p.open();
    let mut a = post("1", "broken");
    a.analysis = Some(analysis_row(70));
    a.brands.push(Attribution { brand: "Acme".into(), via: Via::Keyword });
    let mut b = post("22", "thanks");
    b.post.reply_to = Some("1".into());
    b.post.author.care_account = Some(true);
    b.brand_author = Some("Gilt".into());
    s.commit(&batch(vec![b, a, post("333", "later")]), t(0)).unwrap();
    let rows = s.conversation_rows(None, None).unwrap();
    assert_eq!(rows.iter().map(|r| r.native_id.as_str()).collect::<Vec<_>>(), vec!["1", "22", "333"], "by time");
    assert_eq!(rows[0].brands.iter().map(|b| b.brand.as_str()).collect::<Vec<_>>(), vec!["Acme", "Gilt"]);
    assert_eq!((rows[0].churn, rows[0].loyalty, rows[0].compound), (true, false, Some(-0.5)));
    assert_eq!(rows[0].sentiment.as_deref(), Some("negative"));
    assert_eq!(rows[0].mentions, vec!["gilt"]);
    assert_eq!((rows[1].author_care, rows[1].brand_author.as_deref()), (Some(true), Some("Gilt")));
    assert_eq!(rows[1].reply_to.as_deref(), Some("1"));
    assert_eq!((rows[1].churn, rows[1].compound), (false, None));
    let mid = s.conversation_rows(Some(t(2)), Some(t(3))).unwrap();
    assert_eq!(mid.iter().map(|r| r.native_id.as_str()).collect::<Vec<_>>(), vec!["22"], "[since, until)");
}

fn storm_members_and_cases_of_posts<P: Place>() {
    store!(p);
    let mut s = p.open();
    s.commit(&batch(vec![post("1", "a"), post("22", "b"), post("333", "c")]), t(0)).unwrap();
    let ids: Vec<i64> = s.posts_after(0, 10).unwrap().iter().map(|p| p.id).collect();
    let link = |post_id, case_id| CaseLink { post_id, case_id, role: "customer".into(), rule: "new".into() };
    let storm_case = CaseRow { kind: "storm".into(), ..case_row(9, "Gilt", "new", 95, None) };
    let write = CaseWrite {
        cases: vec![
            CaseRow { opened_at: t(5), ..case_row(1, "Gilt", "new", 40, None) },
            case_row(2, "Gilt", "new", 40, None),
            storm_case,
        ],
        links: vec![link(ids[0], 1), link(ids[1], 2), link(ids[0], 2)],
        storm_members: vec![(1, 9), (2, 9), (9, 9)],
        ..CaseWrite::default()
    };
    s.write_cases(&write, t(1)).unwrap();
    assert_eq!(s.cases_of_posts(&[ids[2], ids[1], ids[0]]).unwrap(), vec![(ids[1], 2), (ids[0], 1)], "first link wins");
    assert!(s.cases_of_posts(&[]).unwrap().is_empty());
    let members: Vec<i64> = s.storm_members(9, 10).unwrap().iter().map(|c| c.id).collect();
    assert_eq!(members, vec![2, 1], "oldest first; a storm case is not its own member");
    assert_eq!(s.storm_members(9, 1).unwrap().len(), 1);
    assert_eq!(s.cases(&CaseQuery::default()).unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), vec![9]);
    let with_members = CaseQuery { storm_members: true, ..CaseQuery::default() };
    assert_eq!(s.cases(&with_members).unwrap().len(), 3);
    // A whole-row write of a member leaves its storm as stored.
    s.write_cases(&CaseWrite { cases: vec![case_row(1, "Gilt", "open", 41, None)], ..CaseWrite::default() }, t(2))
        .unwrap();
    assert_eq!(s.case(1).unwrap().unwrap().storm_case, Some(9));
}

fn source_states_round_trip<P: Place>() {
    store!(p);
    let mut s = p.open();
    let state = |name: &str, cursor: Option<&str>| SourceState {
        name: name.into(),
        kind: "mastodon".into(),
        url: "https://mastodon.example/api/v1/streaming".into(),
        cursor: cursor.map(str::to_string),
        status: "connected".into(),
        status_since: t(1),
        last_post_at: Some(t(2)),
        lag_ms: Some(250),
        records: 10,
        stored: 8,
        rejected: 1,
        errors: 0,
        reconnects: 2,
        gaps: 0,
        last_error: None,
        updated_at: t(3),
    };
    assert!(s.source_state("masto").unwrap().is_none());
    s.save_source_state(&state("masto", Some("100"))).unwrap();
    s.save_source_state(&state("feed", None)).unwrap();
    let moved = SourceState {
        status: "backing_off".into(),
        last_error: Some("HTTP 503".into()),
        ..state("masto", Some("120"))
    };
    s.save_source_state(&moved).unwrap();
    assert_eq!(s.source_state("masto").unwrap(), Some(moved.clone()));
    assert_eq!(s.source_states().unwrap(), vec![state("feed", None), moved], "by name");
    let bad = SourceState { status: "exploded".into(), ..state("x", None) };
    assert!(s.save_source_state(&bad).is_err(), "an unknown status is refused");
}

fn remedy_counts_per_brand<P: Place>() {
    store!(p);
    let mut s = p.open();
    let with = |mut c: CaseRow, opened: i64, remedies: serde_json::Value| {
        c.opened_at = t(opened);
        c.data = serde_json::json!({"case": {"id": c.id, "remedies": remedies}});
        c
    };
    let cases = vec![
        with(case_row(1, "Gilt", "open", 40, None), 0, serde_json::json!(["refund", "discount"])),
        with(case_row(2, "Gilt", "resolved", 40, None), 5, serde_json::json!(["refund"])),
        with(
            CaseRow { kind: "storm".into(), ..case_row(3, "Brooks", "new", 90, None) },
            5,
            serde_json::json!(["refund"]),
        ),
        with(case_row(4, "Brooks", "new", 40, None), 5, serde_json::json!([])),
        with(case_row(5, "Brooks", "new", 40, None), 100, serde_json::json!(["replacement", 3])),
        case_row(6, "Brooks", "new", 40, None),
    ];
    s.write_cases(&CaseWrite { cases, ..CaseWrite::default() }, t(0)).unwrap();
    let row = |b: &str, r: &str, n: u64| (b.to_string(), r.to_string(), n);
    assert_eq!(
        s.remedy_counts(None, None).unwrap(),
        vec![row("Brooks", "replacement", 1), row("Gilt", "discount", 1), row("Gilt", "refund", 2)],
        "customer cases only, text remedies only, by brand then remedy"
    );
    assert_eq!(s.remedy_counts(Some(t(1)), Some(t(100))).unwrap(), vec![row("Gilt", "refund", 1)], "[since, until)");
}

fn fact(thread: &str, brand: &str, post_id: i64, published: i64, first_reply: Option<i64>) -> ReportFact {
    ReportFact {
        thread: thread.into(),
        brand: brand.into(),
        post_id,
        platform: "x".into(),
        customer: "alice".into(),
        published_ms: published,
        prev_published_ms: None,
        first_reply_ms: first_reply,
        brand_posts: i64::from(first_reply.is_some()),
        resolution: first_reply.map(|_| true),
        recovery: first_reply.map(|_| 0.25),
        after_any: false,
        after_loyal: false,
        after_churn: false,
        about_ms: None,
        about_loyal_ms: None,
        about_churn_ms: None,
    }
}

fn report_facts_round_trip<P: Place>() {
    store!(p);
    let mut s = p.open();
    assert_eq!(s.report_state().unwrap(), None, "no facts before the first refresh");
    let mut reply = post("22", "a reply");
    reply.post.reply_to = Some("1".into());
    s.commit(&batch(vec![post("1", "opener"), reply, post("333", "another")]), t(0)).unwrap();
    let new = s.report_new_rows(0, 10).unwrap();
    let ids: Vec<i64> = new.iter().map(|(r, _)| r.id).collect();
    assert_eq!(
        new.iter().map(|(r, t)| (r.native_id.as_str(), t.clone())).collect::<Vec<_>>(),
        vec![("1", None), ("22", None), ("333", None)]
    );
    assert_eq!(s.report_new_rows(ids[0], 1).unwrap()[0].0.native_id, "22", "after an id, at most limit");
    assert_eq!(new[0].0.mentions, vec!["gilt"]);

    let care = |handle: &str, published: i64, id: i64| ReportCare {
        platform: "x".into(),
        handle_norm: handle.to_lowercase(),
        brand_author: String::new(),
        handle: handle.into(),
        published_ms: published,
        post_id: id,
    };
    let pair = |published: i64| ReportPair {
        platform: "x".into(),
        replier: "helpdesk".into(),
        customer: "alice".into(),
        replier_brand_author: String::new(),
        customer_brand_author: String::new(),
        replier_handle: format!("HelpDesk{published}"),
        published_ms: published,
        post_id: published,
    };
    let about = |last: i64, loyal: Option<i64>| ReportAbout {
        platform: "x".into(),
        customer: "alice".into(),
        brand: "Gilt".into(),
        last_ms: last,
        last_loyal_ms: loyal,
        last_churn_ms: None,
    };
    let state = |through: i64| ReportState { fingerprint: "fp".into(), through_id: through, posts: 3 };
    s.write_report(&ReportWrite {
        threads: vec![(ids[0], "x\u{1f}1".into()), (ids[1], "x\u{1f}1".into()), (ids[2], "x\u{1f}333".into())],
        care: vec![care("GiltCare", 50, 9)],
        pairs: vec![pair(40)],
        facts: vec![
            fact("x\u{1f}1", "Gilt", ids[0], 1000, Some(61_000)),
            fact("x\u{1f}333", "Gilt", ids[2], 3000, None),
        ],
        about: vec![about(5000, None)],
        state: Some(state(ids[2])),
        ..ReportWrite::default()
    })
    .unwrap();
    // Upserts keep the earliest discovery inputs and the latest about-times.
    s.write_report(&ReportWrite {
        care: vec![care("GILTCARE", 20, 8), care("other", 70, 7)],
        pairs: vec![pair(60), pair(30)],
        about: vec![about(4000, Some(4500))],
        ..ReportWrite::default()
    })
    .unwrap();
    assert_eq!(s.report_state().unwrap(), Some(state(ids[2])));
    let inputs = s.report_account_inputs(1).unwrap();
    assert_eq!(inputs.care, vec![care("GILTCARE", 20, 8), care("other", 70, 7)], "earliest per key, earliest first");
    assert_eq!(inputs.pairs, vec![pair(30)]);
    assert!(s.report_account_inputs(2).unwrap().pairs.is_empty(), "a replier with fewer customers cannot be a brand");
    assert_eq!(s.report_new_rows(0, 10).unwrap()[1].1.as_deref(), Some("x\u{1f}1"), "with its thread");
    let parents = s.report_rows_by_native("x", &["1".into(), "nope".into()]).unwrap();
    assert_eq!(
        parents.iter().map(|(r, t)| (r.id, t.clone())).collect::<Vec<_>>(),
        vec![(ids[0], Some("x\u{1f}1".into()))]
    );
    assert_eq!(s.report_children("x", &["1".into()], ids[2]).unwrap(), vec![("1".into(), "x\u{1f}1".into())]);
    assert!(s.report_children("x", &["1".into()], ids[0]).unwrap().is_empty(), "only replies up to max_id");
    assert_eq!(s.report_threads(None, 10).unwrap(), vec!["x\u{1f}1", "x\u{1f}333"]);
    assert_eq!(s.report_threads(Some("x\u{1f}1"), 10).unwrap(), vec!["x\u{1f}333"], "after, in key order");
    let mut rows: Vec<(String, String)> =
        s.report_thread_rows(&["x\u{1f}1".into()]).unwrap().into_iter().map(|(t, r)| (t, r.native_id)).collect();
    rows.sort();
    assert_eq!(rows, vec![("x\u{1f}1".into(), "1".into()), ("x\u{1f}1".into(), "22".into())]);

    let facts = s.report_facts(None, None).unwrap();
    assert_eq!(facts.answered.len(), 1);
    let answered = &facts.answered[0];
    assert_eq!(
        (answered.post_id, answered.first_reply_ms, answered.about_ms, answered.about_loyal_ms, answered.recovery),
        (ids[0], Some(61_000), Some(5000), Some(4500), Some(0.25)),
        "the customer's latest posts about the brand come with answered facts"
    );
    let day = |brand: &str, n: u64| UnansweredDay { brand: brand.into(), day_ms: 0, inbound: n };
    assert_eq!(facts.unanswered, vec![day("Gilt", 1)], "unanswered ones counted per UTC day");
    let since = |ms: i64| Some(Utc.timestamp_millis_opt(ms).unwrap());
    let mid = s.report_facts(since(1000), since(3000)).unwrap();
    assert_eq!((mid.answered.len(), mid.unanswered.len()), (1, 0), "[since, until) on the inbound's time");
    // A later opener of the same thread counts only when the earlier one is before the period.
    let later = ReportFact { prev_published_ms: Some(3000), ..fact("x\u{1f}333", "Gilt", ids[1], 4000, None) };
    s.write_report(&ReportWrite { facts: vec![later], ..ReportWrite::default() }).unwrap();
    assert_eq!(s.report_facts(None, None).unwrap().unanswered, vec![day("Gilt", 1)]);
    assert_eq!(s.report_facts(since(3500), None).unwrap().unanswered, vec![day("Gilt", 1)]);
    assert_eq!(s.report_facts(since(2000), None).unwrap().unanswered, vec![day("Gilt", 1)], "the earlier one counts");

    // A late parent joins a thread: its posts move and its facts go; replaced facts are replaced.
    s.write_report(&ReportWrite {
        renames: vec![("x\u{1f}333".into(), "x\u{1f}1".into())],
        replace_facts_of: vec!["x\u{1f}1".into()],
        facts: vec![fact("x\u{1f}1", "Gilt", ids[0], 1000, None)],
        ..ReportWrite::default()
    })
    .unwrap();
    assert_eq!(s.report_threads(None, 10).unwrap(), vec!["x\u{1f}1"]);
    assert_eq!(s.report_thread_rows(&["x\u{1f}1".into()]).unwrap().len(), 3);
    let facts = s.report_facts(None, None).unwrap();
    assert!(facts.answered.is_empty(), "replaced");
    assert_eq!(facts.unanswered, vec![day("Gilt", 1)], "the late parent's thread keeps only its new facts");
    s.write_report(&ReportWrite { reset_facts: true, ..ReportWrite::default() }).unwrap();
    assert_eq!(s.report_facts(None, None).unwrap(), ReportFacts::default());
    assert_eq!(s.report_threads(None, 10).unwrap().len(), 1, "a reset keeps the threads");
}

fn storm_responses_per_brand<P: Place>() {
    store!(p);
    let mut s = p.open();
    let storm = |id: &str, brand: &str, started: i64, detected: i64, case_id: i64| StormRow {
        id: id.into(),
        brand: brand.into(),
        kind: "volume".into(),
        facet: "all".into(),
        key: String::new(),
        status: "open".into(),
        started_at: t(started),
        detected_at: t(detected),
        last_post_at: t(detected + 60),
        closed_at: None,
        posts: 40,
        authors: 35,
        case_id: Some(case_id),
        data: serde_json::json!({}),
    };
    let answered = |mut c: CaseRow, at: Option<i64>| {
        c.first_response_at = at.map(t);
        c
    };
    let storm_case = |id: i64, brand: &str| CaseRow { kind: "storm".into(), ..case_row(id, brand, "new", 95, None) };
    let write = CaseWrite {
        cases: vec![
            storm_case(10, "Gilt"),
            answered(case_row(11, "Gilt", "open", 40, None), Some(500)),
            answered(case_row(12, "Gilt", "open", 40, None), Some(90)), // before the onset: not an answer to it
            answered(case_row(13, "Gilt", "open", 40, None), Some(400)),
            storm_case(20, "Brooks"),
            case_row(21, "Brooks", "open", 40, None),
            answered(storm_case(30, "Gilt"), Some(2000)),
        ],
        storms: vec![
            storm("s1", "Gilt", 100, 200, 10),
            storm("s2", "Brooks", 100, 300, 20),
            storm("s3", "Gilt", 1000, 1500, 30),
        ],
        storm_members: vec![(11, 10), (12, 10), (13, 10), (21, 20)],
        ..CaseWrite::default()
    };
    s.write_cases(&write, t(3000)).unwrap();
    let ms = |secs: i64| t(secs).timestamp_millis();
    let view: Vec<(String, String, i64, Option<i64>)> = s
        .storm_responses(None, None)
        .unwrap()
        .into_iter()
        .map(|r| (r.brand, r.storm_id, r.started_ms, r.first_answer_ms))
        .collect();
    assert_eq!(
        view,
        vec![
            ("Brooks".into(), "s2".into(), ms(100), None),
            ("Gilt".into(), "s1".into(), ms(100), Some(ms(400))),
            ("Gilt".into(), "s3".into(), ms(1000), Some(ms(2000))),
        ]
    );
    let mid = s.storm_responses(Some(t(250)), Some(t(1500))).unwrap();
    assert_eq!(mid.iter().map(|r| r.storm_id.as_str()).collect::<Vec<_>>(), vec!["s2"], "detected in [since, until)");
}

fn report_lease_is_held_by_one_at_a_time<P: Place>() {
    store!(p);
    let mut s = p.open();
    assert!(s.report_lease("a", t(0), Some(t(60))).unwrap(), "free");
    assert!(!s.report_lease("b", t(10), Some(t(70))).unwrap(), "held by a");
    assert!(s.report_lease("a", t(20), Some(t(80))).unwrap(), "a renews");
    assert!(!s.report_lease("b", t(79), Some(t(100))).unwrap(), "renewed until 80");
    assert!(s.report_lease("b", t(80), Some(t(100))).unwrap(), "expired: b takes it");
    assert!(s.report_lease("b", t(81), None).unwrap(), "b releases");
    assert!(s.report_lease("a", t(82), Some(t(90))).unwrap(), "released: a takes it");
    assert!(s.report_lease("b", t(83), None).unwrap());
    assert!(!s.report_lease("b", t(84), Some(t(90))).unwrap(), "only the holder releases");
}

/// The change feed hears another connection's commits of posts and of cases, once per transaction however many
/// rows it holds; it stays quiet for writes the inbox does not show (a source's cursor, a login session); and a
/// change this process says it wrote is reported once, not again when the backend echoes it.
fn the_change_feed_reports_commits_once<P: Place>() {
    use std::time::Duration;
    store!(p);
    let mut s = p.open();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let feed = p.feed(move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    assert!(feed.wait_connected(Duration::from_secs(10)), "{:?}", feed.status());
    let next = || rx.recv_timeout(Duration::from_secs(10)).expect("a report within 10 s");
    // Whatever arrives within this long after the last report would be a duplicate (the SQLite feed polls
    // every 500 ms; notifications arrive in milliseconds).
    let quiet = |what: &str| match rx.recv_timeout(Duration::from_millis(1500)) {
        Err(_) => {}
        Ok(e) => panic!("{what}: unexpected {e:?}"),
    };

    s.commit(&batch((0..50).map(|i| post(&format!("p{i}"), "broken sandal")).collect()), t(0)).unwrap();
    assert_eq!(next(), FeedEvent::Changed(Change::Posts));
    quiet("50 posts in one batch are one report");
    let opened =
        |case_id| CaseEvent { case_id, at: t(1), kind: "opened".into(), actor: None, data: serde_json::json!({}) };
    let write = CaseWrite {
        cases: vec![case_row(1, "Gilt", "new", 40, None), case_row(2, "Gilt", "new", 40, None)],
        events: vec![opened(1), opened(2)],
        threaded_through: Some(50),
        ..CaseWrite::default()
    };
    s.write_cases(&write, t(2)).unwrap();
    assert_eq!(next(), FeedEvent::Changed(Change::Cases));
    quiet("two cases in one write are one report");

    let cursor = SourceState {
        name: "masto".into(),
        kind: "mastodon".into(),
        url: "https://mastodon.example/api/v1/streaming".into(),
        cursor: Some("100".into()),
        status: "connected".into(),
        status_since: t(1),
        last_post_at: None,
        lag_ms: None,
        records: 0,
        stored: 0,
        rejected: 0,
        errors: 0,
        reconnects: 0,
        gaps: 0,
        last_error: None,
        updated_at: t(3),
    };
    s.save_source_state(&cursor).unwrap();
    let user = UserRow { id: 0, name: "ann".into(), role: "agent".into(), brands: vec![], password_hash: None };
    let uid = s.add_user(&user, t(3)).unwrap();
    s.add_session("h", uid, "c", t(9_999)).unwrap();
    quiet("cursors, users and sessions are not inbox changes");

    // An agent's action in this process: the store writes it, the server says so.
    s.write_cases(&CaseWrite { events: vec![opened(1)], ..CaseWrite::default() }, t(4)).unwrap();
    feed.wrote(Change::Cases);
    assert_eq!(next(), FeedEvent::Changed(Change::Cases));
    quiet("this process's own change is reported once");
    assert!(feed.status().connected);
    assert_eq!(feed.status().changes, 3);
}
