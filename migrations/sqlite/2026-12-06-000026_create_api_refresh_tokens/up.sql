-- The API's refresh tokens, stored hashed (SHA-256). Each family (one app
-- login) is a session: a user_sessions row, so logout, log out everywhere,
-- a password change, a ban and staff revocation end it as they end a
-- browser's. Each refresh uses its token up (used_at) and issues the next;
-- a used token presented again ends the family.
CREATE TABLE api_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX api_refresh_tokens_session_id ON api_refresh_tokens (session_id);
