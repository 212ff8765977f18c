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
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut start = None;
    while i < bytes.len() {
        let w = space_width_at(s, i);
        if w == 0 {
            if start.is_none() {
                start = Some(i);
            }
            i += 1;
        } else {
            if let Some(st) = start.take() {
                each(&s[st..i]);
            }
            i += w;
        }
    }
    if let Some(st) = start {
        each(&s[st..]);
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
/// Non-ASCII text goes through `str::to_lowercase`, which implements the same algorithm as CPython (full
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
    } else {
        out.push_str(&s.to_lowercase());
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
