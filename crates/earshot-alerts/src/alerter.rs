//! Cooldown and dedupe: which storm events become alerts.
//!
//! A storm detector reports a storm many times as it grows; a team wants one message when it starts, a
//! few when it gets materially worse, and one when it is over. [`Alerter`] turns the stream of
//! [`StormEvent`]s into that: pure logic, time is the events' `at`, and its state is a plain serde
//! value ([`AlerterState`]) so it survives restarts.
//!
//! Per storm:
//! - **opened**: the first event seen for a storm id (an `Updated` for an unknown storm counts: the
//!   receiver has not heard of it). Exactly one per storm.
//! - **updated**: only when the storm has grown to at least `growth ×` the size last alerted *and* by
//!   at least `min_new_posts`, at least `cooldown` after the previous alert, and at most `max_updates`
//!   times. Growth that arrives during a cooldown is not lost: [`Alerter::flush`] sends it once the
//!   cooldown has passed, even if the detector reports nothing new.
//! - **closed**: one, when the detector closes the storm (if `notify_close`), whatever the cooldown.
//!   A storm closed before it was ever alerted stays silent. Events after the close are ignored
//!   (the detector gives a recurring storm a new id).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What the detector says happened to a storm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StormPhase {
    /// The detector opened the storm.
    Opened,
    /// The storm changed (usually grew).
    Updated,
    /// The detector closed the storm.
    Closed,
}

/// One report from the storm detector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StormEvent {
    /// The storm's stable id.
    pub storm_id: String,
    /// What happened.
    pub phase: StormPhase,
    /// Posts in the storm at this point (sizes are cumulative: a smaller number never shrinks it).
    pub posts: u64,
    /// When it happened. Cooldowns are measured in this time, so replaying stored events gives the same
    /// alerts; the pipeline passes the detector's time.
    pub at: DateTime<Utc>,
}

/// The kind of alert, which is also the webhook's `event` and `Earshot-Event` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AlertEvent {
    /// A new storm.
    #[serde(rename = "storm.opened")]
    Opened,
    /// A storm grew materially.
    #[serde(rename = "storm.updated")]
    Updated,
    /// A storm is over.
    #[serde(rename = "storm.closed")]
    Closed,
}

impl AlertEvent {
    /// Every event, in life order.
    pub const ALL: [AlertEvent; 3] = [AlertEvent::Opened, AlertEvent::Updated, AlertEvent::Closed];

    /// `storm.opened`, `storm.updated` or `storm.closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::Opened => "storm.opened",
            AlertEvent::Updated => "storm.updated",
            AlertEvent::Closed => "storm.closed",
        }
    }

    /// Parses [`AlertEvent::as_str`].
    pub fn parse(name: &str) -> Option<AlertEvent> {
        AlertEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// An alert to send: one per decision, fanned out to every matching webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The storm.
    pub storm_id: String,
    /// Opened, updated or closed.
    pub event: AlertEvent,
    /// 0 for the opening alert, then 1, 2, … per storm: with the storm id and webhook it makes the
    /// delivery id, and receivers can order a storm's messages by it.
    pub seq: u32,
    /// The storm's size now.
    pub posts: u64,
    /// The size in the previous alert of this storm (`None` for the opening one).
    pub previous_posts: Option<u64>,
    /// When the alert was decided (the event's time, or `flush`'s `now`).
    pub at: DateTime<Utc>,
}

/// When a storm's growth is worth another message. The `[alerts]` table of `earshot.toml` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// Least time between two alerts of one storm (the closing alert ignores it).
    pub cooldown: Duration,
    /// An update needs the storm at least this many times the size last alerted (≥ 1).
    pub growth: f64,
    /// … and at least this many posts more than last alerted, so 3 → 6 posts is not "doubled".
    pub min_new_posts: u64,
    /// Updates per storm at most.
    pub max_updates: u32,
    /// Send `storm.closed`.
    pub notify_close: bool,
    /// Forget a storm this long after it closed or was last reported (see [`Alerter::prune`]).
    pub forget_after: Duration,
}

impl Default for AlertPolicy {
    /// 30 min cooldown, doubling and 10 new posts, at most 6 updates, close alerts on, forget after 7 days.
    fn default() -> AlertPolicy {
        AlertPolicy {
            cooldown: Duration::from_secs(30 * 60),
            growth: 2.0,
            min_new_posts: 10,
            max_updates: 6,
            notify_close: true,
            forget_after: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What the alerter remembers about one storm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StormAlertState {
    /// When the opening alert was decided.
    pub opened_at: DateTime<Utc>,
    /// When the latest alert was decided.
    pub last_alert_at: DateTime<Utc>,
    /// Size in the latest alert.
    pub alerted_posts: u64,
    /// Largest size reported so far.
    pub latest_posts: u64,
    /// Updates sent so far.
    pub updates: u32,
    /// The next alert's `seq`.
    pub next_seq: u32,
    /// Time of the latest event seen.
    pub last_event_at: DateTime<Utc>,
    /// When the storm closed, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Closed before any alert: remembered only so late events stay silent.
    #[serde(default)]
    pub silent: bool,
}

/// Everything [`Alerter`] remembers, by storm id. Persist it (it is small: one entry per recent storm)
/// and hand it back to [`Alerter::with_state`] after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlerterState {
    /// Per storm id.
    pub storms: BTreeMap<String, StormAlertState>,
}

/// Decides which storm events become alerts. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct Alerter {
    policy: AlertPolicy,
    state: AlerterState,
}

impl Alerter {
    /// An alerter with nothing remembered.
    pub fn new(policy: AlertPolicy) -> Alerter {
        Alerter::with_state(policy, AlerterState::default())
    }

    /// An alerter resuming from persisted state. The policy is the current config's, so a changed
    /// cooldown applies to storms already open.
    pub fn with_state(policy: AlertPolicy, state: AlerterState) -> Alerter {
        Alerter { policy, state }
    }

    /// The policy in force.
    pub fn policy(&self) -> &AlertPolicy {
        &self.policy
    }

    /// The state to persist.
    pub fn state(&self) -> &AlerterState {
        &self.state
    }

    /// The state, consuming the alerter.
    pub fn into_state(self) -> AlerterState {
        self.state
    }

    /// Feeds one detector event; returns the alert to send, if any.
    pub fn observe(&mut self, event: &StormEvent) -> Option<Alert> {
        let policy = self.policy;
        let Some(storm) = self.state.storms.get_mut(&event.storm_id) else {
            let silent = event.phase == StormPhase::Closed;
            self.state.storms.insert(
                event.storm_id.clone(),
                StormAlertState {
                    opened_at: event.at,
                    last_alert_at: event.at,
                    alerted_posts: event.posts,
                    latest_posts: event.posts,
                    updates: 0,
                    next_seq: if silent { 0 } else { 1 },
                    last_event_at: event.at,
                    closed_at: silent.then_some(event.at),
                    silent,
                },
            );
            return (!silent).then(|| Alert {
                storm_id: event.storm_id.clone(),
                event: AlertEvent::Opened,
                seq: 0,
                posts: event.posts,
                previous_posts: None,
                at: event.at,
            });
        };
        if storm.closed_at.is_some() {
            return None;
        }
        storm.latest_posts = storm.latest_posts.max(event.posts);
        storm.last_event_at = storm.last_event_at.max(event.at);
        match event.phase {
            StormPhase::Opened | StormPhase::Updated => update_due(&policy, storm, event.at)
                .then(|| emit(storm, &event.storm_id, AlertEvent::Updated, event.at)),
            StormPhase::Closed => {
                storm.closed_at = Some(event.at);
                policy.notify_close.then(|| emit(storm, &event.storm_id, AlertEvent::Closed, event.at))
            }
        }
    }

    /// Updates held back by the cooldown whose cooldown has passed at `now`, for storms that grew
    /// enough meanwhile. Call it on a timer (every minute is plenty) so growth reported just after an
    /// alert is not sat on until the detector reports again.
    pub fn flush(&mut self, now: DateTime<Utc>) -> Vec<Alert> {
        let policy = self.policy;
        self.state
            .storms
            .iter_mut()
            .filter(|(_, s)| s.closed_at.is_none() && update_due(&policy, s, now))
            .map(|(id, s)| emit(s, id, AlertEvent::Updated, now))
            .collect()
    }

    /// Forgets storms closed, or not reported at all, for `forget_after` before `now`, keeping memory
    /// bounded; returns how many. An event for a forgotten storm id would count as a new storm.
    pub fn prune(&mut self, now: DateTime<Utc>) -> usize {
        let keep = chrono::Duration::from_std(self.policy.forget_after).unwrap_or(chrono::Duration::MAX);
        let before = self.state.storms.len();
        self.state.storms.retain(|_, s| {
            let last = s.closed_at.unwrap_or(s.last_event_at).max(s.last_event_at);
            now.signed_duration_since(last) < keep
        });
        before - self.state.storms.len()
    }
}

/// Whether an update may go out at `now`: material growth, cooldown passed, updates left.
fn update_due(policy: &AlertPolicy, storm: &StormAlertState, now: DateTime<Utc>) -> bool {
    let grown = storm.latest_posts as f64 >= storm.alerted_posts as f64 * policy.growth.max(1.0)
        && storm.latest_posts > storm.alerted_posts
        && storm.latest_posts - storm.alerted_posts >= policy.min_new_posts;
    let cooled =
        now.signed_duration_since(storm.last_alert_at).to_std().is_ok_and(|elapsed| elapsed >= policy.cooldown);
    grown && cooled && storm.updates < policy.max_updates
}

fn emit(storm: &mut StormAlertState, id: &str, event: AlertEvent, at: DateTime<Utc>) -> Alert {
    let alert = Alert {
        storm_id: id.to_string(),
        event,
        seq: storm.next_seq,
        posts: storm.latest_posts,
        previous_posts: Some(storm.alerted_posts),
        at,
    };
    storm.next_seq += 1;
    storm.alerted_posts = storm.latest_posts;
    if event == AlertEvent::Updated {
        storm.updates += 1;
        storm.last_alert_at = at;
    } else {
        // A close may be decided at an earlier `at` than the last alert (events out of order); keep
        // the latest alert time.
        storm.last_alert_at = storm.last_alert_at.max(at);
    }
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_714_560_000 + minutes * 60, 0).unwrap()
    }

    fn ev(id: &str, phase: StormPhase, posts: u64, minute: i64) -> StormEvent {
        StormEvent { storm_id: id.into(), phase, posts, at: t(minute) }
    }

    fn kinds(alerts: &[Alert]) -> Vec<(AlertEvent, u64)> {
        alerts.iter().map(|a| (a.event, a.posts)).collect()
    }

    #[test]
    fn forty_updates_of_one_storm() {
        // A storm reported every 3 minutes, growing by 15 posts each time, for two hours.
        let mut alerter = Alerter::new(AlertPolicy::default());
        let mut alerts = Vec::new();
        alerts.extend(alerter.observe(&ev("s", StormPhase::Opened, 20, 0)));
        for i in 1..=40 {
            alerts.extend(alerter.observe(&ev("s", StormPhase::Updated, 20 + 15 * i, 3 * i as i64)));
        }
        alerts.extend(alerter.observe(&ev("s", StormPhase::Closed, 620, 125)));
        use AlertEvent::*;
        // Opened at 20. Doubling (40) is reached at minute 3, but the cooldown holds until minute 30 (170
        // posts); the next doubling (340) needs minute 60, the first report ≥ 340 is 350 at minute 66;
        // 700 is never reached (620 at the close).
        assert_eq!(kinds(&alerts), [(Opened, 20), (Updated, 170), (Updated, 350), (Closed, 620)]);
        assert_eq!(alerts.iter().map(|a| a.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(alerts[1].previous_posts, Some(20));
        assert_eq!(alerts[1].at, t(30));
        assert_eq!(alerts[2].at, t(66));
    }

    #[test]
    fn flush_sends_growth_held_by_the_cooldown() {
        let mut alerter = Alerter::new(AlertPolicy::default());
        alerter.observe(&ev("s", StormPhase::Opened, 20, 0)).unwrap();
        assert_eq!(alerter.observe(&ev("s", StormPhase::Updated, 200, 5)), None, "cooling down");
        assert!(alerter.flush(t(29)).is_empty());
        let flushed = alerter.flush(t(30));
        assert_eq!(kinds(&flushed), [(AlertEvent::Updated, 200)]);
        assert!(alerter.flush(t(90)).is_empty(), "nothing new since");
    }

    #[test]
    fn small_storms_need_enough_new_posts() {
        let mut alerter = Alerter::new(AlertPolicy::default());
        alerter.observe(&ev("s", StormPhase::Opened, 3, 0)).unwrap();
        assert_eq!(alerter.observe(&ev("s", StormPhase::Updated, 12, 60)), None, "4× but only 9 new posts");
        assert_eq!(
            kinds(&alerter.observe(&ev("s", StormPhase::Updated, 13, 61)).into_iter().collect::<Vec<_>>()),
            [(AlertEvent::Updated, 13)]
        );
    }

    #[test]
    fn unknown_storms_duplicates_and_late_events() {
        let mut alerter = Alerter::new(AlertPolicy::default());
        // An update for a storm never seen opens it.
        assert_eq!(alerter.observe(&ev("a", StormPhase::Updated, 50, 0)).unwrap().event, AlertEvent::Opened);
        assert_eq!(alerter.observe(&ev("a", StormPhase::Opened, 50, 1)), None, "a repeated open is not news");
        assert_eq!(alerter.observe(&ev("a", StormPhase::Closed, 55, 2)).unwrap().event, AlertEvent::Closed);
        assert_eq!(alerter.observe(&ev("a", StormPhase::Closed, 55, 3)), None);
        assert_eq!(alerter.observe(&ev("a", StormPhase::Updated, 500, 90)), None, "after the close");
        // A storm closed before any alert stays silent, even if an open arrives late.
        assert_eq!(alerter.observe(&ev("b", StormPhase::Closed, 9, 0)), None);
        assert_eq!(alerter.observe(&ev("b", StormPhase::Opened, 9, 0)), None);
    }

    #[test]
    fn close_alerts_can_be_turned_off() {
        let mut alerter = Alerter::new(AlertPolicy { notify_close: false, ..AlertPolicy::default() });
        alerter.observe(&ev("s", StormPhase::Opened, 20, 0)).unwrap();
        assert_eq!(alerter.observe(&ev("s", StormPhase::Closed, 20, 5)), None);
    }

    #[test]
    fn prune_forgets_old_storms_only() {
        let mut alerter = Alerter::new(AlertPolicy { forget_after: Duration::from_secs(3600), ..Default::default() });
        alerter.observe(&ev("closed", StormPhase::Opened, 20, 0));
        alerter.observe(&ev("closed", StormPhase::Closed, 20, 10));
        alerter.observe(&ev("quiet", StormPhase::Opened, 20, 0));
        alerter.observe(&ev("busy", StormPhase::Opened, 20, 0));
        alerter.observe(&ev("busy", StormPhase::Updated, 21, 50));
        assert_eq!(alerter.prune(t(69)), 1, "quiet since minute 0");
        assert_eq!(alerter.prune(t(70)), 1, "closed at minute 10");
        assert_eq!(alerter.state().storms.keys().collect::<Vec<_>>(), ["busy"]);
    }

    fn phase() -> impl Strategy<Value = StormPhase> {
        prop_oneof![
            1 => Just(StormPhase::Opened),
            8 => Just(StormPhase::Updated),
            1 => Just(StormPhase::Closed),
        ]
    }

    /// Events of a few storms: (storm index, phase, posts, minutes since the previous event).
    fn events() -> impl Strategy<Value = Vec<StormEvent>> {
        proptest::collection::vec((0..3usize, phase(), 0u64..5_000, 0i64..40, any::<bool>()), 0..120).prop_map(|raw| {
            let mut minute = 0;
            raw.into_iter()
                .map(|(storm, phase, posts, step, backwards)| {
                    // Mostly forward in time, sometimes a little back (events out of order).
                    minute += if backwards { -(step / 4) } else { step };
                    ev(&format!("s{storm}"), phase, posts, minute)
                })
                .collect()
        })
    }

    fn policy() -> impl Strategy<Value = AlertPolicy> {
        (0u64..7200, 1.0f64..4.0, 0u64..50, 0u32..10, any::<bool>()).prop_map(
            |(cooldown, growth, min_new_posts, max_updates, notify_close)| AlertPolicy {
                cooldown: Duration::from_secs(cooldown),
                growth,
                min_new_posts,
                max_updates,
                notify_close,
                forget_after: Duration::from_secs(365 * 24 * 3600),
            },
        )
    }

    fn run(alerter: &mut Alerter, events: &[StormEvent], flush_every: Option<usize>) -> Vec<Alert> {
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate() {
            out.extend(alerter.observe(e));
            if flush_every.is_some_and(|n| i % n == 0) {
                out.extend(alerter.flush(e.at));
            }
        }
        out
    }

    proptest! {
        #[test]
        fn one_open_bounded_spaced_growing_updates_one_close(
            policy in policy(), events in events(), flush_every in proptest::option::of(1usize..5),
        ) {
            let mut alerter = Alerter::new(policy);
            let alerts = run(&mut alerter, &events, flush_every);
            for storm in ["s0", "s1", "s2"] {
                let mine: Vec<&Alert> = alerts.iter().filter(|a| a.storm_id == storm).collect();
                let first_event = events.iter().find(|e| e.storm_id == storm);
                // Exactly one opening alert when the storm's first event is not a close, and it comes first.
                let opens = mine.iter().filter(|a| a.event == AlertEvent::Opened).count();
                let expect_open = first_event.is_some_and(|e| e.phase != StormPhase::Closed);
                prop_assert_eq!(opens, usize::from(expect_open));
                if let Some(first) = mine.first() {
                    prop_assert_eq!(first.event, AlertEvent::Opened);
                }
                // At most one close, and nothing after it.
                let closes = mine.iter().filter(|a| a.event == AlertEvent::Closed).count();
                prop_assert!(closes <= 1);
                if closes == 1 {
                    prop_assert_eq!(mine.last().unwrap().event, AlertEvent::Closed);
                    prop_assert!(policy.notify_close);
                }
                // Updates: bounded, each after the cooldown and each a material growth.
                let updates: Vec<&&Alert> = mine.iter().filter(|a| a.event == AlertEvent::Updated).collect();
                prop_assert!(updates.len() <= policy.max_updates as usize);
                for pair in mine.windows(2) {
                    let (prev, next) = (pair[0], pair[1]);
                    prop_assert_eq!(next.seq, prev.seq + 1);
                    prop_assert_eq!(next.previous_posts, Some(prev.posts));
                    prop_assert!(next.posts >= prev.posts);
                    if next.event == AlertEvent::Updated {
                        let gap = next.at.signed_duration_since(prev.at).to_std().unwrap();
                        prop_assert!(gap >= policy.cooldown, "{:?} after {:?}", next, prev);
                        prop_assert!(next.posts as f64 >= prev.posts as f64 * policy.growth);
                        prop_assert!(next.posts - prev.posts >= policy.min_new_posts.max(1));
                    }
                }
            }
        }

        #[test]
        fn restoring_serialized_state_changes_nothing(
            policy in policy(), events in events(), cut in any::<prop::sample::Index>(),
        ) {
            let mut straight = Alerter::new(policy);
            let expected = run(&mut straight, &events, Some(3));

            let cut = if events.is_empty() { 0 } else { cut.index(events.len() + 1) };
            let mut first = Alerter::new(policy);
            let mut got = run(&mut first, &events[..cut], Some(3));
            let saved = serde_json::to_string(first.state()).unwrap();
            let mut resumed = Alerter::with_state(policy, serde_json::from_str(&saved).unwrap());
            // `run` flushes on indices divisible by 3; keep the same positions after the cut.
            for (i, e) in events.iter().enumerate().skip(cut) {
                got.extend(resumed.observe(e));
                if i % 3 == 0 {
                    got.extend(resumed.flush(e.at));
                }
            }
            prop_assert_eq!(got, expected);
            prop_assert_eq!(resumed.state(), straight.state());
        }
    }
}
