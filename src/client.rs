//! The blocking client: builds, authenticates and sends requests, retries transient failures, and
//! reads the answers.
//!
//! The only module that touches the network and the clock (with `metadata`, which fetches temporary
//! credentials). One `ureq` agent per client (connections are kept alive between calls), no
//! redirects followed, every wait bounded by the connect timeout and the total deadline, and
//! success bodies bounded in size.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::chain::{AuthSource, ChainSettings, resolve};
use crate::credentials::{Auth, check_header_safe};
use crate::endpoint::Endpoint;
use crate::environment::Environment;
use crate::error::TransportKind;
use crate::proxy::{ProxyRoute, ProxySetting};
use crate::response::{api_failure, decode_jobs};
use crate::retry::{RetryPolicy, is_retryable_status, parse_retry_after, random_unit};
use crate::sign::{SignableRequest, canonical_query, percent_encode, sign};
use crate::transport::{classify, read_error_body};
use crate::{Error, Job, iam};

/// Sent as `User-Agent` (and signed, as the official SDKs do with theirs).
pub(crate) const USER_AGENT: &str = concat!("dbss-jobs/", env!("CARGO_PKG_VERSION"));
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_BODY_SIZE: u64 = 10 * 1024 * 1024;
/// Longer timeouts are refused: a build script should never wait that long, and deadlines must
/// stay far from `Instant`'s limits.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Which URI the jobs are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum JobsPath {
    /// `GET /v1/{project_id}/dbss/audit/jobs/{resource_id}`, the documented API (marked by Huawei
    /// as to be retired).
    Documented,
    /// `GET /v1/{project_id}/audit/{resource_id}/jobs`, its replacement.
    Newer,
    /// The documented path; if the gateway answers 404 `APIGW.0101` (no such API), the newer one,
    /// remembered for the rest of the client's life. The default.
    #[default]
    Auto,
}

/// A DBSS client for one endpoint and one identity. Share it by reference and reuse it for many
/// calls: the connection is kept alive.
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
    region: Option<String>,
    auth: AuthSource,
    project_id: Option<String>,
    iam_endpoint: Option<String>,
    timeout: Duration,
    max_body_size: u64,
    retry: RetryPolicy,
    jobs_path: JobsPath,
    /// Set once the gateway said the documented path does not exist (with [`JobsPath::Auto`]).
    newer_path_learned: AtomicBool,
    user_agent: String,
    proxy: ProxyRoute,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: &dyn fmt::Debug = match &self.auth {
            AuthSource::Fixed(auth) => auth,
            AuthSource::Metadata(_) => &"EcsMetadata",
        };
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint.base)
            .field("auth", auth)
            .field("max_body_size", &self.max_body_size)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; see [`Client::builder`].
///
/// `Debug` shows no secret: credentials print redacted, a proxy URL without its password, the
/// environment by variable names only, a PEM by its length.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    region: Option<String>,
    endpoint: Option<String>,
    auth: Option<Auth>,
    project_id: Option<String>,
    iam_endpoint: Option<String>,
    profile_file: Option<PathBuf>,
    ecs_metadata: bool,
    metadata_endpoint: Option<String>,
    environment: Environment,
    timeout: Duration,
    connect_timeout: Duration,
    max_body_size: u64,
    retry: RetryPolicy,
    jobs_path: JobsPath,
    proxy: ProxySetting,
    root_certificates_pem: Option<Vec<u8>>,
    user_agent_suffix: Option<String>,
}

impl ClientBuilder {
    /// The region, e.g. `cn-north-4`: requests go to `https://dbss.cn-north-4.myhuaweicloud.com`
    /// unless `HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4` (region upper-cased, `-` → `_`) names
    /// another endpoint (the first of a comma-separated list), or [`endpoint`](Self::endpoint) is
    /// set. The region also names the project looked up in IAM when no project id is given.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sends requests to this endpoint: `https://host[:port]`, or `http://` to a loopback host (for
    /// local stand-ins). The authority is sent and signed as `Host` exactly as written. Wins over
    /// the region's endpoint.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Explicit credentials ([`Credentials`](crate::Credentials)) or an
    /// [`IamToken`](crate::IamToken); the first step of the credential chain. Without it, the
    /// client looks in the environment, the profile file, then the ECS metadata service.
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// The project id used by [`Client::project_id`]; without it, `HUAWEICLOUD_SDK_PROJECT_ID`,
    /// the profile's `project_id`, then an IAM lookup by region.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// The IAM endpoint for the project lookup; without it, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, the
    /// profile's `iam_endpoint`, `https://iam.{region}.myhuaweicloud.com` for a known region, else
    /// `https://iam.myhuaweicloud.com`.
    pub fn iam_endpoint(mut self, url: impl Into<String>) -> Self {
        self.iam_endpoint = Some(url.into());
        self
    }

    /// The profile file to read instead of `HUAWEICLOUD_SDK_CREDENTIALS_FILE` or
    /// `~/.huaweicloud/credentials`. A file named here or by the variable must exist.
    pub fn profile_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.profile_file = Some(path.into());
        self
    }

    /// Whether the ECS metadata service may be asked for temporary credentials. It is asked only
    /// when no other step of the chain found credentials, on the first request (1 s connect
    /// timeout, 3 s in all), and again shortly before they expire. Default: allowed.
    pub fn ecs_metadata(mut self, allowed: bool) -> Self {
        self.ecs_metadata = allowed;
        self
    }

    /// The metadata service's base URL instead of `http://169.254.169.254` (for tests on loopback).
    pub fn metadata_endpoint(mut self, url: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(url.into());
        self
    }

    /// Reads configuration variables from this set instead of the process environment (`HOME` for
    /// the default profile path included). Lets tests and tools isolate themselves.
    pub fn environment<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.environment = Environment::Fixed(Arc::new(vars));
        self
    }

    /// The total deadline of one call, retries and their waits included, from DNS lookup to the
    /// last byte of the body. Default 30 s; at most one day.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The deadline for establishing each connection (within the total one). Default 10 s; at most
    /// one day.
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

    /// How transient failures are retried; [`RetryPolicy::none`] turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Which URI to read the jobs from. Default [`JobsPath::Auto`].
    pub fn jobs_path(mut self, path: JobsPath) -> Self {
        self.jobs_path = path;
        self
    }

    /// Sends every request through this proxy (`http://host:port`, `socks5://host:port`, with
    /// optional `user:password@`), instead of the one named by the environment.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Ignores proxy environment variables and connects directly.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Direct;
        self
    }

    /// Trusts exactly the CA certificates in this PEM text (for private clouds), instead of the
    /// bundled Mozilla roots.
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem = Some(pem.into());
        self
    }

    /// Appended to the `User-Agent` (`dbss-jobs/<version> <suffix>`), e.g. `my-tool/1.2`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Checks the configuration, reads the environment and profile file, and builds the client. No
    /// network traffic happens here.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when no region or endpoint was
    /// given, the region is unknown and has no endpoint override, an endpoint is not an `https://`
    /// URL (or `http://` to loopback), no step of the credential chain can give credentials, the
    /// profile file is malformed, a timeout or the body limit is zero, the proxy URL or the PEM is
    /// invalid.
    pub fn build(self) -> Result<Client, Error> {
        let env = &self.environment;
        let endpoint = match (&self.endpoint, &self.region) {
            (Some(url), _) => Endpoint::parse(url)?,
            (None, Some(region)) => Endpoint::for_region(region, env)?,
            (None, None) => return Err(Error::invalid_input("no region or endpoint given")),
        };
        for timeout in [self.timeout, self.connect_timeout] {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(Error::invalid_input(
                    "timeouts must be greater than zero and at most one day",
                ));
            }
        }
        if self.max_body_size == 0 {
            return Err(Error::invalid_input(
                "max body size must be greater than zero",
            ));
        }
        let user_agent = match &self.user_agent_suffix {
            Some(suffix) => {
                check_header_safe("user agent suffix", suffix)?;
                format!("{USER_AGENT} {}", suffix.trim())
            }
            None => USER_AGENT.to_string(),
        };
        if let Some(url) = &self.metadata_endpoint {
            Endpoint::parse_metadata(url)?;
        }
        let resolved = resolve(ChainSettings {
            explicit: self.auth,
            explicit_project_id: self.project_id,
            explicit_iam_endpoint: self.iam_endpoint,
            profile_file: self.profile_file.as_ref(),
            metadata: self.ecs_metadata,
            metadata_url: self
                .metadata_endpoint
                .map(|url| url.trim_end_matches('/').to_string()),
            environment: env,
        })?;
        if let Some(url) = &resolved.iam_endpoint {
            Endpoint::parse(url)?;
        }

        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .user_agent(ureq::config::AutoHeaderValue::None)
            .tls_config(tls_config(self.root_certificates_pem.as_deref())?);
        // ureq never reads proxy variables itself: each request is told its proxy.
        config = config.proxy(None);
        let proxy = ProxyRoute::new(&self.proxy, env)?;
        Ok(Client {
            agent: ureq::Agent::new_with_config(config.build()),
            endpoint,
            region: self.region,
            auth: resolved.auth,
            project_id: resolved.project_id,
            iam_endpoint: resolved.iam_endpoint,
            timeout: self.timeout,
            max_body_size: self.max_body_size,
            retry: self.retry,
            jobs_path: self.jobs_path,
            newer_path_learned: AtomicBool::new(false),
            user_agent,
            proxy,
        })
    }
}

/// rustls (or, with the `native-tls` feature, the platform's TLS) with the bundled Mozilla roots,
/// or exactly the given CAs.
fn tls_config(pem: Option<&[u8]>) -> Result<ureq::tls::TlsConfig, Error> {
    let mut tls = ureq::tls::TlsConfig::builder();
    #[cfg(feature = "native-tls")]
    {
        tls = tls.provider(ureq::tls::TlsProvider::NativeTls);
    }
    if let Some(pem) = pem {
        let mut certificates = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => certificates.push(certificate),
                Ok(_) => {}
                Err(_) => return Err(Error::invalid_input("root certificates PEM is malformed")),
            }
        }
        if certificates.is_empty() {
            return Err(Error::invalid_input(
                "root certificates PEM holds no certificate",
            ));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certificates)));
    }
    Ok(tls.build())
}

/// One HTTP answer, read, with what its error texts must be scrubbed of.
struct Answer {
    status: u16,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    secrets: Secrets,
}

/// One request to send: where, and which headers besides the common ones.
struct Target<'a> {
    endpoint: &'a Endpoint,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    project_id: Option<&'a str>,
}

impl Client {
    /// A builder with the defaults: 30 s total deadline, 10 s connect timeout, 10 MiB body limit,
    /// 3 attempts for transient failures, proxies from the environment, the credential chain.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            region: None,
            endpoint: None,
            auth: None,
            project_id: None,
            iam_endpoint: None,
            profile_file: None,
            ecs_metadata: true,
            metadata_endpoint: None,
            environment: Environment::Process,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            retry: RetryPolicy::default(),
            jobs_path: JobsPath::Auto,
            proxy: ProxySetting::FromEnvironment,
            root_certificates_pem: None,
            user_agent_suffix: None,
        }
    }

    /// Lists the creation jobs of the audit instance `resource_id` in project `project_id`:
    /// `GET /v1/{project_id}/dbss/audit/jobs/{resource_id}` (see [`JobsPath`]).
    ///
    /// Each id is sent as one percent-encoded path segment (everything except `A-Za-z0-9-_.~`,
    /// including `/`, becomes `%XX`), exactly as the official SDKs encode path parameters.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before any traffic, when an id
    ///   is empty, `.` or `..`, or contains a control character; or when the ECS metadata service
    ///   was the last hope for credentials and gave none.
    /// - [`ErrorKind::Transport`](crate::ErrorKind::Transport) when no answer arrived in time.
    /// - [`ErrorKind::Api`](crate::ErrorKind::Api) for a non-success status.
    /// - [`ErrorKind::Decode`](crate::ErrorKind::Decode) for a success body that is not the
    ///   documented JSON, or is larger than the body limit.
    pub fn get_jobs(&self, project_id: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
        self.get_jobs_before(project_id, resource_id, Instant::now() + self.timeout)
    }

    /// [`Client::get_jobs`] with an explicit deadline.
    pub(crate) fn get_jobs_before(
        &self,
        project_id: &str,
        resource_id: &str,
        deadline: Instant,
    ) -> Result<Vec<Job>, Error> {
        check_id("project id", project_id)?;
        check_id("resource id", resource_id)?;
        let newer = match self.jobs_path {
            JobsPath::Documented => false,
            JobsPath::Newer => true,
            JobsPath::Auto => self.newer_path_learned.load(Ordering::Relaxed),
        };
        let result = self.get_jobs_at(project_id, resource_id, newer, deadline);
        match result {
            Err(error)
                if self.jobs_path == JobsPath::Auto
                    && !newer
                    && error.status() == Some(404)
                    && error.error_code() == Some("APIGW.0101") =>
            {
                self.newer_path_learned.store(true, Ordering::Relaxed);
                self.get_jobs_at(project_id, resource_id, true, deadline)
            }
            other => other,
        }
    }

    fn get_jobs_at(
        &self,
        project_id: &str,
        resource_id: &str,
        newer: bool,
        deadline: Instant,
    ) -> Result<Vec<Job>, Error> {
        let mut path = String::with_capacity(32 + 3 * (project_id.len() + resource_id.len()));
        path.push_str("/v1/");
        percent_encode(&mut path, project_id);
        if newer {
            path.push_str("/audit/");
            percent_encode(&mut path, resource_id);
            path.push_str("/jobs");
        } else {
            path.push_str("/dbss/audit/jobs/");
            percent_encode(&mut path, resource_id);
        }
        let target = Target {
            endpoint: &self.endpoint,
            path: &path,
            query: &[],
            project_id: Some(project_id),
        };
        let (answer, attempts) = self.send(&target, deadline)?;
        let secrets = answer.secrets;
        decode_jobs(answer.status, answer.request_id, &answer.body)
            .map_err(|error| secrets.scrub(error).with_attempts(attempts))
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The project id this client works in: given to the builder, else
    /// `HUAWEICLOUD_SDK_PROJECT_ID`, else the profile's, else looked up in IAM by region (signed
    /// `GET /v3/projects?name={region}`; cached per identity and region for the life of the
    /// process).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when there is no region to look
    /// up or IAM knows no project, or several, by that name; otherwise as [`Client::get_jobs`].
    pub fn project_id(&self) -> Result<String, Error> {
        if let Some(project_id) = &self.project_id {
            return Ok(project_id.clone());
        }
        let region = self.region.as_deref().ok_or_else(|| {
            Error::invalid_input("no project id given, and no region to look it up in IAM")
        })?;
        let deadline = Instant::now() + self.timeout;
        let auth = self.auth.current(deadline)?;
        let iam_endpoint = Endpoint::parse(&iam::iam_base(self.iam_endpoint.as_deref(), region))?;
        let key = iam::CacheKey::new(&auth, &iam_endpoint, region);
        if let Some(project_id) = iam::cached(&key) {
            return Ok(project_id);
        }
        let target = Target {
            endpoint: &iam_endpoint,
            path: "/v3/projects",
            query: &[("name", region)],
            project_id: None,
        };
        let (answer, attempts) = self.send(&target, deadline)?;
        let project_id = if (200..=299).contains(&answer.status) {
            iam::project_from_body(region, &answer.body)
        } else {
            Err(api_failure(answer.status, answer.request_id, &answer.body))
        }
        .map_err(|error| answer.secrets.scrub(error).with_attempts(attempts))?;
        iam::remember(key, &project_id);
        Ok(project_id)
    }

    /// Sends `target` until it succeeds, fails for good, runs out of attempts or passes the
    /// deadline. Each attempt is signed afresh. Returns the answer (any status) and the number of
    /// attempts; errors come back with secrets scrubbed.
    fn send(&self, target: &Target<'_>, deadline: Instant) -> Result<(Answer, u32), Error> {
        let mut attempt = 1;
        loop {
            let auth = self.auth.current(deadline)?;
            let result = self.send_once(target, &auth, deadline);
            let (retryable, retry_after) = match &result {
                Ok(answer) => (is_retryable_status(answer.status), answer.retry_after),
                Err(error) => (error.is_retryable_transport(), None),
            };
            // Wait and try again only for a transient failure, within the attempts and the deadline.
            let delay = (retryable && attempt < self.retry.attempts())
                .then(|| self.retry.delay(attempt, retry_after, random_unit()))
                .filter(|delay| *delay < deadline.saturating_duration_since(Instant::now()));
            let Some(delay) = delay else {
                return result
                    .map(|answer| (answer, attempt))
                    .map_err(|error| error.with_attempts(attempt));
            };
            std::thread::sleep(delay);
            attempt += 1;
        }
    }

    fn send_once(
        &self,
        target: &Target<'_>,
        auth: &Arc<Auth>,
        deadline: Instant,
    ) -> Result<Answer, Error> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::transport(
                TransportKind::Timeout,
                "the total deadline passed",
                true,
            ));
        }
        let common = [
            ("Content-Type", "application/json"),
            ("User-Agent", self.user_agent.as_str()),
            ("X-Project-Id", target.project_id.unwrap_or_default()),
        ];
        let headers = if target.project_id.is_some() {
            &common[..]
        } else {
            &common[..2]
        };
        let signed;
        let token_query;
        let mut sent: Vec<(&str, &str)> = Vec::with_capacity(8);
        let mut secrets = Secrets::new(auth, self.proxy.password());
        let query = match &**auth {
            Auth::AkSk(credentials) => {
                let request = SignableRequest {
                    method: "GET",
                    host: &target.endpoint.authority,
                    path: target.path,
                    query: target.query,
                    headers,
                    body: b"",
                };
                signed = sign(&request, credentials, SystemTime::now())?;
                secrets.add(signed.signature());
                sent.extend(signed.headers());
                signed.query()
            }
            Auth::Token(token) => {
                sent.extend(headers.iter().map(|(name, value)| (*name, value.trim())));
                sent.push(("Host", &target.endpoint.authority));
                sent.push(("X-Auth-Token", token.as_str()));
                token_query = canonical_query(target.query);
                token_query.as_str()
            }
        };
        let mut url =
            String::with_capacity(target.endpoint.base.len() + target.path.len() + 1 + query.len());
        url.push_str(&target.endpoint.base);
        url.push_str(target.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        let mut request = self
            .agent
            .get(&url)
            .config()
            .timeout_global(Some(remaining.min(self.timeout)))
            .proxy(self.proxy.for_target(target.endpoint))
            .build();
        for (name, value) in sent {
            request = request.header(name, value.as_bytes());
        }
        let mut response = request
            .call()
            .map_err(|error| secrets.scrub(classify(error, true)))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("X-Request-Id");
        let retry_after =
            header("Retry-After").and_then(|value| parse_retry_after(&value, SystemTime::now()));
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
                Err(error) => return Err(secrets.scrub(classify(error, false))),
            }
        } else {
            // Scrubbed whole, before anything is parsed or cut to length from it.
            secrets.scrub_bytes(read_error_body(&mut response))
        };
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body,
            secrets,
        })
    }
}

/// Texts that must not appear in errors: the request's signature, the token that travelled, the
/// proxy's password.
struct Secrets(Vec<String>);

impl Secrets {
    fn new(auth: &Auth, proxy_password: Option<&str>) -> Secrets {
        let mut secrets = Secrets(Vec::with_capacity(3));
        secrets.add(auth.secret_text());
        secrets.add(proxy_password.unwrap_or_default());
        secrets
    }

    fn add(&mut self, secret: &str) {
        if !secret.is_empty() {
            self.0.push(secret.to_string());
        }
    }

    fn scrub(&self, error: Error) -> Error {
        let secrets: Vec<&str> = self.0.iter().map(String::as_str).collect();
        error.redact(&secrets)
    }

    /// Replaces every secret in raw bytes (an error body) with `** redacted **`.
    fn scrub_bytes(&self, mut body: Vec<u8>) -> Vec<u8> {
        for secret in &self.0 {
            body = replace_bytes(&body, secret.as_bytes(), crate::error::REDACTED.as_bytes());
        }
        body
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest
        .windows(needle.len())
        .position(|window| window == needle)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
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

/// The one-liner for build scripts: the whole credential chain (environment, profile file, ECS
/// metadata), the project id from `HUAWEICLOUD_SDK_PROJECT_ID`, the profile or IAM, the DBSS
/// endpoint of `region` (or its `HUAWEICLOUD_SDK_REGION_DBSS_*` override), default timeouts and
/// retries.
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
/// As [`ClientBuilder::build`], [`Client::project_id`] and [`Client::get_jobs`].
pub fn get_jobs(region: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
    let client = Client::builder().region(region).build()?;
    let project_id = client.project_id()?;
    client.get_jobs(&project_id, resource_id)
}
