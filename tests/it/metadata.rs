//! The ECS metadata step: deadlines, renewal, concurrent callers, error answers, the token API, the kill switch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dbss_jobs::{Client, ErrorKind};

use crate::support::{After, Server, respond};

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
    let client = crate::support::without_credentials(metadata.url())
        .metadata_endpoint(metadata.url())
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
    let client = crate::support::without_credentials(server.url())
        .metadata_endpoint(server.url())
        .build()
        .unwrap();
    for _ in 0..5 {
        client.get_jobs_in("p", "r").unwrap();
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "one fetch, one failed renewal");
}

#[test]
fn concurrent_calls_wait_for_a_metadata_fetch_only_until_their_deadline() {
    let (metadata, _) = slow_metadata(Duration::from_millis(2500), 3600);
    let client = Arc::new(
        crate::support::without_credentials(metadata.url())
            .metadata_endpoint(metadata.url())
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
        assert!(elapsed < Duration::from_millis(2400), "{elapsed:?}: {error}");
        assert!(error.is_timeout(), "{error}");
    }
}

#[test]
fn a_metadata_service_that_answers_an_error_is_api_and_missing_credentials() {
    let metadata = Server::json(403, r#"{"error_code":"META.403","error_msg":"forbidden"}"#);
    let client = crate::support::without_credentials("https://dbss.example.com")
        .metadata_endpoint(metadata.url())
        .project_id("p")
        .build()
        .unwrap();
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error}");
    assert_eq!(error.status(), Some(403));
    assert!(error.is_missing_credentials() && error.status() == Some(403), "{error}");
    let message = error.to_string();
    assert!(
        message
            .contains(&format!("; ECS metadata {}: api error: http 403 META.403", metadata.url())),
        "{message}"
    );
    assert_eq!(metadata.requests().len(), 1, "the PUT, then nothing");
}

#[test]
fn dbss_jobs_ecs_metadata_off_keeps_the_chain_from_the_metadata_service() {
    let metadata = Server::json(200, "{}");
    let build = |value: &str| {
        Client::builder()
            .endpoint("https://dbss.example.com")
            .metadata_endpoint(metadata.url())
            .environment([("HOME", "/nonexistent"), ("DBSS_JOBS_ECS_METADATA", value)])
            .timeout(Duration::from_secs(2))
            .build()
    };
    let error = build("off").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.is_missing_credentials(), "{error}");
    assert!(
        error.to_string().contains("ECS metadata (turned off by DBSS_JOBS_ECS_METADATA)"),
        "{error}"
    );
    let error = build("maybe").unwrap_err();
    assert!(error.to_string().contains("DBSS_JOBS_ECS_METADATA: must be on or off"), "{error}");
    assert!(build("on").is_ok());
    assert_eq!(metadata.requests().len(), 0);
}

/// Run by [`the_process_kill_switch_is_off_for_clients_with_their_own_environment`] in a child
/// process whose environment has `DBSS_JOBS_ECS_METADATA=off`; does nothing in a normal run.
#[test]
fn kill_switch_child() {
    if std::env::var_os("DBSS_JOBS_KILL_SWITCH_CHILD").is_none() {
        return;
    }
    let metadata = Server::json(200, "{}");
    let error = crate::support::without_credentials("http://127.0.0.1:9")
        .metadata_endpoint(metadata.url())
        .build()
        .unwrap_err();
    assert!(error.is_missing_credentials(), "{error}");
    assert!(error.to_string().contains("turned off by DBSS_JOBS_ECS_METADATA"), "{error}");
    assert_eq!(metadata.connections(), 0);
}

#[test]
fn the_process_kill_switch_is_off_for_clients_with_their_own_environment() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "metadata::kill_switch_child", "--nocapture"])
        .env("DBSS_JOBS_KILL_SWITCH_CHILD", "1")
        .env("DBSS_JOBS_ECS_METADATA", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
    // And a client's own variables turn it off for that client.
    let metadata = Server::json(200, "{}");
    let error = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .environment([("HOME", "/nonexistent"), ("DBSS_JOBS_ECS_METADATA", "off")])
        .metadata_endpoint(metadata.url())
        .build()
        .unwrap_err();
    assert!(error.is_missing_credentials(), "{error}");
}

/// A metadata service whose token API answers `token` (a status and a body).
fn metadata_with_token(status: u16, token: &'static str) -> Server {
    Server::start(move |request, stream| {
        if request.method == "PUT" {
            crate::support::respond(stream, status, &[], token.as_bytes());
        } else {
            let body = crate::support::security_key_body("META-AK", "meta-sk", "meta-token", 3600);
            crate::support::respond(stream, 200, &[], body.as_bytes());
        }
        After::KeepAlive
    })
}

fn counting_hooks(
    builder: dbss_jobs::ClientBuilder,
) -> (dbss_jobs::ClientBuilder, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (requests, responses) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (r, a) = (requests.clone(), responses.clone());
    let builder = builder
        .on_request(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .on_response(move |_| {
            a.fetch_add(1, Ordering::SeqCst);
        });
    (builder, requests, responses)
}

/// As huaweicloudsdkcore 3.1.219's `MetadataAccessor`: a token API that answers 404, 405 or 503
/// is skipped, and the security key asked for without a token; any other failure stands.
#[test]
fn a_metadata_service_without_the_token_api_is_asked_without_a_token() {
    let dbss = Server::json(200, r#"{"jobs":[]}"#);
    for (status, skipped) in [(404, true), (405, true), (503, true), (500, false), (403, false)] {
        let metadata = metadata_with_token(status, r#"{"error":"not here"}"#);
        let client = crate::support::without_credentials(dbss.url())
            .project_id("p")
            .metadata_endpoint(metadata.url())
            .build()
            .unwrap();
        let result = client.get_jobs("r");
        assert_eq!(result.is_ok(), skipped, "{status}: {result:?}");
        let asked = metadata.requests();
        assert_eq!(asked.len(), if skipped { 2 } else { 1 }, "{status}");
        if skipped {
            assert_eq!(asked[1].header("x-metadata-token"), None);
            let sent = dbss.requests();
            assert_eq!(sent.last().unwrap().header("x-security-token"), Some("meta-token"));
        }
    }
    // A session token that cannot be a header: the metadata step's answer was wrong.
    let metadata = metadata_with_token(200, "tok\u{1}en");
    let (builder, requests, responses) = counting_hooks(
        crate::support::without_credentials(dbss.url())
            .project_id("p")
            .metadata_endpoint(metadata.url()),
    );
    let error = builder.build().unwrap().get_jobs("r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    assert!(error.is_missing_credentials(), "{error}");
    assert_eq!(metadata.requests().len(), 1);
    assert_eq!(requests.load(Ordering::SeqCst), responses.load(Ordering::SeqCst));
}

#[test]
fn a_refused_access_key_does_not_block_the_next_temporary_one() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    // Credentials 4 minutes from expiry: every call renews them, and the second key is another.
    let metadata = Server::start(move |request, stream| {
        if request.method == "PUT" {
            respond(stream, 200, &[], b"session-token-1234");
        } else {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let body = crate::support::security_key_body(
                &format!("TEMP-AK-{n}"),
                "temp-sk",
                "temp-token",
                240,
            );
            respond(stream, 200, &[], body.as_bytes());
        }
        After::KeepAlive
    });
    let dbss = Server::start(|request, stream| {
        let first_key =
            request.header("authorization").unwrap_or_default().contains("Access=TEMP-AK-0,");
        if first_key {
            let body = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: Get secretKey failed,ak:TEMP-AK-0,err:ak not exist"}"#;
            respond(stream, 401, &[], body.as_bytes());
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let client = crate::support::without_credentials(dbss.url())
        .project_id("p")
        .metadata_endpoint(metadata.url())
        .build()
        .unwrap();
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!(
        error.auth_failure(),
        Some(dbss_jobs::error::AuthFailure::UnknownAccessKey),
        "{error}"
    );
    client.get_jobs("r").unwrap();
    assert_eq!(dbss.requests().len(), 2, "the new key was sent");
}

#[test]
fn the_metadata_services_own_secrets_never_reach_a_hook() {
    const SESSION: &str = "SESSION-canary-0123456789abcdef";
    const TOKEN: &str = "TEMPTOKEN-canary-0123456789abcdef";
    const SECRET: &str = "TEMPSK-canary-0123456789abcdef";
    let server = Server::start(|request, stream| {
        if request.target.ends_with("/api/token") {
            respond(stream, 200, &[("X-Session", SESSION)], SESSION.as_bytes());
        } else if request.target.starts_with("/openstack/") {
            let body = crate::support::security_key_body("META-AK", SECRET, TOKEN, 3600);
            let headers = [("X-Debug-Token", TOKEN), ("X-Debug-Secret", SECRET)];
            respond(stream, 200, &headers, body.as_bytes());
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let log = seen.clone();
    let client = crate::support::without_credentials(server.url())
        .metadata_endpoint(server.url())
        .on_response(move |info| log.lock().unwrap().push_str(&format!("{info:?}\n")))
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.contains("x-debug-token"), "{seen}");
    for secret in [SESSION, TOKEN, SECRET] {
        assert!(!seen.contains(&secret[..12]), "{secret} in {seen}");
    }
}

#[test]
fn the_token_request_is_an_empty_put_as_the_official_sdk_sends_it() {
    let server = Server::start(|request, stream| {
        match request.method.as_str() {
            "PUT" => respond(stream, 200, &[], b"session"),
            _ if request.target.starts_with("/openstack/") => {
                let body = crate::support::security_key_body("META-AK", "s", "t", 3600);
                respond(stream, 200, &[], body.as_bytes());
            }
            _ => respond(stream, 200, &[], br#"{"jobs":[]}"#),
        }
        After::KeepAlive
    });
    let client = crate::support::without_credentials(server.url())
        .metadata_endpoint(server.url())
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let put = server.requests().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.header("content-length"), Some("0"));
    assert_eq!(put.header("transfer-encoding"), None);
}

/// A wait rides out a metadata service that answers 429 or 5xx (the README's promise), and ends
/// at once on any other refusal of it.
#[test]
fn a_wait_rides_out_a_busy_metadata_service_and_only_that() {
    for (status, ridden_out) in [
        (429, true),
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (404, false),
        (401, false),
    ] {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let metadata = Server::start(move |request, stream| {
            if request.method == "PUT" {
                respond(stream, 200, &[], b"session");
            } else if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                respond(stream, status, &[], b"{}");
            } else {
                let body = crate::support::security_key_body("META-AK", "meta-sk", "tok", 3600);
                respond(stream, 200, &[], body.as_bytes());
            }
            After::KeepAlive
        });
        let dbss = Server::json(200, r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#);
        let client = crate::support::without_credentials(dbss.url())
            .project_id("p")
            .metadata_endpoint(metadata.url())
            .build()
            .unwrap();
        let options = dbss_jobs::WaitOptions::default()
            .interval(Duration::from_millis(10))
            .timeout(Duration::from_secs(5));
        let result = client.wait_for_jobs("r", options, |_| {});
        assert_eq!(result.is_ok(), ridden_out, "{status}: {result:?}");
        assert_eq!(fetches.load(Ordering::SeqCst), if ridden_out { 2 } else { 1 }, "{status}");
    }
}
