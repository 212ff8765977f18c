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
        // Patterns are plain strings far below the automaton's size limits, so building cannot fail.
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // A few hundred phrases: a full DFA is small and the fastest to search, on every post.
            .kind(Some(AhoCorasickKind::DFA))
            .build(sources.iter().map(|(_, p)| normalize_quotes(p).into_owned()))
            .expect("phrase automaton within size limits");
        SignalMatcher { automaton, sources, brand_names: brands.iter().map(|b| b.name.clone()).collect() }
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
        for m in self.automaton.find_iter(bytes) {
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

    #[test]
    fn loyalty_and_word_boundaries() {
        let m = SignalMatcher::new(&gilt());
        assert_eq!(kinds(&m.signals(&post("loyal customers to Brooks forever"), &[])), [SignalKind::Loyalty]);
        assert!(m.signals(&post("todays todayish nordstromian"), &["Gilt"]).is_empty());
    }
}
