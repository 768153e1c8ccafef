//! Helpers for `build.rs`: which environment variables to tell cargo about.
//!
//! A build script must list the variables it reads (`cargo:rerun-if-env-changed=NAME`), or cargo
//! reruns it on every change in the package, or never notices that the configuration changed. But
//! cargo stores the value of every listed variable in plain text under `target/` (its fingerprint
//! files), so a variable that can carry a secret is never listed.
//!
//! [`rerun_if_env_changed`] lists every variable the crate may read for a region but those that
//! can carry a secret:
//!
//! | variable | listed for cargo |
//! | --- | --- |
//! | `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_PROJECT_ID`, `HUAWEICLOUD_SDK_REGION`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, `HUAWEICLOUD_SDK_CREDENTIALS_FILE`, `HUAWEICLOUD_SDK_REGIONS_FILE`, `HUAWEICLOUD_SDK_REGION_DBSS_<REGION>` | yes (and `rerun-if-changed` for the regions file read) |
//! | `HOME`, `USERPROFILE` (the default profile path), `NO_PROXY`, `no_proxy`, `SSL_CERT_FILE`, `DBSS_JOBS_ECS_METADATA`, `DBSS_JOBS_ECS_METADATA_ENDPOINT` | yes |
//! | `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_SECURITY_TOKEN` (secret) | never |
//! | `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, each in both cases (secret: `http://user:password@proxy:3128`) | never |
//!
//! What you give up: changing only a secret or a proxy variable does not rerun the build script.
//! Change a listed variable with it (the AK, or `NO_PROXY`), or run `cargo clean -p <your crate>`.

use crate::env::{Environment, Var, region_endpoint_variable};
use crate::error::Error;

/// Prints `cargo:rerun-if-env-changed=NAME` for every variable this crate may read for `region`
/// except those that can carry a secret (the table above), and `cargo:rerun-if-changed` for the
/// regions file when there is one.
///
/// ```
/// // build.rs
/// dbss_jobs::build_script::rerun_if_env_changed("cn-north-4");
/// ```
pub fn rerun_if_env_changed(region: &str) {
    for name in variables_to_watch(region) {
        println!("cargo:rerun-if-env-changed={name}");
    }
    if let Some(path) = crate::regions::file_to_watch(&Environment::Process) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The names [`rerun_if_env_changed`] prints, for build scripts that print them otherwise.
///
/// ```
/// let names = dbss_jobs::build_script::variables_to_watch("cn-north-4");
/// assert!(names.contains(&"HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4".to_string()));
/// assert!(!names.contains(&"HUAWEICLOUD_SDK_SK".to_string()));
/// assert!(!names.contains(&"HTTPS_PROXY".to_string()));
/// ```
pub fn variables_to_watch(region: &str) -> Vec<String> {
    let mut names: Vec<String> = Var::ALL
        .iter()
        // DBSS_JOBS_LOG changes what is printed, not what is built.
        .filter(|var| !var.is_secret() && **var != Var::Log)
        .map(|var| var.name().to_string())
        .collect();
    names.push(region_endpoint_variable(region));
    names
}

/// The whole build-script recipe in one call: lists what it reads for cargo (never a secret:
/// [`rerun_if_env_changed`], `DBSS_JOBS_SNAPSHOT` and the snapshot file), answers from the saved
/// `{"jobs":[...]}` body that `DBSS_JOBS_SNAPSHOT` names (a saved answer, as the CLI's JSON output) with no
/// credentials and no traffic, refuses the network under docs.rs (`DOCS_RS`), leaves the ECS
/// metadata step off unless `DBSS_JOBS_ECS_METADATA=on`, and bounds the call to 5 seconds.
///
/// ```no_run
/// // build.rs
/// let jobs = dbss_jobs::build_script::jobs("cn-north-4", "my-instance-id");
/// # drop(jobs);
/// ```
///
/// # Errors
/// As [`Client::get_jobs`](crate::Client::get_jobs); `InvalidInput` under docs.rs, and for a
/// snapshot that cannot be read or is not a `{"jobs":[...]}` body (naming the variable and the
/// file).
pub fn jobs(region: &str, resource_id: &str) -> Result<Vec<crate::model::Job>, Error> {
    rerun_if_env_changed(region);
    let env = Environment::Process;
    if let Some(path) = env.get(Var::Snapshot) {
        println!("cargo:rerun-if-changed={path}");
        let body = std::fs::read(&path).map_err(|error| {
            Error::invalid_input(format!(
                "{} names {path}, which cannot be read ({error})",
                Var::Snapshot.name()
            ))
        })?;
        return crate::model::jobs_from_slice(&body).map_err(|error| {
            Error::invalid_input(format!(
                "{} names {path}, which is not a {{\"jobs\":[...]}} body ({error})",
                Var::Snapshot.name()
            ))
        });
    }
    if env.get(Var::DocsRs).is_some() {
        return Err(Error::invalid_input("docs.rs builds without network"));
    }
    let metadata = crate::env::ecs_metadata_switch(&env)? == Some(true);
    crate::client::Client::builder()
        .region(region)
        .ecs_metadata(metadata)
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get_jobs(resource_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_non_secret_variable_and_no_secret() {
        let names = variables_to_watch("cn-north-4");
        for var in Var::ALL {
            assert_eq!(
                names.contains(&var.name().to_string()),
                !var.is_secret() && *var != Var::Log,
                "{var:?}"
            );
        }
        assert_eq!(
            names.last().map(String::as_str),
            Some("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4")
        );
        for secret in [
            "HUAWEICLOUD_SDK_SK",
            "HUAWEICLOUD_SDK_SECURITY_TOKEN",
            "HUAWEICLOUD_SDK_AUTH_TOKEN",
            "HTTPS_PROXY",
            "http_proxy",
            "ALL_PROXY",
        ] {
            assert!(!names.iter().any(|name| name == secret), "{secret}");
        }
    }
}
