//! The acceptance simulations: 30 days of seeded organic traffic for four brands (daily and weekly
//! seasonality, many hashtags, a popular own tag per brand), alone and with injected campaigns.
//!
//! Run with `--nocapture` to see the figures:
//! `cargo test -p earshot-storms --test simulation -- --nocapture`.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use earshot_storms::storm::{Facet, StormEvent, StormKind};
use earshot_storms::tracker::{StormTracker, TrackerConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::*;

const DAYS: i64 = 30;
const SEED: u64 = 20_240_101;

/// The storm category a false alarm counts under.
fn category(kind: StormKind, facet: Facet) -> &'static str {
    match (kind, facet) {
        (StormKind::Campaign, _) | (StormKind::Volume, Facet::Product) => "campaign",
        (StormKind::Influencer, _) => "influencer",
        _ => "volume",
    }
}

#[test]
fn thirty_days_of_organic_traffic_raise_at_most_one_false_storm_per_brand_per_week() {
    let brands = brands();
    let t = std::time::Instant::now();
    let posts = organic(&brands, T0, DAYS, SEED, 1);
    println!("generated in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut tracker = StormTracker::new(TrackerConfig::default());
    let events = run(&mut tracker, &posts);
    println!("tracked in {:?}", t.elapsed());
    let mut per: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for s in opened(&events) {
        *per.entry((category(s.kind, s.facet), brands_name(&brands, &s.brand)))
            .or_default() += 1;
        println!(
            "organic storm: {} {} {}={} posts={} authors={} expected={:.3} at day {:.2}",
            s.brand,
            s.kind,
            s.facet,
            s.key,
            s.posts,
            s.authors,
            s.signals[0].expected,
            (s.detected_at - T0) as f64 / DAY as f64
        );
        if s.facet == Facet::Text {
            println!("  text: {:?}", s.sample_text);
        }
    }
    println!("{} organic posts over {DAYS} days", posts.len());
    let weeks = DAYS as f64 / 7.0;
    for b in &brands {
        let c = per.get(&("campaign", b.name.as_str())).copied().unwrap_or(0);
        let v = per.get(&("volume", b.name.as_str())).copied().unwrap_or(0);
        let i = per.get(&("influencer", b.name.as_str())).copied().unwrap_or(0);
        println!(
            "brand {:9} {:5.0}/h: campaign {c} ({:.2}/week), volume {v} ({:.2}/week), influencer {i}",
            b.name,
            b.per_hour,
            c as f64 / weeks,
            v as f64 / weeks
        );
        assert!(
            f64::from(c) <= weeks,
            "{}: {c} false campaign storms in {DAYS} days",
            b.name
        );
    }
    assert_eq!(tracker.stats().late, 0);
}

fn brands_name<'a>(brands: &'a [Brand], name: &str) -> &'a str {
    brands
        .iter()
        .find(|b| b.name == name)
        .map_or("?", |b| b.name.as_str())
}

/// Inject campaigns of 20–40 distinct authors within 20 minutes into the organic month.
fn campaigns(brands: &[Brand]) -> Vec<Campaign> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let shapes = [Shape::Even, Shape::FrontLoaded, Shape::Random];
    let mut out = Vec::new();
    // One every ~14 hours from day 2 on (after the warm-up), never overlapping.
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
fn injected_campaigns_are_detected_within_minutes_as_one_storm_each() {
    let brands = brands();
    let specs = campaigns(&brands);
    let mut streams = vec![organic(&brands, T0, DAYS, SEED, 1)];
    let mut ids: Vec<BTreeSet<i64>> = Vec::new();
    for (i, c) in specs.iter().enumerate() {
        let posts = campaign(c, SEED + 100 + i as u64, 1_000_000_000 + i as i64 * 1000);
        ids.push(posts.iter().map(|p| p.id).collect());
        streams.push(posts);
    }
    let posts = merge(streams);
    let mut tracker = StormTracker::new(TrackerConfig::default());
    let events = run(&mut tracker, &posts);

    // Final state of every storm, by id.
    let mut finals = BTreeMap::new();
    for e in &events {
        if let StormEvent::Closed(s) = e {
            finals.insert(s.id.clone(), s.clone());
        }
    }
    let mut delays: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for (c, ids) in specs.iter().zip(&ids) {
        let storms: Vec<_> = finals
            .values()
            .filter(|s| s.member_post_ids.iter().any(|p| ids.contains(p)))
            .collect();
        let campaign_signal = storms
            .iter()
            .flat_map(|s| s.signals.iter())
            .filter(|g| g.kind == StormKind::Campaign)
            .map(|g| g.detected_at)
            .min();
        let shape = format!("{:?}", c.shape);
        match (storms.len(), campaign_signal) {
            (1, Some(at)) => {
                let d = at - c.onset;
                delays.entry(shape.leak()).or_default().push(d);
                all.push(d);
                let s = storms[0];
                println!(
                    "campaign {:9} {:?} {:?} authors={} copypasta={} -> {} {}={} after {d}s, posts={} authors={} signals={:?}",
                    c.brand,
                    c.shape,
                    c.shared,
                    c.authors,
                    c.copypasta,
                    s.kind,
                    s.facet,
                    s.key,
                    s.posts,
                    s.authors,
                    s.signals
                        .iter()
                        .map(|g| format!("{}:{}", g.kind, g.facet))
                        .collect::<Vec<_>>()
                );
            }
            (n, at) => failures.push(format!(
                "{} {:?} {:?}: {n} storms, campaign signal at {:?}",
                c.brand,
                c.shape,
                c.shared,
                at.map(|t| t - c.onset)
            )),
        }
    }
    let (med, max) = median_max(&mut all);
    println!(
        "{} campaigns: detected {}, median delay {med}s, max {max}s",
        specs.len(),
        all.len()
    );
    for (shape, v) in &mut delays {
        let (m, x) = median_max(v);
        println!("  {shape:12} n={:2} median {m:4}s max {x:4}s", v.len());
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The acceptance bound holds for campaigns whose 5th author arrives within 5 minutes of the
    // first (even and front-loaded spreads); uniformly random arrivals are reported above.
    for shape in ["Even", "FrontLoaded"] {
        let v = delays.get(shape).cloned().unwrap_or_default();
        assert!(!v.is_empty());
        assert!(v.iter().all(|d| *d <= 300), "{shape}: {v:?}");
    }
}
