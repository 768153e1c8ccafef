//! The checked settings a client runs on, which `ClientBuilder::build` makes.

use std::path::PathBuf;
use std::time::Duration;

use crate::api::JobsPath;
use crate::auth::AuthSource;
use crate::endpoint::Endpoint;
use crate::redact::SizeOnly;
use crate::retry::RetryPolicy;
use crate::source::Source;

/// The checked settings a [`Client`](crate::Client) is made from.
pub(crate) struct Config {
    /// Tried in order when a host cannot be resolved or its TLS handshake fails; never empty.
    pub(crate) endpoints: Vec<Endpoint>,
    /// Where the settings came from, for [`Client::check`](crate::Client::check).
    pub(crate) provenance: Provenance,
    pub(crate) region: Option<String>,
    pub(crate) auth: AuthSource,
    pub(crate) project_id: Option<String>,
    /// Where the project is looked up; `None` without a region.
    pub(crate) iam: Option<Endpoint>,
    pub(crate) timeout: Duration,
    pub(crate) max_body_size: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) jobs_path: JobsPath,
    pub(crate) user_agent: String,
    pub(crate) clock_skew_correction: bool,
}

/// Where a client's settings came from; the words are made where a line shows them.
pub(crate) struct Provenance {
    pub(crate) endpoints: Source,
    pub(crate) credentials: Source,
    pub(crate) project_id: Option<Source>,
    /// `None` when there is no IAM endpoint (no region, and none configured).
    pub(crate) iam_endpoint: Option<Source>,
}

/// The CAs to trust instead of the default ones.
#[derive(Clone, Debug)]
pub(crate) enum RootCertificates {
    Pem(SizeOnly),
    File(PathBuf),
}
