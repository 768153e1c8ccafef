//! Waiting until every creation job of a new instance has finished, which no official SDK offers:
//! polls [`Client::get_jobs`] at an interval within a deadline, riding out transient failures.

use std::time::{Duration, Instant};

use crate::api::validate_id;
use crate::client::Client;
use crate::error::Error;
use crate::model::Job;

/// How [`Client::wait_for_jobs`] polls: by default every 10 s, for at most 30 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    interval: Duration,
    timeout: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions { interval: Duration::from_secs(10), timeout: Duration::from_secs(30 * 60) }
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

/// True when there is at least one job and every job is `SUCCESS` or `FAIL`; an empty list (a new
/// instance's jobs may not be listed yet) or any other status counts as in progress.
pub fn all_finished(jobs: &[Job]) -> bool {
    !jobs.is_empty()
        && jobs.iter().all(|job| job.status.as_ref().is_some_and(|status| status.is_final()))
}

/// What [`Client::wait_for_jobs`] tells its progress callback after each poll.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// The service answered with these jobs; an empty list means none is listed yet.
    Listed(&'a [Job]),
    /// The poll failed transiently; the wait goes on, and the next poll comes after `next_poll_in`
    /// (a failure after which no poll fits before the deadline ends the wait instead).
    Failed {
        /// What went wrong.
        error: &'a Error,
        /// The pause before the next poll.
        next_poll_in: Duration,
    },
}

impl Client {
    /// Polls until every job of the instance has finished, calling `progress` after each poll, and
    /// returns the final jobs (a [`JobStatus::Fail`](crate::JobStatus::Fail) is finished, not an
    /// error); [a transient failure](crate#waiting-for-an-instances-creation-jobs) does not end it.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a bad id, before any
    /// traffic; [`ErrorKind::WaitTimedOut`](crate::ErrorKind::WaitTimedOut) when no more poll fits
    /// before the deadline ([`Error::last_jobs`], `source()`); a poll's error that is not transient.
    pub fn wait_for_jobs(
        &self,
        resource_id: &str,
        options: WaitOptions,
        mut progress: impl FnMut(Progress<'_>),
    ) -> Result<Vec<Job>, Error> {
        validate_id("resource id", resource_id)?;
        let started = Instant::now();
        // A timeout too large for the clock means no deadline.
        let deadline = started.checked_add(options.timeout);
        let call_deadline = || deadline.map_or(self.deadline(), |d| d.min(self.deadline()));
        let passed = || deadline.is_some_and(|d| Instant::now() >= d);
        let mut seen = Seen::default();
        loop {
            // One deadline for the poll: the project lookup and the jobs call share it.
            let poll_deadline = call_deadline();
            let poll = self
                .project_id_within(poll_deadline)
                .and_then(|project| self.get_jobs_within(&project, resource_id, poll_deadline));
            let failure = match poll {
                Ok(jobs) => {
                    progress(Progress::Listed(&jobs));
                    if all_finished(&jobs) {
                        return Ok(jobs);
                    }
                    seen.any_job |= !jobs.is_empty();
                    seen.last = Some(jobs);
                    seen.cause = None;
                    None
                }
                // A timeout because the wait's own deadline passed is not the service's failure.
                Err(error) if error.is_timeout() && passed() => Some((error, true)),
                Err(error) if is_transient(&error) => Some((error, false)),
                Err(error) => return Err(error),
            };
            // Never inside a window the gateway asked us to keep out of.
            let asked = failure.as_ref().and_then(|(error, _)| error.retry_after());
            let pause = options.interval.max(asked.unwrap_or_default());
            let remaining =
                deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            if let Some((error, cut_short)) = failure {
                if pause < remaining {
                    progress(Progress::Failed { error: &error, next_poll_in: pause });
                }
                // A poll the wait's own deadline cut short is the cause only when nothing else is.
                if !(cut_short && (seen.cause.is_some() || seen.last.is_some())) {
                    seen.cause = Some(error);
                }
            }
            // No poll fits before the deadline: the wait ends now, not when the deadline passes.
            if deadline.is_some() && pause >= remaining {
                let project = self.project_id.get().map(String::as_str);
                let mut summary = seen.summary(resource_id, project, started.elapsed());
                // The service's ask, not the interval, left no room for a poll.
                if let Some(asked) = asked.filter(|_| options.interval < remaining) {
                    let asked = asked.as_secs_f64().ceil();
                    summary.push_str(&format!("; the service asked to wait {asked} s"));
                }
                return Err(Error::wait_timed_out(summary, seen.last, seen.cause));
            }
            std::thread::sleep(pause);
        }
    }
}

/// What the polls of a wait have seen.
#[derive(Default)]
struct Seen {
    /// The last answered poll's jobs.
    last: Option<Vec<Job>>,
    /// Whether any poll listed a job.
    any_job: bool,
    /// Why the polls since the last answered one failed: the wait's `source()`.
    cause: Option<Error>,
}

impl Seen {
    /// The sentence a timed-out wait ends with.
    fn summary(&self, resource_id: &str, project_id: Option<&str>, waited: Duration) -> String {
        let waited = waited.as_secs_f64();
        match &self.last {
            None => format!("no poll was answered in {waited:.1}s"),
            Some(_) if !self.any_job => format!(
                "no job was ever listed for resource id {resource_id:?} in project {} in \
                 {waited:.1}s: check both ids",
                project_id.unwrap_or("-")
            ),
            Some(jobs) => {
                let running = jobs
                    .iter()
                    .filter(|job| !job.status.as_ref().is_some_and(|s| s.is_final()))
                    .count();
                format!(
                    "jobs still in progress after waiting {waited:.1}s ({running} of {} not finished)",
                    jobs.len()
                )
            }
        }
    }
}

/// A failure the next poll may not meet; missing credentials are not, unless the metadata
/// service itself answered 429 or 5xx.
fn is_transient(error: &Error) -> bool {
    if error.is_missing_credentials() {
        return error.status().is_some_and(|status| status == 429 || (500..600).contains(&status));
    }
    error.is_retryable() || error.is_dns() || error.is_connect() || error.is_timeout()
}
