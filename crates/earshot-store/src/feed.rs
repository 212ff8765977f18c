//! The change feed: tells a long-running reader (`earshot serve`) that some other connection committed new
//! posts or changed cases, so its live pages can refresh — whichever process wrote them.
//!
//! Each backend uses its own mechanism:
//!
//! - **PostgreSQL**: writers call `pg_notify('earshot_changes', '<schema>:<change>')` inside the transaction
//!   that commits posts ([`Store::commit`]) or cases ([`Store::write_cases`]), so the notification is sent only
//!   on commit, and PostgreSQL folds identical notifications of one transaction into one. The feed holds a
//!   dedicated connection that `LISTEN`s on the channel and keeps the notifications of its own schema. When
//!   that connection drops, the feed reports [`FeedEvent::Lost`], reconnects with backoff, and reports
//!   [`FeedEvent::Resumed`] — notifications sent meanwhile are lost, so a reader treats it as "anything may
//!   have changed".
//! - **SQLite** (one machine, but `earshot watch` or `earshot ingest` may be another process): a dedicated
//!   connection polls `PRAGMA data_version` every [`POLL`], which changes when another connection commits;
//!   on a change it reads the newest post id, the threading watermark and the newest case and case event
//!   ids, and reports what moved (a source's cursor or a login session changes the file but not those, so
//!   it is not reported).
//!
//! Reports are coalesced: within one check the same change is reported once, and a change is reported at
//! most once per [`MIN_INTERVAL`] (the rest of a burst is reported once, at the end of the interval).
//!
//! A process's own writes: [`ChangeFeed::wrote`] says "this process just committed a change". On
//! PostgreSQL the notification comes back through the feed (so nothing is reported twice), and is reported
//! directly only while the feed is disconnected; on SQLite it wakes the poller, which reports it at once
//! (with anything other connections committed meanwhile) and does not report it again.
//!
//! [`Store::commit`]: crate::Store::commit
//! [`Store::write_cases`]: crate::Store::write_cases

use crate::Result;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The PostgreSQL notification channel writers notify and the feed listens on.
pub const CHANNEL: &str = "earshot_changes";
/// How often the SQLite feed checks the file (and the PostgreSQL feed checks its stop flag).
pub const POLL: Duration = Duration::from_millis(500);
/// A change is reported at most once per this interval.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);
/// Reconnection backoff: from the first, doubling up to the second.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// New posts were stored (or deletions recorded).
    Posts,
    /// Cases changed: posts threaded, an agent's action, storms.
    Cases,
}

impl Change {
    const ALL: [Change; 2] = [Change::Posts, Change::Cases];

    /// The change's name (`posts`, `cases`): the notification payload's last part, and the SSE event name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Posts => "posts",
            Change::Cases => "cases",
        }
    }

    /// The change a name stands for.
    pub fn parse(name: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// What the feed reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// Some connection committed this change.
    Changed(Change),
    /// The feed is connected again after a failure; changes made meanwhile were not reported.
    Resumed,
    /// The feed lost its connection (or could not connect), with why; it retries with backoff.
    Lost(String),
}

/// How the feed is doing, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedStatus {
    /// `postgres` or `sqlite`.
    pub backend: &'static str,
    /// Connected (PostgreSQL: listening; SQLite: polling the file) now.
    pub connected: bool,
    /// Times it connected again after losing the connection.
    pub reconnects: u64,
    /// Changes reported.
    pub changes: u64,
    /// The last failure, when there was one.
    pub last_error: Option<String>,
}

/// A set of [`Change`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Changes(u8);

impl Changes {
    pub(crate) fn add(&mut self, c: Change) {
        self.0 |= c.bit();
    }
    fn union(&mut self, other: Changes) {
        self.0 |= other.0;
    }
    fn is_empty(self) -> bool {
        self.0 == 0
    }
    fn iter(self) -> impl Iterator<Item = Change> {
        Change::ALL.into_iter().filter(move |c| self.0 & c.bit() != 0)
    }
}

/// The sink events go to; called from the feed's thread (and from [`ChangeFeed::wrote`]'s caller).
type Sink = Box<dyn Fn(FeedEvent) + Send + Sync>;

/// State shared by the feed handle and its thread.
pub(crate) struct Shared {
    sink: Sink,
    stop: AtomicBool,
    /// Changes this process wrote, not yet reported (SQLite), and the condition the poller waits on.
    wrote: Mutex<Changes>,
    wake: Condvar,
    connected: AtomicBool,
    /// Whether the feed has ever been connected and lost it (or failed to connect) since: the next
    /// connection reports [`FeedEvent::Resumed`].
    was_down: AtomicBool,
    /// True when this process's own writes come back through the feed (PostgreSQL).
    echoes: bool,
    reconnects: AtomicU64,
    changes: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// When each change was last reported, and changes held back by [`MIN_INTERVAL`].
    throttle: Mutex<Throttle>,
}

#[derive(Default)]
struct Throttle {
    last: [Option<Instant>; 2],
    held: Changes,
}

impl Shared {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The feed is connected: reports [`FeedEvent::Resumed`] when it was down.
    pub(crate) fn up(&self) {
        self.connected.store(true, Ordering::Relaxed);
        if self.was_down.swap(false, Ordering::Relaxed) {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
            (self.sink)(FeedEvent::Resumed);
        }
    }

    fn down(&self, why: String) {
        self.connected.store(false, Ordering::Relaxed);
        self.was_down.store(true, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
        (self.sink)(FeedEvent::Lost(why));
    }

    /// Reports `changes`, and changes held back before, each at most once per [`MIN_INTERVAL`]; the rest are
    /// held back for a later call (the feed's loop calls it at least every [`Shared::wait_for`]).
    pub(crate) fn report(&self, changes: Changes) {
        let now = Instant::now();
        let mut due = Changes::default();
        {
            let mut t = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
            t.held.union(changes);
            for c in t.held.iter() {
                let last = &mut t.last[c as usize];
                if last.is_none_or(|at| now.duration_since(at) >= MIN_INTERVAL) {
                    *last = Some(now);
                    due.add(c);
                }
            }
            t.held.0 &= !due.0;
        }
        for c in due.iter() {
            self.changes.fetch_add(1, Ordering::Relaxed);
            (self.sink)(FeedEvent::Changed(c));
        }
    }

    /// How long to wait for news before the next check: `POLL`, or less when a held-back change is due sooner.
    pub(crate) fn wait_for(&self) -> Duration {
        let t = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
        t.held
            .iter()
            .filter_map(|c| t.last[c as usize].map(|at| MIN_INTERVAL.saturating_sub(at.elapsed())))
            .min()
            .map_or(POLL, |d| d.clamp(Duration::from_millis(10), POLL))
    }

    /// Waits up to `timeout` for [`ChangeFeed::wrote`] or a stop; returns (and clears) what this process wrote.
    pub(crate) fn wait_wrote(&self, timeout: Duration) -> Changes {
        let guard = self.wrote.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = self
            .wake
            .wait_timeout_while(guard, timeout, |w| w.is_empty() && !self.stop.load(Ordering::Relaxed))
            .unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *guard)
    }

    /// Sleeps `d` unless stopped first; false when stopped.
    fn sleep(&self, d: Duration) -> bool {
        let guard = self.wrote.lock().unwrap_or_else(|e| e.into_inner());
        let _unused = self
            .wake
            .wait_timeout_while(guard, d, |_| !self.stop.load(Ordering::Relaxed))
            .unwrap_or_else(|e| e.into_inner());
        !self.stopped()
    }
}

/// Why a feed session ended: the reason, and whether it had connected (then the backoff starts over).
pub(crate) struct Ended {
    pub(crate) why: String,
    pub(crate) was_up: bool,
}

/// Runs `session` until the feed is stopped: each call connects and reports until its connection fails (an
/// `Err`) or the feed stops (`Ok`); failures are reported and retried after a growing pause.
fn drive(shared: &Shared, mut session: impl FnMut(&Shared) -> std::result::Result<(), Ended>) {
    let mut backoff = BACKOFF.0;
    while !shared.stopped() {
        match session(shared) {
            Ok(()) => return,
            Err(Ended { why, was_up }) => {
                if shared.stopped() {
                    return;
                }
                if was_up {
                    backoff = BACKOFF.0;
                }
                shared.down(why);
                if !shared.sleep(backoff) {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF.1);
            }
        }
    }
}

/// A running change feed. Dropping it stops the feed (its thread ends within [`POLL`]).
pub struct ChangeFeed {
    shared: Arc<Shared>,
    backend: &'static str,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed").field("status", &self.status()).finish()
    }
}

impl ChangeFeed {
    /// Starts the feed of the store `target` names (a `postgres://` URL or a SQLite file path) on a thread of
    /// its own, calling `sink` with each [`FeedEvent`]. It connects in the background: a connection failure is
    /// reported as [`FeedEvent::Lost`] and retried, not returned; an error here means the target is malformed.
    pub fn start(target: &str, sink: impl Fn(FeedEvent) + Send + Sync + 'static) -> Result<ChangeFeed> {
        if crate::is_postgres_url(target) {
            #[cfg(feature = "postgres")]
            return Self::start_postgres(target, None, sink);
            #[cfg(not(feature = "postgres"))]
            return Err(crate::StoreError::Unsupported(
                "this earshot was built without PostgreSQL support (cargo feature `postgres`)".into(),
            ));
        }
        let path = std::path::PathBuf::from(target);
        Ok(Self::spawn("sqlite", false, sink, move |shared| drive(shared, |s| crate::sqlite::feed::session(&path, s))))
    }

    /// Like [`ChangeFeed::start`] for PostgreSQL at `url`, reporting the changes of schema `schema` (as
    /// [`crate::PostgresStore::open_in_schema`] writes them) instead of the URL's `search_path`.
    #[cfg(feature = "postgres")]
    pub fn start_postgres(
        url: &str,
        schema: Option<&str>,
        sink: impl Fn(FeedEvent) + Send + Sync + 'static,
    ) -> Result<ChangeFeed> {
        let config = crate::postgres::feed::config(url)?;
        let schema = schema.map(str::to_string);
        Ok(Self::spawn("postgres", true, sink, move |shared| {
            drive(shared, |s| crate::postgres::feed::session(&config, schema.as_deref(), s))
        }))
    }

    fn spawn(
        backend: &'static str,
        echoes: bool,
        sink: impl Fn(FeedEvent) + Send + Sync + 'static,
        run: impl FnOnce(&Shared) + Send + 'static,
    ) -> ChangeFeed {
        let shared = Arc::new(Shared {
            sink: Box::new(sink),
            stop: AtomicBool::new(false),
            wrote: Mutex::new(Changes::default()),
            wake: Condvar::new(),
            connected: AtomicBool::new(false),
            was_down: AtomicBool::new(false),
            echoes,
            reconnects: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            last_error: Mutex::new(None),
            throttle: Mutex::new(Throttle::default()),
        });
        let thread_shared = shared.clone();
        // The thread ends on its own once the handle is dropped (it checks the stop flag at least every POLL);
        // nothing waits for it, so dropping a feed never blocks on a connection attempt.
        let spawned =
            std::thread::Builder::new().name(format!("earshot-feed-{backend}")).spawn(move || run(&thread_shared));
        if let Err(e) = spawned {
            shared.down(format!("cannot start the change feed's thread: {e}"));
        }
        ChangeFeed { shared, backend }
    }

    /// Says this process just committed `change` through the store. On PostgreSQL the feed reports it when
    /// the notification comes back (directly only while disconnected); on SQLite the poller is woken to report
    /// it now, once.
    pub fn wrote(&self, change: Change) {
        let s = &self.shared;
        if !s.connected.load(Ordering::Relaxed) {
            let mut one = Changes::default();
            one.add(change);
            s.report(one);
        } else if !s.echoes {
            s.wrote.lock().unwrap_or_else(|e| e.into_inner()).add(change);
            s.wake.notify_all();
        }
    }

    /// How the feed is doing.
    pub fn status(&self) -> FeedStatus {
        let s = &self.shared;
        FeedStatus {
            backend: self.backend,
            connected: s.connected.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
            changes: s.changes.load(Ordering::Relaxed),
            last_error: s.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    /// Waits up to `timeout` for the feed to be connected (for tests and start-up); true when it is.
    pub fn wait_connected(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        while !self.shared.connected.load(Ordering::Relaxed) {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify_all();
    }
}
