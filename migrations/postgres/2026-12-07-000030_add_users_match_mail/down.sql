ALTER TABLE users DROP COLUMN match_mail;
