//! Writing generated posts in the platforms' own formats, one record per
//! post, as earshot's decoders read them (`crates/earshot-core/src/decode/`):
//!
//! | `--format` | records | earshot decoder |
//! |---|---|---|
//! | `x-v2` (default) | X API v2 filtered-stream lines: `{"data":…,"includes":{"users":…},"matching_rules":…}` | `x-v2` |
//! | `mastodon` | Mastodon streaming events (WebSocket form): `{"stream":["public"],"event":"update","payload":"<status JSON>"}` | `mastodon` |
//! | `bluesky-jetstream` | Jetstream `commit` events creating `app.bsky.feed.post` records | `bluesky` |
//! | `jsonl` | earshot's plain JSON Lines | `jsonl` |
//! | `twcs-csv` | rows of the Customer Support on Twitter CSV | `twcs` |
//!
//! Each format names posts its own way ([`Format::native_id`]); the truth
//! file uses the output format's ids.

mod bluesky;
mod jsonl;
mod mastodon;
mod twcs;
mod x_v2;

use crate::GenError;
use crate::generator::GenPost;
use crate::world::{Account, Brand, mix64};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::str::FromStr;

/// The Mastodon server every generated account lives on (all local, so
/// replies resolve to status URIs; see the mastodon decoder's docs).
pub const MASTODON_HOST: &str = "social.example";

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// X API v2 filtered-stream JSON lines.
    #[serde(rename = "x-v2")]
    XV2,
    /// Mastodon streaming `update` events.
    #[serde(rename = "mastodon")]
    Mastodon,
    /// Bluesky Jetstream commit events.
    #[serde(rename = "bluesky-jetstream")]
    Bluesky,
    /// earshot's generic JSON Lines.
    #[serde(rename = "jsonl")]
    Jsonl,
    /// Customer Support on Twitter CSV.
    #[serde(rename = "twcs-csv")]
    Twcs,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 5] = [Format::XV2, Format::Mastodon, Format::Bluesky, Format::Jsonl, Format::Twcs];

    /// The `--format` name.
    pub fn name(self) -> &'static str {
        match self {
            Format::XV2 => "x-v2",
            Format::Mastodon => "mastodon",
            Format::Bluesky => "bluesky-jetstream",
            Format::Jsonl => "jsonl",
            Format::Twcs => "twcs-csv",
        }
    }

    /// The name of the earshot decoder that reads it (`earshot ingest --format`).
    pub fn decoder(self) -> &'static str {
        match self {
            Format::XV2 => "x-v2",
            Format::Mastodon => "mastodon",
            Format::Bluesky => "bluesky",
            Format::Jsonl => "jsonl",
            Format::Twcs => "twcs",
        }
    }

    /// A file extension for it.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Twcs => "csv",
            _ => "jsonl",
        }
    }

    /// The id earshot stores the post with id `id` by `author` under (`Post::native_id`).
    pub fn native_id(self, id: u64, author: &Account) -> String {
        match self {
            Format::XV2 | Format::Jsonl | Format::Twcs => id.to_string(),
            Format::Mastodon => mastodon::status_uri(&author.username, id),
            Format::Bluesky => bluesky::at_uri(author, id),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = GenError;

    fn from_str(s: &str) -> Result<Format, GenError> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s || f.decoder() == s || (s == "x" && *f == Format::XV2))
            .ok_or_else(|| GenError::UnknownFormat {
                name: s.clone(),
                known: Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "),
            })
    }
}

/// What writers need to know about a brand beyond the post.
#[derive(Debug, Clone)]
pub(crate) struct BrandInfo {
    /// The X filtered-stream rule that matched the brand's posts.
    pub rule_id: String,
    /// The rule's tag.
    pub rule_tag: String,
}

/// Where records go: straight to the writer, or through a CSV writer.
enum Sink<W: Write> {
    Plain(W),
    Csv(Box<csv::Writer<W>>),
}

/// Writes posts in one format to `out`.
pub struct PostWriter<W: Write> {
    format: Format,
    sink: Sink<W>,
    brands: Vec<BrandInfo>,
    scratch: String,
}

impl<W: Write> std::fmt::Debug for PostWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostWriter").field("format", &self.format).finish()
    }
}

impl<W: Write> PostWriter<W> {
    /// A writer of `format` records about `brands` (the generator's brands) to `out`.
    ///
    /// # Errors
    /// [`GenError::Io`] when the CSV header cannot be written.
    pub fn new(format: Format, out: W, brands: &[Brand]) -> Result<PostWriter<W>, GenError> {
        let brands = brands
            .iter()
            .map(|b| BrandInfo {
                rule_id: (1_790_000_000_000_000_000u64 + mix64(b.index as u64 + 1) % 100_000_000_000_000).to_string(),
                rule_tag: b.main.username.to_lowercase(),
            })
            .collect();
        let sink = if format == Format::Twcs { Sink::Csv(Box::new(twcs::writer(out)?)) } else { Sink::Plain(out) };
        Ok(PostWriter { format, sink, brands, scratch: String::new() })
    }

    /// The format written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes one post.
    ///
    /// # Errors
    /// [`GenError::Io`] when writing fails.
    pub fn write(&mut self, post: &GenPost) -> Result<(), GenError> {
        match &mut self.sink {
            Sink::Csv(w) => twcs::write(w, post),
            Sink::Plain(out) => match self.format {
                Format::XV2 => x_v2::write(out, post, &self.brands[post.brand], &mut self.scratch),
                Format::Mastodon => mastodon::write(out, post),
                Format::Bluesky => bluesky::write(out, post),
                Format::Jsonl | Format::Twcs => jsonl::write(out, post),
            },
        }
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// [`GenError::Io`] when flushing fails.
    pub fn finish(self) -> Result<W, GenError> {
        match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| GenError::Io(e.into_error())),
            Sink::Plain(mut out) => {
                out.flush()?;
                Ok(out)
            }
        }
    }
}

/// JSON-encodes `value` and a newline to `out`.
pub(crate) fn json_line<W: Write, T: Serialize>(out: &mut W, value: &T) -> Result<(), GenError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| GenError::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// RFC 3339 in UTC with milliseconds and `Z`, the way X and Mastodon write times.
pub(crate) fn rfc3339_ms(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
