//! Mastodon statuses, as the Mastodon client API serves them:
//!
//! - one [Status] JSON per line;
//! - REST responses: an array of statuses (home / hashtag / account timelines),
//!   pretty-printed or not, and a single status (`GET /api/v1/statuses/:id`);
//! - streaming events in the WebSocket form, one per line:
//!   `{"stream":["public"],"event":"update","payload":"<status JSON as a string>"}`;
//! - streaming events in the server-sent-events (SSE) form (`event: update` /
//!   `data: {...}` lines). Such a capture's first line is not JSON, so the
//!   shared framer hands it over as one document and it is decoded here line by
//!   line; the cost is that the whole capture is held in memory and every item
//!   reports the document's position.
//!
//! # Identity
//!
//! A status's `id` is the row id in the database of the server that *served*
//! the JSON: the same status has a different `id` on every server, and the same
//! number names unrelated statuses on different servers. Qualifying it with the
//! host of `url` does not help, because for remote statuses `url` points at the
//! *origin* server, which did not assign that `id`. So [`Post::native_id`] is
//! the status `uri`, its ActivityPub id: globally unique, and the same whichever
//! server the status was read through, so posts read through several servers
//! deduplicate.
//!
//! References given as server-local ids use the same scheme when that can be
//! proven from the record, and are left out otherwise rather than mixing id
//! schemes:
//!
//! - `in_reply_to_id` becomes a URI only when the replied-to author is an
//!   account local to the serving server with a Mastodon-style profile URL
//!   (`https://host/@name`): then the status was created on that server, its
//!   local id is its origin id, and Mastodon's URI layout
//!   `https://host/users/name/statuses/{id}` names it. Otherwise `reply_to` is
//!   `None` (the kind is still [`PostKind::Reply`] and the id stays in `raw`).
//! - streaming `delete` events carry only the server-local id, which cannot be
//!   mapped to a URI without state, so they are skipped with that reason
//!   instead of emitting a [`crate::post::Deletion`] that could never match.
//!
//! Handles are made globally unique the same way: a local account's `acct` has
//! no domain (`Gargron`), so it is qualified with the host of its profile URL
//! (`Gargron@mastodon.social`).
//!
//! Boosts become [`PostKind::Repost`] posts whose text is the boosted status's
//! text; the boosted status (and a quoted status, Mastodon 4.4+) is emitted as
//! a post of its own too, since it is complete in the record.
//!
//! [Status]: https://docs.joinmastodon.org/entities/Status/

use super::json::{Count, Text, json_items, leading_whitespace, nonblank, reject};
use super::text::{strip_prefix_ci, url_host};
use super::{Decoded, Decoder, Framing, Record, SniffInput, html, text};
use crate::post::{Author, Media, MediaKind, Metrics, Platform, Post, PostKind, push_unique};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Mastodon statuses: REST JSON (one status or an array) and streaming payloads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mastodon;

const NAME: &str = "mastodon";

/// How deep embedded statuses (a boost's original, a quote's quoted status)
/// are emitted as posts of their own; bounds work on adversarial nesting.
const MAX_EMBED_DEPTH: usize = 2;

impl Decoder for Mastodon {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Mastodon statuses: REST JSON (one status or an array) and streaming payloads"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let head = input.head;
        let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
        // Keys only Mastodon statuses carry. Matched without quotes so they are
        // also found inside streaming payloads, where the status JSON is an
        // escaped string (`\"spoiler_text\"`). `favourites_count` is left out:
        // X v1.1 user objects have it too.
        let markers = [&b"reblogs_count"[..], b"spoiler_text", b"in_reply_to_account_id", b"media_attachments"];
        let found = markers.iter().filter(|m| has(m)).count();
        if is_sse(head) {
            return if found > 0 || has(b"event: update") || has(b"event: status.update") { 90 } else { 0 };
        }
        if has(b"\"event\"") && has(b"\"payload\"") && has(b"\"stream\"") {
            return 90;
        }
        match found {
            0 => 0,
            1 => 70,
            _ => 95,
        }
    }

    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        if let Record::Document(bytes) = record
            && is_sse(bytes)
        {
            decode_sse(bytes, out);
            return;
        }
        for item in json_items(record) {
            match item.value {
                Ok(raw) => decode_value(raw, item.within, out),
                Err((reason, bytes)) => out.push(reject(item.within, reason, bytes)),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Mastodon entities (only the fields earshot uses; the rest is kept in `raw`).
// ---------------------------------------------------------------------------

/// A Status, or a WebSocket streaming event (`event` / `payload` / `stream`),
/// parsed in one pass; which one it is shows in whether `event` is set.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Status<'a> {
    #[serde(borrow)]
    uri: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    created_at: Option<Text<'a>>,
    #[serde(borrow)]
    account: Option<Account<'a>>,
    #[serde(borrow)]
    content: Option<Text<'a>>,
    /// Plain-text source, sent instead of `content` by `DELETE /api/v1/statuses/:id`.
    #[serde(borrow)]
    text: Option<Text<'a>>,
    #[serde(borrow)]
    spoiler_text: Option<Text<'a>>,
    #[serde(borrow)]
    language: Option<Text<'a>>,
    #[serde(borrow)]
    in_reply_to_id: Option<Text<'a>>,
    #[serde(borrow)]
    in_reply_to_account_id: Option<Text<'a>>,
    /// Kept raw: it becomes a post of its own, with its own `raw`.
    #[serde(borrow)]
    reblog: Option<&'a RawValue>,
    /// Kept raw and parsed leniently: the shape differs between Mastodon
    /// versions and forks, and a quote must never fail the quoting status.
    #[serde(borrow)]
    quote: Option<&'a RawValue>,
    #[serde(borrow)]
    card: Option<&'a RawValue>,
    #[serde(borrow)]
    mentions: Option<Vec<Mention<'a>>>,
    #[serde(borrow)]
    tags: Option<Vec<Tag<'a>>>,
    #[serde(borrow)]
    media_attachments: Option<Vec<Attachment<'a>>>,
    favourites_count: Count,
    reblogs_count: Count,
    replies_count: Count,
    /// Streaming envelope: the event name.
    #[serde(borrow)]
    event: Option<Text<'a>>,
    /// Streaming envelope: the payload, a string (a status JSON, or an id for `delete`).
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Account<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    acct: Option<Text<'a>>,
    #[serde(borrow)]
    display_name: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    followers_count: Count,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Mention<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    acct: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Tag<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Attachment<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    url: Option<Text<'a>>,
    #[serde(borrow)]
    remote_url: Option<Text<'a>>,
    #[serde(borrow)]
    description: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Card<'a> {
    #[serde(borrow)]
    url: Option<Text<'a>>,
}

/// Mastodon 4.4+ `Quote` / `ShallowQuote`; forks that put a whole Status in
/// `quote` are covered by `uri`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Quote<'a> {
    #[serde(borrow)]
    quoted_status: Option<&'a RawValue>,
    #[serde(borrow)]
    uri: Option<Text<'a>>,
}

// ---------------------------------------------------------------------------
// Decoding.
// ---------------------------------------------------------------------------

fn within_index(within: &Option<String>, i: usize) -> String {
    match within {
        Some(w) => format!("{w} [{i}]"),
        None => format!("[{i}]"),
    }
}

/// Decodes one top-level JSON value: an array of statuses or events, or one of them.
fn decode_value(raw: &RawValue, within: Option<String>, out: &mut Vec<Decoded>) {
    let narrow = if within.is_some() { raw.get().as_bytes() } else { &[] };
    match raw.get().as_bytes().first() {
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
            Ok(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    decode_object(item, Some(within_index(&within, i)), true, out);
                }
            }
            Err(e) => out.push(reject(within, format!("invalid JSON array: {e}"), narrow)),
        },
        Some(b'{') => {
            let narrow = within.is_some();
            decode_object(raw, within, narrow, out);
        }
        _ => out.push(reject(
            within,
            "expected a Mastodon status, an array of statuses or a streaming event, got a JSON scalar",
            narrow,
        )),
    }
}

/// Decodes one object: a status or a WebSocket streaming event.
fn decode_object(raw: &RawValue, within: Option<String>, narrow: bool, out: &mut Vec<Decoded>) {
    let bytes = if narrow { raw.get().as_bytes() } else { &[] };
    let status: Status<'_> = match serde_json::from_str(raw.get()) {
        Ok(s) => s,
        Err(e) => {
            out.push(reject(within, format!("not a Mastodon status or streaming event: {e}"), bytes));
            return;
        }
    };
    if let Some(event) = &status.event {
        let payload = match status.payload.map(payload_text) {
            Some(Ok(p)) => Some(p),
            Some(Err(reason)) => {
                out.push(reject(within, reason, bytes));
                return;
            }
            None => None,
        };
        on_event(event.as_str(), payload.as_deref(), within, bytes, out);
    } else {
        emit_status(&status, raw.get(), within, bytes, 0, out);
    }
}

/// The text of a WebSocket payload: the documented form is a string (the
/// status JSON "cast to a string", or an id), but captures that stored it
/// already parsed as an object are accepted too.
fn payload_text(payload: &RawValue) -> Result<Cow<'_, str>, String> {
    match payload.get().as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Text<'_>>(payload.get())
            .map(|t| t.0)
            .map_err(|e| format!("streaming event payload is not a valid JSON string: {e}")),
        Some(b'{') => Ok(Cow::Borrowed(payload.get())),
        Some(b'n') => Ok(Cow::Borrowed("")),
        _ => Ok(Cow::Borrowed(payload.get())),
    }
}

/// Handles one streaming event (WebSocket or SSE) given its name and payload text.
fn on_event(event: &str, payload: Option<&str>, within: Option<String>, bytes: &[u8], out: &mut Vec<Decoded>) {
    match event {
        "update" | "status.update" => {
            let Some(json) = payload.map(str::trim).filter(|p| !p.is_empty()) else {
                out.push(reject(within, format!("mastodon {event} event has no status payload"), bytes));
                return;
            };
            match serde_json::from_str::<Status<'_>>(json) {
                Ok(status) if status.event.is_none() => emit_status(&status, json, within, bytes, 0, out),
                Ok(_) => out.push(reject(within, format!("mastodon {event} event payload is itself an event"), bytes)),
                Err(e) => {
                    out.push(reject(within, format!("mastodon {event} event payload is not a status: {e}"), bytes))
                }
            }
        }
        "delete" => out.push(Decoded::Skipped {
            reason: "mastodon delete event: it names the status by its server-local id, which cannot be mapped to \
                     the status URI posts are keyed by"
                .to_string(),
        }),
        "notification"
        | "filters_changed"
        | "conversation"
        | "announcement"
        | "announcement.reaction"
        | "announcement.delete"
        | "encrypted_message"
        | "notifications_merged" => {
            out.push(Decoded::Skipped { reason: format!("mastodon {event} event (not a status)") })
        }
        _ => out.push(Decoded::Skipped { reason: format!("unknown mastodon streaming event {event:?}") }),
    }
}

/// Emits the post for `status` and, up to [`MAX_EMBED_DEPTH`], posts for the
/// statuses embedded in it, or a reject saying why it is not a post.
fn emit_status(
    status: &Status<'_>,
    raw: &str,
    within: Option<String>,
    bytes: &[u8],
    depth: usize,
    out: &mut Vec<Decoded>,
) {
    let reblog = match status.reblog.map(|r| serde_json::from_str::<Status<'_>>(r.get())) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            out.push(reject(within, format!("reblogged status is not a status: {e}"), bytes));
            return;
        }
    };
    let quoted = quoted_status(status);
    match build_post(status, raw, reblog.as_ref(), quoted.as_ref().map(|q| q.1.as_str())) {
        Ok(post) => out.push(Decoded::Post(Box::new(post))),
        Err(reason) => {
            out.push(reject(within, reason, bytes));
            return;
        }
    }
    if depth + 1 >= MAX_EMBED_DEPTH {
        return;
    }
    if let (Some(r), Some(raw)) = (&reblog, status.reblog) {
        let label = Some(match &within {
            Some(w) => format!("{w} reblog"),
            None => "reblog".to_string(),
        });
        emit_status(r, raw.get(), label, raw.get().as_bytes(), depth + 1, out);
    }
    if let Some((Some(raw), _)) = &quoted
        && let Ok(q) = serde_json::from_str::<Status<'_>>(raw.get())
    {
        let label = Some(match &within {
            Some(w) => format!("{w} quote"),
            None => "quote".to_string(),
        });
        emit_status(&q, raw.get(), label, raw.get().as_bytes(), depth + 1, out);
    }
}

/// The quoted status of a quote post: its raw JSON when embedded, and its URI.
fn quoted_status<'a>(status: &Status<'a>) -> Option<(Option<&'a RawValue>, String)> {
    let quote: Quote<'a> = serde_json::from_str(status.quote?.get()).ok()?;
    if let Some(raw) = quote.quoted_status {
        #[derive(Deserialize)]
        struct UriOnly<'b> {
            #[serde(borrow, default)]
            uri: Option<Text<'b>>,
        }
        let q: UriOnly<'_> = serde_json::from_str(raw.get()).ok()?;
        return nonblank(&q.uri).map(|u| (Some(raw), u.to_string()));
    }
    nonblank(&quote.uri).map(|u| (None, u.to_string()))
}

/// Builds the post for one status. `reblog` is the boosted status, already
/// parsed; `quoted_uri` the URI of a quoted status.
fn build_post(
    status: &Status<'_>,
    raw: &str,
    reblog: Option<&Status<'_>>,
    quoted_uri: Option<&str>,
) -> Result<Post, String> {
    let native_id = nonblank(&status.uri)
        .or_else(|| nonblank(&status.url))
        .ok_or("status has no uri (nor url) to identify it")?
        .to_string();
    let created = nonblank(&status.created_at).ok_or("status has no created_at")?;
    let published_at =
        text::parse_any_date(created).ok_or_else(|| format!("status created_at {created:?} is not a valid date"))?;
    let account = status.account.as_ref().ok_or("status has no account")?;
    let handle = account_handle(account).ok_or("status account has neither acct nor username")?;

    // A boost has no content of its own: its text and entities are the boosted status's.
    let body = reblog.unwrap_or(status);
    let mut post = Post {
        url: nonblank(&status.url).map(str::to_string),
        lang: nonblank(&body.language).map(str::to_string),
        metrics: Metrics {
            likes: status.favourites_count.0,
            reposts: status.reblogs_count.0,
            replies: status.replies_count.0,
            quotes: None,
        },
        raw: raw.to_string(),
        ..Post::new(
            Platform::Mastodon,
            native_id,
            Author {
                id: nonblank(&account.id).map(str::to_string),
                handle,
                display_name: nonblank(&account.display_name).map(str::to_string),
                followers: account.followers_count.0,
                url: nonblank(&account.url).map(str::to_string),
                care_account: None,
            },
            status_text(body),
            published_at,
            NAME.to_string(),
        )
    };
    for m in body.mentions.iter().flatten() {
        if let Some(h) = mention_handle(m) {
            push_unique(&mut post.mentions, &h);
        }
    }
    for t in body.tags.iter().flatten() {
        if let Some(name) = nonblank(&t.name) {
            push_unique(&mut post.hashtags, name.trim_start_matches('#'));
        }
    }
    post.links = links(body);
    post.media = body.media_attachments.iter().flatten().map(media).collect();

    if let Some(r) = reblog {
        post.kind = PostKind::Repost;
        post.references =
            Some(nonblank(&r.uri).or_else(|| nonblank(&r.url)).ok_or("reblogged status has no uri")?.to_string());
        return Ok(post);
    }
    if let Some(q) = quoted_uri {
        post.kind = PostKind::Quote;
        post.references = Some(q.to_string());
    }
    if let Some(parent_id) = nonblank(&status.in_reply_to_id) {
        // Replying wins over quoting: the thread is what care work follows.
        post.kind = PostKind::Reply;
        if let Some(parent) = parent_author(status, account) {
            post.reply_to = parent.status_uri(parent_id);
            post.reply_to_author = Some(parent.handle);
        }
    }
    Ok(post)
}

/// The text of a status: `content` as plain text (or the `text` source when
/// there is no content), with a content warning prepended as `CW: …`.
fn status_text(status: &Status<'_>) -> String {
    let body = match nonblank(&status.content) {
        Some(html_content) => html::to_text(html_content),
        None => nonblank(&status.text).unwrap_or_default().to_string(),
    };
    match nonblank(&status.spoiler_text) {
        Some(cw) if body.is_empty() => format!("CW: {cw}"),
        Some(cw) => format!("CW: {cw}\n\n{body}"),
        None => body,
    }
}

/// `acct` made globally unique: local accounts' `acct` has no domain, so the
/// host of the profile URL is appended.
fn qualify(acct: &str, profile_url: Option<&str>) -> String {
    let acct = acct.trim().trim_start_matches('@');
    if acct.contains('@') {
        return acct.to_string();
    }
    match profile_url.and_then(url_host) {
        Some(host) => format!("{acct}@{host}"),
        None => acct.to_string(),
    }
}

fn account_handle(account: &Account<'_>) -> Option<String> {
    let acct = nonblank(&account.acct).or_else(|| nonblank(&account.username))?;
    Some(qualify(acct, nonblank(&account.url)))
}

fn mention_handle(m: &Mention<'_>) -> Option<String> {
    let acct = nonblank(&m.acct).or_else(|| nonblank(&m.username))?;
    Some(qualify(acct, nonblank(&m.url)))
}

/// The author of the replied-to status, as far as the record tells.
struct Parent {
    /// Qualified handle.
    handle: String,
    /// `https://host/users/name` when the account is local to the serving
    /// server and has a Mastodon-style profile URL; see the module docs.
    actor_prefix: Option<String>,
}

impl Parent {
    fn status_uri(&self, parent_id: &str) -> Option<String> {
        let prefix = self.actor_prefix.as_ref()?;
        // Only ids that are safe in a URL path segment; anything else would forge a different URI.
        parent_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            .then(|| format!("{prefix}/statuses/{parent_id}"))
    }
}

fn parent_author(status: &Status<'_>, account: &Account<'_>) -> Option<Parent> {
    let parent_account = nonblank(&status.in_reply_to_account_id)?;
    let (acct, username, url) = if nonblank(&account.id) == Some(parent_account) {
        (nonblank(&account.acct), nonblank(&account.username), nonblank(&account.url))
    } else {
        let m = status.mentions.iter().flatten().find(|m| nonblank(&m.id) == Some(parent_account))?;
        (nonblank(&m.acct), nonblank(&m.username), nonblank(&m.url))
    };
    let name = acct.or(username)?;
    Some(Parent { handle: qualify(name, url), actor_prefix: local_actor_prefix(acct, username, url) })
}

/// `scheme://host/users/{username}` for an account local to the serving
/// server (`acct` without a domain) whose profile URL is `scheme://host/@{username}`.
fn local_actor_prefix(acct: Option<&str>, username: Option<&str>, url: Option<&str>) -> Option<String> {
    let username = username.or(acct)?;
    if acct.is_some_and(|a| a.contains('@')) || username.contains(['@', '/']) {
        return None;
    }
    let url = url?;
    let (scheme, rest) = if let Some(rest) = strip_prefix_ci(url, "https://") {
        ("https", rest)
    } else {
        ("http", strip_prefix_ci(url, "http://")?)
    };
    let (host, path) = rest.split_once('/')?;
    if host.is_empty() || path.strip_prefix('@') != Some(username) {
        return None;
    }
    Some(format!("{scheme}://{host}/users/{username}"))
}

/// Links in the content that are not mentions or hashtags, then the preview card's URL.
fn links(status: &Status<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(content) = nonblank(&status.content)
        && content.contains("<a")
    {
        let skip: Vec<&str> = status
            .mentions
            .iter()
            .flatten()
            .filter_map(|m| nonblank(&m.url))
            .chain(status.tags.iter().flatten().filter_map(|t| nonblank(&t.url)))
            .collect();
        let doc = scraper::Html::parse_fragment(content);
        for node in doc.root_element().descendants() {
            let Some(el) = node.value().as_element() else { continue };
            if el.name() != "a" {
                continue;
            }
            let Some(href) = el.attr("href").map(str::trim) else { continue };
            let class = el.attr("class").unwrap_or_default();
            let rel = el.attr("rel").unwrap_or_default();
            // Mastodon marks mentions `u-url mention`, hashtags `mention hashtag`
            // (`rel="tag"`); other servers use `hashtag` / `rel="tag"` alike.
            let is_entity = class.split_ascii_whitespace().any(|c| c == "mention" || c == "hashtag")
                || rel.split_ascii_whitespace().any(|r| r == "tag")
                || skip.iter().any(|s| s.eq_ignore_ascii_case(href));
            let is_web = strip_prefix_ci(href, "https://").or_else(|| strip_prefix_ci(href, "http://")).is_some();
            if !is_entity && is_web {
                push_unique(&mut out, href);
            }
        }
    }
    if let Some(card) = status.card
        && let Ok(card) = serde_json::from_str::<Card<'_>>(card.get())
        && let Some(url) = nonblank(&card.url)
    {
        push_unique(&mut out, url);
    }
    out
}

fn media(a: &Attachment<'_>) -> Media {
    let kind = match nonblank(&a.kind) {
        Some("image") => MediaKind::Image,
        Some("video") => MediaKind::Video,
        Some("gifv") => MediaKind::Gif,
        Some("audio") => MediaKind::Audio,
        _ => MediaKind::Other,
    };
    Media {
        kind,
        url: nonblank(&a.url).or_else(|| nonblank(&a.remote_url)).map(str::to_string),
        alt: nonblank(&a.description).map(str::to_string),
    }
}

// ---------------------------------------------------------------------------
// Server-sent events.
// ---------------------------------------------------------------------------

/// Whether a document is an SSE capture: its first non-blank line is an SSE
/// comment (`:thump`) or an `event:` / `data:` field.
fn is_sse(bytes: &[u8]) -> bool {
    let start = leading_whitespace(bytes);
    let rest = &bytes[start..];
    rest.starts_with(b":") || rest.starts_with(b"event:") || rest.starts_with(b"data:")
}

/// Decodes an SSE capture: `event:` names the event, `data:` lines (joined by
/// newlines) carry its payload, and a blank line, the next `event:` or the end
/// of input dispatches it. Comments and other fields (`id:`, `retry:`) are ignored.
fn decode_sse(bytes: &[u8], out: &mut Vec<Decoded>) {
    struct Pending {
        event: Option<String>,
        data: Option<String>,
        line: usize,
    }
    fn dispatch(p: &mut Pending, out: &mut Vec<Decoded>) {
        let (event, data) = (p.event.take(), p.data.take());
        if event.is_none() && data.is_none() {
            return;
        }
        let within = Some(format!("event at line {}", p.line));
        // The event's own text, for rejects.
        let mut text = String::new();
        if let Some(e) = &event {
            text.push_str("event: ");
            text.push_str(e);
        }
        if let Some(d) = &data {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("data: ");
            text.push_str(d);
        }
        // The SSE default event type is "message"; Mastodon always names its events.
        on_event(event.as_deref().unwrap_or("message"), data.as_deref(), within, text.as_bytes(), out);
    }

    let mut p = Pending { event: None, data: None, line: 0 };
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            dispatch(&mut p, out);
            continue;
        }
        if line.starts_with(b":") {
            continue;
        }
        let Ok(line) = std::str::from_utf8(line) else {
            out.push(reject(Some(format!("line {line_no}")), "server-sent events line is not valid UTF-8", line));
            continue;
        };
        let Some((field, value)) = line.split_once(':') else {
            out.push(reject(Some(format!("line {line_no}")), "not a server-sent events line", line.as_bytes()));
            continue;
        };
        // One space after the colon is part of the syntax, not the value.
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => {
                dispatch(&mut p, out);
                p.event = Some(value.to_string());
                p.line = line_no;
            }
            "data" => {
                if p.event.is_none() && p.data.is_none() {
                    p.line = line_no;
                }
                match &mut p.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => p.data = Some(value.to_string()),
                }
            }
            _ => {}
        }
    }
    dispatch(&mut p, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_all, detect};
    use proptest::prelude::*;
    use serde_json::json;

    fn posts(items: &[Decoded]) -> Vec<&Post> {
        items
            .iter()
            .filter_map(|d| match d {
                Decoded::Post(p) => Some(p.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn decode(input: &str) -> Vec<Decoded> {
        decode_all(&Mastodon, input.as_bytes())
    }

    /// The documented Status example, trimmed to the fields that matter here.
    fn gargron(content: &str) -> serde_json::Value {
        json!({
            "id": "103270115826048975",
            "created_at": "2019-12-08T03:48:33.901Z",
            "in_reply_to_id": null,
            "in_reply_to_account_id": null,
            "sensitive": false,
            "spoiler_text": "",
            "visibility": "public",
            "language": "en",
            "uri": "https://mastodon.social/users/Gargron/statuses/103270115826048975",
            "url": "https://mastodon.social/@Gargron/103270115826048975",
            "replies_count": 5,
            "reblogs_count": 6,
            "favourites_count": 11,
            "content": content,
            "reblog": null,
            "account": {
                "id": "1",
                "username": "Gargron",
                "acct": "Gargron",
                "display_name": "Eugen",
                "url": "https://mastodon.social/@Gargron",
                "followers_count": 322930
            },
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": null,
            "poll": null
        })
    }

    #[test]
    fn maps_a_documented_status() {
        let s = gargron(
            "<p>&quot;I lost my inheritance&quot; <a href=\"https://www.theguardian.com/x\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://www.</span><span class=\"ellipsis\">theguardian.com/x</span></a></p>",
        );
        let out = decode(&s.to_string());
        let p = posts(&out);
        assert_eq!(p.len(), 1, "{out:?}");
        let p = p[0];
        assert_eq!(p.native_id, "https://mastodon.social/users/Gargron/statuses/103270115826048975");
        assert_eq!(p.url.as_deref(), Some("https://mastodon.social/@Gargron/103270115826048975"));
        assert_eq!(p.author.handle, "Gargron@mastodon.social");
        assert_eq!(p.author.id.as_deref(), Some("1"));
        assert_eq!(p.author.followers, Some(322930));
        assert_eq!(p.text, "\"I lost my inheritance\" https://www.theguardian.com/x");
        assert_eq!(p.links, ["https://www.theguardian.com/x"]);
        assert_eq!(p.lang.as_deref(), Some("en"));
        assert_eq!(p.published_at.to_rfc3339(), "2019-12-08T03:48:33.901+00:00");
        assert_eq!(p.metrics, Metrics { likes: Some(11), reposts: Some(6), replies: Some(5), quotes: None });
        assert_eq!(p.kind, PostKind::Original);
    }

    #[test]
    fn reply_to_a_local_account_gets_a_uri_and_a_qualified_author() {
        let mut s = gargron(
            "<p><span class=\"h-card\"><a href=\"https://mastodon.social/@trwnh\" class=\"u-url mention\">@<span>trwnh</span></a></span> thanks <a href=\"https://mastodon.social/tags/Help\" class=\"mention hashtag\" rel=\"tag\">#<span>Help</span></a></p>",
        );
        s["in_reply_to_id"] = json!("103270000000000001");
        s["in_reply_to_account_id"] = json!("14715");
        s["mentions"] =
            json!([{"id": "14715", "username": "trwnh", "url": "https://mastodon.social/@trwnh", "acct": "trwnh"}]);
        s["tags"] = json!([{"name": "Help", "url": "https://mastodon.social/tags/Help"}]);
        let out = decode(&s.to_string());
        let p = posts(&out)[0];
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to.as_deref(), Some("https://mastodon.social/users/trwnh/statuses/103270000000000001"));
        assert_eq!(p.reply_to_author.as_deref(), Some("trwnh@mastodon.social"));
        assert_eq!(p.mentions, ["trwnh@mastodon.social"]);
        assert_eq!(p.hashtags, ["Help"]);
        assert!(p.links.is_empty(), "{:?}", p.links);
    }

    #[test]
    fn reply_to_a_remote_account_keeps_no_unprovable_uri() {
        let mut s = gargron("<p>ok</p>");
        s["in_reply_to_id"] = json!("108914298452377720");
        s["in_reply_to_account_id"] = json!("107946650784398271");
        s["mentions"] = json!([{"id": "107946650784398271", "username": "disarray", "url": "https://pl.nulled.red/users/disarray", "acct": "disarray@pl.nulled.red"}]);
        let p = posts(&decode(&s.to_string()))[0].clone();
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to, None);
        assert_eq!(p.reply_to_author.as_deref(), Some("disarray@pl.nulled.red"));
    }

    #[test]
    fn self_reply_of_a_local_account_is_threaded() {
        let mut s = gargron("<p>2/2</p>");
        s["in_reply_to_id"] = json!("103270115826048974");
        s["in_reply_to_account_id"] = json!("1");
        let p = posts(&decode(&s.to_string()))[0].clone();
        assert_eq!(p.reply_to.as_deref(), Some("https://mastodon.social/users/Gargron/statuses/103270115826048974"));
        assert_eq!(p.reply_to_author.as_deref(), Some("Gargron@mastodon.social"));
    }

    #[test]
    fn spoiler_text_is_prepended() {
        let mut s = gargron("<p>the order never came</p>");
        s["spoiler_text"] = json!("rant");
        assert_eq!(posts(&decode(&s.to_string()))[0].text, "CW: rant\n\nthe order never came");
    }

    #[test]
    fn reblog_is_a_repost_and_the_original_is_emitted_too() {
        let original = gargron("<p>hello</p>");
        let wrapper = json!({
            "id": "103270200000000000",
            "created_at": "2019-12-08T04:00:00.000Z",
            "uri": "https://mastodon.social/users/trwnh/statuses/103270200000000000/activity",
            "url": null,
            "content": "",
            "language": null,
            "reblog": original,
            "account": {"id": "14715", "username": "trwnh", "acct": "trwnh", "url": "https://mastodon.social/@trwnh"},
            "favourites_count": 0, "reblogs_count": 0, "replies_count": 0
        });
        let out = decode(&wrapper.to_string());
        let p = posts(&out);
        assert_eq!(p.len(), 2, "{out:?}");
        assert_eq!(p[0].kind, PostKind::Repost);
        assert_eq!(p[0].text, "hello");
        assert_eq!(p[0].lang.as_deref(), Some("en"));
        assert_eq!(p[0].author.handle, "trwnh@mastodon.social");
        assert_eq!(p[0].references.as_deref(), Some(p[1].native_id.as_str()));
        assert_eq!(p[1].author.handle, "Gargron@mastodon.social");
        assert_eq!(decode(&p[1].raw).first(), Some(&Decoded::Post(Box::new(p[1].clone()))));
    }

    #[test]
    fn quote_post_references_the_quoted_status() {
        let mut s = gargron("<p>look at this</p>");
        s["uri"] = json!("https://mastodon.social/users/Gargron/statuses/2");
        s["quote"] = json!({"state": "accepted", "quoted_status": gargron("<p>quoted</p>")});
        let out = decode(&s.to_string());
        let p = posts(&out);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].kind, PostKind::Quote);
        assert_eq!(
            p[0].references.as_deref(),
            Some("https://mastodon.social/users/Gargron/statuses/103270115826048975")
        );
        // A shallow quote only has a local id: kind stays original.
        s["quote"] = json!({"state": "accepted", "quoted_status_id": "1"});
        assert_eq!(posts(&decode(&s.to_string()))[0].kind, PostKind::Original);
    }

    #[test]
    fn media_attachments_map_kinds_and_alt_text() {
        let mut s = gargron("<p>broken on arrival</p>");
        s["media_attachments"] = json!([
            {"id": "1", "type": "image", "url": "https://files.example/a.jpeg", "description": "a cracked mug"},
            {"id": "2", "type": "gifv", "url": "https://files.example/b.mp4", "description": null},
            {"id": "3", "type": "unknown", "url": null, "remote_url": "https://remote.example/c.bin"}
        ]);
        let p = posts(&decode(&s.to_string()))[0].clone();
        assert_eq!(
            p.media,
            [
                Media {
                    kind: MediaKind::Image,
                    url: Some("https://files.example/a.jpeg".into()),
                    alt: Some("a cracked mug".into())
                },
                Media { kind: MediaKind::Gif, url: Some("https://files.example/b.mp4".into()), alt: None },
                Media { kind: MediaKind::Other, url: Some("https://remote.example/c.bin".into()), alt: None },
            ]
        );
    }

    #[test]
    fn streaming_events() {
        let status = gargron("<p>hi</p>").to_string();
        let update = json!({"stream": ["public"], "event": "update", "payload": status}).to_string();
        let edit = json!({"stream": ["public"], "event": "status.update", "payload": status}).to_string();
        let delete = r#"{"stream":["public"],"event":"delete","payload":"106692867363994015"}"#;
        let filters = r#"{"stream":["user"],"event":"filters_changed"}"#;
        let out = decode(&[update.as_str(), &edit, delete, filters].join("\n"));
        assert_eq!(out.len(), 4, "{out:?}");
        let p = posts(&out);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], p[1]);
        assert_eq!(p[0].raw, status, "raw is the status JSON, not the envelope");
        assert!(matches!(&out[2], Decoded::Skipped { reason } if reason.contains("delete")));
        assert!(matches!(&out[3], Decoded::Skipped { reason } if reason.contains("filters_changed")));
    }

    #[test]
    fn server_sent_events() {
        let status = gargron("<p>hi</p>").to_string();
        let sse = format!(
            ":thump\nevent: update\ndata: {status}\n\nevent: delete\ndata: 108914398911648589\n\nevent: filters_changed\ndata: undefined\n\nnonsense\nevent: update\ndata: {{\"id\":\n"
        );
        let out = decode(&sse);
        assert_eq!(out.len(), 5, "{out:?}");
        assert_eq!(posts(&out).len(), 1);
        assert!(
            matches!(&out[3], Decoded::Rejected { reason, .. } if reason.contains("not a server-sent events line"))
        );
        assert!(
            matches!(&out[4], Decoded::Rejected { reason, within: Some(w), .. } if reason.contains("payload is not a status") && w == "event at line 12")
        );
    }

    #[test]
    fn arrays_and_pretty_documents() {
        let a = gargron("<p>a</p>");
        let mut b = gargron("<p>b</p>");
        b["uri"] = json!("https://mastodon.social/users/Gargron/statuses/2");
        let pretty = serde_json::to_string_pretty(&json!([a, {"id": "x"}, b])).unwrap();
        let out = decode(&pretty);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(matches!(&out[1], Decoded::Rejected { within: Some(w), raw: Some(_), .. } if w == "[1]"));
        let compact = json!([a, b]).to_string();
        assert_eq!(posts(&decode(&compact)).len(), 2);
    }

    #[test]
    fn a_broken_first_line_does_not_lose_the_rest() {
        let status = gargron("<p>hi</p>").to_string();
        let input = format!("{{\"id\":\"1\",\"content\n{status}\n{status}\n");
        let out = decode(&input);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(matches!(&out[0], Decoded::Rejected { within: Some(w), .. } if w == "byte 0"));
        assert_eq!(posts(&out).len(), 2);
    }

    #[test]
    fn rejects_say_what_is_missing() {
        let mut s = gargron("<p>x</p>");
        s.as_object_mut().unwrap().remove("created_at");
        assert!(
            matches!(&decode(&s.to_string())[0], Decoded::Rejected { reason, .. } if reason.contains("created_at"))
        );
        let out = decode(r#"{"id":"1","content":"<p>x</p>","created_at":"2019-12-08T03:48:33.901Z"}"#);
        assert!(matches!(&out[0], Decoded::Rejected { reason, .. } if reason.contains("no uri")));
        assert!(matches!(&decode("42")[0], Decoded::Rejected { .. }));
    }

    #[test]
    fn sniffs_its_own_formats_only() {
        let sniff = |s: &str| Mastodon.sniff(SniffInput { head: s.as_bytes(), file_name: None });
        let status = gargron("<p>hi</p>").to_string();
        assert!(sniff(&status) >= 90);
        let ws = json!({"stream": ["public"], "event": "update", "payload": status}).to_string();
        assert!(sniff(&ws) >= 90);
        assert!(sniff(&format!("event: update\ndata: {status}\n")) >= 90);
        assert_eq!(sniff(r#"{"id_str":"1","text":"hi","user":{"screen_name":"a","favourites_count":1}}"#), 0);
        assert_eq!(sniff(r#"{"data":{"id":"1","text":"hi","author_id":"2"}}"#), 0);
        assert_eq!(sniff(r#"{"text":"hi","author":"a","created_at":"2020-01-01"}"#), 0);
        assert_eq!(sniff(r#"{"did":"did:plc:x","time_us":1,"kind":"commit"}"#), 0);
        let head = status.as_bytes();
        assert_eq!(detect(SniffInput { head, file_name: None }, "t").map(|d| d.name()).ok(), Some("mastodon"));
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(matches!(&decode(&deep)[..], [Decoded::Rejected { .. }]));
        let mut s = String::new();
        for _ in 0..10_000 {
            s.push_str(r#"{"reblog":"#);
        }
        s.push('1');
        s.push_str(&"}".repeat(10_000));
        let _ = decode(&s);
        let quotes = format!("{}1{}", r#"{"quote":{"quoted_status":"#.repeat(5_000), "}}".repeat(5_000));
        let _ = decode(&quotes);
    }

    #[test]
    fn url_hosts() {
        assert_eq!(url_host("https://Mastodon.Social/@Gargron").as_deref(), Some("mastodon.social"));
        assert_eq!(url_host("http://u@host.example:8080/x?y").as_deref(), Some("host.example"));
        assert_eq!(url_host("mastodon.social/@x"), None);
        assert_eq!(url_host("https://"), None);
    }

    /// Text that survives HTML escaping and `to_text`: words of printable
    /// characters (HTML-special ones, emoji, combining marks included) joined by single spaces.
    fn words() -> impl Strategy<Value = String> {
        prop::collection::vec("[a-zA-Z0-9<>&\"'#@!?.,;:()/é中😀🎉\u{301}]{1,12}", 1..8).prop_map(|w| w.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&Mastodon, &bytes);
        }

        #[test]
        fn json_shaped_garbage_never_panics(s in "[\\[\\]{}\":,a-z0-9 \\n\\\\]{0,200}") {
            let _ = decode(&s);
            let _ = decode(&format!("event: update\ndata: {s}"));
            let _ = decode(&format!("{{\"event\":\"update\",\"payload\":{s}}}"));
        }

        #[test]
        fn generated_statuses_round_trip(
            text in words(),
            cw in prop::option::of(words()),
            id in "[1-9][0-9]{5,17}",
            user in "[a-zA-Z][a-zA-Z0-9_]{0,15}",
            host in "[a-z]{1,10}\\.(social|example|org)",
            remote in any::<bool>(),
            millis in 0i64..4_000_000_000_000,
            likes in any::<u32>(),
        ) {
            let published = chrono::DateTime::from_timestamp_millis(millis).unwrap();
            let acct = if remote { format!("{user}@{host}") } else { user.clone() };
            let status = json!({
                "id": id,
                "created_at": published.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "uri": format!("https://{host}/users/{user}/statuses/{id}"),
                "url": format!("https://{host}/@{user}/{id}"),
                "spoiler_text": cw.clone().unwrap_or_default(),
                "content": format!("<p>{}</p>", html_escape::encode_text(&text)),
                "favourites_count": likes,
                "account": {"id": "7", "username": user, "acct": acct, "url": format!("https://{host}/@{user}")},
            });
            let line = status.to_string();
            let out = decode(&line);
            let p = posts(&out);
            prop_assert_eq!(p.len(), 1, "{:?}", out);
            let p = p[0];
            let expected_text = match &cw { Some(cw) => format!("CW: {cw}\n\n{text}"), None => text.clone() };
            prop_assert_eq!(&p.text, &expected_text);
            prop_assert_eq!(&p.native_id, &format!("https://{host}/users/{user}/statuses/{id}"));
            prop_assert_eq!(&p.author.handle, &format!("{user}@{host}"));
            prop_assert_eq!(p.published_at, published);
            prop_assert_eq!(p.metrics.likes, Some(u64::from(likes)));
            // Through a streaming envelope, the same post.
            let ws = json!({"stream": ["public"], "event": "update", "payload": line}).to_string();
            let via_ws = decode(&ws);
            prop_assert_eq!(posts(&via_ws), vec![p]);
            // Re-decoding the raw record gives the same post.
            let again = decode(&p.raw);
            prop_assert_eq!(posts(&again), vec![p]);
        }
    }
}
