//! Properties that hold for any input: no panic, scores in range, rounding as Python leaves it.

mod common;

use earshot_vader::{Polarity, SentimentIntensityAnalyzer, py_round};
use proptest::prelude::*;

fn check_ranges(p: &Polarity) -> Result<(), TestCaseError> {
    prop_assert!((-1.0..=1.0).contains(&p.compound), "compound {p:?}");
    for share in [p.pos, p.neu, p.neg] {
        prop_assert!((0.0..=1.0).contains(&share), "share {p:?}");
    }
    // Already rounded: rounding again changes nothing.
    prop_assert_eq!(py_round(p.compound, 4).to_bits(), p.compound.to_bits());
    for share in [p.pos, p.neu, p.neg] {
        prop_assert_eq!(py_round(share, 3).to_bits(), share.to_bits());
    }
    // Either no tokens (all zero) or the three shares add up to about 1.
    let sum = p.pos + p.neu + p.neg;
    prop_assert!(sum == 0.0 || (sum - 1.0).abs() <= 0.0015, "shares sum to {sum}: {p:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_unicode_string_scores_in_range(text in "(?s).{0,200}") {
        let p = SentimentIntensityAnalyzer::new().polarity_scores(&text);
        check_ranges(&p)?;
    }

    #[test]
    fn arbitrary_chars_score_in_range(chars in proptest::collection::vec(any::<char>(), 0..100)) {
        let text: String = chars.into_iter().collect();
        check_ranges(&SentimentIntensityAnalyzer::new().polarity_scores(&text))?;
    }

    #[test]
    fn vaderish_texts_score_in_range(text in common::vaderish_text(true)) {
        check_ranges(&SentimentIntensityAnalyzer::new().polarity_scores(&text))?;
    }

    #[test]
    fn py_round_is_idempotent_and_close(x in -1.0f64..=1.0, n in 0u32..=6) {
        let r = py_round(x, n);
        prop_assert_eq!(py_round(r, n).to_bits(), r.to_bits());
        prop_assert!((r - x).abs() <= 0.5 * 10f64.powi(-(n as i32)) + 1e-15);
    }
}
