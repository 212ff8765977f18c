//! Generation throughput: posts per second written as X API v2 lines (the
//! `earshot bench` path) and as Bluesky Jetstream events, from the real texts
//! when `../shared/data` is present (else a small built-in list).
//!
//! `cargo bench -p earshot-gen --bench generate`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use earshot_gen::{Format, Generator, Length, Params, StormSpec, TextBank};
use std::path::Path;

const POSTS: u64 = 20_000;

fn bank() -> TextBank {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    TextBank::load(&dir).unwrap_or_else(|_| {
        TextBank::from_texts([
            "my flight was cancelled and nobody at the desk can tell me anything",
            "my order still has not arrived after two weeks, what is going on?",
            "thank you for the quick help with my refund, great service",
            "Please send us a DM with your order number and we will look into it",
        ])
        .expect("texts")
    })
}

fn generate(c: &mut Criterion) {
    let bank = bank();
    let params = Params {
        length: Length::Posts(POSTS),
        brands: 50,
        rate: 2_000.0,
        storms: StormSpec::Auto,
        ..Params::default()
    };
    // Warm the bank's lazily cleaned texts so every iteration measures the same work.
    let _ = earshot_gen::generate(Generator::new(params.clone(), &bank).unwrap(), Format::XV2, std::io::sink());
    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(POSTS));
    group.sample_size(10);
    for format in [Format::XV2, Format::Bluesky] {
        group.bench_function(format.name(), |b| {
            b.iter(|| {
                let g = Generator::new(params.clone(), &bank).unwrap();
                earshot_gen::generate(g, format, std::io::sink()).unwrap().1.totals.posts
            })
        });
    }
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
