DROP INDEX reports_reporter;
DROP INDEX reports_target;
DROP INDEX users_plan;
DROP INDEX users_unverified;
DROP INDEX users_banned;
