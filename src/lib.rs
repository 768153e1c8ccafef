#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![warn(clippy::all)]
// Library code reports failures as `Error`s; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod api;
mod auth;
pub mod build_script;
mod builder;
mod check;
mod client;
mod env;
pub mod error;
#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;
mod gateway;
mod hooks;
mod iam;
mod model;
mod redact;
mod refusal;
mod retry;
pub mod sign;
mod skew;
mod source;
mod sync;
mod timestamps;
mod transport;
mod wait;

pub use api::JobsPath;
pub use auth::{Auth, Credentials, IamToken};
pub use builder::ClientBuilder;
pub use check::{CheckLine, Topic};
pub use client::{Client, get_jobs};
pub use error::{Error, ErrorKind};
pub use hooks::{RequestInfo, ResponseInfo};
pub use model::{ChargeMode, Job, JobStatus, parse_jobs};
pub use retry::RetryPolicy;
/// The `time` crate, whose `OffsetDateTime` is the type of [`Job`]'s timestamps.
pub use time;
pub use transport::REGIONS;
pub use wait::{Progress, WaitOptions, all_finished};
