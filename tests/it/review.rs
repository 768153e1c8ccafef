//! Defects found by an independent review, each held by a test that failed before its fix.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dbss_jobs::{Client, Credentials, ErrorKind, IamToken};

use crate::support::{
    After, CANARY_IAM_TOKEN, CANARY_SECURITY_TOKEN, Server, Socks5, assert_error_clean, respond,
};

/// A host name that no resolver is ever asked about: its first label is longer than 63 characters,
/// so the system resolver refuses it without sending a packet.
pub fn unresolvable_host() -> String {
    format!("{}.example", "a".repeat(64))
}

#[test]
fn an_explicit_socks5_proxy_carries_the_request() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let socks = Socks5::start();
    for scheme in ["socks5", "socks5h"] {
        let client = Client::builder()
            .endpoint(server.url())
            .auth(Credentials::new("AK", "SK").unwrap())
            .proxy(socks.url(scheme))
            .build()
            .unwrap();
        client.get_jobs_in("p", "r").unwrap();
    }
    let expected = server.url().replace("http://", "");
    assert_eq!(socks.targets(), [expected.clone(), expected]);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_socks5_proxy_from_the_environment_is_used_not_bypassed() {
    let socks = Socks5::start();
    let host = unresolvable_host();
    for variable in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"] {
        let client = Client::builder()
            .endpoint(format!("https://{host}"))
            .auth(Credentials::new("AK", "SK").unwrap())
            .environment([(variable, socks.url("socks5h").as_str())])
            .retry(dbss_jobs::RetryPolicy::none())
            .build()
            .unwrap();
        // The stand-in closes the tunnel: what matters is that the proxy was asked for the host.
        let error = client.get_jobs_in("p", "r").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
        assert!(!error.is_dns(), "{variable}: reached directly: {error}");
    }
    assert_eq!(socks.targets(), vec![format!("{host}:443"); 4]);
}

/// An IAM stand-in that answers one project id to its first `successes` requests, then 401.
fn iam_stand_in(id: &'static str, successes: usize) -> Server {
    let served = AtomicUsize::new(0);
    Server::start(move |_, stream| {
        if served.fetch_add(1, Ordering::SeqCst) < successes {
            let body = format!(r#"{{"projects":[{{"id":"{id}","name":"cn-north-4"}}]}}"#);
            respond(stream, 200, &[], body.as_bytes());
        } else {
            respond(
                stream,
                401,
                &[],
                br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#,
            );
        }
        After::KeepAlive
    })
}

fn iam_client(iam: &Server, ak: &str, sk: &str) -> Client {
    Client::builder()
        .region("cn-north-4")
        .endpoint("https://dbss.example.com")
        .iam_endpoint(iam.url())
        .auth(Credentials::new(ak, sk).unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap()
}

#[test]
fn the_iam_cache_does_not_cross_endpoints() {
    let first = iam_stand_in("project-of-first", usize::MAX);
    let second = iam_stand_in("project-of-second", usize::MAX);
    let ak = "REVIEW-CACHE-ENDPOINT-AK";
    assert_eq!(
        iam_client(&first, ak, "sk").project_id().unwrap(),
        "project-of-first"
    );
    assert_eq!(
        iam_client(&second, ak, "sk").project_id().unwrap(),
        "project-of-second"
    );
    assert_eq!(second.requests().len(), 1);
}

#[test]
fn the_iam_cache_does_not_serve_another_secret_key() {
    // Accepts the first lookup only: a second identity with the same AK must be asked for.
    let iam = iam_stand_in("project-1", 1);
    let ak = "REVIEW-CACHE-SK-AK";
    assert_eq!(
        iam_client(&iam, ak, "right-sk").project_id().unwrap(),
        "project-1"
    );
    assert_eq!(
        iam_client(&iam, ak, "right-sk").project_id().unwrap(),
        "project-1"
    );
    let error = iam_client(&iam, ak, "wrong-sk").project_id().unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert_eq!(iam.requests().len(), 2);
}

/// A server that answers 500 with an HTML page quoting the request's `X-Auth-Token` at its start.
fn echoing_html_server() -> Server {
    Server::start(|request, stream| {
        let token = request.header("x-auth-token").unwrap_or_default();
        let body = format!("<html><body>token {token} was refused</body></html>");
        respond(
            stream,
            500,
            &[("Content-Type", "text/html")],
            body.as_bytes(),
        );
        After::KeepAlive
    })
}

#[test]
fn a_long_token_echoed_in_a_text_body_is_not_cut_in_half() {
    let server = echoing_html_server();
    let token = format!("{CANARY_IAM_TOKEN}{}", "x".repeat(400));
    let client = Client::builder()
        .endpoint(server.url())
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
fn tokens_with_surrounding_white_space_are_still_scrubbed() {
    let server = echoing_html_server();
    let client = Client::builder()
        .endpoint(server.url())
        .auth(IamToken::new(format!(" {CANARY_IAM_TOKEN} ")).unwrap())
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_eq!(
        server.requests()[0].header("x-auth-token"),
        Some(CANARY_IAM_TOKEN)
    );
    assert_error_clean(&error, &[]);

    // A security token from the environment with a trailing space, echoed in a JSON error.
    let echo = Server::start(|request, stream| {
        let token = request.header("x-security-token").unwrap_or_default();
        let body = format!(r#"{{"error_code":"E","error_msg":"bad token {token}"}}"#);
        respond(stream, 400, &[], body.as_bytes());
        After::KeepAlive
    });
    let client = Client::builder()
        .endpoint(echo.url())
        .environment([
            ("HUAWEICLOUD_SDK_AK", "AK"),
            ("HUAWEICLOUD_SDK_SK", "SK"),
            (
                "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                &format!("{CANARY_SECURITY_TOKEN} ") as &str,
            ),
        ])
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert!(error.to_string().contains("** redacted **"), "{error}");
    assert_error_clean(&error, &[]);
}

#[test]
fn a_proxy_password_never_shows() {
    let builder = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .auth(Credentials::new("AK", "SK").unwrap())
        .proxy(format!(
            "http://alice:S3cret@127.0.0.1:{}",
            crate::support::closed_port()
        ))
        .retry(dbss_jobs::RetryPolicy::none());
    let debug = format!("{builder:?}");
    assert!(!debug.contains("S3cret"), "{debug}");
    assert!(debug.contains("http://** redacted **@127.0.0.1"), "{debug}");
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains("S3cret"));
    let error = client.get_jobs_in("p", "r").unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("S3cret"), "{text}");
    }
}

/// A metadata service that answers every request after `delay`, with credentials valid for
/// `expires_in` seconds.
fn slow_metadata(delay: Duration, expires_in: i64) -> (Server, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let server = Server::start(move |request, stream| {
        std::thread::sleep(delay);
        if request.method == "PUT" {
            respond(stream, 200, &[], b"session");
        } else if request.target.starts_with("/openstack/") {
            counter.fetch_add(1, Ordering::SeqCst);
            let body =
                crate::support::security_key_body("META-AK", "meta-sk", "meta-token", expires_in);
            respond(stream, 200, &[], body.as_bytes());
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    (server, fetches)
}

#[test]
fn the_metadata_fetch_keeps_to_the_call_deadline() {
    let (metadata, _) = slow_metadata(Duration::from_millis(2500), 3600);
    let client = Client::builder()
        .endpoint(metadata.url())
        .metadata_endpoint(metadata.url())
        .environment([("HOME", "/nonexistent")])
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    let elapsed = started.elapsed();
    // The deadline is 1 s; the bound leaves room for a busy machine, not for a second request.
    assert!(elapsed < Duration::from_millis(2400), "{elapsed:?}");
    assert!(error.is_timeout(), "{error}");
    assert!(error.to_string().contains("ECS metadata"), "{error}");
}

#[test]
fn failed_renewals_back_off_while_cached_credentials_are_valid() {
    // Credentials valid for 2 minutes: inside the 5-minute renewal window, so every call wants
    // to renew them; after the first renewal fails, the next calls use the cached ones.
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let server = Server::start(move |request, stream| {
        if request.method == "PUT" {
            respond(stream, 200, &[], b"session");
        } else if request.target.starts_with("/openstack/") {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                let body = crate::support::security_key_body("META-AK", "s", "t", 120);
                respond(stream, 200, &[], body.as_bytes());
            } else {
                respond(stream, 500, &[], b"metadata is down");
            }
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let client = Client::builder()
        .endpoint(server.url())
        .metadata_endpoint(server.url())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    for _ in 0..5 {
        client.get_jobs_in("p", "r").unwrap();
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one fetch, one failed renewal"
    );
}

#[test]
fn concurrent_calls_wait_for_a_metadata_fetch_only_until_their_deadline() {
    let (metadata, _) = slow_metadata(Duration::from_millis(2500), 3600);
    let client = Arc::new(
        Client::builder()
            .endpoint(metadata.url())
            .metadata_endpoint(metadata.url())
            .environment([("HOME", "/nonexistent")])
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
    );
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let error = client.get_jobs_in("p", "r").unwrap_err();
                (started.elapsed(), error)
            })
        })
        .collect();
    for thread in threads {
        let (elapsed, error) = thread.join().unwrap();
        assert!(
            elapsed < Duration::from_millis(2400),
            "{elapsed:?}: {error}"
        );
        assert!(error.is_timeout(), "{error}");
    }
}

#[test]
fn proxies_from_the_environment_skip_loopback_targets_and_no_proxy_hosts() {
    // IAM on loopback, DBSS elsewhere, a proxy in the (client's) environment that refuses all.
    let iam = iam_stand_in("project-direct", usize::MAX);
    let proxy = format!("http://127.0.0.1:{}", crate::support::closed_port());
    let host = unresolvable_host();
    let client = Client::builder()
        .region("cn-north-4")
        .endpoint(format!("https://{host}"))
        .iam_endpoint(iam.url())
        .auth(Credentials::new("REVIEW-LOOPBACK-IAM-AK", "sk").unwrap())
        .environment([("HTTPS_PROXY", proxy.as_str()), ("NO_PROXY", ".example")])
        .retry(dbss_jobs::RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(client.project_id().unwrap(), "project-direct");
    // `.example` is in NO_PROXY: the DBSS host is resolved directly, and the resolver refuses it.
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert!(error.is_dns(), "{error}");
    assert_eq!(error.attempts(), 1);
}

#[test]
fn an_explicit_proxy_carries_loopback_targets_too() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let socks = Socks5::start();
    let client = Client::builder()
        .endpoint(server.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .proxy(socks.url("socks5"))
        .environment([("NO_PROXY", "*")])
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    assert_eq!(socks.targets().len(), 1);
}

#[test]
fn a_resolver_failure_is_dns_and_not_retried() {
    let client = Client::builder()
        .endpoint(format!("https://{}", unresolvable_host()))
        .auth(Credentials::new("AK", "SK").unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_dns() && !error.is_retryable(), "{error}");
    assert_eq!(error.attempts(), 1);
    assert!(
        error.to_string().starts_with(&format!(
            "transport error: connecting to {}:443: the host name could not be resolved",
            unresolvable_host()
        )),
        "{error}"
    );
}

#[test]
fn errors_tell_what_a_program_can_act_on() {
    let check = |status: u16, body: &'static str| {
        let server = Server::json(status, body);
        Client::builder()
            .endpoint(server.url())
            .auth(Credentials::new("AK", "SK").unwrap())
            .retry(dbss_jobs::RetryPolicy::none())
            .build()
            .unwrap()
            .get_jobs_in("p", "r")
            .unwrap_err()
    };
    let rejected = check(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"verify aksk signature fail"}"#,
    );
    assert!(rejected.is_auth_rejected() && !rejected.is_forbidden() && !rejected.is_retryable());
    let forbidden = check(
        403,
        r#"{"error_code":"APIGW.0306","error_msg":"no permission"}"#,
    );
    assert!(forbidden.is_forbidden() && !forbidden.is_auth_rejected());
    let busy = check(503, r#"{"error_code":"APIGW.0503","error_msg":"busy"}"#);
    assert!(busy.is_retryable() && !busy.is_missing_credentials());
    let refused = Client::builder()
        .endpoint(format!(
            "http://127.0.0.1:{}",
            crate::support::closed_port()
        ))
        .auth(Credentials::new("AK", "SK").unwrap())
        .retry(dbss_jobs::RetryPolicy::none())
        .build()
        .unwrap()
        .get_jobs_in("p", "r")
        .unwrap_err();
    assert!(refused.is_retryable() && refused.is_connect());
    let missing = Client::builder()
        .endpoint("https://dbss.example.com")
        .environment([("HOME", "/nonexistent")])
        .ecs_metadata(false)
        .build()
        .unwrap_err();
    assert!(
        missing.is_missing_credentials() && !missing.is_retryable(),
        "{missing}"
    );
    let bad_id = Client::builder()
        .endpoint("https://dbss.example.com")
        .auth(Credentials::new("AK", "SK").unwrap())
        .build()
        .unwrap()
        .get_jobs_in("p", "..")
        .unwrap_err();
    assert!(!bad_id.is_missing_credentials());
}

fn waiting_client(server: &Server) -> Client {
    Client::builder()
        .endpoint(server.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .retry(
            dbss_jobs::RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

const BUSY: &str = r#"{"error_code":"APIGW.0503","error_msg":"busy"}"#;

#[test]
fn a_waiter_rides_out_a_burst_of_transient_failures() {
    use crate::support::{Reply, sequence};
    let mut replies = vec![Reply::new(
        200,
        r#"{"jobs":[{"job_id":"j","status":"RUNNING"}]}"#,
    )];
    replies.extend(std::iter::repeat_n(Reply::new(503, BUSY), 4));
    replies.push(Reply::new(
        200,
        r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#,
    ));
    let server = sequence(replies);
    let options = dbss_jobs::WaitOptions::default()
        .interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(10));
    let jobs = waiting_client(&server)
        .wait_for_jobs("r", options, |_| {})
        .unwrap();
    assert_eq!(jobs[0].status, Some(dbss_jobs::JobStatus::Success));
    assert_eq!(server.requests().len(), 6);
}

#[test]
fn a_waiter_that_never_got_an_answer_has_no_last_jobs() {
    use crate::support::{Reply, sequence};
    let server = sequence(vec![Reply::new(503, BUSY)]);
    let options = dbss_jobs::WaitOptions::default()
        .interval(Duration::from_millis(20))
        .timeout(Duration::from_millis(400));
    let error = waiting_client(&server)
        .wait_for_jobs("r", options, |_| {})
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    assert_eq!(error.last_jobs(), None);
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("http 503"), "{cause}");
    assert!(
        !error.to_string().contains("http 503"),
        "the cause is shown once"
    );
}

#[test]
fn a_retry_after_past_the_wait_deadline_ends_the_wait_with_the_last_jobs() {
    use crate::support::{Reply, sequence};
    let server = sequence(vec![
        Reply::new(200, r#"{"jobs":[{"job_id":"j","status":"RUNNING"}]}"#),
        Reply::new(503, BUSY).header("Retry-After", "30"),
    ]);
    let options = dbss_jobs::WaitOptions::default()
        .interval(Duration::from_millis(20))
        .timeout(Duration::from_millis(500));
    let started = Instant::now();
    let error = waiting_client(&server)
        .wait_for_jobs("r", options, |_| {})
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    assert_eq!(error.last_jobs().map(<[_]>::len), Some(1));
}

#[test]
fn a_profile_saved_by_notepad_with_colons_is_read() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let dir = crate::support::TempDir::new("bom-profile");
    let path = dir.write(
        "credentials",
        "\u{feff}[basic]\r\nak: NOTEPAD-AK\r\nsk: notepad-sk\r\nproject_id: notepad-project\r\n",
    );
    let client = Client::builder()
        .endpoint(server.url())
        .profile_file(&path)
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/notepad-project/dbss/audit/jobs/r");
    assert!(
        request
            .header("authorization")
            .unwrap()
            .contains("Access=NOTEPAD-AK,")
    );
}

#[test]
fn a_metadata_service_that_answers_an_error_is_api_and_missing_credentials() {
    let metadata = Server::json(403, r#"{"error_code":"META.403","error_msg":"forbidden"}"#);
    let client = Client::builder()
        .endpoint("https://dbss.example.com")
        .metadata_endpoint(metadata.url())
        .environment([("HOME", "/nonexistent")])
        .project_id("p")
        .build()
        .unwrap();
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error}");
    assert_eq!(error.status(), Some(403));
    assert!(
        error.is_missing_credentials() && error.is_forbidden(),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "; ECS metadata {}: api error: http 403 META.403",
            metadata.url()
        )),
        "{message}"
    );
    assert_eq!(metadata.requests().len(), 1, "the PUT, then nothing");
}
