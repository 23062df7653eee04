-- Third-party logins linked to an account: one row per (provider, the
-- provider's user id). An account created through a provider has no usable
-- password until its owner sets one (password reset).
CREATE TABLE oauth_identities (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX oauth_identities_subject ON oauth_identities (provider, subject);
CREATE INDEX oauth_identities_by_user ON oauth_identities (user_id);

-- False for an account made through a provider until a password is set: its
-- stored hash is that of a random secret nobody knows (so checking it costs
-- the same time as any other), and it cannot be the last way to log in.
ALTER TABLE users ADD COLUMN password_usable BOOLEAN NOT NULL DEFAULT TRUE;
