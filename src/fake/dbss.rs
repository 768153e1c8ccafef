//! DBSS and IAM as the fake plays them: authentication (a signature re-made with this crate's
//! signer, or the token) and the routes: the IAM lookup and both jobs paths.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{FakeDbss, Received, Reply, State, Step};
use crate::credentials::Credentials;
use crate::sign::{SignableRequest, percent_decode, sign};
use crate::sync::lock;
use crate::timestamps::parse_sdk_date;

/// The gateway's tolerance for `X-Sdk-Date`.
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Authenticates, then routes: the IAM lookup, either jobs path, or 404 `APIGW.0101`.
pub(super) fn answer(request: &Received, state: &Mutex<State>) -> Reply {
    if let Err(why) = authenticate(request) {
        let message = format!("Incorrect IAM authentication information: {why}");
        return Reply::gateway(401, "APIGW.0301", &message);
    }
    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let segments: Vec<String> = path.split('/').map(|s| percent_decode(s).into_owned()).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["", "v3", "projects"]) => {
            let injected = lock(state).injected_iam.pop_front();
            injected.unwrap_or_else(|| projects(state, query))
        }
        ("GET", ["", "v1", _, "dbss", "audit", "jobs", resource])
            if !lock(state).documented_path_retired =>
        {
            jobs(state, resource)
        }
        ("GET", ["", "v1", _, "audit", resource, "jobs"]) => jobs(state, resource),
        _ => Reply::gateway(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        ),
    }
}

/// The IAM lookup by region name: the region's project, or none, as real IAM answers.
fn projects(state: &Mutex<State>, query: &str) -> Reply {
    let name = decoded(query).into_iter().find(|(key, _)| key == "name").unwrap_or_default().1;
    let body = match lock(state).projects.get(&name) {
        Some(id) => serde_json::json!({"projects": [{"id": id, "name": name}]}),
        None => serde_json::json!({"projects": []}),
    };
    Reply::new(200, body.to_string())
}

/// An injected reply, or the resource's next step.
fn jobs(state: &Mutex<State>, resource: &str) -> Reply {
    let mut state = lock(state);
    if let Some(reply) = state.injected_for.get_mut(resource).and_then(VecDeque::pop_front) {
        return reply;
    }
    let step = state.scripts.get_mut(resource).and_then(|script| {
        let index = script.served.min(script.steps.len().saturating_sub(1));
        script.served += 1;
        script.steps.get(index).cloned()
    });
    match step {
        Some(Step::Reply(reply)) => reply,
        Some(Step::Jobs(jobs)) => Reply::new(200, serde_json::json!({ "jobs": jobs }).to_string()),
        None => Reply::new(200, r#"{"jobs":[]}"#),
    }
}

/// Accepts the fake's IAM token, or a signature the fake's credentials make for this very
/// request (re-signed with this crate's signer) within 15 minutes of now.
fn authenticate(request: &Received) -> Result<(), String> {
    if let Some(token) = request.header("x-auth-token") {
        return (token == FakeDbss::IAM_TOKEN)
            .then_some(())
            .ok_or_else(|| "the token is not valid".to_string());
    }
    let authorization =
        request.header("authorization").ok_or("no Authorization or X-Auth-Token header")?;
    // The gateway's words for an access key it does not know.
    let access_key = authorization
        .split_once("Access=")
        .and_then(|(_, rest)| rest.split(',').next())
        .unwrap_or_default();
    if access_key != FakeDbss::ACCESS_KEY {
        return Err(format!("Get secretKey failed,ak:{access_key},err:ak not exist"));
    }
    let date = request.header("x-sdk-date").ok_or("no X-Sdk-Date header")?;
    let time = parse_sdk_date(date).ok_or("X-Sdk-Date is malformed")?;
    let now = SystemTime::now();
    let apart = now.duration_since(time).unwrap_or_else(|ahead| ahead.duration());
    if apart > WINDOW {
        let server_time = crate::sign::sdk_date(now).unwrap_or_default();
        return Err(format!(
            "calc ak sk signature fail:signature expired, signature time:{date},server time:{server_time}"
        ));
    }
    let expected = expected_authorization(request, authorization, time)?;
    (expected == authorization)
        .then_some(())
        .ok_or_else(|| "verify aksk signature fail".to_string())
}

/// The `Authorization` the fake's credentials give this request's signed headers.
fn expected_authorization(
    request: &Received,
    authorization: &str,
    time: SystemTime,
) -> Result<String, String> {
    let signed_names = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .ok_or("Authorization has no SignedHeaders")?;
    let headers: Vec<(&str, &str)> = signed_names
        .split(';')
        .filter(|name| *name != "x-sdk-date")
        .filter_map(|name| request.header(name).map(|value| (name, value)))
        .collect();
    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let decoded = decoded(query);
    let pairs: Vec<(&str, &str)> = decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let host = request.header("host").unwrap_or_default();
    let signable =
        SignableRequest::new(&request.method, host, path).with_query(&pairs).with_headers(&headers);
    let credentials = Credentials::new(FakeDbss::ACCESS_KEY, FakeDbss::SECRET_KEY)
        .map_err(|error| error.to_string())?;
    sign(&signable, &credentials, time)
        .map(|signed| signed.authorization().to_string())
        .map_err(|error| error.to_string())
}

/// A query's pairs, percent-decoded.
fn decoded(query: &str) -> Vec<(String, String)> {
    let pairs = query.split('&').filter(|pair| !pair.is_empty());
    let pairs = pairs.map(|pair| pair.split_once('=').unwrap_or((pair, "")));
    pairs.map(|(k, v)| (percent_decode(k).into_owned(), percent_decode(v).into_owned())).collect()
}
