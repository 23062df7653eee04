ALTER TABLE photos DROP COLUMN position;
