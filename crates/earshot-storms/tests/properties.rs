//! Property tests of the storm tracker:
//! - it never fires on flat traffic;
//! - it fires on a step to 10× the baseline (volume), and on one key stepping to 10× its own
//!   baseline (campaign);
//! - its events do not depend on batch boundaries: `advance` calls at arbitrary points, and a JSON
//!   snapshot/restore midway, give exactly the same events.

mod support;

use earshot_storms::storm::{Facet, StormEvent, StormKind};
use earshot_storms::tracker::{StormTracker, TrackerConfig};
use proptest::prelude::*;
use support::*;

/// Perfectly flat traffic: `per_bucket` posts every 5 minutes, evenly spaced, each by a different
/// author from a large pool, hashtags and products cycling through fixed lists (so every key keeps
/// its share), texts varied.
fn flat(brand: &str, from: i64, to: i64, per_bucket: i64, tags: usize, first_id: i64) -> Vec<Post> {
    let step = 300 / per_bucket;
    let mut out = Vec::new();
    let mut t = from;
    let mut i = 0i64;
    while t < to {
        let mut p = Post::new(
            brand,
            first_id + i,
            t,
            &format!("{brand}_user{}", (i * 7919) % 100_003),
            &format!("@{brand} message {i} about w{} and w{} w{}", i % 97, i % 89, i % 83),
        );
        if i % 2 == 0 {
            p.hashtags = vec![format!("tag{}", i as usize % tags)];
        }
        if i % 3 == 0 {
            p.products = vec![format!("product{}", i % 5)];
        }
        if i % 5 == 0 {
            p.complaint = 0.9;
        }
        p.negative = i % 4 == 0;
        p.followers = 100 + (i as u64 * 31) % 900;
        out.push(p);
        i += 1;
        t += step;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn flat_traffic_never_opens_a_storm(per_bucket in 1i64..=30, tags in 1usize..=20) {
        let posts = flat("flat", T0, T0 + 2 * DAY, per_bucket, tags, 1);
        let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
        prop_assert!(events.is_empty(), "{:#?}", opened(&events));
    }

    #[test]
    fn a_step_to_ten_times_the_baseline_opens_a_volume_storm_within_the_hour(
        per_bucket in 1i64..=10,
        tags in 1usize..=20,
    ) {
        let step_at = T0 + DAY;
        let mut posts = flat("step", T0, step_at + 2 * HOUR, per_bucket, tags, 1);
        // Nine more copies of the same flat mix, offset within the bucket, after the step.
        for k in 1..10 {
            let mut extra = flat("step", step_at, step_at + 2 * HOUR, per_bucket, tags, k * 10_000_000);
            for p in &mut extra {
                p.published += k * 300 / per_bucket / 10;
                p.author = format!("{}_{k}", p.author);
                // Different words too: ten authors posting one text would be a campaign. And
                // the copies' tags and products rotate, so the mix is the same at every instant
                // (copies sharing one tag in the same minute would be a burst of that tag).
                let i = p.id;
                let j = (i - k * 10_000_000) + k;
                p.hashtags = if j % 2 == 0 { vec![format!("tag{}", j as usize % tags)] } else { vec![] };
                p.products = if j % 3 == 0 { vec![format!("product{}", j % 5)] } else { vec![] };
                p.text = format!(
                    "@step note {k} {i} on w{} w{} w{} w{} and more",
                    (i * k) % 97,
                    (i + k) % 89,
                    (i * 3 + k) % 83,
                    (k * 11 + i) % 79
                );
            }
            posts.extend(extra);
        }
        let posts = merge(vec![posts]);
        let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
        let o = opened(&events);
        let volume = o.iter().find(|s| s.signals.iter().any(|g| g.kind == StormKind::Volume && g.facet == Facet::All));
        prop_assert!(volume.is_some(), "{o:#?}");
        let at = volume.map_or(0, |s| s.detected_at);
        prop_assert!(at >= step_at && at <= step_at + HOUR, "detected {}s after the step", at - step_at);
        // The same mix, only more of it: not a campaign.
        prop_assert!(o.iter().all(|s| s.kind != StormKind::Campaign), "{o:#?}");
    }

    #[test]
    fn one_hashtag_stepping_to_ten_times_its_baseline_opens_a_campaign(
        per_bucket in 4i64..=10,
        offset in 0i64..300,
    ) {
        // `#watch` is on one post every 5 minutes (2 distinct authors per 10-minute window, 9 to
        // 20 % of the brand's posts); then on 10× as many, by distinct authors, for 30 minutes.
        // (From a baseline under one author per window, 10× is too few authors to be
        // significant at p <= 1e-6.)
        let step_at = T0 + DAY;
        let mut posts = flat("key", T0, step_at + HOUR, per_bucket, 5, 1);
        let period = 300;
        let mut t = T0 + offset;
        let mut i = 0;
        while t < step_at + 30 * 60 {
            let gap = if t < step_at { period } else { period / 10 };
            let mut p = Post::new("key", 50_000_000 + i, t, &format!("watcher{i}"), "look at this thing here");
            p.hashtags = vec!["watch".into()];
            posts.push(p);
            t += gap;
            i += 1;
        }
        let posts = merge(vec![posts]);
        let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
        let o = opened(&events);
        let fired: Vec<_> = o.iter().filter(|s| s.kind == StormKind::Campaign).collect();
        prop_assert_eq!(fired.len(), 1, "{:#?}", o);
        prop_assert_eq!(fired[0].key.as_str(), "watch");
        prop_assert!(fired[0].detected_at >= step_at);
    }
}

/// A jittered stream: two brands' organic traffic over 14 hours, a campaign and an influential
/// negative post, arriving out of order by up to a minute.
fn stream(seed: u64) -> Vec<Post> {
    let brands = [Brand::new("alpha", 40.0, 0.5, 12.0, 1.0), Brand::new("beta", 15.0, 0.5, 3.0, 1.0)];
    let mut organic = organic(&brands, T0, 1, seed, 1);
    organic.retain(|p| p.published < T0 + 14 * HOUR);
    let c = Campaign {
        brand: "alpha".into(),
        onset: T0 + 8 * HOUR + (seed as i64 % 3600),
        authors: 30,
        span: 900,
        shape: Shape::Random,
        shared: Shared::Hashtag("olivetsocial".into()),
        copypasta: seed.is_multiple_of(2),
        complaint: true,
    };
    let mut big = Post::new("beta", 90_000_000, T0 + 12 * HOUR, "celebrity", "@beta awful");
    big.negative = true;
    big.followers = 5_000_000;
    let mut all = merge(vec![organic, campaign(&c, seed, 80_000_000), vec![big]]);
    // Arrival order: published time plus a pseudo-random delay of up to 60 s (within the
    // lateness), so posts arrive out of order.
    let mut keyed: Vec<(i64, Post)> = all
        .drain(..)
        .map(|p| {
            let d = ((p.id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed) % 61;
            (p.published + d as i64, p)
        })
        .collect();
    keyed.sort_by_key(|(arrive, p)| (*arrive, p.id));
    keyed.into_iter().map(|(_, p)| p).collect()
}

fn config() -> TrackerConfig {
    let mut c = TrackerConfig::default();
    c.campaign.warmup_secs = 3 * HOUR;
    c.quiet_secs = 900;
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn events_do_not_depend_on_batch_boundaries(
        seed in 0u64..1000,
        advances in proptest::collection::vec((0usize..2000, 0.0f64..1.0), 0..40),
        snapshot_at in 0usize..2000,
    ) {
        let posts = stream(seed);
        let n = posts.len();
        let end = posts.iter().map(|p| p.published).max().unwrap_or(T0) + DAY;

        // Straight through.
        let mut a = StormTracker::new(config());
        let mut ea = Vec::new();
        for p in &posts {
            a.observe(&p.obs(), &mut ea);
        }
        a.advance(end, &mut ea);
        prop_assert!(ea.iter().any(|e| matches!(e, StormEvent::Opened(s) if s.kind == StormKind::Campaign)));

        // With `advance` calls before arbitrary posts (to any time between the current event time
        // and that post's published time), and a JSON snapshot/restore midway.
        let mut at: Vec<(usize, f64)> = advances.into_iter().map(|(i, f)| (i % n, f)).collect();
        at.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
        let cut = snapshot_at % n;
        let mut b = StormTracker::new(config());
        let mut eb = Vec::new();
        let mut k = 0;
        for (i, p) in posts.iter().enumerate() {
            while k < at.len() && at[k].0 == i {
                let w = b.watermark().unwrap_or(p.published);
                if p.published > w {
                    let t = w + ((p.published - w) as f64 * at[k].1) as i64;
                    b.advance(t, &mut eb);
                }
                k += 1;
            }
            if i == cut {
                let json = serde_json::to_string(&b).expect("serialize");
                b = serde_json::from_str(&json).expect("deserialize");
            }
            b.observe(&p.obs(), &mut eb);
        }
        b.advance(end, &mut eb);
        prop_assert_eq!(ea.len(), eb.len());
        for (x, y) in ea.iter().zip(&eb) {
            prop_assert_eq!(x, y);
        }
        prop_assert_eq!(a.stats(), b.stats());
    }
}
