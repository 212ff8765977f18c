//! Training is deterministic: the same data and config give byte-identical model files, and a model survives a
//! save/load round trip unchanged.

use earshot_classify::format::{DataInfo, FORMAT_VERSION, ModelHeader};
use earshot_classify::model::{Matrix, train};
use earshot_classify::{Algorithm, Classifier, FeatureConfig, Featurizer, Model, Quantization, TrainConfig};
use std::collections::BTreeMap;

const TEXTS: [&str; 12] = [
    "@airline my flight is delayed again, worst service ever",
    "lost my luggage and nobody answers the phone",
    "@shop the package arrived broken, I want a refund",
    "why was I charged twice?? fix this",
    "cancelled my order without telling me #fail",
    "been on hold for 2 hours 😡",
    "thanks for the quick help, you guys rock!",
    "love the new update ❤️",
    "great crew on my flight today, thank you",
    "just landed in Boston",
    "what time does the store open tomorrow",
    "happy friday everyone 😊",
];

fn build(algorithm: Algorithm, q: Quantization) -> Vec<u8> {
    let y: Vec<u32> = (0..TEXTS.len()).map(|i| u32::from(i < 6)).collect();
    let features = FeatureConfig { bits: 14, ..FeatureConfig::default() };
    let mut f = Featurizer::new(features.clone());
    let x = Matrix::from_texts(&mut f, &TEXTS);
    let rows: Vec<usize> = (0..TEXTS.len()).collect();
    let cfg = TrainConfig { algorithm, epochs: 5, lr: 0.2, ..TrainConfig::default() };
    let model = train(&x, &y, &rows, 2, &cfg);
    let header = ModelHeader {
        format_version: FORMAT_VERSION,
        task: "test".into(),
        kind: if matches!(model, Model::FastText(_)) { "fasttext" } else { "linear" }.into(),
        labels: vec!["no".into(), "yes".into()],
        hash: earshot_classify::hash::HASH_ID.into(),
        features,
        train: cfg,
        emb_dim: if let Algorithm::FastText { dim } = algorithm { Some(usize::from(dim)) } else { None },
        quantization: q,
        data: DataInfo::default(),
        metrics: BTreeMap::new(),
        notes: String::new(),
    };
    Classifier::from_parts(header, model).to_bytes()
}

#[test]
fn train_twice_identical_bytes() {
    for algorithm in [Algorithm::Logistic, Algorithm::NbLogistic { alpha: 1.0 }, Algorithm::FastText { dim: 8 }] {
        for q in [Quantization::F32, Quantization::F16, Quantization::I8] {
            let a = build(algorithm, q);
            let b = build(algorithm, q);
            assert_eq!(a, b, "{algorithm:?} {q:?}");
            let clf = Classifier::load(&a).unwrap();
            assert_eq!(clf.to_bytes(), a, "load → save is the identity for {algorithm:?} {q:?}");
            let p = clf.predict("my bag is lost and the flight is delayed");
            assert_eq!(p.scores.len(), 2);
            assert!((p.scores.iter().map(|s| s.1).sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }
}
