//! Scenario tests of the storm tracker: one behaviour each, on small deterministic streams.

mod support;

use earshot_storms::storm::{Facet, StormEvent, StormKind};
use earshot_storms::tracker::{StormTracker, TrackerConfig};
use support::*;

/// Eight hours of organic traffic for `brand` (past the campaign warm-up), starting at T0.
fn background(brand: &str, per_hour: f64, hours: i64) -> Vec<Post> {
    let b = Brand::new(brand, per_hour, 0.0, 12.0, 1.0);
    let mut posts = organic(&[b], T0, 1, 7, 1);
    posts.retain(|p| p.published < T0 + hours * HOUR);
    posts
}

fn hashtag_campaign(brand: &str, onset: i64, authors: usize, span: i64) -> Vec<Post> {
    campaign(
        &Campaign {
            brand: brand.into(),
            onset,
            authors,
            span,
            shape: Shape::Even,
            shared: Shared::Hashtag("olivetsocial".into()),
            copypasta: true,
            complaint: false,
        },
        42,
        1_000_000,
    )
}

fn count(events: &[StormEvent], f: impl Fn(&StormEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

#[test]
fn a_hashtag_campaign_is_one_storm_from_detection_to_close() {
    let onset = T0 + 8 * HOUR;
    let camp = hashtag_campaign("gymboree", onset, 25, 20 * 60);
    let posts = merge(vec![background("gymboree", 60.0, 10), camp.clone()]);
    let cfg = TrackerConfig::default();
    let (quiet, min_authors) = (cfg.quiet_secs, cfg.campaign.hashtag.min_authors as usize);
    let mut t = StormTracker::new(cfg);
    let events = run(&mut t, &posts);

    let opened = opened(&events);
    assert_eq!(opened.len(), 1, "{opened:#?}");
    let s = opened[0];
    assert_eq!(s.kind, StormKind::Campaign);
    assert_eq!((s.facet, s.key.as_str()), (Facet::Hashtag, "olivetsocial"));
    assert_eq!(s.brand, "gymboree");
    // Onset: the first post of the burst window. Detection: the post that brought the window to
    // `min_authors` distinct authors.
    assert_eq!(s.started_at, camp[0].published);
    assert_eq!(s.detected_at, camp[min_authors - 1].published);
    assert_eq!(s.posts, min_authors as u64);
    // Burst posts seen before the storm opened are members with their handles.
    assert_eq!(s.participants[0], camp[0].author);
    assert_eq!(s.sample_post_ids[0], camp[0].id);
    assert!(s.id.starts_with("campaign-"));

    let closed = closed(&events);
    assert_eq!(closed.len(), 1);
    let c = closed[0];
    assert_eq!(c.id, s.id, "the id never changes");
    assert_eq!((c.posts, c.authors), (25, 25));
    assert_eq!(c.last_post_at, camp[24].published);
    assert_eq!(c.closed_at, Some(c.last_post_at + quiet));
    assert_eq!(c.top_hashtags[0].value, "olivetsocial");
    assert_eq!(c.top_hashtags[0].count, 25);
    assert!(c.top_terms.iter().any(|t| t.value == "olivet"), "{:?}", c.top_terms);
    assert_eq!(c.member_post_ids.len(), 25);
    // The copy-pasted text fired too and was linked into the same storm.
    assert!(c.signals.iter().any(|g| g.facet == Facet::Text), "{:?}", c.signals);
    assert!(t.open_storms().next().is_none());
}

#[test]
fn one_author_repeating_a_hashtag_is_not_a_campaign() {
    let mut posts = background("gymboree", 60.0, 10);
    for i in 0..40 {
        let mut p = Post::new("gymboree", 5_000_000 + i, T0 + 8 * HOUR + i * 15, "spammer", "buy now");
        p.hashtags = vec!["olivetsocial".into()];
        posts.push(p);
    }
    let posts = merge(vec![posts]);
    let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
    assert_eq!(count(&events, |e| matches!(e, StormEvent::Opened(s) if s.kind == StormKind::Campaign)), 0);
}

#[test]
fn an_organic_surge_across_many_hashtags_is_not_a_campaign() {
    // Traffic triples for an hour with the same mix of tags, links and texts.
    let b = Brand::new("gymboree", 60.0, 0.0, 12.0, 1.0);
    let mut posts = organic(std::slice::from_ref(&b), T0, 1, 7, 1);
    posts.retain(|p| p.published < T0 + 10 * HOUR);
    let surge = Brand::new("gymboree", 120.0, 0.0, 12.0, 1.0);
    let mut extra = organic(&[surge], T0, 1, 8, 10_000_000);
    extra.retain(|p| p.published >= T0 + 8 * HOUR && p.published < T0 + 9 * HOUR);
    let posts = merge(vec![posts, extra]);
    let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
    let campaigns: Vec<_> = opened(&events).into_iter().filter(|s| s.kind == StormKind::Campaign).collect();
    assert!(campaigns.is_empty(), "{campaigns:#?}");
}

#[test]
fn a_copy_pasted_text_without_a_shared_key_is_a_text_campaign() {
    let c = Campaign {
        brand: "gymboree".into(),
        onset: T0 + 8 * HOUR,
        authors: 20,
        span: 600,
        shape: Shape::Even,
        shared: Shared::Text,
        copypasta: true,
        complaint: true,
    };
    let posts = merge(vec![background("gymboree", 60.0, 10), campaign(&c, 3, 1_000_000)]);
    let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
    let o = opened(&events);
    assert_eq!(o.len(), 1, "{o:#?}");
    assert_eq!((o[0].kind, o[0].facet), (StormKind::Campaign, Facet::Text));
    assert!(o[0].sample_text.as_deref().unwrap_or("").contains("sweatshop"));
}

#[test]
fn a_campaign_that_trips_the_volume_detector_stays_one_storm() {
    // A quiet brand (6 posts an hour), then 80 authors in 10 minutes with one hashtag.
    let posts = merge(vec![background("pebble", 6.0, 12), hashtag_campaign("pebble", T0 + 10 * HOUR, 80, 600)]);
    let mut t = StormTracker::new(TrackerConfig::default());
    let events = run(&mut t, &posts);
    let o = opened(&events);
    assert_eq!(o.len(), 1, "{o:#?}");
    let c = closed(&events);
    assert_eq!(c.len(), 1);
    let kinds: Vec<_> = c[0].signals.iter().map(|g| (g.kind, g.facet)).collect();
    assert_eq!(c[0].kind, StormKind::Campaign);
    assert!(kinds.contains(&(StormKind::Campaign, Facet::Hashtag)), "{kinds:?}");
    assert!(kinds.contains(&(StormKind::Volume, Facet::All)), "{kinds:?}");
    assert!(t.stats().linked >= 1);
}

#[test]
fn updates_are_rate_limited_to_milestones() {
    let posts = merge(vec![background("gymboree", 60.0, 10), hashtag_campaign("gymboree", T0 + 8 * HOUR, 300, 3600)]);
    let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
    let updates = count(&events, |e| matches!(e, StormEvent::Updated(_)));
    // 300 posts: milestones 10, 20, 50, 100, 200, plus time-based and linked-detector updates;
    // never one per post.
    assert!((5..=30).contains(&updates), "{updates} updates");
    let closed = closed(&events);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].posts, 300);
}

#[test]
fn an_influential_negative_post_opens_its_own_storm() {
    let mut posts = background("gymboree", 60.0, 40);
    let mut big = Post::new("gymboree", 9_000_000, T0 + 39 * HOUR, "celebrity", "@gymboree never again");
    big.negative = true;
    big.followers = 2_000_000;
    let mut again = big.clone();
    again.id = 9_000_001;
    again.published += 600;
    let mut happy = big.clone();
    happy.id = 9_000_002;
    happy.author = "other_celebrity".into();
    happy.negative = false;
    happy.published += 60;
    posts.extend([big, again, happy]);
    let posts = merge(vec![posts]);
    let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
    let inf: Vec<_> = closed(&events).into_iter().filter(|s| s.kind == StormKind::Influencer).collect();
    assert_eq!(inf.len(), 1, "{inf:#?}");
    let s = inf[0];
    assert_eq!((s.facet, s.key.as_str()), (Facet::Author, "celebrity"));
    assert_eq!(s.detected_at, T0 + 39 * HOUR);
    assert_eq!(s.member_post_ids, vec![9_000_000, 9_000_001], "the author's next post joins");
    assert_eq!(s.signals[0].observed, 2_000_000);
}

#[test]
fn brand_posts_late_posts_and_duplicates_are_counted_not_used() {
    let mut t = StormTracker::new(TrackerConfig::default());
    let mut out = Vec::new();
    let p = Post::new("gymboree", 1, T0, "a", "hello");
    t.observe(&p.obs(), &mut out);
    t.observe(&p.obs(), &mut out);
    let mut own = Post::new("gymboree", 2, T0 + 10, "gymboree", "sorry!");
    own.from_brand = true;
    t.observe(&own.obs(), &mut out);
    let late = Post::new("gymboree", 3, T0 - 3600, "b", "old");
    t.observe(&late.obs(), &mut out);
    let s = t.stats();
    assert_eq!((s.observations, s.duplicates, s.from_brand, s.late), (4, 1, 1, 1));
    assert!(out.is_empty());
}

#[test]
fn a_product_whose_complaints_surge_opens_a_product_storm() {
    let mut posts = background("gymboree", 60.0, 10);
    for i in 0..30 {
        let mut p = Post::new(
            "gymboree",
            8_000_000 + i,
            T0 + 8 * HOUR + i * 60,
            &format!("parent{i}"),
            &format!("@gymboree the zipper on my romper broke again {i}"),
        );
        p.products = vec!["romper".into()];
        p.complaint = 0.9;
        posts.push(p);
    }
    let posts = merge(vec![posts]);
    let events = run(&mut StormTracker::new(TrackerConfig::default()), &posts);
    let o = opened(&events);
    assert!(o.iter().any(|s| s.kind == StormKind::Volume && s.facet == Facet::Product && s.key == "romper"), "{o:#?}");
}

#[test]
fn memory_stays_bounded_under_a_flood_of_distinct_keys() {
    let cfg = TrackerConfig::default();
    let mut t = StormTracker::new(cfg);
    let mut out = Vec::new();
    let mut peak = 0;
    // 60,000 posts in ~17 hours, each with a new hashtag, link, mention pair and text.
    for i in 0..60_000i64 {
        let mut p = Post::new(
            "gymboree",
            i,
            T0 + i,
            &format!("user{i}"),
            &format!("totally unique words number {i} and then some more {} words", i * 7),
        );
        p.hashtags = vec![format!("tag{i}")];
        p.links = vec![format!("https://x.example/{i}")];
        p.mentions = vec!["gymboree".into(), format!("friend{i}")];
        t.observe(&p.obs(), &mut out);
        if i % 1000 == 0 {
            peak = peak.max(t.memory_bytes());
        }
    }
    println!("peak memory for one flooded brand: {peak} bytes");
    assert!(peak < 3_000_000, "{peak} bytes");
}

#[test]
fn idle_brands_are_forgotten() {
    let mut t = StormTracker::new(TrackerConfig::default());
    let mut out = Vec::new();
    t.observe(&Post::new("a", 1, T0, "x", "hi").obs(), &mut out);
    t.observe(&Post::new("b", 2, T0 + 9 * DAY, "y", "hi").obs(), &mut out);
    t.advance(T0 + 9 * DAY + HOUR, &mut out);
    assert_eq!(t.brands(), 1);
    assert_eq!(t.stats().brands_forgotten, 1);
}

#[test]
fn a_tracker_restored_from_json_continues_exactly_like_the_original() {
    let posts = merge(vec![background("gymboree", 60.0, 10), hashtag_campaign("gymboree", T0 + 8 * HOUR, 25, 1200)]);
    let cut = posts.iter().position(|p| p.published >= T0 + 8 * HOUR + 400).unwrap();
    let mut t = StormTracker::new(TrackerConfig::default());
    let mut before = Vec::new();
    for p in &posts[..cut] {
        t.observe(&p.obs(), &mut before);
    }
    assert_eq!(t.open_storms().count(), 1, "the snapshot is taken mid-storm");
    let json = serde_json::to_string(&t).unwrap();
    let mut restored: StormTracker = serde_json::from_str(&json).unwrap();
    assert_eq!(restored.open_storms().count(), 1);
    assert_eq!(restored.memory_bytes() > 0, t.memory_bytes() > 0);
    let a = run(&mut t, &posts[cut..]);
    let b = run(&mut restored, &posts[cut..]);
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn settings_read_from_an_earshot_toml_storms_table() {
    #[derive(serde::Deserialize)]
    struct File {
        storms: TrackerConfig,
    }
    let f: File = toml::from_str(
        r#"
        [storms]
        quiet_secs = 3600
        allowed_lateness_secs = 300

        [storms.campaign]
        warmup_secs = 7200

        [storms.campaign.hashtag]
        min_authors = 8
        window_secs = 900

        [storms.volume]
        bucket_secs = 600

        [storms.limits]
        max_participants = 50
        "#,
    )
    .unwrap();
    let c = f.storms;
    assert_eq!((c.quiet_secs, c.allowed_lateness_secs), (3600, 300));
    assert_eq!((c.campaign.hashtag.min_authors, c.campaign.hashtag.window_secs), (8, 900));
    assert_eq!(c.campaign.link.min_authors, 5, "unset fields keep their defaults");
    assert_eq!(c.volume.bucket_secs, 600);
    assert_eq!(c.limits.max_participants, 50);
    assert!(c.validate().is_ok());
    let e = toml::from_str::<File>("[storms]\nquiet = 5\n").err().unwrap();
    assert!(e.to_string().contains("unknown field `quiet`"), "{e}");
}
