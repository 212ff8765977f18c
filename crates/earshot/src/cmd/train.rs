//! `earshot train` and `earshot eval`: reproduce and measure the shipped classifiers.

use anyhow::{Context as _, Result};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The labeled public data (see shared/data/README.md).
    #[arg(long, default_value = "../shared/data", value_name = "DIR")]
    pub data: PathBuf,
    /// Where to write the models (`models/` reproduces the shipped files byte for byte).
    #[arg(long, default_value = "models", value_name = "DIR")]
    pub out: PathBuf,
}

/// Arguments of `earshot eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The labeled public data.
    #[arg(long, default_value = "../shared/data", value_name = "DIR")]
    pub data: PathBuf,
    /// The models to evaluate.
    #[arg(long, default_value = "models", value_name = "DIR")]
    pub models: PathBuf,
}

fn check_data(dir: &std::path::Path) -> Result<()> {
    anyhow::ensure!(
        dir.join("complaints/train.csv").exists(),
        "no labeled data in {}\nhint: pass --data with the folder holding complaints/, tweeteval-sentiment/, airline-sentiment/ and twcs-intents/",
        dir.display()
    );
    Ok(())
}

pub fn train(args: TrainArgs) -> Result<ExitCode> {
    check_data(&args.data)?;
    let report = earshot_classify::train_all(&args.data, &args.out)
        .with_context(|| format!("training models from {}", args.data.display()))?;
    print!("{}", report.render());
    println!("models written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn eval(args: EvalArgs) -> Result<ExitCode> {
    check_data(&args.data)?;
    let report = earshot_classify::evaluate_all(&args.data, &args.models)
        .with_context(|| format!("evaluating models in {}", args.models.display()))?;
    print!("{}", report.render());
    Ok(ExitCode::SUCCESS)
}
