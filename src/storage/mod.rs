//! Where uploaded media lives: local disk under `MEDIA_DIR` (the default;
//! nginx serves it in production) or S3-compatible object storage (`S3_*`),
//! behind one [`MediaStore`]. Keys are relative paths such as
//! `photos/<random>-640.jpg`; only keys under `photos/` are ever public.

mod error;
mod local;
mod s3;

use crate::config::MediaSettings;

pub use error::StorageError;
pub use local::LocalStore;
pub use s3::S3Store;

/// The prefix of keys that pages link to; anything else is private.
pub const PUBLIC_PREFIX: &str = "photos/";

#[derive(Clone)]
pub enum MediaStore {
    Local(LocalStore),
    S3(S3Store),
}

impl MediaStore {
    pub fn from_settings(media: &MediaSettings) -> Result<Self, StorageError> {
        match &media.s3 {
            Some(s3) => Ok(Self::S3(S3Store::new(s3)?)),
            None => Ok(Self::Local(LocalStore::new(media.dir.clone()))),
        }
    }

    pub async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        check_key(key)?;
        match self {
            Self::Local(s) => s.put(key, bytes).await,
            Self::S3(s) => s.put(key, bytes, content_type).await,
        }
    }

    /// The object's bytes, or `None` when there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        match self {
            Self::Local(s) => s.get(key).await,
            Self::S3(s) => s.get(key).await,
        }
    }

    /// Deletes an object; deleting one that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        match self {
            Self::Local(s) => s.delete(key).await,
            Self::S3(s) => s.delete(key).await,
        }
    }
}

/// Keys are made by the application: lower-case letters, digits, `-`, `_`,
/// `.` and `/` between segments, never `..` or a leading `/`.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_./".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidKey)
    }
}

/// The URL pages use for a public key: under `MEDIA_BASE_URL` when set (a
/// CDN or the bucket), else under `/media/` (nginx, or the app in development).
pub fn public_url(media: &MediaSettings, key: &str) -> String {
    match &media.base_url {
        Some(base) => format!("{}/{key}", base.trim_end_matches('/')),
        None => format!("/media/{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_to_media_base_url_when_set_else_to_media() {
        let mut media = MediaSettings {
            dir: "var/media".into(),
            base_url: None,
            s3: None,
            photo_max_bytes: 1024,
        };
        assert_eq!(
            public_url(&media, "photos/ab-160.jpg"),
            "/media/photos/ab-160.jpg"
        );
        media.base_url = Some("https://cdn.example/swiper/".into());
        assert_eq!(
            public_url(&media, "photos/ab-160.jpg"),
            "https://cdn.example/swiper/photos/ab-160.jpg"
        );
    }

    #[test]
    fn keys_cannot_escape_the_media_folder() {
        assert!(check_key("photos/abc-640.jpg").is_ok());
        assert!(check_key("incoming/abc").is_ok());
        for bad in [
            "../etc/passwd",
            "/abs",
            "photos/../x",
            "photos//x",
            "Photos/X",
            "a b",
            "",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
