//! Temporary credentials from the ECS metadata service, the credential chain's last step (the
//! builder's docs say how it is asked, and why fast). One thread fetches at a time, the lock never
//! held across I/O; the others use the credentials while valid, or wait within their deadline.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::credentials::{Auth, Credentials, validate_header_value};
use crate::endpoint::Endpoint;
use crate::error::{Error, Resend, TransportKind};
use crate::redact::Secrets;
use crate::transport::{Request, Transport};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(3);
const TOKEN_TTL_SECONDS: &str = "21600";
/// Temporary credentials are renewed when they have less than this left.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// After a failed renewal, credentials still valid are used this long before the next try.
const RENEWAL_BACKOFF: Duration = Duration::from_secs(30);

/// Credentials from the metadata service, cached until shortly before they expire.
pub(crate) struct MetadataCredentials {
    endpoint: Endpoint,
    state: Mutex<State>,
    fetched: Condvar,
    /// What the chain tried before, for the error when the metadata service fails too.
    tried: Vec<String>,
}

#[derive(Default)]
struct State {
    cached: Option<(Arc<Auth>, SystemTime)>,
    fetching: bool,
    last_failure: Option<Instant>,
}

/// What a caller does after looking at the state.
enum Claim {
    Use(Arc<Auth>),
    /// Fetch; the credentials still valid meanwhile, if any.
    Fetch(Option<Arc<Auth>>),
}

impl MetadataCredentials {
    pub(crate) fn new(endpoint: Endpoint, tried: Vec<String>) -> MetadataCredentials {
        MetadataCredentials { endpoint, state: Mutex::default(), fetched: Condvar::new(), tried }
    }

    /// The credentials to use now, fetched or renewed when needed, before `deadline`.
    pub(crate) fn current(
        &self,
        transport: &Transport,
        deadline: Instant,
    ) -> Result<Arc<Auth>, Error> {
        let still_valid = match self.claim(deadline)? {
            Claim::Use(auth) => return Ok(auth),
            Claim::Fetch(still_valid) => still_valid,
        };
        let fetch_deadline = deadline.min(Instant::now() + TOTAL_TIMEOUT);
        // The security token in use travels to DBSS; should anything echo it, it is scrubbed too.
        let known = Secrets::of(still_valid.iter().map(|auth| auth.secret_text()));
        let result = self.fetch(transport, fetch_deadline, known);
        self.finish(result, still_valid)
    }

    /// Under the lock: use the cache, wait for another thread's fetch, or claim the fetch.
    fn claim(&self, deadline: Instant) -> Result<Claim, Error> {
        let mut state = crate::sync::lock(&self.state);
        loop {
            let now = SystemTime::now();
            let valid = state.cached.as_ref().filter(|(_, expires_at)| now < *expires_at);
            let fresh =
                valid.is_some_and(|(_, expires_at)| now + REFRESH_BEFORE_EXPIRY < *expires_at);
            let backing_off = state.last_failure.is_some_and(|at| at.elapsed() < RENEWAL_BACKOFF);
            match valid.map(|(auth, _)| auth.clone()) {
                Some(auth) if fresh || state.fetching || backing_off => {
                    return Ok(Claim::Use(auth));
                }
                None if state.fetching => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        let waited = Error::transport(
                            TransportKind::Timeout,
                            "the total deadline passed while another call was fetching",
                            Resend::Unsafe,
                        );
                        return Err(self.nothing_found(waited));
                    }
                    state = self
                        .fetched
                        .wait_timeout(state, remaining)
                        .map_or_else(|poisoned| poisoned.into_inner().0, |(state, _)| state);
                }
                valid => {
                    state.fetching = true;
                    return Ok(Claim::Fetch(valid));
                }
            }
        }
    }

    /// Under the lock again: record the fetch's outcome and wake the waiting threads.
    fn finish(
        &self,
        result: Result<(Credentials, SystemTime), Error>,
        still_valid: Option<Arc<Auth>>,
    ) -> Result<Arc<Auth>, Error> {
        let mut state = crate::sync::lock(&self.state);
        state.fetching = false;
        self.fetched.notify_all();
        match result {
            Ok((credentials, expires_at)) => {
                let auth = Arc::new(Auth::AkSk(credentials));
                state.cached = Some((auth.clone(), expires_at));
                state.last_failure = None;
                Ok(auth)
            }
            Err(error) => {
                state.last_failure = Some(Instant::now());
                still_valid.ok_or_else(|| self.nothing_found(error))
            }
        }
    }

    fn nothing_found(&self, error: Error) -> Error {
        error
            .in_context(format!(
                "no credentials found; tried {}; ECS metadata {}",
                self.tried.join("; "),
                self.endpoint.base
            ))
            .no_credentials_found()
    }
}

#[derive(Deserialize)]
struct SecurityKey {
    credential: TemporaryCredential,
}

#[derive(Deserialize)]
struct TemporaryCredential {
    access: String,
    secret: String,
    securitytoken: String,
    expires_at: String,
}

impl MetadataCredentials {
    /// Fetches temporary credentials and their expiry; answers are scrubbed of `secrets`.
    fn fetch(
        &self,
        transport: &Transport,
        deadline: Instant,
        secrets: Secrets,
    ) -> Result<(Credentials, SystemTime), Error> {
        let failed =
            |what: &str| Error::decode(200, None, format!("the metadata service's {what}"));
        let token_url = format!("{}/meta-data/latest/api/token", self.endpoint.base);
        let ttl = ("X-Metadata-Token-Ttl-Seconds", TOKEN_TTL_SECONDS);
        // As the official SDK: without a token when the token API is missing or unavailable.
        let token = match self.exchange(transport, ("PUT", &token_url), Some(ttl), deadline, &secrets) {
            Ok(token) => Some(session_token(token).ok_or_else(|| {
                failed("session token cannot be sent as a header (empty, not text, or control characters)")
            })?),
            Err(error) if matches!(error.status(), Some(404 | 405 | 503)) => None,
            Err(error) => return Err(error),
        };
        let secrets = secrets.with(token.as_deref());
        let key_url = format!("{}/openstack/latest/securitykey", self.endpoint.base);
        let header = token.as_deref().map(|token| ("X-Metadata-Token", token));
        let body = self.exchange(transport, ("GET", &key_url), header, deadline, &secrets)?;
        let SecurityKey { credential } = serde_json::from_slice(&body)
            .map_err(|_| failed("securitykey answer is not the documented JSON"))?;
        let expires_at = crate::timestamps::parse_rfc3339_utc(&credential.expires_at)
            .ok_or_else(|| failed("credentials' expires_at is not an RFC 3339 UTC time"))?;
        let credentials = Credentials::new(credential.access, credential.secret)
            .and_then(|credentials| credentials.with_security_token(credential.securitytoken))
            .map_err(|_| failed("credentials are empty or cannot be sent as headers"))?;
        Ok((credentials, expires_at))
    }

    /// One request to the metadata service: the body of a 200, or the answer as an `Api` error.
    fn exchange(
        &self,
        transport: &Transport,
        (method, url): (&'static str, &str),
        header: Option<(&str, &str)>,
        deadline: Instant,
        secrets: &Secrets,
    ) -> Result<Vec<u8>, Error> {
        let mut headers: Vec<(String, String)> =
            header.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        // An empty PUT says so, as the official SDK's requests does (not an empty chunked body).
        if method == "PUT" {
            headers.push(("Content-Length".to_string(), "0".to_string()));
        }
        let request = Request {
            method,
            direct: true,
            connect_timeout: Some(CONNECT_TIMEOUT),
            secrets: secrets.clone(),
            secret_body: true,
            ..Request::get(&self.endpoint, url, &headers, deadline)
        };
        let answer = transport.exchange(&request)?;
        if answer.status == 200 { Ok(answer.body().to_vec()) } else { Err(answer.error()) }
    }
}

/// The session token from the token API's body, when it can be sent as a header value.
fn session_token(body: Vec<u8>) -> Option<String> {
    let token = String::from_utf8(body).ok()?.trim().to_string();
    validate_header_value("the session token", &token).is_ok().then_some(token)
}
