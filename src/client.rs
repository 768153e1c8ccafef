//! The blocking client, in the order a call runs: [`Client::get_jobs`] → the newer-path fallback
//! → [`Client::send`] (the retry loop) → [`Client::send_once`] (one signed attempt) → reading the
//! answer. The settings and their checks live in [`crate::builder`].
//!
//! One `ureq` agent per client (connections are kept alive between calls), no redirects followed,
//! every wait bounded by the connect timeout and the total deadline, and success bodies bounded in
//! size.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::builder::ClientBuilder;
use crate::chain::AuthSource;
use crate::credentials::Auth;
use crate::endpoint::Endpoint;
use crate::error::{Resend, TransportKind};
use crate::hooks::{Answered, Hooks, RequestInfo, ResponseInfo};
use crate::proxy::ProxyRoute;
use crate::redact::{self, Secrets, shown};
use crate::response::{api_failure, decode_jobs, error_code};
use crate::retry::{RetryPolicy, is_retryable_status, parse_retry_after, random_unit};
use crate::sign::{SignableRequest, canonical_query, percent_encode, sign};
use crate::skew::{ClockSkew, SigningTime, says_signature_expired};
use crate::transport::{Phase, classify, header, read_error_body, request_id, response_headers};
use crate::{Error, Job, iam};

/// How long past its deadline an attempt may go on reading an answer that began in time, so that
/// an error answer cut by the deadline (a 429 in a wait's last poll) keeps its error code.
const ANSWER_GRACE: Duration = Duration::from_millis(250);

/// Sent as `User-Agent` (and signed, as the official SDKs do with theirs).
pub(crate) const USER_AGENT: &str = concat!("dbss-jobs/", env!("CARGO_PKG_VERSION"));

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

/// A DBSS client for one endpoint, one identity and one project. Share it by reference and reuse
/// it for many calls: the connection is kept alive.
///
/// ```no_run
/// use dbss_jobs::{Client, Credentials};
///
/// let client = Client::builder()
///     .region("cn-north-4")
///     .auth(Credentials::from_env()?)
///     .project_id("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
///     .build()?;
/// for job in client.get_jobs("my-instance-id")? {
///     println!("{:?} {:?}", job.job_id, job.status);
/// }
/// # Ok::<(), dbss_jobs::Error>(())
/// ```
pub struct Client {
    pub(crate) agent: ureq::Agent,
    pub(crate) endpoint: Endpoint,
    pub(crate) region: Option<String>,
    pub(crate) auth: AuthSource,
    /// Given, configured, or looked up in IAM once and kept.
    pub(crate) project_id: OnceLock<String>,
    /// Where the project is looked up; `None` without a region.
    pub(crate) iam: Option<Endpoint>,
    pub(crate) timeout: Duration,
    pub(crate) max_body_size: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) jobs_path: JobsPath,
    /// Set once the gateway said the documented path does not exist (with [`JobsPath::Auto`]).
    pub(crate) newer_path_learned: AtomicBool,
    pub(crate) user_agent: String,
    pub(crate) proxy: ProxyRoute,
    pub(crate) hooks: Hooks,
    pub(crate) skew: ClockSkew,
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

/// One request to send: where, and which headers besides the common ones.
struct Target<'a> {
    endpoint: &'a Endpoint,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    project_id: Option<&'a str>,
}

/// An attempt ready to send: the URL, every header, what its error texts must be scrubbed of, and
/// for a signed request its canonical request, string to sign and signing time.
struct Outgoing {
    url: String,
    headers: Vec<(String, String)>,
    secrets: Secrets,
    signed: Option<Signed>,
}

/// The stages and time of a signed attempt.
struct Signed {
    canonical_request: String,
    string_to_sign: String,
    at: SigningTime,
}

/// One HTTP answer, read as it was received, with what the texts built from it must be scrubbed of.
struct Answer {
    status: u16,
    /// As received: shown only through [`Answer::fail`].
    request_id: Option<String>,
    retry_after: Option<Duration>,
    /// As received: decisions read it; errors are built from [`Answer::shown_body`].
    body: Vec<u8>,
    secrets: Secrets,
    /// What the response hook sees.
    answered: Answered,
    /// The answer's `Date` header, and our clock when it came.
    date: Option<String>,
    received_at: SystemTime,
    /// The `X-Sdk-Date` the attempt was signed with, and how.
    sdk_date: Option<String>,
    signed_at: Option<SigningTime>,
    /// Why a signature expired, in words, when our clock is off.
    clock_note: Option<String>,
    /// The signed canonical request, redacted, kept for a 401 (see [`Error::canonical_request`]).
    canonical_request: Option<String>,
}

impl Answer {
    /// The body as errors may quote it: scrubbed of the request's secrets before it is parsed
    /// or cut.
    fn shown_body(&self) -> Vec<u8> {
        self.secrets.bytes(&self.body)
    }

    /// The request id as errors show it.
    fn shown_request_id(&self) -> Option<String> {
        self.request_id
            .as_deref()
            .map(|id| shown(&self.secrets.text(id)))
    }

    /// The error for a non-success answer, from what may be shown of it.
    fn api_failure(&self) -> Error {
        api_failure(self.status, self.shown_request_id(), &self.shown_body())
    }

    /// The gateway says the API does not exist (404 `APIGW.0101`), read as received.
    fn is_no_such_api(&self) -> bool {
        self.status == 404 && error_code(&self.body).as_deref() == Some("APIGW.0101")
    }

    /// An error made from this answer, scrubbed, with the attempts and the canonical request.
    fn fail(self, error: Error, attempts: u32) -> Error {
        error
            .scrub(&self.secrets)
            .with_attempts(attempts)
            .with_canonical_request(self.canonical_request)
            .with_note(self.clock_note)
    }
}

impl Client {
    /// A builder with the defaults: 30 s total deadline, 10 s connect timeout, 10 MiB body limit,
    /// 3 attempts for transient failures, proxies from the environment, the credential chain.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Lists the creation jobs of the audit instance `resource_id` in the client's project
    /// ([`Client::project_id`]): `GET /v1/{project_id}/dbss/audit/jobs/{resource_id}` (see
    /// [`JobsPath`]).
    ///
    /// The id is sent as one percent-encoded path segment (everything except `A-Za-z0-9-_.~`,
    /// including `/`, becomes `%XX`), exactly as the official SDKs encode path parameters.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before any traffic, when the
    ///   id is empty, `.` or `..`, or contains a control character.
    /// - [`ErrorKind::Transport`](crate::ErrorKind::Transport) when no answer arrived in time.
    /// - [`ErrorKind::Api`](crate::ErrorKind::Api) for a non-success status.
    /// - [`ErrorKind::Decode`](crate::ErrorKind::Decode) for a success body that is not the
    ///   documented JSON, or is larger than the body limit.
    /// - As [`Client::project_id`] when the project has to be looked up first.
    pub fn get_jobs(&self, resource_id: &str) -> Result<Vec<Job>, Error> {
        check_id("resource id", resource_id)?;
        let deadline = self.deadline();
        let project_id = self.project_id_before(deadline)?;
        self.get_jobs_before(&project_id, resource_id, deadline)
    }

    /// [`Client::get_jobs`] in another project than the client's, for callers that address
    /// several.
    ///
    /// # Errors
    /// As [`Client::get_jobs`]; an empty or malformed project id, or a region name given as one,
    /// is `InvalidInput`.
    pub fn get_jobs_in(&self, project_id: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
        check_project_id(project_id)?;
        check_id("resource id", resource_id)?;
        self.get_jobs_before(project_id, resource_id, self.deadline())
    }

    /// The deadline of a call starting now.
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// The jobs, before `deadline`, on the path the settings and the gateway decide. The ids
    /// were checked where they entered.
    pub(crate) fn get_jobs_before(
        &self,
        project_id: &str,
        resource_id: &str,
        deadline: Instant,
    ) -> Result<Vec<Job>, Error> {
        let newer = match self.jobs_path {
            JobsPath::Documented => false,
            JobsPath::Newer => true,
            JobsPath::Auto => self.newer_path_learned.load(Ordering::Relaxed),
        };
        self.get_jobs_at(project_id, resource_id, newer, deadline)
    }

    /// One path; with [`JobsPath::Auto`], a 404 `APIGW.0101` on the documented path sends the
    /// call (and the client, from now on) to the newer one.
    fn get_jobs_at(
        &self,
        project_id: &str,
        resource_id: &str,
        newer: bool,
        deadline: Instant,
    ) -> Result<Vec<Job>, Error> {
        let path = jobs_path(project_id, resource_id, newer);
        let target = Target {
            endpoint: &self.endpoint,
            path: &path,
            query: &[],
            project_id: Some(project_id),
        };
        let (answer, attempts) = self.send(&target, deadline)?;
        if self.jobs_path == JobsPath::Auto && !newer && answer.is_no_such_api() {
            self.newer_path_learned.store(true, Ordering::Relaxed);
            return self.get_jobs_at(project_id, resource_id, true, deadline);
        }
        let decoded = match answer.status {
            200..=299 => decode_jobs(answer.status, answer.shown_request_id(), &answer.body),
            _ => Err(answer.api_failure()),
        };
        decoded.map_err(|error| answer.fail(error, attempts))
    }

    /// Sends `target` until it succeeds, fails for good, runs out of attempts or passes the
    /// deadline. Each attempt is signed afresh. Returns the answer (any status) and the number of
    /// attempts; errors come back with secrets scrubbed.
    fn send(&self, target: &Target<'_>, deadline: Instant) -> Result<(Answer, u32), Error> {
        let mut attempt = 1;
        let mut skew_retried = false;
        loop {
            let auth = self.auth.current(deadline)?;
            let mut result = self.send_once(target, &auth, attempt, deadline);
            // An expired signature is signed again once, with the gateway's time, when our clock
            // is measurably off (never any other 401 or 403: failed signatures lock an AK/SK).
            if let Ok(answer) = &mut result
                && self.expired_by_skew(answer)
                && !skew_retried
            {
                skew_retried = true;
                attempt += 1;
                continue;
            }
            let (retryable, retry_after) = match &result {
                Ok(answer) => (is_retryable_status(answer.status), answer.retry_after),
                Err(error) => (error.is_retryable_transport(), None),
            };
            // Wait and try again only for a transient failure, within the attempts and the deadline.
            let delay = (retryable && attempt < self.retry.attempts())
                .then(|| self.retry.delay(attempt, retry_after, random_unit()))
                .filter(|delay| *delay < deadline.saturating_duration_since(Instant::now()));
            std::thread::sleep(delay.unwrap_or_default());
            // The last answer stands when there is no time left for another attempt.
            if delay.is_none() || Instant::now() >= deadline {
                return result
                    .map(|answer| (answer, attempt))
                    .map_err(|error| error.with_attempts(attempt));
            }
            attempt += 1;
        }
    }

    /// For a 401 "signature expired": puts the clock's explanation on the answer, and says whether
    /// one re-signed attempt can succeed (see [`crate::skew`]).
    fn expired_by_skew(&self, answer: &mut Answer) -> bool {
        let (Some(sdk_date), Some(signed_at)) = (&answer.sdk_date, answer.signed_at) else {
            return false;
        };
        if !says_signature_expired(answer.status, &answer.body) {
            return false;
        }
        let diagnosis = self.skew.diagnose(
            &answer.body,
            answer.date.as_deref(),
            answer.received_at,
            sdk_date,
            signed_at,
        );
        answer.clock_note = diagnosis.note;
        diagnosis.re_sign
    }

    /// One attempt: authenticate, send, read the answer; the hooks see both ends.
    fn send_once(
        &self,
        target: &Target<'_>,
        auth: &Arc<Auth>,
        attempt: u32,
        deadline: Instant,
    ) -> Result<Answer, Error> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::transport(
                TransportKind::Timeout,
                "the total deadline passed",
                Resend::Safe,
            ));
        }
        let Outgoing {
            url,
            headers,
            secrets,
            signed,
        } = self.authenticate(target, auth)?;
        if self.hooks.wants_requests() {
            let stages = signed
                .as_ref()
                .map(|s| (s.canonical_request.as_str(), s.string_to_sign.as_str()));
            let info = RequestInfo::new("GET", &url, &headers, attempt, stages);
            self.hooks.request(&info);
        }
        let started = Instant::now();
        let mut request = self
            .agent
            .get(&url)
            .config()
            .timeout_global(Some(remaining.min(self.timeout) + ANSWER_GRACE))
            .proxy(self.proxy.for_target(target.endpoint))
            .build();
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let proxy = self.proxy.shown_for(target.endpoint);
        let result = request
            .call()
            .map_err(|error| classify(error, Phase::BeforeAnswer).scrub(&secrets))
            .and_then(|response| self.read_answer(response, secrets))
            .map_err(|error| error.at(&target.endpoint.host_and_port(), proxy))
            .map(|mut answer| {
                answer.sdk_date = sent_header(&headers, "X-Sdk-Date");
                answer.signed_at = signed.as_ref().map(|signed| signed.at);
                if answer.status == 401 {
                    answer.canonical_request =
                        signed.map(|s| redact::canonical_request(&s.canonical_request));
                }
                answer
            });
        self.hooks.response(&ResponseInfo {
            method: "GET",
            url: &url,
            proxy,
            attempt,
            elapsed: started.elapsed(),
            outcome: result.as_ref().map(|answer| answer.answered.clone()),
        });
        result
    }

    /// The URL and headers of an attempt, signed (AK/SK) or with the token, and the secrets its
    /// error texts must be scrubbed of.
    fn authenticate(&self, target: &Target<'_>, auth: &Auth) -> Result<Outgoing, Error> {
        let mut common = vec![
            ("Content-Type", "application/json"),
            ("User-Agent", self.user_agent.as_str()),
        ];
        if let Some(project_id) = target.project_id {
            common.push(("X-Project-Id", project_id));
        }
        let mut secrets = Secrets::default();
        secrets.add(auth.secret_text());
        for password in self.proxy.passwords() {
            secrets.add(password);
        }
        let (query, headers, signed) = match auth {
            Auth::AkSk(credentials) => {
                let request = SignableRequest::new("GET", &target.endpoint.authority, target.path)
                    .with_query(target.query)
                    .with_headers(&common);
                let at = self.skew.signing_time(SystemTime::now());
                let signed = sign(&request, credentials, at.time)?;
                secrets.add(signed.signature());
                let headers = signed.headers().map(owned).collect();
                let stages = Signed {
                    canonical_request: signed.canonical_request().to_string(),
                    string_to_sign: signed.string_to_sign().to_string(),
                    at,
                };
                (signed.query().to_string(), headers, Some(stages))
            }
            Auth::Token(token) => {
                common.push(("Host", &target.endpoint.authority));
                common.push(("X-Auth-Token", token.as_str()));
                let headers = common.into_iter().map(owned).collect();
                (canonical_query(target.query), headers, None)
            }
        };
        let mut url = format!("{}{}", target.endpoint.base, target.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        Ok(Outgoing {
            url,
            headers,
            secrets,
            signed,
        })
    }

    /// Reads an answer as it was received: a success body up to the size limit, or the
    /// beginning of an error body. The hook sees its headers scrubbed of the request's secrets.
    fn read_answer(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        secrets: Secrets,
    ) -> Result<Answer, Error> {
        let received_at = SystemTime::now();
        let status = response.status().as_u16();
        let date = header(&response, "Date");
        let request_id = request_id(&response);
        let retry_after = header(&response, "Retry-After")
            .and_then(|value| parse_retry_after(&value, SystemTime::now()));
        let body = if (200..=299).contains(&status) {
            let read = response
                .body_mut()
                .with_config()
                .limit(self.max_body_size)
                .read_to_vec();
            match read {
                Ok(body) => body,
                Err(ureq::Error::BodyExceedsLimit(_)) => {
                    let request_id = request_id.map(|id| shown(&secrets.text(&id)));
                    return Err(Error::too_large(status, request_id, self.max_body_size));
                }
                Err(error) => return Err(classify(error, Phase::ReadingAnswer).scrub(&secrets)),
            }
        } else {
            read_error_body(&mut response)
        };
        let answered = Answered {
            status,
            headers: if self.hooks.on_response.is_some() {
                secrets.headers(&response_headers(&response))
            } else {
                Vec::new()
            },
            request_id: request_id.as_deref().map(|id| shown(&secrets.text(id))),
            body_len: body.len(),
        };
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body,
            secrets,
            answered,
            date,
            received_at,
            sdk_date: None,
            signed_at: None,
            clock_note: None,
            canonical_request: None,
        })
    }

    /// The project this client works in: given to the builder, else `HUAWEICLOUD_SDK_PROJECT_ID`,
    /// else the profile's, else looked up in IAM by region (signed
    /// `GET /v3/projects?name={region}`; cached per identity, IAM endpoint and region for the life
    /// of the process). Resolved once and kept by the client.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when there is no region to look
    /// up; [`ErrorKind::Api`](crate::ErrorKind::Api) when IAM answers an error, or knows no
    /// project, or several, by that name; otherwise as [`Client::get_jobs`].
    pub fn project_id(&self) -> Result<String, Error> {
        self.project_id_before(self.deadline())
    }

    pub(crate) fn project_id_before(&self, deadline: Instant) -> Result<String, Error> {
        if let Some(project_id) = self.project_id.get() {
            return Ok(project_id.clone());
        }
        let (Some(region), Some(iam_endpoint)) = (self.region.as_deref(), self.iam.as_ref()) else {
            return Err(Error::invalid_input(
                "no project id given, and no region to look it up in IAM",
            ));
        };
        let auth = self.auth.current(deadline)?;
        let key = iam::CacheKey::new(&auth, iam_endpoint, region);
        let project_id = match iam::cached(&key) {
            Some(project_id) => project_id,
            None => {
                let project_id = self.look_up_project(iam_endpoint, region, deadline)?;
                iam::remember(key, &project_id);
                project_id
            }
        };
        Ok(self.project_id.get_or_init(|| project_id).clone())
    }

    fn look_up_project(
        &self,
        iam_endpoint: &Endpoint,
        region: &str,
        deadline: Instant,
    ) -> Result<String, Error> {
        let target = Target {
            endpoint: iam_endpoint,
            path: "/v3/projects",
            query: &[("name", region)],
            project_id: None,
        };
        let context = || format!("IAM project lookup at {}", iam_endpoint.base);
        let (answer, attempts) = self
            .send(&target, deadline)
            .map_err(|error| error.in_context(context()))?;
        let result = if (200..=299).contains(&answer.status) {
            iam::project_from_body(region, answer.shown_request_id(), &answer.body)
        } else {
            Err(answer.api_failure())
        };
        result.map_err(|error| answer.fail(error, attempts).in_context(context()))
    }
}

/// A header's value as sent.
fn sent_header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(sent, _)| sent.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

fn owned((name, value): (&str, &str)) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// `/v1/{project_id}/dbss/audit/jobs/{resource_id}`, or the newer
/// `/v1/{project_id}/audit/{resource_id}/jobs`, each id one percent-encoded segment.
fn jobs_path(project_id: &str, resource_id: &str, newer: bool) -> String {
    let mut path = String::from("/v1/");
    percent_encode(&mut path, project_id);
    if newer {
        path.push_str("/audit/");
        percent_encode(&mut path, resource_id);
        path.push_str("/jobs");
    } else {
        path.push_str("/dbss/audit/jobs/");
        percent_encode(&mut path, resource_id);
    }
    path
}

/// Rejects ids that cannot name a resource; odd but legal ones (spaces, unicode, `/`, `%`) pass.
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), Error> {
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

/// A project id: as any id, and not a region name (a common mix-up: both appear side by side in
/// the console).
pub(crate) fn check_project_id(project_id: &str) -> Result<(), Error> {
    check_id("project id", project_id)?;
    if crate::REGIONS.contains(&project_id) {
        return Err(Error::invalid_input(format!(
            "project id {project_id:?} is a region name; the project id is the 32-hex-digit id \
             that IAM lists for the region (console: My Credentials, Projects)"
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
/// let jobs = dbss_jobs::get_jobs("cn-north-4", "my-instance-id")?;
/// println!("{} DBSS jobs", jobs.len());
/// # Ok::<(), dbss_jobs::Error>(())
/// ```
///
/// # Errors
/// As [`ClientBuilder::build`] and [`Client::get_jobs`].
pub fn get_jobs(region: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
    Client::builder()
        .region(region)
        .build()?
        .get_jobs(resource_id)
}
