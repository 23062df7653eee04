-- Deleting my account (issue 21): hidden at once (deleted_at), restorable
-- by logging in for 14 days, then purged (purged_at: the row stays as a
-- tombstone without personal data, so the other side's conversations
-- still read "deleted member"). A ban now has its own mark (banned_at),
-- so lifting a ban never brings back a deleted account; every account
-- disabled so far was banned.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
ALTER TABLE users ADD COLUMN banned_at TIMESTAMP;
ALTER TABLE users ADD COLUMN purged_at TIMESTAMP;
UPDATE users SET banned_at = updated_at WHERE is_active = FALSE;
CREATE INDEX users_deleted ON users (deleted_at) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

-- A purged banned account's email and phone, as keyed hashes (HMAC under a
-- key derived from SECRET_KEY): signing up again with them is refused
-- until expires_at (three years after the purge).
CREATE TABLE banned_contacts (
    contact_hash TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
