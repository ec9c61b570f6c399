-- Mailbox sync (issue 11, point 4): where each account's mailbox was last read, and a fast lookup of
-- our own Message-IDs (a reply names them in In-Reply-To / References).
CREATE TABLE mailbox_cursors (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	account_id VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	cursor JSON NOT NULL,
	last_synced_at DATETIME,
	last_error VARCHAR,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (account_id, source),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX ix_mailbox_cursors_workspace_id ON mailbox_cursors (workspace_id);
CREATE INDEX ix_emails_message_id ON emails (message_id);
CREATE INDEX ix_emails_provider_message_id ON emails (provider_message_id);
