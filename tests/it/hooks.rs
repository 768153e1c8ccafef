//! The request and response hooks: once per attempt everywhere a request goes, secrets redacted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbss_jobs::{ClientBuilder, Credentials, IamToken};

use crate::support::{
    After, CANARY_IAM_TOKEN, CANARY_SECURITY_TOKEN, CANARY_SK, Reply, Server, closed_port, respond,
    sequence,
};

/// What the hooks saw, one line per call: `request <attempt> <method> <url>` or
/// `response <attempt> <status or error>`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn attach(&self, builder: ClientBuilder) -> ClientBuilder {
        let (requests, responses) = (self.0.clone(), self.0.clone());
        builder
            .on_request(move |request| {
                requests.lock().unwrap().push(format!(
                    "request {} {} {}",
                    request.attempt, request.method, request.url
                ));
            })
            .on_response(move |response| {
                let outcome = match response.status {
                    Ok(status) => status.to_string(),
                    Err(error) => format!("error {:?}", error.kind()),
                };
                responses.lock().unwrap().push(format!("response {} {outcome}", response.attempt));
            })
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

const BUSY: &str = r#"{"error_code":"APIGW.0503","error_msg":"busy"}"#;

#[test]
fn hooks_see_each_attempt_of_a_retried_call() {
    let server = sequence(vec![
        Reply::new(503, BUSY),
        Reply::new(503, BUSY),
        Reply::new(200, r#"{"jobs":[]}"#),
    ]);
    let seen = Seen::default();
    let client = seen.attach(crate::support::client(server.url())).project_id("p").build().unwrap();
    client.get_jobs("r").unwrap();
    let url = format!("{}/v1/p/dbss/audit/jobs/r", server.url());
    assert_eq!(
        seen.lines(),
        [
            format!("request 1 GET {url}"),
            "response 1 503".to_string(),
            format!("request 2 GET {url}"),
            "response 2 503".to_string(),
            format!("request 3 GET {url}"),
            "response 3 200".to_string(),
        ]
    );
}

#[test]
fn hooks_see_the_iam_lookup_and_the_newer_path_fallback() {
    let server = Server::start(|request, stream| {
        let (status, body): (u16, &[u8]) = if request.target.starts_with("/v3/projects") {
            (200, br#"{"projects":[{"id":"p1","name":"cn-north-4"}]}"#)
        } else if request.target.starts_with("/v1/p1/dbss/") {
            (404, br#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#)
        } else {
            (200, br#"{"jobs":[]}"#)
        };
        respond(stream, status, &[("X-Request-Id", "hooks-1")], body);
        After::KeepAlive
    });
    let seen = Seen::default();
    let client = seen
        .attach(crate::support::client(server.url()))
        .region("cn-north-4")
        .iam_endpoint(server.url())
        .auth(Credentials::new("HOOKS-IAM-AK", "SK").unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let base = server.url();
    assert_eq!(
        seen.lines(),
        [
            format!("request 1 GET {base}/v3/projects?name=cn-north-4"),
            "response 1 200".to_string(),
            format!("request 1 GET {base}/v1/p1/dbss/audit/jobs/r"),
            "response 1 404".to_string(),
            format!("request 1 GET {base}/v1/p1/audit/r/jobs"),
            "response 1 200".to_string(),
        ]
    );
}

#[test]
fn hooks_see_the_metadata_requests_with_the_session_token_redacted() {
    let server = Server::start(|request, stream| {
        if request.method == "PUT" {
            respond(stream, 200, &[], b"session-secret-token");
        } else if request.target.starts_with("/openstack/") {
            let body = crate::support::security_key_body(
                "META-AK",
                CANARY_SK,
                CANARY_SECURITY_TOKEN,
                3600,
            );
            respond(stream, 200, &[], body.as_bytes());
        } else {
            respond(stream, 200, &[], br#"{"jobs":[]}"#);
        }
        After::KeepAlive
    });
    let headers = Arc::new(Mutex::new(Vec::new()));
    let sink = headers.clone();
    let client = crate::support::without_credentials(server.url())
        .on_request(move |request| {
            sink.lock().unwrap().push(format!("{} {:?}", request.method, request.headers));
        })
        .metadata_endpoint(server.url())
        .project_id("p")
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let headers = headers.lock().unwrap().join("\n");
    assert!(headers.contains(r#"("X-Metadata-Token", "** redacted **")"#), "{headers}");
    for secret in ["session-secret-token", CANARY_SK, CANARY_SECURITY_TOKEN] {
        assert!(!headers.contains(secret), "{headers}");
    }
    assert_eq!(headers.lines().map(|l| &l[..3]).collect::<Vec<_>>(), ["PUT", "GET", "GET"]);
}

#[test]
fn secrets_are_redacted_in_every_hook_field() {
    let server = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#,
    );
    let captured = Arc::new(Mutex::new(None));
    let sink = captured.clone();
    let client = crate::support::client(server.url())
        .auth(
            Credentials::new("HOOK-AK", CANARY_SK)
                .unwrap()
                .with_security_token(CANARY_SECURITY_TOKEN)
                .unwrap(),
        )
        .project_id("p")
        .on_request(move |request| *sink.lock().unwrap() = Some(request.clone()))
        .build()
        .unwrap();
    let error = client.get_jobs("r").unwrap_err();
    let request = captured.lock().unwrap().clone().unwrap();
    let header =
        |name: &str| request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(
        header("Authorization").as_deref(),
        Some(
            "SDK-HMAC-SHA256 Access=HOOK-AK, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date;x-security-token, Signature=** redacted **"
        )
    );
    assert_eq!(header("X-Security-Token").as_deref(), Some("** redacted **"));
    let canonical = request.canonical_request.clone().unwrap();
    assert!(canonical.contains("\nx-security-token:** redacted **\n"), "{canonical}");
    assert!(request.string_to_sign.clone().unwrap().starts_with("SDK-HMAC-SHA256\n"));
    // The error keeps the same redacted canonical request for the 401.
    assert_eq!(error.canonical_request(), Some(canonical.as_str()));
    let sent_signature = crate::support::signatures_sent(&server).remove(0);
    for text in [format!("{request:?}"), format!("{error:?}")] {
        for secret in [CANARY_SK, CANARY_SECURITY_TOKEN, sent_signature.as_str()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    // An IAM token: the X-Auth-Token value, and no canonical request.
    let captured = Arc::new(Mutex::new(None));
    let sink = captured.clone();
    crate::support::client(server.url())
        .auth(IamToken::new(CANARY_IAM_TOKEN).unwrap())
        .project_id("p")
        .on_request(move |request| *sink.lock().unwrap() = Some(request.clone()))
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err();
    let request = captured.lock().unwrap().clone().unwrap();
    assert!(request.headers.contains(&("X-Auth-Token".to_string(), "** redacted **".to_string())));
    assert_eq!(request.canonical_request, None);
    assert!(!format!("{request:?}").contains(CANARY_IAM_TOKEN));
}

#[test]
fn a_transport_failure_reaches_the_response_hook_as_an_error() {
    let seen = Seen::default();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let client = seen
        .attach(crate::support::client(closed))
        .project_id("p")
        .retry(dbss_jobs::RetryPolicy::none())
        .build()
        .unwrap();
    client.get_jobs("r").unwrap_err();
    assert_eq!(seen.lines()[1], "response 1 error Transport");
}

#[test]
fn a_panicking_hook_does_not_break_the_call() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let client = crate::support::client(server.url())
        .project_id("p")
        .on_request(|_| panic!("a hook that panics (expected in this test)"))
        .on_response(|_| panic!("a hook that panics (expected in this test)"))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for _ in 0..2 {
        client.get_jobs("r").unwrap();
    }
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn response_hooks_see_status_headers_request_id_and_size() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = captured.clone();
    crate::support::client(server.url())
        .project_id("p")
        .on_response(move |response| {
            sink.lock().unwrap().push((
                response.status.ok(),
                response.request_id.clone(),
                response.body_len,
                response
                    .headers
                    .iter()
                    .any(|(name, value)| name == "content-type" && value == "application/json"),
            ));
        })
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap();
    assert_eq!(
        *captured.lock().unwrap(),
        [(Some(200), Some("req-fixed-1".to_string()), Some(11), true)]
    );
}

#[test]
fn a_hook_whose_panic_payload_panics_when_dropped_is_still_contained() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("the payload's drop panics");
        }
    }
    let server = Server::json(200, r#"{"jobs":[]}"#);
    for hooked in [
        crate::support::client(server.url()).on_request(|_| std::panic::panic_any(Bomb)),
        crate::support::client(server.url()).on_response(|_| std::panic::panic_any(Bomb)),
    ] {
        let client = hooked.project_id("p").build().unwrap();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client.get_jobs("r")));
        assert!(matches!(outcome, Ok(Ok(_))), "the panic escaped the call");
    }
}
