//! The one place where ureq's errors become this crate's [`Error`]s.

use crate::error::{Error, Resend, TransportKind};

/// When a ureq error happened: before any answer began, or while one was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    BeforeAnswer,
    ReadingAnswer,
}

/// Classifies a ureq error. Only connection failures and timeouts that happen before any response
/// are retryable: then the server has not answered, and the GET may be sent again.
///
/// ureq reports resolver failures and rustls handshake failures as `Error::Io`; the inner error is
/// looked at so that `is_dns()` and `is_tls()` tell the truth.
/// `connect_is_deadline` says the connect timeout was cut to the call's deadline.
pub(crate) fn classify(
    error: ureq::Error,
    phase: Phase,
    resend: Resend,
    connect_is_deadline: bool,
) -> Error {
    use std::io::ErrorKind as Io;
    let (kind, connection_failure) = match &error {
        ureq::Error::Timeout(_) => (TransportKind::Timeout, true),
        ureq::Error::HostNotFound => (TransportKind::Dns, false),
        ureq::Error::ConnectionFailed => (TransportKind::Connect, true),
        ureq::Error::Tls(_) => (TransportKind::Tls, false),
        ureq::Error::Io(io) if is_resolver_failure(io) => (TransportKind::Dns, false),
        ureq::Error::Io(io) if tls_failure_text(io).is_some() => (TransportKind::Tls, false),
        ureq::Error::Io(io) => match io.kind() {
            Io::ConnectionRefused => (TransportKind::Connect, true),
            Io::TimedOut | Io::WouldBlock => (TransportKind::Timeout, true),
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                (TransportKind::Other, true)
            }
            _ => (TransportKind::Other, false),
        },
        _ if tls_error_text(&error).is_some() => (TransportKind::Tls, false),
        _ => (TransportKind::Other, false),
    };
    let message = match kind {
        TransportKind::Tls => tls_words(&error),
        TransportKind::Timeout => timeout_words(&error, connect_is_deadline),
        TransportKind::Dns => {
            format!("the host name could not be resolved ({})", inner_text(&error))
        }
        _ => match &error {
            ureq::Error::ConnectProxyFailed(reason) => proxy_words(reason),
            _ => inner_text(&error),
        },
    };
    let resend = match (phase, connection_failure, resend) {
        (Phase::BeforeAnswer, true, Resend::Safe) => Resend::Safe,
        _ => Resend::Unsafe,
    };
    Error::transport(kind, message, resend)
}

/// A CONNECT proxy's refusal, in words: ureq writes `proxy server responded 407/407`.
fn proxy_words(reason: &str) -> String {
    let status = reason
        .strip_prefix("proxy server responded ")
        .and_then(|rest| rest.split('/').next())
        .and_then(|status| status.parse::<u16>().ok());
    match status {
        Some(407) => "the proxy answered http 407: it wants a user name and password, or \
                      refused the ones given"
            .to_string(),
        Some(status) => format!("the proxy answered http {status} to CONNECT"),
        None => format!("the proxy failed ({reason})"),
    }
}

/// Which deadline passed, in words: the answer's head is held to the call's deadline, and so is
/// the connection when less than its own timeout was left.
fn timeout_words(error: &ureq::Error, connect_is_deadline: bool) -> String {
    use ureq::Timeout;
    match error {
        ureq::Error::Timeout(Timeout::Global | Timeout::RecvResponse) => {
            "the total deadline passed".to_string()
        }
        ureq::Error::Timeout(Timeout::Connect) if connect_is_deadline => {
            "the total deadline passed".to_string()
        }
        ureq::Error::Timeout(Timeout::Connect) => {
            "no connection within the connect timeout".to_string()
        }
        ureq::Error::Timeout(which) => format!("the {which} timeout passed"),
        other => format!("timed out ({})", inner_text(other)),
    }
}

/// std reports `getaddrinfo` failures with this text (the error kind is not stable to match).
fn is_resolver_failure(io: &std::io::Error) -> bool {
    io.to_string().starts_with("failed to lookup address information")
}

/// The text of a TLS library's error inside an I/O error, if that is what it is.
fn tls_failure_text(io: &std::io::Error) -> Option<String> {
    let inner = io.get_ref()?;
    #[cfg(not(feature = "native-tls"))]
    let is_tls = is_inner_of(ureq::Error::Rustls, inner);
    #[cfg(feature = "native-tls")]
    let is_tls =
        is_inner_of(ureq::Error::NativeTls, inner) || is_inner_of(ureq::Error::Rustls, inner);
    is_tls.then(|| inner.to_string())
}

/// Whether `inner` is the payload type of the ureq error variant `variant` (a tuple variant is a
/// function from its payload), without naming the TLS library's type.
fn is_inner_of<T: std::error::Error + 'static>(
    _variant: fn(T) -> ureq::Error,
    inner: &(dyn std::error::Error + Send + Sync + 'static),
) -> bool {
    inner.is::<T>()
}

/// The TLS library's text for a TLS error reported as its own ureq variant.
fn tls_error_text(error: &ureq::Error) -> Option<String> {
    match error {
        ureq::Error::Rustls(inner) => Some(inner.to_string()),
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(inner) => Some(inner.to_string()),
        _ => None,
    }
}

/// What went wrong in a TLS handshake, in words, with the TLS library's text in parentheses.
fn tls_words(error: &ureq::Error) -> String {
    let text = inner_text(error);
    let lower = text.to_ascii_lowercase();
    let words = if lower.contains("unknownissuer") || lower.contains("unable to get local issuer") {
        "the server's certificate is not trusted (unknown issuer)"
    } else if ["not valid for name", "hostname mismatch", "ip address mismatch"]
        .iter()
        .any(|text| lower.contains(text))
    {
        "the server's certificate is not valid for this host name"
    } else if lower.contains("expired") {
        "the server's certificate has expired"
    } else if lower.contains("self-signed") || lower.contains("self signed") {
        "the server's certificate is self-signed and not trusted"
    } else {
        "the TLS handshake failed"
    };
    format!("{words} ({text})")
}

/// The innermost text of a ureq error, without ureq's `io: ` prefix.
fn inner_text(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) => io.to_string(),
        other => tls_error_text(other).unwrap_or_else(|| other.to_string()),
    }
}
