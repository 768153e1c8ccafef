//! Endpoints the official SDKs can reach: the region's variable, its precedence, and failover
//! across several endpoints when a host cannot be resolved or its TLS handshake fails. Every host
//! is loopback or one no resolver is asked about.

use dbss_jobs::{Client, Credentials};

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

/// The variable adds a region and wins over the built-in table; the official SDKs' regions file
/// is not read (the docs say so): a region only it names stays unknown.
#[test]
fn the_variable_adds_regions_and_the_regions_file_is_not_read() {
    let server = Server::json(200, JOBS);
    let home = TempDir::new("regions-home");
    let yaml = format!("DBSS:\n  - id: my-home-region\n    endpoint: {}\n", server.url());
    home.write(".huaweicloud/regions.yaml", &yaml);
    let home = ("HOME".to_string(), home.0.to_string_lossy().into_owned());
    let unknown = in_region("my-home-region", vec![home.clone()]).unwrap_err();
    assert!(unknown.to_string().contains("unknown region"), "{unknown}");
    for region in ["my-private-1", "cn-north-4"] {
        let name =
            format!("HUAWEICLOUD_SDK_REGION_DBSS_{}", region.to_uppercase().replace('-', "_"));
        in_region(region, vec![home.clone(), (name, server.url())]).unwrap().get_jobs("r").unwrap();
    }
    assert_eq!(server.requests().len(), 2);
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
