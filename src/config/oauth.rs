//! Third-party login providers, defined only by environment variables. A
//! provider exists when `OAUTH_<NAME>_CLIENT_ID` is set. GitHub and Google
//! are presets (client id and secret suffice); any other name is a generic
//! OAuth 2.0 provider described by `_AUTH_URL`, `_TOKEN_URL`,
//! `_USERINFO_URL` and the field names of its user-info JSON (dot paths for
//! nested fields), which is how WeChat, QQ or Weibo are added without code.

use std::collections::HashMap;

use url::Url;

use crate::security::SecretString;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuth {
    /// HTTP Basic (RFC 6749's default).
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

#[derive(Debug, Clone)]
pub struct OAuthProvider {
    /// Lower-case key used in URLs: `github`, `google`, `wechat`.
    pub name: String,
    /// Button text.
    pub label: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub auth_url: Url,
    pub token_url: Url,
    pub userinfo_url: Url,
    pub scopes: Vec<String>,
    pub id_field: String,
    pub email_field: String,
    pub name_field: String,
    /// A boolean field saying the email is verified; without one, a preset
    /// decides (GitHub's public email is verified), a generic provider's
    /// email counts as unverified.
    pub email_verified_field: Option<String>,
    pub email_trusted: bool,
    pub token_auth: TokenAuth,
}

struct Preset {
    label: &'static str,
    auth: &'static str,
    token: &'static str,
    userinfo: &'static str,
    scopes: &'static str,
    id: &'static str,
    email: &'static str,
    name: &'static str,
    email_verified: Option<&'static str>,
    email_trusted: bool,
}

fn preset(name: &str) -> Option<Preset> {
    match name {
        "GITHUB" => Some(Preset {
            label: "GitHub",
            auth: "https://github.com/login/oauth/authorize",
            token: "https://github.com/login/oauth/access_token",
            userinfo: "https://api.github.com/user",
            scopes: "read:user user:email",
            id: "id",
            email: "email",
            name: "login",
            email_verified: None,
            email_trusted: true,
        }),
        "GOOGLE" => Some(Preset {
            label: "Google",
            auth: "https://accounts.google.com/o/oauth2/v2/auth",
            token: "https://oauth2.googleapis.com/token",
            userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
            scopes: "openid email profile",
            id: "sub",
            email: "email",
            name: "name",
            email_verified: Some("email_verified"),
            email_trusted: false,
        }),
        _ => None,
    }
}

fn capitalised(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Every configured provider (sorted by name) and the problems found.
pub fn providers_from(vars: &HashMap<String, String>) -> (Vec<OAuthProvider>, Vec<String>) {
    let get = |key: String| vars.get(&key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut names: Vec<String> = vars
        .keys()
        .filter_map(|k| k.strip_prefix("OAUTH_")?.strip_suffix("_CLIENT_ID"))
        .filter(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        .map(str::to_string)
        .collect();
    names.sort();
    let (mut providers, mut errors) = (Vec::new(), Vec::new());
    for name in names {
        let var = |suffix: &str| format!("OAUTH_{name}_{suffix}");
        let Some(client_id) = get(var("CLIENT_ID")) else {
            continue;
        };
        let p = preset(&name);
        let text = |suffix: &str, default: Option<&str>| {
            get(var(suffix))
                .map(str::to_string)
                .or(default.map(str::to_string))
        };
        let mut url = |suffix: &str, default: Option<&str>| -> Option<Url> {
            let Some(raw) = text(suffix, default) else {
                errors.push(format!(
                    "{}: required for the OAuth provider {name}",
                    var(suffix)
                ));
                return None;
            };
            match Url::parse(&raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
                _ => {
                    errors.push(format!("{}: expected an http(s) URL", var(suffix)));
                    None
                }
            }
        };
        let auth_url = url("AUTH_URL", p.as_ref().map(|p| p.auth));
        let token_url = url("TOKEN_URL", p.as_ref().map(|p| p.token));
        let userinfo_url = url("USERINFO_URL", p.as_ref().map(|p| p.userinfo));
        let Some(secret) = get(var("CLIENT_SECRET")) else {
            errors.push(format!("{}: required", var("CLIENT_SECRET")));
            continue;
        };
        let token_auth = match text("TOKEN_AUTH", Some("basic")).as_deref() {
            Some("post") => TokenAuth::Post,
            Some("basic") => TokenAuth::Basic,
            other => {
                errors.push(format!(
                    "{}: basic or post, got {other:?}",
                    var("TOKEN_AUTH")
                ));
                TokenAuth::Basic
            }
        };
        let (Some(auth_url), Some(token_url), Some(userinfo_url)) =
            (auth_url, token_url, userinfo_url)
        else {
            continue;
        };
        providers.push(OAuthProvider {
            name: name.to_lowercase(),
            label: text("LABEL", p.as_ref().map(|p| p.label)).unwrap_or_else(|| capitalised(&name)),
            client_id: client_id.to_string(),
            client_secret: SecretString::new(secret.to_string()),
            auth_url,
            token_url,
            userinfo_url,
            scopes: text("SCOPES", p.as_ref().map(|p| p.scopes))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            id_field: text("ID_FIELD", p.as_ref().map(|p| p.id)).unwrap_or_else(|| "id".into()),
            email_field: text("EMAIL_FIELD", p.as_ref().map(|p| p.email))
                .unwrap_or_else(|| "email".into()),
            name_field: text("NAME_FIELD", p.as_ref().map(|p| p.name))
                .unwrap_or_else(|| "name".into()),
            email_verified_field: text(
                "EMAIL_VERIFIED_FIELD",
                p.as_ref().and_then(|p| p.email_verified),
            ),
            email_trusted: p.as_ref().is_some_and(|p| p.email_trusted),
            token_auth,
        });
    }
    (providers, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn presets_need_only_their_credentials() {
        let (p, errors) = providers_from(&vars(&[
            ("OAUTH_GITHUB_CLIENT_ID", "id"),
            ("OAUTH_GITHUB_CLIENT_SECRET", "very secret"),
            ("OAUTH_GOOGLE_CLIENT_ID", "gid"),
            ("OAUTH_GOOGLE_CLIENT_SECRET", "gsecret"),
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["github", "google"]
        );
        assert_eq!(p[0].label, "GitHub");
        assert_eq!(p[1].id_field, "sub");
        assert!(!format!("{:?}", p[0]).contains("very secret"));
    }

    #[test]
    fn a_generic_provider_is_described_by_variables() {
        let (p, errors) = providers_from(&vars(&[
            ("OAUTH_WECHAT_CLIENT_ID", "wx"),
            ("OAUTH_WECHAT_CLIENT_SECRET", "s"),
            (
                "OAUTH_WECHAT_AUTH_URL",
                "https://open.weixin.qq.com/connect/qrconnect",
            ),
            (
                "OAUTH_WECHAT_TOKEN_URL",
                "https://api.weixin.qq.com/sns/oauth2/access_token",
            ),
            (
                "OAUTH_WECHAT_USERINFO_URL",
                "https://api.weixin.qq.com/sns/userinfo",
            ),
            ("OAUTH_WECHAT_ID_FIELD", "unionid"),
            ("OAUTH_WECHAT_NAME_FIELD", "nickname"),
            ("OAUTH_WECHAT_TOKEN_AUTH", "post"),
            ("OAUTH_WECHAT_SCOPES", "snsapi_login"),
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(p[0].name, "wechat");
        assert_eq!(p[0].label, "Wechat");
        assert_eq!(p[0].id_field, "unionid");
        assert_eq!(p[0].token_auth, TokenAuth::Post);
        assert!(!p[0].email_trusted);
    }

    #[test]
    fn missing_or_bad_values_are_named() {
        let (p, errors) = providers_from(&vars(&[
            ("OAUTH_ACME_CLIENT_ID", "x"),
            ("OAUTH_ACME_CLIENT_SECRET", "s"),
            ("OAUTH_ACME_AUTH_URL", "ftp://nope"),
        ]));
        assert!(p.is_empty());
        assert!(errors.iter().any(|e| e.contains("OAUTH_ACME_AUTH_URL")));
        assert!(errors.iter().any(|e| e.contains("OAUTH_ACME_TOKEN_URL")));
        assert!(errors.iter().any(|e| e.contains("OAUTH_ACME_USERINFO_URL")));
    }
}
