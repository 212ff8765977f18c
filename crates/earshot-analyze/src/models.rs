//! The learned classifiers (complaint, severity, sentiment, issue, intent),
//! shipped in the repository's `models/` and embedded in the binary so no
//! model is ever fetched at run time. `earshot train` reproduces them from
//! `shared/data`; [`Models::load_dir`] uses re-trained ones instead.

use earshot_classify::{ClassifierSet, SetScratch};
use std::cell::RefCell;
use std::path::Path;
use std::sync::LazyLock;

/// The tasks, in the order their classifiers sit in the set.
pub const TASKS: [&str; 5] = ["complaint", "severity", "sentiment", "issue", "intent"];

// `SHIPPED`: the model files, embedded, with their versions (digests computed by `build.rs`).
include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// Why models could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// A model file is missing or invalid.
    #[error("cannot load the {task} model from {path}: {source}\nhint: run `earshot train --out DIR` to build models")]
    Load {
        /// The task.
        task: &'static str,
        /// Where it was looked for.
        path: String,
        /// Why.
        source: earshot_classify::ModelError,
    },
}

/// The five classifiers, fused so features are extracted once per text.
#[derive(Debug)]
pub struct Models {
    set: ClassifierSet,
    versions: Vec<String>,
    /// What an analysis records: the rule-based analyzers' versions, then [`Models::versions`].
    analysis_versions: Vec<String>,
}

/// One task's labels and their probabilities for a text.
#[derive(Debug, Clone, Copy)]
pub struct TaskScores<'a> {
    /// Label names, in the model's order.
    pub labels: &'a [String],
    /// Probability of each label.
    pub probs: &'a [f32],
}

impl<'a> TaskScores<'a> {
    /// The most probable label (the first on ties) and its probability.
    pub fn top(&self) -> (&'a str, f32) {
        let best = earshot_classify::classifier::argmax(self.probs);
        (self.labels.get(best).map_or("", String::as_str), self.probs.get(best).copied().unwrap_or(0.0))
    }

    /// The probability of `label` (0 when the model has no such label).
    pub fn prob(&self, label: &str) -> f32 {
        self.labels.iter().position(|l| l == label).map_or(0.0, |i| self.probs[i])
    }
}

/// Class probabilities of one text for every task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// `(label, probability)` per task, in [`TASKS`] order.
    pub tasks: Vec<Vec<(String, f32)>>,
}

thread_local! {
    static SCRATCH: RefCell<SetScratch> = RefCell::new(SetScratch::default());
}

/// FNV-1a over a model file, so the stored version changes whenever the weights do.
fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

impl Models {
    /// The models shipped in the binary (loaded once per process).
    pub fn shipped() -> &'static Models {
        static MODELS: LazyLock<Models> = LazyLock::new(|| {
            let bytes: Vec<&[u8]> = SHIPPED.iter().map(|(_, bytes, _)| *bytes).collect();
            // The shipped files are checked by tests; a corrupt one is a build defect.
            let set = ClassifierSet::from_bytes(&bytes).unwrap_or_else(|e| panic!("a shipped model is invalid: {e}"));
            let versions = SHIPPED.iter().map(|(_, _, version)| (*version).to_string()).collect();
            Models::new(set, versions)
        });
        &MODELS
    }

    /// Loads `<task>.eclf` files from a directory (e.g. models re-trained on your own data).
    pub fn load_dir(dir: &Path) -> Result<Models, ModelsError> {
        let paths: Vec<_> = TASKS.iter().map(|task| dir.join(format!("{task}.eclf"))).collect();
        let load_error = |i: usize, source: earshot_classify::ModelError| ModelsError::Load {
            task: TASKS[i],
            path: paths[i].display().to_string(),
            source,
        };
        let files = paths
            .iter()
            .enumerate()
            .map(|(i, path)| std::fs::read(path).map_err(|e| load_error(i, e.into())))
            .collect::<Result<Vec<_>, _>>()?;
        let bytes: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let set = ClassifierSet::from_bytes(&bytes).map_err(|e| load_error(e.file, e.source))?;
        let versions = TASKS.iter().zip(&files).map(|(task, bytes)| format!("{task}-{}", digest(bytes))).collect();
        Ok(Models::new(set, versions))
    }

    fn new(set: ClassifierSet, versions: Vec<String>) -> Models {
        let mut analysis_versions: Vec<String> = crate::RULE_VERSIONS.iter().map(|v| (*v).to_string()).collect();
        analysis_versions.extend(versions.iter().cloned());
        Models { set, versions, analysis_versions }
    }

    /// The labels of task `i` (in [`TASKS`] order).
    pub fn task_labels(&'static self, i: usize) -> &'static [String] {
        self.set.labels(i)
    }

    /// The versions an analysis made with these models records.
    pub fn analysis_versions(&'static self) -> &'static [String] {
        &self.analysis_versions
    }

    /// Calls `f` with every task's scores for `text` (in [`TASKS`] order) without allocating. `vader` passes
    /// VADER's scores when the caller already has them.
    pub fn with_scores<R>(
        &self,
        text: &str,
        vader: Option<&earshot_vader::Polarity>,
        f: impl FnOnce(&[TaskScores<'_>; 5]) -> R,
    ) -> R {
        SCRATCH.with(|s| {
            let mut scratch = s.borrow_mut();
            let probs = self.set.probas(&mut scratch, text, vader);
            let task = |i: usize| TaskScores { labels: self.set.labels(i), probs: &probs[i] };
            f(&[task(0), task(1), task(2), task(3), task(4)])
        })
    }

    /// `task-digest` for each model.
    pub fn versions(&self) -> &[String] {
        &self.versions
    }

    /// Every task's class probabilities for `text`.
    pub fn scores(&self, text: &str) -> Scores {
        let mut tasks = vec![Vec::new(); TASKS.len()];
        SCRATCH.with(|s| {
            self.set.for_each_proba(&mut s.borrow_mut(), text, |i, probs| {
                let labels = self.set.labels(i);
                tasks[i] = labels.iter().cloned().zip(probs.iter().copied()).collect();
            });
        });
        Scores { tasks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_time_versions_are_the_digests_of_the_embedded_files() {
        for (i, (task, bytes, version)) in SHIPPED.iter().enumerate() {
            assert_eq!(*task, TASKS[i]);
            assert_eq!(*version, format!("{task}-{}", digest(bytes)));
        }
    }

    #[test]
    fn shipped_models_load_and_agree_with_common_sense() {
        let m = Models::shipped();
        assert_eq!(m.versions().len(), 5);
        let s = m.scores("@united lost my bag AGAIN, worst airline ever, I want a refund");
        let complaint = s.tasks[0].iter().find(|(l, _)| l == "complaint").map(|(_, p)| *p).unwrap();
        assert!(complaint > 0.5, "{s:?}");
        let s = m.scores("thank you so much, you guys are the best! love it");
        let complaint = s.tasks[0].iter().find(|(l, _)| l == "complaint").map(|(_, p)| *p).unwrap();
        assert!(complaint < 0.5, "{s:?}");
    }
}
