//! The one call of the DBSS API this crate makes, `ListAuditInstanceJobs`, on its two paths; the
//! client below sends any path, so a second API call is a module like this.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::api::{JobsPath, validate_id, validate_project_id};
use crate::client::Client;
use crate::error::Error;
use crate::model::{Job, jobs_from_slice};
use crate::sign::percent_encode;

/// `/v1/{project_id}/dbss/audit/jobs/{resource_id}`, or the newer
/// `/v1/{project_id}/audit/{resource_id}/jobs`, each id one percent-encoded segment.
pub(crate) fn jobs_path(project_id: &str, resource_id: &str, newer: bool) -> String {
    let mut path = String::from("/v1/");
    percent_encode(&mut path, project_id);
    path.push_str(if newer { "/audit/" } else { "/dbss/audit/jobs/" });
    percent_encode(&mut path, resource_id);
    if newer {
        path.push_str("/jobs");
    }
    path
}

impl Client {
    /// Lists the creation jobs of the audit instance `resource_id` in the client's project
    /// ([`Client::resolve_project_id`]), the id sent as one percent-encoded path segment (see
    /// [`JobsPath`] and [the request-URI contract](Client#the-request-uri-contract)).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before any traffic, for an id
    /// that is empty, `.` or `..`, or has a control character or white space at an end; else as
    /// [`Error`'s failure table](Error#failure-behaviour) and [`Client::resolve_project_id`] say.
    pub fn get_jobs(&self, resource_id: &str) -> Result<Vec<Job>, Error> {
        validate_id("resource id", resource_id)?;
        let deadline = self.deadline();
        let project_id = self.project_id_within(deadline)?;
        self.get_jobs_within(&project_id, resource_id, deadline)
    }

    /// [`Client::get_jobs`] in another project than the client's.
    ///
    /// # Errors
    /// As [`Client::get_jobs`]; an empty or malformed project id, or a region name given as one,
    /// is `InvalidInput`.
    pub fn get_jobs_in(&self, project_id: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
        validate_project_id(project_id)?;
        validate_id("resource id", resource_id)?;
        self.get_jobs_within(project_id, resource_id, self.deadline())
    }

    /// The jobs, before `deadline`, on the path the settings and the gateway decide (ids checked).
    pub(crate) fn get_jobs_within(
        &self,
        project_id: &str,
        resource_id: &str,
        deadline: Instant,
    ) -> Result<Vec<Job>, Error> {
        let newer = match self.config.jobs_path {
            JobsPath::Documented => false,
            JobsPath::Newer => true,
            JobsPath::Auto => self.newer_path_learned.load(Ordering::Relaxed),
        };
        self.get_jobs_at(project_id, resource_id, newer, deadline)
    }

    /// One path; with [`JobsPath::Auto`], a 404 `APIGW.0101` on the documented path sends the
    /// call (and the client, from now on) to the newer one.
    fn get_jobs_at(
        &self,
        project_id: &str,
        resource_id: &str,
        newer: bool,
        deadline: Instant,
    ) -> Result<Vec<Job>, Error> {
        let path = jobs_path(project_id, resource_id, newer);
        let (answer, tally) = self.send_to_an_endpoint(&path, &[], project_id, deadline)?;
        if self.config.jobs_path == JobsPath::Auto && !newer && answer.said.no_such_api {
            self.newer_path_learned.store(true, Ordering::Relaxed);
            // An error on the newer path says that both were tried, with the first one's id.
            let id = answer.request_id().map_or(String::new(), |id| format!(", request id {id}"));
            let tried = format!("the documented path answered 404 APIGW.0101{id}; the newer path");
            return self
                .get_jobs_at(project_id, resource_id, true, deadline)
                .map_err(|error| error.in_context(tried));
        }
        answer.decode(jobs_from_slice).map_err(|error| tally.explain(error))
    }
}

/// The one-liner: a client of `region` with the default settings (the credential chain, the
/// project id configured or looked up in IAM), asked once.
///
/// # Errors
/// As [`ClientBuilder::build`](crate::ClientBuilder::build) and [`Client::get_jobs`].
pub fn get_jobs(region: &str, resource_id: &str) -> Result<Vec<Job>, Error> {
    Client::builder().region(region).build()?.get_jobs(resource_id)
}

/// Reads a saved success body of the jobs API, `{"jobs":[...]}` (a snapshot), as the client reads
/// a 200.
///
/// # Errors
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the bytes are not that JSON.
pub fn parse_jobs(body: &[u8]) -> Result<Vec<Job>, Error> {
    jobs_from_slice(body).map_err(|error| {
        let message = format!("body is not the documented JSON ({error})");
        Error::decode(200, None, crate::redact::shown(&message))
    })
}

#[cfg(test)]
mod tests {
    //! The success body read by the answer reader: jobs, or a typed error, whatever the bytes.

    use std::time::SystemTime;

    use crate::error::{Error, ErrorKind};
    use crate::gateway::Answer;
    use crate::model::{Job, jobs_from_slice};
    use crate::redact::Secrets;

    fn answer(status: u16, body: &[u8]) -> Answer {
        Answer::read(
            status,
            vec![],
            body.to_vec(),
            SystemTime::UNIX_EPOCH,
            &Secrets::default(),
            None,
        )
    }

    use proptest::prelude::*;

    /// JSON-ish values to put where the API has fields: right and wrong types alike.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            prop_oneof![Just("SUCCESS"), Just("FAIL"), Just("Demand")].prop_map(Value::from),
        ]
    }

    fn check_outcome(status: u16, result: Result<Vec<Job>, Error>) -> Result<(), TestCaseError> {
        let success = (200..=299).contains(&status);
        match result {
            Ok(_) => prop_assert!(success),
            Err(error) if success => prop_assert_eq!(error.kind(), ErrorKind::Decode),
            Err(error) => {
                prop_assert_eq!(error.kind(), ErrorKind::Api);
                prop_assert_eq!(error.status(), Some(status));
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_bytes_and_status_give_jobs_or_a_typed_error(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            check_outcome(status, answer(status, &body).decode(jobs_from_slice))?;
        }

        #[test]
        fn json_shaped_bodies_give_jobs_or_a_typed_error(
            status in prop_oneof![Just(200u16), 100u16..600],
            fields in proptest::collection::vec(
                (prop_oneof![Just("job_id"), Just("status"), Just("begin_time"), Just("charge_mode"), Just("error_code"), Just("error_msg"), Just("code")], json_value()),
                0..6,
            ),
            wrap in any::<bool>(),
        ) {
            let object: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let body = if wrap {
                serde_json::json!({ "jobs": [object] })
            } else {
                serde_json::json!({ "error": object })
            };
            check_outcome(status, answer(status, body.to_string().as_bytes()).decode(jobs_from_slice))?;
        }
    }

    #[test]
    fn success_bodies() {
        assert_eq!(answer(200, br#"{"jobs":[]}"#).decode(jobs_from_slice).unwrap(), vec![]);
        assert_eq!(answer(200, br#"{"jobs":null}"#).decode(jobs_from_slice).unwrap(), vec![]);
        assert_eq!(answer(200, b"{}").decode(jobs_from_slice).unwrap(), vec![]);
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            br#"{"jobs":[["id"]]}"#,
            br#"{"jobs":{}}"#,
            br#"{"jobs":[{"job_id":1}]}"#,
            b"\xff\xfe",
        ] {
            let headers = vec![("x-request-id".to_string(), "rid".to_string())];
            let now = SystemTime::UNIX_EPOCH;
            let answer = Answer::read(200, headers, bad.to_vec(), now, &Secrets::default(), None);
            let error = answer.decode(jobs_from_slice).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Decode, "{bad:?}");
            assert_eq!(error.request_id(), Some("rid"));
        }
    }
}
