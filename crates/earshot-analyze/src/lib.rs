//! Earshot's Understand stage: what a post says and how urgent it is.
//!
//! Every analyzer is pure and infallible: `analyze(&post, &context, &mut analysis)`.
//! They run in the order of [`registry`]; later ones (priority) read what
//! earlier ones wrote.
//!
//! Invariant: analysis is a deterministic function of the post, the brand
//! config and the model versions recorded in [`Analysis::versions`].

mod json;
pub mod models;
pub mod priority;
pub mod signals;

pub use models::Models;

pub use priority::{Factor, Priority, PriorityInput};
pub use signals::{Signal, SignalKind, SignalMatcher};

use earshot_core::Post;
use earshot_core::brand::BrandConfig;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Versions of the rule-based analyzers, recorded in every analysis before the models' versions.
pub const RULE_VERSIONS: [&str; 3] = ["vader-3.3.2", "signals-1", "priority-1"];

/// VADER's four scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Vader {
    /// Normalized sum of valences, -1 to 1.
    pub compound: f64,
    /// Share of positive text.
    pub pos: f64,
    /// Share of neutral text.
    pub neu: f64,
    /// Share of negative text.
    pub neg: f64,
}

/// Sentiment beyond the lexicon (learned from TweetEval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// `negative`, `neutral` or `positive`.
    pub label: Cow<'static, str>,
    /// Probability of each label.
    pub scores: SentimentScores,
}

/// Probability of each sentiment label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentScores {
    /// Probability of `negative`.
    pub negative: f32,
    /// Probability of `neutral`.
    pub neutral: f32,
    /// Probability of `positive`.
    pub positive: f32,
}

/// Is it a complaint (learned from the complaints corpus).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    /// Probability, 0–1.
    pub probability: f32,
    /// `probability >= 0.5`.
    pub label: bool,
}

/// Everything the Understand stage says about one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// VADER, exactly as Python vaderSentiment 3.3.2.
    pub vader: Vader,
    /// Learned sentiment.
    pub sentiment: Sentiment,
    /// Complaint probability and label.
    pub complaint: Complaint,
    /// 0 = not a complaint; 1 no explicit reproach, 2 disapproval, 3 accusation, 4 blame.
    pub severity: u8,
    /// `complaint`, `question`, `request`, `praise`, `feedback` or `other`.
    pub intent: Cow<'static, str>,
    /// What went wrong: `defect_or_damage`, `late_or_missing_delivery`, `cancellation`,
    /// `refund_or_billing`, `account_or_login`, `out_of_stock`, `rude_or_slow_service` or `other`.
    pub issue: Cow<'static, str>,
    /// Signals from the brand's world.
    pub signals: Vec<Signal>,
    /// Explained priority.
    pub priority: Priority,
    /// Analyzer and model versions that produced this analysis (borrowed from the models: no copy per post).
    pub versions: Cow<'static, [String]>,
}

/// What analyzers may consult besides the post.
#[derive(Debug, Clone)]
pub struct Context {
    signals: SignalMatcher,
    models: &'static Models,
}

impl Context {
    /// Builds the context for a set of brands, with the shipped models.
    pub fn new(brands: &[BrandConfig]) -> Context {
        Self::with_models(brands, Models::shipped())
    }

    /// Builds the context with other models (e.g. re-trained ones), which live for the rest of the process. The
    /// shipped models are then never loaded.
    pub fn with_models(brands: &[BrandConfig], models: &'static Models) -> Context {
        Context { signals: SignalMatcher::new(brands), models }
    }
}

/// Analyzes a bare text (no post metadata, no brands): what `earshot classify` prints.
pub fn analyze_text(text: &str, ctx: &Context) -> Analysis {
    let post = earshot_core::Post::new(
        earshot_core::Platform::Other,
        "",
        earshot_core::Author::default(),
        text,
        Default::default(),
        "text",
    );
    analyze(&post, Addressing::default(), ctx)
}

/// `earshot classify`'s loop: analyzes each line of `input` as a bare text (line endings as `BufRead::lines`) and
/// writes one JSON object per line to `output`.
///
/// Lines go into one reused buffer (`Analysis::write_json`: serde_json's bytes without serde's per-field overhead)
/// handed to `output` in 64 KiB pieces, and one post is reused for every line, so nothing is allocated per line.
pub fn classify_lines(
    mut input: impl std::io::BufRead,
    output: &mut impl std::io::Write,
    ctx: &Context,
) -> std::io::Result<()> {
    let mut out: Vec<u8> = Vec::with_capacity(1 << 17);
    let mut post =
        Post::new(earshot_core::Platform::Other, "", earshot_core::Author::default(), "", Default::default(), "text");
    loop {
        post.text.clear();
        if input.read_line(&mut post.text)? == 0 {
            break;
        }
        if post.text.ends_with('\n') {
            post.text.pop();
            if post.text.ends_with('\r') {
                post.text.pop();
            }
        }
        analyze(&post, Addressing::default(), ctx).write_json(&mut out);
        out.push(b'\n');
        if out.len() >= 1 << 16 {
            output.write_all(&out)?;
            out.clear();
        }
    }
    output.write_all(&out)?;
    output.flush()
}

/// What attribution decided before analysis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Addressing<'a> {
    /// The brands the post addresses or is written by.
    pub brands: &'a [&'a str],
    /// True when one of the brand's handles wrote the post.
    pub brand_speaking: bool,
}

/// Analyzes one post with every analyzer.
pub fn analyze(post: &Post, addressing: Addressing<'_>, ctx: &Context) -> Analysis {
    let v = earshot_vader::polarity_scores(&post.text);
    let vader = Vader { compound: v.compound, pos: v.pos, neu: v.neu, neg: v.neg };
    let models = ctx.models;
    let (complaint, severity, sentiment, issue, intent) = models.with_scores(&post.text, Some(&v), |t| {
        let probability = t[0].prob("complaint");
        let complaint = Complaint { probability, label: probability >= 0.5 };
        // Severity levels 1–4 are the severity model's classes, in order; it only speaks for complaints.
        let severity = if complaint.label {
            let best = earshot_classify::classifier::argmax(t[1].probs);
            u8::try_from(best + 1).unwrap_or(4).min(4)
        } else {
            0
        };
        let s = &t[2];
        let scores =
            SentimentScores { negative: s.prob("negative"), neutral: s.prob("neutral"), positive: s.prob("positive") };
        (complaint, severity, (label_index(s), scores), label_index(&t[3]), label_index(&t[4]))
    });
    let label = |task: usize, i: usize| -> Cow<'static, str> {
        models.task_labels(task).get(i).map_or(Cow::Borrowed(""), |l| Cow::Borrowed(l.as_str()))
    };
    let sentiment = Sentiment { label: label(2, sentiment.0), scores: sentiment.1 };
    let (issue, intent) = (label(3, issue), label(4, intent));
    let signals = ctx.signals.signals(post, addressing.brands);
    let priority = priority::priority(&PriorityInput {
        complaint_probability: complaint.probability,
        severity,
        compound: vader.compound,
        intent: &intent,
        signals: &signals,
        followers: post.author.followers,
        brand_speaking: addressing.brand_speaking,
    });
    let versions = Cow::Borrowed(models.analysis_versions());
    Analysis { vader, sentiment, complaint, severity, intent, issue, signals, priority, versions }
}

/// Index of the most probable label (the first on ties).
fn label_index(t: &models::TaskScores<'_>) -> usize {
    earshot_classify::classifier::argmax(t.probs)
}
