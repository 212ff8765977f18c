//! Property tests: tokenization and feature hashing never panic, stay in range, and are deterministic.

use earshot_classify::features::{FeatureConfig, Featurizer, SparseVec};
use earshot_classify::tokenize::tokenize;
use proptest::prelude::*;

fn cfg() -> FeatureConfig {
    FeatureConfig { bits: 12, ..FeatureConfig::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tokenize_never_panics_and_is_deterministic(s in any::<String>()) {
        let a = tokenize(&s);
        prop_assert_eq!(&a, &tokenize(&s));
        for t in &a {
            prop_assert!(!t.is_empty());
            prop_assert!(!t.chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn tweetlike_text(s in r"(@[a-z0-9_]{1,8}|#[a-z]{1,6}|https?://[a-z./]{1,10}|[a-zA-Z']{1,8}|[0-9.,:]{1,6}|[!?.:()&;]{1,4}|😡|👍🏽|❤️|&amp;|\s){0,30}") {
        let mut f = Featurizer::new(cfg());
        let mut v = SparseVec::default();
        f.featurize(&s, &mut v);
        let first = v.clone();
        f.featurize("something else entirely", &mut v);
        f.featurize(&s, &mut v);
        prop_assert_eq!(&first, &v, "featurizer state must not leak between texts");
        let dim = cfg().dim() as u32;
        prop_assert!(v.idx.iter().all(|&i| i < dim));
        prop_assert!(v.idx.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(v.val.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn featurize_arbitrary_unicode(s in any::<String>()) {
        let mut f = Featurizer::new(cfg());
        let mut v = SparseVec::default();
        f.featurize(&s, &mut v);
        let mut g = Featurizer::new(cfg());
        let mut w = SparseVec::default();
        g.featurize(&s, &mut w);
        prop_assert_eq!(v, w);
    }
}
