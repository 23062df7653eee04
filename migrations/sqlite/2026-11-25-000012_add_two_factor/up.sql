-- TOTP two-factor authentication. The secret is stored sealed (AES-GCM,
-- key derived from SECRET_KEY); it is pending until confirmed with a code
-- (totp_enabled_at set). totp_last_step is the last time step accepted, so
-- each code works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Single-use recovery codes, stored as SHA-256 hashes.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX recovery_codes_by_user ON recovery_codes (user_id, code_hash);
