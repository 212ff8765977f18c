//! `earshot serve`: the web inbox and the JSON API.

use super::DbArg;
use anyhow::{Context as _, Result};
use earshot::config;
use earshot::serve::{App, ServeOptions, serve};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
    /// Config file (brands and `[sla]` policies); default ./earshot.toml when present.
    #[arg(long, env = "EARSHOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Send replies through the platforms with the accounts of `[outbox]` in the config (default: record them
    /// only, a dry run; `[outbox] dry_run = false` is needed too).
    #[arg(long)]
    pub send: bool,
    /// Mark session cookies Secure (set this when serving behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Do not listen to the config's `[[sources]]` (by default `earshot serve` runs them as `earshot watch` does,
    /// so the inbox fills and SLA clocks tick live). Use it when a separate `earshot watch` runs them.
    #[arg(long)]
    pub no_watch: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let config_path = config::resolve(args.config.as_deref())?;
    let store = args.db.open_existing_with(config_path.as_deref())?;
    drop(store);
    let target = args.db.target(config_path.as_deref())?;
    let policies = earshot::cases::load_policies(config_path.as_deref())?;
    let outbox = match &config_path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("cannot read config file {}", p.display()))?;
            earshot_outbox::OutboxConfig::from_toml(&text).with_context(|| format!("in config file {}", p.display()))?
        }
        None => earshot_outbox::OutboxConfig::default(),
    };
    // Replies go out only when asked on the command line and not held back by `[outbox] dry_run`.
    let dry_run = !args.send || outbox.dry_run;
    let publishers = if dry_run {
        None
    } else {
        let accounts = outbox
            .resolve(|name| std::env::var(name).ok())
            .context("cannot set up the brands' platform accounts ([[outbox.accounts]] in the config)")?;
        Some(std::sync::Arc::new(earshot_outbox::Publishers::from_accounts(&accounts)?))
    };
    let app = App::new(ServeOptions {
        db: target.clone().into(),
        policies,
        dry_run,
        secure_cookies: args.secure_cookies,
        publishers,
    })?;
    // The config's live sources, on a thread of their own with their own store connection.
    let mut watcher = None;
    if let Some(path) = config_path.as_ref().filter(|_| !args.no_watch) {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        let sources = earshot_watch::sources_from_toml(&text, |name| std::env::var(name).ok())
            .with_context(|| format!("in config file {}", path.display()))?;
        if !sources.is_empty() {
            println!(
                "listening to {} source{}: {}",
                sources.len(),
                if sources.len() == 1 { "" } else { "s" },
                sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            );
            let (path, db) = (path.clone(), args.db.clone());
            watcher = Some(
                std::thread::Builder::new()
                    .name("watch".into())
                    .spawn(move || {
                        let watched = super::watch::watch(&path, &text, sources, &db, None);
                        if let Err(e) = &watched {
                            tracing::error!("live sources stopped: {e:#}");
                            eprintln!("error: live sources stopped: {e:#}");
                        }
                        watched
                    })
                    .context("cannot start the watch thread")?,
            );
        }
    }
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let served = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}\nhint: pick a free port with --addr HOST:PORT", args.addr))?;
        let addr = listener.local_addr()?;
        println!("earshot inbox on http://{addr}/  (database {})", super::shown(&target));
        println!(
            "hint: create a login with `earshot users add NAME --role agent --brand BRAND --db {}`",
            super::shown(&target)
        );
        // Ctrl-C stops both: the watch commits what it read, then the process exits.
        tokio::select! {
            served = serve(app, listener) => served,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    });
    if let Some(w) = watcher
        && served.is_ok()
    {
        let summary =
            w.join().map_err(|_| anyhow::anyhow!("the watch thread panicked"))?.context("live sources stopped")?;
        eprintln!("watched {:.1}s: {} records, stored {}", summary.elapsed_s, summary.records, summary.stored);
    }
    served?;
    Ok(ExitCode::SUCCESS)
}
