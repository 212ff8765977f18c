//! Fuzzes the `ibm-care` decoder through the shared framer: it must never panic,
//! and every record must end as a post, deletion, skip or reject.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoder = earshot_core::decode::by_name("ibm-care").expect("registered decoder");
    let _ = earshot_core::decode::decode_all(decoder, data);
});
