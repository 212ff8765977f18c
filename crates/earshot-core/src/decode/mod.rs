//! Format decoders: turn the platforms' own records into [`Post`]s.
//!
//! Each format is one file implementing the small [`Decoder`] trait and one
//! line in [`registry`]. A decoder never fails as a whole: every record ends as
//! a post, a deletion, a skip (valid but not a post, e.g. a like) or a reject
//! with a reason, so one bad record never stops a run.
//!
//! How bytes are cut into records is the decoder's [`Framing`]; the shared
//! framer in [`read`] does the cutting and tracks positions, so decoders only
//! see one record at a time and line-framed formats can be decoded in parallel.

use crate::post::{Deletion, Post};

pub mod bluesky_jetstream;
pub mod feed;
pub mod html;
pub mod ibm_care;
pub mod json;
pub mod jsonl;
pub mod mastodon;
pub mod read;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod twcs_csv;
pub mod x_archive;
pub mod x_v1;
pub mod x_v2;

pub use read::{FramedItem, Position, decode_reader};

/// How a format's bytes are cut into records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON value per non-blank line (JSON Lines, NDJSON streams). When the
    /// first line is not a complete JSON value (a pretty-printed response or
    /// array), the whole input is handed over as one [`Record::Document`]
    /// instead; [`json_values`] reads both.
    Lines,
    /// The whole input is one record holding many items (a JSON array, an XML feed, `tweets.js`).
    Document,
    /// A CSV file with a header row; each row is a record.
    Csv,
}

/// One record handed to a decoder.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// One line, without its line terminator.
    Line(&'a [u8]),
    /// A whole document.
    Document(&'a [u8]),
    /// One CSV row with the file's header row.
    Csv {
        /// The header row.
        headers: &'a csv::ByteRecord,
        /// The data row.
        row: &'a csv::ByteRecord,
    },
}

impl Record<'_> {
    /// The record's bytes as found in the input, for storing with a reject.
    pub fn raw_bytes(&self) -> Vec<u8> {
        match self {
            Record::Line(b) | Record::Document(b) => b.to_vec(),
            Record::Csv { row, .. } => csv_line(row).into_bytes(),
        }
    }
}

/// Re-serializes CSV fields as one CSV line (no trailing newline).
pub fn csv_line(row: &csv::ByteRecord) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    // Writing to a Vec cannot fail for I/O reasons; a failure would be a csv bug.
    let _ = w.write_byte_record(row);
    let bytes = w.into_inner().unwrap_or_default();
    let mut s = String::from_utf8_lossy(&bytes).into_owned();
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

/// What a decoder made of (part of) a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A post.
    Post(Box<Post>),
    /// A deletion notice for a post.
    Deletion(Deletion),
    /// A valid record that carries no post (a like, an identity event, a keep-alive), with why.
    Skipped {
        /// Why it is not a post, e.g. `jetstream identity event`.
        reason: String,
    },
    /// A record (or an item inside a document) that could not be decoded.
    Rejected {
        /// Where inside the record, when the record holds many items (e.g. `data[3]`, `item 7`).
        within: Option<String>,
        /// What is wrong, as a sentence fragment a user can act on.
        reason: String,
        /// The offending item's bytes, when narrower than the whole record.
        raw: Option<Vec<u8>>,
    },
}

impl Decoded {
    /// A reject of the whole record.
    pub fn reject(reason: impl Into<String>) -> Decoded {
        Decoded::Rejected { within: None, reason: reason.into(), raw: None }
    }

    /// A reject of one item inside the record.
    pub fn reject_item(within: impl Into<String>, reason: impl Into<String>, raw: Option<Vec<u8>>) -> Decoded {
        Decoded::Rejected { within: Some(within.into()), reason: reason.into(), raw }
    }
}

/// What a sniffer is shown to guess a format.
#[derive(Debug, Clone, Copy)]
pub struct SniffInput<'a> {
    /// The first bytes of the input (up to [`SNIFF_BYTES`]).
    pub head: &'a [u8],
    /// The file name, when reading a file.
    pub file_name: Option<&'a str>,
}

/// How many leading bytes auto-detection looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A format decoder. Implementations are stateless and pure.
pub trait Decoder: Send + Sync + 'static {
    /// The format's name as used by `--format` (`x-v2`, `twcs`, ...).
    fn name(&self) -> &'static str;
    /// One line for `--help` and error messages.
    fn description(&self) -> &'static str;
    /// How input bytes are cut into records.
    fn framing(&self) -> Framing;
    /// How sure this decoder is that the input is its format: 0 = not mine, 100 = certain.
    fn sniff(&self, input: SniffInput<'_>) -> u8;
    /// Decodes one record, appending everything found to `out`.
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>);
}

/// Every decoder earshot knows, in alphabetical order of file name. Register new formats here.
pub fn registry() -> &'static [&'static dyn Decoder] {
    &[
        &bluesky_jetstream::BlueskyJetstream,
        &feed::Feed,
        &ibm_care::IbmCare,
        &jsonl::Jsonl,
        &mastodon::Mastodon,
        &twcs_csv::TwcsCsv,
        &x_archive::XArchive,
        &x_v1::XV1,
        &x_v2::XV2,
    ]
}

/// The names accepted by `--format`, besides `auto`.
pub fn format_names() -> Vec<&'static str> {
    registry().iter().map(|d| d.name()).collect()
}

/// Looks a decoder up by its `--format` name.
pub fn by_name(name: &str) -> Option<&'static dyn Decoder> {
    registry().iter().copied().find(|d| d.name().eq_ignore_ascii_case(name))
}

/// Why a format could not be detected.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// No decoder recognised the input.
    #[error("could not recognise the format of {source_name}; pass --format with one of: {}", format_names().join(", "))]
    Unknown {
        /// The file being read.
        source_name: String,
    },
    /// Two decoders are equally sure.
    #[error("the format of {source_name} is ambiguous ({a} or {b}); pass --format to choose")]
    Ambiguous {
        /// The file being read.
        source_name: String,
        /// First candidate.
        a: &'static str,
        /// Second candidate.
        b: &'static str,
    },
}

/// Picks the decoder most sure about `input`.
pub fn detect(input: SniffInput<'_>, source_name: &str) -> Result<&'static dyn Decoder, DetectError> {
    let mut scored: Vec<(u8, &'static dyn Decoder)> =
        registry().iter().map(|d| (d.sniff(input), *d)).filter(|(s, _)| *s > 0).collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scored.as_slice() {
        [] => Err(DetectError::Unknown { source_name: source_name.to_string() }),
        [(s1, a), (s2, b), ..] if s1 == s2 => {
            Err(DetectError::Ambiguous { source_name: source_name.to_string(), a: a.name(), b: b.name() })
        }
        [(_, d), ..] => Ok(*d),
    }
}

/// Convenience for tests and tools: decodes a whole input with one decoder.
pub fn decode_all(decoder: &dyn Decoder, input: &[u8]) -> Vec<Decoded> {
    let mut out = Vec::new();
    // Reading from a slice cannot fail with an I/O error.
    let _ = decode_reader(decoder, input, |item| out.push(item.decoded));
    out
}

/// The top-level JSON values of a record: one for a line, any number for a
/// document (a pretty-printed object, an array, concatenated objects).
///
/// Each value comes with a label saying where it sits (`None` for a line,
/// `value N` in a multi-value document). A syntax error inside a document is
/// returned as one entry and reading resumes at the next line that starts a
/// value (see [`json::json_items`], which this wraps for decoders that do not
/// need the offending bytes).
pub fn json_values(record: Record<'_>) -> Vec<(Option<String>, Result<&serde_json::value::RawValue, String>)> {
    json::json_items(record).into_iter().map(|item| (item.within, item.value.map_err(|(reason, _)| reason))).collect()
}
