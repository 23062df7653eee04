//! The settings: defaults, validation, and what is never printed.

use super::*;

fn src(pairs: &[(&str, &str)]) -> Source {
    Source::from_map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn production_requires_a_secret_key_and_smtp_and_reports_every_problem() {
    let err = Settings::load(&src(&[("APP_ENV", "production"), ("BIND", "nope")]))
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert!(err.iter().any(|e| e.starts_with("SECRET_KEY")), "{err:?}");
    assert!(err.iter().any(|e| e.starts_with("SMTP_URL")), "{err:?}");
    assert!(err.iter().any(|e| e.starts_with("JWT_KEY_FILE")), "{err:?}");
    assert!(err.iter().any(|e| e.starts_with("BIND")), "{err:?}");
}

#[test]
fn a_replica_must_be_postgres_beside_a_postgres_primary() {
    let key = "k".repeat(64);
    let sqlite = Settings::load(&src(&[
        ("SECRET_KEY", &key),
        ("DATABASE_REPLICA_URL", "postgres://r@replica/swiper"),
    ]));
    assert!(sqlite.is_err_and(|e| e.0.iter().any(|l| l.starts_with("DATABASE_REPLICA_URL"))));
    let pg = Settings::load(&src(&[
        ("SECRET_KEY", &key),
        ("DATABASE_URL", "postgres://p@primary/swiper"),
        ("DATABASE_REPLICA_URL", "postgres://r@replica/swiper"),
    ]));
    assert!(pg.is_ok_and(|s| s.database.replica_url.is_some()));
}

#[test]
fn passwords_default_to_600k_iterations_and_production_refuses_fewer() {
    let key = "k".repeat(64);
    let dev = Settings::load(&src(&[("SECRET_KEY", &key)]));
    assert_eq!(dev.map(|s| s.passwords.iterations).ok(), Some(600_000));
    let prod = Settings::load(&src(&[
        ("APP_ENV", "production"),
        ("SECRET_KEY", &key),
        ("SMTP_URL", "smtp://127.0.0.1:25"),
        ("PASSWORD_ITERATIONS", "1000"),
    ]));
    assert!(prod.is_err_and(|e| e.0.iter().any(|l| l.starts_with("PASSWORD_ITERATIONS"))));
}

#[test]
fn production_refuses_a_password_minimum_below_10() {
    let base = [
        ("APP_ENV", "production"),
        ("SECRET_KEY", "k".repeat(64).leak() as &str),
        ("JWT_KEY_FILE", "/etc/swiper/jwt.pem"),
        ("SMTP_URL", "smtp://127.0.0.1:25"),
        ("BASE_URL", "https://swiper.example"),
        ("DATABASE_URL", "postgres://swiper@db/swiper"),
    ];
    for (value, ok) in [("0", false), ("9", false), ("10", true)] {
        let mut pairs = base.to_vec();
        pairs.push(("PASSWORD_MIN_LENGTH", value));
        let result = Settings::load(&src(&pairs));
        assert_eq!(
            result.is_ok(),
            ok,
            "{value}: {:?}",
            result.err().map(|e| e.to_string())
        );
    }
}

#[test]
fn absurd_durations_are_refused() {
    let err = Settings::load(&src(&[
        ("SECRET_KEY", &"k".repeat(64)),
        ("SESSION_ABSOLUTE_TIMEOUT", "99999999999999"),
    ]))
    .err();
    assert!(err.is_some_and(|e| e
        .0
        .iter()
        .any(|l| l.starts_with("SESSION_ABSOLUTE_TIMEOUT"))));
}

#[test]
fn settings_never_print_credentials() {
    let s = Settings::load(&src(&[
        ("SECRET_KEY", &"k".repeat(64)),
        ("DATABASE_URL", "postgres://app:db-pass-123@db/swiper"),
        ("REDIS_URL", "redis://:redis-pass-456@cache:6379"),
        ("SMTP_URL", "smtp://mailer:smtp-pass-789@relay:587"),
    ]));
    let printed = format!("{s:?}");
    assert!(printed.contains("Settings"), "{printed}");
    for secret in ["db-pass-123", "redis-pass-456", "smtp-pass-789", "kkkkkkkk"] {
        assert!(!printed.contains(secret), "{secret} printed in {printed}");
    }
}

#[test]
fn a_short_secret_key_is_refused() {
    let err = Settings::load(&src(&[("SECRET_KEY", "short")])).err();
    assert!(err.is_some_and(|e| e.0.iter().any(|l| l.contains("at least 64"))));
}

#[test]
fn development_generates_a_secret_key_under_var_once() {
    let dir =
        std::env::temp_dir().join(format!("swiper-cfg-{}", crate::security::random::token(8)));
    let vars = [("VAR_DIR", dir.to_str().unwrap_or("var"))];
    let a = Settings::load(&src(&vars))
        .ok()
        .map(|s| s.secret_key.expose().to_vec());
    let b = Settings::load(&src(&vars))
        .ok()
        .map(|s| s.secret_key.expose().to_vec());
    assert!(a.as_ref().is_some_and(|k| k.len() >= 64));
    assert_eq!(a, b);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn trusted_proxies_accept_addresses_and_ranges() {
    let s = Settings::load(&src(&[
        ("SECRET_KEY", &"k".repeat(64)),
        ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
    ]));
    assert_eq!(s.map(|s| s.http.trusted_proxies.len()).ok(), Some(2));
}

#[test]
fn sentinels_come_with_a_master_name_and_each_has_a_port() {
    let key = "k".repeat(64);
    let ok = Settings::load(&src(&[
        ("SECRET_KEY", &key),
        ("REDIS_SENTINELS", "10.0.0.1:26379, sentinel-b:26380"),
        ("REDIS_SENTINEL_MASTER", "swiper"),
    ]))
    .expect("valid sentinel settings");
    assert_eq!(ok.redis.sentinels, ["10.0.0.1:26379", "sentinel-b:26380"]);
    assert_eq!(ok.redis.sentinel_master.as_deref(), Some("swiper"));
    assert!(ok.redis.configured());
    for (pairs, key_named) in [
        (
            vec![("REDIS_SENTINELS", "10.0.0.1:26379")],
            "REDIS_SENTINEL_MASTER",
        ),
        (vec![("REDIS_SENTINEL_MASTER", "swiper")], "REDIS_SENTINELS"),
        (
            vec![
                ("REDIS_SENTINELS", "10.0.0.1"),
                ("REDIS_SENTINEL_MASTER", "swiper"),
            ],
            "REDIS_SENTINELS",
        ),
        (
            vec![
                ("REDIS_SENTINELS", "a:0"),
                ("REDIS_SENTINEL_MASTER", "swiper"),
            ],
            "REDIS_SENTINELS",
        ),
    ] {
        let mut all = vec![("SECRET_KEY", key.as_str())];
        all.extend(pairs.iter().copied());
        let err = Settings::load(&src(&all))
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.iter().any(|l| l.starts_with(key_named)),
            "{pairs:?}: {err:?}"
        );
    }
    let none = Settings::load(&src(&[("SECRET_KEY", &key)])).expect("defaults");
    assert!(!none.redis.configured());
}

#[test]
fn text_messages_need_a_provider_in_production_only() {
    let key = "k".repeat(64);
    let dev = Settings::load(&src(&[("SECRET_KEY", &key)])).unwrap();
    assert!(dev.sms_available(), "files in development");
    let prod = [
        ("APP_ENV", "production"),
        ("SECRET_KEY", key.as_str()),
        ("JWT_KEY_FILE", "/etc/swiper/jwt.pem"),
        ("SMTP_URL", "smtp://127.0.0.1:25"),
        ("BASE_URL", "https://swiper.example"),
        ("DATABASE_URL", "postgres://swiper@db/swiper"),
    ];
    assert!(!Settings::load(&src(&prod)).unwrap().sms_available());
    let mut with = prod.to_vec();
    with.push(("SMS_URL", "https://sms.example/send"));
    assert!(Settings::load(&src(&with)).unwrap().sms_available());
    with.push(("SMS_AUTH_HEADER", "no colon"));
    assert!(Settings::load(&src(&with)).is_err());
}
