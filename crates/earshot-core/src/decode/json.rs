//! JSON plumbing shared by the JSON decoders: splitting a record into
//! top-level values (resynchronising after a syntax error), and lenient field
//! types that keep one odd secondary field from failing a whole post.

use super::{Decoded, Record};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// One top-level JSON value of a record, or why a stretch of it is not JSON.
pub(crate) struct JsonItem<'a> {
    /// Where it sits in a multi-value document (`value 2`, `byte 1234`); `None` for a whole record.
    pub(crate) within: Option<String>,
    /// The value, or the reason and the bytes that could not be parsed (empty when the whole record).
    pub(crate) value: Result<&'a RawValue, (String, &'a [u8])>,
}

/// The top-level JSON values of a record, like [`super::json_values`], except
/// that a syntax error inside a document does not end it: decoding resumes at
/// the next line that starts with `{` or `[` in its first column.
///
/// Documents reach line-framed decoders when the input's first line is not
/// JSON, which includes a JSON Lines capture whose *first* line is truncated;
/// without resynchronising, that one bad line would reject the whole capture.
/// Pretty-printed values indent their inner lines, so resynchronising at
/// first-column brackets does not split a well-formed value.
pub(crate) fn json_items(record: Record<'_>) -> Vec<JsonItem<'_>> {
    match record {
        Record::Line(bytes) => vec![JsonItem {
            within: None,
            value: serde_json::from_slice::<&RawValue>(bytes).map_err(|e| (format!("invalid JSON: {e}"), &[][..])),
        }],
        Record::Document(bytes) => document_items(bytes),
        Record::Csv { .. } => {
            vec![JsonItem { within: None, value: Err(("expected JSON, got a CSV row".to_string(), &[][..])) }]
        }
    }
}

fn document_items(bytes: &[u8]) -> Vec<JsonItem<'_>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut n = 0usize;
    'outer: while pos < bytes.len() {
        let mut stream = serde_json::Deserializer::from_slice(&bytes[pos..]).into_iter::<&RawValue>();
        loop {
            let offset = pos + stream.byte_offset();
            match stream.next() {
                None => break 'outer,
                Some(Ok(v)) => {
                    out.push(JsonItem { within: Some(format!("value {n}")), value: Ok(v) });
                    n += 1;
                }
                Some(Err(e)) => {
                    let start = offset + leading_whitespace(&bytes[offset..]);
                    let next = resync_point(bytes, start + 1);
                    let bad = bytes[start..next].trim_ascii();
                    out.push(JsonItem {
                        within: Some(format!("byte {start}")),
                        value: Err((format!("invalid JSON: {e}"), bad)),
                    });
                    pos = next;
                    continue 'outer;
                }
            }
        }
    }
    if out.len() == 1 {
        out[0].within = None;
        if let Err((_, bad)) = &mut out[0].value {
            // The whole record is the offending item; the framer stores it.
            *bad = &[];
        }
    }
    out
}

/// The offset of the next line at or after `from` whose first byte is `{` or
/// `[`, or the end of input.
fn resync_point(bytes: &[u8], from: usize) -> usize {
    let mut i = from.min(bytes.len());
    while let Some(nl) = memchr::memchr(b'\n', &bytes[i..]) {
        let line = i + nl + 1;
        if matches!(bytes.get(line), Some(b'{' | b'[')) {
            return line;
        }
        i = line;
    }
    bytes.len()
}

pub(crate) fn leading_whitespace(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// A reject; `bytes` is the offending item when narrower than the record (empty otherwise).
pub(crate) fn reject(within: Option<String>, reason: impl Into<String>, bytes: &[u8]) -> Decoded {
    Decoded::Rejected { within, reason: reason.into(), raw: (!bytes.is_empty()).then(|| bytes.to_vec()) }
}

/// A JSON string borrowed from the input when it has no escapes. Also accepts
/// integers (kept as their decimal text), because X and some Mastodon-API
/// servers send ids as numbers. Exists because `Option<Cow<str>>` never
/// borrows with serde derive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl Text<'_> {
    /// The string.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                // An id that went through a JavaScript number has lost digits:
                // treat it as blank so a string twin (`id_str`) is used, never a wrong id.
                Ok(Cow::Borrowed(""))
            }
        }
        d.deserialize_any(V).map(Text)
    }
}

/// A field that never fails its record: it is read as raw JSON first and
/// becomes `None` when it does not have the expected shape. For secondary
/// fields (embeds, facets, quotes) whose shape varies between clients and
/// versions. Only works with `serde_json`, which is all earshot decodes with.
#[derive(Debug)]
pub(crate) struct Lenient<T>(pub(crate) Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        Ok(Lenient(serde_json::from_str(raw.get()).ok()))
    }
}

/// The non-blank, trimmed string of an optional [`Text`].
pub(crate) fn nonblank<'s>(t: &'s Option<Text<'_>>) -> Option<&'s str> {
    t.as_ref().map(|t| t.as_str().trim()).filter(|s| !s.is_empty())
}

/// A count that never fails a record: engagement numbers are secondary, and
/// some servers hide them (`null`, `-1`, strings), so anything but a
/// non-negative integer becomes "unknown".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Count(pub(crate) Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(u64::try_from(v).ok())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // Counts re-exported by JavaScript tools arrive as whole floats.
                let whole = v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(whole.then_some(v as u64))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.trim().parse().ok())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(V).map(Count)
    }
}
