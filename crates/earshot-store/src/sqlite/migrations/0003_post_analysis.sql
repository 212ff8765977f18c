-- What the Understand stage said about each post, with the analyzer/model
-- versions that said it, so re-analysis after a model update is one command.
-- Columns hold what the inbox sorts and filters by; `analysis` keeps the whole
-- explained result (signals, priority factors, class scores) as JSON.
CREATE TABLE post_analysis (
    post_id   INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    versions  TEXT    NOT NULL,
    compound  REAL    NOT NULL,
    sentiment TEXT,
    complaint REAL,
    severity  INTEGER,
    intent    TEXT,
    issue     TEXT,
    priority  INTEGER NOT NULL,
    analysis  TEXT    NOT NULL
);
CREATE INDEX post_analysis_priority ON post_analysis (priority);
