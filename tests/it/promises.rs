//! The crate's three promises, one finding of the second review at a time: no secret on disk or on
//! screen, no traffic before bad input fails, no signature the gateway is sure to reject. Each test
//! failed before its fix. The sweeping tests that walk every path at once are `canaries`,
//! `before_traffic` and `lockout`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbss_jobs::{Client, Credentials, ErrorKind, IamToken, WaitOptions};

use crate::beyond::{Tells, gateway_with_clock, skew_client};
use crate::cli::{check_exit, get_jobs};
use crate::support::{After, Server, closed_port, respond};

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
        let client = Client::builder()
            .endpoint("http://127.0.0.1:9")
            .environment([("HOME", "/nonexistent")])
            .metadata_endpoint(metadata.url())
            .on_response(move |response| log.lock().unwrap().push_str(&format!("{response:?}")))
            .build()
            .unwrap();
        let error = client.get_jobs_in("p", "r").unwrap_err();
        assert!(error.is_missing_credentials(), "{error}");
        assert!(error.to_string().contains("** redacted **"), "{error}");
        for text in [
            error.to_string(),
            format!("{error:?}"),
            seen.lock().unwrap().clone(),
        ] {
            assert!(!text.contains(SESSION_TOKEN), "{text}");
        }
        assert_eq!(metadata.requests().len(), 2);
    }
}

#[test]
fn a_proxy_url_that_goes_on_after_its_host_is_refused_without_its_password() {
    let url = "http://alice:pw/S3cret-proxy@127.0.0.1:3128";
    let explicit = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .auth(Credentials::new("AK", "SK").unwrap())
        .proxy(url);
    assert!(!format!("{explicit:?}").contains("S3cret"), "{explicit:?}");
    let from_env = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .auth(Credentials::new("AK", "SK").unwrap())
        .environment([("HTTPS_PROXY", url)]);
    for builder in [explicit, from_env] {
        let error = builder.build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.contains("percent-encode"), "{message}");
        for text in [message, format!("{error:?}")] {
            assert!(
                !text.contains("S3cret") && !text.contains("alice:pw"),
                "{text}"
            );
        }
    }
}

#[test]
fn decisions_are_made_on_the_answer_as_received() {
    // A token that the gateway's words happen to contain: shown redacted, decided on as sent.
    let server = Server::start(|request, stream| {
        if request.target.contains("/dbss/audit/jobs/") {
            respond(
                stream,
                404,
                &[],
                br#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#,
            );
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let client = Client::builder()
        .endpoint(server.url())
        .auth(IamToken::new("APIGW.0101").unwrap())
        .build()
        .unwrap();
    assert_eq!(client.get_jobs_in("p", "r").unwrap(), vec![]);
    assert_eq!(server.requests().len(), 2, "the newer path was tried");
    // A secret too short to search for leaves the gateway's words alone.
    let server = Server::json(400, r#"{"error_code":"DBSS.0101","error_msg":"bad 0101"}"#);
    let client = Client::builder()
        .endpoint(server.url())
        .auth(IamToken::new("0101").unwrap())
        .build()
        .unwrap();
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
        respond(
            stream,
            200,
            &[("X-Auth-Token", &token), ("X-Echo", &echo)],
            br#"{"jobs":[]}"#,
        );
        After::KeepAlive
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = Client::builder()
        .endpoint(server.url())
        .auth(IamToken::new(TOKEN).unwrap())
        .on_response(move |response| log.lock().unwrap().extend(response.headers().to_vec()))
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    let headers = seen.lock().unwrap().clone();
    assert!(
        headers.iter().any(|(name, _)| name == "x-echo"),
        "{headers:?}"
    );
    assert!(!format!("{headers:?}").contains(TOKEN), "{headers:?}");
}

#[test]
fn server_text_is_shown_as_one_line_without_escapes() {
    let forged = r#"{"error_code":"DBSS.1\n","error_msg":"bad\nget_jobs: all good \u001b[32mOK\u001b[0m \u202egnp.exe","request_id":"r\r\nX"}"#;
    let server = Server::json(400, forged);
    let client = Client::builder()
        .endpoint(server.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    let shown = error.to_string();
    assert!(
        !shown.contains(['\n', '\r', '\u{1b}', '\u{202e}']),
        "{shown:?}"
    );
    assert!(
        shown.contains(r"bad\nget_jobs: all good \u{1b}[32mOK"),
        "{shown}"
    );
    assert_eq!(error.error_code(), Some(r"DBSS.1\n"));
    let long = Server::json(
        400,
        Box::leak(format!(r#"{{"error_msg":"{}"}}"#, "y".repeat(100_000)).into_boxed_str()),
    );
    let client = Client::builder()
        .endpoint(long.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .build()
        .unwrap();
    let shown = client.get_jobs_in("p", "r").unwrap_err().to_string();
    assert!(shown.len() < 1_000, "{} characters", shown.len());
}

#[test]
fn an_invalid_id_fails_before_the_project_lookup() {
    let iam = Server::json(200, r#"{"projects":[{"id":"p1","name":"cn-north-4"}]}"#);
    let client = Client::builder()
        .region("cn-north-4")
        .endpoint("http://127.0.0.1:9")
        .iam_endpoint(iam.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    for id in ["", ".", "..", "a\nb"] {
        let error = client.get_jobs(id).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:?}: {error}");
        let options = WaitOptions::default().timeout(Duration::from_secs(1));
        let error = client.wait_for_jobs(id, options, |_| {}).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:?}: {error}");
    }
    assert_eq!(iam.connections(), 0);
}

#[test]
fn cli_an_empty_id_is_exit_2_before_the_project_lookup() {
    let iam = Server::json(503, "{}");
    let output = get_jobs()
        .args(["--region", "cn-north-4", ""])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", iam.url())
        .output()
        .unwrap();
    check_exit(&output, 2);
    assert_eq!(iam.connections(), 0);
}

#[test]
fn cli_double_dash_makes_every_later_word_an_operand() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p", "--", "-v"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert_eq!(server.requests()[0].target, "/v1/p/dbss/audit/jobs/-v");
}

#[test]
fn cli_missing_credentials_exit_2_when_the_metadata_step_fails() {
    let metadata = format!("http://127.0.0.1:{}", closed_port());
    let output = get_jobs()
        .args(["--endpoint", "http://127.0.0.1:9", "--project-id", "p", "r"])
        .env("DBSS_JOBS_ECS_METADATA_ENDPOINT", &metadata)
        .output()
        .unwrap();
    check_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no credentials found"), "{stderr}");
    assert!(stderr.contains(&metadata), "{stderr}");
}

#[test]
fn a_wrong_date_on_an_accepted_answer_is_never_learned() {
    let year = 365 * 24 * 3600;
    let server = gateway_with_clock(Arc::new(AtomicI64::new(0)), Tells::WrongDate(year));
    let client = skew_client(&server, true);
    for _ in 0..3 {
        client.get_jobs("r").unwrap();
    }
    assert_eq!(server.requests().len(), 3, "no signature was refused");
}

#[test]
fn a_clock_beyond_the_reach_of_the_correction_sends_one_signature_per_call() {
    let server = gateway_with_clock(Arc::new(AtomicI64::new(48 * 3600)), Tells::DateHeader);
    let client = skew_client(&server, true);
    for call in 1..=3 {
        let error = client.get_jobs("r").unwrap_err();
        assert!(error.is_auth_rejected(), "{error}");
        assert!(
            error
                .to_string()
                .contains("your clock is 48 h 00 min behind"),
            "{error}"
        );
        assert_eq!(
            server.requests().len(),
            call,
            "one refused signature per call"
        );
    }
}

#[test]
fn a_corrected_attempt_that_expires_drops_the_correction_and_re_signing_stops() {
    let offset = Arc::new(AtomicI64::new(2 * 3600));
    let server = gateway_with_clock(offset.clone(), Tells::MessageOnly);
    let client = skew_client(&server, true);
    client.get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 2, "one refused, one re-signed");
    // The machine's clock is fixed under the client: the correction is now wrong.
    offset.store(0, Ordering::SeqCst);
    let error = client.get_jobs("r").unwrap_err();
    assert!(
        error.to_string().contains("correction no longer holds"),
        "{error}"
    );
    assert_eq!(
        server.requests().len(),
        3,
        "a corrected attempt is not re-signed"
    );
    client.get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 4, "the correction was dropped");
    // The clock goes wrong again: the client has had its one re-sign.
    offset.store(2 * 3600, Ordering::SeqCst);
    client.get_jobs("r").unwrap_err();
    assert_eq!(server.requests().len(), 5);
}
