//! Beyond the official SDKs: the process-wide ECS metadata switch, clock-skew recovery, the fake
//! DBSS and the build-script recipe.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use dbss_jobs::{Client, ErrorKind};

use crate::support::Server;

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
        error
            .to_string()
            .contains("ECS metadata (turned off by DBSS_JOBS_ECS_METADATA)"),
        "{error}"
    );
    let error = build("maybe").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("DBSS_JOBS_ECS_METADATA must be on or off"),
        "{error}"
    );
    assert!(build("on").is_ok());
    assert_eq!(metadata.requests().len(), 0);
}

/// A time as an HTTP date, written independently of the client's formatter.
pub(crate) fn http_date(time: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(time);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(t.weekday().number_days_from_monday())],
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn parse_sdk_date(text: &str) -> std::time::SystemTime {
    let n = |r: std::ops::Range<usize>| text[r].parse::<u8>().unwrap();
    let date = time::Date::from_calendar_date(
        text[0..4].parse().unwrap(),
        time::Month::try_from(n(4..6)).unwrap(),
        n(6..8),
    )
    .unwrap()
    .with_hms(n(9..11), n(11..13), n(13..15))
    .unwrap()
    .assume_utc();
    date.into()
}

/// How the gateway tells its time in a 401.
#[derive(Clone, Copy)]
pub(crate) enum Tells {
    DateHeader,
    MessageOnly,
    MalformedDate,
    /// A `Date` this many seconds off the gateway's clock on every answer, as a cache or a WAF in
    /// front may send; the expired-signature message still tells the gateway's time.
    WrongDate(i64),
}

/// A time moved by a signed number of seconds.
pub(crate) fn shifted(time: std::time::SystemTime, seconds: i64) -> std::time::SystemTime {
    if seconds >= 0 {
        time + Duration::from_secs(seconds.unsigned_abs())
    } else {
        time - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// A gateway stand-in whose clock is `offset_seconds` off ours, enforcing the 15-minute window.
fn skewed_gateway(offset_seconds: i64, tells: Tells) -> Server {
    gateway_with_clock(Arc::new(AtomicI64::new(offset_seconds)), tells)
}

/// As [`skewed_gateway`], with an offset the test may change between calls. It answers a
/// rejected signature in the real gateway's words.
pub(crate) fn gateway_with_clock(offset_seconds: Arc<AtomicI64>, tells: Tells) -> Server {
    Server::start(move |request, stream| {
        let gateway_now = shifted(
            std::time::SystemTime::now(),
            offset_seconds.load(Ordering::SeqCst),
        );
        let signed = parse_sdk_date(request.header("x-sdk-date").unwrap());
        let apart = match gateway_now.duration_since(signed) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        let date = match tells {
            Tells::DateHeader => http_date(gateway_now),
            Tells::MessageOnly => String::new(),
            Tells::MalformedDate => "yesterday-ish".to_string(),
            Tells::WrongDate(off) => http_date(shifted(gateway_now, off)),
        };
        let mut headers = vec![("X-Request-Id", "skew-1")];
        if !date.is_empty() {
            headers.push(("Date", date.as_str()));
        }
        if apart > Duration::from_secs(15 * 60) {
            let server_time = time::OffsetDateTime::from(gateway_now);
            let body = format!(
                r#"{{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: calc ak sk signature fail:signature expired, signature time:{},server time:{:04}{:02}{:02}T{:02}{:02}{:02}Z"}}"#,
                request.header("x-sdk-date").unwrap(),
                server_time.year(),
                u8::from(server_time.month()),
                server_time.day(),
                server_time.hour(),
                server_time.minute(),
                server_time.second()
            );
            crate::support::respond(stream, 401, &headers, body.as_bytes());
        } else {
            crate::support::respond(stream, 200, &headers, br#"{"jobs":[]}"#);
        }
        crate::support::After::KeepAlive
    })
}

pub(crate) fn skew_client(server: &Server, correction: bool) -> Client {
    Client::builder()
        .endpoint(server.url())
        .auth(dbss_jobs::Credentials::new("SKEW-AK", "sk").unwrap())
        .project_id("p")
        .clock_skew_correction(correction)
        .build()
        .unwrap()
}

#[test]
fn a_gateway_two_hours_ahead_or_behind_is_recovered_from() {
    for offset in [2 * 3600, -2 * 3600] {
        for tells in [Tells::DateHeader, Tells::MessageOnly] {
            let server = skewed_gateway(offset, tells);
            let client = skew_client(&server, true);
            client.get_jobs("r").unwrap();
            assert_eq!(
                server.requests().len(),
                2,
                "first call: one 401, one re-signed"
            );
            client.get_jobs("r").unwrap();
            assert_eq!(
                server.requests().len(),
                3,
                "second call: corrected from the start"
            );
        }
    }
}

#[test]
fn without_correction_the_error_says_how_far_off_the_clock_is() {
    let server = skewed_gateway(2 * 3600 + 60, Tells::DateHeader);
    let error = skew_client(&server, false).get_jobs("r").unwrap_err();
    assert!(error.is_auth_rejected(), "{error}");
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
    let sent = server.requests()[0]
        .header("x-sdk-date")
        .unwrap()
        .to_string();
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "your clock is 2 h 01 min behind the gateway's (X-Sdk-Date {sent}, gateway time "
        )) && message.ends_with(" GMT): correct the clock"),
        "{message}"
    );
    let behind = skewed_gateway(-(3 * 3600), Tells::DateHeader);
    let message = skew_client(&behind, false)
        .get_jobs("r")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("your clock is 3 h 00 min ahead of the gateway's"),
        "{message}"
    );
}

#[test]
fn a_malformed_or_absent_date_means_no_correction_and_no_panic() {
    // A malformed Date: the message's server time is used instead.
    let server = skewed_gateway(2 * 3600, Tells::MalformedDate);
    skew_client(&server, true).get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 2);
    // Neither a date nor a server time: the 401 stands, one request, no note.
    let server = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: calc ak sk signature fail:signature expired"}"#,
    );
    let error = skew_client(&server, true).get_jobs("r").unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(!error.to_string().contains("your clock"), "{error}");
}

#[test]
fn other_401s_and_403s_are_never_retried_even_with_a_skewed_clock() {
    for status in [401, 403] {
        let server = Server::start(move |_, stream| {
            let date = http_date(std::time::SystemTime::now() + Duration::from_secs(7200));
            crate::support::respond(
                stream,
                status,
                &[("Date", date.as_str())],
                br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#,
            );
            crate::support::After::KeepAlive
        });
        skew_client(&server, true).get_jobs("r").unwrap_err();
        assert_eq!(server.requests().len(), 1, "{status}");
    }
}

mod fake {
    use std::time::{Duration, SystemTime};

    use dbss_jobs::fake::{FakeDbss, Reply, job};
    use dbss_jobs::sign::{SignableRequest, sign};
    use dbss_jobs::{Credentials, IamToken, JobStatus, JobsPath};

    #[test]
    fn the_fake_checks_signatures_tokens_and_the_time_window() {
        let fake = FakeDbss::start().unwrap();
        fake.set_jobs("r", vec![vec![job("j1", JobStatus::Success)]]);
        assert_eq!(
            fake.client().build().unwrap().get_jobs("r").unwrap().len(),
            1
        );
        let wrong_sk = fake
            .client()
            .auth(Credentials::new(FakeDbss::ACCESS_KEY, "wrong").unwrap())
            .project_id("p")
            .build()
            .unwrap()
            .get_jobs("r")
            .unwrap_err();
        assert!(wrong_sk.is_auth_rejected(), "{wrong_sk}");
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
        assert!(token("another-token").unwrap_err().is_auth_rejected());

        // A signature 20 minutes old, sent by hand.
        let host = fake.url().trim_start_matches("http://").to_string();
        let path = format!("/v1/{}/dbss/audit/jobs/r", FakeDbss::PROJECT_ID);
        let stale = SystemTime::now() - Duration::from_secs(20 * 60);
        let signed = sign(
            &SignableRequest::new("GET", &host, &path),
            &fake.credentials(),
            stale,
        )
        .unwrap();
        let mut request = ureq::get(format!("{}{path}", fake.url()));
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let response = request
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body = response.into_body().read_to_string().unwrap();
        assert!(
            body.contains("signature expired") && body.contains("server time:"),
            "{body}"
        );
    }

    #[test]
    fn injected_answers_are_served_in_order_and_recorded() {
        let fake = FakeDbss::start().unwrap();
        fake.inject(Reply::throttled(1));
        fake.inject(Reply::unavailable());
        let client = fake.client().project_id("p").build().unwrap();
        let started = std::time::Instant::now();
        assert_eq!(client.get_jobs("unknown").unwrap(), vec![]);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After honoured"
        );
        let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [429, 503, 200]);
        assert_eq!(fake.requests()[0].header("x-project-id"), Some("p"));
        fake.inject(Reply::new(
            400,
            r#"{"error_code":"DBSS.0001","error_msg":"bad"}"#,
        ));
        assert_eq!(
            client.get_jobs("r").unwrap_err().error_code(),
            Some("DBSS.0001")
        );
    }

    #[test]
    fn a_retired_documented_path_sends_the_client_to_the_newer_one() {
        let fake = FakeDbss::start().unwrap();
        fake.retire_documented_path();
        fake.set_jobs("r", vec![vec![job("j1", JobStatus::Running)]]);
        let documented = fake
            .client()
            .project_id("p")
            .jobs_path(JobsPath::Documented)
            .build()
            .unwrap();
        assert_eq!(
            documented.get_jobs("r").unwrap_err().error_code(),
            Some("APIGW.0101")
        );
        let auto = fake.client().project_id("p").build().unwrap();
        assert_eq!(auto.get_jobs("r").unwrap().len(), 1);
        let targets: Vec<String> = fake.requests().iter().map(|r| r.target.clone()).collect();
        assert_eq!(targets.last().unwrap(), "/v1/p/audit/r/jobs");
    }
}

/// The README's build-script recipe (`tests/fixtures/build-script`), built for real, offline, in
/// `target/fixture-build-script`, with only `vars` set of the variables the crate reads. A listed
/// variable gets a new value each time, so that cargo runs the build script again.
pub(crate) fn build_the_recipe(vars: &[(&str, &str)]) -> std::process::Output {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/build-script");
    let recipe = std::fs::read_to_string(fixture.join("build.rs")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```rust,no_run\n{recipe}```")),
        "the README's recipe and tests/fixtures/build-script/build.rs differ"
    );
    // The same versions as this crate, from the local cache.
    std::fs::copy(root.join("Cargo.lock"), fixture.join("Cargo.lock")).unwrap();
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or(format!("{home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or(format!("{home}/.rustup"));
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .args(["build", "--offline"])
        .current_dir(&fixture)
        .env("CARGO_TARGET_DIR", fixture_target_dir())
        .env("CARGO_HOME", cargo_home)
        .env("RUSTUP_HOME", rustup_home)
        .env("HOME", "/nonexistent")
        .env_remove("DBSS_JOBS_ECS_METADATA")
        .env_remove("SSL_CERT_FILE");
    for (name, _) in std::env::vars() {
        if name.starts_with("HUAWEICLOUD_")
            || name.starts_with("DBSS_JOBS_")
            || name.ends_with("_PROXY")
            || name.ends_with("_proxy")
        {
            command.env_remove(name);
        }
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    command.env("NO_PROXY", format!("rerun-{nanos}.invalid"));
    command.envs(vars.iter().copied());
    command.output().unwrap()
}

/// Where [`build_the_recipe`] builds: everything cargo writes for it is under here.
pub(crate) fn fixture_target_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixture-build-script")
}

/// The README's build-script recipe, built for real without credentials: the build succeeds, with
/// one warning line that says why there are no jobs.
#[test]
fn the_readme_build_script_recipe_builds_without_credentials() {
    let output = build_the_recipe(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("DBSS jobs not read"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0]
            .contains("building with none: invalid input: no credentials found; tried environment"),
        "{stderr}"
    );
    assert!(
        warnings[0].contains("ECS metadata (turned off)"),
        "{stderr}"
    );
}

#[test]
fn the_fakes_record_of_requests_prints_no_secret() {
    use dbss_jobs::fake::FakeDbss;
    let fake = FakeDbss::start().unwrap();
    let client = fake
        .client()
        .auth(
            fake.credentials()
                .with_security_token(crate::support::CANARY_SECURITY_TOKEN)
                .unwrap(),
        )
        .project_id("p")
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let received = &fake.requests()[0];
    assert_eq!(
        received.header("x-security-token"),
        Some(crate::support::CANARY_SECURITY_TOKEN)
    );
    let signature = crate::support::signature_of(received.header("authorization").unwrap());
    crate::support::assert_no_secret(&format!("{received:?}"), &[signature.to_string()]);
}
