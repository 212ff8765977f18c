//! Mastodon statuses: REST JSON (one status or an array) and streaming payloads decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// Mastodon statuses: REST JSON (one status or an array) and streaming payloads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mastodon;

impl Decoder for Mastodon {
    fn name(&self) -> &'static str {
        "mastodon"
    }
    fn description(&self) -> &'static str {
        "Mastodon statuses: REST JSON (one status or an array) and streaming payloads"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the mastodon decoder is not implemented yet"));
    }
}
