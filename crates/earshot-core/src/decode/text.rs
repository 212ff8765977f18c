//! Text helpers shared by decoders: finding mentions, hashtags and links in
//! plain text (for formats that do not send entities: TWCS, JSONL, blogs) and
//! parsing the date formats platforms use.
//!
//! Written by hand on purpose: the one Rust port of twitter-text is
//! unmaintained, and earshot only needs the three entity kinds, extracted the
//! way twitter-text documents them (an `@`/`#` not preceded by a word
//! character, handles of 1–15 word characters on X, `@user@domain` on the
//! fediverse, hashtags of letters/digits/underscore with at least one letter).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

/// Entities found in plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities {
    /// Handles without `@`, deduplicated, in order.
    pub mentions: Vec<String>,
    /// Hashtags without `#`, deduplicated, in order.
    pub hashtags: Vec<String>,
    /// `http(s)://` links, deduplicated, in order.
    pub links: Vec<String>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Finds mentions, hashtags and links in `text`.
pub fn entities(text: &str) -> Entities {
    let mut out = Entities::default();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let prev_is_word = i > 0 && (is_word(chars[i - 1].1) || chars[i - 1].1 == '/' || chars[i - 1].1 == '&');
        if (c == 'h' || c == 'H') && !prev_is_word {
            let rest = &text[at..];
            let lower = rest.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                let end = rest
                    .find(|ch: char| ch.is_whitespace() || ch == '"' || ch == '<' || ch == '>')
                    .unwrap_or(rest.len());
                let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '”', '’']);
                if url.len() > 8 {
                    crate::post::push_unique(&mut out.links, url);
                }
                let consumed = rest[..end].chars().count();
                i += consumed.max(1);
                continue;
            }
        }
        if (c == '@' || c == '＠') && !prev_is_word {
            let mut j = i + 1;
            while j < chars.len() && is_word(chars[j].1) {
                j += 1;
            }
            // Fediverse handle: @user@domain.tld
            if j < chars.len() && chars[j].1 == '@' && j > i + 1 {
                let mut k = j + 1;
                while k < chars.len() && (is_word(chars[k].1) || chars[k].1 == '.' || chars[k].1 == '-') {
                    k += 1;
                }
                while k > j + 1 && chars[k - 1].1 == '.' {
                    k -= 1;
                }
                if k > j + 1 && text[chars[j + 1].0..end_of(&chars, k, text)].contains('.') {
                    let handle = &text[chars[i + 1].0..end_of(&chars, k, text)];
                    crate::post::push_unique(&mut out.mentions, handle);
                    i = k;
                    continue;
                }
            }
            if j > i + 1 {
                let handle = &text[chars[i + 1].0..end_of(&chars, j, text)];
                if handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    crate::post::push_unique(&mut out.mentions, handle);
                }
            }
            i = j.max(i + 1);
            continue;
        }
        if (c == '#' || c == '＃') && !prev_is_word {
            let mut j = i + 1;
            while j < chars.len() && is_word(chars[j].1) {
                j += 1;
            }
            if j > i + 1 {
                let tag = &text[chars[i + 1].0..end_of(&chars, j, text)];
                if tag.chars().any(char::is_alphabetic) {
                    crate::post::push_unique(&mut out.hashtags, tag);
                }
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

fn end_of(chars: &[(usize, char)], idx: usize, text: &str) -> usize {
    chars.get(idx).map(|c| c.0).unwrap_or(text.len())
}

/// Parses the classic Twitter timestamp, `Tue Oct 31 22:10:47 +0000 2017`.
pub fn parse_twitter_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s.trim(), "%a %b %d %H:%M:%S %z %Y").ok().map(|d| d.with_timezone(&Utc))
}

/// Parses RFC 3339 / ISO 8601 (`2017-10-31T22:10:47.000Z`).
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| d.with_timezone(&Utc))
}

/// Parses any timestamp form seen in exports: RFC 3339, RFC 2822, the classic
/// Twitter form, `YYYY-MM-DD HH:MM:SS[ ±zzzz]` (UTC when no zone), or Unix
/// seconds / milliseconds.
pub fn parse_any_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(d) = parse_rfc3339(s) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Some(d) = parse_twitter_date(s) {
        return Some(d);
    }
    for fmt in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(d) = DateTime::<FixedOffset>::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    if s.bytes().all(|b| b.is_ascii_digit()) && (9..=13).contains(&s.len()) {
        let n: i64 = s.parse().ok()?;
        return if s.len() >= 12 { Utc.timestamp_millis_opt(n).single() } else { Utc.timestamp_opt(n, 0).single() };
    }
    None
}

/// The host of an `http(s)` URL, lowercased, without port or user info.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = strip_prefix_ci(url, "https://").or_else(|| strip_prefix_ci(url, "http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = host_port.split(':').next().unwrap_or_default();
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `s` without `prefix`, compared ASCII-case-insensitively.
pub fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_twitter_entities() {
        let e = entities("@Gymboree @FialaKerns where are the jammies? #OlivetSocial https://t.co/abc123.");
        assert_eq!(e.mentions, ["Gymboree", "FialaKerns"]);
        assert_eq!(e.hashtags, ["OlivetSocial"]);
        assert_eq!(e.links, ["https://t.co/abc123"]);
    }

    #[test]
    fn ignores_emails_and_numeric_tags() {
        let e = entities("mail me at joe@example.com about order #12345 &#39;");
        assert!(e.mentions.is_empty(), "{:?}", e.mentions);
        assert!(e.hashtags.is_empty(), "{:?}", e.hashtags);
    }

    #[test]
    fn finds_fediverse_handles() {
        let e = entities("cc @support@mastodon.social.");
        assert_eq!(e.mentions, ["support@mastodon.social"]);
    }

    #[test]
    fn parses_dates() {
        let d = parse_twitter_date("Tue Oct 31 22:10:47 +0000 2017").unwrap();
        assert_eq!(d.to_rfc3339(), "2017-10-31T22:10:47+00:00");
        assert_eq!(parse_any_date("2017-10-31T22:10:47.000Z"), Some(d));
        assert_eq!(parse_any_date("Tue, 31 Oct 2017 22:10:47 +0000"), Some(d));
        assert_eq!(parse_any_date("2017-10-31 22:10:47"), Some(d));
        assert_eq!(parse_any_date("1509487847"), Some(d));
        assert_eq!(parse_any_date("1509487847000"), Some(d));
        assert_eq!(parse_any_date("yesterday"), None);
    }

    proptest! {
        #[test]
        fn entities_never_panic_and_are_substrings(s in "\\PC{0,200}") {
            let e = entities(&s);
            for m in e.mentions.iter().chain(&e.hashtags).chain(&e.links) {
                prop_assert!(s.contains(m.as_str()));
            }
        }
    }
}
