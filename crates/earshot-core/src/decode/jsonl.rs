//! Plain JSON Lines: {\"text\", \"author\", \"created_at\", ...} per line decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// Plain JSON Lines: {\"text\", \"author\", \"created_at\", ...} per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Jsonl;

impl Decoder for Jsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }
    fn description(&self) -> &'static str {
        "Plain JSON Lines: {\"text\", \"author\", \"created_at\", ...} per line"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the jsonl decoder is not implemented yet"));
    }
}
