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
CREATE INDEX report_facts_later ON report_facts (published_at)
    WHERE first_reply_at IS NULL AND prev_published_at IS NOT NULL;

-- Unanswered first openers per brand per UTC day (ms), kept by a trigger, as SQLite's 0011.
CREATE TABLE report_unanswered_days (
    brand   TEXT   NOT NULL,
    day     BIGINT NOT NULL,
    inbound BIGINT NOT NULL,
    PRIMARY KEY (brand, day)
);
CREATE FUNCTION report_facts_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.first_reply_at IS NULL AND NEW.prev_published_at IS NULL THEN
            INSERT INTO report_unanswered_days (brand, day, inbound)
            VALUES (NEW.brand, NEW.published_at - mod(mod(NEW.published_at, 86400000) + 86400000, 86400000), 1)
            ON CONFLICT (brand, day) DO UPDATE SET inbound = report_unanswered_days.inbound + 1;
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.first_reply_at IS NULL AND OLD.prev_published_at IS NULL THEN
        UPDATE report_unanswered_days SET inbound = inbound - 1
        WHERE brand = OLD.brand
          AND day = OLD.published_at - mod(mod(OLD.published_at, 86400000) + 86400000, 86400000);
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER report_facts_count AFTER INSERT OR DELETE ON report_facts
    FOR EACH ROW EXECUTE FUNCTION report_facts_count();

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
