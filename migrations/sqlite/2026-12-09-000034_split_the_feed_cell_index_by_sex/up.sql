-- One cell index per sex, partial (`WHERE sex = 'female'`), in place of
-- profiles_feed_cell_covering, as on PostgreSQL: the feed writes the sex
-- into its statement (SQLite has no INCLUDE: the carried columns follow
-- the key).
CREATE INDEX profiles_feed_cell_female ON profiles (in_feed, lat_band, lng_band, last_active_at,
    user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'female';
CREATE INDEX profiles_feed_cell_male ON profiles (in_feed, lat_band, lng_band, last_active_at,
    user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'male';
CREATE INDEX profiles_feed_cell_nonbinary ON profiles (in_feed, lat_band, lng_band, last_active_at,
    user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'nonbinary';
DROP INDEX profiles_feed_cell_covering;
