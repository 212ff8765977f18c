-- As SQLite's 0011: pre-aggregated scorecard facts (`earshot report`), kept up to date by earshot's
-- report::facts::refresh as posts arrive. Times are Unix milliseconds (BIGINT), as the facts are computed
-- the same way on both backends. An existing store is back-filled on first use (no report_state row yet).

CREATE TABLE report_post_threads (
    post_id BIGINT PRIMARY KEY,
    thread  TEXT NOT NULL
);
CREATE INDEX report_post_threads_thread ON report_post_threads (thread COLLATE "C");

CREATE TABLE report_facts (
    thread            TEXT             NOT NULL,
    brand             TEXT             NOT NULL,
    post_id           BIGINT           NOT NULL,
    platform          TEXT             NOT NULL,
    customer          TEXT             NOT NULL,
    published_at      BIGINT           NOT NULL,
    prev_published_at BIGINT,
    first_reply_at    BIGINT,
    brand_posts       BIGINT           NOT NULL,
    resolution        BOOLEAN,
    recovery          DOUBLE PRECISION,
    after_any         BOOLEAN          NOT NULL,
    after_loyal       BOOLEAN          NOT NULL,
    after_churn       BOOLEAN          NOT NULL
);
CREATE INDEX report_facts_thread ON report_facts (thread);
-- A report reads the period's answered rows, and counts the unanswered ones per day from a covering index.
CREATE INDEX report_facts_answered ON report_facts (published_at) WHERE first_reply_at IS NOT NULL;
CREATE INDEX report_facts_unanswered ON report_facts (published_at, brand, prev_published_at)
    WHERE first_reply_at IS NULL;

CREATE TABLE report_about (
    platform      TEXT   NOT NULL,
    customer      TEXT   NOT NULL,
    brand         TEXT   NOT NULL,
    last_at       BIGINT NOT NULL,
    last_loyal_at BIGINT,
    last_churn_at BIGINT,
    PRIMARY KEY (platform, customer, brand)
);

CREATE TABLE report_care (
    platform     TEXT   NOT NULL,
    handle_norm  TEXT   NOT NULL,
    brand_author TEXT   NOT NULL,
    handle       TEXT   NOT NULL,
    published_at BIGINT NOT NULL,
    post_id      BIGINT NOT NULL,
    PRIMARY KEY (platform, handle_norm, brand_author)
);

CREATE TABLE report_pairs (
    platform              TEXT   NOT NULL,
    replier               TEXT   NOT NULL,
    customer              TEXT   NOT NULL,
    replier_brand_author  TEXT   NOT NULL,
    customer_brand_author TEXT   NOT NULL,
    replier_handle        TEXT   NOT NULL,
    published_at          BIGINT NOT NULL,
    post_id               BIGINT NOT NULL,
    PRIMARY KEY (platform, replier, customer, replier_brand_author, customer_brand_author)
);
-- Only repliers answering at least 5 distinct customers can be discovered: counted from this index.
CREATE INDEX report_pairs_replier ON report_pairs (replier, customer);

CREATE TABLE report_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT    NOT NULL,
    through_id  BIGINT  NOT NULL,
    posts       BIGINT  NOT NULL
);

-- One refresher at a time (a process holding the lease until `until`, ms); see Store::report_lease.
CREATE TABLE report_lease (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT    NOT NULL,
    until  BIGINT  NOT NULL
);
