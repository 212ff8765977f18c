//! Rendering a [`Report`]: terminal table, JSON, CSV, Markdown and one self-contained HTML page.
//!
//! CSV and HTML escaping are written here rather than taken from a crate: the binary depends on
//! neither `csv` nor an HTML escaper, and each needs a few lines (quoting per RFC 4180; the five
//! HTML-special characters), both unit-tested below.

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
        ("≤1h", pct(s.within_1h_share)),
        ("≤24h", pct(s.within_24h_share)),
        ("replies/conv", num(s.replies_per_conversation, 1)),
        ("resolved", format!("{} (n={})", pct(s.resolution_rate), s.resolution_n)),
        ("sent. recovery", format!("{} (n={})", num(s.sentiment_recovery, 2), s.sentiment_recovery_n)),
        ("kept/lost", format!("{}/{} (n={})", s.kept, s.lost, s.outcome_n)),
    ]
}

/// A plain-text table, columns padded to their widest cell.
pub fn table(r: &Report) -> String {
    let rows: Vec<Vec<(&str, String)>> = r.brands.iter().map(cells).collect();
    let Some(first) = rows.first() else {
        return "no brands: configure [[brands]] or ingest conversations with care accounts\n".to_string();
    };
    let widths: Vec<usize> = (0..first.len())
        .map(|c| rows.iter().map(|row| row[c].1.chars().count()).chain([first[c].0.chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |vals: Vec<&str>| -> String {
        let padded: Vec<String> =
            vals.iter().zip(&widths).map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count()))).collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(first.iter().map(|(h, _)| *h).collect());
    for row in &rows {
        out += &line(row.iter().map(|(_, v)| v.as_str()).collect());
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

/// CSV with one row per brand and the JSON field names as header.
pub fn csv(r: &Report) -> String {
    let mut out = String::new();
    for (i, s) in r.brands.iter().enumerate() {
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
    let height = 40.0 + row * r.brands.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" role=\"img\" \
         aria-label=\"Response rate by brand\">",
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
         aria-label=\"Time to first response by brand\">",
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
    svg.push_str("</svg>");
    svg
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
    let _ = write!(out, "<h2>Leaderboard</h2>{}", leaderboard_svg(r));
    let _ = write!(out, "<h2>Time to first response</h2>{}", distribution_svg(r));
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
