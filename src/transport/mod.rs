//! The wire, the only module that names `ureq`. Every request the crate sends is one
//! [`Transport::exchange`]: hooks, proxy, deadline, body bound, ureq's errors classified and
//! scrubbed, and the answer read once ([`Answer::read`]). One agent, kept alive, no redirects.

mod classify;
mod proxy;
mod tls;

use std::io::Read as _;
use std::time::{Duration, Instant, SystemTime};

use classify::Phase;
use proxy::ProxyRoute;
pub(crate) use proxy::ProxySetting;
use tls::Trust;

use crate::config::RootCertificates;
use crate::endpoint::Endpoint;
use crate::env::Environment;
use crate::error::{Error, Resend, TransportKind};
use crate::gateway::Answer;
use crate::hooks::{Hooks, RequestInfo, ResponseInfo};
use crate::redact::{self, Secrets};
use crate::source::Source;

/// Error bodies are only quoted, so only their beginning is read.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The agent, the proxy decision and the hooks of a client.
pub(crate) struct Transport {
    agent: ureq::Agent,
    connect_timeout: Duration,
    proxy: ProxyRoute,
    hooks: Hooks,
    trust: tls::Trust,
}

/// What a transport is made from: the builder's checked settings.
pub(crate) struct Settings<'a> {
    pub(crate) connect_timeout: Duration,
    /// The CAs to trust instead of the default ones, if given.
    pub(crate) root_certificates: Option<&'a RootCertificates>,
    /// How the user names that setting (a builder method, or a tool's word for it).
    pub(crate) root_certificates_setting: Source,
    pub(crate) proxy: &'a ProxySetting,
    pub(crate) environment: &'a Environment,
    pub(crate) hooks: Hooks,
    /// Every host the client will reach through the proxy settings (DBSS, IAM): a proxy
    /// variable is read only for the schemes these use.
    pub(crate) targets: Vec<&'a Endpoint>,
}

/// One request to send.
pub(crate) struct Request<'a> {
    pub(crate) method: &'static str,
    pub(crate) target: &'a Endpoint,
    /// The whole URL, query included.
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(String, String)],
    /// Never through a proxy (the metadata service), else as the settings choose.
    pub(crate) direct: bool,
    /// A shorter connect timeout than the client's (the metadata service's 1 s).
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) deadline: Instant,
    /// How long past the deadline a body whose head arrived in time may still be read.
    pub(crate) grace: Duration,
    /// The largest success body read; a larger one is `Decode`, not a truncation.
    pub(crate) body_limit: u64,
    /// Whether a connection failure may be sent again (the caller retries it).
    pub(crate) resend: Resend,
    /// Secrets to scrub from its answer's texts that the request does not carry (the token of
    /// credentials being renewed); what it carries and proxy passwords the transport adds itself.
    pub(crate) secrets: Secrets,
    /// The answer's body is itself secret (the metadata service's tokens and keys): its text
    /// and every string in it are scrubbed from the answer's headers too.
    pub(crate) secret_body: bool,
    pub(crate) attempt: u32,
    /// For a signed request, its canonical request and string to sign, for the request hook.
    pub(crate) signed: Option<(&'a str, &'a str)>,
}

impl<'a> Request<'a> {
    /// A GET sent once as configured, its answer's body read up to 64 KiB: what the fields
    /// left out of a literal (`..Request::get(...)`) default to.
    pub(crate) fn get(
        target: &'a Endpoint,
        url: &'a str,
        headers: &'a [(String, String)],
        deadline: Instant,
    ) -> Request<'a> {
        Request {
            method: "GET",
            target,
            url,
            headers,
            direct: false,
            connect_timeout: None,
            deadline,
            grace: Duration::ZERO,
            body_limit: 64 * 1024,
            resend: Resend::Unsafe,
            secrets: Secrets::default(),
            secret_body: false,
            attempt: 1,
            signed: None,
        }
    }
}

impl Transport {
    /// The client's one agent: statuses as answers, no redirects, no User-Agent or proxy of
    /// ureq's own (each request is told its proxy), the connect timeout, the trusted CAs;
    /// `InvalidInput` for a proxy URL or CA file that cannot work.
    pub(crate) fn new(settings: Settings<'_>) -> Result<Transport, Error> {
        let setting = &settings.root_certificates_setting;
        let (tls, trust) =
            tls::tls_config(settings.root_certificates, setting, settings.environment)?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(settings.connect_timeout))
            .user_agent(ureq::config::AutoHeaderValue::None)
            .proxy(None)
            .tls_config(tls)
            .build();
        Ok(Transport {
            agent: ureq::Agent::new_with_config(config),
            connect_timeout: settings.connect_timeout,
            proxy: ProxyRoute::new(settings.proxy, settings.environment, &settings.targets)?,
            hooks: settings.hooks,
            trust,
        })
    }

    /// Which CAs are trusted, in words.
    pub(crate) fn trust(&self) -> &str {
        &self.trust.words
    }

    /// The proxy for requests to `target` as errors and `-v` lines name it, `None` when direct.
    pub(crate) fn route_to(&self, target: &Endpoint) -> Option<&str> {
        self.proxy.chosen(target).map(|chosen| chosen.shown.as_str())
    }

    /// What texts built from the answer to `request` are scrubbed of: what the caller gave, the
    /// secrets its headers carry and the proxies' passwords.
    fn secrets_of(&self, request: &Request<'_>) -> Secrets {
        let proxies = [&self.proxy.https, &self.proxy.http].into_iter().flatten();
        let passwords = proxies.flat_map(|chosen| &chosen.passwords).map(String::as_str);
        let headers = request.headers.iter();
        let carried = headers.filter_map(|(name, value)| redact::secret_in_header(name, value));
        request.secrets.with(passwords.chain(carried))
    }

    /// Sends one request and reads its answer; the hooks see both ends, one call each.
    pub(crate) fn exchange(&self, request: &Request<'_>) -> Result<Answer, Error> {
        if self.hooks.wants_requests() {
            let info = RequestInfo::new(
                request.method,
                request.url,
                request.headers,
                request.attempt,
                request.signed,
            );
            self.hooks.request(&info);
        }
        // Decided once: ureq, the errors and the response hook are told the same proxy.
        let chosen = self.proxy.chosen(request.target).filter(|_| !request.direct);
        let proxy = chosen.map(|chosen| chosen.shown.as_str());
        let started = Instant::now();
        let secrets = self.secrets_of(request);
        let result = self
            .send(request, chosen.map(|chosen| chosen.proxy.clone()), &secrets)
            .map_err(|error| error.at(&request.target.host_and_port(), proxy));
        if !self.hooks.wants_responses() {
            return result;
        }
        let answer = result.as_ref().ok();
        self.hooks.response(&ResponseInfo {
            method: request.method,
            url: request.url,
            proxy,
            attempt: request.attempt,
            elapsed: started.elapsed(),
            status: result.as_ref().map(|answer| answer.status),
            headers: answer.map(Answer::shown_headers).unwrap_or_default(),
            request_id: answer.and_then(Answer::request_id),
            body_len: answer.map(|answer| answer.body().len()),
        });
        result
    }

    /// The request on the wire, through `proxy` if any, within its deadline, and its answer read.
    fn send(
        &self,
        request: &Request<'_>,
        proxy: Option<ureq::Proxy>,
        secrets: &Secrets,
    ) -> Result<Answer, Error> {
        let remaining = request.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::transport(
                TransportKind::Timeout,
                "the total deadline passed",
                request.resend,
            ));
        }
        let mut builder = ureq::http::Request::builder().method(request.method).uri(request.url);
        for (name, value) in request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // Every part was checked when it was made (ids, credentials, tokens, the URL).
        let built = builder.body(()).map_err(|error| {
            Error::invalid_input(format!("the request cannot be built: {error}"))
        })?;
        // The connection (TLS and a proxy's CONNECT included) and the head each get no more
        // than the deadline; only a body whose head came may use the grace.
        let connect = request.connect_timeout.unwrap_or(self.connect_timeout);
        let config = self
            .agent
            .configure_request(built)
            .timeout_global(Some(remaining + request.grace))
            .timeout_connect(Some(connect.min(remaining)))
            .timeout_recv_response(Some(remaining))
            .proxy(proxy);
        let response = self.agent.run(config.build()).map_err(|error| {
            let connect_is_deadline = connect >= remaining;
            let phase = Phase::BeforeAnswer { resend: request.resend, connect_is_deadline };
            let error = classify::classify(error, phase).scrub(secrets);
            // A certificate refused says what it was checked against, and what to do.
            let Trust { words, next_step } = &self.trust;
            let note = error.is_tls().then(|| format!("checked against {words}: {next_step}"));
            error.with_note(note)
        })?;
        read(response, request, secrets)
    }
}

/// Reads an answer: a success body up to the limit, or the beginning of an error body.
fn read(
    mut response: ureq::http::Response<ureq::Body>,
    request: &Request<'_>,
    secrets: &Secrets,
) -> Result<Answer, Error> {
    let received_at = SystemTime::now();
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    let success = (200..=299).contains(&status);
    let body = if success {
        let read = response.body_mut().with_config().limit(request.body_limit).read_to_vec();
        match read {
            Ok(body) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                let id =
                    crate::sign::header_value(&headers, "X-Request-Id").map(|id| secrets.show(id));
                return Err(Error::too_large(status, id, request.body_limit));
            }
            Err(error) => {
                return Err(classify::classify(error, Phase::ReadingAnswer).scrub(secrets));
            }
        }
    } else {
        // An unreadable error body still leaves the status and request id to report.
        let mut body = Vec::new();
        let _ = response.body_mut().as_reader().take(ERROR_BODY_LIMIT).read_to_end(&mut body);
        body
    };
    let signed = request.signed.map(|(canonical_request, _)| canonical_request);
    let secrets = match request.secret_body && success {
        true => secrets.with_body(&body),
        false => secrets.clone(),
    };
    Ok(Answer::read(status, headers, body, received_at, &secrets, signed))
}
