ALTER TABLE users DROP COLUMN unread_messages;
ALTER TABLE matches DROP COLUMN b_unread;
ALTER TABLE matches DROP COLUMN a_unread;
ALTER TABLE matches DROP COLUMN b_read_up_to;
ALTER TABLE matches DROP COLUMN a_read_up_to;
DROP TABLE messages;
