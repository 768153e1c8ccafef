//! Waiting until every creation job of an instance has finished: what a deploy script that has
//! just created a DBSS instance needs, and no official SDK offers.
//!
//! Polls [`Client::get_jobs`] (with its retries) at an interval, within an overall deadline.

use std::time::{Duration, Instant};

use crate::{Client, Error, Job};

/// How [`Client::wait_for_jobs`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    interval: Duration,
    timeout: Duration,
}

impl Default for WaitOptions {
    /// Every 10 s, for at most 30 minutes.
    fn default() -> Self {
        WaitOptions {
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl WaitOptions {
    /// Time between two polls (at least 10 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(10));
        self
    }

    /// The overall deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// True when there is at least one job and every job is `SUCCESS` or `FAIL`. `INIT`, `READY`,
/// `RUNNING`, a missing status and statuses this crate does not know count as in progress; so does
/// an empty list (the jobs of a new instance may not be listed yet).
pub fn all_finished(jobs: &[Job]) -> bool {
    !jobs.is_empty()
        && jobs
            .iter()
            .all(|job| job.status.as_ref().is_some_and(|status| status.is_final()))
}

impl Client {
    /// Polls until every job of the instance has finished, calling `progress` with each poll's
    /// jobs; returns the final jobs. Check them for [`JobStatus::Fail`](crate::JobStatus::Fail)
    /// (with `error_code` and `fail_reason`): a failed job is a finished job, not an error here.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use dbss_jobs::{Client, JobStatus, WaitOptions};
    ///
    /// let client = Client::builder().region("cn-north-4").build()?;
    /// let options = WaitOptions::default().interval(Duration::from_secs(5));
    /// let jobs = client.wait_for_jobs("my-instance-id", options, |jobs| {
    ///     eprintln!("{} job(s) seen", jobs.len());
    /// })?;
    /// for job in jobs.iter().filter(|job| job.status == Some(JobStatus::Fail)) {
    ///     eprintln!("{:?} failed: {:?} {:?}", job.job_id, job.error_code, job.fail_reason);
    /// }
    /// # Ok::<(), dbss_jobs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::WaitTimedOut`](crate::ErrorKind::WaitTimedOut), carrying the last jobs seen
    /// ([`Error::last_jobs`]), when the deadline passes first; any error of a poll as
    /// [`Client::get_jobs`] returns it.
    pub fn wait_for_jobs(
        &self,
        resource_id: &str,
        options: WaitOptions,
        mut progress: impl FnMut(&[Job]),
    ) -> Result<Vec<Job>, Error> {
        let started = Instant::now();
        // A timeout too large for the clock means no deadline.
        let deadline = started.checked_add(options.timeout);
        let project_id = self.project_id()?;
        let mut last_jobs = Vec::new();
        loop {
            let poll_deadline = self.deadline();
            let poll_deadline = deadline.map_or(poll_deadline, |d| d.min(poll_deadline));
            let jobs = match self.get_jobs_before(&project_id, resource_id, poll_deadline) {
                Ok(jobs) => jobs,
                // The poll was cut short by the overall deadline, not by the service.
                Err(error)
                    if error.is_timeout() && deadline.is_some_and(|d| Instant::now() >= d) =>
                {
                    return Err(Error::wait_timed_out(started.elapsed(), last_jobs));
                }
                Err(error) => return Err(error),
            };
            progress(&jobs);
            if all_finished(&jobs) {
                return Ok(jobs);
            }
            let remaining = deadline.map_or(options.interval, |d| {
                d.saturating_duration_since(Instant::now())
            });
            if remaining.is_zero() {
                return Err(Error::wait_timed_out(started.elapsed(), jobs));
            }
            last_jobs = jobs;
            std::thread::sleep(options.interval.min(remaining));
        }
    }
}
