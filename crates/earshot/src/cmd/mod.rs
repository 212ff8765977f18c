//! One module per subcommand.

pub mod bench;
pub mod cases;
pub mod classify;
pub mod demo;
pub mod formats;
// `gen` is a reserved keyword in edition 2024, hence the raw identifier.
pub mod r#gen;
pub mod ingest;
pub mod posts;
pub mod reanalyze;
pub mod rejects;
pub mod report;
pub mod serve;
pub mod stats;
pub mod storms;
pub mod train;
pub mod users;
pub mod watch;
pub mod worker;

use anyhow::{Context, Result};
use earshot_store::AnyStore;
use std::path::Path;

/// The `--db` option shared by every command that reads or writes the store.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArg {
    /// The store: a SQLite file (created if missing) or a PostgreSQL URL (`postgres://USER@HOST:PORT/DB`).
    /// Default: `storage` in the config file, else earshot.db.
    #[arg(long, env = "EARSHOT_DB", value_name = "PATH|URL")]
    pub db: Option<String>,
}

/// The store used when neither `--db` nor the config names one.
pub const DEFAULT_DB: &str = "earshot.db";

impl DbArg {
    /// Which store to use: `--db` (or `EARSHOT_DB`) wins, then `storage` in the config file (`config`, else
    /// `EARSHOT_CONFIG` or `./earshot.toml`), then `earshot.db`.
    pub fn target(&self, config: Option<&Path>) -> Result<String> {
        if let Some(db) = &self.db {
            return Ok(db.clone());
        }
        let env_config = std::env::var_os("EARSHOT_CONFIG").map(std::path::PathBuf::from);
        let path = match config {
            Some(p) => Some(p.to_path_buf()),
            None => earshot::config::resolve(env_config.as_deref())?,
        };
        match path {
            Some(p) => Ok(earshot::config::load_storage(&p)?.unwrap_or_else(|| DEFAULT_DB.to_string())),
            None => Ok(DEFAULT_DB.to_string()),
        }
    }

    /// The target for messages (a URL's password hidden).
    pub fn shown(&self) -> String {
        let target = self.target(None).unwrap_or_else(|_| self.db.clone().unwrap_or_else(|| DEFAULT_DB.into()));
        shown(&target)
    }

    /// Opens (creating and migrating as needed) the store.
    pub fn open(&self) -> Result<AnyStore> {
        self.open_with(None)
    }

    /// Opens the store, reading `storage` from the config file at `config` when `--db` is not given.
    pub fn open_with(&self, config: Option<&Path>) -> Result<AnyStore> {
        let target = self.target(config)?;
        earshot_store::open(&target).with_context(|| format!("cannot use database {}", shown(&target)))
    }

    /// Opens an existing store, failing with a hint when a SQLite file does not exist (a PostgreSQL schema is
    /// created on first use).
    pub fn open_existing(&self) -> Result<AnyStore> {
        self.open_existing_with(None)
    }

    /// [`DbArg::open_existing`], reading `storage` from the config file at `config`.
    pub fn open_existing_with(&self, config: Option<&Path>) -> Result<AnyStore> {
        let target = self.target(config)?;
        anyhow::ensure!(
            earshot_store::is_postgres_url(&target) || Path::new(&target).exists(),
            "database {target} does not exist\nhint: run `earshot ingest FILE` or `earshot demo` first, or pass --db"
        );
        self.open_with(config)
    }
}

/// A store target for messages: a URL's password replaced by `***`.
pub fn shown(target: &str) -> String {
    earshot_store::redact_url(target)
}

/// Shortens text to `max` characters on one line, for tables.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}
