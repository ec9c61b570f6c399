-- Gmail and Outlook accounts (issue 11): an account whose refresh token was revoked waits for the rep
-- to sign in again (status 'needs_sign_in', and why); a sent email keeps the thread id and the
-- Message-ID its provider gave it (Gmail replaces ours; Graph assigns its own), so replies can be
-- matched; the mailbox send limits count an account's recent sends.
ALTER TABLE accounts ADD COLUMN status VARCHAR NOT NULL DEFAULT 'ok';
ALTER TABLE accounts ADD COLUMN status_reason VARCHAR;
ALTER TABLE emails ADD COLUMN provider_thread_id VARCHAR;
ALTER TABLE emails ADD COLUMN sent_message_id VARCHAR;
CREATE INDEX ix_emails_provider_thread_id ON emails (provider_thread_id);
CREATE INDEX ix_emails_sent_message_id ON emails (sent_message_id);
CREATE INDEX ix_emails_account_sent ON emails (account_id, sent_at);
