//! `earshot classify`: one text per line on stdin, one analysis per line on stdout.

use anyhow::{Context as _, Result};
use earshot_analyze::{Context, Models};
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
    earshot_analyze::classify_lines(std::io::stdin().lock(), &mut std::io::stdout().lock(), &ctx)
        .context("cannot read standard input or write standard output (expected UTF-8 text, one per line)")?;
    Ok(ExitCode::SUCCESS)
}
