-- A member's own order of their photos: the main one first, then by
-- position (ties by id). Existing photos keep the order they had (oldest
-- first).
ALTER TABLE photos ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE photos SET position = (
    SELECT COUNT(*) FROM photos older
    WHERE older.user_id = photos.user_id AND older.id < photos.id
);
