//! `GET /dashboard`: the brand scorecards and their charts inside the inbox, for the brands the
//! signed-in user may see. The numbers and SVG charts are the ones `earshot report --format html`
//! writes (one [`crate::report`] code path); brand names are escaped by the chart renderer and by
//! the template.

use super::{App, Fail, caller, db, render};
use crate::auth::may_see;
use crate::report::{self, Period, render as charts};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Query string of the dashboard: the period and the trend granularity.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub(super) struct DashboardFilters {
    /// Count inbound from this day (YYYY-MM-DD, UTC).
    since: Option<String>,
    /// Count inbound before this day (YYYY-MM-DD, UTC).
    until: Option<String>,
    /// `day`, `week` or `month`; picked from the data's span when absent.
    by: Option<String>,
}

fn day(v: &Option<String>, name: &str) -> Result<Option<DateTime<Utc>>, Fail> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| Fail::Bad(format!("{name} must be a date like 2017-10-31"))),
    }
}

pub(super) async fn dashboard_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<DashboardFilters>,
) -> Result<Html<String>, Fail> {
    let c = caller(&app, &headers, false).await?;
    let (since, until) = (day(&f.since, "since")?, day(&f.until, "until")?);
    let by = match f.by.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("day") => Some(Period::Day),
        Some("week") => Some(Period::Week),
        Some("month") => Some(Period::Month),
        Some(_) => return Err(Fail::Bad("by must be day, week or month".into())),
    };
    let mut rep =
        db(&app, move |s| Ok(report::from_store(&mut *s, since, until, by, true).map_err(anyhow::Error::from)?))
            .await?;
    rep.add_business_hours(|brand| app.opts.policies.for_brand(brand).and_then(|p| p.calendar.as_ref()));
    // Brand scope: only the brands this user may see, in the charts and in the table.
    let user = c.user.clone();
    rep.brands.retain(|s| may_see(&user, &s.brand));
    if let Some(t) = &mut rep.trends {
        t.retain(|r| may_see(&user, &r.brand));
    }
    let rows: Vec<serde_json::Value> = rep
        .brands
        .iter()
        .map(|s| {
            json!({
                "brand": s.brand, "handles": s.handles.join(" "), "inbound": s.inbound, "replied": s.replied,
                "response_rate": s.response_rate.map(|v| format!("{:.0}%", v * 100.0)),
                "median": s.first_response_median_s.map(charts::duration),
                "p90": s.first_response_p90_s.map(charts::duration),
                "within_1h": s.within_1h_share.map(|v| format!("{:.0}%", v * 100.0)),
                "recovery": s.sentiment_recovery.map(|v| format!("{v:+.2}")), "recovery_n": s.sentiment_recovery_n,
                "kept": s.kept, "lost": s.lost,
            })
        })
        .collect();
    let svg = if rep.brands.is_empty() { String::new() } else { charts::charts(&rep) };
    render(
        &app,
        "dashboard.html",
        json!({ "user": c.user, "csrf": c.csrf, "rows": rows, "charts": svg, "f": f,
                "methodology_version": rep.methodology_version, "methodology": rep.methodology.lines().collect::<Vec<_>>() }),
    )
}
