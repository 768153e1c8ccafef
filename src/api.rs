//! The facts of the API this crate calls: which path of `ListAuditInstanceJobs` to use, what an
//! id may be, and the `User-Agent` the crate sends.

use crate::endpoint::REGIONS;
use crate::error::Error;

/// Sent as `User-Agent` (and signed, as the official SDKs do with theirs).
pub(crate) const USER_AGENT: &str = concat!("dbss-jobs/", env!("CARGO_PKG_VERSION"));

/// Which URI the jobs are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum JobsPath {
    /// `GET /v1/{project_id}/dbss/audit/jobs/{resource_id}`, the documented API (marked by Huawei
    /// as to be retired).
    Documented,
    /// `GET /v1/{project_id}/audit/{resource_id}/jobs`, its replacement.
    Newer,
    /// The default: the documented path, then the newer one for the rest of the client's life
    /// once the gateway answers 404 `APIGW.0101` (no such API).
    #[default]
    Auto,
}

/// Rejects ids that cannot name a resource, or name one by mistake (white space at an end).
pub(crate) fn validate_id(what: &str, id: &str) -> Result<(), Error> {
    let problem = if id.is_empty() {
        "is empty".to_string()
    } else if id == "." || id == ".." {
        format!("must not be {id:?}")
    } else if id.chars().any(char::is_control) {
        format!("{id:?} contains a control character")
    } else if id.trim() != id {
        format!(
            "{id:?} begins or ends with white space, which no id has (copied with a space?); \
             it would list nothing"
        )
    } else {
        return Ok(());
    };
    Err(Error::invalid_input(format!("{what} {problem}")))
}

/// A project id: as any id, and not a region name (a common mix-up).
pub(crate) fn validate_project_id(project_id: &str) -> Result<(), Error> {
    validate_id("project id", project_id)?;
    if REGIONS.contains(&project_id) {
        return Err(Error::invalid_input(format!(
            "project id {project_id:?} is a region name; the project id is the 32-hex-digit id \
             that IAM lists for the region (console: My Credentials, Projects)"
        )));
    }
    Ok(())
}
