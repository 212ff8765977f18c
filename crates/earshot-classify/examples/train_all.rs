//! Train every shipped classifier from the public data, write the model files, and print the metrics table.
//!
//! ```text
//! cargo run --release -p earshot-classify --example train_all -- --data /work/shared/data --out models/
//! cargo run --release -p earshot-classify --example train_all -- --data /work/shared/data --eval models/
//! ```
//! Training is deterministic: re-running it reproduces the files in `models/` byte for byte. `--eval DIR` skips
//! training and re-evaluates the models in `DIR` (what `earshot eval` does).

use std::path::PathBuf;
use std::process::ExitCode;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> ExitCode {
    let data = PathBuf::from(arg("--data").unwrap_or_else(|| "/work/shared/data".into()));
    let result = if let Some(dir) = arg("--eval") {
        earshot_classify::evaluate_all(&data, &PathBuf::from(dir))
    } else {
        let out = PathBuf::from(arg("--out").unwrap_or_else(|| "models".into()));
        earshot_classify::train_all(&data, &out)
    };
    match result {
        Ok(report) => {
            print!("{}", report.render());
            if report.tasks.iter().all(earshot_classify::tasks::TaskReport::passes) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
