ALTER TABLE users DROP COLUMN message_mail;
