//! `earshot classify`'s loop without the rest of the binary: one text per line on stdin, one analysis per line on
//! stdout. Links in seconds rather than minutes, for profiling the Understand stage (`perf`, `cachegrind`).
//!
//! `cargo build --release -p earshot-analyze --example classify_stdin`

use earshot_analyze::{Context, classify_lines};

fn main() -> std::io::Result<()> {
    classify_lines(std::io::stdin().lock(), &mut std::io::stdout().lock(), &Context::new(&[]))
}
