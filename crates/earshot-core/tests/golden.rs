//! Golden fixtures: every registered decoder has real-format inputs under
//! `tests/fixtures/<decoder name>/`, and the decoded output of each is pinned
//! in a `<file>.snap` beside it (insta). Auto-detection must pick the
//! decoder whose folder the file sits in.
//!
//! Update after an intended change: `INSTA_UPDATE=always cargo test -p earshot-core --test golden`,
//! then review the `.snap` diffs.

use earshot_core::decode::{self, Decoded, FramedItem, SNIFF_BYTES, SniffInput};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        p.is_file() && !name.ends_with(".snap") && !name.ends_with(".snap.new") && !name.ends_with(".md")
    });
    files.sort();
    files
}

/// A stable JSON view of one decoded item for snapshots.
fn view(item: &FramedItem) -> Value {
    let pos = json!({"line": item.position.line, "byte": item.position.byte, "record": item.position.record});
    match &item.decoded {
        Decoded::Post(p) => json!({"at": pos, "post": p}),
        Decoded::Deletion(d) => json!({"at": pos, "deletion": d}),
        Decoded::Skipped { reason } => json!({"at": pos, "skipped": reason}),
        Decoded::Rejected { within, reason, raw } => json!({
            "at": pos,
            "rejected": reason,
            "within": within,
            "raw": raw.as_ref().map(|r| String::from_utf8_lossy(r).into_owned()),
        }),
    }
}

#[test]
fn every_decoder_has_golden_fixtures() {
    for d in decode::registry() {
        let dir = fixtures_root().join(d.name());
        assert!(
            !inputs(&dir).is_empty(),
            "decoder {} has no golden fixtures: add real-format files under {}",
            d.name(),
            dir.display()
        );
    }
}

#[test]
fn golden_fixtures_decode_as_pinned() {
    for d in decode::registry() {
        let dir = fixtures_root().join(d.name());
        for path in inputs(&dir) {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let bytes = std::fs::read(&path).unwrap();
            // Files named `*.nodetect.*` are valid for the decoder but deliberately ambiguous to sniff.
            if !file_name.contains(".nodetect.") {
                let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
                let detected = decode::detect(SniffInput { head, file_name: Some(&file_name) }, &file_name)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(detected.name(), d.name(), "auto-detection of {}", path.display());
            }
            let mut items = Vec::new();
            decode::decode_reader(*d, bytes.as_slice(), |i| items.push(view(&i))).unwrap();
            insta::with_settings!({snapshot_path => dir.clone(), prepend_module_to_snapshot => false, omit_expression => true}, {
                insta::assert_json_snapshot!(file_name.clone(), items);
            });
        }
    }
}

/// Regression: a JSON Lines file whose first line is truncated is read as one
/// document (the framer cannot tell it is line-framed); every later line must
/// still decode instead of being lost behind the first syntax error.
#[test]
fn a_broken_first_line_does_not_lose_the_rest() {
    let input = concat!(
        "{\"text\": \"cut off\n",
        r#"{"id":"1","text":"my sandal broke","author":"kay","created_at":"2012-01-05T14:02:00Z"}"#,
        "\n",
        r#"{"id":"2","text":"still waiting","author":"kay","created_at":"2012-01-05T15:02:00Z"}"#,
        "\n"
    );
    let items = decode::decode_all(decode::by_name("jsonl").unwrap(), input.as_bytes());
    let posts = items.iter().filter(|d| matches!(d, Decoded::Post(_))).count();
    let rejects = items.iter().filter(|d| matches!(d, Decoded::Rejected { .. })).count();
    assert_eq!((posts, rejects), (2, 1), "jsonl: {items:?}");
    let x_line = |id: &str| {
        format!(
            r#"{{"data":{{"id":"{id}","text":"hi @gilt","author_id":"9","created_at":"2012-01-05T14:02:00.000Z","edit_history_tweet_ids":["{id}"]}}}}"#
        )
    };
    let input = format!("{{\"data\": {{\"id\n{}\n{}\n", x_line("1"), x_line("2"));
    let items = decode::decode_all(decode::by_name("x-v2").unwrap(), input.as_bytes());
    let posts = items.iter().filter(|d| matches!(d, Decoded::Post(_))).count();
    assert_eq!(posts, 2, "x-v2: {items:?}");
}
