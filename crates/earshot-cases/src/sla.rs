//! SLA policies, business calendars and the event-sourced SLA clock.
//!
//! A brand's [`SlaPolicy`] sets targets: the first response, each next response after a customer
//! speaks again, and the resolution. Targets count business time when the policy has a [`Calendar`]
//! (weekly hours in an IANA time zone, minus holidays), wall time otherwise.
//!
//! The clock is a pure function of a case's [`SlaEvent`]s and an instant `now` ([`evaluate`]); it
//! never reads the system clock. It starts at the **published** time of the customer's first post,
//! however late earshot saw it. Waiting on the customer pauses every running target; the customer's
//! next post resumes them. The [`SlaReport`] gives each target's state, due time, elapsed business
//! time and a [`SlaTransition`] history (with the exact instants of warnings and breaches) to store.
//!
//! # Config
//!
//! ```toml
//! [default]
//! first_response = "1h"        # humantime durations: 30m, 4h, 2d, 1h 30m
//! next_response = "4h"         # optional
//! resolution = "3d"            # optional
//! warn_at = 0.75               # warn when 75 % of a target's time is used (default)
//!
//! [default.calendar]           # optional: without it targets count wall time, 24/7
//! timezone = "America/New_York"
//! holidays = ["2025-12-25", 2026-01-01]
//!
//! [default.calendar.hours]     # weekday keys: mon..sun, ranges (mon-fri), lists (sat,sun)
//! mon-fri = "09:00-17:00"
//! sat = "10:00-12:00, 13:00-15:00"
//!
//! [brands.Gilt]                # per-brand policy (brand names match case-insensitively)
//! first_response = "30m"
//! ```

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use crate::case::CaseStatus;

const DAY_SECS: u32 = 86_400;
const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// What is wrong with an SLA policy or calendar, and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SlaConfigError {
    /// The TOML did not parse or a value in it was invalid (the message has the line and column).
    #[error("SLA policy config is invalid: {0}")]
    Toml(String),
    /// An unknown IANA time zone.
    #[error("calendar timezone {0:?} is not an IANA time zone name; use one like \"Europe/Berlin\" or \"UTC\"")]
    TimeZone(String),
    /// A bad weekday key in `hours`.
    #[error(
        "calendar hours key {key:?}: {problem}; use weekdays mon, tue, wed, thu, fri, sat, sun, ranges like \
         mon-fri, lists like sat,sun, or daily"
    )]
    Weekday {
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// A bad opening-hours value.
    #[error(
        "calendar hours for {key:?} = {value:?}: {problem}; write ranges as HH:MM-HH:MM separated by commas \
         (\"09:00-12:00, 13:00-17:00\", end may be 24:00), or \"closed\""
    )]
    Hours {
        /// The weekday key.
        key: String,
        /// The value.
        value: String,
        /// What is wrong.
        problem: String,
    },
    /// A calendar with no business hours at all: no target could ever be due.
    #[error("calendar has no business hours on any weekday; add at least one range under [calendar.hours]")]
    NoHours,
    /// A target of zero length.
    #[error("SLA target {0} must be longer than zero; remove it to have no such target")]
    ZeroTarget(&'static str),
    /// `warn_at` outside (0, 1].
    #[error("warn_at = {0} must be a fraction in (0, 1], e.g. 0.75 to warn when 75 % of the time is used")]
    WarnAt(f64),
}

/// Opening hours of one day: a list of `[start, end)` local times in seconds since midnight.
type DaySpans = Vec<(u32, u32)>;

/// Business hours in a time zone: weekly opening hours minus holidays.
///
/// Wall times map to instants in the calendar's time zone; on a DST change a day's hours follow the
/// local clock (a day open 00:00–24:00 has 23 or 25 business hours). A local time skipped by a
/// spring-forward maps to the first instant after the gap; a repeated one to its first occurrence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CalendarConfig", into = "CalendarConfig")]
pub struct Calendar {
    tz: Tz,
    week: [DaySpans; 7],
    holidays: BTreeSet<NaiveDate>,
    config: CalendarConfig,
}

/// A calendar as written in config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// IANA time zone name.
    pub timezone: String,
    /// Weekday key (`mon`, `mon-fri`, `sat,sun`, `daily`) → ranges (`09:00-17:00`, `closed`).
    pub hours: BTreeMap<String, String>,
    /// Days without business hours.
    #[serde(default, deserialize_with = "de_dates")]
    pub holidays: Vec<NaiveDate>,
}

/// Accepts holidays as TOML dates (`2025-12-25`) or strings (`"2025-12-25"`).
fn de_dates<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateInput {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let raw = Vec::<DateInput>::deserialize(d)?;
    raw.into_iter()
        .map(|item| {
            let text = match item {
                DateInput::Text(s) => s,
                DateInput::Toml(dt) => dt.to_string(),
            };
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                serde::de::Error::custom(format!("holiday {text:?} is not a date; write it as YYYY-MM-DD"))
            })
        })
        .collect()
}

impl TryFrom<CalendarConfig> for Calendar {
    type Error = SlaConfigError;

    fn try_from(config: CalendarConfig) -> Result<Self, Self::Error> {
        let tz: Tz = config.timezone.trim().parse().map_err(|_| SlaConfigError::TimeZone(config.timezone.clone()))?;
        let mut week: [Option<(String, DaySpans)>; 7] = Default::default();
        for (key, value) in &config.hours {
            let spans = parse_spans(key, value)?;
            for day in parse_days(key)? {
                let slot = &mut week[day.num_days_from_monday() as usize];
                if let Some((other, _)) = slot {
                    return Err(SlaConfigError::Weekday {
                        key: key.clone(),
                        problem: format!("{} is already set by {other:?}; name each weekday once", weekday_name(day)),
                    });
                }
                *slot = Some((key.clone(), spans.clone()));
            }
        }
        let week = week.map(|slot| slot.map(|(_, spans)| spans).unwrap_or_default());
        if week.iter().all(Vec::is_empty) {
            return Err(SlaConfigError::NoHours);
        }
        let holidays = config.holidays.iter().copied().collect();
        Ok(Calendar { tz, week, holidays, config })
    }
}

impl From<Calendar> for CalendarConfig {
    fn from(c: Calendar) -> Self {
        c.config
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS.iter().find(|(_, d)| *d == day).map_or("?", |(n, _)| n)
}

fn parse_day(key: &str, name: &str) -> Result<Weekday, SlaConfigError> {
    let name = name.trim().to_ascii_lowercase();
    let short = name.get(..3).unwrap_or(&name);
    WEEKDAYS
        .iter()
        .find(|(n, _)| *n == short && (name.len() == 3 || weekday_full(n).starts_with(&name)))
        .map(|(_, d)| *d)
        .ok_or_else(|| SlaConfigError::Weekday { key: key.to_string(), problem: format!("unknown weekday {name:?}") })
}

fn weekday_full(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// `mon`, `monday`, `mon-fri`, `sat,sun`, `daily`.
fn parse_days(key: &str) -> Result<Vec<Weekday>, SlaConfigError> {
    let lower = key.trim().to_ascii_lowercase();
    if matches!(lower.as_str(), "daily" | "all" | "every_day") {
        return Ok(WEEKDAYS.iter().map(|(_, d)| *d).collect());
    }
    let mut days = Vec::new();
    for part in lower.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (parse_day(key, from)?, parse_day(key, to)?);
                let mut day = from;
                days.push(day);
                while day != to {
                    day = day.succ();
                    days.push(day);
                }
            }
            None => days.push(parse_day(key, part)?),
        }
    }
    let mut seen = BTreeSet::new();
    if let Some(dup) = days.iter().find(|d| !seen.insert(d.num_days_from_monday())) {
        return Err(SlaConfigError::Weekday {
            key: key.to_string(),
            problem: format!("names {} twice", weekday_name(*dup)),
        });
    }
    Ok(days)
}

/// `09:00-17:00`, `09:00-12:00, 13:00-17:00`, `closed`.
fn parse_spans(key: &str, value: &str) -> Result<DaySpans, SlaConfigError> {
    let err = |problem: String| SlaConfigError::Hours { key: key.to_string(), value: value.to_string(), problem };
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() || v == "closed" {
        return Ok(Vec::new());
    }
    let mut spans: DaySpans = Vec::new();
    for part in v.split(',') {
        let (a, b) = part.split_once('-').ok_or_else(|| err(format!("{:?} is not a range", part.trim())))?;
        let (start, end) = (parse_clock(a).map_err(&err)?, parse_clock(b).map_err(&err)?);
        if start >= end {
            return Err(err(format!("range {:?} ends before it starts", part.trim())));
        }
        spans.push((start, end));
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(err("ranges overlap".into()));
    }
    Ok(spans)
}

fn parse_clock(s: &str) -> Result<u32, String> {
    let s = s.trim();
    if s == "24:00" {
        return Ok(DAY_SECS);
    }
    let t = NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("{s:?} is not a time HH:MM"))?;
    Ok(t.signed_duration_since(NaiveTime::MIN).num_seconds() as u32)
}

impl Calendar {
    /// Builds a calendar from a time zone name, `(weekday key, ranges)` pairs as in config, and holidays.
    pub fn new<K: Into<String>, V: Into<String>>(
        timezone: &str,
        hours: impl IntoIterator<Item = (K, V)>,
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Calendar, SlaConfigError> {
        Calendar::try_from(CalendarConfig {
            timezone: timezone.to_string(),
            hours: hours.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            holidays: holidays.into_iter().collect(),
        })
    }

    /// The time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The config it was built from.
    pub fn config(&self) -> &CalendarConfig {
        &self.config
    }

    /// True when `t` falls in business hours.
    pub fn is_business_time(&self, t: DateTime<Utc>) -> bool {
        self.intervals(t).next().is_some_and(|(s, _)| s == t)
    }

    /// The earliest instant at which `duration` of business time has passed since `start`.
    /// A zero duration gives `start`; a duration that ends exactly at closing gives the closing time.
    pub fn add_business_time(&self, start: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        let mut left = delta(duration);
        if left <= TimeDelta::zero() {
            return start;
        }
        for (s, e) in self.intervals(start) {
            let len = e - s;
            if len >= left {
                return s + left;
            }
            left -= len;
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// Business time in `[a, b)`; zero when `b <= a`.
    pub fn business_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        let mut total = TimeDelta::zero();
        if b > a {
            for (s, e) in self.intervals(a) {
                if s >= b {
                    break;
                }
                total += e.min(b) - s;
            }
        }
        total.to_std().unwrap_or_default()
    }

    /// Business intervals `[s, e)` in increasing order, clipped to start at `from`.
    fn intervals(&self, from: DateTime<Utc>) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first = from.with_timezone(&self.tz).date_naive();
        first
            .iter_days()
            .filter(|day| !self.holidays.contains(day))
            .flat_map(move |day| {
                self.week[day.weekday().num_days_from_monday() as usize].iter().map(move |&(s, e)| {
                    let start = self.to_instant(day, s).max(from);
                    (start, self.to_instant(day, e))
                })
            })
            .filter(|(s, e)| s < e)
    }

    /// The earliest instant whose local wall time is at or after `secs` past midnight of `day`.
    fn to_instant(&self, day: NaiveDate, secs: u32) -> DateTime<Utc> {
        let local = day.and_time(NaiveTime::MIN) + TimeDelta::seconds(i64::from(secs));
        match self.tz.from_local_datetime(&local).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => self.after_gap(local),
        }
    }

    /// A local time skipped by a DST change: the instant the clocks jumped, found by bisecting whole
    /// seconds between the two readings of `local` (with the offsets before and after the change).
    fn after_gap(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let naive_secs = local.and_utc().timestamp();
        let offset_at = |secs: i64| {
            DateTime::from_timestamp(secs, 0)
                .map_or(0, |t| i64::from(self.tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()))
        };
        let (before, after) = (offset_at(naive_secs - DAY_SECS as i64), offset_at(naive_secs + DAY_SECS as i64));
        let (mut lo, mut hi) = (naive_secs - before.max(after), naive_secs - before.min(after));
        let instant = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let reached = |secs: i64| instant(secs).with_timezone(&self.tz).naive_local() >= local;
        if reached(lo) || !reached(hi) {
            return instant(hi);
        }
        // Invariant: !reached(lo) && reached(hi).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if reached(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        instant(hi)
    }
}

/// A brand's SLA targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyConfig", into = "PolicyConfig")]
pub struct SlaPolicy {
    /// Time to the brand's first reply, from the customer's first post.
    pub first_response: Duration,
    /// Time to each further reply, from the customer's first unanswered post after a brand reply.
    pub next_response: Option<Duration>,
    /// Time to resolution, from the customer's first post.
    pub resolution: Option<Duration>,
    /// Fraction of a target's time after which it is in warning (0 < warn_at ≤ 1; 1 means no warning).
    pub warn_at: f64,
    /// Business hours; `None` counts wall time, 24/7.
    pub calendar: Option<Calendar>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyConfig {
    #[serde(with = "humantime_serde")]
    first_response: Duration,
    #[serde(default, with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    next_response: Option<Duration>,
    #[serde(default, with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    resolution: Option<Duration>,
    #[serde(default = "default_warn_at")]
    warn_at: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar: Option<Calendar>,
}

fn default_warn_at() -> f64 {
    0.75
}

impl TryFrom<PolicyConfig> for SlaPolicy {
    type Error = SlaConfigError;

    fn try_from(c: PolicyConfig) -> Result<Self, Self::Error> {
        let policy = SlaPolicy {
            first_response: c.first_response,
            next_response: c.next_response,
            resolution: c.resolution,
            warn_at: c.warn_at,
            calendar: c.calendar,
        };
        policy.validate()?;
        Ok(policy)
    }
}

impl From<SlaPolicy> for PolicyConfig {
    fn from(p: SlaPolicy) -> Self {
        PolicyConfig {
            first_response: p.first_response,
            next_response: p.next_response,
            resolution: p.resolution,
            warn_at: p.warn_at,
            calendar: p.calendar,
        }
    }
}

impl SlaPolicy {
    /// A wall-time policy with only a first-response target and the default warning at 75 %.
    pub fn new(first_response: Duration) -> SlaPolicy {
        SlaPolicy { first_response, next_response: None, resolution: None, warn_at: default_warn_at(), calendar: None }
    }

    /// Checks the targets are positive and `warn_at` is a fraction in (0, 1].
    pub fn validate(&self) -> Result<(), SlaConfigError> {
        let targets = [
            ("first_response", Some(self.first_response)),
            ("next_response", self.next_response),
            ("resolution", self.resolution),
        ];
        if let Some((name, _)) = targets.iter().find(|(_, d)| d.is_some_and(|d| d.is_zero())) {
            return Err(SlaConfigError::ZeroTarget(name));
        }
        if !(self.warn_at > 0.0 && self.warn_at <= 1.0) {
            return Err(SlaConfigError::WarnAt(self.warn_at));
        }
        Ok(())
    }

    /// `start` plus `duration` of business time (wall time without a calendar).
    pub fn add_business_time(&self, start: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        match &self.calendar {
            Some(c) => c.add_business_time(start, duration),
            None => start.checked_add_signed(delta(duration)).unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// Business time in `[a, b)` (wall time without a calendar).
    pub fn business_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        match &self.calendar {
            Some(c) => c.business_time_between(a, b),
            None => (b - a).to_std().unwrap_or_default(),
        }
    }

    /// The target's length in this policy, if it has one.
    pub fn limit(&self, target: SlaTarget) -> Option<Duration> {
        match target {
            SlaTarget::FirstResponse => Some(self.first_response),
            SlaTarget::NextResponse => self.next_response,
            SlaTarget::Resolution => self.resolution,
        }
    }
}

/// Per-brand SLA policies with a default, as read from a TOML file (see the module docs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicies {
    /// The policy of brands without their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<SlaPolicy>,
    /// Brand name → policy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub brands: BTreeMap<String, SlaPolicy>,
}

impl SlaPolicies {
    /// Parses policies from TOML; errors name the line and the bad value.
    pub fn from_toml_str(text: &str) -> Result<SlaPolicies, SlaConfigError> {
        toml::from_str(text).map_err(|e| SlaConfigError::Toml(e.to_string()))
    }

    /// The brand's policy (name compared ignoring case), else the default.
    pub fn for_brand(&self, brand: &str) -> Option<&SlaPolicy> {
        self.brands
            .get(brand)
            .or_else(|| self.brands.iter().find(|(name, _)| name.eq_ignore_ascii_case(brand)).map(|(_, p)| p))
            .or(self.default.as_ref())
    }
}

/// One fact the clock reacts to. Times are published times (for posts) or action times (for agents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SlaEvent {
    /// The case's customer posted.
    CustomerPosted {
        /// Published time.
        at: DateTime<Utc>,
    },
    /// The brand replied publicly.
    BrandReplied {
        /// Published time.
        at: DateTime<Utc>,
    },
    /// An agent changed the status (`waiting_on_customer` pauses, `open` resumes or reopens,
    /// `resolved`/`closed` resolve).
    StatusChanged {
        /// When.
        at: DateTime<Utc>,
        /// The new status.
        status: CaseStatus,
    },
    /// The case was resolved.
    Resolved {
        /// When.
        at: DateTime<Utc>,
    },
    /// A resolved case was reopened.
    Reopened {
        /// When.
        at: DateTime<Utc>,
    },
}

impl SlaEvent {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match *self {
            SlaEvent::CustomerPosted { at }
            | SlaEvent::BrandReplied { at }
            | SlaEvent::StatusChanged { at, .. }
            | SlaEvent::Resolved { at }
            | SlaEvent::Reopened { at } => at,
        }
    }
}

/// The three targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    /// The brand's first reply.
    FirstResponse,
    /// Each further reply after the customer speaks again.
    NextResponse,
    /// Resolution.
    Resolution,
}

impl SlaTarget {
    /// All targets.
    pub const ALL: [SlaTarget; 3] = [SlaTarget::FirstResponse, SlaTarget::NextResponse, SlaTarget::Resolution];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first_response",
            SlaTarget::NextResponse => "next_response",
            SlaTarget::Resolution => "resolution",
        }
    }
}

impl fmt::Display for SlaTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Counting, less than `warn_at` of the time used.
    Running,
    /// Not counting: waiting on the customer.
    Paused,
    /// Counting, at least `warn_at` of the time used.
    Warning,
    /// Past due. Stays breached even when met later (`met_at` then tells when).
    Breached,
    /// Met in time.
    Met,
    /// The policy has no such target, or it has not started.
    NotApplicable,
}

impl SlaState {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Running => "running",
            SlaState::Paused => "paused",
            SlaState::Warning => "warning",
            SlaState::Breached => "breached",
            SlaState::Met => "met",
            SlaState::NotApplicable => "not_applicable",
        }
    }
}

impl fmt::Display for SlaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A target's state change, with the instant it happened (crossings are exact, not when observed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTransition {
    /// Which target.
    pub target: SlaTarget,
    /// Which cycle of it (next responses count 1, 2, ...; the others have one cycle).
    pub cycle: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// State before.
    pub from_state: SlaState,
    /// State after.
    pub to_state: SlaState,
}

/// One target at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetStatus {
    /// Which target.
    pub target: SlaTarget,
    /// Its state.
    pub state: SlaState,
    /// The current cycle (0 before the target starts).
    pub cycle: u32,
    /// Its length in the policy.
    #[serde(with = "humantime_serde")]
    pub limit: Option<Duration>,
    /// When the current cycle started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it is (or was) due; `None` while paused or not applicable.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was met.
    pub met_at: Option<DateTime<Utc>>,
    /// When it went into warning.
    pub warned_at: Option<DateTime<Utc>>,
    /// When it breached (equal to the due time).
    pub breached_at: Option<DateTime<Utc>>,
    /// Business time counted so far in the current cycle.
    #[serde(with = "humantime_serde")]
    pub elapsed: Duration,
}

/// All targets of a case at `now`, and how they got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaReport {
    /// The instant evaluated.
    pub now: DateTime<Utc>,
    /// True while waiting on the customer.
    pub paused: bool,
    /// First response.
    pub first_response: TargetStatus,
    /// Next response (the latest cycle).
    pub next_response: TargetStatus,
    /// Resolution.
    pub resolution: TargetStatus,
    /// Every state change up to `now`, in time order (ties in the order they happened).
    pub history: Vec<SlaTransition>,
}

impl SlaReport {
    /// The three targets.
    pub fn targets(&self) -> [&TargetStatus; 3] {
        [&self.first_response, &self.next_response, &self.resolution]
    }

    /// One target.
    pub fn target(&self, target: SlaTarget) -> &TargetStatus {
        match target {
            SlaTarget::FirstResponse => &self.first_response,
            SlaTarget::NextResponse => &self.next_response,
            SlaTarget::Resolution => &self.resolution,
        }
    }
}

/// A case's SLA clock: its policy and the events recorded so far.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaClock {
    policy: SlaPolicy,
    events: Vec<SlaEvent>,
}

impl SlaClock {
    /// A clock with no events.
    pub fn new(policy: SlaPolicy) -> SlaClock {
        SlaClock { policy, events: Vec::new() }
    }

    /// Records an event (any order; [`evaluate`] sorts by time, keeping the given order for ties).
    pub fn record(&mut self, event: SlaEvent) {
        self.events.push(event);
    }

    /// The events recorded.
    pub fn events(&self) -> &[SlaEvent] {
        &self.events
    }

    /// The policy.
    pub fn policy(&self) -> &SlaPolicy {
        &self.policy
    }

    /// The targets at `now`.
    pub fn evaluate(&self, now: DateTime<Utc>) -> SlaReport {
        evaluate(&self.policy, &self.events, now)
    }
}

/// One target's timer during a replay.
struct Timer {
    target: SlaTarget,
    limit: Option<TimeDelta>,
    warn: Option<TimeDelta>,
    cycle: u32,
    started_at: Option<DateTime<Utc>>,
    running_since: Option<DateTime<Utc>>,
    elapsed_before: TimeDelta,
    due_at: Option<DateTime<Utc>>,
    warned_at: Option<DateTime<Utc>>,
    breached_at: Option<DateTime<Utc>>,
    met_at: Option<DateTime<Utc>>,
    state: SlaState,
}

impl Timer {
    fn new(target: SlaTarget, policy: &SlaPolicy) -> Timer {
        let limit = policy.limit(target).map(delta);
        let warn = limit.filter(|_| policy.warn_at < 1.0).map(|l| {
            let secs = l.num_milliseconds() as f64 * policy.warn_at;
            TimeDelta::milliseconds(secs.round() as i64)
        });
        Timer {
            target,
            limit,
            warn,
            cycle: 0,
            started_at: None,
            running_since: None,
            elapsed_before: TimeDelta::zero(),
            due_at: None,
            warned_at: None,
            breached_at: None,
            met_at: None,
            state: SlaState::NotApplicable,
        }
    }

    fn visible(&self) -> SlaState {
        if self.limit.is_none() || self.started_at.is_none() {
            SlaState::NotApplicable
        } else if self.breached_at.is_some() {
            SlaState::Breached
        } else if self.met_at.is_some() {
            SlaState::Met
        } else if self.running_since.is_none() {
            SlaState::Paused
        } else if self.warned_at.is_some() {
            SlaState::Warning
        } else {
            SlaState::Running
        }
    }

    fn emit(&mut self, at: DateTime<Utc>, history: &mut Vec<SlaTransition>) {
        let to = self.visible();
        if to != self.state {
            history.push(SlaTransition {
                target: self.target,
                cycle: self.cycle,
                at,
                from_state: self.state,
                to_state: to,
            });
            self.state = to;
        }
    }

    fn is_pending(&self) -> bool {
        self.limit.is_some() && self.started_at.is_some() && self.met_at.is_none()
    }

    /// Emits the warning and breach crossings that happen up to `to` (a breach strictly before `to`:
    /// a reply exactly at the due time is in time).
    fn advance(&mut self, to: DateTime<Utc>, policy: &SlaPolicy, history: &mut Vec<SlaTransition>) {
        let (Some(since), Some(limit)) = (self.running_since, self.limit) else { return };
        if self.met_at.is_some() {
            return;
        }
        if let Some(warn) = self.warn
            && self.warned_at.is_none()
        {
            let w = add(policy, since, warn - self.elapsed_before);
            if w <= to {
                self.warned_at = Some(w);
                self.emit(w, history);
            }
        }
        if self.breached_at.is_none() {
            let b = add(policy, since, limit - self.elapsed_before);
            if b < to {
                self.breached_at = Some(b);
                self.emit(b, history);
            }
        }
    }

    fn start(&mut self, at: DateTime<Utc>, policy: &SlaPolicy, history: &mut Vec<SlaTransition>) {
        let Some(limit) = self.limit else { return };
        self.cycle += 1;
        self.started_at = Some(at);
        self.running_since = Some(at);
        self.elapsed_before = TimeDelta::zero();
        self.due_at = Some(add(policy, at, limit));
        self.warned_at = None;
        self.breached_at = None;
        self.met_at = None;
        self.emit(at, history);
    }

    fn pause(&mut self, at: DateTime<Utc>, policy: &SlaPolicy, history: &mut Vec<SlaTransition>) {
        self.advance(at, policy, history);
        if let Some(since) = self.running_since.take() {
            self.elapsed_before += between(policy, since, at);
            if self.breached_at.is_none() {
                self.due_at = None;
            }
            self.emit(at, history);
        }
    }

    fn resume(&mut self, at: DateTime<Utc>, policy: &SlaPolicy, history: &mut Vec<SlaTransition>) {
        if !self.is_pending() || self.running_since.is_some() {
            return;
        }
        self.running_since = Some(at);
        if let (None, Some(limit)) = (self.breached_at, self.limit) {
            self.due_at = Some(add(policy, at, (limit - self.elapsed_before).max(TimeDelta::zero())));
        }
        self.emit(at, history);
    }

    fn meet(&mut self, at: DateTime<Utc>, policy: &SlaPolicy, history: &mut Vec<SlaTransition>) {
        if !self.is_pending() {
            return;
        }
        self.advance(at, policy, history);
        if let Some(since) = self.running_since.take() {
            self.elapsed_before += between(policy, since, at);
        }
        self.met_at = Some(at);
        self.emit(at, history);
    }

    fn reopen(&mut self, at: DateTime<Utc>, policy: &SlaPolicy, history: &mut Vec<SlaTransition>) {
        if self.met_at.take().is_none() {
            return;
        }
        self.running_since = Some(at);
        if let (None, Some(limit)) = (self.breached_at, self.limit) {
            self.due_at = Some(add(policy, at, (limit - self.elapsed_before).max(TimeDelta::zero())));
        }
        self.emit(at, history);
    }

    fn status(&self, now: DateTime<Utc>, policy: &SlaPolicy) -> TargetStatus {
        let running = self.running_since.map_or(TimeDelta::zero(), |since| between(policy, since, now));
        let applicable = self.state != SlaState::NotApplicable;
        TargetStatus {
            target: self.target,
            state: self.state,
            cycle: self.cycle,
            limit: self.limit.and_then(|l| l.to_std().ok()),
            started_at: self.started_at,
            due_at: self.due_at.filter(|_| applicable),
            met_at: self.met_at,
            warned_at: self.warned_at,
            breached_at: self.breached_at,
            elapsed: (self.elapsed_before + running).to_std().unwrap_or_default(),
        }
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn add(policy: &SlaPolicy, start: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    policy.add_business_time(start, d.to_std().unwrap_or_default())
}

fn between(policy: &SlaPolicy, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
    delta(policy.business_time_between(a, b))
}

/// Replays `events` (those at or before `now`, sorted by time, ties in the given order) under `policy`
/// and reports every target at `now`.
///
/// - The first customer post starts first response and resolution. Brand replies before it are ignored.
/// - A brand reply meets the first response, and the open next-response cycle.
/// - After the first response, a customer post with no open cycle starts a next-response cycle.
/// - `waiting_on_customer` pauses every running target; a customer post or a status back to open
///   resumes them (business time while paused is not counted).
/// - Resolving (`Resolved`, or status `resolved`/`closed`) meets the resolution and any pending response
///   target (breached ones stay breached). While resolved, customer posts start nothing until the case is
///   reopened (`Reopened` or status `open`); resolution time then continues from where it stopped.
///   A closed case never reopens.
pub fn evaluate(policy: &SlaPolicy, events: &[SlaEvent], now: DateTime<Utc>) -> SlaReport {
    let mut events: Vec<&SlaEvent> = events.iter().filter(|e| e.at() <= now).collect();
    events.sort_by_key(|e| e.at());
    let mut history = Vec::new();
    let mut first = Timer::new(SlaTarget::FirstResponse, policy);
    let mut next = Timer::new(SlaTarget::NextResponse, policy);
    let mut resolution = Timer::new(SlaTarget::Resolution, policy);
    let (mut started, mut paused, mut resolved, mut closed, mut awaiting) = (false, false, false, false, false);

    for event in events {
        let at = event.at();
        for timer in [&mut first, &mut next, &mut resolution] {
            timer.advance(at, policy, &mut history);
        }
        let h = &mut history;
        match *event {
            SlaEvent::CustomerPosted { .. } => {
                if closed || resolved {
                    continue;
                }
                if !started {
                    started = true;
                    awaiting = true;
                    first.start(at, policy, h);
                    resolution.start(at, policy, h);
                    continue;
                }
                if paused {
                    paused = false;
                    for timer in [&mut first, &mut next, &mut resolution] {
                        timer.resume(at, policy, h);
                    }
                }
                if !awaiting {
                    awaiting = true;
                    if first.met_at.is_some() || first.limit.is_none() {
                        next.start(at, policy, h);
                    }
                }
            }
            SlaEvent::BrandReplied { .. } => {
                if started && !resolved {
                    first.meet(at, policy, h);
                    next.meet(at, policy, h);
                    awaiting = false;
                }
            }
            SlaEvent::StatusChanged { status: CaseStatus::WaitingOnCustomer, .. } => {
                if started && !resolved && !paused {
                    paused = true;
                    for timer in [&mut first, &mut next, &mut resolution] {
                        timer.pause(at, policy, h);
                    }
                }
            }
            SlaEvent::StatusChanged { status: CaseStatus::Open | CaseStatus::New, .. } | SlaEvent::Reopened { .. } => {
                if resolved && !closed {
                    resolved = false;
                    paused = false;
                    resolution.reopen(at, policy, h);
                } else if paused {
                    paused = false;
                    for timer in [&mut first, &mut next, &mut resolution] {
                        timer.resume(at, policy, h);
                    }
                }
            }
            SlaEvent::StatusChanged { status: status @ (CaseStatus::Resolved | CaseStatus::Closed), .. } => {
                resolve(at, [&mut first, &mut next, &mut resolution], started, &mut resolved, policy, h);
                paused = false;
                awaiting = false;
                closed |= status == CaseStatus::Closed && started;
            }
            SlaEvent::Resolved { .. } => {
                resolve(at, [&mut first, &mut next, &mut resolution], started, &mut resolved, policy, h);
                paused = false;
                awaiting = false;
            }
        }
    }
    for timer in [&mut first, &mut next, &mut resolution] {
        timer.advance(now, policy, &mut history);
    }
    history.sort_by_key(|t| t.at);
    SlaReport {
        now,
        paused,
        first_response: first.status(now, policy),
        next_response: next.status(now, policy),
        resolution: resolution.status(now, policy),
        history,
    }
}

fn resolve(
    at: DateTime<Utc>,
    timers: [&mut Timer; 3],
    started: bool,
    resolved: &mut bool,
    policy: &SlaPolicy,
    history: &mut Vec<SlaTransition>,
) {
    if !started || *resolved {
        return;
    }
    *resolved = true;
    for timer in timers {
        // A paused timer is met where it stands: the pause is not counted.
        timer.meet(at, policy, history);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn hours(h: u64) -> Duration {
        Duration::from_secs(h * 3600)
    }

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// New York, Mon–Fri 09:00–17:00.
    fn ny() -> Calendar {
        Calendar::new("America/New_York", [("mon-fri", "09:00-17:00")], []).unwrap()
    }

    fn policy(first: Duration) -> SlaPolicy {
        SlaPolicy::new(first)
    }

    #[test]
    fn business_hours_within_a_day_and_overnight() {
        let c = ny();
        // Wed 2025-01-15 10:00 EST = 15:00Z. +2h → 12:00 EST.
        assert_eq!(c.add_business_time(utc(2025, 1, 15, 15, 0), hours(2)), utc(2025, 1, 15, 17, 0));
        // 16:00 EST + 2h → 1h today, 1h tomorrow: Thu 10:00 EST.
        assert_eq!(c.add_business_time(utc(2025, 1, 15, 21, 0), hours(2)), utc(2025, 1, 16, 15, 0));
        // Exactly to closing gives the closing time, not the next opening.
        assert_eq!(c.add_business_time(utc(2025, 1, 15, 21, 0), hours(1)), utc(2025, 1, 15, 22, 0));
        // Starting before opening counts from opening.
        assert_eq!(c.add_business_time(utc(2025, 1, 15, 11, 0), mins(30)), utc(2025, 1, 15, 14, 30));
        assert_eq!(c.add_business_time(utc(2025, 1, 15, 11, 0), Duration::ZERO), utc(2025, 1, 15, 11, 0));
        assert_eq!(c.business_time_between(utc(2025, 1, 15, 11, 0), utc(2025, 1, 16, 15, 0)), hours(9));
        assert!(c.is_business_time(utc(2025, 1, 15, 15, 0)));
        assert!(!c.is_business_time(utc(2025, 1, 15, 23, 0)));
    }

    #[test]
    fn weekends_are_skipped() {
        let c = ny();
        // Fri 2025-01-17 16:00 EST + 3h → Mon 11:00 EST.
        assert_eq!(c.add_business_time(utc(2025, 1, 17, 21, 0), hours(3)), utc(2025, 1, 20, 16, 0));
        assert_eq!(c.business_time_between(utc(2025, 1, 17, 21, 0), utc(2025, 1, 20, 16, 0)), hours(3));
        // A post on Saturday starts counting on Monday morning.
        assert_eq!(c.add_business_time(utc(2025, 1, 18, 15, 0), hours(1)), utc(2025, 1, 20, 15, 0));
    }

    #[test]
    fn holidays_are_skipped() {
        let c = Calendar::new("America/New_York", [("mon-fri", "09:00-17:00")], [date(2025, 12, 25)]).unwrap();
        // Wed 2025-12-24 16:00 EST + 2h → Thu is a holiday → Fri 10:00 EST.
        assert_eq!(c.add_business_time(utc(2025, 12, 24, 21, 0), hours(2)), utc(2025, 12, 26, 15, 0));
    }

    #[test]
    fn time_zones_with_dst() {
        let c = ny();
        // Fri 2025-03-07 16:00 EST (21:00Z); DST starts Sun 03-09. +2h → Mon 10:00 EDT = 14:00Z.
        assert_eq!(c.add_business_time(utc(2025, 3, 7, 21, 0), hours(2)), utc(2025, 3, 10, 14, 0));
        // Fall back: Fri 2025-10-31 16:00 EDT (20:00Z) + 2h → Mon 11-03 10:00 EST = 15:00Z.
        assert_eq!(c.add_business_time(utc(2025, 10, 31, 20, 0), hours(2)), utc(2025, 11, 3, 15, 0));
        // A round-the-clock calendar has 23 business hours on spring-forward day, 25 on fall-back day.
        let all = Calendar::new("Europe/Berlin", [("daily", "00:00-24:00")], []).unwrap();
        let spring = (utc(2025, 3, 29, 23, 0), utc(2025, 3, 30, 22, 0));
        assert_eq!(all.business_time_between(spring.0, spring.1), hours(23));
        let autumn = (utc(2025, 10, 25, 22, 0), utc(2025, 10, 26, 23, 0));
        assert_eq!(all.business_time_between(autumn.0, autumn.1), hours(25));
        // Hours that start inside the skipped hour open when the clocks jump (03:00 CEST = 01:00Z).
        let night = Calendar::new("Europe/Berlin", [("sun", "02:30-04:00")], []).unwrap();
        assert_eq!(night.business_time_between(utc(2025, 3, 30, 0, 0), utc(2025, 3, 30, 4, 0)), hours(1));
        assert_eq!(night.add_business_time(utc(2025, 3, 29, 0, 0), mins(1)), utc(2025, 3, 30, 1, 1));
        // Same wall-clock hours, different zones, different instants.
        let tokyo = Calendar::new("Asia/Tokyo", [("mon-fri", "09:00-17:00")], []).unwrap();
        assert_eq!(tokyo.add_business_time(utc(2025, 1, 15, 0, 0), hours(1)), utc(2025, 1, 15, 1, 0));
    }

    #[test]
    fn calendar_config_errors_say_what_to_fix() {
        let bad = |tz: &str, k: &str, v: &str| Calendar::new(tz, [(k, v)], []).unwrap_err().to_string();
        assert!(bad("Mars/Olympus", "mon", "09:00-17:00").contains("IANA"));
        assert!(bad("UTC", "mon-fir", "09:00-17:00").contains("fir"));
        assert!(bad("UTC", "mon", "9-5").contains("HH:MM"));
        assert!(bad("UTC", "mon", "17:00-09:00").contains("ends before"));
        assert!(bad("UTC", "mon", "09:00-12:00,11:00-13:00").contains("overlap"));
        assert!(bad("UTC", "mon", "closed").contains("no business hours"));
        let twice = Calendar::new("UTC", [("mon-fri", "09:00-17:00"), ("fri", "09:00-12:00")], []).unwrap_err();
        assert!(twice.to_string().contains("already set"), "{twice}");
        // Weekday spellings and wrap-around ranges.
        let c = Calendar::new("UTC", [("Friday-Monday", "10:00-11:00"), ("wed", "10:00-11:00")], []).unwrap();
        assert!(c.is_business_time(utc(2025, 1, 19, 10, 30)));
        assert!(!c.is_business_time(utc(2025, 1, 21, 10, 30)));
    }

    const CONFIG: &str = r#"
        [default]
        first_response = "1h"
        next_response = "2h"
        resolution = "2d"

        [default.calendar]
        timezone = "America/New_York"
        holidays = ["2025-12-25", 2026-01-01]

        [default.calendar.hours]
        mon-fri = "09:00-17:00"
        sat = "10:00-12:00, 13:00-15:00"

        [brands.Gilt]
        first_response = "30m"
        warn_at = 0.5
    "#;

    #[test]
    fn policies_read_from_toml() {
        let p = SlaPolicies::from_toml_str(CONFIG).unwrap();
        let d = p.for_brand("acme").unwrap();
        assert_eq!((d.first_response, d.next_response, d.resolution), (hours(1), Some(hours(2)), Some(hours(48))));
        assert_eq!(d.warn_at, 0.75);
        let cal = d.calendar.as_ref().unwrap();
        assert_eq!(cal.timezone(), chrono_tz::America::New_York);
        assert_eq!(cal.config().holidays, [date(2025, 12, 25), date(2026, 1, 1)]);
        // Saturday 2025-01-18 12:30 EST is the lunch break.
        assert!(!cal.is_business_time(utc(2025, 1, 18, 17, 30)));
        let g = p.for_brand("GILT").unwrap();
        assert_eq!((g.first_response, g.warn_at, g.calendar.is_none()), (mins(30), 0.5, true));
        // Round trip.
        let again = SlaPolicies::from_toml_str(&toml::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn policy_errors_name_the_problem() {
        let err = |s: &str| SlaPolicies::from_toml_str(s).unwrap_err().to_string();
        assert!(err("[default]\nfirst_response = \"soon\"").contains("first_response"));
        assert!(err("[default]\nfirst_response = \"0s\"").contains("longer than zero"));
        assert!(err("[default]\nfirst_response = \"1h\"\nwarn_at = 1.5").contains("warn_at"));
        assert!(err("[default]\nfirst_reply = \"1h\"").contains("first_reply"));
        let tz = err("[default]\nfirst_response = \"1h\"\n[default.calendar]\ntimezone = \"Nowhere\"\nhours = {}");
        assert!(tz.contains("Nowhere") && tz.contains("IANA"), "{tz}");
        let line =
            err("[default]\nfirst_response = \"1h\"\n[default.calendar]\ntimezone = \"UTC\"\nhours = { mon = \"x\" }");
        assert!(line.contains("line 3") && line.contains("\"x\" is not a range"), "{line}");
    }

    fn posted(at: DateTime<Utc>) -> SlaEvent {
        SlaEvent::CustomerPosted { at }
    }

    fn replied(at: DateTime<Utc>) -> SlaEvent {
        SlaEvent::BrandReplied { at }
    }

    fn states(r: &SlaReport) -> Vec<(SlaTarget, SlaState, SlaState)> {
        r.history.iter().map(|t| (t.target, t.from_state, t.to_state)).collect()
    }

    #[test]
    fn met_in_time() {
        let p = SlaPolicy { resolution: Some(hours(24)), ..policy(hours(1)) };
        let t0 = utc(2025, 1, 15, 15, 0);
        let events = [posted(t0), replied(t0 + TimeDelta::minutes(40))];
        let r = evaluate(&p, &events, t0 + TimeDelta::hours(2));
        let f = r.first_response;
        assert_eq!(
            (f.state, f.met_at, f.due_at),
            (SlaState::Met, Some(t0 + TimeDelta::minutes(40)), Some(t0 + TimeDelta::hours(1)))
        );
        assert_eq!(f.elapsed, mins(40));
        assert_eq!(r.resolution.state, SlaState::Running);
        assert_eq!(r.next_response.state, SlaState::NotApplicable);
        assert_eq!(
            states(&r),
            [
                (SlaTarget::FirstResponse, SlaState::NotApplicable, SlaState::Running),
                (SlaTarget::Resolution, SlaState::NotApplicable, SlaState::Running),
                (SlaTarget::FirstResponse, SlaState::Running, SlaState::Met),
            ]
        );
    }

    #[test]
    fn warning_and_breach_at_exact_instants() {
        let p = policy(hours(1));
        let t0 = utc(2025, 1, 15, 15, 0);
        let events = [posted(t0)];
        let at = |m: i64| evaluate(&p, &events, t0 + TimeDelta::minutes(m));
        assert_eq!(at(44).first_response.state, SlaState::Running);
        assert_eq!(at(45).first_response.state, SlaState::Warning);
        assert_eq!(at(60).first_response.state, SlaState::Warning, "due instant itself is still in time");
        let late = at(61);
        assert_eq!(late.first_response.state, SlaState::Breached);
        assert_eq!(late.first_response.warned_at, Some(t0 + TimeDelta::minutes(45)));
        assert_eq!(late.first_response.breached_at, Some(t0 + TimeDelta::minutes(60)));
        let h = &late.history;
        assert_eq!((h[1].to_state, h[1].at), (SlaState::Warning, t0 + TimeDelta::minutes(45)));
        assert_eq!((h[2].to_state, h[2].at), (SlaState::Breached, t0 + TimeDelta::minutes(60)));
        // A reply after the breach records when it came but stays breached.
        let answered = evaluate(&p, &[posted(t0), replied(t0 + TimeDelta::minutes(90))], t0 + TimeDelta::hours(3));
        let f = answered.first_response;
        assert_eq!((f.state, f.met_at, f.elapsed), (SlaState::Breached, Some(t0 + TimeDelta::minutes(90)), mins(90)));
        // A reply exactly at the due time is in time.
        let exact = evaluate(&p, &[posted(t0), replied(t0 + TimeDelta::hours(1))], t0 + TimeDelta::hours(3));
        assert_eq!(exact.first_response.state, SlaState::Met);
    }

    #[test]
    fn clock_starts_at_published_time_even_if_seen_later() {
        let p = policy(hours(1));
        let published = utc(2025, 1, 15, 14, 0);
        // earshot saw the post at 16:30 and evaluates then: it is already breached, since 15:00.
        let r = evaluate(&p, &[posted(published)], utc(2025, 1, 15, 16, 30));
        assert_eq!(r.first_response.started_at, Some(published));
        assert_eq!(r.first_response.breached_at, Some(utc(2025, 1, 15, 15, 0)));
        assert_eq!(r.first_response.elapsed, mins(150));
        // Events recorded out of order give the same report.
        let mut clock = SlaClock::new(p.clone());
        clock.record(replied(utc(2025, 1, 15, 14, 30)));
        clock.record(posted(published));
        assert_eq!(clock.evaluate(utc(2025, 1, 15, 16, 30)).first_response.state, SlaState::Met);
    }

    #[test]
    fn business_hours_in_the_clock() {
        let p = SlaPolicy { calendar: Some(ny()), ..policy(hours(2)) };
        // Posted Fri 2025-01-17 16:30 EST; due Mon 10:30 EST = 15:30Z.
        let t0 = utc(2025, 1, 17, 21, 30);
        let r = evaluate(&p, &[posted(t0)], utc(2025, 1, 19, 12, 0));
        assert_eq!(r.first_response.due_at, Some(utc(2025, 1, 20, 15, 30)));
        assert_eq!(r.first_response.elapsed, mins(30));
        assert_eq!(r.first_response.state, SlaState::Running);
        // Warning at 75 % = 1.5h of business time: Mon 10:00 EST.
        let r = evaluate(&p, &[posted(t0)], utc(2025, 1, 20, 15, 0));
        assert_eq!(r.first_response.warned_at, Some(utc(2025, 1, 20, 15, 0)));
        // Across the spring-forward weekend: Fri 2025-03-07 16:30 EST + 2h → Mon 10:30 EDT = 14:30Z.
        let r = evaluate(&p, &[posted(utc(2025, 3, 7, 21, 30))], utc(2025, 3, 10, 15, 0));
        assert_eq!(r.first_response.due_at, Some(utc(2025, 3, 10, 14, 30)));
        assert_eq!(r.first_response.breached_at, Some(utc(2025, 3, 10, 14, 30)));
        assert_eq!(r.first_response.elapsed, mins(150));
    }

    #[test]
    fn waiting_on_customer_pauses_and_customer_post_resumes() {
        let p = SlaPolicy { next_response: Some(hours(1)), resolution: Some(hours(4)), ..policy(hours(1)) };
        let t0 = utc(2025, 1, 15, 12, 0);
        let h = |n: i64| t0 + TimeDelta::minutes(n);
        let events = [
            posted(h(0)),
            replied(h(30)),
            SlaEvent::StatusChanged { at: h(30), status: CaseStatus::WaitingOnCustomer },
            posted(h(600)), // ten hours later the customer answers
        ];
        let paused = evaluate(&p, &events, h(300));
        assert!(paused.paused);
        assert_eq!(paused.resolution.state, SlaState::Paused);
        assert_eq!(paused.resolution.elapsed, mins(30));
        assert_eq!(paused.resolution.due_at, None);

        let resumed = evaluate(&p, &events, h(620));
        assert!(!resumed.paused);
        assert_eq!(resumed.resolution.state, SlaState::Running);
        assert_eq!(resumed.resolution.elapsed, mins(50));
        assert_eq!(resumed.resolution.due_at, Some(h(600 + 210)));
        // The customer's answer starts the next-response clock.
        let n = resumed.next_response;
        assert_eq!((n.state, n.cycle, n.started_at, n.due_at), (SlaState::Running, 1, Some(h(600)), Some(h(660))));
        assert!(states(&resumed).contains(&(SlaTarget::Resolution, SlaState::Paused, SlaState::Running)));

        // Resolving while paused meets the target where it stands, without counting the pause.
        let resolved = [
            posted(h(0)),
            SlaEvent::StatusChanged { at: h(20), status: CaseStatus::WaitingOnCustomer },
            SlaEvent::Resolved { at: h(500) },
        ];
        let r = evaluate(&p, &resolved, h(600));
        assert_eq!((r.resolution.state, r.resolution.elapsed), (SlaState::Met, mins(20)));
        assert_eq!((r.first_response.state, r.first_response.met_at), (SlaState::Met, Some(h(500))));
        assert!(states(&r).contains(&(SlaTarget::Resolution, SlaState::Paused, SlaState::Met)));
        assert!(!r.paused);
    }

    #[test]
    fn next_response_cycles_and_resolution() {
        let p = SlaPolicy { next_response: Some(hours(1)), resolution: Some(hours(8)), ..policy(hours(1)) };
        let t0 = utc(2025, 1, 15, 12, 0);
        let h = |n: i64| t0 + TimeDelta::minutes(n);
        let events = [
            posted(h(0)),
            replied(h(10)),
            posted(h(20)),
            posted(h(25)),   // still the same unanswered cycle
            replied(h(100)), // 80 minutes: breached
            posted(h(110)),
            replied(h(120)),
            SlaEvent::Resolved { at: h(130) },
            posted(h(140)), // a thank-you on a resolved case starts nothing
        ];
        let r = evaluate(&p, &events, h(200));
        assert_eq!((r.next_response.cycle, r.next_response.state), (2, SlaState::Met));
        assert_eq!(r.resolution.state, SlaState::Met);
        assert_eq!(r.resolution.met_at, Some(h(130)));
        let cycles: Vec<_> =
            r.history.iter().filter(|t| t.target == SlaTarget::NextResponse).map(|t| (t.cycle, t.to_state)).collect();
        assert_eq!(
            cycles,
            [
                (1, SlaState::Running),
                (1, SlaState::Warning),
                (1, SlaState::Breached),
                (2, SlaState::Running),
                (2, SlaState::Met)
            ]
        );
        // Reopening continues resolution time.
        let mut more = events.to_vec();
        more.push(SlaEvent::Reopened { at: h(300) });
        let r = evaluate(&p, &more, h(360));
        assert_eq!((r.resolution.state, r.resolution.elapsed), (SlaState::Running, mins(130 + 60)));
        assert_eq!(r.resolution.due_at, Some(h(300 + 480 - 130)));
    }

    #[test]
    fn closed_is_final_and_brand_reply_first_is_ignored() {
        let p = SlaPolicy { resolution: Some(hours(8)), ..policy(hours(1)) };
        let t0 = utc(2025, 1, 15, 12, 0);
        let h = |n: i64| t0 + TimeDelta::minutes(n);
        let events = [
            replied(h(0)),
            posted(h(5)),
            SlaEvent::StatusChanged { at: h(20), status: CaseStatus::Closed },
            SlaEvent::Reopened { at: h(30) },
            posted(h(40)),
        ];
        let r = evaluate(&p, &events, h(100));
        assert_eq!(r.first_response.started_at, Some(h(5)));
        assert_eq!((r.first_response.state, r.first_response.met_at), (SlaState::Met, Some(h(20))));
        assert_eq!((r.resolution.state, r.resolution.met_at), (SlaState::Met, Some(h(20))));
        assert_eq!(r.next_response.state, SlaState::NotApplicable);
    }

    #[test]
    fn events_serialize_for_storage() {
        let e = SlaEvent::StatusChanged { at: utc(2025, 1, 1, 0, 0), status: CaseStatus::WaitingOnCustomer };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"event":"status_changed","at":"2025-01-01T00:00:00Z","status":"waiting_on_customer"}"#);
        assert_eq!(serde_json::from_str::<SlaEvent>(&json).unwrap(), e);
        let report = evaluate(&policy(hours(1)), &[posted(utc(2025, 1, 1, 0, 0))], utc(2025, 1, 1, 0, 30));
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["first_response"]["state"], "running");
        assert_eq!(v["first_response"]["elapsed"], "30m");
        assert_eq!(v["history"][0]["to_state"], "running");
    }

    fn arb_calendar() -> impl Strategy<Value = Option<Calendar>> {
        prop_oneof![
            Just(None),
            Just(Some(ny())),
            Just(Some(Calendar::new("Europe/Berlin", [("daily", "00:00-24:00")], []).unwrap())),
            Just(Some(
                Calendar::new(
                    "Australia/Lord_Howe",
                    [("mon", "01:30-02:45, 08:00-12:00"), ("sun", "00:00-24:00")],
                    [date(2025, 10, 6)],
                )
                .unwrap()
            )),
        ]
    }

    fn arb_event(base: DateTime<Utc>) -> impl Strategy<Value = SlaEvent> {
        (0i64..20 * 24 * 60, 0u8..7).prop_map(move |(m, kind)| {
            let at = base + TimeDelta::minutes(m);
            match kind {
                0 | 1 => SlaEvent::CustomerPosted { at },
                2 | 3 => SlaEvent::BrandReplied { at },
                4 => SlaEvent::StatusChanged { at, status: CaseStatus::WaitingOnCustomer },
                5 => SlaEvent::Resolved { at },
                _ => SlaEvent::Reopened { at },
            }
        })
    }

    fn base() -> DateTime<Utc> {
        // Spans both 2025 DST changes somewhere on the globe within 20 days: late March / early October.
        utc(2025, 3, 25, 0, 0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn clocks_never_run_backwards(
            calendar in arb_calendar(),
            first in 1u64..600,
            next in proptest::option::of(1u64..600),
            resolution in proptest::option::of(1u64..6000),
            warn_at in 0.1f64..=1.0,
            events in proptest::collection::vec(arb_event(base()), 0..12),
            nows in proptest::collection::vec(0i64..25 * 24 * 60, 2..6),
        ) {
            let p = SlaPolicy {
                first_response: mins(first),
                next_response: next.map(mins),
                resolution: resolution.map(mins),
                warn_at,
                calendar,
            };
            let mut nows: Vec<DateTime<Utc>> = nows.into_iter().map(|m| base() + TimeDelta::minutes(m)).collect();
            nows.sort();
            let reports: Vec<SlaReport> = nows.iter().map(|n| evaluate(&p, &events, *n)).collect();
            for r in &reports {
                for t in r.targets() {
                    if let (Some(due), Some(start)) = (t.due_at, t.started_at) {
                        prop_assert!(due >= start, "{t:?}");
                    }
                    if let (Some(b), Some(start)) = (t.breached_at, t.started_at) {
                        prop_assert!(b >= start, "{t:?}");
                    }
                    prop_assert!(t.elapsed <= r.now.signed_duration_since(t.started_at.unwrap_or(r.now)).to_std().unwrap_or_default());
                }
                prop_assert!(r.history.windows(2).all(|w| w[0].at <= w[1].at));
                prop_assert!(r.history.iter().all(|t| t.at <= r.now));
            }
            for w in reports.windows(2) {
                let (a, b) = (&w[0], &w[1]);
                for target in [SlaTarget::FirstResponse, SlaTarget::Resolution] {
                    prop_assert!(a.target(target).elapsed <= b.target(target).elapsed, "{target} went back: {a:?} {b:?}");
                }
                if a.next_response.cycle == b.next_response.cycle {
                    prop_assert!(a.next_response.elapsed <= b.next_response.elapsed);
                }
                // What was already history stays history.
                let earlier: Vec<_> = a.history.iter().filter(|t| t.at < a.now).collect();
                let later: Vec<_> = b.history.iter().filter(|t| t.at < a.now).collect();
                prop_assert_eq!(earlier, later);
            }
        }

        #[test]
        fn business_time_arithmetic_is_monotonic(
            calendar in arb_calendar(),
            start in 0i64..20 * 24 * 60,
            d1 in 0u64..5000,
            d2 in 0u64..5000,
        ) {
            let p = SlaPolicy { calendar, ..policy(hours(1)) };
            let s = base() + TimeDelta::minutes(start);
            let (lo, hi) = (d1.min(d2), d1.max(d2));
            let (a, b) = (p.add_business_time(s, mins(lo)), p.add_business_time(s, mins(hi)));
            prop_assert!(a >= s);
            prop_assert!(a <= b, "adding more business time gave an earlier instant");
            prop_assert_eq!(p.business_time_between(s, a), mins(lo));
            prop_assert_eq!(p.business_time_between(s, b), mins(hi));
            prop_assert_eq!(p.business_time_between(s, b), p.business_time_between(s, a) + p.business_time_between(a, b));
            prop_assert_eq!(p.business_time_between(b, s), Duration::ZERO);
        }
    }
}
