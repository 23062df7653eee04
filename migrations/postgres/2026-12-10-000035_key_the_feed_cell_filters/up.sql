-- The filters the feed's cell query applies to every index tuple it walks
-- (birth date, the distance box, the two-way age range) become key columns
-- after last_active_at, so PostgreSQL checks them as index conditions
-- inside the B-tree scan (`_bt_checkkeys` on fixed-width keys) instead of
-- forming each tuple and running the filter on it. The order of the scan
-- (newest activity first within a cell) is unchanged: the extra keys sort
-- after last_active_at. Same names, same partial predicates, same columns
-- (docs/feed-query-plans.md).
DROP INDEX profiles_feed_cell_female;
DROP INDEX profiles_feed_cell_male;
DROP INDEX profiles_feed_cell_nonbinary;
CREATE INDEX profiles_feed_cell_female ON profiles
    (in_feed, lat_band, lng_band, last_active_at, birthday, latitude, longitude, min_age, max_age)
    INCLUDE (user_id, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'female';
CREATE INDEX profiles_feed_cell_male ON profiles
    (in_feed, lat_band, lng_band, last_active_at, birthday, latitude, longitude, min_age, max_age)
    INCLUDE (user_id, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'male';
CREATE INDEX profiles_feed_cell_nonbinary ON profiles
    (in_feed, lat_band, lng_band, last_active_at, birthday, latitude, longitude, min_age, max_age)
    INCLUDE (user_id, max_distance_km, completeness, want_sex, city_key)
    WHERE sex = 'nonbinary';
