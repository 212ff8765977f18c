//! The `[alerts]` section of `earshot.toml`.
//!
//! ```toml
//! [alerts]
//! cooldown = "30m"          # least time between two alerts of one storm (humantime: "90s", "1h 30m")
//! update_growth = 2.0       # an update when the storm is this many times the size last alerted …
//! update_min_posts = 10     # … and has at least this many more posts
//! max_updates = 6           # updates per storm at most
//! notify_close = true       # send storm.closed when the storm ends
//! forget_after = "7d"       # how long a closed storm is remembered (for dedupe)
//!
//! [[alerts.webhooks]]
//! name = "ops"                            # shown in the inbox and logs; default webhook-1, webhook-2, …
//! url = "https://ops.example.com/earshot" # or url_env = "NAME" when the URL itself is a secret
//! secret_env = "EARSHOT_OPS_WEBHOOK_SECRET"  # env var holding the HMAC signing secret
//! format = "earshot"                      # or "slack"
//! brands = ["Gilt"]                       # optional: only these brands' storms (default: all)
//! kinds = ["volume", "campaign"]          # optional: only these storm kinds (default: all)
//! events = ["storm.opened", "storm.closed"]  # optional (default: all three)
//! timeout = "10s"                         # per attempt
//! max_attempts = 8                        # then the delivery is marked failed
//!
//! [[alerts.webhooks]]
//! name = "slack-care"
//! format = "slack"
//! url_env = "EARSHOT_SLACK_WEBHOOK_URL"   # a Slack incoming-webhook URL is a secret: never in the file
//! ```
//!
//! Secrets are only ever read from the environment variables the file names
//! ([`AlertsConfig::resolve`]); `secret = "…"` in the file, or a Slack webhook URL in `url`, is an error.

use crate::alerter::{AlertEvent, AlertPolicy};
use crate::subject::AlertSubject;
use earshot_outbox::Secret;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default attempts before a delivery fails.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
const MAX_TIMEOUT: Duration = Duration::from_secs(300);
const MAX_ATTEMPTS_LIMIT: u32 = 50;

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// earshot's documented JSON object (see [`crate::payload`]), signed.
    #[default]
    Earshot,
    /// A Slack incoming-webhook message (`text` + Block Kit `blocks`).
    Slack,
}

impl Format {
    /// `earshot` or `slack`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Earshot => "earshot",
            Format::Slack => "slack",
        }
    }
}

/// The `[alerts]` table of `earshot.toml`. Field docs are the user documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Least time between two alerts of one storm, e.g. `"30m"`. The closing alert ignores it.
    #[serde(default = "default_cooldown", with = "humantime_serde")]
    pub cooldown: Duration,
    /// An update goes out when the storm is at least this many times the size last alerted (2: doubled).
    #[serde(default = "default_growth")]
    pub update_growth: f64,
    /// … and has at least this many posts more than last alerted.
    #[serde(default = "default_min_posts")]
    pub update_min_posts: u64,
    /// Updates per storm at most (0: only opened and closed).
    #[serde(default = "default_max_updates")]
    pub max_updates: u32,
    /// Send `storm.closed` when the detector closes a storm.
    #[serde(default = "default_notify_close")]
    pub notify_close: bool,
    /// How long a closed (or silent) storm is remembered, so late reports of it stay quiet.
    #[serde(default = "default_forget_after", with = "humantime_serde")]
    pub forget_after: Duration,
    /// Where alerts go.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

fn default_cooldown() -> Duration {
    AlertPolicy::default().cooldown
}
fn default_growth() -> f64 {
    AlertPolicy::default().growth
}
fn default_min_posts() -> u64 {
    AlertPolicy::default().min_new_posts
}
fn default_max_updates() -> u32 {
    AlertPolicy::default().max_updates
}
fn default_notify_close() -> bool {
    AlertPolicy::default().notify_close
}
fn default_forget_after() -> Duration {
    AlertPolicy::default().forget_after
}

impl Default for AlertsConfig {
    fn default() -> AlertsConfig {
        let p = AlertPolicy::default();
        AlertsConfig {
            cooldown: p.cooldown,
            update_growth: p.growth,
            update_min_posts: p.min_new_posts,
            max_updates: p.max_updates,
            notify_close: p.notify_close,
            forget_after: p.forget_after,
            webhooks: Vec::new(),
        }
    }
}

/// One `[[alerts.webhooks]]` entry, as written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// A short name shown in the inbox, the API and logs, and part of every delivery id; default
    /// `webhook-<n>` (its position, from 1). Name webhooks so reordering them keeps delivery ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where to POST, `https://…`. Use `url_env` instead when the URL is itself a secret (Slack's are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// The environment variable holding the signing secret (required for `format = "earshot"`;
    /// optional for Slack, which does not check it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// `earshot` (default) or `slack`.
    #[serde(default)]
    pub format: Format,
    /// Only storms of these brands (compared case-insensitively); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<String>,
    /// Only storms of these kinds (e.g. `volume`, `campaign`; case-insensitive); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Only these events (`storm.opened`, `storm.updated`, `storm.closed`); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<AlertEvent>,
    /// Per-attempt timeout, e.g. `"10s"` (default 10 s, at most 5 min).
    #[serde(default, with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Attempts before the delivery is marked failed (default 8, at most 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Not allowed: present only to explain where the secret goes instead.
    #[serde(default, skip_serializing)]
    pub secret: Option<toml::Value>,
}

/// One thing wrong with the config: where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The table and field, e.g. `alerts.webhooks[1] ("ops").secret_env`.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why the alerts config is unusable. Lists every problem at once.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML is malformed, a field has the wrong type, or a field is unknown.
    #[error("invalid [alerts] config in earshot.toml: {0}")]
    Toml(#[from] toml::de::Error),
    /// Semantic problems and unset environment variables, one per item.
    #[error("invalid [alerts] config in earshot.toml:\n{}", list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
}

/// A webhook ready to deliver to: URL parsed, secret loaded.
#[derive(Clone)]
pub struct Webhook {
    /// Its name (see [`WebhookConfig::name`]).
    pub name: String,
    /// Where to POST.
    pub url: Url,
    /// The URL came from an environment variable: it is a secret, so only its host is ever shown.
    pub url_is_secret: bool,
    /// The signing secret; without one (Slack only) no `Earshot-Signature` is sent.
    pub secret: Option<Secret>,
    /// The environment variable the secret came from, named in error hints.
    pub secret_env: Option<String>,
    /// The body format.
    pub format: Format,
    /// Brand filter, lower-cased; empty for all.
    pub brands: Vec<String>,
    /// Kind filter, lower-cased; empty for all.
    pub kinds: Vec<String>,
    /// Event filter; empty for all.
    pub events: Vec<AlertEvent>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Attempts before failing.
    pub max_attempts: u32,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("target", &self.target())
            .field("secret", &self.secret)
            .field("format", &self.format)
            .field("brands", &self.brands)
            .field("kinds", &self.kinds)
            .field("events", &self.events)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl Webhook {
    /// A webhook for all storms and events with the default timeout and attempts, for code and tests;
    /// configs go through [`AlertsConfig::resolve`].
    pub fn new(name: &str, url: &str, secret: Option<Secret>, format: Format) -> Result<Webhook, ConfigError> {
        let url = parse_url(url).map_err(|reason| {
            ConfigError::Invalid(vec![Problem {
                field: format!("webhook {name:?} url"),
                message: format!("{url:?} {reason}"),
            }])
        })?;
        Ok(Webhook {
            name: name.to_string(),
            url,
            url_is_secret: false,
            secret,
            secret_env: None,
            format,
            brands: Vec::new(),
            kinds: Vec::new(),
            events: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        })
    }

    /// Whether this webhook wants `event` for this storm (brand, kind and event filters).
    pub fn accepts(&self, event: AlertEvent, subject: &AlertSubject) -> bool {
        let matches = |filter: &[String], value: &str| {
            filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value.trim()))
        };
        (self.events.is_empty() || self.events.contains(&event))
            && matches(&self.brands, &subject.brand)
            && matches(&self.kinds, &subject.kind)
    }

    /// Where it points, safe to show: the whole URL, or only `scheme://host` when it is a secret.
    pub fn target(&self) -> String {
        if self.url_is_secret {
            let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}/…", self.url.scheme(), self.url.host_str().unwrap_or("?"))
        } else {
            self.url.to_string()
        }
    }
}

/// Resolved `[alerts]`: the policy for the [`Alerter`](crate::Alerter) and the webhooks.
#[derive(Debug, Clone)]
pub struct Alerts {
    /// Cooldown and update policy.
    pub policy: AlertPolicy,
    /// Webhooks, in config order.
    pub webhooks: Vec<Webhook>,
}

impl AlertsConfig {
    /// Reads the `[alerts]` section of a whole `earshot.toml`, ignoring other sections, and checks it;
    /// a file without one gives the default (no webhooks). Secrets are not read yet: see
    /// [`AlertsConfig::resolve`].
    pub fn from_toml(text: &str) -> Result<AlertsConfig, ConfigError> {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            alerts: AlertsConfig,
        }
        let whole: Whole = toml::from_str(text)?;
        let problems = whole.alerts.problems();
        if problems.is_empty() { Ok(whole.alerts) } else { Err(ConfigError::Invalid(problems)) }
    }

    /// The cooldown and update policy.
    pub fn policy(&self) -> AlertPolicy {
        AlertPolicy {
            cooldown: self.cooldown,
            growth: self.update_growth,
            min_new_posts: self.update_min_posts,
            max_updates: self.max_updates,
            notify_close: self.notify_close,
            forget_after: self.forget_after,
        }
    }

    /// Every problem with the config (not the environment), each naming its table and field.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |field: String, message: String| problems.push(Problem { field, message });
        if !self.update_growth.is_finite() || self.update_growth < 1.0 {
            problem(
                "alerts.update_growth".into(),
                format!("{} is not a factor ≥ 1; write 2 for \"when the storm has doubled\"", self.update_growth),
            );
        }
        let mut names = BTreeSet::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            let name = webhook_name(i, w);
            let at = |field: &str| format!("alerts.webhooks[{i}] ({name:?}).{field}");
            if w.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                problem(
                    at("name"),
                    "is empty; give the webhook a short name such as \"ops\" or remove the line".into(),
                );
            } else if !names.insert(name.to_lowercase()) {
                problem(
                    at("name"),
                    "is used by another webhook; names must be unique (they are part of delivery ids)".into(),
                );
            }
            match (&w.url, &w.url_env) {
                (None, None) => problem(
                    at("url"),
                    "is missing; set url = \"https://…\", or url_env = \"NAME\" when the URL is a secret".into(),
                ),
                (Some(_), Some(_)) => problem(at("url"), "and url_env are both set; keep one".into()),
                (Some(url), None) => {
                    if let Err(reason) = parse_url(url) {
                        problem(at("url"), format!("{url:?} {reason}"));
                    } else if is_slack_webhook(url) {
                        problem(
                            at("url"),
                            "is a Slack incoming-webhook URL, which is itself a secret: move it to an environment \
                             variable and name that with url_env = \"NAME\""
                                .into(),
                        );
                    }
                }
                (None, Some(env)) => check_env_name(env, &at("url_env"), &mut problem),
            }
            match (&w.secret_env, w.format) {
                (Some(env), _) => check_env_name(env, &at("secret_env"), &mut problem),
                (None, Format::Earshot) => problem(
                    at("secret_env"),
                    "is missing; earshot-format webhooks are signed: name an environment variable holding a \
                     random secret shared with the receiver, e.g. secret_env = \"EARSHOT_WEBHOOK_SECRET\""
                        .into(),
                ),
                (None, Format::Slack) => {}
            }
            if w.secret.is_some() {
                problem(
                    at("secret"),
                    "is not read from the config file, so secrets never sit in plain text; put the value in an \
                     environment variable and name it with secret_env"
                        .into(),
                );
            }
            if let Some(t) = w.timeout
                && (t.is_zero() || t > MAX_TIMEOUT)
            {
                problem(
                    at("timeout"),
                    format!("{} is out of range; use between 1s and 5m", humantime::format_duration(t)),
                );
            }
            if let Some(n) = w.max_attempts
                && !(1..=MAX_ATTEMPTS_LIMIT).contains(&n)
            {
                problem(at("max_attempts"), format!("{n} is out of range; use 1 to {MAX_ATTEMPTS_LIMIT}"));
            }
            for (field, values) in [("brands", &w.brands), ("kinds", &w.kinds)] {
                if values.iter().any(|v| v.trim().is_empty()) {
                    problem(at(field), "has an empty entry; remove it (an empty list means all)".into());
                }
            }
        }
        problems
    }

    /// Brand filters naming no configured brand (they would silence the webhook), as problems.
    /// `known` is the `[[brands]]` names.
    pub fn unknown_brands(&self, known: &[&str]) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            for brand in &w.brands {
                if !known.iter().any(|k| k.trim().eq_ignore_ascii_case(brand.trim())) {
                    problems.push(Problem {
                        field: format!("alerts.webhooks[{i}] ({:?}).brands", webhook_name(i, w)),
                        message: format!(
                            "{brand:?} is not a configured brand (known: {}); fix the spelling or remove it",
                            known.join(", ")
                        ),
                    });
                }
            }
        }
        problems
    }

    /// Checks the config and loads every webhook's URL and secret through `env` (normally
    /// `|name| std::env::var(name).ok()`), reporting every problem and unset variable at once.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Alerts, ConfigError> {
        let mut problems = self.problems();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        let mut webhooks = Vec::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            let name = webhook_name(i, w);
            let at = |field: &str| format!("alerts.webhooks[{i}] ({name:?}).{field}");
            let read = |var: &str| env(var).filter(|v| !v.trim().is_empty());
            let url = match (&w.url, &w.url_env) {
                (Some(url), _) => parse_url(url).ok(),
                (None, Some(var)) => {
                    match read(var) {
                        None => {
                            problems.push(Problem {
                            field: at("url_env"),
                            message: format!("the environment variable {var} is not set or empty; export it with the webhook's URL"),
                        });
                            None
                        }
                        Some(value) => match parse_url(value.trim()) {
                            Ok(url) => Some(url),
                            Err(reason) => {
                                // The value is a secret: say what is wrong without echoing it.
                                problems.push(Problem {
                                    field: at("url_env"),
                                    message: format!("the value of the environment variable {var} {reason}"),
                                });
                                None
                            }
                        },
                    }
                }
                (None, None) => None,
            };
            let secret = match &w.secret_env {
                None => None,
                Some(var) => match read(var) {
                    Some(value) => Some(Secret::new(value)),
                    None => {
                        problems.push(Problem {
                            field: at("secret_env"),
                            message: format!(
                                "the environment variable {var} is not set or empty; export it with the signing \
                                 secret shared with the receiver (e.g. openssl rand -hex 32)"
                            ),
                        });
                        None
                    }
                },
            };
            if let Some(url) = url {
                webhooks.push(Webhook {
                    name,
                    url,
                    url_is_secret: w.url.is_none(),
                    secret,
                    secret_env: w.secret_env.clone(),
                    format: w.format,
                    brands: w.brands.iter().map(|b| b.trim().to_lowercase()).collect(),
                    kinds: w.kinds.iter().map(|k| k.trim().to_lowercase()).collect(),
                    events: w.events.clone(),
                    timeout: w.timeout.unwrap_or(DEFAULT_TIMEOUT),
                    max_attempts: w.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
                });
            }
        }
        if problems.is_empty() {
            Ok(Alerts { policy: self.policy(), webhooks })
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}

fn webhook_name(i: usize, w: &WebhookConfig) -> String {
    w.name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(|| format!("webhook-{}", i + 1), str::to_string)
}

/// Parses a webhook URL; the error says what is wrong without repeating the URL, which may be a secret.
fn parse_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("is not a URL ({e}); write it as https://host/path"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none_or(str::is_empty) {
        return Err("is not an http(s) URL with a host; write it as https://host/path".to_string());
    }
    Ok(parsed)
}

fn is_slack_webhook(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| h.eq_ignore_ascii_case("hooks.slack.com")))
}

fn check_env_name(name: &str, field: &str, problem: &mut impl FnMut(String, String)) {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        problem(
            field.to_string(),
            format!(
                "{name:?} is not an environment variable name; use letters, digits and _, e.g. EARSHOT_WEBHOOK_SECRET"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const FULL: &str = r#"
[[brands]]
name = "Gilt"

[outbox]
dry_run = true

[alerts]
cooldown = "45m"
update_growth = 1.5
update_min_posts = 25
max_updates = 3
notify_close = false
forget_after = "2d"

[[alerts.webhooks]]
name = "ops"
url = "https://ops.example.com/earshot"
secret_env = "OPS_SECRET"
brands = ["gilt"]
kinds = ["Volume"]
events = ["storm.opened", "storm.closed"]
timeout = "5s"
max_attempts = 3

[[alerts.webhooks]]
format = "slack"
url_env = "SLACK_URL"
"#;

    #[test]
    fn reads_the_whole_file_and_resolves() {
        let config = AlertsConfig::from_toml(FULL).unwrap();
        let policy = config.policy();
        assert_eq!(policy.cooldown, Duration::from_secs(45 * 60));
        assert_eq!((policy.growth, policy.min_new_posts, policy.max_updates, policy.notify_close), (1.5, 25, 3, false));
        assert_eq!(policy.forget_after, Duration::from_secs(2 * 86400));
        let alerts = config
            .resolve(env(&[("OPS_SECRET", "s3cret"), ("SLACK_URL", "https://hooks.slack.com/services/T0/B0/XYZ")]))
            .unwrap();
        let [ops, slack] = &alerts.webhooks[..] else { panic!("two webhooks") };
        assert_eq!(ops.name, "ops");
        assert_eq!(ops.secret.as_ref().unwrap().expose(), "s3cret");
        assert_eq!((ops.timeout, ops.max_attempts), (Duration::from_secs(5), 3));
        assert_eq!(ops.target(), "https://ops.example.com/earshot");
        assert_eq!(slack.name, "webhook-2");
        assert_eq!(slack.format, Format::Slack);
        assert!(slack.secret.is_none());
        assert_eq!(slack.target(), "https://hooks.slack.com/…", "the secret URL is never shown");
        assert!(!format!("{slack:?}").contains("XYZ"));
        assert!(!format!("{ops:?}").contains("s3cret"));
        assert_eq!((slack.timeout, slack.max_attempts), (DEFAULT_TIMEOUT, DEFAULT_MAX_ATTEMPTS));
    }

    #[test]
    fn filters() {
        let alerts = AlertsConfig::from_toml(FULL)
            .unwrap()
            .resolve(env(&[("OPS_SECRET", "s"), ("SLACK_URL", "https://h.example/x")]))
            .unwrap();
        let ops = &alerts.webhooks[0];
        let mut subject = crate::subject::example();
        assert!(ops.accepts(AlertEvent::Opened, &subject), "brand and kind match case-insensitively");
        assert!(!ops.accepts(AlertEvent::Updated, &subject), "events filter");
        subject.kind = "campaign".into();
        assert!(!ops.accepts(AlertEvent::Opened, &subject), "kinds filter");
        subject.kind = "volume".into();
        subject.brand = "Other".into();
        assert!(!ops.accepts(AlertEvent::Opened, &subject), "brands filter");
        assert!(alerts.webhooks[1].accepts(AlertEvent::Updated, &subject), "no filters: everything");
    }

    #[test]
    fn no_alerts_section_means_no_webhooks() {
        let config = AlertsConfig::from_toml("[[brands]]\nname = \"Gilt\"\n").unwrap();
        assert_eq!(config, AlertsConfig::default());
        assert!(config.resolve(env(&[])).unwrap().webhooks.is_empty());
    }

    fn problems(toml: &str) -> Vec<String> {
        match AlertsConfig::from_toml(toml) {
            Err(ConfigError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn every_problem_at_once_with_its_field() {
        let got = problems(
            r#"
[alerts]
update_growth = 0.5

[[alerts.webhooks]]
name = "ops"
secret = "hunter2"
timeout = "10m"
max_attempts = 0

[[alerts.webhooks]]
name = "OPS"
url = "ftp://example.com"
secret_env = "1BAD"
kinds = [""]

[[alerts.webhooks]]
url = "https://hooks.slack.com/services/T/B/X"
format = "slack"
url_env = "X"
"#,
        );
        let expected = [
            "alerts.update_growth: 0.5 is not a factor ≥ 1",
            "alerts.webhooks[0] (\"ops\").url: is missing; set url = \"https://…\", or url_env",
            "alerts.webhooks[0] (\"ops\").secret_env: is missing; earshot-format webhooks are signed",
            "alerts.webhooks[0] (\"ops\").secret: is not read from the config file",
            "alerts.webhooks[0] (\"ops\").timeout: 10m is out of range",
            "alerts.webhooks[0] (\"ops\").max_attempts: 0 is out of range",
            "alerts.webhooks[1] (\"OPS\").name: is used by another webhook",
            "alerts.webhooks[1] (\"OPS\").url: \"ftp://example.com\" is not an http(s) URL",
            "alerts.webhooks[1] (\"OPS\").secret_env: \"1BAD\" is not an environment variable name",
            "alerts.webhooks[1] (\"OPS\").kinds: has an empty entry",
            "alerts.webhooks[2] (\"webhook-3\").url: and url_env are both set",
        ];
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for (g, e) in got.iter().zip(expected) {
            assert!(g.starts_with(e), "{g:?} should start with {e:?}");
        }
        assert!(!got.concat().contains("hunter2"), "the secret is never echoed");
    }

    #[test]
    fn slack_url_in_the_file_is_refused() {
        let got =
            problems("[[alerts.webhooks]]\nformat = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/X\"\n");
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("is itself a secret") && got[0].contains("url_env"), "{got:?}");
    }

    #[test]
    fn unknown_fields_and_values_are_toml_errors() {
        let e = AlertsConfig::from_toml("[[alerts.webhooks]]\nurl = \"https://a.example\"\nsecret_envv = \"X\"\n")
            .unwrap_err();
        assert!(matches!(e, ConfigError::Toml(_)));
        let text = e.to_string();
        assert!(text.contains("secret_envv") && text.contains("secret_env"), "{text}");
        let e = AlertsConfig::from_toml("[alerts]\ncooldown = \"soon\"\n").unwrap_err().to_string();
        assert!(e.contains("cooldown") || e.contains("line 2"), "{e}");
        let e = AlertsConfig::from_toml("[[alerts.webhooks]]\nurl = \"https://a.example\"\nformat = \"teams\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("earshot") && e.contains("slack"), "{e}");
        let e =
            AlertsConfig::from_toml("[[alerts.webhooks]]\nurl = \"https://a.example\"\nevents = [\"storm.started\"]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("storm.opened"), "{e}");
    }

    #[test]
    fn unset_environment_is_reported_without_leaking_values() {
        let config = AlertsConfig::from_toml(FULL).unwrap();
        let e = config
            .resolve(env(&[("OPS_SECRET", " "), ("SLACK_URL", "not a url SECRETTOKEN")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "alerts.webhooks[0] (\"ops\").secret_env: the environment variable OPS_SECRET is not set or empty"
            ),
            "{e}"
        );
        assert!(e.contains("alerts.webhooks[1] (\"webhook-2\").url_env: the value of the environment variable SLACK_URL is not a URL"), "{e}");
        assert!(!e.contains("SECRETTOKEN"), "{e}");
    }

    #[test]
    fn unknown_brand_filters() {
        let config = AlertsConfig::from_toml(FULL).unwrap();
        assert!(config.unknown_brands(&["Gilt"]).is_empty());
        let p = config.unknown_brands(&["Acme"]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "alerts.webhooks[0] (\"ops\").brands");
    }
}
