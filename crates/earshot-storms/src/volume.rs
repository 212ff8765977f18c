//! The volume detector: is this bucket's count a storm for this brand, at
//! this hour of this day of the week?
//!
//! A [`VolumeDetector`] reads a regularly bucketed count series (mentions,
//! complaints or negative posts of one brand per `bucket_secs`) one closed
//! bucket at a time and returns an anomaly score in `[0, 1]`; a score of
//! `0.5` or more is a detection. It never looks ahead, keeps about a
//! kilobyte of state whatever the length of the stream (see
//! [`VolumeDetector::memory_bytes`]), and its state is plain data (`serde`),
//! so a tracker can persist it and resume bit for bit.
//!
//! # Expected volume
//! Counts of posts are overdispersed Poisson counts around a rate that
//! follows the day and the week. The detector keeps:
//! - a deseasonalized **level** (EWMA, half-life
//!   [`VolumeConfig::level_half_life_secs`]; a running mean while younger
//!   than that, so a new brand has a baseline after its first buckets);
//! - an **hour-of-day** profile (24 multiplicative factors) and a
//!   **day-of-week** profile (7 factors), learned Holt–Winters style. Until
//!   they have learned anything they are all 1, so the fallback baseline of
//!   a new brand is the level alone: that is what makes a detector useful
//!   within its first hour instead of after its first week;
//! - the **dispersion** of counts around the expectation, in the
//!   variance-stabilized (Anscombe, `sqrt(x + 3/8)`) scale where a Poisson
//!   count has variance 1/4 whatever its rate; the Poisson value is a floor,
//!   so quiet brands are not flagged for noise.
//!
//! Updates are robust: an observation further than [`VolumeConfig::clip_z`]
//! standard deviations from its expectation is clipped before it moves the
//! level, the profiles or the dispersion, so a storm does not teach the
//! detector that storms are normal (a lasting change of volume is still
//! learnt, a clipped step at a time).
//!
//! # When a surge is a storm
//! Only excesses *upwards* count (a storm is more posts, not fewer). Each
//! bucket is compared with its expectation at two time scales, the bucket
//! itself and the sum over the last [`VolumeConfig::burst_secs`] (an hour by
//! default, which catches storms building over several buckets); the larger
//! standardized excess is the bucket's `z`. A bucket alerts when both:
//! - the excess is **significant**: `z >= alert_z`, in units of this
//!   brand's own noise; and
//! - the surge is **large for this brand**: its size (extra posts over the
//!   burst window, in units of a normal window's volume) reaches the
//!   [`VolumeConfig::rank`]-th largest surge of the last
//!   [`VolumeConfig::memory_secs`]. With the defaults (2nd largest of 28
//!   days) a storm is a surge of a kind this brand sees less than about twice
//!   a month. Busy brands have many significant surges (every product launch
//!   or news story); this empirical return level keeps them from alerting
//!   on each one, and needs no tuning per brand. Until a brand has that many
//!   surges remembered, significance alone decides.
//!
//! The score is the smaller of `z / (z + alert_z)` and
//! `size / (size + rank-th size)`: 0.5 exactly where the weaker of the two
//! conditions is just met, and monotone in both.
//!
//! # One alert per storm
//! A surge starts when `z` reaches `alert_z` and lasts until the burst-scale
//! `z` falls back below [`VolumeConfig::rearm_z`]. It alerts (scores `>= 0.5`)
//! at most once, at the first bucket that passes both conditions; later
//! buckets of the same surge score half their raw score, below 0.5. A storm
//! is reported at its onset, not once per bucket it lasts.
//! [`VolumeDetector::push_reading`] exposes the unsuppressed score, the size
//! and whether a storm is ongoing, for callers that follow storms.
//!
//! # Warm-up
//! Nothing is scored before [`VolumeConfig::warmup_secs`] (one hour by
//! default) of buckets have been seen. After that, a step to 10× a steady
//! baseline of at least one post per bucket alerts within the hour
//! (property-tested), long before the hour-of-day profile has seen a whole
//! day or the day-of-week profile a week.
//!
//! # How it scores on NAB
//! `cargo run --release -p earshot-storms --example nab -- DIR` scores it
//! the NAB way (see [`crate::nab`]), per file, with leave-one-series-out
//! tuning of `alert_z`, `memory_secs` and `rank`.

use serde::{Deserialize, Serialize};

/// Seconds in a day.
const DAY: i64 = 86_400;
/// Seconds in a week.
const WEEK: i64 = 7 * DAY;
/// Anscombe's constant: `sqrt(x + 3/8)` has variance ~1/4 for a Poisson `x`.
const ANSCOMBE: f64 = 0.375;
/// Longest burst window kept, in buckets: bounds the ring buffers (two
/// `f64` per bucket) whatever `burst_secs / bucket_secs` asks for.
const MAX_BURST_BUCKETS: usize = 64;
/// Longest run of missing buckets replayed one by one as zero counts. A
/// longer gap is replayed up to this many buckets (one week of 5-minute
/// buckets) and the rest skipped: after a week of zeros the state has
/// converged, and the cost of a gap stays bounded.
const MAX_GAP_FILL: i64 = 2_016;
/// Most surge peaks remembered. Only peaks with fewer than `rank` higher
/// newer peaks are kept, which is a handful in practice; this bounds the
/// worst case (a steadily decreasing sequence of surges).
const MAX_PEAKS: usize = 32;

/// Tuning of a [`VolumeDetector`]. Times are in seconds (not buckets), so
/// one configuration means the same thing whatever the bucket width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeConfig {
    /// Width of a bucket, in seconds. `0` (or less) means "not known yet":
    /// the detector takes the gap between its first two buckets, and
    /// `detect_series` infers it from the file's timestamps.
    pub bucket_secs: i64,
    /// The standardized excess (`z`, in standard deviations of this brand's
    /// own noise) a surge must reach to alert. Higher means fewer, surer
    /// alerts; it is the whole criterion for a new brand (see `rank`).
    pub alert_z: f64,
    /// Half-life of the deseasonalized level. Shorter adapts faster to a
    /// lasting change of volume (fewer repeated alerts after it), longer
    /// keeps slow-building storms visible for longer.
    pub level_half_life_secs: i64,
    /// Half-life of the hour-of-day and day-of-week profiles, in days of
    /// visits of a given slot.
    pub season_half_life_days: f64,
    /// Half-life of the dispersion (noise) estimate.
    pub dispersion_half_life_secs: i64,
    /// The second time scale: counts summed over this span are compared
    /// with their expected sum (one hour by default). `0` uses single
    /// buckets only.
    pub burst_secs: i64,
    /// Observations further than this many standard deviations from their
    /// expectation are clipped before they update the model.
    pub clip_z: f64,
    /// A surge ends when the burst-scale `z` falls below this; until then
    /// it raises no second alert.
    pub rearm_z: f64,
    /// No score above 0 before this much of the stream has been seen.
    pub warmup_secs: i64,
    /// How far back the detector remembers the sizes of past surges.
    pub memory_secs: i64,
    /// A surge alerts only when its size reaches the `rank`-th largest
    /// surge remembered, i.e. it is the kind of surge this brand sees fewer
    /// than `rank` times per `memory_secs`. `0` turns this off: every
    /// significant surge alerts. At most 32 surges are remembered, so a
    /// larger rank never applies.
    pub rank: usize,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        Self {
            bucket_secs: 300,
            alert_z: 7.0,
            level_half_life_secs: 12 * 3600,
            season_half_life_days: 7.0,
            dispersion_half_life_secs: DAY,
            burst_secs: 3600,
            clip_z: 3.0,
            rearm_z: 1.0,
            warmup_secs: 3600,
            memory_secs: 28 * DAY,
            rank: 2,
        }
    }
}

/// What the detector made of one bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VolumeReading {
    /// The anomaly score in `[0, 1]` (what [`VolumeDetector::push`] returns):
    /// `>= 0.5` is the onset of a storm.
    pub score: f64,
    /// The score before one-alert-per-storm suppression: `>= 0.5` on every
    /// bucket that is itself anomalous.
    pub raw_score: f64,
    /// The larger of the bucket-scale and burst-scale standardized excess.
    pub z: f64,
    /// The count this bucket was expected to have.
    pub expected: f64,
    /// Size of the excess: posts above expectation over the burst window,
    /// in units of an average burst window's volume (2.0 = two normal
    /// hours' worth of extra posts, with the default one-hour burst).
    pub size: f64,
    /// A storm (started by an earlier or this bucket) is ongoing.
    pub in_storm: bool,
}

/// Streaming, seasonal, robust rate-anomaly detector for one count series.
/// See the [module documentation](self) for the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VolumeDetector {
    config: VolumeConfig,
    /// Resolved bucket width (0 until known).
    width: i64,
    /// Start of the first bucket: bucket indices count from here.
    origin: Option<i64>,
    /// Index of the last bucket taken in.
    last_index: i64,
    /// Buckets taken in, including gap fills.
    seen: u64,
    /// Buckets pushed at or before the last one, ignored.
    late: u64,
    level: f64,
    /// Hour-of-day factors (mean 1).
    daily: Vec<f64>,
    /// Day-of-week factors (mean 1).
    weekly: Vec<f64>,
    /// Dispersion at bucket scale, in units of the Poisson variance.
    disp: f64,
    /// Dispersion at burst scale.
    burst_disp: f64,
    /// Last counts and expectations (ring buffers of the burst length).
    ring_count: Vec<f64>,
    ring_expected: Vec<f64>,
    ring_pos: usize,
    /// Entries written since the ring was (re)sized.
    ring_filled: usize,
    /// The surge under way, if any.
    surge: Option<Surge>,
    /// Peaks of past surges, `(end, peak excess)`, oldest first: only those that
    /// can still be the `rank`-th largest within the memory.
    peaks: Vec<(i64, f64)>,
}

/// A run of buckets whose `z` reached `alert_z`, until the burst-scale `z`
/// falls below `rearm_z`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Surge {
    /// Largest excess (posts above expectation over the burst window) so
    /// far.
    peak: f64,
    /// This surge has alerted.
    alerted: bool,
}

/// Per-bucket smoothing factor of an EWMA with the given half-life.
fn alpha(step_secs: f64, half_life_secs: f64) -> f64 {
    if half_life_secs <= 0.0 { 1.0 } else { 1.0 - 0.5f64.powf(step_secs / half_life_secs) }
}

/// Anscombe residual: the excess of `count` over `expected`, in the scale
/// where Poisson noise has standard deviation 1/2.
fn anscombe_residual(count: f64, expected: f64) -> f64 {
    (count.max(0.0) + ANSCOMBE).sqrt() - (expected.max(0.0) + ANSCOMBE).sqrt()
}

impl VolumeDetector {
    /// A detector that has seen nothing yet.
    pub fn new(config: VolumeConfig) -> Self {
        let width = config.bucket_secs.max(0);
        Self {
            config,
            width,
            origin: None,
            last_index: 0,
            seen: 0,
            late: 0,
            level: 0.0,
            daily: vec![1.0; 24],
            weekly: vec![1.0; 7],
            disp: 1.0,
            burst_disp: 1.0,
            ring_count: Vec::new(),
            ring_expected: Vec::new(),
            ring_pos: 0,
            ring_filled: 0,
            surge: None,
            peaks: Vec::new(),
        }
    }

    /// The configuration this detector runs with.
    pub fn config(&self) -> &VolumeConfig {
        &self.config
    }

    /// The bucket width in force, in seconds: the configured one, or the
    /// one inferred from the first two buckets (0 until then).
    pub fn bucket_secs(&self) -> i64 {
        self.width
    }

    /// Buckets pushed at or before an earlier bucket (ignored: the detector
    /// only moves forward in event time).
    pub fn late_buckets(&self) -> u64 {
        self.late
    }

    /// Feeds one closed bucket (start time in Unix seconds, count). Returns
    /// the anomaly score in `[0, 1]`; `>= 0.5` is a detection.
    ///
    /// Missing buckets between the previous one and this one count as zero
    /// posts (replayed without allocating, at most a week of them). A bucket
    /// at or before the previous one is ignored and scores 0.
    pub fn push(&mut self, bucket_start: i64, count: f64) -> f64 {
        self.push_reading(bucket_start, count).score
    }

    /// [`push`](Self::push), returning everything the detector saw in the
    /// bucket.
    pub fn push_reading(&mut self, bucket_start: i64, count: f64) -> VolumeReading {
        let count = if count.is_finite() { count.max(0.0) } else { 0.0 };
        let Some(origin) = self.origin else {
            self.origin = Some(bucket_start);
            self.last_index = 0;
            return self.observe(bucket_start, count);
        };
        if self.width <= 0 {
            // Width still unknown: the first gap defines it.
            let gap = bucket_start - origin;
            if gap <= 0 {
                self.late += 1;
                return Self::quiet_reading();
            }
            self.width = gap;
        }
        let index = (bucket_start - origin).div_euclid(self.width);
        if index <= self.last_index {
            self.late += 1;
            return Self::quiet_reading();
        }
        let missing = index - self.last_index - 1;
        let replay = missing.min(MAX_GAP_FILL);
        for k in (missing - replay)..missing {
            let start = origin + (self.last_index + 1 + k) * self.width;
            self.observe(start, 0.0);
        }
        self.last_index = index;
        self.observe(bucket_start, count)
    }

    fn quiet_reading() -> VolumeReading {
        VolumeReading { score: 0.0, raw_score: 0.0, z: 0.0, expected: 0.0, size: 0.0, in_storm: false }
    }

    /// Approximate heap + inline bytes, for the memory-per-brand benchmark.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + 8 * (self.daily.capacity()
                + self.weekly.capacity()
                + self.ring_count.capacity()
                + self.ring_expected.capacity())
            + std::mem::size_of::<(i64, f64)>() * self.peaks.capacity()
    }

    /// Width used for the smoothing factors: a detector whose width is not
    /// known yet (first bucket) behaves as with 5-minute buckets.
    fn step_secs(&self) -> f64 {
        if self.width > 0 { self.width as f64 } else { 300.0 }
    }

    fn burst_len(&self) -> usize {
        let width = self.width.max(1);
        let buckets = self.config.burst_secs.max(0) / width;
        (buckets.max(1) as usize).min(MAX_BURST_BUCKETS)
    }

    fn slots(&self, start: i64) -> (Option<usize>, Option<usize>) {
        let step = self.width.max(1);
        let hour = (step < DAY).then(|| (start.rem_euclid(DAY) / 3600) as usize);
        // 1970-01-01 was a Thursday: +3 makes Monday 0.
        let day = (step < WEEK).then(|| ((start.div_euclid(DAY) + 3).rem_euclid(7)) as usize);
        (hour, day)
    }

    /// Takes one bucket in: score it against the model, then update the
    /// model.
    fn observe(&mut self, start: i64, count: f64) -> VolumeReading {
        let step = self.step_secs();
        let (hour, day) = self.slots(start);
        let d = hour.map_or(1.0, |h| self.daily[h]);
        let w = day.map_or(1.0, |k| self.weekly[k]);
        self.seen += 1;
        let first = self.seen == 1;
        if first {
            self.level = count / (d * w);
        }
        let expected = self.level * d * w;

        // Bucket scale.
        let r = anscombe_residual(count, expected);
        let z1 = 2.0 * r / self.disp.max(1.0).sqrt();

        // Burst scale: the ring holds the last `len` counts and expectations.
        let len = self.burst_len();
        if self.ring_count.len() != len {
            // First bucket, or the width just became known.
            self.ring_count = vec![0.0; len];
            self.ring_expected = vec![0.0; len];
            self.ring_pos = 0;
            self.ring_filled = 0;
        }
        self.ring_count[self.ring_pos] = count;
        self.ring_expected[self.ring_pos] = expected;
        self.ring_pos = (self.ring_pos + 1) % len;
        self.ring_filled = (self.ring_filled + 1).min(len);
        let (zb, rb, excess) = if len > 1 && self.ring_filled == len {
            let sum_count: f64 = self.ring_count.iter().sum();
            let sum_expected: f64 = self.ring_expected.iter().sum();
            let rb = anscombe_residual(sum_count, sum_expected);
            let zb = 2.0 * rb / self.burst_disp.max(1.0).sqrt();
            (zb, Some(rb), sum_count - sum_expected)
        } else {
            (z1, None, count - expected)
        };
        // Surge size: the excess in units of an average burst window's volume
        // (the deseasonalized level), so sizes stay comparable while the
        // brand's volume drifts, and a surge at a quiet hour is not inflated.
        let typical = (self.level * len as f64).max(1.0);
        let size = excess.max(0.0) / typical;

        let z = z1.max(zb);
        let warm = self.seen as f64 * step >= self.config.warmup_secs as f64 && !first;

        // A surge ends when the burst-scale excess is back to noise; its peak
        // joins the memory of surges this bucket is then compared with.
        if let Some(surge) = &self.surge
            && zb < self.config.rearm_z
        {
            let peak = surge.peak;
            self.surge = None;
            self.remember_peak(start, peak);
        }
        let raw_score = if warm && z > 0.0 {
            let significance = z / (z + self.config.alert_z);
            let rank = match self.size_threshold(start) {
                Some(t) => size / (size + t),
                None => 1.0,
            };
            significance.min(rank)
        } else {
            0.0
        };
        let score = match &mut self.surge {
            Some(surge) => {
                surge.peak = surge.peak.max(size);
                if surge.alerted {
                    raw_score * 0.5
                } else {
                    surge.alerted = raw_score >= 0.5;
                    raw_score
                }
            }
            None => {
                if warm && z >= self.config.alert_z {
                    self.surge = Some(Surge { peak: size, alerted: raw_score >= 0.5 });
                }
                raw_score
            }
        };

        // Update, with clipped (robust) observations.
        if !first {
            let sd = 0.5 * self.disp.max(1.0).sqrt();
            let clip = self.config.clip_z * sd;
            let r_clipped = r.clamp(-clip, clip);
            let root = (expected + ANSCOMBE).sqrt() + r_clipped;
            let clipped = (root.max(0.0).powi(2) - ANSCOMBE).max(0.0);

            // Warm-up: a running mean until the EWMA is the slower of the two.
            let n = self.seen as f64;
            let a_level = alpha(step, self.config.level_half_life_secs as f64).max(1.0 / n);
            let seasonal = d * w;
            self.level += a_level * (clipped / seasonal - self.level);
            if self.level > 1e-9 {
                let season_secs = self.config.season_half_life_days * DAY as f64;
                if let Some(h) = hour {
                    // Each hour slot is visited 3600/step times a day.
                    let visits = (3600.0 / step).max(1.0);
                    let a = alpha(DAY as f64 / visits, season_secs);
                    let target = clipped / (self.level * w);
                    self.daily[h] += a * (target - self.daily[h]);
                    normalize(&mut self.daily);
                }
                if let Some(k) = day {
                    let visits = (DAY as f64 / step).max(1.0);
                    let a = alpha(WEEK as f64 / visits, season_secs);
                    let target = clipped / (self.level * hour.map_or(1.0, |h| self.daily[h]));
                    self.weekly[k] += a * (target - self.weekly[k]);
                    normalize(&mut self.weekly);
                }
            }

            let a_disp = alpha(step, self.config.dispersion_half_life_secs as f64);
            let cap = self.config.clip_z.powi(2);
            let u = (4.0 * r * r / self.disp.max(1.0)).min(cap) * self.disp.max(1.0);
            self.disp += a_disp * (u - self.disp);
            if let Some(rb) = rb {
                let u = (4.0 * rb * rb / self.burst_disp.max(1.0)).min(cap) * self.burst_disp.max(1.0);
                self.burst_disp += a_disp * (u - self.burst_disp);
            }
        }

        VolumeReading { score, raw_score, z, expected, size, in_storm: self.surge.as_ref().is_some_and(|s| s.alerted) }
    }

    /// The excess a surge must reach to alert at `now`: the `rank`-th
    /// largest surge peak remembered, if there are that many.
    fn size_threshold(&self, now: i64) -> Option<f64> {
        let rank = self.config.rank;
        if rank == 0 {
            return None;
        }
        let since = now - self.config.memory_secs;
        // At most MAX_PEAKS peaks: sorted on the stack, no allocation per
        // bucket.
        let mut recent = [0.0f64; MAX_PEAKS];
        let mut n = 0;
        for &(_, p) in self.peaks.iter().filter(|(t, _)| *t >= since).take(MAX_PEAKS) {
            recent[n] = p;
            n += 1;
        }
        if n < rank {
            return None;
        }
        recent[..n].sort_by(|a, b| b.total_cmp(a));
        Some(recent[rank - 1])
    }

    /// Adds a surge peak, dropping peaks that can no longer matter: those
    /// out of memory, and those with `rank` newer peaks at least as high
    /// (newer peaks stay in memory longer, so these are never again the
    /// `rank`-th largest).
    fn remember_peak(&mut self, now: i64, peak: f64) {
        let rank = self.config.rank;
        if rank == 0 {
            return;
        }
        let since = now - self.config.memory_secs;
        self.peaks.retain(|(t, _)| *t >= since);
        self.peaks.push((now, peak));
        let mut keep = Vec::with_capacity(self.peaks.len());
        for (i, &(t, p)) in self.peaks.iter().enumerate() {
            let higher_newer = self.peaks[i + 1..].iter().filter(|(_, q)| *q >= p).count();
            if higher_newer < rank {
                keep.push((t, p));
            }
        }
        if keep.len() > MAX_PEAKS {
            keep.drain(..keep.len() - MAX_PEAKS);
        }
        self.peaks = keep;
    }
}

/// Rescales factors to mean 1, so the level carries the volume and the
/// profiles only its shape.
fn normalize(factors: &mut [f64]) {
    let mean = factors.iter().sum::<f64>() / factors.len() as f64;
    if mean > 1e-12 {
        for f in factors.iter_mut() {
            *f /= mean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIVE_MIN: i64 = 300;
    /// A Monday, 00:00 UTC.
    const T0: i64 = 1_425_254_400;

    fn detector() -> VolumeDetector {
        VolumeDetector::new(VolumeConfig::default())
    }

    /// Scores of `counts` pushed as consecutive 5-minute buckets from `T0`.
    fn run(d: &mut VolumeDetector, from: usize, counts: &[f64]) -> Vec<f64> {
        counts.iter().enumerate().map(|(i, &c)| d.push(T0 + (from + i) as i64 * FIVE_MIN, c)).collect()
    }

    /// A deterministic, noisy daily cycle around `mean` (no spikes): a
    /// linear congruential generator, so tests need no RNG crate.
    fn daily_cycle(days: usize, mean: f64) -> Vec<f64> {
        let mut state = 12345u64;
        (0..days * 288)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 2.0;
                let hour = (i % 288) as f64 / 12.0;
                let rate = mean * (1.0 + 0.6 * (std::f64::consts::TAU * (hour - 9.0) / 24.0).cos());
                (rate + noise * rate.sqrt()).round().max(0.0)
            })
            .collect()
    }

    fn alerts(scores: &[f64]) -> Vec<usize> {
        scores.iter().enumerate().filter(|(_, s)| **s >= 0.5).map(|(i, _)| i).collect()
    }

    #[test]
    fn a_flat_series_scores_zero() {
        for level in [0.0, 0.3, 1.0, 42.0, 1e5] {
            let mut d = detector();
            let scores = run(&mut d, 0, &vec![level; 3000]);
            assert!(scores.iter().all(|&s| s == 0.0), "level {level}");
        }
    }

    #[test]
    fn a_step_to_ten_times_alerts_within_the_hour() {
        let mut d = detector();
        assert!(alerts(&run(&mut d, 0, &[20.0; 24])).is_empty());
        let after = run(&mut d, 24, &[200.0; 12]);
        assert_eq!(alerts(&after), vec![0], "{after:?}");
    }

    #[test]
    fn a_noisy_daily_cycle_does_not_alert_but_a_storm_does() {
        let mut d = detector();
        let mut counts = daily_cycle(10, 30.0);
        assert!(alerts(&run(&mut d, 0, &counts)).is_empty());
        // A storm at noon of day 11: 3 buckets at 8x the usual volume.
        let noon = 10 * 288 + 144;
        counts = daily_cycle(11, 30.0)[10 * 288..].to_vec();
        for c in &mut counts[144..147] {
            *c *= 8.0;
        }
        let scores = run(&mut d, 10 * 288, &counts);
        let fired = alerts(&scores);
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert!((144..147).contains(&fired[0]), "alert at {} (noon is {noon})", fired[0]);
    }

    #[test]
    fn a_long_storm_alerts_once() {
        let mut d = detector();
        run(&mut d, 0, &daily_cycle(2, 50.0));
        let storm = vec![600.0; 36];
        let scores = run(&mut d, 576, &storm);
        assert_eq!(alerts(&scores).len(), 1, "{scores:?}");
        let r = d.push_reading(T0 + 612 * FIVE_MIN, 600.0);
        assert!(r.in_storm && r.raw_score >= 0.5 && r.score < 0.5, "{r:?}");
        assert!(r.size > 1.0, "{r:?}");
    }

    #[test]
    fn a_busy_brand_alerts_only_on_surges_larger_than_its_usual_ones() {
        let mut d = detector();
        let base = daily_cycle(1, 40.0);
        let mut from = 0;
        let mut day = |d: &mut VolumeDetector, spike: f64| {
            let mut counts = base.clone();
            for c in &mut counts[150..153] {
                *c += spike;
            }
            let scores = run(d, from, &counts);
            from += counts.len();
            alerts(&scores).len()
        };
        // Three quiet days, then one surge a day: the first `rank` alert
        // (nothing to compare with yet); later, smaller ones are routine for
        // this brand.
        for _ in 0..3 {
            assert_eq!(day(&mut d, 0.0), 0);
        }
        let fired: Vec<usize> =
            [400.0, 400.0, 300.0, 300.0, 300.0, 300.0].into_iter().map(|spike| day(&mut d, spike)).collect();
        assert_eq!(fired, vec![1, 1, 0, 0, 0, 0]);
        // A surge three times larger is news again.
        assert_eq!(day(&mut d, 1200.0), 1);
    }

    #[test]
    fn missing_buckets_count_as_zeros() {
        let counts = daily_cycle(2, 25.0);
        let mut explicit = detector();
        let mut gappy = detector();
        for (i, &c) in counts.iter().enumerate() {
            let t = T0 + i as i64 * FIVE_MIN;
            let in_gap = (300..340).contains(&i) || (500..501).contains(&i);
            let e = explicit.push(t, if in_gap { 0.0 } else { c });
            if !in_gap {
                assert_eq!(e.to_bits(), gappy.push(t, c).to_bits(), "bucket {i}");
            }
        }
    }

    #[test]
    fn a_huge_gap_is_bounded() {
        let mut d = detector();
        run(&mut d, 0, &daily_cycle(1, 25.0));
        let before = d.memory_bytes();
        // Ten years of silence: replayed up to a week, then skipped.
        let score = d.push(T0 + 10 * 365 * DAY, 25.0);
        assert!((0.0..=1.0).contains(&score));
        assert_eq!(d.memory_bytes(), before);
        assert_eq!(d.seen, 288 + MAX_GAP_FILL as u64 + 1);
    }

    #[test]
    fn late_buckets_are_ignored() {
        let counts = daily_cycle(1, 25.0);
        let mut clean = detector();
        let mut late = detector();
        for (i, &c) in counts.iter().enumerate() {
            let t = T0 + i as i64 * FIVE_MIN;
            assert_eq!(clean.push(t, c).to_bits(), late.push(t, c).to_bits());
            if i % 50 == 49 {
                assert_eq!(late.push(t - FIVE_MIN, 1e6), 0.0);
                assert_eq!(late.push(t, 1e6), 0.0);
            }
        }
        assert_eq!(late.late_buckets(), 2 * (288 / 50));
    }

    #[test]
    fn the_width_is_inferred_from_the_first_two_buckets() {
        let mut d = VolumeDetector::new(VolumeConfig { bucket_secs: 0, ..VolumeConfig::default() });
        assert_eq!(d.bucket_secs(), 0);
        run(&mut d, 0, &[20.0; 24]);
        assert_eq!(d.bucket_secs(), FIVE_MIN);
        assert_eq!(alerts(&run(&mut d, 24, &[200.0; 12])), vec![0]);
    }

    #[test]
    fn memory_stays_around_a_kilobyte() {
        let mut d = detector();
        let mut counts = daily_cycle(30, 60.0);
        for (k, c) in counts.iter_mut().enumerate() {
            if k % 700 < 3 {
                *c *= 6.0;
            }
        }
        run(&mut d, 0, &counts);
        let bytes = d.memory_bytes();
        assert!((600..2048).contains(&bytes), "{bytes} bytes");
    }

    fn flat_case() -> impl Strategy<Value = (f64, usize, i64)> {
        (
            prop_oneof![Just(0.0), 0.0..1e6f64, (0u32..1000).prop_map(f64::from)],
            1usize..3000,
            prop_oneof![Just(60i64), Just(300), Just(3600)],
        )
    }

    proptest! {
        /// Never fires on a flat series, whatever its level, length or
        /// bucket width.
        #[test]
        fn never_fires_on_a_flat_series((level, len, width) in flat_case()) {
            let mut d = VolumeDetector::new(VolumeConfig { bucket_secs: width, ..VolumeConfig::default() });
            for i in 0..len {
                let s = d.push(T0 + i as i64 * width, level);
                prop_assert!(s < 0.5, "bucket {} scored {}", i, s);
            }
        }

        /// After a warm-up of an hour to two days at a steady level of at
        /// least one post per bucket, a step to 10x alerts within an hour.
        #[test]
        fn fires_on_a_step_to_ten_times(level in 1.0..1e4f64, warmup in 12usize..576) {
            let mut d = detector();
            for i in 0..warmup {
                prop_assert!(d.push(T0 + i as i64 * FIVE_MIN, level) < 0.5);
            }
            let fired = (0..12).any(|k| d.push(T0 + (warmup + k) as i64 * FIVE_MIN, 10.0 * level) >= 0.5);
            prop_assert!(fired);
        }

        /// Restoring a detector from its JSON state midway changes nothing.
        #[test]
        fn state_round_trips_through_json(
            counts in prop::collection::vec(prop_oneof![8 => 0.0..60.0f64, 1 => 100.0..3000.0f64], 1..1500),
            gaps in prop::collection::vec(1i64..4, 1..1500),
            split in 0usize..1500,
        ) {
            let times: Vec<i64> = gaps.iter().scan(T0, |t, g| { *t += g * FIVE_MIN; Some(*t) }).collect();
            let n = counts.len().min(times.len());
            let split = split.min(n);
            let mut whole = detector();
            let expected: Vec<u64> = (0..n).map(|i| whole.push(times[i], counts[i]).to_bits()).collect();
            let mut first = detector();
            let mut got: Vec<u64> = (0..split).map(|i| first.push(times[i], counts[i]).to_bits()).collect();
            let json = serde_json::to_string(&first).expect("state serializes");
            let mut resumed: VolumeDetector = serde_json::from_str(&json).expect("state deserializes");
            got.extend((split..n).map(|i| resumed.push(times[i], counts[i]).to_bits()));
            prop_assert_eq!(got, expected);
            prop_assert_eq!(serde_json::to_string(&resumed).ok(), serde_json::to_string(&whole).ok());
        }

        /// Scores are always in [0, 1], even for garbage counts.
        #[test]
        fn scores_are_in_the_unit_interval(
            counts in prop::collection::vec(prop_oneof![any::<f64>(), 0.0..1e9f64], 1..500),
        ) {
            let mut d = detector();
            for (i, &c) in counts.iter().enumerate() {
                let s = d.push(T0 + i as i64 * FIVE_MIN, c);
                prop_assert!((0.0..=1.0).contains(&s), "{} -> {}", c, s);
            }
        }
    }
}
