//! `earshot gen`: realistic traffic with injected storms and a ground truth of what was injected.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use earshot_gen::{Format, Generator, Length, Params, StormSpec, TextBank};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot gen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the posts; `-` writes to standard output.
    #[arg(long, short, default_value = "-", value_name = "FILE|-")]
    pub out: String,
    /// Output format: x-v2 (X API v2 filtered-stream lines), mastodon (streaming events),
    /// bluesky-jetstream, jsonl (earshot's JSON Lines) or twcs-csv.
    #[arg(long, default_value = "x-v2", value_parser = format_parser())]
    pub format: String,
    /// Days of traffic to generate [default: 7].
    #[arg(long, conflicts_with = "posts", value_name = "N")]
    pub days: Option<f64>,
    /// Generate exactly this many posts instead of a number of days.
    #[arg(long, value_name = "N")]
    pub posts: Option<u64>,
    /// Number of brands.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub brands: usize,
    /// Mean posts per day per brand, the care team's replies and customers' follow-ups included;
    /// brands differ around it (heavy-tailed, like real brands).
    #[arg(long, default_value_t = 300.0, value_name = "POSTS_PER_DAY_PER_BRAND")]
    pub rate: f64,
    /// Start of the simulated span (RFC 3339). Fixed by default, so output never depends on the clock.
    #[arg(long, default_value = "2026-01-05T00:00:00Z", value_parser = parse_start, value_name = "RFC3339")]
    pub start: DateTime<Utc>,
    /// Seed: the same arguments and seed write the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Storms to inject: `auto` (per week of traffic: 1 volume, 1 negative, 2 campaign, 1 influencer),
    /// `none`, or KIND=COUNT,... with kinds volume, negative, campaign, influencer.
    #[arg(long, default_value = "auto", value_name = "KIND=COUNT,...|none")]
    pub storms: String,
    /// Write the ground truth as JSON: parameters, brands, totals, and each injected storm
    /// (kind, brand, facet, key, onset, end, authors, posts, native ids of its posts).
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Write an earshot.toml with the generated brands, for `earshot ingest --config`.
    #[arg(long, value_name = "FILE")]
    pub config_out: Option<PathBuf>,
    /// The shared data directory the real texts come from (complaints/, tweeteval-sentiment/,
    /// airline-sentiment/, twcs/).
    #[arg(long, env = "EARSHOT_DATA", default_value = "../shared/data", value_name = "DIR")]
    pub data: PathBuf,
    /// Print a summary object as JSON on stdout (needs --out FILE).
    #[arg(long)]
    pub json: bool,
}

fn format_parser() -> clap::builder::PossibleValuesParser {
    let mut names: Vec<&'static str> = Format::ALL.iter().map(|f| f.name()).collect();
    // The decoder names work too (`earshot ingest --format bluesky`).
    names.extend(["bluesky", "twcs"]);
    clap::builder::PossibleValuesParser::new(names)
}

fn parse_start(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{e}; write e.g. 2026-01-05T00:00:00Z"))
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.json && args.out == "-" {
        bail!("--json prints the summary on standard output, where the posts go too\nhint: pass --out FILE");
    }
    let format: Format = args.format.parse()?;
    let storms: StormSpec = args.storms.parse()?;
    let length = match (args.days, args.posts) {
        (_, Some(n)) => Length::Posts(n),
        (Some(d), None) => Length::Days(d),
        (None, None) => Length::Days(7.0),
    };
    let params = Params { start: args.start, length, brands: args.brands, rate: args.rate, seed: args.seed, storms };
    params.validate()?;
    let bank = TextBank::load(&args.data).with_context(|| format!("cannot load texts from {}", args.data.display()))?;
    let generator = Generator::new(params.clone(), &bank)?;
    if let Some(path) = &args.config_out {
        let toml = earshot_gen::config_toml(generator.brands(), &params)?;
        std::fs::write(path, toml).with_context(|| format!("cannot write the brand config {}", path.display()))?;
    }
    let truth = if args.out == "-" {
        let stdout = std::io::stdout().lock();
        let (mut out, truth) = earshot_gen::generate(generator, format, std::io::BufWriter::new(stdout))
            .context("cannot write posts to standard output")?;
        out.flush().context("cannot write posts to standard output")?;
        truth
    } else {
        let file = std::fs::File::create(&args.out).with_context(|| format!("cannot create {}", args.out))?;
        let (out, truth) = earshot_gen::generate(generator, format, std::io::BufWriter::new(file))
            .with_context(|| format!("cannot write posts to {}", args.out))?;
        out.into_inner().map_err(|e| e.into_error()).with_context(|| format!("cannot write posts to {}", args.out))?;
        truth
    };
    if let Some(path) = &args.truth {
        let json = serde_json::to_string_pretty(&truth)?;
        std::fs::write(path, json + "\n").with_context(|| format!("cannot write the truth file {}", path.display()))?;
    }
    eprintln!("{}", truth.summary_line());
    if args.json {
        let mut by_kind = std::collections::BTreeMap::<&str, usize>::new();
        for s in &truth.storms {
            *by_kind.entry(s.kind.as_str()).or_default() += 1;
        }
        let t = &truth.totals;
        let summary = serde_json::json!({
            "out": args.out,
            "format": format.name(),
            "decoder": format.decoder(),
            "posts": t.posts,
            "organic": t.organic,
            "brand_replies": t.brand_replies,
            "follow_ups": t.follow_ups,
            "storm_posts": t.storm_posts,
            "storms": truth.storms.len(),
            "storms_by_kind": by_kind,
            "brands": truth.brands.len(),
            "by_brand": t.by_brand,
            "first": t.first,
            "last": t.last,
            "seed": params.seed,
            "truth": args.truth,
            "config": args.config_out,
        });
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
