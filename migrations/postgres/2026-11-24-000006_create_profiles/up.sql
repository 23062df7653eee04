-- What the recommendation feed filters and sorts on, one row per member.
-- sex and birthday are copied from users (fixed at sign-up) so the feed
-- reads one table. want_sex: male, female or any.
CREATE TABLE profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sex TEXT NOT NULL,
    birthday DATE NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    want_sex TEXT NOT NULL DEFAULT 'any',
    min_age INTEGER NOT NULL DEFAULT 18,
    max_age INTEGER NOT NULL DEFAULT 99,
    max_distance_km INTEGER NOT NULL DEFAULT 100,
    discoverable BOOLEAN NOT NULL DEFAULT TRUE,
    completeness INTEGER NOT NULL DEFAULT 0,
    last_active_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO profiles (user_id, sex, birthday, last_active_at, created_at, updated_at)
SELECT id, sex, birthday, created_at, created_at, created_at FROM users;
