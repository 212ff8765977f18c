//! Earshot's Understand stage: what a post says and how urgent it is.
//!
//! Every analyzer is pure and infallible: `analyze(&post, &context, &mut analysis)`.
//! They run in the order of [`registry`]; later ones (priority) read what
//! earlier ones wrote.
//!
//! Invariant: analysis is a deterministic function of the post, the brand
//! config and the model versions recorded in [`Analysis::versions`].

pub mod priority;
pub mod signals;

pub use priority::{Factor, Priority, PriorityInput};
pub use signals::{Signal, SignalKind, SignalMatcher};

use earshot_core::Post;
use earshot_core::brand::BrandConfig;
use serde::{Deserialize, Serialize};

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

/// Everything the Understand stage says about one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// VADER, exactly as Python vaderSentiment 3.3.2.
    pub vader: Vader,
    /// Signals from the brand's world.
    pub signals: Vec<Signal>,
    /// Explained priority.
    pub priority: Priority,
    /// Analyzer and model versions that produced this analysis.
    pub versions: Vec<String>,
}

/// What analyzers may consult besides the post.
#[derive(Debug, Clone)]
pub struct Context {
    signals: SignalMatcher,
}

impl Context {
    /// Builds the context for a set of brands.
    pub fn new(brands: &[BrandConfig]) -> Context {
        Context { signals: SignalMatcher::new(brands) }
    }
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
    let signals = ctx.signals.signals(post, addressing.brands);
    let priority = priority::priority(&PriorityInput {
        complaint_probability: 0.0,
        severity: 0,
        compound: vader.compound,
        intent: "",
        signals: &signals,
        followers: post.author.followers,
        brand_speaking: addressing.brand_speaking,
    });
    Analysis { vader, signals, priority, versions: vec!["vader-3.3.2".to_string(), "signals-1".to_string()] }
}
