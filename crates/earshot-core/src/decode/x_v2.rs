//! X/Twitter API v2: responses with data/includes, filtered-stream lines decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// X/Twitter API v2: responses with data/includes, filtered-stream lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct XV2;

impl Decoder for XV2 {
    fn name(&self) -> &'static str {
        "x-v2"
    }
    fn description(&self) -> &'static str {
        "X/Twitter API v2: responses with data/includes, filtered-stream lines"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the x-v2 decoder is not implemented yet"));
    }
}
