//! Rendering a [`Report`]: terminal table, JSON, CSV, Markdown and one self-contained HTML page.
//!
//! CSV and HTML escaping are written here rather than taken from a crate: the binary depends on
//! neither `csv` nor an HTML escaper, and each needs a few lines (quoting per RFC 4180; the five
//! HTML-special characters), both unit-tested below.

use super::metrics::TrendRow;
use super::{Report, Scorecard};
use std::fmt::Write;

/// Seconds as a short human duration (`47m`, `2h05m`, `3d04h`, `12s`).
pub fn duration(secs: f64) -> String {
    let s = secs.round() as i64;
    match s {
        ..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{:.0}%", v * 100.0))
}

fn ci(v: Option<[f64; 2]>) -> String {
    v.map_or_else(String::new, |[a, b]| format!("{:.0}–{:.0}%", a * 100.0, b * 100.0))
}

fn dur(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), duration)
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
}

/// The columns every tabular format shows, as (header, cell) pairs.
fn cells(s: &Scorecard) -> Vec<(&'static str, String)> {
    vec![
        ("#", s.rank.to_string()),
        ("brand", s.brand.clone()),
        ("inbound", s.inbound.to_string()),
        ("replied", s.replied.to_string()),
        ("response rate", format!("{} {}", pct(s.response_rate), ci(s.response_rate_ci)).trim().to_string()),
        ("median 1st reply", dur(s.first_response_median_s)),
        ("p90 1st reply", dur(s.first_response_p90_s)),
        ("median 1st reply (business h)", dur(s.first_response_business_median_s)),
        ("≤1h", pct(s.within_1h_share)),
        ("≤24h", pct(s.within_24h_share)),
        (
            "storms: answered, median to 1st answer",
            if s.storms == 0 {
                "–".to_string()
            } else {
                format!("{}/{}, {}", s.storms_answered, s.storms, dur(s.storm_first_answer_median_s))
            },
        ),
        ("replies/conv", num(s.replies_per_conversation, 1)),
        ("resolved", format!("{} (n={})", pct(s.resolution_rate), s.resolution_n)),
        ("sent. recovery", format!("{} (n={})", num(s.sentiment_recovery, 2), s.sentiment_recovery_n)),
        ("kept/lost", format!("{}/{} (n={})", s.kept, s.lost, s.outcome_n)),
        (
            "remedies (cases)",
            if s.remedies.is_empty() {
                "–".to_string()
            } else {
                s.remedies.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", ")
            },
        ),
    ]
}

/// The columns of a trend row, as (header, cell) pairs.
fn trend_cells(t: &TrendRow) -> Vec<(&'static str, String)> {
    vec![
        ("brand", t.brand.clone()),
        ("period", t.period.to_string()),
        ("inbound", t.inbound.to_string()),
        ("replied", t.replied.to_string()),
        ("response rate", format!("{} {}", pct(t.response_rate), ci(t.response_rate_ci)).trim().to_string()),
        ("median 1st reply", dur(t.first_response_median_s)),
        ("p90 1st reply", dur(t.first_response_p90_s)),
        ("≤1h", pct(t.within_1h_share)),
        ("≤24h", pct(t.within_24h_share)),
    ]
}

/// Rows of (header, cell) pairs padded to their widest cell; `None` when there are no rows.
fn padded(rows: &[Vec<(&str, String)>]) -> Option<String> {
    let first = rows.first()?;
    let widths: Vec<usize> = (0..first.len())
        .map(|c| rows.iter().map(|row| row[c].1.chars().count()).chain([first[c].0.chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |vals: Vec<&str>| -> String {
        let padded: Vec<String> =
            vals.iter().zip(&widths).map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count()))).collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(first.iter().map(|(h, _)| *h).collect());
    for row in rows {
        out += &line(row.iter().map(|(_, v)| v.as_str()).collect());
    }
    Some(out)
}

fn by_name(r: &Report) -> &'static str {
    match r.by {
        Some(super::Period::Day) => "day",
        Some(super::Period::Week) => "week",
        Some(super::Period::Month) => "month",
        None => "",
    }
}

/// A plain-text table, columns padded to their widest cell; with `--by`, a trend table after it.
pub fn table(r: &Report) -> String {
    let rows: Vec<Vec<(&str, String)>> = r.brands.iter().map(cells).collect();
    let Some(mut out) = padded(&rows) else {
        return "no brands: configure [[brands]] or ingest conversations with care accounts\n".to_string();
    };
    if let Some(trends) = &r.trends {
        let rows: Vec<Vec<(&str, String)>> = trends.iter().map(trend_cells).collect();
        if let Some(t) = padded(&rows) {
            let _ = write!(out, "\nby {}:\n{t}", by_name(r));
        }
    }
    let _ = writeln!(
        out,
        "\n{} posts read; methodology v{} (run with --format md to read it)",
        r.posts, r.methodology_version
    );
    out
}

/// One CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
}

/// CSV with the JSON field names as header: one row per brand, or with `--by` one row per brand per period.
pub fn csv(r: &Report) -> String {
    match &r.trends {
        Some(trends) => csv_rows(trends),
        None => csv_rows(&r.brands),
    }
}

fn csv_rows<T: serde::Serialize>(items: &[T]) -> String {
    let mut out = String::new();
    for (i, s) in items.iter().enumerate() {
        let serde_json::Value::Object(map) = serde_json::to_value(s).unwrap_or_default() else { continue };
        if i == 0 {
            out += &map.keys().map(|k| csv_field(k)).collect::<Vec<_>>().join(",");
            out.push('\n');
        }
        let vals: Vec<String> = map
            .values()
            .map(|v| match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => csv_field(s),
                serde_json::Value::Array(a) => csv_field(
                    &a.iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                serde_json::Value::Object(o) => {
                    csv_field(&o.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
                }
                other => other.to_string(),
            })
            .collect();
        out += &vals.join(",");
        out.push('\n');
    }
    out
}

/// Escapes text for Markdown table cells (pipes and line breaks would break the table).
fn md_cell(v: &str) -> String {
    v.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A Markdown leaderboard followed by the methodology.
pub fn markdown(r: &Report) -> String {
    let mut out = String::from("# Brand scorecards\n\n");
    if let Some(first) = r.brands.first().map(cells) {
        out += &format!("| {} |\n", first.iter().map(|(h, _)| *h).collect::<Vec<_>>().join(" | "));
        out += &format!("|{}\n", "---|".repeat(first.len()));
        for s in &r.brands {
            out += &format!("| {} |\n", cells(s).iter().map(|(_, v)| md_cell(v)).collect::<Vec<_>>().join(" | "));
        }
    } else {
        out += "No brands found.\n";
    }
    if let Some(first) = r.trends.as_ref().and_then(|t| t.first()).map(trend_cells) {
        let _ = write!(out, "\n## By {}\n\n", by_name(r));
        out += &format!("| {} |\n", first.iter().map(|(h, _)| *h).collect::<Vec<_>>().join(" | "));
        out += &format!("|{}\n", "---|".repeat(first.len()));
        for t in r.trends.iter().flatten() {
            out += &format!("| {} |\n", trend_cells(t).iter().map(|(_, v)| md_cell(v)).collect::<Vec<_>>().join(" | "));
        }
    }
    let _ = write!(out, "\n{} posts read.\n\n## Methodology (v{})\n\n", r.posts, r.methodology_version);
    for line in r.methodology.lines() {
        let _ = writeln!(out, "- {line}");
    }
    out
}

/// Escapes the five HTML-special characters (safe in text and quoted attributes).
pub fn html_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Horizontal bars of the response rate with its interval, one per brand, with an axis in percent.
fn leaderboard_svg(r: &Report) -> String {
    let (left, width, row) = (180.0, 400.0, 22.0);
    let height = 70.0 + row * r.brands.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" role=\"img\" \
         class=\"chart leaderboard\" aria-label=\"Response rate by brand\">",
        w = left + width + 60.0
    );
    for (i, s) in r.brands.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let rate = s.response_rate.unwrap_or(0.0);
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{name}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{bw:.1}\" height=\"{bh}\" fill=\"#4a7fb5\"><title>{name}: {p} (n={n})</title></rect>",
            tx = left - 6.0,
            ty = y + 13.0,
            name = html_escape(&s.brand),
            bw = rate * width,
            bh = row - 6.0,
            p = pct(s.response_rate),
            n = s.inbound,
        );
        if let Some([lo, hi]) = s.response_rate_ci {
            let _ = write!(
                svg,
                "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{yc}\" y2=\"{yc}\" stroke=\"#222\" stroke-width=\"1.5\"/>",
                x1 = left + lo * width,
                x2 = left + hi * width,
                yc = y + (row - 6.0) / 2.0
            );
        }
    }
    let axis_y = 10.0 + row * r.brands.len() as f64;
    percent_axis(&mut svg, left, width, axis_y, "response rate (bar) with 95% Wilson interval (line)");
    let ly = axis_y + 38.0;
    let _ = write!(
        svg,
        "<g class=\"legend\"><rect x=\"{left}\" y=\"{ly}\" width=\"10\" height=\"10\" fill=\"#4a7fb5\"/>\
         <text x=\"{t1}\" y=\"{ty}\" font-size=\"11\">response rate (% of inbound answered)</text>\
         <line x1=\"{l2}\" x2=\"{l3}\" y1=\"{lc}\" y2=\"{lc}\" stroke=\"#222\" stroke-width=\"1.5\"/>\
         <text x=\"{t2}\" y=\"{ty}\" font-size=\"11\">95% interval</text></g>",
        t1 = left + 14.0,
        ty = ly + 9.0,
        l2 = left + 250.0,
        l3 = left + 266.0,
        lc = ly + 5.0,
        t2 = left + 270.0,
    );
    svg.push_str("</svg>");
    svg
}

/// Time-to-first-response buckets shown in the distribution chart.
const BUCKETS: [(&str, f64); 6] = [
    ("≤15m", 900.0),
    ("≤1h", 3600.0),
    ("≤4h", 14_400.0),
    ("≤24h", 86_400.0),
    (">24h", f64::INFINITY),
    ("none", f64::NAN),
];

/// Stacked bars: the share of each brand's inbound per first-response bucket, with a legend.
fn distribution_svg(r: &Report) -> String {
    const COLORS: [&str; 6] = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#bbbbbb"];
    let (left, width, row) = (180.0, 400.0, 22.0);
    let height = 70.0 + row * r.brands.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" role=\"img\" \
         class=\"chart distribution\" aria-label=\"Time to first response by brand\">",
        w = left + width + 60.0
    );
    for (i, s) in r.brands.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{name}</text>",
            tx = left - 6.0,
            ty = y + 13.0,
            name = html_escape(&s.brand)
        );
        if s.inbound == 0 {
            continue;
        }
        let t = &s.first_response_times_s;
        let mut counts = [0u64; 6];
        for v in t {
            let k = BUCKETS.iter().position(|(_, max)| *v <= *max).unwrap_or(4);
            counts[k] += 1;
        }
        counts[5] = s.inbound.saturating_sub(t.len() as u64);
        let mut x = left;
        for (k, c) in counts.iter().enumerate() {
            let w = width * *c as f64 / s.inbound as f64;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{col}\"><title>{name} {b}: {c} of {n}</title></rect>",
                    h = row - 6.0,
                    col = COLORS[k],
                    name = html_escape(&s.brand),
                    b = BUCKETS[k].0,
                    n = s.inbound
                );
            }
            x += w;
        }
    }
    let axis_y = 10.0 + row * r.brands.len() as f64;
    percent_axis(&mut svg, left, width, axis_y, "share of inbound posts by time to first response");
    svg.push_str("<g class=\"legend\">");
    for (k, (label, _)) in BUCKETS.iter().enumerate() {
        let x = left + 70.0 * k as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{tx}\" y=\"{ty}\" font-size=\"11\">{l}</text>",
            y = axis_y + 38.0,
            c = COLORS[k],
            tx = x + 14.0,
            ty = axis_y + 47.0,
            l = html_escape(label)
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// Line colours of the trend chart's brands (colour-blind-safe Tableau 10 order).
const PALETTE: [&str; 8] = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"];

/// The trend chart draws this many brands, those with the most inbound.
pub const TREND_BRANDS: usize = 8;

/// Median time to first response per period for the busiest brands: a log-scale time axis
/// (1 min to 7 days), one line per brand, and a legend.
fn trend_svg(r: &Report) -> String {
    let trends: &[TrendRow] = r.trends.as_deref().unwrap_or_default();
    let mut shown: Vec<&Scorecard> = r.brands.iter().filter(|s| s.replied > 0).collect();
    shown.sort_by(|a, b| b.inbound.cmp(&a.inbound).then(a.rank.cmp(&b.rank)));
    shown.truncate(TREND_BRANDS);
    let periods: Vec<chrono::NaiveDate> =
        trends.iter().map(|t| t.period).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let (left, top, width, height) = (70.0, 12.0, 520.0, 220.0);
    let (lo, hi) = (60f64.log10(), (7.0 * 86_400f64).log10());
    let y = |secs: f64| top + height - (secs.clamp(60.0, 7.0 * 86_400.0).log10() - lo) / (hi - lo) * height;
    let n = periods.len();
    let x = |i: usize| left + if n > 1 { width * i as f64 / (n - 1) as f64 } else { width / 2.0 };
    let legend_h = 16.0 * shown.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         class=\"chart trend\" aria-label=\"Median time to first response over time\">",
        w = left + width + 200.0,
        h = (top + height + 60.0).max(top + legend_h + 10.0)
    );
    // Y axis: time, log scale, with grid lines.
    let _ =
        write!(svg, "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{b}\" stroke=\"#222\"/>", b = top + height);
    for (label, secs) in
        [("1 min", 60.0), ("10 min", 600.0), ("1 h", 3600.0), ("4 h", 14_400.0), ("1 d", 86_400.0), ("7 d", 604_800.0)]
    {
        let ty = y(secs);
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{tx}\" y=\"{ly:.1}\" text-anchor=\"end\" font-size=\"11\">{label}</text>",
            x2 = left + width,
            tx = left - 6.0,
            ly = ty + 4.0
        );
    }
    let _ = write!(
        svg,
        "<text transform=\"translate(14 {cy}) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">\
         median time to first response (log scale)</text>",
        cy = top + height / 2.0
    );
    // X axis: periods, at most 8 labels.
    let axis_y = top + height;
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{axis_y}\" y2=\"{axis_y}\" stroke=\"#222\"/>",
        x2 = left + width
    );
    let step = n.div_ceil(8).max(1);
    for (i, p) in periods.iter().enumerate() {
        if i % step == 0 || i + 1 == n {
            let _ = write!(
                svg,
                "<text x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"10\">{p}</text>",
                tx = x(i),
                ty = axis_y + 14.0
            );
        }
    }
    let by = match r.by {
        Some(super::Period::Week) => "week (from Monday)",
        Some(super::Period::Month) => "month",
        _ => "day",
    };
    let _ = write!(
        svg,
        "<text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"11\">inbound published per {by}, UTC \
         (medians under 1 min drawn at 1 min)</text>",
        cx = left + width / 2.0,
        cy = axis_y + 30.0
    );
    // One line per brand, points with the period's numbers.
    for (k, s) in shown.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(usize, &TrendRow)> = trends
            .iter()
            .filter(|t| t.brand == s.brand && t.first_response_median_s.is_some())
            .filter_map(|t| periods.binary_search(&t.period).ok().map(|i| (i, t)))
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(i, t)| format!("{:.1},{:.1}", x(*i), y(t.first_response_median_s.unwrap_or_default())))
            .collect();
        let name = html_escape(&s.brand);
        let _ = write!(
            svg,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        for (i, t) in &points {
            let m = t.first_response_median_s.unwrap_or_default();
            let _ = write!(
                svg,
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\" fill=\"{color}\"><title>{name} {p}: median {d} \
                 (n={n} of {inb} inbound)</title></circle>",
                cx = x(*i),
                cy = y(m),
                p = t.period,
                d = duration(m),
                n = t.replied,
                inb = t.inbound
            );
        }
        let ly = top + 16.0 * k as f64;
        let _ = write!(
            svg,
            "<g class=\"legend\"><rect x=\"{lx}\" y=\"{ly}\" width=\"12\" height=\"3\" fill=\"{color}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"11\">{name}</text></g>",
            lx = left + width + 16.0,
            tx = left + width + 32.0,
            ty = ly + 5.0
        );
    }
    if shown.is_empty() || n == 0 {
        let _ = write!(
            svg,
            "<text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"12\">no answered inbound in the period</text>",
            cx = left + width / 2.0,
            cy = top + height / 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Diverging bars: each brand's mean change in customer sentiment after its first reply, on a
/// −1…+1 VADER compound axis, with n and a legend.
fn recovery_svg(r: &Report) -> String {
    let shown: Vec<&Scorecard> = r.brands.iter().filter(|s| s.sentiment_recovery.is_some()).collect();
    let (left, width, row) = (180.0, 400.0, 22.0);
    let height = 84.0 + row * shown.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" role=\"img\" \
         class=\"chart recovery\" aria-label=\"Sentiment recovery by brand\">",
        w = left + width + 80.0
    );
    let zero = left + width / 2.0;
    for (i, s) in shown.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let v = s.sentiment_recovery.unwrap_or_default().clamp(-1.0, 1.0);
        let (x, w) = if v >= 0.0 { (zero, v * width / 2.0) } else { (zero + v * width / 2.0, -v * width / 2.0) };
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{name}</text>\
             <rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"{col}\"><title>{name}: {v:+.2} (n={n})</title></rect>\
             <text x=\"{nx}\" y=\"{ty}\" font-size=\"11\">{v:+.2} (n={n})</text>",
            tx = left - 6.0,
            ty = y + 13.0,
            name = html_escape(&s.brand),
            bh = row - 6.0,
            col = if v >= 0.0 { "#1a9850" } else { "#d73027" },
            v = s.sentiment_recovery.unwrap_or_default(),
            n = s.sentiment_recovery_n,
            nx = left + width + 6.0,
        );
    }
    if shown.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{zero}\" y=\"24\" text-anchor=\"middle\" font-size=\"12\">no thread has analyzed customer posts before and after a reply</text>"
        );
    }
    let axis_y = 10.0 + row * shown.len().max(1) as f64;
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{axis_y}\" y2=\"{axis_y}\" stroke=\"#222\"/>\
         <line x1=\"{zero}\" x2=\"{zero}\" y1=\"6\" y2=\"{axis_y}\" stroke=\"#888\"/>",
        x2 = left + width
    );
    for t in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"11\">{t:+.1}</text>",
            x = zero + t * width / 2.0,
            ty = axis_y + 14.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{zero}\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"11\">change in the customer&#39;s mean \
         VADER compound (−1…+1) after the brand&#39;s first reply</text>\
         <g class=\"legend\"><rect x=\"{left}\" y=\"{ly}\" width=\"10\" height=\"10\" fill=\"#1a9850\"/>\
         <text x=\"{t1}\" y=\"{lt}\" font-size=\"11\">customer warmer after the reply</text>\
         <rect x=\"{l2}\" y=\"{ly}\" width=\"10\" height=\"10\" fill=\"#d73027\"/>\
         <text x=\"{t2}\" y=\"{lt}\" font-size=\"11\">customer colder after the reply</text></g>",
        cy = axis_y + 28.0,
        ly = axis_y + 38.0,
        lt = axis_y + 47.0,
        t1 = left + 14.0,
        l2 = left + 220.0,
        t2 = left + 234.0,
    );
    svg.push_str("</svg>");
    svg
}

/// The four charts with their headings, as an HTML fragment (shared by the report file and the
/// inbox dashboard). The trend chart needs `r.trends`.
pub fn charts(r: &Report) -> String {
    format!(
        "<h2>Leaderboard</h2>{}<h2>Time to first response</h2>{}<h2>Trend: median time to first response</h2>{}\
         <h2>Sentiment recovery</h2>{}",
        leaderboard_svg(r),
        distribution_svg(r),
        trend_svg(r),
        recovery_svg(r)
    )
}

/// One self-contained HTML page: the table, the two charts, and the methodology.
pub fn html(r: &Report) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>earshot brand scorecards</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}\
         </style></head><body><h1>Brand scorecards</h1><table><thead><tr>",
    );
    if let Some(first) = r.brands.first().map(cells) {
        for (h, _) in &first {
            let _ = write!(out, "<th>{}</th>", html_escape(h));
        }
        out += "</tr></thead><tbody>";
        for s in &r.brands {
            out += "<tr>";
            for (_, v) in cells(s) {
                let _ = write!(out, "<td>{}</td>", html_escape(&v));
            }
            out += "</tr>";
        }
    }
    out += "</tbody></table>";
    out += &charts(r);
    let _ = write!(out, "<h2>Methodology (v{})</h2><ul>", html_escape(r.methodology_version));
    for line in r.methodology.lines() {
        let _ = write!(out, "<li>{}</li>", html_escape(line));
    }
    let _ = writeln!(out, "</ul><p>{} posts read.</p></body></html>", r.posts);
    out
}

/// A 0–100 % horizontal axis at `y` with ticks every 25 % and a centred caption under it.
fn percent_axis(svg: &mut String, left: f64, width: f64, y: f64, caption: &str) {
    let _ = write!(svg, "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#222\"/>", x2 = left + width);
    for t in 0..=4 {
        let x = left + width * f64::from(t) / 4.0;
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"11\">{v}%</text>",
            ty = y + 14.0,
            v = t * 25
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{x}\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"11\">{caption}</text>",
        x = left + width / 2.0,
        cy = y + 28.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            html_escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(12.0), "12s");
        assert_eq!(duration(1044.0), "17m24s");
        assert_eq!(duration(3600.0 * 5.0 + 60.0 * 45.0), "5h45m");
        assert_eq!(duration(86_400.0 * 8.0 + 3600.0 * 18.0), "8d18h");
    }
}
