//! The scripted replies: an answer, or a fault on the wire in its place, and how each is written.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

#[cfg(doc)]
use super::FakeDbss;
use crate::model::Job;
use crate::timestamps::format_http_date;

/// An answer to give instead of the normal one ([`FakeDbss::inject_for`]), or a transport fault in
/// its place ([`Reply::close`], [`Reply::reset`], [`Reply::stall`], [`Reply::drip`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub(super) status: u16,
    headers: Vec<(String, String)>,
    body: String,
    pub(super) fault: Option<Fault>,
}

/// What goes wrong on the wire instead of, or while, answering (see the constructors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    Close,
    Reset,
    Stall(Duration),
    Drip(Duration),
}

impl Reply {
    /// Any status and body.
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, headers: Vec::new(), body: body.into(), fault: None }
    }

    /// The connection is closed without an answer (a connection failure: the client retries).
    pub fn close() -> Reply {
        Reply::fault(Fault::Close)
    }

    /// The connection is reset (RST) instead of answered (the client retries).
    pub fn reset() -> Reply {
        Reply::fault(Fault::Reset)
    }

    /// Nothing is said for `duration`, then the connection is closed (a client's deadline passes
    /// first when it is shorter). Dropping the fake waits for a stall to end.
    pub fn stall(duration: Duration) -> Reply {
        Reply::fault(Fault::Stall(duration))
    }

    fn fault(fault: Fault) -> Reply {
        Reply { fault: Some(fault), ..Reply::new(0, "") }
    }

    /// This answer, sent one byte at a time, `pause` apart (a slow or congested link).
    pub fn drip(mut self, pause: Duration) -> Reply {
        self.fault = Some(Fault::Drip(pause));
        self
    }

    /// Adds a header; one the fake sends itself (`X-Request-Id`, `Date`, `Content-Type`) is
    /// replaced by it. `Content-Length` is always the body's.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The gateway's 429 `APIGW.0308` with `Retry-After`.
    pub fn throttled(retry_after_seconds: u64) -> Reply {
        Reply::gateway(429, "APIGW.0308", "The throttling threshold has been reached")
            .header("Retry-After", &retry_after_seconds.to_string())
    }

    /// The gateway's 503 `APIGW.0503`.
    pub fn unavailable() -> Reply {
        Reply::gateway(503, "APIGW.0503", "The service is currently unavailable")
    }

    pub(super) fn gateway(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"error_code": code, "error_msg": message}).to_string();
        Reply::new(status, body)
    }

    /// Writes this reply in one write (or drips it, or in its place closes or stalls the
    /// connection); an error ends the connection.
    pub(super) fn write_to(&self, stream: &mut TcpStream, number: usize) -> std::io::Result<()> {
        if let Some(Fault::Stall(duration)) = self.fault {
            std::thread::sleep(duration);
        }
        if let Some(Fault::Close | Fault::Reset | Fault::Stall(_)) = self.fault {
            return Err(std::io::Error::other("closed by an injected fault"));
        }
        let bytes = self.bytes(number);
        if let Some(Fault::Drip(pause)) = self.fault {
            for byte in bytes {
                stream.write_all(&[byte])?;
                stream.flush()?;
                std::thread::sleep(pause);
            }
            return Ok(());
        }
        stream.write_all(&bytes)?;
        stream.flush()
    }

    /// The head and the body.
    fn bytes(&self, number: usize) -> Vec<u8> {
        let own = [
            ("Content-Type", "application/json".to_string()),
            ("Date", format_http_date(SystemTime::now())),
            ("X-Request-Id", format!("fake-{number:06}")),
        ];
        let given = |name: &str| crate::sign::header_value(&self.headers, name).is_some();
        let mut head =
            format!("HTTP/1.1 {} Fake\r\nContent-Length: {}\r\n", self.status, self.body.len());
        for (name, value) in own.iter().filter(|(name, _)| !given(name)) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// One answer of a resource's script ([`FakeDbss::set_script`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `200 {"jobs": [...]}`.
    Jobs(Vec<Job>),
    /// Any other answer, or a fault.
    Reply(Reply),
}
