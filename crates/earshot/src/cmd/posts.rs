//! `earshot posts`: the latest posts, by brand or full-text search.

use super::{DbArg, one_line};
use anyhow::Result;
use earshot_store::{PostQuery, Store};
use std::process::ExitCode;

/// Arguments of `earshot posts`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// Only posts attributed to this brand.
    #[arg(long)]
    pub brand: Option<String>,
    /// Full-text search (words are ANDed).
    #[arg(long)]
    pub search: Option<String>,
    /// Only this platform (x, mastodon, bluesky, blog, other).
    #[arg(long)]
    pub platform: Option<String>,
    /// How many posts, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    let posts = store.posts(&PostQuery {
        brand: args.brand,
        search: args.search,
        platform: args.platform,
        limit: args.limit,
    })?;
    for p in &posts {
        if args.json {
            println!("{}", serde_json::to_string(p)?);
        } else {
            let brands: Vec<String> = p.brands.iter().map(|a| a.brand.clone()).collect();
            println!(
                "{}  {:<8} @{:<20} {:<16} {}",
                p.post.published_at.format("%Y-%m-%d %H:%M"),
                p.post.platform,
                one_line(&p.post.author.handle, 20),
                one_line(&brands.join(","), 16),
                one_line(&p.post.text, 100)
            );
        }
    }
    if posts.is_empty() && !args.json {
        eprintln!("no posts match");
    }
    Ok(ExitCode::SUCCESS)
}
