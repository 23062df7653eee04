-- Mails a member controls: the mail on a new match (on unless turned off
-- in settings or by the one-click link in the mail itself).
ALTER TABLE users ADD COLUMN match_mail BOOLEAN NOT NULL DEFAULT TRUE;
