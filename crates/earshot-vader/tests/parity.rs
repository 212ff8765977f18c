//! Parity with Python vaderSentiment 3.3.2: every score must be the same double Python returns.
//!
//! The reference runs as `$EARSHOT_PYTHON tests/vader_reference.py` (default interpreter `<repo>/.venv/bin/python`,
//! set up with `python3 -m venv .venv && .venv/bin/pip install vaderSentiment==3.3.2`). When the interpreter, the
//! package or the shared data is missing these tests fail if `CI` is set and are skipped loudly otherwise.

mod common;

use std::collections::HashMap;

use common::{Reference, compare, lines, read_data, shared_data, skip_loudly, vaderish_text};
use earshot_vader::{__private, FloatSum, SentimentIntensityAnalyzer};
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn tweeteval(file: &str) {
    let Some(reference) = Reference::get() else { return };
    let path = shared_data(&format!("tweeteval-sentiment/{file}"));
    let Some(content) = read_data(&path) else { return };
    let texts = lines(&content);
    let expected = reference.scores_for_file(&[], &path);
    let name = format!("tweeteval-sentiment/{file} ({})", reference.version);
    if let Err(report) = compare(&name, reference.analyzer(), &texts, &expected) {
        panic!("{report}");
    }
}

#[test]
fn tweeteval_val_parity() {
    tweeteval("val_text.txt");
}

#[test]
fn tweeteval_train_parity() {
    tweeteval("train_text.txt");
}

/// TweetEval's texts are pure ASCII. These real customer-care tweets carry emoji, curly quotes, accents and
/// embedded newlines, which exercise the emoji replacement and the Unicode string semantics.
#[test]
fn unicode_corpora_parity() {
    let Some(reference) = Reference::get() else { return };
    let files = [
        ("airline-sentiment/train.csv", "text"),
        ("twcs/twcs_head5000.csv", "text"),
        ("twcs/twcs_spotifycares_inbound15096.csv", "text"),
        ("twcs/twcs_kaggle_sample93.csv", "text"),
        ("twcs/twcs_small120.csv", "text"),
        ("complaints/train.csv", "text"),
        ("youtube-spam/Youtube05-Shakira.csv", "CONTENT"),
    ];
    let mut texts = Vec::new();
    for (file, column) in files {
        let path = shared_data(file);
        let Some(content) = read_data(&path) else { return };
        let mut reader = csv::Reader::from_reader(content.as_bytes());
        let headers = reader.headers().expect("CSV header").clone();
        let col = headers.iter().position(|h| h == column).unwrap_or_else(|| panic!("{file}: no {column} column"));
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{file}: {e}"));
            texts.push(record[col].to_owned());
        }
    }
    assert!(texts.len() > 30_000, "expected the shared CSV corpora, got {} texts", texts.len());
    let expected = reference.scores_for_texts(&[], &texts);
    let name = "airline, twcs, complaints and youtube CSV texts";
    if let Err(report) = compare(name, reference.analyzer(), &texts, &expected) {
        panic!("{report}");
    }
}

/// The word lists hard-coded in vaderSentiment.py, key by key.
#[test]
fn constants_match_python() {
    let Some(reference) = Reference::get() else { return };
    let dump: serde_json::Value = serde_json::from_str(&reference.run(&["--constants"], None)).expect("JSON");
    let boosters = dump["BOOSTER_DICT"].as_object().expect("BOOSTER_DICT");
    assert_eq!(boosters.len(), 84);
    for (word, value) in boosters {
        assert_eq!(__private::booster(word), value.as_f64(), "BOOSTER_DICT[{word:?}]");
    }
    let negate = dump["NEGATE"].as_array().expect("NEGATE");
    assert_eq!(negate.len(), 59);
    for word in negate {
        assert!(__private::negated(word.as_str().expect("str")), "NEGATE {word}");
    }
    for word in ["good", "no", "least", "nt", "n'", "don", "dont't", "wouldn't've"] {
        let python = negate.iter().any(|w| w == word) || word.contains("n't");
        assert_eq!(__private::negated(word), python, "negated([{word:?}])");
    }
    let special = dump["SPECIAL_CASES"].as_object().expect("SPECIAL_CASES");
    assert_eq!(special.len(), 9);
    for (phrase, value) in special {
        // The one-word key "badass" can never match (n-grams always contain a space).
        let want = if phrase.contains(' ') { Some((value.as_f64().expect("number"), value.is_i64())) } else { None };
        assert_eq!(__private::special_case(phrase), want, "SPECIAL_CASES[{phrase:?}] (value, is int)");
    }
}

/// `str.isupper()`, `str.isspace()` and the `lower()` mappings that produce ASCII, for every code point, against
/// the reference interpreter. Only meaningful for a Unicode 14.0 interpreter (CPython 3.11), which the case pins in
/// `pystr.rs` reproduce.
#[test]
fn unicode_tables_match_reference_python() {
    let Some(reference) = Reference::get() else { return };
    if reference.unicode_version() != "14.0.0" {
        // Not a broken setup, so not a CI failure: the pins in pystr.rs are CPython 3.11's by design.
        skip_loudly(&format!(
            "the reference interpreter has Unicode {}, the case pins are for CPython 3.11's 14.0.0 ({})",
            reference.unicode_version(),
            reference.version
        ));
        return;
    }
    let dump = reference.run(&["--unicode"], None);
    let mut sections = dump.split("\n\n");
    let classes = sections.next().expect("classes").as_bytes();
    let spaces: Vec<u32> =
        sections.next().expect("spaces").split(' ').map(|s| s.parse().expect("code point")).collect();
    let lowers = sections.next().expect("lower mappings");

    assert_eq!(classes.len(), 0x11_0000);
    let mut wrong = Vec::new();
    for cp in 0..0x11_0000u32 {
        let Some(c) = char::from_u32(cp) else { continue };
        let s = c.to_string();
        // For one character, isupper() is "character is Uppercase".
        let python_upper = classes[cp as usize] == b'U';
        if __private::py_isupper(&s) != python_upper {
            wrong.push(format!("U+{cp:04X} isupper python={python_upper}"));
        }
        // A mixed string tells lowercase/titlecase (-> False) apart from uncased (-> True).
        let mixed = format!("A{c}");
        let python_mixed = !matches!(classes[cp as usize], b'L' | b'T');
        if __private::py_isupper(&mixed) != python_mixed {
            wrong.push(format!("U+{cp:04X} 'A'+c isupper python={python_mixed}"));
        }
        if __private::py_isspace(c) != spaces.binary_search(&cp).is_ok() {
            wrong.push(format!("U+{cp:04X} isspace"));
        }
    }
    let python_lower: HashMap<u32, String> = lowers
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (cp, low) = l.split_once('\t').expect("cp<TAB>lower");
            (cp.parse().expect("cp"), serde_json::from_str(low).expect("JSON string"))
        })
        .collect();
    for cp in 0x80..0x11_0000u32 {
        let Some(c) = char::from_u32(cp) else { continue };
        let ours = __private::py_lower(&c.to_string());
        let ours_has_ascii = ours != c.to_string() && ours.bytes().any(|b| b.is_ascii());
        match python_lower.get(&cp) {
            Some(p) if *p != ours => wrong.push(format!("U+{cp:04X} lower python={p:?} rust={ours:?}")),
            None if ours_has_ascii => wrong.push(format!("U+{cp:04X} lower gives ASCII only in Rust: {ours:?}")),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{} Unicode differences, first: {:#?}", wrong.len(), &wrong[..wrong.len().min(20)]);
}

/// Generated texts full of VADER's trigger words, emoji, punctuation and odd whitespace, scored by Python in one
/// batch per case; a failure shrinks to a small batch and prints it.
#[test]
fn generated_texts_parity() {
    let Some(reference) = Reference::get() else { return };
    let any_chars = reference.unicode_version() == "14.0.0";
    let config = Config { cases: 12, max_shrink_iters: 200, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let strategy = proptest::collection::vec(vaderish_text(any_chars), 1..400);
    let result = runner.run(&strategy, |texts| {
        let expected = reference.scores_for_texts(&[], &texts);
        compare("generated texts", reference.analyzer(), &texts, &expected).map(drop).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The other `sum()` flavour than the reference interpreter's, checked against the reference with vaderSentiment's
/// `sum` replaced by a line-by-line Python port of the other CPython's `builtin_sum_impl` (`--sum=cpython312`; on a
/// 3.12+ reference that flag is a no-op and this checks the 3.12 mode once more).
#[test]
fn cpython312_sum_parity() {
    let Some(reference) = Reference::get() else { return };
    let analyzer = SentimentIntensityAnalyzer::new().with_float_sum(FloatSum::Cpython312);
    let mut texts: Vec<String> = Vec::new();
    for file in ["val_text.txt", "train_text.txt"] {
        let Some(content) = read_data(&shared_data(&format!("tweeteval-sentiment/{file}"))) else { return };
        texts.extend(lines(&content).into_iter().map(str::to_owned));
    }
    // Texts whose word scores cancel exactly are where the two sums part ways.
    texts.extend(
        [
            "good bad",
            "GOOD bad!",
            "love hate hate love!!!",
            "not bad but good ugly",
            "the shit but yeah right",
            "to die for but kind of bad",
            "good but no bad",
            "sad happy",
            "cool good bad not",
            "no good bad!",
        ]
        .map(str::to_owned),
    );
    let expected = reference.scores_for_texts(&["--sum=cpython312"], &texts);
    let name = format!("TweetEval with CPython 3.12+ sum() ({})", reference.version);
    if let Err(report) = compare(&name, analyzer, &texts, &expected) {
        panic!("{report}");
    }
    let mut runner = TestRunner::new(Config { cases: 4, failure_persistence: None, ..Config::default() });
    let strategy = proptest::collection::vec(vaderish_text(false), 1..400);
    let result = runner.run(&strategy, |texts| {
        let expected = reference.scores_for_texts(&["--sum=cpython312"], &texts);
        compare("generated texts, CPython 3.12+ sum()", analyzer, &texts, &expected)
            .map(drop)
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
