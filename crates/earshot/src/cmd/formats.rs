//! `earshot formats`: the input formats earshot reads.

use anyhow::Result;
use std::process::ExitCode;

pub fn run() -> Result<ExitCode> {
    for d in earshot_core::decode::registry() {
        println!("{:<10} {}", d.name(), d.description());
    }
    Ok(ExitCode::SUCCESS)
}
