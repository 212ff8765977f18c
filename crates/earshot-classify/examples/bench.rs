//! Single-core prediction speed of the shipped models, each alone and all five on every text, plus the spread of
//! the complaint CV score over fold seeds (how much of the margin over the floor is split luck).
//!
//! ```text
//! cargo run --release -p earshot-classify --example bench -- --data /work/shared/data --models models
//! ```

use std::path::PathBuf;
use std::time::Instant;

use earshot_classify::model::Matrix;
use earshot_classify::tasks::{Task, complaint_data};
use earshot_classify::{Classifier, Featurizer, Scratch, cross_validate};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let data = PathBuf::from(arg("--data").unwrap_or_else(|| "/work/shared/data".into()));
    let models = PathBuf::from(arg("--models").unwrap_or_else(|| "models".into()));
    let texts = earshot_classify::data::load_tweeteval(&data, "val").expect("val").texts;
    let clfs: Vec<Classifier> =
        Task::ALL.iter().map(|t| Classifier::load_path(models.join(t.file_name())).expect("model")).collect();
    let mut scratch = Scratch::default();
    let reps = 5;
    let mut sink = 0usize;
    for (t, c) in Task::ALL.iter().zip(&clfs) {
        let t0 = Instant::now();
        for _ in 0..reps {
            for x in &texts {
                sink += c.predict_index_with(&mut scratch, x);
            }
        }
        let rate = (reps * texts.len()) as f64 / t0.elapsed().as_secs_f64();
        println!("{:<10} {:>9.0} texts/s", t.name(), rate);
    }
    let t0 = Instant::now();
    for _ in 0..reps {
        for x in &texts {
            for c in &clfs {
                sink += c.predict_index_with(&mut scratch, x);
            }
        }
    }
    let rate = (reps * texts.len()) as f64 / t0.elapsed().as_secs_f64();
    println!("{:<10} {:>9.0} texts/s (all five models, each Classifier::predict_index_with)", "all", rate);
    let set = earshot_classify::ClassifierSet::new(clfs.clone());
    let mut ss = earshot_classify::SetScratch::default();
    let t0 = Instant::now();
    for _ in 0..reps {
        for x in &texts {
            set.for_each_proba(&mut ss, x, |i, p| sink += i + earshot_classify::classifier::argmax(p));
        }
    }
    let rate = (reps * texts.len()) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "{:<10} {:>9.0} texts/s (all five models via ClassifierSet: {} feature extraction(s) per text)",
        "set",
        rate,
        set.n_feature_groups()
    );
    let mut f = Featurizer::new(clfs[0].header().features.clone());
    let mut v = earshot_classify::features::SparseVec::default();
    let t0 = Instant::now();
    for _ in 0..reps {
        for x in &texts {
            f.featurize(x, &mut v);
            sink += v.len();
        }
    }
    println!(
        "{:<10} {:>9.0} texts/s (featurize only, with VADER)",
        "features",
        (reps * texts.len()) as f64 / t0.elapsed().as_secs_f64()
    );
    std::hint::black_box(sink);

    if arg("--seeds").is_some() {
        let spec = Task::Complaint.spec();
        let d = complaint_data(&data).expect("data");
        let mut f = Featurizer::new(spec.features.clone());
        let x = Matrix::from_texts(&mut f, &d.texts);
        let mut scores = Vec::new();
        for seed in [1u64, 2, 3, 4, 5, 42] {
            let r = cross_validate(&x, &d.y, 2, &spec.train, 10, seed);
            println!("complaint cv10 seed {seed}: macro F1 {:.4}", r.mean_macro_f1());
            scores.push(r.mean_macro_f1());
        }
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
        println!("complaint cv10 over {} fold seeds: mean {mean:.4}, min {min:.4}", scores.len());
    }
}
