-- Schema version 1: the first Lumina schema. Frozen: never edit; add a new numbered file instead.
CREATE TABLE workspaces (
	id VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE company_data (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	domain VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	industry VARCHAR NOT NULL,
	size VARCHAR NOT NULL,
	location VARCHAR NOT NULL,
	metadata JSON NOT NULL,
	is_demo BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, domain),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_company_data_workspace_id ON company_data (workspace_id);
CREATE TABLE consumer_cursors (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	last_recorded_at DATETIME,
	last_event_id VARCHAR,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, name),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_consumer_cursors_workspace_id ON consumer_cursors (workspace_id);
CREATE TABLE prospects (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	email VARCHAR NOT NULL,
	first_name VARCHAR NOT NULL,
	last_name VARCHAR NOT NULL,
	company VARCHAR NOT NULL,
	job_title VARCHAR NOT NULL,
	custom_fields JSON NOT NULL,
	is_demo BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, email),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_prospects_workspace_id ON prospects (workspace_id);
CREATE TABLE suppressions (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	value VARCHAR NOT NULL,
	reason VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, value),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_suppressions_workspace_id ON suppressions (workspace_id);
CREATE TABLE templates (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	body VARCHAR NOT NULL,
	is_demo BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, name),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_templates_workspace_id ON templates (workspace_id);
CREATE TABLE users (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	email VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, email),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_users_workspace_id ON users (workspace_id);
CREATE TABLE accounts (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	provider VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	email VARCHAR NOT NULL,
	display_name VARCHAR NOT NULL,
	settings JSON NOT NULL,
	secret_ref VARCHAR,
	is_default BOOLEAN NOT NULL,
	is_demo BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, name),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_accounts_workspace_id ON accounts (workspace_id);
CREATE TABLE ai_feedback (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	suggestion_id VARCHAR NOT NULL,
	draft_id VARCHAR,
	action VARCHAR NOT NULL,
	note VARCHAR,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_ai_feedback_suggestion_id ON ai_feedback (suggestion_id);
CREATE INDEX ix_ai_feedback_workspace_id ON ai_feedback (workspace_id);
CREATE TABLE emails (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	draft_id VARCHAR,
	account_id VARCHAR,
	provider VARCHAR NOT NULL,
	from_email VARCHAR NOT NULL,
	from_name VARCHAR NOT NULL,
	to_email VARCHAR NOT NULL,
	to_name VARCHAR NOT NULL,
	cc JSON NOT NULL,
	bcc JSON NOT NULL,
	subject VARCHAR NOT NULL,
	body_text VARCHAR NOT NULL,
	body_html VARCHAR NOT NULL,
	template_id VARCHAR,
	prospect_id VARCHAR,
	prospect_snapshot JSON NOT NULL,
	score_snapshot JSON NOT NULL,
	accepted_suggestion_ids JSON NOT NULL,
	idempotency_key VARCHAR NOT NULL,
	request_fingerprint VARCHAR NOT NULL,
	message_id VARCHAR NOT NULL,
	send_after DATETIME NOT NULL,
	created_at DATETIME NOT NULL,
	status VARCHAR NOT NULL,
	attempts INTEGER NOT NULL,
	last_error VARCHAR,
	next_attempt_at DATETIME,
	lease_owner VARCHAR,
	lease_expires_at DATETIME,
	provider_message_id VARCHAR,
	sent_at DATETIME,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (workspace_id, idempotency_key),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_emails_workspace_id ON emails (workspace_id);
CREATE INDEX ix_emails_to_email ON emails (to_email);
CREATE INDEX ix_emails_status ON emails (status);
CREATE INDEX ix_emails_draft_id ON emails (draft_id);
CREATE INDEX ix_emails_prospect_id ON emails (prospect_id);
CREATE TABLE user_preferences (
	user_id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	sender_name VARCHAR NOT NULL,
	sender_title VARCHAR NOT NULL,
	company_name VARCHAR NOT NULL,
	company_website VARCHAR NOT NULL,
	value_proposition VARCHAR NOT NULL,
	proof_points JSON NOT NULL,
	signature VARCHAR NOT NULL,
	default_tone FLOAT NOT NULL,
	banned_phrases JSON NOT NULL,
	default_account_id VARCHAR,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (user_id),
	FOREIGN KEY(user_id) REFERENCES users (id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id)
);
CREATE INDEX ix_user_preferences_workspace_id ON user_preferences (workspace_id);
CREATE TABLE email_drafts (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	prospect_id VARCHAR,
	template_id VARCHAR,
	account_id VARCHAR,
	subject VARCHAR NOT NULL,
	body_text VARCHAR NOT NULL,
	body_html VARCHAR NOT NULL,
	revision INTEGER NOT NULL,
	sent_at DATETIME,
	email_id VARCHAR,
	is_demo BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(user_id) REFERENCES users (id),
	FOREIGN KEY(prospect_id) REFERENCES prospects (id),
	FOREIGN KEY(template_id) REFERENCES templates (id),
	FOREIGN KEY(account_id) REFERENCES accounts (id)
);
CREATE INDEX ix_email_drafts_workspace_id ON email_drafts (workspace_id);
CREATE INDEX ix_email_drafts_prospect_id ON email_drafts (prospect_id);
CREATE TABLE email_events (
	id VARCHAR NOT NULL,
	workspace_id VARCHAR NOT NULL,
	email_id VARCHAR NOT NULL,
	provider VARCHAR NOT NULL,
	provider_event_id VARCHAR NOT NULL,
	event_type VARCHAR NOT NULL,
	event_data JSON NOT NULL,
	occurred_at DATETIME NOT NULL,
	recorded_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (provider, provider_event_id),
	FOREIGN KEY(workspace_id) REFERENCES workspaces (id),
	FOREIGN KEY(email_id) REFERENCES emails (id)
);
CREATE INDEX ix_email_events_email_id ON email_events (email_id);
CREATE INDEX ix_email_events_recorded_at ON email_events (recorded_at);
CREATE INDEX ix_email_events_workspace_id ON email_events (workspace_id);
CREATE INDEX ix_emails_status_due ON emails (status, send_after);
