//! Bluesky Jetstream `commit` events, one per line, each creating an
//! `app.bsky.feed.post` record with rich-text facets (mentions by DID, links,
//! tags at UTF-8 byte offsets) and, for replies, `reply.parent`/`reply.root`
//! strong refs.
//!
//! Record keys are TIDs built from the post's time, and the time the event
//! reached Jetstream (`time_us`) is a fixed quarter second after it, so the
//! stream stays in order.

use super::{json_line, rfc3339_ms};
use crate::GenError;
use crate::generator::{GenPost, PostRef, Seg, TWITTER_EPOCH_MS};
use crate::world::{Account, base32, mix64};
use serde::Serialize;
use std::io::Write;

const COLLECTION: &str = "app.bsky.feed.post";

/// Delay from a post's creation to Jetstream seeing it.
const SEEN_AFTER_US: i64 = 250_000;

/// The record key (a TID) of post `id`: microseconds since the Unix epoch
/// (the id's milliseconds plus sub-millisecond digits from its counter)
/// shifted left 10 bits, plus a 10-bit clock id, in base-32-sortable.
pub(crate) fn rkey(id: u64) -> String {
    let ms = (id >> 22) as i64 + TWITTER_EPOCH_MS;
    let low = id & 0x3F_FFFF;
    let micros = ms as u64 * 1000 + low % 1000;
    let v = ((micros << 10) | ((low / 1000) & 1023)) & (u64::MAX >> 1);
    const SORTABLE: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    (0..13).rev().map(|i| SORTABLE[((v >> (i * 5)) & 31) as usize] as char).collect()
}

/// The AT URI of post `id` by `author`.
pub(crate) fn at_uri(author: &Account, id: u64) -> String {
    format!("at://{}/{COLLECTION}/{}", author.did(), rkey(id))
}

/// A CIDv1 (dag-cbor, sha-256) look-alike: `bafyrei` and 52 base-32 characters derived from the id.
fn cid(id: u64) -> String {
    let mut s = String::from("bafyrei");
    let mut h = id;
    for _ in 0..4 {
        h = mix64(h ^ 0x9E37_79B9_7F4A_7C15);
        base32(h, 13, &mut s);
    }
    s
}

#[derive(Serialize)]
struct Event<'a> {
    did: String,
    time_us: i64,
    kind: &'static str,
    commit: Commit<'a>,
}

#[derive(Serialize)]
struct Commit<'a> {
    rev: String,
    operation: &'static str,
    collection: &'static str,
    rkey: String,
    record: Record<'a>,
    cid: String,
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "$type")]
    kind: &'static str,
    #[serde(rename = "createdAt")]
    created_at: String,
    langs: [&'static str; 1],
    text: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    facets: Vec<Facet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<Reply>,
}

#[derive(Serialize)]
struct Facet {
    index: Index,
    features: [Feature; 1],
}

#[derive(Serialize)]
struct Index {
    #[serde(rename = "byteStart")]
    byte_start: usize,
    #[serde(rename = "byteEnd")]
    byte_end: usize,
}

#[derive(Serialize)]
#[serde(tag = "$type")]
enum Feature {
    #[serde(rename = "app.bsky.richtext.facet#mention")]
    Mention { did: String },
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
}

#[derive(Serialize)]
struct Reply {
    root: StrongRef,
    parent: StrongRef,
}

#[derive(Serialize)]
struct StrongRef {
    cid: String,
    uri: String,
}

fn strong_ref(r: &PostRef) -> StrongRef {
    StrongRef { cid: cid(r.id), uri: at_uri(&r.author, r.id) }
}

pub(super) fn write<W: Write>(out: &mut W, post: &GenPost) -> Result<(), GenError> {
    let mut text = String::new();
    let mut facets = Vec::new();
    for seg in &post.segs {
        let start = text.len();
        let feature = match seg {
            Seg::Text(t) => {
                text.push_str(t);
                continue;
            }
            Seg::Mention(a) => {
                text.push('@');
                text.push_str(&a.bluesky_handle());
                Feature::Mention { did: a.did() }
            }
            Seg::Tag(t) => {
                text.push('#');
                text.push_str(t);
                Feature::Tag { tag: t.clone() }
            }
            Seg::Link(l) => {
                text.push_str(l);
                Feature::Link { uri: l.clone() }
            }
        };
        facets.push(Facet { index: Index { byte_start: start, byte_end: text.len() }, features: [feature] });
    }
    let reply = match (&post.reply_to, &post.root) {
        (Some(parent), Some(root)) => Some(Reply { root: strong_ref(root), parent: strong_ref(parent) }),
        (Some(parent), None) => Some(Reply { root: strong_ref(parent), parent: strong_ref(parent) }),
        _ => None,
    };
    let key = rkey(post.id);
    let event = Event {
        did: post.author.did(),
        time_us: post.at_ms * 1000 + SEEN_AFTER_US,
        kind: "commit",
        commit: Commit {
            rev: key.clone(),
            operation: "create",
            collection: COLLECTION,
            rkey: key,
            record: Record {
                kind: COLLECTION,
                created_at: rfc3339_ms(post.at_ms),
                langs: ["en"],
                text: &text,
                facets,
                reply,
            },
            cid: cid(post.id),
        },
    };
    json_line(out, &event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_are_tids_in_time_order() {
        let id = |ms: i64, low: u64| (((ms - TWITTER_EPOCH_MS) as u64) << 22) | low;
        let a = rkey(id(1_767_600_000_000, 5));
        let b = rkey(id(1_767_600_000_001, 0));
        assert_eq!(a.len(), 13);
        assert!(a < b, "{a} {b}");
        assert!(a.starts_with('3'), "current TIDs start with 3: {a}");
        assert_eq!(cid(7).len(), 59);
    }
}
