-- The cell indexes in PostgreSQL's new column order (the filters as keys
-- right after last_active_at, then the carried columns), so the two
-- migration sets keep the same indexes. SQLite already checked every
-- column of these covering indexes inside the index.
DROP INDEX profiles_feed_cell_female;
DROP INDEX profiles_feed_cell_male;
DROP INDEX profiles_feed_cell_nonbinary;
CREATE INDEX profiles_feed_cell_female ON profiles (in_feed, lat_band, lng_band, last_active_at,
    birthday, latitude, longitude, min_age, max_age, user_id, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'female';
CREATE INDEX profiles_feed_cell_male ON profiles (in_feed, lat_band, lng_band, last_active_at,
    birthday, latitude, longitude, min_age, max_age, user_id, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'male';
CREATE INDEX profiles_feed_cell_nonbinary ON profiles (in_feed, lat_band, lng_band, last_active_at,
    birthday, latitude, longitude, min_age, max_age, user_id, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'nonbinary';
