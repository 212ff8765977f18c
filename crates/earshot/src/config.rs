//! Finding and reading `earshot.toml`.

use anyhow::{Context, Result};
use earshot_core::brand::{BrandConfig, BrandsFile};
use std::path::{Path, PathBuf};

/// The default config file looked for in the working directory.
pub const DEFAULT_CONFIG: &str = "earshot.toml";

/// Resolves which config file to read: the explicit one (must exist), else
/// `./earshot.toml` when present, else none.
pub fn resolve(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    match explicit {
        Some(p) => {
            anyhow::ensure!(
                p.is_file(),
                "config file {} does not exist\nhint: create it with [[brands]] entries (see README), or leave out --config",
                p.display()
            );
            Ok(Some(p.to_path_buf()))
        }
        None => {
            let p = PathBuf::from(DEFAULT_CONFIG);
            Ok(p.is_file().then_some(p))
        }
    }
}

/// Reads the `[[brands]]` of a config file.
pub fn load_brands(path: &Path) -> Result<Vec<BrandConfig>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let file = BrandsFile::from_toml(&text).with_context(|| format!("in config file {}", path.display()))?;
    Ok(file.brands)
}

/// The stream of distributed mode, from a config file: `stream = "nats://HOST:PORT"` (then `earshot ingest`
/// publishes instead of storing, and `earshot worker` consumes). `None` when the file does not say.
pub fn load_stream(path: &Path) -> Result<Option<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let table: toml::Table = text.parse().with_context(|| format!("in config file {}", path.display()))?;
    match table.get("stream") {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => anyhow::bail!("in config file {}: stream must be a string (nats://HOST:PORT)", path.display()),
    }
}

/// Where the store is, from a config file: `storage = "postgres://…"` (or a SQLite path), or the same as
/// `[storage] url = "…"`. `None` when the file does not say.
pub fn load_storage(path: &Path) -> Result<Option<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let table: toml::Table = text.parse().with_context(|| format!("in config file {}", path.display()))?;
    match table.get("storage") {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(toml::Value::Table(t)) => match t.get("url") {
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            None => Ok(None),
            Some(_) => anyhow::bail!("in config file {}: [storage] url must be a string", path.display()),
        },
        Some(_) => anyhow::bail!(
            "in config file {}: storage must be a string (a SQLite path or a postgres:// URL)",
            path.display()
        ),
    }
}
