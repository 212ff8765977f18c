//! `earshot worker`: one of the processes of distributed mode (see `earshot::stream`).

use super::DbArg;
use anyhow::{Result, bail};
use earshot::config;
use earshot::stream::{WorkerOptions, run_worker};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `earshot worker`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The NATS server with JetStream (`nats://HOST:PORT`). Default: `stream` in the config file.
    #[arg(long, env = "EARSHOT_STREAM", value_name = "URL")]
    pub stream: Option<String>,
    /// The JetStream stream (the publishers' --stream-name).
    #[arg(long, default_value = earshot_stream::nats::DEFAULT_STREAM)]
    pub stream_name: String,
    /// Partitions, when this worker creates the stream (an existing stream keeps its own).
    #[arg(long)]
    pub partitions: Option<u32>,
    #[command(flatten)]
    pub db: DbArg,
    /// Brand config (brands, [sla], [storms]): the same file as the publishers'. Default: ./earshot.toml when
    /// present, else the brands already in the database.
    #[arg(long, env = "EARSHOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Messages fetched and committed per transaction.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Threads that analyze a batch (add workers to scale further).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Exit once every published message is committed and threaded and nothing arrived for SECONDS (tests,
    /// batch jobs). Default: run until killed.
    #[arg(long, value_name = "SECONDS")]
    pub exit_when_idle: Option<u64>,
    /// Seconds between status lines on standard error (owned partitions, posts/s, lag per partition).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub status_every: u64,
    /// Never run the case stage in this worker (another worker does).
    #[arg(long)]
    pub no_cases: bool,
    /// Serve `GET /metrics` (Prometheus: consumer lag per partition, commits, the case stage, errors and
    /// pauses) and `GET /healthz` (200, or 503 with the reason) on HOST:PORT. Port 0 picks a free one (the
    /// address is logged). Default: off.
    #[arg(long, env = "EARSHOT_WORKER_METRICS_ADDR", value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let config_path = config::resolve(args.config.as_deref())?;
    let stream = match (&args.stream, &config_path) {
        (Some(s), _) => s.clone(),
        (None, Some(p)) => match config::load_stream(p)? {
            Some(s) => s,
            None => bail!(
                "no stream to consume\nhint: pass --stream nats://HOST:PORT, or set stream = \"nats://…\" in {}",
                p.display()
            ),
        },
        (None, None) => bail!("no stream to consume\nhint: pass --stream nats://HOST:PORT"),
    };
    let db = args.db.target(config_path.as_deref())?;
    if !earshot_store::is_postgres_url(&db) {
        bail!(
            "earshot worker needs a PostgreSQL store, not {db}\nhint: pass --db postgres://USER@HOST:PORT/DB, or set storage = \"postgres://…\" in the config (all workers share it)"
        );
    }
    run_worker(WorkerOptions {
        stream_url: stream,
        stream_name: args.stream_name,
        partitions: args.partitions,
        db,
        config: config_path,
        batch: args.batch.max(1),
        threads: args.threads.max(1),
        exit_when_idle: args.exit_when_idle.map(Duration::from_secs),
        status_every: Duration::from_secs(args.status_every.max(1)),
        no_cases: args.no_cases,
        metrics_addr: args.metrics_addr,
    })?;
    Ok(ExitCode::SUCCESS)
}
