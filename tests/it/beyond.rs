//! Beyond the official SDKs: the process-wide ECS metadata switch, clock-skew recovery, the fake
//! DBSS and the build-script recipe.

use std::time::Duration;

use dbss_jobs::{Client, ErrorKind};

use crate::support::Server;

#[test]
fn dbss_jobs_ecs_metadata_off_keeps_the_chain_from_the_metadata_service() {
    let metadata = Server::json(200, "{}");
    let build = |value: &str| {
        Client::builder()
            .endpoint("https://dbss.example.com")
            .metadata_endpoint(metadata.url())
            .environment([("HOME", "/nonexistent"), ("DBSS_JOBS_ECS_METADATA", value)])
            .timeout(Duration::from_secs(2))
            .build()
    };
    let error = build("off").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.is_missing_credentials(), "{error}");
    assert!(
        error
            .to_string()
            .contains("ECS metadata (turned off by DBSS_JOBS_ECS_METADATA)"),
        "{error}"
    );
    let error = build("maybe").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("DBSS_JOBS_ECS_METADATA must be on or off"),
        "{error}"
    );
    assert!(build("on").is_ok());
    assert_eq!(metadata.requests().len(), 0);
}
