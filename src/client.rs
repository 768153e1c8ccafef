//! The blocking client: builds, authenticates and sends the jobs request, and reads the answer.
//!
//! The only module that touches the network and the clock. One `ureq` agent per client (so
//! connections are kept alive between calls), no redirects followed, every wait bounded by the
//! connect timeout and the total deadline, and success bodies bounded in size.

use std::fmt;
use std::io::Read as _;
use std::time::{Duration, SystemTime};

use crate::credentials::{self, Auth};
use crate::endpoint::Endpoint;
use crate::error::TransportKind;
use crate::response::decode_jobs;
use crate::sign::{SignableRequest, percent_encode, sign};
use crate::{Error, Job};

/// Sent as `User-Agent` (and signed, as the official SDKs do with theirs).
pub(crate) const USER_AGENT: &str = concat!("dbss-jobs/", env!("CARGO_PKG_VERSION"));
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_BODY_SIZE: u64 = 10 * 1024 * 1024;
/// Error bodies are only quoted, so only their beginning is read.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A DBSS client for one endpoint and one identity. Cheap to share by reference; reuse it for many
/// calls so that the connection is kept alive.
///
/// ```no_run
/// use dbss_jobs::{Client, Credentials};
///
/// let client = Client::builder()
///     .region("cn-north-4")
///     .auth(Credentials::from_env()?)
///     .build()?;
/// for job in client.get_jobs("my-project-id", "my-instance-id")? {
///     println!("{:?} {:?}", job.job_id, job.status);
/// }
/// # Ok::<(), dbss_jobs::Error>(())
/// ```
pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    auth: Auth,
    max_body_size: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint.base)
            .field("auth", &self.auth)
            .field("max_body_size", &self.max_body_size)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; see [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    target: Option<Target>,
    auth: Option<Auth>,
    timeout: Duration,
    connect_timeout: Duration,
    max_body_size: u64,
}

#[derive(Debug, Clone)]
enum Target {
    Region(String),
    Endpoint(String),
}

impl ClientBuilder {
    /// Sends requests to the DBSS endpoint of this region, e.g. `cn-north-4`
    /// (`https://dbss.cn-north-4.myhuaweicloud.com`). See [`REGIONS`](crate::REGIONS).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.target = Some(Target::Region(region.into()));
        self
    }

    /// Sends requests to this endpoint instead: `https://host[:port]`, or `http://` to a loopback
    /// host (for local stand-ins). The authority is sent and signed as `Host` exactly as written.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.target = Some(Target::Endpoint(url.into()));
        self
    }

    /// How to authenticate: [`Credentials`](crate::Credentials) (AK/SK, optionally with a security
    /// token) or an [`IamToken`](crate::IamToken).
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// The total deadline of one call, from DNS lookup to the last byte of the body. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The deadline for establishing the connection (within the total one). Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest success body read, in bytes; a larger one is an error, not a truncation.
    /// Default 10 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Checks the configuration and builds the client. No network traffic happens here.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when no region or endpoint or no
    /// auth was given, the region is unknown, the endpoint is not an `https://` URL (or `http://` to
    /// loopback), a timeout is zero, or the body limit is zero.
    pub fn build(self) -> Result<Client, Error> {
        let endpoint = match &self.target {
            Some(Target::Region(region)) => Endpoint::for_region(region)?,
            Some(Target::Endpoint(url)) => Endpoint::parse(url)?,
            None => return Err(Error::invalid_input("no region or endpoint given")),
        };
        let auth = self
            .auth
            .ok_or_else(|| Error::invalid_input("no credentials or IAM token given"))?;
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::invalid_input("timeouts must be greater than zero"));
        }
        if self.max_body_size == 0 {
            return Err(Error::invalid_input(
                "max body size must be greater than zero",
            ));
        }
        let mut config = ureq::Agent::config_builder();
        if endpoint.is_loopback {
            config = config.proxy(None);
        }
        let config = config
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .user_agent(ureq::config::AutoHeaderValue::None)
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            endpoint,
            auth,
            max_body_size: self.max_body_size,
        })
    }
}

impl Client {
    /// A builder with the defaults: 30 s total deadline, 10 s connect timeout, 10 MiB body limit,
    /// proxies from the `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` environment variables.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            target: None,
            auth: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }

    /// Lists the creation jobs of the audit instance `resource_id` in project `project_id`:
    /// `GET /v1/{project_id}/dbss/audit/jobs/{resource_id}`.
    ///
    /// Each id is sent as one percent-encoded path segment (everything except `A-Za-z0-9-_.~`,
    /// including `/`, becomes `%XX`), exactly as the official SDKs encode path parameters.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before any traffic, when an id
    ///   is empty, `.` or `..`, or contains a control character.
    /// - [`ErrorKind::Transport`](crate::ErrorKind::Transport) when no answer arrived in time.
    /// - [`ErrorKind::Api`](crate::ErrorKind::Api) for a non-success status.
    /// - [`ErrorKind::Decode`](crate::ErrorKind::Decode) for a success body that is not the
    ///   documented JSON, or is larger than the body limit.
    pub fn get_jobs(&self, project_id: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
        check_id("project id", project_id)?;
        check_id("resource id", resource_id)?;
        let mut path = String::with_capacity(40 + project_id.len() * 3 + resource_id.len() * 3);
        path.push_str("/v1/");
        percent_encode(&mut path, project_id.as_bytes());
        path.push_str("/dbss/audit/jobs/");
        percent_encode(&mut path, resource_id.as_bytes());
        self.get(&path, project_id)
    }

    fn get(&self, path: &str, project_id: &str) -> Result<Vec<Job>, Error> {
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", USER_AGENT),
            ("X-Project-Id", project_id),
        ];
        let (query, sent_headers, signature) = match &self.auth {
            Auth::AkSk(credentials) => {
                let request = SignableRequest {
                    method: "GET",
                    host: &self.endpoint.authority,
                    path,
                    query: &[],
                    headers: &headers,
                    body: b"",
                };
                let signed = sign(&request, credentials, SystemTime::now())?;
                let signature = signed
                    .authorization()
                    .rsplit("Signature=")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                (
                    signed.query().to_string(),
                    signed.headers().to_vec(),
                    signature,
                )
            }
            Auth::Token(token) => {
                let mut sent: Vec<(String, String)> = headers
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.trim().to_string()))
                    .collect();
                sent.push(("Host".to_string(), self.endpoint.authority.clone()));
                sent.push(("X-Auth-Token".to_string(), token.as_str().to_string()));
                (String::new(), sent, String::new())
            }
        };
        let mut url =
            String::with_capacity(self.endpoint.base.len() + path.len() + 1 + query.len());
        url.push_str(&self.endpoint.base);
        url.push_str(path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let mut request = self.agent.get(&url);
        for (name, value) in &sent_headers {
            request = request.header(name.as_str(), value.as_bytes());
        }
        let secrets = [signature.as_str(), self.auth.secret_text()];
        let secrets = &secrets[..];
        let mut response = request
            .call()
            .map_err(|error| transport_error(error).redact(secrets))?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("X-Request-Id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = if (200..=299).contains(&status) {
            match response
                .body_mut()
                .with_config()
                .limit(self.max_body_size)
                .read_to_vec()
            {
                Ok(body) => body,
                Err(ureq::Error::BodyExceedsLimit(_)) => {
                    return Err(Error::too_large(status, request_id, self.max_body_size));
                }
                Err(error) => return Err(transport_error(error).redact(secrets)),
            }
        } else {
            let mut body = Vec::new();
            // An unreadable error body still leaves the status and request id to report.
            let _ = response
                .body_mut()
                .as_reader()
                .take(ERROR_BODY_LIMIT)
                .read_to_end(&mut body);
            body
        };
        decode_jobs(status, request_id, &body).map_err(|error| error.redact(secrets))
    }
}

/// Rejects ids that cannot name a resource; odd but legal ones (spaces, unicode, `/`, `%`) pass.
fn check_id(what: &str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid_input(format!("{what} is empty")));
    }
    if id == "." || id == ".." {
        return Err(Error::invalid_input(format!("{what} must not be {id:?}")));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "{what} {id:?} contains a control character"
        )));
    }
    Ok(())
}

fn transport_error(error: ureq::Error) -> Error {
    let kind = match &error {
        ureq::Error::Timeout(_) => TransportKind::Timeout,
        ureq::Error::HostNotFound => TransportKind::Dns,
        ureq::Error::ConnectionFailed => TransportKind::Connect,
        ureq::Error::Tls(_) => TransportKind::Tls,
        ureq::Error::Rustls(_) => TransportKind::Tls,
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => TransportKind::Connect,
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => TransportKind::Timeout,
            _ => TransportKind::Other,
        },
        _ => TransportKind::Other,
    };
    Error::transport(kind, error.to_string())
}

/// The one-liner for build scripts: credentials from `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`
/// (and `HUAWEICLOUD_SDK_SECURITY_TOKEN` if set), project id from `HUAWEICLOUD_SDK_PROJECT_ID`, the
/// DBSS endpoint of `region`, default timeouts.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), dbss_jobs::Error> {
///     let jobs = dbss_jobs::get_jobs("cn-north-4", "my-instance-id")?;
///     println!("cargo:warning={} DBSS jobs", jobs.len());
///     Ok(())
/// }
/// ```
///
/// # Errors
/// As [`Client::get_jobs`], and [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming
/// the environment variable that is missing.
pub fn get_jobs(region: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
    let credentials = crate::Credentials::from_env()?;
    let project_id = credentials::env_var(credentials::ENV_PROJECT_ID)?;
    Client::builder()
        .region(region)
        .auth(credentials)
        .build()?
        .get_jobs(&project_id, resource_id)
}
