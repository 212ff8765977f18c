//! `earshot classify`: one text per line on stdin, one analysis per line on stdout.

use anyhow::{Context as _, Result};
use earshot_analyze::{Addressing, Context, Models, analyze};
use earshot_core::{Author, Platform, Post};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot classify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object per line (the default; kept for scripts that pass it).
    #[arg(long)]
    pub json: bool,
    /// Use models from this directory (`<task>.eclf`) instead of the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let ctx = match &args.models {
        Some(dir) => Context::with_models(&[], Box::leak(Box::new(Models::load_dir(dir)?))),
        None => Context::new(&[]),
    };
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    // Lines are written into one reused buffer (`Analysis::write_json`, serde_json's bytes without serde's per-field
    // overhead) and handed to stdout in 64 KiB pieces.
    let mut out: Vec<u8> = Vec::with_capacity(1 << 17);
    // One post reused for every line: a bare text has no metadata, and the firehose path allocates nothing per line.
    let mut post = Post::new(Platform::Other, "", Author::default(), "", Default::default(), "text");
    loop {
        post.text.clear();
        let n = stdin
            .read_line(&mut post.text)
            .context("cannot read standard input (expected UTF-8 text, one per line)")?;
        if n == 0 {
            break;
        }
        // Same line ending handling as `BufRead::lines`.
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
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
