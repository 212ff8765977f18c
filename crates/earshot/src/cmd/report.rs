//! `earshot report`: brand scorecards and a leaderboard from the stored conversations.

use super::DbArg;
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use earshot::report::{self, Period, render};
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
    /// Also show each brand's figures per period (the HTML trend chart picks one from the data when absent).
    #[arg(long, value_enum)]
    pub by: Option<Period>,
    /// Config file whose SLA calendars give the business-hours figures (default: ./earshot.toml when present).
    #[arg(long, env = "EARSHOT_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
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

pub fn run(args: Args) -> Result<ExitCode> {
    let config = earshot::config::resolve(args.config.as_deref())?;
    let policies = earshot::cases::load_policies(config.as_deref())?;
    let mut store = args.db.open_existing_with(config.as_deref())?;
    let html = matches!(args.format, Format::Html);
    let mut rep = report::from_store(&mut store, args.since, args.until, args.by, html)
        .context("cannot read conversations for the report")?;
    rep.add_business_hours(|brand| policies.for_brand(brand).and_then(|p| p.calendar.as_ref()));
    if !args.brand.is_empty() {
        let wanted = |name: &str| args.brand.iter().any(|b| b.eq_ignore_ascii_case(name));
        rep.brands.retain(|s| wanted(&s.brand));
        if let Some(t) = &mut rep.trends {
            t.retain(|r| wanted(&r.brand));
        }
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
