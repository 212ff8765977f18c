//! The case model: one customer's issue with one brand on one platform, from the first post to the outcome.
//!
//! A [`Case`] is what an agent works: it groups the customer's posts and the brand's replies (see
//! [`crate::thread`]), carries workflow state ([`CaseStatus`], assignee, priority, labels, notes), what the
//! brand offered ([`Remedy`]) and whether the customer stayed ([`Outcome`]).
//!
//! Posts are referred to by their platform's native id; the platform is the case's own, since a case
//! never spans platforms (handles are per platform). Every time is an input — the published time of a
//! post or the instant an agent acted — never the wall clock.

use chrono::{DateTime, Utc};
use earshot_core::post::Platform;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::thread::{Assignment, Role, ThreadInput};

/// A case's identifier, allocated by the [`crate::thread::Threader`] (or restored from storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub u64);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "case {}", self.0)
    }
}

/// Where a case is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Opened by a customer post; nobody has looked at it yet.
    #[default]
    New,
    /// Being worked.
    Open,
    /// The brand asked the customer something; the SLA clock is paused until the customer answers.
    WaitingOnCustomer,
    /// The brand considers the issue solved; a customer reply may reopen it.
    Resolved,
    /// Final: nothing more happens on this case; a further customer post opens a new one.
    Closed,
}

impl CaseStatus {
    /// All statuses in workflow order.
    pub const ALL: [CaseStatus; 5] =
        [CaseStatus::New, CaseStatus::Open, CaseStatus::WaitingOnCustomer, CaseStatus::Resolved, CaseStatus::Closed];

    /// The stable snake_case name stored in databases and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::Open => "open",
            CaseStatus::WaitingOnCustomer => "waiting_on_customer",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Closed => "closed",
        }
    }

    /// True while the case still needs work (neither resolved nor closed).
    pub fn is_active(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }

    /// Whether a case may move from `self` to `to`. Every move is allowed except out of
    /// [`CaseStatus::Closed`] and back to [`CaseStatus::New`] (a case is new only once).
    pub fn can_become(self, to: CaseStatus) -> bool {
        self == to || (self != CaseStatus::Closed && to != CaseStatus::New)
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseStatus {
    type Err = CaseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        CaseStatus::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| CaseError::UnknownName {
            kind: "case status",
            name: s,
            expected: names(&CaseStatus::ALL),
        })
    }
}

/// Something the brand offers to make things right. A case can collect several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// A sincere apology (every suggested reply leads with one).
    Apology,
    /// A replacement product.
    Replacement,
    /// Money back.
    Refund,
    /// A gift card or store credit on top.
    GiftCard,
    /// A place on the waitlist / a restock notification for an out-of-stock product.
    Waitlist,
    /// Faster shipping for the replacement or the next order.
    ExpeditedShipping,
    /// Anything else (described in a note).
    Other,
}

impl Remedy {
    /// All remedies.
    pub const ALL: [Remedy; 7] = [
        Remedy::Apology,
        Remedy::Replacement,
        Remedy::Refund,
        Remedy::GiftCard,
        Remedy::Waitlist,
        Remedy::ExpeditedShipping,
        Remedy::Other,
    ];

    /// The stable snake_case name used in config files and databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::Apology => "apology",
            Remedy::Replacement => "replacement",
            Remedy::Refund => "refund",
            Remedy::GiftCard => "gift_card",
            Remedy::Waitlist => "waitlist",
            Remedy::ExpeditedShipping => "expedited_shipping",
            Remedy::Other => "other",
        }
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Remedy {
    type Err = CaseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Remedy::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| CaseError::UnknownName {
            kind: "remedy",
            name: s,
            expected: names(&Remedy::ALL),
        })
    }
}

/// Whether the brand kept the customer, as far as their later public posts tell (see [`crate::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The customer stayed: a later post shows loyalty or clearly positive sentiment.
    Kept,
    /// The customer left: a later post announces leaving or names a competitor.
    Lost,
    /// Nothing decisive was said (yet).
    #[default]
    Unknown,
}

impl Outcome {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::Lost => "lost",
            Outcome::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The post an [`Outcome`] was read from, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeEvidence {
    /// Native id of the customer's later post (on the case's platform).
    pub post_id: String,
    /// Why it decided the outcome, e.g. `names competitor "Acme"`.
    pub reason: String,
}

/// An internal note an agent left on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Who wrote it (agent name or id).
    pub author: String,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// The note itself.
    pub text: String,
}

/// One customer's issue with one brand on one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Identifier.
    pub id: CaseId,
    /// The brand (its configured name) the customer addressed.
    pub brand: String,
    /// The customer's handle, normalized (lowercase, no `@`).
    pub customer: String,
    /// The platform all of the case's posts are on.
    pub platform: Platform,
    /// Workflow status.
    pub status: CaseStatus,
    /// The agent working it, when assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// 0–100, the highest priority of its posts (agents may override).
    pub priority: u8,
    /// Free labels (issue type, product, campaign...), deduplicated case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Internal notes, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// What the brand offered, in the order offered, without repeats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remedies: Vec<Remedy>,
    /// Whether the customer stayed.
    #[serde(default)]
    pub outcome: Outcome,
    /// The post the outcome was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_evidence: Option<OutcomeEvidence>,
    /// Published time of the case's earliest post (the SLA clock starts here, not when earshot saw it).
    pub opened_at: DateTime<Utc>,
    /// Published time of the case's latest post.
    pub last_activity_at: DateTime<Utc>,
    /// Native ids of the case's posts, in the order they were recorded, without repeats.
    pub post_ids: Vec<String>,
    /// Published time of the earliest brand reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<DateTime<Utc>>,
    /// Published time of the latest customer post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_customer_at: Option<DateTime<Utc>>,
    /// Published time of the latest brand reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_brand_at: Option<DateTime<Utc>>,
    /// When it was last resolved (cleared when reopened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Set when this case was merged into another one; it then only points there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<CaseId>,
}

impl Case {
    /// A new case opened by `input` (normally the customer's first post, see [`Assignment::opened`]).
    ///
    /// The customer is the input's author unless the input is a brand post, in which case it is the
    /// author of the post replied to (or empty when unknown).
    pub fn open(id: CaseId, input: &ThreadInput) -> Case {
        let customer = if input.author_is_brand {
            input.reply_to_author.as_deref().map(earshot_core::post::normalize_handle).unwrap_or_default()
        } else {
            earshot_core::post::normalize_handle(&input.author_handle)
        };
        let mut case = Case {
            id,
            brand: input.brand.clone().unwrap_or_default(),
            customer,
            platform: input.platform,
            status: CaseStatus::New,
            assignee: None,
            priority: 0,
            labels: Vec::new(),
            notes: Vec::new(),
            remedies: Vec::new(),
            outcome: Outcome::Unknown,
            outcome_evidence: None,
            opened_at: input.published_at,
            last_activity_at: input.published_at,
            post_ids: Vec::new(),
            first_response_at: None,
            last_customer_at: None,
            last_brand_at: None,
            resolved_at: None,
            closed_at: None,
            merged_into: None,
        };
        let role = if input.author_is_brand { Role::Brand } else { Role::Customer };
        case.record_post(input, role);
        case
    }

    /// Records a post the threader assigned to this case: adds its id, moves the activity times and
    /// raises the priority. Also records posts the assignment adopted (brand replies that arrived
    /// before the post they answer). Recording the same post twice changes nothing more.
    ///
    /// A customer post on a resolved case reopens it when the assignment says so
    /// ([`Assignment::reopened`]); one while waiting on the customer moves the case back to open.
    pub fn record(&mut self, input: &ThreadInput, assignment: &Assignment) {
        self.record_post(input, assignment.role);
        for adopted in &assignment.adopted {
            self.record_at(&adopted.native_id, adopted.published_at, Role::Brand);
        }
        if assignment.reopened && self.status == CaseStatus::Resolved {
            self.status = CaseStatus::Open;
            self.resolved_at = None;
        } else if assignment.role == Role::Customer && self.status == CaseStatus::WaitingOnCustomer {
            self.status = CaseStatus::Open;
        }
    }

    fn record_post(&mut self, input: &ThreadInput, role: Role) {
        self.record_at(&input.native_id, input.published_at, role);
        if let Some(priority) = input.priority {
            self.priority = self.priority.max(priority.min(100));
        }
    }

    fn record_at(&mut self, native_id: &str, at: DateTime<Utc>, role: Role) {
        if self.post_ids.iter().any(|id| id == native_id) {
            return;
        }
        self.post_ids.push(native_id.to_string());
        self.opened_at = self.opened_at.min(at);
        self.last_activity_at = self.last_activity_at.max(at);
        match role {
            Role::Customer => self.last_customer_at = Some(self.last_customer_at.map_or(at, |t| t.max(at))),
            Role::Brand => {
                self.first_response_at = Some(self.first_response_at.map_or(at, |t| t.min(at)));
                self.last_brand_at = Some(self.last_brand_at.map_or(at, |t| t.max(at)));
            }
            Role::Participant => {}
        }
    }

    /// The brand answered at `at` from outside the ingested data (a reply an agent sent from the inbox): the same
    /// bookkeeping as a brand post joining the thread, and a new case is now open. The platform's copy of the
    /// reply, when ingested later, joins the thread as the same response.
    pub fn brand_replied(&mut self, at: DateTime<Utc>) {
        self.first_response_at = Some(self.first_response_at.map_or(at, |t| t.min(at)));
        self.last_brand_at = Some(self.last_brand_at.map_or(at, |t| t.max(at)));
        self.last_activity_at = self.last_activity_at.max(at);
        if self.status == CaseStatus::New {
            self.status = CaseStatus::Open;
        }
    }

    /// Moves the case to `to` at `at` (an agent's action; time is an input).
    ///
    /// Sets `resolved_at` / `closed_at`, clears `resolved_at` when a resolved case is reopened, and
    /// refuses moves out of a closed case or back to new.
    pub fn set_status(&mut self, to: CaseStatus, at: DateTime<Utc>) -> Result<(), CaseError> {
        if !self.status.can_become(to) {
            return Err(CaseError::Transition { case: self.id, from: self.status, to });
        }
        match to {
            CaseStatus::Resolved => self.resolved_at = Some(at),
            CaseStatus::Closed => {
                self.closed_at = Some(at);
                self.resolved_at.get_or_insert(at);
            }
            CaseStatus::New | CaseStatus::Open | CaseStatus::WaitingOnCustomer => self.resolved_at = None,
        }
        self.status = to;
        Ok(())
    }

    /// Adds an internal note.
    pub fn add_note(&mut self, author: impl Into<String>, at: DateTime<Utc>, text: impl Into<String>) {
        self.notes.push(Note { author: author.into(), at, text: text.into() });
    }

    /// Adds a remedy unless the case already has it.
    pub fn add_remedy(&mut self, remedy: Remedy) {
        if !self.remedies.contains(&remedy) {
            self.remedies.push(remedy);
        }
    }

    /// Adds a label unless an equal one (ignoring ASCII case) is already there.
    pub fn add_label(&mut self, label: &str) {
        earshot_core::post::push_unique(&mut self.labels, label);
    }

    /// Sets the outcome and the post it was read from.
    pub fn set_outcome(&mut self, outcome: Outcome, evidence: Option<OutcomeEvidence>) {
        self.outcome = outcome;
        self.outcome_evidence = evidence;
    }

    /// Folds `other` into this case (see [`crate::thread::Threader::merge`] for the index side).
    ///
    /// Posts, labels, notes (kept in time order) and remedies are united; times take the earliest
    /// opening and first response and the latest activity; priority the higher one; assignee and
    /// outcome are kept unless this case has none. `other` is marked as merged into this case and
    /// keeps nothing else that matters. Cases of different brands, customers or platforms, or a case
    /// merged into itself, are refused.
    pub fn merge_from(&mut self, other: &mut Case) -> Result<(), CaseError> {
        if self.id == other.id {
            return Err(CaseError::SelfMerge { case: self.id });
        }
        if self.platform != other.platform || self.brand != other.brand || self.customer != other.customer {
            return Err(CaseError::MergeMismatch {
                from: other.id,
                into: self.id,
                from_key: format!("{}/{}/{}", other.platform, other.brand, other.customer),
                into_key: format!("{}/{}/{}", self.platform, self.brand, self.customer),
            });
        }
        for id in &other.post_ids {
            if !self.post_ids.contains(id) {
                self.post_ids.push(id.clone());
            }
        }
        for label in &other.labels {
            self.add_label(label);
        }
        self.notes.extend(other.notes.iter().cloned());
        self.notes.sort_by_key(|n| n.at);
        for remedy in &other.remedies {
            self.add_remedy(*remedy);
        }
        self.opened_at = self.opened_at.min(other.opened_at);
        self.last_activity_at = self.last_activity_at.max(other.last_activity_at);
        self.first_response_at = min_opt(self.first_response_at, other.first_response_at);
        self.last_customer_at = self.last_customer_at.max(other.last_customer_at);
        self.last_brand_at = self.last_brand_at.max(other.last_brand_at);
        self.priority = self.priority.max(other.priority);
        if self.assignee.is_none() {
            self.assignee = other.assignee.clone();
        }
        if self.outcome == Outcome::Unknown && other.outcome != Outcome::Unknown {
            self.outcome = other.outcome;
            self.outcome_evidence = other.outcome_evidence.clone();
        }
        if !self.status.is_active() && other.status.is_active() {
            self.status = CaseStatus::Open;
            self.resolved_at = None;
            self.closed_at = None;
        }
        other.merged_into = Some(self.id);
        other.status = CaseStatus::Closed;
        Ok(())
    }
}

fn min_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn names<T: fmt::Display>(all: &[T]) -> String {
    all.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// What can go wrong when working a case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// A name in config or input is not one of the known ones.
    #[error("unknown {kind} {name:?}; use one of: {expected}")]
    UnknownName {
        /// What was being parsed (`remedy`, `case status`).
        kind: &'static str,
        /// The name given.
        name: String,
        /// The accepted names.
        expected: String,
    },
    /// A status change the workflow does not allow.
    #[error(
        "{case} cannot move from {from} to {to}: a closed case is final (a new customer post opens a new case) \
         and a case is new only once; reopen a resolved case with `open` instead"
    )]
    Transition {
        /// The case.
        case: CaseId,
        /// Its current status.
        from: CaseStatus,
        /// The status asked for.
        to: CaseStatus,
    },
    /// A case merged into itself.
    #[error("cannot merge {case} into itself; pick two different cases")]
    SelfMerge {
        /// The case.
        case: CaseId,
    },
    /// Merging cases of different customers, brands or platforms.
    #[error(
        "cannot merge {from} ({from_key}) into {into} ({into_key}): cases merge only within one \
         platform/brand/customer; link them with a note instead"
    )]
    MergeMismatch {
        /// The case merged away.
        from: CaseId,
        /// The case kept.
        into: CaseId,
        /// `platform/brand/customer` of `from`.
        from_key: String,
        /// `platform/brand/customer` of `into`.
        into_key: String,
    },
    /// A merge naming a case the threader does not know (never seen, or evicted).
    #[error("{case} is not known to the threader (never seen or evicted); restore it with `Threader::restore` first")]
    UnknownCase {
        /// The case.
        case: CaseId,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 3, h, 0, 0).unwrap()
    }

    fn input(id: &str, author: &str, brand_side: bool, h: u32) -> ThreadInput {
        let mut i = ThreadInput::new(Platform::X, id, author, t(h));
        i.author_is_brand = brand_side;
        i.brand = Some("Gilt".into());
        i
    }

    #[test]
    fn names_round_trip_and_serde_is_snake_case() {
        for s in CaseStatus::ALL {
            assert_eq!(s.as_str().parse::<CaseStatus>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        for r in Remedy::ALL {
            assert_eq!(r.as_str().parse::<Remedy>().unwrap(), r);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
        assert_eq!("Gift Card".parse::<Remedy>().unwrap(), Remedy::GiftCard);
        assert_eq!("waiting-on-customer".parse::<CaseStatus>().unwrap(), CaseStatus::WaitingOnCustomer);
        let err = "voucher".parse::<Remedy>().unwrap_err().to_string();
        assert!(err.contains("voucher") && err.contains("gift_card"), "{err}");
        assert_eq!(serde_json::to_string(&Outcome::Lost).unwrap(), "\"lost\"");
    }

    #[test]
    fn open_and_record_track_times_roles_and_priority() {
        let mut first = input("1", "@Alice", false, 9);
        first.priority = Some(40);
        let mut case = Case::open(CaseId(1), &first);
        assert_eq!(case.customer, "alice");
        assert_eq!(case.opened_at, t(9));
        assert_eq!(case.priority, 40);
        assert_eq!(case.last_customer_at, Some(t(9)));

        let reply = input("2", "gilt", true, 11);
        let a = Assignment::joined(CaseId(1), Role::Brand);
        case.record(&reply, &a);
        case.record(&reply, &a);
        assert_eq!(case.post_ids, ["1", "2"]);
        assert_eq!(case.first_response_at, Some(t(11)));

        // An earlier brand reply recorded late still becomes the first response.
        let early = input("3", "gilt", true, 10);
        case.record(&early, &a);
        assert_eq!(case.first_response_at, Some(t(10)));
        assert_eq!(case.last_brand_at, Some(t(11)));

        let mut loud = input("4", "alice", false, 12);
        loud.priority = Some(250);
        case.record(&loud, &Assignment::joined(CaseId(1), Role::Customer));
        assert_eq!(case.priority, 100);
        assert_eq!(case.last_activity_at, t(12));
    }

    #[test]
    fn status_workflow() {
        let mut case = Case::open(CaseId(7), &input("1", "alice", false, 9));
        case.set_status(CaseStatus::Resolved, t(10)).unwrap();
        assert_eq!(case.resolved_at, Some(t(10)));
        case.set_status(CaseStatus::Open, t(11)).unwrap();
        assert_eq!(case.resolved_at, None);
        assert!(case.set_status(CaseStatus::New, t(11)).is_err());
        case.set_status(CaseStatus::Closed, t(12)).unwrap();
        assert_eq!((case.resolved_at, case.closed_at), (Some(t(12)), Some(t(12))));
        let err = case.set_status(CaseStatus::Open, t(13)).unwrap_err().to_string();
        assert!(err.contains("case 7") && err.contains("closed"), "{err}");
    }

    #[test]
    fn customer_reply_reopens_resolved_case_and_ends_waiting() {
        let mut case = Case::open(CaseId(1), &input("1", "alice", false, 9));
        case.set_status(CaseStatus::WaitingOnCustomer, t(10)).unwrap();
        case.record(&input("2", "alice", false, 11), &Assignment::joined(CaseId(1), Role::Customer));
        assert_eq!(case.status, CaseStatus::Open);
        case.set_status(CaseStatus::Resolved, t(12)).unwrap();
        let mut a = Assignment::joined(CaseId(1), Role::Customer);
        a.reopened = true;
        case.record(&input("3", "alice", false, 13), &a);
        assert_eq!((case.status, case.resolved_at), (CaseStatus::Open, None));
    }

    #[test]
    fn notes_remedies_labels_outcome() {
        let mut case = Case::open(CaseId(1), &input("1", "alice", false, 9));
        case.add_note("sam", t(10), "called the warehouse");
        case.add_remedy(Remedy::Apology);
        case.add_remedy(Remedy::Refund);
        case.add_remedy(Remedy::Apology);
        case.add_label("defect_or_damage");
        case.add_label("Defect_Or_Damage");
        case.set_outcome(Outcome::Kept, Some(OutcomeEvidence { post_id: "9".into(), reason: "loyalty".into() }));
        assert_eq!(case.remedies, [Remedy::Apology, Remedy::Refund]);
        assert_eq!(case.labels.len(), 1);
        assert_eq!(case.notes[0].text, "called the warehouse");
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["outcome"], "kept");
        assert_eq!(json["status"], "new");
        let back: Case = serde_json::from_value(json).unwrap();
        assert_eq!(back, case);
    }

    #[test]
    fn merge_unites_and_refuses_mismatches() {
        let mut a = Case::open(CaseId(1), &input("1", "alice", false, 10));
        a.add_note("sam", t(12), "later note");
        let mut b = Case::open(CaseId(2), &input("2", "alice", false, 9));
        b.add_note("kim", t(11), "earlier note");
        b.add_remedy(Remedy::Replacement);
        b.assignee = Some("kim".into());
        b.record(&input("3", "gilt", true, 11), &Assignment::joined(CaseId(2), Role::Brand));
        a.merge_from(&mut b).unwrap();
        assert_eq!(a.post_ids, ["1", "2", "3"]);
        assert_eq!(a.opened_at, t(9));
        assert_eq!(a.first_response_at, Some(t(11)));
        assert_eq!(a.notes.iter().map(|n| n.author.as_str()).collect::<Vec<_>>(), ["kim", "sam"]);
        assert_eq!(a.assignee.as_deref(), Some("kim"));
        assert_eq!(b.merged_into, Some(CaseId(1)));
        assert_eq!(b.status, CaseStatus::Closed);

        let mut other = Case::open(CaseId(3), &input("4", "bob", false, 9));
        assert!(matches!(a.merge_from(&mut other), Err(CaseError::MergeMismatch { .. })));
        let mut same = a.clone();
        assert!(matches!(a.merge_from(&mut same), Err(CaseError::SelfMerge { .. })));
    }
}
