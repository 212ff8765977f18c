//! What the generated traffic looks like: order, determinism, seasonality,
//! threads, organic hashtags, and the injected storms against the truth.

mod common;

use common::{params, posts, real_bank, small_bank, write};
use earshot_gen::{Facet, Format, GenPost, Generator, Length, Origin, StormKind, TextBank, Truth};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Runs a generator to the end, returning its posts and truth.
fn run(p: &earshot_gen::Params, bank: &TextBank) -> (Vec<GenPost>, Truth) {
    let mut g = Generator::new(p.clone(), bank).unwrap();
    let posts: Vec<GenPost> = g.by_ref().collect();
    let truth = Truth::new(&g, Format::XV2, bank);
    (posts, truth)
}

#[test]
fn same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let p = params(1.0, 3, 300.0, 7, "auto");
    let (a, ta) = write(&p, small_bank(), Format::XV2);
    let (b, tb) = write(&p, small_bank(), Format::XV2);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    let mut q = p.clone();
    q.seed = 8;
    assert_ne!(write(&q, small_bank(), Format::XV2).0, a);
}

#[test]
fn stream_is_in_published_order_with_unique_ids_and_replies_after_parents() {
    let ps = posts(&params(2.0, 4, 400.0, 1, "auto"), small_bank());
    assert!(ps.len() > 2000, "{}", ps.len());
    assert!(ps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms), "published order");
    let mut seen: HashMap<u64, &GenPost> = HashMap::new();
    for p in &ps {
        assert!(seen.insert(p.id, p).is_none(), "duplicate id {}", p.id);
        if let Some(parent) = &p.reply_to {
            let parent_post = seen.get(&parent.id).expect("a reply's parent comes earlier in the stream");
            assert!(p.at_ms > parent_post.at_ms);
            assert_eq!(parent.author, parent_post.author);
            assert_eq!(p.conversation_id(), parent_post.conversation_id(), "threads keep their conversation id");
            assert_ne!(p.from_brand, parent_post.from_brand, "threads alternate customer and care account");
        }
    }
    let replies = ps.iter().filter(|p| p.origin == Origin::Reply).count();
    let follow_ups = ps.iter().filter(|p| p.origin == Origin::FollowUp).count();
    let organic = ps.iter().filter(|p| p.origin == Origin::Organic).count();
    assert!(replies > organic / 10 && replies < organic, "{replies} replies to {organic} posts");
    assert!(follow_ups > replies / 5 && follow_ups < replies, "{follow_ups} follow-ups to {replies} replies");
    let gen_brands = Generator::new(params(2.0, 4, 400.0, 1, "auto"), small_bank()).unwrap().brands().to_vec();
    for p in ps.iter().filter(|p| p.from_brand) {
        assert_eq!(p.author, gen_brands[p.brand].care, "brands answer from their care account");
    }
}

#[test]
fn a_post_count_gives_exactly_that_many_posts() {
    let mut p = params(1.0, 3, 300.0, 2, "auto");
    p.length = Length::Posts(1234);
    let (ps, truth) = run(&p, small_bank());
    assert_eq!(ps.len(), 1234);
    assert_eq!(truth.totals.posts, 1234);
    assert!(!truth.storms.is_empty(), "storms are planned inside the expected span");
}

#[test]
fn organic_traffic_does_not_depend_on_the_storms() {
    let organic = |ps: &[GenPost]| -> Vec<(u64, i64, u64, String)> {
        ps.iter().filter(|p| p.origin == Origin::Organic).map(|p| (p.id, p.at_ms, p.author.n, p.text())).collect()
    };
    let with = posts(&params(2.0, 3, 300.0, 5, "volume=2,campaign=3,influencer=1"), small_bank());
    let without = posts(&params(2.0, 3, 300.0, 5, "none"), small_bank());
    assert!(with.iter().any(|p| matches!(p.origin, Origin::Storm(_))));
    assert!(!without.iter().any(|p| matches!(p.origin, Origin::Storm(_))));
    assert_eq!(organic(&with), organic(&without));
}

#[test]
fn volume_follows_the_day_and_the_week() {
    let p = params(28.0, 1, 1000.0, 9, "none");
    let g = Generator::new(p.clone(), small_bank()).unwrap();
    let brand = g.brands()[0].clone();
    let ps: Vec<GenPost> = g.filter(|p| p.origin == Origin::Organic).collect();
    let mut by_hour = [0u64; 24];
    let mut by_weekday = [0u64; 7];
    for post in &ps {
        by_hour[brand.local_hour(post.at_ms) as usize] += 1;
        let local_day = (post.at_ms / 60_000 + i64::from(brand.utc_offset_min)).div_euclid(1440);
        by_weekday[(local_day + 3).rem_euclid(7) as usize] += 1;
    }
    let night: u64 = by_hour[2..6].iter().sum();
    let day: u64 = by_hour[11..15].iter().sum();
    assert!((night as f64) < 0.35 * day as f64, "night {night} vs day {day}: {by_hour:?}");
    let evening: u64 = by_hour[19..22].iter().sum();
    let morning: u64 = by_hour[6..9].iter().sum();
    assert!(evening > morning, "evening peak {evening} vs morning {morning}");
    // Whole weeks from a Monday in UTC: weekdays and weekend days are equally many (±1 day at the zone's edge).
    let weekday = by_weekday[..5].iter().sum::<u64>() as f64 / 5.0;
    let weekend = by_weekday[5..].iter().sum::<u64>() as f64 / 2.0;
    let ratio = weekend / weekday;
    assert!((ratio - brand.weekend).abs() < 0.15, "weekend/weekday {ratio:.2} vs configured {:.2}", brand.weekend);
    // The mean rate is honoured: customer-started posts ≈ origin rate × days.
    let expected = brand.origin_rate * 28.0;
    assert!((ps.len() as f64 - expected).abs() < 0.12 * expected, "{} vs {expected:.0}", ps.len());
}

#[test]
fn brands_differ_in_volume_and_customers_come_back() {
    let p = params(3.0, 8, 400.0, 4, "none");
    let ps = posts(&p, small_bank());
    let mut by_brand: BTreeMap<usize, u64> = BTreeMap::new();
    let mut by_author: HashMap<u64, u64> = HashMap::new();
    for post in ps.iter().filter(|p| p.origin == Origin::Organic) {
        *by_brand.entry(post.brand).or_default() += 1;
        *by_author.entry(post.author.n).or_default() += 1;
    }
    let max = *by_brand.values().max().unwrap() as f64;
    let min = *by_brand.values().min().unwrap() as f64;
    assert!(max / min > 4.0, "heavy-tailed brand volumes: {by_brand:?}");
    let repeat = by_author.values().filter(|n| **n > 1).count();
    assert!(repeat as f64 > 0.08 * by_author.len() as f64, "{repeat} repeat customers of {}", by_author.len());
    assert!(by_author.values().any(|n| *n >= 5), "some regulars post often");
}

#[test]
fn organic_hashtags_are_diverse_and_recur_without_looking_like_campaigns() {
    let bank = real_bank().unwrap_or_else(small_bank);
    let ps = posts(&params(3.0, 4, 500.0, 12, "none"), bank);
    let mut uses: HashMap<String, Vec<&GenPost>> = HashMap::new();
    for p in &ps {
        for t in p.hashtags() {
            uses.entry(t.to_lowercase()).or_default().push(p);
        }
    }
    assert!(uses.len() >= 40, "{} distinct hashtags", uses.len());
    let mut top: Vec<(&String, &Vec<&GenPost>)> = uses.iter().collect();
    top.sort_by_key(|(t, v)| (std::cmp::Reverse(v.len()), (*t).clone()));
    for (tag, posts) in &top[..3] {
        let authors: HashSet<u64> = posts.iter().map(|p| p.author.n).collect();
        let hours: HashSet<i64> = posts.iter().map(|p| p.at_ms.div_euclid(3_600_000) % 24).collect();
        assert!(
            authors.len() >= 15 && hours.len() >= 12,
            "#{tag}: {} authors over {} hours",
            authors.len(),
            hours.len()
        );
    }
    // No organic hashtag or link gathers 20 authors within 20 minutes for one brand:
    // at these rates, that is what only a campaign does.
    let mut by_key: HashMap<(usize, String), Vec<(i64, u64)>> = HashMap::new();
    for p in &ps {
        for t in p.hashtags() {
            by_key.entry((p.brand, format!("#{}", t.to_lowercase()))).or_default().push((p.at_ms, p.author.n));
        }
        for l in p.links() {
            by_key.entry((p.brand, l.to_string())).or_default().push((p.at_ms, p.author.n));
        }
    }
    for ((brand, key), times) in &by_key {
        let peak = peak_authors(times, 20 * 60_000);
        assert!(peak < 20, "brand {brand} {key}: {peak} authors in 20 minutes");
    }
}

/// Most distinct authors within any window (times sorted).
fn peak_authors(posts: &[(i64, u64)], window: i64) -> usize {
    let mut best = 0;
    for (i, (t, _)) in posts.iter().enumerate() {
        let authors: HashSet<u64> = posts[i..].iter().take_while(|(u, _)| *u < t + window).map(|(_, a)| *a).collect();
        best = best.max(authors.len());
    }
    best
}

fn words(s: &str) -> HashSet<String> {
    s.split_whitespace()
        .filter(|w| !w.starts_with('@'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn injected_storms_are_in_the_truth_and_in_the_output() {
    let p = params(7.0, 5, 300.0, 3, "volume=2,negative=1,campaign=4,influencer=1");
    let (ps, truth) = run(&p, small_bank());
    assert_eq!(truth.storms.len(), 8, "{:#?}", truth.storms.iter().map(|s| (s.kind, s.posts)).collect::<Vec<_>>());
    let by_id: HashMap<String, &GenPost> = ps.iter().map(|p| (p.id.to_string(), p)).collect();
    let brands: Vec<String> = truth.brands.iter().map(|b| b.name.clone()).collect();
    let mut facets = HashSet::new();
    for (i, s) in truth.storms.iter().enumerate() {
        assert_eq!(s.id, i);
        assert!(s.posts > 0 && s.ids.len() as u64 == s.posts, "{s:?}");
        let members: Vec<&GenPost> =
            s.ids.iter().map(|id| *by_id.get(id).expect("storm ids are in the output")).collect();
        for m in &members {
            assert_eq!(m.origin, Origin::Storm(i));
            assert_eq!(brands[m.brand], s.brand);
            assert!(m.published() >= s.onset && m.published() <= s.end);
        }
        let authors: HashSet<u64> = members.iter().map(|m| m.author.n).collect();
        assert_eq!(authors.len() as u64, s.authors);
        match s.kind {
            StormKind::Campaign => {
                facets.insert(s.facet);
                assert!((20..=200).contains(&s.authors), "{s:?}");
                assert!(s.peak_authors_20m >= 20, "20 authors within 20 minutes: {s:?}");
                let key = s.key.as_deref().expect("campaigns have a key");
                for m in &members {
                    match s.facet {
                        Facet::Hashtag => assert!(m.hashtags().contains(&key)),
                        Facet::Link => assert!(m.links().contains(&key), "{:?}", m.links()),
                        Facet::Mentions => {
                            let mut others: Vec<String> =
                                m.mentions().iter().skip(1).map(|a| format!("@{}", a.username)).collect();
                            others.sort();
                            assert_eq!(others.join(" "), key);
                        }
                        Facet::Text => {
                            let (a, b) = (words(key), words(&m.text()));
                            let jaccard = a.intersection(&b).count() as f64 / a.union(&b).count() as f64;
                            assert!(jaccard >= 0.6, "near-duplicate: {key:?} vs {:?}", m.text());
                        }
                        f => panic!("campaign facet {f:?}"),
                    }
                }
            }
            StormKind::Volume | StormKind::Negative => {
                assert!(s.posts >= 20 && s.multiplier.is_some_and(|m| m >= 3.0), "{s:?}");
                // Against the brand's own organic traffic in the same window.
                let b = members[0].brand;
                let (from, to) = (s.onset.timestamp_millis(), s.end.timestamp_millis());
                let organic = ps
                    .iter()
                    .filter(|p| p.brand == b && p.origin == Origin::Organic && p.at_ms >= from && p.at_ms <= to)
                    .count();
                assert!(s.posts as f64 >= 2.0 * organic as f64, "{} storm posts vs {organic} organic: {s:?}", s.posts);
                if s.kind == StormKind::Volume
                    && let Some(product) = &s.key
                {
                    assert!(members.iter().all(|m| m.text().contains(product.as_str())));
                }
            }
            StormKind::Influencer => {
                assert_eq!((s.posts, s.authors), (1, 1));
                assert!(s.followers.is_some_and(|f| f >= 200_000), "{s:?}");
                assert!(members[0].metrics.reposts >= 300 && members[0].author.verified);
                assert_eq!(s.key.as_deref(), Some(format!("@{}", members[0].author.username).as_str()));
            }
        }
    }
    assert_eq!(facets.len(), 4, "four campaigns cover the four facets: {facets:?}");
    let storm_posts = ps.iter().filter(|p| matches!(p.origin, Origin::Storm(_))).count() as u64;
    assert_eq!(storm_posts, truth.storms.iter().map(|s| s.posts).sum::<u64>());
    assert_eq!(truth.totals.storm_posts, storm_posts);
    assert_eq!(truth.totals.posts, ps.len() as u64);
}

#[test]
fn care_teams_mostly_sleep_at_night() {
    let p = params(7.0, 6, 400.0, 21, "none");
    let g = Generator::new(p, small_bank()).unwrap();
    let brands = g.brands().to_vec();
    let ps: Vec<GenPost> = g.collect();
    for b in brands.iter().filter(|b| b.staffed_hours.is_some()) {
        let replies: Vec<&GenPost> = ps.iter().filter(|p| p.brand == b.index && p.from_brand).collect();
        let at_night = replies.iter().filter(|p| b.local_hour(p.at_ms) < 6).count();
        assert!(!replies.is_empty());
        assert!(
            (at_night as f64) < 0.1 * replies.len() as f64,
            "{}: {at_night} of {} replies at night",
            b.name,
            replies.len()
        );
    }
}

#[test]
fn missing_data_names_the_path_and_the_flag() {
    let err = TextBank::load(std::path::Path::new("/nonexistent/shared/data")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/shared/data/complaints/train.csv"), "{err}");
    assert!(err.contains("--data"), "{err}");
}

#[test]
fn bad_parameters_are_all_reported() {
    let mut p = params(0.0, 0, -1.0, 1, "none");
    p.start = "2001-01-01T00:00:00Z".parse().unwrap();
    let err = Generator::new(p, small_bank()).unwrap_err().to_string();
    for what in ["--brands", "--rate", "--days", "--start"] {
        assert!(err.contains(what), "{err}");
    }
}
