//! The SQLite change feed: polls `PRAGMA data_version` on a connection of its own (see `crate::feed`).

use crate::feed::{Change, Ended, Shared};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// What the inbox shows moved when these did: the newest post id ([`Change::Posts`]); the threading
/// watermark, the newest case id and the newest case event id ([`Change::Cases`]: threading moves the
/// watermark, every agent action appends an event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marks {
    posts: i64,
    cases: (i64, i64, i64),
}

fn marks(conn: &Connection) -> rusqlite::Result<Marks> {
    conn.query_row(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM posts), \
                (SELECT COALESCE(MAX(value), 0) FROM pipeline_state WHERE name = 'threaded_through'), \
                (SELECT COALESCE(MAX(id), 0) FROM cases), \
                (SELECT COALESCE(MAX(id), 0) FROM case_events)",
        [],
        |r| Ok(Marks { posts: r.get(0)?, cases: (r.get(1)?, r.get(2)?, r.get(3)?) }),
    )
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

/// One connection's life: opens the file (it must exist: `earshot serve` opened the store first), then
/// checks it every `POLL`, or at once when this process says it wrote.
pub(crate) fn session(path: &Path, shared: &Shared) -> Result<(), Ended> {
    let fail = |was_up: bool| move |e: rusqlite::Error| Ended { why: format!("{}: {e}", path.display()), was_up };
    // Read-write without create: a read-only connection cannot open a WAL file whose `-shm` is missing.
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(fail(false))?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(fail(false))?;
    let mut version = data_version(&conn).map_err(fail(false))?;
    let mut seen = marks(&conn).map_err(fail(false))?;
    shared.up();
    while !shared.stopped() {
        let mut changes = shared.wait_wrote(shared.wait_for());
        let now = data_version(&conn).map_err(fail(true))?;
        if now != version {
            version = now;
            let m = marks(&conn).map_err(fail(true))?;
            if m.posts != seen.posts {
                changes.add(Change::Posts);
            }
            if m.cases != seen.cases {
                changes.add(Change::Cases);
            }
            seen = m;
        }
        shared.report(changes);
    }
    Ok(())
}
