//! Debug aid: write a task's features in libsvm format (`label idx:val ...`) to stdout, to compare optimisers
//! outside Rust. `cargo run --release -p earshot-classify --example dump_features -- /work/shared/data complaint`
use earshot_classify::Featurizer;
use earshot_classify::features::{FeatureConfig, SparseVec};
use std::io::Write;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let data = std::path::Path::new(&a[1]);
    let d = match a[2].as_str() {
        "complaint" => earshot_classify::tasks::complaint_data(data).unwrap(),
        "severity" => earshot_classify::tasks::severity_data(data).unwrap(),
        _ => earshot_classify::tasks::sentiment_data(data, &a[2]).unwrap(),
    };
    let mut f =
        Featurizer::new(FeatureConfig { l2_normalize: false, vader: a.get(3).is_some(), ..FeatureConfig::default() });
    let mut v = SparseVec::default();
    let out = std::io::stdout();
    let mut o = std::io::BufWriter::new(out.lock());
    for (t, y) in d.texts.iter().zip(&d.y) {
        f.featurize(t, &mut v);
        write!(o, "{y}").unwrap();
        for (i, x) in v.idx.iter().zip(&v.val) {
            write!(o, " {}:{x}", i + 1).unwrap();
        }
        writeln!(o).unwrap();
    }
}
