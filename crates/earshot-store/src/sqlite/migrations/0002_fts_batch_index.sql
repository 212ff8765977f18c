-- Index posts for full-text search once per batch instead of per row.
--
-- FTS5 flushes its pending terms at every statement savepoint, so a per-row
-- AFTER INSERT trigger wrote one tiny index segment per post and then spent
-- most of ingest merging them. The store now indexes each committed batch's
-- new rows with one INSERT ... SELECT (see SqliteStore::commit).
DROP TRIGGER posts_fts_insert;
