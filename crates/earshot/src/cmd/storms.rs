//! `earshot storms`: storms detected so far; `detect-series` runs the volume detector over a count series;
//! `score-nab` scores it the Numenta Anomaly Benchmark way.

use super::DbArg;
use anyhow::{Context, Result};
use earshot_store::{Store, StormQuery};
use earshot_storms::volume::VolumeConfig;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot storms`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    #[command(flatten)]
    pub db: DbArg,
    /// Only this brand.
    #[arg(long)]
    pub brand: Option<String>,
    /// Only storms still open.
    #[arg(long)]
    pub open: bool,
    /// At most this many, newest detection first.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// One JSON object per line (`brand`, `kind`, `started_at`, `detected_at`, `posts`, `authors`, `hashtags`...).
    #[arg(long)]
    pub json: bool,
}

/// What else `earshot storms` does.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Run the volume detector over a `timestamp,value` CSV as if streaming; write
    /// `timestamp,value,anomaly_score` rows (a detection where the score is at least 0.5).
    DetectSeries {
        /// The series (e.g. a file of ../shared/data/nab-realtweets/data/realTweets/).
        file: PathBuf,
        /// Write here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Bucket width in seconds (default: inferred from the timestamps).
        #[arg(long)]
        bucket_secs: Option<i64>,
    },
    /// Score the volume detector on a NAB corpus directory (`data/`, `combined_windows.json`,
    /// `profiles.json`): normalized scores per profile, at threshold 0.5 and at NAB's optimized threshold.
    ScoreNab {
        /// The corpus (e.g. ../shared/data/nab-realtweets).
        dir: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.action {
        Some(Action::DetectSeries { file, out, bucket_secs }) => detect_series(&file, out.as_deref(), bucket_secs),
        Some(Action::ScoreNab { dir, json }) => score_nab(&dir, json),
        None => list(&args),
    }
}

fn list(args: &Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    let storms = store.storms(&StormQuery {
        brand: args.brand.clone(),
        open_only: args.open,
        limit: Some(args.limit),
        ..StormQuery::default()
    })?;
    let mut out = std::io::stdout().lock();
    for s in &storms {
        if args.json {
            writeln!(out, "{}", earshot::storms::storm_json(s))?;
            continue;
        }
        writeln!(
            out,
            "{:<10} {:<10} {:<28} detected {}  started {}  {:>5} posts {:>5} authors  {:<6}  case #{}",
            s.kind,
            s.brand,
            super::one_line(&earshot::storms::storm_title(&s.kind, &s.facet, &s.key), 28),
            s.detected_at.format("%Y-%m-%d %H:%M"),
            s.started_at.format("%H:%M"),
            s.posts,
            s.authors,
            s.status,
            s.case_id.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
        )?;
    }
    if storms.is_empty() && !args.json {
        eprintln!("no storms detected (yet)");
    }
    Ok(ExitCode::SUCCESS)
}

fn detect_series(file: &std::path::Path, out: Option<&std::path::Path>, bucket_secs: Option<i64>) -> Result<ExitCode> {
    let input = std::fs::File::open(file).with_context(|| format!("cannot read series {}", file.display()))?;
    let config = VolumeConfig { bucket_secs: bucket_secs.unwrap_or(0), ..VolumeConfig::default() };
    let summary = match out {
        Some(path) => {
            let w = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            earshot_storms::series::detect_series(std::io::BufReader::new(input), std::io::BufWriter::new(w), &config)
        }
        None => earshot_storms::series::detect_series(
            std::io::BufReader::new(input),
            std::io::BufWriter::new(std::io::stdout().lock()),
            &config,
        ),
    }
    .with_context(|| format!("in series {}", file.display()))?;
    eprintln!("{summary:?}");
    Ok(ExitCode::SUCCESS)
}

fn score_nab(dir: &std::path::Path, json: bool) -> Result<ExitCode> {
    let report = earshot_storms::nab::score_corpus(dir, |file| {
        earshot_storms::series::score_points(&file.unix_times(), &file.values, &VolumeConfig::default())
    })
    .with_context(|| format!("scoring the NAB corpus in {}", dir.display()))?;
    if json {
        let profiles: Vec<serde_json::Value> = report
            .profiles
            .iter()
            .map(|p| {
                serde_json::json!({
                    "profile": p.profile.name,
                    "threshold_0_5": p.fixed,
                    "optimized": p.optimized,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "profiles": profiles }));
        return Ok(ExitCode::SUCCESS);
    }
    for p in &report.profiles {
        println!(
            "{:<16} normalized score {:>6.1} at threshold 0.5, {:>6.1} at the optimized threshold {:.3}",
            p.profile.name, p.fixed.normalized, p.optimized.normalized, p.optimized.threshold
        );
        for f in &p.fixed.files {
            println!("    {:<40} {:>6.1}  ({} of {} windows detected)", f.file, f.normalized, f.detected, f.windows);
        }
    }
    Ok(ExitCode::SUCCESS)
}
