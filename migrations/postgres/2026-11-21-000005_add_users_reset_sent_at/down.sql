ALTER TABLE users DROP COLUMN reset_sent_at;
