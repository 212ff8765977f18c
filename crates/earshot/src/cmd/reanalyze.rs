//! `earshot reanalyze`: run the Understand stage again over every stored post
//! (after a model or brand-config update).

use super::DbArg;
use anyhow::Result;
use earshot::config;
use earshot::ingest::analysis_row;
use earshot_analyze::Addressing;
use earshot_core::brand::Brands;
use earshot_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `earshot reanalyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArg,
    /// Brand config (default: ./earshot.toml when present, else the brands already in the database).
    #[arg(long, env = "EARSHOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let config_path = config::resolve(args.config.as_deref())?;
    let mut store = args.db.open_existing_with(config_path.as_deref())?;
    let configs = match config_path {
        Some(path) => {
            let brands = config::load_brands(&path)?;
            store.upsert_brands(&brands, chrono::Utc::now())?;
            brands
        }
        None => store.brands()?,
    };
    let brands = Brands::new(configs);
    let ctx = earshot_analyze::Context::new(brands.configs());
    let started = Instant::now();
    let n = store.reanalyze(5_000, &mut |p| {
        let names: Vec<&str> = p.brands.iter().map(|a| a.brand.as_str()).collect();
        let addressing = Addressing { brands: &names, brand_speaking: p.brand_author.is_some() };
        analysis_row(&earshot_analyze::analyze(&p.post, addressing, &ctx))
    })?;
    let secs = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::json!({"analyzed": n, "elapsed_s": secs}));
    } else {
        println!("re-analyzed {n} posts in {secs:.2}s");
    }
    Ok(ExitCode::SUCCESS)
}
