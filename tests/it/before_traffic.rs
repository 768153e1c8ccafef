//! No traffic before bad input fails, swept: for every input the docs call invalid, a client whose
//! every endpoint (DBSS, IAM, ECS metadata, proxy) is a counting loopback listener gets
//! `InvalidInput`, and every counter stays at 0. A new kind of input is added here.

use std::time::Duration;

use dbss_jobs::{Client, ClientBuilder, Credentials, ErrorKind, IamToken, WaitOptions};

use crate::support::{Server, TempDir};
use crate::support::{check_exit, get_jobs};

/// The four listeners; each counts the connections it accepts and closes them.
struct Listeners {
    dbss: Server,
    iam: Server,
    metadata: Server,
    proxy: Server,
}

impl Listeners {
    fn start() -> Listeners {
        let counting = || Server::raw(drop);
        Listeners { dbss: counting(), iam: counting(), metadata: counting(), proxy: counting() }
    }

    /// A client builder that would reach each listener: no project id (so the IAM lookup would
    /// come first), an explicit proxy (which carries loopback targets), the metadata step on.
    fn builder(&self) -> ClientBuilder {
        crate::support::without_credentials(self.dbss.url())
            .region("cn-north-4")
            .iam_endpoint(self.iam.url())
            .metadata_endpoint(self.metadata.url())
            .proxy(self.proxy.url())
            .timeout(Duration::from_secs(2))
    }

    #[track_caller]
    fn assert_untouched(&self, what: &str) {
        let counts = [
            ("DBSS", self.dbss.connections()),
            ("IAM", self.iam.connections()),
            ("metadata", self.metadata.connections()),
            ("proxy", self.proxy.connections()),
        ];
        assert!(counts.iter().all(|(_, count)| *count == 0), "{what}: {counts:?}");
    }
}

#[track_caller]
fn check_invalid(result: Result<impl std::fmt::Debug, dbss_jobs::Error>, what: &str) {
    let error = result.expect_err(what);
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{what}: {error}");
}

const BAD_IDS: [&str; 6] = ["", ".", "..", "a\nb", "tab\there", "del\u{7f}"];

#[test]
fn bad_ids_cause_no_traffic_on_any_entry_point_or_credential_source() {
    let listeners = Listeners::start();
    let explicit = listeners.builder().auth(Credentials::new("AK", "SK").unwrap()).build().unwrap();
    let token = listeners.builder().auth(IamToken::new("token-value").unwrap()).build().unwrap();
    // Credentials from the metadata service, fetched lazily: a bad id must not start the fetch.
    let metadata = listeners.builder().build().unwrap();
    let wait = WaitOptions::default().timeout(Duration::from_secs(1));
    for client in [&explicit, &token, &metadata] {
        for id in BAD_IDS {
            check_invalid(client.get_jobs(id), &format!("get_jobs({id:?})"));
            check_invalid(client.get_jobs_in("p", id), &format!("resource {id:?}"));
            check_invalid(client.get_jobs_in(id, "r"), &format!("project {id:?}"));
            let waited = client.wait_for_jobs(id, wait, |_| {});
            check_invalid(waited, &format!("wait_for_jobs({id:?})"));
        }
    }
    listeners.assert_untouched("bad ids");
}

#[test]
fn bad_settings_and_credentials_cause_no_traffic() {
    let listeners = Listeners::start();
    let dir = TempDir::new("before-traffic");
    let not_pem = dir.write("not.pem", "not a certificate");
    let ok = || listeners.builder().auth(Credentials::new("AK", "SK").unwrap());
    let builds: Vec<(&str, Result<Client, dbss_jobs::Error>)> = vec![
        ("ftp endpoint", ok().endpoint("ftp://127.0.0.1:1").build()),
        ("plain http off loopback", ok().endpoint("http://dbss.example.com").build()),
        ("endpoint with a path", ok().endpoint("https://dbss.example.com/v1").build()),
        ("endpoint with user info", ok().endpoint("https://u:p@dbss.example.com").build()),
        ("not a URL", ok().endpoint("dbss.example.com").build()),
        ("proxy with a path", ok().proxy(format!("{}/x", listeners.proxy.url())).build()),
        ("proxy password with a slash", ok().proxy("http://u:p/w@127.0.0.1:1").build()),
        ("proxy nonsense", ok().proxy("::not a proxy::").build()),
        (
            "proxy variable with a path",
            crate::support::client("https://dbss.example.com")
                .environment([("ALL_PROXY", "http://u:p/w@127.0.0.1:1")])
                .build(),
        ),
        ("zero timeout", ok().timeout(Duration::ZERO).build()),
        ("timeout over a day", ok().timeout(Duration::from_secs(90_000)).build()),
        ("zero connect timeout", ok().connect_timeout(Duration::ZERO).build()),
        ("zero body limit", ok().max_body_size(0).build()),
        ("not PEM", ok().root_certificates_pem(b"garbage".to_vec()).build()),
        (
            "SSL_CERT_FILE missing",
            ok().environment([("SSL_CERT_FILE", "/nonexistent/ca.pem")]).build(),
        ),
        (
            "SSL_CERT_FILE without a certificate",
            ok().environment([("SSL_CERT_FILE", not_pem.to_str().unwrap())]).build(),
        ),
        ("metadata off loopback", ok().metadata_endpoint("http://10.0.0.1").build()),
        (
            "metadata switch misspelt",
            listeners.builder().environment([("DBSS_JOBS_ECS_METADATA", "maybe")]).build(),
        ),
        (
            "AK half set in the environment",
            listeners.builder().environment([("HUAWEICLOUD_SDK_AK", "AK")]).build(),
        ),
        (
            "security token with a control character",
            listeners
                .builder()
                .environment([
                    ("HUAWEICLOUD_SDK_AK", "AK"),
                    ("HUAWEICLOUD_SDK_SK", "SK"),
                    ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "t\u{1}t"),
                ])
                .build(),
        ),
    ];
    for (what, result) in builds {
        check_invalid(result, what);
    }
    check_invalid(Credentials::new("A\nK", "SK"), "AK with a newline");
    check_invalid(Credentials::new("AK", ""), "empty SK");
    check_invalid(
        Credentials::new("AK", "SK").unwrap().with_security_token("t\u{1b}"),
        "security token with an escape",
    );
    check_invalid(IamToken::new(" "), "blank IAM token");
    check_invalid(IamToken::new("to\u{0}ken"), "IAM token with NUL");
    listeners.assert_untouched("bad settings");
}

#[test]
fn the_cli_refuses_bad_input_with_exit_2_and_no_traffic() {
    let listeners = Listeners::start();
    let (dbss, iam) = (listeners.dbss.url(), listeners.iam.url());
    let cases: [&[&str]; 6] = [
        &["--check", "--endpoint", &dbss, "--region", "cn-north-4", "a\nb"],
        &["--endpoint", &dbss, "--region", "cn-north-4", ""],
        &["--endpoint", &dbss, "--region", "cn-north-4", "--wait", ".."],
        &["--endpoint", &dbss, "--timeout", "0", "r"],
        &["--endpoint", "ftp://127.0.0.1:1", "r"],
        &["--endpoint", &dbss, "--ca-file", "/nonexistent/ca.pem", "r"],
    ];
    for args in cases {
        let output = get_jobs()
            .args(args)
            .env("HUAWEICLOUD_SDK_AK", "AK")
            .env("HUAWEICLOUD_SDK_SK", "SK")
            .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &iam)
            .env("ALL_PROXY", listeners.proxy.url())
            .env("DBSS_JOBS_ECS_METADATA_ENDPOINT", listeners.metadata.url())
            .output()
            .unwrap();
        check_exit(&output, 2);
    }
    let bad_proxy = get_jobs()
        .args(["--endpoint", "https://dbss.example.com", "--project-id", "p", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .env("HTTPS_PROXY", "http://u:p/w@127.0.0.1:1")
        .output()
        .unwrap();
    check_exit(&bad_proxy, 2);
    listeners.assert_untouched("the CLI");
}

#[test]
fn an_invalid_id_fails_before_the_project_lookup() {
    let iam = Server::json(200, r#"{"projects":[{"id":"p1","name":"cn-north-4"}]}"#);
    let client = crate::support::client("http://127.0.0.1:9")
        .region("cn-north-4")
        .iam_endpoint(iam.url())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    for id in ["", ".", "..", "a\nb"] {
        let error = client.get_jobs(id).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:?}: {error}");
        let options = WaitOptions::default().timeout(Duration::from_secs(1));
        let error = client.wait_for_jobs(id, options, |_| {}).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:?}: {error}");
    }
    assert_eq!(iam.connections(), 0);
}

#[test]
fn settings_are_refused_where_they_enter_naming_their_source() {
    let listeners = Listeners::start();
    let dir = TempDir::new("sources");
    let canary = crate::support::CANARY_SK;
    let profile = dir
        .write("credentials", &format!("[basic]\nak = AK\nsk = {canary}\u{1}x\nproject_id = p\n"));
    let env_sk = |sk: &str| {
        listeners.builder().environment([
            ("HOME", "/nonexistent"),
            ("HUAWEICLOUD_SDK_AK", "AK"),
            ("HUAWEICLOUD_SDK_SK", sk),
        ])
    };
    let crlf_sk = format!("{canary}\r");
    let spaced_sk = format!(" {canary}");
    let with_env = |name: &'static str, value: &'static str| {
        crate::support::client(listeners.dbss.url())
            .region("cn-north-4")
            .environment([("HOME", "/nonexistent"), (name, value)])
    };
    let cases: Vec<(Result<Client, dbss_jobs::Error>, String)> = vec![
        (
            env_sk(&crlf_sk).build(),
            "HUAWEICLOUD_SDK_SK: secret key (SK) contains a control character".into(),
        ),
        (
            env_sk(&spaced_sk).build(),
            "HUAWEICLOUD_SDK_SK: secret key (SK) begins or ends with white space".into(),
        ),
        (
            listeners.builder().profile_file(&profile).build(),
            format!("{} line 3: secret key (SK)", profile.display()),
        ),
        (
            Credentials::new("AK", format!("{canary} "))
                .and_then(|credentials| listeners.builder().auth(credentials).build()),
            "Credentials::new: secret key (SK) begins or ends with white space".into(),
        ),
        (
            crate::support::client(listeners.dbss.url()).region("cn-north-4\n").build(),
            "ClientBuilder::region: region \"cn-north-4\\n\" contains white space".into(),
        ),
        (
            with_env("HUAWEICLOUD_SDK_PROJECT_ID", "p\u{7}").build(),
            "HUAWEICLOUD_SDK_PROJECT_ID: project id".into(),
        ),
        (
            with_env("HUAWEICLOUD_SDK_IAM_ENDPOINT", "ftp://iam.example.com").build(),
            "HUAWEICLOUD_SDK_IAM_ENDPOINT: endpoint \"ftp://iam.example.com\" must use https"
                .into(),
        ),
        (
            Client::builder()
                .region("cn-north-4")
                .environment([
                    ("HOME", "/nonexistent"),
                    ("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", "http://dbss.example.com"),
                ])
                .auth(Credentials::new("AK", "SK").unwrap())
                .build(),
            "HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4: endpoint".into(),
        ),
        (
            listeners.builder().endpoint("ftp://127.0.0.1:1").build(),
            "ClientBuilder::endpoint: endpoint".into(),
        ),
    ];
    for (result, wanted) in cases {
        let error = result.expect_err(&wanted);
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        let shown = error.to_string();
        assert!(shown.contains(&wanted), "{wanted:?} not in {shown:?}");
        assert!(!format!("{error:?}{error:#?}").contains(canary), "{error:#?}");
    }
    let client = listeners.builder().auth(Credentials::new("AK", "SK").unwrap()).build().unwrap();
    for id in [" inst-1", "inst-1 ", "\u{3000}inst-1"] {
        let error = client.get_jobs(id).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("white space"), "{error}");
    }
    listeners.assert_untouched("settings refused where they enter");
}

#[test]
fn the_builders_debug_shows_no_url_password() {
    let builder = Client::builder()
        .endpoints(["https://user:endpoint-pw@dbss.example.com", "https://dbss.example.com"])
        .iam_endpoint("https://user:iam-pw@iam.example.com")
        .metadata_endpoint("http://user:metadata-pw@127.0.0.1:1")
        .proxy("http://user:proxy-pw@127.0.0.1:3128");
    let shown = format!("{builder:?}{builder:#?}");
    for password in ["endpoint-pw", "iam-pw", "metadata-pw", "proxy-pw"] {
        assert!(!shown.contains(password), "{password} in {shown}");
    }
    assert!(shown.contains("https://** redacted **@iam.example.com"), "{shown}");
}

#[test]
fn a_variable_that_is_not_text_is_refused_by_name_before_traffic() {
    use std::os::unix::ffi::OsStrExt;
    let listeners = Listeners::start();
    let not_text = std::ffi::OsStr::from_bytes(b"SK\xff\xfe");
    let output = get_jobs()
        .args(["--endpoint", &listeners.dbss.url(), "--project-id", "p", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", not_text)
        .output()
        .unwrap();
    check_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HUAWEICLOUD_SDK_SK: is not UTF-8 text"), "{stderr}");
    listeners.assert_untouched("a variable that is not text");
}

#[test]
fn the_cli_names_the_option_or_variable_a_refused_setting_came_from() {
    let listeners = Listeners::start();
    let dbss = listeners.dbss.url();
    let token = ("HUAWEICLOUD_SDK_AUTH_TOKEN", "tok-0123456789abcdef");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["--project-id", " p", "r"], vec![token], "--project-id: project id \" p\""),
        (vec!["--region", "cn-north-4 ", "r"], vec![token], "--region: region"),
        (
            vec!["r"],
            vec![token, ("HUAWEICLOUD_SDK_REGION", "cn-north-4 ")],
            "HUAWEICLOUD_SDK_REGION: region",
        ),
        (
            vec!["--project-id", "p", "r"],
            vec![("HUAWEICLOUD_SDK_AUTH_TOKEN", "tok-0123456789abcdef ")],
            "HUAWEICLOUD_SDK_AUTH_TOKEN: IAM token begins or ends with white space",
        ),
    ];
    for (args, vars, wanted) in cases {
        let output = get_jobs()
            .args(["--endpoint", &dbss])
            .args(&args)
            .envs(vars)
            .env("DBSS_JOBS_ECS_METADATA", "off")
            .output()
            .unwrap();
        check_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(wanted), "{wanted:?} not in {stderr}");
    }
    let unknown = get_jobs()
        .args(["--project-id", "p", "r"])
        .env(token.0, token.1)
        .env("HUAWEICLOUD_SDK_REGION", "eu-west-101")
        .output()
        .unwrap();
    check_exit(&unknown, 2);
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("HUAWEICLOUD_SDK_REGION: unknown region \"eu-west-101\""), "{stderr}");
    let output = get_jobs()
        .args(["--endpoint", "http://user:pw-canary@127.0.0.1:9", "--project-id", "p", "r"])
        .env(token.0, token.1)
        .output()
        .unwrap();
    check_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--endpoint: endpoint"), "{stderr}");
    assert!(!stderr.contains("pw-canary"), "{stderr}");
    listeners.assert_untouched("the CLI's refusals");
}

/// Every path-valued setting is refused naming where it came from, however the path is spelled:
/// missing, a directory, with a `\r` (a CRLF `.env` file) or an escape character; what is shown
/// holds no raw control character.
#[test]
fn every_path_setting_names_its_source_and_shows_no_control_character() {
    let dir = crate::support::TempDir::new("path-settings");
    let folder = dir.write("x", "").parent().unwrap().display().to_string();
    let paths = [
        "/nonexistent/file".to_string(),
        folder,
        "/nonexistent/cr\r".to_string(),
        "/nonexistent/\u{1b}[2Jesc".to_string(),
    ];
    type Setting = (&'static str, fn(dbss_jobs::ClientBuilder, &str) -> dbss_jobs::ClientBuilder);
    let settings: [Setting; 4] = [
        ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", |b, p| {
            b.environment([("HUAWEICLOUD_SDK_CREDENTIALS_FILE", p)])
        }),
        ("SSL_CERT_FILE", |b, p| {
            b.environment([
                ("SSL_CERT_FILE", p),
                ("HUAWEICLOUD_SDK_AK", "AK"),
                ("HUAWEICLOUD_SDK_SK", "SK"),
            ])
        }),
        ("ClientBuilder::profile_file", |b, p| {
            b.environment([("HOME", "/nonexistent")]).profile_file(p)
        }),
        ("ClientBuilder::root_certificates_file", |b, p| {
            b.environment([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")])
                .root_certificates_file(p)
        }),
    ];
    let refused = |source: &str, what: &str, builder: dbss_jobs::ClientBuilder| {
        let error = builder.build().unwrap_err();
        let shown = format!("{error} {error:?} {}", error.report());
        assert_eq!(error.kind(), dbss_jobs::ErrorKind::InvalidInput, "{shown}");
        assert!(shown.contains(source), "{source} {what}: {shown}");
        assert!(!shown.chars().any(char::is_control), "{source} {what}: {shown:?}");
    };
    let builder = || dbss_jobs::Client::builder().region("cn-north-4").ecs_metadata(false);
    for (source, set) in settings {
        for path in &paths {
            refused(source, path, set(builder(), path));
        }
    }
    // A builder's path may be empty, or not UTF-8.
    use std::os::unix::ffi::OsStringExt;
    let not_utf8 =
        std::path::PathBuf::from(std::ffi::OsString::from_vec(b"/nonexistent/\xff\r".to_vec()));
    let credentials = [("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")];
    for path in [std::path::PathBuf::new(), not_utf8] {
        let profile = builder().environment([("HOME", "/nonexistent")]).profile_file(&path);
        refused("ClientBuilder::profile_file", "a path", profile);
        let roots = builder().environment(credentials).root_certificates_file(&path);
        refused("ClientBuilder::root_certificates_file", "a path", roots);
    }
}
