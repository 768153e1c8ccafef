//! The credential chain (explicit → environment → profile file → ECS metadata), the project id from
//! IAM, and endpoint overrides. Every test passes its environment explicitly
//! (`ClientBuilder::environment`), so none reads or writes the process environment.

use crate::support::{check_exit, get_jobs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use dbss_jobs::{Client, ClientBuilder, Credentials, ErrorKind};

use crate::support::{After, Server, TempDir, closed_port, respond};

/// A loopback stand-in for the DBSS, IAM and metadata endpoints at once.
struct FakeCloud {
    server: Server,
    metadata_fetches: Arc<AtomicUsize>,
}

impl FakeCloud {
    /// `projects`: the body of the IAM route; `expires_in`: lifetime of metadata credentials.
    fn start(projects: &'static str, expires_in: i64) -> FakeCloud {
        let metadata_fetches = Arc::new(AtomicUsize::new(0));
        let fetches = metadata_fetches.clone();
        let server = Server::start(move |request, stream| {
            let path = request.target.split('?').next().unwrap_or_default();
            match (request.method.as_str(), path) {
                ("PUT", "/meta-data/latest/api/token") => {
                    assert_eq!(request.header("x-metadata-token-ttl-seconds"), Some("21600"));
                    respond(stream, 200, &[], b"session-token-1");
                }
                ("GET", "/openstack/latest/securitykey") => {
                    if request.header("x-metadata-token") != Some("session-token-1") {
                        respond(stream, 401, &[], b"");
                        return After::KeepAlive;
                    }
                    let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                    let expires = rfc3339(SystemTime::now(), expires_in);
                    let body = format!(
                        r#"{{"credential":{{"access":"META-AK-{n}","secret":"meta-sk-{n}","securitytoken":"meta-token-{n}","expires_at":"{expires}"}}}}"#
                    );
                    respond(stream, 200, &[("Content-Type", "application/json")], body.as_bytes());
                }
                ("GET", "/v3/projects") => {
                    respond(stream, 200, &[("X-Request-Id", "iam-1")], projects.as_bytes());
                }
                ("GET", _) if path.starts_with("/v1/") => {
                    respond(stream, 200, &[("X-Request-Id", "jobs-1")], br#"{"jobs":[]}"#);
                }
                _ => respond(
                    stream,
                    404,
                    &[],
                    br#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#,
                ),
            }
            After::KeepAlive
        });
        FakeCloud { server, metadata_fetches }
    }

    fn builder(&self) -> ClientBuilder {
        Client::builder()
            .endpoint(self.server.url())
            .iam_endpoint(self.server.url())
            .metadata_endpoint(self.server.url())
            .timeout(Duration::from_secs(5))
    }

    fn jobs_requests(&self) -> Vec<crate::support::Request> {
        self.server.requests().into_iter().filter(|r| r.target.starts_with("/v1/")).collect()
    }

    fn iam_requests(&self) -> usize {
        self.server.requests().iter().filter(|r| r.target.starts_with("/v3/")).count()
    }
}

/// `now + seconds` as `YYYY-MM-DDTHH:MM:SS.000000Z`, computed with the `time` crate.
fn rfc3339(now: SystemTime, seconds: i64) -> String {
    let t = time::OffsetDateTime::from(now) + time::Duration::seconds(seconds);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

const ONE_PROJECT: &str =
    r#"{"projects":[{"id":"iam-project-1","name":"cn-north-4","enabled":true}]}"#;

fn access_key_of(request: &crate::support::Request) -> String {
    let authorization = request.header("authorization").expect("signed request");
    authorization.split("Access=").nth(1).unwrap().split(',').next().unwrap().to_string()
}

#[test]
fn explicit_credentials_win_over_the_environment() {
    let cloud = FakeCloud::start(ONE_PROJECT, 3600);
    let client = cloud
        .builder()
        .auth(Credentials::new("EXPLICIT-AK", "sk").unwrap())
        .environment([("HUAWEICLOUD_SDK_AK", "ENV-AK"), ("HUAWEICLOUD_SDK_SK", "env-sk")])
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    assert_eq!(access_key_of(&cloud.jobs_requests()[0]), "EXPLICIT-AK");
}

#[test]
fn environment_supplies_credentials_token_and_project() {
    let cloud = FakeCloud::start(ONE_PROJECT, 3600);
    let client = cloud
        .builder()
        .environment([
            ("HUAWEICLOUD_SDK_AK", "ENV-AK"),
            ("HUAWEICLOUD_SDK_SK", "env-sk"),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "env-token"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "env-project"),
        ])
        .build()
        .unwrap();
    let project_id = client.resolve_project_id().unwrap();
    assert_eq!(project_id, "env-project");
    client.get_jobs_in(&project_id, "r").unwrap();
    let request = &cloud.jobs_requests()[0];
    assert_eq!(access_key_of(request), "ENV-AK");
    assert_eq!(request.header("x-security-token"), Some("env-token"));
    assert_eq!(cloud.iam_requests(), 0);
}

#[test]
fn half_set_environment_credentials_are_an_error() {
    for vars in [[("HUAWEICLOUD_SDK_AK", "A")], [("HUAWEICLOUD_SDK_SK", "S")]] {
        let error = Client::builder().endpoint("https://x").environment(vars).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error.to_string().contains("is set but"), "{error}");
    }
}

#[test]
fn profile_file_from_home_with_its_project_and_iam_endpoint() {
    let cloud = FakeCloud::start(ONE_PROJECT, 3600);
    let home = TempDir::new("home");
    home.write(
        ".huaweicloud/credentials",
        "# profile\r\n[basic]\r\nak = PROFILE-AK\r\nsk = profile-sk\r\nproject_id = profile-project\r\n",
    );
    let client = cloud.builder().environment([("HOME", home.0.to_str().unwrap())]).build().unwrap();
    assert_eq!(client.resolve_project_id().unwrap(), "profile-project");
    client.get_jobs_in("profile-project", "r").unwrap();
    assert_eq!(access_key_of(&cloud.jobs_requests()[0]), "PROFILE-AK");
}

#[test]
fn profile_file_named_by_variable_or_builder() {
    let cloud = FakeCloud::start(ONE_PROJECT, 3600);
    let dir = TempDir::new("profiles");
    let by_env = dir.write("a.ini", "[basiccredentials]\nak=ENV-FILE-AK\nsk=s\n");
    let by_builder = dir.write("b.ini", "[basic]\nak=BUILDER-FILE-AK\nsk=s\n");
    let env = [("HUAWEICLOUD_SDK_CREDENTIALS_FILE", by_env.to_str().unwrap())];
    cloud.builder().environment(env).build().unwrap().get_jobs_in("p", "r").unwrap();
    cloud
        .builder()
        .environment(env)
        .profile_file(&by_builder)
        .build()
        .unwrap()
        .get_jobs_in("p", "r")
        .unwrap();
    let keys: Vec<String> = cloud.jobs_requests().iter().map(access_key_of).collect();
    assert_eq!(keys, ["ENV-FILE-AK", "BUILDER-FILE-AK"]);
}

#[test]
fn broken_profiles_are_clear_errors_that_quote_no_secret() {
    let dir = TempDir::new("broken");
    let cases = [
        ("malformed", "[basic]\nak=A\nsk-without-equals-SECRET\n", "line 3"),
        ("half", "[basic]\nak=A\n", "only one of ak and sk"),
    ];
    for (name, text, expected) in cases {
        let path = dir.write(name, text);
        let error = crate::support::without_credentials("https://x")
            .profile_file(&path)
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.contains(expected) && message.contains(name), "{message}");
        assert!(!message.contains("SECRET"), "{message}");
    }
    let missing = dir.0.join("missing.ini");
    let error = crate::support::without_credentials("https://x")
        .profile_file(&missing)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("missing.ini"), "{error}");
}

#[test]
fn nothing_found_lists_what_was_tried() {
    let error = Client::builder()
        .endpoint("https://x")
        .environment([("HOME", "/nonexistent-home")])
        .ecs_metadata(false)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let message = error.to_string();
    for step in ["HUAWEICLOUD_SDK_AK", "/nonexistent-home/.huaweicloud/credentials", "ECS metadata"]
    {
        assert!(message.contains(step), "{message} lacks {step}");
    }
}

#[test]
fn metadata_credentials_are_used_and_cached_while_fresh() {
    let cloud = FakeCloud::start(ONE_PROJECT, 3600);
    let client = cloud.builder().environment([("HOME", "/nonexistent")]).build().unwrap();
    assert_eq!(cloud.server.requests().len(), 0, "building must not touch the network");
    client.get_jobs_in("p", "r").unwrap();
    client.get_jobs_in("p", "r").unwrap();
    assert_eq!(cloud.metadata_fetches.load(Ordering::SeqCst), 1);
    for request in cloud.jobs_requests() {
        assert_eq!(access_key_of(&request), "META-AK-1");
        assert_eq!(request.header("x-security-token"), Some("meta-token-1"));
    }
}

#[test]
fn metadata_credentials_near_or_past_expiry_are_refreshed() {
    for expires_in in [120, -60] {
        let cloud = FakeCloud::start(ONE_PROJECT, expires_in);
        let client = cloud.builder().environment([("HOME", "/nonexistent")]).build().unwrap();
        client.get_jobs_in("p", "r").unwrap();
        client.get_jobs_in("p", "r").unwrap();
        assert_eq!(cloud.metadata_fetches.load(Ordering::SeqCst), 2, "expires_in {expires_in}");
        let keys: Vec<String> = cloud.jobs_requests().iter().map(access_key_of).collect();
        assert_eq!(keys, ["META-AK-1", "META-AK-2"]);
    }
}

#[test]
fn an_unreachable_metadata_service_fails_fast_and_says_what_was_tried() {
    let client = crate::support::without_credentials("https://x")
        .metadata_endpoint(format!("http://127.0.0.1:{}", closed_port()))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // Traffic happened: the refusal is a transport error, and the chain says it found nothing.
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_connect() && error.is_missing_credentials(), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with("no credentials found; tried environment (HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK not set)")
            && message.contains("; ECS metadata http://127.0.0.1:")
            && message.matches("error:").count() == 1
            && !message.contains("io:"),
        "{message}"
    );
}

#[test]
fn metadata_endpoint_must_be_link_local_or_loopback() {
    let error = Client::builder()
        .endpoint("https://x")
        .metadata_endpoint("http://example.com")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

#[track_caller]
fn iam_client(cloud: &FakeCloud, ak: &str) -> Client {
    cloud
        .builder()
        .region("cn-north-4")
        .auth(Credentials::new(ak, "sk").unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap()
}

#[test]
fn iam_lookup_finds_the_one_project_and_caches_it() {
    let cloud = FakeCloud::start(ONE_PROJECT, 3600);
    // An AK used by no other test: the cache is process-wide.
    let client = iam_client(&cloud, "IAM-CACHE-AK");
    assert_eq!(client.resolve_project_id().unwrap(), "iam-project-1");
    let lookup =
        cloud.server.requests().into_iter().find(|r| r.target.starts_with("/v3/")).unwrap();
    assert_eq!(lookup.target, "/v3/projects?name=cn-north-4");
    assert_eq!(access_key_of(&lookup), "IAM-CACHE-AK");
    assert_eq!(client.resolve_project_id().unwrap(), "iam-project-1");
    assert_eq!(iam_client(&cloud, "IAM-CACHE-AK").resolve_project_id().unwrap(), "iam-project-1");
    assert_eq!(cloud.iam_requests(), 1);
}

#[test]
fn iam_lookup_with_none_or_several_projects_names_the_region() {
    for (body, expected) in [
        (r#"{"projects":[]}"#, "no project named"),
        (
            r#"{"projects":[{"id":"a","name":"cn-north-4"},{"id":"b","name":"cn-north-4"}]}"#,
            "2 projects named",
        ),
    ] {
        let cloud = FakeCloud::start(body, 3600);
        let error = iam_client(&cloud, &format!("IAM-{}", expected.replace(' ', "-")))
            .resolve_project_id()
            .unwrap_err();
        // IAM answered: not input refused before traffic, but an answer that cannot be used.
        assert_eq!(error.kind(), ErrorKind::Decode);
        assert_eq!(error.request_id(), Some("iam-1"));
        let message = error.to_string();
        assert!(message.contains(expected) && message.contains("cn-north-4"), "{message}");
    }
}

#[test]
fn iam_401_is_a_typed_error_and_not_retried() {
    let server = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"r"}"#,
    );
    let client = crate::support::client(server.url())
        .region("cn-north-4")
        .iam_endpoint(server.url())
        .auth(Credentials::new("IAM-401-AK", "sk").unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap();
    let error = client.resolve_project_id().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.error_code(), Some("APIGW.0301"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn region_endpoint_override_from_the_environment() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let variable_value = format!(" {} , https://second.example.com", server.url());
    for region in ["cn-north-4", "private-region-9"] {
        let variable =
            format!("HUAWEICLOUD_SDK_REGION_DBSS_{}", region.to_uppercase().replace('-', "_"));
        let client = Client::builder()
            .region(region)
            .auth(Credentials::new("AK", "SK").unwrap())
            .environment([(variable.as_str(), variable_value.as_str())])
            .build()
            .unwrap();
        client.get_jobs_in("p", "r").unwrap();
    }
    assert_eq!(server.requests().len(), 2);
    let error = Client::builder()
        .region("private-region-9")
        .auth(Credentials::new("AK", "SK").unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("HUAWEICLOUD_SDK_REGION_DBSS_PRIVATE_REGION_9")
            && message.contains("cn-north-4"),
        "{message}"
    );
}

#[test]
fn a_profile_saved_by_notepad_with_colons_is_read() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let dir = crate::support::TempDir::new("bom-profile");
    let path = dir.write(
        "credentials",
        "\u{feff}[basic]\r\nak: NOTEPAD-AK\r\nsk: notepad-sk\r\nproject_id: notepad-project\r\n",
    );
    let client =
        crate::support::without_credentials(server.url()).profile_file(&path).build().unwrap();
    client.get_jobs("r").unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.target, "/v1/notepad-project/dbss/audit/jobs/r");
    assert!(request.header("authorization").unwrap().contains("Access=NOTEPAD-AK,"));
}

#[test]
fn a_named_profile_file_wins_over_the_environment() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let dir = crate::support::TempDir::new("named-profile");
    let profile = dir.write("credentials", "[basic]\nak = PROFILE-AK\nsk = profile-sk\n");
    let environment = [("HUAWEICLOUD_SDK_AK", "ENV-AK"), ("HUAWEICLOUD_SDK_SK", "env-sk")];
    let builder =
        || Client::builder().endpoint(server.url()).project_id("p").environment(environment);
    builder().profile_file(&profile).build().unwrap().get_jobs("r").unwrap();
    let authorization = server.requests()[0].header("authorization").unwrap().to_string();
    assert!(authorization.contains("Access=PROFILE-AK"), "{authorization}");
    let missing = builder().profile_file(dir.0.join("absent")).build().unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput, "{missing}");
    let cli = get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p", "--profile-file"])
        .arg(&profile)
        .arg("r")
        .env("HUAWEICLOUD_SDK_AK", "ENV-AK")
        .env("HUAWEICLOUD_SDK_SK", "env-sk")
        .output()
        .unwrap();
    check_exit(&cli, 0);
    let authorization = server.requests()[1].header("authorization").unwrap().to_string();
    assert!(authorization.contains("Access=PROFILE-AK"), "{authorization}");
}

#[test]
fn the_library_reads_the_region_from_the_environment_and_an_explicit_one_wins() {
    let server = crate::support::Server::json(200, r#"{"jobs":[]}"#);
    let exported = |extra: Vec<(&str, String)>| {
        let mut vars = vec![
            ("HOME", "/nonexistent".to_string()),
            ("HUAWEICLOUD_SDK_REGION", "cn-north-4".to_string()),
            ("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", server.url()),
            ("HUAWEICLOUD_SDK_AK", "AK".to_string()),
            ("HUAWEICLOUD_SDK_SK", "SK".to_string()),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "p".to_string()),
        ];
        vars.extend(extra);
        Client::builder().environment(vars)
    };
    exported(vec![]).build().unwrap().get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 1);
    // An explicit region wins: this one has no override, so it goes to the built-in table.
    let other = exported(vec![]).region("cn-south-1").build().unwrap();
    assert!(format!("{other:?}").contains("dbss.cn-south-1.myhuaweicloud.com"), "{other:?}");
    let bad = exported(vec![("HUAWEICLOUD_SDK_REGION", "cn-north-4 ".to_string())]);
    let error = bad.build().unwrap_err();
    assert!(error.to_string().contains("HUAWEICLOUD_SDK_REGION: region"), "{error}");
}
