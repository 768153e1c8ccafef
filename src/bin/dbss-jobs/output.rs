//! What the command prints: the jobs as a table or as JSON, the progress line of a wait, the
//! failed jobs, and the check's lines. Text from a server is shown escaped, on one line.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dbss_jobs::{Client, Error, Job, JobStatus, escape_for_terminal};

use crate::{Failure, report};

/// `--check`: one line per fact on stdout, the first failing one marked; exit 1 if any fails.
pub(crate) fn check(client: &Client, resource_id: Option<&str>) -> Result<(), Failure> {
    let lines = client.check(resource_id)?;
    let first_failure = lines.iter().position(|line| !line.ok);
    let mut out = std::io::stdout().lock();
    for (index, line) in lines.iter().enumerate() {
        let mark = if line.ok { "ok  " } else { "FAIL" };
        let first = if Some(index) == first_failure { "   <- the first problem" } else { "" };
        writeln!(
            out,
            "{mark} {:<11} {}{first}",
            line.topic,
            // The library bounds every server text already: the whole line is worth reading.
            escape_for_terminal(&line.text, usize::MAX)
        )?;
    }
    out.flush()?;
    first_failure.map_or(Ok(()), |_| Err(Failure::CheckFailed))
}

/// The failed jobs among `jobs`, each on stderr with its error, as a failure (exit 3), if any.
pub(crate) fn report_failed(jobs: &[Job]) -> Option<Failure> {
    let failed: Vec<&Job> = jobs.iter().filter(|job| job.status == Some(JobStatus::Fail)).collect();
    for job in &failed {
        report(&format!(
            "job {} failed: {}: {}",
            escape_for_terminal(job.job_id.as_deref().unwrap_or("-"), 200),
            escape_for_terminal(job.error_code.as_deref().unwrap_or("-"), 200),
            escape_for_terminal(job.fail_reason.as_deref().unwrap_or("-"), 200)
        ));
    }
    (!failed.is_empty()).then_some(Failure::JobsFailed(failed.len()))
}

/// The most statuses the progress line names.
const STATUSES_SHOWN: usize = 6;

/// The progress on stderr, one line per poll (a log keeps them all, a terminal too).
pub(crate) struct ProgressLine<'a> {
    resource_id: &'a str,
    started: Instant,
    any_job: bool,
}

impl<'a> ProgressLine<'a> {
    pub(crate) fn new(resource_id: &'a str) -> ProgressLine<'a> {
        ProgressLine { resource_id, started: Instant::now(), any_job: false }
    }

    pub(crate) fn show(&mut self, jobs: &[Job]) {
        self.any_job |= !jobs.is_empty();
        if !self.any_job {
            let id = escape_for_terminal(self.resource_id, 200);
            return self.write(&format!("{}: no job listed for {id} yet", self.waited()));
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for job in jobs {
            *counts.entry(job.status.as_ref().map_or("-", JobStatus::as_str)).or_default() += 1;
        }
        // One short line, however many statuses the service invents: the commonest, names cut.
        let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
        counts.sort_by(|(a, a_count), (b, b_count)| b_count.cmp(a_count).then(a.cmp(b)));
        let shown = counts.iter().take(STATUSES_SHOWN);
        let mut summary: Vec<String> = shown
            .map(|(name, count)| format!("{count} {}", escape_for_terminal(name, 40)))
            .collect();
        if counts.len() > STATUSES_SHOWN {
            summary.push(format!("{} other status(es)", counts.len() - STATUSES_SHOWN));
        }
        let summary =
            if summary.is_empty() { String::new() } else { format!(": {}", summary.join(", ")) };
        self.write(&format!("{}: {} job(s){summary}", self.waited(), jobs.len()));
    }

    pub(crate) fn failed(&self, error: &Error, next_poll_in: Duration) {
        let line = format!(
            "{}: poll failed: {error}; next poll in {:.1}s",
            self.waited(),
            next_poll_in.as_secs_f64()
        );
        self.write(&line);
    }

    fn waited(&self) -> String {
        format!("waiting {:>4.0}s", self.started.elapsed().as_secs_f64())
    }

    fn write(&self, line: &str) {
        // Progress is best effort: a closed stderr must not stop the wait.
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// `--output FILE`: the JSON written to a new file beside FILE, then renamed over it, so that FILE
/// holds either what it held or the whole answer; nothing is left beside it on failure. A FILE
/// that is a link is written through (the link stays), and its permissions are kept.
pub(crate) fn write_snapshot(jobs: &[Job], path: &Path) -> Result<(), Failure> {
    let failed = |error: std::io::Error| {
        let shown = path.display().to_string();
        std::io::Error::new(error.kind(), format!("--output {}: {error}", shown.escape_debug()))
    };
    let path = &output_file(path).map_err(|why| failed(std::io::Error::other(why)))?;
    let permissions = std::fs::metadata(path).map(|metadata| metadata.permissions()).ok();
    let name = path.file_name().ok_or_else(|| failed(std::io::Error::other("not a file name")))?;
    let mut temporary = OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary);
    let written = std::fs::File::create_new(&temporary).and_then(|mut file| {
        writeln!(file, "{}", serde_json::json!({ "jobs": jobs }))?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    Ok(written.map_err(failed)?)
}

/// The file `--output` replaces: FILE, or the file a link names. Refused, so that nothing but a
/// regular file is ever renamed over: a link that leads nowhere or in a circle, a device
/// (`/dev/stdout`), a directory, a folder that does not exist. Checked before any request.
pub(crate) fn output_file(path: &Path) -> Result<PathBuf, String> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let file = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) if is_link => return Err("a link whose file cannot be reached".to_string()),
        Err(_) => path.to_path_buf(),
    };
    if std::fs::metadata(&file).is_ok_and(|m| !m.is_file()) {
        return Err("not a regular file".to_string());
    }
    let folder = file.parent().filter(|folder| !folder.as_os_str().is_empty());
    if folder.is_some_and(|folder| !folder.is_dir()) {
        return Err("its folder does not exist".to_string());
    }
    Ok(file)
}

pub(crate) fn print_jobs(jobs: &[Job], json: bool) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::json!({ "jobs": jobs }))?;
        return Ok(out.flush()?);
    }
    let mut row = |[id, status, charge, begin, duration, server, error]: [&str; 7]| {
        writeln!(
            out,
            "{id:<34} {status:<8} {charge:<7} {begin:<24} {duration:>9}  {server:<20} {error}"
        )
    };
    row(["JOB ID", "STATUS", "CHARGE", "BEGIN (UTC)", "DURATION", "SERVER", "ERROR"])?;
    for job in jobs {
        let text = |value: Option<&str>| escape_for_terminal(value.unwrap_or("-"), 200);
        let duration = match (job.begin_time, job.end_time) {
            (Some(begin), Some(end)) => format!("{:.1}s", (end - begin).as_seconds_f64()),
            _ => "-".to_string(),
        };
        let error: Vec<&str> =
            [job.error_code.as_deref(), job.fail_reason.as_deref()].into_iter().flatten().collect();
        row([
            &text(job.job_id.as_deref()),
            &text(job.status.as_ref().map(JobStatus::as_str)),
            &text(job.charge_mode.as_ref().map(dbss_jobs::ChargeMode::as_str)),
            &job.begin_time.map_or("-".to_string(), rfc3339),
            &duration,
            &text(job.server_name.as_deref()),
            &text(Some(error.join(": ")).filter(|error| !error.is_empty()).as_deref()),
        ])?;
    }
    writeln!(out, "{} job(s)", jobs.len())?;
    Ok(out.flush()?)
}

fn rfc3339(time: time::OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}
