//! The integration tests: one binary, one module per concern.

mod before_traffic;
mod build_script;
mod canaries;
mod chain;
mod cli;
mod client;
mod conformance;
mod endpoints;
mod errors;
mod fake;
mod faults;
mod gateway;
mod hooks;
mod iam;
mod lockout;
mod metadata;
mod model;
mod properties;
mod proxy;
mod redaction;
mod retries;
mod sign_vectors;
mod skew;
mod support;
mod tls;
mod wait;
