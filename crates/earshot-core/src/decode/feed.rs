//! RSS 2.0 and Atom feeds of blog posts and comments decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// RSS 2.0 and Atom feeds of blog posts and comments.
#[derive(Debug, Clone, Copy, Default)]
pub struct Feed;

impl Decoder for Feed {
    fn name(&self) -> &'static str {
        "feed"
    }
    fn description(&self) -> &'static str {
        "RSS 2.0 and Atom feeds of blog posts and comments"
    }
    fn framing(&self) -> Framing {
        Framing::Document
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the feed decoder is not implemented yet"));
    }
}
