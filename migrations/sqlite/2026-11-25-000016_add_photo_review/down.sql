DROP INDEX photos_unreviewed;
ALTER TABLE photos DROP COLUMN reviewed_at;
