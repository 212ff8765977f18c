//! `earshot demo`: the seed stories, heard end to end.

use super::one_line;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use earshot::demo;
use earshot_store::{PostQuery, SqliteStore, Store, StoredPost};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `earshot demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to build the demo database (replaced if it exists).
    #[arg(long, default_value = "earshot-demo.db", value_name = "PATH")]
    pub db: PathBuf,
    /// Only build the database and print what was heard; do not start the inbox.
    #[arg(long)]
    pub no_serve: bool,
    /// Print the ingest summary as JSON on the last line.
    #[arg(long)]
    pub json: bool,
    /// Where the inbox listens.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
}

fn remove_db(path: &std::path::Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("cannot replace the old demo database {}", p.display()))?;
        }
    }
    Ok(())
}

fn since(t: DateTime<Utc>, start: DateTime<Utc>) -> String {
    let m = (t - start).num_minutes();
    if m < 60 {
        format!("+{m}m")
    } else if m < 48 * 60 {
        format!("+{}h{:02}m", m / 60, m % 60)
    } else {
        format!("+{}d", m / 1440)
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    remove_db(&args.db)?;
    let mut store = SqliteStore::open(&args.db).with_context(|| format!("cannot create {}", args.db.display()))?;
    let summary = demo::build(&mut store)?;
    let stats = store.stats()?;
    println!(
        "earshot heard the seed stories: {} posts from {} files in {} formats",
        stats.posts,
        summary.files,
        stats.by_format.len()
    );
    let formats: Vec<String> = stats.by_format.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  by format: {}; replies linked to their parent: {}", formats.join(", "), stats.replies_linked);
    for brand in store.brands()? {
        let mut posts: Vec<StoredPost> =
            store.posts(&PostQuery { brand: Some(brand.name.clone()), limit: 10_000, ..PostQuery::default() })?;
        posts.reverse();
        let Some(first) = posts.iter().find(|p| p.brand_author.as_deref() != Some(&brand.name)) else { continue };
        let start = first.post.published_at;
        let customers: std::collections::BTreeSet<&str> = posts
            .iter()
            .filter(|p| p.brand_author.as_deref() != Some(&brand.name))
            .map(|p| p.post.author.handle.as_str())
            .collect();
        println!();
        println!(
            "{} — {} posts from {} people, first on {}",
            brand.name,
            posts.len(),
            customers.len(),
            start.format("%Y-%m-%d %H:%M UTC")
        );
        let mut shown = 0;
        let mut hidden = 0;
        for p in &posts {
            let by_brand = p.brand_author.as_deref() == Some(&brand.name);
            // Storms have dozens of near-identical posts: show the first few and every brand post.
            if !by_brand
                && shown >= 6
                && p.post.published_at - start < chrono::Duration::hours(1)
                && p.post.reply_to.is_none()
            {
                hidden += 1;
                continue;
            }
            if hidden > 0 {
                println!("  {:>8}  … {hidden} more posts like these", "");
                hidden = 0;
            }
            shown += 1;
            let marker = if by_brand {
                "◆"
            } else if p.post.reply_to.is_some() {
                "↳"
            } else {
                "•"
            };
            let media =
                if p.post.media.is_empty() { String::new() } else { format!(" [{} media]", p.post.media.len()) };
            println!(
                "  {:>8}  {marker} {:<8} {:<22} {}{media}",
                since(p.post.published_at, start),
                p.post.platform.as_str(),
                one_line(&author_label(p), 22),
                one_line(&p.post.text, 90),
            );
        }
        if hidden > 0 {
            println!("  {:>8}  … {hidden} more posts like these", "");
        }
        if let Some(reply) = posts.iter().find(|p| p.brand_author.as_deref() == Some(&brand.name)) {
            println!(
                "  first reply from {} after {}",
                brand.name,
                since(reply.post.published_at, start).trim_start_matches('+')
            );
        }
    }
    println!();
    println!("cases (most urgent first; `earshot cases --db {}`):", args.db.display());
    for c in store.cases(&earshot_store::CaseQuery { all: true, limit: Some(8), ..Default::default() })? {
        let outcome = c.data.pointer("/case/outcome").and_then(|v| v.as_str()).unwrap_or("unknown");
        let offered: Vec<&str> = c
            .data
            .get("remedies_offered")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|r| r.as_str()).collect())
            .unwrap_or_default();
        println!(
            "  #{:<3} {:<9} @{:<16} priority {:<3} {:<22} offered {:<28} outcome {}",
            c.id,
            c.brand,
            c.customer,
            c.priority,
            c.issue.as_deref().unwrap_or("-"),
            if offered.is_empty() { "-".to_string() } else { offered.join(", ") },
            outcome
        );
    }
    let storms = store.storms(&earshot_store::StormQuery::default())?;
    if !storms.is_empty() {
        println!();
        println!(
            "storms (one storm case each, instead of a ticket per post; `earshot storms --db {}`):",
            args.db.display()
        );
        for st in &storms {
            let members = st.case_id.map(|c| store.storm_members(c, 10_000)).transpose()?.unwrap_or_default();
            println!(
                "  {:<8} {:<9} {:<16} started {}  detected {} (+{} min)  {} posts, {} authors  → storm case #{} ({} customer cases collapsed)",
                st.kind,
                st.brand,
                earshot::storms::storm_title(&st.kind, &st.facet, &st.key),
                st.started_at.format("%Y-%m-%d %H:%M"),
                st.detected_at.format("%H:%M"),
                (st.detected_at - st.started_at).num_minutes(),
                st.posts,
                st.authors,
                st.case_id.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                members.len(),
            );
        }
    }
    println!();
    println!("scorecards (`earshot report --db {}`; --format html for charts):", args.db.display());
    print!("{}", demo::scorecards(&mut store)?);
    println!();
    println!("database: {}  (try `earshot posts --db {} --search sandal`)", args.db.display(), args.db.display());
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    serve_demo(store, &args)
}

/// Creates a demo login and serves the inbox on the demo database (dry run: replies are recorded, not sent).
fn serve_demo(mut store: SqliteStore, args: &Args) -> Result<ExitCode> {
    use earshot_store::Accounts;
    let password = earshot::auth::new_secret()[..16].to_string();
    let user = earshot_store::UserRow {
        id: 0,
        name: "demo".into(),
        role: "admin".into(),
        brands: vec!["*".into()],
        password_hash: Some(earshot::auth::hash_password(&password)?),
    };
    store.add_user(&user, Utc::now())?;
    drop(store);
    let policies = earshot::cases::policies_from_toml(demo::CONFIG)?;
    let app = earshot::serve::App::new(earshot::serve::ServeOptions {
        db: args.db.clone(),
        policies,
        dry_run: true,
        secure_cookies: false,
        publishers: None,
    })?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr).await.with_context(|| {
            format!("cannot listen on {}\nhint: pass --addr HOST:PORT, or --no-serve to skip the inbox", args.addr)
        })?;
        println!();
        println!(
            "inbox: http://{}/   login: demo / {password}   (replies are a dry run; Ctrl-C to stop)",
            listener.local_addr()?
        );
        earshot::serve::serve(app, listener).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `@handle` on social networks; blog authors are names, not handles.
fn author_label(p: &StoredPost) -> String {
    match p.post.platform {
        earshot_core::Platform::Blog | earshot_core::Platform::Other => p.post.author.handle.clone(),
        _ => format!("@{}", p.post.author.handle),
    }
}
