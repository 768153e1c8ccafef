//! [`ClientBuilder`]: the client's settings, their defaults and their checks, before any traffic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::JobsPath;
use crate::auth::{ChainSettings, resolve};
use crate::client::Client;
use crate::config::{Config, RootCertificates};
use crate::credentials::Auth;
use crate::endpoint::Endpoint;
use crate::env::{Environment, Var};
use crate::error::Error;
use crate::hooks::{Hooks, RequestInfo, ResponseInfo};
use crate::iam;
use crate::redact::{SizeOnly, Url};
use crate::retry::RetryPolicy;
use crate::source::{Source, validate_region};
use crate::transport::{self, ProxySetting, Transport};

/// A tool's word for a builder method's setting, for [`ClientBuilder::setting_names`].
pub type SettingNames = fn(&'static str) -> Option<&'static str>;

/// Longer timeouts are refused: a build script should never wait that long, and deadlines must
/// stay far from `Instant`'s limits.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

impl Client {
    /// A [`ClientBuilder`] with the defaults each of its settings names.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// Configures a [`Client`]; see [`Client::builder`].
///
#[doc = include_str!("doc/configuration.md")]
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    region: Option<String>,
    endpoints: Option<Vec<Url>>,
    auth: Option<Auth>,
    project_id: Option<String>,
    iam_endpoint: Option<Url>,
    profile_file: Option<PathBuf>,
    ecs_metadata: bool,
    metadata_endpoint: Option<Url>,
    environment: Environment,
    timeout: Duration,
    connect_timeout: Duration,
    max_body_size: u64,
    retry: RetryPolicy,
    jobs_path: JobsPath,
    proxy: ProxySetting,
    root_certificates: Option<RootCertificates>,
    hooks: Hooks,
    clock_skew_correction: bool,
    /// A tool's own names for the settings given to this builder.
    setting_names: Option<SettingNames>,
}

impl Default for ClientBuilder {
    /// The defaults each setting's method names.
    fn default() -> Self {
        ClientBuilder {
            region: None,
            endpoints: None,
            auth: None,
            project_id: None,
            iam_endpoint: None,
            profile_file: None,
            ecs_metadata: true,
            metadata_endpoint: None,
            environment: Environment::Process,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_size: 10 * 1024 * 1024,
            retry: RetryPolicy::default(),
            jobs_path: JobsPath::Auto,
            proxy: ProxySetting::FromEnvironment,
            root_certificates: None,
            hooks: Hooks::default(),
            clock_skew_correction: true,
            setting_names: None,
        }
    }
}

impl ClientBuilder {
    /// The region, e.g. `cn-north-4` (else `HUAWEICLOUD_SDK_REGION`'s): it gives the DBSS
    /// endpoints and the project looked up in IAM.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sends requests to this endpoint (`https://host[:port]`) instead of the region's.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoints = Some(vec![Url(url.into())]);
        self
    }

    /// Several endpoints, as in [`endpoint`](Self::endpoint), tried in order with failover.
    pub fn endpoints<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.endpoints = Some(urls.into_iter().map(|url| Url(url.into())).collect());
        self
    }

    /// Explicit [`Credentials`](crate::Credentials) or an [`IamToken`](crate::IamToken): the
    /// first step of the credential chain.
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// The project the client works in; else as *The project id* above says.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// The IAM endpoint for the project lookup; without it, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, the
    /// profile's `iam_endpoint`, `https://iam.{region}.myhuaweicloud.com` for a region the
    /// official SDKs' table lists, else `https://iam.myhuaweicloud.com`.
    pub fn iam_endpoint(mut self, url: impl Into<String>) -> Self {
        self.iam_endpoint = Some(Url(url.into()));
        self
    }

    /// The profile file to read (see *The credential chain*); it must exist.
    pub fn profile_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.profile_file = Some(path.into());
        self
    }

    /// Whether the ECS metadata service may be asked for temporary credentials. Default: allowed.
    pub fn ecs_metadata(mut self, allowed: bool) -> Self {
        self.ecs_metadata = allowed;
        self
    }

    /// The metadata service's URL instead of `DBSS_JOBS_ECS_METADATA_ENDPOINT` or the default
    /// `http://169.254.169.254`: `http://` to that address or a loopback host (tests, a relay).
    pub fn metadata_endpoint(mut self, url: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(Url(url.into()));
        self
    }

    /// Reads the variables from this set instead of the process environment (tests, tools that
    /// must not be steered by it); the process's `DBSS_JOBS_LOG` and `DBSS_JOBS_ECS_METADATA` apply.
    pub fn environment<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self.environment = Environment::Fixed(Arc::new(vars));
        self
    }

    /// The total deadline of one call, retries and their waits included, from DNS lookup to the
    /// last byte of the body. Default 30 s; at most one day.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The deadline for each connection, within the total one. Default 10 s; at most one day.
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

    /// How transient failures are retried. Default [`RetryPolicy::default`]; [`RetryPolicy::none`]
    /// turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Which URI to read the jobs from. Default [`JobsPath::Auto`].
    pub fn jobs_path(mut self, path: JobsPath) -> Self {
        self.jobs_path = path;
        self
    }

    /// Sends every request but the ECS metadata service's through this proxy instead of the
    /// environment's. A URL with a path, query or fragment is refused: it is usually a password
    /// with an unencoded `/`, `?` or `#`.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Url(Url(url.into()));
        self
    }

    /// Ignores proxy environment variables and connects directly.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Direct;
        self
    }

    /// Trusts exactly the CA certificates in this PEM text (see *TLS and trust*).
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates = Some(RootCertificates::Pem(SizeOnly(pem.into())));
        self
    }

    /// As [`root_certificates_pem`](Self::root_certificates_pem), read from this file at build.
    pub fn root_certificates_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.root_certificates = Some(RootCertificates::File(path.into()));
        self
    }

    /// For a tool with its own names for these settings (its options): a refused setting and
    /// [`Client::check`]'s lines are named by `names(method)` where it gives one, else the method.
    ///
    /// ```
    /// let builder = dbss_jobs::Client::builder()
    ///     .region("cn-north-4 ")
    ///     .setting_names(|method| (method == "ClientBuilder::region").then_some("the region key"));
    /// let error = builder.build().unwrap_err();
    /// assert!(error.to_string().starts_with("invalid input: the region key: region"), "{error}");
    /// ```
    pub fn setting_names(mut self, names: SettingNames) -> Self {
        self.setting_names = Some(names);
        self
    }

    /// Where a setting given to this builder came from, in its user's words.
    fn given(&self, method: &'static str) -> Source {
        Source::Method(self.setting_names.and_then(|names| names(method)).unwrap_or(method))
    }

    /// Whether the client corrects for a wrong local clock, re-signing at most once in its life.
    /// Default: on; off, the error says by how much the clock is off.
    pub fn clock_skew_correction(mut self, on: bool) -> Self {
        self.clock_skew_correction = on;
        self
    }

    /// Writes every attempt to stderr, as `DBSS_JOBS_LOG` does: 1, [`ResponseInfo`]'s line; 2,
    /// [`RequestInfo`]'s block before it too. The larger of this and the variable's level applies.
    pub fn log_to_stderr(mut self, level: u8) -> Self {
        self.hooks.log = level.min(2);
        self
    }

    /// Calls `hook` before every attempt of every request (retries, the fallback, IAM and the
    /// metadata service included), secrets redacted; a panic in it is caught. See [`Client`].
    pub fn on_request(mut self, hook: impl Fn(&RequestInfo) + Send + Sync + 'static) -> Self {
        self.hooks.on_request = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` after every attempt with its answer, or the error when none came.
    pub fn on_response(mut self, hook: impl Fn(&ResponseInfo<'_>) + Send + Sync + 'static) -> Self {
        self.hooks.on_response = Some(Arc::new(hook));
        self
    }

    /// Builds the client: checks every setting, reads the environment and profile file; no traffic.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), naming the setting and where it
    /// came from, for any setting that cannot work, and when no credentials can be found.
    pub fn build(mut self) -> Result<Client, Error> {
        self.environment.validate_text()?;
        let region = self.region_to_use()?;
        let (endpoints, endpoints_from) = match &region {
            Some((region, source)) if self.endpoints.is_none() => {
                Endpoint::for_region(region, source, &self.environment)?
            }
            _ => self.endpoints_to_use()?,
        };
        self.region = region.map(|(region, _)| region);
        let env = &self.environment;
        self.validate_limits()?;
        let resolved = self.resolve_credentials()?;
        let roots_by = self.given("ClientBuilder::root_certificates_file");
        let iam = iam::endpoint(resolved.iam_endpoint, self.region.as_deref())?;
        let (iam, iam_endpoint_from) = iam.unzip();
        let mut hooks = self.hooks;
        hooks.log = crate::env::log_level()?.max(hooks.log);
        let transport = Transport::new(transport::Settings {
            connect_timeout: self.connect_timeout,
            root_certificates: self.root_certificates.as_ref(),
            root_certificates_setting: roots_by,
            proxy: &self.proxy,
            environment: env,
            hooks,
            targets: endpoints.iter().chain(&iam).collect(),
        })?;
        let config = Config {
            endpoints_from,
            credentials_from: resolved.credentials_from,
            project_id_from: resolved.project_id.as_ref().map(|(_, source)| source.clone()),
            iam_endpoint_from,
            endpoints,
            region: self.region,
            auth: resolved.auth,
            project_id: resolved.project_id.map(|(project_id, _)| project_id),
            iam,
            timeout: self.timeout,
            max_body_size: self.max_body_size,
            retry: self.retry,
            jobs_path: self.jobs_path,
            clock_skew_correction: self.clock_skew_correction,
        };
        Ok(Client::new(config, transport))
    }

    /// The credential chain, with every setting it reads named as the user gave it.
    fn resolve_credentials(&self) -> Result<crate::auth::Resolved, Error> {
        let given = |value: &Option<String>, method| value.clone().map(|v| (v, self.given(method)));
        resolve(ChainSettings {
            explicit: self.auth.clone(),
            explicit_project_id: given(&self.project_id, "ClientBuilder::project_id"),
            explicit_iam_endpoint: given(
                &self.iam_endpoint.clone().map(|url| url.0),
                "ClientBuilder::iam_endpoint",
            ),
            profile_given_by: self.given("ClientBuilder::profile_file"),
            profile_file: self.profile_file.as_ref(),
            metadata: self.ecs_metadata,
            metadata_endpoint: self.metadata_endpoint_to_use()?,
            environment: &self.environment,
        })
    }

    /// The region given, else `HUAWEICLOUD_SDK_REGION`'s, checked.
    fn region_to_use(&self) -> Result<Option<(String, Source)>, Error> {
        let region = match &self.region {
            Some(region) => Some((region.clone(), self.given("ClientBuilder::region"))),
            None => {
                self.environment.get(Var::Region).map(|region| (region, Source::var(Var::Region)))
            }
        };
        if let Some((region, source)) = &region {
            validate_region(region, source)?;
        }
        Ok(region)
    }

    /// The endpoints given, with where they came from (the region's are found in `build`).
    fn endpoints_to_use(&self) -> Result<(Vec<Endpoint>, Source), Error> {
        match &self.endpoints {
            Some(urls) if urls.is_empty() => {
                Err(Error::invalid_input("ClientBuilder::endpoints: the list is empty"))
            }
            Some(urls) => {
                let method = match urls.len() {
                    1 => "ClientBuilder::endpoint",
                    _ => "ClientBuilder::endpoints",
                };
                let source = self.given(method);
                let parsed = urls.iter().map(|url| Endpoint::parse(&url.0));
                let endpoints = parsed.collect::<Result<_, _>>();
                Ok((endpoints.map_err(|e| e.named_by(&source))?, source))
            }
            None => Err(Error::invalid_input(format!(
                "no region or endpoint given ({}, {}, or {})",
                self.given("ClientBuilder::region"),
                Var::Region.name(),
                self.given("ClientBuilder::endpoint")
            ))),
        }
    }

    /// The metadata service given, else `DBSS_JOBS_ECS_METADATA_ENDPOINT`'s.
    fn metadata_endpoint_to_use(&self) -> Result<Option<Endpoint>, Error> {
        let (url, source) = match (&self.metadata_endpoint, &self.environment) {
            (Some(url), _) => (url.0.clone(), self.given("ClientBuilder::metadata_endpoint")),
            (None, env) => match env.get(Var::EcsMetadataEndpoint) {
                Some(url) => (url, Source::var(Var::EcsMetadataEndpoint)),
                None => return Ok(None),
            },
        };
        Endpoint::parse_metadata(&url).map(Some).map_err(|error| error.named_by(&source))
    }

    fn validate_limits(&self) -> Result<(), Error> {
        for (method, timeout) in [
            ("ClientBuilder::timeout", self.timeout),
            ("ClientBuilder::connect_timeout", self.connect_timeout),
        ] {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(Error::invalid_input(format!(
                    "{method}: {timeout:?}; it must be greater than zero and at most one day"
                )));
            }
        }
        if self.max_body_size == 0 {
            return Err(Error::invalid_input(
                "ClientBuilder::max_body_size: it must be greater than zero",
            ));
        }
        Ok(())
    }
}
