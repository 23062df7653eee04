//! Media in S3-compatible object storage (AWS S3, MinIO, moto), path-style
//! addressing, through `rust-s3` on rustls.

use s3::creds::Credentials;
use s3::{Bucket, Region};

use super::StorageError;
use crate::config::S3Settings;

#[derive(Clone)]
pub struct S3Store {
    bucket: Box<Bucket>,
}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError::S3(e.to_string())
}

impl S3Store {
    pub fn new(s: &S3Settings) -> Result<Self, StorageError> {
        let region = Region::Custom {
            region: s.region.clone(),
            endpoint: s.endpoint.clone(),
        };
        let credentials = Credentials::new(
            Some(s.access_key.expose()),
            Some(s.secret_key.expose()),
            None,
            None,
            None,
        )
        .map_err(err)?;
        let bucket = Bucket::new(&s.bucket, region, credentials)
            .map_err(err)?
            .with_path_style();
        Ok(Self { bucket })
    }

    pub async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.bucket
            .put_object_with_content_type(key, &bytes, content_type)
            .await
            .map_err(err)?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self.bucket.get_object(key).await {
            Ok(res) => Ok(Some(res.to_vec())),
            Err(s3::error::S3Error::HttpFailWithBody(404, _)) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.bucket.delete_object(key).await {
            Ok(_) | Err(s3::error::S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }
}
