//! The real texts posts are made of, from the public data sets in `shared/data`
//! (see its README for sources and licences), sorted into pools by what they
//! are (complaint, question, praise, …) and which industry they talk about.
//!
//! Every text is cleaned the same way: HTML entities undone, the original
//! `@handles` removed (the generator inserts its own brand's handle), the
//! names of the real brand a text was written to replaced by a marker that
//! becomes the generated brand's name, whitespace collapsed to single spaces.

use crate::GenError;
use crate::names::{self, Industry};
use rand::Rng;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Stands for the generated brand's name inside a cleaned text.
pub(crate) const BRAND_MARK: char = '\u{1}';

/// What a text is, as far as its source's labels tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A customer complaint (labeled so, or negative airline feedback, or a customer's opening post in TWCS).
    Complaint,
    /// A customer question (a customer opening post or neutral airline tweet with a `?`).
    Question,
    /// Praise or thanks (positive labels).
    Praise,
    /// Neither: remarks, news, chatter.
    Neutral,
    /// Negative sentiment (negative labels, severe complaints).
    Negative,
    /// A customer's follow-up inside a thread with a care account (TWCS inbound replies).
    FollowUp,
    /// A care agent's reply (TWCS outbound).
    CareReply,
}

impl Category {
    /// Every category, in declaration order (so `category as usize` indexes it).
    pub const ALL: [Category; 7] = [
        Category::Complaint,
        Category::Question,
        Category::Praise,
        Category::Neutral,
        Category::Negative,
        Category::FollowUp,
        Category::CareReply,
    ];

    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Complaint => "complaint",
            Category::Question => "question",
            Category::Praise => "praise",
            Category::Neutral => "neutral",
            Category::Negative => "negative",
            Category::FollowUp => "follow_up",
            Category::CareReply => "care_reply",
        }
    }
}

/// An industry pool is used only when it holds at least this many texts;
/// smaller ones would repeat the same few texts.
const MIN_POOL: usize = 40;

/// How often a text comes from the brand's industry pool rather than from
/// the pool of every industry (variety, and the off-topic posts brands get).
const INDUSTRY_SHARE: f64 = 0.88;

/// The files [`TextBank::load`] reads, relative to the data directory.
pub const REQUIRED_FILES: [&str; 5] = [
    "complaints/train.csv",
    "tweeteval-sentiment/train_text.txt",
    "tweeteval-sentiment/train_labels.txt",
    "airline-sentiment/train.csv",
    "twcs/twcs_head5000.csv",
];

/// Read when present: more customer texts for streaming brands.
const OPTIONAL_FILES: [&str; 1] = ["twcs/twcs_spotifycares_inbound15096.csv"];

/// A source text as read, and the real brand names to replace in it.
#[derive(Debug, Clone)]
struct Raw {
    text: Box<str>,
    names: &'static [&'static str],
}

/// Real texts in pools by (industry, category).
///
/// Built once and shared by every generator; it holds the texts (a few MB),
/// never the generated posts. Texts are cleaned the first time they are
/// drawn and kept cleaned, so loading costs only reading the files.
#[derive(Debug, Clone, Default)]
pub struct TextBank {
    raw: Vec<Raw>,
    /// `raw[i]` cleaned, once drawn; `None` inside when unusable.
    cleaned: Vec<OnceLock<Option<Box<str>>>>,
    /// By industry; `None` holds the texts that belong to no industry (general chatter, unknown brands).
    pools: HashMap<(Option<Industry>, Category), Vec<u32>>,
    /// Every text of a category, whatever its industry: the last resort.
    all: HashMap<Category, Vec<u32>>,
    /// Invented brand stems that occur as words in some text, found on first use.
    taken_stems: OnceLock<HashSet<String>>,
    /// Texts per source file, for the ground truth.
    sources: BTreeMap<String, usize>,
}

impl TextBank {
    /// Loads and cleans the public data sets under `dir` (`shared/data`).
    ///
    /// # Errors
    /// [`GenError::MissingData`] naming every required file that is absent;
    /// [`GenError::Data`] when a file cannot be read or parsed.
    pub fn load(dir: &Path) -> Result<TextBank, GenError> {
        let missing: Vec<PathBuf> = REQUIRED_FILES.iter().map(|f| dir.join(f)).filter(|p| !p.is_file()).collect();
        if !missing.is_empty() {
            return Err(GenError::MissingData { dir: dir.to_path_buf(), missing });
        }
        let mut bank = TextBank::default();
        bank.load_complaints(dir)?;
        bank.load_airline(dir)?;
        for file in std::iter::once("twcs/twcs_head5000.csv").chain(OPTIONAL_FILES) {
            let path = dir.join(file);
            if path.is_file() {
                bank.load_twcs(&path, file)?;
            }
        }
        bank.load_tweeteval(dir)?;
        if bank.raw.is_empty() {
            return Err(GenError::NoTexts { what: dir.display().to_string() });
        }
        Ok(bank)
    }

    /// A bank of plain texts with no labels: every text may serve as any
    /// category. For `earshot bench --texts` and tests.
    ///
    /// # Errors
    /// [`GenError::NoTexts`] when no text survives cleaning.
    pub fn from_texts<I, S>(texts: I) -> Result<TextBank, GenError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut bank = TextBank::default();
        for t in texts {
            // Small banks are checked up front, so an unusable list fails here, not later.
            if clean(t.as_ref(), &[]).is_some() {
                bank.file(t.as_ref(), &[], "texts", &[], &Category::ALL);
            }
        }
        if bank.raw.is_empty() {
            return Err(GenError::NoTexts { what: "the given texts".to_string() });
        }
        Ok(bank)
    }

    /// Number of texts read.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// No texts at all.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Texts read per source file.
    pub fn sources(&self) -> &BTreeMap<String, usize> {
        &self.sources
    }

    /// Texts of `category` for brands of `industry` (`None`: texts of no industry).
    pub fn pool_len(&self, industry: Option<Industry>, category: Category) -> usize {
        self.pools.get(&(industry, category)).map_or(0, Vec::len)
    }

    /// True when the invented brand stem `stem` occurs as a whole word (any
    /// case) in some text, so a brand named so would be found in posts about
    /// other brands. Only stems [`crate::world`] can invent are known.
    pub(crate) fn has_word(&self, stem: &str) -> bool {
        self.taken_stems.get_or_init(|| self.find_stems()).contains(&stem.to_ascii_lowercase())
    }

    /// Every inventable stem that occurs as a word in the texts: one
    /// Aho-Corasick pass over all of them.
    fn find_stems(&self) -> HashSet<String> {
        let mut stems: Vec<String> = Vec::new();
        for head in names::BRAND_HEAD {
            for tail in names::BRAND_TAIL {
                stems.push(format!("{head}{tail}").to_ascii_lowercase());
                for mid in names::BRAND_TAIL {
                    let s = format!("{head}{mid}{tail}");
                    if s.len() <= 9 {
                        stems.push(s.to_ascii_lowercase());
                    }
                }
            }
        }
        let mut found = HashSet::new();
        let Ok(ac) = aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(&stems) else {
            // Building from a few thousand short literals cannot exceed the automaton's limits.
            return found;
        };
        let boundary = |b: Option<&u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        for raw in &self.raw {
            let bytes = raw.text.as_bytes();
            for m in ac.find_overlapping_iter(bytes) {
                let before = m.start().checked_sub(1).and_then(|i| bytes.get(i));
                if boundary(before) && boundary(bytes.get(m.end())) {
                    found.insert(stems[m.pattern().as_usize()].clone());
                }
            }
        }
        found
    }

    /// Text `i`, cleaned (once); `None` when it is unusable.
    fn cleaned(&self, i: usize) -> Option<&str> {
        self.cleaned[i]
            .get_or_init(|| {
                let raw = &self.raw[i];
                clean(&raw.text, raw.names).map(String::into_boxed_str)
            })
            .as_deref()
    }

    /// A random text of `category` for a brand of `industry`, with [`BRAND_MARK`] where the brand's name goes.
    pub(crate) fn pick(&self, rng: &mut impl Rng, industry: Industry, category: Category) -> &str {
        // Unusable texts (too short once handles go) are drawn again.
        for _ in 0..32 {
            let i = self.draw(rng, industry, category);
            if let Some(t) = self.cleaned(i) {
                return t;
            }
        }
        (0..self.raw.len()).find_map(|i| self.cleaned(i)).unwrap_or("thank you for the help")
    }

    /// Draws from the brand's industry pool most of the time, else from the
    /// texts of no industry (so an airline never gets a bank's complaint),
    /// falling back to every text of the category when those pools are small.
    fn draw(&self, rng: &mut impl Rng, industry: Industry, category: Category) -> usize {
        fn usable(p: Option<&Vec<u32>>) -> Option<&Vec<u32>> {
            p.filter(|p| p.len() >= MIN_POOL)
        }
        let own = usable(self.pools.get(&(Some(industry), category)));
        let generic = usable(self.pools.get(&(None, category)));
        let pool = match (own, generic) {
            (Some(o), Some(g)) => Some(if rng.random_bool(INDUSTRY_SHARE) { o } else { g }),
            (Some(p), None) | (None, Some(p)) => Some(p),
            (None, None) => self.all.get(&category).filter(|p| !p.is_empty()),
        };
        match pool {
            Some(p) => p[rng.random_range(0..p.len())] as usize,
            // A bank always holds a text (constructors refuse empty ones); an
            // empty category falls back to any text.
            None => rng.random_range(0..self.raw.len()),
        }
    }

    /// Keeps a raw text of plausible length; returns its index.
    fn add(&mut self, raw: &str, names: &'static [&'static str], source: &str) -> Option<u32> {
        let len = raw.len();
        if !(15..=1000).contains(&len) {
            return None;
        }
        let i = u32::try_from(self.raw.len()).ok()?;
        self.raw.push(Raw { text: raw.into(), names });
        self.cleaned.push(OnceLock::new());
        *self.sources.entry(source.to_string()).or_default() += 1;
        Some(i)
    }

    fn file(
        &mut self,
        raw: &str,
        names: &'static [&'static str],
        source: &str,
        industries: &[Industry],
        cats: &[Category],
    ) {
        let Some(i) = self.add(raw, names, source) else { return };
        for &cat in cats {
            self.all.entry(cat).or_default().push(i);
            if industries.is_empty() {
                self.pools.entry((None, cat)).or_default().push(i);
            }
            for &ind in industries {
                self.pools.entry((Some(ind), cat)).or_default().push(i);
            }
        }
    }

    fn load_complaints(&mut self, dir: &Path) -> Result<(), GenError> {
        let source = "complaints/train.csv";
        for row in earshot_classify::data::load_complaints(dir)? {
            let industries = names::complaint_domain(&row.domain);
            let cats: &[Category] = if row.complaint {
                if row.severity.is_some_and(|s| s >= 3) {
                    &[Category::Complaint, Category::Negative]
                } else {
                    &[Category::Complaint]
                }
            } else if row.domain.starts_with("random") {
                &[Category::Neutral]
            } else if is_praise(&row.text) {
                &[Category::Praise]
            } else if row.text.contains('?') {
                &[Category::Question]
            } else {
                &[Category::Neutral]
            };
            self.file(&row.text, &[], source, industries, cats);
        }
        Ok(())
    }

    fn load_airline(&mut self, dir: &Path) -> Result<(), GenError> {
        let source = "airline-sentiment/train.csv";
        let path = dir.join(source);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(&path).map_err(|e| csv_error(&path, e))?;
        let headers = rdr.headers().map_err(|e| csv_error(&path, e))?.clone();
        let col = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| GenError::BadData {
                path: path.clone(),
                reason: format!("no column {name:?} (expected the airline-sentiment CSV)"),
            })
        };
        let (sentiment, airline, text) = (col("airline_sentiment")?, col("airline")?, col("text")?);
        for row in rdr.records() {
            let row = row.map_err(|e| csv_error(&path, e))?;
            let (s, a, t) =
                (row.get(sentiment).unwrap_or(""), row.get(airline).unwrap_or(""), row.get(text).unwrap_or(""));
            let cats: &[Category] = match s {
                "negative" => &[Category::Complaint, Category::Negative],
                "positive" => &[Category::Praise],
                _ if t.contains('?') => &[Category::Question],
                _ => &[Category::Neutral],
            };
            self.file(t, names::airline_names(a), source, &[Industry::Airline], cats);
        }
        Ok(())
    }

    fn load_twcs(&mut self, path: &Path, source: &str) -> Result<(), GenError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(|e| csv_error(path, e))?;
        let headers = rdr.headers().map_err(|e| csv_error(path, e))?.clone();
        let col = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| GenError::BadData {
                path: path.to_path_buf(),
                reason: format!("no column {name:?} (expected the TWCS CSV header)"),
            })
        };
        let (author, inbound, text, parent) =
            (col("author_id")?, col("inbound")?, col("text")?, col("in_response_to_tweet_id")?);
        for row in rdr.records() {
            let row = row.map_err(|e| csv_error(path, e))?;
            let t = row.get(text).unwrap_or("");
            if row.get(inbound) == Some("False") {
                let care = names::care_account(row.get(author).unwrap_or(""));
                let industries = care.map(|c| std::slice::from_ref(&c.industry)).unwrap_or(&[]);
                self.file(t, care.map_or(&[][..], |c| c.names), source, industries, &[Category::CareReply]);
                continue;
            }
            // The brand a customer writes to is the first handle of the text.
            let care = first_handle(t).and_then(names::care_account);
            let industries = care.map(|c| std::slice::from_ref(&c.industry)).unwrap_or(&[]);
            let names = care.map_or(&[][..], |c| c.names);
            let follow_up = row.get(parent).is_some_and(|p| !p.trim().is_empty());
            let cats: &[Category] = if follow_up {
                &[Category::FollowUp]
            } else if is_praise(t) && !t.contains('?') {
                &[Category::Praise]
            } else if t.contains('?') {
                &[Category::Question]
            } else {
                &[Category::Complaint]
            };
            self.file(t, names, source, industries, cats);
        }
        Ok(())
    }

    fn load_tweeteval(&mut self, dir: &Path) -> Result<(), GenError> {
        let source = "tweeteval-sentiment/train_text.txt";
        let data = earshot_classify::data::load_tweeteval(dir, "train")?;
        for (text, label) in data.texts.iter().zip(&data.labels) {
            let cat = match label {
                0 => Category::Negative,
                2 => Category::Praise,
                _ => Category::Neutral,
            };
            self.file(text, &[], source, &[], &[cat]);
        }
        Ok(())
    }
}

fn csv_error(path: &Path, e: csv::Error) -> GenError {
    GenError::BadData { path: path.to_path_buf(), reason: e.to_string() }
}

/// Thanks and praise words, for sources without a sentiment label.
fn is_praise(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["thank", "love ", "great", "awesome", "amazing", "appreciate", "best "].iter().any(|w| lower.contains(w))
}

/// The first `@handle` of a text, without the `@`.
fn first_handle(text: &str) -> Option<&str> {
    let at = text.find('@')?;
    let rest = &text[at + 1..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Cleans one source text; `names` are the real brand's names to replace by [`BRAND_MARK`].
///
/// Returns `None` for texts too short or too long to make a post of, or
/// without words.
pub(crate) fn clean(raw: &str, names: &[&str]) -> Option<String> {
    let mut s = html_escape::decode_html_entities(raw).replace(['\n', '\r', '\t', BRAND_MARK], " ");
    if let Some(rest) = s.strip_prefix("RT ") {
        s = rest.to_string();
    }
    // Longest names first, so "United Airlines" wins over "United".
    let mut names: Vec<&str> = names.to_vec();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        s = replace_word(&s, name);
    }
    let s = strip_handles(&s);
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out = out.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '.' | ';' | '-' | '–'));
    let chars = out.chars().count();
    let letters = out.chars().filter(|c| c.is_alphabetic()).count();
    // English (Latin-script) texts only: the data sets hold a few Japanese and Arabic care replies.
    let latin = out.chars().filter(|c| c.is_ascii_alphabetic()).count();
    let marks = out.matches(BRAND_MARK).count();
    ((15..=230).contains(&chars) && letters >= 8 && latin * 10 >= letters * 9 && marks <= 2).then(|| out.to_string())
}

/// Replaces whole-word, case-sensitive occurrences of `name` by [`BRAND_MARK`],
/// except inside hashtags, handles, paths and domains.
fn replace_word(s: &str, name: &str) -> String {
    if name.is_empty() || !s.contains(name) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut prev: Option<char> = None;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().next_back().or(prev);
        let after = rest[i + name.len()..].chars().next();
        let ok_before = before.is_none_or(|c| !(is_word_char(c) || matches!(c, '#' | '@' | '/' | '.' | '\'')));
        let ok_after = after.is_none_or(|c| !is_word_char(c));
        out.push_str(&rest[..i]);
        if ok_before && ok_after {
            out.push(BRAND_MARK);
        } else {
            out.push_str(name);
        }
        prev = name.chars().next_back();
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

/// Removes `@handles` (an `@` not preceded by a word character, followed by
/// word characters) at the start and end of a text, where they only address
/// it; the first one inside a sentence ("talking with @acme about…") becomes
/// [`BRAND_MARK`] so the sentence still reads, later ones are removed.
fn strip_handles(s: &str) -> String {
    // Byte ranges of the handles, with the ':' that may follow one.
    let mut handles: Vec<(usize, usize)> = Vec::new();
    let mut prev: Option<char> = None;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '@' && prev.is_none_or(|p| !is_word_char(p)) && iter.peek().is_some_and(|(_, n)| is_word_char(*n)) {
            let mut end = s.len();
            while let Some(&(j, n)) = iter.peek() {
                if is_word_char(n) {
                    iter.next();
                } else {
                    end = j;
                    break;
                }
            }
            if s[end..].starts_with(':') {
                end += 1;
                iter.next();
            }
            handles.push((i, end));
            prev = Some(' ');
            continue;
        }
        prev = Some(c);
    }
    let only_space = |a: usize, b: usize| s[a..b].chars().all(|c| c.is_whitespace() || matches!(c, '.' | ',' | ':'));
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    let mut marked = false;
    for (k, &(start, end)) in handles.iter().enumerate() {
        let leading = handles[..k].iter().fold((true, 0), |(ok, from), &(a, b)| (ok && only_space(from, a), b)).0
            && only_space(handles[..k].last().map_or(0, |h| h.1), start);
        let trailing =
            handles[k + 1..].iter().fold((true, end), |(ok, from), &(a, b)| (ok && only_space(from, a), b)).0
                && only_space(handles[k + 1..].last().map_or(end, |h| h.1), s.len());
        out.push_str(&s[at..start]);
        if !leading && !trailing && !marked {
            out.push(BRAND_MARK);
            marked = true;
        }
        at = end;
    }
    out.push_str(&s[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_strips_handles_unescapes_and_marks_the_brand() {
        let t = clean("@united thanks &amp; the crew of United 123 was great @JoeSmith:", &["United"]).unwrap();
        assert_eq!(t, format!("thanks & the crew of {BRAND_MARK} 123 was great"));
        let t = clean("@a @b beware: talking with @Xfinity about a breach, cc @c and @d", &[]).unwrap();
        assert_eq!(t, format!("beware: talking with {BRAND_MARK} about a breach, cc and"));
        assert_eq!(
            clean("@SoftBank かしこまりました。端末、ルーター、モデムを再起動し改善するかお試しください", &[]),
            None
        );
        let t = clean("RT @AmericanAir: flight AA12\ncancelled again, #AmericanAir why?", &["AmericanAir"]).unwrap();
        assert_eq!(t, "flight AA12 cancelled again, #AmericanAir why?", "hashtags keep the real name");
        assert_eq!(clean("@user ok", &[]), None, "too short");
        assert_eq!(
            clean("joe@example.com wrote to me about the refund", &[]).as_deref(),
            Some("joe@example.com wrote to me about the refund")
        );
    }

    #[test]
    fn categories_index_their_list() {
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }

    #[test]
    fn plain_texts_fill_every_category() {
        let bank =
            TextBank::from_texts(["@user my phone will not charge at all", "love the new update, thank you"]).unwrap();
        assert_eq!(bank.len(), 2);
        let mut rng = crate::world::rng_for(1, 2, 3);
        assert!(bank.pick(&mut rng, Industry::Bank, Category::Praise).len() > 15);
        assert!(!bank.has_word("Norvik"));
        for cat in Category::ALL {
            assert_eq!(bank.pool_len(None, cat), 2);
        }
        assert!(TextBank::from_texts(["@a hi"]).is_err());
    }
}
