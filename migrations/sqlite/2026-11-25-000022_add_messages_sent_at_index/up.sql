-- The daily statistics count each day's messages by a range on sent_at.
CREATE INDEX messages_sent_at ON messages (sent_at);
