-- Membership plans: daily limits (NULL: the runtime setting, as for the
-- free plan) and features. A member without a plan is on "free".
CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    superlike_daily_limit BIGINT,
    rewind_daily_limit BIGINT,
    see_likes BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX plans_name ON plans (name);
ALTER TABLE users ADD COLUMN plan_id BIGINT REFERENCES plans (id) ON DELETE SET NULL;
