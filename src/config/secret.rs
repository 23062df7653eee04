//! The secret key: from `SECRET_KEY` or `SECRET_KEY_FILE`, or generated into
//! `var/` in development. It never prints.

use std::fmt;
use std::path::Path;

use super::source::Source;
use crate::security::random;

const MIN_SECRET_KEY_LEN: usize = 64;

/// Bytes that must never reach a log or a page.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

pub(super) fn load_secret_key(
    src: &Source,
    production: bool,
    var_dir: &Path,
    errors: &mut Vec<String>,
) -> Secret {
    let from_file = |path: &str, errors: &mut Vec<String>| match std::fs::read(path) {
        Ok(bytes) => Some(trim_ascii(bytes)),
        Err(e) => {
            errors.push(format!("SECRET_KEY_FILE: cannot read {path}: {e}"));
            None
        }
    };
    let key = if let Some(k) = src.get("SECRET_KEY") {
        Some(k.as_bytes().to_vec())
    } else if let Some(path) = src.get("SECRET_KEY_FILE") {
        from_file(path, errors)
    } else if production {
        errors.push("SECRET_KEY or SECRET_KEY_FILE: required when APP_ENV=production".to_string());
        None
    } else {
        match generated_dev_key(var_dir) {
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(format!(
                    "SECRET_KEY: none configured and cannot write one under {}: {e}",
                    var_dir.display()
                ));
                None
            }
        }
    };
    match key {
        Some(k) if k.len() >= MIN_SECRET_KEY_LEN => Secret(k),
        Some(_) => {
            errors.push(format!(
                "SECRET_KEY: must be at least {MIN_SECRET_KEY_LEN} bytes"
            ));
            Secret(Vec::new())
        }
        None => Secret(Vec::new()),
    }
}

fn trim_ascii(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    bytes
}

/// Development only: a random key kept in `var/secret_key` so sessions survive restarts.
fn generated_dev_key(var_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = var_dir.join("secret_key");
    if let Ok(existing) = std::fs::read(&path) {
        return Ok(trim_ascii(existing));
    }
    std::fs::create_dir_all(var_dir)?;
    let key = random::token(48).into_bytes();
    write_private(&path, &key)?;
    Ok(key)
}

/// Writes a new file readable by its owner only (refuses to overwrite).
#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
