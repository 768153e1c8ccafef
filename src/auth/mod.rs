//! Where the credentials come from: the official SDKs' credential chain, entered once through
//! [`resolve`]; the client asks the metadata service (`metadata`) when that is the step.

mod chain;
mod profile;

pub(crate) use chain::{AuthSource, ChainSettings, Resolved, resolve};
