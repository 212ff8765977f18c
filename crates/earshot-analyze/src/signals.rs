//! Signals from the brand's world: products and competitors named, churn
//! threats, loyalty, time pressure, evidence attached, and reach.
//!
//! Phrase lists are matched with one Aho-Corasick automaton per brand context
//! (fast dictionary matching: one pass over the text whatever the number of
//! phrases), at word boundaries, case-insensitively.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use earshot_core::Post;
use earshot_core::brand::BrandConfig;
use serde::{Deserialize, Serialize};

/// What a signal says about the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// A product of an addressed brand is named.
    Product,
    /// A competitor of an addressed brand is named.
    Competitor,
    /// The customer threatens to leave ("last time I shop with…", "switching to…").
    ChurnThreat,
    /// The customer declares loyalty ("loyal customer", "will buy again").
    Loyalty,
    /// A deadline makes it urgent ("before Christmas", "tomorrow").
    TimePressure,
    /// Evidence is attached (a photo or video).
    Evidence,
    /// The author reaches many people (followers) or the post spreads (reposts).
    Reach,
}

/// One signal with what triggered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// What kind.
    pub kind: SignalKind,
    /// What matched: the phrase, product or competitor name, or a figure (`12000 followers`).
    pub value: String,
}

/// Followers from which an author counts as influential.
pub const REACH_FOLLOWERS: u64 = 10_000;
/// Reposts from which a post counts as spreading.
pub const REACH_REPOSTS: u64 = 50;

/// Phrases that threaten churn. Written in lower case; matched at word boundaries.
const CHURN: &[&str] = &[
    "last time i shop",
    "last time i will shop",
    "last time i'll shop",
    "last time i order",
    "last time i will order",
    "last time i buy",
    "last time i fly",
    "last time i will fly",
    "last time i'm flying",
    "never shop",
    "never shopping",
    "never order from",
    "never ordering from",
    "never buy from",
    "never buying from",
    "never fly",
    "never flying",
    "never again",
    "switching to",
    "switch to",
    "switched to",
    "moving to",
    "going with",
    "cancel my account",
    "cancel my subscription",
    "cancel my membership",
    "cancelling my",
    "canceling my",
    "close my account",
    "closing my account",
    "done with you",
    "i'm done with",
    "im done with",
    "taking my business elsewhere",
    "take my business elsewhere",
    "lost a customer",
    "lost me as a customer",
    "lost my business",
    "won't be back",
    "wont be back",
    "won't be buying",
    "won't be shopping",
    "will not be shopping",
    "will not be back",
    "never use you again",
    "write a company off",
    "write them off",
    "unsubscribe",
];

/// Phrases that declare loyalty.
const LOYALTY: &[&str] = &[
    "loyal customer",
    "loyal customers",
    "customer for life",
    "customers for life",
    "will buy again",
    "will shop again",
    "will order again",
    "will be back",
    "i'll be back",
    "always buy",
    "always shop",
    "always fly",
    "love you guys",
    "love this company",
    "love your company",
    "best customer service",
    "great customer service",
    "good customer service",
    "amazing customer service",
    "been a customer for",
    "longtime customer",
    "long time customer",
    "years of loyalty",
    "loyal to",
    "visit you guys first",
    "recommend you",
];

/// Phrases that set a deadline.
const TIME_PRESSURE: &[&str] = &[
    "before christmas",
    "by christmas",
    "for christmas",
    "christmas eve",
    "before the holidays",
    "in time for",
    "tomorrow",
    "tonight",
    "today",
    "asap",
    "urgent",
    "urgently",
    "right now",
    "immediately",
    "this morning",
    "this afternoon",
    "this evening",
    "this weekend",
    "by friday",
    "by monday",
    "by tuesday",
    "by wednesday",
    "by thursday",
    "by saturday",
    "by sunday",
    "my flight",
    "flight leaves",
    "boarding",
    "birthday",
    "wedding",
    "deadline",
    "in an hour",
    "in 2 hours",
    "still waiting",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Phrase(SignalKind),
    /// A product of the brand at this index.
    Product(usize),
    /// A competitor of the brand at this index.
    Competitor(usize),
}

/// A compiled matcher for one set of brands (products and competitors) plus the built-in phrase lists.
#[derive(Debug, Clone)]
pub struct SignalMatcher {
    automaton: AhoCorasick,
    starts: StartFilter,
    sources: Vec<(Source, String)>,
    brand_names: Vec<String>,
}

impl SignalMatcher {
    /// Compiles the phrase lists with the products and competitors of `brands`.
    pub fn new(brands: &[BrandConfig]) -> SignalMatcher {
        let mut sources: Vec<(Source, String)> = Vec::new();
        for (kind, list) in [
            (SignalKind::ChurnThreat, CHURN),
            (SignalKind::Loyalty, LOYALTY),
            (SignalKind::TimePressure, TIME_PRESSURE),
        ] {
            sources.extend(list.iter().map(|p| (Source::Phrase(kind), p.to_string())));
        }
        for (i, b) in brands.iter().enumerate() {
            let names = |list: &[String]| -> Vec<String> {
                list.iter().map(|p| p.trim().to_string()).filter(|p| p.len() >= 2).collect()
            };
            sources.extend(names(&b.products).into_iter().map(|p| (Source::Product(i), p)));
            sources.extend(names(&b.competitors).into_iter().map(|p| (Source::Competitor(i), p)));
        }
        let patterns: Vec<String> = sources.iter().map(|(_, p)| normalize_quotes(p).into_owned()).collect();
        // Patterns are plain strings far below the automaton's size limits, so building cannot fail.
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // A few hundred phrases: a full DFA is small and the fastest to search, on every post.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("phrase automaton within size limits");
        let starts = StartFilter::new(&patterns);
        SignalMatcher { automaton, starts, sources, brand_names: brands.iter().map(|b| b.name.clone()).collect() }
    }

    /// All signals in a post, deduplicated, in a stable order (by kind, then value).
    ///
    /// Products and competitors count only for the brands the post addresses
    /// (`addressed`, by name): "Nordstrom" is a churn hint in a post to Gilt,
    /// not in a post to an airline.
    pub fn signals(&self, post: &Post, addressed: &[&str]) -> Vec<Signal> {
        let addresses = |i: usize| addressed.iter().any(|a| a.eq_ignore_ascii_case(&self.brand_names[i]));
        let mut out: Vec<Signal> = Vec::new();
        let text = normalize_quotes(&post.text);
        let bytes = text.as_bytes();
        // Most posts contain no phrase at all: settled by a cheap scan of the word starts, without the automaton.
        let matches = self.starts.may_match(bytes).then(|| self.automaton.find_iter(bytes));
        for m in matches.into_iter().flatten() {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            let is_word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            let (source, phrase) = &self.sources[m.pattern().as_usize()];
            // Names may take a plural or possessive `s` ("Nordstroms", "Nordstrom's" is already a boundary).
            let plural = !matches!(source, Source::Phrase(_))
                && matches!(after, Some(b's'))
                && !is_word(bytes.get(m.end() + 1).copied());
            if is_word(before) || (is_word(after) && !plural) {
                continue;
            }
            let kind = match *source {
                Source::Phrase(k) => k,
                Source::Product(i) if addresses(i) => SignalKind::Product,
                Source::Competitor(i) if addresses(i) => SignalKind::Competitor,
                Source::Product(_) | Source::Competitor(_) => continue,
            };
            push(&mut out, kind, phrase.clone());
        }
        if post.media.iter().any(|m| !matches!(m.kind, earshot_core::MediaKind::Audio)) {
            push(&mut out, SignalKind::Evidence, format!("{} media", post.media.len()));
        }
        if let Some(f) = post.author.followers.filter(|f| *f >= REACH_FOLLOWERS) {
            push(&mut out, SignalKind::Reach, format!("{f} followers"));
        }
        if let Some(r) = post.metrics.reposts.filter(|r| *r >= REACH_REPOSTS) {
            push(&mut out, SignalKind::Reach, format!("{r} reposts"));
        }
        out.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        out
    }
}

/// Whether a phrase can begin at a word start of a text: a necessary condition for any signal phrase, checked
/// before the automaton runs.
///
/// A match only counts when the byte before it is not a word byte (see [`SignalMatcher::signals`]), so it begins at
/// position 0 or after a byte that is not `[0-9A-Za-z_]`. If, at every such position, the text's next bytes begin
/// no phrase, the automaton would find nothing that counts, and is skipped; otherwise it runs over the whole text as
/// before, so the result never depends on this filter. Phrases are compared on their first (up to) eight bytes,
/// each byte OR-ed with 0x20 on both sides (which makes ASCII case irrelevant, as in the automaton, and can only
/// add false candidates), through bitmaps of hashes (ditto): first on four bytes, which settles most word starts
/// with one multiply, then on the phrase's own prefix length. Measured on TweetEval and customer-care posts, 70–85%
/// of posts have no candidate start.
#[derive(Debug, Clone)]
struct StartFilter {
    /// One bit per hash of the first four bytes of the phrases at least four bytes long, folded.
    first4: Vec<u64>,
    /// One bit per hash of (prefix length, folded prefix) of every phrase.
    bits: Vec<u64>,
    /// The prefix lengths of the phrases (1 to 8), shortest first.
    lens: Vec<usize>,
    /// True when the filter cannot rule anything out (some phrase is empty).
    always: bool,
}

/// log2 of the number of bits in each bitmap of [`StartFilter`] (2 KiB: a few hundred phrases leave it ~2% full).
const START_BITS: u32 = 14;

impl StartFilter {
    fn new(patterns: &[String]) -> StartFilter {
        let words = 1 << (START_BITS - 6);
        let mut f = StartFilter { first4: vec![0; words], bits: vec![0; words], lens: Vec::new(), always: false };
        for p in patterns {
            let p = p.as_bytes();
            if p.is_empty() {
                f.always = true;
                continue;
            }
            let len = p.len().min(8);
            let mut word = [0u8; 8];
            word[..len].copy_from_slice(&p[..len]);
            let word = u64::from_le_bytes(word);
            let h = Self::hash(word, len);
            f.bits[h / 64] |= 1 << (h % 64);
            if len >= 4 {
                let h = Self::hash(word, 4);
                f.first4[h / 64] |= 1 << (h % 64);
            }
            if !f.lens.contains(&len) {
                f.lens.push(len);
            }
        }
        f.lens.sort_unstable();
        f
    }

    /// The bit of the first `len` bytes of `word` (little-endian), case folded.
    #[inline]
    fn hash(word: u64, len: usize) -> usize {
        let mask = if len >= 8 { u64::MAX } else { (1u64 << (8 * len)) - 1 };
        let folded = (word | 0x2020_2020_2020_2020) & mask;
        ((folded ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - START_BITS)) as usize
    }

    #[inline]
    fn has(bits: &[u64], h: usize) -> bool {
        bits[h / 64] & (1 << (h % 64)) != 0
    }

    /// Whether some phrase's prefix is at `bytes[i..]` (a word start).
    #[cold]
    fn candidate_at(&self, bytes: &[u8], i: usize) -> bool {
        let rest = &bytes[i..];
        let mut w = [0u8; 8];
        let n = rest.len().min(8);
        w[..n].copy_from_slice(&rest[..n]);
        let word = u64::from_le_bytes(w);
        self.lens.iter().take_while(|&&len| len <= rest.len()).any(|&len| Self::has(&self.bits, Self::hash(word, len)))
    }

    /// False only when no phrase begins at any word start of `bytes`.
    fn may_match(&self, bytes: &[u8]) -> bool {
        if self.always {
            return true;
        }
        let Some(&shortest) = self.lens.first() else { return false };
        // Phrases shorter than four bytes (short product names) are not in `first4`: every start is checked fully.
        let short = shortest < 4;
        // Word starts are found eight bytes at a time (see `word_bytes`), then visited one set bit at a time: a
        // byte-by-byte loop mispredicts its branch at most word boundaries.
        let mut prev_word = 0u64;
        for (c, chunk) in bytes.chunks(8).enumerate() {
            let x = match chunk.first_chunk::<8>() {
                Some(w) => u64::from_le_bytes(*w),
                None => {
                    let mut w = [0u8; 8];
                    w[..chunk.len()].copy_from_slice(chunk);
                    u64::from_le_bytes(w)
                }
            };
            let word = word_bytes(x);
            // The high bit of each byte whose previous byte is not a word byte (the last chunk's padding included:
            // it is cut below).
            let mut starts = !((word << 8) | prev_word) & HIGH;
            prev_word = word >> 56;
            if chunk.len() < 8 {
                starts &= (1u64 << (8 * chunk.len())) - 1;
            }
            while starts != 0 {
                let i = 8 * c + (starts.trailing_zeros() / 8) as usize;
                starts &= starts - 1;
                if bytes.len() - i < shortest {
                    return false;
                }
                let hit = match bytes[i..].first_chunk::<4>() {
                    Some(w) => short || Self::has(&self.first4, Self::hash(u64::from(u32::from_le_bytes(*w)), 4)),
                    None => short,
                };
                if hit && self.candidate_at(bytes, i) {
                    return true;
                }
            }
        }
        false
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is a word byte (`[0-9A-Za-z_]`, as in [`SignalMatcher::signals`]), exactly:
/// with the high bits cleared no byte carries into the next, `y + (0x80 - lo)` reaches 0x80 exactly when `y >= lo`
/// and `y + (0x7f - hi)` exactly when `y > hi`; OR-ing 0x20 maps upper-case letters onto lower-case ones and no
/// other byte into `a..=z`.
#[inline]
fn word_bytes(x: u64) -> u64 {
    let y = x & !HIGH;
    let within = |y: u64, lo: u8, hi: u8| (y + ONES * u64::from(0x80 - lo)) & !(y + ONES * u64::from(0x7f - hi));
    let word = within(y, b'0', b'9') | within(y | (ONES * 0x20), b'a', b'z') | within(y, b'_', b'_');
    word & !x & HIGH
}

fn push(out: &mut Vec<Signal>, kind: SignalKind, value: String) {
    if !out.iter().any(|s| s.kind == kind && s.value.eq_ignore_ascii_case(&value)) {
        out.push(Signal { kind, value });
    }
}

/// Curly apostrophes are common in posts; match them as straight ones
/// (copying the text only when it has any).
fn normalize_quotes(s: &str) -> std::borrow::Cow<'_, str> {
    // Both are encoded E2 80 98/99, and most posts have no E2 byte at all: a byte scan (memchr) settles them
    // before the slower search for either char.
    if s.as_bytes().contains(&0xe2) && s.contains(['\u{2019}', '\u{2018}']) {
        std::borrow::Cow::Owned(s.replace(['\u{2019}', '\u{2018}'], "'"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use earshot_core::{Author, Media, MediaKind, Platform};
    use proptest::prelude::*;

    pub(crate) fn post(text: &str) -> Post {
        let author = Author { handle: "a".into(), ..Author::default() };
        Post::new(Platform::X, "1", author, text, Default::default(), "test")
    }

    fn gilt() -> Vec<BrandConfig> {
        vec![BrandConfig {
            name: "Gilt".into(),
            products: vec!["Jack Rogers sandals".into()],
            competitors: vec!["Nordstrom".into()],
            ..BrandConfig::default()
        }]
    }

    fn kinds(s: &[Signal]) -> Vec<SignalKind> {
        s.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn the_gilt_story() {
        let m = SignalMatcher::new(&gilt());
        let s = m.signals(
            &post("It’s the last time I will shop with @Gilt. Should've paid the extra $20 at Nordstrom’s"),
            &["Gilt"],
        );
        assert_eq!(kinds(&s), [SignalKind::Competitor, SignalKind::ChurnThreat]);
        assert_eq!(s[0].value, "Nordstrom");
        let mut p = post("My Jack Rogers sandals arrived broken, need them before Christmas");
        p.media.push(Media { kind: MediaKind::Image, url: None, alt: None });
        p.author.followers = Some(25_000);
        let s = m.signals(&p, &["gilt"]);
        assert_eq!(kinds(&s), [SignalKind::Product, SignalKind::TimePressure, SignalKind::Evidence, SignalKind::Reach]);
        let s = m.signals(&p, &["Brooks"]);
        assert_eq!(
            kinds(&s),
            [SignalKind::TimePressure, SignalKind::Evidence, SignalKind::Reach],
            "not Brooks' product"
        );
    }

    /// The matcher with its start filter off: the automaton runs on every text.
    fn unfiltered(m: &SignalMatcher) -> SignalMatcher {
        let mut m = m.clone();
        m.starts.always = true;
        m
    }

    #[test]
    fn the_start_filter_never_changes_signals_on_shared_corpora() {
        let m = SignalMatcher::new(&gilt());
        let all = unfiltered(&m);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/");
        let mut checked = 0;
        for file in ["tweeteval-sentiment/val_text.txt", "airline-sentiment/train.csv", "twcs/twcs_head5000.csv"] {
            let Ok(content) = std::fs::read_to_string(format!("{dir}{file}")) else { continue };
            for line in content.lines() {
                let p = post(line);
                assert_eq!(m.signals(&p, &["Gilt"]), all.signals(&p, &["Gilt"]), "{line:?}");
                checked += 1;
            }
        }
        eprintln!("{checked} texts compared");
    }

    fn piece() -> impl Strategy<Value = String> {
        let words: Vec<String> = CHURN
            .iter()
            .chain(LOYALTY)
            .chain(TIME_PRESSURE)
            .flat_map(|p| [p.to_string(), p.to_uppercase(), p.split(' ').next().unwrap_or("").to_string()])
            .chain(
                ["Nordstrom", "nordstroms", "Jack Rogers", "x", "_", "é", "’", "'", "9", " ", "  ", ".", "@"]
                    .map(String::from),
            )
            .collect();
        proptest::sample::select(words)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn the_start_filter_never_changes_signals(pieces in proptest::collection::vec(piece(), 0..12), glue in "[ a_.'’]{0,1}") {
            let text = pieces.join(&glue);
            let m = SignalMatcher::new(&gilt());
            prop_assert_eq!(m.signals(&post(&text), &["Gilt"]), unfiltered(&m).signals(&post(&text), &["Gilt"]));
        }

        #[test]
        fn the_start_filter_never_changes_signals_on_any_text(text in any::<String>()) {
            let m = SignalMatcher::new(&gilt());
            prop_assert_eq!(m.signals(&post(&text), &["Gilt"]), unfiltered(&m).signals(&post(&text), &["Gilt"]));
        }
    }

    #[test]
    fn word_bytes_is_the_word_byte_test() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut w = [b'.'; 8];
                w[at] = b;
                let want = if b.is_ascii_alphanumeric() || b == b'_' { 0x80u64 << (8 * at) } else { 0 };
                assert_eq!(word_bytes(u64::from_le_bytes(w)), want, "{b:#04x} at {at}");
            }
        }
    }

    #[test]
    fn loyalty_and_word_boundaries() {
        let m = SignalMatcher::new(&gilt());
        assert_eq!(kinds(&m.signals(&post("loyal customers to Brooks forever"), &[])), [SignalKind::Loyalty]);
        assert!(m.signals(&post("todays todayish nordstromian"), &["Gilt"]).is_empty());
    }
}
