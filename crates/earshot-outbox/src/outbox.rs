//! The outbox: replies waiting to go out, as a storage-agnostic state machine driven by time as input.
//!
//! ```text
//!            begin (journaled first)          Sent
//! pending ───────────────────────▶ sending ─────────▶ sent
//!    ▲  │                              │  retryable (5xx, 429, network down):
//!    │  │ dry run                      │  backoff, Retry-After ──▶ pending
//!    │  ▼                              │  permanent (401, 403, 404, 422), attempts exhausted,
//!    │ dry_run                         ▼  or maybe-delivered without idempotency ──▶ failed
//!    └──────────── requeue ────────── failed
//! ```
//!
//! # Delivery guarantee
//!
//! Every attempt is recorded as `sending` through the [`Journal`] *before* the platform is called, so
//! after a crash the store shows which replies may have been posted without earshot knowing.
//!
//! - **Mastodon** dedupes on the `Idempotency-Key` header (for about an hour), so re-sending is safe:
//!   an interrupted or maybe-delivered Mastodon reply is retried and is posted exactly once.
//! - **X, Bluesky, WordPress** have no idempotency key. The default, [`Delivery::AtMostOnce`], never
//!   re-sends a reply that may have reached the platform (a crash while `sending`, or a connection that
//!   broke after the request was written): it is marked `failed` with a reason asking a person to check
//!   the conversation and requeue it. A brand that prefers a possible duplicate to a possible silence
//!   chooses [`Delivery::AtLeastOnce`]. Failures where the platform answered (5xx, 429) or where no
//!   connection was made are retried under both, as nothing was posted.

use crate::backoff::Backoff;
use crate::config::OutboxConfig;
use crate::error::{ErrorClass, PublishError, name};
use crate::key::{fnv1a, idempotency_key};
use crate::publisher::{Publisher, Publishers, ReplyRequest, Sent};
use chrono::{DateTime, Utc};
use earshot_core::Platform;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

/// Where a reply is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// An attempt started and its result is not recorded yet.
    Sending,
    /// Published; see [`OutboxItem::sent`].
    Sent,
    /// Given up; see [`OutboxItem::last_error`]. [`OutboxItem::requeue`] tries again.
    Failed,
    /// Recorded by a dry run; nothing was called.
    DryRun,
}

impl OutboxState {
    /// The stable lowercase name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::DryRun => "dry_run",
        }
    }

    /// Parses [`OutboxState::as_str`].
    pub fn parse(name: &str) -> Option<OutboxState> {
        [OutboxState::Pending, OutboxState::Sending, OutboxState::Sent, OutboxState::Failed, OutboxState::DryRun]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One reply in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Storage id; [`OutboxItem::new`] uses the idempotency key.
    pub id: String,
    /// The case the reply answers.
    pub case_id: String,
    /// The brand replying (selects the account).
    pub brand: String,
    /// Where to publish.
    pub platform: Platform,
    /// The post answered, by native id (see [`ReplyRequest::in_reply_to`]).
    pub in_reply_to: String,
    /// The id the platform's API needs, when it differs (see [`ReplyRequest::in_reply_to_api_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to_api_id: Option<String>,
    /// The reply text.
    pub text: String,
    /// Derived from case and draft ([`idempotency_key`]), so a re-queued draft keeps it.
    pub idempotency_key: String,
    /// Attempts started so far.
    pub attempts: u32,
    /// Not to be attempted before this.
    pub next_attempt_at: DateTime<Utc>,
    /// Where it is in its life.
    pub state: OutboxState,
    /// Why the last attempt failed, in words for the care agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the latest attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempted_at: Option<DateTime<Utc>>,
    /// What was published, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
}

impl OutboxItem {
    /// A pending reply due at `now`, keyed by [`idempotency_key`]`(case_id, draft_id)`.
    pub fn new(
        case_id: &str,
        draft_id: &str,
        brand: &str,
        platform: Platform,
        in_reply_to: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> OutboxItem {
        let key = idempotency_key(case_id, draft_id);
        OutboxItem {
            id: key.clone(),
            case_id: case_id.to_string(),
            brand: brand.to_string(),
            platform,
            in_reply_to: in_reply_to.to_string(),
            in_reply_to_api_id: None,
            text: text.to_string(),
            idempotency_key: key,
            attempts: 0,
            next_attempt_at: now,
            state: OutboxState::Pending,
            last_error: None,
            attempted_at: None,
            sent: None,
        }
    }

    /// Pending and due at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.state == OutboxState::Pending && self.next_attempt_at <= now
    }

    /// The request an attempt at `now` sends.
    pub fn request(&self, now: DateTime<Utc>) -> ReplyRequest {
        ReplyRequest {
            platform: self.platform,
            in_reply_to: self.in_reply_to.clone(),
            in_reply_to_api_id: self.in_reply_to_api_id.clone(),
            text: self.text.clone(),
            idempotency_key: self.idempotency_key.clone(),
            created_at: Some(now),
        }
    }

    /// Puts a failed or dry-run reply back in the queue, due at `now`, with a fresh attempt count.
    /// The idempotency key is kept. Returns false (and changes nothing) in any other state.
    pub fn requeue(&mut self, now: DateTime<Utc>) -> bool {
        if !matches!(self.state, OutboxState::Failed | OutboxState::DryRun) {
            return false;
        }
        self.state = OutboxState::Pending;
        self.attempts = 0;
        self.next_attempt_at = now;
        true
    }
}

/// What to do with a reply that may have reached a platform without an idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Never risk a duplicate: mark it failed for a person to check (the default).
    #[default]
    AtMostOnce,
    /// Never risk silence: send it again, which may post it twice.
    AtLeastOnce,
}

/// How long a platform dedupes on the idempotency key; `None` when it does not.
/// Mastodon keeps `Idempotency-Key`s for an hour.
pub fn idempotency_window(platform: Platform) -> Option<Duration> {
    match platform {
        Platform::Mastodon => Some(Duration::from_secs(3600)),
        _ => None,
    }
}

/// What happened to one reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Published.
    Sent(Sent),
    /// Not published yet; attempted again at or after this time.
    Retry {
        /// The new `next_attempt_at`.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
        /// The platform answered 429: the account's other replies should wait too.
        rate_limited: bool,
    },
    /// Given up.
    Failed {
        /// Why, and what to do.
        reason: String,
    },
    /// Dry run: this is what would have been sent.
    DryRun(ReplyRequest),
    /// Not attempted: the same account was rate-limited earlier in this run.
    Deferred {
        /// The new `next_attempt_at`.
        until: DateTime<Utc>,
    },
}

/// What one [`Outbox::run`] did, in the order it did it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    /// Item id and what happened to it.
    pub outcomes: Vec<(String, Outcome)>,
}

impl RunReport {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| f(o)).count()
    }

    /// Replies published.
    pub fn sent(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Sent(_)))
    }

    /// Replies to be tried again later (retried or deferred).
    pub fn retrying(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Retry { .. } | Outcome::Deferred { .. }))
    }

    /// Replies given up.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    /// What a dry run would have sent.
    pub fn dry_run(&self) -> Vec<&ReplyRequest> {
        self.outcomes
            .iter()
            .filter_map(|(_, o)| match o {
                Outcome::DryRun(r) => Some(r),
                _ => None,
            })
            .collect()
    }
}

/// Why a [`Journal`] could not record an item.
pub type JournalError = Box<dyn std::error::Error + Send + Sync>;

/// Where the outbox records item states: the store, in production. A save must be durable when it
/// returns, since `sending` is saved before the platform is called.
pub trait Journal: Send {
    /// Records the item's current state.
    fn save(&mut self, item: &OutboxItem) -> impl Future<Output = Result<(), JournalError>> + Send;
}

/// Keeps every saved snapshot, in order (for tests and dry runs).
impl Journal for Vec<OutboxItem> {
    fn save(&mut self, item: &OutboxItem) -> impl Future<Output = Result<(), JournalError>> + Send {
        self.push(item.clone());
        std::future::ready(Ok(()))
    }
}

/// Records nothing.
impl Journal for () {
    fn save(&mut self, _: &OutboxItem) -> impl Future<Output = Result<(), JournalError>> + Send {
        std::future::ready(Ok(()))
    }
}

/// Sends due replies: retries, backoff, rate limits, dry runs. Holds no items and reads no clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    /// Delays between attempts.
    pub backoff: Backoff,
    /// Attempts before a reply is failed.
    pub max_attempts: u32,
    /// Whether a maybe-delivered reply without idempotency is re-sent.
    pub delivery: Delivery,
    /// Record what would be sent, call nothing.
    pub dry_run: bool,
    /// Seeds the jitter (with each reply's idempotency key).
    pub seed: u64,
}

impl Default for Outbox {
    /// Dry run, default [`Backoff`], 8 attempts, at most once, seed 0.
    fn default() -> Outbox {
        Outbox { backoff: Backoff::default(), max_attempts: 8, delivery: Delivery::AtMostOnce, dry_run: true, seed: 0 }
    }
}

impl Outbox {
    /// Defaults with the config's `dry_run` and `max_attempts`.
    pub fn from_config(config: &OutboxConfig) -> Outbox {
        let default = Outbox::default();
        Outbox { dry_run: config.dry_run, max_attempts: config.max_attempts.unwrap_or(default.max_attempts), ..default }
    }

    /// The delay after the item's latest failed attempt, before any `Retry-After`.
    pub fn retry_delay(&self, item: &OutboxItem) -> Duration {
        let seed = self.seed ^ fnv1a(0xcbf2_9ce4_8422_2325, item.idempotency_key.as_bytes());
        self.backoff.delay(item.attempts, seed)
    }

    /// Starts an attempt: `pending` → `sending`, one more attempt. Save the item before calling the
    /// platform. `None` (and no change) unless the item is pending.
    pub fn begin(&self, item: &mut OutboxItem, now: DateTime<Utc>) -> Option<ReplyRequest> {
        if item.state != OutboxState::Pending {
            return None;
        }
        item.state = OutboxState::Sending;
        item.attempts += 1;
        item.attempted_at = Some(now);
        Some(item.request(now))
    }

    /// Records an attempt's result at `now` (when the answer arrived).
    pub fn finish(&self, item: &mut OutboxItem, result: Result<Sent, PublishError>, now: DateTime<Utc>) -> Outcome {
        let error = match result {
            Ok(sent) => {
                item.state = OutboxState::Sent;
                item.last_error = None;
                item.sent = Some(sent.clone());
                return Outcome::Sent(sent);
            }
            Err(e) => e,
        };
        let platform = name(item.platform);
        let fail = |item: &mut OutboxItem, reason: String| {
            item.state = OutboxState::Failed;
            item.last_error = Some(reason.clone());
            Outcome::Failed { reason }
        };
        match error.class() {
            ErrorClass::Permanent => return fail(item, error.to_string()),
            ErrorClass::Ambiguous
                if idempotency_window(item.platform).is_none() && self.delivery == Delivery::AtMostOnce =>
            {
                let reason = format!(
                    "{error}. It is not re-sent automatically, so it cannot be posted twice: check the conversation \
                     on {platform}, then requeue the reply if it is not there"
                );
                return fail(item, reason);
            }
            ErrorClass::Ambiguous | ErrorClass::Retryable => {}
        }
        if item.attempts >= self.max_attempts {
            let reason = format!("gave up after {} attempts; the last one failed: {error}", item.attempts);
            return fail(item, reason);
        }
        let backoff = now + chrono::Duration::from_std(self.retry_delay(item)).unwrap_or(chrono::Duration::MAX);
        let at = error.retry_at().map_or(backoff, |r| r.resolve(now).max(backoff));
        let reason = error.to_string();
        item.state = OutboxState::Pending;
        item.next_attempt_at = at;
        item.last_error = Some(reason.clone());
        Outcome::Retry { at, reason, rate_limited: error.status() == Some(429) }
    }

    /// Dry run: `pending` → `dry_run`, returning what would have been sent. `None` unless pending.
    pub fn mark_dry_run(&self, item: &mut OutboxItem, now: DateTime<Utc>) -> Option<ReplyRequest> {
        if item.state != OutboxState::Pending {
            return None;
        }
        item.state = OutboxState::DryRun;
        Some(item.request(now))
    }

    /// After a restart, settles a reply left `sending` (earshot stopped before recording the answer):
    /// re-sent where the platform's idempotency key still protects it, or under
    /// [`Delivery::AtLeastOnce`]; otherwise failed for a person to check. `None` unless `sending`.
    /// Call once at startup, before [`Outbox::run`], and save what changed.
    pub fn recover(&self, item: &mut OutboxItem, now: DateTime<Utc>) -> Option<Outcome> {
        if item.state != OutboxState::Sending {
            return None;
        }
        let platform = name(item.platform);
        let started = item.attempted_at.unwrap_or(item.next_attempt_at);
        let protected = idempotency_window(item.platform)
            .and_then(|w| chrono::Duration::from_std(w).ok())
            .is_some_and(|w| now < started + w);
        let reason = if protected {
            format!(
                "earshot stopped during an attempt started at {started}; re-sent with the same idempotency key, \
                 which {platform} dedupes"
            )
        } else if self.delivery == Delivery::AtLeastOnce {
            format!(
                "earshot stopped during an attempt started at {started}; re-sent (at-least-once delivery), which \
                 may post the reply twice"
            )
        } else {
            let reason = format!(
                "earshot stopped during an attempt started at {started}, before {platform} answered: the reply may \
                 or may not have been posted; check the conversation on {platform}, then requeue it if it is missing"
            );
            item.state = OutboxState::Failed;
            item.last_error = Some(reason.clone());
            return Some(Outcome::Failed { reason });
        };
        item.state = OutboxState::Pending;
        item.next_attempt_at = now;
        item.last_error = Some(reason.clone());
        Some(Outcome::Retry { at: now, reason, rate_limited: false })
    }

    /// One attempt for one due reply: journal `sending`, publish, journal the result. In dry-run mode
    /// it journals `dry_run` and calls nothing. Fails only when the journal does; the item is then left
    /// as it was before the attempt if `sending` could not be saved.
    pub async fn send<J: Journal>(
        &self,
        item: &mut OutboxItem,
        publisher: &dyn Publisher,
        journal: &mut J,
        now: DateTime<Utc>,
    ) -> Result<Outcome, JournalError> {
        if self.dry_run {
            let Some(request) = self.mark_dry_run(item, now) else {
                return Err(format!("outbox item {} is {}, not pending", item.id, item.state.as_str()).into());
            };
            journal.save(item).await?;
            return Ok(Outcome::DryRun(request));
        }
        let before = item.clone();
        let Some(request) = self.begin(item, now) else {
            return Err(format!("outbox item {} is {}, not pending", item.id, item.state.as_str()).into());
        };
        if let Err(e) = journal.save(item).await {
            *item = before;
            return Err(e);
        }
        let result = publisher.publish(&request).await;
        if let Err(e) = &result {
            tracing::warn!(item = %item.id, attempt = item.attempts, "reply not published: {e}");
        }
        let outcome = self.finish(item, result, now);
        journal.save(item).await?;
        Ok(outcome)
    }

    /// Sends every reply due at `now`, oldest first, one at a time. Replies of a brand without a
    /// publisher for their platform fail with a reason; after a 429, the same account's other replies
    /// wait for the rate limit to reset without being attempted. Stops at the first journal failure.
    pub async fn run<J: Journal>(
        &self,
        items: &mut [OutboxItem],
        publishers: &Publishers,
        journal: &mut J,
        now: DateTime<Utc>,
    ) -> Result<RunReport, JournalError> {
        let mut due: Vec<usize> = (0..items.len()).filter(|&i| items[i].is_due(now)).collect();
        due.sort_by(|&a, &b| (items[a].next_attempt_at, &items[a].id).cmp(&(items[b].next_attempt_at, &items[b].id)));
        let mut report = RunReport::default();
        let mut limited: HashMap<(String, Platform), DateTime<Utc>> = HashMap::new();
        for i in due {
            let item = &mut items[i];
            let account = (item.brand.trim().to_lowercase(), item.platform);
            let outcome = if self.dry_run {
                let Some(request) = self.mark_dry_run(item, now) else { continue };
                journal.save(item).await?;
                Outcome::DryRun(request)
            } else if let Some(&until) = limited.get(&account) {
                item.next_attempt_at = until;
                journal.save(item).await?;
                Outcome::Deferred { until }
            } else if let Some(publisher) = publishers.get(&item.brand, item.platform) {
                let outcome = self.send(item, publisher, journal, now).await?;
                if let Outcome::Retry { at, rate_limited: true, .. } = &outcome {
                    limited.insert(account, *at);
                }
                outcome
            } else {
                let reason = format!(
                    "no account is configured for brand {:?} on {}: add an [[outbox.accounts]] entry with \
                     brand = {:?} and platform = {:?} to earshot.toml, then requeue the reply",
                    item.brand,
                    name(item.platform),
                    item.brand,
                    config_platform(item.platform)
                );
                item.state = OutboxState::Failed;
                item.last_error = Some(reason.clone());
                journal.save(item).await?;
                Outcome::Failed { reason }
            };
            report.outcomes.push((item.id.clone(), outcome));
        }
        Ok(report)
    }
}

/// The platform's name in `[[outbox.accounts]]`.
fn config_platform(platform: Platform) -> &'static str {
    match platform {
        Platform::Blog => "wordpress",
        p => p.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RetryAt;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn item(platform: Platform) -> OutboxItem {
        OutboxItem::new("c1", "d1", "Gilt", platform, "123", "Sorry to hear that!", t(0))
    }

    fn rejected(status: u16, retry_at: Option<RetryAt>) -> PublishError {
        PublishError::Rejected {
            platform: Platform::X,
            endpoint: "POST https://api.x.com/2/tweets".into(),
            status,
            code: None,
            message: "nope".into(),
            retry_at,
            hint: "hint".into(),
        }
    }

    fn network(maybe_delivered: bool) -> PublishError {
        PublishError::Network {
            platform: Platform::X,
            endpoint: "POST https://api.x.com/2/tweets".into(),
            detail: "connection reset".into(),
            maybe_delivered,
        }
    }

    fn live() -> Outbox {
        Outbox { dry_run: false, backoff: Backoff::default().without_jitter(), ..Outbox::default() }
    }

    #[test]
    fn retryable_errors_back_off_and_permanent_ones_fail() {
        let outbox = live();
        let mut it = item(Platform::X);
        outbox.begin(&mut it, t(0)).unwrap();
        let outcome = outbox.finish(&mut it, Err(rejected(503, None)), t(1));
        assert_eq!(outcome, Outcome::Retry { at: t(3), reason: it.last_error.clone().unwrap(), rate_limited: false });
        assert_eq!(it.state, OutboxState::Pending);
        assert!(!it.is_due(t(2)) && it.is_due(t(3)));
        outbox.begin(&mut it, t(3)).unwrap();
        outbox.finish(&mut it, Err(network(false)), t(3));
        assert_eq!(it.next_attempt_at, t(7), "second delay is 4 s");
        outbox.begin(&mut it, t(7)).unwrap();
        let outcome = outbox.finish(&mut it, Err(rejected(401, None)), t(7));
        assert!(matches!(outcome, Outcome::Failed { .. }));
        assert_eq!(it.state, OutboxState::Failed);
        assert!(it.last_error.as_deref().unwrap().contains("HTTP 401"));
        assert_eq!(it.attempts, 3);
    }

    #[test]
    fn retry_after_wins_over_a_shorter_backoff_but_not_a_longer_one() {
        let outbox = Outbox { max_attempts: 20, ..live() };
        let mut it = item(Platform::X);
        outbox.begin(&mut it, t(0)).unwrap();
        outbox.finish(&mut it, Err(rejected(429, Some(RetryAt::After(Duration::from_secs(90))))), t(0));
        assert_eq!(it.next_attempt_at, t(90));
        it.attempts = 12; // backoff is now 3600 s
        it.state = OutboxState::Sending;
        outbox.finish(&mut it, Err(rejected(429, Some(RetryAt::At(t(10))))), t(0));
        assert_eq!(it.next_attempt_at, t(3600));
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let outbox = Outbox { max_attempts: 2, ..live() };
        let mut it = item(Platform::X);
        for n in 0..2 {
            let now = it.next_attempt_at;
            outbox.begin(&mut it, now).unwrap();
            outbox.finish(&mut it, Err(rejected(500, None)), now + chrono::Duration::seconds(n));
        }
        assert_eq!(it.state, OutboxState::Failed);
        assert!(it.last_error.as_deref().unwrap().starts_with("gave up after 2 attempts"), "{:?}", it.last_error);
    }

    #[test]
    fn maybe_delivered_replies_are_resent_only_when_safe() {
        let at_most = live();
        let at_least = Outbox { delivery: Delivery::AtLeastOnce, ..live() };
        for (outbox, platform, resent) in [
            (&at_most, Platform::X, false),
            (&at_most, Platform::Bluesky, false),
            (&at_most, Platform::Mastodon, true),
            (&at_least, Platform::X, true),
        ] {
            let mut it = item(platform);
            outbox.begin(&mut it, t(0)).unwrap();
            let outcome = outbox.finish(&mut it, Err(network(true)), t(0));
            assert_eq!(matches!(outcome, Outcome::Retry { .. }), resent, "{platform} {:?}", outbox.delivery);
            if !resent {
                assert!(it.last_error.as_deref().unwrap().contains("check the conversation"));
            }
        }
    }

    #[test]
    fn recovery_after_a_crash_while_sending() {
        let outbox = live();
        let crashed = |platform| {
            let mut it = item(platform);
            outbox.begin(&mut it, t(0)).unwrap();
            it
        };
        // Mastodon within its idempotency window: re-sent with the same key.
        let mut m = crashed(Platform::Mastodon);
        assert!(matches!(outbox.recover(&mut m, t(600)), Some(Outcome::Retry { .. })));
        assert!(m.is_due(t(600)));
        assert_eq!(m.attempts, 1);
        // Past the window, or without idempotency: failed for a person to check.
        let mut late = crashed(Platform::Mastodon);
        assert!(matches!(outbox.recover(&mut late, t(7200)), Some(Outcome::Failed { .. })));
        let mut x = crashed(Platform::X);
        assert!(matches!(outbox.recover(&mut x, t(1)), Some(Outcome::Failed { .. })));
        assert!(x.last_error.as_deref().unwrap().contains("may or may not have been posted"));
        // At-least-once re-sends anything.
        let mut y = crashed(Platform::Blog);
        let at_least = Outbox { delivery: Delivery::AtLeastOnce, ..live() };
        assert!(matches!(at_least.recover(&mut y, t(1)), Some(Outcome::Retry { .. })));
        // Only `sending` items are touched; a failed one can be requeued by hand.
        assert_eq!(outbox.recover(&mut x, t(2)), None);
        assert!(x.requeue(t(3)));
        assert!(x.is_due(t(3)) && x.attempts == 0);
    }

    proptest::proptest! {
        /// Whatever retryable failures arrive, delays grow (or the platform's own wait is honoured),
        /// and a reply is never attempted more than `max_attempts` times.
        #[test]
        fn retry_schedule_grows_honours_retry_after_and_ends(
            seed in proptest::prelude::any::<u64>(),
            failures in proptest::collection::vec((0u8..3, 0u64..5000), 1..30),
        ) {
            let outbox = Outbox { seed, max_attempts: 12, backoff: Backoff::default(), ..live() };
            let mut it = item(Platform::X);
            let mut last_backoff = Duration::ZERO;
            for (kind, wait) in failures {
                let now = it.next_attempt_at;
                if outbox.begin(&mut it, now).is_none() {
                    break;
                }
                let (error, hint) = match kind {
                    0 => (rejected(500, None), None),
                    1 => (network(false), None),
                    _ => (rejected(429, Some(RetryAt::After(Duration::from_secs(wait)))), Some(wait)),
                };
                match outbox.finish(&mut it, Err(error), now) {
                    Outcome::Retry { at, .. } => {
                        let backoff = outbox.retry_delay(&it);
                        proptest::prop_assert!(backoff >= last_backoff);
                        last_backoff = backoff;
                        let gap = (at - now).to_std().unwrap();
                        proptest::prop_assert_eq!(gap, backoff.max(Duration::from_secs(hint.unwrap_or(0))));
                    }
                    Outcome::Failed { .. } => proptest::prop_assert_eq!(it.attempts, 12),
                    other => proptest::prop_assert!(false, "unexpected {:?}", other),
                }
            }
            proptest::prop_assert!(it.attempts <= 12);
        }
    }

    #[test]
    fn states_round_trip_their_names() {
        for s in
            [OutboxState::Pending, OutboxState::Sending, OutboxState::Sent, OutboxState::Failed, OutboxState::DryRun]
        {
            assert_eq!(OutboxState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
    }
}
