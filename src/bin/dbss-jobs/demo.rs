//! `--demo`: the crate's fake DBSS endpoint on loopback, with the API reference's example job.

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
    fake.set_jobs(resource_id, demo_timeline(args.wait)?);
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
    jobs.push(failed_job("8abf9647852a1daa01852e517e1a1a0c", "DBSS.1234", "quota exceeded"));
    Ok(vec![jobs])
}
