//! `earshot ingest`: read posts into the store.

use super::DbArg;
use anyhow::{Result, bail};
use earshot::config;
use earshot::ingest::{Ingestor, Input};
use earshot_core::brand::Brands;
use earshot_core::decode;
use earshot_store::Store;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files to read; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub db: DbArg,
    /// Brand config (default: ./earshot.toml when present, else the brands already in the database).
    #[arg(long, env = "EARSHOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Input format, or `auto` to detect it per file.
    #[arg(long, default_value = "auto", value_parser = format_parser())]
    pub format: String,
    /// Posts per transaction.
    #[arg(long, default_value_t = earshot::ingest::DEFAULT_BATCH)]
    pub batch: usize,
    /// Threads that attribute and analyze posts (results are the same for any number).
    #[arg(long, default_value_t = default_threads())]
    pub threads: usize,
    /// Print the summary as JSON on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Distributed mode: publish the decoded posts to this NATS JetStream server (`nats://HOST:PORT`) for
    /// `earshot worker` instead of storing them here. Default: `stream` in the config file.
    #[arg(long, env = "EARSHOT_STREAM", value_name = "URL")]
    pub stream: Option<String>,
    /// The JetStream stream to publish to (created when missing).
    #[arg(long, default_value = earshot_stream::nats::DEFAULT_STREAM)]
    pub stream_name: String,
    /// Partitions of a stream created by this run (an existing stream keeps its own).
    #[arg(long)]
    pub partitions: Option<u32>,
}

/// The machine's cores: decoding and the SQLite writer each hold a thread too, but analysis is the stage that
/// splits, and the threads sleep while the writer is behind.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn format_parser() -> clap::builder::PossibleValuesParser {
    let mut names = vec!["auto"];
    names.extend(decode::format_names());
    clap::builder::PossibleValuesParser::new(names)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let format = if args.format == "auto" {
        None
    } else {
        match decode::by_name(&args.format) {
            Some(d) => Some(d),
            None => bail!("unknown format {}", args.format),
        }
    };
    for p in &args.paths {
        if p != "-" && !std::path::Path::new(p).exists() {
            bail!("input {p} does not exist\nhint: check the path; use - to read standard input");
        }
    }
    let config_path = config::resolve(args.config.as_deref())?;
    let stream = match (&args.stream, &config_path) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(p)) => config::load_stream(p)?,
        (None, None) => None,
    };
    if let Some(url) = stream {
        return publish(&args, &url, config_path.as_deref(), format);
    }
    let mut store = args.db.open_with(config_path.as_deref())?;
    // Read first, so that a bad SLA section fails before anything is stored.
    earshot::cases::load_policies(config_path.as_deref())?;
    let brand_configs = match &config_path {
        Some(path) => {
            let brands = config::load_brands(path)?;
            store.upsert_brands(&brands, chrono::Utc::now())?;
            brands
        }
        None => store.brands()?,
    };
    let show_progress = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let mut ingestor = Ingestor::new(&mut store, Brands::new(brand_configs))
        .batch_size(args.batch)
        .threads(args.threads)
        .progress(show_progress);
    for path in &args.paths {
        ingestor.ingest(Input::open(path)?, format)?;
    }
    let mut summary = ingestor.finish()?;
    earshot::ingest::thread_stored(&mut store, config_path.as_deref(), &mut summary, chrono::Utc::now())?;
    if let Some(path) = &config_path {
        earshot::alerts::send_configured(store, path)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!("{}", summary.line());
        if summary.rejected > 0 {
            println!("hint: see why with `earshot rejects --db {}`", args.db.shown());
        }
    }
    Ok(if summary.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `earshot ingest --stream`: decode, attribute to pick each post's partition, publish.
fn publish(
    args: &Args,
    url: &str,
    config_path: Option<&std::path::Path>,
    format: Option<&'static dyn earshot_core::decode::Decoder>,
) -> Result<ExitCode> {
    // Read first, so that a bad config fails before anything is published.
    earshot::cases::load_policies(config_path)?;
    let brands = match config_path {
        Some(path) => config::load_brands(path)?,
        None => {
            eprintln!("warning: no config file: every post goes to the partition of posts without a brand");
            Vec::new()
        }
    };
    let transport = earshot_stream::NatsTransport::open(url, &args.stream_name, args.partitions)?;
    let summary = earshot::stream::publish_inputs(&transport, &Brands::new(brands), &args.paths, format)?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "read {} records from {} input{}: published {} messages ({} posts, {} deletions, {} rejects), {} already published, skipped {} in {:.2}s ({:.0} messages/s) to stream {} at {url}",
            summary.read,
            summary.files,
            if summary.files == 1 { "" } else { "s" },
            summary.published,
            summary.posts,
            summary.deletions,
            summary.rejected,
            summary.duplicates,
            summary.skipped,
            summary.elapsed_s,
            summary.messages_per_s,
            args.stream_name,
        );
        println!("hint: `earshot worker --stream {url} --db postgres://…` stores them");
    }
    Ok(if summary.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
