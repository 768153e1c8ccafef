//! The client against a real HTTP server thread on loopback.

use std::time::{Duration, Instant};

use dbss_jobs::{ChargeMode, Client, Credentials, ErrorKind, IamToken, Job, JobStatus};
use time::{Date, Month, OffsetDateTime};

use crate::support::{After, DOCUMENTED_EXAMPLE, Server, closed_port, respond};

fn client(server_url: &str) -> Client {
    crate::support::client(server_url)
        .auth(Credentials::new("TESTAK", "test-secret-key").unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn utc(year: i32, month: Month, day: u8, h: u8, m: u8, s: u8) -> OffsetDateTime {
    Date::from_calendar_date(year, month, day).unwrap().with_hms(h, m, s).unwrap().assume_utc()
}

#[test]
fn documented_example_parses_to_the_exact_values() {
    let server = Server::json(200, DOCUMENTED_EXAMPLE);
    let jobs = client(&server.url()).get_jobs_in("project-1", "instance-1").unwrap();
    let mut expected = Job::default();
    expected.ha_id = Some("2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7".into());
    expected.status = Some(JobStatus::Success);
    expected.job_id = Some("8abf9647852a1daa01852e517e1a1a0b".into());
    // 1671519371000 ms and 1671519417000 ms, converted by CPython's datetime.fromtimestamp.
    expected.begin_time = Some(utc(2022, Month::December, 20, 6, 56, 11));
    expected.end_time = Some(utc(2022, Month::December, 20, 6, 56, 57));
    expected.charge_mode = Some(ChargeMode::Demand);
    expected.server_name = Some("DBSS-qct-1220".into());
    expected.server_id = Some("0aa8f621-bc19-4822-b66d-7ab9ae3c8693".into());
    assert_eq!(jobs, vec![expected]);
}

#[test]
fn request_line_and_headers_are_those_of_the_official_sdk() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    client(&server.url()).get_jobs_in("p1", "r1").unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.target, "/v1/p1/dbss/audit/jobs/r1");
    assert_eq!(request.version, "HTTP/1.1");
    assert_eq!(
        request.header_names_lowercase(),
        [
            "accept",
            "authorization",
            "content-type",
            "host",
            "user-agent",
            "x-project-id",
            "x-sdk-date"
        ]
    );
    let port = server.url().rsplit(':').next().unwrap().to_string();
    assert_eq!(request.header("host").unwrap(), format!("127.0.0.1:{port}"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("user-agent"),
        Some(concat!("dbss-jobs/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(request.header("x-project-id"), Some("p1"));
    let date = request.header("x-sdk-date").unwrap();
    assert!(
        date.len() == 16 && date.as_bytes()[8] == b'T' && date.ends_with('Z'),
        "X-Sdk-Date {date:?} is not YYYYMMDDTHHMMSSZ"
    );
    let authorization = request.header("authorization").unwrap();
    let prefix = "SDK-HMAC-SHA256 Access=TESTAK, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=";
    let signature = authorization.strip_prefix(prefix).unwrap_or_else(|| panic!("{authorization}"));
    assert!(
        signature.len() == 64
            && signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{signature}"
    );
}

#[test]
fn security_token_is_sent_and_signed() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let credentials =
        Credentials::new("TESTAK", "sk").unwrap().with_security_token("sec-token-1").unwrap();
    let client = crate::support::client(server.url()).auth(credentials).build().unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.header("x-security-token"), Some("sec-token-1"));
    assert!(request.header("authorization").unwrap().contains(
        "SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date;x-security-token,"
    ));
}

#[test]
fn iam_token_is_sent_instead_of_a_signature() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let client = crate::support::client(server.url())
        .auth(IamToken::new("iam-token-1").unwrap())
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.header("x-auth-token"), Some("iam-token-1"));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("x-sdk-date"), None);
    assert_eq!(request.header("x-project-id"), Some("p"));
}

#[test]
fn odd_ids_are_one_encoded_segment_each() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let client = client(&server.url());
    for (project, resource, target) in [
        ("p", "a/b", "/v1/p/dbss/audit/jobs/a%2Fb"),
        ("p", "my resource 01", "/v1/p/dbss/audit/jobs/my%20resource%2001"),
        ("p", "a+b%20c~d", "/v1/p/dbss/audit/jobs/a%2Bb%2520c~d"),
        (
            "p q",
            "资源-café-😀",
            "/v1/p%20q/dbss/audit/jobs/%E8%B5%84%E6%BA%90-caf%C3%A9-%F0%9F%98%80",
        ),
        ("p", "a?b#c&d=e", "/v1/p/dbss/audit/jobs/a%3Fb%23c%26d%3De"),
    ] {
        client.get_jobs_in(project, resource).unwrap();
        assert_eq!(server.requests().last().unwrap().target, target);
    }
}

#[test]
fn bad_input_fails_before_any_traffic() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let client = client(&server.url());
    for (project, resource) in
        [("", "r"), ("p", ""), (".", "r"), ("p", ".."), ("p\n", "r"), ("p", "r\u{7f}"), ("p", "\0")]
    {
        let error = client.get_jobs_in(project, resource).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{project:?} {resource:?}: {error}");
    }
    assert_eq!(server.requests().len(), 0);
    assert_eq!(server.connections(), 0);
}

#[test]
fn bad_configuration_is_refused_when_building() {
    let credentials = || Credentials::new("AK", "SK").unwrap();
    let cases = [
        Client::builder().auth(credentials()).build(),
        Client::builder()
            .region("cn-north-4")
            .environment([("HOME", "/nonexistent")])
            .ecs_metadata(false)
            .build(),
        Client::builder().region("atlantis-1").auth(credentials()).build(),
        crate::support::client("dbss.example.com").build(),
        crate::support::client("http://dbss.example.com").build(),
        crate::support::client("https://x").timeout(Duration::ZERO).build(),
        crate::support::client("https://x").max_body_size(0).build(),
    ];
    for (index, case) in cases.into_iter().enumerate() {
        let error = case.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "case {index}: {error}");
    }
    for (ak, sk) in [("", "sk"), ("ak", ""), (" ", "sk"), ("a\nk", "sk")] {
        assert_eq!(Credentials::new(ak, sk).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

#[track_caller]
fn check_api_error(status: u16, body: &'static str, code: &str, msg: &str) {
    let server = Server::json(status, body);
    let error = client(&server.url()).get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(status));
    assert_eq!(error.error_code(), Some(code));
    assert_eq!(error.error_msg(), Some(msg));
    assert_eq!(error.request_id(), Some("req-fixed-1"));
    let display = error.to_string();
    for part in [&status.to_string(), code, msg, "req-fixed-1"] {
        assert!(display.contains(part), "{display:?} lacks {part:?}");
    }
}

#[test]
fn error_answers_are_typed() {
    check_api_error(
        400,
        r#"{"error":{"error_code":"DBSS.0001","error_msg":"bad id"}}"#,
        "DBSS.0001",
        "bad id",
    );
    check_api_error(
        403,
        r#"{"error":{"error_code":"DBSS.0403","error_msg":"denied"}}"#,
        "DBSS.0403",
        "denied",
    );
    check_api_error(
        500,
        r#"{"error":{"error_code":"DBSS.0500","error_msg":"oops"}}"#,
        "DBSS.0500",
        "oops",
    );
    check_api_error(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"x"}"#,
        "APIGW.0301",
        "Incorrect IAM authentication information",
    );
}

#[test]
fn a_silent_server_times_out_within_the_deadline() {
    let fake = dbss_jobs::fake::FakeDbss::start().unwrap();
    fake.inject_for("r", dbss_jobs::fake::Reply::stall(Duration::from_secs(2)));
    let client = fake.client().project_id("p").timeout(Duration::from_millis(300)).build().unwrap();
    let started = Instant::now();
    let error = client.get_jobs("r").unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let client = client(&format!("http://127.0.0.1:{}", closed_port()));
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_connect(), "{error:?}");
}

#[test]
fn connections_are_kept_alive() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let client = client(&server.url());
    for _ in 0..3 {
        client.get_jobs_in("p", "r").unwrap();
    }
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.connections(), 1);
}

#[test]
fn redirects_are_not_followed() {
    let server = Server::start(|_, stream| {
        respond(stream, 302, &[("Location", "http://127.0.0.1:1/elsewhere")], b"");
        After::KeepAlive
    });
    let error = client(&server.url()).get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(302));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn success_bodies_over_the_limit_are_refused() {
    let server = Server::json(200, DOCUMENTED_EXAMPLE);
    let client = crate::support::client(server.url()).max_body_size(100).build().unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.is_body_too_large(), "{error:?}");
}

#[test]
fn an_explicit_proxy_tunnels_the_request() {
    // The proxy answers CONNECT, then plays the tunnelled server itself.
    let proxy = Server::start(|request, stream| {
        if request.method == "CONNECT" {
            use std::io::Write as _;
            let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let client = crate::support::client("http://127.0.0.1:9").proxy(proxy.url()).build().unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let requests = proxy.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("CONNECT", "127.0.0.1:9")
    );
    assert_eq!(requests[1].target, "/v1/p/dbss/audit/jobs/r");
    assert_eq!(requests[1].header("host"), Some("127.0.0.1:9"));
}

#[test]
fn bad_proxy_and_pem_are_refused_when_building() {
    let builder = || crate::support::client("https://x");
    for result in [
        builder().proxy("not a url").build(),
        builder().root_certificates_pem("no pem here").build(),
        builder()
            .root_certificates_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
            .build(),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

/// A compile-time check: the test binary does not build if a public type stops being Send + Sync.
#[test]
fn public_types_can_cross_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Client>();
    send_sync::<dbss_jobs::Error>();
    send_sync::<Credentials>();
    send_sync::<dbss_jobs::Job>();
    send_sync::<dbss_jobs::ClientBuilder>();
}

/// An error after the newer-path fallback says that both paths were tried, with both request
/// ids: the first answer's in the message, the second's as `request_id()`.
#[test]
fn an_error_after_the_newer_path_fallback_keeps_both_request_ids() {
    use crate::support::{After, Server, respond};
    let server = Server::start(|request, stream| {
        if request.target.contains("/dbss/audit/jobs/") {
            let body = br#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#;
            respond(stream, 404, &[("X-Request-Id", "first-id")], body);
        } else {
            let body = br#"{"error_code":"DBSS.0500","error_msg":"internal"}"#;
            respond(stream, 500, &[("X-Request-Id", "second-id")], body);
        }
        After::KeepAlive
    });
    let client = crate::support::client(server.url()).build().unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.request_id(), Some("second-id"));
    let message = error.to_string();
    assert!(
        message.starts_with("the documented path answered 404 APIGW.0101, request id first-id; the newer path: api error: http 500 DBSS.0500"),
        "{message}"
    );
    assert_eq!(server.requests().len(), 2);
}
