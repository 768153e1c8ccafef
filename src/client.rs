//! The blocking client, in the order a call runs: [`Client::get_jobs`] → the newer-path fallback
//! → the endpoints in turn (failover) → [`Client::send`]'s loop: sign, exchange, decide (retry,
//! re-sign once, remember a refused key, or stand). It scrubs nothing and reads no body.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::api::USER_AGENT;
use crate::auth::AuthSource;
use crate::config::Config;
use crate::credentials::Auth;
use crate::endpoint::Endpoint;
use crate::error::{AuthFailure, Error, Resend};
use crate::gateway::Answer;
use crate::metadata::MetadataCredentials;
use crate::refusal::Refusals;
use crate::retry::{Asked, is_retryable_status, random_unit};
use crate::sign::{SignableRequest, SignedRequest, canonical_query, header_value, sign};
use crate::skew::{ClockSkew, SigningTime};
use crate::transport::{Request, Transport};

/// How long past its deadline an answer that began in time may be read, to keep its error code.
const ANSWER_GRACE: Duration = Duration::from_millis(250);

/// What the retry loop does after an attempt.
enum Pause {
    Retry(Duration),
    /// The answer stands; with what the client learned, if it explains it.
    Stop(Option<String>),
}

/// A DBSS client for one identity and one project; reuse it, it keeps its connection alive.
///
#[doc = include_str!("doc/wire.md")]
pub struct Client {
    pub(crate) config: Config,
    /// The wire, for the tools that send requests of their own (`check`, `iam`).
    pub(crate) transport: Transport,
    identity: Identity,
    /// Given, configured, or looked up in IAM once and kept.
    pub(crate) project_id: OnceLock<String>,
    /// Set once the gateway said the documented path does not exist (with [`JobsPath::Auto`]).
    pub(crate) newer_path_learned: AtomicBool,
    pub(crate) skew: ClockSkew,
    /// Access keys the gateway refused, not to be signed with again.
    refused: Refusals,
    /// The index of the endpoint that last worked.
    endpoint_in_use: std::sync::atomic::AtomicUsize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: &dyn fmt::Debug = match &self.config.auth {
            AuthSource::Fixed(auth) => auth,
            AuthSource::Metadata { .. } => &"EcsMetadata",
        };
        f.debug_struct("Client")
            .field("endpoint", &self.config.endpoints[self.endpoint_in_use()].base)
            .field("auth", auth)
            .field("max_body_size", &self.config.max_body_size)
            .finish_non_exhaustive()
    }
}

/// Who the client's requests are from: what the chain found, or the metadata service's, cached.
enum Identity {
    Fixed(Arc<Auth>),
    Metadata(MetadataCredentials),
}

/// One request to send: where, and which headers besides the common ones.
pub(crate) struct Target<'a> {
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) path: &'a str,
    pub(crate) query: &'a [(&'a str, &'a str)],
    pub(crate) project_id: Option<&'a str>,
}

/// An attempt as it was sent; a signed one with its stages and signing time.
struct Outgoing {
    url: String,
    headers: Vec<(String, String)>,
    signed: Option<(SignedRequest, SigningTime)>,
}

/// What a call's attempts add up to.
pub(crate) struct Tally {
    attempts: u32,
    /// What the client learned that explains the last answer (a wrong clock), in words.
    note: Option<String>,
}

impl Tally {
    /// What the attempts add to an error made from the last answer.
    pub(crate) fn explain(self, error: Error) -> Error {
        error.with_attempts(self.attempts).with_note(self.note)
    }
}

impl Client {
    /// The client of a checked configuration (see [`Client::builder`]).
    pub(crate) fn new(config: Config, transport: Transport) -> Client {
        let identity = match &config.auth {
            AuthSource::Fixed(auth) => Identity::Fixed(auth.clone()),
            AuthSource::Metadata { endpoint, tried } => {
                Identity::Metadata(MetadataCredentials::new(endpoint.clone(), tried.clone()))
            }
        };
        Client {
            transport,
            identity,
            project_id: config.project_id.clone().map(OnceLock::from).unwrap_or_default(),
            newer_path_learned: AtomicBool::new(false),
            skew: ClockSkew::new(config.clock_skew_correction),
            refused: Refusals::default(),
            endpoint_in_use: std::sync::atomic::AtomicUsize::new(0),
            config,
        }
    }

    /// The credentials to use now: fixed, or from the metadata service (asked when needed).
    pub(crate) fn auth(&self, deadline: Instant) -> Result<Arc<Auth>, Error> {
        match &self.identity {
            Identity::Fixed(auth) => Ok(auth.clone()),
            Identity::Metadata(metadata) => metadata.current(&self.transport, deadline),
        }
    }

    /// The deadline of a call starting now.
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.config.timeout
    }

    /// The index of the endpoint that last worked (the first, until one fails).
    fn endpoint_in_use(&self) -> usize {
        let index = self.endpoint_in_use.load(Ordering::Relaxed);
        index.min(self.config.endpoints.len() - 1)
    }

    /// Sends the jobs request to the endpoint in use, then the next ones while a host cannot be
    /// resolved or its TLS handshake fails (as the official SDKs do); keeps the one that answered.
    pub(crate) fn send_to_an_endpoint(
        &self,
        path: &str,
        query: &[(&str, &str)],
        project_id: &str,
        deadline: Instant,
    ) -> Result<(Answer, Tally), Error> {
        let endpoints = &self.config.endpoints;
        let first = self.endpoint_in_use();
        let (mut index, mut failures) = (first, Vec::new());
        loop {
            let endpoint = &endpoints[index];
            let target = Target { endpoint, path, query, project_id: Some(project_id) };
            let next = (index + 1) % endpoints.len();
            match self.send(&target, deadline) {
                Err(error) if next != first && (error.is_dns() || error.is_tls()) => {
                    failures.push(format!("{}: {error}", endpoint.base));
                    index = next;
                }
                Err(error) if next == first && !failures.is_empty() => {
                    let tried = failures.join("; ");
                    let context = format!("every endpoint failed ({tried}); {}", endpoint.base);
                    return Err(error.in_context(context));
                }
                outcome => {
                    self.endpoint_in_use.store(index, Ordering::Relaxed);
                    return outcome;
                }
            }
        }
    }

    /// Sends `target`, each attempt signed afresh, until it succeeds, fails for good, runs out of
    /// attempts or passes the deadline; returns the last answer (any status), which a retry that
    /// runs into the deadline leaves standing.
    pub(crate) fn send(
        &self,
        target: &Target<'_>,
        deadline: Instant,
    ) -> Result<(Answer, Tally), Error> {
        let mut tally = Tally { attempts: 1, note: None };
        // The last 429 or 5xx a retry was sent after: it stands, as read, if a retry runs into
        // the deadline.
        let mut answered = None;
        loop {
            let auth = self.auth(deadline)?;
            self.refused.check(&auth)?;
            let sent = self.authenticate(target, &auth)?;
            let result = self.exchange(target, &sent, tally.attempts, deadline);
            if let Err(error) = &result
                && error.is_timeout()
                && Instant::now() >= deadline
                && let Some(answer) = answered.take()
            {
                return Ok((answer, tally));
            }
            if let Ok(answer) = &result {
                self.refused.remember(&auth, &answer.said);
                // Only an expired signature is ever signed again (failed signatures lock an AK/SK).
                let (note, re_sign) = self.clock_of(answer, &sent);
                tally.note = note;
                if re_sign {
                    tally.attempts += 1;
                    answered = None;
                    continue;
                }
            }
            let pause = self.pause(&result, tally.attempts, deadline);
            if let Pause::Stop(note) = &pause {
                tally.note = note.clone().or(tally.note.take());
            }
            // The last answer stands when there is no time left for another attempt.
            let Pause::Retry(delay) = pause else {
                let attempts = tally.attempts;
                return result
                    .map(|answer| (answer, tally))
                    .map_err(|error| error.with_attempts(attempts));
            };
            answered = result.ok().or(answered);
            std::thread::sleep(delay);
            tally.attempts += 1;
        }
    }

    /// How long to wait before another attempt, if one fits: for a transient failure only, a
    /// throttled one no sooner than the gateway's window.
    fn pause(&self, result: &Result<Answer, Error>, attempt: u32, deadline: Instant) -> Pause {
        let retry = &self.config.retry;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let (retryable, asked) = match result {
            Ok(answer) => {
                let said = &answer.said;
                let asked = Asked { retry_after: said.retry_after, window: said.throttle_window };
                (is_retryable_status(answer.status), asked)
            }
            Err(error) => (error.is_retryable_transport(), Asked::default()),
        };
        if !retryable || attempt >= retry.attempts() {
            return Pause::Stop(None);
        }
        let delay = retry.delay(attempt, asked, random_unit());
        match (delay < remaining, asked.window) {
            (true, _) => Pause::Retry(delay),
            (false, Some(window)) => Pause::Stop(Some(format!(
                "the gateway throttles per {} s: try again in about {} s",
                window.as_secs(),
                window.as_secs()
            ))),
            (false, None) => Pause::Stop(None),
        }
    }

    /// For a 401 "signature expired": the clock's explanation, and whether to re-sign once.
    fn clock_of(&self, answer: &Answer, sent: &Outgoing) -> (Option<String>, bool) {
        let said = &answer.said;
        let Some((_, at)) = sent
            .signed
            .as_ref()
            .filter(|_| said.auth_failure == Some(AuthFailure::SignatureExpired))
        else {
            return (None, false);
        };
        let sdk_date = header_value(&sent.headers, "X-Sdk-Date").unwrap_or_default();
        let Some(gateway) = said.server_time.or(said.date) else {
            return (None, false);
        };
        let diagnosis = self.skew.diagnose(gateway, answer.received_at, sdk_date, *at);
        (diagnosis.note, diagnosis.re_sign)
    }

    /// One exchange of a request as it was authenticated.
    fn exchange(
        &self,
        target: &Target<'_>,
        sent: &Outgoing,
        attempt: u32,
        deadline: Instant,
    ) -> Result<Answer, Error> {
        let stages = sent.signed.as_ref().map(|(s, _)| (s.canonical_request(), s.string_to_sign()));
        let deadline = deadline.min(Instant::now() + self.config.timeout);
        self.transport.exchange(&Request {
            grace: ANSWER_GRACE,
            body_limit: self.config.max_body_size,
            resend: Resend::Safe,
            attempt,
            signed: stages,
            ..Request::get(target.endpoint, &sent.url, &sent.headers, deadline)
        })
    }

    /// The URL and headers of an attempt, signed (AK/SK) or with the token.
    fn authenticate(&self, target: &Target<'_>, auth: &Auth) -> Result<Outgoing, Error> {
        let mut common = vec![("Content-Type", "application/json"), ("User-Agent", USER_AGENT)];
        if let Some(project_id) = target.project_id {
            common.push(("X-Project-Id", project_id));
        }
        let (query, headers, signed) = match auth {
            Auth::AkSk(credentials) => {
                let request = SignableRequest::new("GET", &target.endpoint.authority, target.path)
                    .with_query(target.query)
                    .with_headers(&common);
                let at = self.skew.signing_time(SystemTime::now());
                let signed = sign(&request, credentials, at.time)?;
                let headers = signed.headers().map(owned).collect();
                (signed.query().to_string(), headers, Some((signed, at)))
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
        Ok(Outgoing { url, headers, signed })
    }
}

fn owned((name, value): (&str, &str)) -> (String, String) {
    (name.to_string(), value.to_string())
}
