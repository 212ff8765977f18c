//! Brands and attribution: which brands a post addresses, and whether a brand is the one speaking.
//!
//! Brands come from `earshot.toml`:
//!
//! ```toml
//! [[brands]]
//! name = "Gilt"
//! handles = ["@gilt", "mastodon:@gilt@mastodon.social", "bluesky:gilt.com"]
//! aliases = ["Gilt Groupe"]          # names matched as whole words in text
//! keywords = ["gilt.com"]            # other phrases that address the brand
//! products = ["Jack Rogers sandals"]
//! competitors = ["Nordstrom"]
//! ```
//!
//! A bare `@handle` applies on every platform; `platform:@handle` on one.

use crate::post::{Platform, Post, normalize_handle};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One brand as written in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandConfig {
    /// Display name, unique across brands (`Gilt`).
    pub name: String,
    /// Accounts the brand speaks from: `@handle` on every platform, or `platform:@handle` on one
    /// (`x`, `mastodon`, `bluesky`, `blog`, `other`).
    #[serde(default)]
    pub handles: Vec<String>,
    /// Other names customers use for the brand, matched as whole words, case-insensitively.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Phrases that address the brand when they appear in a post (domains, slogans).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Product names, for the Understand stage.
    #[serde(default)]
    pub products: Vec<String>,
    /// Competitors' names, for churn signals.
    #[serde(default)]
    pub competitors: Vec<String>,
}

/// The brand section of `earshot.toml`; other sections are read by the stages that own them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandsFile {
    /// The configured brands.
    #[serde(default)]
    pub brands: Vec<BrandConfig>,
}

/// Why a brand config is unusable.
#[derive(Debug, thiserror::Error)]
pub enum BrandConfigError {
    /// The TOML is malformed or a field has the wrong type.
    #[error("invalid brand config: {0}")]
    Toml(#[from] toml::de::Error),
    /// A semantic problem, e.g. two brands with one name.
    #[error("invalid brand config: {0}")]
    Invalid(String),
}

impl BrandsFile {
    /// Parses the `[[brands]]` entries of an `earshot.toml` and validates them, reporting every problem at once.
    pub fn from_toml(text: &str) -> Result<BrandsFile, BrandConfigError> {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            brands: Vec<BrandConfig>,
        }
        let whole: Whole = toml::from_str(text)?;
        let file = BrandsFile { brands: whole.brands };
        let mut problems = Vec::new();
        let mut seen = HashMap::new();
        for (i, b) in file.brands.iter().enumerate() {
            if b.name.trim().is_empty() {
                problems.push(format!("brands[{i}] has an empty name"));
            }
            if let Some(j) = seen.insert(b.name.to_lowercase(), i) {
                problems.push(format!("brands[{i}] and brands[{j}] are both named {:?}", b.name));
            }
            for h in &b.handles {
                if let Err(e) = parse_handle(h) {
                    problems.push(format!("brand {:?}: {e}", b.name));
                }
            }
        }
        if problems.is_empty() { Ok(file) } else { Err(BrandConfigError::Invalid(problems.join("; "))) }
    }
}

/// Splits `platform:@handle` / `@handle` into its platform (None = every platform) and normalized handle.
pub fn parse_handle(spec: &str) -> Result<(Option<Platform>, String), String> {
    let spec = spec.trim();
    let (platform, handle) = match spec.split_once(':') {
        Some((p, h)) if !p.starts_with('@') => {
            let platform = Platform::parse(p).ok_or_else(|| {
                format!("unknown platform {p:?} in handle {spec:?}; use one of x, mastodon, bluesky, blog, other")
            })?;
            (Some(platform), h)
        }
        _ => (None, spec),
    };
    let handle = normalize_handle(handle);
    if handle.is_empty() {
        return Err(format!("empty handle {spec:?}"));
    }
    Ok((platform, handle))
}

/// How a post came to be attributed to a brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The brand wrote it (one of its handles is the author).
    Author,
    /// It replies to one of the brand's handles.
    Reply,
    /// It mentions one of the brand's handles.
    Mention,
    /// Its text names the brand (alias or keyword).
    Keyword,
}

impl Via {
    /// Stable name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Author => "author",
            Via::Reply => "reply",
            Via::Mention => "mention",
            Via::Keyword => "keyword",
        }
    }
}

/// A post's link to one brand, with the strongest reason found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The brand's name.
    pub brand: String,
    /// Why.
    pub via: Via,
}

/// Compiled brand matchers: handle tables and one keyword automaton for all brands.
#[derive(Debug, Clone)]
pub struct Brands {
    configs: Vec<BrandConfig>,
    /// handle -> (platform or None for all, brand index), first configured wins per platform.
    /// Keyed by the handle alone so a lookup borrows it instead of building a tuple key.
    handles: HashMap<String, Vec<(Option<Platform>, usize)>>,
    keywords: Option<AhoCorasick>,
    keyword_brand: Vec<usize>,
}

impl Brands {
    /// Compiles matchers for the given brands.
    pub fn new(configs: Vec<BrandConfig>) -> Brands {
        let mut handles: HashMap<String, Vec<(Option<Platform>, usize)>> = HashMap::new();
        let mut patterns = Vec::new();
        let mut keyword_brand = Vec::new();
        for (i, b) in configs.iter().enumerate() {
            for h in &b.handles {
                if let Ok(key) = parse_handle(h) {
                    let (platform, handle) = key;
                    let entries = handles.entry(handle).or_default();
                    if !entries.iter().any(|(p, _)| *p == platform) {
                        entries.push((platform, i));
                    }
                }
            }
            for k in std::iter::once(&b.name).chain(&b.aliases).chain(&b.keywords) {
                let k = k.trim();
                if k.chars().count() >= 3 {
                    patterns.push(k.to_string());
                    keyword_brand.push(i);
                }
            }
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            // Building from plain strings only fails past automaton size limits far beyond any config.
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()
        };
        Brands { configs, handles, keywords, keyword_brand }
    }

    /// No brands configured.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty()
    }

    /// The configured brands.
    pub fn configs(&self) -> &[BrandConfig] {
        &self.configs
    }

    fn brand_of_handle(&self, platform: Platform, handle: &str) -> Option<usize> {
        let lookup = |h: &str| -> Option<usize> {
            let entries = self.handles.get(h)?;
            // A handle given for this platform wins over one given for every platform.
            let on = |p: Option<Platform>| entries.iter().find(|(q, _)| *q == p).map(|(_, i)| *i);
            on(Some(platform)).or_else(|| on(None))
        };
        let h = normalize_handle(handle);
        if let Some(i) = lookup(&h) {
            return Some(i);
        }
        // `@gilt@mastodon.social` also matches a bare `@gilt` given for every platform.
        if platform == Platform::Mastodon
            && let Some((user, _)) = h.split_once('@')
        {
            return self.handles.get(user)?.iter().find(|(p, _)| p.is_none()).map(|(_, i)| *i);
        }
        None
    }

    /// The brand whose handle wrote this post, if any.
    pub fn speaking_brand(&self, post: &Post) -> Option<&str> {
        self.brand_of_handle(post.platform, &post.author.handle).map(|i| self.configs[i].name.as_str())
    }

    /// Every brand the post addresses or is written by, each with its strongest reason, in config order.
    pub fn attribute(&self, post: &Post) -> Vec<Attribution> {
        if self.configs.is_empty() {
            return Vec::new();
        }
        let mut best: Vec<Option<Via>> = vec![None; self.configs.len()];
        let mut note = |i: usize, via: Via| {
            let slot = &mut best[i];
            if slot.is_none_or(|v| via < v) {
                *slot = Some(via);
            }
        };
        if let Some(i) = self.brand_of_handle(post.platform, &post.author.handle) {
            note(i, Via::Author);
        }
        if let Some(to) = &post.reply_to_author
            && let Some(i) = self.brand_of_handle(post.platform, to)
        {
            note(i, Via::Reply);
        }
        for m in &post.mentions {
            if let Some(i) = self.brand_of_handle(post.platform, m) {
                note(i, Via::Mention);
            }
        }
        if let Some(ac) = &self.keywords {
            let text = post.text.as_bytes();
            for m in ac.find_iter(text) {
                let before = m.start().checked_sub(1).map(|i| text[i]);
                let after = text.get(m.end()).copied();
                let boundary = |b: Option<u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
                // `@gilt` and `#gilt` are handled as mentions / hashtags, but `#Gilt` still names the brand.
                if boundary(before) && boundary(after) {
                    note(self.keyword_brand[m.pattern().as_usize()], Via::Keyword);
                }
            }
        }
        best.into_iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|via| Attribution { brand: self.configs[i].name.clone(), via }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::Author;
    use chrono::TimeZone;

    fn post(platform: Platform, author: &str, text: &str, mentions: &[&str]) -> Post {
        let author = Author { handle: author.into(), ..Author::default() };
        let mut p = Post::new(platform, "1", author, text, chrono::Utc.timestamp_opt(0, 0).unwrap(), "test");
        p.mentions = mentions.iter().map(|s| s.to_string()).collect();
        p
    }

    fn brands() -> Brands {
        let file = BrandsFile::from_toml(
            r#"
            [[brands]]
            name = "Gilt"
            handles = ["@gilt", "bluesky:gilt.com"]
            aliases = ["Gilt Groupe"]
            [[brands]]
            name = "Brooks"
            handles = ["@brooksrunning"]
            "#,
        )
        .unwrap();
        Brands::new(file.brands)
    }

    #[test]
    fn mention_keyword_and_author() {
        let b = brands();
        let p = post(Platform::X, "alice", "@Gilt my sandal broke, Brooks would never", &["Gilt"]);
        let a = b.attribute(&p);
        assert_eq!(
            a,
            vec![
                Attribution { brand: "Gilt".into(), via: Via::Mention },
                Attribution { brand: "Brooks".into(), via: Via::Keyword },
            ]
        );
        let p = post(Platform::X, "Gilt", "sorry!", &[]);
        assert_eq!(b.speaking_brand(&p), Some("Gilt"));
        assert_eq!(b.attribute(&p)[0].via, Via::Author);
    }

    #[test]
    fn per_platform_handles_and_word_boundaries() {
        let b = brands();
        let p = post(Platform::Bluesky, "gilt.com", "hi", &[]);
        assert_eq!(b.speaking_brand(&p), Some("Gilt"));
        let p = post(Platform::X, "gilt.com", "gilded gilts", &[]);
        assert_eq!(b.speaking_brand(&p), None);
        assert!(b.attribute(&p).is_empty(), "{:?}", b.attribute(&p));
        let p = post(Platform::Mastodon, "bob", "hey", &["gilt@mastodon.social"]);
        assert_eq!(b.attribute(&p)[0].brand, "Gilt");
    }

    #[test]
    fn config_errors_are_all_reported() {
        let e =
            BrandsFile::from_toml("[[brands]]\nname='A'\nhandles=['myspace:@a']\n[[brands]]\nname='a'\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("unknown platform") && msg.contains("both named"), "{msg}");
    }
}
