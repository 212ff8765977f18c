//! Model-family / hyper-parameter exploration: evaluates a grid of configurations for one task under that task's
//! protocol and prints score, training time and single-core prediction speed.
//!
//! ```text
//! cargo run --release -p earshot-classify --example explore -- --data /work/shared/data --task complaint
//! ```
//! `--task` is one of complaint, severity, sentiment, issue, intent; `--grid NAME` picks a named grid (default
//! `main`). Only the configuration each task ships with (`Task::spec`) is used by `train_all`.

use std::path::PathBuf;
use std::time::Instant;

use earshot_classify::features::FeatureConfig;
use earshot_classify::tasks::{Spec, Task, evaluate_task, train_task};
use earshot_classify::{Algorithm, Quantization, Scratch, TrainConfig};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn specs(task: Task, grid: &str) -> Vec<(String, Spec)> {
    let base = FeatureConfig::default();
    let mut out = Vec::new();
    let mut add = |name: String, features: FeatureConfig, train: TrainConfig| {
        out.push((name, Spec { features, train, quantization: Quantization::F32 }));
    };
    let t = |algorithm, epochs, lr, l2| TrainConfig {
        algorithm,
        epochs,
        lr,
        l2,
        balanced: true,
        seed: 1,
        bag: 1,
        lbfgs: None,
    };
    let lr = Algorithm::Logistic;
    let nb = Algorithm::NbLogistic { alpha: 1.0 };
    match grid {
        "main" => {
            for (e, r, l2) in [(5, 0.1, 1e-6), (10, 0.1, 1e-6), (10, 0.3, 1e-6), (10, 0.1, 1e-5), (20, 0.05, 1e-6)] {
                add(format!("LR e{e} lr{r} l2{l2}"), base.clone(), t(lr, e, r, l2));
            }
            for (e, r, l2) in [(5, 0.1, 1e-6), (10, 0.1, 1e-6), (10, 0.03, 1e-6), (10, 0.1, 1e-5), (20, 0.05, 1e-6)] {
                add(format!("NBLR e{e} lr{r} l2{l2}"), base.clone(), t(nb, e, r, l2));
            }
            for (d, e, r) in [(32, 10, 0.5), (64, 10, 0.5), (32, 20, 0.2)] {
                add(
                    format!("fastText d{d} e{e} lr{r}"),
                    FeatureConfig { bits: 18, ..base.clone() },
                    t(Algorithm::FastText { dim: d }, e, r, 0.0),
                );
            }
        }
        "features" => {
            let best = task.spec().train;
            let base = task.spec().features;
            for (name, f) in [
                ("words1 only", FeatureConfig { word_ngrams: 1, char_min: 0, vader: false, ..base.clone() }),
                ("words1-2", FeatureConfig { char_min: 0, vader: false, ..base.clone() }),
                ("words1-2 + chars2-5", FeatureConfig { vader: false, ..base.clone() }),
                ("words1-2 + chars2-5 + vader (default)", base.clone()),
                ("words1-3 + chars2-5 + vader", FeatureConfig { word_ngrams: 3, ..base.clone() }),
                ("words1-2 + chars1-4 + vader", FeatureConfig { char_min: 1, char_max: 4, ..base.clone() }),
                ("words1-2 + chars3-6 + vader", FeatureConfig { char_min: 3, char_max: 6, ..base.clone() }),
                ("bits 18", FeatureConfig { bits: 18, ..base.clone() }),
                ("bits 22", FeatureConfig { bits: 22, ..base.clone() }),
                ("vader x3", FeatureConfig { dense_scale: 3.0, ..base.clone() }),
            ] {
                add(name.to_owned(), f, best.clone());
            }
        }
        "shipped" => add("shipped".into(), base.clone(), task.spec().train),
        // `--configs "nb:10:0.1:1e-3,lr:5:0.1:0,ft32:10:0.5:0"`: algorithm:epochs:lr:l2, comma separated.
        "custom" => {
            for c in arg("--configs").expect("--configs").split(',') {
                let p: Vec<&str> = c.split(':').collect();
                let algorithm = match p[0] {
                    "lr" => lr,
                    "nb" => nb,
                    "blend" => Algorithm::LogisticNbBlend { alpha: 1.0 },
                    f if f.starts_with("ft") => Algorithm::FastText { dim: f[2..].parse().expect("dim") },
                    a => panic!("unknown algorithm {a}"),
                };
                let base = if p.get(4) == Some(&"raw") {
                    FeatureConfig { l2_normalize: false, ..base.clone() }
                } else {
                    base.clone()
                };
                let features = if matches!(algorithm, Algorithm::FastText { .. }) {
                    FeatureConfig { bits: 18, ..base.clone() }
                } else {
                    base.clone()
                };
                let mut tc =
                    t(algorithm, p[1].parse().expect("epochs"), p[2].parse().expect("lr"), p[3].parse().expect("l2"));
                // `lbfgsC` e.g. `lbfgs0.3`: exact solve with scikit-learn's C (epochs field = max iterations).
                if let Some(c) = p.iter().find_map(|x| x.strip_prefix("lbfgs")) {
                    tc.lbfgs = Some(earshot_classify::Lbfgs { c: c.parse().expect("C"), max_iter: tc.epochs });
                }
                if let Some(b) = p.iter().find_map(|x| x.strip_prefix("bag")) {
                    tc.bag = b.parse().expect("bag");
                }
                add(c.to_owned(), features, tc);
            }
        }
        g => panic!("unknown grid {g}"),
    }
    out
}

fn main() {
    let data = PathBuf::from(arg("--data").unwrap_or_else(|| "/work/shared/data".into()));
    let task_name = arg("--task").unwrap_or_else(|| "complaint".into());
    let grid = arg("--grid").unwrap_or_else(|| "main".into());
    let task = *Task::ALL.iter().find(|t| t.name() == task_name).expect("unknown task");
    let (primary, _) = task.primary_metric();
    // Speed is measured on TweetEval val texts (typical tweets), single thread, featurization + VADER included.
    let speed_texts = earshot_classify::data::load_tweeteval(&data, "val").expect("val").texts;
    println!("| task | config | {primary} | other | eval wall s | predict texts/s |");
    println!("|---|---|---|---|---|---|");
    for (name, mut spec) in specs(task, &grid) {
        let t0 = Instant::now();
        let r = evaluate_task(task, &data, &spec, None).expect("eval");
        let secs = t0.elapsed().as_secs_f64();
        // Speed: train a small model with the same config (complaint data, fast) and time prediction.
        spec.quantization = Quantization::F32;
        let clf = if task == Task::Sentiment {
            None
        } else {
            Some(
                train_task(
                    Task::Complaint,
                    &data,
                    &Spec {
                        features: spec.features.clone(),
                        train: TrainConfig { epochs: 1, ..spec.train.clone() },
                        quantization: spec.quantization,
                    },
                    None,
                )
                .expect("train"),
            )
        };
        let speed = clf.map_or(f64::NAN, |c| {
            let mut s = Scratch::default();
            let t = Instant::now();
            let mut n = 0usize;
            let mut sink = 0usize;
            for _ in 0..3 {
                for txt in &speed_texts {
                    sink += c.predict_index_with(&mut s, txt);
                    n += 1;
                }
            }
            std::hint::black_box(sink);
            n as f64 / t.elapsed().as_secs_f64()
        });
        let others: Vec<String> =
            r.metrics.iter().filter(|(k, _)| **k != primary).map(|(k, v)| format!("{k}={v:.4}")).collect();
        println!(
            "| {} | {name} | {:.4} | {} | {secs:.1} | {speed:.0} |",
            task.name(),
            r.primary_value(),
            others.join(" ")
        );
    }
}
