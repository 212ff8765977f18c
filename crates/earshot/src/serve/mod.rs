//! `earshot serve`: the web inbox and the JSON API over one store.
//!
//! Server-rendered pages (minijinja templates in `templates/`, auto-escaped: post text and names are always
//! text, never markup) and a versioned JSON API under `/api/v1`. Every route but `/healthz` and `/login` asks who
//! is calling (session cookie or `Authorization: Bearer` API token) and shows only the brands that caller may see:
//! another brand's case is a 404, not a 403, so ids do not leak. Forms carry a per-session CSRF token.

pub mod actions;
mod dashboard;
mod sources;

use crate::auth::{self, Role, may_see, scope};
use crate::cases::{StoredCase, default_policy};
use actions::{Action, ActionError};
use anyhow::{Context as _, Result};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use earshot_cases::{CaseStatus, IssueType, Remedy, ReplyContext, SlaPolicies};
use earshot_store::{
    Accounts, AnyStore, CaseQuery, CaseRow, Change, ChangeFeed, FeedEvent, Store, StoredPost, UserRow,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

const SESSION_COOKIE: &str = "earshot_session";
const SESSION_HOURS: i64 = 12;
/// Member cases whose posts a storm case's page shows as its thread.
const STORM_THREAD_CASES: usize = 60;
/// Database connections the server keeps open (see [`App`]).
const STORE_CONNECTIONS: usize = 4;
/// The issue types, as the issue classifier names them.
const ISSUES: [&str; 8] = earshot_classify::tasks::ISSUE_LABELS;

/// How to run the server.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// The database: a SQLite file or a PostgreSQL URL.
    pub db: PathBuf,
    /// SLA policies from the config.
    pub policies: SlaPolicies,
    /// Record replies without sending them.
    pub dry_run: bool,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The brands' platform accounts replies are sent from (`[outbox]` in the config); unused in a dry run.
    pub publishers: Option<Arc<earshot_outbox::Publishers>>,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("db", &earshot_store::redact_url(&self.db.to_string_lossy()))
            .field("dry_run", &self.dry_run)
            .field("publishers", &self.publishers.as_ref().map(|p| p.len()))
            .finish_non_exhaustive()
    }
}

/// Shared server state.
pub struct App {
    /// A few connections to the one database: WAL lets readers run side by side, so one slow page does not
    /// queue every other request behind it (SQLite serializes the writers itself, with its busy timeout).
    stores: Vec<Mutex<AnyStore>>,
    next_store: std::sync::atomic::AtomicUsize,
    templates: minijinja::Environment<'static>,
    opts: ServeOptions,
    /// What live pages (`/events`) hear: changes from the store's feed, whoever made them.
    updates: broadcast::Sender<&'static str>,
    /// Another process's (or instance's) commits of posts and cases; see [`earshot_store::ChangeFeed`].
    feed: ChangeFeed,
    started: std::time::Instant,
    requests: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("db", &earshot_store::redact_url(&self.opts.db.to_string_lossy()))
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the store and loads the templates.
    pub fn new(opts: ServeOptions) -> Result<Arc<App>> {
        let target = opts.db.to_string_lossy();
        let open = || {
            earshot_store::open(&target)
                .with_context(|| format!("cannot open database {}", earshot_store::redact_url(&target)))
        };
        let stores = (0..STORE_CONNECTIONS).map(|_| open().map(Mutex::new)).collect::<Result<Vec<_>>>()?;
        let mut templates = minijinja::Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("cases.html", include_str!("../../templates/cases.html")),
            ("case.html", include_str!("../../templates/case.html")),
            ("storms.html", include_str!("../../templates/storms.html")),
            ("dashboard.html", include_str!("../../templates/dashboard.html")),
            ("sources.html", include_str!("../../templates/sources.html")),
        ] {
            templates.add_template(name, src).with_context(|| format!("template {name}"))?;
        }
        let (updates, _) = broadcast::channel(64);
        let feed = ChangeFeed::start(&target, {
            let updates = updates.clone();
            move |event| match event {
                FeedEvent::Changed(change) => {
                    let _ = updates.send(change.as_str());
                }
                FeedEvent::Resumed => {
                    tracing::info!("change feed: connected again; live pages reload in case they missed something");
                    let _ = updates.send(Change::Cases.as_str());
                }
                FeedEvent::Lost(why) => {
                    tracing::warn!(
                        "change feed: lost ({why}); live pages miss other instances' changes until it reconnects"
                    );
                }
            }
        })
        .with_context(|| format!("cannot follow changes of {}", earshot_store::redact_url(&target)))?;
        Ok(Arc::new(App {
            stores,
            next_store: Default::default(),
            templates,
            opts,
            updates,
            feed,
            started: std::time::Instant::now(),
            requests: Default::default(),
        }))
    }

    /// Tells live pages that this instance changed something through the store (an agent's action). The change
    /// feed reports it once (on PostgreSQL when the notification comes back, so other instances and this one
    /// announce it the same way; directly while the feed is disconnected).
    pub fn announce(&self, change: Change) {
        self.feed.wrote(change);
    }
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/", get(inbox))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/actions", post(case_action_form))
        .route("/events", get(events))
        .route("/api/v1/me", get(api_me))
        .route("/api/v1/cases", get(api_cases))
        .route("/api/v1/cases/{id}", get(api_case))
        .route("/api/v1/cases/{id}/actions", post(api_case_action))
        .route("/api/v1/posts", get(api_posts))
        .route("/api/v1/storms", get(api_storms))
        .route("/api/v1/alerts", get(api_alerts))
        .route("/storms", get(storms_page))
        .route("/dashboard", get(dashboard::dashboard_page))
        .route("/sources", get(sources::sources_page))
        .route("/api/v1/sources", get(sources::api_sources))
        .route("/api/v1/openapi.json", get(openapi))
        .with_state(app)
}

/// Serves until the process is stopped. Live pages hear of changes through the store's change feed, started
/// with the [`App`]: posts and cases another process or instance commits, and this instance's own actions.
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> Result<()> {
    axum::serve(listener, router(app)).await.context("the server stopped")
}

// ---- errors ----

/// A failed request: JSON for the API, a short page for the inbox.
#[derive(Debug)]
enum Fail {
    /// Not logged in.
    Unauthorized {
        api: bool,
    },
    Forbidden(String),
    NotFound,
    Bad(String),
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Self {
        Fail::Internal(e)
    }
}

impl From<earshot_store::StoreError> for Fail {
    fn from(e: earshot_store::StoreError) -> Self {
        Fail::Internal(e.into())
    }
}

impl From<ActionError> for Fail {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::NotFound => Fail::NotFound,
            ActionError::Forbidden(r) => Fail::Forbidden(r),
            ActionError::Bad(m) => Fail::Bad(m),
            ActionError::Internal(e) => Fail::Internal(e),
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            Fail::Unauthorized { api: false } => return Redirect::to("/login").into_response(),
            Fail::Unauthorized { api: true } => {
                (StatusCode::UNAUTHORIZED, "authentication required: send `Authorization: Bearer TOKEN`".to_string())
            }
            Fail::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            Fail::NotFound => (StatusCode::NOT_FOUND, "not found".to_string()),
            Fail::Bad(m) => (StatusCode::BAD_REQUEST, m),
            Fail::Internal(e) => {
                tracing::error!("request failed: {e:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error (see the server log)".to_string())
            }
        };
        (status, Json(json!({ "error": msg }))).into_response()
    }
}

async fn db<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&mut AnyStore) -> Result<T, Fail> + Send + 'static,
) -> Result<T, Fail> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let n = app.stores.len();
        let first = app.next_store.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n;
        // Take the first idle connection, starting from a rotating index; wait on one when all are busy.
        let mut store = match (0..n).find_map(|i| app.stores[(first + i) % n].try_lock().ok()) {
            Some(store) => store,
            None => app.stores[first].lock().map_err(|_| Fail::Internal(anyhow::anyhow!("store lock poisoned")))?,
        };
        f(&mut store)
    })
    .await
    .map_err(|e| Fail::Internal(e.into()))?
}

// ---- who is asking ----

struct Caller {
    user: UserRow,
    /// The session's CSRF token (none for API tokens, which are not sent by browsers on their own).
    csrf: Option<String>,
    session: Option<String>,
}

/// Cookie values by name. Parsed by hand: one header, `name=value` pairs separated by `;`, no other crate needed.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

async fn caller(app: &Arc<App>, headers: &HeaderMap, api: bool) -> Result<Caller, Fail> {
    app.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
    {
        let hash = auth::token_hash(token.trim());
        let user = db(app, move |s| Ok(s.user_by_token(&hash)?)).await?;
        return user.map(|user| Caller { user, csrf: None, session: None }).ok_or(Fail::Unauthorized { api });
    }
    if let Some(sid) = cookie(headers, SESSION_COOKIE) {
        let hash = auth::token_hash(&sid);
        let found = db(app, move |s| Ok(s.session(&hash, Utc::now())?)).await?;
        if let Some(sess) = found {
            return Ok(Caller { user: sess.user, csrf: Some(sess.csrf), session: Some(sid) });
        }
    }
    Err(Fail::Unauthorized { api })
}

fn check_csrf(c: &Caller, form: &HashMap<String, String>) -> Result<(), Fail> {
    match (&c.csrf, form.get("csrf")) {
        (Some(want), Some(got)) if auth::same_secret(want, got) => Ok(()),
        _ => Err(Fail::Forbidden("missing or stale form token: reload the page and try again".into())),
    }
}

// ---- pages ----

fn render(app: &App, name: &str, ctx: Value) -> Result<Html<String>, Fail> {
    let t = app.templates.get_template(name).map_err(|e| Fail::Internal(e.into()))?;
    t.render(minijinja::value::Serde(&ctx)).map(Html).map_err(|e| Fail::Internal(e.into()))
}

async fn login_page(State(app): State<Arc<App>>) -> Result<Html<String>, Fail> {
    render(&app, "login.html", json!({}))
}

async fn login(State(app): State<Arc<App>>, Form(form): Form<HashMap<String, String>>) -> Result<Response, Fail> {
    let name = form.get("name").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let user = db(&app, move |s| Ok(s.user_by_name(&name)?)).await?;
    let ok =
        user.as_ref().and_then(|u| u.password_hash.as_deref()).is_some_and(|h| auth::verify_password(&password, h));
    let Some(user) = user.filter(|_| ok) else {
        let page = render(&app, "login.html", json!({ "error": "Wrong name or password." }))?;
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let sid = auth::new_secret();
    let csrf = auth::new_secret();
    let (hash, uid) = (auth::token_hash(&sid), user.id);
    let expires = Utc::now() + Duration::hours(SESSION_HOURS);
    db(&app, move |s| Ok(s.add_session(&hash, uid, &csrf, expires)?)).await?;
    let secure = if app.opts.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SESSION_HOURS * 3600);
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| Fail::Internal(e.into()))?);
    Ok(resp)
}

async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let c = caller(&app, &headers, false).await?;
    check_csrf(&c, &form)?;
    if let Some(sid) = c.session {
        let hash = auth::token_hash(&sid);
        db(&app, move |s| Ok(s.delete_session(&hash)?)).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("earshot_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(resp)
}

/// Filters of the case list (query string).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
struct CaseFilters {
    brand: Option<String>,
    status: Option<String>,
    assignee: Option<String>,
    customer: Option<String>,
    issue: Option<String>,
    sentiment: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
    all: Option<bool>,
}

impl CaseFilters {
    fn query(&self, user: &UserRow) -> CaseQuery {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        CaseQuery {
            brands: scope(user),
            brand: some(&self.brand),
            status: some(&self.status),
            all: self.all.unwrap_or(false),
            assignee: some(&self.assignee),
            customer: some(&self.customer),
            // A customer's own cases are listed even when a storm collapsed them.
            storm_members: self.customer.as_deref().is_some_and(|c| !c.trim().is_empty()),
            issue: some(&self.issue),
            sentiment: some(&self.sentiment),
            limit: Some(self.limit.unwrap_or(100).min(1000)),
            offset: self.offset.unwrap_or(0),
        }
    }
}

fn level(priority: i64) -> &'static str {
    match priority {
        p if p >= 70 => "urgent",
        p if p >= 45 => "high",
        p if p >= 20 => "normal",
        _ => "low",
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn case_summary(c: &CaseRow) -> Value {
    let storm = c.data.get("storm");
    let preview = match storm {
        Some(st) => format!(
            "storm: {} posts from {} people",
            st.get("posts").and_then(Value::as_u64).unwrap_or(0),
            st.get("authors").and_then(Value::as_u64).unwrap_or(0)
        ),
        None => c.data.pointer("/case/notes/0/text").and_then(Value::as_str).unwrap_or_default().to_string(),
    };
    json!({
        "id": c.id, "brand": c.brand, "customer": c.customer, "status": c.status, "assignee": c.assignee,
        "kind": c.kind,
        "priority": c.priority, "level": level(c.priority), "issue": c.issue, "sentiment": c.sentiment,
        "sla_state": c.sla_state, "due_at": c.due_at.map(when), "opened_at": when(c.opened_at), "preview": preview,
    })
}

async fn inbox(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<CaseFilters>,
) -> Result<Html<String>, Fail> {
    let c = caller(&app, &headers, false).await?;
    let q = f.query(&c.user);
    let user = c.user.clone();
    let (cases, brands) = db(&app, move |s| {
        let brands: Vec<String> = s.brands()?.into_iter().map(|b| b.name).filter(|b| may_see(&user, b)).collect();
        Ok((s.cases(&q)?, brands))
    })
    .await?;
    let cases: Vec<Value> = cases.iter().map(case_summary).collect();
    render(
        &app,
        "cases.html",
        json!({ "user": c.user, "csrf": c.csrf, "cases": cases, "brands": brands, "statuses": CaseStatus::ALL,
                "issues": ISSUES, "f": f }),
    )
}

/// Everything the case page and `GET /api/v1/cases/{id}` show.
struct CaseView {
    row: CaseRow,
    stored: StoredCase,
    posts: Vec<StoredPost>,
    events: Vec<earshot_store::StoredCaseEvent>,
    history: Vec<CaseRow>,
    /// A storm case's customer cases.
    members: Vec<CaseRow>,
}

async fn load_case(app: &Arc<App>, user: &UserRow, id: i64) -> Result<CaseView, Fail> {
    let user = user.clone();
    db(app, move |s| {
        let row = s.case(id)?.ok_or(Fail::NotFound)?;
        if !may_see(&user, &row.brand) {
            return Err(Fail::NotFound);
        }
        let stored = StoredCase::from_row(&row)?;
        let mut posts = s.case_posts(id)?;
        let members = if row.kind == "storm" { s.storm_members(id, 1000)? } else { Vec::new() };
        // A storm case's thread is its members' posts (the first ones: the roll-call lists everyone).
        for m in members.iter().take(STORM_THREAD_CASES) {
            posts.extend(s.case_posts(m.id)?);
        }
        if !members.is_empty() {
            posts.sort_by_key(|p| (p.post.published_at, p.id));
        }
        let events = s.case_events(id)?;
        let history = s
            .cases(&CaseQuery {
                brands: scope(&user),
                brand: Some(row.brand.clone()),
                customer: Some(row.customer.clone()),
                storm_members: true,
                all: true,
                limit: Some(200),
                ..CaseQuery::default()
            })?
            .into_iter()
            .filter(|c| c.id != row.id)
            .collect();
        Ok(CaseView { row, stored, posts, events, history, members })
    })
    .await
}

fn post_json(p: &StoredPost) -> Value {
    let a = p.analysis.as_ref();
    json!({
        "id": p.post.native_id, "platform": p.post.platform.as_str(), "author": p.post.author.handle,
        "brand": p.brand_author.is_some(), "text": p.post.text, "url": p.post.url,
        "published_at": when(p.post.published_at),
        "analysis": a.map(|a| json!({
            "sentiment": a.pointer("/sentiment/label"), "complaint": a.pointer("/complaint/label"),
            "severity": a.get("severity"), "intent": a.get("intent"), "issue": a.get("issue"),
            "signals": a.get("signals"), "priority": a.pointer("/priority/score"),
        })),
    })
}

fn sla_json(app: &App, v: &CaseView, now: DateTime<Utc>) -> Vec<Value> {
    let fallback = default_policy();
    let policy = app.opts.policies.for_brand(&v.row.brand).unwrap_or(&fallback);
    let report = earshot_cases::evaluate(policy, &v.stored.sla, now);
    report
        .targets()
        .iter()
        .map(|t| {
            json!({
                "target": t.target.as_str(), "state": t.state.as_str(), "due_at": t.due_at.map(when),
                "met_at": t.met_at.map(when), "breached_at": t.breached_at.map(when),
            })
        })
        .collect()
}

fn suggestions(v: &CaseView) -> Vec<earshot_cases::Suggestion> {
    let issue: IssueType = v.row.issue.as_deref().unwrap_or("other").parse().unwrap_or(IssueType::Other);
    let mut ctx = ReplyContext::new(v.row.brand.clone(), v.row.customer.clone(), issue, v.stored.case.platform);
    for p in v.posts.iter().filter(|p| p.brand_author.is_none()) {
        for s in p.analysis.as_ref().and_then(|a| a.get("signals")).and_then(Value::as_array).into_iter().flatten() {
            let value = s.get("value").and_then(Value::as_str).unwrap_or_default().to_string();
            match s.get("kind").and_then(Value::as_str) {
                Some("product") if !ctx.products.contains(&value) => ctx.products.push(value),
                Some("churn_threat") => ctx.churn = true,
                Some("competitor") => ctx.competitor = Some(value),
                Some("loyalty") => ctx.loyal = true,
                _ => {}
            }
        }
        let t = p.post.text.to_lowercase();
        if ["sold out", "out of stock", "waitlist", "no longer available"].iter().any(|w| t.contains(w)) {
            ctx.out_of_stock = true;
        }
    }
    for p in v.posts.iter().filter(|p| p.brand_author.is_some()) {
        let t = p.post.text.to_lowercase();
        if ["sold out", "out of stock"].iter().any(|w| t.contains(w)) {
            ctx.out_of_stock = true;
        }
    }
    ctx.prior_remedies = v.stored.remedies_offered.clone();
    earshot_cases::suggest(&ctx)
}

#[derive(Debug, Deserialize)]
struct FlashQuery {
    done: Option<String>,
}

async fn case_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Result<Html<String>, Fail> {
    let c = caller(&app, &headers, false).await?;
    let v = load_case(&app, &c.user, id).await?;
    let now = Utc::now();
    let events: Vec<Value> = v
        .events
        .iter()
        .map(|e| {
            let e = &e.event;
            let detail = match e.kind.as_str() {
                "reply" => {
                    format!("“{}” ({})", e.data["text"].as_str().unwrap_or(""), e.data["state"].as_str().unwrap_or(""))
                }
                "status" => {
                    format!("{} → {}", e.data["from"].as_str().unwrap_or(""), e.data["to"].as_str().unwrap_or(""))
                }
                "remedy" => e.data["remedy"].as_str().unwrap_or("").to_string(),
                "assigned" => e.data["assignee"].as_str().unwrap_or("").to_string(),
                "note" => e.data["text"].as_str().unwrap_or("").to_string(),
                _ => e.data["post"].as_str().map(|p| format!("post {p}")).unwrap_or_default(),
            };
            json!({ "at": when(e.at), "kind": e.kind, "actor": e.actor, "detail": detail })
        })
        .collect();
    let case = &v.stored.case;
    render(
        &app,
        "case.html",
        json!({
            "user": c.user, "csrf": c.csrf, "c": case_summary(&v.row), "level": level(v.row.priority),
            "posts": v.posts.iter().map(post_json).collect::<Vec<_>>(),
            "sla": sla_json(&app, &v, now), "suggestions": suggestions(&v), "events": events,
            "outcome": case.outcome.as_str(), "outcome_reason": case.outcome_evidence.as_ref().map(|e| e.reason.clone()),
            "remedies": case.remedies.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "offered": v.stored.remedies_offered.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "notes": case.notes, "history": v.history.iter().map(case_summary).collect::<Vec<_>>(),
            "storm": v.stored.storm, "members": v.members.iter().map(case_summary).collect::<Vec<_>>(),
            "statuses": CaseStatus::ALL, "all_remedies": Remedy::ALL, "can_act": Role::of(&c.user) >= Role::Agent,
            "dry_run": app.opts.dry_run, "flash": q.done,
        }),
    )
}

fn form_action(form: &HashMap<String, String>) -> Result<Action, Fail> {
    let value = form.get("value").cloned().unwrap_or_default();
    Ok(match form.get("action").map(String::as_str) {
        Some("assign") => Action::Assign(value),
        Some("note") => Action::Note(value),
        Some("remedy") => Action::Remedy(value),
        Some("status") => Action::Status(value),
        Some("reply") => Action::Reply {
            text: form.get("text").cloned().unwrap_or_default(),
            remedies: form.get("remedies").map(|r| r.split(',').map(str::to_string).collect()).unwrap_or_default(),
        },
        Some("merge") => Action::Merge(
            value.trim().trim_start_matches('#').parse().map_err(|_| Fail::Bad("merge needs a case number".into()))?,
        ),
        other => return Err(Fail::Bad(format!("unknown action {other:?}"))),
    })
}

async fn run_action(app: &Arc<App>, user: UserRow, id: i64, action: Action) -> Result<actions::ActionResult, Fail> {
    let app2 = app.clone();
    let now = Utc::now();
    let reply = match &action {
        Action::Reply { text, .. } if !app.opts.dry_run => Some(text.trim().to_string()),
        _ => None,
    };
    let mut result =
        db(app, move |s| Ok(actions::apply(s, &app2.opts.policies, &user, id, action, now, app2.opts.dry_run)?))
            .await?;
    if let Some(text) = reply {
        result.message = send_reply(app, &result.case, &text, now).await?;
    }
    app.announce(Change::Cases);
    Ok(result)
}

/// Sends a reply through the brand's account on the case's platform and records the result on the case
/// (`reply_sent` with the platform's id and URL, or `reply_failed` with the reason and what to do).
///
/// Sent at once, in the request: a failure is shown to the agent right away. Retries of retryable failures are
/// recorded (`reply_retry`) but not yet re-driven in the background.
async fn send_reply(app: &Arc<App>, case: &CaseRow, text: &str, now: DateTime<Utc>) -> Result<String, Fail> {
    use earshot_outbox::{Outbox, OutboxItem, Outcome};
    let platform = earshot_core::Platform::parse(&case.platform).unwrap_or(earshot_core::Platform::Other);
    let stored = StoredCase::from_row(case)?;
    let in_reply_to = stored.case.post_ids.last().cloned().unwrap_or_default();
    let mut item = OutboxItem::new(
        &case.id.to_string(),
        &now.timestamp_millis().to_string(),
        &case.brand,
        platform,
        &in_reply_to,
        text,
        now,
    );
    let outbox = Outbox { dry_run: false, ..Outbox::default() };
    let publisher = app.opts.publishers.as_ref().and_then(|p| p.get(&case.brand, platform));
    let (kind, data, message) = match publisher {
        None => (
            "reply_failed",
            json!({ "reason": format!("no {} account is configured for {}", case.platform, case.brand) }),
            format!(
                "reply not sent: no {} account for {} (add one under [[outbox.accounts]] in earshot.toml)",
                case.platform, case.brand
            ),
        ),
        Some(p) => {
            let outcome =
                outbox.send(&mut item, p, &mut (), now).await.map_err(|e| Fail::Internal(anyhow::anyhow!("{e}")))?;
            match outcome {
                Outcome::Sent(sent) => (
                    "reply_sent",
                    json!({ "native_id": sent.native_id, "url": sent.url, "idempotency_key": item.idempotency_key }),
                    format!("reply sent on {}", case.platform),
                ),
                Outcome::Failed { reason } => {
                    ("reply_failed", json!({ "reason": reason }), format!("reply failed: {reason}"))
                }
                Outcome::Retry { at, reason, .. } => (
                    "reply_retry",
                    json!({ "reason": reason, "retry_at": at }),
                    format!("reply not sent yet ({reason}); retry after {}", when(at)),
                ),
                Outcome::Deferred { until } => (
                    "reply_retry",
                    json!({ "reason": "rate limited", "retry_at": until }),
                    format!("reply not sent yet (rate limited); retry after {}", when(until)),
                ),
                Outcome::DryRun(_) => ("reply_dry_run", json!({}), "reply recorded (dry run: not sent)".to_string()),
            }
        }
    };
    let event = earshot_store::CaseEvent { case_id: case.id, at: now, kind: kind.into(), actor: None, data };
    db(app, move |s| Ok(s.write_cases(&earshot_store::CaseWrite { events: vec![event], ..Default::default() }, now)?))
        .await?;
    Ok(message)
}

async fn case_action_form(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let c = caller(&app, &headers, false).await?;
    check_csrf(&c, &form)?;
    let action = form_action(&form)?;
    let merged_into = if let Action::Merge(into) = action { Some(into) } else { None };
    let r = run_action(&app, c.user, id, action).await?;
    let target = merged_into.unwrap_or(id);
    let done: String = url_encode(&r.message);
    Ok(Redirect::to(&format!("/cases/{target}?done={done}")).into_response())
}

/// Percent-encodes a query value (only unreserved characters pass).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<Event, std::convert::Infallible>>>, Fail> {
    use tokio_stream::StreamExt as _;
    caller(&app, &headers, false).await?;
    // A lagging client skips missed announcements: the next one makes it reload anyway.
    let stream = tokio_stream::wrappers::BroadcastStream::new(app.updates.subscribe())
        .filter_map(|m| m.ok().map(|what| Ok(Event::default().event(what).data("changed"))));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

// ---- API ----

async fn api_me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    Ok(Json(json!({ "name": c.user.name, "role": c.user.role, "brands": c.user.brands })))
}

fn case_json(c: &CaseRow) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        let data = o.remove("data").unwrap_or(Value::Null);
        for key in ["outcome", "outcome_evidence", "remedies", "labels", "notes", "post_ids"] {
            o.insert(key.into(), data.pointer(&format!("/case/{key}")).cloned().unwrap_or(Value::Null));
        }
        o.insert("remedies_offered".into(), data.get("remedies_offered").cloned().unwrap_or(Value::Null));
    }
    v
}

async fn api_cases(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<CaseFilters>,
) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    let q = f.query(&c.user);
    let cases = db(&app, move |s| Ok(s.cases(&q)?)).await?;
    Ok(Json(Value::Array(cases.iter().map(case_json).collect())))
}

async fn api_case(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<i64>) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    let v = load_case(&app, &c.user, id).await?;
    let mut out = case_json(&v.row);
    out["posts"] = serde_json::to_value(&v.posts).map_err(|e| Fail::Internal(e.into()))?;
    out["events"] = serde_json::to_value(&v.events).map_err(|e| Fail::Internal(e.into()))?;
    if let Some(storm) = &v.stored.storm {
        out["storm"] = serde_json::to_value(storm).map_err(|e| Fail::Internal(e.into()))?;
        out["member_cases"] = Value::Array(v.members.iter().map(|m| json!(m.id)).collect());
    }
    let now = Utc::now();
    out["sla"] = Value::Array(sla_json(&app, &v, now));
    // Every state change of every clock up to now, derived from the stored events (history, not only state).
    let fallback = default_policy();
    let policy = app.opts.policies.for_brand(&v.row.brand).unwrap_or(&fallback);
    out["sla_history"] = serde_json::to_value(earshot_cases::evaluate(policy, &v.stored.sla, now).history)
        .map_err(|e| Fail::Internal(e.into()))?;
    out["suggested_replies"] = serde_json::to_value(suggestions(&v)).map_err(|e| Fail::Internal(e.into()))?;
    Ok(Json(out))
}

async fn api_case_action(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(action): Json<Action>,
) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    if c.csrf.is_some() {
        // A browser session calling the JSON API: JSON bodies cannot be sent cross-site without CORS, which this
        // server never grants, so SameSite cookies plus the content type are the protection here.
        if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/json") {
            return Err(Fail::Forbidden("JSON API calls need Content-Type: application/json".into()));
        }
    }
    let r = run_action(&app, c.user, id, action).await?;
    Ok(Json(json!({ "message": r.message, "case": case_json(&r.case) })))
}

#[derive(Debug, Deserialize)]
struct PostFilters {
    brand: Option<String>,
    search: Option<String>,
    limit: Option<usize>,
}

async fn api_posts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<PostFilters>,
) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    let user = c.user.clone();
    if let Some(b) = &f.brand
        && !may_see(&user, b)
    {
        return Err(Fail::NotFound);
    }
    let posts = db(&app, move |s| {
        let q = earshot_store::PostQuery {
            brand: f.brand.clone(),
            search: f.search.clone(),
            limit: f.limit.unwrap_or(50).min(1000),
            ..earshot_store::PostQuery::default()
        };
        // Posts are visible when one of their brands is in scope.
        Ok(s.posts(&q)?
            .into_iter()
            .filter(|p| {
                p.brands.iter().any(|a| may_see(&user, &a.brand))
                    || p.brand_author.as_deref().is_some_and(|b| may_see(&user, b))
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(serde_json::to_value(posts).map_err(|e| Fail::Internal(e.into()))?))
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct StormFilters {
    brand: Option<String>,
    open: Option<bool>,
    limit: Option<usize>,
}

/// Storms in the caller's scope, newest detection first, with their alert deliveries.
async fn scoped_storms(app: &Arc<App>, user: &UserRow, f: &StormFilters) -> Result<Vec<Value>, Fail> {
    if let Some(b) = &f.brand
        && !may_see(user, b)
    {
        return Err(Fail::NotFound);
    }
    let q = earshot_store::StormQuery {
        brands: scope(user),
        brand: f.brand.clone().filter(|b| !b.trim().is_empty()),
        open_only: f.open.unwrap_or(false),
        limit: Some(f.limit.unwrap_or(100).min(1000)),
    };
    let brands = scope(user);
    db(app, move |s| {
        let storms = s.storms(&q)?;
        let mut out = Vec::with_capacity(storms.len());
        for st in &storms {
            let mut v = crate::storms::storm_json(st);
            v["title"] = json!(crate::storms::storm_title(&st.kind, &st.facet, &st.key));
            v["alerts"] = s
                .alerts(brands.as_deref(), Some(&st.id), 50)?
                .iter()
                .map(|a| {
                    json!({ "id": a.id, "event": a.event, "webhook": a.webhook, "state": a.state,
                            "attempts": a.attempts, "sent_at": a.sent_at, "last_error": a.last_error })
                })
                .collect();
            out.push(v);
        }
        Ok(out)
    })
    .await
}

async fn api_storms(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<StormFilters>,
) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    Ok(Json(Value::Array(scoped_storms(&app, &c.user, &f).await?)))
}

#[derive(Debug, Default, Deserialize)]
struct AlertFilters {
    storm: Option<String>,
    limit: Option<usize>,
}

async fn api_alerts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<AlertFilters>,
) -> Result<Json<Value>, Fail> {
    let c = caller(&app, &headers, true).await?;
    let brands = scope(&c.user);
    let alerts =
        db(&app, move |s| Ok(s.alerts(brands.as_deref(), f.storm.as_deref(), f.limit.unwrap_or(100).min(1000))?))
            .await?;
    // The stored delivery (its body included) stays server-side; the API says what happened to it.
    let rows: Vec<Value> = alerts
        .iter()
        .map(|a| {
            json!({ "id": a.id, "storm_id": a.storm_id, "brand": a.brand, "event": a.event, "webhook": a.webhook,
                    "state": a.state, "attempts": a.attempts, "created_at": a.created_at, "next_at": a.next_at,
                    "sent_at": a.sent_at, "last_error": a.last_error })
        })
        .collect();
    Ok(Json(Value::Array(rows)))
}

async fn storms_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(f): Query<StormFilters>,
) -> Result<Html<String>, Fail> {
    let c = caller(&app, &headers, false).await?;
    let storms = scoped_storms(&app, &c.user, &f).await?;
    render(&app, "storms.html", json!({ "user": c.user, "csrf": c.csrf, "storms": storms, "f": f }))
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, Fail> {
    caller(&app, &headers, true).await?;
    let stats = db(&app, |s| Ok(s.stats()?)).await?;
    let mut out = String::new();
    out.push_str("# HELP earshot_posts Posts stored.\n# TYPE earshot_posts gauge\n");
    out.push_str(&format!("earshot_posts {}\n", stats.posts));
    out.push_str("# HELP earshot_cases Cases by status.\n# TYPE earshot_cases gauge\n");
    for (status, n) in &stats.cases_by_status {
        out.push_str(&format!("earshot_cases{{status=\"{status}\"}} {n}\n"));
    }
    out.push_str("# HELP earshot_http_requests_total Authenticated requests served.\n# TYPE earshot_http_requests_total counter\n");
    out.push_str(&format!("earshot_http_requests_total {}\n", app.requests.load(std::sync::atomic::Ordering::Relaxed)));
    out.push_str(&format!(
        "# HELP earshot_uptime_seconds Seconds since start.\n# TYPE earshot_uptime_seconds gauge\nearshot_uptime_seconds {}\n",
        app.started.elapsed().as_secs()
    ));
    let feed = app.feed.status();
    let backend = feed.backend;
    out.push_str(&format!(
        "# HELP earshot_change_feed_up 1 while the change feed is connected (PostgreSQL: LISTEN; SQLite: polling the \
         file); while 0, live pages miss other processes' changes.\n# TYPE earshot_change_feed_up gauge\n\
         earshot_change_feed_up{{backend=\"{backend}\"}} {}\n",
        u8::from(feed.connected)
    ));
    out.push_str(&format!(
        "# HELP earshot_change_feed_reconnects_total Times the change feed connected again after losing its \
         connection.\n# TYPE earshot_change_feed_reconnects_total counter\n\
         earshot_change_feed_reconnects_total{{backend=\"{backend}\"}} {}\n",
        feed.reconnects
    ));
    out.push_str(&format!(
        "# HELP earshot_change_feed_changes_total Changes the feed announced to live pages.\n\
         # TYPE earshot_change_feed_changes_total counter\n\
         earshot_change_feed_changes_total{{backend=\"{backend}\"}} {}\n",
        feed.changes
    ));
    out.push_str(&sources::metrics(&app).await?);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

async fn openapi() -> Json<Value> {
    Json(serde_json::from_str(include_str!("openapi.json")).unwrap_or(Value::Null))
}
