//! Settings from environment variables (and an optional `KEY=value` file named
//! by `CONFIG_FILE`), validated once at start with one line per problem.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

pub mod help;
mod media;
pub mod oauth;
mod redis;
mod secret;
mod source;

use media::media_settings;
pub use media::{MediaSettings, S3Settings};
use redis::sentinel_settings;
pub use redis::RedisSettings;

use crate::security::SecretString;
use secret::load_secret_key;
pub(crate) use secret::write_private;
pub use secret::Secret;
use source::Collector;
pub use source::{ConfigErrors, Source};

/// Where the process runs. Production refuses development conveniences
/// (generated secret key, automatic migrations, mail to files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the application is configured with, grouped by concern.
/// Credentials (the secret key, URLs that may carry passwords) never print.
#[derive(Clone, Debug)]
pub struct Settings {
    pub app_env: AppEnv,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub mail: MailSettings,
    pub secret_key: Secret,
    pub paths: PathSettings,
    pub media: MediaSettings,
    /// The site's time zone: members' days (quotas) follow their own time
    /// zone, and this one until they choose.
    pub time_zone: chrono_tz::Tz,
    /// The language of a visitor who chose none and whose browser asks for
    /// none we have (`DEFAULT_LANGUAGE`).
    pub default_language: String,
    pub log_format: LogFormat,
    /// Lets `/metrics` be read from anywhere with `Authorization: Bearer
    /// <token>` (it is always readable from loopback).
    pub metrics_token: Option<SecretString>,
    /// Chat sockets one member may hold open on one instance (tabs,
    /// devices); more are refused with 429.
    pub chat_sockets_per_member: usize,
    /// Create the demo population on a new, empty database (development).
    pub demo_data: bool,
    pub sms: SmsSettings,
    /// The API's token signing keys (PKCS#8 Ed25519 PEM); unset in
    /// development: generated into `var/jwt_key.pem`.
    pub jwt_key_file: Option<PathBuf>,
    /// How long a member's built feed is reused (`FEED_CACHE_SECONDS`; zero
    /// rebuilds it for every page: the benchmarks' cold case).
    pub feed_cache: Duration,
    pub passwords: PasswordSettings,
    pub sessions: SessionSettings,
    pub accounts: AccountSettings,
    pub jobs: JobSettings,
    /// Third-party login providers (`OAUTH_<NAME>_*`).
    pub oauth: Vec<oauth::OAuthProvider>,
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub bind: String,
    pub base_url: Url,
    pub trusted_proxies: Vec<IpNet>,
    /// Longest time a client may take to send a request body (`HTTP_BODY_TIMEOUT`).
    pub body_timeout: Duration,
    /// Longest time a client may take to send the request head (`HTTP_HEADER_TIMEOUT`).
    pub header_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub replica_url: Option<SecretString>,
    pub pool_size: u32,
    /// `DATABASE_PREPARED_STATEMENTS=false` for a pooler in transaction mode.
    pub statements: crate::db::Statements,
}

#[derive(Clone, Debug)]
pub struct MailSettings {
    pub smtp_url: Option<SecretString>,
    pub from: String,
}

/// Where text messages go: an HTTP provider, or files under `var/sms/`.
#[derive(Clone, Debug)]
pub struct SmsSettings {
    /// The provider's endpoint (a JSON POST); unset: files.
    pub url: Option<SecretString>,
    /// The request body, with `{to}` and `{text}` (JSON-escaped) filled in.
    pub body: String,
    /// A header sent with every request (`Name: value`), e.g. the API key.
    pub auth_header: Option<SecretString>,
    /// A field of the provider's JSON answer that must be `true` (or
    /// `"ok"`) for the message to count as sent; unset: any 2xx answer.
    pub success_field: Option<String>,
    /// How long one request to the provider may take (`SMS_TIMEOUT`,
    /// seconds): past it the job fails and is retried.
    pub timeout: std::time::Duration,
}

#[derive(Clone, Debug)]
pub struct PathSettings {
    pub var_dir: PathBuf,
}

#[derive(Clone, Debug)]
pub struct PasswordSettings {
    pub iterations: u32,
    pub min_length: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    pub remember_me: Duration,
}

#[derive(Clone, Copy, Debug)]
pub struct AccountSettings {
    /// Least time between two verification (or two reset) mails to one account.
    pub mail_cooldown: Duration,
    pub verify_token_ttl: Duration,
    pub reset_token_ttl: Duration,
}

#[derive(Clone, Copy, Debug)]
pub struct JobSettings {
    pub run_worker: bool,
    pub poll_interval: Duration,
    pub lease: Duration,
    pub backoff_base: Duration,
}

pub const MIN_PASSWORD_ITERATIONS: u32 = 600_000;

impl Settings {
    /// Reads and validates everything; in development it also creates `var/`
    /// and a generated secret key there when none is configured.
    pub fn load(src: &Source) -> Result<Self, ConfigErrors> {
        let mut c = Collector {
            src,
            errors: Vec::new(),
        };
        let app_env = match c.string("APP_ENV", "development").as_str() {
            "development" | "dev" => AppEnv::Development,
            "production" | "prod" => AppEnv::Production,
            other => {
                c.errors.push(format!(
                    "APP_ENV: expected development or production, got {other:?}"
                ));
                AppEnv::Development
            }
        };
        let production = app_env == AppEnv::Production;
        let var_dir = PathBuf::from(c.string("VAR_DIR", "var"));
        let bind = c.string("BIND", "127.0.0.1:8080");
        if bind.parse::<std::net::SocketAddr>().is_err() {
            c.errors.push(format!(
                "BIND: expected HOST:PORT such as 127.0.0.1:8080, got {bind:?}"
            ));
        }
        let base_default = format!("http://{bind}");
        let base_url = match Url::parse(&c.string("BASE_URL", &base_default)) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                c.errors
                    .push("BASE_URL: expected an http:// or https:// URL".to_string());
                Url::parse("http://127.0.0.1:8080").unwrap_or_else(|_| unreachable!())
            }
        };
        let default_db = format!("sqlite://{}", var_dir.join("swiper.sqlite3").display());
        let database_url = c.string("DATABASE_URL", &default_db);
        if crate::db::Backend::from_url(&database_url).is_none() {
            c.errors.push(
                "DATABASE_URL: expected sqlite://PATH or postgres://USER@HOST/DB".to_string(),
            );
        }
        let database_replica_url = src
            .get("DATABASE_REPLICA_URL")
            .filter(|u| !u.is_empty())
            .map(str::to_string);
        if let Some(r) = &database_replica_url {
            let replicable =
                |url: &str| crate::db::Backend::from_url(url).is_some_and(|b| b.has_replicas());
            if !(replicable(r) && replicable(&database_url)) {
                c.errors.push(
                    "DATABASE_REPLICA_URL: a postgres:// replica of a postgres:// DATABASE_URL"
                        .to_string(),
                );
            }
        }
        let redis_url = src.get("REDIS_URL").map(str::to_string);
        if let Some(r) = &redis_url {
            if !(r.starts_with("redis://")
                || r.starts_with("rediss://")
                || r.starts_with("unix://"))
            {
                c.errors
                    .push("REDIS_URL: expected redis://HOST:PORT[/DB]".to_string());
            }
        }
        let (sentinels, sentinel_master) = sentinel_settings(&mut c);
        let smtp_url = src.get("SMTP_URL").map(str::to_string);
        if let Some(s) = &smtp_url {
            if !(s.starts_with("smtp://") || s.starts_with("smtps://")) {
                c.errors
                    .push("SMTP_URL: expected smtp://HOST:PORT or smtps://…".to_string());
            }
        }
        if production && smtp_url.is_none() {
            c.errors
                .push("SMTP_URL: required when APP_ENV=production".to_string());
        }
        let mail_from = c.string("MAIL_FROM", "Swiper <no-reply@swiper.localhost>");
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            c.errors.push(format!(
                "MAIL_FROM: expected an address such as \"Swiper <no-reply@example.com>\", got {mail_from:?}"
            ));
        }
        let secret_key = load_secret_key(src, production, &var_dir, &mut c.errors);
        let jwt_key_file = src.get("JWT_KEY_FILE").map(PathBuf::from);
        if production && jwt_key_file.is_none() {
            // Every instance must sign with the same key.
            c.errors
                .push("JWT_KEY_FILE: required when APP_ENV=production".to_string());
        }
        if let Some(u) = src.get("SMS_URL") {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                c.errors
                    .push("SMS_URL: expected http://… or https://…".to_string());
            }
        }
        if src.get("SMS_AUTH_HEADER").is_some_and(|h| !h.contains(':')) {
            c.errors
                .push("SMS_AUTH_HEADER: expected \"Name: value\"".to_string());
        }
        let media = media_settings(&mut c, &var_dir);
        let time_zone = match c.string("TIME_ZONE", "UTC").parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                c.errors
                    .push("TIME_ZONE: expected an IANA time zone such as Europe/Paris".to_string());
                chrono_tz::UTC
            }
        };
        let default_language = c.string("DEFAULT_LANGUAGE", crate::i18n::DEFAULT_LANG);
        if !crate::i18n::is_supported(&default_language) {
            let codes: Vec<&str> = crate::i18n::languages().map(|l| l.code.as_str()).collect();
            c.errors.push(format!(
                "DEFAULT_LANGUAGE: expected one of {}",
                codes.join(", ")
            ));
        }
        let mut trusted_proxies = Vec::new();
        for item in c.string("TRUSTED_PROXIES", "").split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            match item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
            {
                Ok(net) => trusted_proxies.push(net),
                Err(_) => c.errors.push(format!(
                    "TRUSTED_PROXIES: {item:?} is not an IP address or CIDR range"
                )),
            }
        }
        let log_format = match c.string("LOG_FORMAT", "text").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                c.errors
                    .push(format!("LOG_FORMAT: expected text or json, got {other:?}"));
                LogFormat::Text
            }
        };
        let run_worker = c.bool("RUN_WORKER", true);
        let password_iterations = c.parse(
            "PASSWORD_ITERATIONS",
            MIN_PASSWORD_ITERATIONS,
            "a whole number",
        );
        if production && password_iterations < MIN_PASSWORD_ITERATIONS {
            c.errors.push(format!(
                "PASSWORD_ITERATIONS: at least {MIN_PASSWORD_ITERATIONS} in production"
            ));
        }
        if password_iterations == 0 {
            c.errors
                .push("PASSWORD_ITERATIONS: must be positive".to_string());
        }
        let password_min_length = c.parse("PASSWORD_MIN_LENGTH", 10, "a whole number");
        if production && password_min_length < 10 {
            c.errors.push(
                "PASSWORD_MIN_LENGTH: at least 10 in production (OWASP ASVS 6.2.1)".to_string(),
            );
        }
        if password_min_length > 128 {
            c.errors
                .push("PASSWORD_MIN_LENGTH: at most 128".to_string());
        }
        let secret = |v: String| SecretString::new(v);
        let settings = Settings {
            app_env,
            http: HttpSettings {
                bind,
                base_url,
                trusted_proxies,
                body_timeout: c.duration_secs("HTTP_BODY_TIMEOUT", 30, 1),
                header_timeout: c.duration_secs("HTTP_HEADER_TIMEOUT", 10, 1),
            },
            database: DatabaseSettings {
                url: secret(database_url),
                replica_url: database_replica_url.map(secret),
                pool_size: c.parse("DATABASE_POOL_SIZE", 16, "a whole number"),
                statements: if c.bool("DATABASE_PREPARED_STATEMENTS", true) {
                    crate::db::Statements::Prepared
                } else {
                    crate::db::Statements::Unnamed
                },
            },
            redis: RedisSettings {
                url: redis_url.map(secret),
                sentinels,
                sentinel_master,
                prefix: c.string("REDIS_PREFIX", "swiper"),
            },
            mail: MailSettings {
                smtp_url: smtp_url.map(secret),
                from: mail_from,
            },
            secret_key,
            sms: SmsSettings {
                url: src.get("SMS_URL").map(|v| SecretString::new(v.to_string())),
                body: c.string("SMS_BODY", r#"{"to":"{to}","text":"{text}"}"#),
                auth_header: src
                    .get("SMS_AUTH_HEADER")
                    .map(|v| SecretString::new(v.to_string())),
                success_field: src.get("SMS_SUCCESS_FIELD").map(str::to_string),
                timeout: c.duration_secs("SMS_TIMEOUT", 10, 1),
            },
            jwt_key_file,
            paths: PathSettings { var_dir },
            media,
            time_zone,
            default_language,
            log_format,
            chat_sockets_per_member: c.parse("CHAT_SOCKETS_PER_MEMBER", 20, "a whole number"),
            metrics_token: src
                .get("METRICS_TOKEN")
                .filter(|t| !t.is_empty())
                .map(|t| SecretString::new(t.to_string())),
            demo_data: c.bool("DEMO_DATA", !production),
            feed_cache: c.duration_secs("FEED_CACHE_SECONDS", 300, 0),
            oauth: {
                let (providers, errors) = oauth::providers_from(src.values());
                c.errors.extend(errors);
                providers
            },
            passwords: PasswordSettings {
                iterations: password_iterations,
                min_length: password_min_length,
            },
            sessions: SessionSettings {
                idle_timeout: c.duration_secs("SESSION_IDLE_TIMEOUT", 2 * 3600, 60),
                absolute_timeout: c.duration_secs("SESSION_ABSOLUTE_TIMEOUT", 24 * 3600, 60),
                remember_me: c.duration_secs("REMEMBER_ME_DURATION", 30 * 24 * 3600, 60),
            },
            accounts: AccountSettings {
                mail_cooldown: c.duration_secs("MAIL_COOLDOWN", 60, 0),
                verify_token_ttl: c.duration_secs("VERIFY_TOKEN_TTL", 48 * 3600, 60),
                reset_token_ttl: c.duration_secs("RESET_TOKEN_TTL", 3600, 60),
            },
            jobs: JobSettings {
                run_worker,
                poll_interval: Duration::from_millis(
                    c.parse::<u64>("JOB_POLL_INTERVAL_MS", 1000, "milliseconds")
                        .clamp(10, 60_000),
                ),
                lease: c.duration_secs("JOB_LEASE", 300, 30),
                backoff_base: c.duration_secs("JOB_BACKOFF_BASE", 10, 0),
            },
        };
        if c.errors.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigErrors(c.errors))
        }
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    pub fn is_https(&self) -> bool {
        self.http.base_url.scheme() == "https"
    }

    /// `scheme://host[:port]` of `BASE_URL`, what browsers send as `Origin`.
    pub fn origin(&self) -> String {
        self.http.base_url.origin().ascii_serialization()
    }

    /// The origins a state-changing request may come from: `BASE_URL`'s, and
    /// in development its loopback twin (`localhost` and `127.0.0.1`), so the
    /// site works whichever name the developer typed.
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut origins = vec![self.origin()];
        if !self.is_production() {
            let twin = match self.http.base_url.host_str() {
                Some("localhost") => Some("127.0.0.1"),
                Some("127.0.0.1") => Some("localhost"),
                _ => None,
            };
            if let Some(twin) = twin {
                let mut u = self.http.base_url.clone();
                if u.set_host(Some(twin)).is_ok() {
                    origins.push(u.origin().ascii_serialization());
                }
            }
        }
        origins
    }

    /// An absolute URL for a path of this site, for mails and redirects.
    /// Whether text messages can be sent: a provider, or the development
    /// files. In production without `SMS_URL` the phone features are off.
    pub fn sms_available(&self) -> bool {
        self.sms.url.is_some() || !self.is_production()
    }

    pub fn absolute_url(&self, path_and_query: &str) -> String {
        let base = self.http.base_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

#[cfg(test)]
mod tests;
