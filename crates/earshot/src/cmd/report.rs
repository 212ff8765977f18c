//! `earshot report`: brand scorecards and a leaderboard from the stored conversations.

use super::DbArg;
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use earshot::report::{self, render};
use earshot_store::Store;
use std::process::ExitCode;

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Aligned text table.
    Table,
    /// JSON object with `brands` (the stable contract).
    Json,
    /// One row per brand.
    Csv,
    /// Markdown table and methodology.
    Md,
    /// One self-contained page with inline SVG charts.
    Html,
}

/// Arguments of `earshot report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only this brand (case-insensitive name; repeatable).
    #[arg(long)]
    pub brand: Vec<String>,
    /// Count inbound published at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Count inbound published before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{s:?} is not a time: use RFC 3339 (2017-10-31T22:10:47Z) or YYYY-MM-DD"))
}

/// Replies and threads are read this far beyond the period, so an inbound near its end still sees its answer.
const THREAD_MARGIN_DAYS: i64 = 30;

pub fn run(args: Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    let margin = TimeDelta::days(THREAD_MARGIN_DAYS);
    let rows = store
        .conversation_rows(args.since.map(|t| t - margin), args.until.map(|t| t + margin))
        .context("cannot read conversations for the report")?;
    let configs = store.brands()?;
    let mut rep = report::build(&configs, rows, args.since, args.until);
    if !args.brand.is_empty() {
        rep.brands.retain(|s| args.brand.iter().any(|b| b.eq_ignore_ascii_case(&s.brand)));
        anyhow::ensure!(
            !rep.brands.is_empty(),
            "no brand named {}\nhint: run `earshot report` without --brand to list them",
            args.brand.join(", ")
        );
    }
    let out = match args.format {
        Format::Table => render::table(&rep),
        Format::Json => serde_json::to_string_pretty(&rep)? + "\n",
        Format::Csv => render::csv(&rep),
        Format::Md => render::markdown(&rep),
        Format::Html => render::html(&rep),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
