//! `earshot classify`: one text per line on stdin, one analysis per line on stdout.

use anyhow::{Context as _, Result};
use earshot_analyze::{Context, Models, analyze_text};
use std::io::{BufRead, BufWriter, Write};
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
    let mut ctx = Context::new(&[]);
    if let Some(dir) = &args.models {
        let models = Models::load_dir(dir)?;
        ctx = ctx.with_models(Box::leak(Box::new(models)));
    }
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line.context("cannot read standard input (expected UTF-8 text, one per line)")?;
        let a = analyze_text(&line, &ctx);
        serde_json::to_writer(&mut out, &a)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
