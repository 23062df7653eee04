//! The environment variables `swiper --help` lists, with their defaults.
//! The README's configuration table says more about each; a test checks the
//! two name the same variables with the same defaults.

/// `(name, default, meaning)`; "—" for no default.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "CONFIG_FILE",
        "—",
        "a KEY=value file read under the environment",
    ),
    ("APP_ENV", "development", "development or production"),
    ("BIND", "127.0.0.1:8080", "address to listen on"),
    (
        "BASE_URL",
        "http:// + BIND",
        "public URL (mails, CSRF origin)",
    ),
    (
        "DATABASE_URL",
        "sqlite://var/swiper.sqlite3",
        "sqlite://PATH or postgres://…",
    ),
    ("DATABASE_POOL_SIZE", "16", "connections per process"),
    ("DATABASE_REPLICA_URL", "—", "a PostgreSQL read replica"),
    (
        "DATABASE_PREPARED_STATEMENTS",
        "true",
        "false behind PgBouncer in transaction mode",
    ),
    (
        "REDIS_URL",
        "—",
        "sessions and events; in the database when unset",
    ),
    ("REDIS_SENTINELS", "—", "HOST:PORT,… of Redis Sentinels"),
    (
        "REDIS_SENTINEL_MASTER",
        "—",
        "the primary's name at the Sentinels",
    ),
    ("REDIS_PREFIX", "swiper", "prefix of every Redis key"),
    (
        "SMTP_URL",
        "—",
        "smtp://… or smtps://…; unset: var/mail/*.eml",
    ),
    (
        "MAIL_FROM",
        "Swiper <no-reply@swiper.localhost>",
        "sender of every mail",
    ),
    (
        "SECRET_KEY",
        "generated into var/secret_key in development",
        "64+ bytes (or SECRET_KEY_FILE)",
    ),
    ("SECRET_KEY_FILE", "—", "a file holding SECRET_KEY"),
    ("VAR_DIR", "var", "where development data lives"),
    ("MEDIA_DIR", "var/media", "photos on local disk"),
    (
        "MEDIA_BASE_URL",
        "—",
        "where pages link to photos (CDN, bucket)",
    ),
    (
        "S3_ENDPOINT",
        "—",
        "S3-compatible storage for photos (with S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY)",
    ),
    ("S3_BUCKET", "—", "the bucket"),
    ("S3_REGION", "us-east-1", "the region"),
    ("S3_ACCESS_KEY", "—", "access key"),
    ("S3_SECRET_KEY", "—", "secret key"),
    ("PHOTO_MAX_BYTES", "10485760", "largest photo upload"),
    ("TIME_ZONE", "UTC", "the site's IANA time zone"),
    (
        "DEFAULT_LANGUAGE",
        "en",
        "the language when neither a choice nor the browser names one we have",
    ),
    (
        "TRUSTED_PROXIES",
        "—",
        "IPs/CIDRs whose forwarding headers are believed",
    ),
    (
        "LOG_FORMAT",
        "text",
        "text or json (RUST_LOG filters, default info)",
    ),
    (
        "CHAT_SOCKETS_PER_MEMBER",
        "20",
        "chat WebSockets per member and instance",
    ),
    (
        "METRICS_TOKEN",
        "—",
        "bearer token for /metrics from anywhere",
    ),
    ("RUN_WORKER", "true", "run a job worker inside serve"),
    (
        "DEMO_DATA",
        "true",
        "demo members on a new database (development only)",
    ),
    (
        "PASSWORD_ITERATIONS",
        "600000",
        "PBKDF2-HMAC-SHA256 iterations",
    ),
    ("PASSWORD_MIN_LENGTH", "10", "floor of the password policy"),
    (
        "FEED_CACHE_SECONDS",
        "300",
        "how long a built feed is reused",
    ),
    (
        "SESSION_IDLE_TIMEOUT",
        "7200",
        "seconds of inactivity ending a session",
    ),
    (
        "SESSION_ABSOLUTE_TIMEOUT",
        "86400",
        "seconds after login a session ends",
    ),
    (
        "REMEMBER_ME_DURATION",
        "2592000",
        "seconds a remembered session lasts",
    ),
    (
        "HTTP_HEADER_TIMEOUT",
        "10",
        "seconds to wait for a request's head",
    ),
    (
        "HTTP_BODY_TIMEOUT",
        "30",
        "seconds to wait for a request's body",
    ),
    (
        "MAIL_COOLDOWN",
        "60",
        "seconds between two mails of a kind to one account",
    ),
    (
        "VERIFY_TOKEN_TTL",
        "172800",
        "seconds a verification link lives",
    ),
    ("RESET_TOKEN_TTL", "3600", "seconds a reset link lives"),
    (
        "JOB_POLL_INTERVAL_MS",
        "1000",
        "how often an idle worker looks for jobs",
    ),
    (
        "JOB_LEASE",
        "300",
        "seconds before a vanished worker's job runs again",
    ),
    ("JOB_BACKOFF_BASE", "10", "seconds: retry delay base"),
    (
        "SMS_URL",
        "—",
        "an HTTP SMS provider (JSON POST); unset: var/sms/*.txt",
    ),
    (
        "SMS_BODY",
        r#"{"to":"{to}","text":"{text}"}"#,
        "the provider's request body",
    ),
    (
        "SMS_AUTH_HEADER",
        "—",
        "a header for the provider (Name: value)",
    ),
    (
        "SMS_SUCCESS_FIELD",
        "—",
        "a field of the provider's answer that must be true",
    ),
    (
        "SMS_TIMEOUT",
        "10",
        "seconds one request to the provider may take",
    ),
    (
        "JWT_KEY_FILE",
        "generated into var/jwt_key.pem in development",
        "the API's Ed25519 signing keys (PEM; swiper jwt-key)",
    ),
    (
        "OAUTH_<NAME>_CLIENT_ID",
        "—",
        "a third-party login (with _CLIENT_SECRET; see README)",
    ),
];

/// The `--help` epilogue: every variable, its default and meaning.
pub fn text() -> String {
    let width = VARIABLES.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
    let mut out = String::from("Environment variables (default in brackets):\n");
    for (name, default, meaning) in VARIABLES {
        out.push_str(&format!("  {name:<width$}  {meaning} [{default}]\n"));
    }
    out.push_str("\nThe README's configuration table says more about each.");
    out
}
