//! Earshot's Act stage: customer cases with SLA clocks, suggested replies and outcomes.
//!
//! Pure logic — no I/O, no SQL, no wall clock: every time is an input, so everything here is
//! deterministic and property-tested.
//!
//! # The model
//!
//! - A [`Case`] is one customer's issue with one brand on one platform: the customer's posts and the
//!   brand's replies, a workflow [`CaseStatus`] (new → open ⇄ waiting_on_customer → resolved → closed),
//!   assignee, priority, labels, notes, the [`Remedy`]s offered and the [`Outcome`] (kept, lost,
//!   unknown) with the post that showed it.
//! - The [`Threader`] ([`thread`]) assigns each incoming post ([`ThreadInput`]) to a case, streaming and
//!   deterministic: replies, conversations and a customer's follow-ups join their case; brand replies
//!   join the case they answer and mark the first response; otherwise an attributed customer post
//!   opens a case. Its state is bounded (retention and size caps) and restorable from storage.
//! - [`SlaPolicy`] ([`sla`]) sets first-response, next-response and resolution targets per brand, in
//!   business hours of a [`Calendar`] (IANA time zone, weekly hours, holidays). The clock
//!   ([`evaluate`], [`SlaClock`]) replays a case's [`SlaEvent`]s at an instant `now` and reports each
//!   target's state, due time and elapsed business time, plus a storable [`SlaTransition`] history.
//! - [`ReplyTemplates`] ([`reply`]) suggest replies by issue type, signals and brand policy, from
//!   editable MiniJinja templates; each leads with empathy and offers fitting remedies, and the
//!   escalation policy (defect out of stock, or churn) always offers apology + refund + gift card.
//! - [`infer_outcome`] ([`outcome`]) reads kept or lost from the customer's posts after the reply.
//!
//! # Wiring it up
//!
//! For each analyzed post: build a [`ThreadInput`], call [`Threader::assign`], then
//! [`Case::open`] or [`Case::record`] with the [`Assignment`], and record the matching
//! [`SlaEvent`] (`CustomerPosted` for [`Role::Customer`], `BrandReplied` for [`Role::Brand`] and for each
//! [`Assignment::adopted`] reply, at the post's published time; nothing for [`Role::Participant`]). Agents' status changes become [`SlaEvent::StatusChanged`] and go to
//! [`Threader::set_status`] too.

pub mod case;
pub mod outcome;
pub mod reply;
pub mod sla;
pub mod thread;

pub use case::{Case, CaseError, CaseId, CaseStatus, Note, Outcome, OutcomeEvidence, Remedy};
pub use outcome::{LaterPost, infer_outcome};
pub use reply::{
    BrandPolicy, IssueType, ReplyContext, ReplyError, ReplyTemplate, ReplyTemplates, Suggestion, char_limit, suggest,
};
pub use sla::{
    Calendar, SlaClock, SlaConfigError, SlaEvent, SlaPolicies, SlaPolicy, SlaReport, SlaState, SlaTarget,
    SlaTransition, TargetStatus, evaluate,
};
pub use thread::{Adopted, Assignment, Role, Rule, ThreadInput, Threader, ThreaderConfig, ThreaderStats};
