//! Identity: who is making a request. The accounts and sessions tables, the
//! logged-in [`Principal`], and the middleware that loads it. The web spine
//! and every feature use it; it uses only plumbing. The principal carries
//! the 2FA state; roles are loaded by the admin guard, the membership plan
//! by the flows that need it.

pub mod cache;
pub mod directory;
pub mod events;
pub mod identities;
pub mod input;
pub mod middleware;
pub mod plans;
pub mod policy;
mod principal;
pub mod rbac;
pub mod sessions;
pub mod two_factor;
pub mod users;

pub use principal::Principal;
pub use sessions::{SessionId, UserSession};
pub use users::{Sex, User, UserId};
