//! Retries of the idempotent GET, the fallback to the newer path, and waiting for completion,
//! counted at a loopback server.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use dbss_jobs::{
    Client, Credentials, ErrorKind, JobStatus, JobsPath, Progress, RetryPolicy, WaitOptions,
};

use crate::support::{After, Reply, Server, closed_port, respond, sequence};

fn client(url: &str) -> Client {
    crate::support::client(url)
        .auth(Credentials::new("RETRY-AK", "sk").unwrap())
        .project_id("p")
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

const EMPTY: &str = r#"{"jobs":[]}"#;
const UNAVAILABLE: &str = r#"{"error_code":"APIGW.0503","error_msg":"busy"}"#;

#[test]
fn two_503_then_200_succeeds_with_three_freshly_dated_signatures() {
    // Retry-After: 1 spaces the attempts by a second, so each X-Sdk-Date (1 s resolution) differs.
    let busy = Reply::new(503, UNAVAILABLE).header("Retry-After", "1");
    let server = sequence(vec![busy.clone(), busy, Reply::new(200, EMPTY)]);
    client(&server.url()).get_jobs_in("p", "r").unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let dates: BTreeSet<&str> = requests.iter().map(|r| r.header("x-sdk-date").unwrap()).collect();
    let signatures: BTreeSet<&str> =
        requests.iter().map(|r| r.header("authorization").unwrap()).collect();
    assert_eq!(dates.len(), 3, "{dates:?}");
    assert_eq!(signatures.len(), 3);
}

#[test]
fn never_retried_statuses() {
    for status in [400, 401, 403, 404, 500] {
        let server = Server::json(status, r#"{"error_code":"X.1","error_msg":"no"}"#);
        let error = client(&server.url()).get_jobs_in("p", "r").unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.attempts(), 1);
        assert_eq!(server.requests().len(), 1, "status {status}");
    }
}

#[test]
fn retry_after_on_429_is_honoured() {
    let server = sequence(vec![
        Reply::new(429, UNAVAILABLE).header("Retry-After", "1"),
        Reply::new(200, EMPTY),
    ]);
    let started = Instant::now();
    client(&server.url()).get_jobs_in("p", "r").unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn exhausted_retries_say_how_many_attempts() {
    for status in [429, 502, 503, 504] {
        let server = Server::json(status, UNAVAILABLE);
        let client = crate::support::client(server.url())
            .retry(RetryPolicy::default().base_delay(Duration::from_millis(10)))
            .build()
            .unwrap();
        let error = client.get_jobs_in("p", "r").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Api);
        assert_eq!(error.attempts(), 3);
        assert!(error.to_string().ends_with("(after 3 attempts)"), "{error}");
        assert_eq!(server.requests().len(), 3);
    }
}

#[test]
fn connection_failures_are_retried_and_counted() {
    let client = crate::support::client(format!("http://127.0.0.1:{}", closed_port()))
        .retry(RetryPolicy::default().max_attempts(4).base_delay(Duration::from_millis(5)))
        .build()
        .unwrap();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert_eq!(error.attempts(), 4);
}

#[test]
fn retries_can_be_turned_off() {
    let server = Server::json(503, UNAVAILABLE);
    let client = crate::support::client(server.url()).retry(RetryPolicy::none()).build().unwrap();
    assert_eq!(client.get_jobs_in("p", "r").unwrap_err().attempts(), 1);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn retries_stop_at_the_total_deadline() {
    // Retry-After 20 s cannot fit in a 1 s deadline: one attempt, then the 503 is returned.
    let server = Server::start(|_, stream| {
        respond(stream, 503, &[("Retry-After", "20")], UNAVAILABLE.as_bytes());
        After::KeepAlive
    });
    let client =
        crate::support::client(server.url()).timeout(Duration::from_secs(1)).build().unwrap();
    let started = Instant::now();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(error.status(), Some(503));
    assert_eq!(server.requests().len(), 1);
}

/// Answers the documented path with the gateway's 404 APIGW.0101 and the newer path with jobs.
fn retired_api_server() -> Server {
    Server::start(|request, stream| {
        if request.target.ends_with("/jobs") {
            respond(stream, 200, &[], br#"{"jobs":[{"job_id":"new-path"}]}"#);
        } else {
            respond(stream, 404, &[("X-Request-Id", "gw")], br#"{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment","request_id":"gw"}"#);
        }
        After::KeepAlive
    })
}

#[test]
fn documented_path_falls_back_to_the_newer_one_and_remembers() {
    let server = retired_api_server();
    let client = client(&server.url());
    for _ in 0..2 {
        let jobs = client.get_jobs_in("p", "a/b").unwrap();
        assert_eq!(jobs[0].job_id.as_deref(), Some("new-path"));
    }
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        ["/v1/p/dbss/audit/jobs/a%2Fb", "/v1/p/audit/a%2Fb/jobs", "/v1/p/audit/a%2Fb/jobs"]
    );
}

#[test]
fn the_path_can_be_chosen() {
    let server = retired_api_server();
    let documented =
        crate::support::client(server.url()).jobs_path(JobsPath::Documented).build().unwrap();
    assert_eq!(documented.get_jobs_in("p", "r").unwrap_err().error_code(), Some("APIGW.0101"));
    let newer = crate::support::client(server.url()).jobs_path(JobsPath::Newer).build().unwrap();
    newer.get_jobs_in("p", "r").unwrap();
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/v1/p/dbss/audit/jobs/r", "/v1/p/audit/r/jobs"]);
}

fn jobs_body(statuses: &[&str]) -> String {
    let jobs: Vec<String> = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let failure = if *status == "FAIL" {
                r#","error_code":"DBSS.1234","fail_reason":"quota exceeded""#
            } else {
                ""
            };
            format!(r#"{{"job_id":"job-{i}","status":"{status}"{failure}}}"#)
        })
        .collect();
    format!(r#"{{"jobs":[{}]}}"#, jobs.join(","))
}

fn fast() -> WaitOptions {
    WaitOptions::default().interval(Duration::from_millis(20)).timeout(Duration::from_secs(5))
}

#[test]
fn wait_follows_init_running_success() {
    let server = sequence(vec![
        Reply::new(200, EMPTY),
        Reply::new(200, jobs_body(&["INIT"])),
        Reply::new(200, jobs_body(&["RUNNING", "READY"])),
        Reply::new(200, jobs_body(&["SUCCESS", "SUCCESS"])),
    ]);
    let mut seen = Vec::new();
    let jobs = client(&server.url())
        .wait_for_jobs("r", fast(), |progress| {
            if let Progress::Listed(jobs) = progress {
                seen.push(jobs.len());
            }
        })
        .unwrap();
    assert_eq!(seen, [0, 1, 2, 2]);
    assert!(jobs.iter().all(|job| job.status == Some(JobStatus::Success)));
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn wait_ends_on_fail_with_code_and_reason() {
    let server = sequence(vec![
        Reply::new(200, jobs_body(&["RUNNING", "RUNNING"])),
        Reply::new(200, jobs_body(&["SUCCESS", "FAIL"])),
    ]);
    let jobs = client(&server.url()).wait_for_jobs("r", fast(), |_| {}).unwrap();
    assert_eq!(jobs[1].status, Some(JobStatus::Fail));
    assert_eq!(jobs[1].error_code.as_deref(), Some("DBSS.1234"));
    assert_eq!(jobs[1].fail_reason.as_deref(), Some("quota exceeded"));
}

#[test]
fn wait_times_out_with_the_last_jobs_seen() {
    let server = sequence(vec![Reply::new(200, jobs_body(&["SUCCESS", "RUNNING"]))]);
    let options = WaitOptions::default()
        .interval(Duration::from_millis(50))
        .timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = client(&server.url()).wait_for_jobs("r", options, |_| {}).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut);
    let last = error.last_jobs().unwrap();
    assert_eq!(last.len(), 2);
    assert_eq!(last[1].status, Some(JobStatus::Running));
    assert!(error.to_string().contains("1 of 2 not finished"), "{error}");
}

#[test]
fn extreme_wait_and_retry_settings_do_not_panic() {
    let server =
        sequence(vec![Reply::new(503, UNAVAILABLE), Reply::new(200, jobs_body(&["SUCCESS"]))]);
    let client = crate::support::client(server.url())
        .project_id("p")
        .retry(
            RetryPolicy::default()
                .max_delay(Duration::MAX)
                .base_delay(Duration::from_nanos(1))
                .max_attempts(u32::MAX),
        )
        .build()
        .unwrap();
    let options = WaitOptions::default().timeout(Duration::MAX).interval(Duration::MAX);
    let jobs = client.wait_for_jobs("r", options, |_| {}).unwrap();
    assert_eq!(jobs.len(), 1);
}
