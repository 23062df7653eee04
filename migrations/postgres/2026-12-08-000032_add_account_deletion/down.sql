DROP TABLE banned_contacts;
DROP INDEX users_deleted;
ALTER TABLE users DROP COLUMN purged_at;
ALTER TABLE users DROP COLUMN banned_at;
ALTER TABLE users DROP COLUMN deleted_at;
