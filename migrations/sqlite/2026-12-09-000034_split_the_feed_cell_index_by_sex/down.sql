CREATE INDEX profiles_feed_cell_covering ON profiles (in_feed, sex, lat_band, lng_band, last_active_at,
    user_id, birthday, want_sex, min_age, max_age, latitude, longitude, max_distance_km, city_key, completeness);
DROP INDEX profiles_feed_cell_female;
DROP INDEX profiles_feed_cell_male;
DROP INDEX profiles_feed_cell_nonbinary;
