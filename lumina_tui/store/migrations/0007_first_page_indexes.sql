-- Indexes for the screens' first pages, so opening them does not sort the whole table (issue 14
-- point 2, bench/bench_growth.py): the outbox's newest-first page, the composer's latest unsent
-- draft, and the prospect picker's first load sorted by name (case-insensitive, as the service
-- orders it). Without them each read grew linearly with the data (5-16x from 1k to 100k rows).
CREATE INDEX IF NOT EXISTS ix_emails_workspace_created ON emails (workspace_id, created_at DESC, id);
CREATE INDEX IF NOT EXISTS ix_email_drafts_workspace_updated ON email_drafts (workspace_id, updated_at DESC, id);
CREATE INDEX IF NOT EXISTS ix_prospects_workspace_name
    ON prospects (workspace_id, lower(first_name), lower(last_name), email);
