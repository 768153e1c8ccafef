//! Helpers for `build.rs`: which environment variables to tell cargo about.
//!
//! cargo stores every variable a build script lists in plain text under `target/`, so
//! [`rerun_if_env_changed`] lists every variable the crate may read for a region but those that
//! can carry a secret:
//!
//! | variable | listed for cargo |
//! | --- | --- |
//! | `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_PROJECT_ID`, `HUAWEICLOUD_SDK_REGION`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, `HUAWEICLOUD_SDK_CREDENTIALS_FILE`, `HUAWEICLOUD_SDK_REGION_DBSS_<REGION>` | yes |
//! | `HOME`, `USERPROFILE` (the default profile path), `NO_PROXY`, `no_proxy`, `SSL_CERT_FILE`, `DBSS_JOBS_ECS_METADATA`, `DBSS_JOBS_ECS_METADATA_ENDPOINT` | yes |
//! | `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_SECURITY_TOKEN` (secret) | never |
//! | `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, each in both cases (secret: `http://user:password@proxy:3128`) | never |
//!
//! What you give up: changing only a secret or a proxy variable does not rerun the build script.
//! Change a listed variable with it (the AK, or `NO_PROXY`), or run `cargo clean -p <your crate>`.

use std::path::{Path, PathBuf};

use crate::client::Client;
use crate::env::{Environment, Var, region_endpoint_variable};
use crate::error::Error;
use crate::model::{Job, jobs_from_slice};

/// Prints `cargo:rerun-if-env-changed=NAME` for the variables the table above lists.
pub fn rerun_if_env_changed(region: &str) {
    // A control character would end the line, and cargo would read the rest as a directive.
    let printable = |text: &str| !text.chars().any(char::is_control);
    for name in variables_to_watch(region).into_iter().filter(|name| printable(name)) {
        println!("cargo:rerun-if-env-changed={name}");
    }
}

/// The names [`rerun_if_env_changed`] prints.
fn variables_to_watch(region: &str) -> Vec<String> {
    let mut names: Vec<String> = Var::ALL
        .iter()
        // DBSS_JOBS_LOG changes what is printed, not what is built.
        .filter(|var| !var.is_secret() && **var != Var::Log)
        .map(|var| var.name().to_string())
        .collect();
    names.push(region_endpoint_variable(region));
    names
}

/// The [build-script recipe](crate#in-a-build-script). A relative snapshot path is relative to
/// `CARGO_MANIFEST_DIR`; under docs.rs there is no live read, elsewhere at most 5 s of one.
///
/// # Errors
/// What must fail the build: a snapshot that is set but empty, missing, unreadable or not a
/// `{"jobs":[...]}` body, and settings that are wrong rather than absent (a malformed profile
/// file, a bad region or endpoint). Never missing credentials.
pub fn jobs(region: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
    rerun_if_env_changed(region);
    let env = Environment::Process;
    let snapshot = snapshot_to_read(&env)?;
    if env.get(Var::DocsRs).is_none() {
        let metadata = crate::env::ecs_metadata_switch(&env)? == Some(true);
        let builder = Client::builder().region(region).ecs_metadata(metadata);
        match builder.timeout(std::time::Duration::from_secs(5)).build() {
            Ok(client) => return Ok(client.get_jobs(resource_id).unwrap_or_else(read_again)),
            Err(error) if error.is_missing_credentials() => {}
            Err(error) => return Err(error),
        }
    }
    let Some(path) = snapshot else {
        let why = match env.get(Var::DocsRs) {
            Some(_) => "docs.rs builds without network",
            None => "no credentials",
        };
        let snapshot = Var::Snapshot.name();
        println!("cargo:warning=DBSS jobs not read, building with none: {why}, and no {snapshot}");
        return Ok(Vec::new());
    };
    let shown = crate::redact::shown_path(&path);
    let refused = |what: String| {
        Error::invalid_input(format!("{} names {shown}, {what}", Var::Snapshot.name()))
    };
    let body =
        std::fs::read(&path).map_err(|error| refused(format!("which cannot be read ({error})")))?;
    // Stricter than an answer's body: a snapshot without its list (`{}`, a saved error answer)
    // is a mistake, not an instance without jobs.
    let listed = serde_json::from_slice::<serde_json::Value>(&body)
        .is_ok_and(|value| value.get("jobs").is_some_and(serde_json::Value::is_array));
    let jobs = jobs_from_slice(&body).map_err(|error| error.to_string());
    jobs.and_then(|jobs| if listed { Ok(jobs) } else { Err("no jobs list".into()) })
        .map_err(|why| refused(format!("which is not a {{\"jobs\":[...]}} body ({why})")))
}

/// The snapshot `DBSS_JOBS_SNAPSHOT` names, relative to the package, watched for changes; a
/// control character (a CRLF `.env` file's `\r`) would split cargo's line, so it is refused.
fn snapshot_to_read(env: &Environment) -> Result<Option<PathBuf>, Error> {
    let Some(path) = env.get(Var::Snapshot) else {
        // Set but empty is a snapshot asked for and not given (CI's `${SNAPSHOT}` unset).
        if std::env::var_os(Var::Snapshot.name()).is_some() {
            let why = "is set but empty";
            return Err(Error::invalid_input(format!("{}: {why}", Var::Snapshot.name())));
        }
        return Ok(None);
    };
    if path.chars().any(char::is_control) {
        let shown = path.escape_debug();
        let why = "holds a control character (a CRLF line end?)";
        return Err(Error::invalid_input(format!("{}: \"{shown}\" {why}", Var::Snapshot.name())));
    }
    let package = env.get_named("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let path = package.join(path);
    println!("cargo:rerun-if-changed={}", path.display());
    Ok(Some(path))
}

/// A failed live read: no jobs, one warning, and the next build runs this build script again.
fn read_again(error: Error) -> Vec<Job> {
    if let Some(out_dir) = std::env::var_os("OUT_DIR") {
        let never_written = Path::new(&out_dir).join("dbss-jobs-read-again");
        println!("cargo:rerun-if-changed={}", never_written.display());
    }
    println!(
        "cargo:warning=DBSS jobs not read, building with none (the next build reads again): {error}"
    );
    Vec::new()
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
