//! What the API gateway's refusals say, read from the answer as it was received: why a 401 refused
//! the credentials ([`AuthFailure`]), the canonical request it computed for a wrong signature
//! ([`SignatureMismatch`]), and the window of its flow control for a 429.
//!
//! The gateway's words, as Huawei documents them and its own signer answers: `verify aksk
//! signature fail, canonicalRequest:<the canonical request, each newline written as |>`;
//! `Get secretKey failed,ak:<AK>,err:ak not exist`; `AK access failed to reach the limit,
//! forbidden` (five failed signatures in a row lock the AK/SK for 5 minutes); `calc ak sk signature
//! fail:signature expired, …`; and 429 `APIGW.0308` `… policy user over ratelimit,limit:N,time:1
//! second` (or `1 minute`), without `Retry-After`.

use std::fmt;
use std::time::Duration;

/// Why the gateway refused the credentials of a request (a 401). Non-exhaustive: the gateway may
/// give more reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The access key does not exist: it is not this account's, or was deleted.
    UnknownAccessKey,
    /// Too many failed signatures in a row: the access key is locked for about 5 minutes.
    AccessKeyLocked,
    /// The signature does not match the one the gateway computed; see
    /// [`Error::signature_mismatch`](crate::Error::signature_mismatch).
    SignatureMismatch,
    /// The signature's `X-Sdk-Date` is more than 15 minutes from the gateway's clock.
    SignatureExpired,
    /// The IAM token is not valid, or has expired.
    TokenRejected,
}

impl AuthFailure {
    /// The reason a 401's body gives, if it is one of the gateway's.
    pub(crate) fn of(status: u16, body: &[u8]) -> Option<AuthFailure> {
        if status != 401 {
            return None;
        }
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        let has = |words: &str| text.contains(words);
        if has("ak not exist") {
            Some(AuthFailure::UnknownAccessKey)
        } else if has("failed to reach the limit") {
            Some(AuthFailure::AccessKeyLocked)
        } else if has("signature expired") {
            Some(AuthFailure::SignatureExpired)
        } else if has("signature fail") {
            Some(AuthFailure::SignatureMismatch)
        } else if has("token") {
            Some(AuthFailure::TokenRejected)
        } else {
            None
        }
    }

    /// What to do about it, in one line.
    pub fn hint(self) -> &'static str {
        match self {
            AuthFailure::UnknownAccessKey => {
                "the access key does not exist: it is not this account's, or it was deleted"
            }
            AuthFailure::AccessKeyLocked => {
                "the access key is locked after failed signatures: no attempt will pass for about \
                 5 minutes, and each one counts"
            }
            AuthFailure::SignatureMismatch => {
                "the signature does not match the one the gateway computed"
            }
            AuthFailure::SignatureExpired => {
                "the signature expired: X-Sdk-Date is more than 15 minutes from the gateway's clock"
            }
            AuthFailure::TokenRejected => {
                "the IAM token is not valid or has expired: get a new one"
            }
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hint())
    }
}

/// A wrong signature explained: the canonical request that was signed beside the one the gateway
/// computed (it echoes it in its 401), and where they first differ. Both redacted as everything
/// else (the security token's line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMismatch {
    ours: String,
    gateway: String,
    first_difference: Option<String>,
}

impl SignatureMismatch {
    /// Compares the canonical request that was signed with the gateway's echo in `body`; `None`
    /// when the body has no echo. Both must be redacted before they are kept.
    pub(crate) fn of(ours: &str, body: &[u8]) -> Option<SignatureMismatch> {
        let message = error_message(body)?;
        let (_, echo) = message.split_once("canonicalRequest:")?;
        let gateway = echo.trim_end().replace('|', "\n");
        let first_difference = first_difference(ours, &gateway);
        Some(SignatureMismatch {
            ours: ours.to_string(),
            gateway,
            first_difference,
        })
    }

    /// Both canonical requests, passed through `redact` (the security token's line, the request's
    /// secrets).
    pub(crate) fn redacted(self, redact: impl Fn(&str) -> String) -> SignatureMismatch {
        SignatureMismatch {
            ours: redact(&self.ours),
            gateway: redact(&self.gateway),
            first_difference: self.first_difference.map(|text| redact(&text)),
        }
    }

    /// The canonical request that was signed.
    pub fn ours(&self) -> &str {
        &self.ours
    }

    /// The canonical request the gateway computed for the request it received.
    pub fn gateway(&self) -> &str {
        &self.gateway
    }

    /// Where the two first differ, and the likely cause, in words; `None` when they are equal:
    /// the request arrived as signed, so the secret key does not belong to this access key.
    pub fn first_difference(&self) -> Option<&str> {
        self.first_difference.as_deref()
    }

    /// The sentence an error ends with.
    pub(crate) fn explain(&self) -> String {
        match &self.first_difference {
            Some(difference) => {
                format!("the gateway computed another canonical request: {difference}")
            }
            None => "the request arrived as signed (the gateway's canonical request is ours), so \
                     the secret key does not belong to this access key"
                .to_string(),
        }
    }
}

/// The first line where the two canonical requests differ, named by its part.
fn first_difference(ours: &str, gateway: &str) -> Option<String> {
    let (ours, gateway): (Vec<&str>, Vec<&str>) =
        (ours.split('\n').collect(), gateway.split('\n').collect());
    let headers_end = ours
        .iter()
        .skip(3)
        .position(|line| line.is_empty())
        .map_or(ours.len(), |at| at + 3);
    let index = (0..ours.len().max(gateway.len())).find(|&i| ours.get(i) != gateway.get(i))?;
    let line = |lines: &[&str]| {
        lines
            .get(index)
            .map_or("(nothing)".to_string(), |l| format!("`{l}`"))
    };
    let (part, cause) = match index {
        0 => (
            "the method".to_string(),
            "the method was changed on the way",
        ),
        1 => ("the URI".to_string(), "the path was re-encoded on the way"),
        2 => (
            "the query".to_string(),
            "the query was re-encoded on the way",
        ),
        i if i < headers_end => {
            let name = ours[i].split(':').next().unwrap_or_default();
            let cause = if name == "host" {
                "a proxy or load balancer changed the Host"
            } else {
                "a header was rewritten on the way"
            };
            (format!("the {name} header"), cause)
        }
        i if i == headers_end + 1 => (
            "the signed headers".to_string(),
            "a signed header was dropped or added on the way",
        ),
        _ => (
            "the payload hash".to_string(),
            "the body was changed on the way",
        ),
    };
    Some(format!(
        "first difference in {part}: ours {}, the gateway's {}: {cause}",
        line(&ours),
        line(&gateway)
    ))
}

/// The window of the gateway's flow control a 429 names (`time:1 second`, `time:1 minute`).
pub(crate) fn throttling_window(status: u16, body: &[u8]) -> Option<Duration> {
    if status != 429 {
        return None;
    }
    let message = error_message(body)?.to_ascii_lowercase();
    let (_, rest) = message.split_once("time:")?;
    let rest = rest.trim_start();
    let (count, unit) = rest.split_once(' ')?;
    let count: u64 = count.trim().parse().ok()?;
    let seconds = match unit.trim_start() {
        unit if unit.starts_with("second") => 1,
        unit if unit.starts_with("minute") => 60,
        unit if unit.starts_with("hour") => 3600,
        _ => return None,
    };
    Some(Duration::from_secs(count.checked_mul(seconds)?))
}

/// The `error_msg` of a JSON error body, as received.
fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.get("error").unwrap_or(&value);
    ["error_msg", "errorMsg", "message"]
        .iter()
        .find_map(|name| object.get(*name)?.as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "GET\n/v1/p/dbss/audit/jobs/r/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\nx-sdk-date:20261201T000000Z\n\ncontent-type;host;x-sdk-date\ne3b0";

    fn echo(canonical: &str) -> Vec<u8> {
        let message = format!(
            "Incorrect IAM authentication information: verify aksk signature fail, canonicalRequest:{}",
            canonical.replace('\n', "|")
        );
        serde_json::json!({"error_code": "APIGW.0301", "error_msg": message})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn the_first_difference_is_named_by_its_part() {
        let equal = SignatureMismatch::of(OURS, &echo(OURS)).unwrap();
        assert_eq!(equal.first_difference(), None);
        assert_eq!(equal.gateway(), OURS);
        let host = SignatureMismatch::of(
            OURS,
            &echo(&OURS.replace("host:127.0.0.1:8080", "host:dbss.example.com")),
        )
        .unwrap();
        assert_eq!(
            host.first_difference(),
            Some(
                "first difference in the host header: ours `host:127.0.0.1:8080`, the gateway's `host:dbss.example.com`: a proxy or load balancer changed the Host"
            )
        );
        let uri =
            SignatureMismatch::of(OURS, &echo(&OURS.replace("/jobs/r/", "/jobs/%72/"))).unwrap();
        assert!(
            uri.first_difference()
                .unwrap()
                .starts_with("first difference in the URI")
        );
        let signed = SignatureMismatch::of(
            OURS,
            &echo(&OURS.replace("content-type;host;x-sdk-date", "host;x-sdk-date")),
        )
        .unwrap();
        assert!(
            signed
                .first_difference()
                .unwrap()
                .starts_with("first difference in the signed headers")
        );
        assert_eq!(
            SignatureMismatch::of(OURS, b"{\"error_msg\":\"verify aksk signature fail\"}"),
            None
        );
    }

    #[test]
    fn the_gateways_reasons_and_windows() {
        let reason = |msg: &str| {
            AuthFailure::of(
                401,
                serde_json::json!({"error_msg": msg}).to_string().as_bytes(),
            )
        };
        assert_eq!(
            reason("Get secretKey failed,ak:AK1,err:ak not exist"),
            Some(AuthFailure::UnknownAccessKey)
        );
        assert_eq!(
            reason("AK access failed to reach the limit, forbidden"),
            Some(AuthFailure::AccessKeyLocked)
        );
        assert_eq!(
            reason("calc ak sk signature fail:signature expired, signature time:x"),
            Some(AuthFailure::SignatureExpired)
        );
        assert_eq!(
            reason("verify aksk signature fail, canonicalRequest:GET|"),
            Some(AuthFailure::SignatureMismatch)
        );
        assert_eq!(
            reason("the token has expired"),
            Some(AuthFailure::TokenRejected)
        );
        assert_eq!(AuthFailure::of(403, b"ak not exist"), None);
        let window = |msg: &str| {
            throttling_window(
                429,
                serde_json::json!({"error_code": "APIGW.0308", "error_msg": msg})
                    .to_string()
                    .as_bytes(),
            )
        };
        assert_eq!(
            window("policy user over ratelimit,limit:5,time:1 second"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            window("policy user over ratelimit,limit:100,time:1 minute"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(window("busy"), None);
    }
}
