//! Every output format decodes with earshot's own decoders: detected as
//! itself, no rejects, one post per generated post with the same ids, time,
//! text, entities and thread links, and attributed to its brand by the
//! generated config.

mod common;

use common::{params, real_bank, small_bank};
use earshot_core::brand::{Brands, BrandsFile};
use earshot_core::decode::{self, Decoded, SniffInput};
use earshot_core::post::{Post, PostKind};
use earshot_gen::format::MASTODON_HOST;
use earshot_gen::{Account, Format, GenPost, Generator, PostWriter, Seg, TextBank, Truth};

/// The handle earshot stores for `a` when it appears in `format`.
fn handle(format: Format, a: &Account, is_brand: bool) -> String {
    match format {
        Format::XV2 | Format::Jsonl => a.username.clone(),
        Format::Mastodon => format!("{}@{MASTODON_HOST}", a.username),
        Format::Bluesky => a.did(),
        Format::Twcs if is_brand => a.username.clone(),
        Format::Twcs => (100_000 + a.n).to_string(),
    }
}

/// The text earshot stores for `g` in `format` (links compared separately for X, which shows t.co links).
fn text(format: Format, g: &GenPost) -> String {
    let mut s = String::new();
    for seg in &g.segs {
        match seg {
            Seg::Text(t) => s.push_str(t),
            Seg::Mention(a) => {
                s.push('@');
                s.push_str(&match format {
                    Format::Bluesky => a.bluesky_handle(),
                    Format::Twcs => handle(format, a, a.kind == earshot_gen::world::AccountKind::Brand),
                    _ => a.username.clone(),
                });
            }
            Seg::Tag(t) => {
                s.push('#');
                s.push_str(t);
            }
            Seg::Link(l) if format == Format::XV2 && !l.contains("://t.co/") => s.push_str("<link>"),
            Seg::Link(l) => s.push_str(l),
        }
    }
    s
}

/// `got` equals `expected` with each `<link>` shown as a `https://t.co/` link of 10 characters.
fn matches_with_tco(got: &str, expected: &str) -> bool {
    let mut rest = got;
    for (i, part) in expected.split("<link>").enumerate() {
        if i > 0 {
            let Some(r) = rest.strip_prefix("https://t.co/") else { return false };
            if r.len() < 10 || !r[..10].bytes().all(|b| b.is_ascii_alphanumeric()) {
                return false;
            }
            rest = &r[10..];
        }
        let Some(r) = rest.strip_prefix(part) else { return false };
        rest = r;
    }
    rest.is_empty()
}

fn run(format: Format, bank: &TextBank) -> (Vec<GenPost>, Vec<u8>, Truth, String) {
    let p = params(1.0, 3, 400.0, 11, "volume=1,negative=1,campaign=4,influencer=1");
    let mut g = Generator::new(p.clone(), bank).unwrap();
    let config = earshot_gen::config_toml(g.brands(), &p).unwrap();
    let mut w = PostWriter::new(format, Vec::new(), g.brands()).unwrap();
    let mut posts = Vec::new();
    for post in g.by_ref() {
        w.write(&post).unwrap();
        posts.push(post);
    }
    let bytes = w.finish().unwrap();
    (posts, bytes, Truth::new(&g, format, bank), config)
}

fn check_format(format: Format, bank: &TextBank) {
    let (gen_posts, bytes, truth, config) = run(format, bank);
    assert!(gen_posts.len() > 500, "{format}: {}", gen_posts.len());
    let head = &bytes[..bytes.len().min(decode::SNIFF_BYTES)];
    let detected = decode::detect(SniffInput { head, file_name: None }, "generated").unwrap();
    assert_eq!(detected.name(), format.decoder(), "{format} is auto-detected as itself");
    let decoder = decode::by_name(format.decoder()).unwrap();
    let decoded: Vec<Post> = decode::decode_all(decoder, &bytes)
        .into_iter()
        .map(|d| match d {
            Decoded::Post(p) => *p,
            other => panic!("{format}: expected only posts, got {other:?}"),
        })
        .collect();
    assert_eq!(decoded.len(), gen_posts.len(), "{format}: one post per generated post");

    let brands = Brands::new(BrandsFile::from_toml(&config).unwrap().brands);
    let names: Vec<&str> = truth.brands.iter().map(|b| b.name.as_str()).collect();
    for (g, d) in gen_posts.iter().zip(&decoded) {
        let ctx = format!("{format} post {}: {:?}", g.id, g.text());
        assert_eq!(d.native_id, format.native_id(g.id, &g.author), "{ctx}");
        assert_eq!(d.published_at.timestamp(), g.at_ms.div_euclid(1000), "{ctx}");
        assert_eq!(d.author.handle, handle(format, &g.author, g.from_brand), "{ctx}");
        let expected_text = text(format, g);
        if format == Format::XV2 {
            assert!(matches_with_tco(&d.text, &expected_text), "{ctx}: {:?}", d.text);
        } else {
            assert_eq!(d.text, expected_text, "{ctx}");
        }
        let tags: Vec<String> = g.hashtags().iter().map(|t| t.to_string()).collect();
        assert_eq!(d.hashtags, tags, "{ctx}");
        let links: Vec<String> = g.links().iter().map(|l| l.to_string()).collect();
        assert_eq!(d.links, links, "{ctx}");
        let mentions: Vec<String> =
            g.mentions().iter().map(|a| handle(format, a, a.kind == earshot_gen::world::AccountKind::Brand)).collect();
        assert_eq!(d.mentions, mentions, "{ctx}");
        match &g.reply_to {
            Some(parent) => {
                assert_eq!(d.kind, PostKind::Reply, "{ctx}");
                assert_eq!(d.reply_to.as_deref(), Some(format.native_id(parent.id, &parent.author).as_str()), "{ctx}");
                if format != Format::Twcs {
                    let parent_is_brand = !g.from_brand;
                    assert_eq!(d.reply_to_author, Some(handle(format, &parent.author, parent_is_brand)), "{ctx}");
                }
            }
            None => assert_eq!((d.kind, d.reply_to.as_deref()), (PostKind::Original, None), "{ctx}"),
        }
        let attributed: Vec<String> = brands.attribute(d).into_iter().map(|a| a.brand).collect();
        assert_eq!(attributed, [names[g.brand]], "{ctx}: attributed to its brand only");
        if g.from_brand {
            assert_eq!(brands.speaking_brand(d), Some(names[g.brand]), "{ctx}");
        }
    }
    // Every storm id names a decoded post.
    let ids: std::collections::HashSet<&str> = decoded.iter().map(|d| d.native_id.as_str()).collect();
    for s in &truth.storms {
        assert!(s.ids.iter().all(|id| ids.contains(id.as_str())), "{format}: storm {} ids", s.id);
    }
}

#[test]
fn x_v2_round_trips() {
    check_format(Format::XV2, real_bank().unwrap_or_else(small_bank));
}

#[test]
fn mastodon_round_trips() {
    check_format(Format::Mastodon, real_bank().unwrap_or_else(small_bank));
}

#[test]
fn bluesky_jetstream_round_trips() {
    check_format(Format::Bluesky, real_bank().unwrap_or_else(small_bank));
}

#[test]
fn jsonl_round_trips() {
    check_format(Format::Jsonl, real_bank().unwrap_or_else(small_bank));
}

#[test]
fn twcs_csv_round_trips() {
    check_format(Format::Twcs, real_bank().unwrap_or_else(small_bank));
}

#[test]
fn format_names_parse_and_unknown_ones_list_the_choices() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
        assert_eq!(f.decoder().parse::<Format>().unwrap(), f);
    }
    let e = "myspace".parse::<Format>().unwrap_err().to_string();
    assert!(e.contains("x-v2") && e.contains("bluesky-jetstream"), "{e}");
}
