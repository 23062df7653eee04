//! Cryptography and secrets. All cryptography goes through `ring`.

pub mod keys;
pub mod password;
pub mod random;
pub mod secret;

pub use secret::SecretString;
