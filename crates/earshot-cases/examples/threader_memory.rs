//! Resident memory of a [`Threader`] holding N posts (firehose-like: one brand reply per five posts).
//! `cargo run --release -p earshot-cases --example threader_memory -- 1000000 [orphans]`; with `orphans` every brand
//! reply answers a post the threader never saw (kept pending, up to the cap).
use chrono::{TimeZone, Utc};
use earshot_cases::{ThreadInput, Threader};
use earshot_core::post::Platform;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let orphans = std::env::args().nth(2).as_deref() == Some("orphans");
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let before = rss_kib();
    let mut t = Threader::default();
    for i in 0..n {
        let id = 1_800_000_000_000_000_000u64 + i * 7919;
        let at = start + chrono::Duration::milliseconds(i as i64);
        let brand = format!("brand{}", if i % 5 == 4 && !orphans { (i - 1) % 50 } else { i % 50 });
        let mut input = if i % 5 == 4 {
            let mut p = ThreadInput::new(Platform::X, id.to_string(), format!("{brand}care"), at);
            p.author_is_brand = true;
            p.reply_to = Some((id - 7919).to_string());
            p.reply_to_author = Some(format!("customer_{}", (i - 1) % 200_000));
            p.conversation_id = Some((id - 7919).to_string());
            p
        } else {
            let mut p = ThreadInput::new(Platform::X, id.to_string(), format!("customer_{}", i % 200_000), at);
            p.conversation_id = Some(id.to_string());
            p
        };
        input.brand = Some(brand);
        t.assign(&input);
    }
    let after = rss_kib();
    println!(
        "{n} posts: {:?}; RSS +{} MiB, {} bytes/post",
        t.stats(),
        (after - before) / 1024,
        (after - before) * 1024 / n
    );
}
