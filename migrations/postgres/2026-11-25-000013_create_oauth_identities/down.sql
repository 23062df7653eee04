ALTER TABLE users DROP COLUMN password_usable;
DROP TABLE oauth_identities;
