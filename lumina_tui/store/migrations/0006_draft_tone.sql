-- The tone a draft is written in (0.0 formal .. 1.0 casual), kept with the draft so the composer
-- reopens it in the tone the rep chose (issue 9.19); NULL: the sender's default tone.
ALTER TABLE email_drafts ADD COLUMN tone REAL;
