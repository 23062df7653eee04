DROP INDEX users_phone;
ALTER TABLE users DROP COLUMN phone;
