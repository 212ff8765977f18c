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
    /// Send replies through the platforms (default: record them only, a dry run).
    #[arg(long)]
    pub send: bool,
    /// Mark session cookies Secure (set this when serving behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let store = args.db.open_existing()?;
    drop(store);
    let config_path = config::resolve(args.config.as_deref())?;
    let policies = earshot::cases::load_policies(config_path.as_deref())?;
    let app = App::new(ServeOptions {
        db: args.db.db.clone(),
        policies,
        dry_run: !args.send,
        secure_cookies: args.secure_cookies,
    })?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}\nhint: pick a free port with --addr HOST:PORT", args.addr))?;
        let addr = listener.local_addr()?;
        println!("earshot inbox on http://{addr}/  (database {})", args.db.db.display());
        println!(
            "hint: create a login with `earshot users add NAME --role agent --brand BRAND --db {}`",
            args.db.db.display()
        );
        serve(app, listener).await
    })?;
    Ok(ExitCode::SUCCESS)
}
