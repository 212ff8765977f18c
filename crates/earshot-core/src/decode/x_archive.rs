//! X/Twitter account archive ("Download an archive of your data"):
//! `data/tweets.js` (older archives: `data/tweet.js`, big ones also
//! `tweets-part1.js`, ...), a JavaScript assignment
//! `window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]` (oldest archives: the
//! tweet objects without the `{"tweet": ...}` wrapper).
//!
//! Archive tweets are v1.1-shaped (`id_str`, `full_text`, `created_at`,
//! `entities`, `extended_entities`, `in_reply_to_*`) with counts as strings,
//! and are mapped like [`super::x_v1`] tweets. Retweets are only visible as a
//! `full_text` of `RT @user: …` (cut by X, and without `retweeted_status`), so
//! they become [`PostKind::Repost`] with that text and no `references`.
//!
//! # Who wrote the tweets
//!
//! Archive tweets have no `user` object: every tweet is by the archive's owner,
//! whose handle lives in a separate file, `data/account.js`
//! (`window.YTD.account.part0 = [{"account": {"username", "accountId", "accountDisplayName", ...}}]`).
//! The author is therefore resolved, in this order:
//!
//! 1. an `account` entry in the input: pass `account.js` and `tweets.js`
//!    concatenated (`cat account.js tweets.js`) and the decoder reads both
//!    assignments; an item of the form `{"account": {...}, "tweet": {...}}`
//!    (what [`Post::raw`] holds, see below) carries its own;
//! 2. the archive's own media links: an attached photo's `expanded_url` is
//!    `https://twitter.com/{handle}/status/{this tweet's id}/photo/1`, which
//!    names the author exactly when the status id is the tweet's own (media
//!    reused from another tweet carries `source_status_id_str` and is
//!    ignored). The most frequent such handle wins; the account id is then
//!    taken from any self-reply (`in_reply_to_screen_name` = that handle);
//! 3. otherwise the handle is the fixed placeholder `archive`, with no author
//!    id, no author URL, and status URLs of the form
//!    `https://x.com/i/web/status/{id}` (which X resolves without a handle).
//!    The placeholder is never a guess at a real account; concatenate
//!    `account.js` to get the real one.
//!
//! `raw` is `{"account": {...}, "tweet": {...}}`: the tweet as found (without
//! the file's indentation) plus the account it was attributed to (as read or
//! reconstructed; absent with the placeholder), so re-decoding `raw` yields
//! the same post.
//!
//! Other archive files (`like.js`, `follower.js`, ...) are recognised and
//! skipped, one skip per assignment.

use super::x_v1::{Str, V1Tweet, build_post, contains, non_empty, push_compact_json, trim_head};
use super::{Decoded, Decoder, Framing, Record, SniffInput};
use crate::post::{Author, Post, PostKind};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// X/Twitter account archive (data/tweets.js).
#[derive(Debug, Clone, Copy, Default)]
pub struct XArchive;

const NAME: &str = "x-archive";

/// The author handle used when the archive's owner cannot be determined (see the module docs).
pub const UNKNOWN_OWNER_HANDLE: &str = "archive";

const YTD: &str = "window.YTD.";

impl Decoder for XArchive {
    fn name(&self) -> &'static str {
        NAME
    }
    fn description(&self) -> &'static str {
        "X/Twitter account archive (data/tweets.js)"
    }
    fn framing(&self) -> Framing {
        Framing::Document
    }
    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let head = trim_head(input.head);
        if head.starts_with(YTD.as_bytes()) {
            return 100;
        }
        let base = input.file_name.map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_ascii_lowercase());
        let archive_name = base.as_deref().is_some_and(|n| {
            let stem = n.strip_suffix(".js").unwrap_or("");
            stem == "tweets" || stem == "tweet" || stem.starts_with("tweets-part") || stem.starts_with("tweet-part")
        });
        // Archive tweets stripped of the JS prefix: the `{"tweet": ...}`
        // wrapper with v1.1 fields but no embedded `user`.
        let wrapped = (head.starts_with(b"[") || head.starts_with(b"{"))
            && contains(head, b"\"tweet\"")
            && contains(head, b"\"full_text\"")
            && !contains(head, b"\"user\"");
        // An API response saved under an archive-like name belongs to the API decoders.
        let api_shaped = contains(head, b"\"user\"") || contains(head, b"\"data\"");
        match (archive_name, wrapped) {
            (true, _) if !api_shaped => 90,
            (true, _) => 40,
            (false, true) => 60,
            (false, false) => 0,
        }
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        let bytes = match record {
            Record::Document(b) | Record::Line(b) => b,
            Record::Csv { .. } => return out.push(Decoded::reject("expected an archive .js file, got a CSV row")),
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => return out.push(Decoded::reject(format!("archive file is not UTF-8: {e}"))),
        };
        decode_text(text, out);
    }
}

/// One `window.YTD.<name>.partN = <value>` assignment, or a bare JSON value (`name` = None).
struct Section<'a> {
    name: Option<&'a str>,
    value: &'a RawValue,
}

impl Section<'_> {
    /// `tweets` for `tweets.part0`.
    fn kind(&self) -> Option<&str> {
        self.name.map(|n| n.split('.').next().unwrap_or(n))
    }

    fn label(&self, i: usize) -> String {
        match self.name {
            Some(n) => format!("{n}[{i}]"),
            None => format!("[{i}]"),
        }
    }
}

/// One tweet found in the file, with where it sits.
struct Item<'a> {
    within: String,
    raw: &'a RawValue,
    tweet: Result<V1Tweet<'a>, String>,
    account: Option<Account<'a>>,
}

fn decode_text(text: &str, out: &mut Vec<Decoded>) {
    let (sections, error) = split_sections(text);
    let mut doc_account: Option<Account<'_>> = None;
    let mut items: Vec<Item<'_>> = Vec::new();
    for section in &sections {
        match section.kind() {
            Some("tweets" | "tweet") | None => collect_items(section, &mut items, &mut doc_account, out),
            Some("account") => {
                for (i, entry) in array_items(section.value).iter().enumerate() {
                    match serde_json::from_str::<AccountEntry<'_>>(entry.get()) {
                        Ok(AccountEntry { account: Some(a) }) if a.username().is_some() => {
                            doc_account.get_or_insert(a);
                        }
                        _ => out.push(Decoded::reject_item(
                            section.label(i),
                            "account entry without `account.username`",
                            Some(entry.get().as_bytes().to_vec()),
                        )),
                    }
                }
            }
            Some(other) => out.push(Decoded::Skipped {
                reason: format!(
                    "archive file `{other}` holds no tweets ({} entries)",
                    array_items(section.value).len()
                ),
            }),
        }
    }
    let doc_account = doc_account.or_else(|| derive_account(&items));
    for item in items {
        let tweet = match item.tweet {
            Ok(t) => t,
            Err(reason) => {
                out.push(Decoded::reject_item(item.within, reason, Some(item.raw.get().as_bytes().to_vec())));
                continue;
            }
        };
        let account = item.account.as_ref().or(doc_account.as_ref());
        out.push(match post(&tweet, item.raw, account) {
            Ok(post) => Decoded::Post(Box::new(post)),
            Err(reason) => Decoded::reject_item(item.within, reason, Some(item.raw.get().as_bytes().to_vec())),
        });
    }
    if let Some(e) = error {
        out.push(e);
    }
}

/// Adds the tweets of a `tweets`/`tweet` section (or a bare JSON value) to `items`.
fn collect_items<'a>(
    section: &Section<'a>,
    items: &mut Vec<Item<'a>>,
    doc_account: &mut Option<Account<'a>>,
    out: &mut Vec<Decoded>,
) {
    let entries = if section.value.get().starts_with('[') { array_items(section.value) } else { vec![section.value] };
    for (i, entry) in entries.into_iter().enumerate() {
        let within = section.label(i);
        let reject = |reason: &str| Decoded::reject_item(within.clone(), reason, Some(entry.get().as_bytes().to_vec()));
        let probe: Probe<'_> = match serde_json::from_str(entry.get()) {
            Ok(p) => p,
            Err(_) => {
                out.push(reject("expected an archive tweet entry `{\"tweet\": {...}}`"));
                continue;
            }
        };
        let raw = match probe.tweet {
            Some(t) => t,
            // Oldest archives list tweet objects without the wrapper.
            None if probe.id_str.is_some() || probe.id.is_some() || probe.full_text.is_some() => entry,
            None => {
                match probe.account {
                    // An account.js entry given as bare JSON.
                    Some(a) if a.username().is_some() => {
                        doc_account.get_or_insert(a);
                    }
                    _ => out.push(reject("expected an archive tweet entry `{\"tweet\": {...}}`")),
                }
                continue;
            }
        };
        let tweet = if raw.get().starts_with('{') {
            serde_json::from_str::<V1Tweet<'_>>(raw.get()).map_err(|e| format!("malformed archive tweet: {e}"))
        } else {
            Err("`tweet` is not an object".to_string())
        };
        let account = probe.account.filter(|a| a.username().is_some() && probe.tweet.is_some());
        items.push(Item { within, raw, tweet, account });
    }
}

fn post(t: &V1Tweet<'_>, raw: &RawValue, account: Option<&Account<'_>>) -> Result<Post, String> {
    let handle = account.and_then(Account::username);
    let author = match (handle, account) {
        (Some(h), Some(a)) => Author {
            id: a.account_id.as_ref().and_then(|s| non_empty(Some(s))).map(str::to_string),
            handle: h.to_string(),
            display_name: non_empty(a.account_display_name.as_ref()).map(str::to_string),
            followers: None,
            url: Some(format!("https://x.com/{h}")),
            care_account: None,
        },
        _ => Author { handle: UNKNOWN_OWNER_HANDLE.to_string(), ..Author::default() },
    };
    let mut out = String::with_capacity(raw.get().len() + 96);
    out.push('{');
    if let Some(a) = account.filter(|a| a.username().is_some()) {
        out.push_str("\"account\":");
        out.push_str(&serde_json::to_string(a).map_err(|e| format!("cannot serialize account: {e}"))?);
        out.push(',');
    }
    out.push_str("\"tweet\":");
    push_compact_json(&mut out, raw.get());
    out.push('}');
    let raw = out;
    let mut post = build_post(t, author, handle, NAME, raw)?;
    // Archives drop `retweeted_status`: a retweet is only its `RT @user: ` text.
    if post.kind == PostKind::Original && t.retweeted_status.is_none() && post.text.starts_with("RT @") {
        post.kind = PostKind::Repost;
    }
    Ok(post)
}

/// Reconstructs the owner from the archive's own media links (see the module docs).
fn derive_account<'a>(items: &[Item<'a>]) -> Option<Account<'a>> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for item in items {
        let Ok(t) = &item.tweet else { continue };
        let Some(id) = t.native_id() else { continue };
        let media = t.extended_entities.iter().flat_map(|e| &e.media).chain(t.entities.iter().flat_map(|e| &e.media));
        for m in media.filter(|m| m.source_status_id_str.is_none()) {
            let Some(handle) = m.expanded_url.as_ref().and_then(|u| own_media_handle(u.as_str(), id)) else {
                continue;
            };
            match counts.iter_mut().find(|(h, _)| h.eq_ignore_ascii_case(handle)) {
                Some((_, n)) => *n += 1,
                None => counts.push((handle, 1)),
            }
        }
    }
    // Most frequent, the first seen on ties (max_by_key keeps the last maximum, so reverse).
    let handle = counts.iter().rev().max_by_key(|(_, n)| *n).map(|(h, _)| *h)?;
    let account_id = items.iter().filter_map(|i| i.tweet.as_ref().ok()).find_map(|t| {
        let to = non_empty(t.in_reply_to_screen_name.as_ref())?;
        if to.eq_ignore_ascii_case(handle) { non_empty(t.in_reply_to_user_id_str.as_ref()) } else { None }
    });
    Some(Account {
        username: Some(Str(handle.to_string().into())),
        account_id: account_id.map(|s| Str(s.to_string().into())),
        account_display_name: None,
    })
}

/// `handle` of `https://twitter.com/{handle}/status/{id}/photo/1` when `{id}` is `own_id`.
fn own_media_handle<'u>(url: &'u str, own_id: &str) -> Option<&'u str> {
    let rest = ["https://twitter.com/", "http://twitter.com/", "https://x.com/", "http://x.com/"]
        .iter()
        .find_map(|p| url.strip_prefix(p))?;
    let (handle, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("status/")?;
    let status = rest.split('/').next()?;
    let valid =
        !handle.is_empty() && handle.len() <= 15 && handle.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (valid && status == own_id).then_some(handle)
}

/// Cuts the file into `window.YTD.x.partN = value` assignments (or bare JSON
/// values); a syntax error ends the file and is returned as a reject.
fn split_sections(text: &str) -> (Vec<Section<'_>>, Option<Decoded>) {
    let mut sections = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &text[pos..];
        let skip = rest.find(|c: char| !(c.is_whitespace() || c == ';')).unwrap_or(rest.len());
        pos += skip;
        let rest = &text[pos..];
        if rest.is_empty() {
            return (sections, None);
        }
        let (name, value_at) = if let Some(after) = rest.strip_prefix(YTD) {
            let Some(eq) = after.find('=') else {
                return (sections, Some(syntax_error(pos, "`window.YTD.` without `= ...`")));
            };
            let name = after[..eq].trim();
            (Some(name), pos + YTD.len() + eq + 1)
        } else if rest.starts_with(['[', '{']) {
            (None, pos)
        } else {
            return (sections, Some(syntax_error(pos, "expected `window.YTD.<name>.part<N> = [...]` or JSON")));
        };
        let mut stream = serde_json::Deserializer::from_str(&text[value_at..]).into_iter::<&RawValue>();
        match stream.next() {
            Some(Ok(value)) => {
                sections.push(Section { name, value });
                pos = value_at + stream.byte_offset();
            }
            Some(Err(e)) => return (sections, Some(syntax_error(value_at, &format!("invalid JSON: {e}")))),
            None => return (sections, Some(syntax_error(value_at, "assignment without a value"))),
        }
    }
}

fn syntax_error(byte: usize, reason: &str) -> Decoded {
    Decoded::reject_item(format!("byte {byte}"), reason, None)
}

/// The elements of a JSON array (an empty list for anything else).
fn array_items(value: &RawValue) -> Vec<&RawValue> {
    serde_json::from_str::<Vec<&RawValue>>(value.get()).unwrap_or_default()
}

/// What an archive array entry holds.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Probe<'a> {
    #[serde(borrow)]
    tweet: Option<&'a RawValue>,
    #[serde(borrow)]
    account: Option<Account<'a>>,
    id_str: Option<IgnoredAny>,
    id: Option<IgnoredAny>,
    full_text: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountEntry<'a> {
    #[serde(borrow)]
    account: Option<Account<'a>>,
}

/// The `account` object of `account.js` (only the fields earshot uses).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Account<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none", serialize_with = "ser_str")]
    username: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none", serialize_with = "ser_str")]
    account_id: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none", serialize_with = "ser_str")]
    account_display_name: Option<Str<'a>>,
}

impl Account<'_> {
    fn username(&self) -> Option<&str> {
        non_empty(self.username.as_ref()).map(|h| h.trim().trim_start_matches('@'))
    }
}

#[allow(clippy::ref_option)] // serde's serialize_with passes `&Option<T>`.
fn ser_str<S: serde::Serializer>(s: &Option<Str<'_>>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_str(s.as_str()),
        None => ser.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::tweet_text;
    use super::*;
    use crate::decode::decode_all;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn posts(out: &[Decoded]) -> Vec<&Post> {
        out.iter()
            .filter_map(|d| match d {
                Decoded::Post(p) => Some(&**p),
                _ => None,
            })
            .collect()
    }

    fn tweet(id: &str, text: &str) -> Value {
        json!({
            "retweeted": false,
            "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            "display_text_range": ["0", "10"],
            "favorite_count": "5",
            "id_str": id,
            "truncated": false,
            "retweet_count": "1",
            "id": id,
            "created_at": "Sat Dec 06 18:20:30 +0000 2025",
            "favorited": false,
            "full_text": text,
            "lang": "en"
        })
    }

    fn js(items: &[Value]) -> String {
        format!("window.YTD.tweets.part0 = {}", serde_json::to_string_pretty(&items).unwrap())
    }

    fn with_photo(id: &str, handle: &str) -> Value {
        let mut t = tweet(id, "look https://t.co/p");
        let media = json!([{"expanded_url": format!("https://twitter.com/{handle}/status/{id}/photo/1"), "media_url_https": "https://pbs.twimg.com/media/x.jpg", "type": "photo", "url": "https://t.co/p"}]);
        t["entities"]["media"] = media.clone();
        t["extended_entities"] = json!({"media": media});
        t
    }

    #[test]
    fn maps_archive_tweets_and_derives_the_owner() {
        let mut reply = tweet("3", "@me thread continues &amp; ends");
        reply["in_reply_to_status_id_str"] = json!("2");
        reply["in_reply_to_screen_name"] = json!("Owner_1");
        reply["in_reply_to_user_id_str"] = json!("777");
        // Media reused from someone else's tweet must not decide the owner.
        let mut reused = with_photo("4", "someone_else");
        reused["extended_entities"]["media"][0]["source_status_id_str"] = json!("1");
        reused["entities"]["media"][0]["source_status_id_str"] = json!("1");
        let input = js(&[
            json!({"tweet": tweet("1", "RT @brand: cut…")}),
            json!({"tweet": with_photo("2", "Owner_1")}),
            json!({"tweet": reply}),
            json!({"tweet": reused}),
        ]);
        let out = decode_all(&XArchive, input.as_bytes());
        let ps = posts(&out);
        assert_eq!(ps.len(), 4, "{out:?}");
        for p in &ps {
            assert_eq!(p.author.handle, "Owner_1");
            assert_eq!(p.author.id.as_deref(), Some("777"));
            assert_eq!(p.metrics.likes, Some(5));
            assert_eq!(p.metrics.reposts, Some(1));
            assert_eq!(p.published_at.to_rfc3339(), "2025-12-06T18:20:30+00:00");
        }
        assert_eq!(ps[0].kind, PostKind::Repost);
        assert_eq!(ps[1].media.len(), 1);
        assert_eq!(ps[1].url.as_deref(), Some("https://x.com/Owner_1/status/2"));
        assert_eq!(ps[2].kind, PostKind::Reply);
        assert_eq!(ps[2].text, "@me thread continues & ends");
        assert_eq!(ps[2].reply_to.as_deref(), Some("2"));
        for p in ps {
            let again = decode_all(&XArchive, p.raw.as_bytes());
            assert_eq!(posts(&again), [p]);
        }
    }

    #[test]
    fn account_js_names_the_owner() {
        let input = format!(
            "window.YTD.account.part0 = [ {{ \"account\" : {{ \"username\" : \"kai\", \"accountId\" : \"42\", \"accountDisplayName\" : \"Kai\" }} }} ]\n{};\nwindow.YTD.like.part0 = [ {{ \"like\" : {{ \"tweetId\" : \"9\" }} }} ]",
            js(&[json!({"tweet": tweet("1", "hi")})])
        );
        let out = decode_all(&XArchive, input.as_bytes());
        let p = posts(&out)[0];
        assert_eq!(p.author.handle, "kai");
        assert_eq!(p.author.id.as_deref(), Some("42"));
        assert_eq!(p.author.display_name.as_deref(), Some("Kai"));
        assert!(out.iter().any(|d| matches!(d, Decoded::Skipped { reason } if reason.contains("like"))));
    }

    #[test]
    fn unknown_owner_gets_the_placeholder() {
        // The oldest archives: `tweet.js` with bare tweet objects.
        let input = format!("window.YTD.tweet.part0 = {}", json!([tweet("1", "hi")]));
        let out = decode_all(&XArchive, input.as_bytes());
        let p = posts(&out)[0];
        assert_eq!(p.author.handle, UNKNOWN_OWNER_HANDLE);
        assert_eq!(p.author.id, None);
        assert_eq!(p.url.as_deref(), Some("https://x.com/i/web/status/1"));
        assert_eq!(p.raw, format!("{{\"tweet\":{}}}", tweet("1", "hi")));
    }

    #[test]
    fn rejects_bad_entries_and_syntax() {
        let mut no_date = tweet("2", "x");
        no_date.as_object_mut().unwrap().remove("created_at");
        let input = js(&[json!({"tweet": tweet("1", "a")}), json!({"tweet": no_date}), json!({"nope": 1}), json!(3)]);
        let out = decode_all(&XArchive, format!("{input}\nwindow.YTD.tweets.part1 = [ {{ broken").as_bytes());
        assert_eq!(posts(&out).len(), 1);
        let rejects: Vec<(Option<String>, String)> = out
            .iter()
            .filter_map(|d| match d {
                Decoded::Rejected { within, reason, .. } => Some((within.clone(), reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(rejects.len(), 4, "{rejects:?}");
        assert!(rejects.iter().any(|(w, r)| w.as_deref() == Some("tweets.part0[1]") && r.contains("created_at")));
        assert!(rejects.iter().any(|(w, _)| w.as_deref() == Some("tweets.part0[2]")));
        assert!(rejects.iter().any(|(_, r)| r.contains("invalid JSON")));
        assert!(matches!(&decode_all(&XArchive, b"var x = 1;")[0], Decoded::Rejected { .. }));
    }

    #[test]
    fn sniffs() {
        let s = |h: &str, name: Option<&str>| XArchive.sniff(SniffInput { head: h.as_bytes(), file_name: name });
        assert_eq!(s("window.YTD.tweets.part0 = [", None), 100);
        assert_eq!(s("\u{feff}window.YTD.tweet.part0 = [", Some("x.txt")), 100);
        assert_eq!(s("[]", Some("data/tweets.js")), 90);
        assert_eq!(s("[]", Some("tweets-part1.js")), 90);
        assert_eq!(s("[{\"tweet\":{\"id_str\":\"1\",\"full_text\":\"a\"}}]", None), 60);
        assert_eq!(s("{\"id_str\":\"1\",\"full_text\":\"a\",\"user\":{\"screen_name\":\"x\"}}", None), 0);
        assert_eq!(s("{\"data\":{\"id\":\"1\",\"text\":\"a\"}}", Some("tweets.json")), 0);
        assert_eq!(s("{\"data\":{\"id\":\"1\",\"text\":\"a\"}}", Some("tweets.js")), 40);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&XArchive, &bytes);
        }

        #[test]
        fn mutated_archives_never_panic(pos in 0usize..700, junk in "[\\[\\]{}\",:=;0-9a-zA-Z. ]{0,8}") {
            let mut s = js(&[json!({"tweet": with_photo("2", "me")})]);
            let pos = pos.min(s.len());
            if s.is_char_boundary(pos) {
                s.insert_str(pos, &junk);
            }
            let _ = decode_all(&XArchive, s.as_bytes());
        }

        #[test]
        fn generated_tweets_round_trip(
            id in 1u64..u64::MAX,
            text in tweet_text(),
            secs in 1_200_000_000i64..2_000_000_000,
            handle in proptest::option::of("[A-Za-z0-9_]{1,15}"),
            likes in 0u64..1_000_000,
        ) {
            let date = Utc.timestamp_opt(secs, 0).single().expect("in range");
            let id = id.to_string();
            let mut t = match &handle { Some(h) => with_photo(&id, h), None => tweet(&id, "") };
            t["full_text"] = json!(text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"));
            t["created_at"] = json!(date.format("%a %b %d %H:%M:%S +0000 %Y").to_string());
            t["favorite_count"] = json!(likes.to_string());
            let out = decode_all(&XArchive, js(&[json!({"tweet": t})]).as_bytes());
            let ps = posts(&out);
            prop_assert_eq!(ps.len(), 1);
            let p = ps[0];
            prop_assert_eq!(&p.native_id, &id);
            prop_assert_eq!(&p.text, &text);
            prop_assert_eq!(p.published_at, date);
            prop_assert_eq!(p.author.handle.as_str(), handle.as_deref().unwrap_or(UNKNOWN_OWNER_HANDLE));
            prop_assert_eq!(p.metrics.likes, Some(likes));
            let again = decode_all(&XArchive, p.raw.as_bytes());
            prop_assert_eq!(posts(&again), ps);
        }
    }
}
