//! Throughput of `polarity_scores` on real tweets (TweetEval sentiment val and train texts).
//!
//! `cargo bench -p earshot-vader --bench vader`; criterion reports texts/s as `thrpt` (elements/s).
//! Compare with Python: `.venv/bin/python crates/earshot-vader/tests/vader_reference.py --bench FILE`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use earshot_vader::SentimentIntensityAnalyzer;

fn load(file: &str) -> Option<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tweeteval-sentiment").join(file);
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s.lines().map(str::to_owned).collect()),
        Err(e) => {
            eprintln!("skipping {}: {e}", path.display());
            None
        }
    }
}

fn bench(c: &mut Criterion) {
    let analyzer = SentimentIntensityAnalyzer::new();
    // Build the lexicon outside the measurement.
    black_box(analyzer.polarity_scores("warm up"));

    let mut group = c.benchmark_group("polarity_scores");
    if let Some(texts) = load("val_text.txt") {
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_function("tweeteval_val_2000", |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(analyzer.polarity_scores(black_box(t)));
                }
            });
        });
    }
    if let Some(texts) = load("train_text.txt") {
        group.sample_size(10).measurement_time(Duration::from_secs(8));
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_function("tweeteval_train_45659", |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(analyzer.polarity_scores(black_box(t)));
                }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("single_text");
    group.throughput(Throughput::Elements(1));
    group.bench_function("emoji_caps_but", |b| {
        b.iter(|| {
            analyzer.polarity_scores(black_box(
                "@united I LOVE the crew 😍 but the delay was NOT ok!!! kind of a mess tbh 😡 #fail",
            ))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
