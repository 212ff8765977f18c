//! The PostgreSQL change feed: a connection of its own that `LISTEN`s on [`CHANNEL`] (see `crate::feed`).

use super::{ident, reason};
use crate::feed::{CHANNEL, Change, Changes, Ended, POLL, Shared};
use crate::{Result, StoreError};
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, NoTls};
use std::time::{Duration, Instant};

/// The payload writers send: the schema they wrote in and what changed (`<schema>:<change>`), so feeds of
/// other stores in the same database ignore it.
pub(crate) const NOTIFY_SQL: &str = "SELECT pg_notify($1::text, current_schema()::text || ':' || $2::text)";

/// Tells listeners, on commit of `tx`, that `change` happened in its schema. PostgreSQL sends one
/// notification per distinct payload per transaction, however many rows changed.
pub(crate) fn notify(tx: &mut postgres::Transaction<'_>, change: Change) -> Result<()> {
    tx.execute(NOTIFY_SQL, &[&CHANNEL, &change.as_str()])
        .map(drop)
        .map_err(|error| StoreError::Postgres { doing: "notifying listeners", error })
}

/// The listening connection's settings: the store's, with `-changes` after the application name, plus TCP
/// keepalives and a user timeout so that a silently dead connection (a failed network, a frozen server) is
/// noticed within a minute or so.
pub(crate) fn config(url: &str) -> Result<postgres::Config> {
    let target = crate::redact_url(url);
    let mut config: postgres::Config = url.parse().map_err(|error| StoreError::Connect { target, error })?;
    if config.get_password().is_none()
        && let Ok(password) = std::env::var("PGPASSWORD")
    {
        config.password(password);
    }
    // Named apart from the store's connections, so an operator can tell it in `pg_stat_activity`.
    let name = format!("{}-changes", config.get_application_name().unwrap_or("earshot"));
    config.application_name(&name);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.keepalives(true).keepalives_idle(Duration::from_secs(30)).keepalives_interval(Duration::from_secs(10));
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(60));
    }
    Ok(config)
}

/// One connection's life: connects, listens, reports its schema's notifications until the connection fails.
pub(crate) fn session(config: &postgres::Config, schema: Option<&str>, shared: &Shared) -> Result<(), Ended> {
    let fail = |was_up: bool| move |e: postgres::Error| Ended { why: reason(&e), was_up };
    let mut client = config.connect(NoTls).map_err(fail(false))?;
    if let Some(schema) = schema {
        client.batch_execute(&format!("SET search_path TO {}", ident(schema))).map_err(fail(false))?;
    }
    // The schema writers name in their payloads: the first of the search path, also before it exists (a feed
    // may start before the first store creates it).
    let row = client.query_one("SELECT current_schema(), current_setting('search_path')", &[]).map_err(fail(false))?;
    let schema = match row.get::<_, Option<String>>(0) {
        Some(s) => s,
        None => {
            let path: String = row.get(1);
            let first = path.split(',').next().unwrap_or("").trim().trim_matches('"').to_string();
            if first.is_empty() || first == "$user" {
                return Err(Ended { why: format!("no schema to follow: search_path is {path:?}"), was_up: false });
            }
            first
        }
    };
    client.batch_execute(&format!("LISTEN {CHANNEL}")).map_err(fail(false))?;
    shared.up();
    let mut heard = Instant::now();
    while !shared.stopped() {
        let wait = shared.wait_for().min(POLL);
        let mut changes = Changes::default();
        let first = client.notifications().timeout_iter(wait).next().map_err(fail(true))?;
        if let Some(n) = first {
            heard = Instant::now();
            take(&mut changes, n.payload(), &schema);
            // Whatever else already arrived is reported with it, once.
            let mut more = client.notifications();
            let mut rest = more.iter();
            while let Some(n) = rest.next().map_err(fail(true))? {
                take(&mut changes, n.payload(), &schema);
            }
        } else if client.is_closed() {
            return Err(Ended { why: "the connection closed".into(), was_up: true });
        } else if heard.elapsed() >= PING_AFTER {
            // A round trip: fails (within the TCP user timeout) when the connection is dead.
            ping(&mut client).map_err(fail(true))?;
            heard = Instant::now();
        }
        shared.report(changes);
    }
    Ok(())
}

/// After this long without a notification the connection is pinged, to find a dead one.
const PING_AFTER: Duration = Duration::from_secs(30);

fn ping(client: &mut Client) -> std::result::Result<(), postgres::Error> {
    client.batch_execute("SELECT 1")
}

/// Adds the change a payload names when it is about `schema`.
fn take(changes: &mut Changes, payload: &str, schema: &str) {
    if let Some((s, what)) = payload.rsplit_once(':')
        && s == schema
        && let Some(c) = Change::parse(what)
    {
        changes.add(c);
    }
}
