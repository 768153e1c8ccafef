//! Where the credentials come from: the credential chain of the official SDKs (explicit
//! settings, the environment, the profile file, then the ECS metadata service). Settings only:
//! the chain decides which step gives the credentials, and the client asks the metadata service
//! (`metadata`) when that is the step. The builder enters through [`resolve`], once.

mod chain;
mod profile;

pub(crate) use chain::{AuthSource, ChainSettings, Resolved, resolve};
