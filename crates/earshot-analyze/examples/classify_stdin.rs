//! `earshot classify`'s loop without the rest of the binary: one text per line on stdin, one analysis per line on
//! stdout. Links in seconds rather than minutes, for profiling the Understand stage (`perf`, `cachegrind`).
//!
//! `cargo build --release -p earshot-analyze --example classify_stdin`

use earshot_analyze::{Addressing, Context, analyze};
use earshot_core::{Author, Platform, Post};
use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let ctx = Context::new(&[]);
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut out: Vec<u8> = Vec::with_capacity(1 << 17);
    let mut post = Post::new(Platform::Other, "", Author::default(), "", Default::default(), "text");
    loop {
        post.text.clear();
        if stdin.read_line(&mut post.text)? == 0 {
            break;
        }
        if post.text.ends_with('\n') {
            post.text.pop();
            if post.text.ends_with('\r') {
                post.text.pop();
            }
        }
        analyze(&post, Addressing::default(), &ctx).write_json(&mut out);
        out.push(b'\n');
        if out.len() >= 1 << 16 {
            stdout.write_all(&out)?;
            out.clear();
        }
    }
    stdout.write_all(&out)?;
    stdout.flush()
}
