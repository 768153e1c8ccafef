//! Conformance with Huawei's own signer: `shared/oracle/verify_server.py` re-signs every request
//! with the official Python SDK and accepts it only if our `Authorization` is byte-identical.
//!
//! These tests are `#[ignore]`d, so that `cargo test` on a machine without the oracle says so
//! ("N ignored") rather than passing them unchecked; `cargo test -- --ignored` runs them, and
//! needs `DBSS_ORACLE_PYTHON` to name a Python that has `huaweicloudsdkcore` (`.ci/setup` makes
//! such a venv; without it they fail, saying so). The server script is `DBSS_ORACLE_SERVER`,
//! else `../shared/oracle/verify_server.py`.

use std::time::Duration;

use crate::support::{AK, Oracle, SK};

use dbss_jobs::{Client, Credentials, ErrorKind, IamToken, JobStatus};

#[track_caller]
fn check_accepted(oracle: &Oracle, client: &Client, project_id: &str, resource_id: &str) {
    let jobs = client.get_jobs_in(project_id, resource_id).unwrap_or_else(|e| {
        panic!("Huawei's signer rejected {project_id:?}/{resource_id:?}: {e}\n{}", oracle.log())
    });
    assert_eq!(jobs.len(), 2);
    // The server decodes the path it received: the id must arrive intact.
    assert_eq!(jobs[0].resource_id.as_deref(), Some(resource_id));
    assert_eq!(jobs[0].status, Some(JobStatus::Success));
    assert_eq!(jobs[1].status, Some(JobStatus::Running));
}

const ODD_IDS: &[(&str, &str)] = &[
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "plain-instance-01"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "my resource 01"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "资源-café-😀"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "a/b"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "a+b"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "100%"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "a%20b"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "~tilde~"),
    ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "a?b#c&d=e"),
    ("projet été", "inner  spaces"),
];

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_signer_accepts_aksk_requests_with_odd_ids() {
    let oracle = Oracle::start(&[]);
    let client = oracle.client(Credentials::new(AK, SK).unwrap());
    for (project_id, resource_id) in ODD_IDS {
        check_accepted(&oracle, &client, project_id, resource_id);
    }
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_signer_accepts_temporary_credentials() {
    let token = "temporary/security+token==";
    let oracle = Oracle::start(&["--security-token", token]);
    let credentials = Credentials::new(AK, SK).unwrap().with_security_token(token).unwrap();
    let client = oracle.client(credentials);
    for (project_id, resource_id) in ODD_IDS {
        check_accepted(&oracle, &client, project_id, resource_id);
    }
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_oracle_accepts_an_iam_token() {
    let oracle = Oracle::start(&["--token", "iam-token-value"]);
    let client = oracle.client(IamToken::new("iam-token-value").unwrap());
    check_accepted(&oracle, &client, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "my resource 01");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn a_wrong_secret_key_is_a_typed_401_with_request_id() {
    let oracle = Oracle::start(&[]);
    let client = oracle.client(Credentials::new(AK, "not-the-right-secret-key").unwrap());
    let error = client.get_jobs_in("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "instance-1").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error}");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.error_code(), Some("APIGW.0301"));
    assert!(error.error_msg().unwrap().contains("verify aksk signature fail"), "{error}");
    let request_id = error.request_id().expect("request id");
    assert_eq!(request_id.len(), 32, "{request_id}");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_signer_accepts_the_iam_lookup_and_jobs_call_made_through_the_chain() {
    let oracle = Oracle::start(&["--project-id", "oracle-project-7"]);
    let url = format!("http://127.0.0.1:{}", oracle.port);
    let client = Client::builder()
        .region("cn-north-4")
        .endpoint(&url)
        .iam_endpoint(&url)
        .environment([
            ("HUAWEICLOUD_SDK_AK", AK),
            ("HUAWEICLOUD_SDK_SK", SK),
            ("HOME", "/nonexistent"),
        ])
        .build()
        .unwrap();
    let project_id = client
        .resolve_project_id()
        .unwrap_or_else(|e| panic!("IAM lookup rejected: {e}\n{}", oracle.log()));
    assert_eq!(project_id, "oracle-project-7");
    check_accepted(&oracle, &client, &project_id, "my resource 01");
    assert!(oracle.log().contains("=> 200 IAM projects"), "{}", oracle.log());
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_signer_accepts_temporary_credentials_from_a_profile_file() {
    let token = "profile/security+token==";
    let oracle = Oracle::start(&["--security-token", token, "--project-id", "oracle-project-8"]);
    let url = format!("http://127.0.0.1:{}", oracle.port);
    let dir = crate::support::TempDir::new("oracle-profile");
    let profile = dir.write(
        "credentials",
        &format!("[basic]\nak = {AK}\nsk = {SK}\nsecurity_token = {token}\n"),
    );
    // A region of its own: the project cache is per (AK, region) and process-wide.
    let client = crate::support::without_credentials(&url)
        .region("cn-east-3")
        .iam_endpoint(&url)
        .profile_file(&profile)
        .build()
        .unwrap();
    let project_id = client
        .resolve_project_id()
        .unwrap_or_else(|e| panic!("IAM lookup rejected: {e}\n{}", oracle.log()));
    assert_eq!(project_id, "oracle-project-8");
    check_accepted(&oracle, &client, &project_id, "资源-café-😀");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_signer_accepts_the_newer_path() {
    let oracle = Oracle::start(&[]);
    let client = crate::support::client(format!("http://127.0.0.1:{}", oracle.port))
        .auth(Credentials::new(AK, SK).unwrap())
        .jobs_path(dbss_jobs::JobsPath::Newer)
        .build()
        .unwrap();
    for (project_id, resource_id) in ODD_IDS {
        check_accepted(&oracle, &client, project_id, resource_id);
    }
    assert!(oracle.log().contains("/audit/plain-instance-01/jobs"), "{}", oracle.log());
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn huawei_signer_accepts_requests_over_https() {
    let data = |name: &str| crate::support::tls_data(name).display().to_string();
    let (cert, key) = (data("localhost.pem"), data("localhost.key"));
    let oracle = Oracle::start(&["--tls-cert", &cert, "--tls-key", &key]);
    for host in ["127.0.0.1", "localhost"] {
        let client = crate::support::client(format!("https://{host}:{}", oracle.port))
            .auth(Credentials::new(AK, SK).unwrap())
            .root_certificates_pem(crate::support::ca_pem())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        for (project_id, resource_id) in ODD_IDS {
            check_accepted(&oracle, &client, project_id, resource_id);
        }
    }
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn a_wrong_secret_key_in_the_cli_ends_with_the_hint_and_shows_the_canonical_request_with_vv() {
    use crate::support::{check_exit, get_jobs};
    let oracle = Oracle::start(&[]);
    let run = |flags: &[&str]| {
        get_jobs()
            .args(flags)
            .args(["--endpoint", &format!("http://127.0.0.1:{}", oracle.port)])
            .args(["--project-id", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "instance-1"])
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", "not-the-right-secret-key")
            .output()
            .unwrap()
    };
    let quiet = run(&[]);
    check_exit(&quiet, 5);
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    // The gateway echoed its canonical request: the message already says the SK is not the
    // AK's, so no rerun (which would count toward the lock) is suggested.
    assert!(
        stderr.contains("APIGW.0301")
            && stderr.contains("the secret key does not belong to this access key")
            && !stderr.contains("rerun"),
        "{stderr}"
    );
    let very = run(&["-vv"]);
    check_exit(&very, 5);
    let stderr = String::from_utf8_lossy(&very.stderr);
    assert!(
        stderr.contains(">   /v1/0a1b2c3d4e5f60718293a4b5c6d7e8f9/dbss/audit/jobs/instance-1/"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-right-secret-key"));
    eprintln!("-vv transcript of a rejected request:\n{stderr}");
}
