//! `dbss-jobs`: list the creation jobs of a DBSS audit instance, or wait until they finish.
//!
//! By stage: [`args`] reads the command line, this file runs it and turns failures into exit
//! codes, [`output`] prints what came back; [`demo`] runs the real client against the fake.

mod args;
mod demo;
mod output;

use std::io::Write;
use std::process::ExitCode;

use dbss_jobs::{
    Client, ClientBuilder, Credentials, Error, ErrorKind, IamToken, Progress, WaitOptions,
};

use args::{Args, DEFAULT_INTERVAL, DEFAULT_WAIT, Mode, USAGE};
use output::{ProgressLine, print_jobs, report_failed, write_snapshot};

pub(crate) enum Failure {
    Dbss(Error),
    Output(std::io::Error),
    JobsFailed(usize),
    CheckFailed,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Dbss(error)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Output(error)
    }
}

fn main() -> ExitCode {
    let args = match args::parse(lexopt::Parser::from_env()) {
        Ok(Mode::Run(args)) => args,
        // `--help` and `--version`: exit 1 only if the text cannot be written.
        Ok(Mode::Print(text)) => {
            return writeln!(std::io::stdout(), "{text}")
                .map_or_else(|error| exit_with(&Failure::Output(error)), |()| ExitCode::SUCCESS);
        }
        Err(message) => {
            report(&format!("{message}\n{USAGE}"));
            return ExitCode::from(2);
        }
    };
    if stdout_was_closed() {
        return exit_with(&Failure::Output(std::io::Error::other("stdout is closed")));
    }
    if let Some(path) = &args.output
        && let Err(why) = output::output_file(path)
    {
        report(&format!("--output {}: {why}", path.display().to_string().escape_debug()));
        return ExitCode::from(2);
    }
    let outcome = if args.demo { demo::run(&args) } else { run(&args) };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let code = exit_with(&failure);
            if let Failure::Dbss(error) = &failure
                && args.verbosity < 2
                && needs_the_canonical_request(error)
            {
                report(
                    "(rerun with -vv to see the canonical request that was signed; each failed \
                     signature counts toward a 5-minute lock of the access key after 5 in a row)",
                );
            }
            code
        }
    }
}

/// A wrong signature the error cannot explain: the gateway did not echo its canonical request.
fn needs_the_canonical_request(error: &Error) -> bool {
    error.auth_failure() == Some(dbss_jobs::error::AuthFailure::SignatureMismatch)
        && error.signature_mismatch().is_none()
}

/// Reports a failure on stderr and gives its exit code.
fn exit_with(failure: &Failure) -> ExitCode {
    let (message, code) = match failure {
        Failure::Dbss(error) => (error.report(), exit_code(error)),
        Failure::Output(error) => (format!("cannot write the output: {error}"), 1),
        Failure::JobsFailed(count) => (format!("{count} job(s) failed"), 3),
        Failure::CheckFailed => ("the check found a problem (marked above)".to_string(), 1),
    };
    report(&message);
    ExitCode::from(code)
}

/// The exit code of a library error, as the manual lists them: what a pipeline branches on.
fn exit_code(error: &Error) -> u8 {
    match error.kind() {
        _ if error.is_missing_credentials() => 2,
        ErrorKind::InvalidInput => 2,
        // A wait no poll of which was answered ends as its last failure did.
        ErrorKind::WaitTimedOut => match std::error::Error::source(error) {
            Some(cause) if error.last_jobs().is_none() => {
                cause.downcast_ref::<Error>().map_or(4, exit_code)
            }
            _ => 4,
        },
        ErrorKind::AccessKeyRefused => 5,
        ErrorKind::Api if matches!(error.status(), Some(401 | 403)) => 5,
        ErrorKind::Transport => 6,
        _ => 1,
    }
}

/// One message on stderr. A stderr that cannot be written is ignored: the exit code still tells.
pub(crate) fn report(message: &str) {
    let _ = writeln!(std::io::stderr(), "dbss-jobs: {message}");
}

/// True when stdout was closed at start: Rust reopens it on `/dev/null` read-write (a shell's
/// `>/dev/null` is write-only), and the output would be lost silently. Linux only, else false.
fn stdout_was_closed() -> bool {
    let on_dev_null = std::fs::read_link("/proc/self/fd/1")
        .is_ok_and(|target| target == std::path::Path::new("/dev/null"));
    let read_write = || {
        let info = std::fs::read_to_string("/proc/self/fdinfo/1").unwrap_or_default();
        info.lines()
            .filter_map(|line| line.strip_prefix("flags:"))
            .filter_map(|flags| u32::from_str_radix(flags.trim(), 8).ok())
            .any(|flags| flags & 0o3 == 0o2)
    };
    on_dev_null && read_write()
}

fn run(args: &Args) -> Result<(), Failure> {
    let builder = Client::builder().setting_names(args::option_of).log_to_stderr(args.verbosity);
    let mut builder = credentials(builder, args)?;
    if let Some(project_id) = &args.project_id {
        builder = builder.project_id(project_id);
    }
    if let Some(path) = &args.ca_file {
        builder = builder.root_certificates_file(path);
    }
    // Without --region, the library reads HUAWEICLOUD_SDK_REGION.
    if let Some(region) = &args.region {
        builder = builder.region(region);
    }
    if let Some(endpoint) = &args.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let (Some(timeout), false) = (args.timeout, args.wait) {
        builder = builder.timeout(timeout);
    }
    let client = builder.build()?;
    if args.check {
        return output::check(&client, args.resource_id.as_deref());
    }
    let resource_id = args.resource_id.as_deref().unwrap_or_default();
    fetch_and_print(&client, resource_id, args)
}

/// `--profile-file` (explicit, so it wins over the token as over the environment's AK/SK), else
/// a token from `HUAWEICLOUD_SDK_AUTH_TOKEN`.
fn credentials(builder: ClientBuilder, args: &Args) -> Result<ClientBuilder, Failure> {
    if let Some(path) = &args.profile_file {
        return Ok(builder.profile_file(path));
    }
    // An AK/SK in the environment wins over the token, as the chain's order has it.
    match Credentials::from_env() {
        Err(error) if error.is_missing_credentials() => Ok(match IamToken::from_env()? {
            Some(token) => builder.auth(token),
            None => builder,
        }),
        _ => Ok(builder),
    }
}

/// One call, or (with `--wait`) polls until every job has finished.
pub(crate) fn fetch_and_print(
    client: &Client,
    resource_id: &str,
    args: &Args,
) -> Result<(), Failure> {
    if !args.wait {
        let jobs = client.get_jobs(resource_id)?;
        return emit(&jobs, args);
    }
    let timeout = args.timeout.unwrap_or(DEFAULT_WAIT);
    let interval = args.interval.unwrap_or(DEFAULT_INTERVAL.min(timeout / 2));
    let options = WaitOptions::default().timeout(timeout).interval(interval);
    let mut line = ProgressLine::new(resource_id);
    let outcome = client.wait_for_jobs(resource_id, options, |progress| match progress {
        Progress::Listed(jobs) => line.show(jobs),
        Progress::Failed { error, next_poll_in } => line.failed(error, next_poll_in),
        _ => {}
    });
    let jobs = match outcome {
        Ok(jobs) => jobs,
        Err(error) => {
            // A pipeline keeps what the wait learned; a job that failed beats the deadline.
            let Some(last) = error.last_jobs() else {
                return Err(error.into());
            };
            if args.json {
                print_jobs(last, true)?;
            }
            let failed = report_failed(last);
            if failed.is_some() {
                report(&error.report());
            }
            return Err(failed.unwrap_or(Failure::Dbss(error)));
        }
    };
    emit(&jobs, args)?;
    report_failed(&jobs).map_or(Ok(()), Err)
}

/// The jobs of a call that succeeded: to `--output`'s file, else printed.
fn emit(jobs: &[dbss_jobs::Job], args: &Args) -> Result<(), Failure> {
    match &args.output {
        Some(path) => write_snapshot(jobs, path),
        None => print_jobs(jobs, args.json),
    }
}
