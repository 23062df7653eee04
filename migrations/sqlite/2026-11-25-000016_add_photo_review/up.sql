-- Photo review: a photo is in the moderators' queue until approved
-- (reviewed_at set) or rejected (deleted with its files).
ALTER TABLE photos ADD COLUMN reviewed_at TIMESTAMP;
CREATE INDEX photos_unreviewed ON photos (id) WHERE reviewed_at IS NULL;
