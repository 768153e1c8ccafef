//! [`Client::check`]: what a support engineer asks first, then whether the credentials work.

use std::fmt;
use std::time::{Duration, Instant};

use crate::api::{USER_AGENT, validate_id};
use crate::auth::AuthSource;
use crate::client::Client;
use crate::credentials::Auth;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::skew::Offset;
use crate::source::Source;
use crate::transport::Request;

/// What a [`CheckLine`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Topic {
    /// Which credentials, and where they came from.
    Credentials,
    /// A DBSS or IAM endpoint, and where it came from.
    Endpoint,
    /// How requests to a host travel: direct, or the proxy and its variable.
    Route,
    /// Which certificate authorities are trusted.
    Trust,
    /// The unsigned probe: connection, TLS, and the gateway's clock.
    Gateway,
    /// The project id, and the region's project in IAM (a signed call).
    Project,
    /// The signed jobs call.
    Call,
}

/// The topic's name in lower case, as the CLI prints it (padding as asked).
impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{self:?}").to_lowercase())
    }
}

/// One line of [`Client::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckLine {
    /// What the line is about.
    pub topic: Topic,
    /// Whether it holds.
    pub ok: bool,
    /// What was found, in words, the diagnosis first (secrets never: an access key shows its
    /// first and last 4 characters).
    pub text: String,
}

impl CheckLine {
    fn new(topic: Topic, ok: bool, text: impl Into<String>) -> CheckLine {
        CheckLine { topic, ok, text: text.into() }
    }

    fn failed(topic: Topic, error: &Error) -> CheckLine {
        CheckLine::new(topic, false, error.diagnosis_first())
    }
}

impl Client {
    /// Checks the set-up, one [`CheckLine`] per fact: where the credentials and the DBSS and IAM
    /// endpoints came from, the route to each host, the trusted CAs, and an unsigned request to
    /// the DBSS endpoint (TLS, and the gateway's clock from its `Date`). Then at most two signed
    /// calls: the region's project in IAM (a configured project is checked against it), and with
    /// `resource_id` its jobs (once more if the client re-signs an expired signature).
    ///
    /// Failed signatures count toward the gateway's 5-minute lock, so nothing is signed after a
    /// refusal, with a clock the gateway would refuse, or once the probe used up the time; the line
    /// says why. With neither a region nor a resource id nothing is signed: a failure; without a
    /// resource id, so is a configured project IAM does not confirm. When the jobs call works,
    /// what failed before it is a note.
    ///
    /// The whole check has the client's timeout: the probe gets at most 10 s of it, and with a
    /// configured project and a resource id the IAM lookup at most half of what is left.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before any traffic, for a bad
    /// resource id.
    pub fn check(&self, resource_id: Option<&str>) -> Result<Vec<CheckLine>, Error> {
        if let Some(resource_id) = resource_id {
            validate_id("resource id", resource_id)?;
        }
        let deadline = self.deadline();
        let mut lines = vec![self.credentials_line()];
        let config = &self.config;
        let dbss = config.endpoints.iter().map(|e| ("endpoint", e, Some(&config.endpoints_from)));
        let iam = config.iam.iter().map(|e| ("IAM endpoint", e, config.iam_endpoint_from.as_ref()));
        for (what, endpoint, from) in dbss.chain(iam) {
            let from = from.map_or(String::new(), |source| format!(", {}", source.origin()));
            let text = format!("{what} {}{from}", endpoint.base);
            lines.push(CheckLine::new(Topic::Endpoint, true, text));
            let route = self.transport.route_to(endpoint);
            let route =
                route.map_or("direct".to_string(), |proxy| format!("through proxy {proxy}"));
            let text = format!("{}: {route}", endpoint.host_and_port());
            lines.push(CheckLine::new(Topic::Route, true, text));
        }
        lines.push(self.trust_line());
        let (line, offset) = self.gateway_line(&self.config.endpoints[0], deadline);
        lines.push(line);
        // A probe cut at its own 10 s leaves the call its time; one cut at the deadline not.
        if let Some(why) = self.bound_to_fail(Instant::now() >= deadline, offset) {
            lines.push(CheckLine::new(Topic::Call, false, format!("not sent: {why}")));
            return Ok(lines);
        }
        lines.extend(self.signed_lines(resource_id, deadline));
        // The plain call would not fail on what failed on the way (IAM, `GET /`, a clock off).
        if lines.last().is_some_and(|line| line.ok && line.topic == Topic::Call) {
            for line in lines.iter_mut().filter(|line| !line.ok) {
                line.ok = true;
                line.text.insert_str(0, "note: ");
            }
        }
        Ok(lines)
    }

    fn credentials_line(&self) -> CheckLine {
        let config = &self.config;
        let who = match &config.auth {
            AuthSource::Fixed(auth) => match auth.as_ref() {
                Auth::AkSk(credentials) => {
                    format!("access key {}", masked(credentials.access_key()))
                }
                Auth::Token(_) => "an IAM token".to_string(),
            },
            AuthSource::Metadata { .. } => {
                "temporary credentials, fetched on the first call".into()
            }
        };
        let text = format!("{who}, {}", config.credentials_from.origin());
        CheckLine::new(Topic::Credentials, true, text)
    }

    /// The trusted CAs, or that TLS is not used at all.
    fn trust_line(&self) -> CheckLine {
        let config = &self.config;
        let hosts = config.endpoints.iter().chain(&config.iam);
        let text = match hosts.clone().all(Endpoint::is_plain_http) {
            true => "TLS is not used: every endpoint is http://".to_string(),
            false => self.transport.trust().to_string(),
        };
        CheckLine::new(Topic::Trust, true, text)
    }

    /// An unsigned `GET /`: any answer means the connection and TLS hold; its `Date`, the clock
    /// (the gateway's against ours).
    fn gateway_line(&self, endpoint: &Endpoint, deadline: Instant) -> (CheckLine, Option<Offset>) {
        let headers = vec![("User-Agent".to_string(), USER_AGENT.to_string())];
        let url = format!("{}/", endpoint.base);
        // At most 10 s of the check's time.
        let probe_by = deadline.min(Instant::now() + Duration::from_secs(10));
        let request = Request::get(endpoint, &url, &headers, probe_by);
        let tls = match endpoint.is_plain_http() {
            true => "plain http",
            false => "TLS handshake ok",
        };
        match self.transport.exchange(&request) {
            Ok(answer) => {
                let offset = answer.said.date.map(|d| Offset::between(d, answer.received_at));
                let (ok, clock) = clock_words(offset);
                let text =
                    format!("{} answers ({tls}, http {}); {clock}", endpoint.base, answer.status);
                (CheckLine::new(Topic::Gateway, ok, text), offset)
            }
            Err(error) => {
                let text = format!("{}: {}", endpoint.base, error.diagnosis_first());
                (CheckLine::new(Topic::Gateway, false, text), None)
            }
        }
    }

    /// Why a signed request would fail for sure, if it would.
    fn bound_to_fail(&self, out_of_time: bool, offset: Option<Offset>) -> Option<String> {
        if out_of_time {
            return Some(
                "the unsigned request used up the time, so a signed one would fail too".into(),
            );
        }
        let offset = offset.filter(|offset| self.signs() && self.skew.would_refuse(*offset))?;
        Some(format!(
            "{}, more than the 15 minutes the gateway accepts, and the client would not correct \
             it (more than a day off, or clock_skew_correction is off): correct the clock",
            offset.describe()
        ))
    }

    /// Whether requests are signed (AK/SK), not sent with an IAM token.
    fn signs(&self) -> bool {
        match &self.config.auth {
            AuthSource::Fixed(auth) => matches!(auth.as_ref(), Auth::AkSk(_)),
            AuthSource::Metadata { .. } => true,
        }
    }

    /// The region's project from IAM (checking a configured one against it), then the jobs call
    /// when a resource id is given; nothing signed after a refusal.
    fn signed_lines(&self, resource_id: Option<&str>, deadline: Instant) -> Vec<CheckLine> {
        let config = &self.config;
        let configured = self.project_id.get().cloned();
        let from = config.project_id_from.as_ref().map(Source::origin);
        let from = from.as_deref().unwrap_or("from the settings");
        let region = config.region.as_deref().zip(config.iam.as_ref());
        let (project, line) = match (region, configured) {
            (Some((region, iam)), configured) => {
                // A configured project needs no IAM: its lookup leaves a call half of the time.
                let remaining = deadline.saturating_duration_since(Instant::now());
                let lookup_by = match configured.is_some() && resource_id.is_some() {
                    true => Instant::now() + remaining / 2,
                    false => deadline,
                };
                let found = self.look_up_project(iam, region, lookup_by);
                match (found, configured) {
                    // Nothing more is signed after a refused signature (the lock).
                    (Err(error), _) if error.status() == Some(401) || error.attempts() == 0 => {
                        return vec![CheckLine::failed(Topic::Project, &error)];
                    }
                    (Err(error), None) => return vec![CheckLine::failed(Topic::Project, &error)],
                    (found, Some(project)) => {
                        let follows = resource_id.is_some();
                        let line = project_against_iam(&project, found, region, from, follows);
                        (project, line)
                    }
                    (Ok(found), None) => {
                        let text = format!("{found} (the region's, looked up in IAM)");
                        (found, CheckLine::new(Topic::Project, true, text))
                    }
                }
            }
            (None, Some(project)) => {
                let line = CheckLine::new(Topic::Project, true, format!("{project}, {from}"));
                (project, line)
            }
            (None, None) => {
                let why = "no project id, and no region to look it up in IAM";
                return vec![CheckLine::new(Topic::Project, false, why)];
            }
        };
        let Some(resource_id) = resource_id else {
            let mut lines = vec![line];
            if region.is_none() {
                let why = "nothing signed: without a region (for the IAM lookup) or a RESOURCE_ID, \
                           nothing shows that the credentials work";
                lines.push(CheckLine::new(Topic::Call, false, why));
            }
            return lines;
        };
        let call = match self.get_jobs_within(&project, resource_id, deadline) {
            Ok(jobs) => {
                let text = format!("{} job(s) listed for {resource_id:?}", jobs.len());
                CheckLine::new(Topic::Call, true, text)
            }
            Err(error) => CheckLine::failed(Topic::Call, &error),
        };
        vec![line, call]
    }
}

/// A configured project's line, with what IAM says of it (it may be a sub-project, not the
/// region's main one). IAM's trouble is a note when the jobs call follows (it decides); else
/// nothing confirms the credentials (a status alone, even a 403, may come from any server).
fn project_against_iam(
    project: &str,
    found: Result<String, Error>,
    region: &str,
    from: &str,
    call_follows: bool,
) -> CheckLine {
    let (ok, text) = match found {
        Ok(found) if found == project => (true, format!("IAM agrees it is {region}'s")),
        Ok(found) => (
            true,
            format!(
                "note: not {region}'s main project ({found}): a sub-project, or another region's"
            ),
        ),
        Err(error) if call_follows => (
            true,
            format!(
                "note: IAM did not confirm it (a configured project needs no IAM): {}",
                error.diagnosis_first()
            ),
        ),
        Err(error) => (
            false,
            format!(
                "{}; a configured project needs no IAM, but then nothing confirms the credentials: \
                 a resource id adds the jobs call",
                error.diagnosis_first()
            ),
        ),
    };
    CheckLine::new(Topic::Project, ok, format!("{project}, {from}; {text}"))
}

/// The gateway's clock against ours, from an answer's `Date`: whether they agree, in words.
fn clock_words(offset: Option<Offset>) -> (bool, String) {
    match offset {
        None => (true, "no Date header to compare clocks with".to_string()),
        Some(offset) if offset.is_significant() => {
            (false, format!("{}: correct the clock", offset.describe()))
        }
        Some(_) => (true, "its clock and ours agree within 5 minutes".to_string()),
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

#[cfg(test)]
mod tests {
    #[test]
    fn an_access_key_shows_only_its_ends() {
        assert_eq!(super::masked("ABCDEFGHIJKLMNOP1234"), "ABCD…1234");
        assert_eq!(super::masked("SHORT"), "*****");
    }
}
