//! Outgoing mail through lettre: a real SMTP relay when `SMTP_URL` is set,
//! otherwise `.eml` files under `var/mail/` (development), with a log line.
//! Mail is only ever sent from jobs, never inside a request.

use std::path::PathBuf;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
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
    /// A one-click unsubscribe URL (RFC 8058): sent as `List-Unsubscribe`
    /// with `List-Unsubscribe-Post`, for mails a member can turn off.
    pub unsubscribe: Option<String>,
}

/// The mails a member can turn off, by the name their link carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optional {
    /// A new match.
    Match,
    /// Messages from a match while I am away.
    Message,
}

impl Optional {
    pub const ALL: [Self; 2] = [Self::Match, Self::Message];

    pub fn name(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Message => "message",
        }
    }

    /// Its line in the settings' mail choices.
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Match => "mails.match",
            Self::Message => "mails.message",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

fn unsubscribe_tag(keys: &crate::security::keys::Keys, user: i64, kind: Optional) -> String {
    use base64::Engine;
    let message = format!("unsubscribe:{}:{user}", kind.name());
    let tag = ring::hmac::sign(&keys.unsubscribe, message.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
}

/// The link that turns `kind` off for `user` with one click and no login.
pub fn unsubscribe_url(settings: &Settings, user: i64, kind: Optional) -> String {
    let keys = crate::security::keys::Keys::from_secret(settings.secret_key.expose());
    let tag = unsubscribe_tag(&keys, user, kind);
    settings.absolute_url(&format!("/unsubscribe?u={user}&m={}&t={tag}", kind.name()))
}

/// Whether `tag` is the one [`unsubscribe_url`] made for `user` and `kind`.
pub fn unsubscribe_tag_matches(
    keys: &crate::security::keys::Keys,
    user: i64,
    kind: Optional,
    tag: &str,
) -> bool {
    let expected = unsubscribe_tag(keys, user, kind);
    crate::security::random::constant_time_eq(expected.as_bytes(), tag.as_bytes())
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
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN);
        if let Some(url) = &mail.unsubscribe {
            // RFC 8058: a client may POST `List-Unsubscribe=One-Click` there.
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        let message = builder.body(mail.body)?;
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
