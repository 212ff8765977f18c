//! `earshot bench`: end-to-end pipeline throughput on generated X v2 stream data, beside a Python baseline run on
//! the same file in the same run.

use anyhow::{Context, Result, bail};
use earshot::bench;
use earshot::ingest::{Ingestor, Input, StageTimes};
use earshot_core::brand::Brands;
use earshot_core::decode;
use earshot_store::{SqliteStore, Store};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The Python pipeline a data team would write (json + vaderSentiment + sqlite3 executemany), run as the baseline.
const BASELINE_SCRIPT: &str = include_str!("../../bench/baseline_pipeline.py");

/// Arguments of `earshot bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Posts to generate (ignored with --input).
    #[arg(long, default_value_t = 200_000)]
    pub posts: u64,
    /// Brands in the generated traffic.
    #[arg(long, default_value_t = 50)]
    pub brands: usize,
    /// Read this X API v2 stream JSONL file instead of generating one (with --config for its brands; without,
    /// the handles `@brand000care`… of the old generator).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Brand config for --input.
    #[arg(long, requires = "input")]
    pub config: Option<PathBuf>,
    /// The shared data directory whose real texts the generated posts are built from (as `earshot gen`).
    #[arg(long, env = "EARSHOT_DATA", default_value = "../shared/data")]
    pub data: PathBuf,
    /// Working directory for the generated file, the config and the stores (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Threads that attribute and analyze posts.
    #[arg(long, default_value_t = super::ingest::default_threads())]
    pub threads: usize,
    /// The baseline run on the same input: `python` (json + vaderSentiment + sqlite3, in a virtual environment
    /// the bench creates when needed; `EARSHOT_PYTHON` picks an interpreter) or `none`.
    #[arg(long, default_value = "python", value_parser = ["python", "none"])]
    pub baseline: String,
    /// Print the figures as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The input and its brand config, written out so that `earshot ingest --config` can repeat exactly this run.
    let config = dir.join("earshot.toml");
    let input = match &args.input {
        Some(p) => {
            match &args.config {
                Some(c) => {
                    std::fs::copy(c, &config)
                        .with_context(|| format!("cannot copy {} to {}", c.display(), dir.display()))?;
                }
                None => {
                    let toml: String = bench::brand_handles(args.brands)
                        .iter()
                        .map(|h| format!("[[brands]]\nname = \"{h}\"\nhandles = [\"@{h}\"]\n\n"))
                        .collect();
                    std::fs::write(&config, toml).with_context(|| format!("cannot write {}", config.display()))?;
                }
            }
            p.clone()
        }
        None => {
            let path = dir.join(format!("bench-x-v2-{}.jsonl", args.posts));
            generate(&args, &path, &config)?;
            path
        }
    };
    let input_bytes = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    let input_str = input.to_string_lossy().to_string();
    let brands = earshot::config::load_brands(&config)?;
    let handles: Vec<String> =
        brands.iter().flat_map(|b| b.handles.iter()).map(|h| h.trim_start_matches('@').to_string()).collect();

    // Decode alone on one core, as a reference for the decode stage.
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(&input).with_context(|| format!("cannot open {input_str}"))?,
            decode::SNIFF_BYTES as u64,
        ),
        &mut head,
    )?;
    let decoder = decode::detect(decode::SniffInput { head: &head, file_name: None }, &input_str)?;
    let t = Instant::now();
    let mut decoded = 0u64;
    decode::decode_reader(decoder, std::fs::File::open(&input)?, |_| decoded += 1)?;
    let decode_only_s = t.elapsed().as_secs_f64();

    // The pipeline, exactly as `earshot ingest --config <dir>/earshot.toml`: decode, attribute, analyze, commit,
    // then thread into cases and detect storms, into a fresh store.
    let db = dir.join("bench.db");
    remove_store(&db);
    let started = Instant::now();
    let mut store = SqliteStore::open(&db)?;
    store.upsert_brands(&brands, chrono::Utc::now())?;
    let mut ingestor = Ingestor::new(&mut store, Brands::new(brands)).threads(args.threads);
    ingestor.ingest(Input::open(&input_str)?, None)?;
    let mut summary = ingestor.finish()?;
    earshot::ingest::thread_stored(&mut store, Some(&config), &mut summary, chrono::Utc::now())?;
    drop(store);
    let elapsed = started.elapsed().as_secs_f64();
    let db_bytes = store_bytes(&db);
    let peak = bench::peak_rss_bytes().unwrap_or(0);
    let posts = summary.stored + summary.duplicates;
    let posts_per_s = (posts as f64 / elapsed).round();

    let baseline = match args.baseline.as_str() {
        "python" => Some(python_baseline(&input, &dir, &handles)?),
        _ => None,
    };
    let baseline_posts_per_s = baseline.as_ref().map(|b| b.posts_per_s);
    let ratio = baseline_posts_per_s.filter(|b| *b > 0.0).map(|b| ((posts_per_s / b) * 100.0).round() / 100.0);

    let StageTimes { decode_s, analyze_s, commit_s, cases_s, .. } = summary.stages;
    let busy = (decode_s + analyze_s + commit_s + cases_s).max(f64::MIN_POSITIVE);
    let share = |s: f64| ((s / busy) * 1000.0).round() / 1000.0;
    let figures = serde_json::json!({
        "posts": posts,
        "records": decoded,
        "input_bytes": input_bytes,
        "format": decoder.name(),
        "threads": args.threads,
        "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
        "posts_per_s": posts_per_s,
        "ingest_s": summary.elapsed_s,
        "ingest_posts_per_s": summary.posts_per_s,
        "decode_only_s": decode_only_s,
        "decode_posts_per_s": (decoded as f64 / decode_only_s).round(),
        "stages": summary.stages,
        "stage_shares": {
            "decode": share(decode_s), "analyze": share(analyze_s), "commit": share(commit_s), "cases": share(cases_s),
        },
        "cases_opened": summary.cases_opened,
        "posts_in_cases": summary.posts_in_cases,
        "storm_events": summary.storm_events,
        "rejected": summary.rejected,
        "peak_rss_bytes": peak,
        "store_bytes": db_bytes,
        "baseline": args.baseline,
        "baseline_posts_per_s": baseline_posts_per_s,
        "baseline_store_bytes": baseline.as_ref().map(|b| b.store_bytes),
        "ratio": ratio,
    });
    println!("input     {} ({:.1} MB, {})", input.display(), input_bytes as f64 / 1e6, decoder.name());
    println!(
        "decode    {decoded} records in {decode_only_s:.2}s = {:.0} records/s (decode alone, one core)",
        decoded as f64 / decode_only_s
    );
    println!(
        "pipeline  {posts} posts in {elapsed:.2}s = {posts_per_s:.0} posts/s end to end ({} analysis threads; \
         {} cases, {} storm events)",
        args.threads, summary.cases_opened, summary.storm_events
    );
    println!(
        "stages    decode {decode_s:.2}s ({:.0}%), analyze {analyze_s:.2}s ({:.0}%), commit {commit_s:.2}s ({:.0}%), \
         cases+storms {cases_s:.2}s ({:.0}%) of busy time",
        share(decode_s) * 100.0,
        share(analyze_s) * 100.0,
        share(commit_s) * 100.0,
        share(cases_s) * 100.0
    );
    println!("memory    peak RSS {:.1} MiB; store {:.1} MB", peak as f64 / 1048576.0, db_bytes as f64 / 1e6);
    if let (Some(b), Some(r)) = (&baseline, ratio) {
        println!(
            "baseline  python (json + vaderSentiment + sqlite3): {:.0} posts/s, store {:.1} MB → earshot {r:.2}×",
            b.posts_per_s,
            b.store_bytes as f64 / 1e6
        );
    }
    if args.json {
        println!("{figures}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Generates `args.posts` X API v2 stream lines with `earshot gen`'s generator (real texts, seasonality, care-team
/// replies and follow-ups, injected storms of every kind) into `out`, and its brand config into `config`.
fn generate(args: &Args, out: &Path, config: &Path) -> Result<()> {
    use earshot_gen::{Format, Generator, Length, Params, StormSpec, TextBank};
    let t = Instant::now();
    let params = Params {
        length: Length::Posts(args.posts),
        brands: args.brands,
        seed: args.seed,
        storms: StormSpec::default(),
        ..Params::default()
    };
    params.validate()?;
    let bank = TextBank::load(&args.data).with_context(|| {
        format!(
            "cannot load texts from {}\nhint: pass --data DIR (the shared data) or --input FILE",
            args.data.display()
        )
    })?;
    let generator = Generator::new(params.clone(), &bank)?;
    std::fs::write(config, earshot_gen::config_toml(generator.brands(), &params)?)
        .with_context(|| format!("cannot write {}", config.display()))?;
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (w, truth) = earshot_gen::generate(generator, Format::XV2, std::io::BufWriter::new(file))
        .with_context(|| format!("cannot write {}", out.display()))?;
    w.into_inner().map_err(|e| e.into_error()).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("{} in {:.1}s: {}", truth.summary_line(), t.elapsed().as_secs_f64(), out.display());
    Ok(())
}

/// What the Python baseline measured.
struct Baseline {
    posts_per_s: f64,
    store_bytes: u64,
}

/// Runs the Python pipeline over `input` into `<dir>/baseline.db`.
fn python_baseline(input: &Path, dir: &Path, handles: &[String]) -> Result<Baseline> {
    let python = baseline_python()?;
    let script = dir.join("baseline_pipeline.py");
    std::fs::write(&script, BASELINE_SCRIPT).with_context(|| format!("cannot write {}", script.display()))?;
    let db = dir.join("baseline.db");
    eprintln!("running the Python baseline with {} …", python.display());
    let out = Command::new(&python)
        .arg(&script)
        .arg(input)
        .arg(&db)
        .arg("--brands")
        .arg(handles.join(","))
        .arg("--json")
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the Python baseline failed ({}): {}\nhint: run with --baseline none to skip it",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let figures: serde_json::Value =
        serde_json::from_str(last).with_context(|| format!("unexpected output from the Python baseline: {last}"))?;
    let posts_per_s = figures["posts_per_s"].as_f64().context("the Python baseline printed no posts_per_s")?;
    let store_bytes = store_bytes(&db);
    remove_store(&db);
    Ok(Baseline { posts_per_s, store_bytes })
}

/// An interpreter with vaderSentiment 3.3.2: `EARSHOT_PYTHON`, else `./.venv`, else a virtual environment the bench
/// creates once under the user's cache directory (pip from PyPI).
fn baseline_python() -> Result<PathBuf> {
    let has_vader = |python: &Path| {
        Command::new(python).args(["-c", "import vaderSentiment"]).output().map(|o| o.status.success()).unwrap_or(false)
    };
    if let Some(p) = std::env::var_os("EARSHOT_PYTHON").map(PathBuf::from) {
        anyhow::ensure!(has_vader(&p), "EARSHOT_PYTHON={} cannot import vaderSentiment", p.display());
        return Ok(p);
    }
    let local = PathBuf::from(".venv/bin/python");
    if has_vader(&local) {
        return Ok(local);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let venv = cache.join("earshot").join("bench-venv");
    let python = venv.join("bin").join("python");
    if !has_vader(&python) {
        eprintln!("creating a Python virtual environment for the baseline in {} …", venv.display());
        let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "vaderSentiment==3.3.2"])
                .status()
                .is_ok_and(|s| s.success());
        anyhow::ensure!(
            ok && has_vader(&python),
            "cannot set up Python with vaderSentiment 3.3.2 in {}\nhint: set EARSHOT_PYTHON to an interpreter that \
             has it, or run with --baseline none",
            venv.display()
        );
    }
    Ok(python)
}

fn remove_store(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

fn store_bytes(db: &Path) -> u64 {
    ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok()).map(|m| m.len()).sum()
}
