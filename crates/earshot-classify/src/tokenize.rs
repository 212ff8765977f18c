//! A fast tokenizer for tweets and other short social posts.
//!
//! Normalisations, and why:
//! - lowercase (Unicode-aware): case is mostly noise for bag-of-n-grams on a few thousand examples; the one useful
//!   case signal, SHOUTING, is kept separately as [`Tokens::all_caps_words`];
//! - URLs → `<url>`, `@mentions` → `<user>`, numbers → `<num>`: their identity does not generalise (and TWCS
//!   anonymises handles to numeric ids), their presence does;
//! - elongation: any character repeated three or more times is cut to two (`soooo` → `soo`, `!!!!` → `!!`), so
//!   emphatic spellings share a feature while staying distinct from the plain word;
//! - emoji and other symbols are kept, one token each (skin-tone modifiers, variation selectors and ZWJ dropped);
//! - runs of ASCII punctuation are one token (`:)`, `?!`, `..`), `#tag` becomes `#` + `tag`;
//! - the HTML entities that survive in scraped tweets (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`) are decoded.
//!
//! The tokenizer never allocates per token: it writes normalised text into one reusable buffer.

/// What a token is, which decides which features it gets (char n-grams only for words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters/digits (possibly with inner apostrophes), lowercased.
    Word,
    /// A placeholder: `<url>`, `<user>` or `<num>`.
    Special,
    /// A run of ASCII punctuation, e.g. `!!`, `:)`, `#`.
    Punct,
    /// A single emoji or other symbol.
    Symbol,
}

/// One token: a byte span into [`Tokens::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Start byte offset in [`Tokens::text`].
    pub start: u32,
    /// End byte offset (exclusive).
    pub end: u32,
    /// Kind of token.
    pub kind: TokenKind,
}

/// Reusable tokenizer output.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    /// Normalised token text, tokens back to back.
    pub text: String,
    /// Spans into `text`.
    pub tokens: Vec<Token>,
    /// Number of words with at least two letters, all of them upper case in the input.
    pub all_caps_words: u32,
}

impl Tokens {
    /// Text of token `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.text[t.start as usize..t.end as usize]
    }

    /// Number of tokens.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when there are no tokens.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Iterate over `(text, kind)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, TokenKind)> + '_ {
        self.tokens.iter().map(|t| (&self.text[t.start as usize..t.end as usize], t.kind))
    }

    fn clear(&mut self) {
        self.text.clear();
        self.tokens.clear();
        self.all_caps_words = 0;
    }

    fn begin(&self) -> usize {
        self.text.len()
    }

    /// Push `c` unless the token already ends with `c` twice (elongation normalisation).
    #[inline]
    fn push_char(&mut self, start: usize, c: char) {
        if c.is_ascii() {
            self.push_ascii(start, c as u8);
        } else {
            self.push_non_ascii(start, c);
        }
    }

    /// [`Tokens::push_char`] for an ASCII byte: the hot case, kept small enough to inline into the loops.
    #[inline]
    fn push_ascii(&mut self, start: usize, b: u8) {
        debug_assert!(b.is_ascii());
        // An ASCII byte is always a whole char, so the last two bytes are the last two chars.
        let t = self.text.as_bytes();
        let n = t.len();
        if n >= start + 2 && t[n - 1] == b && t[n - 2] == b {
            return;
        }
        self.text.push(char::from(b));
    }

    #[cold]
    fn push_non_ascii(&mut self, start: usize, c: char) {
        let cur = &self.text[start..];
        let mut it = cur.chars().rev();
        if it.next() == Some(c) && it.next() == Some(c) {
            return;
        }
        self.text.push(c);
    }

    fn finish(&mut self, start: usize, kind: TokenKind) {
        if self.text.len() > start {
            self.tokens.push(Token { start: start as u32, end: self.text.len() as u32, kind });
        }
    }

    fn special(&mut self, s: &str) {
        let start = self.begin();
        self.text.push_str(s);
        self.finish(start, TokenKind::Special);
    }
}

fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that carry no meaning on their own: variation selectors, joiners, skin tones, other format chars.
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{1F3FB}'..='\u{1F3FF}')
        || matches!(c, '\u{E0020}'..='\u{E007F}')
        || c.is_control()
}

const ENTITIES: [(&str, char); 6] =
    [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\''), ("&apos;", '\'')];

/// The HTML entity `s` starts with, if any.
#[inline]
fn entity_at(s: &str) -> Option<(&'static str, char)> {
    ENTITIES.iter().copied().find(|(e, _)| starts_with_ignore_ascii_case(s, e))
}

/// Bits of [`ASCII_CLASS`]. `UPPER` is the ASCII case bit 0x20, so `b | (class & UPPER)` lower-cases `b`.
const UPPER: u8 = 0x20;
const WORD: u8 = 0x01; // `is_word_char`: alphanumeric or `_`
const ALPHA: u8 = 0x02;
const DIGIT: u8 = 0x04;

/// Character classes of the ASCII bytes, so the word loop classifies a byte with one load instead of a chain of
/// range comparisons (whose branches mispredict at every change between upper case, lower case and digits).
const ASCII_CLASS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            WORD | ALPHA | UPPER
        } else if c.is_ascii_lowercase() {
            WORD | ALPHA
        } else if c.is_ascii_digit() {
            WORD | DIGIT
        } else if c == b'_' {
            WORD
        } else {
            0
        };
        b += 1;
    }
    t
};

/// An ASCII byte that [`is_word_char`] accepts.
#[inline]
fn is_ascii_word_byte(b: u8) -> bool {
    b.is_ascii() && ASCII_CLASS[usize::from(b)] & WORD != 0
}

/// Whether the char starting at byte `at` of `s` (a char boundary) is a word char; ASCII is not decoded.
#[inline]
fn word_char_at(s: &str, at: usize) -> bool {
    match s.as_bytes().get(at) {
        Some(&b) if b.is_ascii() => is_ascii_word_byte(b),
        Some(_) => s[at..].chars().next().is_some_and(is_word_char),
        None => false,
    }
}

/// Byte offset of the first `char::is_whitespace` char in `s`, or `s.len()`: `s.find(char::is_whitespace)` with
/// ASCII bytes tested as bytes.
#[inline]
fn find_whitespace(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut k = 0;
    while k < bytes.len() {
        let b = bytes[k];
        if b.is_ascii() {
            // ASCII whitespace for `char::is_whitespace`: \t \n \x0b \x0c \r and space (not \x1c-\x1f).
            if matches!(b, b'\t'..=b'\r' | b' ') {
                return k;
            }
            k += 1;
        } else {
            let c = s[k..].chars().next().unwrap_or(' ');
            if c.is_whitespace() {
                return k;
            }
            k += c.len_utf8();
        }
    }
    bytes.len()
}

/// Byte offset of the first char in `s` that is not a word char, or `s.len()`.
#[inline]
fn find_non_word(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut k = 0;
    while k < bytes.len() {
        let b = bytes[k];
        if b.is_ascii() {
            if !is_ascii_word_byte(b) {
                return k;
            }
            k += 1;
        } else {
            let c = s[k..].chars().next().unwrap_or(' ');
            if !is_word_char(c) {
                return k;
            }
            k += c.len_utf8();
        }
    }
    bytes.len()
}

/// Tokenize `input` into `out` (cleared first). Never panics, for any input.
///
/// Tweets are mostly ASCII, so each step tests an ASCII byte directly and only decodes a char (and asks Unicode
/// tables) for non-ASCII bytes. The output is exactly that of the plain char-by-char version, which the tests keep
/// as `reference::tokenize_reference` and compare against on generated and real texts.
pub fn tokenize_into(input: &str, out: &mut Tokens) {
    out.clear();
    let bytes = input.as_bytes();
    let mut i = 0usize;
    let mut prev_word = false; // previous char was a word char (for URL/mention boundaries)
    while i < bytes.len() {
        let rest = &input[i..];
        let b = bytes[i];
        let (c, clen) = if b.is_ascii() {
            // ASCII whitespace and control chars (`is_whitespace` / `is_ignorable`): 0x00..=0x20 and 0x7f.
            if b <= b' ' || b == 0x7f {
                i += 1;
                prev_word = false;
                continue;
            }
            (char::from(b), 1)
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            if c.is_whitespace() || is_ignorable(c) {
                i += c.len_utf8();
                prev_word = false;
                continue;
            }
            (c, c.len_utf8())
        };
        // URLs: consume to the next whitespace.
        if !prev_word
            && matches!(b, b'h' | b'H' | b'w' | b'W')
            && (starts_with_ignore_ascii_case(rest, "http://")
                || starts_with_ignore_ascii_case(rest, "https://")
                || starts_with_ignore_ascii_case(rest, "www."))
        {
            i += find_whitespace(rest);
            out.special("<url>");
            prev_word = false;
            continue;
        }
        if b == b'@' && !prev_word && word_char_at(rest, 1) {
            i += 1 + find_non_word(&rest[1..]);
            out.special("<user>");
            prev_word = true;
            continue;
        }
        if b == b'&'
            && let Some((ent, ch)) = entity_at(rest)
        {
            i += ent.len();
            let start = out.begin();
            out.text.push(ch);
            let kind = if ch.is_ascii_punctuation() { TokenKind::Punct } else { TokenKind::Word };
            out.finish(start, kind);
            prev_word = false;
            continue;
        }
        if if b.is_ascii() { is_ascii_word_byte(b) } else { is_word_char(c) } {
            i += word(rest, out);
            prev_word = true;
            continue;
        }
        prev_word = false;
        if b.is_ascii_punctuation() {
            i += punct_run(rest, out);
            continue;
        }
        // Typographic quotes/ellipsis map onto their ASCII forms; everything else is a symbol token. (Only non-ASCII
        // chars get here: every printable ASCII char is a word char or punctuation.)
        let start = out.begin();
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' => out.text.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' => out.text.push('"'),
            '\u{2026}' => out.text.push_str(".."),
            _ => out.text.push(c),
        }
        let kind = if c.is_alphanumeric() { TokenKind::Word } else { TokenKind::Symbol };
        let kind = if matches!(c, '\u{2018}'..='\u{201F}' | '\u{2026}') { TokenKind::Punct } else { kind };
        out.finish(start, kind);
        i += clen;
    }
}

/// A run of ASCII punctuation starting at `rest[0]` (which is one), stopping before a mention/hashtag/entity start
/// so those still work. Returns bytes consumed (at least 1). The run is ASCII, so it is walked byte by byte.
#[inline]
fn punct_run(rest: &str, out: &mut Tokens) -> usize {
    let bytes = rest.as_bytes();
    let start = out.begin();
    let mut j = 0usize;
    for (k, &ch) in bytes.iter().enumerate() {
        if !ch.is_ascii_punctuation() {
            break;
        }
        if k > 0
            && (((ch == b'@' || ch == b'#') && word_char_at(rest, k + 1))
                || (ch == b'&' && entity_at(&rest[k..]).is_some()))
        {
            break;
        }
        out.push_ascii(start, ch);
        j = k + 1;
        if ch == b'#' && word_char_at(rest, k + 1) {
            break;
        }
    }
    out.finish(start, TokenKind::Punct);
    j.max(1)
}

/// Consume a word starting at `rest[0]`; returns bytes consumed.
fn word(rest: &str, out: &mut Tokens) -> usize {
    let bytes = rest.as_bytes();
    let start = out.begin();
    let mut letters = 0u32;
    let mut upper = 0u32;
    let mut all_numeric = true;
    let mut end = 0usize;
    let mut k = 0usize;
    while k < bytes.len() {
        let b = bytes[k];
        if b.is_ascii() {
            let class = ASCII_CLASS[usize::from(b)];
            if class & WORD != 0 {
                letters += u32::from(class & ALPHA != 0);
                upper += u32::from(class & UPPER != 0);
                // A letter or `_` makes the word non-numeric.
                all_numeric &= class & DIGIT != 0;
                out.push_ascii(start, b | (class & UPPER));
                k += 1;
                end = k;
                continue;
            }
            // Inner apostrophes (don't) and number separators (3.5, 10,000, 9:30) stay inside the token. The char
            // before `k`, if not ASCII, ends in a byte >= 0x80, which is no digit.
            if b == b'\'' && !all_numeric && word_char_at(rest, k + 1) {
                out.push_ascii(start, b'\'');
            } else if matches!(b, b'.' | b',' | b':')
                && k > 0
                && bytes[k - 1].is_ascii_digit()
                && bytes.get(k + 1).is_some_and(u8::is_ascii_digit)
            {
                out.push_ascii(start, b);
            } else {
                break;
            }
            k += 1;
            end = k;
            continue;
        }
        let ch = rest[k..].chars().next().unwrap_or(' ');
        if is_word_char(ch) {
            if ch.is_alphabetic() {
                letters += 1;
                if ch.is_uppercase() {
                    upper += 1;
                }
                all_numeric = false;
            } else if !ch.is_numeric() {
                all_numeric = false;
            }
            for l in ch.to_lowercase() {
                out.push_char(start, l);
            }
        } else if ch == '\u{2019}' && !all_numeric && word_char_at(rest, k + ch.len_utf8()) {
            // I’m
            out.push_ascii(start, b'\'');
        } else {
            break;
        }
        k += ch.len_utf8();
        end = k;
    }
    if all_numeric {
        out.text.truncate(start);
        out.special("<num>");
    } else {
        if letters >= 2 && upper == letters {
            out.all_caps_words += 1;
        }
        out.finish(start, TokenKind::Word);
    }
    end.max(1)
}

/// Convenience: tokenize into owned strings (allocates; use [`tokenize_into`] on hot paths).
#[must_use]
pub fn tokenize(input: &str) -> Vec<String> {
    let mut t = Tokens::default();
    tokenize_into(input, &mut t);
    t.iter().map(|(s, _)| s.to_owned()).collect()
}

/// A frozen copy of the tokenizer as it was before its ASCII fast paths, for the differential tests in `tests`: the optimised [`tokenize_into`] must produce exactly the same [`Tokens`].
#[cfg(test)]
mod reference {
    use super::{Token, TokenKind, Tokens};

    /// The `Tokens` methods as they were, so that later changes to them cannot leak into the reference.
    trait RefMethods {
        fn clear(&mut self);
        fn begin(&self) -> usize;
        fn push_char(&mut self, start: usize, c: char);
        fn finish(&mut self, start: usize, kind: TokenKind);
        fn special(&mut self, s: &str);
    }

    impl RefMethods for Tokens {
        fn clear(&mut self) {
            self.text.clear();
            self.tokens.clear();
            self.all_caps_words = 0;
        }

        fn begin(&self) -> usize {
            self.text.len()
        }

        fn push_char(&mut self, start: usize, c: char) {
            if c.is_ascii() {
                let b = &self.text.as_bytes()[start..];
                if b.len() >= 2 && b[b.len() - 1] == c as u8 && b[b.len() - 2] == c as u8 {
                    return;
                }
                self.text.push(c);
                return;
            }
            let cur = &self.text[start..];
            let mut it = cur.chars().rev();
            if it.next() == Some(c) && it.next() == Some(c) {
                return;
            }
            self.text.push(c);
        }

        fn finish(&mut self, start: usize, kind: TokenKind) {
            if self.text.len() > start {
                self.tokens.push(Token { start: start as u32, end: self.text.len() as u32, kind });
            }
        }

        fn special(&mut self, s: &str) {
            let start = RefMethods::begin(self);
            self.text.push_str(s);
            RefMethods::finish(self, start, TokenKind::Special);
        }
    }

    fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
        s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    }

    fn is_word_char(c: char) -> bool {
        c.is_alphanumeric() || c == '_'
    }

    fn is_apostrophe(c: char) -> bool {
        c == '\'' || c == '\u{2019}'
    }

    /// Characters that carry no meaning on their own: variation selectors, joiners, skin tones, other format chars.
    fn is_ignorable(c: char) -> bool {
        matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{1F3FB}'..='\u{1F3FF}')
            || matches!(c, '\u{E0020}'..='\u{E007F}')
            || c.is_control()
    }

    const ENTITIES: [(&str, char); 6] =
        [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\''), ("&apos;", '\'')];

    /// Tokenize `input` into `out` (cleared first). Never panics, for any input.
    pub(super) fn tokenize_reference(input: &str, out: &mut Tokens) {
        RefMethods::clear(out);
        let bytes = input.as_bytes();
        let mut i = 0usize;
        let mut prev_word = false; // previous char was a word char (for URL/mention boundaries)
        while i < bytes.len() {
            let rest = &input[i..];
            let c = rest.chars().next().unwrap_or(' ');
            let clen = c.len_utf8();
            if c.is_whitespace() || is_ignorable(c) {
                i += clen;
                prev_word = false;
                continue;
            }
            // URLs: consume to the next whitespace.
            if !prev_word
                && (c == 'h' || c == 'H' || c == 'w' || c == 'W')
                && (starts_with_ignore_ascii_case(rest, "http://")
                    || starts_with_ignore_ascii_case(rest, "https://")
                    || starts_with_ignore_ascii_case(rest, "www."))
            {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                i += end;
                RefMethods::special(out, "<url>");
                prev_word = false;
                continue;
            }
            let next = rest[clen..].chars().next();
            if c == '@' && !prev_word && next.is_some_and(is_word_char) {
                let end = rest[1..].find(|ch: char| !is_word_char(ch)).map_or(rest.len(), |e| e + 1);
                i += end;
                RefMethods::special(out, "<user>");
                prev_word = true;
                continue;
            }
            if c == '&'
                && let Some((ent, ch)) = ENTITIES.iter().find(|(e, _)| starts_with_ignore_ascii_case(rest, e))
            {
                i += ent.len();
                let start = RefMethods::begin(out);
                out.text.push(*ch);
                let kind = if ch.is_ascii_punctuation() { TokenKind::Punct } else { TokenKind::Word };
                RefMethods::finish(out, start, kind);
                prev_word = false;
                continue;
            }
            if is_word_char(c) {
                i += word(rest, out);
                prev_word = true;
                continue;
            }
            prev_word = false;
            if c.is_ascii_punctuation() {
                // A run of ASCII punctuation, stopping before a mention/hashtag/entity start so those still work.
                let start = RefMethods::begin(out);
                let mut j = 0usize;
                for (k, ch) in rest.char_indices() {
                    if !ch.is_ascii_punctuation() {
                        break;
                    }
                    if k > 0 {
                        let after = rest[k + 1..].chars().next();
                        if ((ch == '@' || ch == '#') && after.is_some_and(is_word_char))
                            || (ch == '&' && ENTITIES.iter().any(|(e, _)| starts_with_ignore_ascii_case(&rest[k..], e)))
                        {
                            break;
                        }
                    }
                    RefMethods::push_char(out, start, ch);
                    j = k + 1;
                    if ch == '#' && after_is_word(rest, k + 1) {
                        break;
                    }
                }
                i += j.max(1);
                RefMethods::finish(out, start, TokenKind::Punct);
                continue;
            }
            // Typographic quotes/ellipsis map onto their ASCII forms; everything else is a symbol token.
            let start = RefMethods::begin(out);
            match c {
                '\u{2018}' | '\u{2019}' | '\u{201B}' => out.text.push('\''),
                '\u{201C}' | '\u{201D}' | '\u{201E}' => out.text.push('"'),
                '\u{2026}' => out.text.push_str(".."),
                _ => out.text.push(c),
            }
            let kind = if c.is_alphanumeric() { TokenKind::Word } else { TokenKind::Symbol };
            let kind = if matches!(c, '\u{2018}'..='\u{201F}' | '\u{2026}') { TokenKind::Punct } else { kind };
            RefMethods::finish(out, start, kind);
            i += clen;
        }
    }

    fn after_is_word(s: &str, at: usize) -> bool {
        s[at..].chars().next().is_some_and(is_word_char)
    }

    /// Consume a word starting at `rest[0]`; returns bytes consumed.
    fn word(rest: &str, out: &mut Tokens) -> usize {
        let start = RefMethods::begin(out);
        let mut letters = 0u32;
        let mut upper = 0u32;
        let mut all_numeric = true;
        let mut end = 0usize;
        let mut chars = rest.char_indices().peekable();
        while let Some((k, ch)) = chars.next() {
            if is_word_char(ch) {
                if ch.is_alphabetic() {
                    letters += 1;
                    if ch.is_uppercase() {
                        upper += 1;
                    }
                    all_numeric = false;
                } else if !ch.is_numeric() {
                    all_numeric = false;
                }
                if ch.is_ascii() {
                    RefMethods::push_char(out, start, ch.to_ascii_lowercase());
                } else {
                    for l in ch.to_lowercase() {
                        RefMethods::push_char(out, start, l);
                    }
                }
                end = k + ch.len_utf8();
                continue;
            }
            // Inner apostrophes (don't, I’m) and number separators (3.5, 10,000, 9:30) stay inside the token.
            let next_is_word = chars.peek().is_some_and(|&(_, n)| is_word_char(n));
            let next_is_digit = chars.peek().is_some_and(|&(_, n)| n.is_ascii_digit());
            let prev_is_digit = rest[..k].chars().next_back().is_some_and(|p| p.is_ascii_digit());
            if is_apostrophe(ch) && next_is_word && !all_numeric {
                RefMethods::push_char(out, start, '\'');
                end = k + ch.len_utf8();
            } else if matches!(ch, '.' | ',' | ':') && prev_is_digit && next_is_digit {
                RefMethods::push_char(out, start, ch);
                end = k + 1;
            } else {
                break;
            }
        }
        if all_numeric {
            out.text.truncate(start);
            RefMethods::special(out, "<num>");
        } else {
            if letters >= 2 && upper == letters {
                out.all_caps_words += 1;
            }
            RefMethods::finish(out, start, TokenKind::Word);
        }
        end.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
    }

    /// `tokenize_into` and the frozen [`reference`] agree on everything a caller can see, and reusing an output
    /// buffer leaves nothing behind.
    fn assert_same_as_reference(text: &str, out: &mut Tokens, want: &mut Tokens) {
        tokenize_into(text, out);
        reference::tokenize_reference(text, want);
        assert_eq!(out.text, want.text, "text of {text:?}");
        assert_eq!(out.tokens, want.tokens, "tokens of {text:?}");
        assert_eq!(out.all_caps_words, want.all_caps_words, "all_caps_words of {text:?}");
    }

    /// Pieces that exercise every branch of the tokenizer: URLs and near-URLs, mentions, hashtags, entities,
    /// elongations, apostrophes and number separators, caps, Unicode letters whose lower case differs in length or
    /// is ASCII, ignorables, emoji, typographic punctuation and odd whitespace.
    const PIECES: &[&str] = &[
        "http://t.co/x",
        "HTTPS://A.b",
        "www.x.y",
        "wwww",
        "http:/",
        "h",
        "W",
        "hTtP://é.com\u{a0}x",
        "@user",
        "@_b",
        "@",
        "@@x",
        "a@b",
        "#tag",
        "##x",
        "#",
        "#é",
        "&amp;",
        "&AMP;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&#39;",
        "&apos;",
        "&am",
        "&",
        "&&amp;",
        "!&amp;",
        "soooo",
        "!!!!",
        "...",
        "aaa",
        "AAAA",
        "ééé",
        "don't",
        "I’m",
        "rock'n'roll",
        "'",
        "''x",
        "1'2",
        "x'",
        "3.5",
        "10,000",
        "9:30",
        "1.",
        ".5",
        "1..2",
        "1,a",
        "3pm",
        "_",
        "__init__",
        "12_3",
        "WHY",
        "Why",
        "A",
        "ÉTÉ",
        "İstanbul",
        "\u{212a}elvin",
        "ß",
        "ΣΑΣ",
        "ǅ",
        "ᾈ",
        "Ⅻ",
        "½",
        "٣",
        "x\u{200d}y",
        "\u{fe0f}",
        "\u{1f3fd}",
        "👍🏽",
        "❤️",
        "😡😡😡",
        "🇺🇸",
        "‘q’",
        "“q”",
        "„",
        "…",
        "—",
        "€5",
        "$",
        ":)",
        ":-(",
        "?!",
        "<3",
        "\u{0}",
        "\u{7f}",
        "\u{85}",
        "\t",
        "\n",
        " ",
        "\u{3000}",
        "\u{2028}",
        "\u{1c}",
        "中文",
        "日本語",
    ];

    fn pieces_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            (proptest::sample::select(PIECES), proptest::sample::select(&["", " ", "", "\n"][..])),
            0..12,
        )
        .prop_map(|parts| parts.into_iter().flat_map(|(p, sep)| [p, sep]).collect())
    }

    proptest! {
        // Failures print the input; no regression file is written into the crate.
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn same_as_reference_on_any_string(s in any::<String>()) {
            assert_same_as_reference(&s, &mut Tokens::default(), &mut Tokens::default());
        }

        #[test]
        fn same_as_reference_on_tweetish_text(s in pieces_text()) {
            assert_same_as_reference(&s, &mut Tokens::default(), &mut Tokens::default());
        }

        #[test]
        fn same_as_reference_on_ascii(s in "[ -~\t\n]{0,60}") {
            assert_same_as_reference(&s, &mut Tokens::default(), &mut Tokens::default());
        }
    }

    /// `<repo>/../shared/data/<rel>`, if present.
    fn shared_data(rel: &str) -> Option<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
        match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("skipping {}: {e}", path.display());
                None
            }
        }
    }

    /// Every TweetEval sentiment text, and the customer-care CSV texts with emoji and non-ASCII letters.
    #[test]
    fn same_as_reference_on_shared_corpora() {
        let (mut out, mut want) = (Tokens::default(), Tokens::default());
        let mut n = 0;
        for file in ["tweeteval-sentiment/train_text.txt", "tweeteval-sentiment/val_text.txt"] {
            if let Some(content) = shared_data(file) {
                for line in content.lines() {
                    assert_same_as_reference(line, &mut out, &mut want);
                    n += 1;
                }
            }
        }
        for (file, column) in [("airline-sentiment/train.csv", "text"), ("twcs/twcs_head5000.csv", "text")] {
            let Some(content) = shared_data(file) else { continue };
            let mut reader = csv::Reader::from_reader(content.as_bytes());
            let col = reader.headers().expect("CSV header").iter().position(|h| h == column).expect("text column");
            for record in reader.records() {
                assert_same_as_reference(&record.expect("CSV record")[col], &mut out, &mut want);
                n += 1;
            }
        }
        eprintln!("{n} shared texts tokenized identically");
    }

    /// Timing against the reference on TweetEval train (`cargo test --release -p earshot-classify --lib
    /// tokenize_speed -- --ignored --nocapture`): alternating rounds, medians.
    #[test]
    #[ignore = "timing, not a check"]
    fn tokenize_speed() {
        let Some(content) = shared_data("tweeteval-sentiment/train_text.txt") else { return };
        let texts: Vec<&str> = content.lines().collect();
        let mut out = Tokens::default();
        let (mut new, mut old) = (Vec::new(), Vec::new());
        for _ in 0..15 {
            let t = std::time::Instant::now();
            for text in &texts {
                tokenize_into(std::hint::black_box(text), &mut out);
                std::hint::black_box(&out);
            }
            new.push(t.elapsed().as_secs_f64());
            let t = std::time::Instant::now();
            for text in &texts {
                reference::tokenize_reference(std::hint::black_box(text), &mut out);
                std::hint::black_box(&out);
            }
            old.push(t.elapsed().as_secs_f64());
        }
        new.sort_by(f64::total_cmp);
        old.sort_by(f64::total_cmp);
        let per_text = |v: &[f64]| v[v.len() / 2] / texts.len() as f64 * 1e9;
        eprintln!(
            "tokenize_into {:.0} ns/text, reference {:.0} ns/text: {:.2}x",
            per_text(&new),
            per_text(&old),
            old[old.len() / 2] / new[new.len() / 2]
        );
    }

    #[test]
    fn basic_normalisation() {
        assert_eq!(
            toks("@JetBlue WHY is my flight sooooo late!!!! http://t.co/x #fail 😡😡"),
            ["<user>", "why", "is", "my", "flight", "soo", "late", "!!", "<url>", "#", "fail", "😡", "😡"]
        );
    }

    #[test]
    fn numbers_apostrophes_entities() {
        assert_eq!(
            toks("I don’t have 10,000 $ at 9:30 &amp; 3pm"),
            ["i", "don't", "have", "<num>", "$", "at", "<num>", "&", "3pm"]
        );
        assert_eq!(toks("rock'n'roll 'quoted'"), ["rock'n'roll", "'", "quoted", "'"]);
    }

    #[test]
    fn emoticons_and_caps() {
        let mut t = Tokens::default();
        tokenize_into("THIS is BAD :( ok? I A", &mut t);
        assert_eq!(t.iter().map(|(s, _)| s).collect::<Vec<_>>(), ["this", "is", "bad", ":(", "ok", "?", "i", "a"]);
        assert_eq!(t.all_caps_words, 2);
        assert_eq!(t.tokens[3].kind, TokenKind::Punct);
    }

    #[test]
    fn mentions_need_a_boundary() {
        assert_eq!(toks("mail me@x.com @_bob"), ["mail", "me", "@", "x", ".", "com", "<user>"]);
        assert_eq!(toks("www.Example.com/x?y ok"), ["<url>", "ok"]);
    }

    #[test]
    fn symbols_and_modifiers() {
        assert_eq!(toks("👍🏽 ❤️ “hi”…"), ["👍", "❤", "\"", "hi", "\"", ".."]);
        assert!(toks("").is_empty());
        assert!(toks("   \n\t ").is_empty());
    }
}
