//! Per-brand, per-platform credentials, from the `[outbox]` section of `earshot.toml`.
//!
//! ```toml
//! [outbox]
//! dry_run = true               # the default: record what would be sent, call nothing
//! max_attempts = 8             # optional
//!
//! [[outbox.accounts]]
//! brand = "Gilt"
//! platform = "x"
//! token_env = "GILT_X_TOKEN"   # OAuth 2.0 user access token with tweet.write
//! # base_url = "https://api.x.com"   (the default)
//!
//! [[outbox.accounts]]
//! brand = "Gilt"
//! platform = "mastodon"
//! base_url = "https://mastodon.social"
//! token_env = "GILT_MASTODON_TOKEN"  # access token with write:statuses
//! visibility = "public"              # optional: public, unlisted, private, direct
//!
//! [[outbox.accounts]]
//! brand = "Gilt"
//! platform = "bluesky"
//! identifier = "gilt.com"                 # handle or DID
//! password_env = "GILT_BSKY_APP_PASSWORD" # an app password, not the account password
//! # base_url = "https://bsky.social"      (the default; your PDS otherwise)
//!
//! [[outbox.accounts]]
//! brand = "Gilt"
//! platform = "wordpress"                  # earshot's `blog` platform
//! base_url = "https://blog.gilt.com"
//! username = "care-team"
//! password_env = "GILT_WP_APP_PASSWORD"   # a WordPress application password
//! ```
//!
//! Secrets are read from the named environment variables when the config is resolved
//! ([`OutboxConfig::resolve`]); a `token` or `password` written in the file is an error.

use crate::error::name;
use earshot_core::Platform;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A secret (token, app password). Never printed: `Debug` shows `Secret(***)`, and it is not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for building the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Who may see a Mastodon reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone, on public timelines.
    Public,
    /// Everyone, but not on public timelines.
    Unlisted,
    /// Followers only.
    Private,
    /// Mentioned accounts only.
    Direct,
}

impl Visibility {
    /// The API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// How to authenticate on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// X API v2: an OAuth 2.0 user access token (`Authorization: Bearer`), scope `tweet.write`.
    X {
        /// The user access token.
        token: Secret,
    },
    /// Mastodon: an access token with `write:statuses`.
    Mastodon {
        /// The access token.
        token: Secret,
        /// Visibility of replies; the account's default when `None`.
        visibility: Option<Visibility>,
    },
    /// Bluesky: a handle or DID and an app password, exchanged for a session.
    Bluesky {
        /// Handle or DID.
        identifier: String,
        /// The app password.
        app_password: Secret,
    },
    /// WordPress: HTTP Basic with a user name and an application password.
    WordPress {
        /// The WordPress user name.
        username: String,
        /// The application password.
        app_password: Secret,
    },
}

/// Everything a publisher needs to reach one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The API root, without a trailing slash (`https://api.x.com`, `https://mastodon.social`,
    /// `https://bsky.social`, `https://blog.example`).
    pub base_url: String,
    /// How to authenticate.
    pub auth: Auth,
    /// The environment variable the secret came from, named in error hints.
    pub secret_env: Option<String>,
}

impl Credentials {
    /// X credentials.
    pub fn x(base_url: impl Into<String>, token: Secret) -> Credentials {
        Credentials::new(base_url, Auth::X { token })
    }

    /// Mastodon credentials.
    pub fn mastodon(base_url: impl Into<String>, token: Secret, visibility: Option<Visibility>) -> Credentials {
        Credentials::new(base_url, Auth::Mastodon { token, visibility })
    }

    /// Bluesky credentials.
    pub fn bluesky(base_url: impl Into<String>, identifier: impl Into<String>, app_password: Secret) -> Credentials {
        Credentials::new(base_url, Auth::Bluesky { identifier: identifier.into(), app_password })
    }

    /// WordPress credentials.
    pub fn wordpress(base_url: impl Into<String>, username: impl Into<String>, app_password: Secret) -> Credentials {
        Credentials::new(base_url, Auth::WordPress { username: username.into(), app_password })
    }

    fn new(base_url: impl Into<String>, auth: Auth) -> Credentials {
        Credentials { base_url: base_url.into().trim_end_matches('/').to_string(), auth, secret_env: None }
    }

    /// The platform these credentials are for (WordPress is earshot's [`Platform::Blog`]).
    pub fn platform(&self) -> Platform {
        match self.auth {
            Auth::X { .. } => Platform::X,
            Auth::Mastodon { .. } => Platform::Mastodon,
            Auth::Bluesky { .. } => Platform::Bluesky,
            Auth::WordPress { .. } => Platform::Blog,
        }
    }
}

/// The `[outbox]` section of `earshot.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// Record what would be sent without calling any platform. On unless set to `false`.
    #[serde(default = "yes")]
    pub dry_run: bool,
    /// Attempts per reply before it is marked failed (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// One entry per brand and platform.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

impl Default for OutboxConfig {
    fn default() -> OutboxConfig {
        OutboxConfig { dry_run: true, max_attempts: None, accounts: Vec::new() }
    }
}

fn yes() -> bool {
    true
}

/// One `[[outbox.accounts]]` entry: which account a brand replies from on one platform.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The brand's name as in `[[brands]]` (compared case-insensitively).
    pub brand: String,
    /// `x`, `mastodon`, `bluesky` or `wordpress` (also `twitter`, `bsky`, `blog`).
    pub platform: String,
    /// API root. Defaults: `https://api.x.com` for X, `https://bsky.social` for Bluesky; required for
    /// Mastodon (the instance) and WordPress (the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// X and Mastodon: the environment variable holding the access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Bluesky: handle or DID of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// WordPress: the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Bluesky and WordPress: the environment variable holding the app / application password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Mastodon: visibility of replies (`public`, `unlisted`, `private`, `direct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Not allowed: present only to explain where the token goes instead.
    #[serde(default, skip_serializing)]
    pub token: Option<toml::Value>,
    /// Not allowed: present only to explain where the password goes instead.
    #[serde(default, skip_serializing)]
    pub password: Option<toml::Value>,
}

/// A resolved account: a brand's credentials on one platform, secrets loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The brand's name as configured.
    pub brand: String,
    /// Credentials (the platform is [`Credentials::platform`]).
    pub credentials: Credentials,
}

/// Why the outbox config is unusable; lists every problem at once.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML is malformed or a field has the wrong type.
    #[error("invalid [outbox] config: {0}")]
    Toml(#[from] toml::de::Error),
    /// Semantic problems or missing environment variables, one per item.
    #[error("invalid [outbox] config: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// Parses a platform name as written in `[[outbox.accounts]]`.
fn parse_platform(name: &str) -> Option<Platform> {
    match name.trim().to_ascii_lowercase().as_str() {
        "wordpress" | "wp" => Some(Platform::Blog),
        "other" | "jsonl" => None,
        other => Platform::parse(other),
    }
}

impl OutboxConfig {
    /// Reads the `[outbox]` section of a whole `earshot.toml`, ignoring the other sections; a file
    /// without one gives the default (dry run, no accounts). Checks the structure of every account.
    pub fn from_toml(text: &str) -> Result<OutboxConfig, ConfigError> {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            outbox: OutboxConfig,
        }
        let whole: Whole = toml::from_str(text)?;
        let problems = whole.outbox.problems();
        if problems.is_empty() { Ok(whole.outbox) } else { Err(ConfigError::Invalid(problems)) }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            let at = format!("outbox.accounts[{i}] (brand {:?}, platform {:?})", a.brand, a.platform);
            if a.brand.trim().is_empty() {
                problems.push(format!("{at}: brand is empty"));
            }
            if a.token.is_some() || a.password.is_some() {
                let field = if a.token.is_some() { "token" } else { "password" };
                problems.push(format!(
                    "{at}: `{field}` is not read from the config file, so secrets never sit in plain text; \
                     put the value in an environment variable and name it with `{field}_env`"
                ));
            }
            let Some(platform) = parse_platform(&a.platform) else {
                problems.push(format!("{at}: unknown platform; use one of x, mastodon, bluesky, wordpress"));
                continue;
            };
            if !seen.insert((a.brand.trim().to_lowercase(), platform)) {
                problems.push(format!("{at}: a second account for the same brand and platform; keep one"));
            }
            if let Some(url) = &a.base_url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                problems.push(format!("{at}: base_url {url:?} must start with https://"));
            }
            let (needs, forbids): (&[&str], &[&str]) = match platform {
                Platform::X => (&["token_env"], &["identifier", "username", "password_env", "visibility"]),
                Platform::Mastodon => (&["base_url", "token_env"], &["identifier", "username", "password_env"]),
                Platform::Bluesky => (&["identifier", "password_env"], &["token_env", "username", "visibility"]),
                _ => (&["base_url", "username", "password_env"], &["token_env", "identifier", "visibility"]),
            };
            for field in needs {
                if !a.has(field) {
                    problems.push(format!("{at}: {} needs `{field}`", name(platform)));
                }
            }
            for field in forbids {
                if a.has(field) {
                    problems.push(format!("{at}: `{field}` is not used for {}; remove it", name(platform)));
                }
            }
        }
        problems
    }

    /// Loads every account's secret through `env` (normally `|name| std::env::var(name).ok()`),
    /// reporting every unset or empty variable at once.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Vec<Account>, ConfigError> {
        let mut problems = self.problems();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        let mut accounts = Vec::new();
        for a in &self.accounts {
            let Some(platform) = parse_platform(&a.platform) else { continue };
            let var = match platform {
                Platform::X | Platform::Mastodon => a.token_env.clone(),
                _ => a.password_env.clone(),
            }
            .unwrap_or_default();
            let secret = match env(&var) {
                Some(v) if !v.trim().is_empty() => Secret::new(v.trim()),
                _ => {
                    problems.push(format!(
                        "the environment variable {var} (the {} secret of brand {:?}) is not set or empty; \
                         export it before starting earshot",
                        name(platform),
                        a.brand
                    ));
                    continue;
                }
            };
            let base = a.base_url.clone().unwrap_or_else(|| {
                match platform {
                    Platform::X => "https://api.x.com",
                    _ => "https://bsky.social",
                }
                .to_string()
            });
            let mut credentials = match platform {
                Platform::X => Credentials::x(base, secret),
                Platform::Mastodon => Credentials::mastodon(base, secret, a.visibility),
                Platform::Bluesky => Credentials::bluesky(base, a.identifier.clone().unwrap_or_default(), secret),
                _ => Credentials::wordpress(base, a.username.clone().unwrap_or_default(), secret),
            };
            credentials.secret_env = Some(var);
            accounts.push(Account { brand: a.brand.trim().to_string(), credentials });
        }
        if problems.is_empty() { Ok(accounts) } else { Err(ConfigError::Invalid(problems)) }
    }
}

impl AccountConfig {
    fn has(&self, field: &str) -> bool {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        match field {
            "base_url" => set(&self.base_url),
            "token_env" => set(&self.token_env),
            "identifier" => set(&self.identifier),
            "username" => set(&self.username),
            "password_env" => set(&self.password_env),
            "visibility" => self.visibility.is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
        [[brands]]
        name = "Gilt"

        [outbox]
        dry_run = false

        [[outbox.accounts]]
        brand = "Gilt"
        platform = "x"
        token_env = "GILT_X_TOKEN"

        [[outbox.accounts]]
        brand = "Gilt"
        platform = "mastodon"
        base_url = "https://mastodon.social/"
        token_env = "GILT_MASTODON_TOKEN"
        visibility = "unlisted"

        [[outbox.accounts]]
        brand = "Gilt"
        platform = "bluesky"
        identifier = "gilt.com"
        password_env = "GILT_BSKY_APP_PASSWORD"

        [[outbox.accounts]]
        brand = "Gilt"
        platform = "wordpress"
        base_url = "https://blog.gilt.com"
        username = "care"
        password_env = "GILT_WP_APP_PASSWORD"
    "#;

    #[test]
    fn full_config_resolves_with_secrets_from_env() {
        let config = OutboxConfig::from_toml(FULL).unwrap();
        assert!(!config.dry_run);
        let accounts = config.resolve(|name| Some(format!("secret-of-{name}"))).unwrap();
        assert_eq!(accounts.len(), 4);
        assert_eq!(accounts[0].credentials.base_url, "https://api.x.com");
        assert_eq!(accounts[1].credentials.base_url, "https://mastodon.social");
        assert_eq!(
            accounts[1].credentials.auth,
            Auth::Mastodon {
                token: Secret::new("secret-of-GILT_MASTODON_TOKEN"),
                visibility: Some(Visibility::Unlisted)
            }
        );
        assert_eq!(accounts[2].credentials.base_url, "https://bsky.social");
        assert_eq!(accounts[3].credentials.platform(), Platform::Blog);
        assert_eq!(accounts[3].credentials.secret_env.as_deref(), Some("GILT_WP_APP_PASSWORD"));
        assert!(!format!("{accounts:?}").contains("secret-of"), "secrets must not be printed");
    }

    #[test]
    fn missing_env_vars_are_all_reported() {
        let config = OutboxConfig::from_toml(FULL).unwrap();
        let err = config.resolve(|name| (name == "GILT_X_TOKEN").then(|| "t".to_string())).unwrap_err().to_string();
        for var in ["GILT_MASTODON_TOKEN", "GILT_BSKY_APP_PASSWORD", "GILT_WP_APP_PASSWORD"] {
            assert!(err.contains(var), "{err}");
        }
        assert!(!err.contains("GILT_X_TOKEN"), "{err}");
    }

    #[test]
    fn no_outbox_section_is_a_dry_run_without_accounts() {
        let config = OutboxConfig::from_toml("[[brands]]\nname = \"Gilt\"\n").unwrap();
        assert_eq!(config, OutboxConfig::default());
        assert!(config.dry_run);
    }

    #[test]
    fn plain_text_secrets_and_structural_problems_are_all_reported() {
        let text = r#"
            [[outbox.accounts]]
            brand = "Gilt"
            platform = "x"
            token = "abc"

            [[outbox.accounts]]
            brand = "Gilt"
            platform = "mastodon"
            token_env = "T"
            identifier = "x"

            [[outbox.accounts]]
            brand = "Gilt"
            platform = "myspace"
        "#;
        let err = OutboxConfig::from_toml(text).unwrap_err().to_string();
        for needle in [
            "`token` is not read from the config file",
            "X needs `token_env`",
            "Mastodon needs `base_url`",
            "`identifier` is not used for Mastodon",
            "unknown platform",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in {err}");
        }
    }
}
