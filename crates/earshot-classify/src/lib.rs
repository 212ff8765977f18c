//! Learned text classifiers for customer-care posts.
//!
//! Earshot trains these models itself from public labeled data (`shared/data`) and ships the results in `models/`:
//!
//! | task | labels | trained on |
//! |---|---|---|
//! | `complaint` | `not_complaint`, `complaint` | complaints (Preoţiuc-Pietro et al. 2019) |
//! | `severity` | `no_explicit_reproach`, `disapproval`, `accusation`, `blame` | complaints with severity (Jin & Aletras 2021) |
//! | `sentiment` | `negative`, `neutral`, `positive` | TweetEval sentiment (SemEval-2017 4A) |
//! | `issue` | `defect_or_damage`, `late_or_missing_delivery`, `cancellation`, `refund_or_billing`, `account_or_login`, `out_of_stock`, `rude_or_slow_service`, `other` | airline negative reasons + TWCS topics |
//! | `intent` | `complaint`, `question`, `request`, `praise`, `feedback`, `other` | weak labels, see [`tasks`] |
//!
//! Use [`Classifier`] for one model and [`ClassifierSet`] to run several on a firehose: it tokenizes once per text,
//! reads all models' weights for a feature in one memory access, and caches each word's summed weights per thread
//! (see `BENCHMARKS.md` for the measured speed).
//!
//! Pipeline: [`tokenize`] → [`features`] (counted, hashed word 1–2-grams and char 2–5-grams within words, VADER
//! scores) → a linear model ([`model`]) → softmax. Models are files in a small versioned binary [`format`].
//!
//! ```no_run
//! use earshot_classify::Classifier;
//! let clf = Classifier::load(&std::fs::read("models/complaint.eclf").unwrap()).unwrap();
//! let p = clf.predict("@united lost my bag again, worst airline ever");
//! assert_eq!(p.label, "complaint");
//! ```

pub mod classifier;
pub mod cv;
pub mod data;
pub mod features;
pub mod format;
pub mod hash;
pub mod lbfgs;
pub mod metrics;
pub mod model;
pub mod rng;
pub mod tasks;
pub mod tokenize;

pub use classifier::{Classifier, ClassifierSet, Prediction, Scratch, SetLoadError, SetScratch};
pub use cv::{CvResult, cross_validate};
pub use features::{FeatureConfig, Featurizer};
pub use format::{ModelError, ModelHeader, Quantization};
pub use metrics::{Confusion, accuracy, macro_f1, macro_recall};
pub use model::{Algorithm, Lbfgs, Model, TrainConfig};
pub use tasks::{Report, evaluate_all, train_all};
