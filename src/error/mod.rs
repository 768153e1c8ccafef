//! The crate's one error type, [`Error`], and the details of a refused 401 it carries:
//! [`AuthFailure`] and [`SignatureMismatch`]. Server texts arrive scrubbed, from `gateway`.

use std::fmt;

mod auth;

use crate::redact::Secrets;
pub use auth::{AuthFailure, SignatureMismatch};

/// What went wrong, in broad classes; see [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Rejected before any traffic: a malformed id, endpoint, credentials or option.
    InvalidInput,
    /// The request did not get an HTTP answer: DNS, connect, TLS, timeout, reset, truncated body.
    Transport,
    /// The service, or its gateway, answered a non-success status.
    Api,
    /// A success answer whose body is not the documented JSON, or is over the body limit.
    Decode,
    /// Nothing was sent: the gateway refused this access key earlier ([`Error::auth_failure`]).
    AccessKeyRefused,
    /// `wait_for_jobs` ran out of time; see [`Error::last_jobs`] and `source()`.
    WaitTimedOut,
}

/// Finer classes of transport failure, for [`Error::is_timeout`] and its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    Dns,
    Connect,
    Tls,
    Timeout,
    Other,
}

/// An error from this crate: `Display` is one line with the status, `error_code`, `error_msg` and
/// request id where there are any, and never a secret ([`ClientBuilder`](crate::ClientBuilder)
/// says how server texts are scrubbed).
///
#[doc = include_str!("../doc/errors.md")]
pub struct Error(Box<Parts>);

/// Everything an error holds, behind one pointer: an `Error` is as small as a `Result` can wish.
#[derive(Debug)]
struct Parts {
    detail: Detail,
    attempts: u32,
    /// Where the error happened, when not in the DBSS call itself; printed before the rest.
    context: Option<String>,
    missing_credentials: bool,
    /// What the client learned that explains the error (a wrong clock), printed last.
    note: Option<String>,
}

/// Whether a failed attempt may be sent again as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// No answer began: the GET may be sent again.
    Safe,
    /// Resending would not help, or an answer had begun.
    Unsafe,
}

#[derive(Debug)]
enum Detail {
    InvalidInput(String),
    Transport {
        kind: TransportKind,
        message: String,
        resend: Resend,
    },
    Api(ApiError),
    /// No request was sent: the gateway refused the access key this long ago.
    Refused(std::time::Duration, AuthFailure),
    Decode {
        status: u16,
        request_id: Option<String>,
        message: String,
        /// The body limit a success body was over, when that is what went wrong.
        over_limit: Option<u64>,
    },
    WaitTimedOut {
        /// What the polls saw, in words (the wait writes it).
        summary: String,
        jobs: Option<Vec<crate::model::Job>>,
        last_error: Option<Error>,
    },
}

/// The parts of an error answer, as the service gave them, and what the gateway's words mean.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) error_code: Option<String>,
    pub(crate) error_msg: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) encoded_authorization_message: Option<String>,
    pub(crate) auth_failure: Option<AuthFailure>,
    pub(crate) signature_mismatch: Option<SignatureMismatch>,
    pub(crate) canonical_request: Option<String>,
    pub(crate) retry_after: Option<std::time::Duration>,
}

impl Error {
    pub(crate) fn invalid_input(message: impl Into<String>) -> Error {
        Error::new(Detail::InvalidInput(message.into()))
    }

    pub(crate) fn transport(
        kind: TransportKind,
        message: impl Into<String>,
        resend: Resend,
    ) -> Error {
        Error::new(Detail::Transport { kind, message: message.into(), resend })
    }

    /// A call not sent because the gateway refused this access key `ago`.
    pub(crate) fn refused(failure: AuthFailure, ago: std::time::Duration) -> Error {
        Error::new(Detail::Refused(ago, failure))
            .with_note(Some(failure.to_string()))
            .with_attempts(0)
    }

    pub(crate) fn wait_timed_out(
        summary: String,
        jobs: Option<Vec<crate::model::Job>>,
        last_error: Option<Error>,
    ) -> Error {
        Error::new(Detail::WaitTimedOut { summary, jobs, last_error })
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Error {
        self.0.attempts = attempts;
        self
    }

    /// A connection failure or timeout before any response: safe to send the GET again.
    pub(crate) fn is_retryable_transport(&self) -> bool {
        matches!(self.0.detail, Detail::Transport { resend: Resend::Safe, .. })
    }

    pub(crate) fn api(api: ApiError) -> Error {
        Error::new(Detail::Api(api))
    }

    pub(crate) fn decode(status: u16, request_id: Option<String>, message: String) -> Error {
        Error::new(Detail::Decode { status, request_id, message, over_limit: None })
    }

    pub(crate) fn too_large(status: u16, request_id: Option<String>, limit: u64) -> Error {
        Error::new(Detail::Decode {
            status,
            request_id,
            message: format!("response body is larger than the limit of {limit} bytes"),
            over_limit: Some(limit),
        })
    }

    /// A transport failure's message as it may be shown (ureq's words may quote a server's).
    pub(crate) fn scrub(mut self, secrets: &Secrets) -> Error {
        if let Detail::Transport { message, .. } | Detail::Decode { message, .. } =
            &mut self.0.detail
        {
            *message = secrets.show(message);
        }
        self
    }

    /// Prefixes a transport failure with where it happened (`connecting to host:port`, a proxy).
    pub(crate) fn at(mut self, target: &str, proxy: Option<&str>) -> Error {
        if let Detail::Transport { kind, message, .. } = &mut self.0.detail {
            let connecting =
                matches!(kind, TransportKind::Connect | TransportKind::Dns | TransportKind::Tls);
            let place = match (proxy, connecting) {
                (Some(proxy), true) => format!("connecting to proxy {proxy} for {target}"),
                (Some(proxy), false) => format!("{target} through proxy {proxy}"),
                (None, true) => format!("connecting to {target}"),
                (None, false) => target.to_string(),
            };
            *message = format!("{place}: {message}");
        }
        self
    }

    /// Replaces the note, when there is one to give.
    pub(crate) fn with_note(mut self, note: Option<String>) -> Error {
        self.0.note = note.or(self.0.note.take());
        self
    }

    /// Marks the error as the credential chain's last word: nothing was found.
    pub(crate) fn no_credentials_found(mut self) -> Error {
        self.0.missing_credentials = true;
        self
    }

    /// A refused setting's message prefixed with where the setting came from.
    pub(crate) fn named_by(mut self, source: &impl fmt::Display) -> Error {
        if let Detail::InvalidInput(message) = &mut self.0.detail {
            *message = format!("{source}: {message}");
        }
        self
    }

    /// Says where the error happened (e.g. `IAM https://iam...`), printed before the rest.
    pub(crate) fn in_context(mut self, context: String) -> Error {
        self.0.context = Some(context);
        self
    }

    fn new(detail: Detail) -> Error {
        Error(Box::new(Parts {
            detail,
            attempts: 1,
            context: None,
            missing_credentials: false,
            note: None,
        }))
    }

    /// How many requests were sent (see [`RetryPolicy`](crate::RetryPolicy)); 0 when nothing
    /// was ([`ErrorKind::AccessKeyRefused`]).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// The last answered poll's jobs, for [`ErrorKind::WaitTimedOut`]; `None` if no poll was.
    pub fn last_jobs(&self) -> Option<&[crate::model::Job]> {
        match &self.0.detail {
            Detail::WaitTimedOut { jobs, .. } => jobs.as_deref(),
            _ => None,
        }
    }

    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match &self.0.detail {
            Detail::InvalidInput(_) => ErrorKind::InvalidInput,
            Detail::Transport { .. } => ErrorKind::Transport,
            Detail::Api(_) => ErrorKind::Api,
            Detail::Refused(..) => ErrorKind::AccessKeyRefused,
            Detail::Decode { .. } => ErrorKind::Decode,
            Detail::WaitTimedOut { .. } => ErrorKind::WaitTimedOut,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match &self.0.detail {
            Detail::Api(api) => Some(api.status),
            Detail::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's `error_code` (for example `DBSS.XXXX` or `APIGW.0301`).
    pub fn error_code(&self) -> Option<&str> {
        self.api_parts()?.error_code.as_deref()
    }

    /// The service's `error_msg`.
    pub fn error_msg(&self) -> Option<&str> {
        self.api_parts()?.error_msg.as_deref()
    }

    /// The `X-Request-Id` of the answer (or the body's `request_id`), to quote to Huawei support.
    pub fn request_id(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::Api(api) => api.request_id.as_deref(),
            Detail::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The gateway's `encoded_authorization_message`, sent with some authorization failures.
    pub fn encoded_authorization_message(&self) -> Option<&str> {
        self.api_parts()?.encoded_authorization_message.as_deref()
    }

    /// True when a configured timeout (connect or total deadline) ran out.
    pub fn is_timeout(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Timeout)
    }

    /// True when the host name could not be resolved.
    pub fn is_dns(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Dns)
    }

    /// True when no connection could be made (refused, unreachable).
    pub fn is_connect(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Connect)
    }

    /// True when the TLS handshake or certificate check failed.
    pub fn is_tls(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Tls)
    }

    /// For a 401 to a signed request, the canonical request signed (the security token redacted).
    pub fn canonical_request(&self) -> Option<&str> {
        self.api_parts()?.canonical_request.as_deref()
    }

    /// The error and the chain of its causes on one line (`...: caused by: ...`): what a
    /// command-line tool prints, as `{:?}` does after the kind.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(&format!(": caused by: {cause}"));
            source = cause.source();
        }
        text
    }

    /// As [`Error::report`], with what the client concluded first, for a diagnosis at a glance.
    pub(crate) fn diagnosis_first(&self) -> String {
        let Some(note) = &self.0.note else {
            return self.report();
        };
        let context = self.0.context.as_ref().map_or(String::new(), |c| format!("{c}: "));
        let attempts = match self.0.attempts {
            n if n > 1 => format!(" (after {n} attempts)"),
            _ => String::new(),
        };
        format!("{note} — {context}{}{attempts}", self.0.detail)
    }

    /// Why the gateway refused the credentials, for a 401 that says; `Display` ends with the hint.
    pub fn auth_failure(&self) -> Option<AuthFailure> {
        match &self.0.detail {
            Detail::Refused(_, failure) => Some(*failure),
            _ => self.api_parts()?.auth_failure,
        }
    }

    /// For a wrong signature the gateway echoed: both canonical requests, where they first differ.
    pub fn signature_mismatch(&self) -> Option<&SignatureMismatch> {
        self.api_parts()?.signature_mismatch.as_ref()
    }

    /// How long the service asked to wait (a 429's flow-control window, or `Retry-After`), at
    /// most a day; [`Client::wait_for_jobs`](crate::Client::wait_for_jobs) polls no sooner.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.api_parts()?.retry_after
    }

    /// True when the credential chain found nothing; the message lists each step and why.
    pub fn is_missing_credentials(&self) -> bool {
        self.0.missing_credentials
    }

    /// True for the failures the client itself retries: a connection failure or timeout before
    /// any answer, and 429, 502, 503 and 504; they may pass if tried again later.
    pub fn is_retryable(&self) -> bool {
        self.is_retryable_transport()
            || self.api_parts().is_some_and(|api| crate::retry::is_retryable_status(api.status))
    }

    /// True when a success answer was larger than the configured body limit.
    pub fn is_body_too_large(&self) -> bool {
        matches!(self.0.detail, Detail::Decode { over_limit: Some(_), .. })
    }

    fn api_parts(&self) -> Option<&ApiError> {
        match &self.0.detail {
            Detail::Api(api) => Some(api),
            _ => None,
        }
    }

    fn transport_kind(&self) -> Option<TransportKind> {
        match &self.0.detail {
            Detail::Transport { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(context) = &self.0.context {
            write!(f, "{context}: ")?;
        }
        write!(f, "{}", self.0.detail)?;
        if let Some(note) = &self.0.note {
            write!(f, "; {note}")?;
        }
        if self.0.attempts > 1 {
            write!(f, " (after {} attempts)", self.0.attempts)?;
        }
        Ok(())
    }
}

/// The error's own words: no context, note or attempts.
impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::InvalidInput(message) => write!(f, "invalid input: {message}"),
            Detail::Transport { message, .. } => write!(f, "transport error: {message}"),
            Detail::Refused(ago, _) => write!(
                f,
                "not sent: the gateway refused this access key {:.0} s ago",
                ago.as_secs_f64()
            ),
            Detail::Api(api) => {
                write!(f, "api error: http {}", api.status)?;
                if let Some(code) = &api.error_code {
                    write!(f, " {code}")?;
                }
                if let Some(msg) = &api.error_msg {
                    write!(f, ": {msg}")?;
                }
                if let Some(id) = &api.request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
            Detail::Decode { status, request_id, message, .. } => {
                write!(f, "cannot decode http {status} answer: {message}")?;
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
            // The last poll's error is the `source()`, not repeated here.
            Detail::WaitTimedOut { summary, .. } => f.write_str(summary),
        }
    }
}

/// `{:?}` is the kind and [`Error::report`] (what `fn main` prints); `{:#?}` shows the fields.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return f
                .debug_struct("Error")
                .field("kind", &self.kind())
                .field("parts", &self.0)
                .finish();
        }
        write!(f, "{:?}: {}", self.kind(), self.report())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.detail {
            Detail::WaitTimedOut { last_error: Some(error), .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As ureq's `ensure_error_size`: a `Result<T, Error>` stays small.
    #[test]
    fn an_error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
