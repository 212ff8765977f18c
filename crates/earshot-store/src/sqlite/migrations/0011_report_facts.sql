-- Pre-aggregated scorecard facts (`earshot report`), kept up to date by earshot's report::facts::refresh
-- as posts arrive: the report reads one small row per inbound conversation instead of every post.
-- Times are Unix milliseconds. An existing store is back-filled on first use (no report_state row yet).

-- The report thread of every threaded post (platform and root conversation id).
CREATE TABLE report_post_threads (
    post_id INTEGER PRIMARY KEY,
    thread  TEXT NOT NULL
);
CREATE INDEX report_post_threads_thread ON report_post_threads (thread);

-- One row per customer post that opened a conversation addressed to a brand. Clustered by whether it was
-- answered, then published time: a report reads the period's answered rows in one range and counts the
-- unanswered ones per day in another, without touching the rest.
CREATE TABLE report_facts (
    answered          INTEGER NOT NULL,
    published_at      INTEGER NOT NULL,
    post_id           INTEGER NOT NULL,
    brand             TEXT    NOT NULL,
    thread            TEXT    NOT NULL,
    platform          TEXT    NOT NULL,
    customer          TEXT    NOT NULL,
    prev_published_at INTEGER,
    first_reply_at    INTEGER,
    brand_posts       INTEGER NOT NULL,
    resolution        INTEGER,
    recovery          REAL,
    after_any         INTEGER NOT NULL,
    after_loyal       INTEGER NOT NULL,
    after_churn       INTEGER NOT NULL,
    PRIMARY KEY (answered, published_at, post_id, brand)
) WITHOUT ROWID;
CREATE INDEX report_facts_thread ON report_facts (thread);
-- Later openers of a thread for a brand (rare): counted only when the first one is before the period.
CREATE INDEX report_facts_later ON report_facts (published_at) WHERE answered = 0 AND prev_published_at IS NOT NULL;

-- Unanswered first openers per brand per UTC day (ms), kept by triggers: a report over whole days reads
-- these counts instead of millions of unanswered facts (only the period's partial first and last days are
-- counted from report_facts).
CREATE TABLE report_unanswered_days (
    brand   TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    inbound INTEGER NOT NULL,
    PRIMARY KEY (brand, day)
) WITHOUT ROWID;
CREATE TRIGGER report_facts_count AFTER INSERT ON report_facts
    WHEN NEW.answered = 0 AND NEW.prev_published_at IS NULL
BEGIN
    INSERT INTO report_unanswered_days (brand, day, inbound)
    VALUES (NEW.brand, NEW.published_at - (NEW.published_at % 86400000 + 86400000) % 86400000, 1)
    ON CONFLICT (brand, day) DO UPDATE SET inbound = inbound + 1;
END;
CREATE TRIGGER report_facts_uncount AFTER DELETE ON report_facts
    WHEN OLD.answered = 0 AND OLD.prev_published_at IS NULL
BEGIN
    UPDATE report_unanswered_days SET inbound = inbound - 1
    WHERE brand = OLD.brand AND day = OLD.published_at - (OLD.published_at % 86400000 + 86400000) % 86400000;
END;

-- A customer's latest posts about a brand (kept vs lost).
CREATE TABLE report_about (
    platform      TEXT    NOT NULL,
    customer      TEXT    NOT NULL,
    brand         TEXT    NOT NULL,
    last_at       INTEGER NOT NULL,
    last_loyal_at INTEGER,
    last_churn_at INTEGER,
    PRIMARY KEY (platform, customer, brand)
) WITHOUT ROWID;

-- Brand-account discovery inputs: care accounts' earliest posts, and replier-opener pairs.
CREATE TABLE report_care (
    platform     TEXT    NOT NULL,
    handle_norm  TEXT    NOT NULL,
    brand_author TEXT    NOT NULL,
    handle       TEXT    NOT NULL,
    published_at INTEGER NOT NULL,
    post_id      INTEGER NOT NULL,
    PRIMARY KEY (platform, handle_norm, brand_author)
) WITHOUT ROWID;

CREATE TABLE report_pairs (
    platform              TEXT    NOT NULL,
    replier               TEXT    NOT NULL,
    customer              TEXT    NOT NULL,
    replier_brand_author  TEXT    NOT NULL,
    customer_brand_author TEXT    NOT NULL,
    replier_handle        TEXT    NOT NULL,
    published_at          INTEGER NOT NULL,
    post_id               INTEGER NOT NULL,
    PRIMARY KEY (platform, replier, customer, replier_brand_author, customer_brand_author)
) WITHOUT ROWID;
-- Only repliers answering at least 5 distinct customers can be discovered: counted from this index.
CREATE INDEX report_pairs_replier ON report_pairs (replier, customer);

CREATE TABLE report_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT    NOT NULL,
    through_id  INTEGER NOT NULL,
    posts       INTEGER NOT NULL
);

-- One refresher at a time (a process holding the lease until `until`, ms); see Store::report_lease.
CREATE TABLE report_lease (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT    NOT NULL,
    until  INTEGER NOT NULL
);
