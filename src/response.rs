//! Turns an HTTP answer (status, request id, body bytes) into jobs or a typed error.
//!
//! Pure: no I/O. It must never panic, whatever the bytes: the body comes from the network.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::error::Error;
use crate::model::Job;
use crate::model::jobs_from_slice;
use crate::redact::shown;

/// How much of a non-JSON error body is quoted in the error, in characters.
const QUOTED_BODY_CHARS: usize = 200;

/// Reads a success body of the jobs API, `{"jobs":[...]}`: what the client does with every 200,
/// offered for bodies saved earlier (e.g. by the example's `--json`).
///
/// ```
/// let jobs = dbss_jobs::parse_jobs(br#"{"jobs":[{"job_id":"j1","status":"RUNNING"}]}"#)?;
/// assert_eq!(jobs[0].status, Some(dbss_jobs::JobStatus::Running));
/// # Ok::<(), dbss_jobs::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the bytes are not that JSON.
pub fn parse_jobs(body: &[u8]) -> Result<Vec<Job>, Error> {
    decode_jobs(200, None, body)
}

/// Decodes an answer of the jobs API.
///
/// # Errors
/// [`ErrorKind::Api`](crate::ErrorKind::Api) for any status outside 200..=299, with the service's
/// `error_code`/`error_msg` read from every shape the official SDKs accept;
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode) for a success whose body is not `{"jobs":[...]}`.
pub(crate) fn decode_jobs(
    status: u16,
    request_id: Option<String>,
    body: &[u8],
) -> Result<Vec<Job>, Error> {
    if !(200..=299).contains(&status) {
        return Err(api_failure(status, request_id, body));
    }
    match jobs_from_slice(body) {
        Ok(jobs) => Ok(jobs),
        Err(error) => Err(Error::decode(
            status,
            request_id,
            format!("body is not the documented JSON ({error})"),
        )),
    }
}

/// The error for a non-success answer, every text in it as it is shown (scrub `body` of secrets
/// first): control characters escaped, length bounded.
pub(crate) fn api_failure(status: u16, request_id: Option<String>, body: &[u8]) -> Error {
    let api = api_error(status, request_id, body);
    let show = |text: Option<String>| text.map(|text| shown(&text));
    Error::api(ApiError {
        status,
        error_code: show(api.error_code),
        error_msg: show(api.error_msg),
        request_id: show(api.request_id),
        encoded_authorization_message: show(api.encoded_authorization_message),
    })
}

/// The `error_code` of an error body as received, for decisions (never for showing).
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    api_error(0, None, body).error_code
}

/// Reads an error body. Shapes, as in the official SDKs:
/// `{"error":{"error_code","error_msg"}}`, top-level `error_code`/`error_msg`, `errorCode`/`errorMsg`,
/// `code`/`message`; plus optional `request_id` and `encoded_authorization_message`.
/// Anything else is quoted as text, truncated.
fn api_error(status: u16, request_id: Option<String>, body: &[u8]) -> ApiError {
    let mut api = ApiError {
        status,
        request_id,
        ..ApiError::default()
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(top)) => {
            let inner = match top.get("error") {
                Some(Value::Object(inner)) => inner,
                _ => &top,
            };
            api.error_code = first_field(inner, &["error_code", "errorCode", "code"]);
            api.error_msg = first_field(inner, &["error_msg", "errorMsg", "message"]);
            api.encoded_authorization_message =
                first_field(inner, &["encoded_authorization_message"])
                    .or_else(|| first_field(&top, &["encoded_authorization_message"]));
            if api.request_id.is_none() {
                api.request_id = first_field(inner, &["request_id"])
                    .or_else(|| first_field(&top, &["request_id"]));
            }
        }
        _ => api.error_msg = quote_text(body),
    }
    api
}

fn first_field(object: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match object.get(*name)? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    })
}

/// The body as one line of text: lossy UTF-8, white space runs folded, at most
/// [`QUOTED_BODY_CHARS`] characters (then `…`). `None` when nothing is left.
fn quote_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut count = 0;
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count == QUOTED_BODY_CHARS {
                out.push('…');
                return Some(out);
            }
            out.push(c);
            count += 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[track_caller]
    fn check_api(body: &str, code: Option<&str>, msg: Option<&str>, request_id: Option<&str>) {
        let error = decode_jobs(400, None, body.as_bytes()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Api);
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.error_code(), code, "{body}");
        assert_eq!(error.error_msg(), msg, "{body}");
        assert_eq!(error.request_id(), request_id, "{body}");
    }

    #[test]
    fn every_error_shape_the_sdks_accept() {
        check_api(
            r#"{"error":{"error_code":"DBSS.XXXX","error_msg":"XXX"}}"#,
            Some("DBSS.XXXX"),
            Some("XXX"),
            None,
        );
        check_api(
            r#"{"error_code":"APIGW.0301","error_msg":"bad sig","request_id":"r1"}"#,
            Some("APIGW.0301"),
            Some("bad sig"),
            Some("r1"),
        );
        check_api(
            r#"{"errorCode":"C","errorMsg":"M"}"#,
            Some("C"),
            Some("M"),
            None,
        );
        check_api(
            r#"{"code":"C2","message":"M2"}"#,
            Some("C2"),
            Some("M2"),
            None,
        );
        check_api(r#"{"code":403,"message":null}"#, Some("403"), None, None);
        check_api("", None, None, None);
        check_api(
            "<html>\n<b>502   Bad\tGateway</b></html>",
            None,
            Some("<html> <b>502 Bad Gateway</b></html>"),
            None,
        );
        check_api("[1,2]", None, Some("[1,2]"), None);
    }

    use proptest::prelude::*;

    /// JSON-ish values to put where the API has fields: right and wrong types alike.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            prop_oneof![Just("SUCCESS"), Just("FAIL"), Just("Demand")].prop_map(Value::from),
        ]
    }

    fn check_outcome(status: u16, result: Result<Vec<Job>, Error>) -> Result<(), TestCaseError> {
        let success = (200..=299).contains(&status);
        match result {
            Ok(_) => prop_assert!(success),
            Err(error) if success => prop_assert_eq!(error.kind(), ErrorKind::Decode),
            Err(error) => {
                prop_assert_eq!(error.kind(), ErrorKind::Api);
                prop_assert_eq!(error.status(), Some(status));
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_bytes_and_status_give_jobs_or_a_typed_error(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            check_outcome(status, decode_jobs(status, None, &body))?;
        }

        #[test]
        fn json_shaped_bodies_give_jobs_or_a_typed_error(
            status in prop_oneof![Just(200u16), 100u16..600],
            fields in proptest::collection::vec(
                (prop_oneof![Just("job_id"), Just("status"), Just("begin_time"), Just("charge_mode"), Just("error_code"), Just("error_msg"), Just("code")], json_value()),
                0..6,
            ),
            wrap in any::<bool>(),
        ) {
            let object: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let body = if wrap {
                serde_json::json!({ "jobs": [object] })
            } else {
                serde_json::json!({ "error": object })
            };
            check_outcome(status, decode_jobs(status, None, body.to_string().as_bytes()))?;
        }
    }

    #[test]
    fn header_request_id_wins_and_encoded_message_is_kept() {
        let body = r#"{"error_code":"APIGW.0307","error_msg":"m","request_id":"body-id","encoded_authorization_message":"enc"}"#;
        let error = decode_jobs(403, Some("header-id".into()), body.as_bytes()).unwrap_err();
        assert_eq!(error.request_id(), Some("header-id"));
        assert_eq!(error.encoded_authorization_message(), Some("enc"));
    }

    #[test]
    fn long_text_bodies_are_truncated() {
        let body = "x".repeat(10_000);
        let error = decode_jobs(500, None, body.as_bytes()).unwrap_err();
        let msg = error.error_msg().unwrap();
        assert_eq!(msg.chars().count(), QUOTED_BODY_CHARS + 1);
        assert!(msg.ends_with('…'));
    }

    #[test]
    fn success_bodies() {
        assert_eq!(decode_jobs(200, None, br#"{"jobs":[]}"#).unwrap(), vec![]);
        assert_eq!(decode_jobs(200, None, br#"{"jobs":null}"#).unwrap(), vec![]);
        assert_eq!(decode_jobs(200, None, b"{}").unwrap(), vec![]);
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            br#"{"jobs":[["id"]]}"#,
            br#"{"jobs":{}}"#,
            br#"{"jobs":[{"job_id":1}]}"#,
            b"\xff\xfe",
        ] {
            let error = decode_jobs(200, Some("rid".into()), bad).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Decode, "{bad:?}");
            assert_eq!(error.request_id(), Some("rid"));
        }
    }
}
