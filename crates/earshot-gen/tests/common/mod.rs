//! Shared helpers: text banks and running a generator to memory.

#![allow(dead_code)]

use earshot_gen::{Format, GenPost, Generator, Length, Params, StormSpec, TextBank, Truth};
use std::path::PathBuf;
use std::sync::OnceLock;

/// `<repo>/../shared/data`, where CI keeps the public data sets.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The real text bank, loaded once per test binary; `None` (with a note) when the data is absent outside CI.
pub fn real_bank() -> Option<&'static TextBank> {
    static BANK: OnceLock<Option<TextBank>> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = data_dir();
        if !dir.join("complaints").exists() {
            assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/data");
            eprintln!("skipping: {} not found", dir.display());
            return None;
        }
        Some(TextBank::load(&dir).expect("the shared data loads"))
    })
    .as_ref()
}

/// A small bank of customer-care texts (with a hashtag and a link among them), for tests that need no real data.
pub fn small_bank() -> &'static TextBank {
    static BANK: OnceLock<TextBank> = OnceLock::new();
    BANK.get_or_init(|| {
        TextBank::from_texts([
            "@united my flight was cancelled and nobody at the desk can tell me anything",
            "my order still has not arrived after two weeks, what is going on?",
            "thank you for the quick help with my refund, great service",
            "the app keeps crashing every time I try to log in #fail",
            "been on hold for 45 minutes, this is ridiculous",
            "can you tell me when the outage in my area will be fixed?",
            "love the new update, works much better now",
            "charged twice for the same order, please fix this",
            "my bag was lost on the way home and the claim form does not work http://t.co/AbC123xyz",
            "why does customer service close at 5pm on a weekday?",
            "still waiting for a reply to my email from last week",
            "the wifi on board did not work for the whole trip",
            "I have been a customer for ten years and this is how you treat me",
            "the delivery driver left my parcel in the rain again",
            "hi, I sent you a DM with my account details",
            "thanks, that fixed it! really appreciate it",
            "Please send us a DM with your order number and we will look into it ^JS",
            "We are sorry to hear that. Can you follow the link to reset your password?",
            "no response yet, still no refund",
            "the new prices are a joke, I am cancelling my subscription",
        ])
        .expect("texts")
    })
}

/// Parameters for a short run.
pub fn params(days: f64, brands: usize, rate: f64, seed: u64, storms: &str) -> Params {
    Params {
        length: Length::Days(days),
        brands,
        rate,
        seed,
        storms: storms.parse::<StormSpec>().expect("storm spec"),
        ..Params::default()
    }
}

/// Every post of a run, in order.
pub fn posts(params: &Params, bank: &TextBank) -> Vec<GenPost> {
    Generator::new(params.clone(), bank).expect("generator").collect()
}

/// A run written in `format`: the bytes and the truth.
pub fn write(params: &Params, bank: &TextBank, format: Format) -> (Vec<u8>, Truth) {
    let g = Generator::new(params.clone(), bank).expect("generator");
    earshot_gen::generate(g, format, Vec::new()).expect("generate")
}
