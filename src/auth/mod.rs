//! Who is asking. Only `auth/` reads credential sources (explicit settings, the environment, the
//! profile file, the ECS metadata service) and holds the SK, as a keyed HMAC in
//! [`Credentials`]. The rest of the crate enters through [`resolve`], which the builder calls once,
//! and [`AuthSource::current`], which every request calls.

mod chain;
mod credentials;
mod metadata;
mod profile;

pub(crate) use chain::{AuthSource, ChainSettings, Resolved, resolve};
pub(crate) use credentials::validate_header_value;
pub use credentials::{Auth, Credentials, IamToken};
