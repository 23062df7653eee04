-- The storage key of the member's main photo once processed, shown in the
-- navigation of every page (loaded with the session, no extra query).
ALTER TABLE users ADD COLUMN avatar_key TEXT;
