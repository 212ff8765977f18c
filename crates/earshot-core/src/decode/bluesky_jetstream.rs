//! Bluesky posts from [Jetstream], one JSON event per line:
//!
//! ```json
//! {"did":"did:plc:…","time_us":1725911162329308,"kind":"commit",
//!  "commit":{"rev":"…","operation":"create","collection":"app.bsky.feed.post",
//!            "rkey":"3l3qo2vutsw2b","record":{"$type":"app.bsky.feed.post",…},"cid":"…"}}
//! ```
//!
//! - `create` and `update` of an `app.bsky.feed.post` record become posts (an
//!   update keeps the native id, so it replaces the earlier version);
//! - `delete` of a post becomes a [`Deletion`] dated by the event's `time_us`;
//! - commits to other collections (likes, reposts, follows, …) and `identity`
//!   and `account` events are skipped with a reason.
//!
//! Mapping decisions:
//!
//! - the native id is the post's AT URI, `at://{did}/app.bsky.feed.post/{rkey}`,
//!   the id the AT Protocol itself uses in replies, quotes and likes;
//! - the author is known only by DID: Jetstream commits carry no handle, and a
//!   decoder sees one event at a time, so it cannot join them with the
//!   `identity` events that do. `handle` therefore holds the DID too, and so do
//!   `mentions` (mention facets name accounts by DID) and `reply_to_author`, so
//!   all account references share one namespace;
//! - `published_at` is the record's `createdAt`, which the client sets; when it
//!   is not a valid date, the time Jetstream saw the event (`time_us`) is used;
//! - the thread root (`reply.root`) is the `conversation_id`; a post that is
//!   not a reply is its own root;
//! - mentions, links and hashtags come from the rich-text facets (and the
//!   record's extra `tags`), never from re-parsing the text; facet byte ranges
//!   are used only to order them, never to slice the text;
//! - `raw` is the whole event, which keeps `time_us`, Jetstream's resume cursor.
//!
//! [Jetstream]: https://github.com/bluesky-social/jetstream

use super::json::{Count, Lenient, Text, json_items, nonblank, reject};
use super::{Decoded, Decoder, Framing, Record, SniffInput, text};
use crate::post::{Author, Deletion, Media, MediaKind, Platform, Post, PostKind, push_unique};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Bluesky Jetstream events (app.bsky.feed.post commits), one JSON event per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlueskyJetstream;

const NAME: &str = "bluesky";
const POST: &str = "app.bsky.feed.post";

impl Decoder for BlueskyJetstream {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Bluesky Jetstream events (app.bsky.feed.post commits), one JSON event per line"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let has = |needle: &[u8]| memchr::memmem::find(input.head, needle).is_some();
        // Every Jetstream event has `did`, `time_us` and `kind`; no other
        // format earshot reads has `time_us`.
        match (has(b"\"time_us\""), has(b"\"did\""), has(b"\"kind\"")) {
            (true, true, true) => 95,
            (true, true, false) => 80,
            _ if has(b"app.bsky.feed.post") && has(b"\"commit\"") => 70,
            _ => 0,
        }
    }

    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        for item in json_items(record) {
            match item.value {
                Ok(raw) => decode_value(raw, item.within, out),
                Err((reason, bytes)) => out.push(reject(item.within, reason, bytes)),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Jetstream events and the app.bsky.feed.post lexicon (only what earshot uses).
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Event<'a> {
    #[serde(borrow)]
    did: Option<Text<'a>>,
    time_us: Count,
    #[serde(borrow)]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    commit: Option<Commit<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Commit<'a> {
    #[serde(borrow)]
    operation: Option<Text<'a>>,
    #[serde(borrow)]
    collection: Option<Text<'a>>,
    #[serde(borrow)]
    rkey: Option<Text<'a>>,
    /// Kept raw so records of other collections are never parsed.
    #[serde(borrow)]
    record: Option<&'a RawValue>,
}

/// An `app.bsky.feed.post` record. `text` and `createdAt` are required by the
/// lexicon and checked; everything else is read leniently so a malformed
/// facet or embed never loses the post.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PostRecord<'a> {
    #[serde(borrow)]
    text: Option<Text<'a>>,
    #[serde(borrow, rename = "createdAt")]
    created_at: Option<Text<'a>>,
    #[serde(borrow)]
    langs: Lenient<Vec<Text<'a>>>,
    #[serde(borrow)]
    facets: Lenient<Vec<Lenient<Facet<'a>>>>,
    #[serde(borrow)]
    embed: Lenient<Embed<'a>>,
    #[serde(borrow)]
    reply: Lenient<ReplyRef<'a>>,
    /// Extra hashtags not in the text.
    #[serde(borrow)]
    tags: Lenient<Vec<Text<'a>>>,
    /// Deprecated predecessor of facets, still found in 2023 posts.
    #[serde(borrow)]
    entities: Lenient<Vec<Lenient<LegacyEntity<'a>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Facet<'a> {
    index: Lenient<ByteSlice>,
    #[serde(borrow)]
    features: Vec<Lenient<Feature<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ByteSlice {
    #[serde(rename = "byteStart")]
    byte_start: Count,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Feature<'a> {
    #[serde(borrow, rename = "$type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    did: Option<Text<'a>>,
    #[serde(borrow)]
    uri: Option<Text<'a>>,
    #[serde(borrow)]
    tag: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LegacyEntity<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    value: Option<Text<'a>>,
}

/// The union of the embed types earshot reads: `images`, `video`, `external`,
/// `record` and `recordWithMedia` (whose `media` is itself an embed).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Embed<'a> {
    #[serde(borrow, rename = "$type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    images: Vec<Lenient<Image<'a>>>,
    #[serde(borrow)]
    video: Lenient<Blob<'a>>,
    #[serde(borrow)]
    alt: Option<Text<'a>>,
    #[serde(borrow)]
    external: Lenient<StrongRef<'a>>,
    /// A strong ref (`embed.record`), or an `embed.record` object holding one (`recordWithMedia`).
    ///
    /// This field and `media` are recursive, so they are strict on purpose: a
    /// [`Lenient`] re-parses with a fresh parser, whose nesting limit would not
    /// bound adversarial recursion. A malformed one drops the whole embed.
    #[serde(borrow)]
    record: Option<Box<RecordRef<'a>>>,
    #[serde(borrow)]
    media: Option<Box<Embed<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordRef<'a> {
    #[serde(borrow)]
    uri: Option<Text<'a>>,
    /// Strict for the same reason as [`Embed::record`].
    #[serde(borrow)]
    record: Option<Box<RecordRef<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Image<'a> {
    #[serde(borrow)]
    image: Lenient<Blob<'a>>,
    #[serde(borrow)]
    alt: Option<Text<'a>>,
}

/// A blob reference: `{"$type":"blob","ref":{"$link":cid},…}`, or the legacy `{"cid":…}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Blob<'a> {
    #[serde(borrow, rename = "ref")]
    link: Lenient<CidLink<'a>>,
    #[serde(borrow)]
    cid: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CidLink<'a> {
    #[serde(borrow, rename = "$link")]
    link: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReplyRef<'a> {
    #[serde(borrow)]
    root: Lenient<StrongRef<'a>>,
    #[serde(borrow)]
    parent: Lenient<StrongRef<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StrongRef<'a> {
    #[serde(borrow)]
    uri: Option<Text<'a>>,
}

// ---------------------------------------------------------------------------
// Decoding.
// ---------------------------------------------------------------------------

fn decode_value(raw: &RawValue, within: Option<String>, out: &mut Vec<Decoded>) {
    let narrow = if within.is_some() { raw.get().as_bytes() } else { &[] };
    match raw.get().as_bytes().first() {
        // A saved array of events, e.g. a capture written as one JSON array.
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
            Ok(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let label = match &within {
                        Some(w) => format!("{w} [{i}]"),
                        None => format!("[{i}]"),
                    };
                    decode_event(item, Some(label), item.get().as_bytes(), out);
                }
            }
            Err(e) => out.push(reject(within, format!("invalid JSON array: {e}"), narrow)),
        },
        Some(b'{') => decode_event(raw, within, narrow, out),
        _ => out.push(reject(within, "expected a Jetstream event object, got a JSON scalar", narrow)),
    }
}

/// Decodes one event; `bytes` is the event when narrower than the record (empty otherwise).
fn decode_event(raw: &RawValue, within: Option<String>, bytes: &[u8], out: &mut Vec<Decoded>) {
    let event: Event<'_> = match serde_json::from_str(raw.get()) {
        Ok(e) => e,
        Err(e) => {
            out.push(reject(within, format!("not a Jetstream event: {e}"), bytes));
            return;
        }
    };
    match nonblank(&event.kind) {
        Some("commit") => match commit(&event, raw.get()) {
            Ok(decoded) => out.push(decoded),
            Err(reason) => out.push(reject(within, reason, bytes)),
        },
        Some(kind @ ("identity" | "account")) => {
            out.push(Decoded::Skipped { reason: format!("jetstream {kind} event (not a post)") })
        }
        Some(kind) => out.push(Decoded::Skipped { reason: format!("unknown jetstream event kind {kind:?}") }),
        None => out.push(reject(within, "jetstream event has no kind", bytes)),
    }
}

/// A commit event: a post, a deletion, or a skip for other collections.
fn commit(event: &Event<'_>, raw: &str) -> Result<Decoded, String> {
    let c = event.commit.as_ref().ok_or("jetstream commit event has no commit")?;
    let collection = nonblank(&c.collection).ok_or("jetstream commit has no collection")?;
    let operation = nonblank(&c.operation).ok_or("jetstream commit has no operation")?;
    if collection != POST {
        return Ok(Decoded::Skipped { reason: format!("jetstream {operation} of {collection} (not a post)") });
    }
    let did = nonblank(&event.did).ok_or("jetstream event has no did")?;
    if !is_did(did) {
        return Err(format!("jetstream event did {did:?} is not a DID"));
    }
    let rkey = nonblank(&c.rkey).ok_or("jetstream commit has no rkey")?;
    if !is_record_key(rkey) {
        return Err(format!("jetstream commit rkey {rkey:?} is not a record key"));
    }
    let uri = format!("at://{did}/{POST}/{rkey}");
    let seen_at =
        event.time_us.0.and_then(|us| i64::try_from(us).ok()).and_then(DateTime::<Utc>::from_timestamp_micros);
    match operation {
        "create" | "update" => {
            let record = c.record.ok_or_else(|| format!("{POST} {operation} has no record"))?;
            let record: PostRecord<'_> =
                serde_json::from_str(record.get()).map_err(|e| format!("{POST} record is malformed: {e}"))?;
            build_post(&record, did, rkey, uri, seen_at, raw).map(|p| Decoded::Post(Box::new(p)))
        }
        "delete" => Ok(Decoded::Deletion(Deletion {
            platform: Platform::Bluesky,
            native_id: uri,
            deleted_at: seen_at,
            raw: raw.to_string(),
        })),
        other => Err(format!("jetstream commit has unknown operation {other:?}")),
    }
}

/// DID syntax (`did:method:id`), checked because the DID goes into URIs and URLs.
fn is_did(s: &str) -> bool {
    let mut parts = s.splitn(3, ':');
    parts.next() == Some("did")
        && parts
            .next()
            .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.next().is_some_and(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'%' | b'-'))
        })
}

/// Record key syntax, checked because the key goes into URIs and URLs.
fn is_record_key(s: &str) -> bool {
    s.len() <= 512
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'~' | b'-'))
}

/// The authority (DID) and collection of an AT URI `at://authority/collection/rkey`.
fn at_uri_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let authority = parts.next().filter(|a| !a.is_empty())?;
    let collection = parts.next().filter(|c| !c.is_empty())?;
    Some((authority, collection))
}

fn build_post(
    record: &PostRecord<'_>,
    did: &str,
    rkey: &str,
    uri: String,
    seen_at: Option<DateTime<Utc>>,
    raw: &str,
) -> Result<Post, String> {
    // An empty text is valid (image-only posts); a missing one is not a post record.
    let text = record.text.as_ref().ok_or_else(|| format!("{POST} record has no text"))?;
    let created = nonblank(&record.created_at).ok_or_else(|| format!("{POST} record has no createdAt"))?;
    let published_at = text::parse_any_date(created)
        .or(seen_at)
        .ok_or_else(|| format!("{POST} createdAt {created:?} is not a valid date and the event has no time_us"))?;

    let mut post = Post {
        url: Some(format!("https://bsky.app/profile/{did}/post/{rkey}")),
        lang: record
            .langs
            .0
            .iter()
            .flatten()
            .find_map(|l| Some(l.as_str().trim()).filter(|l| !l.is_empty()))
            .map(str::to_string),
        raw: raw.to_string(),
        ..Post::new(
            Platform::Bluesky,
            uri,
            Author {
                id: Some(did.to_string()),
                handle: did.to_string(),
                display_name: None,
                followers: None,
                url: Some(format!("https://bsky.app/profile/{did}")),
                care_account: None,
            },
            text.as_str().to_string(),
            published_at,
            NAME.to_string(),
        )
    };

    facets(record, &mut post);
    if let Some(embed) = &record.embed.0 {
        apply_embed(embed, did, &mut post, true);
    }

    let reply = record.reply.0.as_ref();
    let parent = reply.and_then(|r| r.parent.0.as_ref()).and_then(|p| nonblank(&p.uri));
    let root = reply.and_then(|r| r.root.0.as_ref()).and_then(|r| nonblank(&r.uri));
    if let Some(parent) = parent {
        // Replying wins over quoting: the thread is what care work follows.
        post.kind = PostKind::Reply;
        post.reply_to = Some(parent.to_string());
        post.reply_to_author = at_uri_parts(parent).map(|(authority, _)| authority.to_string());
    }
    post.conversation_id = Some(root.or(parent).unwrap_or(&post.native_id).to_string());
    Ok(post)
}

/// Mentions, links and hashtags from the facets (in text order), the extra
/// `tags`, and the deprecated `entities`.
fn facets(record: &PostRecord<'_>, post: &mut Post) {
    let mut facets: Vec<&Facet<'_>> = record.facets.0.iter().flatten().filter_map(|f| f.0.as_ref()).collect();
    facets.sort_by_key(|f| f.index.0.as_ref().and_then(|i| i.byte_start.0).unwrap_or(u64::MAX));
    for feature in facets.iter().flat_map(|f| &f.features).filter_map(|f| f.0.as_ref()) {
        let (did, uri, tag) = (nonblank(&feature.did), nonblank(&feature.uri), nonblank(&feature.tag));
        // The `$type` names the feature; a client that omits it is read by the field present.
        let kind = match nonblank(&feature.kind).map(|k| k.rsplit_once('#').map_or(k, |(_, k)| k)) {
            Some(kind) => kind,
            None if did.is_some() => "mention",
            None if uri.is_some() => "link",
            None => "tag",
        };
        match (kind, did, uri, tag) {
            ("mention", Some(did), ..) => push_unique(&mut post.mentions, did),
            ("link", _, Some(uri), _) => push_unique(&mut post.links, uri),
            ("tag", _, _, Some(tag)) => push_unique(&mut post.hashtags, tag.trim_start_matches('#')),
            _ => {}
        }
    }
    for tag in record.tags.0.iter().flatten() {
        push_unique(&mut post.hashtags, tag.as_str().trim().trim_start_matches('#'));
    }
    for entity in record.entities.0.iter().flatten().filter_map(|e| e.0.as_ref()) {
        let Some(value) = nonblank(&entity.value) else { continue };
        match nonblank(&entity.kind) {
            Some("mention") => push_unique(&mut post.mentions, value),
            Some("link") => push_unique(&mut post.links, value),
            Some("hashtag") => push_unique(&mut post.hashtags, value.trim_start_matches('#')),
            _ => {}
        }
    }
}

/// Media, links and quotes from an embed. `top` is false inside
/// `recordWithMedia`, whose media cannot itself hold a record.
fn apply_embed(embed: &Embed<'_>, did: &str, post: &mut Post, top: bool) {
    match nonblank(&embed.kind) {
        Some("app.bsky.embed.images") => {
            for image in embed.images.iter().filter_map(|i| i.0.as_ref()) {
                post.media.push(Media {
                    kind: MediaKind::Image,
                    url: blob_cid(&image.image)
                        .map(|cid| format!("https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg")),
                    alt: nonblank(&image.alt).map(str::to_string),
                });
            }
        }
        Some("app.bsky.embed.video") => post.media.push(Media {
            kind: MediaKind::Video,
            // The AppView's HLS playlist URL, with the DID percent-encoded as it writes it.
            url: blob_cid(&embed.video)
                .map(|cid| format!("https://video.bsky.app/watch/{}/{cid}/playlist.m3u8", did.replace(':', "%3A"))),
            alt: nonblank(&embed.alt).map(str::to_string),
        }),
        Some("app.bsky.embed.external") => {
            if let Some(uri) = embed.external.0.as_ref().and_then(|e| nonblank(&e.uri)) {
                push_unique(&mut post.links, uri);
            }
        }
        Some("app.bsky.embed.record") if top => {
            quote(embed.record.as_ref().and_then(|r| nonblank(&r.uri)), post);
        }
        Some("app.bsky.embed.recordWithMedia") if top => {
            let inner = embed.record.as_ref().and_then(|r| r.record.as_ref());
            quote(inner.and_then(|r| nonblank(&r.uri)), post);
            if let Some(media) = &embed.media {
                apply_embed(media, did, post, false);
            }
        }
        _ => {}
    }
}

/// Records a quote of `uri` when it is a post (record embeds also show feeds, lists and starter packs).
fn quote(uri: Option<&str>, post: &mut Post) {
    if let Some(uri) = uri
        && at_uri_parts(uri).is_some_and(|(_, collection)| collection == POST)
    {
        post.kind = PostKind::Quote;
        post.references = Some(uri.to_string());
    }
}

/// A blob's CID, when it is safe to put in a URL path.
fn blob_cid<'s>(blob: &'s Lenient<Blob<'_>>) -> Option<&'s str> {
    let blob = blob.0.as_ref()?;
    let cid = blob.link.0.as_ref().and_then(|l| nonblank(&l.link)).or_else(|| nonblank(&blob.cid))?;
    cid.bytes().all(|b| b.is_ascii_alphanumeric()).then_some(cid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_all, detect};
    use proptest::prelude::*;
    use serde_json::json;

    const DID: &str = "did:plc:eygmaihciaxprqvxpfvl6flk";

    fn decode(input: &str) -> Vec<Decoded> {
        decode_all(&BlueskyJetstream, input.as_bytes())
    }

    fn post_of(out: &[Decoded]) -> &Post {
        match out {
            [Decoded::Post(p)] => p,
            other => panic!("expected one post, got {other:?}"),
        }
    }

    fn event(operation: &str, rkey: &str, record: serde_json::Value) -> serde_json::Value {
        json!({
            "did": DID,
            "time_us": 1725911162329308u64,
            "kind": "commit",
            "commit": {
                "rev": "3l3qo2vutsw2b",
                "operation": operation,
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": record,
                "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"
            }
        })
    }

    #[test]
    fn maps_a_post_with_facets() {
        let text = "@gilt.bsky.social my sandals broke 😢 https://example.com/order #help";
        let link_start = text.find("https").unwrap();
        let tag_start = text.find("#help").unwrap();
        let record = json!({
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:02.102Z",
            "langs": ["en"],
            "text": text,
            "facets": [
                {"index": {"byteStart": tag_start, "byteEnd": text.len()},
                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "help"}]},
                {"index": {"byteStart": 0, "byteEnd": 17},
                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:gilt"}]},
                {"index": {"byteStart": link_start, "byteEnd": tag_start - 1},
                 "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/order"}]}
            ]
        });
        let line = event("create", "3l3qo2vuowo2b", record).to_string();
        let out = decode(&line);
        let p = post_of(&out);
        assert_eq!(p.native_id, format!("at://{DID}/app.bsky.feed.post/3l3qo2vuowo2b"));
        assert_eq!(p.url.as_deref(), Some(format!("https://bsky.app/profile/{DID}/post/3l3qo2vuowo2b").as_str()));
        assert_eq!(p.author.handle, DID);
        assert_eq!(p.text, text);
        assert_eq!(p.lang.as_deref(), Some("en"));
        assert_eq!(p.published_at.to_rfc3339(), "2024-09-09T19:46:02.102+00:00");
        assert_eq!(p.mentions, ["did:plc:gilt"]);
        assert_eq!(p.links, ["https://example.com/order"]);
        assert_eq!(p.hashtags, ["help"]);
        assert_eq!(p.kind, PostKind::Original);
        assert_eq!(p.conversation_id.as_deref(), Some(p.native_id.as_str()));
        assert_eq!(p.raw, line);
    }

    #[test]
    fn reply_and_quote_and_images() {
        let parent = "at://did:plc:parent/app.bsky.feed.post/3k1";
        let root = "at://did:plc:root/app.bsky.feed.post/3k0";
        let quoted = "at://did:plc:quoted/app.bsky.feed.post/3k2";
        let record = json!({
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:02.102Z",
            "text": "same here",
            "reply": {"parent": {"cid": "bafyparent", "uri": parent}, "root": {"cid": "bafyroot", "uri": root}},
            "embed": {
                "$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record", "record": {"cid": "bafyq", "uri": quoted}},
                "media": {"$type": "app.bsky.embed.images", "images": [
                    {"alt": "a torn strap", "image": {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/jpeg", "size": 1000}},
                    {"alt": "", "image": {"cid": "bafkreilegacy", "mimeType": "image/png"}}
                ]}
            }
        });
        let out = decode(&event("create", "3l3qo2vuowo2c", record).to_string());
        let p = post_of(&out);
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to.as_deref(), Some(parent));
        assert_eq!(p.reply_to_author.as_deref(), Some("did:plc:parent"));
        assert_eq!(p.conversation_id.as_deref(), Some(root));
        assert_eq!(p.references.as_deref(), Some(quoted));
        assert_eq!(
            p.media,
            [
                Media {
                    kind: MediaKind::Image,
                    url: Some(format!("https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/bafkreiabc@jpeg")),
                    alt: Some("a torn strap".into())
                },
                Media {
                    kind: MediaKind::Image,
                    url: Some(format!("https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/bafkreilegacy@jpeg")),
                    alt: None
                },
            ]
        );
    }

    #[test]
    fn quote_of_a_post_but_not_of_a_feed() {
        let quote = |uri: &str| {
            let record = json!({"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": "look",
                "embed": {"$type": "app.bsky.embed.record", "record": {"cid": "bafyq", "uri": uri}}});
            post_of(&decode(&event("create", "3k", record).to_string())).clone()
        };
        let p = quote("at://did:plc:q/app.bsky.feed.post/3k2");
        assert_eq!((p.kind, p.references.as_deref()), (PostKind::Quote, Some("at://did:plc:q/app.bsky.feed.post/3k2")));
        let p = quote("at://did:plc:q/app.bsky.feed.generator/whats-hot");
        assert_eq!((p.kind, p.references), (PostKind::Original, None));
    }

    #[test]
    fn external_embed_is_a_link_and_bad_embeds_are_ignored() {
        let record = json!({"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": "read",
            "embed": {"$type": "app.bsky.embed.external", "external": {"uri": "https://example.com/a", "title": "A", "description": ""}}});
        assert_eq!(post_of(&decode(&event("create", "3k", record).to_string())).links, ["https://example.com/a"]);
        let record = json!({"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": "odd",
            "embed": "not an embed", "facets": [{"index": 3, "features": "x"}, 7], "langs": "en"});
        let p = post_of(&decode(&event("create", "3k", record).to_string())).clone();
        assert_eq!(p.text, "odd");
        assert_eq!(p.lang, None);
    }

    #[test]
    fn delete_update_and_skips() {
        let delete = json!({"did": DID, "time_us": 1725516666833633u64, "kind": "commit",
            "commit": {"rev": "3l3f6nzl3cv2s", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3l3dn7tku762u"}})
        .to_string();
        let out = decode(&delete);
        match &out[..] {
            [Decoded::Deletion(d)] => {
                assert_eq!(d.native_id, format!("at://{DID}/app.bsky.feed.post/3l3dn7tku762u"));
                assert_eq!(d.deleted_at.map(|t| t.to_rfc3339()).as_deref(), Some("2024-09-05T06:11:06.833633+00:00"));
            }
            other => panic!("{other:?}"),
        }
        let record = json!({"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": "edited"});
        let updated = post_of(&decode(&event("update", "3l3dn7tku762u", record).to_string())).clone();
        assert_eq!(updated.native_id, format!("at://{DID}/app.bsky.feed.post/3l3dn7tku762u"));
        let like = r#"{"did":"did:plc:eygmaihciaxprqvxpfvl6flk","time_us":1725911162329308,"kind":"commit","commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.feed.like","rkey":"3l3qo2vuowo2b","record":{"$type":"app.bsky.feed.like","createdAt":"2024-09-09T19:46:02.102Z","subject":{"cid":"bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4","uri":"at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325"}},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}"#;
        assert!(matches!(&decode(like)[..], [Decoded::Skipped { reason }] if reason.contains("app.bsky.feed.like")));
        let identity = r#"{"did":"did:plc:ufbl4k27gp6kzas5glhz7fim","time_us":1725516665234703,"kind":"identity","identity":{"did":"did:plc:ufbl4k27gp6kzas5glhz7fim","handle":"yohenrique.bsky.social","seq":1409752997,"time":"2024-09-05T06:11:04.870Z"}}"#;
        assert!(matches!(&decode(identity)[..], [Decoded::Skipped { reason }] if reason.contains("identity")));
    }

    #[test]
    fn rejects_say_what_is_missing() {
        let reason = |v: serde_json::Value| match &decode(&v.to_string())[..] {
            [Decoded::Rejected { reason, .. }] => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason(event("create", "3k", json!({"createdAt": "2024-09-09T19:46:02.102Z"}))).contains("no text"));
        assert!(reason(event("create", "3k", json!({"text": "hi"}))).contains("no createdAt"));
        assert!(reason(event("create", "3k/../x", json!({"text": "hi"}))).contains("not a record key"));
        let mut e = event("create", "3k", json!({"text": "hi", "createdAt": "x"}));
        e["did"] = json!("https://evil.example/");
        assert!(reason(e).contains("not a DID"));
        // An invalid createdAt falls back to the time Jetstream saw the event.
        let p = post_of(&decode(&event("create", "3k", json!({"text": "hi", "createdAt": "yesterday"})).to_string()))
            .clone();
        assert_eq!(p.published_at.timestamp_micros(), 1725911162329308);
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let media = format!(
            "{}{{}}{}",
            r#"{"$type":"app.bsky.embed.recordWithMedia","media":"#.repeat(10_000),
            "}".repeat(10_000)
        );
        let record = format!(r#"{{"text":"hi","createdAt":"2024-09-09T19:46:02.102Z","embed":{media}}}"#);
        let line = format!(
            r#"{{"did":"{DID}","time_us":1,"kind":"commit","commit":{{"operation":"create","collection":"app.bsky.feed.post","rkey":"3k","record":{record}}}}}"#
        );
        // The embed is too deep to read, so it is ignored; the post survives.
        assert_eq!(post_of(&decode(&line)).text, "hi");
        let _ = decode(&"[".repeat(100_000));
    }

    #[test]
    fn a_pretty_printed_event_decodes() {
        let record = json!({"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": "hi"});
        let pretty = serde_json::to_string_pretty(&event("create", "3k", record)).unwrap();
        let out = decode(&pretty);
        assert_eq!(post_of(&out).raw, pretty);
    }

    #[test]
    fn sniffs_jetstream_only() {
        let sniff = |s: &str| BlueskyJetstream.sniff(SniffInput { head: s.as_bytes(), file_name: None });
        let line = event("create", "3k", json!({"text": "hi", "createdAt": "2024-09-09T19:46:02.102Z"})).to_string();
        assert!(sniff(&line) >= 90);
        assert_eq!(sniff(r#"{"id_str":"1","text":"hi","user":{"screen_name":"a"}}"#), 0);
        assert_eq!(sniff(r#"{"data":{"id":"1","text":"hi","author_id":"2"}}"#), 0);
        assert_eq!(sniff(r#"{"text":"hi","author":"a","created_at":"2020-01-01"}"#), 0);
        assert_eq!(
            sniff(r#"{"id":"1","uri":"https://m.s/users/a/statuses/1","spoiler_text":"","reblogs_count":0}"#),
            0
        );
        let head = line.as_bytes();
        assert_eq!(detect(SniffInput { head, file_name: None }, "t").map(|d| d.name()).ok(), Some("bluesky"));
    }

    fn did_strategy() -> impl Strategy<Value = String> {
        "[a-z2-7]{24}".prop_map(|s| format!("did:plc:{s}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&BlueskyJetstream, &bytes);
        }

        #[test]
        fn json_shaped_garbage_never_panics(s in "[\\[\\]{}\":,a-z0-9$# \\n]{0,200}") {
            let _ = decode(&s);
            let _ = decode(&format!(r#"{{"did":"{DID}","kind":"commit","commit":{{"operation":"create","collection":"app.bsky.feed.post","rkey":"3k","record":{s}}}}}"#));
        }

        #[test]
        fn generated_posts_round_trip(
            text in "\\PC{0,80}",
            did in did_strategy(),
            mention in did_strategy(),
            rkey in "[a-z2-7]{13}",
            tag in "[\\p{L}\\p{N}_]{1,20}",
            link in "https://[a-z]{1,10}\\.example/[a-zA-Z0-9/_-]{0,20}",
            lang in "[a-z]{2}",
            micros in 0i64..4_102_444_800_000_000,
            op in prop::sample::select(vec!["create", "update"]),
            alt in "\\PC{0,30}",
        ) {
            let published = DateTime::<Utc>::from_timestamp_micros(micros).unwrap();
            let line = json!({
                "did": did,
                "time_us": 1725911162329308u64,
                "kind": "commit",
                "commit": {
                    "rev": "3l3qo2vutsw2b",
                    "operation": op,
                    "collection": "app.bsky.feed.post",
                    "rkey": rkey,
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "createdAt": published.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                        "langs": [lang],
                        "text": text,
                        "facets": [
                            {"index": {"byteStart": 0, "byteEnd": 1}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": mention}]},
                            {"index": {"byteStart": 5, "byteEnd": 9999}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}]},
                            {"index": {"byteStart": 9999, "byteEnd": 1}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]}
                        ],
                        "embed": {"$type": "app.bsky.embed.images", "images": [
                            {"alt": alt, "image": {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/jpeg", "size": 1}}
                        ]}
                    },
                    "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"
                }
            })
            .to_string();
            let out = decode(&line);
            let p = post_of(&out);
            prop_assert_eq!(&p.text, &text);
            prop_assert_eq!(&p.native_id, &format!("at://{did}/app.bsky.feed.post/{rkey}"));
            prop_assert_eq!(&p.author.handle, &did);
            prop_assert_eq!(p.published_at, published);
            prop_assert_eq!(p.lang.as_deref(), Some(lang.as_str()));
            prop_assert_eq!(&p.mentions, &vec![mention]);
            prop_assert_eq!(&p.links, &vec![link]);
            prop_assert_eq!(&p.hashtags, &vec![tag]);
            prop_assert_eq!(p.media[0].alt.as_deref(), Some(alt.trim()).filter(|a| !a.is_empty()));
            let again = decode(&p.raw);
            prop_assert_eq!(post_of(&again), p);
        }
    }
}
