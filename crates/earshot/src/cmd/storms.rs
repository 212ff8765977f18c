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
    /// Compare the storms in `--db` with the ground truth `earshot gen --truth` wrote: detection delays per
    /// kind, campaigns caught within 5 minutes and collapsed into one storm case, false storms per brand-week.
    Evaluate {
        #[command(flatten)]
        db: DbArg,
        /// The truth file of the generated stream that was ingested.
        #[arg(long)]
        truth: PathBuf,
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
        Some(Action::Evaluate { db, truth }) => evaluate(&db, &truth),
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

/// How long after an injected storm ends a detected one still counts as the same burst (a storm closes
/// after its quiet time).
const MATCH_SLACK_SECS: i64 = 3600;

fn evaluate(db: &DbArg, truth_path: &std::path::Path) -> Result<ExitCode> {
    use chrono::{DateTime, Utc};
    let text = std::fs::read_to_string(truth_path).with_context(|| format!("cannot read {}", truth_path.display()))?;
    let truth: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a truth file of `earshot gen`", truth_path.display()))?;
    let store = db.open_existing()?;
    let stored = store.storms(&StormQuery { limit: Some(10_000), ..StormQuery::default() })?;
    let time = |v: &serde_json::Value| {
        v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
    };
    let injected: Vec<&serde_json::Value> = truth["storms"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let mut matched = vec![false; stored.len()];
    let mut by_kind: std::collections::BTreeMap<String, (u64, u64, Vec<i64>)> = Default::default();
    let (mut campaigns_20, mut campaigns_within_5m, mut campaigns_one_case) = (0u64, 0u64, 0u64);
    let mut missed = Vec::new();
    for inj in &injected {
        let (Some(onset), Some(end)) = (time(&inj["onset"]), time(&inj["end"])) else { continue };
        let brand = inj["brand"].as_str().unwrap_or_default();
        let kind = inj["kind"].as_str().unwrap_or_default().to_string();
        let hits: Vec<usize> = stored
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.brand.eq_ignore_ascii_case(brand)
                    && s.started_at <= end + chrono::Duration::seconds(MATCH_SLACK_SECS)
                    && s.last_post_at >= onset - chrono::Duration::seconds(MATCH_SLACK_SECS / 6)
            })
            .map(|(i, _)| i)
            .collect();
        for &i in &hits {
            matched[i] = true;
        }
        let delay = hits.iter().map(|&i| (stored[i].detected_at - onset).num_seconds()).min();
        let entry = by_kind.entry(kind.clone()).or_default();
        entry.0 += 1;
        match delay {
            Some(d) => {
                entry.1 += 1;
                entry.2.push(d);
            }
            None => missed.push(format!("{kind} {brand} {}", onset.to_rfc3339())),
        }
        if kind == "campaign" && inj["peak_authors_20m"].as_u64().unwrap_or(0) >= 20 {
            campaigns_20 += 1;
            if delay.is_some_and(|d| d <= 300) {
                campaigns_within_5m += 1;
            }
            // The storm cases holding the campaign's own posts (a storm of another kind nearby is not a split).
            let platform = match truth["format"].as_str().unwrap_or("x-v2") {
                f if f.starts_with("mastodon") => "mastodon",
                f if f.starts_with("bluesky") => "bluesky",
                _ => "x",
            };
            let mut post_ids = std::collections::BTreeSet::new();
            for native in inj["ids"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
                if let Some(p) = store.post(platform, native)? {
                    post_ids.insert(p.id);
                }
            }
            let cases: std::collections::BTreeSet<i64> = hits
                .iter()
                .filter(|&&i| {
                    stored[i].data["member_post_ids"]
                        .as_array()
                        .is_some_and(|m| m.iter().filter_map(|v| v.as_i64()).any(|id| post_ids.contains(&id)))
                })
                .filter_map(|&i| stored[i].case_id)
                .collect();
            if cases.len() == 1 {
                campaigns_one_case += 1;
            }
        }
    }
    let false_storms: Vec<&earshot_store::StormRow> =
        stored.iter().zip(&matched).filter(|(_, m)| !**m).map(|(s, _)| s).collect();
    let first = time(&truth["totals"]["first"]);
    let last = time(&truth["totals"]["last"]);
    let days = match (first, last) {
        (Some(a), Some(b)) => ((b - a).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0),
        _ => 1.0,
    };
    let brands = truth["brands"].as_array().map_or(1, |b| b.len().max(1)) as f64;
    let kinds: Vec<serde_json::Value> = by_kind
        .iter()
        .map(|(kind, (n, found, delays))| {
            let mut d = delays.clone();
            d.sort_unstable();
            serde_json::json!({
                "kind": kind, "injected": n, "detected": found,
                "delay_median_s": d.get(d.len().saturating_sub(1) / 2), "delay_max_s": d.last(),
            })
        })
        .collect();
    let mut false_by_kind: std::collections::BTreeMap<&str, u64> = Default::default();
    let mut false_by_brand: std::collections::BTreeMap<String, u64> = Default::default();
    for s in &false_storms {
        *false_by_kind.entry(s.kind.as_str()).or_default() += 1;
        *false_by_brand.entry(s.brand.to_lowercase()).or_default() += 1;
    }
    let worst_brand = false_by_brand.values().copied().max().unwrap_or(0);
    let report = serde_json::json!({
        "injected": injected.len(),
        "stored_storms": stored.len(),
        "kinds": kinds,
        "campaigns_20_authors_in_20m": campaigns_20,
        "campaigns_detected_within_5m": campaigns_within_5m,
        "campaigns_in_one_storm_case": campaigns_one_case,
        "false_storms": false_storms.len(),
        "false_storms_by_kind": false_by_kind,
        "days": days,
        "brands": brands,
        "false_storms_per_brand_week": false_storms.len() as f64 / brands / (days / 7.0),
        "false_storms_worst_brand_per_week": worst_brand as f64 / (days / 7.0),
        "missed": missed,
    });
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
