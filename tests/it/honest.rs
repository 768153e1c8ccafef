//! Honest waits, errors that say where, settings that mean what they say (issue: the rest of the
//! second review). Each test failed before its fix.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbss_jobs::{Client, Credentials, ErrorKind, Progress, RetryPolicy, WaitOptions};

use crate::cli::{check_exit, get_jobs};
use crate::support::{After, Reply, Server, sequence};

const RUNNING: &str = r#"{"jobs":[{"job_id":"j","status":"RUNNING"}]}"#;
const SUCCESS: &str = r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#;
const BUSY: &str =
    r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#;

fn fast(timeout: Duration) -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(20))
        .timeout(timeout)
}

fn looking_up(iam: &Server, dbss: &str) -> Client {
    Client::builder()
        .region("cn-north-4")
        .endpoint(dbss)
        .iam_endpoint(iam.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .environment([("HOME", "/nonexistent")])
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn a_transient_failure_of_the_project_lookup_is_ridden_out() {
    let iam = sequence(vec![
        Reply::new(503, BUSY),
        Reply::new(503, BUSY),
        Reply::new(503, BUSY),
        Reply::new(200, r#"{"projects":[{"id":"p1","name":"cn-north-4"}]}"#),
    ]);
    let dbss = Server::json(200, SUCCESS);
    let jobs = looking_up(&iam, &dbss.url())
        .wait_for_jobs("r", fast(Duration::from_secs(10)), |_| {})
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(iam.requests().len(), 4);
    assert_eq!(dbss.requests()[0].target, "/v1/p1/dbss/audit/jobs/r");
    // IAM down for the whole wait: the wait's deadline, with IAM's last failure as the cause.
    let down = Server::json(503, BUSY);
    let error = looking_up(&down, &dbss.url())
        .wait_for_jobs("r", fast(Duration::from_millis(300)), |_| {})
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(
        cause.contains("IAM project lookup") && cause.contains("503"),
        "{cause}"
    );
}

#[test]
fn a_dns_failure_during_a_wait_is_ridden_out_until_the_deadline() {
    let label = "a".repeat(64);
    let client = Client::builder()
        .endpoint(format!("https://{label}.example.com"))
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    let mut failed = 0;
    let error = client
        .wait_for_jobs("r", fast(Duration::from_millis(300)), |progress| {
            failed += usize::from(matches!(progress, Progress::Failed { .. }));
        })
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    assert!(failed > 1, "{failed} failed polls seen");
    let cause = std::error::Error::source(&error).unwrap();
    assert!(
        cause.to_string().contains("could not be resolved"),
        "{cause}"
    );
    // A single call still fails at once.
    assert!(client.get_jobs("r").unwrap_err().is_dns());
}

fn waiting_client(server: &Server) -> Client {
    Client::builder()
        .endpoint(server.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn failed_polls_reach_the_progress_and_the_cli() {
    let server = sequence(vec![
        Reply::new(429, BUSY),
        Reply::new(200, RUNNING),
        Reply::new(200, SUCCESS),
    ]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    waiting_client(&server)
        .wait_for_jobs("r", fast(Duration::from_secs(5)), |progress| {
            seen.lock().unwrap().push(match progress {
                Progress::Failed { error, .. } => format!("failed {:?}", error.status()),
                Progress::Listed(jobs) => format!("listed {}", jobs.len()),
                _ => "other".to_string(),
            });
        })
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        ["failed Some(429)", "listed 1", "listed 1"]
    );
    let throttling = Server::json(429, BUSY);
    let output = get_jobs()
        .args(["--endpoint", &throttling.url(), "--project-id", "p"])
        .args(["--wait", "--interval", "0.05", "--timeout", "0.5", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("poll failed: api error: http 429 APIGW.0308"),
        "{stderr}"
    );
    assert!(stderr.contains("next poll in"), "{stderr}");
}

#[test]
fn a_wait_on_an_id_that_lists_nothing_says_so() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let error = waiting_client(&server)
        .wait_for_jobs("instance-typo", fast(Duration::from_millis(200)), |_| {})
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut);
    let message = error.to_string();
    assert!(
        message.contains(r#"no job was ever listed for resource id "instance-typo" in project p"#)
            && message.contains("check both ids"),
        "{message}"
    );
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p"])
        .args([
            "--wait",
            "--interval",
            "0.05",
            "--timeout",
            "0.3",
            "instance-typo",
        ])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no job listed for instance-typo yet"),
        "{stderr}"
    );
}

#[test]
fn a_wait_timeout_shows_its_cause_once() {
    let server = sequence(vec![Reply::new(200, RUNNING), Reply::new(503, BUSY)]);
    let error = waiting_client(&server)
        .wait_for_jobs("r", fast(Duration::from_millis(200)), |_| {})
        .unwrap_err();
    let message = error.to_string();
    assert!(!message.contains("503"), "{message}");
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("http 503"), "{cause}");
    let debug = format!("{error:?}");
    assert_eq!(debug.matches("http 503").count(), 1, "{debug}");
    let server = sequence(vec![Reply::new(200, RUNNING), Reply::new(503, BUSY)]);
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p"])
        .args(["--wait", "--interval", "0.05", "--timeout", "0.3", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("not finished): caused by: api error: http 503"),
        "{stderr}"
    );
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
            BUSY.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(100));
        let _ = stream.write_all(BUSY.as_bytes());
        After::KeepAlive
    });
    let client = Client::builder()
        .endpoint(server.url())
        .auth(Credentials::new("AK", "SK").unwrap())
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
fn debug_reads_as_the_message_and_alternate_debug_shows_the_fields() {
    let error = Client::builder().build().unwrap_err();
    let debug = format!("{error:?}");
    assert_eq!(debug, format!("InvalidInput: {error}"));
    let fields = format!("{error:#?}");
    assert!(
        fields.contains("kind: InvalidInput") && fields.contains("attempts: 1"),
        "{fields}"
    );
}

// ---- Errors that say where ----

/// A dead proxy in the environment, for a target that is not loopback: the client connects to the
/// proxy only (ureq does not resolve the target when a proxy carries it), which refuses.
fn through_dead_proxy(vars: &[(&str, &str)], endpoint: &str) -> dbss_jobs::Error {
    let mut all = vec![("HOME", "/nonexistent")];
    all.extend_from_slice(vars);
    Client::builder()
        .endpoint(endpoint)
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .environment(all)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err()
}

#[test]
fn transport_errors_name_the_target_and_the_proxy_with_its_variable() {
    let port = crate::support::closed_port();
    let dead = format!("http://127.0.0.1:{port}");
    let error = through_dead_proxy(
        &[("ALL_PROXY", &dead)],
        "https://dbss.cn-north-4.myhuaweicloud.com",
    );
    assert!(error.is_connect(), "{error}");
    assert!(
        error.to_string().contains(&format!(
            "connecting to proxy 127.0.0.1:{port} (from ALL_PROXY) for dbss.cn-north-4.myhuaweicloud.com:443: "
        )),
        "{error}"
    );
    let direct = Client::builder()
        .endpoint(&dead)
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = direct.get_jobs("r").unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "transport error: connecting to 127.0.0.1:{port}: "
        )),
        "{error}"
    );
    let iam = Client::builder()
        .region("cn-north-4")
        .endpoint("http://127.0.0.1:9")
        .iam_endpoint(&dead)
        .auth(Credentials::new("AK", "SK").unwrap())
        .environment([("HOME", "/nonexistent")])
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = iam.get_jobs("r").unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "IAM project lookup at {dead}: transport error: connecting to 127.0.0.1:{port}: "
        )),
        "{error}"
    );
    // The CLI's -v line names the proxy too.
    let output = get_jobs()
        .args(["-v", "--region", "cn-north-4", "--project-id", "p", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .env("HTTPS_PROXY", &dead)
        .output()
        .unwrap();
    check_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("GET https://dbss.cn-north-4.myhuaweicloud.com/")
            && line.contains(&format!(
                "connecting to proxy 127.0.0.1:{port} (from HTTPS_PROXY)"
            )),
        "{stderr}"
    );
}

#[test]
fn an_answer_through_a_proxy_says_which_proxy() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let (proxy, _) = crate::tls_server::connect_proxy();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = Client::builder()
        .endpoint(server.url())
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .proxy(proxy.url())
        .on_response(move |response| {
            log.lock()
                .unwrap()
                .push(response.proxy().map(str::to_string))
        })
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let port = proxy.url().rsplit(':').next().unwrap().to_string();
    assert_eq!(*seen.lock().unwrap(), [Some(format!("127.0.0.1:{port}"))]);
}

#[test]
fn an_https_proxy_url_is_refused_at_build() {
    let error = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .auth(Credentials::new("AK", "SK").unwrap())
        .proxy("https://127.0.0.1:3128")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("use http://"), "{error}");
}

#[test]
fn newcomer_mistakes_get_messages_that_say_what_to_do() {
    let region = Client::builder().region("CN-NORTH-4").build().unwrap_err();
    let message = region.to_string();
    assert!(
        message.contains(r#"did you mean "cn-north-4""#),
        "{message}"
    );
    assert!(
        message.contains("known regions: af-north-1, af-south-1, ap-southeast-1"),
        "{message}"
    );
    let base = || {
        Client::builder()
            .endpoint("http://127.0.0.1:9")
            .auth(Credentials::new("AK", "SK").unwrap())
    };
    let timeout = base().connect_timeout(Duration::ZERO).build().unwrap_err();
    assert!(
        timeout.to_string().contains("connect_timeout is 0ns"),
        "{timeout}"
    );
    let der = base()
        .root_certificates_pem(vec![0x30, 0x82, 0x03, 0x1d, 0x30, 0x82])
        .build()
        .unwrap_err();
    assert!(
        der.to_string()
            .contains("DER certificate, not PEM: convert it with"),
        "{der}"
    );
    let empty_sk = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .environment([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "")])
        .build()
        .unwrap_err();
    assert!(
        empty_sk.to_string().contains("HUAWEICLOUD_SDK_SK is empty"),
        "{empty_sk}"
    );
    let region_as_project = base().project_id("cn-north-4").build().unwrap_err();
    assert!(
        region_as_project.to_string().contains("is a region name"),
        "{region_as_project}"
    );
    let in_call = base()
        .project_id("p")
        .build()
        .unwrap()
        .get_jobs_in("cn-east-3", "r")
        .unwrap_err();
    assert_eq!(in_call.kind(), ErrorKind::InvalidInput, "{in_call}");
}

// ---- Settings that mean what they say ----

#[test]
fn proxy_variables_are_read_per_target_as_requests_reads_them() {
    let port = crate::support::closed_port();
    let dead = format!("http://127.0.0.1:{port}");
    // A target no resolver is asked about: going direct is a DNS failure, a proxy refuses.
    let target = format!("https://{}", crate::review::unresolvable_host());
    let via = |vars: &[(&str, &str)]| {
        let error = through_dead_proxy(vars, &target);
        match error.is_dns() {
            true => "direct".to_string(),
            false => {
                let text = error.to_string();
                let from = text
                    .split("(from ")
                    .nth(1)
                    .and_then(|rest| rest.split(')').next());
                from.unwrap_or("?").to_string()
            }
        }
    };
    assert_eq!(
        via(&[("HTTP_PROXY", &dead)]),
        "direct",
        "HTTP_PROXY is for http targets"
    );
    assert_eq!(via(&[("http_proxy", &dead)]), "direct");
    assert_eq!(
        via(&[("HTTPS_PROXY", &dead), ("ALL_PROXY", "http://127.0.0.1:1")]),
        "HTTPS_PROXY"
    );
    assert_eq!(via(&[("https_proxy", &dead)]), "https_proxy");
    assert_eq!(
        via(&[("ALL_PROXY", &dead), ("HTTP_PROXY", "http://127.0.0.1:1")]),
        "ALL_PROXY"
    );
    assert_eq!(via(&[("all_proxy", &dead)]), "all_proxy");
    for (no_proxy, expected) in [
        ("example", "direct"),
        (".example", "direct"),
        ("*.example", "direct"),
        ("example:443", "direct"),
        ("example:8443", "HTTPS_PROXY"),
        ("other.example", "HTTPS_PROXY"),
        ("ample", "HTTPS_PROXY"),
        ("*", "direct"),
    ] {
        let vars = [("HTTPS_PROXY", dead.as_str()), ("NO_PROXY", no_proxy)];
        assert_eq!(via(&vars), expected, "NO_PROXY={no_proxy}");
    }
}

#[test]
fn a_named_profile_file_wins_over_the_environment() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let dir = crate::support::TempDir::new("named-profile");
    let profile = dir.write("credentials", "[basic]\nak = PROFILE-AK\nsk = profile-sk\n");
    let environment = [
        ("HUAWEICLOUD_SDK_AK", "ENV-AK"),
        ("HUAWEICLOUD_SDK_SK", "env-sk"),
    ];
    let builder = || {
        Client::builder()
            .endpoint(server.url())
            .project_id("p")
            .environment(environment)
    };
    builder()
        .profile_file(&profile)
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap();
    let authorization = server.requests()[0]
        .header("authorization")
        .unwrap()
        .to_string();
    assert!(
        authorization.contains("Access=PROFILE-AK"),
        "{authorization}"
    );
    let missing = builder()
        .profile_file(dir.0.join("absent"))
        .build()
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput, "{missing}");
    let cli = get_jobs()
        .args([
            "--endpoint",
            &server.url(),
            "--project-id",
            "p",
            "--profile-file",
        ])
        .arg(&profile)
        .arg("r")
        .env("HUAWEICLOUD_SDK_AK", "ENV-AK")
        .env("HUAWEICLOUD_SDK_SK", "env-sk")
        .output()
        .unwrap();
    check_exit(&cli, 0);
    let authorization = server.requests()[1]
        .header("authorization")
        .unwrap()
        .to_string();
    assert!(
        authorization.contains("Access=PROFILE-AK"),
        "{authorization}"
    );
}

/// Run by [`the_process_kill_switch_is_off_for_clients_with_their_own_environment`] in a child
/// process whose environment has `DBSS_JOBS_ECS_METADATA=off`; does nothing in a normal run.
#[test]
fn kill_switch_child() {
    if std::env::var_os("DBSS_JOBS_KILL_SWITCH_CHILD").is_none() {
        return;
    }
    let metadata = Server::json(200, "{}");
    let error = Client::builder()
        .endpoint("http://127.0.0.1:9")
        .environment([("HOME", "/nonexistent")])
        .metadata_endpoint(metadata.url())
        .build()
        .unwrap_err();
    assert!(error.is_missing_credentials(), "{error}");
    assert!(
        error
            .to_string()
            .contains("turned off by DBSS_JOBS_ECS_METADATA"),
        "{error}"
    );
    assert_eq!(metadata.connections(), 0);
}

#[test]
fn the_process_kill_switch_is_off_for_clients_with_their_own_environment() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "honest::kill_switch_child", "--nocapture"])
        .env("DBSS_JOBS_KILL_SWITCH_CHILD", "1")
        .env("DBSS_JOBS_ECS_METADATA", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
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

#[test]
fn a_metadata_service_without_the_token_api_is_asked_without_a_token() {
    let metadata = metadata_with_token(404, r#"{"error":"not found"}"#);
    let dbss = Server::json(200, r#"{"jobs":[]}"#);
    let client = Client::builder()
        .endpoint(dbss.url())
        .project_id("p")
        .environment([("HOME", "/nonexistent")])
        .metadata_endpoint(metadata.url())
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let asked = metadata.requests();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[1].header("x-metadata-token"), None);
    assert_eq!(
        dbss.requests()[0].header("x-security-token"),
        Some("meta-token")
    );
    // A session token that cannot be a header: the metadata step's answer was wrong.
    let metadata = metadata_with_token(200, "tok\u{1}en");
    let (builder, requests, responses) = counting_hooks(
        Client::builder()
            .endpoint(dbss.url())
            .project_id("p")
            .environment([("HOME", "/nonexistent")])
            .metadata_endpoint(metadata.url()),
    );
    let error = builder.build().unwrap().get_jobs("r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    assert!(error.is_missing_credentials(), "{error}");
    assert_eq!(metadata.requests().len(), 1);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        responses.load(Ordering::SeqCst)
    );
}

#[test]
fn cli_options_that_would_do_nothing_are_refused() {
    for args in [
        &["--serve", "r"][..],
        &["--interval", "1", "--endpoint", "http://127.0.0.1:9", "r"],
        &["--demo", "--region", "cn-north-4"],
        &["--demo", "--serve", "--json"],
        &["--demo", "--serve", "--wait"],
        &["--demo", "--serve", "-v"],
    ] {
        let output = get_jobs().args(args).output().unwrap();
        check_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("does nothing"), "{args:?}: {stderr}");
    }
}

// ---- A fake that behaves like a server ----

mod fake {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use dbss_jobs::fake::{FakeDbss, Reply};
    use dbss_jobs::{ErrorKind, IamToken};

    const REQUEST: &[u8] = b"GET /v1/p/dbss/audit/jobs/r HTTP/1.1\r\nHost: x\r\nX-Auth-Token: fake-dbss-iam-token\r\n\r\n";

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
        fake.inject(Reply::unavailable().header("X-Request-Id", "mine-1"));
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
        let error = client.project_id().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
        fake.add_project("cn-east-3", "0123456789abcdef0123456789abcdef");
        let client = fake.client().region("cn-east-3").build().unwrap();
        assert_eq!(
            client.project_id().unwrap(),
            "0123456789abcdef0123456789abcdef"
        );
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
}
