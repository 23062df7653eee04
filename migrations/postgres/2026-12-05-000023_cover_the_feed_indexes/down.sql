CREATE INDEX profiles_feed_cell ON profiles (in_feed, sex, lat_band, lng_band, last_active_at);
CREATE INDEX profiles_feed_band ON profiles (in_feed, sex, lat_band, last_active_at);
CREATE INDEX profiles_feed_city ON profiles (in_feed, sex, city_key, last_active_at);
CREATE INDEX profiles_feed_city_unplaced ON profiles (in_feed, sex, city_key, last_active_at)
WHERE lat_band IS NULL;
DROP INDEX profiles_feed_cell_covering;
DROP INDEX profiles_feed_band_covering;
DROP INDEX profiles_feed_city_covering;
DROP INDEX profiles_feed_city_unplaced_covering;
