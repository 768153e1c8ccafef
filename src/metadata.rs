//! Temporary credentials from the ECS metadata service (the last step of the credential chain).
//!
//! `PUT {base}/meta-data/latest/api/token` (`X-Metadata-Token-Ttl-Seconds: 21600`), then
//! `GET {base}/openstack/latest/securitykey` with `X-Metadata-Token`. Short timeouts, never through a
//! proxy: on a machine that is not an ECS, this must fail fast, not hang a build script.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::error::TransportKind;
use crate::{Credentials, Error};

/// The metadata service of every ECS.
pub(crate) const DEFAULT_METADATA_URL: &str = "http://169.254.169.254";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(3);
const TOKEN_TTL_SECONDS: &str = "21600";
const BODY_LIMIT: u64 = 64 * 1024;

#[derive(Deserialize)]
struct SecurityKey {
    credential: TemporaryCredential,
}

#[derive(Deserialize)]
struct TemporaryCredential {
    access: String,
    secret: String,
    securitytoken: String,
    expires_at: String,
}

pub(crate) fn metadata_agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(TOTAL_TIMEOUT))
        .build();
    ureq::Agent::new_with_config(config)
}

/// Fetches temporary credentials from the metadata service at `base`, with when they expire.
pub(crate) fn fetch(agent: &ureq::Agent, base: &str) -> Result<(Credentials, SystemTime), Error> {
    let failed = |what: &str| Error::invalid_input(format!("ECS metadata {base}: {what}"));
    let token = agent
        .put(format!("{base}/meta-data/latest/api/token"))
        .header("X-Metadata-Token-Ttl-Seconds", TOKEN_TTL_SECONDS)
        .send_empty()
        .map_err(|error| metadata_transport(base, error))
        .and_then(|response| read_ok(base, response))?;
    let token = String::from_utf8(token).map_err(|_| failed("the session token is not text"))?;
    let body = agent
        .get(format!("{base}/openstack/latest/securitykey"))
        .header("X-Metadata-Token", token.trim())
        .call()
        .map_err(|error| metadata_transport(base, error))
        .and_then(|response| read_ok(base, response))?;
    let key: SecurityKey = serde_json::from_slice(&body)
        .map_err(|_| failed("the securitykey answer is not the documented JSON"))?;
    let credential = key.credential;
    let expires_at = crate::timestamps::parse_rfc3339_utc(&credential.expires_at)
        .ok_or_else(|| failed("the credentials' expires_at is not an RFC 3339 UTC time"))?;
    let credentials = Credentials::new(credential.access, credential.secret)?
        .with_security_token(credential.securitytoken)?;
    Ok((credentials, expires_at))
}

fn read_ok(base: &str, mut response: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, Error> {
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Error::invalid_input(format!(
            "ECS metadata {base}: http {status}"
        )));
    }
    response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|error| metadata_transport(base, error))
}

fn metadata_transport(base: &str, error: ureq::Error) -> Error {
    let kind = match error {
        ureq::Error::Timeout(_) => TransportKind::Timeout,
        ureq::Error::ConnectionFailed => TransportKind::Connect,
        _ => TransportKind::Other,
    };
    Error::transport(kind, format!("ECS metadata {base}: {error}"), false)
}
