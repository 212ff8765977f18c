//! The shipped tasks: how each one's training data is assembled from `shared/data`, how it is evaluated, the
//! configuration it ships with, and [`train_all`] / [`evaluate_all`] (what `earshot train` / `earshot eval` call).
//!
//! # Label decisions
//!
//! **Severity.** Jin & Aletras (NAACL 2021) annotate *complaints* with four severity levels and report 55.7 macro
//! F1 for "four severity categories"; non-complaints have no severity. We therefore read the published number as
//! 4-class macro F1 over complaints only (levels 1–4: no explicit reproach, disapproval, accusation, blame) and
//! evaluate the same way: 10-fold stratified CV over the 859 complaints that have a severity (3 complaints have
//! none after the upstream join and are dropped).
//!
//! **Issue type** (what went wrong), one taxonomy for every brand. Airline `negativereason` →
//! - `Late Flight` → `late_or_missing_delivery` (the service did not arrive on time);
//! - `Lost Luggage` → `late_or_missing_delivery` (the customer's goods did not arrive);
//! - `Cancelled Flight` → `cancellation`;
//! - `Damaged Luggage` → `defect_or_damage`;
//! - `Bad Flight` → `defect_or_damage` (the product itself was faulty: broken seats, Wi-Fi, mechanical trouble);
//! - `Customer Service Issue`, `Flight Attendant Complaints`, `longlines` → `rude_or_slow_service`;
//! - `Flight Booking Problems` → `account_or_login`: reading the tweets, they are mostly self-service failures
//!   (booking site errors, reservations vanishing from the account, cannot change a ticket online), not money;
//! - `Can't Tell` → `other`; non-negative tweets are not used (issue type is only meaningful for complaints).
//!
//! TWCS topics (Kecht et al. 2021, multi-label; the first match in this order wins): `Order Cancellation` →
//! `cancellation`; `Refund`, `Return`, `Billing/Payment`, `Student Subscription`, `Family Subscription` →
//! `refund_or_billing`; `Account` → `account_or_login`; `Delivery` → `late_or_missing_delivery`; `Packaging`,
//! `Replacement`, `Battery`, `Unresponsive/Freezing Device`, `Update` → `defect_or_damage` (damaged goods or a
//! faulty product/software); `Song/Artist` → `out_of_stock` (the item the customer wants is not in the catalogue:
//! the only availability signal in the data); `Bad Support` → `rude_or_slow_service`; any other row → `other`.
//!
//! **Intent** has no labeled set. See [`intent_weak_label`] for the rules and their order.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::classifier::{Classifier, argmax};
use crate::cv::{cross_validate, predict_rows, stratified_holdout};
use crate::data::{self, DataError};
use crate::features::{FeatureConfig, Featurizer};
use crate::format::{DataInfo, FORMAT_VERSION, ModelHeader, Quantization};
use crate::hash::{Digest, HASH_ID};
use crate::metrics::Confusion;
use crate::model::{Algorithm, Lbfgs, Matrix, Model, TrainConfig, train};

/// Errors from training/evaluation.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Loading data failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Reading a model failed.
    #[error("{path}: {source}")]
    Model {
        /// Model path.
        path: PathBuf,
        /// Cause.
        source: crate::format::ModelError,
    },
    /// Writing a model failed.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// The shipped tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Task {
    /// Complaint vs not.
    Complaint,
    /// Severity of a complaint (4 levels).
    Severity,
    /// Negative / neutral / positive.
    Sentiment,
    /// What went wrong.
    Issue,
    /// What the customer wants.
    Intent,
}

impl Task {
    /// All tasks, in training order (intent uses the complaint model as a teacher, so it comes last).
    pub const ALL: [Self; 5] = [Self::Complaint, Self::Severity, Self::Sentiment, Self::Issue, Self::Intent];

    /// Short name; also the model file stem.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Complaint => "complaint",
            Self::Severity => "severity",
            Self::Sentiment => "sentiment",
            Self::Issue => "issue",
            Self::Intent => "intent",
        }
    }

    /// Model file name inside the models directory.
    #[must_use]
    pub fn file_name(self) -> String {
        format!("{}.eclf", self.name())
    }

    /// Label names in score order.
    #[must_use]
    pub fn labels(self) -> &'static [&'static str] {
        match self {
            Self::Complaint => &["not_complaint", "complaint"],
            Self::Severity => &["no_explicit_reproach", "disapproval", "accusation", "blame"],
            Self::Sentiment => &["negative", "neutral", "positive"],
            Self::Issue => &ISSUE_LABELS,
            Self::Intent => &INTENT_LABELS,
        }
    }

    /// The metric the task is judged by, and the floor it must reach (`None`: no floor, report only).
    #[must_use]
    pub fn primary_metric(self) -> (&'static str, Option<f64>) {
        match self {
            Self::Complaint => ("cv10_macro_f1", Some(0.82)),
            Self::Severity => ("cv10_macro_f1", None),
            Self::Sentiment => ("val_macro_recall", Some(0.66)),
            Self::Issue => ("holdout_macro_f1", None),
            Self::Intent => ("holdout_weak_macro_f1", None),
        }
    }

    /// The configuration this task ships with (chosen by the experiments in `examples/explore.rs`).
    #[must_use]
    pub fn spec(self) -> Spec {
        let features = FeatureConfig::default();
        let nblr = |epochs, lr, l2| TrainConfig {
            algorithm: Algorithm::NbLogistic { alpha: 1.0 },
            epochs,
            lr,
            l2,
            balanced: true,
            seed: 1,
            bag: 1,
            lbfgs: None,
        };
        let lr = |epochs, lr, l2| TrainConfig {
            algorithm: Algorithm::Logistic,
            epochs,
            lr,
            l2,
            balanced: true,
            seed: 1,
            bag: 1,
            lbfgs: None,
        };
        match self {
            Self::Complaint => Spec {
                features: FeatureConfig { l2_normalize: false, ..features },
                train: TrainConfig { lbfgs: Some(Lbfgs { c: 0.1, max_iter: 300 }), ..nblr(0, 0.0, 0.0) },
                quantization: Quantization::F16,
            },
            Self::Severity => Spec {
                features: FeatureConfig { l2_normalize: false, ..features },
                train: TrainConfig { lbfgs: Some(Lbfgs { c: 0.01, max_iter: 300 }), ..lr(0, 0.0, 0.0) },
                quantization: Quantization::F16,
            },
            Self::Sentiment => Spec {
                features,
                train: TrainConfig { algorithm: Algorithm::LogisticNbBlend { alpha: 1.0 }, ..lr(5, 0.1, 1e-6) },
                quantization: Quantization::F16,
            },
            Self::Issue => Spec {
                features: FeatureConfig { l2_normalize: false, ..features },
                train: TrainConfig { lbfgs: Some(Lbfgs { c: 0.02, max_iter: 300 }), ..lr(0, 0.0, 0.0) },
                quantization: Quantization::F16,
            },
            Self::Intent => Spec { features, train: lr(5, 0.1, 1e-6), quantization: Quantization::F16 },
        }
    }
}

/// Issue-type labels.
pub const ISSUE_LABELS: [&str; 8] = [
    "defect_or_damage",
    "late_or_missing_delivery",
    "cancellation",
    "refund_or_billing",
    "account_or_login",
    "out_of_stock",
    "rude_or_slow_service",
    "other",
];

/// Intent labels.
pub const INTENT_LABELS: [&str; 6] = ["complaint", "question", "request", "praise", "feedback", "other"];

/// Features + training + storage settings of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Feature extraction.
    pub features: FeatureConfig,
    /// Trainer.
    pub train: TrainConfig,
    /// On-disk weight encoding.
    pub quantization: Quantization,
}

/// Texts with labels plus provenance.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Texts.
    pub texts: Vec<String>,
    /// Labels (indices into the task's labels).
    pub y: Vec<u32>,
    /// Source files relative to the data dir.
    pub sources: Vec<String>,
}

impl Dataset {
    fn push(&mut self, text: &str, y: u32) {
        self.texts.push(text.to_owned());
        self.y.push(y);
    }

    fn digest(&self) -> String {
        let mut d = Digest::default();
        for (t, y) in self.texts.iter().zip(&self.y) {
            d.update(t.as_bytes());
            d.update(&y.to_le_bytes());
        }
        d.hex()
    }

    fn class_counts(&self, n: usize) -> Vec<usize> {
        let mut c = vec![0; n];
        for &y in &self.y {
            c[y as usize] += 1;
        }
        c
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Data assembly

/// Complaint detection data: every row of `complaints/train.csv`.
///
/// # Errors
/// When the data cannot be read.
pub fn complaint_data(data_dir: &Path) -> Result<Dataset, TaskError> {
    let mut d = Dataset { sources: vec!["complaints/train.csv".into()], ..Dataset::default() };
    for r in data::load_complaints(data_dir)? {
        d.push(&r.text, u32::from(r.complaint));
    }
    Ok(d)
}

/// Severity data: complaints with a severity 1–4, labelled 0–3.
///
/// # Errors
/// When the data cannot be read.
pub fn severity_data(data_dir: &Path) -> Result<Dataset, TaskError> {
    let mut d = Dataset { sources: vec!["complaints/train.csv".into()], ..Dataset::default() };
    for r in data::load_complaints(data_dir)? {
        if let (true, Some(s @ 1..=4)) = (r.complaint, r.severity) {
            d.push(&r.text, u32::from(s - 1));
        }
    }
    Ok(d)
}

/// TweetEval sentiment `train` or `val`.
///
/// # Errors
/// When the data cannot be read.
pub fn sentiment_data(data_dir: &Path, split: &str) -> Result<Dataset, TaskError> {
    let t = data::load_tweeteval(data_dir, split)?;
    Ok(Dataset {
        texts: t.texts,
        y: t.labels,
        sources: vec![
            format!("tweeteval-sentiment/{split}_text.txt"),
            format!("tweeteval-sentiment/{split}_labels.txt"),
        ],
    })
}

fn issue_index(label: &str) -> u32 {
    ISSUE_LABELS.iter().position(|l| *l == label).expect("known issue label") as u32
}

/// Map an airline `negativereason` to the issue taxonomy (see the module docs for why).
#[must_use]
pub fn airline_reason_to_issue(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "Late Flight" | "Lost Luggage" => "late_or_missing_delivery",
        "Cancelled Flight" => "cancellation",
        "Damaged Luggage" | "Bad Flight" => "defect_or_damage",
        "Customer Service Issue" | "Flight Attendant Complaints" | "longlines" => "rude_or_slow_service",
        "Flight Booking Problems" => "account_or_login",
        "Can't Tell" => "other",
        _ => return None,
    })
}

/// Map a set of TWCS topics to one issue label (first match in priority order; `other` when none matches).
#[must_use]
pub fn twcs_topics_to_issue(topics: &[String]) -> &'static str {
    const ORDER: [(&str, &[&str]); 7] = [
        ("cancellation", &["Order Cancellation"]),
        ("refund_or_billing", &["Refund", "Return", "Billing/Payment", "Student Subscription", "Family Subscription"]),
        ("account_or_login", &["Account"]),
        ("late_or_missing_delivery", &["Delivery"]),
        ("defect_or_damage", &["Packaging", "Replacement", "Battery", "Unresponsive/Freezing Device", "Update"]),
        ("out_of_stock", &["Song/Artist"]),
        ("rude_or_slow_service", &["Bad Support"]),
    ];
    for (label, names) in ORDER {
        if topics.iter().any(|t| names.contains(&t.as_str())) {
            return label;
        }
    }
    "other"
}

/// Issue data from the airline set: negative tweets with a reason, in file order.
///
/// # Errors
/// When the data cannot be read.
pub fn issue_airline_data(data_dir: &Path) -> Result<Dataset, TaskError> {
    let mut d = Dataset { sources: vec!["airline-sentiment/train.csv".into()], ..Dataset::default() };
    for r in data::load_airline(data_dir)? {
        if r.sentiment != "negative" {
            continue;
        }
        if let Some(label) = r.reason.as_deref().and_then(airline_reason_to_issue) {
            d.push(&r.text, issue_index(label));
        }
    }
    Ok(d)
}

/// Issue data from the 600 labeled TWCS customer tweets.
///
/// # Errors
/// When the data cannot be read.
pub fn issue_twcs_data(data_dir: &Path) -> Result<Dataset, TaskError> {
    let mut d = Dataset::default();
    for b in data::TWCS_INTENT_BRANDS {
        d.sources.push(format!("twcs-intents/data/labeled/twcs-{b}-200-inbound.csv"));
    }
    for r in data::load_twcs_topics(data_dir)? {
        d.push(&r.text, issue_index(twcs_topics_to_issue(&r.topics)));
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------------------------------
// Intent weak labels

/// Where an intent training text came from, and what gold-ish signal it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentSignal {
    /// Hand-labelled complaint (complaints set) or a negative airline tweet with a concrete reason, or TWCS `Bad
    /// Support`.
    GoldComplaint,
    /// Hand-labelled *not* a complaint (complaints set).
    GoldNotComplaint,
    /// Hand-labelled positive (airline) or TWCS `Service Praise`.
    Positive,
    /// Hand-labelled neutral (airline).
    Neutral,
    /// Unlabelled customer tweet: the complaint model (teacher) decides complaint vs not.
    Unlabelled,
}

fn has_word(text: &str, words: &[&str]) -> bool {
    // `text` is lowercased; a word matches at token boundaries.
    words.iter().any(|w| {
        text.match_indices(w).any(|(i, _)| {
            let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            let after = text[i + w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            before && after
        })
    })
}

const FEEDBACK: [&str; 22] = [
    "you should",
    "should add",
    "should make",
    "should bring",
    "would be nice",
    "would be great",
    "would be cool",
    "would love",
    "suggest",
    "suggestion",
    "feature request",
    "please add",
    "pls add",
    "plz add",
    "bring back",
    "add an option",
    "option to",
    "i wish",
    "wish you",
    "it'd be",
    "idea",
    "feedback",
];
const REQUEST: [&str; 26] = [
    "please",
    "pls",
    "plz",
    "help me",
    "i need",
    "need help",
    "need you",
    "can you",
    "can u",
    "could you",
    "could u",
    "would you",
    "will you",
    "dm me",
    "call me",
    "email me",
    "send me",
    "fix this",
    "fix it",
    "fix my",
    "sort this",
    "sort it",
    "look into",
    "let me know",
    "get back to me",
    "contact me",
];
const QUESTION_START: [&str; 18] = [
    "how", "what", "why", "when", "where", "who", "which", "is", "are", "do", "does", "did", "can", "could", "will",
    "would", "any", "anyone",
];
const PRAISE: [&str; 24] = [
    "thank",
    "thanks",
    "thx",
    "thank you",
    "ty",
    "love",
    "loving",
    "great",
    "awesome",
    "amazing",
    "best",
    "excellent",
    "appreciate",
    "kudos",
    "shoutout",
    "shout out",
    "fantastic",
    "wonderful",
    "perfect",
    "brilliant",
    "impressed",
    "props",
    "well done",
    "superb",
];

/// The intent weak-labelling rules. Order encodes what a care desk must do first:
/// 1. `complaint` — from a hand label where one exists (complaints set, airline negative with a concrete reason,
///    TWCS `Bad Support`), otherwise from the complaint model (`teacher_complaint`);
/// 2. `feedback` — suggestions ("you should add", "would be nice", "bring back", "idea", …);
/// 3. `request` — asks for an action ("please", "can you", "i need", "dm me", "fix this", …);
/// 4. `question` — a `?`, or a text opening with a question word/auxiliary (after leading @mentions);
/// 5. `praise` — positive (hand label, or VADER compound ≥ 0.5 for unlabelled text) *and* a praise word
///    ("thanks", "love", "great", …), or TWCS `Service Praise`;
/// 6. `other`.
#[must_use]
pub fn intent_weak_label(text: &str, signal: IntentSignal, teacher_complaint: bool) -> &'static str {
    let complaint = match signal {
        IntentSignal::GoldComplaint => true,
        IntentSignal::GoldNotComplaint | IntentSignal::Positive | IntentSignal::Neutral => false,
        IntentSignal::Unlabelled => teacher_complaint,
    };
    if complaint {
        return "complaint";
    }
    let lower = text.to_lowercase();
    if has_word(&lower, &FEEDBACK) {
        return "feedback";
    }
    if has_word(&lower, &REQUEST) {
        return "request";
    }
    let body = lower.split_whitespace().find(|w| !w.starts_with('@') && !w.starts_with('.')).unwrap_or("");
    let first = body.trim_matches(|c: char| !c.is_alphanumeric());
    if lower.contains('?') || QUESTION_START.contains(&first) {
        return "question";
    }
    let positive = match signal {
        IntentSignal::Positive => true,
        IntentSignal::Unlabelled | IntentSignal::GoldNotComplaint => {
            earshot_vader::polarity_scores(text).compound >= 0.5
        }
        _ => false,
    };
    if positive && has_word(&lower, &PRAISE) {
        return "praise";
    }
    "other"
}

fn intent_index(label: &str) -> u32 {
    INTENT_LABELS.iter().position(|l| *l == label).expect("known intent label") as u32
}

/// The intent pool before labelling: `(text, signal, group)` where `group` says which source it came from.
struct IntentPool {
    items: Vec<(String, IntentSignal, &'static str)>,
    sources: Vec<String>,
}

fn intent_pool(data_dir: &Path) -> Result<IntentPool, TaskError> {
    let mut items = Vec::new();
    for r in data::load_complaints(data_dir)? {
        let s = if r.complaint { IntentSignal::GoldComplaint } else { IntentSignal::GoldNotComplaint };
        items.push((r.text, s, "complaints"));
    }
    for r in data::load_airline(data_dir)? {
        let s = match (r.sentiment.as_str(), r.reason.as_deref()) {
            ("negative", Some(reason)) if reason != "Can't Tell" => IntentSignal::GoldComplaint,
            ("negative", _) => IntentSignal::Unlabelled,
            ("positive", _) => IntentSignal::Positive,
            _ => IntentSignal::Neutral,
        };
        items.push((r.text, s, "airline"));
    }
    for r in data::load_twcs_topics(data_dir)? {
        let s = if r.topics.iter().any(|t| t == "Bad Support") {
            IntentSignal::GoldComplaint
        } else if r.topics.iter().any(|t| t == "Service Praise") {
            IntentSignal::Positive
        } else {
            IntentSignal::Unlabelled
        };
        items.push((r.text, s, "twcs_topics"));
    }
    for t in data::load_twcs_inbound(data_dir)? {
        items.push((t, IntentSignal::Unlabelled, "twcs_inbound"));
    }
    let mut sources = vec!["complaints/train.csv".to_owned(), "airline-sentiment/train.csv".to_owned()];
    for b in data::TWCS_INTENT_BRANDS {
        sources.push(format!("twcs-intents/data/labeled/twcs-{b}-200-inbound.csv"));
    }
    sources.push("twcs/twcs_head5000.csv".into());
    sources.push("twcs/twcs_spotifycares_inbound15096.csv".into());
    Ok(IntentPool { items, sources })
}

// ---------------------------------------------------------------------------------------------------------------
// Training and evaluation

/// Outcome of evaluating one task.
#[derive(Debug, Clone, Default)]
pub struct TaskReport {
    /// Task name.
    pub task: String,
    /// Metrics (name → value).
    pub metrics: BTreeMap<String, f64>,
    /// Confusion matrix of the main evaluation.
    pub confusion: Option<Confusion>,
    /// Labels of the confusion matrix.
    pub labels: Vec<String>,
    /// Primary metric name.
    pub primary: String,
    /// Floor for the primary metric, if any.
    pub floor: Option<f64>,
    /// Model file size in bytes (after writing/loading).
    pub model_bytes: usize,
    /// Notes on the protocol.
    pub notes: String,
}

impl TaskReport {
    /// A report of `task` under its primary metric, before the model's size is known.
    fn new(task: Task, metrics: BTreeMap<String, f64>, confusion: Confusion, notes: &str) -> TaskReport {
        let (primary, floor) = task.primary_metric();
        TaskReport {
            task: task.name().into(),
            metrics,
            confusion: Some(confusion),
            labels: labels_of(task),
            primary: primary.into(),
            floor,
            model_bytes: 0,
            notes: notes.into(),
        }
    }

    /// Value of the primary metric.
    #[must_use]
    pub fn primary_value(&self) -> f64 {
        self.metrics.get(&self.primary).copied().unwrap_or(f64::NAN)
    }

    /// Whether the primary metric reaches the floor (`true` when there is no floor).
    #[must_use]
    pub fn passes(&self) -> bool {
        self.floor.is_none_or(|f| self.primary_value() >= f)
    }
}

/// Results of [`train_all`] / [`evaluate_all`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per task.
    pub tasks: Vec<TaskReport>,
}

impl Report {
    /// A plain-text metrics table followed by confusion matrices.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<10} {:<24} {:>8} {:>7} {:>10}  other metrics",
            "task", "primary metric", "value", "floor", "size"
        );
        for t in &self.tasks {
            let floor = t.floor.map_or_else(|| "-".to_owned(), |f| format!("{f:.3}"));
            let others: Vec<String> =
                t.metrics.iter().filter(|(k, _)| **k != t.primary).map(|(k, v)| format!("{k}={v:.4}")).collect();
            let _ = writeln!(
                s,
                "{:<10} {:<24} {:>8.4} {:>7} {:>9}K  {}{}",
                t.task,
                t.primary,
                t.primary_value(),
                floor,
                t.model_bytes / 1024,
                others.join(" "),
                if t.passes() { "" } else { "  ** BELOW FLOOR **" }
            );
        }
        for t in &self.tasks {
            if let Some(c) = &t.confusion {
                let _ = writeln!(s, "\n{} — {}\n{}", t.task, t.notes, c.render(&t.labels));
            }
        }
        s
    }
}

fn labels_of(task: Task) -> Vec<String> {
    task.labels().iter().map(|s| (*s).to_owned()).collect()
}

/// Train a classifier on all of `data`.
#[must_use]
pub fn fit(task: Task, spec: &Spec, data: &Dataset) -> Classifier {
    let mut f = Featurizer::new(spec.features.clone());
    let x = Matrix::from_texts(&mut f, &data.texts);
    let rows: Vec<usize> = (0..data.y.len()).collect();
    let n = task.labels().len();
    let model = train(&x, &data.y, &rows, n, &spec.train);
    let kind = match model {
        Model::Linear(_) => "linear",
        Model::FastText(_) => "fasttext",
    };
    let emb_dim = match &model {
        Model::FastText(m) => Some(m.emb_dim),
        Model::Linear(_) => None,
    };
    let header = ModelHeader {
        format_version: FORMAT_VERSION,
        task: task.name().into(),
        kind: kind.into(),
        labels: labels_of(task),
        hash: HASH_ID.into(),
        features: spec.features.clone(),
        train: spec.train.clone(),
        emb_dim,
        quantization: spec.quantization,
        data: DataInfo {
            sources: data.sources.clone(),
            n_examples: data.y.len(),
            class_counts: data.class_counts(n),
            digest: data.digest(),
        },
        metrics: BTreeMap::new(),
        notes: String::new(),
    };
    // Round-trip through the file format so the in-memory model is exactly what ships (quantised).
    Classifier::load(&Classifier::from_parts(header, model).to_bytes()).expect("fresh model loads")
}

fn cv_report(task: Task, spec: &Spec, data: &Dataset, k: usize, seed: u64, notes: &str) -> TaskReport {
    let mut f = Featurizer::new(spec.features.clone());
    let x = Matrix::from_texts(&mut f, &data.texts);
    let n = task.labels().len();
    let cv = cross_validate(&x, &data.y, n, &spec.train, k, seed);
    let mut metrics = BTreeMap::new();
    metrics.insert(format!("cv{k}_macro_f1"), cv.mean_macro_f1());
    metrics.insert(format!("cv{k}_pooled_macro_f1"), cv.confusion.macro_f1());
    metrics.insert(format!("cv{k}_accuracy"), cv.confusion.accuracy());
    metrics.insert(format!("cv{k}_macro_recall"), cv.mean_macro_recall());
    TaskReport::new(task, metrics, cv.confusion, notes)
}

/// Seed of every split (CV folds, hold-outs).
pub const SPLIT_SEED: u64 = 42;

/// Evaluate a task under its protocol with `spec`. For `sentiment`, `shipped` (if given) is evaluated directly on
/// the validation split instead of re-training.
///
/// # Errors
/// When the data cannot be read.
pub fn evaluate_task(
    task: Task,
    data_dir: &Path,
    spec: &Spec,
    shipped: Option<&Classifier>,
) -> Result<TaskReport, TaskError> {
    match task {
        Task::Complaint => {
            let d = complaint_data(data_dir)?;
            Ok(cv_report(
                task,
                spec,
                &d,
                10,
                SPLIT_SEED,
                "10-fold stratified CV over all 2,413 tweets (mean of per-fold macro F1)",
            ))
        }
        Task::Severity => {
            let d = severity_data(data_dir)?;
            Ok(cv_report(
                task,
                spec,
                &d,
                10,
                SPLIT_SEED,
                "10-fold stratified CV, 4 severity classes over complaints only",
            ))
        }
        Task::Sentiment => {
            let val = sentiment_data(data_dir, "val")?;
            let owned;
            let clf = if let Some(c) = shipped {
                c
            } else {
                owned = fit(task, spec, &sentiment_data(data_dir, "train")?);
                &owned
            };
            let mut scratch = crate::Scratch::default();
            let pred: Vec<u32> = val.texts.iter().map(|t| clf.predict_index_with(&mut scratch, t) as u32).collect();
            let c = Confusion::new(&val.y, &pred, 3);
            let mut metrics = BTreeMap::new();
            metrics.insert("val_macro_recall".into(), c.macro_recall());
            metrics.insert("val_macro_f1".into(), c.macro_f1());
            metrics.insert("val_accuracy".into(), c.accuracy());
            // SemEval-2017's secondary metric: F1 averaged over positive and negative only.
            metrics.insert("val_f1_pn".into(), (c.f1(0) + c.f1(2)) / 2.0);
            Ok(TaskReport::new(task, metrics, c, "trained on TweetEval train (45,659), evaluated on val (2,000)"))
        }
        Task::Issue => issue_eval(task, data_dir, spec),
        Task::Intent => intent_eval(data_dir, spec),
    }
}

fn issue_eval(task: Task, data_dir: &Path, spec: &Spec) -> Result<TaskReport, TaskError> {
    let air = issue_airline_data(data_dir)?;
    let twcs = issue_twcs_data(data_dir)?;
    let (tr, te) = stratified_holdout(&air.y, 0.2, SPLIT_SEED);
    let mut train_set = Dataset::default();
    for &i in &tr {
        train_set.push(&air.texts[i], air.y[i]);
    }
    for (t, &y) in twcs.texts.iter().zip(&twcs.y) {
        train_set.push(t, y);
    }
    let clf = fit(task, spec, &train_set);
    let mut scratch = crate::Scratch::default();
    let truth: Vec<u32> = te.iter().map(|&i| air.y[i]).collect();
    let pred: Vec<u32> = te.iter().map(|&i| clf.predict_index_with(&mut scratch, &air.texts[i]) as u32).collect();
    let c = Confusion::new(&truth, &pred, ISSUE_LABELS.len());
    // Macro F1 over the classes that occur in the airline hold-out (refund_or_billing and out_of_stock do not).
    let present: Vec<usize> = (0..ISSUE_LABELS.len()).filter(|&k| c.m[k].iter().sum::<u64>() > 0).collect();
    let macro_f1 = present.iter().map(|&k| c.f1(k)).sum::<f64>() / present.len() as f64;
    let mut metrics = BTreeMap::new();
    metrics.insert("holdout_macro_f1".into(), macro_f1);
    metrics.insert("holdout_accuracy".into(), c.accuracy());
    metrics.insert("holdout_n".into(), te.len() as f64);
    Ok(TaskReport::new(
        task,
        metrics,
        c,
        "trained on 80% of airline negatives + 600 TWCS topic tweets; macro F1 on the other 20% of airline negatives (stratified, seed 42), over the 6 classes present",
    ))
}

/// The full intent training set (for the shipped model): the teacher is the complaint model trained on all complaint
/// data.
///
/// # Errors
/// When the data cannot be read.
pub fn intent_data(data_dir: &Path, teacher: &Classifier) -> Result<Dataset, TaskError> {
    let pool = intent_pool(data_dir)?;
    let mut scratch = crate::Scratch::default();
    let mut d = Dataset { sources: pool.sources.clone(), ..Dataset::default() };
    for (t, s, _) in &pool.items {
        let teacher_says = *s == IntentSignal::Unlabelled && teacher.predict_index_with(&mut scratch, t) == 1;
        d.push(t, intent_index(intent_weak_label(t, *s, teacher_says)));
    }
    Ok(d)
}

fn intent_eval(data_dir: &Path, spec: &Spec) -> Result<TaskReport, TaskError> {
    let task = Task::Intent;
    let pool = intent_pool(data_dir)?;
    // Hold out 20% of the complaints set first, so that neither the teacher nor the intent model sees it: it is the
    // one place with a hand label (complaint or not) for every row.
    let comp = complaint_data(data_dir)?;
    let (ctr, cte) = stratified_holdout(&comp.y, 0.2, SPLIT_SEED);
    let mut teacher_data = Dataset { sources: comp.sources.clone(), ..Dataset::default() };
    for &i in &ctr {
        teacher_data.push(&comp.texts[i], comp.y[i]);
    }
    let teacher = fit(Task::Complaint, &Task::Complaint.spec(), &teacher_data);
    let mut scratch = crate::Scratch::default();
    let labels: Vec<u32> = pool
        .items
        .iter()
        .map(|(t, s, _)| {
            let teacher_says = *s == IntentSignal::Unlabelled && teacher.predict_index_with(&mut scratch, t) == 1;
            intent_index(intent_weak_label(t, *s, teacher_says))
        })
        .collect();
    // The complaints rows are the first `comp.y.len()` pool items, in file order.
    let is_comp_test: Vec<bool> = {
        let mut v = vec![false; pool.items.len()];
        for &i in &cte {
            v[i] = true;
        }
        v
    };
    // Remaining pool: stratified 80/20 on the weak label.
    let other_idx: Vec<usize> = (comp.y.len()..pool.items.len()).collect();
    let other_y: Vec<u32> = other_idx.iter().map(|&i| labels[i]).collect();
    let (otr, ote) = stratified_holdout(&other_y, 0.2, SPLIT_SEED);
    let mut train_set = Dataset::default();
    for &i in &ctr {
        train_set.push(&pool.items[i].0, labels[i]);
    }
    for &j in &otr {
        let i = other_idx[j];
        train_set.push(&pool.items[i].0, labels[i]);
    }
    let clf = fit(task, spec, &train_set);
    let test_rows: Vec<usize> = cte.iter().copied().chain(ote.iter().map(|&j| other_idx[j])).collect();
    let pred: Vec<u32> =
        test_rows.iter().map(|&i| clf.predict_index_with(&mut scratch, &pool.items[i].0) as u32).collect();
    let truth: Vec<u32> = test_rows.iter().map(|&i| labels[i]).collect();
    let c = Confusion::new(&truth, &pred, INTENT_LABELS.len());
    let mut metrics = BTreeMap::new();
    metrics.insert("holdout_weak_macro_f1".into(), c.macro_f1());
    metrics.insert("holdout_weak_accuracy".into(), c.accuracy());
    // Against hand labels only: complaint vs not on the held-out complaints rows.
    let (mut gt, mut gp) = (Vec::new(), Vec::new());
    for (k, &i) in test_rows.iter().enumerate() {
        if is_comp_test[i] && i < comp.y.len() {
            gt.push(comp.y[i]);
            gp.push(u32::from(pred[k] == intent_index("complaint")));
        }
    }
    metrics.insert("gold_complaint_macro_f1".into(), crate::metrics::macro_f1(&gt, &gp, 2));
    // Airline hand sentiment on held-out airline rows: share of positives predicted `praise`, of negatives with a
    // concrete reason predicted `complaint`.
    let (mut pos, mut pos_praise, mut neg, mut neg_comp) = (0usize, 0usize, 0usize, 0usize);
    for (k, &i) in test_rows.iter().enumerate() {
        let (_, s, g) = &pool.items[i];
        if *g != "airline" {
            continue;
        }
        match s {
            IntentSignal::Positive => {
                pos += 1;
                pos_praise += usize::from(pred[k] == intent_index("praise"));
            }
            IntentSignal::GoldComplaint => {
                neg += 1;
                neg_comp += usize::from(pred[k] == intent_index("complaint"));
            }
            _ => {}
        }
    }
    metrics.insert("airline_positive_to_praise".into(), pos_praise as f64 / pos.max(1) as f64);
    metrics.insert("airline_negative_to_complaint".into(), neg_comp as f64 / neg.max(1) as f64);
    Ok(TaskReport::new(
        task,
        metrics,
        c,
        "weak labels (rules + hand labels + complaint-model teacher); 20% hold-out; agreement with weak labels, plus gold complaint F1 on held-out complaints rows",
    ))
}

/// Train the shipped model of `task` on all of its training data.
///
/// # Errors
/// When the data cannot be read.
pub fn train_task(
    task: Task,
    data_dir: &Path,
    spec: &Spec,
    teacher: Option<&Classifier>,
) -> Result<Classifier, TaskError> {
    let data = match task {
        Task::Complaint => complaint_data(data_dir)?,
        Task::Severity => severity_data(data_dir)?,
        Task::Sentiment => sentiment_data(data_dir, "train")?,
        Task::Issue => {
            let mut d = issue_airline_data(data_dir)?;
            let t = issue_twcs_data(data_dir)?;
            d.sources.extend(t.sources);
            d.texts.extend(t.texts);
            d.y.extend(t.y);
            d
        }
        Task::Intent => {
            let owned;
            let teacher = if let Some(t) = teacher {
                t
            } else {
                owned = train_task(Task::Complaint, data_dir, &Task::Complaint.spec(), None)?;
                &owned
            };
            intent_data(data_dir, teacher)?
        }
    };
    Ok(fit(task, spec, &data))
}

/// Train every shipped model, evaluate it under its protocol, write `<out_dir>/<task>.eclf` with the metrics in its
/// header, and return the metrics.
///
/// # Errors
/// When data cannot be read or a model cannot be written.
pub fn train_all(data_dir: &Path, out_dir: &Path) -> Result<Report, TaskError> {
    std::fs::create_dir_all(out_dir).map_err(|source| TaskError::Io { path: out_dir.into(), source })?;
    let mut report = Report::default();
    let mut complaint_model: Option<Classifier> = None;
    for task in Task::ALL {
        let t0 = Instant::now();
        let spec = task.spec();
        let mut clf = train_task(task, data_dir, &spec, complaint_model.as_ref())?;
        let mut r = evaluate_task(task, data_dir, &spec, Some(&clf))?;
        clf.header_mut().metrics = r.metrics.clone();
        clf.header_mut().notes = r.notes.clone();
        let bytes = clf.to_bytes();
        r.model_bytes = bytes.len();
        let path = out_dir.join(task.file_name());
        std::fs::write(&path, &bytes).map_err(|source| TaskError::Io { path: path.clone(), source })?;
        eprintln!("{}: trained + evaluated in {:.1}s", task.name(), t0.elapsed().as_secs_f64());
        if task == Task::Complaint {
            complaint_model = Some(clf);
        }
        report.tasks.push(r);
    }
    Ok(report)
}

/// Load every model in `models_dir`, re-run each task's evaluation protocol with the configuration recorded in the
/// model header (the shipped sentiment model is scored directly on the validation split), and report.
///
/// # Errors
/// When data or a model cannot be read.
pub fn evaluate_all(data_dir: &Path, models_dir: &Path) -> Result<Report, TaskError> {
    let mut report = Report::default();
    for task in Task::ALL {
        let path = models_dir.join(task.file_name());
        let clf = Classifier::load_path(&path).map_err(|source| TaskError::Model { path: path.clone(), source })?;
        let h = clf.header();
        let spec = Spec { features: h.features.clone(), train: h.train.clone(), quantization: h.quantization };
        let mut r = evaluate_task(task, data_dir, &spec, Some(&clf))?;
        r.model_bytes = std::fs::metadata(&path).map_or(0, |m| m.len() as usize);
        report.tasks.push(r);
    }
    Ok(report)
}

/// Predict every row of a featurized matrix (re-exported for experiments).
#[must_use]
pub fn predict_matrix(model: &Model, x: &Matrix) -> Vec<u32> {
    let rows: Vec<usize> = (0..x.rows()).collect();
    predict_rows(model, x, &rows)
}

/// Index of the largest probability (re-exported for experiments).
#[must_use]
pub fn best(p: &[f32]) -> usize {
    argmax(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airline_mapping_is_total() {
        for r in [
            "Late Flight",
            "Lost Luggage",
            "Cancelled Flight",
            "Damaged Luggage",
            "Bad Flight",
            "Customer Service Issue",
            "Flight Attendant Complaints",
            "longlines",
            "Flight Booking Problems",
            "Can't Tell",
        ] {
            let l = airline_reason_to_issue(r).unwrap();
            assert!(ISSUE_LABELS.contains(&l));
        }
        assert_eq!(airline_reason_to_issue("nope"), None);
    }

    #[test]
    fn twcs_priority() {
        let t = |v: &[&str]| twcs_topics_to_issue(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(t(&["Bad Support", "Refund"]), "refund_or_billing");
        assert_eq!(t(&["Delivery", "Order Cancellation"]), "cancellation");
        assert_eq!(t(&["Prime"]), "other");
        assert_eq!(t(&[]), "other");
    }

    #[test]
    fn weak_intent_rules() {
        use IntentSignal::*;
        assert_eq!(intent_weak_label("@x my order never came", GoldComplaint, false), "complaint");
        assert_eq!(intent_weak_label("@x my order never came", Unlabelled, true), "complaint");
        assert_eq!(intent_weak_label("@x you should add dark mode", Unlabelled, false), "feedback");
        assert_eq!(intent_weak_label("@x please reset my password", Unlabelled, false), "request");
        assert_eq!(intent_weak_label("@x how do I change my plan", Unlabelled, false), "question");
        assert_eq!(intent_weak_label("@x is the store open today?", Neutral, false), "question");
        assert_eq!(intent_weak_label("@x thanks so much, amazing service!", Positive, false), "praise");
        assert_eq!(intent_weak_label("@x thanks so much, amazing service!", Unlabelled, false), "praise");
        assert_eq!(intent_weak_label("just landed in Boston", Neutral, false), "other");
        // Word boundaries: "ty" must not fire inside "city", "idea" not inside "ideal".
        assert_eq!(intent_weak_label("great city, ideal weather", Neutral, false), "other");
    }
}
