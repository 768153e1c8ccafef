//! The checked settings a client runs on, which `ClientBuilder::build` makes.

use std::path::PathBuf;
use std::time::Duration;

use crate::api::JobsPath;
use crate::auth::AuthSource;
use crate::endpoint::Endpoint;
use crate::redact::SizeOnly;
use crate::retry::RetryPolicy;
use crate::source::Source;

/// The checked settings a [`Client`](crate::Client) is made from, with where each came from
/// (`*_from`, for [`Client::check`](crate::Client::check); shown in words there).
pub(crate) struct Config {
    /// Tried in order when a host cannot be resolved or its TLS handshake fails; never empty.
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) endpoints_from: Source,
    pub(crate) credentials_from: Source,
    pub(crate) project_id_from: Option<Source>,
    /// `None` when there is no IAM endpoint (no region, and none configured).
    pub(crate) iam_endpoint_from: Option<Source>,
    pub(crate) region: Option<String>,
    pub(crate) auth: AuthSource,
    pub(crate) project_id: Option<String>,
    /// Where the project is looked up; `None` without a region.
    pub(crate) iam: Option<Endpoint>,
    pub(crate) timeout: Duration,
    pub(crate) max_body_size: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) jobs_path: JobsPath,
    pub(crate) clock_skew_correction: bool,
}

/// The CAs to trust instead of the default ones.
#[derive(Clone, Debug)]
pub(crate) enum RootCertificates {
    Pem(SizeOnly),
    File(PathBuf),
}
