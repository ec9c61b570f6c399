-- What a suggestion was when the rep accepted, edited or rejected it: its tone (0.0 formal .. 1.0
-- casual) and its kind (personalize, rewrite). The learning consumer learns each rep's default tone
-- and which kinds get accepted and get replies from these (issue 12). NULL on older rows.
ALTER TABLE ai_feedback ADD COLUMN tone REAL;
ALTER TABLE ai_feedback ADD COLUMN kind VARCHAR;
CREATE INDEX ix_ai_feedback_workspace_user ON ai_feedback (workspace_id, user_id, created_at);
