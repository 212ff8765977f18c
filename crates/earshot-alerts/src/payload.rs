//! Request bodies: earshot's JSON object, or a Slack incoming-webhook message.
//!
//! # The earshot format
//!
//! `Content-Type: application/json`; one object ([`EarshotPayload`]):
//!
//! ```json
//! {
//!   "event": "storm.updated",                 // storm.opened | storm.updated | storm.closed
//!   "delivery_id": "5c0e…",                   // = the Earshot-Delivery header; dedupe on it
//!   "sent_at": "2024-05-01T10:30:00Z",        // when the alert was decided (same on every retry)
//!   "sequence": 1,                            // 0 for opened, then 1, 2, … per storm
//!   "previous_posts": 20,                     // size in the previous alert; absent for opened
//!   "storm": {
//!     "id": "storm-42", "brand": "Gilt", "kind": "volume",
//!     "facet": "hashtag", "key": "#giltdown",
//!     "started_at": "…", "detected_at": "…", "closed_at": "…",   // closed_at only once closed
//!     "posts": 120, "authors": 87, "hashtags": ["giltdown"],
//!     "samples": [{"author": "ana", "text": "…", "url": "https://…"}],
//!     "url": "https://earshot.example/storms/storm-42"            // when known
//!   }
//! }
//! ```
//!
//! The body is built once per delivery and sent byte for byte on every retry; only the
//! `Earshot-Timestamp` and `Earshot-Signature` headers change.
//!
//! # The Slack format
//!
//! A message for a Slack incoming webhook: a `text` fallback (notifications, screen readers) and
//! Block Kit `blocks` — a `header`, a `section` with `fields`, up to three sample posts as quoted
//! `section`s, and a `context` line with the inbox link and ids. It stays inside Slack's documented
//! limits (header text 150 characters, section text 3,000, 10 fields of 2,000, 10 context elements,
//! 50 blocks), and escapes `&`, `<` and `>` in everything customers wrote, as Slack requires, so a post
//! containing `<!channel>` cannot ping a channel.

use crate::alerter::{Alert, AlertEvent};
use crate::config::Format;
use crate::subject::AlertSubject;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The earshot-format body. Receivers written in Rust can deserialize it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarshotPayload {
    /// What happened.
    pub event: AlertEvent,
    /// The `Earshot-Delivery` id.
    pub delivery_id: String,
    /// When the alert was decided; the same on every retry.
    pub sent_at: DateTime<Utc>,
    /// The alert's number within its storm (0 for opened).
    pub sequence: u32,
    /// The storm's size in the previous alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_posts: Option<u64>,
    /// The storm.
    pub storm: AlertSubject,
}

/// The body for `format`, as sent.
pub fn render(
    format: Format,
    alert: &Alert,
    subject: &AlertSubject,
    delivery_id: &str,
    sent_at: DateTime<Utc>,
) -> String {
    match format {
        Format::Earshot => earshot(alert, subject, delivery_id, sent_at),
        Format::Slack => slack(alert, subject, delivery_id).to_string(),
    }
}

/// The earshot-format body.
pub fn earshot(alert: &Alert, subject: &AlertSubject, delivery_id: &str, sent_at: DateTime<Utc>) -> String {
    let payload = EarshotPayload {
        event: alert.event,
        delivery_id: delivery_id.to_string(),
        sent_at,
        sequence: alert.seq,
        previous_posts: alert.previous_posts,
        storm: subject.clone(),
    };
    // A struct of strings, numbers and timestamps always serializes.
    serde_json::to_string(&payload).expect("payload serializes")
}

/// Slack's limits, from its Block Kit reference.
const HEADER_MAX: usize = 150;
const SECTION_TEXT_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
/// A sample is a glimpse, not the whole post.
const SAMPLE_MAX: usize = 600;
const SAMPLES_SHOWN: usize = 3;
const HASHTAGS_SHOWN: usize = 5;

/// The Slack incoming-webhook message.
pub fn slack(alert: &Alert, subject: &AlertSubject, delivery_id: &str) -> Value {
    let (emoji, verb) = match alert.event {
        AlertEvent::Opened => ("🚨", "Storm opened"),
        AlertEvent::Updated => ("📈", "Storm growing"),
        AlertEvent::Closed => ("✅", "Storm over"),
    };
    let topic = subject.topic();
    let about = if topic.is_empty() { subject.brand.clone() } else { format!("{} · {topic}", subject.brand) };
    let header = clip_plain(&format!("{emoji} {verb}: {about}"), HEADER_MAX);

    let posts = match alert.previous_posts {
        Some(was) if was != subject.posts && alert.event != AlertEvent::Opened => {
            format!("{} (was {was})", subject.posts)
        }
        _ => subject.posts.to_string(),
    };
    let fallback = escape_within(
        &format!("{verb} for {about}: {} posts from {} authors ({})", subject.posts, subject.authors, subject.kind),
        SECTION_TEXT_MAX,
    );

    let mut fields =
        vec![field("Posts", &posts), field("Authors", &subject.authors.to_string()), field("Kind", &subject.kind)];
    fields.push(field("Started", &human_time(subject.started_at)));
    if let Some(closed) = subject.closed_at.filter(|_| alert.event == AlertEvent::Closed) {
        fields.push(field("Closed", &human_time(closed)));
    } else {
        fields.push(field("Detected", &human_time(subject.detected_at)));
    }
    if !subject.hashtags.is_empty() {
        let tags: Vec<String> =
            subject.hashtags.iter().take(HASHTAGS_SHOWN).map(|h| format!("#{}", h.trim_start_matches('#'))).collect();
        fields.push(field("Hashtags", &tags.join(" ")));
    }

    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": header, "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", escape_within(&about, SECTION_TEXT_MAX - 2))}, "fields": fields}),
    ];
    for sample in subject.samples.iter().take(SAMPLES_SHOWN) {
        let quoted: String =
            escape_within(sample.text.trim(), SAMPLE_MAX).lines().map(|l| format!("> {l}\n")).collect();
        let author = escape_within(&format!("@{}", sample.author.trim_start_matches('@')), 200);
        let by = match sample.url.as_deref().and_then(link_url) {
            Some(url) => format!("— <{url}|{author}>"),
            None => format!("— {author}"),
        };
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("{quoted}{by}")}}));
    }
    let mut context = Vec::new();
    if let Some(url) = subject.url.as_deref().and_then(link_url) {
        context.push(json!({"type": "mrkdwn", "text": format!("<{url}|Open in earshot>")}));
    }
    context.push(json!({"type": "mrkdwn", "text": escape_within(&format!("storm {} · alert {} · delivery {delivery_id}", subject.storm_id, alert.seq), FIELD_MAX)}));
    blocks.push(json!({"type": "context", "elements": context}));
    json!({"text": fallback, "blocks": blocks})
}

fn field(label: &str, value: &str) -> Value {
    let label = format!("*{label}*\n");
    let value = escape_within(value, FIELD_MAX - label.chars().count());
    json!({"type": "mrkdwn", "text": format!("{label}{value}")})
}

fn human_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true).replacen('T', " ", 1).replace('Z', " UTC")
}

/// A URL safe inside Slack's `<url|label>`: only http(s), with the characters that would end the link
/// percent-encoded (they are not valid unencoded in a URL anyway).
fn link_url(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    Some(parsed.as_str().replace('|', "%7C").replace('<', "%3C").replace('>', "%3E"))
}

/// `text` escaped for Slack mrkdwn (`&` `<` `>` as entities), cut with `…` so the result is at most
/// `max` characters — cutting between characters, never inside an entity.
pub(crate) fn escape_within(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    let total: usize = text.chars().map(escaped_len).sum();
    for c in text.chars() {
        let len = escaped_len(c);
        // Leave room for the ellipsis unless everything fits.
        if used + len > max || (total > max && used + len > max.saturating_sub(1)) {
            out.push('…');
            return out;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
        used += len;
    }
    out
}

fn escaped_len(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    }
}

/// Plain text cut to `max` characters with `…`.
fn clip_plain(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::{Sample, example};

    fn alert(event: AlertEvent, seq: u32, previous: Option<u64>) -> Alert {
        Alert {
            storm_id: "storm-42".into(),
            event,
            seq,
            posts: 120,
            previous_posts: previous,
            at: DateTime::from_timestamp(1_714_561_800, 0).unwrap(),
        }
    }

    #[test]
    fn earshot_payload_round_trips_with_the_documented_names() {
        let sent = DateTime::from_timestamp(1_714_561_801, 0).unwrap();
        let body = earshot(&alert(AlertEvent::Updated, 2, Some(40)), &example(), "d-1", sent);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["event"], "storm.updated");
        assert_eq!(v["delivery_id"], "d-1");
        assert_eq!(v["sent_at"], "2024-05-01T11:10:01Z");
        assert_eq!(v["sequence"], 2);
        assert_eq!(v["previous_posts"], 40);
        assert_eq!(v["storm"]["id"], "storm-42");
        assert_eq!(v["storm"]["posts"], 120);
        assert_eq!(v["storm"]["samples"][0]["author"], "ana");
        assert!(v["storm"].get("closed_at").is_none());
        let back: EarshotPayload = serde_json::from_str(&body).unwrap();
        assert_eq!(back.storm, example());
        let opened: Value =
            serde_json::from_str(&earshot(&alert(AlertEvent::Opened, 0, None), &example(), "d", sent)).unwrap();
        assert!(opened.get("previous_posts").is_none());
    }

    #[test]
    fn slack_message_escapes_what_customers_wrote() {
        let mut subject = example();
        subject.samples.push(Sample {
            author: "mallory".into(),
            text: "<!channel> look *here*".into(),
            url: Some("javascript:alert(1)".into()),
        });
        let v = slack(&alert(AlertEvent::Opened, 0, None), &subject, "d-1");
        let text = v.to_string();
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(text.contains("&lt;!channel&gt; look *here*"));
        assert!(text.contains("App down again &lt;3 &amp; no reply"));
        assert!(text.contains("<https://x.com/ana/status/1|@ana>"));
        assert!(!text.contains("javascript:"), "only http(s) links");
        assert!(text.contains("<https://earshot.example/storms/storm-42|Open in earshot>"));
        assert_eq!(v["blocks"][0]["text"]["text"], "🚨 Storm opened: Gilt · hashtag #giltdown");
        assert_eq!(v["text"], "Storm opened for Gilt · hashtag #giltdown: 120 posts from 87 authors (volume)");
    }

    #[test]
    fn slack_update_shows_growth_and_close_shows_the_end() {
        let v = slack(&alert(AlertEvent::Updated, 1, Some(40)), &example(), "d");
        assert_eq!(v["blocks"][1]["fields"][0]["text"], "*Posts*\n120 (was 40)");
        let mut closed = example();
        closed.closed_at = Some(DateTime::from_timestamp(1_714_570_000, 0).unwrap());
        let v = slack(&alert(AlertEvent::Closed, 3, Some(120)), &closed, "d");
        assert_eq!(v["blocks"][0]["text"]["text"], "✅ Storm over: Gilt · hashtag #giltdown");
        assert_eq!(v["blocks"][1]["fields"][0]["text"], "*Posts*\n120", "no 'was' when unchanged");
        assert_eq!(v["blocks"][1]["fields"][4]["text"], "*Closed*\n2024-05-01 13:26:40 UTC");
    }

    #[test]
    fn escape_within_never_splits_an_entity() {
        assert_eq!(escape_within("a<b", 10), "a&lt;b");
        assert_eq!(escape_within("a<b", 6), "a&lt;b", "fits exactly");
        assert_eq!(escape_within("a<bc", 6), "a&lt;…");
        assert_eq!(escape_within("a<bc", 5), "a…");
        assert_eq!(escape_within("abcdef", 4), "abc…");
        assert_eq!(escape_within("", 4), "");
        for max in 1..40 {
            let s = escape_within("&&<<>> tea & cake <3", max);
            assert!(s.chars().count() <= max, "{max}: {s}");
            let mut rest = s.trim_end_matches('…');
            while let Some(i) = rest.find('&') {
                let tail = &rest[i..];
                assert!(["&amp;", "&lt;", "&gt;"].iter().any(|e| tail.starts_with(e)), "{max}: {s}");
                rest = &tail[1..];
            }
        }
    }
}
