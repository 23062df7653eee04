-- The feed's queries read their index only: every column the rules filter
-- on and the ranking reads is in it (SQLite has no INCLUDE: the carried
-- columns follow the key). The covering indexes replace the narrower ones.
CREATE INDEX profiles_feed_cell_covering ON profiles (in_feed, sex, lat_band, lng_band, last_active_at,
    user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, city_key, completeness);
CREATE INDEX profiles_feed_band_covering ON profiles (in_feed, sex, lat_band, last_active_at,
    user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, city_key, completeness);
CREATE INDEX profiles_feed_city_covering ON profiles (in_feed, sex, city_key, last_active_at,
    user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, completeness);
CREATE INDEX profiles_feed_city_unplaced_covering ON profiles (in_feed, sex, city_key, last_active_at,
    user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, completeness)
    WHERE lat_band IS NULL;
DROP INDEX profiles_feed_cell;
DROP INDEX profiles_feed_band;
DROP INDEX profiles_feed_city;
DROP INDEX profiles_feed_city_unplaced;
