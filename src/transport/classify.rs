//! The one place where ureq's errors become this crate's [`Error`]s.

use crate::error::{Error, Resend, TransportKind};

/// When a ureq error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before any answer began; `connect_is_deadline` when the connect timeout was the deadline.
    BeforeAnswer {
        resend: Resend,
        connect_is_deadline: bool,
    },
    ReadingAnswer,
}

/// Classifies a ureq error; only connection failures and timeouts before any response may be
/// resent. ureq reports resolver and rustls failures as `Error::Io`: the inner error is looked at
/// so that `is_dns()` and `is_tls()` tell the truth.
pub(crate) fn classify(error: ureq::Error, phase: Phase) -> Error {
    use std::io::ErrorKind as Io;
    let (kind, connection_failure) = match &error {
        ureq::Error::Timeout(_) => (TransportKind::Timeout, true),
        ureq::Error::HostNotFound => (TransportKind::Dns, false),
        ureq::Error::ConnectionFailed => (TransportKind::Connect, true),
        ureq::Error::Io(io) if is_resolver_failure(io) => (TransportKind::Dns, false),
        ureq::Error::Io(io) if is_tls_failure(io) => (TransportKind::Tls, false),
        ureq::Error::Io(io) => match io.kind() {
            Io::ConnectionRefused => (TransportKind::Connect, true),
            Io::TimedOut | Io::WouldBlock => (TransportKind::Timeout, true),
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                (TransportKind::Other, true)
            }
            _ => (TransportKind::Other, false),
        },
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => (TransportKind::Tls, false),
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(_) => (TransportKind::Tls, false),
        _ => (TransportKind::Other, false),
    };
    let message = match kind {
        TransportKind::Tls => tls_words(&error),
        TransportKind::Timeout => timeout_words(&error, phase),
        TransportKind::Dns => {
            format!("the host name could not be resolved ({})", inner_text(&error))
        }
        _ => match &error {
            ureq::Error::ConnectProxyFailed(reason) => proxy_words(reason),
            _ => inner_text(&error),
        },
    };
    let resend = match phase {
        Phase::BeforeAnswer { resend: Resend::Safe, .. } if connection_failure => Resend::Safe,
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
fn timeout_words(error: &ureq::Error, phase: Phase) -> String {
    use ureq::Timeout;
    let connect_is_deadline =
        matches!(phase, Phase::BeforeAnswer { connect_is_deadline: true, .. });
    match error {
        ureq::Error::Timeout(Timeout::Connect) if !connect_is_deadline => {
            "no connection within the connect timeout".to_string()
        }
        ureq::Error::Timeout(Timeout::Global | Timeout::RecvResponse | Timeout::Connect) => {
            "the total deadline passed".to_string()
        }
        ureq::Error::Timeout(which) => format!("the {which} timeout passed"),
        other => format!("timed out ({})", inner_text(other)),
    }
}

/// std reports `getaddrinfo` failures with this text (the error kind is not stable to match).
fn is_resolver_failure(io: &std::io::Error) -> bool {
    io.to_string().starts_with("failed to lookup address information")
}

/// Whether an I/O error carries a TLS library's error.
fn is_tls_failure(io: &std::io::Error) -> bool {
    let Some(inner) = io.get_ref() else {
        return false;
    };
    #[cfg(feature = "native-tls")]
    if is_inner_of(ureq::Error::NativeTls, inner) {
        return true;
    }
    is_inner_of(ureq::Error::Rustls, inner)
}

/// Whether `inner` is the payload of the ureq error variant `variant`, naming no TLS library type.
fn is_inner_of<T: std::error::Error + 'static>(
    _variant: fn(T) -> ureq::Error,
    inner: &(dyn std::error::Error + Send + Sync + 'static),
) -> bool {
    inner.is::<T>()
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
    } else if lower.contains("badsignature") {
        "the server's certificate is signed by another key than the trusted CA of that name's \
         (a renewed CA, or a proxy that inspects TLS)"
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
        ureq::Error::Rustls(inner) => inner.to_string(),
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(inner) => inner.to_string(),
        other => other.to_string(),
    }
}
