//! The embedded VADER data files and the word lists hard-coded in `vaderSentiment.py` 3.3.2.
//!
//! `data/vader_lexicon.txt` and `data/emoji_utf8_lexicon.txt` are byte-for-byte the files shipped in the
//! `vaderSentiment==3.3.2` wheel (MIT, see `data/LICENSE-vaderSentiment.txt`). They are parsed once, the way
//! `make_lex_dict` / `make_emoji_dict` parse them, into hash maps.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use crate::pystr::py_strip;

const LEXICON_TXT: &str = include_str!("../data/vader_lexicon.txt");
const EMOJI_TXT: &str = include_str!("../data/emoji_utf8_lexicon.txt");

/// `B_INCR`: mean intensity increase of a booster word.
pub(crate) const B_INCR: f64 = 0.293;
/// `B_DECR`: mean intensity decrease of a dampener word.
pub(crate) const B_DECR: f64 = -0.293;
/// `C_INCR`: mean intensity increase of an ALL-CAPS word among mixed-case words.
pub(crate) const C_INCR: f64 = 0.733;
/// `N_SCALAR`: the factor a negation applies.
pub(crate) const N_SCALAR: f64 = -0.74;

/// Parsed data, built once per process.
pub(crate) struct Tables {
    /// `SentimentIntensityAnalyzer.lexicon`: word -> mean valence. Later duplicate lines win, as in a Python dict.
    pub(crate) lexicon: HashMap<&'static str, f64, FxBuild>,
    /// `SentimentIntensityAnalyzer.emojis`, restricted to the keys that are one code point long: `polarity_scores`
    /// tests `chr in self.emojis` for each single character, so longer keys (skin-tone and ZWJ sequences, flags,
    /// keycaps) can never match and are dropped.
    pub(crate) emojis: HashMap<char, &'static str, FxBuild>,
}

pub(crate) static TABLES: LazyLock<Tables> =
    LazyLock::new(|| Tables { lexicon: parse_lexicon(), emojis: parse_emojis() });

/// `make_lex_dict`: `text.rstrip('\n').split('\n')`, skip empty lines, `line.strip().split('\t')[0:2]`, `float()`.
fn parse_lexicon() -> HashMap<&'static str, f64, FxBuild> {
    let mut map = HashMap::with_capacity_and_hasher(8192, FxBuild::default());
    for line in LEXICON_TXT.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            continue;
        }
        let mut fields = py_strip(line).split('\t');
        let word = fields.next().unwrap_or_default();
        let measure = fields.next().unwrap_or_else(|| panic!("vader_lexicon.txt: no valence on line {line:?}"));
        let measure: f64 =
            measure.parse().unwrap_or_else(|e| panic!("vader_lexicon.txt: bad valence {measure:?} for {word:?}: {e}"));
        map.insert(word, measure);
    }
    map
}

/// `make_emoji_dict`: like `make_lex_dict` but without skipping empty lines and keeping the description as text.
fn parse_emojis() -> HashMap<char, &'static str, FxBuild> {
    let mut map = HashMap::with_capacity_and_hasher(2048, FxBuild::default());
    for line in EMOJI_TXT.trim_end_matches('\n').split('\n') {
        let mut fields = py_strip(line).split('\t');
        let emoji = fields.next().unwrap_or_default();
        let description =
            fields.next().unwrap_or_else(|| panic!("emoji_utf8_lexicon.txt: no description on line {line:?}"));
        let mut chars = emoji.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            map.insert(c, description);
        }
    }
    map
}

/// `BOOSTER_DICT` lookup for one (lower-cased) token. The three two-word keys (`"just enough"`, `"kind of"`,
/// `"sort of"`) can never equal a whitespace-free token; they are matched by [`booster_bigram`].
#[inline]
pub(crate) fn booster(word: &str) -> Option<f64> {
    match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably" | "decidedly"
        | "deeply" | "effing" | "enormous" | "enormously" | "entirely" | "especially" | "exceptional"
        | "exceptionally" | "extreme" | "extremely" | "fabulously" | "flipping" | "flippin" | "frackin"
        | "fracking" | "fricking" | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly" | "intensely"
        | "major" | "majorly" | "more" | "most" | "particularly" | "purely" | "quite" | "really" | "remarkably"
        | "so" | "substantially" | "thoroughly" | "total" | "totally" | "tremendous" | "tremendously" | "uber"
        | "unbelievably" | "unusually" | "utter" | "utterly" | "very" => Some(B_INCR),
        "almost" | "barely" | "hardly" | "kinda" | "kindof" | "kind-of" | "less" | "little" | "marginal"
        | "marginally" | "occasional" | "occasionally" | "partly" | "scarce" | "scarcely" | "slight" | "slightly"
        | "somewhat" | "sorta" | "sortof" | "sort-of" => Some(B_DECR),
        _ => None,
    }
}

/// `"{a} {b}" in BOOSTER_DICT` for the two-word keys.
#[inline]
pub(crate) fn booster_bigram(a: &str, b: &str) -> Option<f64> {
    match (a, b) {
        ("just", "enough") | ("kind", "of") | ("sort", "of") => Some(B_DECR),
        _ => None,
    }
}

/// `word in NEGATE`.
#[inline]
fn in_negate(word: &str) -> bool {
    matches!(
        word,
        "aint"
            | "arent"
            | "cannot"
            | "cant"
            | "couldnt"
            | "darent"
            | "didnt"
            | "doesnt"
            | "ain't"
            | "aren't"
            | "can't"
            | "couldn't"
            | "daren't"
            | "didn't"
            | "doesn't"
            | "dont"
            | "hadnt"
            | "hasnt"
            | "havent"
            | "isnt"
            | "mightnt"
            | "mustnt"
            | "neither"
            | "don't"
            | "hadn't"
            | "hasn't"
            | "haven't"
            | "isn't"
            | "mightn't"
            | "mustn't"
            | "neednt"
            | "needn't"
            | "never"
            | "none"
            | "nope"
            | "nor"
            | "not"
            | "nothing"
            | "nowhere"
            | "oughtnt"
            | "shant"
            | "shouldnt"
            | "uhuh"
            | "wasnt"
            | "werent"
            | "oughtn't"
            | "shan't"
            | "shouldn't"
            | "uh-uh"
            | "wasn't"
            | "weren't"
            | "without"
            | "wont"
            | "wouldnt"
            | "won't"
            | "wouldn't"
            | "rarely"
            | "seldom"
            | "despite"
    )
}

/// `negated([word])` for one lower-cased word: in `NEGATE`, or containing `"n't"` (`include_nt=True`). The
/// `"least"` rule inside `negated` is commented out in 3.3.2 and therefore absent here too.
#[inline]
pub(crate) fn negated(word: &str) -> bool {
    in_negate(word) || word.contains("n't")
}

/// A `SPECIAL_CASES` value, which in Python is an `int` for some keys and a `float` for others. The type matters
/// for `sum()` on CPython 3.12+, which compensates float additions but not int ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PyNum {
    pub(crate) value: f64,
    pub(crate) is_int: bool,
}

const fn int(value: f64) -> Option<PyNum> {
    Some(PyNum { value, is_int: true })
}

const fn float(value: f64) -> Option<PyNum> {
    Some(PyNum { value, is_int: false })
}

/// `"{a} {b}" in SPECIAL_CASES` for the two-word keys.
#[inline]
pub(crate) fn special_bigram(a: &str, b: &str) -> Option<PyNum> {
    match (a, b) {
        ("the", "shit") | ("the", "bomb") => int(3.0),
        ("bad", "ass") => float(1.5),
        ("bus", "stop") => float(0.0),
        ("yeah", "right") => int(-2.0),
        ("beating", "heart") => float(3.5),
        _ => None,
    }
}

/// `"{a} {b} {c}" in SPECIAL_CASES` for the three-word keys. (The one-word key `"badass"` can never equal a joined
/// n-gram, which always contains a space, so it is dead in 3.3.2.)
#[inline]
pub(crate) fn special_trigram(a: &str, b: &str, c: &str) -> Option<PyNum> {
    match (a, b, c) {
        ("kiss", "of", "death") => float(-1.5),
        ("to", "die", "for") => int(3.0),
        _ => None,
    }
}

/// The multiply-rotate hash of rustc's `FxHasher`: much faster than SipHash on short keys, and the keys are fixed,
/// trusted data (the lookups only ever probe with user text, which cannot grow the table).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_parses_like_make_lex_dict() {
        let t = &*TABLES;
        // 7,520 lines, 14 keys duplicated: the dict keeps 7,506 entries, the last value of each duplicate.
        assert_eq!(t.lexicon.len(), 7506);
        assert_eq!(t.lexicon.get("heart"), Some(&3.2));
        assert_eq!(t.lexicon.get("$:"), Some(&-1.5));
        assert_eq!(t.lexicon.get("no"), Some(&-1.2));
        assert!(!t.lexicon.contains_key("least"));
        assert_eq!(t.emojis.get(&'😁'), Some(&"beaming face with smiling eyes"));
        assert_eq!(t.emojis.len(), 1212);
        assert!(t.emojis.keys().all(|c| !c.is_ascii()));
    }
}
