//! X/Twitter API v1.1 tweet objects: streaming (`statuses/filter`, `sample`)
//! lines, REST responses (one tweet, an array of tweets, or a standard search
//! response `{"statuses": [...]}`), one per line or as one JSON document.
//!
//! Mapping decisions (see also the field docs on [`Post`]):
//!
//! - **id**: `id_str`, because `id` is a 64-bit integer that JavaScript-made
//!   files sometimes round; `id` is only the fallback.
//! - **text**: `extended_tweet.full_text` (streaming "compatibility mode" puts
//!   the untruncated text there and truncates `text`), then `full_text`
//!   (`tweet_mode=extended`), then `text`. The API HTML-escapes `&`, `<`, `>`
//!   in tweet text; these are unescaped.
//! - **retweets** (`retweeted_status`): kind [`PostKind::Repost`], `references`
//!   = the retweeted id, and the text is `RT @user: ` + the retweeted status's
//!   *full* text, because the retweet's own `RT @user: …` text is cut at 140
//!   characters. Mentions start with the retweeted user, then the original's.
//! - **replies**: `in_reply_to_status_id_str` makes it a [`PostKind::Reply`];
//!   `reply_to_author` is `in_reply_to_screen_name` (else the user id).
//! - **quotes**: `quoted_status_id_str` (or `quoted_status.id_str`) becomes
//!   `references`; the kind is [`PostKind::Quote`] unless it is also a reply.
//! - **entities**: those of `extended_tweet` when present (the top-level ones
//!   only cover the truncated text); media from `extended_entities` (all
//!   items) before `entities.media` (first photo only). When a tweet has no
//!   `entities` at all (hand-made exports), they are found in the text.
//! - **stream messages**: `delete` becomes a [`Deletion`]; `limit`,
//!   `disconnect`, `warning`, `scrub_geo`, `status_withheld`, `user_withheld`
//!   and user-stream events are skipped with the message type as reason.
//! - **raw**: the tweet object as found (without the indentation when cut
//!   from a pretty-printed document); it is self-contained (the author is
//!   embedded), so re-decoding `raw` yields the same post.
//!
//! The serde types here are shared with the account-archive decoder
//! ([`super::x_archive`]), whose tweets are v1.1-shaped.

use super::text;
use super::{Decoded, Decoder, Framing, Record, SniffInput, json_values};
use crate::post::{Author, Deletion, Media, MediaKind, Metrics, Platform, Post, PostKind, push_unique};
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// X/Twitter API v1.1 tweet objects (JSON lines or an array).
#[derive(Debug, Clone, Copy, Default)]
pub struct XV1;

const NAME: &str = "x-v1";

impl Decoder for XV1 {
    fn name(&self) -> &'static str {
        NAME
    }
    fn description(&self) -> &'static str {
        "X/Twitter API v1.1 tweet objects (JSON lines or an array)"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let head = trim_head(input.head);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return 0;
        }
        let has = |key: &[u8]| contains(head, key);
        // `"user"` with `"screen_name"` is the embedded author every v1.1 tweet
        // carries; archives (no `"user"`) and v2 (`"username"`) never have both.
        if has(b"\"id_str\"") && has(b"\"user\"") && has(b"\"screen_name\"") {
            return 90;
        }
        if has(b"\"statuses\"") && has(b"\"search_metadata\"") {
            return 90;
        }
        // A stream that happens to start with control messages.
        if (has(b"\"delete\"") && has(b"\"status\"") && has(b"\"id_str\"")) || (has(b"\"limit\"") && has(b"\"track\""))
        {
            return 70;
        }
        0
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        if let Record::Line(bytes) = record {
            // One parse of the line instead of json_values' validation pass plus ours.
            if let Ok(line) = std::str::from_utf8(bytes) {
                let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
                if line.starts_with('{') {
                    return decode_object(line, None, false, out);
                }
            }
        }
        // Raws cut from a (pretty-printed) document are stored without its indentation.
        let compact = matches!(record, Record::Document(_));
        for (label, value) in json_values(record) {
            match value {
                Err(e) => out.push(reject_at(label.as_deref(), e)),
                Ok(raw) => decode_value(raw, label.as_deref(), compact, out),
            }
        }
    }
}

/// Decodes one top-level JSON value: a tweet / stream message, or an array of them.
fn decode_value(raw: &RawValue, label: Option<&str>, compact: bool, out: &mut Vec<Decoded>) {
    if raw.get().starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
            Ok(items) => {
                for (i, item) in items.iter().enumerate() {
                    decode_object(item.get(), Some(within(label, &format!("[{i}]"))), compact, out);
                }
            }
            Err(e) => out.push(reject_at(label, format!("malformed array: {e}"))),
        }
    } else {
        decode_object(raw.get(), label.map(str::to_string), compact, out);
    }
}

/// Decodes one JSON object (`raw`, its exact text): a tweet, a search response or a stream message.
fn decode_object(raw: &str, within: Option<String>, compact: bool, out: &mut Vec<Decoded>) {
    let reject = |reason: String| match &within {
        Some(w) => Decoded::reject_item(w.clone(), reason, Some(raw.as_bytes().to_vec())),
        None => Decoded::reject(reason),
    };
    if !raw.starts_with('{') {
        out.push(reject("expected a tweet object".to_string()));
        return;
    }
    let msg: V1Tweet<'_> = match serde_json::from_str(raw) {
        Ok(m) => m,
        Err(e) if e.is_syntax() || e.is_eof() => return out.push(reject(format!("invalid JSON: {e}"))),
        Err(e) => return out.push(reject(format!("malformed tweet: {e}"))),
    };
    let raw_out = || if compact { compact_json(raw) } else { raw.to_string() };
    if let Some(del) = &msg.delete {
        out.push(deletion(del, msg.timestamp_ms.0, raw_out()));
        return;
    }
    if let Some(limit) = &msg.limit {
        let reason = match limit.track.0 {
            Some(n) => format!("X stream limit notice: {n} matching tweets were not delivered"),
            None => "X stream limit notice".to_string(),
        };
        out.push(Decoded::Skipped { reason });
        return;
    }
    if let Some(statuses) = &msg.statuses {
        for (i, item) in statuses.iter().enumerate() {
            decode_object(item.get(), Some(self::within(within.as_deref(), &format!("statuses[{i}]"))), compact, out);
        }
        if statuses.is_empty() {
            out.push(Decoded::Skipped { reason: "X search response with no statuses".to_string() });
        }
        return;
    }
    if !msg.errors.is_empty() && msg.native_id().is_none() {
        for e in &msg.errors {
            let code = e.code.0.map(|c| format!(" {c}")).unwrap_or_default();
            let message = non_empty(e.message.as_ref()).unwrap_or("without a message");
            out.push(reject(format!("X API error{code}: {message}")));
        }
        return;
    }
    if let Some(kind) = msg.control_message() {
        out.push(Decoded::Skipped { reason: format!("X stream {kind} message") });
        return;
    }
    let Some(user) = &msg.user else {
        out.push(reject(
            "tweet has no `user` object (account-archive tweets have none: use --format x-archive)".to_string(),
        ));
        return;
    };
    let Some(author) = user_author(user) else {
        out.push(reject(format!("{} has no user.screen_name", describe(&msg))));
        return;
    };
    let handle = author.handle.clone();
    match build_post(&msg, author, Some(&handle), NAME, raw_out()) {
        Ok(post) => out.push(Decoded::Post(Box::new(post))),
        Err(reason) => out.push(reject(reason)),
    }
}

fn deletion(del: &DeleteNotice<'_>, outer_ts: Option<u64>, raw: String) -> Decoded {
    let Some(status) = &del.status else {
        return Decoded::reject("delete notice without a `status`");
    };
    let Some(id) = status.id_str.as_ref().or(status.id.as_ref()).map(Str::as_str).filter(|s| !s.is_empty()) else {
        return Decoded::reject("delete notice without a status id");
    };
    let ms = del.timestamp_ms.0.or(outer_ts);
    Decoded::Deletion(Deletion {
        platform: Platform::X,
        native_id: id.to_string(),
        deleted_at: ms.and_then(|ms| i64::try_from(ms).ok()).and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        raw,
    })
}

fn user_author(user: &V1User<'_>) -> Option<Author> {
    let handle = user.screen_name.as_ref().map(Str::as_str).map(str::trim).filter(|s| !s.is_empty())?;
    let handle = handle.trim_start_matches('@');
    Some(Author {
        id: user.id_str.as_ref().or(user.id.as_ref()).map(|s| s.as_str().to_string()).filter(|s| !s.is_empty()),
        handle: handle.to_string(),
        display_name: user.name.as_ref().map(|s| s.as_str().to_string()).filter(|s| !s.is_empty()),
        followers: user.followers_count.0,
        url: Some(format!("https://x.com/{handle}")),
        care_account: None,
    })
}

/// `tweet 123` or `tweet` when the id is missing, for reject reasons.
fn describe(t: &V1Tweet<'_>) -> String {
    match t.native_id() {
        Some(id) => format!("tweet {id}"),
        None => "tweet".to_string(),
    }
}

/// Builds a post from a v1.1-shaped tweet (API or archive).
///
/// `author` is resolved by the caller (the API embeds `user`, archives do
/// not); `url_handle` is the handle for the status URL, `None` when unknown.
pub(crate) fn build_post(
    t: &V1Tweet<'_>,
    author: Author,
    url_handle: Option<&str>,
    format: &str,
    raw: String,
) -> Result<Post, String> {
    let id = t.native_id().ok_or("tweet has no `id_str` or `id`")?;
    let created = t.created_at.as_ref().map(Str::as_str).filter(|s| !s.trim().is_empty());
    let created = created.ok_or_else(|| format!("tweet {id} has no `created_at`"))?;
    let published_at =
        parse_date(created).ok_or_else(|| format!("tweet {id} has an unreadable `created_at`: {created:?}"))?;
    let own_text =
        t.full_text().ok_or_else(|| format!("tweet {id} has no `full_text`, `extended_tweet.full_text` or `text`"))?;

    let mut post = Post {
        url: Some(status_url(url_handle, id)),
        lang: t.lang.as_ref().map(|l| l.as_str().to_string()).filter(|l| !l.is_empty()),
        metrics: Metrics {
            likes: t.favorite_count.0,
            reposts: t.retweet_count.0,
            replies: t.reply_count.0,
            quotes: t.quote_count.0,
        },
        raw,
        ..Post::new(Platform::X, id.to_string(), author, String::new(), published_at, format.to_string())
    };

    // A retweet's own text is truncated; rebuild it from the retweeted status.
    let rt = t.retweeted_status.as_deref().and_then(|rs| {
        let rs_id = rs.native_id()?;
        let rs_user = rs.user.as_ref()?.screen_name.as_ref()?.as_str();
        Some((rs, rs_id, rs_user, rs.full_text()?))
    });
    match rt {
        Some((rs, rs_id, rs_user, rs_text)) => {
            post.kind = PostKind::Repost;
            post.references = Some(rs_id.to_string());
            post.text = format!("RT @{rs_user}: {}", unescape_text(rs_text));
            push_unique(&mut post.mentions, rs_user);
            collect_entities(rs, &mut post);
        }
        None => {
            if t.retweeted_status.is_some() {
                // Retweeted status without id/author/text: still a repost, keep own text.
                post.kind = PostKind::Repost;
                post.references = t.retweeted_status.as_deref().and_then(V1Tweet::native_id).map(str::to_string);
            }
            post.text = unescape_text(own_text).into_owned();
            collect_entities(t, &mut post);
        }
    }

    let reply_to = non_empty(t.in_reply_to_status_id_str.as_ref()).or(non_empty(t.in_reply_to_status_id.as_ref()));
    post.reply_to = reply_to.map(str::to_string);
    post.reply_to_author = non_empty(t.in_reply_to_screen_name.as_ref())
        .or(non_empty(t.in_reply_to_user_id_str.as_ref()))
        .or(non_empty(t.in_reply_to_user_id.as_ref()))
        .map(|s| s.trim_start_matches('@').to_string());
    let quoted = non_empty(t.quoted_status_id_str.as_ref())
        .or_else(|| t.quoted_status.as_ref().and_then(|q| non_empty(q.id_str.as_ref()).or(non_empty(q.id.as_ref()))));
    if post.kind != PostKind::Repost {
        if let Some(q) = quoted {
            post.references = Some(q.to_string());
            post.kind = PostKind::Quote;
        }
        if post.reply_to.is_some() {
            post.kind = PostKind::Reply;
        }
    }
    Ok(post)
}

/// Appends mentions, hashtags, links and media of `t`, the tweet whose text `post` shows.
fn collect_entities(t: &V1Tweet<'_>, post: &mut Post) {
    // extended_tweet holds the entities of the full text; the top level only those of the truncated one.
    let (entities, ext) = match &t.extended_tweet {
        Some(x) if x.entities.is_some() => (x.entities.as_ref(), x.extended_entities.as_ref()),
        _ => (t.entities.as_ref(), t.extended_entities.as_ref()),
    };
    match entities {
        Some(e) => {
            for m in &e.user_mentions {
                if let Some(h) = &m.screen_name {
                    push_unique(&mut post.mentions, h.as_str());
                }
            }
            for h in &e.hashtags {
                if let Some(tag) = &h.text {
                    push_unique(&mut post.hashtags, tag.as_str());
                }
            }
            for u in &e.urls {
                if let Some(link) = u.expanded_url.as_ref().or(u.url.as_ref()) {
                    push_unique(&mut post.links, link.as_str());
                }
            }
        }
        None => {
            let found = text::entities(&post.text);
            for m in &found.mentions {
                push_unique(&mut post.mentions, m);
            }
            for h in &found.hashtags {
                push_unique(&mut post.hashtags, h);
            }
            for l in &found.links {
                push_unique(&mut post.links, l);
            }
        }
    }
    // extended_entities lists every attached item; entities.media only the first photo.
    let media = match ext {
        Some(x) if !x.media.is_empty() => &x.media,
        _ => match entities {
            Some(e) => &e.media,
            None => return,
        },
    };
    for m in media {
        post.media.push(Media {
            kind: media_kind(m.kind.as_ref().map_or("", Str::as_str)),
            url: m.best_url(),
            alt: m.ext_alt_text.as_ref().map(|a| a.as_str().to_string()).filter(|a| !a.is_empty()),
        });
    }
}

// ---------------------------------------------------------------------------
// Serde types (borrowing from the input; shared with the archive decoder).
// ---------------------------------------------------------------------------

/// A v1.1 tweet, or a streaming control message (the same object shape is
/// used for both so a line is parsed once).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Tweet<'a> {
    #[serde(borrow)]
    pub id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
    #[serde(borrow)]
    pub created_at: Option<Str<'a>>,
    #[serde(borrow)]
    pub full_text: Option<Str<'a>>,
    #[serde(borrow)]
    pub text: Option<Str<'a>>,
    #[serde(borrow)]
    pub extended_tweet: Option<ExtendedTweet<'a>>,
    #[serde(borrow)]
    pub user: Option<V1User<'a>>,
    #[serde(borrow)]
    pub in_reply_to_status_id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub in_reply_to_status_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub in_reply_to_screen_name: Option<Str<'a>>,
    #[serde(borrow)]
    pub in_reply_to_user_id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub in_reply_to_user_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub quoted_status_id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub quoted_status: Option<IdOnly<'a>>,
    #[serde(borrow)]
    pub retweeted_status: Option<Box<V1Tweet<'a>>>,
    #[serde(borrow)]
    pub entities: Option<V1Entities<'a>>,
    #[serde(borrow)]
    pub extended_entities: Option<V1ExtendedEntities<'a>>,
    #[serde(borrow)]
    pub lang: Option<Str<'a>>,
    pub favorite_count: Count,
    pub retweet_count: Count,
    pub reply_count: Count,
    pub quote_count: Count,
    // Streaming API control messages and envelopes.
    #[serde(borrow)]
    pub delete: Option<DeleteNotice<'a>>,
    pub limit: Option<LimitNotice>,
    pub timestamp_ms: Count,
    #[serde(borrow)]
    pub statuses: Option<Vec<&'a RawValue>>,
    pub disconnect: Option<IgnoredAny>,
    pub warning: Option<IgnoredAny>,
    pub scrub_geo: Option<IgnoredAny>,
    pub status_withheld: Option<IgnoredAny>,
    pub user_withheld: Option<IgnoredAny>,
    pub event: Option<IgnoredAny>,
    pub friends: Option<IgnoredAny>,
    pub friends_str: Option<IgnoredAny>,
    /// An error body (`{"errors": [{"code": 144, "message": "No status found with that ID."}]}`).
    #[serde(borrow)]
    pub errors: Vec<V1Error<'a>>,
}

impl<'a> V1Tweet<'a> {
    /// `id_str`, else `id`.
    pub fn native_id(&self) -> Option<&str> {
        non_empty(self.id_str.as_ref()).or(non_empty(self.id.as_ref()))
    }

    /// The untruncated text: `extended_tweet.full_text`, `full_text`, `text`.
    pub fn full_text(&self) -> Option<&str> {
        self.extended_tweet
            .as_ref()
            .and_then(|x| x.full_text.as_ref())
            .or(self.full_text.as_ref())
            .or(self.text.as_ref())
            .map(Str::as_str)
    }

    /// The name of a streaming control message this object is, if any.
    fn control_message(&self) -> Option<&'static str> {
        let kinds = [
            (self.disconnect.is_some(), "disconnect"),
            (self.warning.is_some(), "warning"),
            (self.scrub_geo.is_some(), "scrub_geo"),
            (self.status_withheld.is_some(), "status_withheld"),
            (self.user_withheld.is_some(), "user_withheld"),
            (self.event.is_some() && self.native_id().is_none(), "user event"),
            (self.friends.is_some() || self.friends_str.is_some(), "friends list"),
        ];
        kinds.iter().find(|(present, _)| *present).map(|(_, kind)| *kind)
    }
}

/// `extended_tweet` of streaming compatibility-mode tweets.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ExtendedTweet<'a> {
    #[serde(borrow)]
    pub full_text: Option<Str<'a>>,
    #[serde(borrow)]
    pub entities: Option<V1Entities<'a>>,
    #[serde(borrow)]
    pub extended_entities: Option<V1ExtendedEntities<'a>>,
}

/// Only the id of a nested object (e.g. `quoted_status`), skipping the rest cheaply.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IdOnly<'a> {
    #[serde(borrow)]
    pub id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
}

/// The embedded `user` of a v1.1 tweet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1User<'a> {
    #[serde(borrow)]
    pub id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub id: Option<Str<'a>>,
    #[serde(borrow)]
    pub screen_name: Option<Str<'a>>,
    #[serde(borrow)]
    pub name: Option<Str<'a>>,
    pub followers_count: Count,
}

/// `entities` of a v1.1 tweet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Entities<'a> {
    #[serde(borrow)]
    pub hashtags: Vec<V1Hashtag<'a>>,
    #[serde(borrow)]
    pub user_mentions: Vec<V1Mention<'a>>,
    #[serde(borrow)]
    pub urls: Vec<V1Url<'a>>,
    #[serde(borrow)]
    pub media: Vec<V1Media<'a>>,
}

/// `extended_entities` (every attached media item).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1ExtendedEntities<'a> {
    #[serde(borrow)]
    pub media: Vec<V1Media<'a>>,
}

/// A hashtag entity.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Hashtag<'a> {
    #[serde(borrow)]
    pub text: Option<Str<'a>>,
}

/// A user-mention entity.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Mention<'a> {
    #[serde(borrow)]
    pub screen_name: Option<Str<'a>>,
}

/// A URL entity.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Url<'a> {
    #[serde(borrow)]
    pub url: Option<Str<'a>>,
    #[serde(borrow)]
    pub expanded_url: Option<Str<'a>>,
}

/// A media entity.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Media<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<Str<'a>>,
    #[serde(borrow)]
    pub media_url_https: Option<Str<'a>>,
    #[serde(borrow)]
    pub media_url: Option<Str<'a>>,
    #[serde(borrow)]
    pub expanded_url: Option<Str<'a>>,
    #[serde(borrow)]
    pub ext_alt_text: Option<Str<'a>>,
    #[serde(borrow)]
    pub source_status_id_str: Option<Str<'a>>,
    #[serde(borrow)]
    pub video_info: Option<VideoInfo<'a>>,
}

impl V1Media<'_> {
    /// The full media: the highest-bitrate MP4 for videos and GIFs, else the image URL.
    fn best_url(&self) -> Option<String> {
        let video = self.video_info.as_ref().and_then(|v| {
            v.variants
                .iter()
                .filter(|v| v.content_type.as_ref().is_some_and(|c| c.as_str() == "video/mp4"))
                .filter(|v| v.url.is_some())
                .max_by_key(|v| v.bitrate.0.unwrap_or(0))
                .and_then(|v| v.url.as_ref())
        });
        video.or(self.media_url_https.as_ref()).or(self.media_url.as_ref()).map(|u| u.as_str().to_string())
    }
}

/// `video_info` of a video or animated GIF.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VideoInfo<'a> {
    #[serde(borrow)]
    pub variants: Vec<VideoVariant<'a>>,
}

/// One encoding of a video.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VideoVariant<'a> {
    pub bitrate: Count,
    #[serde(borrow)]
    pub content_type: Option<Str<'a>>,
    #[serde(borrow)]
    pub url: Option<Str<'a>>,
}

/// `{"delete": {"status": {...}, "timestamp_ms": "..."}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DeleteNotice<'a> {
    #[serde(borrow)]
    pub status: Option<IdOnly<'a>>,
    pub timestamp_ms: Count,
}

/// An item of a v1.1 error body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Error<'a> {
    pub code: Count,
    #[serde(borrow)]
    pub message: Option<Str<'a>>,
}

/// `{"limit": {"track": N}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LimitNotice {
    pub track: Count,
}

// ---------------------------------------------------------------------------
// Small shared helpers (also used by the v2 and archive decoders).
// ---------------------------------------------------------------------------

pub(crate) use super::json::{Count, Text as Str};

/// The string, unless absent or blank.
pub(crate) fn non_empty<'s>(s: Option<&'s Str<'_>>) -> Option<&'s str> {
    s.map(Str::as_str).filter(|s| !s.trim().is_empty())
}

/// Undoes the HTML escaping X applies to tweet text (`&amp;`, `&lt;`, `&gt;`
/// only), in one pass so `&amp;lt;` stays the literal `&lt;` the author typed.
pub(crate) fn unescape_text(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (rep, len) = if tail.starts_with("&amp;") {
            ('&', 5)
        } else if tail.starts_with("&lt;") {
            ('<', 4)
        } else if tail.starts_with("&gt;") {
            ('>', 4)
        } else {
            ('&', 1)
        };
        out.push(rep);
        rest = &tail[len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Appends `json` (valid JSON) to `out` without the whitespace between
/// tokens, so `raw` fragments cut from pretty-printed files are stored compactly.
pub(crate) fn push_compact_json(out: &mut String, json: &str) {
    let bytes = json.as_bytes();
    let (mut i, mut start) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Jump through the string with SIMD search for its end; most bytes are here.
                i += 1;
                loop {
                    match bytes.get(i..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
                        Some(off) if bytes[i + off] == b'"' => {
                            i += off + 1;
                            break;
                        }
                        Some(off) => i += off + 2, // skip the backslash and the byte it escapes
                        None => {
                            i = bytes.len(); // unterminated: cannot happen for valid JSON
                            break;
                        }
                    }
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                // Only ASCII bytes are dropped, so the slices stay on char boundaries.
                out.push_str(&json[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(json.get(start..).unwrap_or_default());
}

/// `json` without the whitespace between tokens (see [`push_compact_json`]).
pub(crate) fn compact_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    push_compact_json(&mut out, json);
    out
}

/// The public URL of a status; `https://x.com/i/web/status/{id}` resolves without the handle.
pub(crate) fn status_url(handle: Option<&str>, id: &str) -> String {
    match handle {
        Some(h) if !h.is_empty() => format!("https://x.com/{h}/status/{id}"),
        _ => format!("https://x.com/i/web/status/{id}"),
    }
}

/// Parses `created_at`: the classic `Wed Oct 10 20:19:24 +0000 2018`, RFC 3339 (v2) or other export forms.
pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    text::parse_twitter_date(s).or_else(|| text::parse_any_date(s))
}

/// Maps X's media `type` to [`MediaKind`].
pub(crate) fn media_kind(kind: &str) -> MediaKind {
    match kind {
        "photo" => MediaKind::Image,
        "video" => MediaKind::Video,
        "animated_gif" => MediaKind::Gif,
        _ => MediaKind::Other,
    }
}

/// The head of a sniffed input without a BOM and leading whitespace.
pub(crate) fn trim_head(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    &head[start..]
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Joins a record-level label (`value 2`) and an item path (`data[3]`).
pub(crate) fn within(label: Option<&str>, item: &str) -> String {
    match label {
        Some(l) => format!("{l}, {item}"),
        None => item.to_string(),
    }
}

/// A reject of the whole record, or of one labelled value of a document.
pub(crate) fn reject_at(label: Option<&str>, reason: impl Into<String>) -> Decoded {
    match label {
        Some(l) => Decoded::reject_item(l, reason, None),
        None => Decoded::reject(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{tweet_text, x_escape};
    use super::*;
    use crate::decode::decode_all;
    use proptest::prelude::*;
    use serde_json::json;

    fn posts(input: &[u8]) -> Vec<Post> {
        decode_all(&XV1, input)
            .into_iter()
            .filter_map(|d| match d {
                Decoded::Post(p) => Some(*p),
                _ => None,
            })
            .collect()
    }

    fn tweet(id: &str, text: &str) -> serde_json::Value {
        json!({
            "created_at": "Wed Oct 10 20:19:24 +0000 2018",
            "id": 1050118621198921728u64,
            "id_str": id,
            "text": text,
            "user": {"id": 6253282, "id_str": "6253282", "name": "Twitter API", "screen_name": "TwitterAPI", "followers_count": 6133636},
            "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
            "retweet_count": 3,
            "favorite_count": 7,
            "lang": "en"
        })
    }

    #[test]
    fn maps_a_plain_tweet() {
        let mut t = tweet("1050118621198921728", "To make room for more expression &amp; fun &lt;3");
        t["id"] = json!(1.0501186211989217e18); // rounded by a JavaScript tool: ignored for id_str
        let line = t.to_string();
        let p = &posts(line.as_bytes())[0];
        assert_eq!(p.native_id, "1050118621198921728");
        assert_eq!(p.text, "To make room for more expression & fun <3");
        assert_eq!(p.author.handle, "TwitterAPI");
        assert_eq!(p.author.id.as_deref(), Some("6253282"));
        assert_eq!(p.author.followers, Some(6133636));
        assert_eq!(p.url.as_deref(), Some("https://x.com/TwitterAPI/status/1050118621198921728"));
        assert_eq!(p.published_at.to_rfc3339(), "2018-10-10T20:19:24+00:00");
        assert_eq!(p.metrics.likes, Some(7));
        assert_eq!(p.metrics.reposts, Some(3));
        assert_eq!(p.kind, PostKind::Original);
        assert_eq!(p.raw, line);
    }

    #[test]
    fn truncated_tweets_use_extended_tweet() {
        let mut t = tweet("1", "short… https://t.co/x");
        t["truncated"] = json!(true);
        t["extended_tweet"] = json!({
            "full_text": "the long text with #tag and @someone",
            "entities": {"hashtags": [{"text": "tag"}], "user_mentions": [{"screen_name": "someone"}], "urls": []},
            "extended_entities": {"media": [{"type": "photo", "media_url_https": "https://pbs.twimg.com/media/a.jpg", "ext_alt_text": "a cat"}]}
        });
        let p = &posts(t.to_string().as_bytes())[0];
        assert_eq!(p.text, "the long text with #tag and @someone");
        assert_eq!(p.hashtags, ["tag"]);
        assert_eq!(p.mentions, ["someone"]);
        assert_eq!(p.media[0].alt.as_deref(), Some("a cat"));
        assert_eq!(p.media[0].kind, MediaKind::Image);
    }

    #[test]
    fn retweets_use_the_original_full_text() {
        let mut original = tweet("2", "unused");
        original["full_text"] = json!("An original text longer than the retweet shows &amp; more");
        original["user"]["screen_name"] = json!("origin");
        let mut rt = tweet("3", "RT @origin: An original text longer than…");
        rt["retweeted_status"] = original;
        let p = &posts(rt.to_string().as_bytes())[0];
        assert_eq!(p.kind, PostKind::Repost);
        assert_eq!(p.references.as_deref(), Some("2"));
        assert_eq!(p.text, "RT @origin: An original text longer than the retweet shows & more");
        assert_eq!(p.mentions, ["origin"]);
    }

    #[test]
    fn replies_and_quotes() {
        let mut t = tweet("4", "@gilt where is my order?");
        t["in_reply_to_status_id_str"] = json!("3");
        t["in_reply_to_screen_name"] = json!("gilt");
        t["quoted_status_id_str"] = json!("9");
        let p = &posts(t.to_string().as_bytes())[0];
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to.as_deref(), Some("3"));
        assert_eq!(p.reply_to_author.as_deref(), Some("gilt"));
        assert_eq!(p.references.as_deref(), Some("9"));
        let mut q = tweet("5", "look");
        q["quoted_status_id_str"] = json!("9");
        assert_eq!(posts(q.to_string().as_bytes())[0].kind, PostKind::Quote);
    }

    #[test]
    fn stream_messages() {
        let input = b"{\"delete\":{\"status\":{\"id\":1234,\"id_str\":\"1234\",\"user_id\":3,\"user_id_str\":\"3\"},\"timestamp_ms\":\"1528465454848\"}}\n{\"limit\":{\"track\":1234,\"timestamp_ms\":\"1528465454848\"}}\n{\"disconnect\":{\"code\":4,\"stream_name\":\"\",\"reason\":\"\"}}\n";
        let out = decode_all(&XV1, input);
        match &out[0] {
            Decoded::Deletion(d) => {
                assert_eq!(d.native_id, "1234");
                assert_eq!(d.deleted_at.map(|d| d.timestamp_millis()), Some(1528465454848));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&out[1], Decoded::Skipped { reason } if reason.contains("1234")));
        assert!(matches!(&out[2], Decoded::Skipped { reason } if reason.contains("disconnect")));
        let err = b"{\"errors\":[{\"code\":144,\"message\":\"No status found with that ID.\"}]}";
        assert!(
            matches!(&decode_all(&XV1, err)[0], Decoded::Rejected { reason, .. } if reason == "X API error 144: No status found with that ID.")
        );
    }

    #[test]
    fn arrays_and_search_responses() {
        let arr = json!([tweet("1", "a"), {"id_str": "2"}, tweet("3", "c")]).to_string();
        let out = decode_all(&XV1, arr.as_bytes());
        assert_eq!(out.len(), 3);
        assert!(matches!(&out[1], Decoded::Rejected { within: Some(w), .. } if w == "[1]"));
        let search = json!({"statuses": [tweet("1", "a")], "search_metadata": {"count": 1}}).to_string();
        assert_eq!(posts(search.as_bytes()).len(), 1);
    }

    #[test]
    fn rejects_name_the_missing_field() {
        let mut t = tweet("1", "a");
        t.as_object_mut().unwrap().remove("created_at");
        let out = decode_all(&XV1, t.to_string().as_bytes());
        assert!(matches!(&out[0], Decoded::Rejected { reason, .. } if reason.contains("created_at")), "{out:?}");
        let archive_like = json!({"id_str": "1", "full_text": "x", "created_at": "Wed Oct 10 20:19:24 +0000 2018"});
        let out = decode_all(&XV1, archive_like.to_string().as_bytes());
        assert!(matches!(&out[0], Decoded::Rejected { reason, .. } if reason.contains("x-archive")), "{out:?}");
    }

    #[test]
    fn unescape_is_single_pass() {
        assert_eq!(unescape_text("a &amp;lt; b &lt;&gt; &amp;&amp; &foo;"), "a &lt; b <> && &foo;");
        assert_eq!(unescape_text("no entities"), "no entities");
    }

    #[test]
    fn compacts_json_outside_strings() {
        let pretty = "{\n  \"a\" : [ 1, 2 ],\n\t\"b\": \"x y \\\" z\\\\\", \"é\" : \"😀 \" }";
        assert_eq!(compact_json(pretty), "{\"a\":[1,2],\"b\":\"x y \\\" z\\\\\",\"é\":\"😀 \"}");
    }

    #[test]
    fn sniffs() {
        let s = |h: &str| XV1.sniff(SniffInput { head: h.as_bytes(), file_name: None });
        assert_eq!(s(&tweet("1", "a").to_string()), 90);
        assert_eq!(s("{\"did\":\"did:plc:x\",\"time_us\":1,\"kind\":\"commit\"}"), 0);
        assert_eq!(s("window.YTD.tweets.part0 = [{\"tweet\":{\"id_str\":\"1\"}}]"), 0);
        assert_eq!(s("{\"data\":{\"id\":\"1\",\"text\":\"a\",\"author_id\":\"2\"}}"), 0);
        assert_eq!(s("{\"text\":\"a\",\"author\":\"b\",\"created_at\":\"2020-01-01\"}"), 0);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&XV1, &bytes);
        }

        #[test]
        fn mutated_tweets_never_panic(pos in 0usize..600, junk in "[\\[\\]{}\",:0-9a-z]{0,6}") {
            let mut s = tweet("1", "hello").to_string();
            let pos = pos.min(s.len());
            if s.is_char_boundary(pos) {
                s.insert_str(pos, &junk);
            }
            let _ = decode_all(&XV1, s.as_bytes());
        }

        #[test]
        fn generated_tweets_round_trip(
            id in 1u64..u64::MAX,
            text in tweet_text(),
            secs in 1_200_000_000i64..2_000_000_000,
            handle in "[A-Za-z0-9_]{1,15}",
            likes in 0u64..1_000_000,
        ) {
            let date = Utc.timestamp_opt(secs, 0).single().expect("in range");
            let t = json!({
                "id_str": id.to_string(),
                "created_at": date.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
                "full_text": x_escape(&text),
                "user": {"id_str": "42", "screen_name": handle, "name": "N"},
                "favorite_count": likes,
            });
            let decoded = decode_all(&XV1, t.to_string().as_bytes());
            prop_assert_eq!(decoded.len(), 1);
            let Decoded::Post(p) = &decoded[0] else { panic!("{:?}", decoded) };
            prop_assert_eq!(&p.native_id, &id.to_string());
            prop_assert_eq!(&p.text, &text);
            prop_assert_eq!(p.published_at, date);
            prop_assert_eq!(&p.author.handle, &handle);
            prop_assert_eq!(p.metrics.likes, Some(likes));
            let again = decode_all(&XV1, p.raw.as_bytes());
            prop_assert_eq!(&again, &decoded);
        }
    }
}
