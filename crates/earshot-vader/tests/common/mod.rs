//! Running the Python reference (`tests/vader_reference.py`) and comparing its scores with ours.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use earshot_vader::{FloatSum, Polarity, SentimentIntensityAnalyzer};
use proptest::prelude::*;

/// The workspace root (`crates/earshot-vader/../..`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<repo>/../shared/data/<rel>`.
pub fn shared_data(rel: &str) -> PathBuf {
    repo_root().join("../shared/data").join(rel)
}

/// CI must really run the parity checks; elsewhere a missing interpreter or data set only skips them.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Fails under CI, otherwise warns loudly and lets the caller skip. The warning goes straight to the process's
/// stderr, past the test harness's output capture, so it shows in a normal `cargo test` run.
pub fn unavailable(what: &str) {
    assert!(!in_ci(), "CI is set but {what}");
    skip_loudly(what);
}

/// Warns loudly that a check is skipped, CI or not.
pub fn skip_loudly(what: &str) {
    let bar = "!".repeat(100);
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{bar}\n!!! SKIPPED earshot-vader parity check ({}): {what}\n\
         !!! Set up: python3 -m venv .venv && .venv/bin/pip install -r crates/earshot-vader/tests/requirements.txt\n\
         !!! (or point EARSHOT_PYTHON at an interpreter that has vaderSentiment 3.3.2). With CI set this fails.\n{bar}\n",
        std::thread::current().name().unwrap_or("?")
    );
}

/// Reads a data file, or reports it unavailable (see [`unavailable`]).
pub fn read_data(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) => {
            unavailable(&format!("data file {} cannot be read: {e}", path.display()));
            None
        }
    }
}

/// Texts of a one-per-line file, split on `\n` exactly as `vader_reference.py` splits them.
pub fn lines(content: &str) -> Vec<&str> {
    let mut v: Vec<&str> = content.split('\n').collect();
    if v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// The reference interpreter with vaderSentiment 3.3.2 importable.
pub struct Reference {
    python: PathBuf,
    script: PathBuf,
    /// `vaderSentiment 3.3.2 CPython 3.11.7 unicode 14.0.0`
    pub version: String,
}

impl Reference {
    /// `$EARSHOT_PYTHON`, default `<repo>/.venv/bin/python`; `None` (after [`unavailable`]) if it cannot run the
    /// package.
    pub fn get() -> Option<Reference> {
        let python = std::env::var_os("EARSHOT_PYTHON")
            .filter(|v| !v.is_empty())
            .map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vader_reference.py");
        let mut r = Reference { python, script, version: String::new() };
        match r.try_run(&["--version"], None) {
            Ok(v) => r.version = v.trim().to_owned(),
            Err(e) => {
                unavailable(&e);
                return None;
            }
        }
        assert!(
            r.version.starts_with("vaderSentiment 3.3.2 "),
            "the reference must be vaderSentiment 3.3.2, {} has: {}",
            r.python.display(),
            r.version
        );
        Some(r)
    }

    /// The `sum()` flavour of the reference interpreter's CPython version.
    pub fn float_sum(&self) -> FloatSum {
        let cpython = self.version.split(' ').nth(3).unwrap_or_default();
        let minor: u32 = cpython.split('.').nth(1).and_then(|m| m.parse().ok()).unwrap_or(0);
        if cpython.starts_with("3.") && minor >= 12 { FloatSum::Cpython312 } else { FloatSum::Cpython311 }
    }

    /// The analyzer that must agree with this interpreter.
    pub fn analyzer(&self) -> SentimentIntensityAnalyzer {
        SentimentIntensityAnalyzer::new().with_float_sum(self.float_sum())
    }

    /// Unicode database version of the reference interpreter.
    pub fn unicode_version(&self) -> &str {
        self.version.rsplit(' ').next().unwrap_or_default()
    }

    fn try_run(&self, args: &[&str], stdin: Option<Vec<u8>>) -> Result<String, String> {
        let mut child = Command::new(&self.python)
            .arg(&self.script)
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("Python interpreter {} cannot be started: {e}", self.python.display()))?;
        let writer = stdin.map(|input| {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            std::thread::spawn(move || pipe.write_all(&input))
        });
        let out = child.wait_with_output().map_err(|e| format!("waiting for {}: {e}", self.python.display()))?;
        if let Some(w) = writer {
            w.join().expect("stdin writer thread").map_err(|e| format!("writing to the reference: {e}"))?;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => String::from_utf8(out.stdout).map_err(|e| format!("reference output is not UTF-8: {e}")),
            Some(3) => Err(stderr.trim().to_owned()),
            _ => panic!("reference script failed ({}): {stderr}", out.status),
        }
    }

    /// Runs the script and returns stdout (panics on failure: the interpreter was already found working).
    pub fn run(&self, args: &[&str], stdin: Option<Vec<u8>>) -> String {
        self.try_run(args, stdin).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Python's scores for each line of a one-text-per-line file. `flags` go before the file name (`--sum=...`).
    pub fn scores_for_file(&self, flags: &[&str], path: &Path) -> Vec<Polarity> {
        let path = path.to_str().expect("UTF-8 path");
        let mut args = flags.to_vec();
        args.push(path);
        parse_scores(&self.run(&args, None))
    }

    /// Python's scores for arbitrary texts (sent as JSON lines, so they may contain newlines).
    pub fn scores_for_texts<S: AsRef<str>>(&self, flags: &[&str], texts: &[S]) -> Vec<Polarity> {
        let mut input = Vec::new();
        for t in texts {
            serde_json::to_writer(&mut input, t.as_ref()).expect("JSON-encode a string");
            input.push(b'\n');
        }
        let mut args = flags.to_vec();
        args.push("--jsonl");
        let scores = parse_scores(&self.run(&args, Some(input)));
        assert_eq!(scores.len(), texts.len(), "reference returned a different number of results");
        scores
    }
}

/// Parses `compound\tpos\tneu\tneg` lines of Python `repr()` floats; Rust's `parse` is correctly rounded, so each
/// value is the exact double Python held.
pub fn parse_scores(out: &str) -> Vec<Polarity> {
    lines(out)
        .into_iter()
        .map(|line| {
            let v: Vec<f64> = line
                .split('\t')
                .map(|x| x.parse().unwrap_or_else(|e| panic!("bad float {x:?} in reference line {line:?}: {e}")))
                .collect();
            assert_eq!(v.len(), 4, "reference line {line:?}");
            Polarity { compound: v[0], pos: v[1], neu: v[2], neg: v[3] }
        })
        .collect()
}

fn same(a: &Polarity, b: &Polarity) -> bool {
    a.compound.to_bits() == b.compound.to_bits()
        && a.pos.to_bits() == b.pos.to_bits()
        && a.neu.to_bits() == b.neu.to_bits()
        && a.neg.to_bits() == b.neg.to_bits()
}

/// Bit-exact comparison of our scores with Python's. Returns (matched, total) or a report of the mismatches.
pub fn compare<S: AsRef<str>>(
    name: &str,
    analyzer: SentimentIntensityAnalyzer,
    texts: &[S],
    expected: &[Polarity],
) -> Result<(usize, usize), String> {
    assert_eq!(texts.len(), expected.len(), "{name}: {} texts but {} reference scores", texts.len(), expected.len());
    let mut mismatches = Vec::new();
    for (i, (text, want)) in texts.iter().zip(expected).enumerate() {
        let got = analyzer.polarity_scores(text.as_ref());
        if !same(&got, want) {
            mismatches.push((i, text.as_ref(), got, *want));
        }
    }
    let total = texts.len();
    let matched = total - mismatches.len();
    eprintln!("{name}: {matched}/{total} texts identical to Python vaderSentiment 3.3.2");
    if mismatches.is_empty() {
        return Ok((matched, total));
    }
    let mut report = format!("{name}: {} of {total} texts differ from Python\n", mismatches.len());
    for (i, text, got, want) in mismatches.iter().take(10) {
        report.push_str(&format!("  #{i} {text:?}\n    python: {want:?}\n    rust:   {got:?}\n"));
    }
    Err(report)
}

/// Strings that exercise VADER's rules: lexicon, booster, negation and idiom words in random case, glued to
/// punctuation and emoji, separated by assorted Unicode whitespace, with stray characters mixed in.
/// `any_chars` adds arbitrary code points (only meaningful against a Unicode 14.0 reference).
pub fn vaderish_text(any_chars: bool) -> impl Strategy<Value = String> {
    const WORDS: &[&str] = &[
        "good",
        "bad",
        "love",
        "hate",
        "great",
        "terrible",
        "kind",
        "of",
        "sort",
        "no",
        "not",
        "never",
        "so",
        "this",
        "but",
        "BUT",
        "least",
        "at",
        "very",
        "without",
        "doubt",
        "or",
        "nor",
        "isn't",
        "don't",
        "can't",
        "cant",
        "aint",
        "n't",
        "the",
        "shit",
        "bomb",
        "bad",
        "ass",
        "badass",
        "bus",
        "stop",
        "yeah",
        "right",
        "kiss",
        "death",
        "to",
        "die",
        "for",
        "beating",
        "heart",
        "just",
        "enough",
        "kinda",
        "sorta",
        "kind-of",
        "really",
        "extremely",
        "fucking",
        "barely",
        "slightly",
        "uber",
        "friggin",
        "lol",
        "lmao",
        "ok",
        "okay",
        "fine",
        "wtf",
        "sucks",
        "sux",
        "happy",
        "sad",
        "angry",
        "awesome",
        "worst",
        "best",
        "delay",
        "cancelled",
        "thanks",
        "please",
        "help",
        "broken",
        "fail",
        "win",
        ":)",
        ":(",
        ":D",
        ":-)",
        ";)",
        "<3",
        ":/",
        "xD",
        "D:",
        "(:",
        "nope",
        "uh-uh",
        "rarely",
        "despite",
        "hardly",
        "almost",
        "most",
        "more",
        "less",
        "little",
        "the bomb",
        "kiss of death",
        "to die for",
        "yeah right",
        "at least",
        "very least",
        "never so",
        "no or",
        "\u{212a}ind",
        "İ",
        "ΟΔΟΣ",
        "ǅ",
        "ʕ•ᴥ•ʔ",
        "Ⓐ",
        "ª",
        "ſ",
    ];
    const EMOJI: &[&str] = &[
        "😁", "😂", "💘", "💋", "❤", "👍", "😡", "😢", "🔥", "⬆", "🆙", "🔛", "🙏", "😍", "💔", "✨", "🎉", "🤬", "👎",
        "🇺🇸", "👍🏽", "❤️", "©", "™",
    ];
    const SEPS: &[&str] = &[" ", " ", " ", "  ", "\t", "\n", "\u{a0}", "\x1c", "\u{3000}", "\u{2028}", "\u{85}", ""];
    const PUNCT: &[&str] =
        &["", "", "", "!", "!!", "!!!!!", "?", "??", "????", ".", ",", "'", "\"", "(", ")", "...", "-"];

    let listed = proptest::sample::select(WORDS).prop_flat_map(|w| {
        (Just(w), 0..4u8).prop_map(|(w, case)| match case {
            0 => w.to_uppercase(),
            1 => {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
            }
            _ => w.to_owned(),
        })
    });
    let emoji = proptest::sample::select(EMOJI).prop_map(str::to_owned);
    let word: BoxedStrategy<String> = if any_chars {
        prop_oneof![
            8 => listed,
            2 => emoji,
            1 => "[a-zA-Z']{1,8}",
            1 => proptest::collection::vec(any::<char>(), 1..4).prop_map(|v| v.into_iter().collect::<String>()),
        ]
        .boxed()
    } else {
        prop_oneof![8 => listed, 2 => emoji, 1 => "[a-zA-Z']{1,8}"].boxed()
    };
    let piece =
        (proptest::sample::select(PUNCT), word, proptest::sample::select(PUNCT), proptest::sample::select(SEPS))
            .prop_map(|(a, w, b, s)| format!("{a}{w}{b}{s}"));
    proptest::collection::vec(piece, 0..14).prop_map(|v| v.concat())
}
