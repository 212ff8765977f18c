//! `earshot cases`: the case queue, most urgent first.

use super::DbArg;
use anyhow::Result;
use earshot_store::{CaseQuery, Store};
use std::process::ExitCode;

/// Arguments of `earshot cases`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// Only this brand.
    #[arg(long)]
    pub brand: Option<String>,
    /// Only this status (new, open, waiting_on_customer, resolved, closed); default: the active ones.
    #[arg(long)]
    pub status: Option<String>,
    /// Every status.
    #[arg(long)]
    pub all: bool,
    /// Also list customer cases that a storm collapsed (the queue shows their storm case instead).
    #[arg(long)]
    pub storm_members: bool,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per line (the stored case row with its data).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    let cases = store.cases(&CaseQuery {
        brand: args.brand,
        status: args.status,
        all: args.all,
        storm_members: args.storm_members,
        limit: Some(args.limit),
        ..CaseQuery::default()
    })?;
    for c in &cases {
        if args.json {
            println!("{}", serde_json::to_string(c)?);
            continue;
        }
        println!(
            "#{:<5} {:<3} {:<10} {:<20} {:<20} {:<24} opened {}  sla {}",
            c.id,
            c.priority,
            c.brand,
            c.status,
            c.customer,
            c.issue.as_deref().unwrap_or("-"),
            c.opened_at.format("%Y-%m-%d %H:%M"),
            c.sla_state.as_deref().unwrap_or("-"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
