//! X API v2 decoder: response documents (`GET /2/tweets`, `/2/tweets/search/recent`,
//! user timelines: `{"data": [...] | {...}, "includes": {...}, "meta": {...}}`)
//! and filtered-stream lines (`{"data": {...}, "includes": {...}, "matching_rules": [...]}`).
//!
//! Mapping decisions:
//!
//! - **text**: `note_tweet.text` when present (long posts; `text` is then
//!   truncated), else `text`, with the API's HTML escaping (`&amp;`, `&lt;`,
//!   `&gt;`) undone. A retweet whose original is in `includes.tweets` gets
//!   `RT @user: ` + the original's full text, because the retweet's own text
//!   is cut at 140 characters (the same rule as the v1.1 decoder).
//! - **author**: `author_id` looked up in `includes.users` (`username`, `name`,
//!   `public_metrics.followers_count`). When the user is not included (no
//!   `author_id` expansion) the handle falls back to the numeric user id, the
//!   author URL to `https://x.com/i/user/{id}` and the status URL to
//!   `https://x.com/i/web/status/{id}`, all of which X resolves. A tweet
//!   without `author_id` is rejected: a post nobody can be attributed to is
//!   useless for care.
//! - **kind**: `referenced_tweets` `retweeted` → [`PostKind::Repost`]; else
//!   `replied_to` → [`PostKind::Reply`]; else `quoted` → [`PostKind::Quote`].
//!   `references` is the retweeted or quoted id (a reply may also quote).
//!   `reply_to_author` is `in_reply_to_user_id`, as a username when the user
//!   is included.
//! - **entities**: `note_tweet.entities` for long posts, else `entities`;
//!   `urls` entries carrying a `media_key` are the attachment's own link and
//!   are not counted as links. Without any entities (field not requested)
//!   they are found in the text.
//! - **media**: `attachments.media_keys` looked up in `includes.media`; the URL
//!   is `url` (photos), else the highest-bitrate MP4 variant (videos, GIFs),
//!   else `preview_image_url`. A key missing from `includes.media` still
//!   counts as one attachment of kind [`MediaKind::Other`] without URL.
//! - **raw**: `{"data": tweet, "includes": {...}, "matching_rules": [...]}` with
//!   only the users, media and tweets this tweet refers to, each copied as
//!   found (without the indentation when cut from a pretty-printed document),
//!   so re-decoding `raw` yields the same post and the stream's rule tags
//!   stay with the post.
//! - **errors**: problems about requested ids (`parameter` `id`/`ids`: a
//!   deleted or protected tweet) are skipped with the API's message; other
//!   problems in a response without `data` (bad request, auth, rate limit,
//!   stream disconnect) are rejected with the API's message; problems beside
//!   `data` concern expansions and are ignored.

use super::x_v1::{
    Count, Str, contains, media_kind, non_empty, parse_date, push_compact_json, reject_at, status_url, trim_head,
    unescape_text, within,
};
use super::{Decoded, Decoder, Framing, Record, SniffInput, json_values, text};
use crate::post::{Author, Media, MediaKind, Metrics, Platform, Post, PostKind, push_unique};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// X/Twitter API v2: responses with data/includes, filtered-stream lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct XV2;

const NAME: &str = "x-v2";

impl Decoder for XV2 {
    fn name(&self) -> &'static str {
        NAME
    }
    fn description(&self) -> &'static str {
        "X/Twitter API v2: responses with data/includes, filtered-stream lines"
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
        // Field names only v2 uses: the edit-history ids every v2 tweet
        // carries by default, and the stream's rule matches.
        if has(b"\"edit_history_tweet_ids\"") || has(b"\"matching_rules\"") {
            return 95;
        }
        if has(b"\"data\"") && (has(b"\"author_id\"") || has(b"\"includes\"") || has(b"\"conversation_id\"")) {
            return 90;
        }
        if has(b"/2/problems/") {
            return 80;
        }
        if has(b"\"data\"") && has(b"\"text\"") && has(b"\"id\"") && !has(b"\"id_str\"") {
            return 60;
        }
        0
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        if let Record::Line(bytes) = record {
            // One parse instead of json_values' validation pass plus ours.
            match serde_json::from_slice::<Envelope<'_>>(bytes) {
                // A bare tweet needs its own raw bytes: handled below.
                Ok(env) if env.data.is_none() && env.id.is_some() => {}
                Ok(env) => return decode_envelope(env, None, None, false, out),
                Err(e) if e.is_data() => {} // valid JSON but not an object: handled below
                Err(e) => return out.push(Decoded::reject(format!("invalid JSON: {e}"))),
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

/// One top-level value: a response / stream object, a bare tweet, or an array of either.
fn decode_value(raw: &RawValue, label: Option<&str>, compact: bool, out: &mut Vec<Decoded>) {
    let s = raw.get();
    if s.starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(s) {
            Ok(items) => {
                for (i, item) in items.iter().enumerate() {
                    decode_value(item, Some(&within(label, &format!("[{i}]"))), compact, out);
                }
            }
            Err(e) => out.push(reject_at(label, format!("malformed array: {e}"))),
        }
        return;
    }
    if !s.starts_with('{') {
        out.push(reject_item(label, "expected an X API v2 response object or tweet", raw));
        return;
    }
    match serde_json::from_str::<Envelope<'_>>(s) {
        Ok(env) => decode_envelope(env, Some(raw), label, compact, out),
        Err(e) => out.push(reject_item(label, format!("malformed X API v2 response: {e}"), raw)),
    }
}

fn reject_item(label: Option<&str>, reason: impl Into<String>, raw: &RawValue) -> Decoded {
    match label {
        Some(l) => Decoded::reject_item(l, reason, Some(raw.get().as_bytes().to_vec())),
        None => Decoded::reject(reason),
    }
}

/// The top level of a response, a stream line, an error body or a bare tweet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    includes: Option<IncludesRaw<'a>>,
    #[serde(borrow)]
    errors: Vec<Problem<'a>>,
    #[serde(borrow)]
    matching_rules: Option<&'a RawValue>,
    meta: Option<Meta>,
    // A bare tweet (a file of tweet objects without the response wrapper).
    id: Option<IgnoredAny>,
    // An error body without `errors` (HTTP 4xx/5xx: `{"title","detail","type","status"}`).
    #[serde(borrow)]
    title: Option<Str<'a>>,
    #[serde(borrow)]
    detail: Option<Str<'a>>,
    status: Count,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IncludesRaw<'a> {
    #[serde(borrow)]
    users: Vec<&'a RawValue>,
    #[serde(borrow)]
    media: Vec<&'a RawValue>,
    #[serde(borrow)]
    tweets: Vec<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Meta {
    result_count: Count,
}

/// An item of `errors` (v2 "problem"; `message`/`code` for v1.1-style errors).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Problem<'a> {
    #[serde(borrow)]
    title: Option<Str<'a>>,
    #[serde(borrow)]
    detail: Option<Str<'a>>,
    #[serde(borrow)]
    message: Option<Str<'a>>,
    #[serde(borrow)]
    parameter: Option<Str<'a>>,
    #[serde(borrow)]
    resource_id: Option<Str<'a>>,
}

impl Problem<'_> {
    fn describe(&self) -> String {
        let title = non_empty(self.title.as_ref());
        let detail = non_empty(self.detail.as_ref()).or(non_empty(self.message.as_ref()));
        match (title, detail) {
            (Some(t), Some(d)) => format!("X API error: {t}: {d}"),
            (Some(t), None) => format!("X API error: {t}"),
            (None, Some(d)) => format!("X API error: {d}"),
            (None, None) => "X API error without a message".to_string(),
        }
    }

    /// About an id the request asked for (a deleted, protected or suspended tweet).
    fn is_about_requested_item(&self) -> bool {
        matches!(non_empty(self.parameter.as_ref()), Some("id" | "ids"))
    }
}

/// Decodes a parsed top-level object; `whole` is its raw text, needed when it
/// is a bare tweet; `compact` strips whitespace from the per-post raws.
fn decode_envelope<'a>(
    env: Envelope<'a>,
    whole: Option<&'a RawValue>,
    label: Option<&str>,
    compact: bool,
    out: &mut Vec<Decoded>,
) {
    for p in env.errors.iter().filter(|p| p.is_about_requested_item()) {
        out.push(Decoded::Skipped { reason: p.describe() });
    }
    let data = match (env.data, whole) {
        (Some(data), _) => Some(data),
        // A bare tweet object (no response wrapper) is read as `{"data": tweet}`.
        (None, Some(whole)) if env.id.is_some() => Some(whole),
        (None, _) => None,
    };
    let Some(data) = data else {
        for p in env.errors.iter().filter(|p| !p.is_about_requested_item()) {
            out.push(reject_at(label, p.describe()));
        }
        if !env.errors.is_empty() {
            return;
        }
        if let Some(title) = non_empty(env.title.as_ref()) {
            let detail = non_empty(env.detail.as_ref()).map(|d| format!(": {d}")).unwrap_or_default();
            let status = env.status.0.map(|s| format!(" {s}")).unwrap_or_default();
            return out.push(reject_at(label, format!("X API error{status}: {title}{detail}")));
        }
        if let Some(meta) = env.meta {
            let count = meta.result_count.0.unwrap_or(0);
            return out
                .push(Decoded::Skipped { reason: format!("X API response with no posts (result_count {count})") });
        }
        return out.push(reject_at(label, "not an X API v2 response: no `data`, `errors` or tweet `id`"));
    };
    let includes = Includes::parse(env.includes.as_ref());
    let ctx = Ctx { includes: &includes, matching_rules: env.matching_rules, compact };
    if data.get().starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(data.get()) {
            Ok(items) => {
                for (i, item) in items.iter().enumerate() {
                    let w = within(label, &format!("data[{i}]"));
                    match ctx.post(item) {
                        Ok(post) => out.push(Decoded::Post(Box::new(post))),
                        Err(reason) => out.push(Decoded::reject_item(w, reason, Some(item.get().as_bytes().to_vec()))),
                    }
                }
            }
            Err(e) => out.push(reject_at(label, format!("malformed `data` array: {e}"))),
        }
    } else {
        match ctx.post(data) {
            Ok(post) => out.push(Decoded::Post(Box::new(post))),
            Err(reason) => out.push(reject_at(label, reason)),
        }
    }
}

/// `includes`, each item parsed for lookup and kept raw for the per-post `raw`.
#[derive(Default)]
struct Includes<'a> {
    users: Vec<(&'a RawValue, V2User<'a>)>,
    media: Vec<(&'a RawValue, V2Media<'a>)>,
    tweets: Vec<(&'a RawValue, V2Tweet<'a>)>,
}

impl<'a> Includes<'a> {
    fn parse(raw: Option<&IncludesRaw<'a>>) -> Includes<'a> {
        let Some(raw) = raw else { return Includes::default() };
        // An unreadable include is dropped: it only enriches posts, never makes them.
        fn each<'a, T: Deserialize<'a>>(items: &[&'a RawValue]) -> Vec<(&'a RawValue, T)> {
            items.iter().filter_map(|r| serde_json::from_str(r.get()).ok().map(|t| (*r, t))).collect()
        }
        Includes { users: each(&raw.users), media: each(&raw.media), tweets: each(&raw.tweets) }
    }

    fn user(&self, id: &str) -> Option<&(&'a RawValue, V2User<'a>)> {
        self.users.iter().find(|(_, u)| u.id.as_ref().is_some_and(|u| u.as_str() == id))
    }

    fn media(&self, key: &str) -> Option<&(&'a RawValue, V2Media<'a>)> {
        self.media.iter().find(|(_, m)| m.media_key.as_ref().is_some_and(|k| k.as_str() == key))
    }

    fn tweet(&self, id: &str) -> Option<&(&'a RawValue, V2Tweet<'a>)> {
        self.tweets.iter().find(|(_, t)| t.id.as_ref().is_some_and(|t| t.as_str() == id))
    }
}

struct Ctx<'i, 'a> {
    includes: &'i Includes<'a>,
    matching_rules: Option<&'a RawValue>,
    /// Strip whitespace between tokens when copying into `raw`.
    compact: bool,
}

impl Ctx<'_, '_> {
    fn post(&self, raw: &RawValue) -> Result<Post, String> {
        if !raw.get().starts_with('{') {
            return Err("expected a tweet object".to_string());
        }
        let t: V2Tweet<'_> = serde_json::from_str(raw.get()).map_err(|e| format!("malformed tweet: {e}"))?;
        let id = non_empty(t.id.as_ref()).ok_or("tweet has no `id`")?;
        let own_text = t.text.as_ref().map(Str::as_str).ok_or_else(|| format!("tweet {id} has no `text`"))?;
        let created = non_empty(t.created_at.as_ref())
            .ok_or_else(|| format!("tweet {id} has no `created_at` (request tweet.fields=created_at)"))?;
        let published_at =
            parse_date(created).ok_or_else(|| format!("tweet {id} has an unreadable `created_at`: {created:?}"))?;
        let author_id = non_empty(t.author_id.as_ref())
            .ok_or_else(|| format!("tweet {id} has no `author_id` (request tweet.fields=author_id)"))?;
        let inc = self.includes;
        let user = inc.user(author_id).map(|(_, u)| u);
        let username = user.and_then(|u| non_empty(u.username.as_ref()));

        // Which includes this tweet needs, in a stable order, for `raw`.
        let mut need_users: Vec<&str> = vec![author_id];
        let mut need_tweets: Vec<&str> = Vec::new();

        let mut kind = PostKind::Original;
        let (mut reply_to, mut retweeted, mut quoted) = (None, None, None);
        for r in &t.referenced_tweets {
            let Some(rid) = non_empty(r.id.as_ref()) else { continue };
            match r.kind.as_ref().map(Str::as_str) {
                Some("retweeted") => retweeted = retweeted.or(Some(rid)),
                Some("replied_to") => reply_to = reply_to.or(Some(rid)),
                Some("quoted") => quoted = quoted.or(Some(rid)),
                _ => continue,
            }
            if let Some((_, rt)) = inc.tweet(rid) {
                need_tweets.push(rid);
                if let Some(a) = non_empty(rt.author_id.as_ref()) {
                    need_users.push(a);
                }
            }
        }
        if retweeted.is_some() {
            kind = PostKind::Repost;
        } else if reply_to.is_some() {
            kind = PostKind::Reply;
        } else if quoted.is_some() {
            kind = PostKind::Quote;
        }
        let reply_user = non_empty(t.in_reply_to_user_id.as_ref());
        if let Some(u) = reply_user {
            need_users.push(u);
        }
        let reply_to_author = reply_user
            .map(|u| inc.user(u).and_then(|(_, user)| non_empty(user.username.as_ref())).unwrap_or(u).to_string());

        let mut post = Post {
            url: Some(status_url(username, id)),
            lang: non_empty(t.lang.as_ref()).map(str::to_string),
            kind,
            reply_to: reply_to.map(str::to_string),
            reply_to_author,
            conversation_id: non_empty(t.conversation_id.as_ref()).map(str::to_string),
            references: retweeted.or(quoted).map(str::to_string),
            metrics: t.public_metrics.as_ref().map(TweetMetrics::to_metrics).unwrap_or_default(),
            ..Post::new(
                Platform::X,
                id.to_string(),
                Author {
                    id: Some(author_id.to_string()),
                    handle: username.unwrap_or(author_id).to_string(),
                    display_name: user.and_then(|u| non_empty(u.name.as_ref())).map(str::to_string),
                    followers: user.and_then(|u| u.public_metrics.as_ref()).and_then(|m| m.followers_count.0),
                    url: Some(match username {
                        Some(h) => format!("https://x.com/{h}"),
                        None => format!("https://x.com/i/user/{author_id}"),
                    }),
                    care_account: None,
                },
                String::new(),
                published_at,
                NAME.to_string(),
            )
        };

        // A retweet's own text is truncated; use the original's when it is included.
        let original = retweeted.and_then(|rid| inc.tweet(rid)).map(|(_, o)| o);
        let original_text = original.and_then(|o| {
            let by = non_empty(o.author_id.as_ref())
                .and_then(|a| inc.user(a))
                .and_then(|(_, u)| non_empty(u.username.as_ref()))
                .or_else(|| rt_prefix_handle(own_text))?;
            Some((by, o.full_text()?, o))
        });
        match original_text {
            Some((by, text, o)) => {
                post.text = format!("RT @{by}: {}", unescape_text(text));
                push_unique(&mut post.mentions, by);
                collect_entities(o, &mut post);
            }
            None => {
                post.text = unescape_text(t.full_text().unwrap_or(own_text)).into_owned();
                collect_entities(&t, &mut post);
            }
        }

        let mut need_media: Vec<&str> = Vec::new();
        if let Some(att) = &t.attachments {
            for key in att.media_keys.iter().map(Str::as_str) {
                match inc.media(key) {
                    Some((_, m)) => {
                        need_media.push(key);
                        post.media.push(Media {
                            kind: media_kind(m.kind.as_ref().map_or("", Str::as_str)),
                            url: m.best_url(),
                            alt: non_empty(m.alt_text.as_ref()).map(str::to_string),
                        });
                    }
                    None => post.media.push(Media { kind: MediaKind::Other, url: None, alt: None }),
                }
            }
        }

        post.raw = self.raw(raw, &need_users, &need_media, &need_tweets);
        Ok(post)
    }

    /// `{"data": tweet, "includes": {only what the tweet needs}, "matching_rules": [...]}`.
    fn raw(&self, tweet: &RawValue, users: &[&str], media: &[&str], tweets: &[&str]) -> String {
        let inc = self.includes;
        let mut seen: Vec<&str> = Vec::new();
        let users: Vec<&RawValue> = users
            .iter()
            .filter(|u| {
                let new = !seen.contains(u);
                seen.push(u);
                new
            })
            .filter_map(|u| inc.user(u).map(|(r, _)| *r))
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        let media: Vec<&RawValue> = media
            .iter()
            .filter(|m| {
                let new = !seen.contains(m);
                seen.push(m);
                new
            })
            .filter_map(|m| inc.media(m).map(|(r, _)| *r))
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        let tweets: Vec<&RawValue> = tweets
            .iter()
            .filter(|t| {
                let new = !seen.contains(t);
                seen.push(t);
                new
            })
            .filter_map(|t| inc.tweet(t).map(|(r, _)| *r))
            .collect();

        let mut s = String::with_capacity(tweet.get().len() + 64);
        let push =
            |s: &mut String, json: &str| if self.compact { push_compact_json(s, json) } else { s.push_str(json) };
        s.push_str("{\"data\":");
        push(&mut s, tweet.get());
        if !users.is_empty() || !media.is_empty() || !tweets.is_empty() {
            s.push_str(",\"includes\":{");
            let mut first = true;
            for (name, items) in [("users", &users), ("media", &media), ("tweets", &tweets)] {
                if items.is_empty() {
                    continue;
                }
                if !first {
                    s.push(',');
                }
                first = false;
                s.push('"');
                s.push_str(name);
                s.push_str("\":[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    push(&mut s, item.get());
                }
                s.push(']');
            }
            s.push('}');
        }
        if let Some(rules) = self.matching_rules {
            s.push_str(",\"matching_rules\":");
            push(&mut s, rules.get());
        }
        s.push('}');
        s
    }
}

/// `x` of a retweet text `RT @x: …`.
fn rt_prefix_handle(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("RT @")?;
    let end = rest.find(':')?;
    let handle = &rest[..end];
    (!handle.is_empty() && handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(handle)
}

/// Appends mentions, hashtags and links of `t`, the tweet whose text `post` shows.
fn collect_entities(t: &V2Tweet<'_>, post: &mut Post) {
    let entities = match &t.note_tweet {
        Some(n) => n.entities.as_ref(),
        None => t.entities.as_ref(),
    };
    let Some(e) = entities else {
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
        return;
    };
    for m in &e.mentions {
        if let Some(u) = &m.username {
            push_unique(&mut post.mentions, u.as_str());
        }
    }
    for h in &e.hashtags {
        if let Some(tag) = &h.tag {
            push_unique(&mut post.hashtags, tag.as_str());
        }
    }
    for u in e.urls.iter().filter(|u| u.media_key.is_none()) {
        if let Some(link) = u.expanded_url.as_ref().or(u.url.as_ref()) {
            push_unique(&mut post.links, link.as_str());
        }
    }
}

// ---------------------------------------------------------------------------
// Serde types (borrowing from the input).
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Tweet<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    note_tweet: Option<NoteTweet<'a>>,
    #[serde(borrow)]
    author_id: Option<Str<'a>>,
    #[serde(borrow)]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    lang: Option<Str<'a>>,
    #[serde(borrow)]
    conversation_id: Option<Str<'a>>,
    #[serde(borrow)]
    in_reply_to_user_id: Option<Str<'a>>,
    #[serde(borrow)]
    referenced_tweets: Vec<ReferencedTweet<'a>>,
    #[serde(borrow)]
    entities: Option<V2Entities<'a>>,
    #[serde(borrow)]
    attachments: Option<Attachments<'a>>,
    public_metrics: Option<TweetMetrics>,
}

impl V2Tweet<'_> {
    /// `note_tweet.text` (the untruncated long post), else `text`.
    fn full_text(&self) -> Option<&str> {
        self.note_tweet.as_ref().and_then(|n| n.text.as_ref()).or(self.text.as_ref()).map(Str::as_str)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NoteTweet<'a> {
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    entities: Option<V2Entities<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReferencedTweet<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Entities<'a> {
    #[serde(borrow)]
    mentions: Vec<V2Mention<'a>>,
    #[serde(borrow)]
    hashtags: Vec<V2Hashtag<'a>>,
    #[serde(borrow)]
    urls: Vec<V2Url<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Mention<'a> {
    #[serde(borrow)]
    username: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Hashtag<'a> {
    #[serde(borrow)]
    tag: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Url<'a> {
    #[serde(borrow)]
    url: Option<Str<'a>>,
    #[serde(borrow)]
    expanded_url: Option<Str<'a>>,
    media_key: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Attachments<'a> {
    #[serde(borrow)]
    media_keys: Vec<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TweetMetrics {
    retweet_count: Count,
    reply_count: Count,
    like_count: Count,
    quote_count: Count,
}

impl TweetMetrics {
    fn to_metrics(&self) -> Metrics {
        Metrics {
            likes: self.like_count.0,
            reposts: self.retweet_count.0,
            replies: self.reply_count.0,
            quotes: self.quote_count.0,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2User<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    username: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    public_metrics: Option<UserMetrics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserMetrics {
    followers_count: Count,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct V2Media<'a> {
    #[serde(borrow)]
    media_key: Option<Str<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
    #[serde(borrow)]
    preview_image_url: Option<Str<'a>>,
    #[serde(borrow)]
    alt_text: Option<Str<'a>>,
    #[serde(borrow)]
    variants: Vec<MediaVariant<'a>>,
}

impl V2Media<'_> {
    /// `url` (photos), else the highest-bitrate MP4 (videos, GIFs), else the preview image.
    fn best_url(&self) -> Option<String> {
        let video = self
            .variants
            .iter()
            .filter(|v| v.content_type.as_ref().is_some_and(|c| c.as_str() == "video/mp4") && v.url.is_some())
            .max_by_key(|v| v.bit_rate.0.unwrap_or(0))
            .and_then(|v| v.url.as_ref());
        non_empty(self.url.as_ref())
            .or(video.map(Str::as_str))
            .or(non_empty(self.preview_image_url.as_ref()))
            .map(str::to_string)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MediaVariant<'a> {
    bit_rate: Count,
    #[serde(borrow)]
    content_type: Option<Str<'a>>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{tweet_text, x_escape};
    use super::*;
    use crate::decode::decode_all;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn decode(v: &Value) -> Vec<Decoded> {
        decode_all(&XV2, v.to_string().as_bytes())
    }

    fn post(d: &Decoded) -> &Post {
        match d {
            Decoded::Post(p) => p,
            other => panic!("expected a post, got {other:?}"),
        }
    }

    fn user(id: &str, username: &str) -> Value {
        json!({"id": id, "name": format!("{username} name"), "username": username, "public_metrics": {"followers_count": 10}})
    }

    fn tweet(id: &str, author: &str, text: &str) -> Value {
        json!({
            "edit_history_tweet_ids": [id], "id": id, "text": text, "author_id": author,
            "created_at": "2024-05-13T09:14:02.000Z", "lang": "en", "conversation_id": id,
            "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4, "bookmark_count": 5, "impression_count": 6}
        })
    }

    #[test]
    fn maps_a_stream_line() {
        let mut t = tweet("10", "1", "@brand my order &amp; refund &lt;3 #help https://t.co/a https://t.co/m");
        t["entities"] = json!({
            "mentions": [{"start": 0, "end": 6, "username": "brand", "id": "2"}],
            "hashtags": [{"start": 33, "end": 38, "tag": "help"}],
            "urls": [
                {"start": 39, "end": 55, "url": "https://t.co/a", "expanded_url": "https://example.com/order"},
                {"start": 56, "end": 72, "url": "https://t.co/m", "expanded_url": "https://twitter.com/a/status/10/photo/1", "media_key": "3_1"}
            ]
        });
        t["attachments"] = json!({"media_keys": ["3_1", "3_404"]});
        t["in_reply_to_user_id"] = json!("2");
        t["referenced_tweets"] = json!([{"type": "replied_to", "id": "9"}, {"type": "quoted", "id": "8"}]);
        let line = json!({
            "data": t,
            "includes": {
                "users": [user("1", "alice"), user("2", "brand"), user("3", "unrelated")],
                "media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/x.jpg", "alt_text": "a receipt"}]
            },
            "matching_rules": [{"id": "77", "tag": "brand mentions"}]
        });
        let out = decode(&line);
        let p = post(&out[0]);
        assert_eq!(p.native_id, "10");
        assert_eq!(p.text, "@brand my order & refund <3 #help https://t.co/a https://t.co/m");
        assert_eq!(p.author.handle, "alice");
        assert_eq!(p.author.display_name.as_deref(), Some("alice name"));
        assert_eq!(p.author.followers, Some(10));
        assert_eq!(p.url.as_deref(), Some("https://x.com/alice/status/10"));
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to.as_deref(), Some("9"));
        assert_eq!(p.reply_to_author.as_deref(), Some("brand"));
        assert_eq!(p.references.as_deref(), Some("8"));
        assert_eq!(p.mentions, ["brand"]);
        assert_eq!(p.hashtags, ["help"]);
        assert_eq!(p.links, ["https://example.com/order"]);
        assert_eq!(p.media.len(), 2);
        assert_eq!(p.media[0].alt.as_deref(), Some("a receipt"));
        assert_eq!(p.media[1].kind, MediaKind::Other);
        assert_eq!(p.metrics, Metrics { likes: Some(3), reposts: Some(1), replies: Some(2), quotes: Some(4) });
        // raw keeps only what this tweet needs, plus the rule tags.
        let raw: Value = serde_json::from_str(&p.raw).unwrap();
        assert_eq!(raw["includes"]["users"].as_array().unwrap().len(), 2);
        assert_eq!(raw["matching_rules"][0]["tag"], "brand mentions");
        assert_eq!(decode_all(&XV2, p.raw.as_bytes()), out);
    }

    #[test]
    fn long_posts_use_note_tweet() {
        let mut t = tweet("10", "1", "truncated…");
        t["note_tweet"] = json!({"text": "the whole long text &amp; more #long", "entities": {"hashtags": [{"start": 30, "end": 35, "tag": "long"}]}});
        let p = decode(&json!({"data": t}));
        let p = post(&p[0]);
        assert_eq!(p.text, "the whole long text & more #long");
        assert_eq!(p.hashtags, ["long"]);
        // No includes.users: the handle falls back to the id.
        assert_eq!(p.author.handle, "1");
        assert_eq!(p.url.as_deref(), Some("https://x.com/i/web/status/10"));
    }

    #[test]
    fn retweets_use_the_included_original() {
        let mut rt = tweet("11", "1", "RT @bob: the original text that was cut…");
        rt["referenced_tweets"] = json!([{"type": "retweeted", "id": "5"}]);
        let mut original = tweet("5", "2", "cut");
        original["note_tweet"] = json!({"text": "the original text that was cut, in full"});
        let out = decode(
            &json!({"data": [rt], "includes": {"users": [user("1", "al"), user("2", "bob")], "tweets": [original]}}),
        );
        let p = post(&out[0]);
        assert_eq!(p.kind, PostKind::Repost);
        assert_eq!(p.references.as_deref(), Some("5"));
        assert_eq!(p.text, "RT @bob: the original text that was cut, in full");
        assert_eq!(decode_all(&XV2, p.raw.as_bytes()), out);
    }

    #[test]
    fn bad_items_are_rejected_and_others_decode() {
        let mut no_date = tweet("2", "1", "b");
        no_date.as_object_mut().unwrap().remove("created_at");
        let mut no_text = tweet("3", "1", "c");
        no_text.as_object_mut().unwrap().remove("text");
        let mut no_id = tweet("4", "1", "d");
        no_id.as_object_mut().unwrap().remove("id");
        let mut bad_date = tweet("5", "1", "e");
        bad_date["created_at"] = json!("yesterday");
        let out = decode(&json!({"data": [tweet("1", "1", "a"), no_date, no_text, no_id, bad_date, 42]}));
        assert_eq!(out.len(), 6);
        post(&out[0]);
        let reasons: Vec<(String, String)> = out[1..]
            .iter()
            .map(|d| match d {
                Decoded::Rejected { within, reason, raw } => {
                    assert!(raw.is_some());
                    (within.clone().unwrap(), reason.clone())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(reasons[0].0, "data[1]");
        assert!(reasons[0].1.contains("created_at"), "{reasons:?}");
        assert!(reasons[1].1.contains("`text`"), "{reasons:?}");
        assert!(reasons[2].1.contains("`id`"), "{reasons:?}");
        assert!(reasons[3].1.contains("yesterday"), "{reasons:?}");
        assert_eq!(reasons[4].0, "data[5]");
    }

    #[test]
    fn errors_and_empty_responses() {
        let not_found = json!({"errors": [{"value": "1", "detail": "Could not find tweet with ids: [1].", "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids", "resource_id": "1", "type": "https://api.twitter.com/2/problems/resource-not-found"}]});
        assert!(
            matches!(&decode(&not_found)[0], Decoded::Skipped { reason } if reason.contains("Could not find tweet"))
        );
        let invalid = json!({"errors": [{"parameters": {"query": ["x"]}, "message": "Invalid query"}], "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"});
        assert!(matches!(&decode(&invalid)[0], Decoded::Rejected { reason, .. } if reason.contains("Invalid query")));
        let too_many =
            json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429});
        assert!(matches!(&decode(&too_many)[0], Decoded::Rejected { reason, .. } if reason.contains("429")));
        let empty = json!({"meta": {"result_count": 0}});
        assert!(matches!(&decode(&empty)[0], Decoded::Skipped { .. }));
        assert!(matches!(&decode(&json!({"foo": 1}))[0], Decoded::Rejected { .. }));
        assert!(matches!(&decode(&json!("text"))[0], Decoded::Rejected { .. }));
    }

    #[test]
    fn bare_tweets_and_documents() {
        let bare = tweet("1", "9", "hello");
        let out = decode(&bare);
        let p = post(&out[0]);
        assert_eq!(p.raw, json!({"data": bare}).to_string());
        assert_eq!(decode_all(&XV2, p.raw.as_bytes()), out);
        // A pretty-printed array of two responses is one document with two values' worth of posts.
        let doc =
            serde_json::to_string_pretty(&json!([{"data": [tweet("1", "9", "a")]}, {"data": tweet("2", "9", "b")}]))
                .unwrap();
        let out = decode_all(&XV2, doc.as_bytes());
        assert_eq!(out.iter().filter(|d| matches!(d, Decoded::Post(_))).count(), 2, "{out:?}");
    }

    #[test]
    fn sniffs() {
        let s = |h: &str| XV2.sniff(SniffInput { head: h.as_bytes(), file_name: None });
        assert_eq!(s(&json!({"data": tweet("1", "2", "a")}).to_string()), 95);
        assert_eq!(s("{\n  \"data\": [{\"id\": \"1\", \"text\": \"a\", \"author_id\": \"2\"}]}"), 90);
        assert_eq!(s("{\"created_at\":\"x\",\"id_str\":\"1\",\"user\":{\"screen_name\":\"a\"}}"), 0);
        assert_eq!(s("{\"did\":\"did:plc:x\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{}}"), 0);
        assert_eq!(s("{\"id\":\"1\",\"uri\":\"https://m.s/1\",\"content\":\"<p>x</p>\",\"account\":{}}"), 0);
        assert_eq!(s("{\"text\":\"a\",\"author\":\"b\",\"created_at\":\"2020-01-01\"}"), 0);
        assert_eq!(s("tweet_id,author_id,inbound,created_at,text"), 0);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&XV2, &bytes);
        }

        #[test]
        fn mutated_responses_never_panic(pos in 0usize..900, junk in "[\\[\\]{}\",:0-9a-z]{0,6}") {
            let mut t = tweet("1", "2", "hello");
            t["referenced_tweets"] = json!([{"type": "retweeted", "id": "5"}]);
            t["attachments"] = json!({"media_keys": ["3_1"]});
            let mut s = json!({"data": [t], "includes": {"users": [user("2", "u")], "tweets": [tweet("5", "2", "x")], "media": [{"media_key": "3_1", "type": "photo"}]}}).to_string();
            let pos = pos.min(s.len());
            if s.is_char_boundary(pos) {
                s.insert_str(pos, &junk);
            }
            let _ = decode_all(&XV2, s.as_bytes());
        }

        #[test]
        fn generated_tweets_round_trip(
            id in 1u64..u64::MAX,
            author in 1u64..u64::MAX,
            text in tweet_text(),
            millis in 1_200_000_000_000i64..2_000_000_000_000,
            username in proptest::option::of("[A-Za-z0-9_]{1,15}"),
            likes in 0u64..1_000_000,
            pretty in any::<bool>(),
        ) {
            let date = Utc.timestamp_millis_opt(millis).single().expect("in range");
            let mut t = tweet(&id.to_string(), &author.to_string(), &x_escape(&text));
            t["created_at"] = json!(date.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            t["public_metrics"]["like_count"] = json!(likes);
            let users: Vec<Value> = username.iter().map(|u| user(&author.to_string(), u)).collect();
            let response = json!({"data": [t], "includes": {"users": users}, "meta": {"result_count": 1}});
            let input = if pretty { serde_json::to_string_pretty(&response).unwrap() } else { response.to_string() };
            let decoded = decode_all(&XV2, input.as_bytes());
            prop_assert_eq!(decoded.len(), 1);
            let p = post(&decoded[0]);
            prop_assert_eq!(&p.native_id, &id.to_string());
            prop_assert_eq!(&p.text, &text);
            prop_assert_eq!(p.published_at, date);
            let expected_handle = username.clone().unwrap_or_else(|| author.to_string());
            prop_assert_eq!(&p.author.handle, &expected_handle);
            prop_assert_eq!(p.metrics.likes, Some(likes));
            let again = decode_all(&XV2, p.raw.as_bytes());
            prop_assert_eq!(&again, &decoded);
        }
    }
}
