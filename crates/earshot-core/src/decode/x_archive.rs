//! X/Twitter account archive (data/tweets.js) decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// X/Twitter account archive (data/tweets.js).
#[derive(Debug, Clone, Copy, Default)]
pub struct XArchive;

impl Decoder for XArchive {
    fn name(&self) -> &'static str {
        "x-archive"
    }
    fn description(&self) -> &'static str {
        "X/Twitter account archive (data/tweets.js)"
    }
    fn framing(&self) -> Framing {
        Framing::Document
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the x-archive decoder is not implemented yet"));
    }
}
