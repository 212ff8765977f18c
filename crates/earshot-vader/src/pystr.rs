//! CPython `str` semantics that VADER depends on: `split()`/`strip()` whitespace, `strip(string.punctuation)`,
//! `isupper()` and `lower()`.
//!
//! The reference is CPython 3.11, whose Unicode database is 14.0.0; Rust's standard library follows a newer
//! Unicode version. Where the two disagree about the case properties that `isupper()` reads (181 code points in 21
//! ranges, all letters added or re-classified after Unicode 14.0), [`UNICODE14_CASE_PINS`] pins the CPython 3.11
//! answer. The `unicode_tables_match_reference_python` test checks every code point against the reference
//! interpreter. Whitespace is identical in both (Rust's `White_Space` plus U+001C..U+001F, which CPython counts as
//! whitespace because their bidi class is B or S).

/// CPython `str.isspace()` for one character.
#[inline]
pub(crate) fn is_py_space(c: char) -> bool {
    match c {
        '\t'..='\r' | '\x1c'..='\x1f' | ' ' => true,
        c if c.is_ascii() => false,
        c => c.is_whitespace(),
    }
}

/// Whitespace bytes for the ASCII range (`\t \n \x0b \x0c \r \x1c-\x1f` and space).
#[inline]
fn is_ascii_py_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=0x1f | b' ')
}

/// Can a UTF-8 sequence starting with this byte encode a non-ASCII whitespace character? Those are U+0085, U+00A0
/// (lead byte C2), U+1680 (E1), U+2000..U+205F (E2) and U+3000 (E3).
#[inline]
fn may_start_unicode_space(b: u8) -> bool {
    matches!(b, 0xc2 | 0xe1 | 0xe2 | 0xe3)
}

/// Width in bytes of the whitespace character at `s[i..]`, or 0 if it is not whitespace.
#[inline]
fn space_width_at(s: &str, i: usize) -> usize {
    let b = s.as_bytes()[i];
    if b < 0x80 {
        usize::from(is_ascii_py_space(b))
    } else if may_start_unicode_space(b) {
        match s[i..].chars().next() {
            Some(c) if c.is_whitespace() => c.len_utf8(),
            _ => 0,
        }
    } else {
        0
    }
}

/// CPython `str.strip()` with no argument.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// CPython `str.split()` with no argument: maximal runs of non-whitespace, in order.
#[inline]
pub(crate) fn py_split_whitespace<'a>(s: &'a str, mut each: impl FnMut(&'a str)) {
    py_split_whitespace_ranges(s, |start, end, _| each(&s[start..end]));
}

/// [`py_split_whitespace`] as byte ranges `start..end` of `s`, with whether the piece is all ASCII (found on the
/// way, so the caller can take its ASCII fast paths without another scan).
#[inline]
pub(crate) fn py_split_whitespace_ranges(s: &str, mut each: impl FnMut(usize, usize, bool)) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let w = space_width_at(s, i);
        if w != 0 {
            i += w;
            continue;
        }
        let start = i;
        // OR of the piece's bytes: the high bit is set iff some byte is not ASCII.
        let mut any = 0u8;
        while i < bytes.len() {
            // Skip eight bytes at a time while none of them can be whitespace (all in 0x21..=0x7f, the bulk of a
            // word), then look at the first byte that might be, one byte at a time.
            if let Some(chunk) = bytes[i..].first_chunk::<8>() {
                let maybe_space = swar::below_0x21_or_non_ascii(u64::from_le_bytes(*chunk));
                if maybe_space == 0 {
                    i += 8;
                    continue;
                }
                i += (maybe_space.trailing_zeros() / 8) as usize;
            }
            let b = bytes[i];
            if b < 0x80 {
                if is_ascii_py_space(b) {
                    break;
                }
            } else if may_start_unicode_space(b) && space_width_at(s, i) != 0 {
                break;
            }
            any |= b;
            i += 1;
        }
        // Both ends are at the string's ends or next to whitespace, so they are char boundaries.
        each(start, i, any < 0x80);
    }
}

/// `SentiText._strip_punc_if_word`: `token.strip(string.punctuation)`, unless that leaves two code points or fewer,
/// in which case the token is kept whole (so `":)"` survives). `string.punctuation` is exactly the 32 ASCII
/// punctuation characters, and no byte of a multi-byte UTF-8 sequence is ASCII, so the strip works on bytes.
#[inline]
pub(crate) fn strip_punc_if_word(token: &str) -> &str {
    let bytes = token.as_bytes();
    let start = bytes.iter().position(|b| !b.is_ascii_punctuation()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_punctuation()).map_or(start, |e| e + 1);
    // Both ends sit next to an ASCII byte or the string's ends, so they are char boundaries.
    let stripped = &token[start..end];
    // len() counts code points in Python; a string of at most two bytes has at most two code points.
    if stripped.len() <= 2 || stripped.chars().nth(2).is_none() {
        return token;
    }
    stripped
}

/// [`strip_punc_if_word`] for an all-ASCII token `bytes[start..end]`, as the range of the result. (In ASCII a byte
/// is a code point, so "two code points or fewer" is "two bytes or fewer".)
#[inline]
pub(crate) fn strip_punc_if_word_ascii(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    // `is_ascii_punctuation` as one table load (it is four range tests), twice per token.
    const PUNCT: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            t[b] = (b as u8).is_ascii_punctuation();
            b += 1;
        }
        t
    };
    let mut s = start;
    while s < end && PUNCT[usize::from(bytes[s])] {
        s += 1;
    }
    let mut e = end;
    while e > s && PUNCT[usize::from(bytes[e - 1])] {
        e -= 1;
    }
    if e - s <= 2 { (start, end) } else { (s, e) }
}

/// What VADER asks about one all-ASCII word, found in one pass over it, eight bytes at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsciiWord {
    /// The first [`MAX_KEY_LEN`](crate::lexicon::MAX_KEY_LEN) bytes of `word.lower()` as a lexicon
    /// [`Key`](crate::lexicon::Key) (little-endian chunks, zero padded).
    pub(crate) key: [u64; 3],
    /// `word.isupper()`.
    pub(crate) upper: bool,
    /// The word contains `'`, so its lower case may contain `"n't"`.
    pub(crate) apostrophe: bool,
}

/// SWAR (SIMD within a register) byte classes for eight ASCII bytes. Every byte is below 0x80, so adding a constant
/// below 0x80 to each byte cannot carry into the next one, and the high bit of each sum says "byte >= threshold".
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// 0x80 in each byte that is in `lo..=hi`, 0 elsewhere.
    #[inline]
    const fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
        let ge_lo = x + ONES * (0x80 - lo as u64);
        let gt_hi = x + ONES * (0x80 - hi as u64 - 1);
        ge_lo & !gt_hi & HIGH
    }

    /// 0x80 in each `A-Z` byte.
    #[inline]
    pub(super) const fn upper(x: u64) -> u64 {
        in_range(x, b'A', b'Z')
    }

    /// 0x80 in each `a-z` byte.
    #[inline]
    pub(super) const fn lower(x: u64) -> u64 {
        in_range(x, b'a', b'z')
    }

    /// 0x80 in each byte that is below 0x21 or not ASCII: all bytes that can be (part of) whitespace. Any bytes.
    #[inline]
    pub(super) const fn below_0x21_or_non_ascii(x: u64) -> u64 {
        // Only the low seven bits take part in the sum, so it cannot carry either.
        let ge_0x21 = (x & !HIGH) + ONES * (0x80 - 0x21);
        (x | !ge_0x21) & HIGH
    }

    /// Non-zero iff some byte equals `b` (the classic exact "has zero byte" test on `x ^ b..b`).
    #[inline]
    pub(super) const fn has_byte(x: u64, b: u8) -> u64 {
        let y = x ^ (ONES * b as u64);
        y.wrapping_sub(ONES) & !y & HIGH
    }
}

/// `n` (1..=8) bytes of `bytes` from `at` as a little-endian `u64`, zero padded.
#[inline]
fn load_le(bytes: &[u8], at: usize, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    match bytes[at..].first_chunk::<8>() {
        // One unaligned load of eight bytes (the ones past the word are inside the text), then masked.
        Some(chunk) => u64::from_le_bytes(*chunk) & (u64::MAX >> (64 - 8 * n)),
        // Within eight bytes of the text's end.
        None => bytes[at..at + n].iter().rev().fold(0, |v, &b| v << 8 | u64::from(b)),
    }
}

/// Scans the all-ASCII word `bytes[start..end]`: its lower-cased lexicon key, `isupper()` and whether it contains an
/// apostrophe.
#[inline]
pub(crate) fn scan_ascii_word(bytes: &[u8], start: usize, end: usize) -> AsciiWord {
    let mut key = [0u64; 3];
    let (mut upper, mut lower, mut apostrophe) = (0u64, 0u64, 0u64);
    let mut at = start;
    let mut k = 0;
    while at < end {
        let n = (end - at).min(8);
        let chunk = load_le(bytes, at, n);
        let up = swar::upper(chunk);
        upper |= up;
        lower |= swar::lower(chunk);
        apostrophe |= swar::has_byte(chunk, b'\'');
        if let Some(slot) = key.get_mut(k) {
            // 0x80 >> 2 == 0x20, the ASCII case bit: this is `make_ascii_lowercase` on eight bytes at once.
            *slot = chunk | (up >> 2);
        }
        k += 1;
        at += n;
    }
    // isupper(): no lowercase letter and at least one uppercase one (ASCII has no titlecase).
    AsciiWord { key, upper: lower == 0 && upper != 0, apostrophe: apostrophe != 0 }
}

/// `"n't" in word.lower()` for an all-ASCII word. (`b | 0x20` folds exactly `N`/`n` to `n` and `T`/`t` to `t`.)
#[inline]
pub(crate) fn ascii_lower_contains_nt(word: &[u8]) -> bool {
    word.windows(3).any(|w| w[0] | 0x20 == b'n' && w[1] == b'\'' && w[2] | 0x20 == b't')
}

/// CPython `str.isupper()`: false if any character is lowercase or titlecase, otherwise true iff at least one
/// character is uppercase.
#[inline]
pub(crate) fn py_isupper(s: &str) -> bool {
    let mut cased = false;
    if s.is_ascii() {
        for &b in s.as_bytes() {
            if b.is_ascii_lowercase() {
                return false;
            }
            cased |= b.is_ascii_uppercase();
        }
        return cased;
    }
    for c in s.chars() {
        match case_class(c) {
            CaseClass::Lower | CaseClass::Title => return false,
            CaseClass::Upper => cased = true,
            CaseClass::Uncased => {}
        }
    }
    cased
}

/// Appends CPython's `s.lower()` to `out`.
///
/// Non-ASCII text is lower-cased as `str::to_lowercase` does it, which implements the same algorithm as CPython (full
/// `SpecialCasing` mappings such as `İ` -> `i̇`, plus the `Final_Sigma` context rule). Its mappings for letters that
/// are newer than Unicode 14.0 differ from CPython 3.11, but that cannot change a score: every string VADER compares a
/// lowered token against is ASCII, and the only non-ASCII characters whose lowercase contains ASCII (U+0130 and
/// U+212A KELVIN SIGN -> `k`) are old and mapped identically.
#[inline]
pub(crate) fn push_py_lower(s: &str, out: &mut String) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else if s.contains('Σ') {
        // Final_Sigma, the one context-dependent mapping, is left to `str::to_lowercase`.
        out.push_str(&s.to_lowercase());
    } else {
        // Every other char maps on its own (as inside `str::to_lowercase`), so no temporary String is needed.
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// Case class of one character as CPython's `_PyUnicode_TypeRecords` flags it (`UPPER_MASK` = the derived
/// `Uppercase` property, `LOWER_MASK` = `Lowercase`, `TITLE_MASK` = general category `Lt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CaseClass {
    Upper,
    Lower,
    Title,
    Uncased,
}

/// Code points whose case class in CPython 3.11 (Unicode 14.0.0) differs from the one Rust's standard library
/// reports (Unicode 17 at the time of writing), with the CPython 3.11 class. Sorted, non-overlapping, inclusive.
/// Generated by comparing `chr(cp).isupper()/islower()/istitle()` against `char::is_uppercase/is_lowercase`.
const UNICODE14_CASE_PINS: &[(u32, u32, CaseClass)] = &[
    (0x0295, 0x0295, CaseClass::Lower), // LATIN LETTER PHARYNGEAL VOICED FRICATIVE: no longer Lowercase since 16.0
    (0x10fc, 0x10fc, CaseClass::Uncased),
    (0x1c89, 0x1c8a, CaseClass::Uncased),
    (0xa7cb, 0xa7cf, CaseClass::Uncased),
    (0xa7d2, 0xa7d2, CaseClass::Uncased),
    (0xa7d4, 0xa7d4, CaseClass::Uncased),
    (0xa7da, 0xa7dc, CaseClass::Uncased),
    (0xa7f1, 0xa7f4, CaseClass::Uncased),
    (0xab69, 0xab69, CaseClass::Uncased),
    (0x10d50, 0x10d65, CaseClass::Uncased),
    (0x10d70, 0x10d85, CaseClass::Uncased),
    (0x16ea0, 0x16eb8, CaseClass::Uncased),
    (0x16ebb, 0x16ed3, CaseClass::Uncased),
    (0x1df25, 0x1df2a, CaseClass::Uncased),
    (0x1e030, 0x1e06d, CaseClass::Uncased),
];

/// Case class of `c` as CPython 3.11 sees it.
pub(crate) fn case_class(c: char) -> CaseClass {
    let cp = u32::from(c);
    if cp >= 0x0295 {
        let idx = UNICODE14_CASE_PINS.partition_point(|&(_, hi, _)| hi < cp);
        if let Some(&(lo, _, class)) = UNICODE14_CASE_PINS.get(idx)
            && lo <= cp
        {
            return class;
        }
    }
    if c.is_uppercase() {
        CaseClass::Upper
    } else if c.is_lowercase() {
        CaseClass::Lower
    } else if is_titlecase(c) {
        CaseClass::Title
    } else {
        CaseClass::Uncased
    }
}

/// General category `Lt` (unchanged since Unicode 3.0).
fn is_titlecase(c: char) -> bool {
    matches!(
        u32::from(c),
        0x01c5 | 0x01c8 | 0x01cb | 0x01f2 | 0x1f88..=0x1f8f | 0x1f98..=0x1f9f | 0x1fa8..=0x1faf | 0x1fbc | 0x1fcc | 0x1ffc
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        py_split_whitespace(s, |t| v.push(t));
        v
    }

    #[test]
    fn split_matches_python() {
        // Python: 'a\x1cb\u00a0c\u3000 d\u200be'.split() == ['a', 'b', 'c', 'd\u200be']
        assert_eq!(split("a\x1cb\u{a0}c\u{3000} d\u{200b}e"), ["a", "b", "c", "d\u{200b}e"]);
        assert_eq!(split("  "), Vec::<&str>::new());
        assert_eq!(split("x\u{85}y\u{2029}"), ["x", "y"]);
        assert_eq!(split("é ü"), ["é", "ü"]);
    }

    #[test]
    fn strip_punc() {
        assert_eq!(strip_punc_if_word(":)"), ":)");
        assert_eq!(strip_punc_if_word("good!!!"), "good");
        assert_eq!(strip_punc_if_word("'ok'"), "'ok'");
        assert_eq!(strip_punc_if_word("(abc)"), "abc");
        assert_eq!(strip_punc_if_word("«ab»"), "«ab»");
        assert_eq!(strip_punc_if_word("..é€.."), "..é€..");
        assert_eq!(strip_punc_if_word("..é€x.."), "é€x");
    }

    /// The ASCII fast paths against the general functions: every short string over an alphabet with the
    /// interesting bytes (the edges of the letter, digit and punctuation ranges, apostrophe, `n`/`t`, NUL, DEL),
    /// and pseudo-random longer ones, each with and without text around it.
    #[test]
    fn ascii_fast_paths_match_general_ones() {
        let alphabet = b"aAzZ09@[`{/:~'ntNT.!)\0\x7f";
        let mut words: Vec<Vec<u8>> = vec![];
        let mut level: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            level = level.iter().flat_map(|w| alphabet.iter().map(move |&b| [w.as_slice(), &[b]].concat())).collect();
            words.extend(level.iter().cloned());
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 1 + (seed % 40) as usize;
            let word = (0..len).map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7) % alphabet.len()]).collect();
            words.push(word);
        }
        for long in [
            "abcdefghijklmnopqrstuvwxyz",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "........Won't-stop!!!!!!!!!",
            "xxxxxxxxxxxxxxxxxxxxxxxN'T",
        ] {
            words.push(long.as_bytes().to_vec());
        }
        for w in &words {
            let s = std::str::from_utf8(w).unwrap();
            // Tokens are delimited by whitespace (here ASCII space or the last byte of U+3000) or the text's ends;
            // text after the word exercises the 8-byte loads, its absence their fallback at the text's end.
            for (prefix, suffix) in [("", ""), ("ab ", " tail after word"), ("!!\u{3000}", "\u{3000}!!")] {
                let text = format!("{prefix}{s}{suffix}");
                let start = prefix.len();
                let (ws, we) = strip_punc_if_word_ascii(text.as_bytes(), start, start + s.len());
                let word = strip_punc_if_word(s);
                assert_eq!(&text[ws..we], word, "{s:?}");
                let scanned = scan_ascii_word(text.as_bytes(), ws, we);
                let mut lower = String::new();
                push_py_lower(word, &mut lower);
                let keep = lower.len().min(crate::lexicon::MAX_KEY_LEN);
                assert_eq!(scanned.key, crate::lexicon::key_of(&lower.as_bytes()[..keep]), "{s:?}");
                assert_eq!(scanned.upper, py_isupper(word), "{s:?}");
                assert_eq!(scanned.apostrophe, word.contains('\''), "{s:?}");
                assert_eq!(ascii_lower_contains_nt(word.as_bytes()), lower.contains("n't"), "{s:?}");
            }
        }
    }

    #[test]
    fn split_ranges_flag_ascii_pieces() {
        let s = "ab\u{a0}é x\u{3000}y\u{2029}";
        let mut v = Vec::new();
        py_split_whitespace_ranges(s, |a, b, ascii| v.push((&s[a..b], ascii)));
        assert_eq!(v, [("ab", true), ("é", false), ("x", true), ("y", true)]);
    }

    #[test]
    fn isupper_matches_python() {
        assert!(py_isupper("GOOD"));
        assert!(py_isupper("GOOD!1"));
        assert!(!py_isupper("GOOd"));
        assert!(!py_isupper(":)"));
        assert!(!py_isupper(""));
        assert!(py_isupper("ÉTÉ"));
        assert!(!py_isupper("ǅA")); // titlecase
        assert!(!py_isupper("Aʕ")); // U+0295 is Lowercase in Unicode 14
        assert!(py_isupper("A\u{a7cb}")); // uncased in Unicode 14
    }

    /// The char-by-char path of `push_py_lower` is `str::to_lowercase` whenever there is no capital sigma.
    #[test]
    fn lower_matches_str_to_lowercase() {
        for s in
            ["İSTANBUL", "\u{212a}elvin", "STRAẞE ß", "ǅǄǆ", "ΟΔΟΣ ΣΑΣ", "Σ", "AΣ b", "ÀÉÎõü", "ᾈᾼ", "Ⅻ𐐀", "“Don’t”"]
        {
            let mut out = String::from("x");
            push_py_lower(s, &mut out);
            assert_eq!(out, format!("x{}", s.to_lowercase()), "{s:?}");
        }
    }

    #[test]
    fn lower_matches_python() {
        let mut s = String::new();
        push_py_lower("\u{212a}IND", &mut s);
        assert_eq!(s, "kind");
        s.clear();
        push_py_lower("ΟΔΟΣ", &mut s);
        assert_eq!(s, "\u{3bf}\u{3b4}\u{3bf}\u{3c2}"); // final sigma
        s.clear();
        push_py_lower("İ", &mut s);
        assert_eq!(s, "i\u{307}");
    }
}
