//! Loads each shipped model from `models/` (repository root) and checks a few obvious predictions, the header,
//! and that re-serialising a loaded model reproduces the file byte for byte.

use std::path::PathBuf;

use earshot_classify::Classifier;
use earshot_classify::tasks::Task;

fn load(task: Task) -> (Classifier, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models").join(task.file_name());
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (train with the train_all example)", path.display()));
    (Classifier::load(&bytes).expect("model loads"), bytes)
}

fn check(task: Task, cases: &[(&str, &str)]) {
    let (clf, bytes) = load(task);
    let h = clf.header();
    assert_eq!(h.task, task.name());
    assert_eq!(clf.labels(), task.labels());
    let (primary, floor) = task.primary_metric();
    let value = h.metrics.get(primary).copied().expect("primary metric recorded");
    if let Some(floor) = floor {
        assert!(value >= floor, "{}: {primary} = {value} below {floor}", task.name());
    }
    assert_eq!(clf.to_bytes(), bytes, "load → save reproduces the shipped file");
    let mut wrong = Vec::new();
    for (text, want) in cases {
        let p = clf.predict(text);
        assert!((p.scores.iter().map(|s| s.1).sum::<f32>() - 1.0).abs() < 1e-4);
        if p.label != *want {
            wrong.push(format!("{text:?}: want {want}, got {} ({:?})", p.label, p.scores));
        }
    }
    assert!(wrong.is_empty(), "{}:\n{}", task.name(), wrong.join("\n"));
}

#[test]
fn complaint_model() {
    check(
        Task::Complaint,
        &[
            ("@united you lost my bag again and nobody will help me. worst airline ever", "complaint"),
            ("@AmazonHelp my package still hasn't arrived after two weeks, this is ridiculous", "complaint"),
            ("Happy birthday to my best friend, love you!", "not_complaint"),
            ("Beautiful sunset at the beach tonight", "not_complaint"),
        ],
    );
}

#[test]
fn sentiment_model() {
    check(
        Task::Sentiment,
        &[
            ("I love this so much, best day ever!", "positive"),
            ("This is terrible, I hate it. Worst experience of my life", "negative"),
            ("The meeting has been moved to Thursday at 3pm", "neutral"),
        ],
    );
}

#[test]
fn issue_model() {
    check(
        Task::Issue,
        &[
            ("@united my flight was cancelled and I have no way home", "cancellation"),
            ("@JetBlue flight delayed 3 hours, sitting at the gate forever", "late_or_missing_delivery"),
            ("@AmericanAir your agent was incredibly rude to me on the phone", "rude_or_slow_service"),
            ("@SpotifyCares I was charged twice this month, I want my money back", "refund_or_billing"),
        ],
    );
}

#[test]
fn intent_model() {
    check(
        Task::Intent,
        &[
            ("@AppleSupport how do I turn off automatic updates?", "question"),
            ("@SouthwestAir thank you so much for the amazing crew today!", "praise"),
            ("@united you lost my bag and nobody will help me. worst airline ever", "complaint"),
        ],
    );
}

#[test]
fn severity_model() {
    // Severity is a weak model (see the README/report); only check it loads and scores.
    check(Task::Severity, &[]);
    let (clf, _) = load(Task::Severity);
    let p = clf.predict("@company you are liars and thieves, you stole my money and I will sue you");
    assert!(p.scores.len() == 4);
}

/// The fast loader (`ClassifierSet::from_bytes`, straight from the file bytes into the fused table) and the plain
/// one (`Classifier::load` of each file, then `ClassifierSet::new`) give the same probabilities, bit for bit.
#[test]
fn set_from_bytes_matches_set_of_loaded_models() {
    let loaded: Vec<(Classifier, Vec<u8>)> = Task::ALL.iter().map(|&t| load(t)).collect();
    let files: Vec<&[u8]> = loaded.iter().map(|(_, b)| b.as_slice()).collect();
    let fast = earshot_classify::ClassifierSet::from_bytes(&files).expect("shipped models load");
    let plain = earshot_classify::ClassifierSet::new(loaded.iter().map(|(c, _)| c.clone()).collect());
    let texts = [
        "@united you lost my bag again and nobody will help me. worst airline ever",
        "Happy birthday to my best friend, love you!",
        "@SpotifyCares I was charged twice this month, I want my money back 😡😡",
        "",
        "WHY is my order sooooo late?!?! #fail http://t.co/x &amp; 3pm",
    ];
    let (mut a, mut b) = (earshot_classify::SetScratch::default(), earshot_classify::SetScratch::default());
    for _ in 0..2 {
        for t in texts {
            assert_eq!(fast.probas(&mut a, t, None), plain.probas(&mut b, t, None), "{t:?}");
        }
    }
}
