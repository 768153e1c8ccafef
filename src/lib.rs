#![doc = include_str!("../README.md")]
// The guide for users of Huawei's Python SDK: its code blocks are compiled as doc tests.
#![cfg_attr(doctest, doc = include_str!("../docs/from-python.md"))]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![warn(clippy::all)]
// Library code reports failures as `Error`s; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

// The layers, each importing only from those above it in this list (CONTRIBUTING.md).
// Primitives: the facts and the vocabulary every layer speaks.
mod credentials;
mod env;
pub mod error;
mod model;
mod redact;
mod retry;
pub mod sign;
mod source;
mod sync;
mod timestamps;
mod unescape;
// Settings: what a client runs on, checked where it enters.
mod api;
mod auth;
mod config;
mod endpoint;
// The wire: one exchange, and the answer read once.
mod gateway;
mod hooks;
mod transport;
// The client: one call, its retries, its identity.
mod builder;
mod client;
mod iam;
mod jobs;
mod metadata;
mod refusal;
mod skew;
// Tools that use the client.
pub mod build_script;
mod check;
#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;
mod wait;

pub use api::JobsPath;
pub use builder::{ClientBuilder, SettingNames};
pub use check::{CheckLine, Topic};
pub use client::Client;
pub use credentials::{Auth, Credentials, IamToken};
pub use endpoint::REGIONS;
pub use error::{Error, ErrorKind};
pub use hooks::{RequestInfo, ResponseInfo};
pub use jobs::{get_jobs, parse_jobs};
pub use model::{ChargeMode, Job, JobStatus};
pub use redact::escape_for_terminal;
pub use retry::RetryPolicy;
/// The `time` crate, whose `OffsetDateTime` is the type of [`Job`]'s timestamps.
pub use time;
pub use wait::{Progress, WaitOptions, all_finished};
