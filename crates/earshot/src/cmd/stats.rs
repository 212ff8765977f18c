//! `earshot stats`: what the store holds.

use super::DbArg;
use anyhow::Result;
use earshot_store::Store;
use std::process::ExitCode;

/// Arguments of `earshot stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    let s = store.stats()?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("posts      {}", s.posts);
    println!("rejects    {}", s.rejects);
    println!("brands     {}", s.brands);
    println!("deletions  {}", s.deletions);
    println!("replies    {} linked to a stored parent", s.replies_linked);
    if let (Some(a), Some(b)) = (s.first_published, s.last_published) {
        println!("published  {} .. {}", a.format("%Y-%m-%d %H:%M"), b.format("%Y-%m-%d %H:%M"));
    }
    for (title, map) in [("platform", &s.by_platform), ("format", &s.by_format), ("brand", &s.by_brand)] {
        if !map.is_empty() {
            let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("by {title:<8}{}", parts.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
