-- One cell index per sex, partial (`WHERE sex = 'female'`), in place of
-- profiles_feed_cell_covering. The feed writes the sex into its statement,
-- so the key is fixed-width columns only (in_feed, lat_band, lng_band,
-- last_active_at) and the carried columns put the fixed-width ones first:
-- PostgreSQL compares and reads them at known offsets instead of walking
-- past a text column in every index tuple (docs/feed-query-plans.md).
CREATE INDEX profiles_feed_cell_female ON profiles (in_feed, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'female';
CREATE INDEX profiles_feed_cell_male ON profiles (in_feed, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'male';
CREATE INDEX profiles_feed_cell_nonbinary ON profiles (in_feed, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'nonbinary';
DROP INDEX profiles_feed_cell_covering;
