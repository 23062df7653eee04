-- Members' photos. storage_key is random (never derived from the member or
-- the upload's name); the files are <key>-160.jpg, <key>-640.jpg and
-- <key>-1280.jpg under photos/, written by the photo.process job.
-- status: processing (only the upload exists), ready, failed.
CREATE TABLE photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    storage_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    is_main BOOLEAN NOT NULL DEFAULT 0,
    width INTEGER,
    height INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX photos_by_user ON photos (user_id, id);
