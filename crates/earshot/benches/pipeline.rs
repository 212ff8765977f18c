//! Per-stage throughput: decode per format, attribution, and decode + store.
//!
//! `cargo bench -p earshot --bench pipeline`. End-to-end figures on large
//! files come from `earshot bench` (see BENCHMARKS.md).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use earshot::bench::{brand_handles, generate_x_v2_stream, load_texts};
use earshot::ingest::{Ingestor, Input};
use earshot_core::brand::{BrandConfig, Brands};
use earshot_core::decode::{self, Decoded};
use earshot_store::SqliteStore;
use std::hint::black_box;

const POSTS: u64 = 20_000;

fn stream() -> Vec<u8> {
    let texts = load_texts(None).expect("texts");
    let mut buf = Vec::new();
    generate_x_v2_stream(&mut buf, POSTS, 50, &texts, 7).expect("generate");
    buf
}

fn brands() -> Vec<BrandConfig> {
    brand_handles(50)
        .into_iter()
        .map(|h| BrandConfig { name: h.clone(), handles: vec![format!("@{h}")], ..BrandConfig::default() })
        .collect()
}

fn decode_formats(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let x_v2 = stream();
    g.throughput(Throughput::Elements(POSTS));
    g.bench_function("x-v2 stream", |b| {
        b.iter(|| black_box(decode::decode_all(decode::by_name("x-v2").expect("x-v2"), &x_v2)).len())
    });
    let twcs = std::fs::read("../../../shared/data/twcs/twcs_head5000.csv").unwrap_or_default();
    if !twcs.is_empty() {
        g.throughput(Throughput::Elements(5_000));
        g.bench_function("twcs csv", |b| {
            b.iter(|| black_box(decode::decode_all(decode::by_name("twcs").expect("twcs"), &twcs)).len())
        });
    }
    g.finish();
}

fn attribute(c: &mut Criterion) {
    let x_v2 = stream();
    let posts: Vec<_> = decode::decode_all(decode::by_name("x-v2").expect("x-v2"), &x_v2)
        .into_iter()
        .filter_map(|d| if let Decoded::Post(p) = d { Some(p) } else { None })
        .collect();
    let brands = Brands::new(brands());
    let mut g = c.benchmark_group("attribute");
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("50 brands", |b| b.iter(|| posts.iter().map(|p| brands.attribute(p).len()).sum::<usize>()));
    g.finish();
}

fn ingest(c: &mut Criterion) {
    let x_v2 = stream();
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(POSTS));
    for batch in [1_000usize, 5_000] {
        g.bench_with_input(BenchmarkId::new("x-v2 into sqlite, batch", batch), &batch, |b, &batch| {
            b.iter_with_setup(
                || (tempfile::tempdir().expect("tempdir"), brands()),
                |(dir, brands)| {
                    let mut store = SqliteStore::open(dir.path().join("b.db")).expect("store");
                    let mut ing = Ingestor::new(&mut store, Brands::new(brands)).batch_size(batch);
                    ing.ingest(Input::from_bytes("bench.jsonl", &x_v2), None).expect("ingest");
                    black_box(ing.finish().expect("finish"))
                },
            )
        });
    }
    g.finish();
}

criterion_group!(benches, decode_formats, attribute, ingest);
criterion_main!(benches);
