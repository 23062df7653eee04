-- Privacy: a member may hide their age and their distance from others.
-- (Pausing is the existing `discoverable` flag: out of every feed, matches
-- still chat.)
ALTER TABLE profiles ADD COLUMN hide_age BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE profiles ADD COLUMN hide_distance BOOLEAN NOT NULL DEFAULT FALSE;
