//! The acceptance simulation: 30 days of seeded organic traffic for four brands (daily and weekly
//! seasonality, many hashtags, a popular own tag per brand, recurring near-duplicate templates,
//! heavy-tailed reach) with 48 coordinated campaigns injected (20–40 distinct authors within 20
//! minutes, sharing a hashtag, a link, a mention set or only a copy-pasted text).
//!
//! One run measures both criteria: every storm that holds no injected post is a false alarm of the
//! organic traffic; every campaign must be exactly one storm, detected within minutes.
//!
//! Run with `--nocapture` to see the figures:
//! `cargo test -p earshot-storms --test simulation -- --nocapture`.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use earshot_storms::storm::{Facet, Storm, StormEvent, StormKind};
use earshot_storms::tracker::{StormTracker, TrackerConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::*;

const DAYS: i64 = 30;

/// The seed: 20240101, or `EARSHOT_SIM_SEED` to explore others.
fn seed() -> u64 {
    std::env::var("EARSHOT_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_240_101)
}

/// The storm category a false alarm counts under.
fn category(s: &Storm) -> &'static str {
    match (s.kind, s.facet) {
        (StormKind::Campaign, _) | (StormKind::Volume, Facet::Product) => "campaign",
        (StormKind::Influencer, _) => "influencer",
        _ => "volume",
    }
}

/// Campaigns of 20–40 distinct authors within 20 minutes, one every 10–18 hours from day 2 on
/// (after the warm-up), rotating brands, shared keys and arrival shapes.
fn campaigns(brands: &[Brand]) -> Vec<Campaign> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed() + 1);
    let shapes = [Shape::Even, Shape::FrontLoaded, Shape::Random];
    let mut out = Vec::new();
    let mut t = T0 + DAY + rng.random_range(0..12 * HOUR);
    let mut k = 0;
    while t < T0 + (DAYS - 1) * DAY {
        let b = &brands[k % brands.len()];
        let shared = match k % 5 {
            0 | 1 => Shared::Hashtag(format!("olivetsocial{k}")),
            2 => Shared::Link(format!("https://petition.example/stop-{k}?utm_source=tw")),
            3 => Shared::Mentions(vec![b.name.clone(), "ceo".into(), format!("reporter{k}")]),
            _ => Shared::Text,
        };
        out.push(Campaign {
            brand: b.name.clone(),
            onset: t,
            authors: rng.random_range(20..=40),
            span: 20 * 60,
            shape: shapes[(k / 5) % shapes.len()],
            copypasta: matches!(shared, Shared::Text) || k % 2 == 0,
            shared,
            complaint: k % 3 == 0,
        });
        k += 1;
        t += 10 * HOUR + rng.random_range(0..8 * HOUR);
    }
    out
}

#[test]
fn a_month_of_traffic_detects_every_campaign_as_one_storm_and_few_false_storms() {
    let brands = brands();
    let specs = campaigns(&brands);
    let organic_posts = organic(&brands, T0, DAYS, seed(), 1);
    let organic_count = organic_posts.len();
    let mut streams = vec![organic_posts];
    let mut ids: Vec<BTreeSet<i64>> = Vec::new();
    for (i, c) in specs.iter().enumerate() {
        let posts = campaign(c, seed() + 100 + i as u64, 1_000_000_000 + i as i64 * 1000);
        ids.push(posts.iter().map(|p| p.id).collect());
        streams.push(posts);
    }
    let injected: BTreeSet<i64> = ids.iter().flatten().copied().collect();
    let posts = merge(streams);
    let mut tracker = StormTracker::new(TrackerConfig::default());
    let events = run(&mut tracker, &posts);
    println!(
        "{} posts ({organic_count} organic) for {} brands over {DAYS} days; {} campaigns; tracker memory {} bytes",
        posts.len(),
        brands.len(),
        specs.len(),
        tracker.memory_bytes()
    );

    // Final state of every storm (all are closed by the end of `run`).
    let finals: Vec<&Storm> = closed(&events);
    assert_eq!(finals.len(), opened(&events).len());

    // False alarms: storms without an injected post.
    let mut false_alarms: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for s in finals.iter().filter(|s| !s.member_post_ids.iter().any(|p| injected.contains(p))) {
        *false_alarms.entry((category(s), s.brand.as_str())).or_default() += 1;
        println!(
            "  organic storm: {} {} {}={} posts={} authors={} expected={:.3} day {:.2} text={:?}",
            s.brand,
            s.kind,
            s.facet,
            s.key,
            s.posts,
            s.authors,
            s.signals[0].expected,
            (s.detected_at - T0) as f64 / DAY as f64,
            s.sample_text
        );
    }
    let weeks = DAYS as f64 / 7.0;
    for b in &brands {
        let n = |cat| false_alarms.get(&(cat, b.name.as_str())).copied().unwrap_or(0);
        let (c, v, i) = (n("campaign"), n("volume"), n("influencer"));
        println!(
            "false storms {:9} {:4.0}/h: campaign {c} ({:.2}/week), volume {v} ({:.2}/week), influencer {i} ({:.2}/week)",
            b.name,
            b.per_hour,
            c as f64 / weeks,
            v as f64 / weeks,
            i as f64 / weeks
        );
        // Campaign detection is this crate's; volume storms depend on the volume detector's
        // tuning and are reported above, not asserted here.
        assert!(f64::from(c) <= weeks, "{}: {c} false campaign storms", b.name);
        assert!(f64::from(i) <= weeks, "{}: {i} influencer storms", b.name);
    }

    // Detection: exactly one storm per campaign, and how soon.
    let mut delays: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut failures = Vec::new();
    let mut linked_volume = 0;
    for (c, ids) in specs.iter().zip(&ids) {
        let storms: Vec<&&Storm> =
            finals.iter().filter(|s| s.member_post_ids.iter().any(|p| ids.contains(p))).collect();
        let campaign_signal = storms
            .iter()
            .flat_map(|s| s.signals.iter())
            .filter(|g| g.kind == StormKind::Campaign)
            .map(|g| g.detected_at)
            .min();
        let shape = match c.shape {
            Shape::Even => "even",
            Shape::FrontLoaded => "front-loaded",
            Shape::Random => "random",
        };
        match (storms.len(), campaign_signal) {
            (1, Some(at)) => {
                let d = at - c.onset;
                delays.entry(shape).or_default().push(d);
                all.push(d);
                let s = storms[0];
                if s.signals.iter().any(|g| g.kind != StormKind::Campaign) {
                    linked_volume += 1;
                }
                println!(
                    "  campaign {:9} {shape:12} {:?} authors={} copypasta={} -> {} {}={} after {d}s; posts={} authors={} signals={:?}",
                    c.brand,
                    c.shared,
                    c.authors,
                    c.copypasta,
                    s.kind,
                    s.facet,
                    s.key,
                    s.posts,
                    s.authors,
                    s.signals.iter().map(|g| format!("{}:{}", g.kind, g.facet)).collect::<Vec<_>>()
                );
            }
            (n, at) => failures.push(format!(
                "{} {shape} {:?}: {n} storms, campaign signal at {:?}",
                c.brand,
                c.shared,
                at.map(|t| t - c.onset)
            )),
        }
    }
    let (med, max) = median_max(&mut all);
    println!(
        "campaigns: {} injected, {} detected as one storm each ({linked_volume} with volume signals linked in); delay median {med}s, max {max}s",
        specs.len(),
        all.len()
    );
    for (shape, v) in &mut delays {
        let (m, x) = median_max(v);
        println!("  {shape:12} n={:2} median {m:4}s max {x:4}s", v.len());
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Within 5 minutes of onset whenever the 5th author (`min_authors`) arrives within 5 minutes
    // of the first: even and front-loaded spreads. With 20 authors at uniformly random times over
    // 20 minutes, the 5th comes later than that about a quarter of the time (P(Bin(19, 1/4) <= 3)
    // = 0.26), so no detector counting distinct authors can promise it; those are reported above.
    for shape in ["even", "front-loaded"] {
        let v = delays.get(shape).cloned().unwrap_or_default();
        assert!(!v.is_empty());
        assert!(v.iter().all(|d| *d <= 300), "{shape}: {v:?}");
    }
    assert!(max <= 600, "a campaign took {max}s to detect");
    assert_eq!(tracker.stats().late, 0);
    assert!(events.iter().all(|e| !matches!(e, StormEvent::Opened(s) if s.posts == 0)), "storms open with their burst");
}
