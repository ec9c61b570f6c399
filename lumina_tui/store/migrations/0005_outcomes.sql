-- Outcomes (issue 12): the event log's consumers and what they pre-compute, so no screen ever scans
-- the log. A consumer's cursor is the rowid of the last event it applied (SQLite serialises writers,
-- so rowid order is commit order); its failures back it off (next_try_at) and show as lag.
ALTER TABLE consumer_cursors ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE consumer_cursors ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE consumer_cursors ADD COLUMN last_error VARCHAR;
ALTER TABLE consumer_cursors ADD COLUMN next_try_at DATETIME;
-- One row per email that has an outcome: when it was sent, first replied, bounced, failed.
CREATE TABLE email_outcomes (
	email_id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR,
	template_id VARCHAR,
	account_id VARCHAR,
	sent_at DATETIME,
	replied_at DATETIME,
	bounced_at DATETIME,
	failed_at DATETIME,
	PRIMARY KEY (email_id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_email_outcomes_workspace_id ON email_outcomes (workspace_id);
-- Per day of sending, template and account ('' for none): the dashboard's figures.
CREATE TABLE outcome_daily (
	workspace_id VARCHAR NOT NULL,
	day VARCHAR NOT NULL,
	template_id VARCHAR NOT NULL,
	account_id VARCHAR NOT NULL,
	sent INTEGER NOT NULL DEFAULT 0,
	replied INTEGER NOT NULL DEFAULT 0,
	bounced INTEGER NOT NULL DEFAULT 0,
	failed INTEGER NOT NULL DEFAULT 0,
	reply_seconds_sum FLOAT NOT NULL DEFAULT 0,
	PRIMARY KEY (workspace_id, day, template_id, account_id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
-- Per template (all time): what the template ranking reads.
CREATE TABLE template_outcomes (
	workspace_id VARCHAR NOT NULL,
	template_id VARCHAR NOT NULL,
	sent INTEGER NOT NULL DEFAULT 0,
	replied INTEGER NOT NULL DEFAULT 0,
	bounced INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (workspace_id, template_id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
-- What the rep should look at: a reply, a hard bounce, a failed send, an account that needs sign-in.
CREATE TABLE alerts (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR,
	kind VARCHAR NOT NULL,
	email_id VARCHAR,
	account_id VARCHAR,
	source_key VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	detail VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	read_at DATETIME,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, source_key),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_alerts_workspace_unread ON alerts (workspace_id, read_at, created_at);
-- What the learning consumer concluded, per user (default tone) or workspace (calibration).
CREATE TABLE learned_settings (
	workspace_id VARCHAR NOT NULL,
	scope VARCHAR NOT NULL,
	data JSON NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (workspace_id, scope),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
