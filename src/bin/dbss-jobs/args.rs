//! The command line: the lexopt loop, the option table, the refusal of options that would do
//! nothing, and the manual `--help` prints.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) const USAGE: &str =
    "usage: dbss-jobs [-v | -vv] [--endpoint URL | --region ID] [--project-id ID] [--profile-file PATH]
                [--ca-file PATH] [--timeout SECS] [--json | --output FILE] [--wait [--interval SECS]]
                [--] RESOURCE_ID
       dbss-jobs --check [--endpoint URL | --region ID] [...] [RESOURCE_ID]
       dbss-jobs --demo [-v | -vv] [--json] [--wait]";

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
  --output FILE        write that JSON to FILE instead (a snapshot for DBSS_JOBS_SNAPSHOT), replacing
                       it only when the call succeeded; FILE is a regular file, a link to one, or new
  --wait               poll until every job has finished, with a progress line per poll on stderr
  --interval SECS      the time between polls (with --wait; default 10 s, or half of a --timeout
                       shorter than 20 s)
  -v, -vv              one line per request on stderr; -vv (or more) adds headers and what was signed
  --check              print where the credentials, endpoints, proxy, trust and project come from,
                       the gateway's clock, then make at most two signed calls (the IAM project
                       lookup, and with RESOURCE_ID its jobs), none bound to fail or after a
                       refusal; exit 1 with the first failing line marked
  --demo               run against a fake DBSS endpoint on 127.0.0.1 (no account needed)
  --                   every later word is an operand (an id that starts with -)
  -h, --help           this manual;  -V, --version  the version (-h wins when both are given)

  A value follows its option as the next word or after = (--timeout=5); short flags can be
  bundled (-vv). Paths are used as given, UTF-8 or not; ids, URLs and numbers must be UTF-8.

  An option given twice is refused, and so is one that would do nothing (--interval without
  --wait, --demo with --endpoint or --region..., --json with --check or --output...).

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
     the wait ran out of time with others still in progress
  4  with --wait: the wait ran out of time with jobs still in progress (with --json, the last jobs
     seen are printed on stdout); when no poll was ever answered, the code of the last failure
  5  the credentials were refused or the access forbidden (401, 403), or not sent because the
     gateway refused this access key before
  6  the service could not be reached or did not answer: DNS, connection, TLS, proxy, timeout

  Errors print on stderr as one line, with their causes (... : caused by: ...); text from a
  server is printed with its control characters escaped.

EXAMPLES
  dbss-jobs --demo --wait
  dbss-jobs --region cn-north-4 INSTANCE_ID
  dbss-jobs --region cn-north-4 --output jobs.json INSTANCE_ID
  dbss-jobs --region cn-north-4 --wait --timeout 1200 INSTANCE_ID
  dbss-jobs -vv --region cn-north-4 INSTANCE_ID      (to see why a signature is refused;
                     each failed signature counts toward a 5-minute lock after 5 in a row)";

#[derive(Default, Clone)]
pub(crate) struct Args {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) profile_file: Option<PathBuf>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) interval: Option<Duration>,
    pub(crate) json: bool,
    /// `--output`: the JSON goes to this file, whole or not at all.
    pub(crate) output: Option<PathBuf>,
    pub(crate) wait: bool,
    pub(crate) demo: bool,
    pub(crate) check: bool,
    /// 1 with `-v` (an access-log line per attempt), 2 with `-vv` (and what was signed).
    pub(crate) verbosity: u8,
    pub(crate) resource_id: Option<String>,
}

/// What the command line asks for: a run, or a text that needs none (the manual, the version).
pub(crate) enum Mode {
    Run(Args),
    Print(String),
}

/// Every option by its long name; `-v` has no long form, `-h` and `-V` stand for the last two.
const OPTIONS: &str = "--endpoint --region --project-id --profile-file --ca-file --timeout \
                       --interval --json --output --wait --check --demo -v --help --version";

/// Reads the command line. `-h` ends the reading (help wins over everything after it, and over a
/// `-V` before it); `-V` is answered once the line has been read without an error.
pub(crate) fn parse(mut parser: lexopt::Parser) -> Result<Mode, String> {
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
            "--help" => return Ok(Mode::Print(format!("{USAGE}\n\n{MANUAL}"))),
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
        return Ok(Mode::Print(format!("dbss-jobs {}", env!("CARGO_PKG_VERSION"))));
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
        "--output" => args.output = Some(value()?.into()),
        "--wait" => args.wait = true,
        "--check" => args.check = true,
        "--demo" => args.demo = true,
        // Not reached: `parse` handles the rest of OPTIONS itself.
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

/// `-h` and `-V` as their long names; an unknown option is refused.
fn option_named(given: &str) -> Result<&'static str, String> {
    let name = match given {
        "-h" => "--help",
        "-V" => "--version",
        other => other,
    };
    OPTIONS.split(' ').find(|known| *known == name).ok_or_else(|| {
        format!("unknown option {given} (see --help; put -- before an id that starts with -)")
    })
}

/// Options that would be accepted and then ignored are refused: the user meant something.
fn refuse_options_that_do_nothing(args: &Args, seen: &[&str]) -> Result<(), String> {
    let demo_settings = &["--endpoint", "--region", "--project-id", "--profile-file", "--ca-file"];
    // Which options do nothing, when, and why; the first that applies is said.
    let rules: [(&[&str], bool, &str); 4] = [
        (&["--wait", "--json", "--output", "--demo", "--interval"], args.check, "with --check"),
        (&["--interval"], !args.wait, "without --wait"),
        (demo_settings, args.demo, "with --demo (it uses its own fake)"),
        (&["--json"], args.output.is_some(), "with --output (which writes JSON)"),
    ];
    let given = |flag: &&&str| seen.contains(*flag);
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
        Some(interval) if interval >= timeout => Err(format!(
            "--interval {} s is not shorter than {whose} of {} s: the wait would poll once",
            interval.as_secs_f64(),
            timeout.as_secs_f64()
        )),
        _ => Ok(()),
    }
}

/// A number of seconds from 1 ms (less would round to no time at all) to a day.
fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.001 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{flag} {text:?} is not a number of seconds from 0.001 to 86400"))
}

/// How long `--wait` waits without `--timeout`.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(30 * 60);

/// How often `--wait` polls without `--interval` (but at least twice in a wait under 20 s).
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// The option that sets a builder method, by which errors and `--check` name the setting.
pub(crate) fn option_of(method: &'static str) -> Option<&'static str> {
    Some(match method {
        "ClientBuilder::endpoint" | "ClientBuilder::endpoints" => "--endpoint",
        "ClientBuilder::region" => "--region",
        "ClientBuilder::project_id" => "--project-id",
        "ClientBuilder::profile_file" => "--profile-file",
        "ClientBuilder::root_certificates_file" => "--ca-file",
        _ => return None,
    })
}
