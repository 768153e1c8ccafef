//! Endpoints the official SDKs can reach: the regions file (`HUAWEICLOUD_SDK_REGIONS_FILE`), its
//! precedence, and failover across several endpoints when a host cannot be resolved or its TLS
//! handshake fails. Every host is loopback or one no resolver is asked about.

use dbss_jobs::{Client, Credentials, ErrorKind};

use crate::support::{Script, TlsServer, ca_pem};
use crate::support::{Server, TempDir, unresolvable_host};

const JOBS: &str = r#"{"jobs":[{"job_id":"j","status":"SUCCESS"}]}"#;

fn in_region(region: &str, vars: Vec<(String, String)>) -> Result<Client, dbss_jobs::Error> {
    Client::builder()
        .region(region)
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .environment(vars)
        .root_certificates_pem(ca_pem())
        .build()
}

fn regions_file(dir: &TempDir, text: &str) -> (String, String) {
    let path = dir.write("regions.yaml", text);
    ("HUAWEICLOUD_SDK_REGIONS_FILE".to_string(), path.to_string_lossy().into_owned())
}

#[test]
fn the_regions_file_adds_regions_and_yields_to_the_variable() {
    let from_file = Server::json(200, JOBS);
    let from_variable = Server::json(200, JOBS);
    let dir = TempDir::new("regions");
    let file = regions_file(
        &dir,
        &format!(
            "# as the official SDKs write it\ndbss:\n  - id: my-private-1\n    endpoint: {}\n  - id: cn-north-4\n    endpoints: [{}]\n",
            from_file.url(),
            from_file.url()
        ),
    );
    in_region("my-private-1", vec![file.clone()]).unwrap().get_jobs("r").unwrap();
    in_region("cn-north-4", vec![file.clone()]).unwrap().get_jobs("r").unwrap();
    assert_eq!(from_file.requests().len(), 2, "the file wins over the built-in table");
    let variable = ("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4".to_string(), from_variable.url());
    in_region("cn-north-4", vec![file, variable]).unwrap().get_jobs("r").unwrap();
    assert_eq!(from_variable.requests().len(), 1, "the variable wins over the file");
    assert_eq!(from_file.requests().len(), 2);
}

#[test]
fn a_regions_file_outside_the_subset_names_its_line() {
    let dir = TempDir::new("regions-bad");
    let file = regions_file(&dir, "DBSS:\n  - id: r1\n    url: https://dbss.example.com\n");
    let error = in_region("r1", vec![file]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let message = error.to_string();
    assert!(
        message.contains("regions.yaml, which has at line 3 what is not `endpoint: <url>`"),
        "{message}"
    );
    let missing =
        ("HUAWEICLOUD_SDK_REGIONS_FILE".to_string(), "/nonexistent/regions.yaml".to_string());
    let error = in_region("r1", vec![missing]).unwrap_err();
    let wanted =
        "HUAWEICLOUD_SDK_REGIONS_FILE names /nonexistent/regions.yaml, which cannot be read";
    assert!(error.to_string().contains(wanted), "{error}");
}

#[test]
fn a_call_moves_on_from_an_unresolvable_host_and_a_failed_handshake() {
    let good = Server::json(200, JOBS);
    let wrong_certificate = TlsServer::start("other-host", Script::Serve, JOBS);
    let unresolvable = format!("https://{}", unresolvable_host());
    let client = Client::builder()
        .endpoints([unresolvable.clone(), wrong_certificate.url(), good.url()])
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .root_certificates_pem(ca_pem())
        .build()
        .unwrap();
    assert_eq!(client.get_jobs("r").unwrap().len(), 1);
    assert_eq!(wrong_certificate.connections(), 1);
    client.get_jobs("r").unwrap();
    assert_eq!(good.requests().len(), 2);
    assert_eq!(wrong_certificate.connections(), 1, "the endpoint that worked is kept");
    // The variable's comma-separated list fails over the same way.
    let variable = (
        "HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4".to_string(),
        format!("{unresolvable},{}", good.url()),
    );
    in_region("cn-north-4", vec![variable]).unwrap().get_jobs("r").unwrap();
    assert_eq!(good.requests().len(), 3);
}

#[test]
fn when_every_endpoint_fails_the_error_lists_each() {
    let wrong_certificate = TlsServer::start("other-host", Script::Serve, JOBS);
    let unresolvable = format!("https://{}", unresolvable_host());
    let error = Client::builder()
        .endpoints([unresolvable.clone(), wrong_certificate.url()])
        .auth(Credentials::new("AK", "SK").unwrap())
        .project_id("p")
        .root_certificates_pem(ca_pem())
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err();
    assert!(error.is_tls(), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("every endpoint failed ({unresolvable}: transport error: "))
            && message.contains("could not be resolved")
            && message.contains("not valid for this host name"),
        "{message}"
    );
}

#[test]
fn the_default_regions_file_is_read_from_home() {
    let server = Server::json(200, JOBS);
    let home = TempDir::new("regions-home");
    home.write(
        ".huaweicloud/regions.yaml",
        &format!("DBSS:\n  - id: my-home-region\n    endpoints:\n      - {}\n", server.url()),
    );
    let vars = vec![("HOME".to_string(), home.0.to_string_lossy().into_owned())];
    in_region("my-home-region", vars).unwrap().get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_regions_file_written_by_pythons_yaml_dump_is_read() {
    let server = Server::json(200, JOBS);
    let dir = TempDir::new("regions-yaml-dump");
    // As `yaml.dump({"DBSS": [{"id": ..., "endpoint": ...}]})` writes it: items at column 0,
    // keys in alphabetical order; the service key quoted, as some writers do. The ECS entry is not
    // DBSS's: my-private-3 stays unknown.
    let text = format!(
        "'DBSS':\n- endpoint: {}\n  id: my-private-1\n- endpoints:\n  - {}\n  id: my-private-2\n\
         ECS:\n- endpoint: https://ecs.example.com\n  id: my-private-3\n",
        server.url(),
        server.url()
    );
    let file = regions_file(&dir, &text);
    for region in ["my-private-1", "my-private-2"] {
        in_region(region, vec![file.clone()]).unwrap().get_jobs("r").unwrap();
    }
    assert_eq!(server.requests().len(), 2);
    let built_in = in_region("cn-north-4", vec![file.clone()]).unwrap();
    assert!(format!("{built_in:?}").contains("dbss.cn-north-4.myhuaweicloud.com"));
    let unknown = in_region("my-private-3", vec![file.clone()]).unwrap_err();
    assert!(unknown.to_string().contains(&file.1), "{unknown}");
}
