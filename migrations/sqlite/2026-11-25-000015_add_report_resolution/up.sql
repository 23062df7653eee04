-- How a report was closed, by whom, with the moderator's note.
ALTER TABLE reports ADD COLUMN resolution TEXT;
ALTER TABLE reports ADD COLUMN resolved_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE reports ADD COLUMN note TEXT;
