//! `dbss_jobs::fake::FakeDbss`: signatures, tokens and the time window checked, injected answers, the documented path retired, drop, headers, IAM regions and the bounded record.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use dbss_jobs::fake::{FakeDbss, Reply, job};
use dbss_jobs::sign::{SignableRequest, sign};
use dbss_jobs::{Credentials, ErrorKind, IamToken, JobStatus, JobsPath};

#[test]
fn the_fake_checks_signatures_tokens_and_the_time_window() {
    let fake = FakeDbss::start().unwrap();
    fake.set_jobs("r", vec![vec![job("j1", JobStatus::Success)]]);
    assert_eq!(fake.client().build().unwrap().get_jobs("r").unwrap().len(), 1);
    let wrong_sk = fake
        .client()
        .auth(Credentials::new(FakeDbss::ACCESS_KEY, "wrong").unwrap())
        .project_id("p")
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err();
    assert!(wrong_sk.status() == Some(401), "{wrong_sk}");
    assert!(wrong_sk.to_string().contains("verify aksk signature fail"));
    let token = |value: &str| {
        fake.client()
            .auth(IamToken::new(value).unwrap())
            .project_id("p")
            .build()
            .unwrap()
            .get_jobs("r")
    };
    assert!(token(FakeDbss::IAM_TOKEN).is_ok());
    assert!(token("another-token").unwrap_err().status() == Some(401));

    // A signature 20 minutes old, sent by hand.
    let host = fake.url().trim_start_matches("http://").to_string();
    let path = format!("/v1/{}/dbss/audit/jobs/r", FakeDbss::PROJECT_ID);
    let stale = SystemTime::now() - Duration::from_secs(20 * 60);
    let signed =
        sign(&SignableRequest::new("GET", &host, &path), &fake.credentials(), stale).unwrap();
    let mut request = ureq::get(format!("{}{path}", fake.url()));
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let response = request.config().http_status_as_error(false).build().call().unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body = response.into_body().read_to_string().unwrap();
    assert!(body.contains("signature expired") && body.contains("server time:"), "{body}");
}

#[test]
fn injected_answers_are_served_in_order_and_recorded() {
    let fake = FakeDbss::start().unwrap();
    fake.inject_for("unknown", Reply::throttled(1));
    fake.inject_for("unknown", Reply::unavailable());
    let client = fake.client().project_id("p").build().unwrap();
    let started = std::time::Instant::now();
    assert_eq!(client.get_jobs("unknown").unwrap(), vec![]);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After honoured");
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 503, 200]);
    assert_eq!(fake.requests()[0].header("x-project-id"), Some("p"));
    fake.inject_for("r", Reply::new(400, r#"{"error_code":"DBSS.0001","error_msg":"bad"}"#));
    assert_eq!(client.get_jobs("r").unwrap_err().error_code(), Some("DBSS.0001"));
}

#[test]
fn a_retired_documented_path_sends_the_client_to_the_newer_one() {
    let fake = FakeDbss::start().unwrap();
    fake.retire_documented_path();
    fake.set_jobs("r", vec![vec![job("j1", JobStatus::Running)]]);
    let documented = fake.client().project_id("p").jobs_path(JobsPath::Documented).build().unwrap();
    assert_eq!(documented.get_jobs("r").unwrap_err().error_code(), Some("APIGW.0101"));
    let auto = fake.client().project_id("p").build().unwrap();
    assert_eq!(auto.get_jobs("r").unwrap().len(), 1);
    let targets: Vec<String> = fake.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets.last().unwrap(), "/v1/p/audit/r/jobs");
}

#[test]
fn the_fakes_record_of_requests_prints_no_secret() {
    let fake = FakeDbss::start().unwrap();
    let client = fake
        .client()
        .auth(
            fake.credentials().with_security_token(crate::support::CANARY_SECURITY_TOKEN).unwrap(),
        )
        .project_id("p")
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let received = &fake.requests()[0];
    assert_eq!(received.header("x-security-token"), Some(crate::support::CANARY_SECURITY_TOKEN));
    let signature = crate::support::signature_of(received.header("authorization").unwrap());
    crate::support::assert_no_secret(&format!("{received:?}"), &[signature.to_string()]);
}

const REQUEST: &[u8] =
    b"GET /v1/p/dbss/audit/jobs/r HTTP/1.1\r\nHost: x\r\nX-Auth-Token: fake-dbss-iam-token\r\n\r\n";

/// Reads one answer with a Content-Length body; `None` when the connection is closed.
fn read_answer(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buffer.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buffer).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|length| length.trim().parse().ok())?;
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some(head)
}

#[test]
fn a_dropped_fake_closes_its_kept_alive_connections() {
    let fake = FakeDbss::start().unwrap();
    let mut stream = TcpStream::connect(fake.url().trim_start_matches("http://")).unwrap();
    stream.write_all(REQUEST).unwrap();
    assert!(read_answer(&mut stream).is_some());
    drop(fake);
    let _ = stream.write_all(REQUEST);
    assert_eq!(read_answer(&mut stream), None, "answered after drop");
}

#[test]
fn a_replys_header_replaces_the_fakes_own() {
    let fake = FakeDbss::start().unwrap();
    fake.inject_for("r", Reply::unavailable().header("X-Request-Id", "mine-1"));
    let mut stream = TcpStream::connect(fake.url().trim_start_matches("http://")).unwrap();
    stream.write_all(REQUEST).unwrap();
    let head = read_answer(&mut stream).unwrap();
    assert_eq!(head.matches("X-Request-Id").count(), 1, "{head}");
    assert!(head.contains("X-Request-Id: mine-1"), "{head}");
}

#[test]
fn the_fakes_iam_knows_only_its_regions() {
    let fake = FakeDbss::start().unwrap();
    let client = fake.client().region("cn-east-3").build().unwrap();
    let error = client.resolve_project_id().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    fake.add_project("cn-east-3", "0123456789abcdef0123456789abcdef");
    let client = fake.client().region("cn-east-3").build().unwrap();
    assert_eq!(client.resolve_project_id().unwrap(), "0123456789abcdef0123456789abcdef");
}

#[test]
fn the_record_of_requests_keeps_the_latest_ten_thousand() {
    let fake = FakeDbss::start().unwrap();
    let client = fake
        .client()
        .auth(IamToken::new(FakeDbss::IAM_TOKEN).unwrap())
        .project_id("p")
        .build()
        .unwrap();
    for _ in 0..10_010 {
        client.get_jobs("r").unwrap();
    }
    assert_eq!(fake.requests().len(), 10_000);
}

#[test]
fn a_dripped_answer_arrives_whole() {
    let fake = FakeDbss::start().unwrap();
    let at = |seconds| dbss_jobs::time::OffsetDateTime::from_unix_timestamp(seconds).ok();
    // Every field of `JobBean`.
    let mut full = dbss_jobs::fake::failed_job("j1", "NONE", "-");
    full.server_id = Some("s-1".into());
    full.server_name = Some("DBSS-1".into());
    full.begin_time = at(1_671_519_371);
    full.end_time = at(1_671_519_417);
    full.charge_mode = Some(dbss_jobs::ChargeMode::Period);
    full.ha_id = Some("ha-1".into());
    full.ha_name = Some("HA".into());
    full.job_type = Some("create".into());
    full.resource_id = Some("r".into());
    let body = serde_json::json!({ "jobs": [full.clone()] }).to_string();
    fake.inject_for("r", Reply::new(200, body).drip(Duration::from_millis(1)));
    let client = fake.client().project_id("p").build().unwrap();
    assert_eq!(client.get_jobs("r").unwrap(), vec![full]);
}

#[test]
fn a_reset_reply_resets_the_connection_and_the_client_retries() {
    let fake = FakeDbss::start().unwrap();
    // Seen from a bare socket: the request is answered by an RST, not by a clean close.
    fake.inject_for("r", Reply::reset());
    let mut socket = TcpStream::connect(fake.url().trim_start_matches("http://")).unwrap();
    socket.write_all(REQUEST).unwrap();
    let mut answer = Vec::new();
    let error = socket.read_to_end(&mut answer).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{answer:?}");
    // Seen from the client: a connection lost before any answer, retried.
    fake.inject_for("r", Reply::reset());
    let client = fake.client().project_id("p").build().unwrap();
    assert_eq!(client.get_jobs("r").unwrap(), vec![]);
    let statuses: Vec<u16> = fake.requests().iter().map(|request| request.status).collect();
    assert_eq!(statuses, [0, 0, 200]);
}

#[test]
fn a_proxys_authorization_is_redacted_in_what_the_fake_records() {
    // The fake serves as the proxy too: an http:// target through an HTTP proxy carries
    // Proxy-Authorization (base64 of user:password) in the request the fake records.
    let fake = FakeDbss::start().unwrap();
    let port = fake.url().rsplit(':').next().unwrap().to_string();
    let proxy = format!("http://alice:S3cretProxyPassw0rd@127.0.0.1:{port}");
    let client = fake.client().project_id("p").proxy(proxy).build().unwrap();
    let _ = client.get_jobs("r");
    let shown = format!("{:?}", fake.requests());
    assert!(shown.contains("Proxy-Authorization"), "{shown}");
    // base64("alice:S3cretProxyPassw0rd"), without its padding.
    assert!(!shown.contains("YWxpY2U6UzNjcmV0UHJveHlQYXNzdzByZA"), "{shown}");
}

/// Sends `request` on a bare socket: the status line of the answer, or `""` when the fake closes
/// (or resets) the connection unanswered; fails when it does neither within 5 s.
fn fate_of(fake: &FakeDbss, request: &[u8]) -> (String, TcpStream) {
    let mut stream = TcpStream::connect(fake.url().trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = stream.write_all(request);
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => seen.push(byte[0]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("neither answered nor closed: {error}"),
        }
    }
    (String::from_utf8_lossy(&seen).lines().next().unwrap_or_default().to_string(), stream)
}

#[test]
fn a_hostile_request_gets_an_answer_or_a_close_never_a_hang() {
    let fake = FakeDbss::start().unwrap();
    let get = |headers: &str| format!("GET /v1/p/dbss/audit/jobs/r HTTP/1.1\r\n{headers}\r\n");
    // A length that overflows any addition, or is no number: refused, then closed.
    for (length, refused) in [("18446744073709551615", 413), ("99999999999999999999", 400)] {
        let (status, mut stream) =
            fate_of(&fake, get(&format!("Content-Length: {length}\r\n")).as_bytes());
        assert!(status.starts_with(&format!("HTTP/1.1 {refused} ")), "{length}: {status:?}");
        assert!(stream.read_to_end(&mut Vec::new()).is_ok(), "{length}: not closed");
    }
    let many_headers = "X-A: b\r\n".repeat(5_000);
    let too_many_headers = "X-A: b\r\n".repeat(10_000);
    let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "%FF".repeat(20_000));
    for hostile in [
        get("Content-Length: -1\r\n"),
        get(&many_headers),
        get(&too_many_headers),
        get("no colon\r\n"),
        long_target,
        "\u{0}\u{7f} / HTTP/1.1\r\n\r\n".to_string(),
        "GET\r\n\r\n".to_string(),
    ] {
        let _ = fate_of(&fake, hostile.as_bytes());
    }
    // And the fake still serves.
    let (status, _) = fate_of(&fake, REQUEST);
    assert!(status.starts_with("HTTP/1.1 200 "), "{status}");
}
