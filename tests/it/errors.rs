//! What errors tell: kinds and predicates, messages that say what to do, `Debug`, an error answer cut by the deadline.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dbss_jobs::{Client, ErrorKind, RetryPolicy};

const THROTTLED: &str =
    r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#;
use crate::support::{After, Server};

#[test]
fn a_resolver_failure_is_dns_and_not_retried() {
    let client = crate::support::client(format!("https://{}", crate::support::unresolvable_host()))
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
            crate::support::unresolvable_host()
        )),
        "{error}"
    );
}

#[test]
fn errors_tell_what_a_program_can_act_on() {
    let check = |status: u16, body: &'static str| {
        let server = Server::json(status, body);
        crate::support::client(server.url())
            .retry(dbss_jobs::RetryPolicy::none())
            .build()
            .unwrap()
            .get_jobs_in("p", "r")
            .unwrap_err()
    };
    let rejected =
        check(401, r#"{"error_code":"APIGW.0301","error_msg":"verify aksk signature fail"}"#);
    assert!(rejected.status() == Some(401) && !rejected.is_retryable());
    let forbidden = check(403, r#"{"error_code":"APIGW.0306","error_msg":"no permission"}"#);
    assert!(forbidden.status() == Some(403));
    let busy = check(503, r#"{"error_code":"APIGW.0503","error_msg":"busy"}"#);
    assert!(busy.is_retryable() && !busy.is_missing_credentials());
    let closed = format!("http://127.0.0.1:{}", crate::support::closed_port());
    let refused = crate::support::client(closed)
        .retry(dbss_jobs::RetryPolicy::none())
        .build()
        .unwrap()
        .get_jobs_in("p", "r")
        .unwrap_err();
    assert!(refused.is_retryable() && refused.is_connect());
    let missing = crate::support::without_credentials("https://dbss.example.com")
        .ecs_metadata(false)
        .build()
        .unwrap_err();
    assert!(missing.is_missing_credentials() && !missing.is_retryable(), "{missing}");
    let bad_id = crate::support::client("https://dbss.example.com")
        .build()
        .unwrap()
        .get_jobs_in("p", "..")
        .unwrap_err();
    assert!(!bad_id.is_missing_credentials());
}

#[test]
fn newcomer_mistakes_get_messages_that_say_what_to_do() {
    let region = Client::builder().region("CN-NORTH-4").build().unwrap_err();
    let message = region.to_string();
    assert!(message.contains(r#"did you mean "cn-north-4""#), "{message}");
    assert!(message.contains("known regions: af-north-1, af-south-1, ap-southeast-1"), "{message}");
    let base = || crate::support::client("http://127.0.0.1:9");
    let timeout = base().connect_timeout(Duration::ZERO).build().unwrap_err();
    assert!(timeout.to_string().contains("ClientBuilder::connect_timeout: 0ns"), "{timeout}");
    let der =
        base().root_certificates_pem(vec![0x30, 0x82, 0x03, 0x1d, 0x30, 0x82]).build().unwrap_err();
    assert!(der.to_string().contains("DER certificate, not PEM: convert it with"), "{der}");
    let empty_sk = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .environment([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "")])
        .build()
        .unwrap_err();
    assert!(empty_sk.to_string().contains("HUAWEICLOUD_SDK_SK is empty"), "{empty_sk}");
    let region_as_project = base().project_id("cn-north-4").build().unwrap_err();
    assert!(region_as_project.to_string().contains("is a region name"), "{region_as_project}");
    let in_call =
        base().project_id("p").build().unwrap().get_jobs_in("cn-east-3", "r").unwrap_err();
    assert_eq!(in_call.kind(), ErrorKind::InvalidInput, "{in_call}");
}

#[test]
fn debug_reads_as_the_message_and_alternate_debug_shows_the_fields() {
    let error = Client::builder().build().unwrap_err();
    let debug = format!("{error:?}");
    assert_eq!(debug, format!("InvalidInput: {error}"));
    let fields = format!("{error:#?}");
    assert!(fields.contains("kind: InvalidInput") && fields.contains("attempts: 1"), "{fields}");
}

#[test]
fn an_error_answer_cut_by_the_deadline_keeps_its_error_code() {
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let server = Server::start(move |_, stream| {
        count.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(380));
        let head = format!(
            "HTTP/1.1 429 Too Many Requests\r\nX-Request-Id: late-1\r\nContent-Length: {}\r\n\r\n",
            THROTTLED.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(100));
        let _ = stream.write_all(THROTTLED.as_bytes());
        After::KeepAlive
    });
    let client = crate::support::client(server.url())
        .project_id("p")
        .retry(RetryPolicy::none())
        .timeout(Duration::from_millis(430))
        .build()
        .unwrap();
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!(error.status(), Some(429), "{error}");
    assert_eq!(error.error_code(), Some("APIGW.0308"), "{error}");
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

#[test]
fn a_silent_server_or_proxy_is_left_at_the_deadline_without_the_answer_grace() {
    use crate::support::{Script, TlsServer, ca_pem};
    // Reads the request (or CONNECT) and never answers.
    let silent = || {
        Server::raw(|stream| {
            let mut reader = std::io::BufReader::new(stream);
            let _ = crate::support::read_request(&mut reader);
            std::thread::sleep(Duration::from_secs(3));
        })
    };
    let (server, proxy) = (silent(), silent());
    let tls = TlsServer::start("localhost", Script::Silent, "");
    let cases = [
        ("a silent server", crate::support::client(server.url())),
        ("a silent TLS handshake", crate::support::client(tls.url())),
        ("a silent proxy", crate::support::client("https://dbss.example.com").proxy(proxy.url())),
    ];
    for (what, builder) in cases {
        let client = builder
            .project_id("p")
            .root_certificates_pem(ca_pem())
            .timeout(Duration::from_secs(1))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let error = client.get_jobs("r").unwrap_err();
        let took = started.elapsed();
        assert!(error.is_timeout(), "{what}: {error}");
        assert!(error.to_string().ends_with("the total deadline passed"), "{what}: {error}");
        // The 250 ms grace is for the body of an answer whose head came in time, not for silence.
        assert!(took < Duration::from_millis(1200), "{what} took {took:?}");
    }
}
