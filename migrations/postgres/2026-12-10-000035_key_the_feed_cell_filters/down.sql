DROP INDEX profiles_feed_cell_female;
DROP INDEX profiles_feed_cell_male;
DROP INDEX profiles_feed_cell_nonbinary;
CREATE INDEX profiles_feed_cell_female ON profiles (in_feed, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'female';
CREATE INDEX profiles_feed_cell_male ON profiles (in_feed, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'male';
CREATE INDEX profiles_feed_cell_nonbinary ON profiles (in_feed, lat_band, lng_band, last_active_at)
    INCLUDE (user_id, birthday, min_age, max_age, latitude, longitude, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'nonbinary';
