//! Storm tracker throughput with 1,000 brands active, and memory per brand.
//!
//! `cargo bench -p earshot-storms --bench tracker`
//!
//! A seeded day of organic traffic for 1,000 brands (2 to 60 posts an hour each, daily cycles,
//! the traffic mix of `tests/support.rs`) warms the tracker up (baselines, key tables, text
//! clusters and volume detectors filled); the benchmark then times the next two hours (with ten
//! campaigns injected) from clones of that warm state. Memory per brand (`memory_bytes()` /
//! brands) is printed after the warm-up day and after the measured hours.

#[path = "../tests/support.rs"]
mod support;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use earshot_storms::tracker::{StormTracker, TrackerConfig};
use std::hint::black_box;
use support::*;

const BRANDS: usize = 1000;

fn streams() -> (Vec<Post>, Vec<Post>) {
    let brands: Vec<Brand> = (0..BRANDS)
        .map(|i| {
            // Rates from 2 to 60 an hour, most brands small.
            let rate = 2.0 + 58.0 * ((i * 7919) % BRANDS) as f64 / BRANDS as f64;
            let rate = rate * rate / 60.0 + 2.0;
            Brand::new(&format!("brand{i:04}"), rate, 0.6, (i % 24) as f64, 0.8)
        })
        .collect();
    let all = organic(&brands, T0, 2, 11, 1);
    let split = T0 + DAY;
    let end = split + 2 * HOUR;
    let warm: Vec<Post> = all.iter().filter(|p| p.published < split).cloned().collect();
    let mut measured: Vec<Post> = all.into_iter().filter(|p| p.published >= split && p.published < end).collect();
    let mut camps = Vec::new();
    for k in 0..10 {
        let c = Campaign {
            brand: brands[k * 97].name.clone(),
            onset: split + k as i64 * 600,
            authors: 30,
            span: 1200,
            shape: Shape::Random,
            shared: Shared::Hashtag(format!("bench{k}")),
            copypasta: k % 2 == 0,
            complaint: true,
        };
        camps.push(campaign(&c, 500 + k as u64, 2_000_000_000 + k as i64 * 1000));
    }
    camps.push(measured);
    measured = merge(camps);
    (warm, measured)
}

fn bench(c: &mut Criterion) {
    let (warm, measured) = streams();
    let mut tracker = StormTracker::new(TrackerConfig::default());
    let mut out = Vec::new();
    for p in &warm {
        tracker.observe(&p.obs(), &mut out);
    }
    let brands = tracker.brands();
    println!(
        "warm-up: {} posts, {brands} brands, {} storms opened; memory {} bytes = {} bytes/brand",
        warm.len(),
        tracker.stats().opened,
        tracker.memory_bytes(),
        tracker.memory_bytes() / brands.max(1)
    );
    println!("  by component: {:?}", tracker.memory_report());
    let mut after = tracker.clone();
    let mut out = Vec::new();
    for p in &measured {
        after.observe(&p.obs(), &mut out);
    }
    println!(
        "measured stream: {} posts over 2 h, {} events; memory after {} bytes = {} bytes/brand",
        measured.len(),
        out.len(),
        after.memory_bytes(),
        after.memory_bytes() / after.brands().max(1)
    );

    let mut g = c.benchmark_group("tracker");
    g.sample_size(10);
    g.throughput(Throughput::Elements(measured.len() as u64));
    g.bench_function("observe_1000_brands", |b| {
        b.iter_batched(
            || tracker.clone(),
            |mut t| {
                let mut out = Vec::new();
                for p in &measured {
                    t.observe(&p.obs(), &mut out);
                }
                black_box((t, out))
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
