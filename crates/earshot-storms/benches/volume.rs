//! Volume detector: buckets scored per second, and memory per brand.
//!
//! `cargo bench -p earshot-storms --bench volume`. Memory is not a time, so
//! it is printed before the timings: `memory_bytes` of one detector after a
//! month of 5-minute buckets, and of 1,000 brands' detectors (the tracker's
//! load), plus the size of one detector's JSON state.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use earshot_storms::volume::{VolumeConfig, VolumeDetector};

const FIVE_MIN: i64 = 300;
const T0: i64 = 1_425_254_400;

/// A month of 5-minute counts: a daily cycle around `mean`, pseudo-random
/// noise and a spike every ~2.5 days (a linear congruential generator, so
/// the bench needs no RNG crate and every run sees the same series).
fn month(mean: f64, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..30 * 288)
        .map(|i| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 2.0;
            let hour = (i % 288) as f64 / 12.0;
            let rate = mean * (1.0 + 0.6 * (std::f64::consts::TAU * (hour - 9.0) / 24.0).cos());
            let spike = if i % 700 < 3 { 6.0 } else { 1.0 };
            ((rate + noise * rate.sqrt()) * spike).round().max(0.0)
        })
        .collect()
}

fn report_memory() {
    let mut one = VolumeDetector::new(VolumeConfig::default());
    for (i, &c) in month(60.0, 1).iter().enumerate() {
        one.push(T0 + i as i64 * FIVE_MIN, c);
    }
    let json = serde_json::to_string(&one).map_or(0, |s| s.len());
    let brands: Vec<VolumeDetector> = (0..1000u64)
        .map(|b| {
            let mut d = VolumeDetector::new(VolumeConfig::default());
            for (i, &c) in month(5.0 + (b % 50) as f64, b + 1).iter().enumerate().take(7 * 288) {
                d.push(T0 + i as i64 * FIVE_MIN, c);
            }
            d
        })
        .collect();
    let total: usize = brands.iter().map(VolumeDetector::memory_bytes).sum();
    eprintln!(
        "memory_bytes: one detector after 30 days {} B (JSON state {} B); 1,000 brands after 7 days {} B ({:.0} B each)",
        one.memory_bytes(),
        json,
        total,
        total as f64 / 1000.0
    );
}

fn pushes(c: &mut Criterion) {
    report_memory();
    let counts = month(60.0, 7);
    let mut group = c.benchmark_group("volume");
    group.throughput(Throughput::Elements(counts.len() as u64));
    group.bench_function("push_30_days_of_5min_buckets", |b| {
        b.iter(|| {
            let mut d = VolumeDetector::new(VolumeConfig::default());
            let mut alerts = 0;
            for (i, &count) in counts.iter().enumerate() {
                if d.push(T0 + i as i64 * FIVE_MIN, black_box(count)) >= 0.5 {
                    alerts += 1;
                }
            }
            alerts
        })
    });

    // The tracker's pattern: one bucket closes for every brand at once.
    let mut brands: Vec<VolumeDetector> = (0..1000u64)
        .map(|b| {
            let mut d = VolumeDetector::new(VolumeConfig::default());
            for (i, &c) in month(20.0, b + 1).iter().enumerate().take(2 * 288) {
                d.push(T0 + i as i64 * FIVE_MIN, c);
            }
            d
        })
        .collect();
    group.throughput(Throughput::Elements(brands.len() as u64));
    let mut bucket = 2 * 288;
    group.bench_function("one_bucket_for_1000_brands", |b| {
        b.iter(|| {
            bucket += 1;
            let t = T0 + bucket * FIVE_MIN;
            brands.iter_mut().enumerate().map(|(k, d)| d.push(t, black_box((k % 40) as f64))).sum::<f64>()
        })
    });
    group.finish();
}

criterion_group!(benches, pushes);
criterion_main!(benches);
