//! Cryptography and secrets. All cryptography goes through `ring`.

pub mod keys;
pub mod otp;
pub mod password;
pub mod random;
pub mod seal;
pub mod secret;

pub use secret::SecretString;
