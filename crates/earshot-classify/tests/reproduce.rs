//! Re-trains every shipped model from `shared/data` and checks the files in `models/` are reproduced byte for byte.
//! Heavy (about a minute in release, much longer in debug) and needs the data directory, so it is ignored by default:
//!
//! ```text
//! EARSHOT_DATA=/work/shared/data cargo test --release -p earshot-classify --test reproduce -- --ignored
//! ```

use std::path::PathBuf;

use earshot_classify::tasks::Task;

#[test]
#[ignore = "retrains all models (~1 min in release); run with --ignored"]
fn shipped_models_are_reproducible() {
    let data = PathBuf::from(std::env::var("EARSHOT_DATA").unwrap_or_else(|_| "/work/shared/data".into()));
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let out = std::env::temp_dir().join(format!("earshot-classify-reproduce-{}", std::process::id()));
    let report = earshot_classify::train_all(&data, &out).expect("train_all");
    for task in Task::ALL {
        let a = std::fs::read(shipped.join(task.file_name())).expect("shipped model");
        let b = std::fs::read(out.join(task.file_name())).expect("retrained model");
        assert!(a == b, "{} differs from the shipped file", task.name());
    }
    assert!(report.tasks.iter().all(earshot_classify::tasks::TaskReport::passes), "{}", report.render());
    let _ = std::fs::remove_dir_all(&out);
}
