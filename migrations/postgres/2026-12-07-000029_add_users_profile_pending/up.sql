-- An account made by a phone number's first login: it completes nickname,
-- sex and birthday before it can swipe or be seen.
ALTER TABLE users ADD COLUMN profile_pending BOOLEAN NOT NULL DEFAULT FALSE;
