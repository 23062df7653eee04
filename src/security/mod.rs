//! Cryptography and request-trust helpers. All cryptography goes through `ring`.

pub mod client_ip;
pub mod password;
pub mod random;
