//! Every answer is read here, once: what the gateway said becomes [`Said`], which every decision
//! reads, and what may be shown of it, scrubbed before any cut. Nobody else parses an error body.
//!
//! The gateway's words, as Huawei documents them and its own signer answers: `verify aksk
//! signature fail, canonicalRequest:<the canonical request, each newline written as |>`;
//! `Get secretKey failed,ak:<AK>,err:ak not exist`; `AK access failed to reach the limit,
//! forbidden`; `calc ak sk signature fail:signature expired, …,server time:<X-Sdk-Date>`; and 429
//! `APIGW.0308` `… policy user over ratelimit,limit:N,time:1 second` (or `1 minute`).

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::error::{ApiError, AuthFailure, Error, SignatureMismatch};
use crate::redact::{self, Secrets};
use crate::timestamps::{parse_http_date, parse_sdk_date};

/// The longest window or wait an answer can ask for; longer ones are read as this.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// How much of a non-JSON error body is quoted in the error, in characters.
const QUOTED_BODY_CHARS: usize = 200;

/// The gateway's echo with its lines restored: it writes each newline as `|`, and a signed value
/// may hold a `|` itself, so the echo is read against what was signed, line by line, and split on
/// `|` only past the first line that differs.
fn aligned_echo(signed: Option<&str>, echo: &str) -> String {
    let mut lines = Vec::new();
    let mut rest = echo;
    for line in signed.unwrap_or_default().split('\n') {
        match rest.strip_prefix(line) {
            Some("") => return [lines, vec![line]].concat().join("\n"),
            Some(after) if after.starts_with('|') => {
                lines.push(line);
                rest = &after[1..];
            }
            _ => break,
        }
    }
    lines.extend(rest.split('|'));
    lines.join("\n")
}

/// The first line where the two canonical requests differ, named by its part; a secret header's
/// line shows its name only, whatever value either side holds.
fn first_difference(ours: &str, gateway: &str) -> Option<String> {
    let (ours, gateway): (Vec<&str>, Vec<&str>) =
        (ours.split('\n').collect(), gateway.split('\n').collect());
    let headers_end =
        ours.iter().skip(3).position(|line| line.is_empty()).map_or(ours.len(), |at| at + 3);
    let index = (0..ours.len().max(gateway.len())).find(|&i| ours.get(i) != gateway.get(i))?;
    let line = |lines: &[&str]| {
        lines
            .get(index)
            .map_or("(nothing)".to_string(), |l| format!("`{}`", redact::canonical_request(l)))
    };
    let (part, cause) = match index {
        0 => ("the method".to_string(), "the method was changed on the way"),
        1 => ("the URI".to_string(), "the path was re-encoded on the way"),
        2 => ("the query".to_string(), "the query was re-encoded on the way"),
        i if i < headers_end => {
            let name = ours[i].split(':').next().unwrap_or("a");
            let cause = match name {
                "host" => "a proxy or load balancer changed the Host",
                _ => "a header was rewritten on the way",
            };
            (format!("the {name} header"), cause)
        }
        i if i == headers_end + 1 => {
            ("the signed headers".to_string(), "a signed header was dropped or added on the way")
        }
        _ => ("the payload hash".to_string(), "the body was changed on the way"),
    };
    Some(format!(
        "first difference in {part}: ours {}, the gateway's {}: {cause}",
        line(&ours),
        line(&gateway)
    ))
}

/// What the gateway said in one answer, read as it was received. Every decision reads this.
#[derive(Debug, Clone, Default)]
pub(crate) struct Said {
    /// A 404 `APIGW.0101`: the gateway has no such API (a retired path).
    pub(crate) no_such_api: bool,
    /// Why a 401 refused the credentials.
    pub(crate) auth_failure: Option<AuthFailure>,
    /// The flow-control window a 429 names, at most [`LONGEST_WAIT`].
    pub(crate) throttle_window: Option<Duration>,
    /// `Retry-After`, as seconds or a date, at most [`LONGEST_WAIT`].
    pub(crate) retry_after: Option<Duration>,
    /// The answer's `Date`.
    pub(crate) date: Option<SystemTime>,
    /// The `server time:` an expired signature's message gives.
    pub(crate) server_time: Option<SystemTime>,
    /// For a wrong signature, the canonical request the gateway computed (its echo).
    pub(crate) canonical_echo: Option<String>,
}

/// An error body's fields, as received, in any of the shapes the official SDKs accept.
#[derive(Debug, Clone, Default)]
struct ErrorBody {
    /// The body was not a JSON object: the message is its text, quoted as one short line.
    text: bool,
    error_code: Option<String>,
    error_msg: Option<String>,
    request_id: Option<String>,
    encoded_authorization_message: Option<String>,
}

/// One answer: what was said, the body, and the only ways to make text from it, all scrubbed.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) received_at: SystemTime,
    pub(crate) said: Said,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    error_body: ErrorBody,
    secrets: Secrets,
    /// The canonical request that was signed, for a signed request.
    signed: Option<String>,
}

impl Answer {
    /// Reads an answer once; `secrets` are what its texts are scrubbed of.
    pub(crate) fn read(
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        received_at: SystemTime,
        secrets: &Secrets,
        signed: Option<&str>,
    ) -> Answer {
        let header = |name: &str| crate::sign::header_value(&headers, name);
        let date = header("Date").and_then(parse_http_date);
        let retry_after = header("Retry-After").and_then(|v| retry_after(v, received_at));
        let error_body = match (200..=299).contains(&status) {
            true => ErrorBody::default(),
            false => error_body(&body),
        };
        let message = error_body.error_msg.as_deref().unwrap_or_default();
        // Only a 401's text is read for its reason (a success body may be megabytes).
        let text = || String::from_utf8_lossy(&body).to_ascii_lowercase();
        let auth_failure =
            (status == 401).then(|| auth_failure(&text(), Carried::of(signed))).flatten();
        let said = Said {
            no_such_api: status == 404 && error_body.error_code.as_deref() == Some("APIGW.0101"),
            auth_failure,
            throttle_window: (status == 429).then(|| throttle_window(message)).flatten(),
            retry_after,
            date,
            server_time: (auth_failure == Some(AuthFailure::SignatureExpired))
                .then(|| server_time(message))
                .flatten(),
            canonical_echo: (auth_failure == Some(AuthFailure::SignatureMismatch))
                .then(|| message.split_once("canonicalRequest:"))
                .flatten()
                .map(|(_, echo)| aligned_echo(signed, echo.trim_end())),
        };
        Answer {
            status,
            received_at,
            said,
            body,
            headers,
            error_body,
            secrets: secrets.clone(),
            signed: signed.map(str::to_string),
        }
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..=299).contains(&self.status)
    }

    /// The body as received: for decoding a success, never for showing.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// A server's text as it may be shown: scrubbed of the request's secrets, one bounded line.
    pub(crate) fn show(&self, text: &str) -> String {
        self.secrets.show(text)
    }

    /// The `X-Request-Id`, as it may be shown.
    pub(crate) fn request_id(&self) -> Option<String> {
        let id = crate::sign::header_value(&self.headers, "X-Request-Id")?;
        Some(self.show(id))
    }

    /// The headers, as a hook may see them.
    pub(crate) fn shown_headers(&self) -> Vec<(String, String)> {
        self.secrets.headers(&self.headers)
    }

    /// A success body that cannot be used, in words (`message` is scrubbed here).
    pub(crate) fn unusable(&self, message: &str) -> Error {
        Error::decode(self.status, self.request_id(), self.show(message))
    }

    /// A success body decoded by `parse` (a JSON body's shape), or the error this answer is.
    pub(crate) fn decode<T, E: std::fmt::Display>(
        &self,
        parse: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> Result<T, Error> {
        if !self.is_success() {
            return Err(self.error());
        }
        parse(&self.body)
            .map_err(|error| self.unusable(&format!("body is not the documented JSON ({error})")))
    }

    /// The error a non-success answer is, as it may be shown; for a 401 with why the credentials
    /// were refused and, for a wrong signature, both canonical requests.
    pub(crate) fn error(&self) -> Error {
        let body = &self.error_body;
        let show = |text: &Option<String>| text.as_deref().map(|text| self.show(text));
        let message = match body.text {
            true => body.error_msg.as_deref().and_then(|text| self.quote(text)),
            false => show(&body.error_msg),
        };
        let failure = self.said.auth_failure;
        let signed = self.signed.as_deref().filter(|_| self.status == 401);
        let signature_mismatch = signed
            .zip(self.said.canonical_echo.as_deref())
            .map(|(ours, echo)| self.mismatch(ours, echo));
        let note = match (&signature_mismatch, failure, Carried::of(self.signed.as_deref())) {
            (Some(mismatch), _, _) => Some(mismatch.explain()),
            // It carried its security token: the token is not the cause.
            (None, Some(AuthFailure::UnknownAccessKey), Carried::Signature { security_token: true }) => {
                Some("the access key does not exist: it is not this account's, or it was deleted, or the temporary credentials expired".to_string())
            }
            (None, failure, _) => failure.map(|failure| failure.to_string()),
        };
        Error::api(ApiError {
            status: self.status,
            error_code: show(&body.error_code),
            error_msg: message,
            request_id: self.request_id().or_else(|| show(&body.request_id)),
            encoded_authorization_message: show(&body.encoded_authorization_message),
            auth_failure: failure,
            signature_mismatch,
            canonical_request: signed.map(redact::canonical_request),
            retry_after: self.said.throttle_window.or(self.said.retry_after),
        })
        .with_note(note)
    }

    /// A body that is not JSON as one scrubbed, folded line of [`QUOTED_BODY_CHARS`] at most.
    fn quote(&self, text: &str) -> Option<String> {
        let scrubbed = self.secrets.scrub_bounded(text);
        let words: Vec<&str> = scrubbed
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|word| !word.is_empty())
            .collect();
        let folded = words.join(" ");
        let mut quoted: String = folded.chars().take(QUOTED_BODY_CHARS).collect();
        if quoted.len() < folded.len() {
            quoted.push('…');
        }
        (!quoted.is_empty()).then(|| redact::shown(&quoted))
    }

    /// Both canonical requests, secret header lines redacted by name and the rest scrubbed.
    fn mismatch(&self, ours: &str, echo: &str) -> SignatureMismatch {
        let redacted = |text: &str| self.secrets.scrub_bounded(&redact::canonical_request(text));
        SignatureMismatch {
            ours: redacted(ours),
            gateway: redacted(echo),
            first_difference: first_difference(ours, echo).map(|text| self.secrets.show(&text)),
        }
    }
}

/// What a request carried that a 401 may be about.
#[derive(Debug, Clone, Copy)]
enum Carried {
    /// `X-Auth-Token`.
    IamToken,
    /// A signature, with or without `X-Security-Token`.
    Signature { security_token: bool },
}

impl Carried {
    /// From the canonical request that was signed, if the request was.
    fn of(signed: Option<&str>) -> Carried {
        match signed {
            Some(canonical) => {
                Carried::Signature { security_token: canonical.contains("\nx-security-token:") }
            }
            None => Carried::IamToken,
        }
    }
}

/// The reason a 401's text gives; a token's refusal is read by what the request carried.
fn auth_failure(lowercase: &str, carried: Carried) -> Option<AuthFailure> {
    let has = |words: &str| lowercase.contains(words);
    Some(if has("ak not exist") {
        AuthFailure::UnknownAccessKey
    } else if has("failed to reach the limit") {
        AuthFailure::AccessKeyLocked
    } else if has("signature expired") {
        AuthFailure::SignatureExpired
    } else if has("signature fail") {
        AuthFailure::SignatureMismatch
    } else if has("token") {
        match carried {
            Carried::IamToken => AuthFailure::TokenRejected,
            Carried::Signature { security_token: true } => AuthFailure::SecurityTokenRejected,
            Carried::Signature { security_token: false } => AuthFailure::SecurityTokenMissing,
        }
    } else {
        return None;
    })
}

/// The window a 429's message names (`time:1 second`, `time:1 minute`), at most a day.
fn throttle_window(message: &str) -> Option<Duration> {
    let message = message.to_ascii_lowercase();
    let (_, rest) = message.split_once("time:")?;
    let (count, unit) = rest.trim_start().split_once(' ')?;
    let count: u64 = count.trim().parse().ok()?;
    let seconds: u64 = match unit.trim_start() {
        unit if unit.starts_with("second") => 1,
        unit if unit.starts_with("minute") => 60,
        unit if unit.starts_with("hour") => 3600,
        _ => return None,
    };
    let window = Duration::from_secs(count.saturating_mul(seconds));
    Some(window.min(LONGEST_WAIT))
}

/// `Retry-After`: delay-seconds, or an HTTP date (a past one means no wait), at most a day.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => parse_http_date(value)?.duration_since(now).unwrap_or(Duration::ZERO),
    };
    Some(wait.min(LONGEST_WAIT))
}

/// The `server time:YYYYMMDDTHHMMSSZ` of an expired signature's message.
fn server_time(message: &str) -> Option<SystemTime> {
    let (_, rest) = message.split_once("server time:")?;
    parse_sdk_date(rest.trim_start().get(..16)?)
}

/// Reads an error body in the official SDKs' shapes; anything else is the message, as text.
fn error_body(body: &[u8]) -> ErrorBody {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return ErrorBody {
            text: true,
            error_msg: Some(String::from_utf8_lossy(body).into_owned()),
            ..ErrorBody::default()
        };
    };
    let inner = match top.get("error") {
        Some(Value::Object(inner)) => inner,
        _ => &top,
    };
    let either = |names: &[&str]| first_field(inner, names).or_else(|| first_field(&top, names));
    ErrorBody {
        text: false,
        error_code: first_field(inner, &["error_code", "errorCode", "code"]),
        error_msg: first_field(inner, &["error_msg", "errorMsg", "message"]),
        request_id: either(&["request_id"]),
        encoded_authorization_message: either(&["encoded_authorization_message"]),
    }
}

fn first_field(object: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match object.get(*name)? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const OURS: &str = "GET\n/v1/p/dbss/audit/jobs/r/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\nx-sdk-date:20261201T000000Z\n\ncontent-type;host;x-sdk-date\ne3b0";

    fn answer(status: u16, body: &[u8]) -> Answer {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        Answer::read(status, vec![], body.to_vec(), now, &Secrets::default(), Some(OURS))
    }

    fn said(status: u16, message: &str) -> Said {
        let body = serde_json::json!({"error_code": "APIGW.0301", "error_msg": message});
        answer(status, body.to_string().as_bytes()).said
    }

    fn mismatch(canonical: &str) -> SignatureMismatch {
        let message = format!(
            "Incorrect IAM authentication information: verify aksk signature fail, canonicalRequest:{}",
            canonical.replace('\n', "|")
        );
        let body = serde_json::json!({"error_code": "APIGW.0301", "error_msg": message});
        let error = answer(401, body.to_string().as_bytes()).error();
        error.signature_mismatch().unwrap().clone()
    }

    #[test]
    fn the_first_difference_is_named_by_its_part() {
        let equal = mismatch(OURS);
        assert_eq!(equal.first_difference, None);
        assert_eq!(equal.gateway, OURS);
        let host = mismatch(&OURS.replace("host:127.0.0.1:8080", "host:dbss.example.com"));
        assert_eq!(
            host.first_difference.as_deref(),
            Some(
                "first difference in the host header: ours `host:127.0.0.1:8080`, the gateway's `host:dbss.example.com`: a proxy or load balancer changed the Host"
            )
        );
        let uri = mismatch(&OURS.replace("/jobs/r/", "/jobs/%72/"));
        assert!(uri.first_difference.unwrap().starts_with("first difference in the URI"));
        let signed = mismatch(&OURS.replace("content-type;host;x-sdk-date", "host;x-sdk-date"));
        let difference = signed.first_difference.unwrap();
        assert!(difference.starts_with("first difference in the signed headers"));
        let without_echo = answer(401, b"{\"error_msg\":\"verify aksk signature fail\"}");
        assert!(without_echo.error().signature_mismatch().is_none());
    }

    /// The echo writes newlines as `|`; a `|` in a signed value (a project id) is not one.
    #[test]
    fn a_bar_in_a_signed_value_is_not_read_as_a_line_end() {
        let ours = OURS.replace("x-sdk-date:", "x-project-id:tool|1.0\nx-sdk-date:");
        let echo_of = |canonical: &str| {
            let message = format!(
                "verify aksk signature fail, canonicalRequest:{}",
                canonical.replace('\n', "|")
            );
            serde_json::json!({"error_code": "APIGW.0301", "error_msg": message}).to_string()
        };
        let read = |echo: String| {
            let now = SystemTime::now();
            let answer =
                Answer::read(401, vec![], echo.into_bytes(), now, &Secrets::default(), Some(&ours));
            answer.error().signature_mismatch().unwrap().clone()
        };
        let same = read(echo_of(&ours));
        assert_eq!(same.first_difference, None, "{same:?}");
        assert_eq!(same.gateway, ours);
        let changed = read(echo_of(&ours.replace("tool|1.0", "tool|2.0")));
        let difference = changed.first_difference.unwrap();
        assert!(difference.starts_with("first difference in the x-project-id header: ours `x-project-id:tool|1.0`, the gateway's `x-project-id:tool`"), "{difference}");
    }

    #[test]
    fn a_secret_headers_line_is_redacted_by_name_on_both_sides() {
        let ours = OURS.replace("x-sdk-date:", "x-security-token:OUR-TOKEN-VALUE\nx-sdk-date:");
        let echoed = ours.replace("OUR-TOKEN-VALUE", "ECHOED-VALUE");
        let message =
            format!("verify aksk signature fail, canonicalRequest:{}", echoed.replace('\n', "|"));
        let body = serde_json::json!({"error_msg": message}).to_string();
        let now = SystemTime::UNIX_EPOCH;
        let answer =
            Answer::read(401, vec![], body.into_bytes(), now, &Secrets::default(), Some(&ours));
        let mismatch = answer.error().signature_mismatch().unwrap().clone();
        let shown = format!("{mismatch:?}");
        assert!(!shown.contains("OUR-TOKEN") && !shown.contains("ECHOED"), "{shown}");
        assert!(mismatch.first_difference.unwrap().contains("x-security-token:** redacted **"));
    }

    #[test]
    fn the_gateways_reasons_and_windows() {
        let reason = |message: &str| said(401, message).auth_failure;
        assert_eq!(
            reason("Get secretKey failed,ak:AK1,err:ak not exist"),
            Some(AuthFailure::UnknownAccessKey)
        );
        assert_eq!(
            reason("AK access failed to reach the limit, forbidden"),
            Some(AuthFailure::AccessKeyLocked)
        );
        let expired = said(
            401,
            "calc ak sk signature fail:signature expired, signature time:20230527T000431Z,server time:20230527T020608Z",
        );
        assert_eq!(expired.auth_failure, Some(AuthFailure::SignatureExpired));
        assert_eq!(expired.server_time, parse_sdk_date("20230527T020608Z"));
        assert_eq!(
            reason("verify aksk signature fail, canonicalRequest:GET|"),
            Some(AuthFailure::SignatureMismatch)
        );
        assert_eq!(reason("the token has expired"), Some(AuthFailure::SecurityTokenMissing));
        let now = SystemTime::UNIX_EPOCH;
        let body = br#"{"error_msg":"the token has expired"}"#.to_vec();
        let by_token = Answer::read(401, vec![], body.clone(), now, &Secrets::default(), None);
        assert_eq!(by_token.said.auth_failure, Some(AuthFailure::TokenRejected));
        let temporary = format!("{OURS}\nx-security-token:t");
        let with = Answer::read(401, vec![], body, now, &Secrets::default(), Some(&temporary));
        assert_eq!(with.said.auth_failure, Some(AuthFailure::SecurityTokenRejected));
        assert_eq!(said(403, "ak not exist").auth_failure, None);
        let window = |message: &str| said(429, message).throttle_window;
        assert_eq!(
            window("policy user over ratelimit,limit:5,time:1 second"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            window("policy user over ratelimit,limit:100,time:1 minute"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(window("time:18446744073709551615 second"), Some(LONGEST_WAIT));
        assert_eq!(window("busy"), None);
    }

    #[test]
    fn retry_after_forms_are_bounded() {
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's own example date).
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let now = date - Duration::from_secs(5);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("18446744073709551615", now), Some(LONGEST_WAIT));
        let http_date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(retry_after(http_date, now), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(http_date, date + Duration::from_secs(9)), Some(Duration::ZERO));
        assert_eq!(retry_after("Sun, 06 Nov 9999 08:49:37 GMT", now), Some(LONGEST_WAIT));
        for junk in
            ["", "-1", "soon", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, 32 Nov 1994 08:49:37 GMT"]
        {
            assert_eq!(retry_after(junk, now), None, "{junk:?}");
        }
    }

    #[track_caller]
    fn check_api(body: &str, code: Option<&str>, msg: Option<&str>, request_id: Option<&str>) {
        let error = answer(400, body.as_bytes()).error();
        assert_eq!(error.kind(), ErrorKind::Api);
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.error_code(), code, "{body}");
        assert_eq!(error.error_msg(), msg, "{body}");
        assert_eq!(error.request_id(), request_id, "{body}");
    }

    #[test]
    fn every_error_shape_the_sdks_accept() {
        let shape = r#"{"error":{"error_code":"DBSS.XXXX","error_msg":"XXX"}}"#;
        check_api(shape, Some("DBSS.XXXX"), Some("XXX"), None);
        let top = r#"{"error_code":"APIGW.0301","error_msg":"bad sig","request_id":"r1"}"#;
        check_api(top, Some("APIGW.0301"), Some("bad sig"), Some("r1"));
        check_api(r#"{"errorCode":"C","errorMsg":"M"}"#, Some("C"), Some("M"), None);
        check_api(r#"{"code":"C2","message":"M2"}"#, Some("C2"), Some("M2"), None);
        check_api(r#"{"code":403,"message":null}"#, Some("403"), None, None);
        check_api("", None, None, None);
        let html = "<html>\n<b>502   Bad\tGateway</b></html>";
        check_api(html, None, Some("<html> <b>502 Bad Gateway</b></html>"), None);
        check_api("[1,2]", None, Some("[1,2]"), None);
        let long = answer(500, "x".repeat(10_000).as_bytes()).error();
        let message = long.error_msg().unwrap();
        assert_eq!(message.chars().count(), QUOTED_BODY_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn the_header_request_id_wins_and_the_encoded_message_is_kept() {
        let body = r#"{"error_code":"APIGW.0307","error_msg":"m","request_id":"body-id","encoded_authorization_message":"enc"}"#;
        let headers = vec![("X-Request-Id".to_string(), "header-id".to_string())];
        let now = SystemTime::UNIX_EPOCH;
        let answer = Answer::read(403, headers, body.into(), now, &Secrets::default(), None);
        let error = answer.error();
        assert_eq!(error.request_id(), Some("header-id"));
        assert_eq!(error.encoded_authorization_message(), Some("enc"));
    }
}
