ALTER TABLE profiles DROP COLUMN hide_distance;
ALTER TABLE profiles DROP COLUMN hide_age;
