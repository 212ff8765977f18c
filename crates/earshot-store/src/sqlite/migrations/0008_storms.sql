-- Storms (the Warn stage): complaint spikes and coordinated campaigns, as objects that open, grow and close.
-- `data` is the whole storm as JSON (participants, samples, top hashtags...); the columns repeat what the
-- inbox and `earshot storms` sort and filter by. Times are Unix milliseconds (UTC).
CREATE TABLE storms (
    id           TEXT    PRIMARY KEY,
    brand        TEXT    NOT NULL COLLATE NOCASE,
    kind         TEXT    NOT NULL,
    facet        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    detected_at  INTEGER NOT NULL,
    last_post_at INTEGER NOT NULL,
    closed_at    INTEGER,
    posts        INTEGER NOT NULL,
    authors      INTEGER NOT NULL,
    case_id      INTEGER REFERENCES cases (id) ON DELETE SET NULL,
    data         TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX storms_by_detection ON storms (detected_at);
CREATE INDEX storms_by_brand ON storms (brand, detected_at);

-- Outgoing alerts about storms, one row per (storm event, webhook): the delivery journal.
CREATE TABLE alerts (
    id          TEXT    PRIMARY KEY,
    storm_id    TEXT    NOT NULL,
    brand       TEXT    NOT NULL COLLATE NOCASE,
    event       TEXT    NOT NULL,
    webhook     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    next_at     INTEGER,
    sent_at     INTEGER,
    last_error  TEXT,
    data        TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_pending ON alerts (state, next_at);
CREATE INDEX alerts_by_storm ON alerts (storm_id);

-- Serialized state of a streaming stage (the storm tracker), valid for every post up to `through`.
CREATE TABLE pipeline_snapshots (
    name    TEXT    PRIMARY KEY,
    through INTEGER NOT NULL,
    data    BLOB    NOT NULL
) WITHOUT ROWID;

-- A customer case that is part of a storm points at the storm case; the queue shows the storm case instead
-- of every member (forty tweets of one campaign are one thing to answer). Written only by storm detection,
-- never by a whole-row case write.
ALTER TABLE cases ADD COLUMN storm_case INTEGER;
CREATE INDEX cases_by_storm ON cases (storm_case) WHERE storm_case IS NOT NULL;
