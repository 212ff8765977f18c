//! [`Analysis::write_json`]: the JSON of an analysis, byte for byte what `serde_json::to_writer` writes for it, but
//! appended straight to a byte buffer.
//!
//! `earshot classify` prints one analysis per post; through serde the JSON took ~10k instructions per post (a fifth
//! of the whole run), mostly generic per-field plumbing around strings that are constants. Here the keys are
//! literals, strings go through a fast scan that copies runs needing no escape, and numbers use serde_json's own
//! formatter, so the text cannot drift from serde's. The tests compare both on real and generated analyses.

use serde_json::ser::{CompactFormatter, Formatter as _};
use std::borrow::Cow;

use crate::{Analysis, Factor, Signal, SignalKind};

impl Analysis {
    /// Appends this analysis as compact JSON to `out`: the same bytes as `serde_json::to_writer(out, self)`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // A typical analysis is 600–900 bytes: one reservation instead of growth checks failing on the way.
        out.reserve(1024);
        let v = &self.vader;
        out.extend_from_slice(b"{\"vader\":{\"compound\":");
        f64_json(out, v.compound);
        out.extend_from_slice(b",\"pos\":");
        f64_json(out, v.pos);
        out.extend_from_slice(b",\"neu\":");
        f64_json(out, v.neu);
        out.extend_from_slice(b",\"neg\":");
        f64_json(out, v.neg);
        out.extend_from_slice(b"},\"sentiment\":{\"label\":");
        str_json(out, &self.sentiment.label);
        let s = &self.sentiment.scores;
        out.extend_from_slice(b",\"scores\":{\"negative\":");
        f32_json(out, s.negative);
        out.extend_from_slice(b",\"neutral\":");
        f32_json(out, s.neutral);
        out.extend_from_slice(b",\"positive\":");
        f32_json(out, s.positive);
        out.extend_from_slice(b"}},\"complaint\":{\"probability\":");
        f32_json(out, self.complaint.probability);
        out.extend_from_slice(if self.complaint.label { b",\"label\":true}" } else { b",\"label\":false}" });
        out.extend_from_slice(b",\"severity\":");
        u8_json(out, self.severity);
        out.extend_from_slice(b",\"intent\":");
        str_json(out, &self.intent);
        out.extend_from_slice(b",\"issue\":");
        str_json(out, &self.issue);
        out.extend_from_slice(b",\"signals\":");
        list_json(out, &self.signals, signal_json);
        out.extend_from_slice(b",\"priority\":{\"score\":");
        u8_json(out, self.priority.score);
        out.extend_from_slice(b",\"level\":");
        str_json(out, &self.priority.level);
        out.extend_from_slice(b",\"factors\":");
        list_json(out, &self.priority.factors, factor_json);
        out.extend_from_slice(b"},\"versions\":");
        versions_json(out, &self.versions);
        out.push(b'}');
    }
}

thread_local! {
    /// The JSON of the last borrowed versions list written on this thread, keyed by its address and length.
    static VERSIONS: std::cell::RefCell<(usize, usize, Vec<u8>)> = const { std::cell::RefCell::new((0, 0, Vec::new())) };
}

/// The versions list, the same for every post analysed with the same models: when it is borrowed (from the
/// models, which live for the rest of the process) its JSON is written once per thread and then copied. A
/// `'static` list never moves or changes, so its address identifies it.
#[allow(clippy::ptr_arg)] // Borrowed or owned is what decides: only borrowed lists are cached.
fn versions_json(out: &mut Vec<u8>, versions: &Cow<'static, [String]>) {
    let Cow::Borrowed(list) = versions else {
        return list_json(out, versions, |out, v| str_json(out, v));
    };
    let key = (list.as_ptr() as usize, list.len());
    VERSIONS.with_borrow_mut(|(ptr, len, json)| {
        if (*ptr, *len) != key {
            json.clear();
            list_json(json, list, |out, v| str_json(out, v));
            (*ptr, *len) = key;
        }
        out.extend_from_slice(json);
    });
}

fn list_json<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

fn signal_json(out: &mut Vec<u8>, s: &Signal) {
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(match s.kind {
        SignalKind::Product => b"product".as_slice(),
        SignalKind::Competitor => b"competitor",
        SignalKind::ChurnThreat => b"churn_threat",
        SignalKind::Loyalty => b"loyalty",
        SignalKind::TimePressure => b"time_pressure",
        SignalKind::Evidence => b"evidence",
        SignalKind::Reach => b"reach",
    });
    out.extend_from_slice(b"\",\"value\":");
    str_json(out, &s.value);
    out.push(b'}');
}

fn factor_json(out: &mut Vec<u8>, f: &Factor) {
    out.extend_from_slice(b"{\"name\":");
    str_json(out, &f.name);
    out.extend_from_slice(b",\"points\":");
    f32_json(out, f.points);
    out.extend_from_slice(b",\"detail\":");
    str_json(out, &f.detail);
    out.push(b'}');
}

/// serde_json's rendering of a `u8`.
fn u8_json(out: &mut Vec<u8>, x: u8) {
    if x >= 100 {
        out.push(b'0' + x / 100);
    }
    if x >= 10 {
        out.push(b'0' + x / 10 % 10);
    }
    out.push(b'0' + x % 10);
}

/// serde_json's rendering of an `f64`: shortest round-trip digits, `null` when not finite.
fn f64_json(out: &mut Vec<u8>, x: f64) {
    // VADER's scores are rounded to 3–4 decimals: written directly (see `few_decimals`).
    let a = x.abs();
    // Saturating (NaN to 0): any wrong guess fails the exact check below.
    let k = (a * 10_000.0 + 0.5) as u32;
    if k <= 10_000 && f64::from(k) / 10_000.0 == a {
        return few_decimals(out, x.is_sign_negative(), k / 10_000, k % 10_000, 1000);
    }
    if x.is_finite() {
        // Writing into a Vec cannot fail.
        let _ = CompactFormatter.write_f64(out, x);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// serde_json's rendering of an `f32`.
fn f32_json(out: &mut Vec<u8>, x: f32) {
    // Priority points are rounded to tenths: written directly (see `few_decimals`).
    let a = x.abs();
    // Saturating (NaN to 0): any wrong guess fails the exact check below.
    let k = (a * 10.0 + 0.5) as u32;
    if k <= 10_000 && k as f32 / 10.0 == a {
        return few_decimals(out, x.is_sign_negative(), k / 10, k % 10, 1);
    }
    if x.is_finite() {
        // Writing into a Vec cannot fail.
        let _ = CompactFormatter.write_f32(out, x);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Writes `±(int + frac / (10 · unit))` (`frac < 10 · unit`, `unit` 1 or 1000) as serde_json writes the float
/// nearest to it: the integer part, a point, and the fraction's digits without trailing zeros (at least one). For a
/// float that *is* the nearest to that decimal (the callers check that dividing back gives it exactly), this is its
/// shortest round-trip representation, which serde_json writes: any shorter decimal is a different multiple of a
/// larger power of ten, far more than half a unit in the last place away at these magnitudes (at most 1000, four
/// decimals). The tests compare every such value with serde_json's own output.
#[inline]
fn few_decimals(out: &mut Vec<u8>, negative: bool, int: u32, frac: u32, unit: u32) {
    if negative {
        out.push(b'-');
    }
    if int < 10 {
        out.push(b'0' + int as u8);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(int).as_bytes());
    }
    out.push(b'.');
    if unit == 1 || frac == 0 {
        out.push(b'0' + frac as u8);
        return;
    }
    out.extend_from_slice(&[frac / 1000, frac / 100 % 10, frac / 10 % 10, frac % 10].map(|d| b'0' + d as u8));
    // Some digit is not 0 (frac > 0), so this stops before the point.
    while out.last() == Some(&b'0') {
        out.pop();
    }
}

/// A JSON string as serde_json escapes it: `"` and `\` backslashed, control characters below 0x20 as `\b`, `\t`,
/// `\n`, `\f`, `\r` or `\u00XX`, everything else (DEL and all non-ASCII) as is.
fn str_json(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        // The common case (labels, names, versions, most phrases): one copy.
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any byte of `bytes` is below 0x20, `"` or `\`, tested eight bytes at a time: a byte below `n` (<= 0x80)
/// sets its top bit in `(x - n·0x01…) & !x & 0x80…`, and a byte equal to `c` is a zero byte of `x ^ c·0x01…` (both
/// exact for "is there any such byte", the question asked here).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    let (chunks, rest) = bytes.as_chunks::<8>();
    chunks.iter().any(|c| {
        let x = u64::from_le_bytes(*c);
        below(x, 0x20) || below(x ^ (ONES * u64::from(b'"')), 1) || below(x ^ (ONES * u64::from(b'\\')), 1)
    }) || rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Complaint, Priority, Sentiment, SentimentScores, Vader};
    use proptest::prelude::*;

    fn check(a: &Analysis) {
        let mut ours = Vec::new();
        a.write_json(&mut ours);
        let serde = serde_json::to_vec(a).expect("serialises");
        assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&serde));
    }

    #[test]
    fn same_bytes_as_serde_on_real_posts() {
        let brands = [earshot_core::brand::BrandConfig {
            name: "Gilt".into(),
            products: vec!["Jack Rogers sandals".into()],
            competitors: vec!["Nordstrom \"N\"\\s".into()],
            ..earshot_core::brand::BrandConfig::default()
        }];
        let ctx = crate::Context::new(&brands);
        for text in [
            "",
            "@united lost my bag AGAIN, worst airline ever, I want a refund",
            "thank you so much, you guys are the best! love it",
            "It’s the last time I will shop with @Gilt. Should've paid the extra $20 at Nordstrom \"N\"\\s",
            "my Jack Rogers sandals broke, need them before Christmas!!! 😡😡 \u{1}\t",
            "\"quoted\" \\ back\\slash \u{7f} \u{0}",
        ] {
            let mut post = earshot_core::Post::new(
                earshot_core::Platform::X,
                "1",
                earshot_core::Author::default(),
                text,
                Default::default(),
                "test",
            );
            post.author.followers = Some(123_456);
            check(&crate::analyze(&post, crate::Addressing { brands: &["Gilt"], brand_speaking: false }, &ctx));
        }
    }

    #[test]
    fn needs_escape_finds_every_special_byte_at_every_position() {
        for len in 0..20 {
            let plain = vec![b'a'; len];
            assert!(!needs_escape(&plain));
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut v = plain.clone();
                    v[at] = b;
                    assert_eq!(needs_escape(&v), b < 0x20 || b == b'"' || b == b'\\', "{b:#04x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn borrowed_versions_lists_are_not_mixed_up() {
        let a: &'static [String] = Box::leak(vec!["a-1".to_string(), "b\"2".to_string()].into_boxed_slice());
        let b: &'static [String] = Box::leak(vec!["c-3".to_string()].into_boxed_slice());
        let ctx = crate::Context::new(&[]);
        let mut analysis = crate::analyze_text("where is my order?", &ctx);
        for list in [a, b, a, &a[..1], b] {
            analysis.versions = Cow::Borrowed(list);
            check(&analysis);
        }
    }

    #[test]
    fn few_decimals_are_written_as_serde_writes_them() {
        for k in -100_000..=100_000 {
            let x = f64::from(k) / 10_000.0;
            let mut ours = Vec::new();
            f64_json(&mut ours, x);
            assert_eq!(String::from_utf8_lossy(&ours), serde_json::to_string(&x).unwrap(), "{k}");
            for x in [f64::from(k) / 1_000.0, f64::from(k) / 100.0, f64::from(k) / 10.0, f64::from(k)] {
                let mut ours = Vec::new();
                f64_json(&mut ours, x);
                assert_eq!(String::from_utf8_lossy(&ours), serde_json::to_string(&x).unwrap(), "{x}");
            }
            let x = k as f32 / 10.0;
            let mut ours = Vec::new();
            f32_json(&mut ours, x);
            assert_eq!(String::from_utf8_lossy(&ours), serde_json::to_string(&x).unwrap(), "{k}");
            for x in [k as f32 / 10_000.0, k as f32 / 100.0, k as f32] {
                let mut ours = Vec::new();
                f32_json(&mut ours, x);
                assert_eq!(String::from_utf8_lossy(&ours), serde_json::to_string(&x).unwrap(), "{x}");
            }
        }
        for x in [-0.0f64, 0.0, 1e-5, 0.99995, 0.00005, 1.00005] {
            let mut ours = Vec::new();
            f64_json(&mut ours, x);
            assert_eq!(String::from_utf8_lossy(&ours), serde_json::to_string(&x).unwrap(), "{x}");
        }
        for x in [-0.0f32, 0.0, 0.05, 0.95, 999.95, 1000.0, 1000.1] {
            let mut ours = Vec::new();
            f32_json(&mut ours, x);
            assert_eq!(String::from_utf8_lossy(&ours), serde_json::to_string(&x).unwrap(), "{x}");
        }
    }

    #[test]
    fn every_control_character_escapes_like_serde() {
        for b in 0u8..0x80 {
            let s = char::from(b).to_string();
            let mut ours = Vec::new();
            str_json(&mut ours, &s);
            assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{b:#04x}");
        }
    }

    fn kind() -> impl Strategy<Value = SignalKind> {
        prop_oneof![
            Just(SignalKind::Product),
            Just(SignalKind::Competitor),
            Just(SignalKind::ChurnThreat),
            Just(SignalKind::Loyalty),
            Just(SignalKind::TimePressure),
            Just(SignalKind::Evidence),
            Just(SignalKind::Reach),
        ]
    }

    fn float32() -> impl Strategy<Value = f32> {
        prop_oneof![any::<f32>(), 0f32..1.0, Just(f32::NAN), Just(f32::INFINITY), Just(-0.0), Just(1e-7), Just(1e20)]
    }

    fn float64() -> impl Strategy<Value = f64> {
        prop_oneof![any::<f64>(), -1f64..1.0, Just(f64::NAN), Just(f64::NEG_INFINITY), Just(-0.0), Just(5e-324)]
    }

    prop_compose! {
        fn analysis()(
            vader in (float64(), float64(), float64(), float64()),
            scores in (float32(), float32(), float32(), float32()),
            label in any::<bool>(),
            severity in any::<u8>(),
            strings in proptest::collection::vec(any::<String>(), 4),
            signals in proptest::collection::vec((kind(), any::<String>()), 0..4),
            factors in proptest::collection::vec((any::<String>(), float32(), any::<String>()), 0..4),
            score in any::<u8>(),
            versions in proptest::collection::vec(any::<String>(), 0..4),
        ) -> Analysis {
            Analysis {
                vader: Vader { compound: vader.0, pos: vader.1, neu: vader.2, neg: vader.3 },
                sentiment: Sentiment {
                    label: Cow::Owned(strings[0].clone()),
                    scores: SentimentScores { negative: scores.0, neutral: scores.1, positive: scores.2 },
                },
                complaint: Complaint { probability: scores.3, label },
                severity,
                intent: Cow::Owned(strings[1].clone()),
                issue: Cow::Owned(strings[2].clone()),
                signals: signals.into_iter().map(|(kind, value)| Signal { kind, value }).collect(),
                priority: Priority {
                    score,
                    level: strings[3].clone().into(),
                    factors: factors.into_iter().map(|(name, points, detail)| Factor { name: name.into(), points, detail }).collect(),
                },
                versions: Cow::Owned(versions),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn same_bytes_as_serde_on_any_analysis(a in analysis()) {
            check(&a);
        }
    }
}
