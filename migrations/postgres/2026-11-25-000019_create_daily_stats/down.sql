DROP TABLE daily_stats;
