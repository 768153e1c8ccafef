//! The integration tests: one binary, one module per concern.

mod before_traffic;
mod beyond;
mod canaries;
mod chain;
mod cli;
mod client;
mod conformance;
mod faults;
mod honest;
mod hooks;
mod lockout;
mod model;
mod promises;
mod redaction;
mod retries;
mod review;
mod sign_vectors;
mod support;
mod tls;
mod tls_server;
