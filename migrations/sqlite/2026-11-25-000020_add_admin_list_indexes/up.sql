-- The staff member list filters by status, verification and plan without
-- reading the whole table: banned and unverified members are few, so each
-- has a partial index in id order; plan members are found by (plan, id).
CREATE INDEX users_banned ON users (id) WHERE NOT is_active;
CREATE INDEX users_unverified ON users (id) WHERE email_verified_at IS NULL;
CREATE INDEX users_plan ON users (plan_id, id);
-- A member's page lists the reports about them and the reports they filed.
CREATE INDEX reports_target ON reports (target_id, created_at);
CREATE INDEX reports_reporter ON reports (reporter_id, created_at);
