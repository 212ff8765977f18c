//! Keeping the report's per-conversation facts up to date as posts arrive, so a scorecard reads one
//! small row per inbound conversation ([`earshot_store::ReportFact`]) instead of every post.
//!
//! [`refresh`] threads the posts stored since it last ran (each post joins its parent's thread; a parent
//! that arrives after its replies joins their threads), records the discovery inputs of brand accounts,
//! and recomputes the facts of every thread those posts touched with [`thread_facts`] — the very function
//! the in-memory [`super::build`] uses, so both give the same numbers. Facts depend on who the brand
//! accounts are: when the accounts change (a brand configured, a care account or a replier discovered),
//! every thread is recomputed once.

use super::metrics::{
    AboutMap, Accounts, DISCOVERY_MIN_CUSTOMERS, InputsBuilder, about_rows, care_input, pair_input, thread_facts,
    thread_key,
};
use earshot_store::{ConversationRow, ReportState, ReportWrite, Result, Store};
use rustc_hash::{FxHashMap, FxHashSet};
use std::time::Instant;

/// Posts threaded per write.
const POSTS_PER_CHUNK: usize = 20_000;
/// Threads recomputed per write.
const THREADS_PER_CHUNK: usize = 5_000;
/// Past this many touched threads, recomputing all of them in key order is cheaper than one by one.
const MAX_DIRTY: usize = 4_000_000;

/// What one [`refresh`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refreshed {
    /// Posts threaded.
    pub posts: u64,
    /// Threads whose facts were recomputed.
    pub threads: u64,
    /// Whether every thread was recomputed (first use, or the brand accounts changed).
    pub rebuilt: bool,
    /// Wall time, seconds.
    pub elapsed_s: f64,
}

/// One post while threading a chunk.
struct Node {
    row: ConversationRow,
    thread: Option<String>,
    /// Threaded before this refresh (its mapping is stored).
    stored: bool,
}

type Key = (String, String);

fn key_of(r: &ConversationRow) -> Key {
    (r.platform.clone(), r.native_id.clone())
}

/// Brings the stored facts up to date with every stored post; idempotent, and safe to interrupt (the
/// state advances only once the facts are written).
pub fn refresh<S: Store + ?Sized>(store: &mut S) -> Result<Refreshed> {
    refresh_with_accounts(store).map(|(done, _)| done)
}

/// How long a refresher holds the lease without renewing it (it renews at every write).
const LEASE_MS: i64 = 120_000;

/// The lease that lets one refresher at a time write facts (a report run during an ingest, a dashboard
/// beside `watch`): the others wait for it, then find little or nothing left to do.
struct Lease {
    holder: String,
}

impl Lease {
    fn take<S: Store + ?Sized>(store: &mut S) -> Result<Lease> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let lease = Lease { holder: format!("{}-{nanos}", std::process::id()) };
        while !lease.renew(store)? {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Ok(lease)
    }

    /// Extends the lease; false when another refresher holds it.
    fn renew<S: Store + ?Sized>(&self, store: &mut S) -> Result<bool> {
        let now = chrono::Utc::now();
        store.report_lease(&self.holder, now, Some(now + chrono::TimeDelta::milliseconds(LEASE_MS)))
    }

    /// Writes `w` while holding the lease.
    fn write<S: Store + ?Sized>(&self, store: &mut S, w: &ReportWrite) -> Result<()> {
        if !self.renew(store)? {
            tracing::warn!("the report's refresh lease expired and another process took it; continuing");
        }
        store.write_report(w)
    }
}

/// [`refresh`], also returning the brand accounts the facts are now computed for.
pub fn refresh_with_accounts<S: Store + ?Sized>(store: &mut S) -> Result<(Refreshed, Accounts)> {
    let lease = Lease::take(store)?;
    let result = refresh_leased(store, &lease);
    let released = store.report_lease(&lease.holder, chrono::Utc::now(), None);
    let out = result?;
    released?;
    Ok(out)
}

fn refresh_leased<S: Store + ?Sized>(store: &mut S, lease: &Lease) -> Result<(Refreshed, Accounts)> {
    let started = Instant::now();
    let state = store.report_state()?;
    let old_through = state.as_ref().map_or(0, |s| s.through_id);
    let mut through = old_through;
    let mut posts = state.as_ref().map_or(0, |s| s.posts);
    let mut out = Refreshed::default();
    let mut dirty: FxHashSet<String> = FxHashSet::default();
    let mut overflow = false;
    loop {
        let chunk = store.report_new_rows(through, POSTS_PER_CHUNK)?;
        let Some(last) = chunk.last().map(|(r, _)| r.id) else { break };
        let n = chunk.len() as u64;
        let (write, touched) = thread_chunk(store, chunk, old_through)?;
        lease.write(store, &write)?;
        if !overflow {
            dirty.extend(touched);
            if dirty.len() > MAX_DIRTY {
                overflow = true;
                dirty = FxHashSet::default();
            }
        }
        through = last;
        posts += n;
        out.posts += n;
    }

    let configs = store.brands()?;
    let accounts = Accounts::from_inputs(&configs, &store.report_account_inputs(DISCOVERY_MIN_CUSTOMERS)?);
    let fingerprint = accounts.fingerprint();
    out.rebuilt = overflow || state.as_ref().is_none_or(|s| s.fingerprint != fingerprint);
    if out.rebuilt {
        // Marked first, so an interrupted rebuild is redone by the next refresh.
        let marker = ReportState { fingerprint: String::new(), through_id: old_through, posts };
        lease.write(store, &ReportWrite { reset_facts: true, state: Some(marker), ..ReportWrite::default() })?;
        let mut after: Option<String> = None;
        loop {
            let keys = store.report_threads(after.as_deref(), THREADS_PER_CHUNK)?;
            let Some(last) = keys.last().cloned() else { break };
            let write = facts_of(store, &accounts, &keys, false)?;
            lease.write(store, &write)?;
            out.threads += keys.len() as u64;
            after = Some(last);
        }
    } else if !dirty.is_empty() {
        let mut keys: Vec<String> = dirty.into_iter().collect();
        keys.sort_unstable();
        for chunk in keys.chunks(THREADS_PER_CHUNK) {
            let write = facts_of(store, &accounts, chunk, true)?;
            lease.write(store, &write)?;
            out.threads += chunk.len() as u64;
        }
    }
    if out.posts > 0 || out.rebuilt || state.is_none() {
        let state = ReportState { fingerprint, through_id: through, posts };
        lease.write(store, &ReportWrite { state: Some(state), ..ReportWrite::default() })?;
    }
    out.elapsed_s = started.elapsed().as_secs_f64();
    Ok((out, accounts))
}

/// Threads one chunk of new posts (id order): the mappings, renames and discovery inputs to write, and the
/// threads touched.
fn thread_chunk<S: Store + ?Sized>(
    store: &S,
    chunk: Vec<(ConversationRow, Option<String>)>,
    old_through: i64,
) -> Result<(ReportWrite, FxHashSet<String>)> {
    let mut nodes: FxHashMap<Key, Node> = FxHashMap::default();
    let mut order: Vec<Key> = Vec::with_capacity(chunk.len());
    for (row, thread) in chunk {
        let key = key_of(&row);
        order.push(key.clone());
        let stored = thread.is_some();
        nodes.insert(key, Node { row, thread, stored });
    }
    // Parents outside the chunk, looked up per platform in one query each.
    let mut missing: FxHashMap<String, Vec<String>> = FxHashMap::default();
    for k in &order {
        let r = &nodes[k].row;
        if let Some(p) = &r.reply_to
            && !nodes.contains_key(&(r.platform.clone(), p.clone()))
        {
            missing.entry(r.platform.clone()).or_default().push(p.clone());
        }
    }
    for (platform, ids) in missing {
        for part in ids.chunks(1000) {
            for (row, thread) in store.report_rows_by_native(&platform, part)? {
                let stored = thread.is_some();
                nodes.entry(key_of(&row)).or_insert(Node { row, thread, stored });
            }
        }
    }

    let mut write = ReportWrite::default();
    let mut inputs = InputsBuilder::default();
    for k in &order {
        resolve(store, &mut nodes, k)?;
        let r = &nodes[k].row;
        if let Some(c) = care_input(r) {
            inputs.care(c);
        }
        if let Some(p) = r.reply_to.as_ref().and_then(|p| nodes.get(&(r.platform.clone(), p.clone())))
            && let Some(pair) = pair_input(r, &p.row)
        {
            inputs.pair(pair);
        }
    }

    // Replies stored (and threaded) by an earlier refresh before this chunk's posts, their parents, arrived:
    // their threads join the parents'.
    let mut renames: Vec<(String, String)> = Vec::new();
    if old_through > 0 {
        let mut by_platform: FxHashMap<String, Vec<String>> = FxHashMap::default();
        for k in &order {
            let n = &nodes[k];
            if !n.stored && n.row.id > old_through {
                by_platform.entry(k.0.clone()).or_default().push(k.1.clone());
            }
        }
        for (platform, ids) in by_platform {
            for part in ids.chunks(1000) {
                for (reply_to, child_thread) in store.report_children(&platform, part, old_through)? {
                    let Some(parent) = nodes.get(&(platform.clone(), reply_to)) else { continue };
                    let Some(to) = parent.thread.clone() else { continue };
                    if child_thread != to && !renames.iter().any(|(from, _)| *from == child_thread) {
                        renames.push((child_thread, to));
                    }
                }
            }
        }
    }
    let renamed = |t: &str| -> String {
        let mut t = t.to_string();
        for (from, to) in &renames {
            if t == *from {
                t = to.clone();
            }
        }
        t
    };
    let mut touched = FxHashSet::default();
    for n in nodes.values_mut() {
        let Some(t) = &n.thread else { continue };
        let t = renamed(t);
        if !n.stored {
            write.threads.push((n.row.id, t.clone()));
        }
        if n.row.id > old_through {
            touched.insert(t.clone());
        }
        n.thread = Some(t);
    }
    for (_, to) in &renames {
        touched.insert(to.clone());
    }
    write.threads.sort_unstable();
    write.renames = renames;
    let inputs = inputs.finish();
    write.care = inputs.care;
    write.pairs = inputs.pairs;
    Ok((write, touched))
}

/// Sets the thread of node `start` and of every unthreaded ancestor: the thread of the first threaded
/// ancestor, else the root's key (the top of the stored parents; where a cycle closes).
fn resolve<S: Store + ?Sized>(store: &S, nodes: &mut FxHashMap<Key, Node>, start: &Key) -> Result<()> {
    let mut path: Vec<Key> = Vec::new();
    let mut seen: FxHashSet<Key> = FxHashSet::default();
    let mut at = start.clone();
    let top = loop {
        let node = &nodes[&at];
        if let Some(t) = &node.thread {
            break t.clone();
        }
        if !seen.insert(at.clone()) {
            break thread_key(&node.row);
        }
        path.push(at.clone());
        let Some(p) = node.row.reply_to.clone() else { break thread_key(&node.row) };
        let parent = (at.0.clone(), p);
        if !nodes.contains_key(&parent) {
            // An ancestor beyond the looked-up parents (a reply chain stored out of order).
            for (row, thread) in store.report_rows_by_native(&parent.0, std::slice::from_ref(&parent.1))? {
                let stored = thread.is_some();
                nodes.entry(key_of(&row)).or_insert(Node { row, thread, stored });
            }
        }
        if parent == at || !nodes.contains_key(&parent) {
            break thread_key(&nodes[&at].row);
        }
        at = parent;
    };
    for k in path {
        if let Some(n) = nodes.get_mut(&k) {
            n.thread = Some(top.clone());
        }
    }
    Ok(())
}

/// The facts of threads `keys` (replacing their stored facts when `replace`), with their customers' posts
/// about brands.
fn facts_of<S: Store + ?Sized>(store: &S, accounts: &Accounts, keys: &[String], replace: bool) -> Result<ReportWrite> {
    let mut threads: FxHashMap<String, Vec<ConversationRow>> = FxHashMap::default();
    for (thread, row) in store.report_thread_rows(keys)? {
        threads.entry(thread).or_default().push(row);
    }
    let mut write = ReportWrite::default();
    let mut about = AboutMap::default();
    let mut names: Vec<&String> = threads.keys().collect();
    names.sort_unstable();
    for name in names {
        let rows = &threads[name];
        let mut sorted: Vec<&ConversationRow> = rows.iter().collect();
        sorted.sort_by_key(|r| (r.published_at, r.id));
        thread_facts(accounts, name, &sorted, &mut write.facts, &mut about);
    }
    write.about = about_rows(about);
    if replace {
        write.replace_facts_of = keys.to_vec();
    }
    Ok(write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Period, build, from_store};
    use chrono::{DateTime, TimeZone, Utc};
    use earshot_core::brand::{Attribution, BrandConfig, Via};
    use earshot_core::{Author, Platform, Post};
    use earshot_store::{AnalysisRow, Batch, NewPost, SqliteStore};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    /// A post `id` by `author` (a care account when `care`) at `secs`, replying to `reply_to`, mentioning
    /// `mentions`, with VADER compound `compound` and churn/loyalty markers in its analysis.
    fn post(id: &str, author: &str, care: bool, secs: i64, reply_to: Option<&str>, mentions: &[&str]) -> NewPost {
        let mut p = Post::new(
            Platform::X,
            id,
            Author { handle: author.into(), care_account: Some(care), ..Author::default() },
            format!("post {id}"),
            at(secs),
            "test",
        );
        p.reply_to = reply_to.map(str::to_string);
        p.mentions = mentions.iter().map(|m| m.to_string()).collect();
        NewPost { post: p, brands: Vec::new(), brand_author: None, source: "test".into(), analysis: None }
    }

    fn analyzed(mut p: NewPost, compound: f64, signal: Option<&str>) -> NewPost {
        let signals = signal.map_or(String::new(), |k| format!("{{\"kind\":\"{k}\"}}"));
        p.analysis = Some(AnalysisRow {
            versions: "test".into(),
            compound,
            sentiment: Some(if compound >= 0.05 { "positive" } else { "negative" }.into()),
            complaint: None,
            severity: None,
            intent: None,
            issue: None,
            priority: 10,
            json: format!("{{\"signals\":[{signals}]}}"),
        });
        p
    }

    /// The report from the store's facts equals the one computed from every post at once, for the whole
    /// store and for periods.
    fn assert_same(store: &mut SqliteStore, configs: &[BrandConfig]) {
        let rows = store.conversation_rows(None, None).unwrap();
        for (since, until) in
            [(None, None), (Some(at(150)), None), (None, Some(at(2_000))), (Some(at(90)), Some(at(5_000)))]
        {
            let mut stored = from_store(store, since, until, Some(Period::Day), false).unwrap();
            let mut full = build(configs, rows.clone(), since, until, Some(Period::Day));
            for r in [&mut stored, &mut full] {
                r.posts = 0;
                for s in &mut r.brands {
                    s.responses_ms.clear();
                }
            }
            assert_eq!(stored, full, "period {since:?}..{until:?}");
        }
    }

    #[test]
    fn incremental_facts_equal_a_full_recomputation() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let acme = BrandConfig { name: "Acme".into(), handles: vec!["@acme".into()], ..Default::default() };
        store.upsert_brands(std::slice::from_ref(&acme), at(0)).unwrap();
        let configs = vec![acme];
        let commit = |store: &mut SqliteStore, posts: Vec<NewPost>| {
            store.commit(&Batch { posts, ..Batch::default() }, at(0)).unwrap();
        };
        // A reply stored before the post it answers; an answered thread; an unanswered one.
        commit(
            &mut store,
            vec![
                post("3", "acme", false, 400, Some("2"), &["carol"]),
                analyzed(post("10", "dave", false, 100, None, &["acme"]), -0.6, Some("churn_threat")),
                post("11", "acme", false, 700, Some("10"), &["dave"]),
                analyzed(post("12", "dave", false, 900, Some("11"), &["acme"]), 0.7, Some("loyalty")),
            ],
        );
        let first = refresh(&mut store).unwrap();
        assert!(first.rebuilt, "first use builds everything");
        assert_same(&mut store, &configs);

        // The missing parent arrives: the reply's thread joins the new root's (no new brand: incremental).
        commit(
            &mut store,
            vec![
                analyzed(post("2", "carol", false, 200, None, &["acme"]), -0.4, None),
                post("20", "erin", false, 3_000, None, &["acme"]),
                analyzed(post("21", "dave", false, 4_000, None, &["acme"]), -0.2, Some("churn_threat")),
            ],
        );
        let second = refresh(&mut store).unwrap();
        assert_eq!((second.posts, second.rebuilt), (3, false));
        assert_same(&mut store, &configs);
        let acme = &from_store(&mut store, None, None, None, false).unwrap().brands[0];
        assert_eq!((acme.inbound, acme.replied, acme.first_response_median_s), (4, 2, Some(200.0)));
        assert_eq!((acme.kept, acme.lost, acme.outcome_n), (0, 1, 1), "dave's later churn threat about Acme");

        // A care account appears: the accounts change and every thread is recomputed.
        commit(
            &mut store,
            vec![
                post("30", "frank", false, 5_000, None, &["globexhelp"]),
                post("31", "GlobexHelp", true, 5_060, Some("30"), &["frank"]),
            ],
        );
        let third = refresh(&mut store).unwrap();
        assert!(third.rebuilt);
        assert_same(&mut store, &configs);
        let rep = from_store(&mut store, None, None, None, false).unwrap();
        let globex = rep.brands.iter().find(|b| b.brand == "GlobexHelp").unwrap();
        assert_eq!((globex.source, globex.inbound, globex.first_response_median_s), ("care_account", 1, Some(60.0)));
        let again = refresh(&mut store).unwrap();
        assert_eq!((again.posts, again.threads, again.rebuilt), (0, 0, false), "nothing new");

        // Attributions count as addressing (an inbound by attribution, not mention).
        let mut by_attr = post("40", "gina", false, 6_000, None, &[]);
        by_attr.brands = vec![Attribution { brand: "Acme".into(), via: Via::Mention }];
        commit(&mut store, vec![by_attr, post("41", "acme", false, 6_100, Some("40"), &[])]);
        assert!(!refresh(&mut store).unwrap().rebuilt);
        assert_same(&mut store, &configs);
    }
}
