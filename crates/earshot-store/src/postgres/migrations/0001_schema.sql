-- The schema of SQLite migrations 0001-0008 in one step, in PostgreSQL's own types:
-- times are TIMESTAMPTZ (written at millisecond precision, like SQLite's Unix milliseconds), raw records
-- BYTEA (TEXT cannot hold a NUL byte), flags BOOLEAN, and full-text search a generated tsvector column
-- with a GIN index instead of an FTS5 table. List-valued and whole-object fields stay JSON text, so they
-- read back byte for byte as they were written.

-- SQLite's COLLATE NOCASE: brand and user names compare without regard to case.
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE posts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         TEXT        NOT NULL,
    native_id        TEXT        NOT NULL,
    url              TEXT,
    author_id        TEXT,
    author_handle    TEXT        NOT NULL,
    author_name      TEXT,
    author_followers BIGINT,
    author_url       TEXT,
    author_care      BOOLEAN,
    text             TEXT        NOT NULL,
    lang             TEXT,
    published_at     TIMESTAMPTZ NOT NULL,
    ingested_at      TIMESTAMPTZ NOT NULL,
    kind             TEXT        NOT NULL,
    reply_to         TEXT,
    reply_to_author  TEXT,
    conversation_id  TEXT,
    refs             TEXT,
    mentions         TEXT,
    hashtags         TEXT,
    links            TEXT,
    media            TEXT,
    metrics          TEXT,
    brand_author     TEXT,
    format           TEXT        NOT NULL,
    source           TEXT        NOT NULL,
    raw              BYTEA       NOT NULL,
    deleted_at       TIMESTAMPTZ,
    -- Words of the text and the author's handle, unstemmed ('simple'), like FTS5's unicode61 tokenizer.
    search           TSVECTOR GENERATED ALWAYS AS
                         (to_tsvector('simple'::regconfig, left(text, 100000) || ' ' || author_handle)) STORED,
    UNIQUE (platform, native_id)
);
CREATE INDEX posts_published ON posts (published_at);
CREATE INDEX posts_reply_to ON posts (platform, reply_to) WHERE reply_to IS NOT NULL;
CREATE INDEX posts_search ON posts USING GIN (search);

CREATE TABLE post_brands (
    brand   TEXT   NOT NULL,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    via     TEXT   NOT NULL,
    PRIMARY KEY (brand, post_id)
);
CREATE INDEX post_brands_post ON post_brands (post_id);

CREATE TABLE brands (
    name       TEXT COLLATE nocase PRIMARY KEY,
    config     TEXT        NOT NULL,
    discovered BOOLEAN     NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE deletions (
    platform   TEXT  NOT NULL,
    native_id  TEXT  NOT NULL,
    deleted_at TIMESTAMPTZ,
    source     TEXT  NOT NULL,
    raw        BYTEA NOT NULL,
    PRIMARY KEY (platform, native_id)
);

CREATE TABLE rejects (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT        NOT NULL,
    line        BIGINT      NOT NULL,
    byte        BIGINT      NOT NULL,
    record      BIGINT      NOT NULL,
    within      TEXT        NOT NULL DEFAULT '',
    format      TEXT        NOT NULL,
    reason      TEXT        NOT NULL,
    raw         BYTEA       NOT NULL,
    rejected_at TIMESTAMPTZ NOT NULL
);
-- A reject seen before is not stored twice. The reason is hashed: a B-tree entry must stay under ~2.7 kB.
CREATE UNIQUE INDEX rejects_once ON rejects (source, byte, record, within, md5(reason));

CREATE TABLE post_analysis (
    post_id   BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    versions  TEXT             NOT NULL,
    compound  DOUBLE PRECISION NOT NULL,
    sentiment TEXT,
    complaint DOUBLE PRECISION,
    severity  BIGINT,
    intent    TEXT,
    issue     TEXT,
    priority  BIGINT           NOT NULL,
    analysis  TEXT             NOT NULL
);
CREATE INDEX post_analysis_priority ON post_analysis (priority);

CREATE TABLE cases (
    id                BIGINT PRIMARY KEY,
    brand             TEXT COLLATE nocase NOT NULL,
    customer          TEXT        NOT NULL,
    platform          TEXT        NOT NULL,
    kind              TEXT        NOT NULL DEFAULT 'customer',
    status            TEXT        NOT NULL,
    assignee          TEXT,
    priority          BIGINT      NOT NULL,
    issue             TEXT,
    sentiment         TEXT,
    opened_at         TIMESTAMPTZ NOT NULL,
    last_activity_at  TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    resolved_at       TIMESTAMPTZ,
    due_at            TIMESTAMPTZ,
    sla_state         TEXT,
    merged_into       BIGINT,
    data              TEXT        NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    -- The storm case this case is part of (written by storm detection only).
    storm_case        BIGINT
);
CREATE INDEX cases_activity ON cases (last_activity_at);
-- The inbox queue: priority, then SLA due time (unset last), then age, then id. Each filter the inbox offers
-- has an index starting with the filtered column and then holding that order (see SQLite's 0007).
CREATE INDEX cases_status_queue ON cases (status, priority DESC, due_at, opened_at, id) WHERE merged_into IS NULL;
CREATE INDEX cases_all_queue ON cases (priority DESC, due_at, opened_at, id) WHERE merged_into IS NULL;
CREATE INDEX cases_active_brand_queue ON cases (brand, priority DESC, due_at, opened_at, id)
    WHERE merged_into IS NULL AND status IN ('new', 'open', 'waiting_on_customer');
CREATE INDEX cases_active_issue_queue ON cases (issue, priority DESC, due_at, opened_at, id)
    WHERE merged_into IS NULL AND status IN ('new', 'open', 'waiting_on_customer');
CREATE INDEX cases_active_sentiment_queue ON cases (sentiment, priority DESC, due_at, opened_at, id)
    WHERE merged_into IS NULL AND status IN ('new', 'open', 'waiting_on_customer');
CREATE INDEX cases_active_assignee_queue ON cases (assignee, priority DESC, due_at, opened_at, id)
    WHERE merged_into IS NULL AND status IN ('new', 'open', 'waiting_on_customer');
CREATE INDEX cases_customer ON cases (brand, customer, opened_at);
CREATE INDEX cases_by_storm ON cases (storm_case) WHERE storm_case IS NOT NULL;

CREATE TABLE case_posts (
    post_id BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    role    TEXT   NOT NULL,
    rule    TEXT   NOT NULL
);
CREATE INDEX case_posts_case ON case_posts (case_id);

CREATE TABLE case_events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT      NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at      TIMESTAMPTZ NOT NULL,
    kind    TEXT        NOT NULL,
    actor   TEXT,
    data    TEXT        NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE pipeline_state (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT COLLATE nocase NOT NULL UNIQUE,
    role          TEXT        NOT NULL,
    brands        TEXT        NOT NULL,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE storms (
    id           TEXT PRIMARY KEY,
    brand        TEXT COLLATE nocase NOT NULL,
    kind         TEXT        NOT NULL,
    facet        TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    status       TEXT        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    detected_at  TIMESTAMPTZ NOT NULL,
    last_post_at TIMESTAMPTZ NOT NULL,
    closed_at    TIMESTAMPTZ,
    posts        BIGINT      NOT NULL,
    authors      BIGINT      NOT NULL,
    case_id      BIGINT REFERENCES cases (id) ON DELETE SET NULL,
    data         TEXT        NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX storms_by_detection ON storms (detected_at);
CREATE INDEX storms_by_brand ON storms (brand, detected_at);

CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    storm_id   TEXT        NOT NULL,
    brand      TEXT COLLATE nocase NOT NULL,
    event      TEXT        NOT NULL,
    webhook    TEXT        NOT NULL,
    state      TEXT        NOT NULL,
    attempts   BIGINT      NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    next_at    TIMESTAMPTZ,
    sent_at    TIMESTAMPTZ,
    last_error TEXT,
    data       TEXT        NOT NULL
);
CREATE INDEX alerts_pending ON alerts (state, next_at);
CREATE INDEX alerts_by_storm ON alerts (storm_id);

CREATE TABLE pipeline_snapshots (
    name    TEXT PRIMARY KEY,
    through BIGINT NOT NULL,
    data    BYTEA  NOT NULL
);
