//! Secrets (SK, security token, IAM token) and signatures never show in Debug, Display or errors.

use std::sync::{Arc, Mutex};
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
    Credentials::new("AKCANARY", SK).unwrap().with_security_token(SECURITY_TOKEN).unwrap()
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
        r#"IamToken { token: "** redacted **", from: None }"#
    );
    assert_eq!(
        format!("{:?}", Auth::from(IamToken::new(IAM_TOKEN).unwrap())),
        r#"Token(IamToken { token: "** redacted **", from: None })"#
    );
    let client =
        crate::support::client("https://dbss.example.com").auth(temporary()).build().unwrap();
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
        let echoed: Vec<String> =
            request.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        let body = serde_json::json!({"error_code": "ECHO.0001", "error_msg": echoed.join(" | ")})
            .to_string();
        respond(stream, status, &[("X-Request-Id", "echo-1")], body.as_bytes());
        After::KeepAlive
    })
}

#[test]
fn server_echoes_of_request_headers_are_scrubbed_from_errors() {
    for status in [400, 401, 403, 500, 502] {
        let server = echoing_server(status);
        for auth in [Auth::from(temporary()), Auth::from(IamToken::new(IAM_TOKEN).unwrap())] {
            let client = crate::support::client(server.url()).auth(auth).build().unwrap();
            let error = client.get_jobs_in("p", "r").unwrap_err();
            let signatures: Vec<String> = server
                .requests()
                .iter()
                .filter_map(|r| {
                    r.header("authorization").map(|a| a.rsplit('=').next().unwrap().to_string())
                })
                .collect();
            assert!(error.error_msg().unwrap().contains("** redacted **"), "{error}");
            assert_error_clean(&error, &signatures);
        }
    }
}

#[test]
fn transport_errors_carry_no_secret() {
    let refused = crate::support::client(format!("http://127.0.0.1:{}", closed_port()))
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
        let signature =
            request.header("authorization").map(crate::support::signature_of).unwrap_or_default();
        let echoed = format!("token {token} signature {signature}");
        let (status, body) = match shape {
            "text" => (403, format!("<html>refused: {echoed}</html>")),
            "json" => {
                (400, serde_json::json!({"error_code": "E", "error_msg": echoed}).to_string())
            }
            // A 2xx whose wrong-typed field the decoder quotes in its message.
            _ => (200, serde_json::json!({"jobs": [{"begin_time": echoed}]}).to_string()),
        };
        respond(stream, status, &[], body.as_bytes());
        After::KeepAlive
    })
}

#[test]
fn echoed_secrets_are_scrubbed_from_text_json_and_decode_errors() {
    for shape in ["text", "json", "decode"] {
        let server = echo_in(shape);
        for auth in [Auth::from(temporary()), Auth::from(IamToken::new(IAM_TOKEN).unwrap())] {
            let error = crate::support::client(server.url())
                .auth(auth)
                .build()
                .unwrap()
                .get_jobs_in("p", "r")
                .unwrap_err();
            // The echo reached the message, and the scrubber replaced it.
            assert!(error.to_string().contains("** redacted **"), "{shape}: {error}");
            let signatures = crate::support::signatures_sent(&server);
            assert_error_clean(&error, &signatures);
        }
    }
}

/// A server that answers 500 with an HTML page quoting the request's `X-Auth-Token` at its start.
fn echoing_html_server() -> Server {
    Server::start(|request, stream| {
        let token = request.header("x-auth-token").unwrap_or_default();
        let body = format!("<html><body>token {token} was refused</body></html>");
        respond(stream, 500, &[("Content-Type", "text/html")], body.as_bytes());
        After::KeepAlive
    })
}

#[test]
fn a_long_token_echoed_in_a_text_body_is_not_cut_in_half() {
    let server = echoing_html_server();
    let token = format!("{CANARY_IAM_TOKEN}{}", "x".repeat(400));
    let client = crate::support::client(server.url())
        .auth(IamToken::new(token.clone()).unwrap())
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("** redacted **"), "{message}");
    for window in token.as_bytes().windows(12) {
        let piece = std::str::from_utf8(window).unwrap();
        if piece.contains("xxxxxxxxxxxx") {
            continue; // a run of x's also appears nowhere else; the canary prefix is what matters
        }
        assert!(!message.contains(piece), "{piece:?} leaked: {message}");
    }
    assert_error_clean(&error, &[]);
}

#[test]
fn tokens_with_surrounding_white_space_are_refused_without_being_quoted() {
    let error = IamToken::new(format!(" {CANARY_IAM_TOKEN} ")).unwrap_err();
    assert_eq!(error.kind(), dbss_jobs::ErrorKind::InvalidInput);
    assert_eq!(
        error.to_string(),
        "invalid input: IamToken::new: IAM token begins or ends with white space"
    );
    assert_error_clean(&error, &[]);
}

const SESSION_TOKEN: &str = "SESSION-TOKEN-canary-9e3f41d2";

/// A metadata service that hands out a session token, then refuses it, quoting it back.
fn metadata_that_echoes_its_token(body: &'static str) -> Server {
    Server::start(move |request, stream| {
        if request.method == "PUT" {
            respond(stream, 200, &[], SESSION_TOKEN.as_bytes());
        } else {
            let echoed = body.replace("{token}", request.header("x-metadata-token").unwrap());
            respond(stream, 401, &[("X-Echo", SESSION_TOKEN)], echoed.as_bytes());
        }
        After::KeepAlive
    })
}

#[test]
fn the_metadata_session_token_is_scrubbed_from_metadata_errors() {
    for body in [
        "metadata token {token} is not valid",
        r#"{"error_code":"META.401","error_msg":"metadata token {token} is not valid"}"#,
    ] {
        let metadata = metadata_that_echoes_its_token(body);
        let seen = Arc::new(Mutex::new(String::new()));
        let log = seen.clone();
        let client = crate::support::without_credentials("http://127.0.0.1:9")
            .metadata_endpoint(metadata.url())
            .on_response(move |response| log.lock().unwrap().push_str(&format!("{response:?}")))
            .build()
            .unwrap();
        let error = client.get_jobs_in("p", "r").unwrap_err();
        assert!(error.is_missing_credentials(), "{error}");
        assert!(error.to_string().contains("** redacted **"), "{error}");
        for text in [error.to_string(), format!("{error:?}"), seen.lock().unwrap().clone()] {
            assert!(!text.contains(SESSION_TOKEN), "{text}");
        }
        assert_eq!(metadata.requests().len(), 2);
    }
}

#[test]
fn decisions_are_made_on_the_answer_as_received() {
    // A token that the gateway's words happen to contain: shown redacted, decided on as sent.
    let server = Server::start(|request, stream| {
        if request.target.contains("/dbss/audit/jobs/") {
            respond(stream, 404, &[], br#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#);
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let client = crate::support::client(server.url())
        .auth(IamToken::new("APIGW.0101").unwrap())
        .build()
        .unwrap();
    assert_eq!(client.get_jobs_in("p", "r").unwrap(), vec![]);
    assert_eq!(server.requests().len(), 2, "the newer path was tried");
    // A secret too short to search for leaves the gateway's words alone.
    let server = Server::json(400, r#"{"error_code":"DBSS.0101","error_msg":"bad 0101"}"#);
    let client =
        crate::support::client(server.url()).auth(IamToken::new("0101").unwrap()).build().unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.error_code(), Some("DBSS.0101"));
    assert!(error.to_string().contains("DBSS.0101: bad 0101"), "{error}");
}

#[test]
fn a_response_hook_never_sees_an_echoed_secret() {
    const TOKEN: &str = "IAM-TOKEN-echoed-in-headers-4b1e";
    let server = Server::start(|request, stream| {
        let token = request.header("x-auth-token").unwrap().to_string();
        let echo = format!("token={token}");
        respond(stream, 200, &[("X-Auth-Token", &token), ("X-Echo", &echo)], br#"{"jobs":[]}"#);
        After::KeepAlive
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = crate::support::client(server.url())
        .auth(IamToken::new(TOKEN).unwrap())
        .on_response(move |response| log.lock().unwrap().extend(response.headers.to_vec()))
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let headers = seen.lock().unwrap().clone();
    assert!(headers.iter().any(|(name, _)| name == "x-echo"), "{headers:?}");
    assert!(!format!("{headers:?}").contains(TOKEN), "{headers:?}");
}

#[test]
fn server_text_is_shown_as_one_line_without_escapes() {
    let forged = r#"{"error_code":"DBSS.1\n","error_msg":"bad\nget_jobs: all good \u001b[32mOK\u001b[0m \u202egnp.exe","request_id":"r\r\nX"}"#;
    let server = Server::json(400, forged);
    let client = crate::support::client(server.url()).build().unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    let shown = error.to_string();
    assert!(!shown.contains(['\n', '\r', '\u{1b}', '\u{202e}']), "{shown:?}");
    assert!(shown.contains(r"bad\nget_jobs: all good \u{1b}[32mOK"), "{shown}");
    assert_eq!(error.error_code(), Some(r"DBSS.1\n"));
    let long = Server::json(
        400,
        Box::leak(format!(r#"{{"error_msg":"{}"}}"#, "y".repeat(100_000)).into_boxed_str()),
    );
    let client = crate::support::client(long.url()).build().unwrap();
    let shown = client.get_jobs_in("p", "r").unwrap_err().to_string();
    assert!(shown.len() < 1_000, "{} characters", shown.len());
}
