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
    fn push_char(&mut self, start: usize, c: char) {
        if c.is_ascii() {
            // An ASCII byte is always a whole char, so the last two bytes are the last two chars.
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
pub fn tokenize_into(input: &str, out: &mut Tokens) {
    out.clear();
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
            out.special("<url>");
            prev_word = false;
            continue;
        }
        let next = rest[clen..].chars().next();
        if c == '@' && !prev_word && next.is_some_and(is_word_char) {
            let end = rest[1..].find(|ch: char| !is_word_char(ch)).map_or(rest.len(), |e| e + 1);
            i += end;
            out.special("<user>");
            prev_word = true;
            continue;
        }
        if c == '&'
            && let Some((ent, ch)) = ENTITIES.iter().find(|(e, _)| starts_with_ignore_ascii_case(rest, e))
        {
            i += ent.len();
            let start = out.begin();
            out.text.push(*ch);
            let kind = if ch.is_ascii_punctuation() { TokenKind::Punct } else { TokenKind::Word };
            out.finish(start, kind);
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
            let start = out.begin();
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
                out.push_char(start, ch);
                j = k + 1;
                if ch == '#' && after_is_word(rest, k + 1) {
                    break;
                }
            }
            i += j.max(1);
            out.finish(start, TokenKind::Punct);
            continue;
        }
        // Typographic quotes/ellipsis map onto their ASCII forms; everything else is a symbol token.
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

fn after_is_word(s: &str, at: usize) -> bool {
    s[at..].chars().next().is_some_and(is_word_char)
}

/// Consume a word starting at `rest[0]`; returns bytes consumed.
fn word(rest: &str, out: &mut Tokens) -> usize {
    let start = out.begin();
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
                out.push_char(start, ch.to_ascii_lowercase());
            } else {
                for l in ch.to_lowercase() {
                    out.push_char(start, l);
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
            out.push_char(start, '\'');
            end = k + ch.len_utf8();
        } else if matches!(ch, '.' | ',' | ':') && prev_is_digit && next_is_digit {
            out.push_char(start, ch);
            end = k + 1;
        } else {
            break;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
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
