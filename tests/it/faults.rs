//! Hostile servers and networks: for each scenario, the exact outcome, a bounded wait (the deadline
//! plus a generous margin: a correctness bound, not a speed target), the number of requests or
//! connections that reached the server, and no secret in the error. A panic fails the test. The
//! faults the fake offers (stall, reset, drip, a status) are played by the fake; the raw server
//! sends what no fake should: broken framing, truncation, malformed or huge heads.

use std::io::Write;
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use dbss_jobs::fake::{FakeDbss, Reply, Step, job};
use dbss_jobs::{
    ClientBuilder, Credentials, Error, ErrorKind, IamToken, Job, JobStatus, RetryPolicy,
};

use crate::support::{
    After, CANARY_IAM_TOKEN, CANARY_SECURITY_TOKEN, CANARY_SK, Server, assert_error_clean, respond,
};

const DEADLINE: Duration = Duration::from_millis(800);
/// Scheduling slack on a loaded 2-core CI machine; far below the scripts' stalls (5 s and more).
const MARGIN: Duration = Duration::from_millis(1500);

/// Runs one call with canary secrets, AK/SK + security token.
fn call(server: &Server) -> (Result<Vec<Job>, Error>, Duration) {
    let credentials = Credentials::new("FAULT-AK", CANARY_SK).unwrap();
    run(crate::support::client(server.url()), credentials)
}

/// The same on the fake, whose SK is no canary (`check_error` looks for it too): the fake checks
/// the signature before it plays a fault.
fn call_fake(fake: &FakeDbss, steps: Vec<Step>) -> (Result<Vec<Job>, Error>, Duration) {
    fake.set_script("instance", steps);
    run(fake.client(), fake.credentials())
}

fn run(builder: ClientBuilder, credentials: Credentials) -> (Result<Vec<Job>, Error>, Duration) {
    let client = builder
        .auth(credentials.with_security_token(CANARY_SECURITY_TOKEN).unwrap())
        .timeout(DEADLINE)
        .connect_timeout(DEADLINE)
        .max_body_size(1024 * 1024)
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(20)))
        .build()
        .unwrap();
    timed(|| client.get_jobs_in("project", "instance"))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

#[track_caller]
fn check_error(result: Result<Vec<Job>, Error>, elapsed: Duration, kind: ErrorKind) -> Error {
    assert!(elapsed < DEADLINE + MARGIN, "took {elapsed:?}");
    let error = result.expect_err("expected an error");
    assert_eq!(error.kind(), kind, "{error:?}");
    assert_error_clean(&error, &[FakeDbss::SECRET_KEY.to_string()]);
    error
}

fn head(stream: &mut TcpStream, text: &str) {
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.flush();
}

#[test]
fn accepts_and_never_answers() {
    let fake = FakeDbss::start().unwrap();
    let (result, elapsed) = call_fake(&fake, vec![Step::Reply(Reply::stall(DEADLINE + MARGIN))]);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn answers_headers_then_stalls_mid_body() {
    let server = Server::start(|_, stream| {
        head(stream, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"jobs\":[");
        sleep(Duration::from_secs(10));
        After::Close
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    assert!(error.is_timeout(), "{error:?}");
    // A response had begun: not retried.
    assert_eq!((server.requests().len(), error.attempts()), (1, 1));
}

#[test]
fn resets_the_connection() {
    let fake = FakeDbss::start().unwrap();
    let (result, elapsed) = call_fake(&fake, vec![Step::Reply(Reply::reset())]);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    // No response at all: a connection failure, retried up to the policy's 3 attempts.
    assert_eq!(error.attempts(), 3, "{error:?}");
    assert_eq!(fake.requests().len(), 3);
}

#[test]
fn closes_before_content_length_bytes() {
    let server = Server::start(|_, stream| {
        head(stream, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"jobs\":[]");
        After::Close
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    assert_eq!((server.requests().len(), error.attempts()), (1, 1));
}

#[test]
fn sends_malformed_chunked_encoding() {
    let server = Server::start(|_, stream| {
        head(
            stream,
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{\"jobs\":[]}\r\n0\r\n\r\n",
        );
        After::Close
    });
    let (result, elapsed) = call(&server);
    check_error(result, elapsed, ErrorKind::Transport);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn drips_one_byte_per_second_forever() {
    let server = Server::start(|_, stream| {
        head(stream, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
        for _ in 0..60 {
            if stream.write_all(b" ").is_err() {
                break;
            }
            sleep(Duration::from_secs(1));
        }
        After::Close
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    assert!(error.is_timeout(), "{error:?}");
}

#[test]
fn drips_the_status_line() {
    let fake = FakeDbss::start().unwrap();
    let dripped = Reply::new(200, "{}").drip(Duration::from_secs(1));
    let (result, elapsed) = call_fake(&fake, vec![Step::Reply(dripped)]);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    assert!(error.is_timeout(), "{error:?}");
}

#[test]
fn sends_a_body_larger_than_the_limit() {
    let server = Server::start(|_, stream| {
        let body = format!("{{\"jobs\":[{}]}}", vec!["{}"; 600_000].join(","));
        respond(stream, 200, &[("X-Request-Id", "big-1")], body.as_bytes());
        After::KeepAlive
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Decode);
    assert!(error.is_body_too_large(), "{error:?}");
    assert_eq!(error.request_id(), Some("big-1"));
}

#[test]
fn sends_a_chunked_body_larger_than_the_limit() {
    let server = Server::start(|_, stream| {
        head(stream, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        for _ in 0..40 {
            if stream.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
        After::Close
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Decode);
    assert!(error.is_body_too_large(), "{error:?}");
}

#[track_caller]
fn check_body(body: &'static [u8], kind: Option<ErrorKind>) -> Result<Vec<Job>, Error> {
    let server = Server::start(move |_, stream| {
        respond(stream, 200, &[("X-Request-Id", "body-1")], body);
        After::KeepAlive
    });
    let (result, elapsed) = call(&server);
    assert_eq!(server.requests().len(), 1);
    match kind {
        Some(kind) => {
            let error = check_error(result, elapsed, kind);
            assert_eq!(error.request_id(), Some("body-1"));
            assert_eq!(error.status(), Some(200));
            Err(error)
        }
        None => result,
    }
}

#[test]
fn undecodable_success_bodies_are_decode_errors() {
    for body in [
        &b"\xff\xfe{\"jobs\":[]}"[..],
        b"{\"jobs\":[\"\xc3\x28\"]}",
        b"{\"jobs\": [",
        b"<html>oops</html>",
        b"",
        br#"{"jobs":[{"begin_time":"abc"}]}"#,
        br#"{"jobs":{}}"#,
        br#"{"jobs":[{"job_id":12345}]}"#,
        br#"{"jobs":[{"status":true}]}"#,
    ] {
        let _ = check_body(body, Some(ErrorKind::Decode));
    }
}

#[test]
fn null_or_missing_jobs_read_as_no_jobs() {
    assert_eq!(check_body(br#"{"jobs":null}"#, None).unwrap(), vec![]);
    assert_eq!(check_body(br#"{"other":1}"#, None).unwrap(), vec![]);
}

#[test]
fn an_html_502_page_is_quoted_and_retried() {
    let server = Server::start(|_, stream| {
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n</html>";
        respond(stream, 502, &[("Content-Type", "text/html")], page);
        After::KeepAlive
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Api);
    assert_eq!(error.status(), Some(502));
    assert_eq!(error.error_code(), None);
    assert_eq!(
        error.error_msg(),
        Some("<html> <head><title>502 Bad Gateway</title></head> <body>nginx</body> </html>")
    );
    assert_eq!((error.attempts(), server.requests().len()), (3, 3));
}

#[test]
fn a_429_with_retry_after_is_waited_for() {
    let fake = FakeDbss::start().unwrap();
    let (result, elapsed) =
        call_fake(&fake, vec![Step::Reply(Reply::throttled(0)), Step::Jobs(vec![])]);
    assert!(elapsed < DEADLINE + MARGIN, "took {elapsed:?}");
    assert_eq!(result.unwrap(), vec![]);
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn two_503_then_200_succeeds() {
    let fake = FakeDbss::start().unwrap();
    let busy = Step::Reply(Reply::unavailable());
    let done = Step::Jobs(vec![job("j", JobStatus::Success)]);
    let (result, elapsed) = call_fake(&fake, vec![busy.clone(), busy, done]);
    assert!(elapsed < DEADLINE + MARGIN, "took {elapsed:?}");
    assert_eq!(result.unwrap().len(), 1);
    assert_eq!(fake.requests().len(), 3);
}

#[test]
fn a_302_is_not_followed() {
    let server = Server::start(|_, stream| {
        respond(stream, 302, &[("Location", "http://127.0.0.1:9/stolen")], b"");
        After::KeepAlive
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Api);
    assert_eq!(error.status(), Some(302));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_200_without_a_body() {
    let server = Server::start(|_, stream| {
        respond(stream, 200, &[], b"");
        After::KeepAlive
    });
    let (result, elapsed) = call(&server);
    check_error(result, elapsed, ErrorKind::Decode);
    let closing = Server::start(|_, stream| {
        head(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        After::Close
    });
    let (result, elapsed) = call(&closing);
    check_error(result, elapsed, ErrorKind::Decode);
}

#[test]
fn response_headers_larger_than_any_sane_limit() {
    let server = Server::start(|_, stream| {
        let mut text = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..20_000 {
            text.push_str(&format!("X-Padding-{i}: {}\r\n", "x".repeat(50)));
        }
        text.push_str("Content-Length: 11\r\n\r\n{\"jobs\":[]}");
        head(stream, &text);
        After::Close
    });
    let (result, elapsed) = call(&server);
    let error = check_error(result, elapsed, ErrorKind::Transport);
    // A malformed answer is not a connection failure: not retried.
    assert_eq!((server.requests().len(), error.attempts()), (1, 1));
}

#[test]
fn an_iam_token_never_leaks_on_any_path() {
    let server = Server::raw(|stream| {
        sleep(Duration::from_millis(20));
        drop(stream);
    });
    let client = crate::support::client(server.url())
        .auth(IamToken::new(CANARY_IAM_TOKEN).unwrap())
        .timeout(DEADLINE)
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_error_clean(&error, &[]);
    for bad in ["", ".", "a\u{0}b"] {
        assert_error_clean(&client.get_jobs_in("p", bad).unwrap_err(), &[]);
    }
}
