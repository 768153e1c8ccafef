//! The integration tests: one binary, one module per concern.

mod client;
mod conformance;
mod redaction;
mod sign_vectors;
mod support;
