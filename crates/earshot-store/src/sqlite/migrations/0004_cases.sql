-- Customer cases (the Act stage). `data` is the whole case as JSON (notes,
-- remedies, outcome, post ids, SLA events...); the columns repeat what the
-- inbox sorts and filters by. Times are Unix milliseconds (UTC).
CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    brand            TEXT    NOT NULL COLLATE NOCASE,
    customer         TEXT    NOT NULL,
    platform         TEXT    NOT NULL,
    kind             TEXT    NOT NULL DEFAULT 'customer',
    status           TEXT    NOT NULL,
    assignee         TEXT,
    priority         INTEGER NOT NULL,
    issue            TEXT,
    sentiment        TEXT,
    opened_at        INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at      INTEGER,
    due_at           INTEGER,
    sla_state        TEXT,
    merged_into      INTEGER,
    data             TEXT    NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX cases_queue ON cases (brand, status, priority DESC, due_at);
CREATE INDEX cases_activity ON cases (last_activity_at);

-- Which post belongs to which case, with the role it plays and the rule that put it there.
CREATE TABLE case_posts (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    role    TEXT    NOT NULL,
    rule    TEXT    NOT NULL
);
CREATE INDEX case_posts_case ON case_posts (case_id);

-- What happened to a case, in order: SLA events, agent actions, outbox results. History, never rewritten.
CREATE TABLE case_events (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    actor   TEXT,
    data    TEXT    NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Progress of the threading stage: every post with a smaller id has been threaded.
CREATE TABLE pipeline_state (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
