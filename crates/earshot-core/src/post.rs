//! The one normalized post model every decoder produces.
//!
//! A [`Post`] keeps what care teams need (who said what, to whom, when, in
//! reply to what) in platform-neutral fields, plus the raw record it came from
//! so nothing the platform sent is ever lost and posts can be re-decoded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The network a post was published on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// X, formerly Twitter (API v1.1, v2, archives, the TWCS data set).
    X,
    /// Any Mastodon-compatible (ActivityPub) server.
    Mastodon,
    /// Bluesky / the AT Protocol.
    Bluesky,
    /// A blog post or a comment on one (RSS, Atom).
    Blog,
    /// Anything else, typically ingested through plain JSONL.
    Other,
}

impl Platform {
    /// All platforms, in a stable order.
    pub const ALL: [Platform; 5] =
        [Platform::X, Platform::Mastodon, Platform::Bluesky, Platform::Blog, Platform::Other];

    /// The stable lowercase name stored in databases and config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
            Platform::Blog => "blog",
            Platform::Other => "other",
        }
    }

    /// Parses a platform name as written in config files; accepts `twitter` for X.
    pub fn parse(name: &str) -> Option<Platform> {
        match name.trim().to_ascii_lowercase().as_str() {
            "x" | "twitter" => Some(Platform::X),
            "mastodon" | "fediverse" => Some(Platform::Mastodon),
            "bluesky" | "bsky" => Some(Platform::Bluesky),
            "blog" | "feed" | "rss" | "atom" => Some(Platform::Blog),
            "other" | "jsonl" => Some(Platform::Other),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of contribution a post is to a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    /// A new post that starts a conversation.
    #[default]
    Original,
    /// A reply to another post (including blog comments).
    Reply,
    /// A repost / retweet / boost of another post, without own text.
    Repost,
    /// A quote of another post, with own text.
    Quote,
}

impl PostKind {
    /// The stable lowercase name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Original => "original",
            PostKind::Reply => "reply",
            PostKind::Repost => "repost",
            PostKind::Quote => "quote",
        }
    }
}

/// Who wrote a post.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Author {
    /// The platform's stable account id (X user id, Mastodon account id, Bluesky DID), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The handle without a leading `@` (`gilt`, `alice@mastodon.social`, `alice.bsky.social`).
    pub handle: String,
    /// The human-readable display name, when the platform sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Follower count at the time of the record, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// Profile URL, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The source says whether this is a company's customer-care account
    /// (TWCS `inbound=False`); `None` when the source does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care_account: Option<bool>,
}

/// The kind of an attached media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A still image (photo).
    Image,
    /// A video.
    Video,
    /// An animated GIF (X) or GIFV (Mastodon).
    Gif,
    /// Audio.
    Audio,
    /// Anything else (unknown attachment types).
    Other,
}

/// One attached media item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// What it is.
    pub kind: MediaKind,
    /// Where the full-size media lives, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Alternative text written by the author, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

/// Public engagement counts, when the platform sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Likes / favourites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    /// Reposts / retweets / boosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reposts: Option<u64>,
    /// Replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<u64>,
    /// Quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotes: Option<u64>,
}

impl Metrics {
    /// True when no count is known.
    pub fn is_empty(&self) -> bool {
        *self == Metrics::default()
    }
}

/// A public post, normalized across platforms.
///
/// Invariant: `(platform, native_id)` identifies a post; storing the same pair
/// twice keeps one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The network it was published on.
    pub platform: Platform,
    /// The platform's own id (tweet id, status id, AT URI, feed item id/guid).
    pub native_id: String,
    /// Canonical public URL, when known or derivable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Who wrote it.
    pub author: Author,
    /// Plain text: HTML decoded to text, entities unescaped, the full text of long tweets.
    pub text: String,
    /// BCP-47 language tag as the platform reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When the platform says it was published (never when earshot saw it).
    pub published_at: DateTime<Utc>,
    /// What kind of contribution it is.
    #[serde(default)]
    pub kind: PostKind,
    /// Native id of the post this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Handle (or id) of the author of the post replied to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_author: Option<String>,
    /// Native id of the conversation / thread root, when the platform tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Native id of the post this one reposts or quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
    /// Mentioned handles, without `@`, in order of appearance, deduplicated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Hashtags without `#`, in order of appearance, deduplicated, case kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    /// Expanded link URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Attached media.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
    /// Engagement counts, when sent.
    #[serde(default, skip_serializing_if = "Metrics::is_empty")]
    pub metrics: Metrics,
    /// Name of the decoder that produced this post (`x-v2`, `twcs`, ...).
    pub format: String,
    /// The raw record (a self-contained JSON/CSV/XML fragment) kept for audit and re-processing.
    pub raw: String,
}

impl Post {
    /// A post with the required fields set and every optional one empty; decoders fill in the rest.
    pub fn new(
        platform: Platform,
        native_id: impl Into<String>,
        author: Author,
        text: impl Into<String>,
        published_at: DateTime<Utc>,
        format: impl Into<String>,
    ) -> Post {
        Post {
            platform,
            native_id: native_id.into(),
            url: None,
            author,
            text: text.into(),
            lang: None,
            published_at,
            kind: PostKind::Original,
            reply_to: None,
            reply_to_author: None,
            conversation_id: None,
            references: None,
            mentions: Vec::new(),
            hashtags: Vec::new(),
            links: Vec::new(),
            media: Vec::new(),
            metrics: Metrics::default(),
            format: format.into(),
            raw: String::new(),
        }
    }
}

/// A deletion notice (Bluesky `delete` commits, X compliance events, Mastodon `delete` events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// Network.
    pub platform: Platform,
    /// The deleted post's native id.
    pub native_id: String,
    /// When the platform says it was deleted, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The raw event.
    pub raw: String,
}

/// Lowercase and strip a leading `@` so handles compare equal across sources.
pub fn normalize_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

/// Appends `item` to `list` unless an equal (case-insensitive) item is already there.
pub fn push_unique(list: &mut Vec<String>, item: &str) {
    let item = item.trim();
    if item.is_empty() {
        return;
    }
    if !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
        list.push(item.to_string());
    }
}
