#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::all)]

mod client;
mod credentials;
mod endpoint;
mod error;
mod model;
mod response;
pub mod sign;

pub use client::{Client, ClientBuilder, get_jobs};
pub use credentials::{Auth, Credentials, IamToken};
pub use endpoint::REGIONS;
pub use error::{Error, ErrorKind};
pub use model::{ChargeMode, Job, JobStatus};
