//! Waiting until every creation job of an instance has finished: what a deploy script that has
//! just created a DBSS instance needs, and no official SDK offers.
//!
//! Polls [`Client::get_jobs`] (with its retries) at an interval, within an overall deadline.

use std::time::{Duration, Instant};

use crate::client::check_id;
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
    /// Polls until every job of the instance has finished, calling `progress` with each answered
    /// poll's jobs; returns the final jobs. Check them for
    /// [`JobStatus::Fail`](crate::JobStatus::Fail) (with `error_code` and `fail_reason`): a failed
    /// job is a finished job, not an error here.
    ///
    /// Each poll is one [`Client::get_jobs`] call, retries included, bounded by the client's
    /// [`timeout`](crate::ClientBuilder::timeout) and by what is left of
    /// [`WaitOptions::timeout`]; so is the project lookup, when the project has to be looked up.
    /// A poll that fails transiently ([`Error::is_retryable`]: 429, 502, 503, 504, a connection
    /// failure or timeout) does not end the wait: the next poll comes after the interval.
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
    /// [`ErrorKind::WaitTimedOut`](crate::ErrorKind::WaitTimedOut) when the deadline passes first,
    /// carrying the last answered poll's jobs ([`Error::last_jobs`], `None` if no poll was
    /// answered) and the last poll's error as its `source()`; a poll's error that is not
    /// transient, as [`Client::get_jobs`] returns it.
    pub fn wait_for_jobs(
        &self,
        resource_id: &str,
        options: WaitOptions,
        mut progress: impl FnMut(&[Job]),
    ) -> Result<Vec<Job>, Error> {
        check_id("resource id", resource_id)?;
        let started = Instant::now();
        // A timeout too large for the clock means no deadline.
        let deadline = started.checked_add(options.timeout);
        let call_deadline = || deadline.map_or(self.deadline(), |d| d.min(self.deadline()));
        let project_id = self.project_id_before(call_deadline())?;
        let mut last_jobs = None;
        loop {
            let last_error = match self.get_jobs_before(&project_id, resource_id, call_deadline()) {
                Ok(jobs) => {
                    progress(&jobs);
                    if all_finished(&jobs) {
                        return Ok(jobs);
                    }
                    last_jobs = Some(jobs);
                    None
                }
                Err(error) if error.is_retryable() || cut_short(&error, deadline) => Some(error),
                Err(error) => return Err(error),
            };
            let remaining = deadline.map_or(options.interval, |d| {
                d.saturating_duration_since(Instant::now())
            });
            std::thread::sleep(options.interval.min(remaining));
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::wait_timed_out(
                    started.elapsed(),
                    last_jobs,
                    last_error,
                ));
            }
        }
    }
}

/// A poll that timed out because the wait's own deadline passed, not because of the service.
fn cut_short(error: &Error, deadline: Option<Instant>) -> bool {
    error.is_timeout() && deadline.is_some_and(|d| Instant::now() >= d)
}
