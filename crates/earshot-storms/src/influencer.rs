//! Influential negative posts: reach far above the brand's usual.
//!
//! Each brand keeps log-scale histograms of its customers' follower counts and repost counts
//! ([`ReachStats`]). A negative post fires when its followers or its reposts are at least
//! [`InfluencerConfig::factor`] times the brand's [`InfluencerConfig::quantile`] (4 × the 99.9th
//! percentile by default) and above an absolute floor. Until a brand has
//! [`InfluencerConfig::warmup_posts`] posts, only the higher cold-start floors apply.
//!
//! The histograms are integers (4 buckets per doubling, so a quantile is known within 19 %), halved
//! whenever they hold 2^20 posts, so recent months weigh more and a JSON snapshot restores them
//! exactly.

use serde::{Deserialize, Serialize};

/// Buckets per doubling.
const PER_OCTAVE: f64 = 4.0;
/// Buckets (covers counts up to 2^64).
const BUCKETS: usize = 257;
/// Halve the histogram when it holds this many posts.
const HALVE_AT: u64 = 1 << 20;

/// Influencer detection settings (`[storms.influencer]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InfluencerConfig {
    /// Watch for influential negative posts.
    pub enabled: bool,
    /// Which quantile of the brand's reach is "usual".
    pub quantile: f64,
    /// How far above the usual a post must be.
    pub factor: f64,
    /// Followers below this never fire, however small the brand.
    pub min_followers: u64,
    /// Reposts below this never fire.
    pub min_reposts: u64,
    /// Posts a brand needs before its own quantiles are trusted.
    pub warmup_posts: u64,
    /// Followers needed while the brand is warming up.
    pub cold_followers: u64,
    /// Reposts needed while the brand is warming up.
    pub cold_reposts: u64,
}

impl Default for InfluencerConfig {
    fn default() -> InfluencerConfig {
        InfluencerConfig {
            enabled: true,
            quantile: 0.999,
            factor: 4.0,
            min_followers: 10_000,
            min_reposts: 100,
            warmup_posts: 2_000,
            cold_followers: 100_000,
            cold_reposts: 1_000,
        }
    }
}

/// A log-scale histogram of counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHistogram {
    counts: Vec<u32>,
    total: u64,
}

impl Default for LogHistogram {
    fn default() -> LogHistogram {
        LogHistogram { counts: vec![0; BUCKETS], total: 0 }
    }
}

fn bucket(x: u64) -> usize {
    (((x as f64 + 1.0).log2() * PER_OCTAVE) as usize).min(BUCKETS - 1)
}

fn upper_bound(i: usize) -> f64 {
    ((i as f64 + 1.0) / PER_OCTAVE).exp2() - 1.0
}

impl LogHistogram {
    /// Count one value.
    pub fn add(&mut self, x: u64) {
        let i = bucket(x);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.total += 1;
        if self.total >= HALVE_AT {
            self.total = 0;
            for c in &mut self.counts {
                *c /= 2;
                self.total += u64::from(*c);
            }
        }
    }

    /// The `q` quantile (upper edge of its bucket); 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let want = (q.clamp(0.0, 1.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= want {
                return upper_bound(i);
            }
        }
        upper_bound(BUCKETS - 1)
    }

    /// Values counted (after halvings).
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// One brand's reach statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachStats {
    followers: LogHistogram,
    reposts: LogHistogram,
    posts: u64,
}

impl ReachStats {
    /// Judge a post (before counting it), then count it. Returns the reach that fired (followers or
    /// reposts) when the post is negative and far above the brand's usual.
    pub fn observe(&mut self, followers: u64, reposts: u64, negative: bool, cfg: &InfluencerConfig) -> Option<u64> {
        let fired = (cfg.enabled && negative).then(|| self.judge(followers, reposts, cfg));
        self.followers.add(followers);
        self.reposts.add(reposts);
        self.posts += 1;
        fired.flatten()
    }

    fn judge(&self, followers: u64, reposts: u64, cfg: &InfluencerConfig) -> Option<u64> {
        let (need_f, need_r) = if self.posts < cfg.warmup_posts {
            (cfg.cold_followers as f64, cfg.cold_reposts as f64)
        } else {
            (
                (cfg.factor * self.followers.quantile(cfg.quantile)).max(cfg.min_followers as f64),
                (cfg.factor * self.reposts.quantile(cfg.quantile)).max(cfg.min_reposts as f64),
            )
        };
        if followers as f64 >= need_f {
            Some(followers)
        } else if reposts as f64 >= need_r {
            Some(reposts)
        } else {
            None
        }
    }

    /// Heap bytes held.
    pub fn memory_bytes(&self) -> usize {
        (self.followers.counts.capacity() + self.reposts.counts.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_bucket() {
        let mut h = LogHistogram::default();
        for x in 1..=1000 {
            h.add(x);
        }
        let q = h.quantile(0.99);
        assert!((990.0..=990.0 * 1.2).contains(&q), "{q}");
        assert_eq!(LogHistogram::default().quantile(0.5), 0.0);
    }

    #[test]
    fn a_negative_post_far_above_usual_fires_and_a_positive_one_does_not() {
        let cfg = InfluencerConfig::default();
        let mut r = ReachStats::default();
        for i in 0..5000u64 {
            assert_eq!(r.observe(100 + i % 900, i % 5, true, &cfg), None);
        }
        assert_eq!(r.observe(50_000, 0, false, &cfg), None);
        assert_eq!(r.observe(50_000, 0, true, &cfg), Some(50_000));
        assert_eq!(r.observe(200, 500, true, &cfg), Some(500));
        // Twice the usual maximum is not far enough above it.
        assert_eq!(r.observe(2_000, 0, true, &cfg), None);
    }

    #[test]
    fn cold_brands_need_the_cold_floors() {
        let cfg = InfluencerConfig::default();
        let mut r = ReachStats::default();
        assert_eq!(r.observe(50_000, 0, true, &cfg), None);
        assert_eq!(r.observe(150_000, 0, true, &cfg), Some(150_000));
    }

    #[test]
    fn histograms_halve_and_keep_their_shape() {
        let mut h = LogHistogram::default();
        for i in 0..(HALVE_AT + 10) {
            h.add(i % 100);
        }
        assert!(h.total() < HALVE_AT);
        let q = h.quantile(0.5);
        assert!((40.0..70.0).contains(&q), "{q}");
    }
}
