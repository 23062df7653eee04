//! Uploaded photos: local storage or S3, and where pages link to them.

use std::path::PathBuf;

use super::source::Collector;
use crate::security::SecretString;

/// Uploaded photos: where they are stored and how pages link to them.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// Local storage (when no S3 is configured), served under `/media/`.
    pub dir: PathBuf,
    /// Where pages link to media (a CDN or the bucket); `None`: `/media/`.
    pub base_url: Option<String>,
    pub s3: Option<S3Settings>,
    /// Largest accepted upload.
    pub photo_max_bytes: usize,
}

#[derive(Clone, Debug)]
pub struct S3Settings {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: SecretString,
    pub secret_key: SecretString,
}

pub(super) fn media_settings(c: &mut Collector<'_>, var_dir: &std::path::Path) -> MediaSettings {
    let dir = PathBuf::from(c.string("MEDIA_DIR", &var_dir.join("media").to_string_lossy()));
    let base_url = c.src.get("MEDIA_BASE_URL").map(str::to_string);
    if let Some(u) = &base_url {
        if !(u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/')) {
            c.errors
                .push("MEDIA_BASE_URL: expected an http(s):// URL or a path".to_string());
        }
    }
    let s3_keys = ["S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"];
    let given: Vec<&str> = s3_keys
        .iter()
        .copied()
        .filter(|k| c.src.get(k).is_some())
        .collect();
    let s3 = if given.is_empty() {
        None
    } else if given.len() < s3_keys.len() {
        let missing: Vec<&str> = s3_keys
            .iter()
            .copied()
            .filter(|k| !given.contains(k))
            .collect();
        c.errors.push(format!(
            "S3: {} must be set together (missing {})",
            s3_keys.join(", "),
            missing.join(", ")
        ));
        None
    } else {
        let endpoint = c.string("S3_ENDPOINT", "");
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            c.errors
                .push("S3_ENDPOINT: expected an http(s):// URL".to_string());
        }
        Some(S3Settings {
            endpoint,
            bucket: c.string("S3_BUCKET", ""),
            region: c.string("S3_REGION", "us-east-1"),
            access_key: SecretString::new(c.string("S3_ACCESS_KEY", "")),
            secret_key: SecretString::new(c.string("S3_SECRET_KEY", "")),
        })
    };
    let photo_max_bytes = c.parse("PHOTO_MAX_BYTES", 10 * 1024 * 1024, "a number of bytes");
    if !(1024..=100 * 1024 * 1024).contains(&photo_max_bytes) {
        c.errors
            .push("PHOTO_MAX_BYTES: between 1 KiB and 100 MiB".to_string());
    }
    MediaSettings {
        dir,
        base_url,
        s3,
        photo_max_bytes,
    }
}
