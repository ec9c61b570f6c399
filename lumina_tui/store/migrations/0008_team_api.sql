-- Schema version 8: team mode (issue 13 points 3 and 5). Users sign in with a password (an argon2
-- hash, never the password) and are removed softly (their drafts and emails keep their author);
-- refresh tokens are kept only as SHA-256 hashes, grouped in families so a reused (stolen) one
-- revokes its whole family; webhook receipts remember every provider token/signature accepted,
-- so a replayed webhook is refused.
ALTER TABLE users ADD COLUMN password_hash VARCHAR;
ALTER TABLE users ADD COLUMN role VARCHAR NOT NULL DEFAULT 'member';
ALTER TABLE users ADD COLUMN removed_at DATETIME;
CREATE TABLE refresh_tokens (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	family_id VARCHAR NOT NULL,
	token_hash VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	used_at DATETIME,
	revoked_at DATETIME,
	PRIMARY KEY (id),
	UNIQUE (token_hash),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX ix_refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE TABLE webhook_receipts (
	provider VARCHAR NOT NULL,
	receipt_id VARCHAR NOT NULL,
	received_at DATETIME NOT NULL,
	PRIMARY KEY (provider, receipt_id)
);
CREATE INDEX ix_webhook_receipts_received_at ON webhook_receipts (received_at);
