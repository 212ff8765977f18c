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
    /// `SentimentIntensityAnalyzer.lexicon` (word -> mean valence; later duplicate lines win, as in a Python dict),
    /// merged with the other word lists.
    pub(crate) lexicon: Lexicon,
    /// `SentimentIntensityAnalyzer.emojis`, restricted to the keys that are one code point long: `polarity_scores`
    /// tests `chr in self.emojis` for each single character, so longer keys (skin-tone and ZWJ sequences, flags,
    /// keycaps) can never match and are dropped.
    pub(crate) emojis: HashMap<char, &'static str, FxBuild>,
}

pub(crate) static TABLES: LazyLock<Tables> =
    LazyLock::new(|| Tables { lexicon: parse_lexicon(), emojis: parse_emojis() });

/// `make_lex_dict` (`text.rstrip('\n').split('\n')`, skip empty lines, `line.strip().split('\t')[0:2]`,
/// `float()`), then the hard-coded word lists merged in.
fn parse_lexicon() -> Lexicon {
    let mut map: HashMap<&'static str, WordInfo> = HashMap::with_capacity(8192);
    for line in LEXICON_TXT.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            continue;
        }
        let mut fields = py_strip(line).split('\t');
        let word = fields.next().unwrap_or_default();
        let measure = fields.next().unwrap_or_else(|| panic!("vader_lexicon.txt: no valence on line {line:?}"));
        let measure: f64 =
            measure.parse().unwrap_or_else(|e| panic!("vader_lexicon.txt: bad valence {measure:?} for {word:?}: {e}"));
        map.insert(word, WordInfo { valence: measure, in_lexicon: true, ..WordInfo::default() });
    }
    let lexicon_words = map.len();
    for &word in BOOSTER_INCR.iter().chain(BOOSTER_DECR).chain(NEGATE).chain(RULE_WORDS.iter().map(|(w, _)| w)) {
        let info = map.entry(word).or_default();
        info.booster = Booster::of(word);
        info.negate = in_negate(word);
        info.word = word_id(word);
    }
    Lexicon::build(&map, lexicon_words)
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

/// `BOOSTER_DICT` one-word keys worth `B_INCR`. The three two-word keys (`"just enough"`, `"kind of"`, `"sort of"`)
/// can never equal a whitespace-free token; they are matched by [`booster_bigram`].
// Kept compact: one word per line would make these lists hundreds of lines long.
#[rustfmt::skip]
const BOOSTER_INCR: &[&str] = &[
    "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably", "decidedly", "deeply", "effing",
    "enormous", "enormously", "entirely", "especially", "exceptional", "exceptionally", "extreme", "extremely",
    "fabulously", "flipping", "flippin", "frackin", "fracking", "fricking", "frickin", "frigging", "friggin", "fully",
    "fuckin", "fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely", "incredible", "incredibly",
    "intensely", "major", "majorly", "more", "most", "particularly", "purely", "quite", "really", "remarkably", "so",
    "substantially", "thoroughly", "total", "totally", "tremendous", "tremendously", "uber", "unbelievably",
    "unusually", "utter", "utterly", "very",
];

/// `BOOSTER_DICT` one-word keys worth `B_DECR`.
#[rustfmt::skip]
const BOOSTER_DECR: &[&str] = &[
    "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less", "little", "marginal", "marginally",
    "occasional", "occasionally", "partly", "scarce", "scarcely", "slight", "slightly", "somewhat", "sorta", "sortof",
    "sort-of",
];

/// `NEGATE`.
#[rustfmt::skip]
const NEGATE: &[&str] = &[
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't", "can't", "couldn't",
    "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither", "don't",
    "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't", "neednt", "needn't", "never", "none", "nope", "nor",
    "not", "nothing", "nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent", "oughtn't", "shan't",
    "shouldn't", "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom",
    "despite",
];

/// `BOOSTER_DICT.get(word)` for one (lower-cased) token. Not on the hot path: [`Lexicon`] entries carry it.
pub(crate) fn booster(word: &str) -> Option<f64> {
    if BOOSTER_INCR.contains(&word) {
        Some(B_INCR)
    } else if BOOSTER_DECR.contains(&word) {
        Some(B_DECR)
    } else {
        None
    }
}

/// A `BOOSTER_DICT` value, stored in one byte in [`WordInfo`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Booster {
    #[default]
    None,
    Incr,
    Decr,
}

impl Booster {
    fn of(word: &str) -> Self {
        match booster(word) {
            Some(B_INCR) => Booster::Incr,
            Some(_) => Booster::Decr,
            None => Booster::None,
        }
    }

    #[inline]
    pub(crate) fn value(self) -> Option<f64> {
        match self {
            Booster::None => None,
            Booster::Incr => Some(B_INCR),
            Booster::Decr => Some(B_DECR),
        }
    }
}

/// The words that the rules compare a token against (`"no"`, `"but"`, `"kind" "of"`, the negation exceptions, the
/// words of the multi-word `SPECIAL_CASES` and `BOOSTER_DICT` keys). Each token gets its `Word` from the one table
/// lookup it needs anyway, so the rules compare bytes instead of strings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Word {
    #[default]
    Other,
    Kind,
    Of,
    No,
    Or,
    Nor,
    Never,
    So,
    This,
    Without,
    Doubt,
    Least,
    At,
    Very,
    But,
    The,
    Shit,
    Bomb,
    Bad,
    Ass,
    Bus,
    Stop,
    Yeah,
    Right,
    Beating,
    Heart,
    Kiss,
    Death,
    To,
    Die,
    For,
    Just,
    Enough,
    Sort,
}

/// The spelling of every [`Word`] but `Other`.
const RULE_WORDS: &[(&str, Word)] = &[
    ("kind", Word::Kind),
    ("of", Word::Of),
    ("no", Word::No),
    ("or", Word::Or),
    ("nor", Word::Nor),
    ("never", Word::Never),
    ("so", Word::So),
    ("this", Word::This),
    ("without", Word::Without),
    ("doubt", Word::Doubt),
    ("least", Word::Least),
    ("at", Word::At),
    ("very", Word::Very),
    ("but", Word::But),
    ("the", Word::The),
    ("shit", Word::Shit),
    ("bomb", Word::Bomb),
    ("bad", Word::Bad),
    ("ass", Word::Ass),
    ("bus", Word::Bus),
    ("stop", Word::Stop),
    ("yeah", Word::Yeah),
    ("right", Word::Right),
    ("beating", Word::Beating),
    ("heart", Word::Heart),
    ("kiss", Word::Kiss),
    ("death", Word::Death),
    ("to", Word::To),
    ("die", Word::Die),
    ("for", Word::For),
    ("just", Word::Just),
    ("enough", Word::Enough),
    ("sort", Word::Sort),
];

/// The [`Word`] of a lower-cased token, by string (the hot path gets it from [`Lexicon::get`]).
pub(crate) fn word_id(word: &str) -> Word {
    RULE_WORDS.iter().find(|(w, _)| *w == word).map_or(Word::Other, |&(_, id)| id)
}

/// `"{a} {b}" in BOOSTER_DICT` for the two-word keys.
#[inline]
pub(crate) fn booster_bigram(a: Word, b: Word) -> Option<f64> {
    match (a, b) {
        (Word::Just, Word::Enough) | (Word::Kind, Word::Of) | (Word::Sort, Word::Of) => Some(B_DECR),
        _ => None,
    }
}

/// `word in NEGATE`.
fn in_negate(word: &str) -> bool {
    NEGATE.contains(&word)
}

/// `negated([word])` for one lower-cased word: in `NEGATE`, or containing `"n't"` (`include_nt=True`). The
/// `"least"` rule inside `negated` is commented out in 3.3.2 and therefore absent here too. (The hot path reads
/// `NEGATE` membership from [`WordInfo::negate`] and tests `"n't"` itself.)
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
pub(crate) fn special_bigram(a: Word, b: Word) -> Option<PyNum> {
    match (a, b) {
        (Word::The, Word::Shit | Word::Bomb) => int(3.0),
        (Word::Bad, Word::Ass) => float(1.5),
        (Word::Bus, Word::Stop) => float(0.0),
        (Word::Yeah, Word::Right) => int(-2.0),
        (Word::Beating, Word::Heart) => float(3.5),
        _ => None,
    }
}

/// `"{a} {b} {c}" in SPECIAL_CASES` for the three-word keys. (The one-word key `"badass"` can never equal a joined
/// n-gram, which always contains a space, so it is dead in 3.3.2.)
#[inline]
pub(crate) fn special_trigram(a: Word, b: Word, c: Word) -> Option<PyNum> {
    match (a, b, c) {
        (Word::Kiss, Word::Of, Word::Death) => float(-1.5),
        (Word::To, Word::Die, Word::For) => int(3.0),
        _ => None,
    }
}

/// Everything the rules need to know about one lower-cased token that depends on the token alone, found with one
/// [`Lexicon::get`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct WordInfo {
    /// `self.lexicon[word]` when `in_lexicon`, else 0.
    pub(crate) valence: f64,
    /// `word in self.lexicon`.
    pub(crate) in_lexicon: bool,
    /// `BOOSTER_DICT.get(word)`.
    pub(crate) booster: Booster,
    /// `word in NEGATE`.
    pub(crate) negate: bool,
    pub(crate) word: Word,
}

/// Longest key [`Lexicon`] can hold, in bytes (the longest `vader_lexicon.txt` word has 19). A longer token is in
/// none of VADER's word lists.
pub(crate) const MAX_KEY_LEN: usize = 24;

/// A key of at most [`MAX_KEY_LEN`] bytes as little-endian 8-byte chunks, zero padded. Keys are compared together
/// with their length, so padding never makes two different keys equal.
pub(crate) type Key = [u64; 3];

/// [`Key`] of a string of at most [`MAX_KEY_LEN`] bytes.
pub(crate) fn key_of(bytes: &[u8]) -> Key {
    debug_assert!(bytes.len() <= MAX_KEY_LEN);
    let mut key = [0u64; 3];
    for (i, &b) in bytes.iter().enumerate() {
        key[i / 8] |= u64::from(b) << (8 * (i % 8));
    }
    key
}

/// The union of the lexicon, `BOOSTER_DICT`, `NEGATE` and the rule words, keyed by lower-cased token: one probe per
/// token answers every question the rules ask about it.
///
/// A cuckoo hash table with two candidate buckets of two slots per key, at most half full, stored as two parallel
/// arrays: one tag byte per slot (0 for empty, else 8 bits of the hash; 16 KiB) and the entries. Most tokens are
/// misses, which read only tags. A key can only be in one of its four candidate slots, so a lookup compares four
/// tags and then reads one entry without data-dependent branches: whether a token is in the table is unpredictable,
/// and a linear-probing version of this table (branching on each probe) was ~12% slower on VADER as a whole. (A
/// 32-byte, cache-line-aligned entry layout measured no faster, with or without cache pressure, so the simpler
/// one stays.) The hash is a folded multiply (as in foldhash/wyhash) over the 8-byte chunks of the key, so hashing a
/// short word is one 64x64->128 multiply. The keys are fixed, trusted data and lookups cannot add to the table, so
/// no DoS-resistant hash is needed.
pub(crate) struct Lexicon {
    /// `2 * buckets` tags; bucket `b` is slots `2b` and `2b + 1`.
    tags: Box<[u8]>,
    /// `2 * buckets + 1` entries: the last one is [`Lexicon::none`], an entry no key matches, that a lookup reads
    /// when no tag matched.
    entries: Box<[Entry]>,
    /// `log2(buckets)`.
    bucket_bits: u32,
    /// Number of `vader_lexicon.txt` words (the size of Python's `self.lexicon`).
    lexicon_words: usize,
}

#[derive(Clone, Copy)]
struct Entry {
    key: Key,
    /// Key length; `u8::MAX` (longer than any key) in empty slots.
    len: u8,
    info: WordInfo,
}

const EMPTY: Entry = Entry {
    key: [0; 3],
    len: u8::MAX,
    info: WordInfo { valence: 0.0, in_lexicon: false, booster: Booster::None, negate: false, word: Word::Other },
};

/// Folded 64x64->128 multiply: every output bit depends on every input bit of `a` (for a well-mixed `b`).
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Hash of a key of `len` bytes.
#[inline]
fn key_hash(key: &Key, len: usize) -> u64 {
    const S0: u64 = 0x243f_6a88_85a3_08d3; // digits of pi, as in foldhash
    const S1: u64 = 0x1319_8a2e_0370_7344;
    const S2: u64 = 0xa409_3822_299f_31d0;
    let h = fold_mul(key[0] ^ S0, key[1] ^ S1 ^ len as u64);
    if len > 16 { fold_mul(h ^ key[2], S2) } else { h }
}

/// The tag byte of a hash: its low byte, never 0 (which marks an empty slot).
#[inline]
fn tag_of(h: u64) -> u8 {
    (h as u8).max(1)
}

impl Lexicon {
    /// The two candidate buckets of a hash, from disjoint bits of it (and disjoint from the tag's).
    #[inline]
    fn buckets(&self, h: u64) -> (usize, usize) {
        let mask = (1usize << self.bucket_bits) - 1;
        ((h >> (64 - self.bucket_bits)) as usize, (h >> 16) as usize & mask)
    }

    /// Index of the entry that no key matches.
    #[inline]
    fn none(&self) -> usize {
        self.tags.len()
    }

    fn build(words: &HashMap<&'static str, WordInfo>, lexicon_words: usize) -> Self {
        // Two slots per word: at most half full, far below the ~90% at which inserts into 2x2 cuckoo tables start
        // to fail.
        let n_slots = (words.len() * 2).next_power_of_two().max(16);
        let mut table = Lexicon {
            tags: vec![0; n_slots].into_boxed_slice(),
            entries: vec![EMPTY; n_slots + 1].into_boxed_slice(),
            bucket_bits: (n_slots / 2).trailing_zeros(),
            lexicon_words,
        };
        // Sorted so that the layout does not depend on HashMap iteration order.
        let mut sorted: Vec<_> = words.iter().collect();
        sorted.sort_unstable_by_key(|&(word, _)| *word);
        for (word, info) in sorted {
            let len = word.len();
            assert!(len <= MAX_KEY_LEN, "VADER word {word:?} is longer than MAX_KEY_LEN");
            table.insert(Entry { key: key_of(word.as_bytes()), len: len as u8, info: *info });
        }
        table
    }

    /// Cuckoo insertion: take a free slot of either bucket, else evict an entry to its other bucket, and so on.
    fn insert(&mut self, mut entry: Entry) {
        for kick in 0..1000 {
            let h = key_hash(&entry.key, usize::from(entry.len));
            let (b1, b2) = self.buckets(h);
            let slots = [2 * b1, 2 * b1 + 1, 2 * b2, 2 * b2 + 1];
            if let Some(&free) = slots.iter().find(|&&s| self.tags[s] == 0) {
                self.tags[free] = tag_of(h);
                self.entries[free] = entry;
                return;
            }
            // Deterministic choice of victim, cycling through the four slots.
            let victim = slots[kick % 4];
            std::mem::swap(&mut self.entries[victim], &mut entry);
            self.tags[victim] = tag_of(h);
        }
        panic!("cuckoo insertion failed: the VADER word table needs more slots");
    }

    /// The entry for the lower-cased word whose [`Key`] is `key` and length `len` (at most [`MAX_KEY_LEN`]), or
    /// the all-default entry (not in any list) if there is none.
    #[inline]
    pub(crate) fn get(&self, key: &Key, len: usize) -> WordInfo {
        let h = key_hash(key, len);
        let tag = tag_of(h);
        let (b1, b2) = self.buckets(h);
        let candidates = [2 * b1, 2 * b1 + 1, 2 * b2, 2 * b2 + 1];
        // The first candidate slot whose tag matches, else `none`, and then that entry if its key matches, else
        // `none`: selects, not branches.
        let mut pos = self.none();
        for &s in candidates.iter().rev() {
            pos = if self.tags[s] == tag { s } else { pos };
        }
        let entry = &self.entries[pos];
        let found = (usize::from(entry.len) == len) & (entry.key == *key);
        let mut entry = &self.entries[if found { pos } else { self.none() }];
        if !found && pos != self.none() {
            // A tag matched but the key did not (about 1 in 64 misses): another candidate may share the tag.
            if let Some(e) =
                candidates.iter().map(|&s| &self.entries[s]).find(|e| usize::from(e.len) == len && e.key == *key)
            {
                entry = e;
            }
        }
        entry.info
    }

    /// [`Lexicon::get`] by string.
    #[inline]
    pub(crate) fn get_str(&self, word: &str) -> WordInfo {
        if word.len() <= MAX_KEY_LEN { self.get(&key_of(word.as_bytes()), word.len()) } else { WordInfo::default() }
    }

    /// `self.lexicon.get(word)`.
    pub(crate) fn valence(&self, word: &str) -> Option<f64> {
        let info = self.get_str(word);
        info.in_lexicon.then_some(info.valence)
    }

    /// `len(self.lexicon)`.
    pub(crate) fn len(&self) -> usize {
        self.lexicon_words
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
        assert_eq!(t.lexicon.valence("heart"), Some(3.2));
        assert_eq!(t.lexicon.valence("$:"), Some(-1.5));
        assert_eq!(t.lexicon.valence("no"), Some(-1.2));
        assert_eq!(t.lexicon.valence("least"), None);
        assert_eq!(t.lexicon.valence("very"), None);
        assert_eq!(t.emojis.get(&'😁'), Some(&"beaming face with smiling eyes"));
        assert_eq!(t.emojis.len(), 1212);
        assert!(t.emojis.keys().all(|c| !c.is_ascii()));
    }

    /// The merged table answers exactly what the separate word lists and a plain dict of the lexicon file answer.
    #[test]
    fn table_agrees_with_the_word_lists() {
        let t = &*TABLES;
        let mut dict: HashMap<&str, f64> = HashMap::new();
        for line in LEXICON_TXT.trim_end_matches('\n').split('\n').filter(|l| !l.is_empty()) {
            let mut fields = py_strip(line).split('\t');
            let (word, value) = (fields.next().unwrap(), fields.next().unwrap());
            dict.insert(word, value.parse().unwrap());
        }
        let listed = BOOSTER_INCR.iter().chain(BOOSTER_DECR).chain(NEGATE).chain(RULE_WORDS.iter().map(|(w, _)| w));
        let mut words: Vec<&str> = dict.keys().copied().chain(listed.copied()).collect();
        // Near misses: prefixes, extensions, other case, padding-like bytes, the longest keys and beyond.
        let extra =
            ["", "a", "goo", "goodd", "GOOD", "no\0", "n", "but ", "x".repeat(24).leak(), "x".repeat(25).leak()];
        words.extend(extra);
        let near: Vec<String> = dict
            .keys()
            .flat_map(|w| [format!("{w}s"), w[..w.char_indices().last().map_or(0, |(i, _)| i)].to_owned()])
            .collect();
        words.extend(near.iter().map(String::as_str));
        for word in words {
            let info = t.lexicon.get_str(word);
            assert_eq!(t.lexicon.valence(word), dict.get(word).copied(), "{word:?}");
            assert_eq!(info.booster.value(), booster(word), "{word:?}");
            assert_eq!(info.negate, in_negate(word), "{word:?}");
            assert_eq!(info.word, word_id(word), "{word:?}");
        }
    }
}
