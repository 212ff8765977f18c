//! Plain JSON Lines: the format for sources without a decoder of their own.
//!
//! One object per line (or one JSON array of objects):
//!
//! ```json
//! {"id": "42", "text": "@acme my order never came", "author": "gilt", "created_at": "2024-03-04T10:00:00Z"}
//! {"text": "thanks!", "author": {"username": "acme", "display_name": "Acme Care", "followers": 1200}, "created_at": 1709546400, "reply_to": "42"}
//! ```
//!
//! Required: `text`, `author` (a handle, or an object with `handle` /
//! `username` / `screen_name` / `name`, optional `display_name`, `followers`,
//! `id`, `url`) and `created_at` (any form [`text::parse_any_date`] reads, or a
//! number of seconds or milliseconds since the Unix epoch).
//!
//! Optional: `id` (string or number), `platform` (`x`, `mastodon`, `bluesky`,
//! `blog`, `other`; default `other`), `url`, `lang`, `reply_to` /
//! `in_reply_to`, `reply_to_author`, `conversation_id`, `mentions`,
//! `hashtags`, `links` (lists of strings; found in the text when absent) and
//! `media` (`[{"kind", "url", "alt"}]`).
//!
//! Without an `id`, the post gets a derived one so that ingesting the same
//! file twice keeps one copy: [`derived_id`].

use super::{Decoded, Decoder, Framing, Record, SniffInput, json_values, text};
use crate::post::{Author, Media, MediaKind, Platform, Post, PostKind, normalize_handle, push_unique};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Plain JSON Lines: `{"text", "author", "created_at", ...}` per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Jsonl;

/// The id given to a post that came without one: 16 lowercase hex digits of
/// the 64-bit FNV-1a hash of `normalized handle \x1f published-at millis \x1f text`.
///
/// FNV-1a is fixed by its spec (offset basis and prime), so the id is the same
/// on every run, machine and build, unlike std's randomly seeded hasher. The
/// time goes in as parsed milliseconds so that `"2024-03-04T10:00:00Z"` and
/// `1709546400` name the same post.
pub fn derived_id(handle: &str, published_at: DateTime<Utc>, text: &str) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    feed(normalize_handle(handle).as_bytes());
    feed(b"\x1f");
    feed(published_at.timestamp_millis().to_string().as_bytes());
    feed(b"\x1f");
    feed(text.as_bytes());
    format!("{hash:016x}")
}

/// The JSON type of a value, for error messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An optional string field; blank counts as absent.
fn opt_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(format!("field `{key}` must be a string, got {}", type_name(other))),
    }
}

/// An optional id field: a string or an integer (ids from JSON exports are often numbers).
fn opt_id(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(_)) | Some(Value::Null) | None => opt_str(obj, key),
        Some(other) => Err(format!("field `{key}` must be a string or a number, got {}", type_name(other))),
    }
}

/// An optional list of strings (mentions, hashtags, links), with `strip` removed from the front.
fn opt_list(obj: &Map<String, Value>, key: &str, strip: &[char]) -> Result<Option<Vec<String>>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => push_unique(&mut out, s.trim().trim_start_matches(strip)),
                    other => return Err(format!("field `{key}` must list strings, got {}", type_name(other))),
                }
            }
            Ok(Some(out))
        }
        Some(other) => Err(format!("field `{key}` must be a list of strings, got {}", type_name(other))),
    }
}

/// A follower count: a non-negative integer, or one written as a string.
fn followers(v: Option<&Value>) -> Result<Option<u64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| format!("author followers is not a count: {n}")),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| format!("author followers is not a count: {s:?}"))
        }
        Some(other) => Err(format!("author followers must be a number, got {}", type_name(other))),
    }
}

/// The required `author`: a handle, or an object describing the account.
fn author(obj: &Map<String, Value>) -> Result<Author, String> {
    const MISSING: &str = "missing or empty required field `author`";
    match obj.get("author") {
        None | Some(Value::Null) => Err(MISSING.to_string()),
        Some(Value::String(s)) => {
            let handle = s.trim().trim_start_matches('@');
            if handle.is_empty() {
                Err(MISSING.to_string())
            } else {
                Ok(Author { handle: handle.to_string(), ..Author::default() })
            }
        }
        Some(Value::Object(a)) => {
            let field = |k: &str| opt_str(a, k).map_err(|e| format!("author {e}"));
            let mut handle_key = "";
            let mut handle = None;
            for key in ["handle", "username", "screen_name", "name"] {
                if let Some(h) = field(key)? {
                    let h = h.trim_start_matches('@').to_string();
                    if !h.is_empty() {
                        handle_key = key;
                        handle = Some(h);
                        break;
                    }
                }
            }
            let handle = handle.ok_or_else(|| {
                "missing or empty required field `author` (an author object needs handle, username or name)".to_string()
            })?;
            // `name` is the display name unless it had to serve as the handle.
            let display_name = match field("display_name")?.or(field("displayName")?) {
                Some(d) => Some(d),
                None if handle_key != "name" => field("name")?,
                None => None,
            };
            Ok(Author {
                id: opt_id(a, "id").map_err(|e| format!("author {e}"))?,
                handle,
                display_name,
                followers: followers(a.get("followers").or(a.get("followers_count")))?,
                url: field("url")?,
                care_account: None,
            })
        }
        Some(other) => Err(format!("field `author` must be a string or an object, got {}", type_name(other))),
    }
}

/// The required `created_at`: a date string, or seconds / milliseconds since the epoch.
fn created_at(obj: &Map<String, Value>) -> Result<DateTime<Utc>, String> {
    const MISSING: &str = "missing or empty required field `created_at`";
    match obj.get("created_at") {
        None | Some(Value::Null) => Err(MISSING.to_string()),
        Some(Value::String(s)) if s.trim().is_empty() => Err(MISSING.to_string()),
        Some(Value::String(s)) => {
            text::parse_any_date(s).ok_or_else(|| format!("field `created_at` is not a date: {:?}", s.trim()))
        }
        Some(Value::Number(n)) => {
            let bad = || format!("field `created_at` is not a Unix time in seconds or milliseconds: {n}");
            let secs = n.as_f64().filter(|f| f.is_finite()).ok_or_else(bad)?;
            // Seconds reach 1e11 only in the year 5138; larger numbers are milliseconds.
            let millis = if secs.abs() >= 1e11 { secs } else { secs * 1000.0 };
            if millis.abs() > 8.64e15 {
                return Err(bad());
            }
            // In range (checked above), so the cast neither saturates nor wraps.
            Utc.timestamp_millis_opt(millis.round() as i64).single().ok_or_else(bad)
        }
        Some(other) => Err(format!("field `created_at` must be a string or a number, got {}", type_name(other))),
    }
}

fn media_kind(kind: &str) -> MediaKind {
    match kind.trim().to_ascii_lowercase().as_str() {
        "image" | "photo" | "picture" => MediaKind::Image,
        "video" => MediaKind::Video,
        "gif" | "gifv" | "animated_gif" => MediaKind::Gif,
        "audio" => MediaKind::Audio,
        _ => MediaKind::Other,
    }
}

fn media(obj: &Map<String, Value>) -> Result<Vec<Media>, String> {
    match obj.get("media") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(m) => {
                    let field = |k: &str| opt_str(m, k).map_err(|e| format!("media {e}"));
                    Ok(Media {
                        kind: field("kind")?.map(|k| media_kind(&k)).unwrap_or(MediaKind::Other),
                        url: field("url")?,
                        alt: field("alt")?,
                    })
                }
                other => Err(format!("field `media` must list objects, got {}", type_name(other))),
            })
            .collect(),
        Some(other) => Err(format!("field `media` must be a list, got {}", type_name(other))),
    }
}

/// Decodes one object, or says why it cannot be decoded.
fn decode_object(raw: &RawValue) -> Result<Post, String> {
    let value: Value = serde_json::from_str(raw.get()).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err(format!("expected a JSON object, got {}", type_name(&value)));
    };
    let text = match obj.get("text") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err("missing or empty required field `text`".to_string());
        }
        Some(other) => return Err(format!("field `text` must be a string, got {}", type_name(other))),
    };
    let author = author(&obj)?;
    let published_at = created_at(&obj)?;
    let platform = match opt_str(&obj, "platform")? {
        None => Platform::Other,
        Some(name) => Platform::parse(&name)
            .ok_or_else(|| format!("field `platform` is not one of x, mastodon, bluesky, blog, other: {name:?}"))?,
    };
    let native_id = match opt_id(&obj, "id")? {
        Some(id) => id,
        None => derived_id(&author.handle, published_at, &text),
    };
    let reply_to = match opt_id(&obj, "reply_to")? {
        Some(id) => Some(id),
        None => opt_id(&obj, "in_reply_to")?,
    };
    let mentions = opt_list(&obj, "mentions", &['@', '＠'])?;
    let hashtags = opt_list(&obj, "hashtags", &['#', '＃'])?;
    let links = opt_list(&obj, "links", &[])?;
    // Only scan the text for what the record did not list itself.
    let found = if mentions.is_none() || hashtags.is_none() || links.is_none() {
        text::entities(&text)
    } else {
        text::Entities::default()
    };
    Ok(Post {
        url: opt_str(&obj, "url")?,
        lang: opt_str(&obj, "lang")?,
        kind: if reply_to.is_some() { PostKind::Reply } else { PostKind::Original },
        reply_to,
        reply_to_author: opt_str(&obj, "reply_to_author")?.map(|h| h.trim_start_matches('@').to_string()),
        conversation_id: opt_id(&obj, "conversation_id")?,
        mentions: mentions.unwrap_or(found.mentions),
        hashtags: hashtags.unwrap_or(found.hashtags),
        links: links.unwrap_or(found.links),
        media: media(&obj)?,
        raw: raw.get().to_string(),
        ..Post::new(platform, native_id, author, text, published_at, "jsonl".to_string())
    })
}

/// Decodes one top-level value: an object, or an array of objects.
fn decode_value(within: Option<String>, raw: &RawValue, out: &mut Vec<Decoded>) {
    if !raw.get().starts_with('[') {
        match decode_object(raw) {
            Ok(post) => out.push(Decoded::Post(Box::new(post))),
            Err(reason) => out.push(Decoded::Rejected { within, reason, raw: None }),
        }
        return;
    }
    let items: Vec<&RawValue> = match serde_json::from_str(raw.get()) {
        Ok(items) => items,
        Err(e) => return out.push(Decoded::Rejected { within, reason: format!("invalid JSON: {e}"), raw: None }),
    };
    let prefix = within.unwrap_or_default();
    for (i, item) in items.into_iter().enumerate() {
        match decode_object(item) {
            Ok(post) => out.push(Decoded::Post(Box::new(post))),
            Err(reason) => out.push(Decoded::reject_item(format!("{prefix}[{i}]"), reason, Some(item.get().into()))),
        }
    }
}

/// True when `"key"` followed by `:` occurs in `hay`, i.e. `key` is used as an object key.
fn has_key(hay: &[u8], key: &str) -> bool {
    let needle = format!("\"{key}\"");
    memchr::memmem::find_iter(hay, needle.as_bytes())
        .any(|at| hay[at + needle.len()..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':'))
}

impl Decoder for Jsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }
    fn description(&self) -> &'static str {
        "Plain JSON Lines: {\"text\", \"author\", \"created_at\", ...} per line"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let head = input.head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input.head);
        let head = head.trim_ascii_start();
        if !matches!(head.first(), Some(b'{' | b'[')) {
            return 0;
        }
        // The first few records are enough and keep sniffing cheap.
        let head = &head[..head.len().min(8 * 1024)];
        if !["text", "author", "created_at"].iter().all(|k| has_key(head, k)) {
            return 0;
        }
        // Platform payloads also carry text/author/created_at-like keys; leave them to their decoders.
        let platform_specific = has_key(head, "id_str")
            || has_key(head, "author_id")
            || has_key(head, "edit_history_tweet_ids")
            || (has_key(head, "account") && has_key(head, "content"))
            || (has_key(head, "did") && has_key(head, "time_us"));
        if platform_specific { 0 } else { 30 }
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        if matches!(record, Record::Csv { .. }) {
            return out.push(Decoded::reject("the jsonl decoder expects JSON, got a CSV row"));
        }
        for (within, value) in json_values(record) {
            match value {
                Ok(raw) => decode_value(within, raw, out),
                Err(reason) => out.push(Decoded::Rejected { within, reason, raw: None }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_all;
    use proptest::prelude::*;
    use serde_json::json;

    fn decode(input: &str) -> Vec<Decoded> {
        decode_all(&Jsonl, input.as_bytes())
    }

    fn only_post(input: &str) -> Post {
        match decode(input).as_slice() {
            [Decoded::Post(p)] => (**p).clone(),
            other => panic!("expected one post, got {other:?}"),
        }
    }

    fn reasons(input: &str) -> Vec<String> {
        decode(input)
            .into_iter()
            .map(|d| match d {
                Decoded::Rejected { reason, .. } => reason,
                other => format!("not rejected: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn minimal_line() {
        let p = only_post(
            r#"{"text": "@acme my order #A12 never came https://acme.example/o/1", "author": "@gilt", "created_at": "2024-03-04T10:00:00Z"}"#,
        );
        assert_eq!(p.platform, Platform::Other);
        assert_eq!(p.author.handle, "gilt");
        assert_eq!(p.published_at.to_rfc3339(), "2024-03-04T10:00:00+00:00");
        assert_eq!(p.mentions, ["acme"]);
        assert_eq!(p.hashtags, ["A12"]);
        assert_eq!(p.links, ["https://acme.example/o/1"]);
        assert_eq!(p.kind, PostKind::Original);
        assert_eq!(p.native_id.len(), 16);
        assert_eq!(p.format, "jsonl");
        assert!(p.raw.starts_with("{\"text\""));
    }

    #[test]
    fn derived_ids_are_stable_and_time_form_independent() {
        let t = Utc.timestamp_opt(1_709_546_400, 0).unwrap();
        // Pinned: the hash must never change between releases, or re-ingests would duplicate posts.
        assert_eq!(derived_id("gilt", t, "hello"), derived_id("@Gilt", t, "hello"));
        assert_eq!(derived_id("gilt", t, "hello"), "34ab4cb2b0e1dc99");
        let a = only_post(r#"{"text": "hi", "author": "gilt", "created_at": "2024-03-04T10:00:00Z"}"#);
        let b = only_post(r#"{"text": "hi", "author": "Gilt", "created_at": 1709546400}"#);
        let c = only_post(r#"{"text": "hi", "author": "gilt", "created_at": 1709546400000}"#);
        assert_eq!(a.native_id, b.native_id);
        assert_eq!(a.native_id, c.native_id);
        assert_ne!(a.native_id, only_post(r#"{"text": "hi!", "author": "gilt", "created_at": 1709546400}"#).native_id);
    }

    #[test]
    fn full_object() {
        let p = only_post(
            &json!({
                "id": 99, "platform": "mastodon", "url": "https://m.example/@acme/99", "lang": "en",
                "text": "@gilt sorry! DM us", "in_reply_to": "42", "conversation_id": 42, "reply_to_author": "@gilt",
                "author": {"username": "acme", "name": "Acme Care", "followers": "1200", "id": 7},
                "created_at": "Mon, 04 Mar 2024 10:05:00 +0000",
                "mentions": ["@gilt", "gilt"], "hashtags": [], "links": ["https://acme.example/help"],
                "media": [{"kind": "photo", "url": "https://m.example/a.png", "alt": "a receipt"}, {"url": "https://m.example/b"}]
            })
            .to_string(),
        );
        assert_eq!(p.native_id, "99");
        assert_eq!(p.platform, Platform::Mastodon);
        assert_eq!(
            p.author,
            Author {
                id: Some("7".into()),
                handle: "acme".into(),
                display_name: Some("Acme Care".into()),
                followers: Some(1200),
                url: None,
                care_account: None
            }
        );
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to.as_deref(), Some("42"));
        assert_eq!(p.reply_to_author.as_deref(), Some("gilt"));
        assert_eq!(p.conversation_id.as_deref(), Some("42"));
        assert_eq!(p.mentions, ["gilt"]);
        assert!(p.hashtags.is_empty());
        assert_eq!(p.links, ["https://acme.example/help"]);
        assert_eq!(p.media.len(), 2);
        assert_eq!(p.media[0].kind, MediaKind::Image);
        assert_eq!(p.media[0].alt.as_deref(), Some("a receipt"));
        assert_eq!(p.media[1].kind, MediaKind::Other);
        assert_eq!(p.lang.as_deref(), Some("en"));
    }

    #[test]
    fn array_document() {
        let input = "[\n {\"text\": \"a\", \"author\": \"x\", \"created_at\": 1},\n 7,\n {\"text\": \"b\", \"author\": \"y\", \"created_at\": \"2024-01-01\"}\n]\n";
        let out = decode(input);
        assert_eq!(out.len(), 3);
        assert!(
            matches!(&out[0], Decoded::Post(p) if p.text == "a" && p.raw == r#"{"text": "a", "author": "x", "created_at": 1}"#)
        );
        assert_eq!(out[1], Decoded::reject_item("[1]", "expected a JSON object, got a number", Some(b"7".to_vec())));
        assert!(
            matches!(&out[2], Decoded::Rejected { within: Some(w), reason, .. } if w == "[2]" && reason.contains("created_at"))
        );
    }

    #[test]
    fn rejects_name_the_field() {
        let input = [
            r#"{"author": "a", "created_at": 1709546400}"#,
            r#"{"text": "  ", "author": "a", "created_at": 1709546400}"#,
            r#"{"text": 5, "author": "a", "created_at": 1709546400}"#,
            r#"{"text": "t", "created_at": 1709546400}"#,
            r#"{"text": "t", "author": {"display_name": "A"}, "created_at": 1709546400}"#,
            r#"{"text": "t", "author": "a"}"#,
            r#"{"text": "t", "author": "a", "created_at": "soon"}"#,
            r#"{"text": "t", "author": "a", "created_at": 1e300}"#,
            r#"{"text": "t", "author": "a", "created_at": 1, "platform": "myspace"}"#,
            r#"{"text": "t", "author": "a", "created_at": 1, "id": {"x": 1}}"#,
            r#"{"text": "t", "author": "a", "created_at": 1, "mentions": "a"}"#,
            r#"["just", "strings"]"#,
            r#"{"text": "t", "author": "a", "created_at": 1, "#,
        ]
        .join("\n");
        let got = reasons(&input);
        let expect_fragments = [
            "`text`",
            "`text`",
            "field `text` must be a string, got a number",
            "`author`",
            "needs handle, username or name",
            "`created_at`",
            "field `created_at` is not a date: \"soon\"",
            "created_at",
            "field `platform`",
            "field `id` must be a string or a number",
            "field `mentions` must be a list",
            "expected a JSON object, got a string",
            "invalid JSON",
        ];
        assert_eq!(got.len(), 14, "{got:?}");
        assert!(got[12].contains("got a string"), "{got:?}");
        let flat: Vec<&String> = got.iter().take(12).chain(got.iter().skip(13)).collect();
        for (reason, want) in flat.iter().zip(expect_fragments) {
            assert!(reason.contains(want), "{reason:?} should contain {want:?}");
        }
    }

    #[test]
    fn sniffing() {
        let sniff = |s: &str| Jsonl.sniff(SniffInput { head: s.as_bytes(), file_name: None });
        assert_eq!(sniff(r#"{"text": "a", "author": "b", "created_at": 1}"#), 30);
        assert_eq!(sniff(r#"[{"created_at":1,"author" :"b","text":"a"}]"#), 30);
        assert_eq!(sniff(r#"{"text": "a", "author_id": "1", "author": {}, "created_at": 1}"#), 0);
        assert_eq!(sniff(r#"{"text": "a", "id_str": "1", "author": "b", "created_at": 1}"#), 0);
        assert_eq!(sniff(r#"{"did": "x", "time_us": 1, "text": "a", "author": "b", "created_at": 1}"#), 0);
        assert_eq!(sniff(r#"{"note": "text author created_at"}"#), 0);
        assert_eq!(sniff("tweet_id,text\n"), 0);
    }

    fn arb_text() -> impl Strategy<Value = String> {
        "[a-zA-Z😀é&<>\"'\\\\,\n#@ ]{0,40}[a-zA-Z😀é&<>\"'#@]"
    }

    fn arb_author() -> impl Strategy<Value = (Value, String)> {
        prop_oneof![
            "[a-z_][a-z0-9_]{0,14}".prop_map(|h| (Value::String(h.clone()), h)),
            ("[a-z_][a-z0-9_]{0,14}", "\\PC{1,20}", 0u64..1_000_000)
                .prop_map(|(h, d, f)| { (json!({"username": h, "display_name": d, "followers": f}), h) }),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&Jsonl, &bytes);
        }

        #[test]
        fn arbitrary_json_never_panics(s in "[\\[\\]{}\":,0-9a-z \n]{0,200}") {
            let _ = decode_all(&Jsonl, s.as_bytes());
        }

        #[test]
        fn generated_objects_decode_and_round_trip(
            text in arb_text(),
            (author, handle) in arb_author(),
            secs in 0i64..4_000_000_000,
            as_number in any::<bool>(),
            id in proptest::option::of("[0-9a-z]{1,12}"),
            reply in proptest::option::of(1u64..u64::MAX),
        ) {
            let when = Utc.timestamp_opt(secs, 0).unwrap();
            let mut obj = json!({"text": text, "author": author});
            obj["created_at"] = if as_number { json!(secs) } else { json!(when.to_rfc3339()) };
            if let Some(id) = &id { obj["id"] = json!(id); }
            if let Some(r) = reply { obj["reply_to"] = json!(r); }
            let line = serde_json::to_string(&obj).unwrap();
            let p = only_post(&line);
            prop_assert_eq!(&p.text, &text);
            prop_assert_eq!(&p.author.handle, &handle);
            prop_assert_eq!(p.published_at, when);
            match &id {
                Some(id) => prop_assert_eq!(&p.native_id, id),
                None => prop_assert_eq!(&p.native_id, &derived_id(&handle, when, &text)),
            }
            prop_assert_eq!(p.reply_to.clone(), reply.map(|r| r.to_string()));
            prop_assert_eq!(&p.raw, &line);
            prop_assert_eq!(&only_post(&p.raw), &p);
        }
    }
}
