//! Sending a text message: to an HTTP provider (`SMS_URL`: a JSON POST
//! whose body, auth header and success field are configured, `SMS_TIMEOUT`
//! at most), or, without one, to a file under `var/sms/` (development: the
//! log names the file, never its text; `/_dev/outbox` shows it). Messages
//! are sent by a job, so a slow provider never holds a request, and a
//! failure is retried with the queue's back-off.

use std::path::PathBuf;

use crate::config::{Settings, SmsSettings};

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS provider: {0}")]
    Provider(String),
    #[error("writing the SMS file: {0}")]
    File(#[from] std::io::Error),
}

/// Where messages go.
pub enum SmsSender {
    Http(SmsSettings),
    Files(PathBuf),
}

/// `text` as it sits inside a JSON string (quotes, backslashes, controls).
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// Whether the provider's answer says the message was taken.
fn succeeded(settings: &SmsSettings, answer: &str) -> bool {
    let Some(field) = &settings.success_field else {
        return true;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(answer) else {
        return false;
    };
    matches!(
        json.pointer(&format!("/{}", field.replace('.', "/"))),
        Some(serde_json::Value::Bool(true))
    ) || json
        .get(field)
        .and_then(|v| v.as_str())
        .is_some_and(|s| s.eq_ignore_ascii_case("ok"))
}

impl SmsSender {
    pub fn from_settings(settings: &Settings) -> Self {
        match &settings.sms.url {
            Some(_) => Self::Http(settings.sms.clone()),
            None => Self::Files(settings.paths.var_dir.join("sms")),
        }
    }

    /// Sends `text` to `to` (E.164).
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        match self {
            Self::Files(dir) => {
                let name = format!(
                    "{}-{}.txt",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
                    crate::security::random::token(6)
                );
                let path = dir.join(name);
                let body = format!("To: {to}\n\n{text}\n");
                let written = path.clone();
                tokio::task::spawn_blocking(move || {
                    std::fs::create_dir_all(written.parent().unwrap_or(&written))?;
                    std::fs::write(&written, body)
                })
                .await
                .map_err(|e| SmsError::Provider(e.to_string()))??;
                tracing::info!(file = %path.display(), "text message written");
                Ok(())
            }
            Self::Http(settings) => {
                let Some(url) = &settings.url else {
                    return Err(SmsError::Provider("no SMS_URL".into()));
                };
                let body = settings
                    .body
                    .replace("{to}", &json_escaped(to))
                    .replace("{text}", &json_escaped(text));
                let client = reqwest::Client::builder()
                    .timeout(settings.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| SmsError::Provider(e.to_string()))?;
                let mut request = client
                    .post(url.expose())
                    .header("content-type", "application/json")
                    .body(body);
                if let Some((name, value)) = settings
                    .auth_header
                    .as_ref()
                    .and_then(|h| h.expose().split_once(':'))
                {
                    request = request.header(name.trim(), value.trim());
                }
                // Never the URL or the body in the error: they hold secrets
                // and the code.
                let res = request.send().await.map_err(|e| {
                    SmsError::Provider(if e.is_timeout() {
                        "timed out".into()
                    } else {
                        "unreachable".into()
                    })
                })?;
                let status = res.status();
                let answer = res.text().await.unwrap_or_default();
                if !status.is_success() || !succeeded(settings, &answer) {
                    return Err(SmsError::Provider(format!("answered {status}")));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_template_escapes_and_the_success_field_is_read() {
        assert_eq!(json_escaped("a \"b\"\n\\"), r#"a \"b\"\n\\"#);
        let mut s = SmsSettings {
            url: None,
            body: String::new(),
            auth_header: None,
            success_field: None,
            timeout: std::time::Duration::from_secs(10),
        };
        assert!(succeeded(&s, "anything"));
        s.success_field = Some("ok".into());
        assert!(succeeded(&s, r#"{"ok":true}"#));
        assert!(!succeeded(&s, r#"{"ok":false}"#));
        assert!(!succeeded(&s, "not json"));
        s.success_field = Some("status".into());
        assert!(succeeded(&s, r#"{"status":"OK"}"#));
        s.success_field = Some("result.sent".into());
        assert!(succeeded(&s, r#"{"result":{"sent":true}}"#));
    }
}
