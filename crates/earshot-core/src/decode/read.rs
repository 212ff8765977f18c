//! The shared framer: cuts a byte stream into records per [`Framing`], tracks
//! where each record sits in its source, and hands records to a decoder.
//!
//! Line- and CSV-framed inputs are streamed with bounded memory; document
//! formats (one JSON array, one XML feed) are read whole because their items
//! cannot be told apart without parsing the document.

use super::{Decoded, Decoder, Framing, Record};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Read};

/// Where a record sits in its source, for rejects and audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    /// 1-based line number where the record starts.
    pub line: u64,
    /// Byte offset where the record starts.
    pub byte: u64,
    /// 0-based index of the record in its source (lines, CSV rows; 0 for a document).
    pub record: u64,
}

/// One decoded item with the position of the record it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct FramedItem {
    /// Where the record starts.
    pub position: Position,
    /// What the decoder made of it.
    pub decoded: Decoded,
    /// The whole record's bytes, kept only for rejects (for audit and replay).
    pub record_raw: Option<Vec<u8>>,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest id or handle a post may carry, in bytes. Real ones are far shorter (X ids are at most 19 digits, AT
/// and Mastodon URIs ~100 bytes, handles at most 253); PostgreSQL cannot index a value over ~2.7 KB, so a record
/// carrying one would fail its whole batch there while SQLite took it. Every store rejects it here instead.
pub const MAX_KEY_BYTES: usize = 1024;

/// Turns a post or deletion whose ids or handles are longer than [`MAX_KEY_BYTES`] into a reject saying which.
fn check_keys(decoded: Decoded) -> Decoded {
    let too_long = |fields: &[(&str, Option<&String>)]| {
        fields.iter().find_map(|(name, v)| {
            v.filter(|v| v.len() > MAX_KEY_BYTES).map(|v| {
                format!(
                    "{name} is {} bytes long; ids and handles longer than {MAX_KEY_BYTES} bytes are not accepted",
                    v.len()
                )
            })
        })
    };
    let reason = match &decoded {
        Decoded::Post(p) => too_long(&[
            ("the post id", Some(&p.native_id)),
            ("the replied-to id", p.reply_to.as_ref()),
            ("the conversation id", p.conversation_id.as_ref()),
            ("the author id", p.author.id.as_ref()),
            ("the author handle", Some(&p.author.handle)),
            ("the replied-to author", p.reply_to_author.as_ref()),
        ]),
        Decoded::Deletion(d) => too_long(&[("the deleted post's id", Some(&d.native_id))]),
        _ => None,
    };
    match reason {
        Some(reason) => Decoded::reject(reason),
        None => decoded,
    }
}

/// Reads `reader` to the end, framing it for `decoder`, and calls `sink` for every decoded item.
///
/// Only I/O errors stop the run; undecodable records become [`Decoded::Rejected`] items.
pub fn decode_reader<R: Read>(decoder: &dyn Decoder, reader: R, mut sink: impl FnMut(FramedItem)) -> io::Result<()> {
    let mut out = Vec::new();
    let emit = |position: Position, record: Record<'_>, out: &mut Vec<Decoded>, sink: &mut dyn FnMut(FramedItem)| {
        decoder.decode(record, out);
        let mut raw_cache: Option<Vec<u8>> = None;
        for decoded in out.drain(..).map(check_keys) {
            let record_raw = if matches!(decoded, Decoded::Rejected { .. }) {
                Some(raw_cache.get_or_insert_with(|| record.raw_bytes()).clone())
            } else {
                None
            };
            sink(FramedItem { position, decoded, record_raw });
        }
    };
    match decoder.framing() {
        Framing::Lines => {
            let mut reader = io::BufReader::with_capacity(256 * 1024, reader);
            let mut buf = Vec::with_capacity(4096);
            let (mut line_no, mut byte, mut index) = (0u64, 0u64, 0u64);
            loop {
                buf.clear();
                let n = reader.read_until(b'\n', &mut buf)?;
                if n == 0 {
                    break;
                }
                line_no += 1;
                let start = byte;
                byte += n as u64;
                let mut line = trim_line_end(&buf);
                if line_no == 1 {
                    line = line.strip_prefix(UTF8_BOM).unwrap_or(line);
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if index == 0 && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err() {
                    // Not one JSON value per line: a pretty-printed document or
                    // array. Hand the rest of the input over whole.
                    let mut doc = line.to_vec();
                    doc.push(b'\n');
                    reader.read_to_end(&mut doc)?;
                    let pos = Position { line: line_no, byte: start, record: 0 };
                    emit(pos, Record::Document(&doc), &mut out, &mut sink);
                    return Ok(());
                }
                let pos = Position { line: line_no, byte: start, record: index };
                index += 1;
                emit(pos, Record::Line(line), &mut out, &mut sink);
            }
        }
        Framing::Document => {
            let mut doc = Vec::new();
            io::BufReader::new(reader).read_to_end(&mut doc)?;
            let body = doc.strip_prefix(UTF8_BOM).unwrap_or(&doc);
            if !body.iter().all(u8::is_ascii_whitespace) {
                emit(Position { line: 1, byte: 0, record: 0 }, Record::Document(body), &mut out, &mut sink);
            }
        }
        Framing::Csv => {
            // csv-core counts a CRLF's line break as part of the next record,
            // so its line numbers are one short on CRLF files: count lines ourselves.
            let newlines = std::rc::Rc::new(std::cell::RefCell::new(NewlineIndex::default()));
            let reader = NewlineCounting { inner: reader, index: newlines.clone(), offset: 0 };
            let line_at = |byte: u64| newlines.borrow_mut().line_at(byte);
            let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
            let headers = match rdr.byte_headers() {
                Ok(h) => {
                    let mut h = h.clone();
                    if let Some(first) = h.get(0).map(|f| f.strip_prefix(UTF8_BOM).unwrap_or(f).to_vec()) {
                        let mut fixed = csv::ByteRecord::new();
                        fixed.push_field(&first);
                        for f in h.iter().skip(1) {
                            fixed.push_field(f);
                        }
                        h = fixed;
                    }
                    h
                }
                Err(e) => return csv_io_error(e),
            };
            let mut row = csv::ByteRecord::new();
            let mut index = 0u64;
            loop {
                let pos_before = rdr.position().clone();
                match rdr.read_byte_record(&mut row) {
                    Ok(false) => break,
                    Ok(true) => {
                        let p = row.position().unwrap_or(&pos_before);
                        let pos = Position { line: line_at(p.byte()), byte: p.byte(), record: index };
                        index += 1;
                        emit(pos, Record::Csv { headers: &headers, row: &row }, &mut out, &mut sink);
                    }
                    Err(e) => {
                        if e.is_io_error() {
                            return csv_io_error(e);
                        }
                        let p = e.position().unwrap_or(&pos_before);
                        let pos = Position { line: line_at(p.byte()), byte: p.byte(), record: index };
                        index += 1;
                        sink(FramedItem {
                            position: pos,
                            decoded: Decoded::reject(format!("malformed CSV row: {e}")),
                            record_raw: Some(Vec::new()),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

fn csv_io_error(e: csv::Error) -> io::Result<()> {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Err(io),
        other => Err(io::Error::new(io::ErrorKind::InvalidData, format!("{other:?}"))),
    }
}

/// Offsets of the `\n` bytes read so far but not yet passed by a record, so
/// line numbers can be computed from byte offsets with bounded memory.
#[derive(Debug, Default)]
struct NewlineIndex {
    pending: std::collections::VecDeque<u64>,
    passed: u64,
}

impl NewlineIndex {
    /// The 1-based line of a record said to start at `byte`. A record whose
    /// start offset is its own leading line break (CRLF files) starts on the
    /// next line, hence `<=`.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.pending.front().is_some_and(|&nl| nl <= byte) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

struct NewlineCounting<R> {
    inner: R,
    index: std::rc::Rc<std::cell::RefCell<NewlineIndex>>,
    offset: u64,
}

impl<R: Read> Read for NewlineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut index = self.index.borrow_mut();
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            index.pending.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn trim_line_end(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end > 0 && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
        end -= 1;
    }
    &buf[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_id_is_rejected_with_its_reason_and_the_rest_goes_on() {
        let long = "9".repeat(3000);
        let line = |id: &str| {
            format!(
                r#"{{"data":{{"id":"{id}","text":"hello @GiltCare","author_id":"1","created_at":"2026-01-05T00:00:00.000Z"}}}}"#
            )
        };
        let input = format!("{}\n{}\n{}\n", line("1"), line(&long), line("2"));
        let decoder = super::super::by_name("x-v2").expect("x-v2 decoder");
        let mut items = Vec::new();
        decode_reader(decoder, input.as_bytes(), |i| items.push(i)).unwrap();
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0].decoded, Decoded::Post(p) if p.native_id == "1"));
        match &items[1].decoded {
            Decoded::Rejected { reason, .. } => assert!(reason.contains("post id is 3000 bytes"), "{reason}"),
            other => panic!("expected a reject, got {other:?}"),
        }
        assert_eq!(items[1].position.line, 2);
        assert!(items[1].record_raw.as_ref().is_some_and(|r| r.len() > 3000), "the record's bytes are kept");
        assert!(matches!(&items[2].decoded, Decoded::Post(p) if p.native_id == "2"));
    }
}
