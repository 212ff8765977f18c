//! What a SQLite store holds, for the live-listening tests (`watch`, `soak`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Native ids of a platform's stored posts.
pub fn ids(db: &Path, platform: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT native_id FROM posts WHERE platform = ?1").unwrap();
    stmt.query_map([platform], |r| r.get::<_, String>(0)).unwrap().map(|r| r.unwrap()).collect()
}

/// Every `expected` post of `platform` is stored exactly once, and nothing else of that platform.
pub fn assert_once(db: &Path, platform: &str, expected: impl Iterator<Item = String>) {
    let got = ids(db, platform);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "{platform}: a post stored twice");
    let expected: HashSet<String> = expected.collect();
    let missing = expected.iter().filter(|e| !unique.contains(e)).count();
    assert_eq!(missing, 0, "{platform}: {missing} of {} posts missing", expected.len());
    assert_eq!(got.len(), expected.len(), "{platform}: posts that were never published");
}

/// The demo's stories and every detectable fixture format (with their rejects and deletions), sorted: the input
/// the store-equality tests (`postgres`, `stream`) ingest both ways.
pub fn demo_and_fixture_inputs(repo: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [repo.join("crates/earshot/demo"), repo.join("tests/fixtures")] {
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if p.is_dir() {
                    stack.push(p);
                } else if !name.ends_with(".snap")
                    && !name.contains("nodetect")
                    && !name.ends_with(".md")
                    && !name.ends_with(".toml")
                {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}
