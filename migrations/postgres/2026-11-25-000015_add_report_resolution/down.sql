ALTER TABLE reports DROP COLUMN note;
ALTER TABLE reports DROP COLUMN resolved_by;
ALTER TABLE reports DROP COLUMN resolution;
