//! `dbss-jobs`: list the creation jobs of a DBSS audit instance, or wait until they finish.
//!
//! `dbss-jobs --help` prints the manual (`USAGE` and `MANUAL` below). `--demo` needs no account:
//! it runs the real client against the crate's fake DBSS endpoint on 127.0.0.1, which re-signs
//! each request with this crate's own signer (a check of the request's shape, not of the signer:
//! that is what the official vectors and Huawei's signer are for).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dbss_jobs::fake::FakeDbss;
use dbss_jobs::{
    Client, ClientBuilder, Credentials, Error, ErrorKind, IamToken, Job, JobStatus, Progress,
    WaitOptions,
};

const USAGE: &str =
    "usage: dbss-jobs [-v | -vv] [--endpoint URL | --region ID] [--project-id ID] [--profile-file PATH]
                [--ca-file PATH] [--timeout SECS] [--json] [--wait [--interval SECS]] [--] RESOURCE_ID
       dbss-jobs --check [--endpoint URL | --region ID] [...] [RESOURCE_ID]
       dbss-jobs --demo [-v | -vv] [--json] [--wait | --serve]";

/// What `--help` prints: the whole manual.
const MANUAL: &str = "\
List the creation jobs of a Huawei Cloud DBSS audit instance, or wait until they finish.

OPTIONS
  --region ID          the region (else HUAWEICLOUD_SDK_REGION): https://dbss.ID.myhuaweicloud.com,
                       and the region whose project is looked up in IAM
  --endpoint URL       the DBSS endpoint instead (https://host[:port], or http:// to a loopback host)
  --project-id ID      the project (else HUAWEICLOUD_SDK_PROJECT_ID, the profile, or IAM by region)
  --profile-file PATH  the credentials profile to use, before the environment's AK/SK
  --ca-file PATH       trust exactly the CAs in this PEM file (else SSL_CERT_FILE, else Mozilla's)
  --timeout SECS       the deadline of the whole command (default 30 s; with --wait, 30 min)
  --json               print the API's JSON shape instead of a table
  --wait               poll until every job has finished, with a progress line on stderr
  --interval SECS      the time between polls (with --wait; default 10 s)
  -v, -vv              one line per request on stderr; -vv adds headers and what was signed
                       (-vvv is -vv)
  --check              print where the credentials, endpoints, proxy, trust and project come from,
                       the gateway's clock, then sign at most two requests: the IAM project
                       lookup for the region (--project-id is checked against it) and, with
                       RESOURCE_ID, its jobs (and once more when the gateway says the clock is
                       off and the client corrects it); none that is bound to fail (a clock too
                       far off) or comes after a refusal, as each failed signature counts toward
                       a 5-minute lock after 5 in a row; exit 1 with the first failing line
                       marked
  --demo               run against a fake DBSS endpoint on 127.0.0.1 (no account needed)
  --serve              with --demo: keep the fake running; stdout gets export lines to source
                       (every region's endpoint, IAM, region, AK, SK, project id: see the
                       README for a recipe), stderr the resource ids it serves (demo-success,
                       demo-fail, demo-refused, ...), each with what it does
  --                   every later word is an operand (an id that starts with -)
  -h, --help           this manual;  -V, --version  the version (-h wins when both are given)

  A value follows its option as the next word or after = (--timeout=5); short flags can be
  bundled (-vv). Paths are used as given, UTF-8 or not; ids, URLs and numbers must be UTF-8.

  An option given twice is refused, and so is one that would do nothing (--serve without
  --demo, --interval without --wait, --demo with --endpoint, --region, --project-id,
  --profile-file or --ca-file, --serve with --wait, --json, --timeout or -v).

ENVIRONMENT
  HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN
                       credentials, as in Huawei's official SDKs; else the profile file
                       (HUAWEICLOUD_SDK_CREDENTIALS_FILE or ~/.huaweicloud/credentials), else the
                       ECS metadata service (DBSS_JOBS_ECS_METADATA=off turns it off)
  HUAWEICLOUD_SDK_AUTH_TOKEN
                       an IAM token, used when no AK/SK is in the environment and no
                       --profile-file is given
  HTTPS_PROXY, ALL_PROXY, NO_PROXY
                       the proxy for https requests, and the hosts that go direct

EXIT CODES
  0  success
  1  any other error: an API error (not 401/403), an answer that cannot be decoded, a --check
     that found a problem, stdout that cannot be written
  2  a usage error, bad input, or missing credentials (nothing was sent to DBSS)
  3  with --wait: some job failed (its error_code and fail_reason are printed), also when
     the deadline passed with others still in progress
  4  with --wait: the deadline passed with jobs still in progress (with --json, the last jobs
     seen are printed on stdout); when no poll was ever answered, the code of the last poll
  5  the credentials were refused or the access forbidden (401, 403), or not sent because the
     gateway refused this access key before
  6  the service could not be reached or did not answer: DNS, connection, TLS, proxy, timeout

  Errors print on stderr as one line, with their causes (... : caused by: ...); text from a
  server is printed with its control characters escaped.

EXAMPLES
  dbss-jobs --demo --wait
  dbss-jobs --region cn-north-4 INSTANCE_ID
  dbss-jobs --region cn-north-4 --json INSTANCE_ID > jobs.json
  dbss-jobs --region cn-north-4 --wait --timeout 1200 INSTANCE_ID
  dbss-jobs -vv --region cn-north-4 INSTANCE_ID      (to see why a signature is refused;
                     each failed signature counts toward a 5-minute lock after 5 in a row)";

#[derive(Default, Clone)]
struct Args {
    endpoint: Option<String>,
    region: Option<String>,
    project_id: Option<String>,
    profile_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    timeout: Option<Duration>,
    interval: Option<Duration>,
    json: bool,
    wait: bool,
    demo: bool,
    serve: bool,
    check: bool,
    /// 1 with `-v` (an access-log line per attempt), 2 with `-vv` (and what was signed).
    verbosity: u8,
    resource_id: Option<String>,
}

/// What the command line asks for: a run, or one of the two texts that need none.
enum Mode {
    Run(Args),
    Help,
    Version,
}

enum Failure {
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
    let args = match parse_args(lexopt::Parser::from_env()) {
        Ok(Mode::Run(args)) => args,
        Ok(Mode::Help) => return print(&format!("{USAGE}\n\n{MANUAL}")),
        Ok(Mode::Version) => return print(&format!("dbss-jobs {}", env!("CARGO_PKG_VERSION"))),
        Err(message) => {
            report(&format!("{message}\n{USAGE}"));
            return ExitCode::from(2);
        }
    };
    if stdout_was_closed() {
        return exit_with(&Failure::Output(std::io::Error::other("stdout is closed")));
    }
    let outcome = if args.demo { run_demo(&args) } else { run(&args) };
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

/// `--help` and `--version`: a text on stdout, exit 1 only if it cannot be written.
fn print(text: &str) -> ExitCode {
    match writeln!(std::io::stdout(), "{text}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit_with(&Failure::Output(error)),
    }
}

/// A wrong signature that the error cannot explain by itself: the gateway did not echo the
/// canonical request it computed (when it did, the message already says what differs).
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
        // A wait no poll of which was answered ends as its last poll did.
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
fn report(message: &str) {
    let _ = writeln!(std::io::stderr(), "dbss-jobs: {message}");
}

/// True when stdout was closed when the program started. Rust's runtime then reopens it on
/// `/dev/null` for reading and writing, where a shell's `>/dev/null` opens it write-only; the
/// output would be lost without an error. Linux only (it reads `/proc`); false elsewhere.
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

/// Every option by its long name; `-v` has no long form, `-h` and `-V` stand for the last two.
const OPTIONS: &str = "--endpoint --region --project-id --profile-file --ca-file --timeout \
                       --interval --json --wait --check --demo --serve -v --help --version";

/// Reads the command line. `-h` ends the reading (help wins over everything after it, and over a
/// `-V` before it); `-V` is answered once the line has been read without an error.
fn parse_args(mut parser: lexopt::Parser) -> Result<Mode, String> {
    let mut args = Args::default();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut version = false;
    while let Some(arg) = parser.next().map_err(|error| misused(&error))? {
        let flag = match arg {
            lexopt::Arg::Value(operand) => {
                set_operand(&mut args, operand)?;
                continue;
            }
            lexopt::Arg::Short(letter) => option_named(&format!("-{letter}"))?,
            lexopt::Arg::Long(name) => option_named(&format!("--{name}"))?,
        };
        match flag {
            "--help" => return Ok(Mode::Help),
            "--version" => version = true,
            "-v" => args.verbosity = (args.verbosity + 1).min(2),
            _ if seen.contains(&flag) => return Err(format!("{flag} is given twice")),
            _ => {
                seen.push(flag);
                set_option(&mut args, flag, &mut parser)?;
            }
        }
    }
    if version {
        return Ok(Mode::Version);
    }
    if !args.demo && !args.check && args.resource_id.is_none() {
        return Err("RESOURCE_ID is missing".to_string());
    }
    refuse_options_that_do_nothing(&args, &seen)?;
    Ok(Mode::Run(args))
}

/// Sets `flag`, reading its value from `parser` if it takes one. Paths stay `OsString`s (a file
/// name need not be UTF-8); every other value must be text, and the error names the option.
fn set_option(args: &mut Args, flag: &str, parser: &mut lexopt::Parser) -> Result<(), String> {
    let mut value = || parser.value().map_err(|_| format!("{flag} needs a value"));
    let text = |value: OsString| {
        value.into_string().map_err(|value| format!("{flag} {value:?} is not UTF-8 text"))
    };
    match flag {
        "--endpoint" => args.endpoint = Some(text(value()?)?),
        "--region" => args.region = Some(text(value()?)?),
        "--project-id" => args.project_id = Some(text(value()?)?),
        "--profile-file" => args.profile_file = Some(value()?.into()),
        "--ca-file" => args.ca_file = Some(value()?.into()),
        "--timeout" => args.timeout = Some(seconds(flag, &text(value()?)?)?),
        "--interval" => args.interval = Some(seconds(flag, &text(value()?)?)?),
        "--json" => args.json = true,
        "--wait" => args.wait = true,
        "--check" => args.check = true,
        "--demo" => args.demo = true,
        "--serve" => args.serve = true,
        // Not reached: `parse_args` handles the rest of OPTIONS itself.
        other => return Err(format!("{other} cannot be used here")),
    }
    Ok(())
}

/// The one operand: the resource id, which must be text.
fn set_operand(args: &mut Args, operand: OsString) -> Result<(), String> {
    let id = operand.into_string().map_err(|id| format!("RESOURCE_ID {id:?} is not UTF-8 text"))?;
    if args.resource_id.is_some() {
        return Err(format!("unexpected argument {id:?}"));
    }
    args.resource_id = Some(id);
    Ok(())
}

/// lexopt's complaint about the line in this tool's words.
fn misused(error: &lexopt::Error) -> String {
    match error {
        lexopt::Error::UnexpectedValue { option, .. } => format!("{option} takes no value"),
        other => other.to_string(),
    }
}

/// `-h` and `-V` as their long names; an unknown option is refused, with the nearest known one
/// when the difference looks like a typo.
fn option_named(given: &str) -> Result<&'static str, String> {
    let name = match given {
        "-h" => "--help",
        "-V" => "--version",
        other => other,
    };
    if let Some(known) = OPTIONS.split(' ').find(|known| *known == name) {
        return Ok(known);
    }
    let typed = name.to_lowercase();
    let nearest = OPTIONS
        .split(' ')
        .filter(|known| known.starts_with("--") && name.starts_with("--"))
        .map(|known| (edit_distance(&typed, known), known))
        .min();
    match nearest {
        Some((distance, known)) if distance <= (known.len() / 4).clamp(1, 2) => {
            Err(format!("unknown option {given}: did you mean {known}?"))
        }
        _ => Err(format!("unknown option {given} (put -- before an id that starts with -)")),
    }
}

/// The optimal string alignment distance: each insertion, deletion, substitution, or swap of two
/// neighbours counts one (a swap is the commonest typo: `--wiat`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: the distance between the first i characters of a and the first j of b.
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Options that would be accepted and then ignored are refused: the user meant something.
fn refuse_options_that_do_nothing(args: &Args, seen: &[&str]) -> Result<(), String> {
    let demo_settings = &["--endpoint", "--region", "--project-id", "--profile-file", "--ca-file"];
    // Which options do nothing, when, and why; the first that applies is said.
    let rules: [(&[&str], bool, &str); 5] = [
        (&["--serve"], !args.demo, "without --demo"),
        (&["--wait", "--json", "--demo", "--serve", "--interval"], args.check, "with --check"),
        (&["--interval"], !args.wait, "without --wait"),
        (demo_settings, args.demo, "with --demo (it uses its own fake)"),
        (&["--wait", "--json", "--timeout", "-v"], args.serve, "with --serve (no request is made)"),
    ];
    let given = |flag: &&&str| seen.contains(*flag) || (**flag == "-v" && args.verbosity > 0);
    for (flags, applies, why) in rules {
        if let Some(flag) = flags.iter().find(given).filter(|_| applies) {
            return Err(format!("{flag} does nothing {why}"));
        }
    }
    // Past the rules, an --interval comes with --wait.
    let (timeout, whose) = match args.timeout {
        Some(timeout) => (timeout, "--timeout"),
        None => (DEFAULT_WAIT, "the default wait"),
    };
    match args.interval {
        Some(interval) if interval > timeout => Err(format!(
            "--interval {} s is longer than {whose} of {} s: the wait would poll once",
            interval.as_secs_f64(),
            timeout.as_secs_f64()
        )),
        _ => Ok(()),
    }
}

/// A number of seconds: at least 1 ms (smaller values would round to no time at all), at most a
/// day.
fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.001 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{flag} {text:?} is not a number of seconds from 0.001 to 86400"))
}

fn run(args: &Args) -> Result<(), Failure> {
    let builder = Client::builder().named_by_the_cli().log_to_stderr(args.verbosity);
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
        return check(&client, args.resource_id.as_deref());
    }
    let resource_id = args.resource_id.as_deref().unwrap_or_default();
    fetch_and_print(&client, resource_id, args)
}

/// `--check`: one line per fact on stdout, the first failing one marked; exit 1 if any fails.
fn check(client: &Client, resource_id: Option<&str>) -> Result<(), Failure> {
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
            escaped(&line.text, usize::MAX)
        )?;
    }
    out.flush()?;
    match first_failure {
        None => Ok(()),
        Some(_) => Err(Failure::CheckFailed),
    }
}

/// `--profile-file`, else a token from `HUAWEICLOUD_SDK_AUTH_TOKEN`. The option is explicit, so it
/// wins over the token as it does over the environment's AK/SK; a file that is not there is
/// refused naming the option.
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
fn fetch_and_print(client: &Client, resource_id: &str, args: &Args) -> Result<(), Failure> {
    if !args.wait {
        let jobs = client.get_jobs(resource_id)?;
        return print_jobs(&jobs, args.json);
    }
    let mut options = WaitOptions::default().timeout(args.timeout.unwrap_or(DEFAULT_WAIT));
    if let Some(interval) = args.interval {
        options = options.interval(interval);
    }
    let mut line = ProgressLine::new(resource_id);
    let outcome = client.wait_for_jobs(resource_id, options, |progress| match progress {
        Progress::Listed(jobs) => line.show(jobs),
        Progress::Failed { error, next_poll_in } => line.failed(error, next_poll_in),
        _ => {}
    });
    line.finish();
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
    print_jobs(&jobs, args.json)?;
    report_failed(&jobs).map_or(Ok(()), Err)
}

/// The failed jobs among `jobs`, each on stderr with its error, as a failure (exit 3), if any.
fn report_failed(jobs: &[Job]) -> Option<Failure> {
    let failed: Vec<&Job> = jobs.iter().filter(|job| job.status == Some(JobStatus::Fail)).collect();
    for job in &failed {
        report(&format!(
            "job {} failed: {}: {}",
            one_line(job.job_id.as_deref().unwrap_or("-")),
            one_line(job.error_code.as_deref().unwrap_or("-")),
            one_line(job.fail_reason.as_deref().unwrap_or("-"))
        ));
    }
    (!failed.is_empty()).then_some(Failure::JobsFailed(failed.len()))
}

/// The most statuses the progress line names.
const STATUSES_SHOWN: usize = 6;

/// The progress line on stderr: rewritten in place on a terminal, one line per poll otherwise.
struct ProgressLine<'a> {
    resource_id: &'a str,
    started: Instant,
    live: bool,
    shown: bool,
    any_job: bool,
}

impl<'a> ProgressLine<'a> {
    fn new(resource_id: &'a str) -> ProgressLine<'a> {
        ProgressLine {
            resource_id,
            started: Instant::now(),
            live: std::io::stderr().is_terminal(),
            shown: false,
            any_job: false,
        }
    }

    fn show(&mut self, jobs: &[Job]) {
        self.any_job |= !jobs.is_empty();
        if !self.any_job {
            let id = one_line(self.resource_id);
            return self.write(&format!("{}: no job listed for {id} yet", self.waited()));
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for job in jobs {
            *counts.entry(job.status.as_ref().map_or("-", JobStatus::as_str)).or_default() += 1;
        }
        // One short line, however many statuses the service invents: the commonest first, each
        // name cut short.
        let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
        counts.sort_by(|(a, a_count), (b, b_count)| b_count.cmp(a_count).then(a.cmp(b)));
        let shown = counts.iter().take(STATUSES_SHOWN);
        let mut summary: Vec<String> =
            shown.map(|(name, count)| format!("{count} {}", escaped(name, 40))).collect();
        if counts.len() > STATUSES_SHOWN {
            summary.push(format!("{} other status(es)", counts.len() - STATUSES_SHOWN));
        }
        let line = format!(
            "{}: {} job(s){}{}",
            self.waited(),
            jobs.len(),
            if summary.is_empty() { "" } else { ": " },
            summary.join(", ")
        );
        self.write(&line);
    }

    /// A failed poll gets a line of its own, kept on a terminal too.
    fn failed(&mut self, error: &Error, next_poll_in: Duration) {
        let line = format!(
            "{}: poll failed: {error}; next poll in {:.1}s",
            self.waited(),
            next_poll_in.as_secs_f64()
        );
        self.write(&line);
        if self.live {
            let _ = writeln!(std::io::stderr());
            self.shown = false;
        }
    }

    fn waited(&self) -> String {
        format!("waiting {:>4.0}s", self.started.elapsed().as_secs_f64())
    }

    fn write(&mut self, line: &str) {
        let mut err = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not stop the wait.
        let _ = if self.live { write!(err, "\r\x1b[2K{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&self) {
        if self.live && self.shown {
            let _ = writeln!(std::io::stderr());
        }
    }
}

fn print_jobs(jobs: &[Job], json: bool) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::json!({ "jobs": jobs }))?;
        return Ok(out.flush()?);
    }
    // One format for the header and every row.
    let mut row = |[id, status, charge, begin, duration, server, error]: [&str; 7]| {
        writeln!(
            out,
            "{id:<34} {status:<8} {charge:<7} {begin:<24} {duration:>9}  {server:<20} {error}"
        )
    };
    row(["JOB ID", "STATUS", "CHARGE", "BEGIN (UTC)", "DURATION", "SERVER", "ERROR"])?;
    for job in jobs {
        let text = |value: Option<&str>| one_line(value.unwrap_or("-"));
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

/// A server's text as one line on a terminal: control characters and the characters that reorder
/// or hide text (bidirectional overrides, zero-width ones) escaped, at most 200 characters. The
/// library does the same to the texts in its errors; job fields are data, shown here.
fn one_line(text: &str) -> String {
    escaped(text, 200)
}

/// As [`one_line`], with at most `limit` characters.
fn escaped(text: &str, limit: usize) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == limit {
            out.push('…');
            break;
        }
        let hidden = matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if c.is_control() || hidden {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
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

/// How long `--wait` waits without `--timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(30 * 60);

// ---- demo: the crate's fake DBSS endpoint on loopback ----

/// The API reference's example answer (one job), shipped beside this file.
const DOCUMENTED_EXAMPLE: &str = include_str!("documented_example.json");
const DEMO_RESOURCE: &str = "demo-instance-01";

fn run_demo(args: &Args) -> Result<(), Failure> {
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

/// A failed job beside the documented one, so that the table shows an error column.
fn failed_demo_job() -> Job {
    let id = "8abf9647852a1daa01852e517e1a1a0c";
    let mut job = dbss_jobs::fake::failed_job(id, "DBSS.1234", "quota exceeded");
    job.begin_time = time::OffsetDateTime::from_unix_timestamp(1_671_519_500).ok();
    job.end_time = time::OffsetDateTime::from_unix_timestamp(1_671_519_560).ok();
    job.charge_mode = Some(dbss_jobs::ChargeMode::Period);
    job.server_name = Some("DBSS-qct-1221".to_string());
    job
}

/// One list to show, or (to wait on) a job going INIT → RUNNING → SUCCESS.
fn demo_timeline(progressing: bool) -> Result<Vec<Vec<Job>>, Failure> {
    let mut jobs = dbss_jobs::parse_jobs(DOCUMENTED_EXAMPLE.as_bytes())?;
    jobs.push(failed_demo_job());
    if !progressing {
        return Ok(vec![jobs]);
    }
    let stage = |status: JobStatus| {
        let mut job = jobs[0].clone();
        job.status = Some(status);
        vec![job]
    };
    Ok(vec![stage(JobStatus::Init), stage(JobStatus::Running), stage(JobStatus::Success)])
}

/// `--demo --serve`: prints on stdout the `export` lines a shell can `eval` to reach the fake,
/// and on stderr the resource ids it serves with what each does; then serves until the process
/// is ended. Each client (connection) walks each resource's timeline from its first request.
fn serve_forever(fake: &FakeDbss, resource_id: &str) -> Result<(), Failure> {
    fake.script_per_client();
    // Every region's endpoint is the fake's, and so is every region's project.
    for region in dbss_jobs::REGIONS {
        fake.add_project(region, FakeDbss::PROJECT_ID);
    }
    let scenarios = demo_scenarios(fake, resource_id);
    let url = fake.url();
    let mut out = std::io::stdout().lock();
    for (name, value) in fake.exports() {
        writeln!(out, "export {name}={value}")?;
    }
    out.flush()?;
    let mut text = format!(
        "dbss-jobs: a fake DBSS on {url}; each client walks each resource from its first request:\n"
    );
    for (id, what) in scenarios {
        text.push_str(&format!("  {id:<18} {what}\n"));
    }
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

/// The demo's resources, each with a behaviour a pipeline may meet, and what it does in words.
fn demo_scenarios(fake: &FakeDbss, default: &str) -> Vec<(String, String)> {
    use dbss_jobs::fake::{Reply, Step, job};
    let stage = |status| Step::Jobs(vec![job("demo-job-1", status)]);
    let gateway = |status, code: &str, message: &str| {
        let body = serde_json::json!({"error_code": code, "error_msg": message}).to_string();
        Step::Reply(Reply::new(status, body))
    };
    let failed = dbss_jobs::fake::failed_job("demo-job-1", "DBSS.1234", "quota exceeded");
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
    let mut described = vec![(
        default.to_string(),
        "the API reference's example job, with INIT, RUNNING, then SUCCESS".to_string(),
    )];
    for (id, steps, what) in scenarios {
        fake.set_script(id, steps);
        described.push((id.to_string(), what.to_string()));
    }
    described
}
