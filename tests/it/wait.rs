//! `wait_for_jobs`: transient failures ridden out (IAM, DNS, the service), progress for failed polls, what a timed-out wait says.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbss_jobs::{Client, ErrorKind, Progress, RetryPolicy, WaitOptions};

use crate::support::{Reply, Server, sequence};
use crate::support::{check_exit, wait_with_the_cli};

fn waiting_client(server: &Server) -> Client {
    crate::support::client(server.url())
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
    let mut replies = vec![Reply::new(200, r#"{"jobs":[{"job_id":"j","status":"RUNNING"}]}"#)];
    replies.extend(std::iter::repeat_n(Reply::new(503, BUSY), 4));
    replies.push(Reply::new(200, r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#));
    let server = sequence(replies);
    let options = dbss_jobs::WaitOptions::default()
        .interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(10));
    let jobs = waiting_client(&server).wait_for_jobs("r", options, |_| {}).unwrap();
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
    let error = waiting_client(&server).wait_for_jobs("r", options, |_| {}).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    assert_eq!(error.last_jobs(), None);
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("http 503"), "{cause}");
    assert!(!error.to_string().contains("http 503"), "the cause is shown once");
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
    let error = waiting_client(&server).wait_for_jobs("r", options, |_| {}).unwrap_err();
    // It ends at once, not when its deadline passes.
    assert!(started.elapsed() < Duration::from_millis(450), "{:?}", started.elapsed());
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    assert!(error.to_string().ends_with("; the service asked to wait 30 s"), "{error}");
    assert_eq!(error.last_jobs().map(<[_]>::len), Some(1));
}

const RUNNING: &str = r#"{"jobs":[{"job_id":"j","status":"RUNNING"}]}"#;

const SUCCESS: &str = r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#;

const THROTTLED: &str =
    r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#;

fn fast(timeout: Duration) -> WaitOptions {
    WaitOptions::default().interval(Duration::from_millis(20)).timeout(timeout)
}

fn looking_up(iam: &Server, dbss: &str) -> Client {
    crate::support::client(dbss)
        .region("cn-north-4")
        .iam_endpoint(iam.url())
        .environment([("HOME", "/nonexistent")])
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn a_transient_failure_of_the_project_lookup_is_ridden_out() {
    let iam = sequence(vec![
        Reply::new(503, THROTTLED),
        Reply::new(503, THROTTLED),
        Reply::new(503, THROTTLED),
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
    let down = Server::json(503, THROTTLED);
    let error = looking_up(&down, &dbss.url())
        .wait_for_jobs("r", fast(Duration::from_millis(300)), |_| {})
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("IAM project lookup") && cause.contains("503"), "{cause}");
}

#[test]
fn a_dns_failure_during_a_wait_is_ridden_out_until_the_deadline() {
    let label = "a".repeat(64);
    let client = crate::support::client(format!("https://{label}.example.com"))
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
    assert!(cause.to_string().contains("could not be resolved"), "{cause}");
    // A single call still fails at once.
    assert!(client.get_jobs("r").unwrap_err().is_dns());
}

fn unretried_client(server: &Server) -> Client {
    crate::support::client(server.url()).project_id("p").retry(RetryPolicy::none()).build().unwrap()
}

#[test]
fn failed_polls_reach_the_progress_and_the_cli() {
    let server = sequence(vec![
        Reply::new(429, THROTTLED),
        Reply::new(200, RUNNING),
        Reply::new(200, SUCCESS),
    ]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    unretried_client(&server)
        .wait_for_jobs("r", fast(Duration::from_secs(5)), |progress| {
            seen.lock().unwrap().push(match progress {
                Progress::Failed { error, .. } => format!("failed {:?}", error.status()),
                Progress::Listed(jobs) => format!("listed {}", jobs.len()),
                _ => "other".to_string(),
            });
        })
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), ["failed Some(429)", "listed 1", "listed 1"]);
    let throttling = Server::json(429, THROTTLED);
    let output = wait_with_the_cli(&throttling, "r", "1");
    check_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("poll failed: api error: http 429 APIGW.0308"), "{stderr}");
    assert!(stderr.contains("next poll in"), "{stderr}");
}

#[test]
fn a_poll_the_deadline_cuts_short_leaves_the_failure_before_it_as_the_cause() {
    use dbss_jobs::fake::{FakeDbss, Reply, Step};
    let fake = FakeDbss::start().unwrap();
    let cause_of = |error: &dbss_jobs::Error| {
        assert_eq!(error.kind(), ErrorKind::WaitTimedOut, "{error}");
        let cause = std::error::Error::source(error).map(|cause| cause.to_string());
        (error.last_jobs().is_some(), cause)
    };
    let wait = |client: &Client, millis| {
        client.wait_for_jobs("r", fast(Duration::from_millis(millis)), |_| {}).unwrap_err()
    };
    // A 429, then a poll cut short: the 429 is the cause, whether the cut poll was a poll of its
    // own or the client's retry within the same poll.
    let unretried = fake.client().project_id("p").retry(RetryPolicy::none()).build().unwrap();
    let retried = fake.client().project_id("p").build().unwrap();
    for client in [&unretried, &retried] {
        fake.set_script("r", vec![Step::Reply(Reply::throttled(0)), stall_step()]);
        let error = wait(client, 700);
        let (_, cause) = cause_of(&error);
        assert!(cause.as_ref().is_some_and(|cause| cause.contains("http 429")), "{cause:?}");
        // The deadline ended it, not the service's ask (a Retry-After of 0 s).
        assert!(!error.to_string().contains("asked to wait"), "{error}");
    }
    // A call whose retry runs into the deadline keeps the answer before it.
    fake.set_script("r", vec![Step::Reply(Reply::unavailable()), stall_step()]);
    let quick = RetryPolicy::default().base_delay(Duration::from_millis(1));
    let client = fake.client().project_id("p").retry(quick).timeout(Duration::from_millis(500));
    let client = client.build().unwrap();
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!((error.status(), error.attempts()), (Some(503), 2), "{error}");
    // So it does with a failed connection between the two.
    let close = Step::Reply(Reply::close());
    fake.set_script("r", vec![Step::Reply(Reply::unavailable()), close, stall_step()]);
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!((error.status(), error.attempts()), (Some(503), 3), "{error}");
    // After an answered poll, a poll cut short is no cause: the jobs are.
    fake.set_script(
        "r",
        vec![
            Step::Jobs(vec![dbss_jobs::fake::job("j", dbss_jobs::JobStatus::Running)]),
            stall_step(),
        ],
    );
    assert_eq!(cause_of(&wait(&unretried, 700)), (true, None));
    // With only polls cut short, one of them is the cause.
    fake.set_script("r", vec![stall_step()]);
    let (answered, cause) = cause_of(&wait(&unretried, 300));
    assert!(!answered && cause.is_some_and(|cause| cause.contains("deadline")));
}

fn stall_step() -> dbss_jobs::fake::Step {
    dbss_jobs::fake::Step::Reply(dbss_jobs::fake::Reply::stall(Duration::from_secs(5)))
}

#[test]
fn a_wait_on_an_id_that_lists_nothing_says_so() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let error = unretried_client(&server)
        .wait_for_jobs("instance-typo", fast(Duration::from_millis(200)), |_| {})
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WaitTimedOut);
    let message = error.to_string();
    assert!(
        message.contains(r#"no job was ever listed for resource id "instance-typo" in project p"#)
            && message.contains("check both ids"),
        "{message}"
    );
    let output = wait_with_the_cli(&server, "instance-typo", "0.3");
    check_exit(&output, 4);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no job listed for instance-typo yet"), "{stderr}");
}

#[test]
fn a_wait_timeout_shows_its_cause_once() {
    let server = sequence(vec![Reply::new(200, RUNNING), Reply::new(503, THROTTLED)]);
    let error = unretried_client(&server)
        .wait_for_jobs("r", fast(Duration::from_millis(200)), |_| {})
        .unwrap_err();
    let message = error.to_string();
    assert!(!message.contains("503"), "{message}");
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("http 503"), "{cause}");
    let debug = format!("{error:?}");
    assert_eq!(debug.matches("http 503").count(), 1, "{debug}");
    let server = sequence(vec![Reply::new(200, RUNNING), Reply::new(503, THROTTLED)]);
    let output = wait_with_the_cli(&server, "r", "0.3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("not finished): caused by: api error: http 503"), "{stderr}");
}

#[test]
fn a_wait_polls_again_no_sooner_than_the_throttling_window() {
    let throttled = r#"{"error_code":"APIGW.0308","error_msg":"policy user over ratelimit,limit:1,time:1 second"}"#;
    // A wait with a deadline, and one without (a timeout too large for the clock).
    for timeout in [Duration::from_secs(10), Duration::MAX] {
        let server = sequence(vec![
            Reply::new(429, throttled),
            Reply::new(200, r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#),
        ]);
        let client = crate::support::client(server.url())
            .project_id("p")
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let options = WaitOptions::default().interval(Duration::from_millis(20)).timeout(timeout);
        let started = Instant::now();
        let mut pauses = Vec::new();
        let jobs = client
            .wait_for_jobs("r", options, |progress| {
                if let Progress::Failed { next_poll_in, .. } = progress {
                    pauses.push(next_poll_in);
                }
            })
            .unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(pauses, [Duration::from_secs(1)], "{timeout:?}");
        assert!(started.elapsed() >= Duration::from_secs(1));
    }
}

#[test]
fn a_poll_shares_one_deadline_between_the_project_lookup_and_the_jobs_call() {
    // IAM answers after 0.9 s; the jobs call is never answered.
    let cloud = Server::start(|request, stream| {
        if request.target.starts_with("/v3/projects") {
            std::thread::sleep(Duration::from_millis(900));
            let body = br#"{"projects":[{"id":"p1","name":"cn-north-4"}]}"#;
            crate::support::respond(stream, 200, &[], body);
            return crate::support::After::KeepAlive;
        }
        std::thread::sleep(Duration::from_secs(3));
        crate::support::After::Close
    });
    let client = crate::support::client(cloud.url())
        .region("cn-north-4")
        .iam_endpoint(cloud.url())
        .environment([("HOME", "/nonexistent")])
        .timeout(Duration::from_secs(1))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let options =
        WaitOptions::default().interval(Duration::from_millis(20)).timeout(Duration::from_secs(4));
    let started = Instant::now();
    let mut first_failure = None;
    let _ = client.wait_for_jobs("r", options, |progress| {
        if let Progress::Failed { .. } = progress {
            first_failure.get_or_insert(started.elapsed());
        }
    });
    let failed_after = first_failure.expect("a poll failed");
    // One poll: at most the client's 1 s timeout and the 250 ms body grace, not two deadlines.
    assert!(failed_after < Duration::from_millis(1400), "{failed_after:?}");
}
