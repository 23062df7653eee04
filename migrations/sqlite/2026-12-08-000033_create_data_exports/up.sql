-- Exports of a member's own data (issue 21): one ZIP built by a job, kept
-- in the media store (not under the public prefix) for seven days, then
-- deleted by a job. Its link works only for the member logged in.
CREATE TABLE data_exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    storage_key TEXT,
    created_at TIMESTAMP NOT NULL,
    ready_at TIMESTAMP,
    expires_at TIMESTAMP
);
CREATE INDEX data_exports_user ON data_exports (user_id, created_at);
CREATE INDEX data_exports_expiring ON data_exports (expires_at) WHERE status = 'ready';
