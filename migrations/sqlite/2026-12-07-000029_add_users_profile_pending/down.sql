ALTER TABLE users DROP COLUMN profile_pending;
