//! Hooks that see every attempt on the wire, as Huawei's SDKs' HTTP handlers do, secrets redacted.
//! No lock is held while a hook runs.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::redact;

/// A request about to be sent, as a hook sees it. A hook that panics is caught (the default panic
/// hook prints it) and the call goes on, except with `panic = "abort"`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestInfo {
    /// `GET`, `PUT`.
    pub method: &'static str,
    /// The URL, query included.
    pub url: String,
    /// Every header as sent (name, value), secrets redacted.
    pub headers: Vec<(String, String)>,
    /// 1 for the first attempt of a request, 2 for its first retry, and so on.
    pub attempt: u32,
    /// For an AK/SK-signed request, the canonical request that was signed (the security token's
    /// value redacted): compare it with the one the gateway expected when a signature is rejected.
    pub canonical_request: Option<String>,
    /// For an AK/SK-signed request, the string that was signed.
    pub string_to_sign: Option<String>,
}

impl RequestInfo {
    /// The hook's view of a request: secret headers, the signature and the token line redacted.
    pub(crate) fn new(
        method: &'static str,
        url: &str,
        headers: &[(String, String)],
        attempt: u32,
        signed: Option<(&str, &str)>,
    ) -> RequestInfo {
        RequestInfo {
            method,
            url: url.to_string(),
            headers: headers
                .iter()
                .map(|(name, value)| (name.clone(), redact::header(name, value)))
                .collect(),
            attempt,
            canonical_request: signed.map(|(canonical, _)| redact::canonical_request(canonical)),
            string_to_sign: signed.map(|(_, string_to_sign)| string_to_sign.to_string()),
        }
    }
}

/// What came back for one attempt: an answer, or the error that took its place.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResponseInfo<'a> {
    /// The request's method.
    pub method: &'static str,
    /// The request's URL.
    pub url: &'a str,
    /// The proxy that carried the request, `host:port` with the variable it came from
    /// (`127.0.0.1:3128 (from HTTPS_PROXY)`); `None` when it went direct.
    pub proxy: Option<&'a str>,
    /// As [`RequestInfo::attempt`].
    pub attempt: u32,
    /// From sending the request to the end of the body.
    pub elapsed: Duration,
    /// The HTTP status, or the error when no answer came (a transport failure, an unreadable body).
    pub status: Result<u16, &'a Error>,
    /// The answer's headers; empty when no answer came.
    pub headers: Vec<(String, String)>,
    /// The answer's `X-Request-Id`.
    pub request_id: Option<String>,
    /// The size of the body read, in bytes (error bodies are read up to 64 KiB).
    pub body_len: Option<usize>,
}

/// The `-vv` block: the request line, every header, and for a signed request the canonical
/// request and the string to sign, each line starting `> `; secrets redacted.
impl fmt::Display for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "> {} {} (attempt {})", self.method, self.url, self.attempt)?;
        for (name, value) in &self.headers {
            writeln!(f, "> {name}: {value}")?;
        }
        for (title, stage) in [
            ("canonical request", &self.canonical_request),
            ("string to sign", &self.string_to_sign),
        ] {
            if let Some(stage) = stage {
                writeln!(f, "> {title}:")?;
                for line in stage.split('\n') {
                    writeln!(f, ">   {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// The `-v` access-log line: `GET url [via proxy P] -> 200, 120 bytes, 3 ms, request id R`, or the
/// error in place of the answer.
impl fmt::Display for ResponseInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.elapsed.as_millis();
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(proxy) = self.proxy {
            write!(f, " via proxy {proxy}")?;
        }
        let request_id = self.request_id.as_deref().unwrap_or("-");
        match self.status {
            Ok(status) => {
                let bytes = self.body_len.unwrap_or_default();
                write!(f, " -> {status}, {bytes} bytes, {millis} ms, request id {request_id}")
            }
            Err(error) => write!(f, " -> {error}, {millis} ms"),
        }
    }
}

type RequestHook = dyn Fn(&RequestInfo) + Send + Sync;
type ResponseHook = dyn Fn(&ResponseInfo<'_>) + Send + Sync;

/// The hooks of a client, and the log `DBSS_JOBS_LOG` asks for; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) on_request: Option<Arc<RequestHook>>,
    pub(crate) on_response: Option<Arc<ResponseHook>>,
    /// 1: the `-v` line of every attempt on stderr; 2: the `-vv` block too.
    pub(crate) log: u8,
}

impl Hooks {
    pub(crate) fn wants_requests(&self) -> bool {
        self.on_request.is_some() || self.log >= 2
    }

    pub(crate) fn wants_responses(&self) -> bool {
        self.on_response.is_some() || self.log >= 1
    }

    pub(crate) fn request(&self, info: &RequestInfo) {
        if self.log >= 2 {
            let _ = std::io::Write::write_all(&mut std::io::stderr(), info.to_string().as_bytes());
        }
        if let Some(hook) = &self.on_request {
            contained(|| hook(info));
        }
    }

    pub(crate) fn response(&self, info: &ResponseInfo<'_>) {
        if self.log >= 1 {
            let _ =
                std::io::Write::write_all(&mut std::io::stderr(), format!("{info}\n").as_bytes());
        }
        if let Some(hook) = &self.on_response {
            contained(|| hook(info));
        }
    }
}

/// Runs a hook with its panic caught. The panic's payload is forgotten, not dropped: a payload
/// whose `Drop` panics would otherwise escape into the call.
fn contained(hook: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(hook)) {
        std::mem::forget(payload);
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("on_request", &self.on_request.is_some())
            .field("on_response", &self.on_response.is_some())
            .field("log", &self.log)
            .finish()
    }
}
