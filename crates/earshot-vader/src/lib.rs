//! VADER sentiment, bit-for-bit as Python `vaderSentiment` 3.3.2.
//!
//! [VADER](https://github.com/cjhutto/vaderSentiment) (Hutto & Gilbert, ICWSM 2014) is a lexicon and rule based
//! sentiment model tuned for social media text. This crate is a port of the reference implementation,
//! `vaderSentiment/vaderSentiment.py` from the `vaderSentiment==3.3.2` wheel, together with the lexicon files that
//! wheel ships (`data/vader_lexicon.txt`, `data/emoji_utf8_lexicon.txt`, MIT licensed, see
//! `data/LICENSE-vaderSentiment.txt`), embedded in the binary and parsed once per process.
//!
//! # Exactness
//!
//! [`SentimentIntensityAnalyzer::polarity_scores`] returns the same four `f64` values, bit for bit, as Python's
//! `SentimentIntensityAnalyzer().polarity_scores(text)` on CPython 3.11 (the project's reference interpreter):
//! `compound` already passed through Python's `round(x, 4)` and `pos`/`neu`/`neg` through `round(x, 3)`, with
//! CPython's correctly rounded, half-to-even decimal rounding ([`py_round`]). The `parity` integration test holds
//! this against the real Python package on every TweetEval sentiment text (47,659 tweets), on 33,341 customer-care
//! tweets and comments with emoji and non-ASCII text from the shared data, and on generated strings.
//!
//! Every quirk of 3.3.2 is kept, bugs included, for example:
//! - emoji are replaced by their description with a space before but none after (`"😁x"` becomes
//!   `"beaming face with smiling eyesx"`), and `"!"` inside descriptions such as `"UP! button"` counts as emphasis;
//! - tokens are `str.split()` pieces with `string.punctuation` stripped from both ends unless that leaves two code
//!   points or fewer; ALL-CAPS emphasis uses Python's Unicode-aware `str.isupper()`;
//! - the `but` rule locates each score with `list.index(value)`, so equal scores earlier in the sentence get the
//!   0.5/1.5 factor instead of the later ones;
//! - an ALL-CAPS lexicon word whose valence is exactly 0 is pushed *down* by the caps bonus; `"no"` scores 0 when a
//!   lexicon word follows, and negates lexicon words one or two places after it (three across `or`/`nor`);
//!   `never so`/`never this` boost instead of negating;
//! - the sentiment-laden idiom check and the `least` clause inside `negated()` are dead code in 3.3.2 and absent;
//! - Python's `round()` is reproduced exactly ([`py_round`]), and the `int`/`float` distinction of the scores is
//!   tracked, because it matters to `sum()` on newer CPythons.
//!
//! Two things depend on the CPython version rather than on vaderSentiment. `sum()` of floats is plain addition up to
//! CPython 3.11 and compensated from 3.12 on; the default reproduces 3.11 and
//! [`SentimentIntensityAnalyzer::with_float_sum`] selects 3.12+ (see [`FloatSum`]). Unicode case properties (for
//! `isupper()`) follow CPython 3.11's Unicode 14.0 tables; later CPythons differ on 181 rare code points (letters
//! added or re-classified since), which only matter in a text that also has an ALL-CAPS word.
//!
//! ```
//! let scores = earshot_vader::polarity_scores("VADER is smart, handsome, and funny!");
//! assert_eq!(scores.compound, 0.8439);
//! assert_eq!((scores.neg, scores.neu, scores.pos), (0.0, 0.248, 0.752));
//! ```

mod lexicon;
mod pyround;
mod pystr;

use std::cell::RefCell;
use std::fmt;

use crate::lexicon::{C_INCR, Lexicon, MAX_KEY_LEN, N_SCALAR, PyNum, TABLES, Tables, Word, WordInfo};
pub use crate::pyround::py_round;

/// VADER's four scores for one text, already rounded as Python returns them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Polarity {
    /// Share of the text that is negative, `round(neg, 3)`, in `[0, 1]`.
    pub neg: f64,
    /// Share of the text that is neutral, `round(neu, 3)`, in `[0, 1]`.
    pub neu: f64,
    /// Share of the text that is positive, `round(pos, 3)`, in `[0, 1]`.
    pub pos: f64,
    /// Normalised, weighted composite score, `round(compound, 4)`, in `[-1, 1]`.
    pub compound: f64,
}

/// `SentimentIntensityAnalyzer` with the lexicons bundled in vaderSentiment 3.3.2.
///
/// Cheap to construct and to copy: the lexicons are parsed once per process and shared.
#[derive(Clone, Copy)]
pub struct SentimentIntensityAnalyzer {
    tables: &'static Tables,
    float_sum: FloatSum,
}

/// Which CPython `sum()` to reproduce for `sum(sentiments)` in `score_valence`.
///
/// CPython 3.12 changed `sum()` of floats from plain left-to-right addition to Neumaier compensated summation
/// (ints in the list are still added plainly). The two can differ in the last bit of the sum, which matters when
/// the word scores cancel: a sum of `+2e-16` instead of `0` gets the `!`/`?` emphasis added (compound `0.1491`
/// instead of `0.0`), and the sign of a zero `compound` can flip. Measured with Python on the shared data: 0 of
/// 47,659 TweetEval texts and 2 of 33,341 customer-care texts change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FloatSum {
    /// CPython 3.11 and earlier: plain left-to-right addition. The default, matching the project's reference
    /// interpreter (CPython 3.11, whose Unicode 14.0 case tables this crate also pins).
    #[default]
    Cpython311,
    /// CPython 3.12 and later: Neumaier compensation over the float items, as in `builtin_sum_impl`.
    Cpython312,
}

impl fmt::Debug for SentimentIntensityAnalyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentimentIntensityAnalyzer")
            .field("lexicon_words", &self.tables.lexicon.len())
            .field("emojis", &self.tables.emojis.len())
            .field("float_sum", &self.float_sum)
            .finish()
    }
}

impl Default for SentimentIntensityAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// [`SentimentIntensityAnalyzer::polarity_scores`] with the shared default analyzer.
#[must_use]
pub fn polarity_scores(text: &str) -> Polarity {
    SentimentIntensityAnalyzer::new().polarity_scores(text)
}

/// One token of `SentiText.words_and_emoticons`, with everything the rules ask about it computed once: the rules
/// only ever compare a lower-cased token with fixed words, so they need its [`WordInfo`], not its text.
#[derive(Clone, Copy)]
struct Token {
    /// The table entry of `token.lower()` (lexicon valence, booster, rule word), or the default if none.
    info: WordInfo,
    /// `token.isupper()`.
    upper: bool,
    /// `negated([token.lower()])`: in `NEGATE` or containing `"n't"`.
    negated: bool,
}

impl Token {
    /// `self.lexicon.get(token.lower())`.
    #[inline]
    fn valence(&self) -> Option<f64> {
        self.info.in_lexicon.then_some(self.info.valence)
    }

    /// `BOOSTER_DICT.get(token.lower())`.
    #[inline]
    fn booster(&self) -> Option<f64> {
        self.info.booster.value()
    }

    /// Token `text[start..end]` of the (emoji-expanded) text: `_strip_punc_if_word`, then one table lookup.
    #[inline]
    fn new(lexicon: &Lexicon, text: &str, start: usize, end: usize, ascii: bool, lower: &mut String) -> Token {
        if ascii {
            // The common case: strip, lower-case and test case eight bytes at a time, without copying the word.
            let p = text.as_bytes();
            let (start, end) = pystr::strip_punc_if_word_ascii(p, start, end);
            let word = pystr::scan_ascii_word(p, start, end);
            let len = end - start;
            let info = if len <= MAX_KEY_LEN { lexicon.get(&word.key, len) } else { WordInfo::default() };
            let negated = info.negate || (word.apostrophe && pystr::ascii_lower_contains_nt(&p[start..end]));
            Token { info, upper: word.upper, negated }
        } else {
            let word = pystr::strip_punc_if_word(&text[start..end]);
            lower.clear();
            pystr::push_py_lower(word, lower);
            let info = lexicon.get_str(lower);
            Token { info, upper: pystr::py_isupper(word), negated: info.negate || lower.contains("n't") }
        }
    }
}

/// One entry of Python's `sentiments` list: a float, or an `int` (the `0` of a non-lexicon word, or an `int`
/// `SPECIAL_CASES` value). Only CPython 3.12's `sum()` tells the two apart.
type Sentiment = PyNum;

const INT_ZERO: Sentiment = PyNum { value: 0.0, is_int: true };

/// Per-thread buffers reused across calls, so scoring a text allocates nothing in the steady state.
#[derive(Default)]
struct Scratch {
    /// The emoji-expanded text, when it differs from the input.
    text: String,
    /// `token.lower()` of the current non-ASCII token (ASCII tokens are lower-cased in registers).
    lower: String,
    tokens: Vec<Token>,
    sentiments: Vec<Sentiment>,
}

/// Texts longer than this (bytes) release the per-thread buffers after scoring.
const MAX_RETAINED_TEXT: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The tokens of one text.
struct Words<'a> {
    tokens: &'a [Token],
    is_cap_diff: bool,
}

impl Words<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Which of the rule words `words_and_emoticons[i].lower()` is, if any.
    #[inline]
    fn lw(&self, i: usize) -> Word {
        self.tokens[i].info.word
    }

    /// `words_and_emoticons[i].lower() in self.lexicon`.
    #[inline]
    fn in_lexicon(&self, i: usize) -> bool {
        self.tokens[i].info.in_lexicon
    }
}

impl SentimentIntensityAnalyzer {
    /// The analyzer with vaderSentiment 3.3.2's `vader_lexicon.txt` and `emoji_utf8_lexicon.txt`.
    #[must_use]
    pub fn new() -> Self {
        Self { tables: &TABLES, float_sum: FloatSum::default() }
    }

    /// The same analyzer reproducing the `sum()` of another CPython version (see [`FloatSum`]).
    #[must_use]
    pub fn with_float_sum(self, float_sum: FloatSum) -> Self {
        Self { float_sum, ..self }
    }

    /// The lexicon valence of a word, as `self.lexicon.get(word)` (the word must already be lower case).
    #[must_use]
    pub fn lexicon_valence(&self, word: &str) -> Option<f64> {
        self.tables.lexicon.valence(word)
    }

    /// `SentimentIntensityAnalyzer.polarity_scores(text)`: VADER's scores for `text`, equal to Python's.
    #[must_use]
    pub fn polarity_scores(&self, text: &str) -> Polarity {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let scores = self.polarity_scores_in(text, &mut scratch);
                if text.len() > MAX_RETAINED_TEXT {
                    // Don't keep a huge text's buffers alive for the rest of the thread.
                    *scratch = Scratch::default();
                }
                scores
            }
            // Only reachable if called re-entrantly on this thread; fall back to fresh buffers.
            Err(_) => self.polarity_scores_in(text, &mut Scratch::default()),
        })
    }

    fn polarity_scores_in(&self, text: &str, scratch: &mut Scratch) -> Polarity {
        let Scratch { text: text_buf, lower, tokens, sentiments } = scratch;

        // Convert emojis to their textual descriptions.
        let text = if self.replace_emojis(text, text_buf) { text_buf.as_str() } else { text };
        // Python strips `text` here; that changes neither `text.split()` nor the `!`/`?` counts of
        // `_punctuation_emphasis`, the only two things `text` is used for, so it is skipped.

        // SentiText: whitespace tokens, punctuation stripped unless that leaves <= 2 characters.
        tokens.clear();
        let lexicon = &self.tables.lexicon;
        let mut caps = 0;
        pystr::py_split_whitespace_ranges(text, |start, end, ascii| {
            let token = Token::new(lexicon, text, start, end, ascii, lower);
            caps += usize::from(token.upper);
            tokens.push(token);
        });
        // allcap_differential: some, but not all, words are ALL CAPS.
        let is_cap_diff = caps > 0 && caps < tokens.len();
        let words = Words { tokens, is_cap_diff };

        sentiments.clear();
        let n = words.len();
        for i in 0..n {
            // Words that are themselves modifiers score 0.
            if words.tokens[i].booster().is_some() {
                sentiments.push(INT_ZERO);
                continue;
            }
            if i < n - 1 && words.lw(i) == Word::Kind && words.lw(i + 1) == Word::Of {
                sentiments.push(INT_ZERO);
                continue;
            }
            sentiments.push(sentiment_valence(&words, i));
        }

        but_check(&words, sentiments);
        score_valence(sentiments, text, self.float_sum)
    }

    /// The emoji loop of `polarity_scores`. Returns false (and leaves `out` alone) when the text has no emoji,
    /// which is the common case and saves a copy.
    fn replace_emojis(&self, text: &str, out: &mut String) -> bool {
        let emojis = &self.tables.emojis;
        // Every single-code-point emoji key is non-ASCII.
        if text.is_ascii() {
            return false;
        }
        let bytes = text.as_bytes();
        let mut found = false;
        // `text[copied..]` is not in `out` yet: the text between emoji is copied in one piece.
        let mut copied = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii() {
                i += 1;
                continue;
            }
            let c = text[i..].chars().next().unwrap_or(' ');
            let next = i + c.len_utf8();
            if let Some(description) = emojis.get(&c) {
                if !found {
                    out.clear();
                    found = true;
                }
                // A space goes before a description unless the output so far "ends with a space": it does at the
                // very start and after text ending in ' ', and never right after another description.
                let prev_space = if i == copied { i == 0 } else { bytes[i - 1] == b' ' };
                out.push_str(&text[copied..i]);
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                copied = next;
            }
            i = next;
        }
        if found {
            out.push_str(&text[copied..]);
        }
        found
    }
}

/// `sentiment_valence`: the valence of word `i` after the "no", ALL-CAPS, booster, negation, idiom and "least" rules.
fn sentiment_valence(w: &Words<'_>, i: usize) -> Sentiment {
    let Some(lexicon_valence) = w.tokens[i].valence() else {
        return INT_ZERO;
    };
    let n = w.len();
    let mut valence = lexicon_valence;
    // Whether Python's `valence` currently holds an int (only after an int SPECIAL_CASES value).
    let mut is_int = false;

    // "no" as a negation of the next lexicon word rather than a lexicon word itself.
    if w.lw(i) == Word::No && i != n - 1 && w.in_lexicon(i + 1) {
        valence = 0.0;
    }
    if (i > 0 && w.lw(i - 1) == Word::No)
        || (i > 1 && w.lw(i - 2) == Word::No)
        || (i > 2 && w.lw(i - 3) == Word::No && matches!(w.lw(i - 1), Word::Or | Word::Nor))
    {
        valence = lexicon_valence * N_SCALAR;
    }

    // ALL-CAPS word among non-caps words. (A valence of exactly 0 takes the `else` branch.)
    if w.tokens[i].upper && w.is_cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }

    for start_i in 0..3 {
        if i > start_i && !w.in_lexicon(i - (start_i + 1)) {
            let mut s = scalar_inc_dec(&w.tokens[i - (start_i + 1)], valence, w.is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, w, start_i, i);
            if start_i == 2 {
                PyNum { value: valence, is_int } = special_idioms_check(valence, w, i);
            }
        }
    }

    match least_check(valence, w, i) {
        Some(negated) => PyNum { value: negated, is_int: false },
        None => PyNum { value: valence, is_int },
    }
}

/// `scalar_inc_dec`: the booster/dampener contribution of a preceding word.
#[inline]
fn scalar_inc_dec(word: &Token, valence: f64, is_cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if let Some(b) = word.booster() {
        scalar = b;
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if word.upper && is_cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    scalar
}

/// `_negation_check`.
fn negation_check(valence: f64, w: &Words<'_>, start_i: usize, i: usize) -> f64 {
    let mut valence = valence;
    match start_i {
        0 => {
            if w.tokens[i - 1].negated {
                valence *= N_SCALAR;
            }
        }
        1 => {
            if w.lw(i - 2) == Word::Never && matches!(w.lw(i - 1), Word::So | Word::This) {
                valence *= 1.25;
            } else if w.lw(i - 2) == Word::Without && w.lw(i - 1) == Word::Doubt {
                // unchanged
            } else if w.tokens[i - 2].negated {
                valence *= N_SCALAR;
            }
        }
        _ => {
            // Python: `a == "never" and (b == "so" or b == "this") or (c == "so" or c == "this")`.
            if (w.lw(i - 3) == Word::Never && matches!(w.lw(i - 2), Word::So | Word::This))
                || matches!(w.lw(i - 1), Word::So | Word::This)
            {
                valence *= 1.25;
            } else if w.lw(i - 3) == Word::Without && (w.lw(i - 2) == Word::Doubt || w.lw(i - 1) == Word::Doubt) {
                // unchanged
            } else if w.tokens[i - 3].negated {
                valence *= N_SCALAR;
            }
        }
    }
    valence
}

/// `_special_idioms_check` (only reached with `i >= 3`). Returns the new valence, which is a Python int if it is an
/// int SPECIAL_CASES value that no booster bigram was added to.
fn special_idioms_check(valence: f64, w: &Words<'_>, i: usize) -> PyNum {
    let mut valence = PyNum { value: valence, is_int: false };
    let (w3, w2, w1, w0) = (w.lw(i - 3), w.lw(i - 2), w.lw(i - 1), w.lw(i));
    // sequences = [onezero, twoonezero, twoone, threetwoone, threetwo]; the first hit wins.
    if let Some(v) = lexicon::special_bigram(w1, w0)
        .or_else(|| lexicon::special_trigram(w2, w1, w0))
        .or_else(|| lexicon::special_bigram(w2, w1))
        .or_else(|| lexicon::special_trigram(w3, w2, w1))
        .or_else(|| lexicon::special_bigram(w3, w2))
    {
        valence = v;
    }
    let n = w.len();
    if n - 1 > i
        && let Some(v) = lexicon::special_bigram(w0, w.lw(i + 1))
    {
        valence = v;
    }
    if n - 1 > i + 1
        && let Some(v) = lexicon::special_trigram(w0, w.lw(i + 1), w.lw(i + 2))
    {
        valence = v;
    }
    // Booster/dampener bigrams such as "sort of" / "kind of": n_grams = [threetwoone, threetwo, twoone]; a trigram
    // never equals a BOOSTER_DICT key.
    if let Some(b) = lexicon::booster_bigram(w3, w2) {
        valence = PyNum { value: valence.value + b, is_int: false };
    }
    if let Some(b) = lexicon::booster_bigram(w2, w1) {
        valence = PyNum { value: valence.value + b, is_int: false };
    }
    valence
}

/// `_least_check`: `Some(negated valence)` if it applies.
fn least_check(valence: f64, w: &Words<'_>, i: usize) -> Option<f64> {
    if i > 1 && !w.in_lexicon(i - 1) && w.lw(i - 1) == Word::Least {
        if w.lw(i - 2) != Word::At && w.lw(i - 2) != Word::Very {
            return Some(valence * N_SCALAR);
        }
    } else if i > 0 && !w.in_lexicon(i - 1) && w.lw(i - 1) == Word::Least {
        return Some(valence * N_SCALAR);
    }
    None
}

/// `_but_check`, including its `list.index(value)` quirk: each score is looked up by value, so the factor lands on
/// the first equal score, which may sit on the other side of the "but" or have been scaled already.
fn but_check(w: &Words<'_>, sentiments: &mut [Sentiment]) {
    let Some(bi) = (0..w.len()).find(|&i| w.lw(i) == Word::But) else {
        return;
    };
    for k in 0..sentiments.len() {
        let sentiment = sentiments[k].value;
        // `==` on numbers, as Python's list.index (0 == 0.0 == -0.0); no NaN can occur.
        let si = sentiments.iter().position(|s| s.value == sentiment).unwrap_or(k);
        // `sentiment * 0.5` is a float even when `sentiment` is an int.
        if si < bi {
            sentiments[si] = PyNum { value: sentiment * 0.5, is_int: false };
        } else if si > bi {
            sentiments[si] = PyNum { value: sentiment * 1.5, is_int: false };
        }
    }
}

/// `_punctuation_emphasis`: `!` (up to 4) and `?` (2 or more) in the emoji-expanded text.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep_count, mut qm_count) = (0u32, 0u32);
    for &b in text.as_bytes() {
        ep_count += u32::from(b == b'!');
        qm_count += u32::from(b == b'?');
    }
    let ep_amplifier = f64::from(ep_count.min(4)) * 0.292;
    let qm_amplifier = if qm_count > 1 { if qm_count <= 3 { f64::from(qm_count) * 0.18 } else { 0.96 } } else { 0.0 };
    ep_amplifier + qm_amplifier
}

/// `sum(sentiments)` on CPython <= 3.11: ints are summed exactly until the first float, then every item is added
/// with one plain double addition. All ints here are small, so this is a left fold from 0.0.
fn sum_cpython311(sentiments: &[Sentiment]) -> f64 {
    let mut sum = 0.0;
    for s in sentiments {
        sum += s.value;
    }
    sum
}

/// `sum(sentiments)` on CPython >= 3.12 (`builtin_sum_impl`): exact int sum until the first float, `int + float`
/// for that one, then Neumaier compensation over float items while int items are added plainly; the compensation
/// is applied at the end only if it is non-zero (so the sign of a zero sum survives).
fn sum_cpython312(sentiments: &[Sentiment]) -> f64 {
    let mut items = sentiments.iter();
    let mut int_sum = 0.0; // small integers: exact in a double
    let mut sum = loop {
        match items.next() {
            None => return int_sum,
            Some(s) if s.is_int => int_sum += s.value,
            Some(s) => break int_sum + s.value,
        }
    };
    let mut c = 0.0f64;
    for s in items {
        let x = s.value;
        if s.is_int {
            sum += x;
            continue;
        }
        let t = sum + x;
        if sum.abs() >= x.abs() {
            c += (sum - t) + x;
        } else {
            c += (x - t) + sum;
        }
        sum = t;
    }
    if c != 0.0 && c.is_finite() {
        sum += c;
    }
    sum
}

/// `normalize(score, alpha=15)`.
fn normalize(score: f64) -> f64 {
    let norm_score = score / (score * score + 15.0).sqrt();
    norm_score.clamp(-1.0, 1.0)
}

/// `score_valence` followed by the rounding in the returned dict.
fn score_valence(sentiments: &[Sentiment], text: &str, float_sum: FloatSum) -> Polarity {
    if sentiments.is_empty() {
        return Polarity::default();
    }
    let mut sum_s = match float_sum {
        FloatSum::Cpython311 => sum_cpython311(sentiments),
        FloatSum::Cpython312 => sum_cpython312(sentiments),
    };
    let punct_emph_amplifier = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct_emph_amplifier;
    } else if sum_s < 0.0 {
        sum_s -= punct_emph_amplifier;
    }
    let compound = normalize(sum_s);

    // _sift_sentiment_scores
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0u32);
    for &PyNum { value: s, .. } in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct_emph_amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct_emph_amplifier;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    let pos = (pos_sum / total).abs();
    let neg = (neg_sum / total).abs();
    let neu = (f64::from(neu_count) / total).abs();

    Polarity { neg: py_round(neg, 3), neu: py_round(neu, 3), pos: py_round(pos, 3), compound: py_round(compound, 4) }
}

/// Internals exposed for the parity tests only; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// CPython 3.11 `s.isupper()`.
    #[must_use]
    pub fn py_isupper(s: &str) -> bool {
        crate::pystr::py_isupper(s)
    }

    /// CPython `c.isspace()`.
    #[must_use]
    pub fn py_isspace(c: char) -> bool {
        crate::pystr::is_py_space(c)
    }

    /// CPython `s.lower()`.
    #[must_use]
    pub fn py_lower(s: &str) -> String {
        let mut out = String::new();
        crate::pystr::push_py_lower(s, &mut out);
        out
    }

    /// `SentiText(text).words_and_emoticons` for an already emoji-expanded text.
    #[must_use]
    pub fn words_and_emoticons(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        crate::pystr::py_split_whitespace(text, |t| out.push(crate::pystr::strip_punc_if_word(t).to_owned()));
        out
    }

    /// `BOOSTER_DICT.get(word)`, two-word keys included.
    #[must_use]
    pub fn booster(word: &str) -> Option<f64> {
        use crate::lexicon::word_id;
        match word.split_once(' ') {
            Some((a, b)) => crate::lexicon::booster_bigram(word_id(a), word_id(b)),
            None => crate::lexicon::booster(word),
        }
    }

    /// `negated([word])`.
    #[must_use]
    pub fn negated(word: &str) -> bool {
        crate::lexicon::negated(&py_lower(word))
    }

    /// `SPECIAL_CASES.get(phrase)` as reachable from `_special_idioms_check` (two- and three-word keys).
    #[must_use]
    /// The value, and whether Python holds it as an `int`.
    pub fn special_case(phrase: &str) -> Option<(f64, bool)> {
        let parts: Vec<_> = phrase.split(' ').map(crate::lexicon::word_id).collect();
        let v = match parts[..] {
            [a, b] => crate::lexicon::special_bigram(a, b),
            [a, b, c] => crate::lexicon::special_trigram(a, b, c),
            _ => None,
        };
        v.map(|v| (v.value, v.is_int))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores printed by Python vaderSentiment 3.3.2 on CPython 3.11 (`tests/vader_reference.py`).
    fn check(text: &str, compound: f64, pos: f64, neu: f64, neg: f64) {
        let got = polarity_scores(text);
        assert_eq!(got, Polarity { neg, neu, pos, compound }, "text: {text:?}");
    }

    #[test]
    fn empty_and_blank() {
        check("", 0.0, 0.0, 0.0, 0.0);
        check("   \t\n", 0.0, 0.0, 0.0, 0.0);
    }

    #[test]
    fn readme_examples() {
        check("VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469, 0.706, 0.294, 0.0);
        check("The book was only kind of good.", 0.3832, 0.303, 0.697, 0.0);
        check(
            "The plot was good, but the characters are uncompelling and the dialog is not great.",
            -0.7042,
            0.094,
            0.579,
            0.327,
        );
        check("Today only kinda sux! But I'll get by, lol", 0.5249, 0.317, 0.556, 0.127);
        check("Make sure you :) or :D today!", 0.8633, 0.706, 0.294, 0.0);
        check("Not bad at all", 0.431, 0.487, 0.513, 0.0);
    }

    #[test]
    fn emoji_become_descriptions() {
        check("Catch utf-8 emoji such as 💘 and 💋 and 😁", 0.875, 0.417, 0.583, 0.0);
        check("I ❤ you", 0.6369, 0.583, 0.417, 0.0);
        // No space is inserted after a description: "beaming face with smiling eyesx".
        check("😁x", 0.4588, 0.429, 0.571, 0.0);
        // 🆙 is "UP! button": its "!" is punctuation emphasis.
        check("good 🆙", 0.4926, 0.615, 0.385, 0.0);
    }

    #[test]
    fn negation_never_without_least() {
        check("Sentiment analysis has never been good.", -0.3412, 0.0, 0.675, 0.325);
        check("Sentiment analysis has never been this good!", 0.5672, 0.379, 0.621, 0.0);
        check("never so good", 0.5777, 0.652, 0.348, 0.0);
        check("not very good", -0.3865, 0.0, 0.433, 0.567);
        check("Without a doubt, excellent idea.", 0.7013, 0.659, 0.341, 0.0);
        check("Roger Dodger is at least compelling as a variation on the theme.", 0.2263, 0.147, 0.853, 0.0);
        check("Roger Dodger is one of the least compelling variations on this theme.", -0.1695, 0.0, 0.868, 0.132);
        check("least good", -0.3412, 0.0, 0.294, 0.706);
        check("very least good", 0.4902, 0.614, 0.386, 0.0);
    }

    #[test]
    fn no_rules() {
        check("no problem", 0.3089, 0.693, 0.307, 0.0);
        check("no no good", -0.1326, 0.357, 0.189, 0.454);
        check("this is no good or bad", 0.1139, 0.308, 0.432, 0.26);
        // "NO" scored 0.0 before a lexicon word, then the caps bonus pushes the 0 *down* (-0.733).
        check("NO problem at ALL", 0.1343, 0.377, 0.334, 0.289);
    }

    #[test]
    fn idioms_and_kind_of() {
        check("With VADER, sentiment analysis is the shit!", 0.6476, 0.417, 0.583, 0.0);
        check("On the other hand, VADER is quite bad ass", 0.802, 0.577, 0.423, 0.0);
        check("the shit but yeah right", -0.743, 0.0, 0.323, 0.677);
        check("I am kind of happy", 0.5279, 0.46, 0.54, 0.0);
        // U+212A KELVIN SIGN lower-cases to ASCII "k", so this is "kind of".
        check("\u{212a}IND of good", 0.4404, 0.592, 0.408, 0.0);
    }

    #[test]
    fn but_rule_with_list_index_quirk() {
        // Both "good" scores are equal, so list.index() finds the first one twice.
        check("good but good but bad", 0.0129, 0.462, 0.159, 0.378);
        check("I love it but love is hard", 0.8316, 0.6, 0.286, 0.114);
    }

    #[test]
    fn caps_follow_cpython_311_unicode() {
        check("it is GOOD and fine", 0.6633, 0.644, 0.356, 0.0);
        // U+0295 is Lowercase in Unicode 14 (CPython 3.11), so "AʕB" is not ALL CAPS and GOOD gets the caps bonus.
        check("AʕB GOOD", 0.5622, 0.784, 0.216, 0.0);
        // U+A7CB was unassigned in Unicode 14, so "A\u{a7cb}B" is ALL CAPS like "GOOD": no differential.
        check("A\u{a7cb}B GOOD", 0.4404, 0.744, 0.256, 0.0);
    }

    #[test]
    fn float_sum_follows_cpython_version() {
        // Values from CPython 3.11 and from vaderSentiment with sum() ported from CPython 3.12.
        let text = "bad hate great great ! love great bad sad ! hate";
        check(text, 0.1491, 0.451, 0.055, 0.494);
        let py312 = SentimentIntensityAnalyzer::new().with_float_sum(FloatSum::Cpython312);
        assert_eq!(py312.polarity_scores(text), Polarity { neg: 0.494, neu: 0.055, pos: 0.451, compound: 0.0 });
        let text = "@AdobeCare Sorry you misunderstood! Yes using old catalog but imported new A9 files ! Still \
                    sllllloooooow";
        check(text, 0.0, 0.101, 0.711, 0.188);
        assert_eq!(py312.polarity_scores(text), Polarity { neg: 0.188, neu: 0.711, pos: 0.101, compound: 0.1491 });
    }
}
