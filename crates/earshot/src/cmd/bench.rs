//! `earshot bench`: end-to-end ingest throughput on generated X v2 stream data.

use anyhow::{Context, Result};
use earshot::bench;
use earshot::ingest::{Ingestor, Input};
use earshot_core::brand::{BrandConfig, Brands};
use earshot_core::decode;
use earshot_store::{SqliteStore, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `earshot bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Posts to generate (ignored with --input).
    #[arg(long, default_value_t = 200_000)]
    pub posts: u64,
    /// Brands mentioned by generated posts (all configured).
    #[arg(long, default_value_t = 50)]
    pub brands: usize,
    /// Read this file instead of generating one (format auto-detected).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Tweet texts to build posts from, one per line (default: ../shared/data/tweeteval-sentiment/train_text.txt).
    #[arg(long)]
    pub texts: Option<PathBuf>,
    /// Working directory for the generated file and the store (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Seed for the generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the figures as JSON on the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let input = match &args.input {
        Some(p) => p.clone(),
        None => {
            let path = dir.join(format!("bench-x-v2-{}.jsonl", args.posts));
            let texts = bench::load_texts(args.texts.as_deref())?;
            let t = Instant::now();
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
            );
            bench::generate_x_v2_stream(&mut w, args.posts, args.brands, &texts, args.seed)?;
            drop(w);
            eprintln!("generated {} posts in {:.1}s: {}", args.posts, t.elapsed().as_secs_f64(), path.display());
            path
        }
    };
    let input_bytes = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    let input_str = input.to_string_lossy().to_string();

    // Stage 1: decode only (read + frame + decode), to split decode from store cost.
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(&input)?, decode::SNIFF_BYTES as u64),
        &mut head,
    )?;
    let decoder = decode::detect(decode::SniffInput { head: &head, file_name: None }, &input_str)?;
    let t = Instant::now();
    let mut decoded = 0u64;
    decode::decode_reader(decoder, std::fs::File::open(&input)?, |_| decoded += 1)?;
    let decode_s = t.elapsed().as_secs_f64();

    // Stage 2: the full ingest path into a fresh store.
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut store = SqliteStore::open(&db)?;
    let brands: Vec<BrandConfig> = bench::brand_handles(args.brands)
        .into_iter()
        .map(|h| BrandConfig { name: h.clone(), handles: vec![format!("@{h}")], ..BrandConfig::default() })
        .collect();
    store.upsert_brands(&brands, chrono::Utc::now())?;
    let mut ingestor = Ingestor::new(&mut store, Brands::new(brands));
    ingestor.ingest(Input::open(&input_str)?, None)?;
    let summary = ingestor.finish()?;
    drop(store);
    let db_bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum();
    let peak = bench::peak_rss_bytes().unwrap_or(0);
    let posts = summary.stored + summary.duplicates;
    let figures = serde_json::json!({
        "posts": posts,
        "records": decoded,
        "input_bytes": input_bytes,
        "format": decoder.name(),
        "decode_s": decode_s,
        "decode_posts_per_s": (decoded as f64 / decode_s).round(),
        "ingest_s": summary.elapsed_s,
        "posts_per_s": summary.posts_per_s,
        "rejected": summary.rejected,
        "peak_rss_bytes": peak,
        "store_bytes": db_bytes,
    });
    println!("input     {} ({:.1} MB, {})", input.display(), input_bytes as f64 / 1e6, decoder.name());
    println!("decode    {decoded} records in {decode_s:.2}s = {:.0} records/s (one core)", decoded as f64 / decode_s);
    println!(
        "ingest    {posts} posts in {:.2}s = {:.0} posts/s (decode + brands + SQLite commit)",
        summary.elapsed_s, summary.posts_per_s
    );
    println!("peak RSS  {:.1} MiB; store {:.1} MB", peak as f64 / 1048576.0, db_bytes as f64 / 1e6);
    if args.json {
        println!("{figures}");
    }
    Ok(ExitCode::SUCCESS)
}
