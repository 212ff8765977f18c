//! `GET /sources` and `GET /api/v1/sources`: channel health of the live sources `earshot watch` reads
//! (status, last post, lag, errors, last error, cursor), and the per-source gauges on `/metrics`.
//!
//! Source health is operations data, not brand data: any signed-in user may see it. Error texts come
//! from remote servers, so the page relies on the template's HTML escaping and the metrics escape label
//! values as the Prometheus text format requires.

use super::{App, Fail, caller, db, render};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;
use chrono::{DateTime, Utc};
use earshot_store::{SourceState, Store};
use serde_json::{Value, json};
use std::sync::Arc;

/// "3s", "4m 10s", "2h 5m", "3d 4h": an age short enough for a table cell.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// At most 32 characters of a cursor, for a table cell.
fn short(cursor: &str) -> String {
    if cursor.chars().count() <= 32 {
        cursor.to_string()
    } else {
        format!("{}…", cursor.chars().take(31).collect::<String>())
    }
}

/// The word and pill colour of a status.
fn status_class(status: &str) -> &'static str {
    match status {
        "connected" => "p-normal",
        "backing_off" => "p-high",
        "failing" => "p-urgent",
        _ => "p-low",
    }
}

fn row(s: &SourceState, now: DateTime<Utc>) -> Value {
    let secs = |t: DateTime<Utc>| (now - t).num_seconds();
    json!({
        "name": s.name, "kind": s.kind, "url": s.url,
        "status": s.status, "status_class": status_class(&s.status),
        "status_since": s.status_since, "status_age": age(secs(s.status_since)),
        "last_post_at": s.last_post_at, "last_post_age": s.last_post_at.map(|t| age(secs(t))),
        "lag_ms": s.lag_ms, "lag": s.lag_ms.map(|ms| if ms < 10_000 { format!("{:.1}s", ms as f64 / 1000.0) } else { age(ms / 1000) }),
        "records": s.records, "stored": s.stored, "rejected": s.rejected,
        "errors": s.errors, "reconnects": s.reconnects, "gaps": s.gaps, "last_error": s.last_error,
        // The cursor is saved with each commit of the source's records; the row is rewritten on every health change.
        "cursor": s.cursor, "cursor_short": s.cursor.as_deref().map(short), "cursor_age": s.cursor.as_ref().and(s.last_post_at).map(|t| age(secs(t))),
        "updated_at": s.updated_at, "updated_age": age(secs(s.updated_at)),
    })
}

async fn states(app: &Arc<App>) -> Result<Vec<SourceState>, Fail> {
    db(app, |s| Ok(s.source_states()?)).await
}

pub(super) async fn sources_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Html<String>, Fail> {
    let c = caller(&app, &headers, false).await?;
    let now = Utc::now();
    let rows: Vec<Value> = states(&app).await?.iter().map(|s| row(s, now)).collect();
    render(&app, "sources.html", json!({ "user": c.user, "csrf": c.csrf, "sources": rows }))
}

pub(super) async fn api_sources(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<Value>, Fail> {
    caller(&app, &headers, true).await?;
    let now = Utc::now();
    Ok(Json(Value::Array(states(&app).await?.iter().map(|s| row(s, now)).collect())))
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The per-source lines of `/metrics`.
pub(super) async fn metrics(app: &Arc<App>) -> Result<String, Fail> {
    let states = states(app).await?;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, value: &dyn Fn(&SourceState) -> Option<String>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for s in &states {
            if let Some(v) = value(s) {
                out.push_str(&format!("{name}{{source=\"{}\",kind=\"{}\"}} {v}\n", label(&s.name), label(&s.kind)));
            }
        }
    };
    family("earshot_source_up", "gauge", "1 when the live source is connected or idle between polls.", &|s| {
        Some(u8::from(s.status == "connected" || s.status == "idle").to_string())
    });
    family("earshot_source_failing", "gauge", "1 when the live source is failing.", &|s| {
        Some(u8::from(s.status == "failing").to_string())
    });
    family("earshot_source_errors_total", "counter", "Connection and protocol errors of the live source.", &|s| {
        Some(s.errors.to_string())
    });
    family("earshot_source_records_total", "counter", "Records the live source delivered and committed.", &|s| {
        Some(s.records.to_string())
    });
    family(
        "earshot_source_last_post_timestamp_seconds",
        "gauge",
        "When the live source last delivered a record (Unix seconds).",
        &|s| s.last_post_at.map(|t| format!("{:.3}", t.timestamp_millis() as f64 / 1000.0)),
    );
    family("earshot_source_lag_seconds", "gauge", "How far behind the platform the last committed record was.", &|s| {
        s.lag_ms.map(|ms| format!("{:.3}", ms as f64 / 1000.0))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_labels() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(250), "4m 10s");
        assert_eq!(age(7500), "2h 5m");
        assert_eq!(age(-3), "0s");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
