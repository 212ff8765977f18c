//! The Warn stage in the pipeline: storm detection over the posts the case stage threads, one storm case
//! per storm in the inbox, and the alerts it raises.
//!
//! The detectors themselves are pure logic in `earshot-storms`; this module feeds them stored posts, turns
//! their events into stored storms and storm cases, and saves the tracker with the threading watermark, in
//! the same transaction (`Snapshot`), so a crash or a re-run neither loses nor repeats a storm.

use crate::cases::{CaseExtra, StoredCase};
use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use earshot_cases::{Case, CaseId, SlaEvent, ThreadInput};
use earshot_store::{CaseWrite, Snapshot, Store, StoredPost, StormRow};
use earshot_storms::Observation;
use earshot_storms::storm::{Storm, StormEvent};
use earshot_storms::tracker::{StormTracker, TrackerConfig};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The snapshot's name in the store.
const SNAPSHOT: &str = "storms";
/// Participants and member cases a storm case lists (counts stay exact; the storm row keeps its own caps).
const MAX_LISTED: usize = 500;
/// What a mention of the brand's own handle becomes in a mention set.
const BRAND_MENTION: &str = "(the brand)";
/// Priority of a storm case: above any single customer's case, so the plan comes first.
const STORM_PRIORITY: u8 = 95;

/// What a storm case shows about its storm (`StoredCase::storm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StormSummary {
    /// The storm's id.
    pub storm_id: String,
    /// `volume`, `negative`, `campaign` or `influencer`.
    pub kind: String,
    /// What was counted (`hashtag`, `text`, `link`, `mentions`, `all`, `complaints`, ...).
    pub facet: String,
    /// The hashtag, link, text cluster...
    pub key: String,
    /// Estimated onset.
    pub started_at: DateTime<Utc>,
    /// When the detector fired (the published time of the post that fired it).
    pub detected_at: DateTime<Utc>,
    /// When it subsided.
    pub closed_at: Option<DateTime<Utc>>,
    /// Posts in it.
    pub posts: u64,
    /// Distinct authors in it.
    pub authors: u64,
    /// The roll-call: who took part (first [`MAX_LISTED`]).
    pub participants: Vec<String>,
    /// The customer cases of its posts (first [`MAX_LISTED`]).
    pub member_cases: Vec<i64>,
    /// Its most used hashtags.
    pub hashtags: Vec<String>,
    /// The text of the post that fired it.
    pub sample_text: Option<String>,
}

/// Saved state: the tracker and which cases answer which storm.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    tracker: StormTracker,
    /// Storm id → its storm case, for storms still open.
    storm_cases: BTreeMap<String, i64>,
    /// Member case → storm case, for storms still open: a brand reply in a member's thread answers the storm.
    member_of: HashMap<i64, i64>,
    /// What the alerter remembers (cooldowns), when alerts are configured.
    #[serde(default)]
    alerter: Option<earshot_alerts::AlerterState>,
}

/// Storm detection inside the case stage (see [`crate::cases::CaseStage::run`]).
pub struct StormStage {
    state: Saved,
    /// Each brand's own handles (lower case, no `@`), by lower-case brand name: a mention of any of them is
    /// a mention of the brand (see [`StormStage::observe`]).
    handles: HashMap<String, Vec<String>>,
    events: Vec<StormEvent>,
    /// Alert rules, when `[alerts]` is configured.
    alerts: Option<crate::alerts::AlertStage>,
}

impl std::fmt::Debug for StormStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StormStage").field("open_storms", &self.state.storm_cases.len()).finish_non_exhaustive()
    }
}

/// One brand's view of a stored post, owned (the tracker borrows it).
struct Seen {
    author: String,
    hashtags: Vec<String>,
    mentions: Vec<String>,
    products: Vec<String>,
    complaint: f32,
    negative: bool,
}

impl StormStage {
    /// Restores the tracker saved with the threading watermark, or starts a fresh one with `config` (a store
    /// threaded before storm detection existed starts detecting from its next post).
    pub fn open(
        store: &dyn Store,
        config: TrackerConfig,
        alerts: Option<earshot_alerts::Alerts>,
        public_url: Option<String>,
    ) -> Result<Self> {
        config.validate().context("in the [storms] section of the config")?;
        let mut state = match store.snapshot(SNAPSHOT).context("reading the storm tracker's saved state")? {
            Some(snap) => {
                let mut saved: Saved = serde_json::from_slice(&snap.data)
                    .context("the saved storm tracker is unreadable (delete the `storms` row of pipeline_snapshots to start afresh)")?;
                // Detector state is only meaningful under the settings it was built with: changed `[storms]`
                // settings start the detectors afresh (baselines are relearned; storm cases already open stay).
                if saved.tracker.config() != &config {
                    tracing::warn!("the [storms] settings changed: storm detectors start afresh with the new ones");
                    saved.tracker = StormTracker::new(config);
                }
                saved
            }
            None => Saved {
                tracker: StormTracker::new(config),
                storm_cases: BTreeMap::new(),
                member_of: HashMap::new(),
                alerter: None,
            },
        };
        let alerts = alerts.map(|a| crate::alerts::AlertStage::new(a, state.alerter.take(), public_url));
        let handles = store
            .brands()
            .context("reading the brands")?
            .into_iter()
            .map(|b| {
                let own = b
                    .handles
                    .iter()
                    .map(|h| h.rsplit_once(':').map_or(h.as_str(), |(_, h)| h).trim_start_matches('@').to_lowercase())
                    .collect();
                (b.name.to_lowercase(), own)
            })
            .collect();
        Ok(StormStage { state, handles, events: Vec::new(), alerts })
    }

    /// Open storms being tracked.
    pub fn open_storms(&self) -> usize {
        self.state.tracker.open_storms().count()
    }

    /// The storm case a customer case belongs to, while its storm is open.
    pub fn storm_case_of(&self, case_id: i64) -> Option<i64> {
        self.state.member_of.get(&case_id).copied()
    }

    /// Feeds one threaded post (one observation per brand it is attributed to).
    pub fn observe(&mut self, p: &StoredPost) {
        let post = &p.post;
        let analysis = p.analysis.as_ref();
        let lower =
            |v: &[String]| v.iter().map(|s| s.trim_start_matches(['#', '@']).to_lowercase()).collect::<Vec<_>>();
        let seen = Seen {
            author: if post.author.handle.is_empty() {
                post.author.id.clone().unwrap_or_default()
            } else {
                post.author.handle.to_lowercase()
            },
            hashtags: lower(&post.hashtags),
            mentions: lower(&post.mentions),
            products: analysis
                .and_then(|a| a.get("signals"))
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
                .filter(|s| s.get("kind").and_then(|k| k.as_str()) == Some("product"))
                .filter_map(|s| s.get("value").and_then(|v| v.as_str()).map(str::to_string))
                .collect(),
            complaint: analysis
                .and_then(|a| a.pointer("/complaint/probability"))
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as f32,
            negative: analysis.and_then(|a| a.pointer("/sentiment/label")).and_then(|v| v.as_str()) == Some("negative"),
        };
        let brands: Vec<&str> = match &p.brand_author {
            Some(b) => vec![b.as_str()],
            None => p.brands.iter().map(|a| a.brand.as_str()).collect(),
        };
        for brand in brands {
            // The brand under any of its handles (@Brand, @BrandHelp) is one account in a mention set: a
            // campaign naming a target and "the brand" stays one campaign whichever handle each post used.
            let own = self.handles.get(&brand.to_lowercase());
            let mentions: Vec<String> = match own {
                Some(own) if seen.mentions.iter().any(|m| own.contains(m)) => {
                    let mut v: Vec<String> = seen
                        .mentions
                        .iter()
                        .map(|m| if own.contains(m) { BRAND_MENTION.to_string() } else { m.clone() })
                        .collect();
                    v.dedup();
                    v
                }
                _ => seen.mentions.clone(),
            };
            let o = Observation {
                brand,
                post_id: p.id,
                published: post.published_at.timestamp(),
                author: &seen.author,
                text: &post.text,
                hashtags: &seen.hashtags,
                links: &post.links,
                mentions: &mentions,
                products: &seen.products,
                complaint: seen.complaint,
                negative: seen.negative,
                followers: post.author.followers.unwrap_or(0),
                reposts: post.metrics.reposts.unwrap_or(0) + post.metrics.quotes.unwrap_or(0),
                from_brand: p.brand_author.is_some(),
            };
            self.state.tracker.observe(&o, &mut self.events);
        }
    }

    /// True when the last observed post fired, grew or closed a storm: call [`StormStage::apply`] before
    /// the next post, so a brand reply right after a storm opens already counts for it.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Turns pending storm events into storm rows, storm cases, memberships and alerts. `cases` is the case
    /// stage's working set (storm cases are loaded into it and written by it).
    pub fn apply(
        &mut self,
        store: &dyn Store,
        cases: &mut BTreeMap<CaseId, (StoredCase, CaseExtra)>,
        touched: &mut Vec<CaseId>,
        next_case_id: &mut dyn FnMut() -> CaseId,
        write: &mut CaseWrite,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let events = std::mem::take(&mut self.events);
        // Posts threaded in this batch and their cases (not in the store yet); built once per call, not per event.
        let in_batch: HashMap<i64, i64> = write.links.iter().map(|l| (l.post_id, l.case_id)).collect();
        for event in &events {
            let storm = event.storm();
            let case_id = match self.state.storm_cases.get(&storm.id) {
                Some(&id) => id,
                None => {
                    let id = next_case_id();
                    cases.insert(id, (open_storm_case(id, storm), CaseExtra::default()));
                    self.state.storm_cases.insert(storm.id.clone(), id.0 as i64);
                    id.0 as i64
                }
            };
            let cid = CaseId(case_id as u64);
            if let std::collections::btree_map::Entry::Vacant(slot) = cases.entry(cid) {
                let Some(row) = store.case(case_id).context("reading a storm case")? else { continue };
                slot.insert((StoredCase::from_row(&row)?, CaseExtra::of(&row)));
            }
            // Member cases: posts threaded in this batch are in `write.links`, earlier ones in the store.
            let (known, stored): (Vec<i64>, Vec<i64>) =
                storm.member_post_ids.iter().partition(|id| in_batch.contains_key(id));
            let mut members: Vec<i64> = known.iter().map(|id| in_batch[id]).collect();
            members
                .extend(store.cases_of_posts(&stored).context("finding a storm's cases")?.into_iter().map(|(_, c)| c));
            members.sort_unstable();
            members.dedup();
            members.retain(|&m| m != case_id);
            let (stored_case, _) = cases.get_mut(&cid).expect("inserted above");
            let summary = stored_case.storm.get_or_insert_with(|| summary_of(storm, &[]));
            let mut listed = std::mem::take(&mut summary.member_cases);
            for &m in &members {
                if !listed.contains(&m) {
                    write.storm_members.push((m, case_id));
                    if listed.len() < MAX_LISTED {
                        listed.push(m);
                    }
                }
                if storm.is_open() {
                    self.state.member_of.insert(m, case_id);
                }
            }
            *summary = summary_of(storm, &listed);
            stored_case.case.last_activity_at = stored_case.case.last_activity_at.max(at(storm.last_post_at));
            touched.push(cid);
            if let StormEvent::Closed(_) = event {
                self.state.storm_cases.remove(&storm.id);
                self.state.member_of.retain(|_, s| *s != case_id);
            }
            write.storms.push(storm_row(storm, case_id)?);
            if let Some(alerts) = &mut self.alerts {
                write.alerts.extend(alerts.alerts_for(event, case_id, now));
            }
        }
        self.events = events;
        self.events.clear();
        Ok(())
    }

    /// Saves the tracker as valid `through` the batch's last post, in the batch's write.
    pub fn save(&mut self, write: &mut CaseWrite, through: i64) -> Result<()> {
        self.state.alerter = self.alerts.as_ref().map(|a| a.state().clone());
        write.snapshot = Some(Snapshot {
            name: SNAPSHOT.into(),
            through,
            data: serde_json::to_vec(&self.state).context("saving the storm tracker")?,
        });
        Ok(())
    }

    /// A brand reply landed in customer case `case_id`: if that case is part of an open storm, the storm case
    /// got its answer too (one answer reaches everyone). So does a brand post that names a participant of
    /// an open storm of its brand, or carries the storm's hashtag.
    pub fn brand_replied(
        &self,
        store: &dyn Store,
        cases: &mut BTreeMap<CaseId, (StoredCase, CaseExtra)>,
        touched: &mut Vec<CaseId>,
        case_id: i64,
        post: Option<&StoredPost>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let storm_case = match self.state.member_of.get(&case_id) {
            Some(&c) => c,
            None => {
                let Some(p) = post else { return Ok(()) };
                let named = |storm: &Storm| {
                    storm.participants.iter().any(|a| p.post.mentions.iter().any(|m| m.eq_ignore_ascii_case(a)))
                        || (storm.facet.as_str() == "hashtag"
                            && p.post.hashtags.iter().any(|h| h.eq_ignore_ascii_case(&storm.key)))
                };
                let brand = p.brand_author.as_deref().unwrap_or_default();
                let hit = self.state.tracker.open_storms().find(|s| s.brand.eq_ignore_ascii_case(brand) && named(s));
                match hit.and_then(|s| self.state.storm_cases.get(&s.id)) {
                    Some(&c) => c,
                    None => return Ok(()),
                }
            }
        };
        let cid = CaseId(storm_case as u64);
        if let std::collections::btree_map::Entry::Vacant(slot) = cases.entry(cid) {
            let Some(row) = store.case(storm_case).context("reading a storm case")? else { return Ok(()) };
            slot.insert((StoredCase::from_row(&row)?, CaseExtra::of(&row)));
        }
        let (stored, _) = cases.get_mut(&cid).expect("inserted above");
        if !stored.sla.iter().any(|e| matches!(e, SlaEvent::BrandReplied { at: t } if *t == at)) {
            stored.sla.push(SlaEvent::BrandReplied { at });
            stored.sla.sort_by_key(crate::cases::sla_time);
            stored.case.brand_replied(at);
        }
        touched.push(cid);
        Ok(())
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

fn summary_of(storm: &Storm, member_cases: &[i64]) -> StormSummary {
    StormSummary {
        storm_id: storm.id.clone(),
        kind: storm.kind.as_str().into(),
        facet: storm.facet.as_str().into(),
        key: storm.key.clone(),
        started_at: at(storm.started_at),
        detected_at: at(storm.detected_at),
        closed_at: storm.closed_at.map(at),
        posts: storm.posts,
        authors: storm.authors,
        participants: storm.participants.iter().take(MAX_LISTED).cloned().collect(),
        member_cases: member_cases.to_vec(),
        hashtags: storm.top_hashtags.iter().map(|c| c.value.clone()).collect(),
        sample_text: storm.sample_text.clone(),
    }
}

/// What the inbox shows as the storm case's "customer": the hashtag, link or facet that unites it.
pub fn storm_title(kind: &str, facet: &str, key: &str) -> String {
    match facet {
        "hashtag" => format!("#{key}"),
        _ if key.is_empty() || key == facet => format!("{kind} storm ({facet})"),
        _ => format!("{kind} storm: {key}"),
    }
}

fn open_storm_case(id: CaseId, storm: &Storm) -> StoredCase {
    let title = storm_title(storm.kind.as_str(), storm.facet.as_str(), &storm.key);
    let platform = earshot_core::Platform::X;
    let mut input = ThreadInput::new(platform, &storm.id, &title, at(storm.started_at));
    input.brand = Some(storm.brand.clone());
    input.priority = Some(STORM_PRIORITY);
    let mut case = Case::open(id, &input);
    case.post_ids.clear();
    case.priority = STORM_PRIORITY;
    case.add_label(&format!("storm:{}", storm.kind.as_str()));
    StoredCase {
        case,
        sla: vec![SlaEvent::CustomerPosted { at: at(storm.started_at) }],
        remedies_offered: Vec::new(),
        customer_signals: Vec::new(),
        storm: Some(summary_of(storm, &[])),
    }
}

fn storm_row(storm: &Storm, case_id: i64) -> Result<StormRow> {
    Ok(StormRow {
        id: storm.id.clone(),
        brand: storm.brand.clone(),
        kind: storm.kind.as_str().into(),
        facet: storm.facet.as_str().into(),
        key: storm.key.clone(),
        status: if storm.is_open() { "open" } else { "closed" }.into(),
        started_at: at(storm.started_at),
        detected_at: at(storm.detected_at),
        last_post_at: at(storm.last_post_at),
        closed_at: storm.closed_at.map(at),
        posts: storm.posts as i64,
        authors: storm.authors as i64,
        case_id: Some(case_id),
        data: serde_json::to_value(storm).context("encoding a storm")?,
    })
}

/// The storm stage a config file asks for: `[storms]` settings and `[alerts]` webhooks (no file: defaults,
/// no alerts).
pub fn stage_from_config(store: &dyn Store, path: Option<&std::path::Path>) -> Result<StormStage> {
    let Some(path) = path else { return StormStage::open(store, TrackerConfig::default(), None, None) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let config = config_from_toml(&text).with_context(|| format!("in config file {}", path.display()))?;
    let alerts = crate::alerts::from_toml(&text).with_context(|| format!("in config file {}", path.display()))?;
    let public_url = public_url_from_toml(&text);
    StormStage::open(store, config, alerts, public_url)
}

/// `[serve] public_url`, used to link alerts to the inbox.
fn public_url_from_toml(text: &str) -> Option<String> {
    let v: toml::Value = toml::from_str(text).ok()?;
    Some(v.get("serve")?.get("public_url")?.as_str()?.trim_end_matches('/').to_string())
}

/// The `[storms]` section of a config file's text (absent: the defaults).
pub fn config_from_toml(text: &str) -> Result<TrackerConfig> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        storms: Option<toml::Value>,
    }
    let file: File = toml::from_str(text)?;
    match file.storms {
        None => Ok(TrackerConfig::default()),
        Some(v) => {
            let config: TrackerConfig = v.try_into().context("in the [storms] section")?;
            config.validate().context("in the [storms] section")?;
            Ok(config)
        }
    }
}

/// Storm events → the JSON lines `earshot storms --json` prints.
pub fn storm_json(row: &StormRow) -> serde_json::Value {
    let hashtags: Vec<serde_json::Value> = row
        .data
        .get("top_hashtags")
        .and_then(|h| h.as_array())
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("value").cloned())
        .collect();
    serde_json::json!({
        "id": row.id,
        "brand": row.brand,
        "kind": row.kind,
        "facet": row.facet,
        "key": row.key,
        "status": row.status,
        "started_at": row.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "detected_at": row.detected_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "last_post_at": row.last_post_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "closed_at": row.closed_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "posts": row.posts,
        "authors": row.authors,
        "hashtags": hashtags,
        "case_id": row.case_id,
        "participants": row.data.get("participants"),
        "sample_post_ids": row.data.get("sample_post_ids"),
        "sample_text": row.data.get("sample_text"),
        "signals": row.data.get("signals"),
    })
}
