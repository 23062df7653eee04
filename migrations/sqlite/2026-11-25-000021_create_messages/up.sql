-- Chat between matched members. Messages outlive an unmatch or a block
-- (moderation may need them) but are shown only while the match exists.
-- A client id per sender makes a resent message a no-op.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    match_id BIGINT NOT NULL,
    sender_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    client_id TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX messages_client ON messages (sender_id, client_id);
CREATE INDEX messages_match ON messages (match_id, id);
-- Read markers and unread counts per side of a match (a = the lower id),
-- and each member's total for the navigation badge; kept in the
-- transaction of every message and every read.
ALTER TABLE matches ADD COLUMN a_read_up_to BIGINT NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN b_read_up_to BIGINT NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN a_unread BIGINT NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN b_unread BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN unread_messages BIGINT NOT NULL DEFAULT 0;
