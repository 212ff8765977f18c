use super::*;
use crate::{AlertRow, AnalysisRow, CaseLink, NewPost, NewReject, Snapshot, StormQuery, StormRow};
use earshot_core::Deletion;
use proptest::prelude::*;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_500_000_000 + secs, 0).unwrap()
}

fn post(id: &str, text: &str) -> NewPost {
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

fn batch(posts: Vec<NewPost>) -> Batch {
    Batch { posts, ..Batch::default() }
}

#[test]
fn a_post_is_stored_once() {
    let mut s = SqliteStore::open_in_memory().unwrap();
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
}

#[test]
fn full_text_search_and_brand_filter() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.commit(&batch(vec![post("1", "my sandal broke"), post("22", "tights ripped")]), t(0)).unwrap();
    let q = |search: &str| PostQuery { search: Some(search.into()), limit: 10, ..PostQuery::default() };
    let found = s.posts(&q("sandal")).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].post.native_id, "1");
    assert_eq!(s.posts(&q("can't \"(")).unwrap().len(), 0, "FTS syntax in user input is harmless");
    assert_eq!(s.posts(&q("!!!")).unwrap().len(), 2, "no words means no filter");
    let by_brand = s.posts(&PostQuery { brand: Some("gilt".into()), limit: 10, ..PostQuery::default() }).unwrap();
    assert_eq!(by_brand.len(), 2);
    assert_eq!(by_brand[0].post.native_id, "22", "newest first");
}

#[test]
fn rejects_are_kept_once() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let r = NewReject {
        source: "a.jsonl".into(),
        position: Position { line: 3, byte: 120, record: 2 },
        within: None,
        format: "jsonl".into(),
        reason: "invalid JSON".into(),
        raw: b"{oops".to_vec(),
    };
    let b = Batch { rejects: vec![r.clone()], ..Batch::default() };
    assert_eq!(s.commit(&b, t(0)).unwrap().rejects_new, 1);
    assert_eq!(s.commit(&b, t(1)).unwrap().rejects_new, 0);
    let stored = s.rejects(10).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].reject, r);
}

#[test]
fn deletions_mark_posts_in_either_order() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let del = |id: &str| {
        (
            Deletion { platform: Platform::X, native_id: id.into(), deleted_at: Some(t(9)), raw: "{}".into() },
            "s".to_string(),
        )
    };
    s.commit(&batch(vec![post("1", "a")]), t(0)).unwrap();
    s.commit(&Batch { deletions: vec![del("1"), del("2")], ..Batch::default() }, t(1)).unwrap();
    s.commit(&batch(vec![post("2", "b")]), t(2)).unwrap();
    assert_eq!(s.post("x", "1").unwrap().unwrap().deleted_at, Some(t(9)));
    assert_eq!(s.post("x", "2").unwrap().unwrap().deleted_at, Some(t(9)));
    assert_eq!(s.stats().unwrap().deletions, 2);
}

#[test]
fn brands_round_trip() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let b = BrandConfig { name: "Gilt".into(), handles: vec!["@gilt".into()], ..BrandConfig::default() };
    s.upsert_brands(std::slice::from_ref(&b), t(0)).unwrap();
    s.upsert_brands(std::slice::from_ref(&b), t(1)).unwrap();
    assert_eq!(s.brands().unwrap(), vec![b]);
    assert_eq!(s.stats().unwrap().brands, 1);
}

#[test]
fn reopening_a_file_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    SqliteStore::open(&path).unwrap().commit(&batch(vec![post("1", "a")]), t(0)).unwrap();
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.stats().unwrap().posts, 1);
    assert_eq!(s.schema_version().unwrap(), 8);
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

#[test]
fn cases_round_trip_with_links_events_and_progress() {
    let mut s = SqliteStore::open_in_memory().unwrap();
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
    assert_eq!(s.case_posts(1).unwrap().len(), 2);
    assert_eq!(s.case_events(1).unwrap().len(), 2);
    assert_eq!(s.max_case_id().unwrap(), 1);
    assert_eq!(s.last_published().unwrap(), Some(t(2)), "post \"22\" is published at t(2)");
    assert_eq!(s.stats().unwrap().cases, 1);
}

#[test]
fn case_queue_is_scoped_filtered_and_ordered() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let cases = vec![
        case_row(1, "Gilt", "new", 40, Some(7200)),
        case_row(2, "Gilt", "open", 40, Some(3600)),
        case_row(3, "Gilt", "resolved", 90, None),
        case_row(4, "Brooks", "new", 80, Some(60)),
        case_row(5, "Gilt", "new", 70, None),
    ];
    s.write_cases(&CaseWrite { cases, ..CaseWrite::default() }, t(0)).unwrap();
    let ids = |q: CaseQuery| s.cases(&q).unwrap().iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(CaseQuery::default()), vec![4, 5, 2, 1], "priority, then due time; resolved hidden");
    assert_eq!(ids(CaseQuery { brands: Some(vec!["gilt".into()]), ..CaseQuery::default() }), vec![5, 2, 1]);
    assert_eq!(ids(CaseQuery { brands: Some(vec![]), ..CaseQuery::default() }), Vec::<i64>::new());
    assert_eq!(ids(CaseQuery { all: true, brand: Some("Gilt".into()), ..CaseQuery::default() }), vec![3, 5, 2, 1]);
    assert_eq!(ids(CaseQuery { status: Some("open".into()), ..CaseQuery::default() }), vec![2]);
    assert_eq!(ids(CaseQuery { assignee: Some(String::new()), limit: Some(2), ..CaseQuery::default() }), vec![4, 5]);
}

proptest! {
    /// However posts are split into batches and repeated, the store ends the same.
    #[test]
    fn batching_does_not_change_the_result(ids in proptest::collection::vec(0u8..40, 0..60), cut in 1usize..20) {
        let mut whole = SqliteStore::open_in_memory().unwrap();
        let mut split = SqliteStore::open_in_memory().unwrap();
        let posts: Vec<NewPost> = ids.iter().map(|i| post(&i.to_string(), "t")).collect();
        let o = whole.commit(&batch(posts.clone()), t(0)).unwrap();
        let mut stored = 0;
        for chunk in posts.chunks(cut) {
            stored += split.commit(&batch(chunk.to_vec()), t(0)).unwrap().stored;
        }
        prop_assert_eq!(o.stored, stored);
        prop_assert_eq!(o.stored + o.duplicates, ids.len() as u64);
        let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
        prop_assert_eq!(whole.stats().unwrap().posts, distinct.len() as u64);
        prop_assert_eq!(split.stats().unwrap().posts, distinct.len() as u64);
    }
}

#[test]
fn analysis_is_stored_and_reanalyzed() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let row = |priority: i64| AnalysisRow {
        versions: "v1".into(),
        compound: -0.5,
        sentiment: Some("negative".into()),
        complaint: Some(0.9),
        severity: Some(3),
        intent: Some("complaint".into()),
        issue: Some("defect_or_damage".into()),
        priority,
        json: format!("{{\"priority\":{priority}}}"),
    };
    let mut p = post("1", "broken");
    p.analysis = Some(row(70));
    s.commit(&batch(vec![p, post("2", "fine")]), t(0)).unwrap();
    assert_eq!(s.stats().unwrap().analyzed, 1);
    assert_eq!(s.post("x", "1").unwrap().unwrap().analysis.unwrap()["priority"], 70);
    let mut seen = Vec::new();
    let n = s
        .reanalyze(1, &mut |p| {
            seen.push((p.post.native_id.clone(), p.brands.len()));
            row(10)
        })
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen, vec![("1".to_string(), 1), ("2".to_string(), 1)], "brands are filled for analyzers");
    assert_eq!(s.stats().unwrap().analyzed, 2);
    assert_eq!(s.post("x", "2").unwrap().unwrap().analysis.unwrap()["priority"], 10);
}

/// The inbox's queries must read their order off an index: on 1M cases a sort of every active case took
/// seconds per page. `EXPLAIN QUERY PLAN` says `USE TEMP B-TREE FOR ORDER BY` when SQLite has to sort.
#[test]
fn inbox_queries_read_the_queue_order_off_an_index() {
    let s = SqliteStore::open_in_memory().unwrap();
    let plan = |q: CaseQuery| -> String {
        let (sql, args) = case_list_sql(&q).unwrap();
        let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter().map(|b| b.as_ref())), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join(" | ")
    };
    let uses = |q: CaseQuery, index: &str| {
        let p = plan(q);
        assert!(p.contains(index), "expected {index}: {p}");
    };
    uses(CaseQuery::default(), "cases_status_queue");
    uses(CaseQuery { all: true, ..CaseQuery::default() }, "cases_all_queue");
    uses(CaseQuery { status: Some("resolved".into()), ..CaseQuery::default() }, "cases_status_queue");
    uses(CaseQuery { brand: Some("Gilt".into()), ..CaseQuery::default() }, "cases_active_brand_queue");
    uses(
        CaseQuery { brands: Some(vec!["Gilt".into(), "Brooks".into()]), ..CaseQuery::default() },
        "cases_active_brand_queue",
    );
    uses(CaseQuery { issue: Some("refund_or_billing".into()), ..CaseQuery::default() }, "cases_active_issue_queue");
    uses(CaseQuery { sentiment: Some("negative".into()), ..CaseQuery::default() }, "cases_active_sentiment_queue");
    uses(CaseQuery { assignee: Some(String::new()), ..CaseQuery::default() }, "cases_active_assignee_queue");
    uses(
        CaseQuery { brand: Some("Gilt".into()), customer: Some("ann".into()), all: true, ..CaseQuery::default() },
        "cases_customer",
    );
}

#[test]
fn merging_moves_the_posts_to_the_case_that_remains() {
    let mut s = SqliteStore::open_in_memory().unwrap();
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

#[test]
fn storms_alerts_and_snapshots_round_trip() {
    let mut s = SqliteStore::open_in_memory().unwrap();
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
    assert_eq!(s.snapshot("storms").unwrap().unwrap().data, vec![1, 2, 3]);
    assert!(s.snapshot("other").unwrap().is_none());

    // Queueing the same alert again keeps the first (its delivery state is the journal).
    assert_eq!(s.due_alerts(t(10), 10).unwrap(), vec![alert.clone()]);
    let sent = AlertRow { state: "sent".into(), attempts: 1, sent_at: Some(t(11)), ..alert.clone() };
    s.update_alert(&sent).unwrap();
    s.write_cases(&CaseWrite { alerts: vec![alert], ..CaseWrite::default() }, t(40)).unwrap();
    assert!(s.due_alerts(t(100), 10).unwrap().is_empty());
    assert_eq!(s.alerts(Some(&["Gymboree".to_string()]), Some("s1"), 10).unwrap(), vec![sent]);
    assert!(s.alerts(Some(&["Gilt".to_string()]), None, 10).unwrap().is_empty());
}
