//! [`Client::check`]: what a support engineer asks first, one line each, then at most one signed
//! call. It never sends a signed request after a refused one.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::api::check_id;
use crate::auth::{Auth, AuthSource};
use crate::client::Client;
use crate::error::{Error, Resend};
use crate::redact::Secrets;
use crate::skew::Offset;
use crate::transport::{Endpoint, Request, Route};

/// One line of [`Client::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckLine {
    /// What the line is about: `credentials`, `endpoint`, `route`, `trust`, `address`, `gateway`,
    /// `project`, `call`.
    pub topic: &'static str,
    /// Whether it holds.
    pub ok: bool,
    /// What was found, in words (secrets never: an access key shows its first and last 4
    /// characters).
    pub text: String,
}

impl CheckLine {
    fn new(topic: &'static str, ok: bool, text: impl Into<String>) -> CheckLine {
        CheckLine {
            topic,
            ok,
            text: text.into(),
        }
    }
}

impl Client {
    /// Checks the set-up, one [`CheckLine`] each: where the credentials came from, the DBSS and
    /// IAM endpoints and where they came from, the route to each host (direct, or the proxy and
    /// its variable), the trusted CAs, each host's addresses, an unsigned request to the DBSS
    /// endpoint (TLS, and the gateway's clock against ours from its `Date`), the project id and
    /// how it was found; then at most one signed call: `resource_id`'s jobs, or the IAM project
    /// lookup when there is no resource id (and the lookup first when the project is not
    /// configured), diagnosed as every error is. No signed request is sent after a refused one.
    /// The whole check has the client's timeout: each address lookup and the unsigned request
    /// get what is left of it, at most 10 s, and the signed call the rest. When the unsigned
    /// request runs out of time, no signed request is sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before any traffic, for a bad
    /// resource id.
    pub fn check(&self, resource_id: Option<&str>) -> Result<Vec<CheckLine>, Error> {
        if let Some(resource_id) = resource_id {
            check_id("resource id", resource_id)?;
        }
        let deadline = self.deadline();
        let mut lines = vec![self.credentials_line()];
        let config = self.config();
        let mut hosts: Vec<(&'static str, &Endpoint)> =
            config.endpoints.iter().map(|e| ("endpoint", e)).collect();
        if let Some(iam) = &config.iam {
            hosts.push(("IAM endpoint", iam));
        }
        for (what, endpoint) in &hosts {
            let from = match *what {
                "endpoint" => config.provenance.endpoints.clone(),
                _ => config.provenance.iam_endpoint.clone(),
            };
            lines.push(CheckLine::new(
                "endpoint",
                true,
                format!("{what} {}, {from}", endpoint.base),
            ));
            lines.push(self.route_line(endpoint));
            lines.push(address_line(
                endpoint,
                config.transport.proxy_resolves(endpoint),
                probe_limit(deadline),
            ));
        }
        lines.push(CheckLine::new(
            "trust",
            true,
            config.transport.trust().to_string(),
        ));
        let (gateway, out_of_time) = self.gateway_line(self.check_endpoint(), deadline);
        lines.push(gateway);
        if out_of_time {
            let why = "not sent: the unsigned request ran out of time, so a signed one would too";
            lines.push(CheckLine::new("call", false, why));
            return Ok(lines);
        }
        lines.extend(self.signed_lines(resource_id, deadline));
        Ok(lines)
    }

    fn check_endpoint(&self) -> &Endpoint {
        &self.config().endpoints[0]
    }

    fn credentials_line(&self) -> CheckLine {
        let config = self.config();
        let who = match &config.auth {
            AuthSource::Fixed(auth) => match auth.as_ref() {
                Auth::AkSk(credentials) => {
                    format!("access key {}", masked(credentials.access_key()))
                }
                Auth::Token(_) => "an IAM token".to_string(),
            },
            AuthSource::Metadata(_) => {
                "temporary credentials, fetched on the first call".to_string()
            }
        };
        CheckLine::new(
            "credentials",
            true,
            format!("{who}, from {}", config.provenance.credentials),
        )
    }

    fn route_line(&self, endpoint: &Endpoint) -> CheckLine {
        let route = match self.config().transport.route_to(endpoint) {
            Some(proxy) => format!("through proxy {proxy}"),
            None => "direct".to_string(),
        };
        CheckLine::new(
            "route",
            true,
            format!("{}: {route}", endpoint.host_and_port()),
        )
    }

    /// An unsigned `GET /` to the endpoint: any answer means the connection and TLS hold; its
    /// `Date` tells the gateway's clock. Also whether it ran out of time.
    fn gateway_line(&self, endpoint: &Endpoint, deadline: Instant) -> (CheckLine, bool) {
        let config = self.config();
        let headers = vec![("User-Agent".to_string(), config.user_agent.clone())];
        let url = format!("{}/", endpoint.base);
        let request = Request {
            method: "GET",
            target: endpoint,
            url: &url,
            headers: &headers,
            route: Route::AsConfigured,
            connect_timeout: None,
            deadline: Instant::now() + probe_limit(deadline),
            grace: Duration::ZERO,
            body_limit: 64 * 1024,
            resend: Resend::Unsafe,
            secrets: &Secrets::default(),
            secret_body: false,
            attempt: 1,
            signed: None,
        };
        let tls = if endpoint.is_plain_http() {
            "plain http"
        } else {
            "TLS handshake ok"
        };
        match config.transport.exchange(&request) {
            Ok(answer) => {
                let (ok, clock) = clock_words(&answer);
                let text = format!(
                    "{} answers ({tls}, http {}); {clock}",
                    endpoint.base, answer.status
                );
                (CheckLine::new("gateway", ok, text), false)
            }
            Err(error) => {
                let line = CheckLine::new("gateway", false, format!("{}: {error}", endpoint.base));
                (line, error.is_timeout())
            }
        }
    }

    /// The project id (looked up in IAM when it is not configured: a signed call), then the jobs
    /// call when a resource id is given and nothing was refused before it.
    fn signed_lines(&self, resource_id: Option<&str>, deadline: Instant) -> Vec<CheckLine> {
        let config = self.config();
        let (project_id, project) = match self.project_id.get() {
            Some(project) => {
                let from = config
                    .provenance
                    .project_id
                    .as_deref()
                    .unwrap_or("from the settings");
                let line = CheckLine::new("project", true, format!("{project}, {from}"));
                (project.clone(), line)
            }
            None => match self.project_id_before(deadline) {
                Ok(project) => {
                    let line = format!("{project} (looked up in IAM)");
                    (project, CheckLine::new("project", true, line))
                }
                Err(error) => return vec![CheckLine::new("project", false, error.report())],
            },
        };
        let Some(resource_id) = resource_id else {
            return vec![project];
        };
        let call = match self.get_jobs_before(&project_id, resource_id, deadline) {
            Ok(jobs) => CheckLine::new(
                "call",
                true,
                format!("{} job(s) listed for {resource_id:?}", jobs.len()),
            ),
            Err(error) => CheckLine::new("call", false, error.report()),
        };
        vec![project, call]
    }
}

/// How long an unsigned probe (a host's addresses, the gateway's answer) may take: what is left
/// of the check's deadline, at most 10 s.
fn probe_limit(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .min(Duration::from_secs(10))
}

/// The gateway's clock against ours, from an answer's `Date`: whether they agree, in words.
fn clock_words(answer: &crate::gateway::Answer) -> (bool, String) {
    let Some(gateway) = answer.said.date else {
        return (true, "no Date header to compare clocks with".to_string());
    };
    let offset = Offset::between(gateway, answer.received_at);
    match offset.is_significant() {
        false => (
            true,
            "its clock and ours agree within 5 minutes".to_string(),
        ),
        true => (false, format!("{}: correct the clock", offset.describe())),
    }
}

/// `ABCD…WXYZ`: enough to tell access keys apart, not the whole key.
fn masked(access_key: &str) -> String {
    let chars: Vec<char> = access_key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// The host's addresses, as the system resolver gives them (a proxy resolves for itself), within
/// `limit`.
fn address_line(endpoint: &Endpoint, proxy_resolves: bool, limit: Duration) -> CheckLine {
    let host = endpoint.host_and_port();
    if proxy_resolves {
        return CheckLine::new("address", true, format!("{host}: resolved by the proxy"));
    }
    let lookup = |host: &str| -> std::io::Result<Vec<IpAddr>> {
        Ok(host.to_socket_addrs()?.map(|a| a.ip()).collect())
    };
    match resolve_within(host.clone(), limit, lookup) {
        Ok(addresses) => {
            let addresses: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
            CheckLine::new("address", true, format!("{host}: {}", addresses.join(", ")))
        }
        Err(why) => CheckLine::new(
            "address",
            false,
            format!("{host}: cannot be resolved ({why})"),
        ),
    }
}

/// `lookup(host)` in a thread of its own, waited for at most `limit`: the system resolver has
/// timeouts of its own, but not the client's. A lookup that outlives `limit` ends in its thread.
fn resolve_within<F>(host: String, limit: Duration, lookup: F) -> Result<Vec<IpAddr>, String>
where
    F: FnOnce(&str) -> std::io::Result<Vec<IpAddr>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(lookup(&host)));
    match receiver.recv_timeout(limit) {
        Ok(Ok(addresses)) => Ok(addresses),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!(
            "the system resolver did not answer within {} ms",
            limit.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lookup_that_outlives_the_limit_is_not_waited_for() {
        use std::time::Duration;
        // The slow lookup would give Ok(no addresses): the error shows it was not waited for.
        let slow = |_: &str| {
            std::thread::sleep(Duration::from_secs(5));
            Ok(vec![])
        };
        let outcome = super::resolve_within("h:443".into(), Duration::from_millis(50), slow);
        assert_eq!(
            outcome,
            Err("the system resolver did not answer within 50 ms".to_string())
        );
        let quick = |host: &str| Err(std::io::Error::other(format!("{host} is unknown")));
        let outcome = super::resolve_within("h:443".into(), Duration::from_secs(5), quick);
        assert_eq!(outcome, Err("h:443 is unknown".to_string()));
    }

    #[test]
    fn an_access_key_shows_only_its_ends() {
        assert_eq!(super::masked("ABCDEFGHIJKLMNOP1234"), "ABCD…1234");
        assert_eq!(super::masked("SHORT"), "*****");
    }
}
