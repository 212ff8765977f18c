//! The cases stage: threads stored posts into customer cases and keeps their SLA clocks.
//!
//! It runs after posts are committed and works from the store, not from the batch in flight: it reads the posts
//! stored after its watermark (`Store::threaded_through`), assigns each to a case with
//! [`earshot_cases::Threader`], and commits the cases, the post links, the events and the new watermark in one
//! transaction. A crash between a post commit and its threading therefore loses nothing (the next run picks the
//! posts up), and re-running never threads a post twice.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, Utc};
use earshot_cases::{
    Case, CaseId, LaterPost, Outcome, Remedy, Role, SlaEvent, SlaPolicies, SlaPolicy, SlaState, ThreadInput, Threader,
    ThreaderConfig, infer_outcome,
};
use earshot_store::{CaseEvent, CaseLink, CaseRow, CaseWrite, Store, StoredPost};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many stored posts one threading transaction covers.
pub const THREAD_BATCH: usize = 5_000;

/// A case as the store keeps it (`cases.data`): the case and the SLA facts its clocks are computed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCase {
    /// The case.
    pub case: Case,
    /// SLA events, in the order they happened.
    #[serde(default)]
    pub sla: Vec<SlaEvent>,
    /// Remedies seen in the brand's replies (e.g. "refund you in full"), as opposed to ones an agent recorded.
    #[serde(default)]
    pub remedies_offered: Vec<Remedy>,
    /// The customer's posts that say something about staying or leaving (churn, loyalty, a competitor, strong
    /// sentiment), kept so the outcome can be decided whatever order posts arrive in.
    #[serde(default)]
    pub customer_signals: Vec<CustomerSignal>,
    /// Set on a storm case: the storm it answers (see `crate::storms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storm: Option<crate::storms::StormSummary>,
}

/// What one customer post says about staying or leaving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSignal {
    /// Native id of the post.
    pub post_id: String,
    /// Published time.
    pub at: DateTime<Utc>,
    /// Churn threat.
    pub churn: bool,
    /// Loyalty.
    pub loyalty: bool,
    /// Competitor named.
    pub competitor: Option<String>,
    /// VADER compound.
    pub compound: f64,
    /// The text, for the evidence.
    pub text: String,
}

impl StoredCase {
    /// Decides the outcome from the customer's posts after the brand's first reply ([`infer_outcome`]: churn or a
    /// named competitor means lost, loyalty or clear warmth kept, the latest post with a signal decides). An
    /// outcome an agent recorded is left alone.
    pub fn refresh_outcome(&mut self) {
        let Some(first) = self.case.first_response_at else { return };
        if self.case.outcome_evidence.as_ref().is_some_and(|e| e.reason.starts_with("recorded by")) {
            return;
        }
        let mut after: Vec<&CustomerSignal> = self.customer_signals.iter().filter(|s| s.at >= first).collect();
        after.sort_by_key(|s| s.at);
        let later: Vec<LaterPost> = after
            .into_iter()
            .map(|s| LaterPost {
                post_id: s.post_id.clone(),
                text: s.text.clone(),
                churn: s.churn,
                loyalty: s.loyalty,
                competitor: s.competitor.clone(),
                compound: s.compound,
            })
            .collect();
        let (outcome, evidence) = infer_outcome(&later);
        if outcome != Outcome::Unknown {
            self.case.set_outcome(outcome, evidence);
        }
    }
}

impl StoredCase {
    /// Reads the JSON of a stored case.
    pub fn from_row(row: &CaseRow) -> Result<StoredCase> {
        serde_json::from_value(row.data.clone()).with_context(|| format!("case {} has unreadable data", row.id))
    }
}

/// The SLA policy when `earshot.toml` has no `[sla]` section: first response within 1 hour, next response within
/// 4 hours, resolution within 3 days, around the clock.
pub fn default_policy() -> SlaPolicy {
    let mut p = SlaPolicy::new(Duration::hours(1).to_std().unwrap_or_default());
    p.next_response = Some(std::time::Duration::from_secs(4 * 3600));
    p.resolution = Some(std::time::Duration::from_secs(3 * 24 * 3600));
    p
}

/// The case columns derived from a stored case at `now`.
pub fn to_row(stored: &StoredCase, policy: &SlaPolicy, now: DateTime<Utc>, extra: &CaseExtra) -> Result<CaseRow> {
    let c = &stored.case;
    let report = earshot_cases::evaluate(policy, &stored.sla, now);
    let live = |s: SlaState| matches!(s, SlaState::Running | SlaState::Warning | SlaState::Breached);
    let due_at = report.targets().iter().filter(|t| live(t.state)).filter_map(|t| t.due_at).min();
    let rank = |s: SlaState| match s {
        SlaState::Breached => 5,
        SlaState::Warning => 4,
        SlaState::Running => 3,
        SlaState::Paused => 2,
        SlaState::Met => 1,
        SlaState::NotApplicable => 0,
    };
    let worst = report.targets().iter().map(|t| t.state).max_by_key(|s| rank(*s)).filter(|s| rank(*s) > 0);
    Ok(CaseRow {
        id: c.id.0 as i64,
        brand: c.brand.clone(),
        customer: c.customer.clone(),
        platform: c.platform.as_str().to_string(),
        kind: if stored.storm.is_some() { "storm" } else { "customer" }.into(),
        status: c.status.as_str().into(),
        assignee: c.assignee.clone(),
        priority: i64::from(c.priority),
        issue: extra.issue.clone(),
        sentiment: extra.sentiment.clone(),
        opened_at: c.opened_at,
        last_activity_at: c.last_activity_at,
        first_response_at: c.first_response_at,
        resolved_at: c.resolved_at,
        due_at,
        sla_state: worst.map(|s| s.as_str().to_string()),
        merged_into: c.merged_into.map(|m| m.0 as i64),
        data: serde_json::to_value(stored).context("encoding a case")?,
        storm_case: None,
    })
}

/// Case attributes that come from its posts' analysis.
#[derive(Debug, Clone, Default)]
pub struct CaseExtra {
    /// Issue type of the most urgent customer post.
    pub issue: Option<String>,
    /// Sentiment of the latest customer post.
    pub sentiment: Option<String>,
    issue_priority: i64,
}

impl CaseExtra {
    /// The attributes as stored on a case row.
    pub fn of(row: &CaseRow) -> CaseExtra {
        CaseExtra {
            issue: row.issue.clone(),
            sentiment: row.sentiment.clone(),
            issue_priority: if row.issue.is_some() { row.priority } else { -1 },
        }
    }
}

/// What a threading run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ThreadSummary {
    /// Posts looked at.
    pub posts: u64,
    /// Posts now in a case.
    pub linked: u64,
    /// Cases opened.
    pub opened: u64,
    /// Storm events (opened, updated, closed) in this run.
    pub storm_events: u64,
}

/// The stage: a threader with its memory, the SLA policies, and the working set of cases.
pub struct CaseStage {
    threader: Threader,
    policies: SlaPolicies,
    fallback: SlaPolicy,
    /// Cases touched in this process, by id, with their analysis-derived attributes.
    cases: BTreeMap<CaseId, (StoredCase, CaseExtra)>,
    /// Storm detection over the same posts (on unless turned off).
    storms: Option<crate::storms::StormStage>,
}

impl std::fmt::Debug for CaseStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseStage").field("cases", &self.cases.len()).finish_non_exhaustive()
    }
}

/// Remedies a brand reply offers, found by plain phrases (a reply proposing a refund offers a refund).
pub fn remedies_in(text: &str) -> Vec<Remedy> {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    let mut out = Vec::new();
    if has(&["sorry", "apolog"]) {
        out.push(Remedy::Apology);
    }
    if has(&["replace", "new pair", "new one", "send you another", "get a new"]) {
        out.push(Remedy::Replacement);
    }
    if has(&["refund", "money back", "reimburse"]) {
        out.push(Remedy::Refund);
    }
    if has(&["gift card", "gift certificate", "store credit", "voucher", "credit to your account"]) {
        out.push(Remedy::GiftCard);
    }
    if has(&["waitlist", "wait list", "back in stock", "restock"]) {
        out.push(Remedy::Waitlist);
    }
    if has(&["overnight", "expedite", "express ship", "rush"]) {
        out.push(Remedy::ExpeditedShipping);
    }
    out
}

impl CaseStage {
    /// Builds the stage over `store`, restoring the threader's memory of recent cases.
    pub fn open(store: &dyn Store, policies: SlaPolicies) -> Result<CaseStage> {
        let storms = crate::storms::StormStage::open(store, Default::default(), None, None)?;
        Self::open_with(store, policies, Some(storms))
    }

    /// Like [`CaseStage::open`], with storm detection as configured (`None`: no storm detection).
    pub fn open_with(
        store: &dyn Store,
        policies: SlaPolicies,
        storms: Option<crate::storms::StormStage>,
    ) -> Result<CaseStage> {
        let config = ThreaderConfig::default();
        let mut threader = Threader::new(config.clone());
        // Not `stats()`: its counts scan the whole store, and this runs after every ingest.
        let last = store.last_published().context("reading the store")?.unwrap_or_default();
        let since = last - Duration::from_std(config.retention).unwrap_or(Duration::days(14));
        for row in store.recent_cases(since).context("reading recent cases")? {
            threader.restore(&StoredCase::from_row(&row)?.case);
        }
        threader.reserve_ids_below(CaseId(store.max_case_id().context("reading case ids")?.max(0) as u64 + 1));
        Ok(CaseStage { threader, policies, fallback: default_policy(), cases: BTreeMap::new(), storms })
    }

    /// The SLA policy of a brand.
    pub fn policy(&self, brand: &str) -> &SlaPolicy {
        self.policies.for_brand(brand).unwrap_or(&self.fallback)
    }

    fn load(&mut self, store: &dyn Store, id: CaseId) -> Result<bool> {
        if self.cases.contains_key(&id) {
            return Ok(true);
        }
        let Some(row) = store.case(id.0 as i64).context("reading a case")? else { return Ok(false) };
        let stored = StoredCase::from_row(&row)?;
        let extra = CaseExtra::of(&row);
        self.cases.insert(id, (stored, extra));
        Ok(true)
    }

    /// Threads every stored post not threaded yet. `now` is the clock SLA states are evaluated at.
    pub fn run(&mut self, store: &mut dyn Store, now: DateTime<Utc>) -> Result<ThreadSummary> {
        let mut summary = ThreadSummary::default();
        loop {
            let after = store.threaded_through().context("reading threading progress")?;
            let posts = store.posts_after(after, THREAD_BATCH).context("reading posts to thread")?;
            let Some(last) = posts.last().map(|p| p.id) else { break };
            let mut write = CaseWrite { threaded_through: Some(last), ..CaseWrite::default() };
            let mut touched = Vec::new();
            for p in &posts {
                summary.posts += 1;
                if let Some((case, opened)) = self.thread_one(store, p, &mut write)? {
                    summary.linked += 1;
                    summary.opened += u64::from(opened);
                    touched.push(case);
                    if let Some(storms) = &self.storms
                        && p.brand_author.is_some()
                    {
                        let at = p.post.published_at;
                        storms.brand_replied(store, &mut self.cases, &mut touched, case.0 as i64, Some(p), at)?;
                    }
                }
                if let Some(storms) = &mut self.storms {
                    storms.observe(p);
                    if storms.has_events() {
                        let threader = &mut self.threader;
                        let mut next_case_id = || {
                            let id = threader.next_case_id();
                            threader.reserve_ids_below(CaseId(id.0 + 1));
                            id
                        };
                        let before = write.storms.len();
                        storms.apply(store, &mut self.cases, &mut touched, &mut next_case_id, &mut write, now)?;
                        summary.storm_events += (write.storms.len() - before) as u64;
                    }
                }
            }
            if let Some(storms) = &mut self.storms {
                storms.save(&mut write, last)?;
            }
            touched.sort_unstable();
            touched.dedup();
            for id in touched {
                let (stored, extra) = &self.cases[&id];
                write.cases.push(to_row(stored, self.policy(&stored.case.brand), now, extra)?);
            }
            store.write_cases(&write, now).context("storing cases")?;
            // Bounded memory: the working set only needs the cases of the current batch.
            self.cases.clear();
            self.threader.evict_before(now - Duration::days(60));
        }
        Ok(summary)
    }

    fn thread_one(
        &mut self,
        store: &dyn Store,
        p: &StoredPost,
        write: &mut CaseWrite,
    ) -> Result<Option<(CaseId, bool)>> {
        let post = &p.post;
        let author_is_brand = p.brand_author.is_some();
        let brand = p.brand_author.clone().or_else(|| p.brands.first().map(|a| a.brand.clone()));
        let analysis = p.analysis.as_ref();
        let num = |path: &[&str]| -> Option<f64> {
            let mut v = analysis?;
            for k in path {
                v = v.get(k)?;
            }
            v.as_f64()
        };
        let text = |key: &str| analysis.and_then(|a| a.get(key)).and_then(|v| v.as_str()).map(str::to_string);
        let mut input = ThreadInput::from_post(post, brand.as_deref(), author_is_brand);
        input.is_complaint = analysis.and_then(|a| a.pointer("/complaint/label")).and_then(|v| v.as_bool());
        input.priority = num(&["priority", "score"]).map(|s| s.clamp(0.0, 100.0) as u8);
        let Some(assignment) = self.threader.assign(&input) else { return Ok(None) };
        let id = assignment.case_id;
        if assignment.opened {
            self.cases.insert(
                id,
                (
                    StoredCase {
                        case: Case::open(id, &input),
                        sla: Vec::new(),
                        remedies_offered: Vec::new(),
                        customer_signals: Vec::new(),
                        storm: None,
                    },
                    { CaseExtra { issue_priority: -1, ..CaseExtra::default() } },
                ),
            );
        } else if !self.load(store, id)? {
            // The threader remembers a case the store does not have (cannot happen unless the store was edited).
            return Ok(None);
        }
        let (stored, extra) = self.cases.get_mut(&id).expect("loaded above");
        stored.case.record(&input, &assignment);
        let case_id = id.0 as i64;
        write.links.push(CaseLink {
            post_id: p.id,
            case_id,
            role: role_name(assignment.role).into(),
            rule: format!("{:?}", assignment.rule).to_lowercase(),
        });
        let at = post.published_at;
        match assignment.role {
            Role::Customer => {
                stored.sla.push(SlaEvent::CustomerPosted { at });
                let priority = input.priority.map_or(0, i64::from);
                if priority > extra.issue_priority {
                    extra.issue_priority = priority;
                    extra.issue = text("issue");
                }
                extra.sentiment =
                    analysis.and_then(|a| a.pointer("/sentiment/label")).and_then(|v| v.as_str()).map(str::to_string);
                stored.customer_signals.extend(customer_signal(p));
            }
            Role::Brand => {
                stored.sla.push(SlaEvent::BrandReplied { at });
                // The brand is working it.
                if stored.case.status == earshot_cases::CaseStatus::New {
                    stored.case.status = earshot_cases::CaseStatus::Open;
                }
                // What the brand's public reply offers is a remedy given (an agent can record more later).
                for r in remedies_in(&post.text) {
                    if !stored.remedies_offered.contains(&r) {
                        stored.remedies_offered.push(r);
                    }
                    stored.case.add_remedy(r);
                }
            }
            Role::Participant => {}
        }
        for adopted in &assignment.adopted {
            stored.sla.push(SlaEvent::BrandReplied { at: adopted.published_at });
            if let Some(sp) = store.post(post.platform.as_str(), &adopted.native_id).context("reading a reply")? {
                write.links.push(CaseLink { post_id: sp.id, case_id, role: "brand".into(), rule: "adopted".into() });
            }
        }
        // SLA events must be in time order for the clock; posts can arrive out of order.
        stored.sla.sort_by_key(sla_time);
        stored.refresh_outcome();
        write.events.push(CaseEvent {
            case_id,
            at,
            kind: if assignment.opened { "opened".into() } else { format!("{}_posted", role_name(assignment.role)) },
            actor: None,
            data: serde_json::json!({ "post": post.native_id, "platform": post.platform.as_str(), "rule": format!("{:?}", assignment.rule).to_lowercase() }),
        });
        Ok(Some((id, assignment.opened)))
    }
}

pub(crate) fn sla_time(e: &SlaEvent) -> DateTime<Utc> {
    match *e {
        SlaEvent::CustomerPosted { at }
        | SlaEvent::BrandReplied { at }
        | SlaEvent::StatusChanged { at, .. }
        | SlaEvent::Resolved { at }
        | SlaEvent::Reopened { at } => at,
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Customer => "customer",
        Role::Brand => "brand",
        Role::Participant => "participant",
    }
}

/// The staying-or-leaving signals of a customer post, when it has any.
fn customer_signal(p: &StoredPost) -> Option<CustomerSignal> {
    let analysis = p.analysis.as_ref()?;
    let signals = analysis.get("signals").and_then(|s| s.as_array());
    let values = |kind: &str| -> Vec<String> {
        signals
            .into_iter()
            .flatten()
            .filter(|s| s.get("kind").and_then(|k| k.as_str()) == Some(kind))
            .filter_map(|s| s.get("value").and_then(|v| v.as_str()).map(str::to_string))
            .collect()
    };
    let s = CustomerSignal {
        post_id: p.post.native_id.clone(),
        at: p.post.published_at,
        churn: !values("churn_threat").is_empty(),
        loyalty: !values("loyalty").is_empty(),
        competitor: values("competitor").into_iter().next(),
        compound: analysis.pointer("/vader/compound").and_then(|v| v.as_f64()).unwrap_or(0.0),
        text: p.post.text.clone(),
    };
    (s.churn || s.loyalty || s.competitor.is_some() || s.compound.abs() >= 0.5).then_some(s)
}

/// Reads `[sla]` from a config file (absent: no per-brand policies, the default applies).
pub fn load_policies(path: Option<&std::path::Path>) -> Result<SlaPolicies> {
    let Some(path) = path else { return Ok(SlaPolicies::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    policies_from_toml(&text).with_context(|| format!("in config file {}", path.display()))
}

/// The `[sla]` section of a config file's text: `[sla.default]` and `[sla.brands.NAME]` policies.
pub fn policies_from_toml(text: &str) -> Result<SlaPolicies> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        sla: Option<toml::Value>,
    }
    let file: File = toml::from_str(text)?;
    match file.sla {
        None => Ok(SlaPolicies::default()),
        Some(v) => SlaPolicies::from_toml_str(&toml::to_string(&v)?).context("in the [sla] section"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remedies_found_in_brand_replies() {
        let gilt = "@AllieWhitford We're so sorry! That style is sold out, so we can refund you in full and put you at \
                    the top of the waitlist. Would that help?";
        assert_eq!(remedies_in(gilt), vec![Remedy::Apology, Remedy::Refund, Remedy::Waitlist]);
        let brooks = "So sorry to hear that, Joel! DM us your address and we'll get a new pair out to you.";
        assert_eq!(remedies_in(brooks), vec![Remedy::Apology, Remedy::Replacement]);
        assert!(remedies_in("Thanks for reaching out").is_empty());
    }
}
