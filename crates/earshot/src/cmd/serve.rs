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
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}\nhint: pick a free port with --addr HOST:PORT", args.addr))?;
        let addr = listener.local_addr()?;
        println!("earshot inbox on http://{addr}/  (database {})", super::shown(&target));
        println!(
            "hint: create a login with `earshot users add NAME --role agent --brand BRAND --db {}`",
            super::shown(&target)
        );
        serve(app, listener).await
    })?;
    Ok(ExitCode::SUCCESS)
}
