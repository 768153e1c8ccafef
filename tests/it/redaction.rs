//! Secrets (SK, security token, IAM token) and signatures never show in Debug, Display or errors.

use std::time::{Duration, UNIX_EPOCH};

use dbss_jobs::sign::{SignableRequest, sign};
use dbss_jobs::{Auth, Client, Credentials, IamToken};

use crate::support::{
    After, CANARY_IAM_TOKEN, CANARY_SECURITY_TOKEN, CANARY_SK, Server, assert_error_clean,
    assert_no_secret, closed_port, respond,
};

const SK: &str = CANARY_SK;
const SECURITY_TOKEN: &str = CANARY_SECURITY_TOKEN;
const IAM_TOKEN: &str = CANARY_IAM_TOKEN;

fn temporary() -> Credentials {
    Credentials::new("AKCANARY", SK)
        .unwrap()
        .with_security_token(SECURITY_TOKEN)
        .unwrap()
}

#[test]
fn debug_strings_are_exactly_redacted() {
    assert_eq!(
        format!("{:?}", Credentials::new("AKCANARY", SK).unwrap()),
        r#"Credentials { access_key: "AKCANARY", secret_key: "** redacted **", security_token: None }"#
    );
    assert_eq!(
        format!("{:?}", temporary()),
        r#"Credentials { access_key: "AKCANARY", secret_key: "** redacted **", security_token: Some("** redacted **") }"#
    );
    assert_eq!(
        format!("{:?}", IamToken::new(IAM_TOKEN).unwrap()),
        r#"IamToken("** redacted **")"#
    );
    assert_eq!(
        format!("{:?}", Auth::from(IamToken::new(IAM_TOKEN).unwrap())),
        r#"Token(IamToken("** redacted **"))"#
    );
    let client = Client::builder()
        .endpoint("https://dbss.example.com")
        .auth(temporary())
        .build()
        .unwrap();
    assert_eq!(
        format!("{client:?}"),
        r#"Client { endpoint: "https://dbss.example.com", auth: AkSk(Credentials { access_key: "AKCANARY", secret_key: "** redacted **", security_token: Some("** redacted **") }), max_body_size: 10485760, .. }"#
    );
    let builder = Client::builder().auth(IamToken::new(IAM_TOKEN).unwrap());
    assert_no_secret(&format!("{builder:?}"), &[]);
}

#[test]
fn signed_request_debug_shows_only_signed_header_names() {
    let request = SignableRequest::new("GET", "h", "/");
    let credentials = temporary();
    let signed = sign(&request, &credentials, UNIX_EPOCH + Duration::from_secs(1)).unwrap();
    assert_eq!(
        format!("{signed:?}"),
        r#"SignedRequest { signed_headers: "host;x-sdk-date;x-security-token", .. }"#
    );
}

#[test]
fn bad_secrets_are_named_not_quoted() {
    let errors = [
        Credentials::new("AK", "").unwrap_err(),
        Credentials::new("AK", SK)
            .unwrap()
            .with_security_token(format!("{SECURITY_TOKEN}\nX"))
            .unwrap_err(),
        IamToken::new(format!("{IAM_TOKEN}\r\nX")).unwrap_err(),
    ];
    for error in &errors {
        assert_error_clean(error, &[]);
    }
}

/// A server that echoes every request header back in its error body, as some proxies do.
fn echoing_server(status: u16) -> Server {
    Server::start(move |request, stream| {
        let echoed: Vec<String> = request
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        let body = serde_json::json!({"error_code": "ECHO.0001", "error_msg": echoed.join(" | ")})
            .to_string();
        respond(
            stream,
            status,
            &[("X-Request-Id", "echo-1")],
            body.as_bytes(),
        );
        After::KeepAlive
    })
}

#[test]
fn server_echoes_of_request_headers_are_scrubbed_from_errors() {
    for status in [400, 401, 403, 500, 502] {
        let server = echoing_server(status);
        for auth in [
            Auth::from(temporary()),
            Auth::from(IamToken::new(IAM_TOKEN).unwrap()),
        ] {
            let client = Client::builder()
                .endpoint(server.url())
                .auth(auth)
                .build()
                .unwrap();
            let error = client.get_jobs_in("p", "r").unwrap_err();
            let signatures: Vec<String> = server
                .requests()
                .iter()
                .filter_map(|r| {
                    r.header("authorization")
                        .map(|a| a.rsplit('=').next().unwrap().to_string())
                })
                .collect();
            assert!(
                error.error_msg().unwrap().contains("** redacted **"),
                "{error}"
            );
            assert_error_clean(&error, &signatures);
        }
    }
}

#[test]
fn transport_errors_carry_no_secret() {
    let refused = Client::builder()
        .endpoint(format!("http://127.0.0.1:{}", closed_port()))
        .auth(temporary())
        .build()
        .unwrap()
        .get_jobs_in("p", "r")
        .unwrap_err();
    assert_error_clean(&refused, &[]);
}

/// Echoes the request's token and signature back in the body chosen by `shape`.
fn echo_in(shape: &'static str) -> Server {
    Server::start(move |request, stream| {
        let token = request
            .header("x-auth-token")
            .or(request.header("x-security-token"))
            .unwrap_or_default();
        let signature = request
            .header("authorization")
            .map(crate::support::signature_of)
            .unwrap_or_default();
        let echoed = format!("token {token} signature {signature}");
        let (status, body) = match shape {
            "text" => (403, format!("<html>refused: {echoed}</html>")),
            "json" => (
                400,
                serde_json::json!({"error_code": "E", "error_msg": echoed}).to_string(),
            ),
            // A 2xx whose wrong-typed field the decoder quotes in its message.
            _ => (
                200,
                serde_json::json!({"jobs": [{"begin_time": echoed}]}).to_string(),
            ),
        };
        respond(stream, status, &[], body.as_bytes());
        After::KeepAlive
    })
}

#[test]
fn echoed_secrets_are_scrubbed_from_text_json_and_decode_errors() {
    for shape in ["text", "json", "decode"] {
        let server = echo_in(shape);
        for auth in [
            Auth::from(temporary()),
            Auth::from(IamToken::new(IAM_TOKEN).unwrap()),
        ] {
            let error = Client::builder()
                .endpoint(server.url())
                .auth(auth)
                .build()
                .unwrap()
                .get_jobs_in("p", "r")
                .unwrap_err();
            // The echo reached the message, and the scrubber replaced it.
            assert!(
                error.to_string().contains("** redacted **"),
                "{shape}: {error}"
            );
            let signatures = crate::support::signatures_sent(&server);
            assert_error_clean(&error, &signatures);
        }
    }
}
