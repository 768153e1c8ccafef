//! The `dbss-jobs` CLI as a user runs it: exit codes, `--demo`, `--wait`, the credential chain, and no
//! panic when stdout is closed. Every child gets its own environment (no process-wide changes).

use std::process::{Command, Output, Stdio};

use crate::support::{
    Reply, Server, check_exit, closed_port, get_jobs, sequence, wait_with_the_cli,
};

#[test]
fn demo_runs_without_an_account() {
    let output = get_jobs().arg("--demo").output().unwrap();
    check_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("8abf9647852a1daa01852e517e1a1a0b")
            && stdout.contains("2022-12-20T06:56:11.000Z"),
        "{stdout}"
    );
    let json = get_jobs().args(["--demo", "--json"]).output().unwrap();
    check_exit(&json, 0);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["jobs"][0]["begin_time"], 1671519371000_i64);
}

#[test]
fn usage_errors_exit_2() {
    for args in [&[][..], &["--bogus"], &["--timeout", "x", "r"], &["a", "b"], &["--region"]] {
        check_exit(&get_jobs().args(args).output().unwrap(), 2);
    }
    // Bad input is caught before any traffic (credentials given, so the chain stops there).
    let output = get_jobs()
        .args(["--endpoint", "http://127.0.0.1:9", "--project-id", "p", ".."])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 2);
}

#[test]
fn a_closed_stdout_is_a_message_and_exit_1() {
    let output = get_jobs()
        .arg("--demo")
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    check_exit(&output, 1);
    let mut child =
        get_jobs().arg("--demo").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    check_exit(&output, 1);
}

fn job(status: &str) -> String {
    format!(
        r#"{{"jobs":[{{"job_id":"j1","status":"{status}","error_code":"DBSS.9","fail_reason":"no quota"}}]}}"#
    )
}

#[track_caller]
fn run_wait(server: &Server, timeout: &str) -> Output {
    wait_with_the_cli(server, "instance-1", timeout)
}

#[test]
fn a_wait_shorter_than_the_default_interval_still_polls_again() {
    let server = sequence(vec![Reply::new(200, job("RUNNING")), Reply::new(200, job("SUCCESS"))]);
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p", "--wait", "--timeout", "2", "r"])
        .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
        .env("HUAWEICLOUD_SDK_SK", "cli-sk")
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn wait_exit_codes() {
    let done = sequence(vec![
        Reply::new(200, job("INIT")),
        Reply::new(200, job("RUNNING")),
        Reply::new(200, job("SUCCESS")),
    ]);
    let output = run_wait(&done, "5");
    check_exit(&output, 0);
    let progress = String::from_utf8_lossy(&output.stderr);
    assert_eq!(progress.matches("waiting").count(), 3, "{progress}");

    let failed = sequence(vec![Reply::new(200, job("RUNNING")), Reply::new(200, job("FAIL"))]);
    let output = run_wait(&failed, "5");
    check_exit(&output, 3);
    assert!(String::from_utf8_lossy(&output.stderr).contains("DBSS.9: no quota"));

    let stuck = sequence(vec![Reply::new(200, job("RUNNING"))]);
    check_exit(&run_wait(&stuck, "0.3"), 4);
}

#[test]
fn region_alone_uses_the_chain_and_iam() {
    let server = Server::start(|request, stream| {
        let body: &[u8] = if request.target.starts_with("/v3/projects?name=cn-north-4") {
            br#"{"projects":[{"id":"iam-cli-project","name":"cn-north-4"}]}"#
        } else if request.target.starts_with("/v1/iam-cli-project/") {
            br#"{"jobs":[{"job_id":"from-iam-project","status":"SUCCESS"}]}"#
        } else {
            br#"{"jobs":[]}"#
        };
        crate::support::respond(stream, 200, &[], body);
        crate::support::After::KeepAlive
    });
    let dir = crate::support::TempDir::new("cli-profile");
    let profile = dir.write("credentials", "[basic]\nak = CLI-PROFILE-AK\nsk = s\n");
    let output = get_jobs()
        .args(["--region", "cn-north-4", "--profile-file", profile.to_str().unwrap(), "instance-1"])
        .env("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", server.url())
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", server.url())
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains("from-iam-project"));
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| { r.header("authorization").unwrap().contains("Access=CLI-PROFILE-AK,") })
    );
}

#[test]
fn a_socks5_proxy_in_the_process_environment_is_used() {
    let socks = crate::support::Socks5::start();
    let host = crate::support::unresolvable_host();
    let output = get_jobs()
        .env("ALL_PROXY", socks.url("socks5h"))
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .args(["--endpoint", &format!("https://{host}"), "--project-id", "p", "r"])
        .output()
        .unwrap();
    check_exit(&output, 6);
    assert_eq!(socks.targets()[0], format!("{host}:443"));
}

#[test]
fn unwritable_stdout_or_stderr_is_an_exit_code_not_a_panic() {
    let full = || std::fs::File::create("/dev/full").unwrap();
    check_exit(&get_jobs().arg("--help").stdout(full()).output().unwrap(), 1);
    check_exit(&get_jobs().arg("--bogus").stderr(full()).output().unwrap(), 2);
    check_exit(&get_jobs().args(["--demo", "--json"]).stderr(full()).output().unwrap(), 0);
    // stderr on a closed pipe.
    let mut child = get_jobs().arg("--bogus").stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
    // stdout closed before start: the runtime reopens it on /dev/null, and the output is lost.
    let output = Command::new("sh")
        .args(["-c", r#"exec "$0" --demo >&-"#])
        .arg(get_jobs().get_program())
        .env_clear()
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    check_exit(&output, 1);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("stdout is closed"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn double_dash_repeated_flags_and_tiny_timeouts() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p", "--", "-dash-id"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert_eq!(server.requests()[0].target, "/v1/p/dbss/audit/jobs/-dash-id");
    let twice =
        get_jobs().args(["--region", "cn-north-4", "--region", "cn-east-3", "r"]).output().unwrap();
    check_exit(&twice, 2);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("--region is given twice"));
    for tiny in ["1e-10", "0.0000001"] {
        let output = get_jobs().args(["--timeout", tiny, "r"]).output().unwrap();
        check_exit(&output, 2);
    }
}

/// An IAM (and DBSS) stand-in that accepts connections and never answers.
fn stalled_cloud() -> Server {
    Server::raw(|stream| {
        std::thread::sleep(std::time::Duration::from_secs(8));
        drop(stream);
    })
}

#[test]
fn the_timeout_bounds_the_whole_command_iam_lookup_included() {
    let cloud = stalled_cloud();
    for wait in [true, false] {
        let started = std::time::Instant::now();
        let mut command = get_jobs();
        command
            .args(["--region", "cn-north-4", "--timeout", "1.5"])
            .env("HUAWEICLOUD_SDK_AK", "CLI-DEADLINE-AK")
            .env("HUAWEICLOUD_SDK_SK", "sk")
            .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", cloud.url())
            .env("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", cloud.url());
        if wait {
            command.arg("--wait");
        }
        let output = command.arg("instance-1").output().unwrap();
        let elapsed = started.elapsed();
        check_exit(&output, 6);
        // 1.5 s for everything; the margin is for a busy machine, not for a second deadline.
        assert!(elapsed < std::time::Duration::from_millis(2900), "wait {wait}: {elapsed:?}");
    }
}

#[test]
fn a_private_ca_from_ca_file_or_ssl_cert_file() {
    use crate::support::{Script, TlsServer, tls_data};
    let server = TlsServer::start("localhost", Script::Serve, r#"{"jobs":[]}"#);
    let ca = tls_data("ca.pem").display().to_string();
    let run = |extra: &[&str], ssl_cert_file: Option<&str>| {
        let mut command = get_jobs();
        command
            .args(["--endpoint", &server.url(), "--project-id", "p"])
            .args(extra)
            .arg("r")
            .env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK");
        if let Some(path) = ssl_cert_file {
            command.env("SSL_CERT_FILE", path);
        }
        command.output().unwrap()
    };
    check_exit(&run(&["--ca-file", &ca], None), 0);
    check_exit(&run(&[], Some(&ca)), 0);
    let untrusted = run(&[], None);
    check_exit(&untrusted, 6);
    assert!(
        String::from_utf8_lossy(&untrusted.stderr).contains("not trusted (unknown issuer)"),
        "{}",
        String::from_utf8_lossy(&untrusted.stderr)
    );
    let missing = run(&["--ca-file", "/nonexistent/ca.pem"], None);
    check_exit(&missing, 2);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("--ca-file names /nonexistent/ca.pem, which cannot be read"),
        "{stderr}"
    );
}

#[test]
fn verbose_lines_and_the_signature_hint() {
    let rejected = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"r401"}"#,
    );
    let run = |flags: &[&str]| {
        get_jobs()
            .args(flags)
            .args(["--endpoint", &rejected.url(), "--project-id", "p", "r1"])
            .env("HUAWEICLOUD_SDK_AK", "CLI-VERBOSE-AK")
            .env("HUAWEICLOUD_SDK_SK", crate::support::CANARY_SK)
            .env("HUAWEICLOUD_SDK_SECURITY_TOKEN", crate::support::CANARY_SECURITY_TOKEN)
            .output()
            .unwrap()
    };
    let hint = "(rerun with -vv to see the canonical request that was signed; each failed \
                signature counts toward a 5-minute lock of the access key after 5 in a row)";
    let quiet = run(&[]);
    check_exit(&quiet, 5);
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(stderr.trim_end().ends_with(hint), "{stderr}");

    let verbose = run(&["-v"]);
    check_exit(&verbose, 5);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    let line = format!("GET {}/v1/p/dbss/audit/jobs/r1 -> 401, ", rejected.url());
    assert!(stderr.starts_with(&line), "{stderr}");
    assert!(stderr.lines().next().unwrap().ends_with("ms, request id req-fixed-1"), "{stderr}");

    let very = run(&["-vv"]);
    check_exit(&very, 5);
    let stderr = String::from_utf8_lossy(&very.stderr);
    for expected in [
        "> X-Security-Token: ** redacted **",
        ", Signature=** redacted **",
        "> canonical request:",
        ">   x-security-token:** redacted **",
        "> string to sign:",
        ">   SDK-HMAC-SHA256",
    ] {
        assert!(stderr.contains(expected), "{expected} missing from {stderr}");
    }
    assert!(!stderr.contains(hint), "{stderr}");
    let signatures = crate::support::signatures_sent(&rejected);
    crate::support::assert_no_secret(&stderr, &signatures);
}

#[test]
fn demo_wait_shows_a_job_going_init_running_success() {
    let output = get_jobs().args(["--demo", "--wait"]).output().unwrap();
    check_exit(&output, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let init = stderr.find("1 INIT").expect("INIT shown");
    let running = stderr.find("1 RUNNING").expect("RUNNING shown");
    let success = stderr.find("1 SUCCESS").expect("SUCCESS shown");
    assert!(init < running && running < success, "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("8abf9647852a1daa01852e517e1a1a0b"));
}

#[test]
fn cli_an_empty_id_is_exit_2_before_the_project_lookup() {
    let iam = Server::json(503, "{}");
    let output = get_jobs()
        .args(["--region", "cn-north-4", ""])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", iam.url())
        .output()
        .unwrap();
    check_exit(&output, 2);
    assert_eq!(iam.connections(), 0);
}

#[test]
fn cli_double_dash_makes_every_later_word_an_operand() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p", "--", "-v"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert_eq!(server.requests()[0].target, "/v1/p/dbss/audit/jobs/-v");
}

#[test]
fn cli_missing_credentials_exit_2_when_the_metadata_step_fails() {
    let metadata = format!("http://127.0.0.1:{}", closed_port());
    let output = get_jobs()
        .args(["--endpoint", "http://127.0.0.1:9", "--project-id", "p", "r"])
        .env("DBSS_JOBS_ECS_METADATA_ENDPOINT", &metadata)
        .output()
        .unwrap();
    check_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no credentials found"), "{stderr}");
    assert!(stderr.contains(&metadata), "{stderr}");
}

#[test]
fn cli_options_that_would_do_nothing_are_refused() {
    for args in [
        // Without --wait, --interval does nothing, however long it is.
        &["--interval", "4000", "--endpoint", "http://127.0.0.1:9", "r"][..],
        &["--interval", "1", "--endpoint", "http://127.0.0.1:9", "r"],
        &["--demo", "--region", "cn-north-4"],
        &["--check", "--json", "--endpoint", "http://127.0.0.1:9"],
        &["--json", "--output", "f", "--endpoint", "http://127.0.0.1:9", "r"],
    ] {
        let output = get_jobs().args(args).output().unwrap();
        check_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("does nothing"), "{args:?}: {stderr}");
    }
}

#[test]
fn dbss_jobs_log_shows_what_is_sent_without_code() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let run = |level: &str| {
        get_jobs()
            .args(["--endpoint", &server.url(), "--project-id", "p", "r"])
            .env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK")
            .env("DBSS_JOBS_LOG", level)
            .output()
            .unwrap()
    };
    let one = run("1");
    check_exit(&one, 0);
    let stderr = String::from_utf8_lossy(&one.stderr);
    let url = format!("{}/v1/p/dbss/audit/jobs/r", server.url());
    assert!(stderr.starts_with(&format!("GET {url} -> 200, 11 bytes, ")), "{stderr}");
    assert!(!stderr.contains("> GET"), "{stderr}");
    let two = run("2");
    let stderr = String::from_utf8_lossy(&two.stderr);
    assert!(stderr.contains(&format!("> GET {url} (attempt 1)")), "{stderr}");
    assert!(stderr.contains("Signature=** redacted **"), "{stderr}");
    assert!(stderr.contains("> canonical request:"), "{stderr}");
    check_exit(&run("loud"), 2);
}

#[test]
fn dbss_jobs_log_and_the_cli_verbosity_print_each_line_once() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let url = format!("{}/v1/p/dbss/audit/jobs/r", server.url());
    for (level, flag) in [("1", "-v"), ("2", "-v"), ("1", "-vv"), ("2", "-vv")] {
        let output = get_jobs()
            .args([flag, "--endpoint", &server.url(), "--project-id", "p", "r"])
            .env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK")
            .env("DBSS_JOBS_LOG", level)
            .output()
            .unwrap();
        check_exit(&output, 0);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines = stderr.matches(&format!("GET {url} -> 200")).count();
        assert_eq!(lines, 1, "DBSS_JOBS_LOG={level} {flag}:\n{stderr}");
        let blocks = stderr.matches(&format!("> GET {url} (attempt 1)")).count();
        let wanted = usize::from(level == "2" || flag == "-vv");
        assert_eq!(blocks, wanted, "DBSS_JOBS_LOG={level} {flag}:\n{stderr}");
    }
}

#[test]
fn the_clis_json_output_reads_back_as_a_snapshot() {
    // The README offers `--json` output as a DBSS_JOBS_SNAPSHOT file: it must read back whole.
    let output = get_jobs().args(["--demo", "--json"]).output().unwrap();
    check_exit(&output, 0);
    let jobs = dbss_jobs::parse_jobs(&output.stdout).unwrap();
    let read: Vec<(Option<&str>, Option<dbss_jobs::JobStatus>)> =
        jobs.iter().map(|job| (job.job_id.as_deref(), job.status.clone())).collect();
    assert_eq!(
        read,
        [
            (Some("8abf9647852a1daa01852e517e1a1a0b"), Some(dbss_jobs::JobStatus::Success)),
            (Some("8abf9647852a1daa01852e517e1a1a0c"), Some(dbss_jobs::JobStatus::Fail)),
        ]
    );
    assert_eq!(jobs[1].error_code.as_deref(), Some("DBSS.1234"));
    assert!(jobs[0].begin_time.is_some() && jobs[0].end_time.is_some());
}

#[test]
fn cli_values_after_an_equals_sign_and_bundled_short_flags() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let output = get_jobs()
        .arg("-vvv")
        .arg(format!("--endpoint={}", server.url()))
        .args(["--project-id=p", "--timeout=5", "--", "--help"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert_eq!(server.requests()[0].target, "/v1/p/dbss/audit/jobs/--help");
    // -vvv is -vv: what was signed, shown once.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("> canonical request:").count(), 1, "{stderr}");
    // -V and -h together: the manual (help wins), not an error.
    for both in [&["-Vh"][..], &["-hV"], &["-V", "--help"], &["--version", "-h", "r"]] {
        let output = get_jobs().args(both).output().unwrap();
        check_exit(&output, 0);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("EXIT CODES"), "{both:?}: {stdout}");
    }
    let version = get_jobs().args(["-V", "r"]).output().unwrap();
    check_exit(&version, 0);
    let expected = format!("dbss-jobs {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(String::from_utf8_lossy(&version.stdout), expected);
}

#[test]
fn cli_an_unknown_option_is_refused_with_the_usage() {
    for typed in ["--wiat", "--WAIT", "--frobnicate", "--w", "-x"] {
        let output = get_jobs().args([typed, "r"]).output().unwrap();
        check_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("unknown option {typed} (see --help")), "{stderr}");
        assert!(stderr.contains("usage: dbss-jobs"), "{stderr}");
    }
    let output = get_jobs().args(["--json=yes", "r"]).output().unwrap();
    check_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("--json takes no value"));
}

#[test]
fn cli_paths_need_not_be_utf8_but_ids_and_numbers_must() {
    use std::os::unix::ffi::OsStrExt;
    let not_utf8 = std::ffi::OsStr::from_bytes(b"\xff");
    // A profile whose file name is not UTF-8 is read as given.
    let dir = crate::support::TempDir::new("cli-not-utf8");
    let profile = dir.0.join(std::ffi::OsStr::from_bytes(b"profile-\xff"));
    std::fs::write(&profile, "[basic]\nak = CLI-LATIN1-AK\nsk = s\n").unwrap();
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p"])
        .arg("--profile-file")
        .arg(&profile)
        .arg("r")
        .output()
        .unwrap();
    check_exit(&output, 0);
    let requests = server.requests();
    let authorization = requests[0].header("authorization").unwrap();
    assert!(authorization.contains("Access=CLI-LATIN1-AK,"), "{authorization}");
    // An id, a URL or a number that is not UTF-8 is a usage error that names the option.
    for flag in ["--project-id", "--region", "--endpoint", "--timeout"] {
        let output = get_jobs().arg(flag).arg(not_utf8).arg("r").output().unwrap();
        check_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("{flag} \"\\xFF\" is not UTF-8")), "{stderr}");
    }
    let output = get_jobs().args(["--region", "r"]).arg(not_utf8).output().unwrap();
    check_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("RESOURCE_ID \"\\xFF\" is not UTF-8"), "{stderr}");
}

#[test]
fn cli_profile_file_wins_over_a_token_in_the_environment() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let dir = crate::support::TempDir::new("cli-profile-over-token");
    let profile = dir.write("credentials", "[basic]\nak = CLI-EXPLICIT-AK\nsk = s\n");
    let run = |path: &std::path::Path| {
        get_jobs()
            .args(["--endpoint", &server.url(), "--project-id", "p"])
            .arg("--profile-file")
            .arg(path)
            .arg("r")
            .env("HUAWEICLOUD_SDK_AUTH_TOKEN", "cli-environment-token")
            .output()
            .unwrap()
    };
    check_exit(&run(&profile), 0);
    let requests = server.requests();
    let authorization = requests[0].header("authorization").unwrap_or_default();
    assert!(authorization.contains("Access=CLI-EXPLICIT-AK,"), "{authorization:?}");
    assert_eq!(requests[0].header("x-auth-token"), None);
    // A profile file that is not there: exit 2 naming the option and the path, before any
    // traffic (the token is no fallback).
    let missing = dir.0.join("no-such-credentials");
    let output = run(&missing);
    check_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let named = format!("--profile-file names {}, which cannot be read", missing.display());
    assert!(stderr.contains(&named), "{stderr}");
    assert_eq!(server.connections(), 1);
}

#[test]
fn cli_a_ca_file_that_is_not_pem_names_the_option_and_the_file() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let dir = crate::support::TempDir::new("cli-not-pem");
    for (name, contents) in [("notes.txt", "this is no certificate\n"), ("empty.pem", "")] {
        let path = dir.write(name, contents);
        let output = get_jobs()
            .args(["--endpoint", &server.url(), "--project-id", "p"])
            .arg("--ca-file")
            .arg(&path)
            .arg("r")
            .env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK")
            .output()
            .unwrap();
        check_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let named = format!("--ca-file names {}, which ", path.display());
        assert!(stderr.contains(&named), "{name}: {stderr}");
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn check_keeps_one_deadline_and_signs_nothing_after_a_probe_that_ran_out_of_time() {
    let cloud = stalled_cloud();
    let started = std::time::Instant::now();
    let output = get_jobs()
        .args(["--check", "--region", "cn-north-4", "--timeout", "1", "instance-1"])
        .env("HUAWEICLOUD_SDK_AK", "CHECK-DEADLINE-AK")
        .env("HUAWEICLOUD_SDK_SK", "sk")
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", cloud.url())
        .env("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", cloud.url())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    check_exit(&output, 1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FAIL call        not sent"), "{stdout}");
    // The unsigned probe is the one connection; no signed request followed it.
    assert_eq!(cloud.connections(), 1, "{stdout}");
    assert!(elapsed < std::time::Duration::from_millis(1600), "{elapsed:?}\n{stdout}");
}

#[test]
fn exit_codes_a_pipeline_can_branch_on() {
    let answer = |status: u16, body: String| sequence(vec![Reply::new(status, body)]);
    let denied = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: Get secretKey failed,ak:CLI-AK,err:ak not exist"}"#;
    let forbidden = r#"{"error_code":"DBSS.0403","error_msg":"not allowed"}"#;
    let broken = r#"{"error_code":"DBSS.5000","error_msg":"internal"}"#;
    let unreachable = format!("http://127.0.0.1:{}", closed_port());
    // (what, server, one-shot code, --wait code)
    let cases: Vec<(&str, Option<Server>, i32, i32)> = vec![
        ("success", Some(answer(200, job("SUCCESS"))), 0, 0),
        ("failed job", Some(answer(200, job("FAIL"))), 0, 3),
        ("still running", Some(answer(200, job("RUNNING"))), 0, 4),
        ("api error", Some(answer(500, broken.to_string())), 1, 1),
        ("credentials refused", Some(answer(401, denied.to_string())), 5, 5),
        ("forbidden", Some(answer(403, forbidden.to_string())), 5, 5),
        ("unreachable", None, 6, 6),
    ];
    for (what, server, one_shot, waited) in cases {
        let url = server.as_ref().map_or(unreachable.clone(), Server::url);
        for (wait, json) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut command = get_jobs();
            command
                .args(["--endpoint", &url, "--project-id", "p", "--timeout", "0.6"])
                .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
                .env("HUAWEICLOUD_SDK_SK", "cli-sk");
            if wait {
                command.args(["--wait", "--interval", "0.05"]);
            }
            if json {
                command.arg("--json");
            }
            let output = command.arg("instance-1").output().unwrap();
            let code = if wait { waited } else { one_shot };
            assert_eq!(
                output.status.code(),
                Some(code),
                "{what}, wait {wait}, json {json}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            if json && [0, 3, 4].contains(&code) {
                let value: serde_json::Value = serde_json::from_slice(&output.stdout)
                    .unwrap_or_else(|e| panic!("{what}: {e}: {output:?}"));
                assert_eq!(value["jobs"][0]["job_id"], "j1", "{what}");
            }
        }
    }
    let too_long = get_jobs()
        .args(["--endpoint", &unreachable, "--wait", "--interval", "5", "--timeout", "1", "r"])
        .output()
        .unwrap();
    check_exit(&too_long, 2);
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("--interval 5 s is not shorter"));
    // The default wait is 30 minutes.
    let longer_than_the_default = get_jobs()
        .args(["--endpoint", &unreachable, "--wait", "--interval", "3600", "r"])
        .output()
        .unwrap();
    check_exit(&longer_than_the_default, 2);
    // A job that failed while others still run is told, and wins over the deadline (3, not 4).
    let mixed = r#"{"jobs":[{"job_id":"j1","status":"FAIL","error_code":"DBSS.9","fail_reason":"no quota"},{"job_id":"j2","status":"RUNNING"}]}"#;
    let server = answer(200, mixed.to_string());
    let output = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p", "--wait", "--json"])
        .args(["--interval", "0.05", "--timeout", "0.5", "instance-1"])
        .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
        .env("HUAWEICLOUD_SDK_SK", "cli-sk")
        .output()
        .unwrap();
    check_exit(&output, 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("job j1 failed: DBSS.9: no quota"), "{stderr}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["jobs"][1]["status"], "RUNNING");
}

#[test]
fn check_says_where_each_setting_came_from_in_the_users_words() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let output = get_jobs()
        .args([
            "--check",
            "--endpoint",
            &server.url(),
            "--project-id",
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "r",
        ])
        .env("HUAWEICLOUD_SDK_AUTH_TOKEN", "tok-0123456789abcdef")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    for wanted in [
        "an IAM token, from HUAWEICLOUD_SDK_AUTH_TOKEN",
        &format!("endpoint {}, from --endpoint", server.url()),
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9, from --project-id",
    ] {
        assert!(stdout.contains(wanted), "{wanted:?} not in {stdout}");
    }
    // A profile named by the option: the option, the file and the AK's line.
    let dir = crate::support::TempDir::new("cli-check-profile");
    let profile =
        dir.write("credentials", "[basic]\nak = CLI-PROFILE-AK\nsk = s\nproject_id = p9\n");
    let output = get_jobs()
        .args(["--check", "--endpoint", &server.url(), "r", "--profile-file"])
        .arg(&profile)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in [2, 4] {
        let wanted = format!("from --profile-file {} line {line}", profile.display());
        assert!(stdout.contains(&wanted), "{wanted:?} not in {stdout}");
    }
}

#[test]
fn the_progress_line_stays_one_short_line_whatever_the_statuses() {
    // 20,000 jobs, each with a status of its own: the line names a few and counts the rest (it
    // counted them by a linear search per job before, and grew with every status).
    let jobs: Vec<String> =
        (0..20_000).map(|i| format!(r#"{{"job_id":"j{i}","status":"S{i}"}}"#)).collect();
    let body = format!(r#"{{"jobs":[{}]}}"#, jobs.join(","));
    let server = Server::json(200, Box::leak(body.into_boxed_str()));
    let output = wait_with_the_cli(&server, "r", "1");
    check_exit(&output, 4);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let progress = stderr.lines().find(|line| line.contains("job(s)")).expect("a progress line");
    assert!(progress.len() < 200, "{progress}");
    assert!(progress.ends_with("19994 other status(es)"), "{progress}");
    // The commonest statuses are named, whatever their names sort like.
    let mut jobs: Vec<String> = (0..7)
        .map(|i| format!(r#"{{"job_id":"x{i}","status":"A{i}{}"}}"#, "é".repeat(300)))
        .collect();
    jobs.extend((0..100).map(|i| format!(r#"{{"job_id":"r{i}","status":"RUNNING"}}"#)));
    let body = format!(r#"{{"jobs":[{}]}}"#, jobs.join(","));
    let server = Server::json(200, Box::leak(body.into_boxed_str()));
    let output = wait_with_the_cli(&server, "r", "1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let progress = stderr.lines().find(|line| line.contains("job(s)")).expect("a progress line");
    assert!(progress.contains(": 100 RUNNING, 1 A0"), "{progress}");
    assert!(progress.chars().count() < 400, "{progress}");
}

/// `--output FILE` writes a snapshot atomically: the answer's JSON replaces FILE only when the
/// call succeeded; a failed call leaves FILE as it was and nothing beside it (`> file` would
/// leave it empty). The file reads back as a snapshot.
#[test]
fn output_replaces_the_file_only_when_the_call_succeeds() {
    let dir = crate::support::TempDir::new("cli-output");
    let file = dir.write("jobs.json", "the previous snapshot");
    let folder = file.parent().unwrap().to_path_buf();
    let run = |server: &Server| {
        get_jobs()
            .args(["--endpoint", &server.url(), "--project-id", "p", "--output"])
            .arg(&file)
            .arg("r")
            .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
            .env("HUAWEICLOUD_SDK_SK", "cli-sk")
            .output()
            .unwrap()
    };
    let entries = || std::fs::read_dir(&folder).unwrap().count();
    let failing = Server::json(404, r#"{"error_code":"DBSS.0404","error_msg":"no such instance"}"#);
    check_exit(&run(&failing), 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "the previous snapshot");
    assert_eq!(entries(), 1, "nothing is left beside the file");
    let answering = Server::json(200, r#"{"jobs":[{"job_id":"j1","status":"SUCCESS"}]}"#);
    let output = run(&answering);
    check_exit(&output, 0);
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
    let written = std::fs::read(&file).unwrap();
    assert_eq!(dbss_jobs::parse_jobs(&written).unwrap()[0].job_id.as_deref(), Some("j1"));
    assert_eq!(entries(), 1);
    let with_json = get_jobs().args(["--json", "--output", "x", "r"]).output().unwrap();
    check_exit(&with_json, 2);
    // A link is written through, and the file keeps its permissions.
    use std::os::unix::fs::PermissionsExt;
    let real = dir.write("real.json", "old");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = folder.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let output = get_jobs()
        .args(["--endpoint", &answering.url(), "--project-id", "p", "--output"])
        .arg(&link)
        .arg("r")
        .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
        .env("HUAWEICLOUD_SDK_SK", "cli-sk")
        .output()
        .unwrap();
    check_exit(&output, 0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("j1"));
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
}

/// `--output` renames over a regular file only: a link that leads nowhere or in a circle, a
/// device, a directory or a missing folder is refused before any request (exit 2), and left as
/// it was.
#[test]
fn output_refuses_what_is_not_a_regular_file_before_any_request() {
    let dir = crate::support::TempDir::new("cli-output-refused");
    let folder = dir.write("x", "").parent().unwrap().to_path_buf();
    let dangling = folder.join("dangling.json");
    std::os::unix::fs::symlink(folder.join("nowhere.json"), &dangling).unwrap();
    let circle = folder.join("circle.json");
    std::os::unix::fs::symlink(&circle, &circle).unwrap();
    let missing_folder = folder.join("no-such-folder/jobs.json");
    let counting = Server::json(200, r#"{"jobs":[]}"#);
    for target in
        [dangling.clone(), circle.clone(), "/dev/null".into(), folder.clone(), missing_folder]
    {
        let output = get_jobs()
            .args(["--endpoint", &counting.url(), "--project-id", "p", "--output"])
            .arg(&target)
            .arg("r")
            .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
            .env("HUAWEICLOUD_SDK_SK", "cli-sk")
            .output()
            .unwrap();
        check_exit(&output, 2);
        assert!(String::from_utf8_lossy(&output.stderr).contains("--output"), "{target:?}");
    }
    assert_eq!(counting.requests().len(), 0);
    assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
    assert!(std::fs::symlink_metadata(&circle).unwrap().file_type().is_symlink());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}
