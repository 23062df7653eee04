-- When the last password-reset mail was queued (cool-down between two).
ALTER TABLE users ADD COLUMN reset_sent_at TIMESTAMP;
