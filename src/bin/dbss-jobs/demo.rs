//! `--demo`: the crate's fake DBSS endpoint on loopback, with the API reference's example job,
//! and with `--serve` a resource per scenario a pipeline may meet.

use std::io::Write;
use std::time::Duration;

use dbss_jobs::fake::{FakeDbss, Reply, Step, failed_job, job};
use dbss_jobs::{Job, JobStatus};

use crate::args::Args;
use crate::{Failure, fetch_and_print};

/// The API reference's example answer (one job), shipped beside this file.
const DOCUMENTED_EXAMPLE: &str = include_str!("documented_example.json");
const DEMO_RESOURCE: &str = "demo-instance-01";

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let fake = FakeDbss::start().map_err(Failure::Output)?;
    let resource_id = args.resource_id.as_deref().unwrap_or(DEMO_RESOURCE);
    fake.set_jobs(resource_id, demo_timeline(args.wait || args.serve)?);
    if args.serve {
        return serve_forever(&fake, resource_id);
    }
    let _ = writeln!(
        std::io::stderr(),
        "demo: fake DBSS endpoint on {} (it re-signs each request with this crate's signer and compares)",
        fake.url()
    );
    // --timeout is the call's deadline, or with --wait the wait's (as without --demo).
    let call_timeout = args.timeout.filter(|_| !args.wait);
    let client = fake
        .client()
        .log_to_stderr(args.verbosity)
        .timeout(call_timeout.unwrap_or(Duration::from_secs(10)))
        .build()?;
    let args =
        Args { interval: args.interval.or(Some(Duration::from_millis(500))), ..args.clone() };
    fetch_and_print(&client, resource_id, &args)
}

/// One list to show (the documented job, and a failed one for the error column), or (to wait on)
/// the documented job going INIT → RUNNING → SUCCESS.
fn demo_timeline(progressing: bool) -> Result<Vec<Vec<Job>>, Failure> {
    let mut jobs = dbss_jobs::parse_jobs(DOCUMENTED_EXAMPLE.as_bytes())?;
    if progressing {
        let stage = |status| {
            let mut job = jobs[0].clone();
            job.status = Some(status);
            vec![job]
        };
        return Ok([JobStatus::Init, JobStatus::Running, JobStatus::Success].map(stage).to_vec());
    }
    let mut failed = failed_job("8abf9647852a1daa01852e517e1a1a0c", "DBSS.1234", "quota exceeded");
    failed.begin_time = time::OffsetDateTime::from_unix_timestamp(1_671_519_500).ok();
    failed.end_time = time::OffsetDateTime::from_unix_timestamp(1_671_519_560).ok();
    failed.charge_mode = Some(dbss_jobs::ChargeMode::Period);
    failed.server_name = Some("DBSS-qct-1221".to_string());
    jobs.push(failed);
    Ok(vec![jobs])
}

/// `--demo --serve`: prints on stdout the `export` lines a shell can `eval` to reach the fake,
/// and on stderr the resource ids it serves with what each does; then serves until the process
/// is ended. Each client (connection) walks each resource's timeline from its first request.
fn serve_forever(fake: &FakeDbss, resource_id: &str) -> Result<(), Failure> {
    fake.script_per_client();
    let url = fake.url();
    let mut text = format!(
        "dbss-jobs: a fake DBSS on {url}; each client walks each resource from its first request:\n"
    );
    let default = "the API reference's example job, with INIT, RUNNING, then SUCCESS";
    for (id, what) in [(resource_id, default)].into_iter().chain(demo_scenarios(fake)) {
        text.push_str(&format!("  {id:<18} {what}\n"));
    }
    let mut out = std::io::stdout().lock();
    // Every region's endpoint and project are the fake's: no region leaves loopback.
    for region in dbss_jobs::REGIONS {
        fake.add_project(region, FakeDbss::PROJECT_ID);
        let region = region.to_ascii_uppercase().replace('-', "_");
        writeln!(out, "export HUAWEICLOUD_SDK_REGION_DBSS_{region}={url}")?;
    }
    for (name, value) in [
        ("REGION", "cn-north-4"),
        ("IAM_ENDPOINT", url.as_str()),
        ("AK", FakeDbss::ACCESS_KEY),
        ("SK", FakeDbss::SECRET_KEY),
        ("PROJECT_ID", FakeDbss::PROJECT_ID),
    ] {
        writeln!(out, "export HUAWEICLOUD_SDK_{name}={value}")?;
    }
    out.flush()?;
    text.push_str(&format!(
        "  {:<18} any of these with a tag of your own: one place per tag, kept across\n  {:<18} \
         connections (for a loop of one-shot calls, or polls more than 15 s apart)\n",
        "demo-success.TAG", ""
    ));
    text.push_str(&format!(
        "  {:<18} --endpoint http://127.0.0.1:1 (nothing listens there): exit 6\n",
        "(unreachable)"
    ));
    text.push_str("serving until interrupted (Ctrl-C)\n");
    let _ = std::io::stderr().write_all(text.as_bytes());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Scripts the demo's resources, each with a behaviour a pipeline may meet; gives what each does.
fn demo_scenarios(fake: &FakeDbss) -> Vec<(&'static str, &'static str)> {
    let stage = |status| Step::Jobs(vec![job("demo-job-1", status)]);
    let gateway = |status, code: &str, message: &str| {
        let body = serde_json::json!({"error_code": code, "error_msg": message}).to_string();
        Step::Reply(Reply::new(status, body))
    };
    let failed = failed_job("demo-job-1", "DBSS.1234", "quota exceeded");
    let unavailable = gateway(503, "APIGW.0503", "service unavailable");
    let done = serde_json::json!({"jobs": [job("demo-job-1", JobStatus::Success)]}).to_string();
    let scenarios = [
        (
            "demo-success",
            vec![stage(JobStatus::Init), stage(JobStatus::Running), stage(JobStatus::Success)],
            "INIT, RUNNING, then SUCCESS",
        ),
        (
            "demo-fail",
            vec![stage(JobStatus::Running), Step::Jobs(vec![failed])],
            "RUNNING, then FAIL with DBSS.1234 \"quota exceeded\" (--wait exits 3)",
        ),
        (
            "demo-throttled",
            vec![
                gateway(
                    429,
                    "APIGW.0308",
                    "The throttling threshold has been reached: policy user over ratelimit,limit:1,time:1 second",
                ),
                stage(JobStatus::Success),
            ],
            "429 APIGW.0308 (a 1-second window), then SUCCESS",
        ),
        (
            "demo-forbidden",
            vec![gateway(403, "DBSS.0403", "The user is not authorized to view this instance")],
            "403 DBSS.0403 (exit 5)",
        ),
        (
            "demo-refused",
            vec![gateway(
                401,
                "APIGW.0301",
                &format!(
                    "Incorrect IAM authentication information: Get secretKey failed,ak:{},err:ak \
                     not exist",
                    FakeDbss::ACCESS_KEY
                ),
            )],
            "401: the gateway does not know the access key (exit 5)",
        ),
        (
            "demo-running",
            vec![stage(JobStatus::Running)],
            "RUNNING, forever (--wait exits 4 at its --timeout)",
        ),
        (
            "demo-unavailable",
            vec![unavailable.clone(), unavailable.clone(), unavailable, stage(JobStatus::Success)],
            "503 three times, then SUCCESS (one call gives up: exit 1; --wait rides it out)",
        ),
        ("demo-empty", vec![Step::Jobs(Vec::new())], "no job listed, ever (--wait exits 4)"),
        (
            "demo-slow",
            vec![Step::Reply(Reply::new(200, done).drip(Duration::from_millis(5)))],
            "SUCCESS, sent a byte every 5 ms (about 2 s)",
        ),
    ];
    let script = |(id, steps, what)| {
        fake.set_script(id, steps);
        (id, what)
    };
    scenarios.into_iter().map(script).collect()
}
