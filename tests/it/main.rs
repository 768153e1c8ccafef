//! The integration tests: one binary, one module per concern.

mod client;
mod conformance;
mod model;
mod redaction;
mod sign_vectors;
mod support;
