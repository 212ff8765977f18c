//! `earshot`: the command-line front of the social customer care engine.
//!
//! Each subcommand lives in its own module under `cmd/`. Errors are printed
//! once, with their chain, and map to exit codes: 0 success, 1 finished with
//! rejected records, 2 fatal error.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;

/// Hears public posts to brands, understands them, and helps care teams answer.
#[derive(Debug, Parser)]
#[command(name = "earshot", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest posts from files or stdin in the platforms' own formats.
    Ingest(cmd::ingest::Args),
    /// Consume the post stream (distributed mode): analyze, store, thread into cases and detect storms in PostgreSQL.
    Worker(cmd::worker::Args),
    /// Listen to live sources ([[sources]] in earshot.toml: X stream, Mastodon, Bluesky Jetstream, feeds).
    Watch(cmd::watch::Args),
    /// Counts of what the store holds.
    Stats(cmd::stats::Args),
    /// List customer cases, most urgent first.
    Cases(cmd::cases::Args),
    /// Serve the web inbox and the JSON API.
    Serve(cmd::serve::Args),
    /// Storms: complaint spikes and coordinated campaigns detected on the stream; volume-detector tools.
    Storms(cmd::storms::Args),
    /// Manage the people who may use the inbox and the API.
    Users(cmd::users::Args),
    /// The latest posts, optionally by brand or full-text search.
    Posts(cmd::posts::Args),
    /// Brand scorecards and a leaderboard from public conversations (response rate, time to first response...).
    Report(cmd::report::Args),
    /// Records that could not be decoded, with source, position and reason.
    Rejects(cmd::rejects::Args),
    /// The input formats earshot reads.
    Formats,
    /// Build a fresh database from the seed stories and show what earshot heard.
    Demo(cmd::demo::Args),
    /// Measure end-to-end ingest throughput and memory on generated stream data.
    Bench(cmd::bench::Args),
    /// Generate realistic traffic with injected storms, a ground-truth file and a brand config.
    Gen(cmd::r#gen::Args),
    /// Run the Understand stage again over every stored post (after a model or config update).
    Reanalyze(cmd::reanalyze::Args),
    /// Analyze texts from stdin, one per line: sentiment, complaint, severity, intent, issue, signals, priority.
    Classify(cmd::classify::Args),
    /// Train the classifiers from the public labeled data (reproduces the shipped models).
    Train(cmd::train::TrainArgs),
    /// Measure the classifiers on the public labeled data.
    Eval(cmd::train::EvalArgs),
}

/// Exit code for a fatal error.
const FATAL: u8 = 2;

/// See the `mimalloc` entry in Cargo.toml for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EARSHOT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => cmd::ingest::run(args),
        Command::Watch(args) => cmd::watch::run(args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Stats(args) => cmd::stats::run(args),
        Command::Cases(args) => cmd::cases::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Storms(args) => cmd::storms::run(args),
        Command::Users(args) => cmd::users::run(args),
        Command::Posts(args) => cmd::posts::run(args),
        Command::Rejects(args) => cmd::rejects::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Formats => cmd::formats::run(),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Gen(args) => cmd::r#gen::run(args),
        Command::Reanalyze(args) => cmd::reanalyze::run(args),
        Command::Classify(args) => cmd::classify::run(args),
        Command::Train(args) => cmd::train::train(args),
        Command::Eval(args) => cmd::train::eval(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}");
            // Hints travel inside messages as "\nhint: ..." lines; print them on their own.
            let mut lines = msg.lines();
            eprintln!("error: {}", lines.next().unwrap_or_default());
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(FATAL)
        }
    }
}
