//! The `swiper` binary itself, as an operator or a new developer runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::{free_port, swiper_binary as swiper};

#[tokio::test]
async fn with_no_configuration_the_binary_serves_the_signup_page_and_stops_gracefully() {
    let dir = tempdir();
    let port = free_port();
    let mut child = swiper()
        .current_dir(&dir)
        .env("BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Wait for the line that says it is serving (no sleeping, no polling).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut before = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("Swiper is serving") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(std::mem::take(&mut before));
                }
            } else if tx.is_some() {
                before.push(line);
            }
        }
    });
    // The first start draws 200 demo portraits: about 20 s on a quiet
    // machine, near a minute while another build shares its two cores.
    let startup_log = tokio::time::timeout(std::time::Duration::from_secs(180), rx)
        .await
        .unwrap()
        .unwrap();
    // A newcomer's first screen: a new SQLite file opens without errors.
    let errors: Vec<_> = startup_log.iter().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "errors at first start: {errors:?}");

    let res = reqwest::get(format!("http://127.0.0.1:{port}/signup"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A newcomer has people to swipe at once: the demo login is in the log.
    let line = startup_log
        .iter()
        .find(|l| l.contains("demo data created"))
        .unwrap_or_else(|| panic!("no demo login in {startup_log:?}"));
    let password = line
        .split("with password ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let demo = crate::helpers::Browser::new(&format!("http://127.0.0.1:{port}"));
    assert_eq!(
        demo.login("demo@swiper.test", &password).await.status(),
        303
    );
    let feed = demo.html("/discover").await;
    assert!(
        feed.contains("data-candidate="),
        "demo members to swipe:\n{feed}"
    );
    // A full first page of people, each with a photo, and the demo's own face.
    assert_eq!(feed.matches("data-candidate=").count(), 10, "{feed}");
    assert_eq!(
        feed.matches("class=\"deck-placeholder\"").count(),
        0,
        "every card of the first page has a photo"
    );
    assert!(
        feed.contains("class=\"avatar icon\""),
        "the demo account has a photo"
    );
    assert!(
        demo.html("/likes").await.contains("data-liker="),
        "members who like the demo"
    );
    assert!(res.text().await.unwrap().contains("name=\"birthday\""));
    assert!(
        dir.join("var/swiper.sqlite3").exists(),
        "SQLite database under var/"
    );
    assert!(
        dir.join("var/secret_key").exists(),
        "development secret key generated"
    );
    assert!(
        dir.join("var/mail").is_dir(),
        "mail goes to files without SMTP_URL"
    );

    // SIGTERM: in-flight work finishes and the process exits cleanly.
    // The shell's own `kill`, present on every machine.
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn seed_adds_members_safely_twice_and_a_seeded_member_has_a_feed() {
    let dir = tempdir();
    let run = || {
        swiper()
            .current_dir(&dir)
            .args(["seed", "--users", "10000", "--avatars", "3"])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let out = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        out.contains("10000 members created (0 were there)"),
        "{out}"
    );
    assert!(out.contains("3 avatars"), "{out}");
    let second = run();
    assert!(second.status.success(), "{second:?}");
    let out = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(
        out.contains("0 members created (10000 were there)"),
        "{out}"
    );

    let port = free_port();
    let mut child = swiper()
        .current_dir(&dir)
        .env("BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    crate::helpers::wait_until("the seeded site answers", || async {
        reqwest::get(format!("{base}/healthz")).await.is_ok()
    })
    .await;
    let member = crate::helpers::Browser::new(&base);
    let res = member
        .login("member0@seed.swiper.test", swiper::seed::SEED_PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
    let feed = member.html("/discover").await;
    assert!(
        feed.contains("data-candidate="),
        "a seeded member has people to swipe"
    );
    let _ = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_applies_the_migrations_once() {
    let dir = tempdir();
    let run = || swiper().current_dir(&dir).arg("migrate").output().unwrap();
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let all = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    let expected = format!("{all} migration(s) applied");
    assert!(
        String::from_utf8_lossy(&first.stdout).contains(&expected),
        "{first:?}"
    );
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 migration(s) applied"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn create_admin_makes_an_account_and_prints_its_password_once() {
    let dir = tempdir();
    let out = swiper()
        .current_dir(&dir)
        .args(["create-admin", "--email", "Boss@Example.com"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("created superadmin boss@example.com"),
        "{text}"
    );
    assert!(text.contains("password (shown once"), "{text}");
    let again = swiper()
        .current_dir(&dir)
        .args(["create-admin", "--email", "boss@example.com"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("is now a superadmin"));
    let bad = swiper()
        .current_dir(&dir)
        .args(["create-admin", "--email", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn create_admin_on_a_banned_account_says_so_and_lifts_the_ban_only_with_unban() {
    use diesel::prelude::*;
    use swiper::db::schema::users;
    let dir = tempdir();
    let run = |extra: &[&str]| {
        let mut args = vec!["create-admin", "--email", "boss@example.com"];
        args.extend_from_slice(extra);
        swiper().current_dir(&dir).args(&args).output().unwrap()
    };
    assert!(run(&[]).status.success());
    let db = dir.join("var").join("swiper.sqlite3");
    let mut c = diesel::SqliteConnection::establish(&db.display().to_string()).unwrap();
    let active = |c: &mut diesel::SqliteConnection| {
        users::table
            .filter(users::email.eq("boss@example.com"))
            .select(users::is_active)
            .first::<bool>(c)
            .unwrap()
    };
    diesel::update(users::table)
        .set(users::is_active.eq(false))
        .execute(&mut c)
        .unwrap();

    let refused = run(&[]);
    assert!(!refused.status.success(), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("is banned") && said.contains("--unban"),
        "{said}"
    );
    assert!(!active(&mut c), "the ban stays");

    let lifted = run(&["--unban"]);
    assert!(lifted.status.success(), "{lifted:?}");
    assert!(String::from_utf8_lossy(&lifted.stdout).contains("is now a superadmin"));
    assert!(active(&mut c));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_configuration_is_reported_one_line_per_problem() {
    let dir = tempdir();
    let out = swiper()
        .current_dir(&dir)
        .args(["check-config"])
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "postgress://typo")
        .env("LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "DATABASE_URL",
        "LOG_FORMAT",
        "SECRET_KEY",
        "SMTP_URL",
        "JWT_KEY_FILE",
    ] {
        assert!(
            err.lines()
                .any(|l| l.trim_start().starts_with(&format!("- {key}"))),
            "{key} missing in:\n{err}"
        );
    }
    let ok = swiper()
        .current_dir(&dir)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("configuration OK"));
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("swiper-cli-{}", swiper::security::random::token(8)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The variables named in the README's configuration table, with the
/// default column's first code span (`None` for a row naming several).
fn readme_variables() -> Vec<(String, Option<String>)> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|s| s.split("\n\n").find(|p| p.contains("| variable |")))
        .expect("the configuration table");
    table
        .lines()
        .skip(2)
        .filter_map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let names = cells.get(1)?;
            let default = cells.get(2)?.split('`').nth(1).unwrap_or("—").to_string();
            let named: Vec<&str> = names
                .split(['`', ',', '/'])
                .map(str::trim)
                .filter(|n| {
                    !n.is_empty()
                        && n.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                })
                .collect();
            let default = (named.len() == 1).then_some(default);
            Some(
                named
                    .into_iter()
                    .map(|n| (n.to_string(), default.clone()))
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect()
}

#[test]
fn help_lists_every_configuration_variable_with_its_default_and_every_option_has_help() {
    let out = swiper().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let variables = readme_variables();
    assert!(variables.len() > 40, "the table was read: {variables:?}");
    for (name, default) in &variables {
        let line = help
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name} is not in --help:\n{help}"));
        let bracket = line.rsplit('[').next().unwrap_or_default();
        if let Some(default) = default {
            assert!(
                bracket.contains(default.as_str()),
                "{name}: default {default} missing in {line:?}"
            );
        }
    }
    for sub in [
        "serve",
        "worker",
        "migrate",
        "create-admin",
        "check-config",
        "seed",
    ] {
        let out = swiper().args([sub, "--help"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{sub} --help");
        for line in text.lines().filter(|l| l.trim_start().starts_with("--")) {
            let described = line
                .trim_start()
                .split_once("  ")
                .is_some_and(|(_, h)| !h.trim().is_empty());
            assert!(described, "{sub}: option without help: {line:?}");
        }
    }
}
