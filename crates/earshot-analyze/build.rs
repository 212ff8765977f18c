//! Fingerprints the shipped models at build time. Every analysis records `task-digest` for each model, and the
//! digest (FNV-1a over the file) is a byte-at-a-time dependency chain: ~8 ms over the 6 MB of models, which was paid
//! at every process start. Computed here, it costs nothing at run time; `models::tests` checks the build-time values
//! against the run-time function.

use std::fmt::Write as _;
use std::path::PathBuf;

const TASKS: [&str; 5] = ["complaint", "severity", "sentiment", "issue", "intent"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let models = manifest.join("../../models");
    let mut out = String::from("/// `(task, file bytes, version)` of each shipped model, in [`TASKS`] order.\n");
    out.push_str("static SHIPPED: [(&str, &[u8], &str); 5] = [\n");
    for task in TASKS {
        let path = models.join(format!("{task}.eclf"));
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        // Same function as `models::digest`.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in &bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let _ = writeln!(
            out,
            "    ({task:?}, include_bytes!({:?}), \"{task}-{:08x}\"),",
            path.display().to_string(),
            h >> 32
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("shipped.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
