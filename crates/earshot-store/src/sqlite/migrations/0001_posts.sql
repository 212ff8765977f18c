-- Posts, their brand links, deletions and rejects.
-- Times are Unix milliseconds (UTC). List-valued fields are JSON arrays.

CREATE TABLE posts (
    id               INTEGER PRIMARY KEY,
    platform         TEXT    NOT NULL,
    native_id        TEXT    NOT NULL,
    url              TEXT,
    author_id        TEXT,
    author_handle    TEXT    NOT NULL,
    author_name      TEXT,
    author_followers INTEGER,
    author_url       TEXT,
    author_care      INTEGER,
    text             TEXT    NOT NULL,
    lang             TEXT,
    published_at     INTEGER NOT NULL,
    ingested_at      INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
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
    format           TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    raw              TEXT    NOT NULL,
    deleted_at       INTEGER,
    UNIQUE (platform, native_id)
);

CREATE INDEX posts_published ON posts (published_at);
CREATE INDEX posts_reply_to ON posts (platform, reply_to) WHERE reply_to IS NOT NULL;

CREATE TABLE post_brands (
    brand   TEXT    NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    via     TEXT    NOT NULL,
    PRIMARY KEY (brand, post_id)
) WITHOUT ROWID;

CREATE TABLE brands (
    name       TEXT PRIMARY KEY COLLATE NOCASE,
    config     TEXT    NOT NULL,
    discovered INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE deletions (
    platform   TEXT NOT NULL,
    native_id  TEXT NOT NULL,
    deleted_at INTEGER,
    source     TEXT NOT NULL,
    raw        TEXT NOT NULL,
    PRIMARY KEY (platform, native_id)
) WITHOUT ROWID;

CREATE TABLE rejects (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    line        INTEGER NOT NULL,
    byte        INTEGER NOT NULL,
    record      INTEGER NOT NULL,
    within      TEXT    NOT NULL DEFAULT '',
    format      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    raw         BLOB    NOT NULL,
    rejected_at INTEGER NOT NULL,
    UNIQUE (source, byte, record, within, reason)
);

-- Full-text search over post text and author handles (external content: no copy of the text).
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    text, author_handle,
    content = 'posts', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts (rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle);
END;
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, text, author_handle) VALUES ('delete', old.id, old.text, old.author_handle);
END;
CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, author_handle ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, text, author_handle) VALUES ('delete', old.id, old.text, old.author_handle);
    INSERT INTO posts_fts (rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle);
END;
