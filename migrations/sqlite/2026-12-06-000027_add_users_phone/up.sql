-- A member's verified phone number (E.164), one account per number: they
-- can log in with a code sent to it.
ALTER TABLE users ADD COLUMN phone TEXT;
CREATE UNIQUE INDEX users_phone ON users (phone);
