//! The `swiper` command line: `serve` (default), `worker`, `migrate`,
//! `create-admin --email E`, `check-config`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tokio::sync::watch;

use crate::accounts::admin::{create_admin, CreatedAdmin};
use crate::accounts::input::Email;
use crate::clock::Clock;
use crate::config::{AppEnv, Settings, Source};
use crate::db;
use crate::jobs::{JobContext, Worker, WorkerWake};
use crate::mail::Mailer;
use crate::redis_link::RedisLink;
use crate::startup::{connect_database, job_registry, Application};
use crate::storage::MediaStore;

#[derive(Parser)]
#[command(
    name = "swiper",
    version,
    about = "Swiper: a dating and social web site",
    after_help = crate::config::help::text()
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (and run a worker in-process unless RUN_WORKER=false).
    Serve,
    /// Run background jobs only.
    Worker,
    /// Apply pending database migrations.
    Migrate,
    /// Create an administrator account, or promote an existing one.
    CreateAdmin {
        /// The account's email address (created with a password printed
        /// once, or promoted if it exists).
        #[arg(long)]
        email: String,
        /// Also lift a ban on that account (a banned account is otherwise
        /// left as it is).
        #[arg(long)]
        unban: bool,
    },
    /// Validate the configuration and check the database and Redis answer.
    CheckConfig,
    /// Print a new Ed25519 key for JWT_KEY_FILE (PKCS#8 PEM) to standard
    /// output; put it first in the file to rotate, keeping the old one after.
    JwtKey,
    /// Add demo members up to N (safe to re-run): `swiper seed --users 100000`.
    Seed {
        /// How many demo members there should be in all.
        #[arg(long)]
        users: usize,
        /// How many of them get a generated photo.
        #[arg(long, default_value_t = 200)]
        avatars: usize,
    },
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::JwtKey) = cli.command {
        // Needs no configuration (and writes nothing under var/).
        print!("{}", crate::api::jws::new_key_pem());
        return ExitCode::SUCCESS;
    }
    let settings = match Source::from_env().and_then(|s| Settings::load(&s)) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Worker => worker(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::CreateAdmin { email, unban } => admin(settings, &email, unban).await,
        Command::CheckConfig => check(settings).await,
        // Handled before the configuration is read.
        Command::JwtKey => Ok(()),
        Command::Seed { users, avatars } => seed(settings, users, avatars).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopped with an error");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.http.bind.clone();
    let base = settings.http.base_url.to_string();
    let app = Application::build(settings).await?;
    tracing::info!(%bind, %base, "Swiper is serving");
    app.run_until_stopped().await?;
    Ok(())
}

async fn worker(settings: Settings) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    let db = connect_database(&settings).await?;
    // With Redis, the worker's changes reach the web instances' caches.
    let link = RedisLink::connect(&settings.redis).await?;
    let hub = crate::realtime::Hub::over(link, &settings.redis.prefix).await?;
    let ctx = JobContext {
        db,
        settings: settings.clone(),
        mailer: Mailer::from_settings(&settings)?,
        media: MediaStore::from_settings(&settings.media)?,
        clock: Clock::system(),
        members_changed: crate::jobs::MembersChanged::new(move |members| {
            hub.members_changed_soon(members)
        }),
    };
    let (tx, rx) = watch::channel(false);
    let w = Worker::new(ctx, Arc::new(job_registry()), WorkerWake::default());
    let handle = tokio::spawn(w.run(rx));
    shutdown_signal().await?;
    tracing::info!("stopping: finishing the current job");
    let _ = tx.send(true);
    handle.await?;
    Ok(())
}

/// SIGINT or SIGTERM (what systemd and container runtimes send).
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// Runs `f` on a single fresh connection, off the async executor (no
/// migrations at connect: `migrate` decides that itself).
async fn with_one_connection<T: Send + 'static>(
    settings: &Settings,
    f: impl FnOnce(&mut db::DbConnection) -> Result<T, crate::error::AppError> + Send + 'static,
) -> anyhow::Result<T> {
    let url = settings.database.url.expose().to_string();
    let statements = settings.database.statements;
    let value = tokio::task::spawn_blocking(move || {
        let pool = db::pool(&url, 1, statements)?;
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await??;
    Ok(value)
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let applied = with_one_connection(&settings, crate::startup::migrate_and_sync).await?;
    println!("{applied} migration(s) applied");
    Ok(())
}

async fn admin(settings: Settings, email: &str, unban: bool) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|code| anyhow::anyhow!("--email: {code}"))?;
    let db = connect_database(&settings).await?;
    let iterations = settings.passwords.iterations;
    let shown = email.as_str().to_string();
    let now = Clock::system().now();
    let outcome = db
        .primary(move |c| Ok(create_admin(c, &email, iterations, unban, now)?))
        .await?;
    match outcome {
        CreatedAdmin::Promoted => println!("{shown} is now a superadmin"),
        CreatedAdmin::Banned => anyhow::bail!(
            "{shown} is banned: nothing changed; run again with --unban to lift the ban and make it a superadmin"
        ),
        CreatedAdmin::Created { password } => {
            println!("created superadmin {shown}");
            println!(
                "password (shown once, change it after logging in): {}",
                password.expose()
            );
        }
    }
    Ok(())
}

async fn seed(settings: Settings, users: usize, avatars: usize) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let db = connect_database(&settings).await?;
    let media = MediaStore::from_settings(&settings.media)?;
    let started = std::time::Instant::now();
    let report = crate::seed::seed(
        &db,
        &media,
        &Clock::system(),
        settings.passwords.iterations,
        users,
        avatars,
        std::io::stderr().is_terminal(),
    )
    .await?;
    println!(
        "{} members created ({} were there), {} swipes, {} matches, {} avatars in {:.1} s",
        report.created,
        report.already_there,
        report.swipes,
        report.matches,
        report.avatars,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn check(settings: Settings) -> anyhow::Result<()> {
    let env = match settings.app_env {
        AppEnv::Development => "development",
        AppEnv::Production => "production",
    };
    println!("environment: {env}");
    println!(
        "bind: {}  base url: {}",
        settings.http.bind, settings.http.base_url
    );
    let url = settings.database.url.expose().to_string();
    println!(
        "database: {}",
        db::Backend::from_url(&url).map_or("unknown", |b| b.name())
    );
    println!(
        "redis: {}",
        if settings.redis.sentinel_master.is_some() {
            "through Sentinel"
        } else if settings.redis.url.is_some() {
            "configured"
        } else {
            "in-process stores"
        }
    );
    println!(
        "mail: {}",
        if settings.mail.smtp_url.is_some() {
            "SMTP"
        } else {
            "files under var/mail"
        }
    );
    with_one_connection(&settings, |_| Ok(())).await?;
    println!("database: reachable");
    if let Some(link) = RedisLink::connect(&settings.redis).await? {
        anyhow::ensure!(link.ping().await, "redis: no answer to PING");
        println!("redis: reachable");
    }
    println!("configuration OK");
    Ok(())
}
