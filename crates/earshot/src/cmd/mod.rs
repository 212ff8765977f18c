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

use anyhow::{Context, Result};
use earshot_store::SqliteStore;
use std::path::PathBuf;

/// The `--db` option shared by every command that reads or writes the store.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArg {
    /// Database file (created if missing).
    #[arg(long, env = "EARSHOT_DB", default_value = "earshot.db", value_name = "PATH")]
    pub db: PathBuf,
}

impl DbArg {
    /// Opens (and migrates) the store.
    pub fn open(&self) -> Result<SqliteStore> {
        SqliteStore::open(&self.db).with_context(|| format!("cannot use database {}", self.db.display()))
    }

    /// Opens an existing store, failing with a hint when it does not exist.
    pub fn open_existing(&self) -> Result<SqliteStore> {
        anyhow::ensure!(
            self.db.exists(),
            "database {} does not exist\nhint: run `earshot ingest FILE` or `earshot demo` first, or pass --db",
            self.db.display()
        );
        self.open()
    }
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
