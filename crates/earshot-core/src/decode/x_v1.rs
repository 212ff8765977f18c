//! X/Twitter API v1.1 tweet objects (JSON lines or an array) decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// X/Twitter API v1.1 tweet objects (JSON lines or an array).
#[derive(Debug, Clone, Copy, Default)]
pub struct XV1;

impl Decoder for XV1 {
    fn name(&self) -> &'static str {
        "x-v1"
    }
    fn description(&self) -> &'static str {
        "X/Twitter API v1.1 tweet objects (JSON lines or an array)"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the x-v1 decoder is not implemented yet"));
    }
}
