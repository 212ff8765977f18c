//! `earshot rejects`: records that could not be decoded, with where and why.

use super::{DbArg, one_line};
use anyhow::Result;
use earshot_store::Store;
use std::process::ExitCode;

/// Arguments of `earshot rejects`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// How many, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object per line (raw bytes as lossy UTF-8).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    for r in store.rejects(args.limit)? {
        let raw = String::from_utf8_lossy(&r.reject.raw);
        if args.json {
            let v = serde_json::json!({
                "id": r.id,
                "source": r.reject.source,
                "line": r.reject.position.line,
                "byte": r.reject.position.byte,
                "record": r.reject.position.record,
                "within": r.reject.within,
                "format": r.reject.format,
                "reason": r.reject.reason,
                "raw": raw,
                "rejected_at": r.rejected_at,
            });
            println!("{v}");
        } else {
            let within = r.reject.within.as_deref().map(|w| format!(" ({w})")).unwrap_or_default();
            println!(
                "{}:{} byte {}{} [{}] {}\n    {}",
                r.reject.source,
                r.reject.position.line,
                r.reject.position.byte,
                within,
                r.reject.format,
                r.reject.reason,
                one_line(&raw, 120)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
