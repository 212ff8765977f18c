//! A readable preview of generated traffic: the brands, then every Nth post
//! as `time origin category @author: text`, and the storms from the truth.
//!
//! `cargo run --release -p earshot-gen --example preview -- /work/shared/data 2 40`
//! (data directory, days, print every Nth post).

use earshot_gen::{Format, Generator, Length, Params, TextBank, Truth};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data = args.next().unwrap_or_else(|| "../shared/data".into());
    let days: f64 = args.next().map_or(Ok(2.0), |a| a.parse())?;
    let every: usize = args.next().map_or(Ok(40), |a| a.parse())?;
    let bank = TextBank::load(std::path::Path::new(&data))?;
    let params = Params { length: Length::Days(days), brands: 4, ..Params::default() };
    let mut generator = Generator::new(params, &bank)?;
    for b in generator.brands() {
        println!(
            "{} @{} @{} {:?} {:.0}/day UTC{:+}h staffed {:?} products {:?}",
            b.name,
            b.main.username,
            b.care.username,
            b.industry,
            b.rate,
            b.utc_offset_min / 60,
            b.staffed_hours,
            b.products
        );
    }
    for (i, post) in generator.by_ref().enumerate() {
        if i % every.max(1) == 0 {
            let when = post.published().format("%a %H:%M");
            println!("{when} {:?} {:?} @{}: {}", post.origin, post.category, post.author.username, post.text());
        }
    }
    let truth = Truth::new(&generator, Format::XV2, &bank);
    for s in &truth.storms {
        println!(
            "storm {} {} {:?} {:?} {} posts by {} authors from {}",
            s.kind.as_str(),
            s.brand,
            s.facet,
            s.key,
            s.posts,
            s.authors,
            s.onset
        );
    }
    println!("{}", truth.summary_line());
    Ok(())
}
