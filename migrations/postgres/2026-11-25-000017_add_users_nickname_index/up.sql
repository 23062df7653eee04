-- Staff search members by the start of their nickname (and of their email,
-- through the unique email index).
CREATE INDEX users_nickname ON users (nickname);
