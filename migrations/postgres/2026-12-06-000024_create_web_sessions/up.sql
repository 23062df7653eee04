-- Session state when no Redis is configured (the embedded default), so a
-- "remember me" session survives a restart. The key is stored hashed
-- (SHA-256): the table alone cannot be turned into cookies.
CREATE TABLE web_sessions (
    key_hash TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
