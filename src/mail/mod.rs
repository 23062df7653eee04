//! Outgoing mail through lettre: a real SMTP relay when `SMTP_URL` is set,
//! otherwise `.eml` files under `var/mail/` (development), with a log line.
//! Mail is only ever sent from jobs, never inside a request.

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

use crate::config::Settings;

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// A mail ready to send: plain text, as every client reads it.
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.mail.smtp_url {
            Some(url) => Ok(Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            )),
            None => {
                let dir = settings.paths.var_dir.join("mail");
                std::fs::create_dir_all(&dir)?;
                Ok(Self::Files(AsyncFileTransport::new(&dir), dir))
            }
        }
    }

    pub async fn send(&self, from: &str, mail: OutgoingMail) -> anyhow::Result<()> {
        if is_no_email(&mail.to) {
            // An account made by a phone number: it has no address.
            tracing::debug!("mail not sent: the account has no email address");
            return Ok(());
        }
        let from: Mailbox = from.parse()?;
        let to: Mailbox = mail.to.parse()?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)?;
        match self {
            Self::Smtp(t) => {
                t.send(message).await?;
            }
            Self::Files(t, dir) => {
                let id = t.send(message).await?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), "mail written (no SMTP_URL set)");
            }
        }
        Ok(())
    }
}

/// The domain of the address an account made by a phone number holds in
/// place of one: `.invalid` is reserved (RFC 2606) and never resolves, so
/// no mail goes there and nobody can sign up with such an address.
pub const NO_EMAIL_DOMAIN: &str = "phone.invalid";

/// Whether `email` is the stand-in of an account that has no address.
pub fn is_no_email(email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain == NO_EMAIL_DOMAIN)
}

/// `a***@example.com`: enough to tell mails apart in logs, not to read the address.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_masked_in_logs() {
        assert_eq!(super::mask_email("alice@example.com"), "a***@example.com");
        assert_eq!(super::mask_email("nonsense"), "***");
    }
}
