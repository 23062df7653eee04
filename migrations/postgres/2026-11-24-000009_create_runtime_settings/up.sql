-- Settings staff change at run time (rewind and superlike limits, later
-- captcha thresholds, rate limits…). Absent keys use the default in code.
CREATE TABLE runtime_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
