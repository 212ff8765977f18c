//! SQLite-only checks: the file format, schema version and query plans. The behaviour every store shares
//! (dedupe, search, cases, storms, accounts...) is tested once for all backends in `contract.rs`.

use super::*;
use crate::contract::{batch, post, t};

#[test]
fn reopening_a_file_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    SqliteStore::open(&path).unwrap().commit(&batch(vec![post("1", "a")]), t(0)).unwrap();
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.stats().unwrap().posts, 1);
    assert_eq!(s.schema_version().unwrap(), 11);
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
fn source_state_round_trips_and_replaces_by_name() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    assert!(s.source_state("jet").unwrap().is_none());
    let state = crate::SourceState {
        name: "jet".into(),
        kind: "bluesky_jetstream".into(),
        url: "ws://127.0.0.1:1".into(),
        cursor: Some("1725911162329308".into()),
        status: "connected".into(),
        status_since: t(1),
        last_post_at: Some(t(2)),
        lag_ms: Some(40),
        records: 10,
        stored: 9,
        rejected: 1,
        errors: 0,
        reconnects: 2,
        gaps: 0,
        last_error: None,
        updated_at: t(3),
    };
    s.save_source_state(&state).unwrap();
    assert_eq!(s.source_state("jet").unwrap(), Some(state.clone()));
    let failing = crate::SourceState { status: "failing".into(), last_error: Some("refused".into()), ..state.clone() };
    s.save_source_state(&failing).unwrap();
    let other = crate::SourceState { name: "blog".into(), kind: "feed".into(), ..state };
    s.save_source_state(&other).unwrap();
    assert_eq!(s.source_states().unwrap(), vec![other, failing]);
    let bad = crate::SourceState { status: "asleep".into(), ..s.source_state("jet").unwrap().unwrap() };
    assert!(s.save_source_state(&bad).is_err(), "status is one of four values");
}

/// The report reads a period's answered facts and counts its unanswered ones from two ranges of the facts'
/// clustered key, never the whole table (10M posts give ~7M facts).
#[test]
fn report_facts_are_read_by_ranges_of_their_key() {
    let s = SqliteStore::open_in_memory().unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join(" | ")
    };
    let answered = plan(
        "SELECT f.brand, a.last_at FROM report_facts f LEFT JOIN report_about a ON a.platform = f.platform \
         AND a.customer = f.customer AND a.brand = f.brand WHERE f.answered = 1 AND f.published_at >= 0 \
         AND f.published_at < 10",
    );
    assert!(
        answered.contains("SEARCH f USING PRIMARY KEY (answered=? AND published_at>? AND published_at<?)"),
        "{answered}"
    );
    assert!(answered.contains("SEARCH a USING PRIMARY KEY"), "{answered}");
    let unanswered = plan(
        "SELECT brand, count(*) FROM report_facts WHERE answered = 0 AND published_at >= 0 AND published_at < 10 \
         AND (prev_published_at IS NULL OR prev_published_at < 0) GROUP BY brand",
    );
    assert!(
        unanswered.contains("SEARCH report_facts USING PRIMARY KEY (answered=? AND published_at>? AND published_at<?)"),
        "{unanswered}"
    );
}
