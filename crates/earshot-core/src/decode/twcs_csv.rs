//! Customer Support on Twitter CSV (tweet_id,author_id,inbound,created_at,text,...) decoder. (Being written: rejects every record until implemented.)

use super::{Decoded, Decoder, Framing, Record, SniffInput};

/// Customer Support on Twitter CSV (tweet_id,author_id,inbound,created_at,text,...).
#[derive(Debug, Clone, Copy, Default)]
pub struct TwcsCsv;

impl Decoder for TwcsCsv {
    fn name(&self) -> &'static str {
        "twcs"
    }
    fn description(&self) -> &'static str {
        "Customer Support on Twitter CSV (tweet_id,author_id,inbound,created_at,text,...)"
    }
    fn framing(&self) -> Framing {
        Framing::Csv
    }
    fn sniff(&self, _input: SniffInput<'_>) -> u8 {
        0
    }
    fn decode(&self, _record: Record<'_>, out: &mut Vec<Decoded>) {
        out.push(Decoded::reject("the twcs decoder is not implemented yet"));
    }
}
