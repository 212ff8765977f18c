//! One explained priority score per post: how urgently a care agent should
//! look at it, with the factors that raised it.
//!
//! The score is a sum of bounded, documented contributions (0–100), not an
//! opaque model, so an agent (or a brand auditing its queue) can see why a
//! post is on top: "complaint 0.93 (+28), churn threat 'switching to' (+15),
//! 25k followers (+9)".

use crate::signals::{Signal, SignalKind};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One contribution to a priority score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Which factor (`complaint`, `severity`, `negative_sentiment`, `churn_threat`, ...). Borrowed when computed
    /// here (no allocation per post), owned when deserialized.
    pub name: Cow<'static, str>,
    /// Points added (0–100 scale).
    pub points: f32,
    /// Why, for people.
    pub detail: String,
}

/// A post's priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// 0 (ignore) to 100 (drop everything).
    pub score: u8,
    /// `low` (< 20), `normal` (< 45), `high` (< 70) or `urgent`.
    pub level: Cow<'static, str>,
    /// The contributions, largest first.
    pub factors: Vec<Factor>,
}

/// What the priority is computed from.
#[derive(Debug, Clone, Default)]
pub struct PriorityInput<'a> {
    /// Complaint probability, 0–1.
    pub complaint_probability: f32,
    /// Complaint severity, 0–4.
    pub severity: u8,
    /// VADER compound, -1–1.
    pub compound: f64,
    /// Intent label (`question` and `request` need an answer).
    pub intent: &'a str,
    /// Signals found in the post.
    pub signals: &'a [Signal],
    /// Author's followers, when known.
    pub followers: Option<u64>,
    /// True when the brand itself wrote the post: nothing to answer.
    pub brand_speaking: bool,
}

/// Computes the explained priority.
///
/// Runs for every post, so the factors' details are built with `push_str` and [`push_fixed2`] rather than
/// `format!` (whose float formatting cost ~600 instructions per factor), and only for factors that count.
pub fn priority(input: &PriorityInput<'_>) -> Priority {
    let mut factors: Vec<Factor> = Vec::new();
    let mut add = |name: &'static str, points: f32, detail: &dyn Fn(&mut String)| {
        if points > 0.05 {
            // Room for every detail but long quoted phrases: built in one allocation, not grown piece by piece.
            let mut d = String::with_capacity(40);
            detail(&mut d);
            factors.push(Factor { name: Cow::Borrowed(name), points: (points * 10.0).round() / 10.0, detail: d });
        }
    };
    if input.brand_speaking {
        return Priority { score: 0, level: Cow::Borrowed("low"), factors: vec![] };
    }
    let p = input.complaint_probability.clamp(0.0, 1.0);
    add("complaint", 30.0 * p, &|d| {
        d.push_str("complaint probability ");
        push_fixed2(d, p);
    });
    let severity = input.severity.min(4);
    add("severity", 3.75 * f32::from(severity), &|d| {
        d.push_str("severity ");
        d.push(char::from(b'0' + severity));
        d.push_str(" of 4");
    });
    if input.compound < -0.05 {
        let c = input.compound.max(-1.0) as f32;
        add("negative_sentiment", 15.0 * -c, &|d| {
            d.push_str("VADER compound ");
            push_fixed2(d, c);
        });
    }
    let has = |k: SignalKind| input.signals.iter().find(|s| s.kind == k);
    if let Some(s) = has(SignalKind::ChurnThreat) {
        add("churn_threat", 15.0, &|d| {
            d.push_str("says \"");
            d.push_str(&s.value);
            d.push('"');
        });
    } else if let Some(s) = has(SignalKind::Competitor) {
        add("competitor", 8.0, &|d| {
            d.push_str("names competitor ");
            d.push_str(&s.value);
        });
    }
    if let Some(s) = has(SignalKind::TimePressure) {
        add("time_pressure", 10.0, &|d| {
            d.push_str("deadline: \"");
            d.push_str(&s.value);
            d.push('"');
        });
    }
    if has(SignalKind::Evidence).is_some() {
        add("evidence", 4.0, &|d| d.push_str("photo or video attached"));
    }
    if matches!(input.intent, "question" | "request") {
        add("needs_answer", 6.0, &|d| {
            d.push_str(input.intent);
            d.push_str(" awaiting an answer");
        });
    }
    if let Some(f) = input.followers.filter(|f| *f >= 1_000) {
        // log10: 1k followers → 3 points, 10k → 6, 100k → 9, 1M+ → 12.
        add("reach", ((f as f32).log10() - 2.0).clamp(0.0, 4.0) * 3.0, &|d| {
            d.push_str(itoa::Buffer::new().format(f));
            d.push_str(" followers");
        });
    }
    factors.sort_by(|a, b| b.points.total_cmp(&a.points));
    let total: f32 = factors.iter().map(|f| f.points).sum();
    let score = total.round().clamp(0.0, 100.0) as u8;
    let level = match score {
        0..20 => "low",
        20..45 => "normal",
        45..70 => "high",
        _ => "urgent",
    };
    Priority { score, level: Cow::Borrowed(level), factors }
}

/// Appends `format!("{x:.2}")`: `x` rounded to two decimals, ties to even (as Rust's formatting rounds the exact
/// value). An f32 has 24 significant bits and 100 < 2^7, so `x * 100` is exact in f64 and rounding it is rounding
/// `x`; outside the range where that integer fits comfortably, `format!` does it.
pub fn push_fixed2(out: &mut String, x: f32) {
    if !(x.is_finite() && x.abs() < 1e15) {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let _ = write!(out, "{x:.2}");
        return;
    }
    let hundredths = (f64::from(x) * 100.0).round_ties_even().abs() as u64;
    if x.is_sign_negative() {
        out.push('-');
    }
    out.push_str(itoa::Buffer::new().format(hundredths / 100));
    out.push('.');
    let rest = (hundredths % 100) as u8;
    out.push(char::from(b'0' + rest / 10));
    out.push(char::from(b'0' + rest % 10));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sig(kind: SignalKind, v: &str) -> Signal {
        Signal { kind, value: v.into() }
    }

    #[test]
    fn an_angry_complaint_outranks_praise_and_explains_itself() {
        let signals = [sig(SignalKind::ChurnThreat, "last time i will shop"), sig(SignalKind::Competitor, "Nordstrom")];
        let angry = priority(&PriorityInput {
            complaint_probability: 0.95,
            severity: 3,
            compound: -0.7,
            intent: "complaint",
            signals: &signals,
            followers: Some(25_000),
            brand_speaking: false,
        });
        let praise = priority(&PriorityInput { compound: 0.8, intent: "praise", ..PriorityInput::default() });
        assert!(angry.score > 70 && praise.score < 10, "{angry:?} {praise:?}");
        assert_eq!(angry.level, "urgent");
        assert_eq!(angry.factors[0].name, "complaint");
        assert!(angry.factors.iter().any(|f| f.name == "churn_threat" && f.detail.contains("last time")));
        assert!(!angry.factors.iter().any(|f| f.name == "competitor"), "churn already counts the competitor");
    }

    #[test]
    fn fixed2_is_format_dot_2() {
        let check = |x: f32| {
            let mut got = String::new();
            push_fixed2(&mut got, x);
            assert_eq!(got, format!("{x:.2}"), "{x:e} ({:#010x})", x.to_bits());
        };
        // Exact ties (round to even), zeros, bounds, non-finite.
        for x in [0.125f32, 0.375, 0.625, 0.875, 2.5e-3, 0.0, -0.0, 1.0, -1.0, 0.005, 0.995, 1e15, -3e20] {
            check(x);
            check(-x);
        }
        for x in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN_POSITIVE, 1e-45] {
            check(x);
        }
        // Around every rounding boundary k/200 in [-2, 2], a few ulps either side.
        for k in -400i32..=400 {
            let bits = (k as f32 / 200.0).to_bits();
            for d in -4i32..=4 {
                check(f32::from_bits(bits.wrapping_add_signed(d)));
            }
        }
        // And a sweep over [-1, 1] and beyond.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = (state >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0;
            check(x);
            check(f32::from_bits(state as u32));
        }
    }

    #[test]
    fn the_brand_speaking_needs_no_answer() {
        let p = priority(&PriorityInput { complaint_probability: 1.0, brand_speaking: true, ..Default::default() });
        assert_eq!(p.score, 0);
    }

    proptest! {
        #[test]
        fn score_is_bounded_and_equals_the_sum_of_factors(
            prob in 0f32..=1.0, sev in 0u8..=6, compound in -1f64..=1.0, followers in proptest::option::of(0u64..10_000_000),
            churn in any::<bool>(), time in any::<bool>(),
        ) {
            let mut signals = vec![];
            if churn { signals.push(sig(SignalKind::ChurnThreat, "x")); }
            if time { signals.push(sig(SignalKind::TimePressure, "y")); }
            let p = priority(&PriorityInput { complaint_probability: prob, severity: sev, compound, intent: "question", signals: &signals, followers, brand_speaking: false });
            prop_assert!(p.score <= 100);
            let sum: f32 = p.factors.iter().map(|f| f.points).sum();
            prop_assert!((sum.round().min(100.0) - f32::from(p.score)).abs() <= 1.0);
            // More complaint probability never lowers the score.
            let q = priority(&PriorityInput { complaint_probability: (prob + 0.1).min(1.0), severity: sev, compound, intent: "question", signals: &signals, followers, brand_speaking: false });
            prop_assert!(q.score >= p.score);
        }
    }
}
