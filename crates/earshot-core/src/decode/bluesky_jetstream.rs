//! Bluesky Jetstream events (app.bsky.feed.post commits), one JSON event per line decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// Bluesky Jetstream events (app.bsky.feed.post commits), one JSON event per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlueskyJetstream;

impl Decoder for BlueskyJetstream {
    fn name(&self) -> &'static str {
        "bluesky"
    }
    fn description(&self) -> &'static str {
        "Bluesky Jetstream events (app.bsky.feed.post commits), one JSON event per line"
    }
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the bluesky decoder is not implemented yet"));
    }
}
