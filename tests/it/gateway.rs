//! The gateway as it really answers, against Huawei's own signer (`verify_server.py`): a rejected
//! signature that explains itself, the reasons of a 401 told apart, no signed request after a
//! locked or unknown access key, and the flow control's window honoured.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dbss_jobs::error::AuthFailure;
use dbss_jobs::{Client, Credentials, IamToken};

use crate::support::{AK, Oracle, SK};
use crate::support::{Server, read_request};

const PROJECT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn client(url: &str, ak: &str, sk: &str) -> Client {
    crate::support::client(url)
        .auth(Credentials::new(ak, sk).unwrap())
        .project_id(PROJECT)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The requests the oracle received so far.
fn received(oracle: &Oracle) -> usize {
    std::thread::sleep(Duration::from_millis(200));
    oracle.log().matches("---- GET").count()
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn a_wrong_secret_key_is_told_apart_from_a_request_changed_on_the_way() {
    let oracle = Oracle::start(&[]);
    let error = client(&oracle.url(), AK, "not-the-secret-key").get_jobs("instance-1").unwrap_err();
    assert_eq!(error.auth_failure(), Some(AuthFailure::SignatureMismatch), "{error}");
    let mismatch = error.signature_mismatch().expect("the gateway's echo");
    assert_eq!(mismatch.first_difference, None, "{mismatch:?}");
    assert_eq!(mismatch.ours, mismatch.gateway);
    assert!(
        error.to_string().contains("so the secret key does not belong to this access key"),
        "{error}"
    );
    // A relay that rewrites the Host header on the way, as a misconfigured proxy would.
    let relay = host_rewriting_relay(oracle.port);
    let error = client(&relay.url(), AK, SK).get_jobs("instance-1").unwrap_err();
    let difference = error.signature_mismatch().and_then(|m| m.first_difference.as_deref());
    let difference = difference.expect("a difference").to_string();
    assert!(
        difference.starts_with("first difference in the host header: ours `host:127.0.0.1:")
            && difference.contains("the gateway's `host:dbss.internal`")
            && difference.ends_with("a proxy or load balancer changed the Host"),
        "{difference}"
    );
    assert!(error.to_string().contains(&difference), "{error}");
}

/// Separators inside signed values (`|`, which the gateway's echo writes for a newline, `:`, `;`;
/// here in the signed `X-Project-Id`) do not turn a wrong secret key into "a header was rewritten
/// on the way".
#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn separators_in_signed_values_keep_the_wrong_secret_key_diagnosis() {
    let oracle = Oracle::start(&[]);
    for project in ["tool|1.0", "a:b", "x;y", "|", "a||b:;|c"] {
        let client = crate::support::client(oracle.url())
            .auth(dbss_jobs::Credentials::new(AK, "not-the-secret-key").unwrap())
            .project_id(project)
            .build()
            .unwrap();
        let error = client.get_jobs("instance-1").unwrap_err();
        let mismatch = error.signature_mismatch().expect("the gateway's echo");
        assert_eq!(mismatch.first_difference, None, "{project}: {mismatch:?}");
        assert!(error.to_string().contains("the secret key does not belong"), "{error}");
    }
}

/// Forwards each connection's requests to the oracle with `Host: dbss.internal`.
fn host_rewriting_relay(oracle_port: u16) -> Server {
    Server::raw(move |stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
        for (name, value) in &request.headers {
            let value = if name.eq_ignore_ascii_case("host") { "dbss.internal" } else { value };
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        let mut upstream = TcpStream::connect(("127.0.0.1", oracle_port)).unwrap();
        upstream.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = upstream.read_to_end(&mut answer);
        let mut stream = stream;
        let _ = stream.write_all(&answer);
    })
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn after_an_unknown_or_locked_access_key_no_signed_request_is_sent() {
    let oracle = Oracle::start(&[]);
    let unknown = client(&oracle.url(), "NOT-THIS-ACCOUNTS-AK", SK);
    let error = unknown.get_jobs("instance-1").unwrap_err();
    assert_eq!(error.auth_failure(), Some(AuthFailure::UnknownAccessKey), "{error}");
    assert!(error.to_string().contains("it is not this account's"), "{error}");
    let sent = received(&oracle);
    let again = unknown.get_jobs("instance-1").unwrap_err();
    assert_eq!(again.auth_failure(), Some(AuthFailure::UnknownAccessKey), "{again}");
    assert!(again.to_string().contains("not sent"), "{again}");
    assert_eq!(received(&oracle), sent, "nothing was sent");

    let locking = Oracle::start(&["--lockout-after", "2"]);
    let wrong = client(&locking.url(), AK, "not-the-secret-key");
    for _ in 0..2 {
        assert_eq!(
            wrong.get_jobs("instance-1").unwrap_err().auth_failure(),
            Some(AuthFailure::SignatureMismatch)
        );
    }
    let locked = wrong.get_jobs("instance-1").unwrap_err();
    assert_eq!(locked.auth_failure(), Some(AuthFailure::AccessKeyLocked), "{locked}");
    assert!(locked.to_string().contains("about 5 minutes, and each one counts"), "{locked}");
    let sent = received(&locking);
    let options = dbss_jobs::WaitOptions::default().timeout(Duration::from_secs(1));
    let waited = wrong.wait_for_jobs("instance-1", options, |_| {}).unwrap_err();
    assert_eq!(waited.auth_failure(), Some(AuthFailure::AccessKeyLocked), "{waited}");
    assert_eq!(received(&locking), sent, "nothing was sent");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn a_burst_against_the_flow_control_ends_with_every_call_answered() {
    let oracle = Oracle::start(&["--rate-limit", "2"]);
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let client = Arc::new(
        crate::support::client(oracle.url())
            .auth(Credentials::new(AK, SK).unwrap())
            .project_id(PROJECT)
            .timeout(Duration::from_secs(15))
            .on_request(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap(),
    );
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client.get_jobs("instance-1"))
        })
        .collect();
    for call in calls {
        let jobs = call.join().unwrap().unwrap_or_else(|e| panic!("{e}\n{}", oracle.log()));
        assert_eq!(jobs.len(), 2);
    }
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent <= 4 * 3, "{sent} requests for 4 calls of at most 3 attempts");
    assert!(oracle.log().contains("APIGW.0308"), "the burst was throttled");
}

#[test]
fn a_throttling_window_past_the_deadline_is_not_waited_for() {
    let server = Server::json(
        429,
        r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute"}"#,
    );
    let error = crate::support::client(server.url())
        .project_id("p")
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err();
    assert_eq!(error.status(), Some(429), "{error}");
    assert_eq!(error.attempts(), 1);
    assert_eq!(server.requests().len(), 1);
    assert!(
        error.to_string().contains("the gateway throttles per 60 s: try again in about 60 s"),
        "{error}"
    );
}

/// `get_jobs --check` as a person types it, against Huawei's signer.
fn check(oracle: &Oracle, sk: &str, resource: &str) -> std::process::Output {
    crate::support::get_jobs()
        .args(["--check", "--endpoint", &oracle.url(), "--project-id", PROJECT, resource])
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", sk)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn check_says_where_everything_comes_from_and_makes_one_signed_call() {
    let oracle = Oracle::start(&[]);
    let output = check(&oracle, SK, "instance-1");
    crate::support::check_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "ok   credentials access key ORAC…0001, from HUAWEICLOUD_SDK_AK",
        &format!("ok   endpoint    endpoint {}, from --endpoint", oracle.url()),
        "ok   route       127.0.0.1:",
        "ok   trust       TLS is not used: every endpoint is http://",
        "answers (plain http, http 404); its clock and ours agree within 5 minutes",
        &format!("ok   project     {PROJECT}, from --project-id"),
        "ok   call        2 job(s) listed for \"instance-1\"",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn check_with_a_wrong_secret_key_marks_the_call_and_sends_one_signature() {
    let oracle = Oracle::start(&[]);
    let output = check(&oracle, "not-the-secret-key", "instance-1");
    crate::support::check_exit(&output, 1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failing: Vec<&str> = stdout.lines().filter(|line| line.starts_with("FAIL")).collect();
    assert_eq!(failing.len(), 1, "{stdout}");
    assert!(
        failing[0].starts_with("FAIL call ")
            && failing[0].contains("so the secret key does not belong to this access key")
            && failing[0].ends_with("<- the first problem"),
        "{stdout}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(oracle.log().matches("=> 401").count(), 1, "one signed request was refused");
}

#[test]
fn check_marks_an_unresolvable_host_first() {
    let endpoint = format!("https://{}", crate::support::unresolvable_host());
    let output = crate::support::get_jobs()
        .args(["--check", "--endpoint", &endpoint, "--project-id", "p", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    crate::support::check_exit(&output, 1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().find(|line| line.starts_with("FAIL")).unwrap_or_default();
    assert!(
        first.starts_with("FAIL gateway ")
            && first.contains("the host name could not be resolved")
            && first.ends_with("<- the first problem"),
        "{stdout}"
    );
}

#[test]
fn check_looks_the_project_up_when_it_is_not_configured() {
    let iam = Server::json(200, r#"{"projects":[{"id":"p-from-iam","name":"cn-north-4"}]}"#);
    let dbss = Server::json(404, r#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#);
    let client = crate::support::client(dbss.url())
        .region("cn-north-4")
        .iam_endpoint(iam.url())
        .auth(IamToken::new("token-value").unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    let lines = client.check(None).unwrap();
    let project = lines.iter().find(|line| line.topic == dbss_jobs::Topic::Project).unwrap();
    assert!(
        project.ok && project.text == "p-from-iam (the region's, looked up in IAM)",
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|line| line.topic == dbss_jobs::Topic::Credentials
            && line.text.starts_with("an IAM token"))
    );
    assert!(
        !lines.iter().any(|line| line.topic == dbss_jobs::Topic::Call),
        "no resource id, no jobs call"
    );
    assert_eq!(iam.requests().len(), 1);
}

#[test]
fn check_says_where_the_iam_endpoint_comes_from() {
    let iam = Server::json(200, r#"{"projects":[{"id":"p1","name":"cn-north-4"}]}"#);
    let dir = crate::support::TempDir::new("iam-from");
    let profile = format!("[basic]\nak=AK\nsk=sk\niam_endpoint={}\n", iam.url());
    let profile = dir.write("credentials", &profile);
    let builder = || crate::support::without_credentials(iam.url()).region("cn-north-4");
    let cases = [
        (builder().iam_endpoint(iam.url()), "from ClientBuilder::iam_endpoint".to_string()),
        (
            builder().environment([("HUAWEICLOUD_SDK_IAM_ENDPOINT", iam.url())]),
            "from HUAWEICLOUD_SDK_IAM_ENDPOINT".to_string(),
        ),
        (
            builder().profile_file(&profile),
            format!("from ClientBuilder::profile_file {} line 4", profile.display()),
        ),
    ];
    for (builder, from) in cases {
        let builder = match from.contains("credentials") {
            true => builder,
            false => builder.auth(IamToken::new("token-value").unwrap()),
        };
        let lines = builder.build().unwrap().check(None).unwrap();
        let wanted = format!("IAM endpoint {}, {from}", iam.url());
        assert!(
            lines
                .iter()
                .any(|line| line.topic == dbss_jobs::Topic::Endpoint && line.text == wanted),
            "{wanted}\n{lines:#?}"
        );
    }
}

#[test]
fn a_window_no_clock_can_hold_is_bounded_not_a_panic() {
    let server = Server::json(
        429,
        r#"{"error_code":"APIGW.0308","error_msg":"policy user over ratelimit,limit:1,time:18446744073709551615 second"}"#,
    );
    let client = crate::support::client(server.url())
        .project_id("p")
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let error = client.get_jobs("r").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "{error}");
    assert_eq!(error.status(), Some(429), "{error}");
    assert_eq!(server.requests().len(), 1);
    assert!(error.to_string().contains("the gateway throttles per 86400 s"), "{error}");
}

#[test]
fn a_call_refused_locally_says_nothing_was_sent() {
    let server = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: Get secretKey failed,ak:AK,err:ak not exist"}"#,
    );
    let client = crate::support::client(server.url()).project_id("p").build().unwrap();
    let first = client.get_jobs("r").unwrap_err();
    assert_eq!((first.status(), first.attempts()), (Some(401), 1), "{first}");
    let again = client.get_jobs("r").unwrap_err();
    assert_eq!(again.kind(), dbss_jobs::ErrorKind::AccessKeyRefused, "{again}");
    assert_eq!((again.status(), again.attempts()), (None, 0), "{again}");
    assert_eq!(again.auth_failure(), Some(AuthFailure::UnknownAccessKey));
    assert!(
        again.to_string().starts_with("not sent: the gateway refused this access key"),
        "{again}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn a_refused_token_is_blamed_on_the_token_the_request_carried() {
    let oracle = Oracle::start(&["--security-token", "the-current-security-token"]);
    let without = Credentials::new(AK, SK).unwrap();
    let stale = without.clone().with_security_token("a-stale-security-token").unwrap();
    for (credentials, failure, hint) in [
        (
            without,
            AuthFailure::SecurityTokenMissing,
            "temporary credentials need their security token (HUAWEICLOUD_SDK_SECURITY_TOKEN)",
        ),
        (
            stale,
            AuthFailure::SecurityTokenRejected,
            "the security token is not valid or has expired: get new temporary credentials (AK, SK and token together)",
        ),
    ] {
        let error = oracle.client(credentials).get_jobs_in("p", "r").unwrap_err();
        assert_eq!(error.auth_failure(), Some(failure), "{error}");
        assert!(error.to_string().ends_with(hint), "{error}");
        assert!(!error.to_string().contains("IAM token"), "{error}");
    }
}

/// `dbss-jobs --check --region cn-north-4 [--project-id P] [RESOURCE]` as a person types it,
/// with Huawei's signer as the region's DBSS and IAM.
fn check_in_region(
    oracle: &Oracle,
    sk: &str,
    project: Option<&str>,
    resource: Option<&str>,
) -> std::process::Output {
    let mut command = crate::support::get_jobs();
    command.args(["--check", "--region", "cn-north-4"]);
    if let Some(project) = project {
        command.args(["--project-id", project]);
    }
    command
        .args(resource)
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", sk)
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", oracle.url())
        .env("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", oracle.url())
        .output()
        .unwrap()
}

fn first_failure(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|line| line.starts_with("FAIL"));
    line.unwrap_or_else(|| panic!("no FAIL line in {stdout}")).to_string()
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn check_without_an_id_signs_the_iam_lookup_and_a_wrong_sk_fails_it() {
    let oracle = Oracle::start(&["--project-id", PROJECT]);
    let output = check_in_region(&oracle, "not-the-secret-key", Some(PROJECT), None);
    crate::support::check_exit(&output, 1);
    let failure = first_failure(&output);
    // The diagnosis first, the gateway's long echo after it.
    assert!(
        failure.starts_with("FAIL project     the request arrived as signed")
            && failure.contains("api error: http 401"),
        "{failure}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(oracle.log().matches("=> 401").count(), 1, "one signed request, refused");
    let output = check_in_region(&oracle, SK, Some(PROJECT), None);
    crate::support::check_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "ok   project     {PROJECT}, from --project-id; IAM agrees it is cn-north-4's"
        )),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn check_notes_a_project_id_that_is_not_the_regions_main_one() {
    let oracle = Oracle::start(&["--project-id", PROJECT]);
    let other = "5f5e100a2b3c4d5e6f708192a3b4c5d6";
    let output = check_in_region(&oracle, SK, Some(other), Some("instance-1"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let wanted = format!(
        "ok   project     {other}, from --project-id; note: not cn-north-4's main project ({PROJECT}): a sub-project, or another region's"
    );
    assert!(stdout.contains(&wanted), "{stdout}");
    assert!(stdout.contains("call        "), "the jobs call is made: {stdout}");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn check_sends_no_signature_bound_to_fail_on_a_clock_days_off() {
    let two_days = 2 * 24 * 3600;
    let oracle = Oracle::start_with_clock(two_days, 0, &["--project-id", PROJECT]);
    let output = check_in_region(&oracle, SK, Some(PROJECT), Some("instance-1"));
    crate::support::check_exit(&output, 1);
    let failure = first_failure(&output);
    assert!(failure.starts_with("FAIL gateway "), "{failure}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .contains("FAIL call        not sent: your clock is 48 h 00 min behind the gateway's"),
        "{stdout}"
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = oracle.log();
    assert!(!log.contains("/v3/projects") && !log.contains("/dbss/audit/jobs/"), "{log}");
}

#[test]
fn an_unknown_access_key_that_carried_its_token_is_not_blamed_on_a_missing_one() {
    let server = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: Get secretKey failed,ak:TEMP,err:ak not exist"}"#,
    );
    let credentials = Credentials::new("TEMP", "SK").unwrap();
    let with_token = credentials.clone().with_security_token("a-security-token").unwrap();
    let text = |credentials: Credentials| {
        let client = crate::support::client(server.url()).auth(credentials).project_id("p");
        client.build().unwrap().get_jobs("r").unwrap_err().to_string()
    };
    let carried = text(with_token);
    assert!(!carried.contains("without its security token"), "{carried}");
    assert!(carried.contains("the temporary credentials expired"), "{carried}");
    assert!(text(credentials).contains("sent without its security token"));
}
