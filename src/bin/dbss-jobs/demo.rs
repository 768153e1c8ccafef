//! `--demo`: the crate's fake DBSS endpoint on loopback, with the API reference's example job;
//! with `--serve`, kept running for other tools.

use std::io::Write;
use std::time::Duration;

use dbss_jobs::fake::{FakeDbss, failed_job};
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

/// `--demo --serve`: prints the `export` lines a shell can `eval` to reach the fake, then serves
/// until the process is ended, each client (connection) walking the timeline from its start.
fn serve_forever(fake: &FakeDbss, resource_id: &str) -> Result<(), Failure> {
    fake.script_per_client();
    let url = fake.url();
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
    let _ = writeln!(
        std::io::stderr(),
        "dbss-jobs: a fake DBSS on {url}: {resource_id} goes INIT, RUNNING, then SUCCESS for each \
         client; serving until interrupted (Ctrl-C)"
    );
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
