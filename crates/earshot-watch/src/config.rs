//! `[[sources]]` in `earshot.toml`: which live sources to watch.
//!
//! ```toml
//! [[sources]]
//! name = "x"                       # optional; defaults to the kind
//! kind = "x_stream"                # x_stream | mastodon | bluesky_jetstream | feed
//! url = "https://api.x.com"        # base URL (ws(s):// for Jetstream, the feed's URL for feeds)
//! token_env = "X_BEARER_TOKEN"     # name of the environment variable holding the token
//! rules = ["@GiltCare", "#gilt"]   # X: filtered-stream rules to ensure; also the back-fill query
//!
//! [[sources]]
//! kind = "mastodon"
//! url = "https://mastodon.social"
//! stream = "hashtag"               # public | hashtag | user
//! tag = "gilt"
//! transport = "websocket"          # sse (default) | websocket
//!
//! [[sources]]
//! kind = "feed"
//! url = "https://blog.example/comments/feed/"
//! poll_interval = 300              # seconds
//! failing_alert = 60               # health webhook after this long failing (default 60)
//! silence_alert = 3600             # …or this long without a post (default: off)
//! ```
//!
//! Secrets never appear in the file or the store: only the name of the variable that holds them.

use serde::Deserialize;
use std::time::Duration;

/// Why a `[[sources]]` entry is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid TOML, or a field of the wrong type.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A field with an unusable value.
    #[error("[[sources]] entry {name:?}: {reason}")]
    Invalid {
        /// The entry's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The token variable is not set.
    #[error("[[sources]] entry {name:?}: environment variable {var} is not set\nhint: export {var}=<token>")]
    MissingToken {
        /// The entry's name.
        name: String,
        /// The variable.
        var: String,
    },
}

/// The kinds of live source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// X API v2 filtered stream, with recent search to back-fill.
    XStream,
    /// Mastodon streaming (SSE) with REST catch-up.
    Mastodon,
    /// Bluesky Jetstream (WebSocket) with `cursor` resume.
    BlueskyJetstream,
    /// RSS/Atom polling with conditional requests.
    Feed,
}

impl Kind {
    /// The name used in the config and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::XStream => "x_stream",
            Kind::Mastodon => "mastodon",
            Kind::BlueskyJetstream => "bluesky_jetstream",
            Kind::Feed => "feed",
        }
    }
}

/// Which Mastodon stream to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MastodonStream {
    /// Every public status the server knows.
    #[default]
    Public,
    /// Public statuses with a hashtag (`tag`).
    Hashtag,
    /// The token owner's home timeline and notifications.
    User,
}

/// How a Mastodon stream is read: both carry the same events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MastodonTransport {
    /// Server-sent events (`GET /api/v1/streaming/<stream>`).
    #[default]
    Sse,
    /// One WebSocket (`/api/v1/streaming?stream=<stream>`), as Mastodon's own web client does.
    Websocket,
}

/// One `[[sources]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique name: the key of the source's cursor and health, and the `source` of its posts and rejects.
    #[serde(default)]
    pub name: String,
    /// The kind of source.
    pub kind: Kind,
    /// Base URL, or the feed's URL.
    pub url: String,
    /// Environment variable holding the token (X bearer token, Mastodon access token).
    pub token_env: Option<String>,
    /// Feeds (and X when polling): seconds between polls.
    pub poll_interval: Option<f64>,
    /// X: filtered-stream rules to ensure exist; joined with OR they are the back-fill query.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Mastodon: `public`, `hashtag` or `user`.
    #[serde(default)]
    pub stream: MastodonStream,
    /// Mastodon: the hashtag of a `hashtag` stream (without `#`).
    pub tag: Option<String>,
    /// Mastodon: `sse` (default) or `websocket`.
    #[serde(default)]
    pub transport: MastodonTransport,
    /// Jetstream: seconds to rewind the cursor on resume (duplicates deduplicate), default 5.
    pub rewind: Option<f64>,
    /// First reconnect delay in seconds (default 1); doubles up to `reconnect_max`.
    pub reconnect_min: Option<f64>,
    /// Longest reconnect delay in seconds (default 120).
    pub reconnect_max: Option<f64>,
    /// Seconds a source may stay `failing` before a `source.failing` health alert (default 60).
    pub failing_alert: Option<f64>,
    /// Seconds without a post before a `source.silent` health alert (default: no silence alert).
    pub silence_alert: Option<f64>,
    /// The token read from `token_env` when the file was loaded.
    #[serde(skip)]
    pub token: Option<Secret>,
}

/// A token, kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The part of `earshot.toml` this crate reads.
#[derive(Debug, Default, Deserialize)]
struct SourcesFile {
    #[serde(default)]
    sources: Vec<SourceConfig>,
}

fn seconds(name: &str, field: &str, v: Option<f64>, default: f64) -> Result<Duration, ConfigError> {
    let v = v.unwrap_or(default);
    if !(0.0..1e9).contains(&v) {
        return Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!("{field} must be seconds ≥ 0, not {v}"),
        });
    }
    Ok(Duration::from_secs_f64(v))
}

impl SourceConfig {
    /// Seconds between polls (feeds default to 300, X polling to 15).
    pub fn poll_interval(&self) -> Duration {
        let default = if self.kind == Kind::Feed { 300.0 } else { 15.0 };
        seconds(&self.name, "poll_interval", self.poll_interval, default).unwrap_or(Duration::from_secs(300))
    }

    /// The reconnect delay range.
    pub fn reconnect(&self) -> (Duration, Duration) {
        let min = seconds(&self.name, "reconnect_min", self.reconnect_min, 1.0).unwrap_or(Duration::from_secs(1));
        let max = seconds(&self.name, "reconnect_max", self.reconnect_max, 120.0).unwrap_or(Duration::from_secs(120));
        (min, max.max(min))
    }

    /// How long the source may be failing before an alert.
    pub fn failing_alert(&self) -> Option<Duration> {
        seconds(&self.name, "failing_alert", self.failing_alert, 60.0).ok()
    }

    /// How long the source may deliver nothing before an alert; `None` when not configured.
    pub fn silence_alert(&self) -> Option<Duration> {
        self.silence_alert.and_then(|v| seconds(&self.name, "silence_alert", Some(v), 0.0).ok())
    }

    fn check(&mut self, index: usize, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() {
            self.name = format!("{}-{}", self.kind.as_str(), index + 1);
        }
        let invalid = |reason: String| ConfigError::Invalid { name: self.name.clone(), reason };
        let url = self.url.trim().to_ascii_lowercase();
        let schemes: &[&str] =
            if self.kind == Kind::BlueskyJetstream { &["ws://", "wss://"] } else { &["http://", "https://"] };
        if !schemes.iter().any(|s| url.starts_with(s)) {
            return Err(invalid(format!("url {:?} must start with {}", self.url, schemes.join(" or "))));
        }
        if self.kind == Kind::XStream && self.token_env.is_none() {
            return Err(invalid("x_stream needs token_env (the variable holding the bearer token)".into()));
        }
        if self.kind == Kind::Mastodon && self.stream == MastodonStream::Hashtag && self.tag.is_none() {
            return Err(invalid("a hashtag stream needs tag".into()));
        }
        if self.kind == Kind::Mastodon && self.stream == MastodonStream::User && self.token_env.is_none() {
            return Err(invalid("a user stream needs token_env".into()));
        }
        if self.kind != Kind::Mastodon && self.transport != MastodonTransport::Sse {
            return Err(invalid("transport is a Mastodon setting (sse or websocket)".into()));
        }
        seconds(&self.name, "poll_interval", self.poll_interval, 1.0)?;
        seconds(&self.name, "reconnect_min", self.reconnect_min, 1.0)?;
        seconds(&self.name, "reconnect_max", self.reconnect_max, 1.0)?;
        seconds(&self.name, "rewind", self.rewind, 1.0)?;
        seconds(&self.name, "failing_alert", self.failing_alert, 1.0)?;
        seconds(&self.name, "silence_alert", self.silence_alert, 1.0)?;
        if let Some(var) = &self.token_env {
            match env(var) {
                Some(v) if !v.trim().is_empty() => self.token = Some(Secret(v.trim().to_string())),
                _ => return Err(ConfigError::MissingToken { name: self.name.clone(), var: var.clone() }),
            }
        }
        Ok(())
    }
}

/// Reads and checks the `[[sources]]` of a config file's text (other sections are ignored) and reads each
/// token through `env` (the process environment: `|name| std::env::var(name).ok()`); every named token
/// variable must be set.
pub fn sources_from_toml(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Vec<SourceConfig>, ConfigError> {
    let file: SourcesFile = toml::from_str(text)?;
    let mut sources = file.sources;
    for (i, s) in sources.iter_mut().enumerate() {
        s.check(i, &env)?;
    }
    let mut names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(ConfigError::Invalid { name: w[0].into(), reason: "two sources have this name".into() });
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reads_every_kind_and_checks_urls() {
        let text = r#"
            [[brands]]
            name = "Gilt"
            [[sources]]
            kind = "bluesky_jetstream"
            url = "wss://jetstream2.us-east.bsky.network"
            [[sources]]
            name = "blog"
            kind = "feed"
            url = "https://blog.example/feed/"
            poll_interval = 60
            [[sources]]
            kind = "mastodon"
            url = "https://mastodon.social"
            stream = "hashtag"
            tag = "gilt"
        "#;
        let s = sources_from_toml(text, no_env).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].name, "bluesky_jetstream-1");
        assert_eq!(s[1].poll_interval(), Duration::from_secs(60));
        assert_eq!(s[2].stream, MastodonStream::Hashtag);

        let err =
            sources_from_toml("[[sources]]\nkind = \"bluesky_jetstream\"\nurl = \"https://x\"", no_env).unwrap_err();
        assert!(err.to_string().contains("ws:// or wss://"), "{err}");
        let err =
            sources_from_toml("[[sources]]\nkind = \"x_stream\"\nurl = \"https://api.x.com\"", no_env).unwrap_err();
        assert!(err.to_string().contains("token_env"), "{err}");
        let x = "[[sources]]\nkind = \"x_stream\"\nurl = \"https://api.x.com\"\ntoken_env = \"EARSHOT_TEST_UNSET_VAR\"";
        let err = sources_from_toml(x, no_env).unwrap_err();
        assert!(err.to_string().contains("EARSHOT_TEST_UNSET_VAR is not set"), "{err}");
        assert!(sources_from_toml("[[sources]]\nkind = \"telegram\"\nurl = \"https://t\"", no_env).is_err());
        let twice = "[[sources]]\nname=\"a\"\nkind=\"feed\"\nurl=\"http://a\"\n[[sources]]\nname=\"a\"\nkind=\"feed\"\nurl=\"http://b\"";
        let ok = sources_from_toml(x, |v| (v == "EARSHOT_TEST_UNSET_VAR").then(|| "tok".to_string())).unwrap();
        assert_eq!(ok[0].token, Some(Secret("tok".into())));
        assert_eq!(format!("{:?}", ok[0].token), "Some(Secret(…))", "tokens stay out of logs");
        assert!(sources_from_toml(twice, no_env).unwrap_err().to_string().contains("two sources"));
    }
}
