-- One swipe per pair (the unique index makes a second one, or a race, fail).
-- kind: like, superlike, dislike.
CREATE TABLE swipes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    swiper_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX swipes_pair ON swipes (swiper_id, target_id);
CREATE INDEX swipes_by_target ON swipes (target_id, kind);
CREATE INDEX swipes_by_swiper_time ON swipes (swiper_id, created_at);

-- A mutual like. user_a < user_b, so a pair has one row.
CREATE TABLE matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_a BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_b BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX matches_pair ON matches (user_a, user_b);
CREATE INDEX matches_by_b ON matches (user_b);

-- Undone swipes, counted against the daily rewind quota.
CREATE TABLE rewinds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX rewinds_by_user_time ON rewinds (user_id, created_at);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks (blocked_id);

-- The moderation queue. status: open, resolved. One open report per
-- reporter and target.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    details TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE UNIQUE INDEX reports_one_open ON reports (reporter_id, target_id) WHERE status = 'open';
CREATE INDEX reports_by_status ON reports (status, created_at);

-- Who the feed may show: discoverable, verified and active, kept by the
-- application. lat_band and lng_band are floor(latitude) and floor(longitude)
-- (NULL without a position): the feed scans the one-degree cells its
-- distance covers (or, for long distances, whole latitude bands), newest
-- activity first.
ALTER TABLE profiles ADD COLUMN in_feed BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN lat_band INTEGER;
ALTER TABLE profiles ADD COLUMN lng_band INTEGER;
ALTER TABLE profiles ADD COLUMN city_key TEXT NOT NULL DEFAULT '';
UPDATE profiles SET in_feed = 1
WHERE discoverable = 1
  AND user_id IN (SELECT id FROM users WHERE is_active = 1 AND email_verified_at IS NOT NULL);
UPDATE profiles SET lat_band = CAST(latitude + 1000 AS INTEGER) - 1000,
    lng_band = CAST(longitude + 1000 AS INTEGER) - 1000, city_key = lower(trim(city))
WHERE latitude IS NOT NULL OR city <> '';
CREATE INDEX profiles_feed_cell ON profiles (in_feed, sex, lat_band, lng_band, last_active_at);
CREATE INDEX profiles_feed_band ON profiles (in_feed, sex, lat_band, last_active_at);
CREATE INDEX profiles_feed_city ON profiles (in_feed, sex, city_key, last_active_at);
-- Members without a position, matched by city with members who have one.
CREATE INDEX profiles_feed_city_unplaced ON profiles (in_feed, sex, city_key, last_active_at)
WHERE lat_band IS NULL;
