//! The "Customer Support on Twitter" (TWCS) CSV data set decoder.
//!
//! TWCS (Kaggle, Thought Vector) is ~3M tweets between customers and brand
//! care accounts, one tweet per row:
//!
//! ```text
//! tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
//! 6,sprintcare,False,Tue Oct 31 21:46:24 +0000 2017,"@115712 Can you please send us a private message, …","5,7",8
//! ```
//!
//! Mapping: `tweet_id` → `native_id`; `author_id` → `author.handle` (customers
//! are anonymised numbers, brands keep their screen names); `inbound=False`
//! means the author is a company's care account; `in_response_to_tweet_id` →
//! `reply_to`. `response_tweet_id` (possibly several comma-separated ids) is
//! derivable from the replies themselves, so it is kept in `raw` only.
//! `reply_to_author` stays `None`: one row does not say who wrote the parent,
//! and the first mention is only *usually* the parent's author.
//!
//! Columns are matched by header name, so reordered or extra columns work.
//! A header without the required columns rejects every row, naming them; a
//! row is rejected, naming the column, when a required value is missing or
//! unreadable, and when it has more fields than the header (an unquoted comma
//! shifted its columns). Rows missing only trailing optional columns decode.
//! The text is HTML-escaped the way the Twitter API sends it (`&amp;`, `&lt;`,
//! `&gt;`); it is unescaped once, which is exact because Twitter escapes every `&`.

use super::{Decoded, Decoder, Framing, Record, SniffInput, text};
use crate::post::{Author, Platform, Post, PostKind};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use std::borrow::Cow;

/// Customer Support on Twitter CSV (`tweet_id,author_id,inbound,created_at,text,...`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TwcsCsv;

/// The header of the published data set, used to skip re-serializing it per row.
const STANDARD_HEADER: &str = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id";

/// Columns a row cannot be decoded without, in header order of the data set.
const REQUIRED: [&str; 5] = ["tweet_id", "author_id", "inbound", "created_at", "text"];

/// Where each known column sits in a file's header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    tweet_id: usize,
    author_id: usize,
    inbound: usize,
    created_at: usize,
    text: usize,
    in_response_to: Option<usize>,
}

impl Columns {
    /// The published data set's layout.
    const STANDARD: Columns =
        Columns { tweet_id: 0, author_id: 1, inbound: 2, created_at: 3, text: 4, in_response_to: Some(6) };

    /// Finds the columns by name (trimmed, case-insensitive), or names the required ones that are missing.
    fn find(headers: &csv::ByteRecord) -> Result<Columns, String> {
        let pos = |name: &str| headers.iter().position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
        let found = REQUIRED.map(pos);
        if found.iter().any(Option::is_none) {
            let missing: Vec<&str> =
                REQUIRED.iter().zip(found).filter(|(_, p)| p.is_none()).map(|(name, _)| *name).collect();
            return Err(format!(
                "the CSV header lacks the required TWCS column(s) {} (expected {STANDARD_HEADER})",
                missing.join(", ")
            ));
        }
        let [tweet_id, author_id, inbound, created_at, text] = found.map(Option::unwrap_or_default);
        Ok(Columns { tweet_id, author_id, inbound, created_at, text, in_response_to: pos("in_response_to_tweet_id") })
    }
}

/// Field `idx` of `row` as UTF-8; a column missing from a short row reads as empty.
fn field<'r>(row: &'r csv::ByteRecord, idx: usize, name: &str) -> Result<&'r str, String> {
    match row.get(idx) {
        None => Ok(""),
        Some(bytes) => std::str::from_utf8(bytes).map_err(|e| format!("column {name} is not valid UTF-8 ({e})")),
    }
}

/// A required value: present and not blank.
fn required<'r>(row: &'r csv::ByteRecord, idx: usize, name: &str) -> Result<&'r str, String> {
    let value = field(row, idx, name)?;
    if value.trim().is_empty() { Err(format!("missing value for required column {name}")) } else { Ok(value) }
}

/// A tweet id: ASCII digits (X ids are 64-bit integers).
fn tweet_id<'r>(value: &'r str, name: &str) -> Result<&'r str, String> {
    let v = value.trim();
    if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(v)
    } else {
        Err(format!("column {name} is not a tweet id: {v:?}"))
    }
}

/// Decodes one row, or says why it cannot be decoded.
fn decode_row(headers: &csv::ByteRecord, row: &csv::ByteRecord) -> Result<Post, String> {
    // Rows are decoded one at a time with no per-file state, so the header is
    // looked at for every row: recognising the standard one keeps that cheap.
    let standard = headers.iter().eq(STANDARD_HEADER.split(',').map(str::as_bytes));
    let cols = if standard { Columns::STANDARD } else { Columns::find(headers)? };
    if row.len() > headers.len() {
        // More fields than names: an unquoted comma shifted the columns, so no
        // value can be trusted to be what its header says.
        return Err(format!("row has {} fields but the header has {}", row.len(), headers.len()));
    }
    let id = tweet_id(required(row, cols.tweet_id, "tweet_id")?, "tweet_id")?;
    let handle = required(row, cols.author_id, "author_id")?.trim();
    let inbound = required(row, cols.inbound, "inbound")?.trim();
    let care_account = if inbound.eq_ignore_ascii_case("false") {
        true
    } else if inbound.eq_ignore_ascii_case("true") {
        false
    } else {
        return Err(format!("column inbound must be True or False, got {inbound:?}"));
    };
    let created_at = required(row, cols.created_at, "created_at")?;
    // The data set always uses the classic Twitter form; other forms come from re-exports.
    let published_at = fast_twitter_date(created_at)
        .or_else(|| text::parse_twitter_date(created_at))
        .or_else(|| text::parse_any_date(created_at))
        .ok_or_else(|| format!("column created_at is not a date: {:?}", created_at.trim()))?;
    let escaped = required(row, cols.text, "text")?;
    let body = if escaped.contains('&') { html_escape::decode_html_entities(escaped) } else { Cow::Borrowed(escaped) };
    let reply_to = match cols.in_response_to {
        Some(idx) => match field(row, idx, "in_response_to_tweet_id")?.trim() {
            "" => None,
            v => Some(tweet_id(v, "in_response_to_tweet_id")?.to_string()),
        },
        None => None,
    };
    let entities = text::entities(&body);
    // The data set's own header needs no quoting, so it is used as is.
    let mut raw = Vec::with_capacity(STANDARD_HEADER.len() + 8 + row.as_slice().len());
    if standard {
        raw.extend_from_slice(STANDARD_HEADER.as_bytes());
    } else {
        write_csv_line(headers, &mut raw);
    }
    raw.push(b'\n');
    write_csv_line(row, &mut raw);
    let raw = String::from_utf8(raw).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(Post {
        url: Some(format!("https://x.com/i/web/status/{id}")),
        kind: if reply_to.is_some() { PostKind::Reply } else { PostKind::Original },
        reply_to,
        mentions: entities.mentions,
        hashtags: entities.hashtags,
        links: entities.links,
        raw,
        ..Post::new(
            Platform::X,
            id.to_string(),
            Author { handle: handle.to_string(), care_account: Some(care_account), ..Author::default() },
            body.into_owned(),
            published_at,
            "twcs".to_string(),
        )
    })
}

/// Appends `record` as one CSV line, exactly as [`csv_line`](super::csv_line) writes it (a test
/// proves it): fields holding `,` `"` CR or LF are quoted with `"` doubled, and
/// a lone empty field (or none) is written `""`.
///
/// `csv_line` builds a csv `Writer` (an 8 KiB zeroed buffer) per call, which
/// was a tenth of the decode time; this is the same output without it.
fn write_csv_line(record: &csv::ByteRecord, out: &mut Vec<u8>) {
    if record.len() <= 1 && record.as_slice().is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if field.iter().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
            out.push(b'"');
            let mut rest = field;
            while let Some(at) = memchr::memchr(b'"', rest) {
                // Copy through the quote, then double it.
                out.extend_from_slice(&rest[..=at]);
                out.push(b'"');
                rest = &rest[at + 1..];
            }
            out.extend_from_slice(rest);
            out.push(b'"');
        } else {
            out.extend_from_slice(field);
        }
    }
}

/// Parses the data set's date form, `Tue Oct 31 22:10:47 +0000 2017`, without
/// chrono's format interpreter (a sixth of the decode time otherwise).
/// Anything unusual, including a weekday that does not match the date, returns
/// `None` so the general parser decides.
fn fast_twitter_date(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 30 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[19] != b' ' || b[25] != b' ' || !matches!(b[20], b'+' | b'-') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let month = MONTHS.iter().position(|m| m[..] == b[4..7])?;
    let year = i32::try_from(num(26, 30)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()? + 1, num(8, 10)?)?;
    const WEEKDAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    if WEEKDAYS.get(date.weekday().num_days_from_monday() as usize).is_none_or(|w| w[..] != b[0..3]) {
        return None;
    }
    let local = date.and_hms_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?)?;
    let (hh, mm) = (num(21, 23)?, num(23, 25)?);
    if mm >= 60 {
        return None;
    }
    let offset = i64::from(hh * 3600 + mm * 60) * if b[20] == b'-' { -1 } else { 1 };
    Some(local.and_utc() - TimeDelta::seconds(offset))
}

/// The names in a CSV header line (naive split: TWCS headers hold no quoted commas).
fn header_names(head: &[u8]) -> Vec<String> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line).split(',').map(|f| f.trim().trim_matches('"').trim().to_ascii_lowercase()).collect()
}

impl Decoder for TwcsCsv {
    fn name(&self) -> &'static str {
        "twcs"
    }
    fn description(&self) -> &'static str {
        "Customer Support on Twitter CSV (tweet_id,author_id,inbound,created_at,text,...)"
    }
    fn framing(&self) -> Framing {
        Framing::Csv
    }
    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let names = header_names(input.head);
        let has = |n: &str| names.iter().any(|x| x == n);
        let required = REQUIRED.iter().filter(|n| has(n)).count();
        let optional = ["response_tweet_id", "in_response_to_tweet_id"].iter().filter(|n| has(n)).count();
        match (required, optional) {
            (5, 2) => 100,
            (5, _) => 90,
            // Most of the TWCS header: probably a hand-edited export; worth a guess.
            (3.., _) if has("tweet_id") && has("inbound") => 40,
            _ => 0,
        }
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        match record {
            Record::Csv { headers, row } => match decode_row(headers, row) {
                Ok(post) => out.push(Decoded::Post(Box::new(post))),
                Err(reason) => out.push(Decoded::reject(reason)),
            },
            _ => out.push(Decoded::reject("the twcs decoder expects CSV rows")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{SNIFF_BYTES, csv_line, decode_all, decode_reader};
    use proptest::prelude::*;

    fn posts(input: &str) -> Vec<Decoded> {
        decode_all(&TwcsCsv, input.as_bytes())
    }

    fn only_post(input: &str) -> Post {
        match posts(input).as_slice() {
            [Decoded::Post(p)] => (**p).clone(),
            other => panic!("expected one post, got {other:?}"),
        }
    }

    fn reason(d: &Decoded) -> &str {
        match d {
            Decoded::Rejected { reason, .. } => reason,
            other => panic!("expected a reject, got {other:?}"),
        }
    }

    #[test]
    fn decodes_a_care_reply_with_several_responses() {
        let p = only_post(&format!(
            "{STANDARD_HEADER}\n6,sprintcare,False,Tue Oct 31 21:46:24 +0000 2017,\"@115712 Can you please send us a private message, so that I can gain further details about your account?\",\"5,7\",8\n"
        ));
        assert_eq!(p.platform, Platform::X);
        assert_eq!(p.native_id, "6");
        assert_eq!(p.url.as_deref(), Some("https://x.com/i/web/status/6"));
        assert_eq!(p.author.handle, "sprintcare");
        assert_eq!(p.author.care_account, Some(true));
        assert_eq!(p.kind, PostKind::Reply);
        assert_eq!(p.reply_to.as_deref(), Some("8"));
        assert_eq!(p.reply_to_author, None);
        assert_eq!(p.mentions, ["115712"]);
        assert_eq!(p.published_at.to_rfc3339(), "2017-10-31T21:46:24+00:00");
        assert!(p.raw.starts_with(STANDARD_HEADER), "{}", p.raw);
        assert!(p.raw.ends_with(",\"5,7\",8"), "{}", p.raw);
    }

    #[test]
    fn customer_original_with_entities_and_escapes() {
        let p = only_post(&format!(
            "{STANDARD_HEADER}\n8,115712,True,Tue Oct 31 21:45:10 +0000 2017,\"@sprintcare is the worst &amp; &lt;slow&gt; #fail https://t.co/abc\nsecond line\",\"9,6,10\",\n"
        ));
        assert_eq!(p.author.care_account, Some(false));
        assert_eq!(p.kind, PostKind::Original);
        assert_eq!(p.reply_to, None);
        assert_eq!(p.text, "@sprintcare is the worst & <slow> #fail https://t.co/abc\nsecond line");
        assert_eq!(p.hashtags, ["fail"]);
        assert_eq!(p.links, ["https://t.co/abc"]);
    }

    #[test]
    fn columns_are_matched_by_name() {
        let p = only_post(
            "text,created_at,inbound,author_id,tweet_id,extra\nhello @AppleSupport,Wed Oct 11 06:55:44 +0000 2017,True,105834,119237,x\n",
        );
        assert_eq!(p.native_id, "119237");
        assert_eq!(p.author.handle, "105834");
        assert_eq!(p.text, "hello @AppleSupport");
        assert!(p.raw.starts_with("text,created_at,inbound,author_id,tweet_id,extra\n"), "{}", p.raw);
        assert_eq!(only_post(&p.raw), p);
    }

    #[test]
    fn rejects_name_the_column() {
        let out = posts(&format!(
            "{STANDARD_HEADER}\n1,a,True,,hi,,\n2,a,True,yesterday,hi,,\n3,a,maybe,Tue Oct 31 21:46:24 +0000 2017,hi,,\n4,a,True,Tue Oct 31 21:46:24 +0000 2017,,,\nx5,a,True,Tue Oct 31 21:46:24 +0000 2017,hi,,\n6,a,True,Tue Oct 31 21:46:24 +0000 2017,hi,,7x\n7,a,True\n8,a,True,Tue Oct 31 21:46:24 +0000 2017,hi,,,9\n"
        ));
        let reasons: Vec<&str> = out.iter().map(reason).collect();
        assert_eq!(
            reasons,
            [
                "missing value for required column created_at",
                "column created_at is not a date: \"yesterday\"",
                "column inbound must be True or False, got \"maybe\"",
                "missing value for required column text",
                "column tweet_id is not a tweet id: \"x5\"",
                "column in_response_to_tweet_id is not a tweet id: \"7x\"",
                "missing value for required column created_at",
                "row has 8 fields but the header has 7",
            ]
        );
    }

    #[test]
    fn short_row_missing_only_optional_columns_is_accepted() {
        let p =
            only_post(&format!("{STANDARD_HEADER}\n5,115712,True,Tue Oct 31 21:49:35 +0000 2017,@sprintcare I did.\n"));
        assert_eq!(p.reply_to, None);
    }

    #[test]
    fn wrong_header_rejects_every_row() {
        let out = posts("id,user,text\n1,a,hi\n2,b,ho\n");
        assert_eq!(out.len(), 2);
        for d in &out {
            assert!(reason(d).contains("author_id, inbound, created_at"), "{}", reason(d));
            assert!(reason(d).contains("tweet_id"), "{}", reason(d));
        }
    }

    #[test]
    fn sniffs_the_header() {
        let sniff = |s: &str| TwcsCsv.sniff(SniffInput { head: s.as_bytes(), file_name: None });
        assert_eq!(sniff(&format!("{STANDARD_HEADER}\n1,a,True,x,y,,\n")), 100);
        assert_eq!(sniff(&format!("\u{feff}{STANDARD_HEADER}\r\n")), 100);
        assert_eq!(sniff("\"tweet_id\",\"author_id\",\"inbound\",\"created_at\",\"text\"\n"), 90);
        assert_eq!(sniff("{\"text\":\"tweet_id,author_id\"}"), 0);
        assert_eq!(sniff("id,text,author\n"), 0);
    }

    fn shared_data(name: &str) -> Option<Vec<u8>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/twcs").join(name);
        std::fs::read(path).ok()
    }

    #[test]
    fn real_head5000_decodes_completely() {
        let Some(bytes) = shared_data("twcs_head5000.csv") else {
            eprintln!("skipped: ../shared/data/twcs/twcs_head5000.csv is not present");
            return;
        };
        assert_eq!(TwcsCsv.sniff(SniffInput { head: &bytes[..bytes.len().min(SNIFF_BYTES)], file_name: None }), 100);
        let mut posts = Vec::new();
        let mut rejects = Vec::new();
        decode_reader(&TwcsCsv, bytes.as_slice(), |item| match item.decoded {
            Decoded::Post(p) => posts.push(p),
            other => rejects.push((item.position, other)),
        })
        .unwrap();
        assert!(rejects.is_empty(), "{rejects:?}");
        assert_eq!(posts.len(), 5000);
        // Row 2 is the customer's answer to the care reply 1.
        let two = posts.iter().find(|p| p.native_id == "2").unwrap();
        assert_eq!(two.reply_to.as_deref(), Some("1"));
        assert_eq!(two.author.care_account, Some(false));
        let one = posts.iter().find(|p| p.native_id == "1").unwrap();
        assert_eq!(one.author.handle, "sprintcare");
        assert_eq!(one.author.care_account, Some(true));
        assert!(two.mentions.contains(&one.author.handle));
        let multi_line = posts.iter().filter(|p| p.text.contains('\n')).count();
        assert!(multi_line > 100, "{multi_line}");
        assert!(posts.iter().all(|p| !p.text.contains("&amp;")));
        // Every post survives a round trip through its raw form.
        for p in posts.iter().step_by(97) {
            assert_eq!(&only_post(&p.raw), &**p);
        }
    }

    fn twitter_date() -> impl Strategy<Value = chrono::DateTime<chrono::Utc>> {
        (1_167_609_600i64..1_893_456_000).prop_map(|s| chrono::DateTime::from_timestamp(s, 0).unwrap_or_default())
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }

    #[test]
    fn fast_date_agrees_with_chrono() {
        for s in [
            "Tue Oct 31 22:10:47 +0000 2017",
            "Wed Nov 22 09:06:00 +0000 2017",
            "Tue Oct 31 22:10:47 -0530 2017",
            "Sun Dec 31 23:59:59 +1400 2017",
        ] {
            assert_eq!(fast_twitter_date(s), text::parse_twitter_date(s), "{s}");
            assert!(fast_twitter_date(s).is_some(), "{s}");
        }
        // Wrong weekday, impossible dates and other shapes are left to chrono.
        for s in ["Mon Oct 31 22:10:47 +0000 2017", "Tue Feb 30 22:10:47 +0000 2017", "2017-10-31T22:10:47Z"] {
            assert_eq!(fast_twitter_date(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn csv_line_writer_matches_csv_crate(fields in proptest::collection::vec(proptest::collection::vec(prop_oneof![Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n'), Just(b' '), Just(b'a'), Just(0xffu8), any::<u8>()], 0..6), 0..5)) {
            let row = csv::ByteRecord::from(fields);
            let mut mine = Vec::new();
            write_csv_line(&row, &mut mine);
            prop_assert_eq!(String::from_utf8_lossy(&mine).into_owned(), csv_line(&row));
        }

        #[test]
        fn fast_date_matches_chrono(secs in -2_000_000_000i64..8_000_000_000, off in -1439i32..1440) {
            let offset = chrono::FixedOffset::east_opt(off * 60).unwrap();
            let s = chrono::DateTime::from_timestamp(secs, 0).unwrap().with_timezone(&offset).format("%a %b %d %H:%M:%S %z %Y").to_string();
            if s.len() == 30 {
                prop_assert_eq!(fast_twitter_date(&s), text::parse_twitter_date(&s), "{}", s);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&TwcsCsv, &bytes);
            let mut with_header = format!("{STANDARD_HEADER}\n").into_bytes();
            with_header.extend_from_slice(&bytes);
            let _ = decode_all(&TwcsCsv, &with_header);
        }

        #[test]
        fn generated_rows_decode_and_round_trip(
            id in 1u64..u64::MAX,
            handle in "[0-9]{1,8}|[A-Za-z_][A-Za-z0-9_]{0,14}",
            inbound in any::<bool>(),
            when in twitter_date(),
            text in "[a-z😀é&<>\"',\n#@ ]{0,60}[a-z😀é&<>\"',#@]",
            parent in proptest::option::of(1u64..u64::MAX),
            responses in proptest::collection::vec(1u64..u64::MAX, 0..3),
        ) {
            let responses: Vec<String> = responses.iter().map(u64::to_string).collect();
            let mut row = csv::ByteRecord::new();
            let created = when.format("%a %b %d %H:%M:%S +0000 %Y").to_string();
            let parent_s = parent.map(|p| p.to_string()).unwrap_or_default();
            for f in [id.to_string(), handle.clone(), if inbound { "True" } else { "False" }.to_string(), created, escape(&text), responses.join(","), parent_s] {
                row.push_field(f.as_bytes());
            }
            let input = format!("{STANDARD_HEADER}\n{}\n", csv_line(&row));
            let p = only_post(&input);
            prop_assert_eq!(&p.native_id, &id.to_string());
            prop_assert_eq!(&p.author.handle, &handle);
            prop_assert_eq!(p.author.care_account, Some(!inbound));
            prop_assert_eq!(p.published_at, when);
            prop_assert_eq!(&p.text, &text);
            prop_assert_eq!(p.reply_to.clone(), parent.map(|x| x.to_string()));
            prop_assert_eq!(p.kind == PostKind::Reply, parent.is_some());
            prop_assert_eq!(&only_post(&p.raw), &p);
        }
    }
}
