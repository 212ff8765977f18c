-- Live sources (`earshot watch`): one row per configured `[[sources]]` entry, keyed by its name.
-- `cursor` is where the source resumes (X / Mastodon status id, Jetstream `time_us`, feed validators as
-- JSON); it is written only after the posts it covers are committed. The other columns are the channel's
-- health, shown in the inbox. Times are Unix milliseconds (UTC). No secret is ever stored here.
CREATE TABLE sources (
    name         TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    cursor       TEXT,
    status       TEXT    NOT NULL CHECK (status IN ('connected', 'backing_off', 'failing', 'idle')),
    status_since INTEGER NOT NULL,
    last_post_at INTEGER,
    lag_ms       INTEGER,
    records      INTEGER NOT NULL DEFAULT 0,
    stored       INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    errors       INTEGER NOT NULL DEFAULT 0,
    reconnects   INTEGER NOT NULL DEFAULT 0,
    gaps         INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
