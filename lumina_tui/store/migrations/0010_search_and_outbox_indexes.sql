-- Issue 14 point 2. The prospect search index: `prospects list --search` matched `%word%` in five
-- columns with LIKE, a scan of every prospect (15.8x slower at 100k prospects than at 1k).
-- An FTS5 table with the trigram tokenizer answers the same substring question from an index
-- (case-insensitive, `%` and `_` literal). Its rowids come from `prospect_search_keys`, whose
-- INTEGER PRIMARY KEY survives VACUUM (a prospects rowid would not: its key is text). The triggers
-- that keep both in step with `prospects`, and the first fill, live in search_index.py: they are
-- re-installed after every migration run (a table-rebuilding migration drops triggers), and the
-- index is rebuilt whenever one was missing.
CREATE TABLE IF NOT EXISTS prospect_search_keys (
    id INTEGER PRIMARY KEY,
    prospect_id VARCHAR NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE IF NOT EXISTS prospect_search USING fts5(
    first_name, last_name, email, company, job_title, tokenize = 'trigram'
);
-- The outbox filtered by status ("Failed") read newest first: without this the filtered first page
-- walked the workspace's newest-first index until it found 200 of a rare status.
CREATE INDEX IF NOT EXISTS ix_emails_workspace_status_created ON emails (workspace_id, status, created_at DESC, id);
