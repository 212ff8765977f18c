//! IBM's Twitter customer-care conversations (Ganhotra et al., EMNLP 2020,
//! `IBM/twitter-customer-care-document-prediction`): a JSON array of
//! conversations between customers and 25 brands' care accounts, 2018–2020.
//!
//! ```json
//! {"dialogHeader": {"company": "RockstarSupport", "conversationDateTime": "2020-02-25T17:40:50.000Z", ...},
//!  "dialogContent": [
//!    {"client": "tiffamy_lee", "datetime": "2020-02-25T17:40:50.000Z", "message": "@RockstarSupport why …", "tweet_ID": "1232359814828822534"},
//!    {"agent": "RockstarSupport", "datetime": "…", "message": "@tiffamy_lee Please let us know …", "tweet_ID": "…"}],
//!  "agentURL": {"tweet_ID": "1232360458130161664", "url_utterance": "@tiffamy_lee We have a Support article …", "turn": "4", ...}}
//! ```
//!
//! Mapping: every turn of `dialogContent` is a post by the handle under its
//! `client`/`client1`/… key (a customer, `care_account = false`) or `agent`
//! key (`care_account = true`); `agentURL` is the care account's closing
//! reply, written by `dialogHeader.company`. The data set built each dialog by
//! following the reply chain back from that closing tweet, so each turn
//! replies to the previous one and the first turn's id is the X
//! `conversation_id`.
//!
//! Time: turns carry `datetime`; the closing reply does not, so its time is
//! read from its tweet id. X ids are Snowflakes whose top 42 bits count
//! milliseconds since 2010-11-04T01:42:54.657Z; the time is truncated to the
//! second as X's `created_at` is (on the real `dev.json`, every turn's
//! `datetime` equals its id's time this way — tested). `dialogHeader.duration`
//! is not used: it wraps at 24 hours and disagrees with the ids in about a
//! fifth of the conversations.
//!
//! Text is HTML-escaped the way the X API sends it and is unescaped once.
//! `raw` is the whole conversation (compact JSON): a turn alone does not say
//! what it replies to, and decoding `raw` again yields the same posts.
//! A conversation without a readable `dialogHeader.company` or
//! `dialogContent` is rejected whole; a bad turn is rejected on its own,
//! named `conversation N turn K`, and the other turns still decode.

use super::{Decoded, Decoder, Framing, Record, SniffInput, json_values, text};
use crate::post::{Author, Platform, Post, PostKind};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// IBM Twitter customer-care conversations (`dialogHeader`, `dialogContent`, `agentURL`).
#[derive(Debug, Clone, Copy, Default)]
pub struct IbmCare;

const NAME: &str = "ibm-care";

/// Twitter's Snowflake epoch, milliseconds since the Unix epoch.
const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;

/// The time a Snowflake tweet id was minted, truncated to the second like `created_at`.
pub fn snowflake_time(id: u64) -> Option<DateTime<Utc>> {
    let ms = i64::try_from(id >> 22).ok()?.checked_add(SNOWFLAKE_EPOCH_MS)?;
    // Ids below 2^22 (pre-2010 sequential ids) carry no time.
    if id >> 22 == 0 {
        return None;
    }
    DateTime::from_timestamp(ms.div_euclid(1000), 0)
}

fn tweet_id(v: Option<&Value>) -> Result<&str, String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s),
        Some(Value::String(s)) => Err(format!("tweet_ID is not a tweet id: {s:?}")),
        Some(Value::Number(n)) if n.is_u64() => {
            Err(format!("tweet_ID {n} is a JSON number; X ids must be strings (a number above 2^53 loses digits)"))
        }
        Some(other) => Err(format!("tweet_ID must be a string, got {other}")),
        None => Err("missing tweet_ID".to_string()),
    }
}

fn string<'v>(obj: &'v Map<String, Value>, key: &str) -> Result<&'v str, String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(format!("missing {key}")),
        Some(other) => Err(format!("{key} must be a string, got {other}")),
    }
}

/// One post of a conversation before linking: handle, care flag, id, time, escaped text.
struct Turn<'v> {
    handle: &'v str,
    care: bool,
    id: &'v str,
    at: DateTime<Utc>,
    message: &'v str,
}

fn dialog_turn(turn: &Value) -> Result<Turn<'_>, String> {
    let Value::Object(obj) = turn else { return Err(format!("a turn must be an object, got {turn}")) };
    let (care, handle) = if let Some(agent) = obj.get("agent") {
        (true, agent)
    } else if let Some((_, client)) = obj.iter().find(|(k, _)| k.starts_with("client")) {
        (false, client)
    } else {
        return Err("a turn needs an `agent` or `client` author".to_string());
    };
    let handle = match handle {
        Value::String(h) if !h.trim().is_empty() => h.trim().trim_start_matches('@'),
        other => return Err(format!("the turn's author must be a handle, got {other}")),
    };
    let id = tweet_id(obj.get("tweet_ID"))?;
    let when = string(obj, "datetime")?;
    let at = text::parse_rfc3339(when).ok_or_else(|| format!("datetime is not RFC 3339: {when:?}"))?;
    let message = string(obj, "message")?;
    Ok(Turn { handle, care, id, at, message })
}

fn closing_turn<'v>(obj: &'v Map<String, Value>, company: &'v str) -> Result<Turn<'v>, String> {
    let id = tweet_id(obj.get("tweet_ID"))?;
    let at = id
        .parse::<u64>()
        .ok()
        .and_then(snowflake_time)
        .ok_or_else(|| format!("agentURL tweet_ID {id} predates Snowflake ids, so it carries no time"))?;
    let message = string(obj, "url_utterance")?;
    Ok(Turn { handle: company, care: true, id, at, message })
}

fn post(t: &Turn<'_>, reply_to: Option<&str>, conversation: &str, raw: &str) -> Post {
    let body =
        if t.message.contains('&') { html_escape::decode_html_entities(t.message) } else { Cow::Borrowed(t.message) };
    let entities = text::entities(&body);
    Post {
        url: Some(format!("https://x.com/{}/status/{}", t.handle, t.id)),
        kind: if reply_to.is_some() { PostKind::Reply } else { PostKind::Original },
        reply_to: reply_to.map(str::to_string),
        conversation_id: Some(conversation.to_string()),
        mentions: entities.mentions,
        hashtags: entities.hashtags,
        links: entities.links,
        raw: raw.to_string(),
        ..Post::new(
            Platform::X,
            t.id,
            Author { handle: t.handle.to_string(), care_account: Some(t.care), ..Author::default() },
            body.into_owned(),
            t.at,
            NAME,
        )
    }
}

/// Decodes one conversation object; `label` names it in rejects.
fn conversation(label: &str, value: &Value, out: &mut Vec<Decoded>) {
    let reject = |reason: String| Decoded::reject_item(label, reason, Some(value.to_string().into_bytes()));
    let Value::Object(obj) = value else {
        return out.push(reject(format!("a conversation must be an object, got {value}")));
    };
    let company = match obj.get("dialogHeader") {
        Some(Value::Object(h)) => match string(h, "company") {
            Ok(c) => c.trim().trim_start_matches('@'),
            Err(e) => return out.push(reject(format!("dialogHeader: {e}"))),
        },
        _ => return out.push(reject("missing dialogHeader object".to_string())),
    };
    let Some(Value::Array(dialog)) = obj.get("dialogContent") else {
        return out.push(reject("missing dialogContent array".to_string()));
    };
    let raw = value.to_string();
    let mut turns: Vec<Result<Turn<'_>, String>> = dialog.iter().map(dialog_turn).collect();
    match obj.get("agentURL") {
        Some(Value::Object(a)) => turns.push(closing_turn(a, company)),
        None | Some(Value::Null) => {}
        Some(other) => turns.push(Err(format!("agentURL must be an object, got {other}"))),
    }
    // The root is the first turn, whether or not it decodes: its id names the conversation.
    let root = dialog.first().and_then(|t| tweet_id(t.get("tweet_ID")).ok());
    let mut previous: Option<&str> = None;
    for (k, turn) in turns.iter().enumerate() {
        match turn {
            Ok(t) => {
                let conversation = root.unwrap_or(t.id);
                out.push(Decoded::Post(Box::new(post(t, previous, conversation, &raw))));
                previous = Some(t.id);
            }
            Err(reason) => {
                let item = if k < dialog.len() { dialog[k].to_string() } else { obj["agentURL"].to_string() };
                out.push(Decoded::reject_item(
                    format!("{label} turn {}", k + 1),
                    reason.clone(),
                    Some(item.into_bytes()),
                ));
                // The next turn still replies to this one when its id is readable.
                let source = if k < dialog.len() { dialog.get(k) } else { obj.get("agentURL") };
                previous = source.and_then(|s| tweet_id(s.get("tweet_ID")).ok()).or(previous);
            }
        }
    }
}

fn decode_value(within: Option<String>, raw: &RawValue, out: &mut Vec<Decoded>) {
    let value: Value = match serde_json::from_str(raw.get()) {
        Ok(v) => v,
        Err(e) => return out.push(Decoded::Rejected { within, reason: format!("invalid JSON: {e}"), raw: None }),
    };
    let prefix = within.map(|w| format!("{w} ")).unwrap_or_default();
    match &value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conversation(&format!("{prefix}conversation {i}"), item, out);
            }
        }
        other => conversation(&format!("{prefix}conversation 0"), other, out),
    }
}

impl Decoder for IbmCare {
    fn name(&self) -> &'static str {
        NAME
    }
    fn description(&self) -> &'static str {
        "IBM Twitter customer-care conversations (dialogHeader, dialogContent, agentURL)"
    }
    fn framing(&self) -> Framing {
        // One conversation per line, or the published pretty-printed array (read as one document).
        Framing::Lines
    }
    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let head = input.head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input.head).trim_ascii_start();
        if !matches!(head.first(), Some(b'{' | b'[')) {
            return 0;
        }
        let has = |k: &str| memchr::memmem::find(head, format!("\"{k}\"").as_bytes()).is_some();
        match (has("dialogHeader"), has("dialogContent"), has("agentURL")) {
            (true, true, true) => 100,
            (true, true, false) => 90,
            _ => 0,
        }
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        if matches!(record, Record::Csv { .. }) {
            return out.push(Decoded::reject("the ibm-care decoder expects JSON, got a CSV row"));
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
    use crate::decode::{SNIFF_BYTES, decode_all};
    use proptest::prelude::*;

    const EXAMPLE: &str = r#"[{"agentURL": {"doc_id": "9417", "turn": "4", "tweet_ID": "1232360458130161664",
        "url": "https://support.rockstargames.com/articles/204233943",
        "url_utterance": "@tiffamy_lee We have a Support article that may help: https://support.rockstargames.com/articles/204233943 *SR"},
      "dialogContent": [
        {"client": "tiffamy_lee", "datetime": "2020-02-25T17:40:50.000Z", "message": "@RockstarSupport why isnt my gta installing &amp; updating?", "tweet_ID": "1232359814828822534"},
        {"agent": "RockstarSupport", "datetime": "2020-02-25T17:41:59.000Z", "message": "@tiffamy_lee Please let us know the platform. *SR", "tweet_ID": "1232360105036984320"},
        {"client": "tiffamy_lee", "datetime": "2020-02-25T17:42:23.000Z", "message": "@RockstarSupport Playstation 4", "tweet_ID": "1232360202671968257"}],
      "dialogHeader": {"company": "RockstarSupport", "conversationDateTime": "2020-02-25T17:40:50.000Z", "duration": "00:08:46.0", "messageCount": "4", "sessionID": "5McvPTUPveowZZ4Z9j5Y"}}]"#;

    fn posts(input: &str) -> Vec<Post> {
        decode_all(&IbmCare, input.as_bytes())
            .into_iter()
            .map(|d| match d {
                Decoded::Post(p) => *p,
                other => panic!("expected a post, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_conversation_becomes_a_reply_chain() {
        let p = posts(EXAMPLE);
        assert_eq!(p.len(), 4);
        let ids: Vec<&str> = p.iter().map(|p| p.native_id.as_str()).collect();
        assert_eq!(ids, ["1232359814828822534", "1232360105036984320", "1232360202671968257", "1232360458130161664"]);
        assert_eq!(p[0].kind, PostKind::Original);
        assert_eq!(p[0].reply_to, None);
        assert_eq!(p[0].text, "@RockstarSupport why isnt my gta installing & updating?");
        assert_eq!(p[0].mentions, ["RockstarSupport"]);
        assert_eq!(p[0].author.care_account, Some(false));
        assert_eq!(p[1].author.care_account, Some(true));
        for w in p.windows(2) {
            assert_eq!(w[1].reply_to.as_deref(), Some(w[0].native_id.as_str()));
        }
        assert!(p.iter().all(|x| x.conversation_id.as_deref() == Some("1232359814828822534")));
        let last = &p[3];
        assert_eq!(last.author.handle, "RockstarSupport");
        assert_eq!(last.author.care_account, Some(true));
        // (1232360458130161664 >> 22) + 1288834974657 = 1582652604025 ms since the Unix epoch.
        assert_eq!(last.published_at.to_rfc3339(), "2020-02-25T17:43:24+00:00");
        assert_eq!(last.links, ["https://support.rockstargames.com/articles/204233943"]);
        assert_eq!(last.url.as_deref(), Some("https://x.com/RockstarSupport/status/1232360458130161664"));
        // Decoding a post's raw record yields the same post again.
        for x in &p {
            assert!(posts(&x.raw).contains(x));
        }
    }

    #[test]
    fn bad_turns_are_rejected_alone_and_keep_the_chain() {
        let input = r#"{"dialogHeader": {"company": "Acme"}, "dialogContent": [
            {"client": "kay", "datetime": "2020-01-01T00:00:00Z", "message": "@Acme hi", "tweet_ID": "1212121212121212121"},
            {"client": "kay", "datetime": "yesterday", "message": "@Acme ??", "tweet_ID": "1212121212121212122"},
            {"client": "kay", "datetime": "2020-01-01T00:02:00Z", "message": "@Acme hello?", "tweet_ID": "1212121212121212123"}],
          "agentURL": {"tweet_ID": 1212121212121212124, "url_utterance": "@kay see https://acme.example"}}
          {"dialogContent": []}"#;
        let out = decode_all(&IbmCare, input.as_bytes());
        let reasons: Vec<String> = out
            .iter()
            .map(|d| match d {
                Decoded::Post(p) => format!("post {} <- {:?}", p.native_id, p.reply_to),
                Decoded::Rejected { within, reason, .. } => format!("{within:?}: {reason}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "post 1212121212121212121 <- None",
                "Some(\"value 0 conversation 0 turn 2\"): datetime is not RFC 3339: \"yesterday\"",
                "post 1212121212121212123 <- Some(\"1212121212121212122\")",
                "Some(\"value 0 conversation 0 turn 4\"): tweet_ID 1212121212121212124 is a JSON number; X ids must be strings (a number above 2^53 loses digits)",
                "Some(\"value 1 conversation 0\"): missing dialogHeader object",
            ]
        );
    }

    #[test]
    fn sniffing() {
        let sniff = |s: &str| IbmCare.sniff(SniffInput { head: s.as_bytes(), file_name: None });
        assert_eq!(sniff(EXAMPLE), 100);
        assert_eq!(sniff(r#"{"dialogHeader": {}, "dialogContent": []}"#), 90);
        assert_eq!(sniff(r#"{"text": "dialogHeader", "author": "a", "created_at": 1}"#), 0);
    }

    #[test]
    fn snowflake_times() {
        assert_eq!(snowflake_time(0), None);
        assert_eq!(snowflake_time(20), None);
        // The first Snowflake id era: 2010-11-04.
        assert_eq!(snowflake_time(1 << 22).unwrap().to_rfc3339(), "2010-11-04T01:42:54+00:00");
    }

    fn real_dev() -> Option<Vec<u8>> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ibm-customer-care/dev.json");
        std::fs::read(path).ok()
    }

    #[test]
    fn real_dev_set_decodes_completely_and_ids_tell_the_time() {
        let Some(bytes) = real_dev() else {
            eprintln!("skipped: ../shared/data/ibm-customer-care/dev.json is not present");
            return;
        };
        assert_eq!(IbmCare.sniff(SniffInput { head: &bytes[..bytes.len().min(SNIFF_BYTES)], file_name: None }), 100);
        let out = decode_all(&IbmCare, &bytes);
        let posts: Vec<&Post> = out
            .iter()
            .map(|d| match d {
                Decoded::Post(p) => &**p,
                other => panic!("dev.json must decode completely: {other:?}"),
            })
            .collect();
        // 525 conversations: 686 dialog turns plus 525 closing replies.
        assert_eq!(posts.len(), 686 + 525);
        // Dialog turns carry their own datetime: it must equal the time in their id.
        for p in &posts {
            let from_id = snowflake_time(p.native_id.parse().unwrap()).unwrap();
            assert_eq!(from_id, p.published_at, "{}", p.native_id);
        }
        assert!(posts.iter().all(|p| !p.text.contains("&amp;")));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&IbmCare, &bytes);
            let mut doc = br#"[{"dialogHeader": {"company": "a"}, "dialogContent": ["#.to_vec();
            doc.extend_from_slice(&bytes);
            let _ = decode_all(&IbmCare, &doc);
        }

        #[test]
        fn snowflake_round_trip(ms in 1i64..2_000_000_000_000, seq in 0u64..(1 << 22)) {
            let id = (ms as u64) << 22 | seq;
            let t = snowflake_time(id).unwrap();
            prop_assert_eq!(t.timestamp(), (ms + SNOWFLAKE_EPOCH_MS).div_euclid(1000));
        }
    }
}
