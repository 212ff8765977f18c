//! The seed stories, in the platforms' own formats, embedded in the binary so
//! `earshot demo` works anywhere with no set-up. See `demo/README.md`.

use crate::ingest::{Ingestor, Input, Summary};
use anyhow::{Context, Result};
use chrono::{TimeZone, Utc};
use earshot_core::brand::{Brands, BrandsFile};
use earshot_store::{SqliteStore, Store};

/// One embedded fixture file.
#[derive(Debug, Clone, Copy)]
pub struct DemoFile {
    /// File name (format detection looks at it).
    pub name: &'static str,
    /// Contents.
    pub bytes: &'static [u8],
}

macro_rules! demo_files {
    ($($name:literal),* $(,)?) => {
        &[$(DemoFile { name: $name, bytes: include_bytes!(concat!("../demo/", $name)) }),*]
    };
}

/// The demo inputs, in the order they are ingested.
pub const FILES: &[DemoFile] = demo_files![
    "gilt.x-v2.json",
    "brooks.x-v1.jsonl",
    "blog.blogger-atom.xml",
    "blog-comments.blogger-atom.xml",
    "olivet.x-v2-stream.jsonl",
    "olivet-blog.wordpress-rss.xml",
];

/// The demo's brand config (also a commented example for new users).
pub const CONFIG: &str = include_str!("../demo/earshot.toml");

/// Ingests the seed stories into `store` with a fixed clock, so two demo runs build identical databases.
pub fn build(store: &mut SqliteStore) -> Result<Summary> {
    let brands = BrandsFile::from_toml(CONFIG).context("the embedded demo config is invalid")?.brands;
    let fixed_now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().context("fixed demo clock")?;
    store.upsert_brands(&brands, fixed_now)?;
    let mut ingestor = Ingestor::new(store, Brands::new(brands)).clock(move || fixed_now);
    for f in FILES {
        ingestor.ingest(Input::from_bytes(f.name, f.bytes), None).with_context(|| format!("demo file {}", f.name))?;
    }
    let mut summary = ingestor.finish()?;
    let policies = crate::cases::policies_from_toml(CONFIG).context("the embedded demo config is invalid")?;
    let threaded = crate::cases::CaseStage::open(store, policies)?.run(store, fixed_now)?;
    summary.posts_in_cases = threaded.linked;
    summary.cases_opened = threaded.opened;
    summary.storm_events = threaded.storm_events;
    Ok(summary)
}

/// The seed stories' brands side by side, as `earshot report` prints them for the demo database:
/// Gymboree's reply within 20 minutes, Brooks' replacement (a kept customer), Gilt's lost customer.
pub fn scorecards(store: &mut SqliteStore) -> Result<String> {
    let mut report =
        crate::report::from_store(store, None, None, None, false).context("cannot build the demo scorecards")?;
    let policies = crate::cases::policies_from_toml(CONFIG).context("the embedded demo config is invalid")?;
    report.add_business_hours(|brand| policies.for_brand(brand).and_then(|p| p.calendar.as_ref()));
    Ok(crate::report::render::table(&report))
}
