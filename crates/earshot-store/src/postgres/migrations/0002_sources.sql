-- Live sources (`earshot watch`), as SQLite's 0009: one row per configured `[[sources]]` entry, keyed by its
-- name. `cursor` is where the source resumes, written only after the posts it covers are committed; the
-- other columns are the channel's health. No secret is ever stored here.
CREATE TABLE sources (
    name         TEXT PRIMARY KEY,
    kind         TEXT        NOT NULL,
    url          TEXT        NOT NULL,
    cursor       TEXT,
    status       TEXT        NOT NULL CHECK (status IN ('connected', 'backing_off', 'failing', 'idle')),
    status_since TIMESTAMPTZ NOT NULL,
    last_post_at TIMESTAMPTZ,
    lag_ms       BIGINT,
    records      BIGINT      NOT NULL DEFAULT 0,
    stored       BIGINT      NOT NULL DEFAULT 0,
    rejected     BIGINT      NOT NULL DEFAULT 0,
    errors       BIGINT      NOT NULL DEFAULT 0,
    reconnects   BIGINT      NOT NULL DEFAULT 0,
    gaps         BIGINT      NOT NULL DEFAULT 0,
    last_error   TEXT,
    updated_at   TIMESTAMPTZ NOT NULL
);
