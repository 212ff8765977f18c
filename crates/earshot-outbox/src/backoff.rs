//! Exponential backoff with deterministic jitter.

use crate::key::fnv1a;
use std::time::Duration;

/// When to try again after the n-th failed attempt: `base × factor^(n-1)`, each delay shortened by up
/// to `jitter` of itself, never above `max`.
///
/// Jitter is a pure function of a seed (the outbox derives one per reply from its own seed and the
/// reply's idempotency key), so schedules are reproducible in tests yet spread across replies.
///
/// **Invariant:** for a given seed the schedule never decreases. It holds because
/// [`Backoff::new`] keeps `factor × (1 − jitter) ≥ 1.001`: the shortest next delay is longer than the
/// longest current one, with a margin far above floating-point error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    factor: f64,
    max: Duration,
    jitter: f64,
}

impl Default for Backoff {
    /// 2 s, doubling, up to 1 hour, with up to 25 % jitter: 2 s, 4 s, 8 s, … 17 min, 34 min, 1 h.
    fn default() -> Backoff {
        Backoff::new(Duration::from_secs(2), 2.0, Duration::from_secs(3600), 0.25)
    }
}

impl Backoff {
    /// A schedule; `factor` is raised to at least 1, `max` to at least `base`, and `jitter` clamped to
    /// `0 ..= 1 − 1.001/factor` so the schedule stays monotonic (no jitter when `factor < 1.001`).
    pub fn new(base: Duration, factor: f64, max: Duration, jitter: f64) -> Backoff {
        let factor = if factor.is_finite() { factor.max(1.0) } else { 2.0 };
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, (1.0 - 1.001 / factor).max(0.0)) } else { 0.0 };
        Backoff { base, factor, max: max.max(base), jitter }
    }

    /// No jitter: exactly `base × factor^(n-1)` up to `max`.
    pub fn without_jitter(self) -> Backoff {
        Backoff { jitter: 0.0, ..self }
    }

    /// The first delay.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The longest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The fraction of a delay that jitter may remove.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The growth factor.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// The delay after failed attempt number `attempt` (1 for the first failure), for this seed.
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        let n = attempt.max(1);
        let exp = self.base.as_secs_f64() * self.factor.powi(i32::try_from(n - 1).unwrap_or(i32::MAX));
        let mut seed_bytes = [0u8; 12];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        seed_bytes[8..].copy_from_slice(&n.to_le_bytes());
        // Top 53 bits of a 64-bit hash: a uniform fraction in [0, 1).
        let unit = (splitmix(fnv1a(0xcbf2_9ce4_8422_2325, &seed_bytes)) >> 11) as f64 / (1u64 << 53) as f64;
        let secs = (exp * (1.0 - self.jitter * unit)).min(self.max.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }
}

/// SplitMix64's finalizer, to spread the hash's bits.
fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_schedule_doubles_without_jitter() {
        let b = Backoff::default().without_jitter();
        let secs: Vec<u64> = (1..=12).map(|n| b.delay(n, 0).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600]);
    }

    #[test]
    fn jitter_depends_on_the_seed_only() {
        let b = Backoff::default();
        assert_eq!(b.delay(3, 7), b.delay(3, 7));
        let distinct: std::collections::BTreeSet<Duration> = (0..20).map(|seed| b.delay(3, seed)).collect();
        assert!(distinct.len() > 10, "jitter should spread delays: {distinct:?}");
    }

    proptest! {
        #[test]
        fn schedule_is_monotonic_bounded_and_jittered_within_range(
            base_ms in 1u64..60_000,
            factor in 1.0f64..5.0,
            max_s in 1u64..100_000,
            jitter in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let b = Backoff::new(Duration::from_millis(base_ms), factor, Duration::from_secs(max_s), jitter);
            let mut previous = Duration::ZERO;
            for attempt in 1..=40 {
                let d = b.delay(attempt, seed);
                prop_assert!(d >= previous, "attempt {attempt}: {d:?} < {previous:?} for {b:?}");
                prop_assert!(d <= b.max());
                let floor = b.base().mul_f64(1.0 - b.jitter()).min(b.max());
                prop_assert!(d + Duration::from_micros(1) >= floor, "{d:?} below {floor:?}");
                previous = d;
            }
        }
    }
}
