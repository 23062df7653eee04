-- The feed's queries read their index only (index-only scans): every column
-- the rules filter on and the ranking reads is carried in it, so a dense
-- cell's rows that fail the age or preference filters cost no table page.
-- The covering indexes replace the narrower ones of the same shape.
CREATE INDEX profiles_feed_cell_covering ON profiles (in_feed, sex, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, city_key, completeness);
CREATE INDEX profiles_feed_band_covering ON profiles (in_feed, sex, lat_band, last_active_at)
    INCLUDE (user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, city_key, completeness);
CREATE INDEX profiles_feed_city_covering ON profiles (in_feed, sex, city_key, last_active_at)
    INCLUDE (user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, completeness);
CREATE INDEX profiles_feed_city_unplaced_covering ON profiles (in_feed, sex, city_key, last_active_at)
    INCLUDE (user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, completeness)
    WHERE lat_band IS NULL;
DROP INDEX profiles_feed_cell;
DROP INDEX profiles_feed_band;
DROP INDEX profiles_feed_city;
DROP INDEX profiles_feed_city_unplaced;
