//! What agents do to a case (assign, note, remedy, status, reply, merge), shared by the web inbox and the API.
//! Every action checks the caller's role and brand, changes the stored case, appends an event, and re-evaluates
//! the SLA clocks — in one transaction.

use crate::auth::{Role, may_see};
use crate::cases::{CaseExtra, StoredCase, to_row};
use anyhow::anyhow;
use chrono::{DateTime, Utc};
use earshot_cases::{CaseStatus, Remedy, SlaEvent, SlaPolicies};
use earshot_store::{AnyStore, CaseEvent, CaseWrite, Store, UserRow};

/// Why an action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// No such case, or not one the caller may see (the two are not told apart).
    #[error("no such case")]
    NotFound,
    /// The caller's role may not do this.
    #[error("your role ({0}) may not do this")]
    Forbidden(String),
    /// The request is malformed.
    #[error("{0}")]
    Bad(String),
    /// Storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// One action on a case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "action", content = "value", rename_all = "snake_case")]
pub enum Action {
    /// Give the case to someone (a lead may assign anyone; an agent only themself).
    Assign(String),
    /// An internal note.
    Note(String),
    /// Record a remedy given to the customer.
    Remedy(String),
    /// Move to another status.
    Status(String),
    /// Reply to the customer on the case's platform; `remedies` are what the reply offers.
    Reply {
        /// The reply text.
        text: String,
        /// Remedies it offers.
        #[serde(default)]
        remedies: Vec<String>,
    },
    /// Merge this case into another.
    Merge(i64),
}

/// What happened, for the flash message and the API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActionResult {
    /// Human summary.
    pub message: String,
    /// The case as it is now.
    pub case: earshot_store::CaseRow,
}

fn load(store: &AnyStore, user: &UserRow, id: i64) -> Result<(earshot_store::CaseRow, StoredCase), ActionError> {
    let row = store.case(id).map_err(anyhow::Error::from)?.ok_or(ActionError::NotFound)?;
    if !may_see(user, &row.brand) {
        return Err(ActionError::NotFound);
    }
    let stored = StoredCase::from_row(&row)?;
    Ok((row, stored))
}

/// Applies `action` to case `id` as `user` at `now`.
pub fn apply(
    store: &mut AnyStore,
    policies: &SlaPolicies,
    user: &UserRow,
    id: i64,
    action: Action,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<ActionResult, ActionError> {
    let role = Role::of(user);
    let (row, mut stored) = load(store, user, id)?;
    if role < Role::Agent {
        return Err(ActionError::Forbidden(user.role.clone()));
    }
    let mut events = Vec::new();
    let event = |kind: &str, data: serde_json::Value| CaseEvent {
        case_id: id,
        at: now,
        kind: kind.into(),
        actor: Some(user.name.clone()),
        data,
    };
    let mut extra_rows = Vec::new();
    let message = match action {
        Action::Assign(who) => {
            let who = who.trim().to_string();
            if role < Role::Lead && !who.eq_ignore_ascii_case(&user.name) {
                return Err(ActionError::Forbidden(format!("{}: agents may only assign themselves", user.role)));
            }
            stored.case.assignee = (!who.is_empty()).then(|| who.clone());
            events.push(event("assigned", serde_json::json!({ "assignee": who })));
            format!("assigned to {}", if who.is_empty() { "nobody" } else { &who })
        }
        Action::Note(text) => {
            let text = text.trim().to_string();
            if text.is_empty() {
                return Err(ActionError::Bad("a note needs some text".into()));
            }
            stored.case.add_note(user.name.clone(), now, text.clone());
            events.push(event("note", serde_json::json!({ "text": text })));
            "note added".into()
        }
        Action::Remedy(name) => {
            let remedy: Remedy = name.parse().map_err(|_| ActionError::Bad(format!("unknown remedy {name:?}")))?;
            stored.case.add_remedy(remedy);
            events.push(event("remedy", serde_json::json!({ "remedy": remedy.as_str() })));
            format!("remedy recorded: {}", remedy.as_str())
        }
        Action::Status(name) => {
            let to: CaseStatus = name.parse().map_err(|_| ActionError::Bad(format!("unknown status {name:?}")))?;
            let from = stored.case.status;
            stored.case.set_status(to, now).map_err(|e| ActionError::Bad(e.to_string()))?;
            stored.sla.push(match to {
                CaseStatus::Resolved | CaseStatus::Closed => SlaEvent::Resolved { at: now },
                _ if matches!(from, CaseStatus::Resolved) => SlaEvent::Reopened { at: now },
                _ => SlaEvent::StatusChanged { at: now, status: to },
            });
            events.push(event("status", serde_json::json!({ "from": from.as_str(), "to": to.as_str() })));
            format!("status: {}", to.as_str())
        }
        Action::Reply { text, remedies } => {
            let text = text.trim().to_string();
            if text.is_empty() {
                return Err(ActionError::Bad("a reply needs some text".into()));
            }
            let offered: Vec<Remedy> = remedies.iter().filter_map(|r| r.trim().parse().ok()).collect();
            for r in &offered {
                if !stored.remedies_offered.contains(r) {
                    stored.remedies_offered.push(*r);
                }
            }
            // A reply sent from earshot is the brand responding now; the platform's copy, when ingested later,
            // joins the thread as the same response.
            stored.sla.push(SlaEvent::BrandReplied { at: now });
            stored.case.brand_replied(now);
            let in_reply_to = stored.case.post_ids.last().cloned().unwrap_or_default();
            events.push(event(
                "reply",
                serde_json::json!({
                    "text": text,
                    "remedies": offered.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "platform": row.platform,
                    "in_reply_to": in_reply_to,
                    "state": if dry_run { "dry_run" } else { "queued" },
                    "idempotency_key": format!("case-{id}-reply-{}", now.timestamp_millis()),
                }),
            ));
            if dry_run { "reply recorded (dry run: not sent)".into() } else { "reply queued".into() }
        }
        Action::Merge(into) => {
            if role < Role::Lead {
                return Err(ActionError::Forbidden(format!("{}: merging needs a lead", user.role)));
            }
            let (into_row, mut target) = load(store, user, into)?;
            target.case.merge_from(&mut stored.case).map_err(|e| ActionError::Bad(e.to_string()))?;
            target.sla.append(&mut stored.sla);
            target.sla.sort_by_key(SlaEvent::at);
            events.push(event("merged", serde_json::json!({ "into": into })));
            let extra = CaseExtra::of(&into_row);
            extra_rows.push(to_row(&target, policy(policies, &target), now, &extra)?);
            format!("merged into #{into}")
        }
    };
    stored.sla.sort_by_key(SlaEvent::at);
    let extra = CaseExtra::of(&row);
    let updated = to_row(&stored, policy(policies, &stored), now, &extra)?;
    let mut cases = vec![updated.clone()];
    cases.extend(extra_rows);
    store
        .write_cases(&CaseWrite { cases, events, ..CaseWrite::default() }, now)
        .map_err(|e| ActionError::Internal(anyhow!(e)))?;
    Ok(ActionResult { message, case: updated })
}

fn policy<'a>(policies: &'a SlaPolicies, stored: &StoredCase) -> &'a earshot_cases::SlaPolicy {
    static DEFAULT: std::sync::LazyLock<earshot_cases::SlaPolicy> =
        std::sync::LazyLock::new(crate::cases::default_policy);
    policies.for_brand(&stored.case.brand).unwrap_or(&DEFAULT)
}
