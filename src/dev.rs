//! `/_dev/outbox`: in development only, and only for a client on loopback
//! (the client IP as resolved through `TRUSTED_PROXIES`), the mails and SMS
//! the site wrote to `var/` instead of sending them, newest first, their
//! links clickable, so a newcomer never copies a quoted-printable link out
//! of an `.eml`. In production the route does not exist; anyone else gets
//! the 404 of a path that does not exist.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::state::Spine;
use crate::web::Page;

/// Mails and SMS shown, newest first.
const SHOWN: usize = 50;

pub fn configure(cfg: &mut web::ServiceConfig, production: bool) {
    if !production {
        cfg.route("/_dev/outbox", web::get().to(outbox));
    }
}

/// Whether a client may see the outbox: development, and on this machine.
fn allowed(production: bool, client: Option<IpAddr>) -> bool {
    !production && client.is_some_and(|ip| ip.is_loopback())
}

/// A piece of a message's text: words, or a link to make clickable.
pub enum Part {
    Text(String),
    Link(String),
}

pub struct Item {
    /// `mail` or `sms`.
    pub kind: &'static str,
    pub file: String,
    pub to: String,
    pub subject: String,
    pub date: String,
    pub parts: Vec<Part>,
}

#[derive(Template)]
#[template(path = "dev/outbox.html")]
struct OutboxPage {
    page: Page,
    items: Vec<Item>,
    dir: String,
}

async fn outbox(
    req: HttpRequest,
    page: Page,
    spine: web::Data<Spine>,
) -> Result<HttpResponse, AppError> {
    let production = spine.settings.is_production();
    if !allowed(production, crate::web::client_ip::ip(&req)) {
        return Err(AppError::NotFound);
    }
    let var = spine.settings.paths.var_dir.clone();
    let dir = var.display().to_string();
    let items = web::block(move || read_outbox(&var))
        .await
        .map_err(|e| AppError::internal("outbox", e))?;
    crate::web::ok(&OutboxPage { page, items, dir })
}

/// The newest files of `var/mail` (`.eml`) and `var/sms` (`.txt`).
fn read_outbox(var: &Path) -> Vec<Item> {
    let mut files: Vec<(std::time::SystemTime, &'static str, PathBuf)> = Vec::new();
    for (kind, sub, ext) in [("mail", "mail", "eml"), ("sms", "sms", "txt")] {
        let Ok(entries) = std::fs::read_dir(var.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(ext) {
                continue;
            }
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            files.push((modified, kind, path));
        }
    }
    files.sort_by_key(|(at, ..)| std::cmp::Reverse(*at));
    files
        .into_iter()
        .take(SHOWN)
        .filter_map(|(at, kind, path)| {
            let bytes = std::fs::read(&path).ok()?;
            let file = path.file_name()?.to_string_lossy().into_owned();
            let date = chrono::DateTime::<chrono::Utc>::from(at)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string();
            Some(match kind {
                "mail" => mail_item(&bytes, file, date),
                _ => Item {
                    kind: "sms",
                    file,
                    to: String::new(),
                    subject: String::new(),
                    date,
                    parts: linked(&String::from_utf8_lossy(&bytes)),
                },
            })
        })
        .collect()
}

/// A mail as its reader sees it: headers decoded, the text part's body
/// (quoted-printable and charsets undone by `mailparse`).
fn mail_item(bytes: &[u8], file: String, date: String) -> Item {
    let Ok(mail) = mailparse::parse_mail(bytes) else {
        return Item {
            kind: "mail",
            file,
            to: String::new(),
            subject: "(unreadable)".into(),
            date,
            parts: Vec::new(),
        };
    };
    let header = |name: &str| {
        mailparse::MailHeaderMap::get_first_value(mail.headers.as_slice(), name).unwrap_or_default()
    };
    let text = std::iter::once(&mail)
        .chain(mail.subparts.iter())
        .find(|p| p.ctype.mimetype == "text/plain")
        .and_then(|p| p.get_body().ok())
        .unwrap_or_default();
    Item {
        kind: "mail",
        file,
        to: header("To"),
        subject: header("Subject"),
        date,
        parts: linked(&text),
    }
}

/// `text` cut into words and the `http(s)://` links in it (without the
/// punctuation that ends a sentence after a link).
fn linked(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        if !rest[..start].is_empty() {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        parts.push(Part::Link(link.to_string()));
        rest = &rest[start + link.len()..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_development_on_loopback() {
        let local: IpAddr = "127.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let v6: IpAddr = "::1".parse().unwrap_or(local);
        let far: IpAddr = "203.0.113.5".parse().unwrap_or(local);
        assert!(allowed(false, Some(local)));
        assert!(allowed(false, Some(v6)));
        assert!(!allowed(false, Some(far)));
        assert!(!allowed(false, None));
        assert!(!allowed(true, Some(local)), "never in production");
    }

    #[test]
    fn links_are_cut_out_of_the_text() {
        let parts = linked("Open http://a.test/v?token=x1. Then https://b.test");
        let shown: Vec<String> = parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => format!("T({t})"),
                Part::Link(l) => format!("L({l})"),
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                "T(Open )",
                "L(http://a.test/v?token=x1)",
                "T(. Then )",
                "L(https://b.test)"
            ]
        );
    }
}
