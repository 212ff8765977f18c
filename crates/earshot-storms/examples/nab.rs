//! Scores the volume detector on a NAB corpus, the NAB way.
//!
//! ```text
//! cargo run --release -p earshot-storms --example nab -- DIR [SERIES.csv ...]
//! ```
//!
//! `DIR` holds `combined_windows.json` (and `profiles.json`) with the data
//! CSVs under `DIR/data` — NAB's repository, or a copy of part of it such as
//! `/work/shared/data/nab-realtweets`. It prints, for each profile, per-file
//! and overall normalized scores at threshold 0.5 (the detector's own
//! decision) and at NAB's corpus-optimized threshold; then a
//! leave-one-series-out check: for each file, the knobs are chosen on the
//! other files alone and the file is scored with them.
//!
//! Any further `SERIES.csv` is run through `detect_series` and summarized
//! (rows, bucket width, detections): a sanity anchor for series without
//! labels.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use earshot_storms::nab::{Corpus, CorpusFile, ThresholdReport};
use earshot_storms::series::{detect_series, score_points};
use earshot_storms::volume::VolumeConfig;

/// The knobs tuned in the leave-one-series-out check, with everything else
/// at its default.
fn grid() -> Vec<VolumeConfig> {
    let mut out = Vec::new();
    for alert_z in [5.0, 6.0, 7.0, 8.0, 9.0] {
        for memory_days in [7, 14, 28] {
            for rank in [1, 2, 3] {
                out.push(VolumeConfig { alert_z, memory_secs: memory_days * 86_400, rank, ..VolumeConfig::default() });
            }
        }
    }
    out
}

fn describe(c: &VolumeConfig) -> String {
    format!("alert_z={} memory={}d rank={}", c.alert_z, c.memory_secs / 86_400, c.rank)
}

fn run(file: &CorpusFile, config: &VolumeConfig) -> Vec<f64> {
    score_points(&file.unix_times(), &file.values, config)
}

fn print_report(label: &str, r: &ThresholdReport) {
    println!(
        "  {label:<10} threshold {:.4}  normalized {:6.2}  (raw {:.3}, null {:.1}, perfect {:.1})",
        r.threshold, r.normalized, r.raw, r.null, r.perfect
    );
    for f in &r.files {
        println!(
            "    {:<32} {:7.2}  windows {}/{}  fp rows {:3}  raw {:7.3}",
            f.file, f.normalized, f.detected, f.windows, f.row.fp, f.row.score
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: nab DIR [SERIES.csv ...]   (DIR holds combined_windows.json and data/)");
        return ExitCode::from(2);
    };
    let corpus = match Corpus::load(Path::new(dir)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for path in &corpus.unlabelled {
        println!("skipped (no labels): {}", path.display());
    }

    // 1. The defaults, on every profile.
    let defaults = VolumeConfig::default();
    println!("\nvolume detector, defaults: {}", describe(&defaults));
    let scores: Vec<Vec<f64>> = corpus.files.iter().map(|f| run(f, &defaults)).collect();
    let report = match corpus.score_results(&scores) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for p in &report.profiles {
        println!("\nprofile {}", p.profile.name);
        print_report("fixed", &p.fixed);
        print_report("optimized", &p.optimized);
    }

    // 2. Leave one series out: choose the knobs on the other files (standard
    //    profile, threshold 0.5), score the held-out file with them.
    let configs = grid();
    let all: Vec<Vec<Vec<f64>>> = configs.iter().map(|c| corpus.files.iter().map(|f| run(f, c)).collect()).collect();
    println!("\nleave-one-series-out (standard profile, threshold 0.5; {} configurations)", configs.len());
    let (mut raw, mut null, mut perfect) = (0.0, 0.0, 0.0);
    for held in 0..corpus.files.len() {
        let train = Corpus {
            files: corpus.files.iter().enumerate().filter(|(i, _)| *i != held).map(|(_, f)| f.clone()).collect(),
            profiles: corpus.profiles[..1].to_vec(),
            unlabelled: Vec::new(),
        };
        let test = Corpus {
            files: vec![corpus.files[held].clone()],
            profiles: corpus.profiles[..1].to_vec(),
            unlabelled: Vec::new(),
        };
        let mut best: Option<(f64, usize)> = None;
        for (k, per_file) in all.iter().enumerate() {
            let train_scores: Vec<Vec<f64>> =
                per_file.iter().enumerate().filter(|(i, _)| *i != held).map(|(_, s)| s.clone()).collect();
            let Ok(r) = train.score_results(&train_scores) else {
                continue;
            };
            let score = r.profiles[0].fixed.normalized;
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, k));
            }
        }
        let Some((train_score, k)) = best else {
            eprintln!("error: no configuration could be scored");
            return ExitCode::from(2);
        };
        let held_scores = vec![all[k][held].clone()];
        let r = match test.score_results(&held_scores) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let f = &r.profiles[0].fixed.files[0];
        raw += f.row.score;
        null += f.null;
        perfect += f.perfect;
        println!(
            "  held out {:<32} chosen {:<30} (train {:6.2})  held-out {:7.2}  windows {}/{}  fp rows {}",
            f.file,
            describe(&configs[k]),
            train_score,
            f.normalized,
            f.detected,
            f.windows,
            f.row.fp
        );
    }
    let pooled = if perfect == null { 0.0 } else { 100.0 * (raw - null) / (perfect - null) };
    println!("  pooled held-out normalized score {pooled:.2}");

    // 3. Unlabelled series: how many points the detector flags.
    for path in args.iter().skip(1).map(PathBuf::from) {
        let summary = std::fs::File::open(&path).map_err(|e| e.to_string()).and_then(|f| {
            detect_series(f, std::io::sink(), &VolumeConfig { bucket_secs: 0, ..defaults.clone() })
                .map_err(|e| e.to_string())
        });
        match summary {
            Ok(s) => println!(
                "\n{}: {} rows, {} s buckets{}, {} missing buckets, {} detections (score >= 0.5), max score {:.3}",
                path.display(),
                s.rows,
                s.bucket_secs,
                if s.inferred_width { " (inferred)" } else { "" },
                s.missing_buckets,
                s.detections,
                s.max_score
            ),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
