//! One explained priority score per post: how urgently a care agent should
//! look at it, with the factors that raised it.
//!
//! The score is a sum of bounded, documented contributions (0–100), not an
//! opaque model, so an agent (or a brand auditing its queue) can see why a
//! post is on top: "complaint 0.93 (+28), churn threat 'switching to' (+15),
//! 25k followers (+9)".

use crate::signals::{Signal, SignalKind};
use serde::{Deserialize, Serialize};

/// One contribution to a priority score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Which factor (`complaint`, `severity`, `negative_sentiment`, `churn_threat`, ...).
    pub name: String,
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
    pub level: String,
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
pub fn priority(input: &PriorityInput<'_>) -> Priority {
    let mut factors: Vec<Factor> = Vec::new();
    let mut add = |name: &str, points: f32, detail: String| {
        if points > 0.05 {
            factors.push(Factor { name: name.to_string(), points: (points * 10.0).round() / 10.0, detail });
        }
    };
    if input.brand_speaking {
        return Priority { score: 0, level: "low".into(), factors: vec![] };
    }
    let p = input.complaint_probability.clamp(0.0, 1.0);
    add("complaint", 30.0 * p, format!("complaint probability {p:.2}"));
    add("severity", 3.75 * f32::from(input.severity.min(4)), format!("severity {} of 4", input.severity.min(4)));
    if input.compound < -0.05 {
        let c = input.compound.max(-1.0) as f32;
        add("negative_sentiment", 15.0 * -c, format!("VADER compound {c:.2}"));
    }
    let has = |k: SignalKind| input.signals.iter().find(|s| s.kind == k);
    if let Some(s) = has(SignalKind::ChurnThreat) {
        add("churn_threat", 15.0, format!("says \"{}\"", s.value));
    } else if let Some(s) = has(SignalKind::Competitor) {
        add("competitor", 8.0, format!("names competitor {}", s.value));
    }
    if let Some(s) = has(SignalKind::TimePressure) {
        add("time_pressure", 10.0, format!("deadline: \"{}\"", s.value));
    }
    if has(SignalKind::Evidence).is_some() {
        add("evidence", 4.0, "photo or video attached".into());
    }
    if matches!(input.intent, "question" | "request") {
        add("needs_answer", 6.0, format!("{} awaiting an answer", input.intent));
    }
    if let Some(f) = input.followers.filter(|f| *f >= 1_000) {
        // log10: 1k followers → 3 points, 10k → 6, 100k → 9, 1M+ → 12.
        add("reach", ((f as f32).log10() - 2.0).clamp(0.0, 4.0) * 3.0, format!("{f} followers"));
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
    Priority { score, level: level.into(), factors }
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
