-- Security activity of an account (logins, failures, captcha, waits, 2FA,
-- linked providers, password changes, revoked sessions): shown to the member
-- on the sessions page and to staff. Append-only from the application.
CREATE TABLE auth_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_events_by_user ON auth_events (user_id, created_at);
