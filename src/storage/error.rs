//! What can go wrong storing a file, whichever store holds it.

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage key")]
    InvalidKey,
    #[error("storage i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage: {0}")]
    S3(String),
}
