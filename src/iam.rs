//! The project id from IAM, when none was given: `GET {iam}/v3/projects?name={region}`, cached for
//! the life of the process so that many clients or calls cost one lookup.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use serde::Deserialize;

use crate::api::validate_project_id;
use crate::client::{Client, Target};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::source::Source;

/// The regions with an IAM endpoint of their own, as huaweicloudsdkcore's `auth/endpoint.py`
/// lists them; the others use the global one.
const REGIONAL: &str = "cn-north-2 cn-north-4 cn-north-1 cn-east-2 cn-east-3 cn-south-1 cn-south-2 \
    cn-southwest-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 af-south-1 sa-brazil-1 \
    la-south-2 na-mexico-1 la-north-2 cn-north-9 eu-west-0 my-kualalumpur-1 ru-moscow-1 \
    me-east-1 ap-southeast-4 ae-ad-1 cn-east-4 cn-east-5 tr-west-1 cn-north-12";

/// The IAM endpoint and where it came from: the configured one, else the region's, else the
/// global one; `None` without either. `InvalidInput` for a configured URL that cannot be one.
pub(crate) fn endpoint(
    configured: Option<(String, Source)>,
    region: Option<&str>,
) -> Result<Option<(Endpoint, Source)>, Error> {
    let (url, from) = match (configured, region) {
        (Some((url, source)), _) => {
            let endpoint = Endpoint::parse(&url).map_err(|error| error.named_by(&source))?;
            return Ok(Some((endpoint, source)));
        }
        (None, Some(region)) if REGIONAL.split(' ').any(|known| known == region) => {
            let from = Source::Fallback(format!("the region's ({region})"));
            (format!("https://iam.{region}.myhuaweicloud.com"), from)
        }
        (None, Some(region)) => (
            "https://iam.myhuaweicloud.com".to_string(),
            Source::Fallback(format!(
                "the global one (region {region:?} has no IAM endpoint of its own in the official \
                 SDKs' table)"
            )),
        ),
        (None, None) => return Ok(None),
    };
    Ok(Some((Endpoint::parse(&url)?, from)))
}

impl Client {
    /// The project this client works in, resolved once: configured, else looked up in IAM by
    /// region with a signed request, which counts toward an access key's lock if refused.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when there is no region to look
    /// up; `Api` when IAM answers an error, `Decode` when it names no project or several;
    /// otherwise as [`Client::get_jobs`].
    pub fn resolve_project_id(&self) -> Result<String, Error> {
        self.project_id_within(self.deadline())
    }

    pub(crate) fn project_id_within(&self, deadline: Instant) -> Result<String, Error> {
        if let Some(project_id) = self.project_id.get() {
            return Ok(project_id.clone());
        }
        let config = &self.config;
        let (Some(region), Some(iam_endpoint)) = (config.region.as_deref(), config.iam.as_ref())
        else {
            return Err(Error::invalid_input(
                "no project id given, and no region to look it up in IAM",
            ));
        };
        let auth = self.auth(deadline)?;
        let key = (auth.identity(), iam_endpoint.base.clone(), region.to_string());
        // Not held during the lookup: the lock guard ends with its statement.
        let cached = crate::sync::lock(&CACHE).get(&key).cloned();
        let project_id = match cached {
            Some(project_id) => project_id,
            None => {
                let project_id = self.look_up_project(iam_endpoint, region, deadline)?;
                crate::sync::lock(&CACHE).insert(key, project_id.clone());
                project_id
            }
        };
        Ok(self.project_id.get_or_init(|| project_id).clone())
    }

    pub(crate) fn look_up_project(
        &self,
        iam_endpoint: &Endpoint,
        region: &str,
        deadline: Instant,
    ) -> Result<String, Error> {
        let target = Target {
            endpoint: iam_endpoint,
            path: "/v3/projects",
            query: &[("name", region)],
            project_id: None,
        };
        let context = || format!("IAM project lookup at {}", iam_endpoint.base);
        let (answer, tally) =
            self.send(&target, deadline).map_err(|error| error.in_context(context()))?;
        let result = match answer.is_success() {
            // The id goes into URLs, headers and `Client::check`: one that holds a secret of the request
            // (an IAM that echoes the security token) or a character no id has is refused.
            true => project_from_body(region, answer.body())
                .and_then(|id| match answer.show(&id) == id {
                    true => Ok(id),
                    false => Err("IAM named a project id that holds a secret of the request, or \
                                  a character no id has; pass a project id"
                        .to_string()),
                })
                .map_err(|message| answer.unusable(&message)),
            false => Err(answer.error()),
        };
        result.map_err(|error| tally.explain(error).in_context(context()))
    }
}

#[derive(Deserialize)]
struct Projects {
    #[serde(default)]
    projects: Vec<Project>,
}

#[derive(Deserialize)]
struct Project {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

/// The one project named `region` in a 2xx body of `/v3/projects?name=`, or why the answer
/// cannot be used, in words.
fn project_from_body(region: &str, body: &[u8]) -> Result<String, String> {
    let projects: Projects = serde_json::from_slice(body)
        .map_err(|error| format!("IAM projects answer is not the documented JSON ({error})"))?;
    let mut matching: Vec<Project> = projects
        .projects
        .into_iter()
        .filter(|project| project.name.as_deref().is_none_or(|name| name == region))
        .collect();
    match matching.len() {
        1 => {
            let id = matching.remove(0).id;
            let why = || format!("IAM named a project id that cannot be one: {id:?}");
            validate_project_id(&id).map_err(|_| why())?;
            Ok(id)
        }
        0 => Err(format!("IAM has no project named {region:?}; pass a project id")),
        n => Err(format!("IAM has {n} projects named {region:?}; pass a project id")),
    }
}

/// Who asks ([`crate::Auth::identity`], never a secret), which IAM (base URL), for which region.
type CacheKey = (String, String, String);

/// The project ids looked up, for the life of the process.
static CACHE: LazyLock<Mutex<HashMap<CacheKey, String>>> = LazyLock::new(Mutex::default);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_project() {
        let one = br#"{"projects":[{"id":"p1","name":"cn-north-4","enabled":true}],"links":{}}"#;
        assert_eq!(project_from_body("cn-north-4", one).unwrap(), "p1");
        let none = br#"{"projects":[]}"#;
        assert!(project_from_body("cn-north-4", none).unwrap_err().contains("cn-north-4"));
        let two =
            br#"{"projects":[{"id":"a","name":"cn-north-4"},{"id":"b","name":"cn-north-4"}]}"#;
        assert!(project_from_body("cn-north-4", two).unwrap_err().contains("2 projects"));
        assert!(project_from_body("r", b"nope").is_err());
    }

    #[test]
    fn iam_endpoint_order() {
        let given = |url: &str| Some((url.to_string(), Source::Method("given")));
        let base = |configured, region| {
            endpoint(configured, region)
                .unwrap()
                .map(|(endpoint, from)| (endpoint.base, from.origin()))
        };
        let pair = |base: &str, from: &str| Some((base.to_string(), from.to_string()));
        assert_eq!(
            base(given("https://iam.example.com/"), Some("cn-north-4")),
            pair("https://iam.example.com", "from given")
        );
        assert_eq!(
            base(None, Some("cn-north-4")),
            pair("https://iam.cn-north-4.myhuaweicloud.com", "the region's (cn-north-4)")
        );
        assert_eq!(
            base(None, Some("private-1")),
            pair(
                "https://iam.myhuaweicloud.com",
                "the global one (region \"private-1\" has no IAM endpoint of its own in the \
                 official SDKs' table)"
            )
        );
        assert_eq!(base(None, None), None);
        assert!(endpoint(given("http://iam.example.com"), None).is_err());
    }
}
