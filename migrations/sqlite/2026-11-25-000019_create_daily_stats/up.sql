-- One row per UTC day, written by the daily statistics job: the
-- dashboard's charts read 30 rows instead of counting the big tables.
CREATE TABLE daily_stats (
    day DATE PRIMARY KEY,
    signups BIGINT NOT NULL,
    active BIGINT NOT NULL,
    swipes BIGINT NOT NULL,
    matches BIGINT NOT NULL,
    messages BIGINT NOT NULL,
    computed_at TIMESTAMP NOT NULL
);
