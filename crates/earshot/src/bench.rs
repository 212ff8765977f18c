//! End-to-end benchmark support: a deterministic generator of X API v2
//! filtered-stream lines built from real tweet texts, and peak-RSS reading.
//!
//! The benchmark ingests through the same [`crate::ingest::Ingestor`] as
//! `earshot ingest`, so what it measures is what users run.

use anyhow::{Context, Result};
use chrono::{TimeZone, Utc};
use std::io::Write;
use std::path::Path;

/// SplitMix64: a tiny deterministic generator, so the same seed gives the
/// same file on every machine and crate version (unlike `rand`'s std RNGs,
/// whose streams may change between releases).
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Loads tweet texts, one per line, from `path` (TweetEval's `train_text.txt` by default).
pub fn load_texts(path: Option<&Path>) -> Result<Vec<String>> {
    let default = Path::new("../shared/data/tweeteval-sentiment/train_text.txt");
    let path = path.unwrap_or(default);
    if !path.exists() {
        // Fall back to the demo's own texts so the bench runs anywhere.
        return Ok(crate::demo::FILES
            .iter()
            .flat_map(|f| String::from_utf8_lossy(f.bytes).lines().map(str::to_string).collect::<Vec<_>>())
            .filter(|l| l.contains("\"text\""))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .filter_map(|v| v["data"]["text"].as_str().or(v["text"].as_str()).map(str::to_string))
            .collect());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read texts from {}", path.display()))?;
    Ok(text.lines().filter(|l| !l.trim().is_empty()).map(|l| l.replace("@user", "").trim().to_string()).collect())
}

/// Brand handles used by generated posts.
pub fn brand_handles(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("brand{i:03}care")).collect()
}

/// Writes `posts` X API v2 filtered-stream lines to `out`: customers
/// mentioning one of `brands` brands, a fifth of them replies, with users in
/// `includes` and a matching rule, like the real stream.
pub fn generate_x_v2_stream(
    out: &mut impl Write,
    posts: u64,
    brands: usize,
    texts: &[String],
    seed: u64,
) -> Result<()> {
    anyhow::ensure!(!texts.is_empty(), "no texts to build posts from");
    let mut rng = SplitMix::new(seed);
    let handles = brand_handles(brands);
    let start_ms: i64 = 1_700_000_000_000;
    const TWITTER_EPOCH_MS: i64 = 1_288_834_974_657;
    for i in 0..posts {
        let t_ms = start_ms + (i as i64) * 7; // ~143k posts/s of event time would be 7 µs; keep ms resolution
        let id = (((t_ms - TWITTER_EPOCH_MS) as u64) << 22) | (i & 0x3F_FFFF);
        let brand = &handles[rng.below(brands as u64) as usize];
        let user = rng.below(2_000_000);
        let text_body = &texts[rng.below(texts.len() as u64) as usize];
        let text = format!("@{brand} {text_body}");
        let reply = i > 10 && rng.below(5) == 0;
        let created = Utc.timestamp_millis_opt(t_ms).single().context("timestamp")?;
        let mention_end = brand.chars().count() + 1;
        let mut data = serde_json::json!({
            "id": id.to_string(),
            "text": text,
            "author_id": format!("{}", 10_000_000 + user),
            "created_at": created.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "conversation_id": id.to_string(),
            "lang": "en",
            "edit_history_tweet_ids": [id.to_string()],
            "entities": {"mentions": [{"start": 0, "end": mention_end, "username": brand, "id": format!("{}", 900 + brand.len())}]},
            "public_metrics": {"retweet_count": rng.below(3), "reply_count": rng.below(2), "like_count": rng.below(20), "quote_count": 0},
        });
        if reply {
            let parent = id - ((1 + rng.below(i.min(1000))) << 22);
            data["referenced_tweets"] = serde_json::json!([{"type": "replied_to", "id": parent.to_string()}]);
            data["in_reply_to_user_id"] = serde_json::json!(format!("{}", 900 + brand.len()));
        }
        let line = serde_json::json!({
            "data": data,
            "includes": {"users": [{
                "id": format!("{}", 10_000_000 + user),
                "name": format!("Customer {user}"),
                "username": format!("customer{user}"),
                "public_metrics": {"followers_count": rng.below(5000), "following_count": rng.below(500), "tweet_count": rng.below(10000), "listed_count": 0},
            }]},
            "matching_rules": [{"id": "1712345678901234567", "tag": brand}],
        });
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The process's peak resident set size in bytes (Linux `VmHWM`), when available.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
