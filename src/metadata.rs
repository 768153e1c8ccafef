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

/// Temporary credentials and when they stop working.
pub(crate) struct Temporary {
    pub(crate) credentials: Credentials,
    pub(crate) expires_at: SystemTime,
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

/// Fetches temporary credentials from the metadata service at `base`.
pub(crate) fn fetch(agent: &ureq::Agent, base: &str) -> Result<Temporary, Error> {
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
    let expires_at = parse_utc_timestamp(&credential.expires_at)
        .ok_or_else(|| failed("the credentials' expires_at is not an RFC 3339 UTC time"))?;
    let credentials = Credentials::new(credential.access, credential.secret)?
        .with_security_token(credential.securitytoken)?;
    Ok(Temporary {
        credentials,
        expires_at,
    })
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

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (what the metadata service sends) to a time.
pub(crate) fn parse_utc_timestamp(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let body = text.strip_suffix('Z').or_else(|| text.strip_suffix('z'))?;
    let (date, clock) = body.split_once(['T', 't', ' '])?;
    let mut date_parts = date.split('-');
    let year: i32 = date_parts.next()?.parse().ok()?;
    let month: u8 = date_parts.next()?.parse().ok()?;
    let day: u8 = date_parts.next()?.parse().ok()?;
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut clock_parts = clock.split(':');
    let hour: u8 = clock_parts.next()?.parse().ok()?;
    let minute: u8 = clock_parts.next()?.parse().ok()?;
    let second: u8 = clock_parts.next()?.parse().ok()?;
    if date_parts.next().is_some() || clock_parts.next().is_some() {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let utc = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day)
        .ok()?
        .with_hms(hour, minute, second)
        .ok()?
        .assume_utc();
    let seconds = u64::try_from(utc.unix_timestamp()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_forms() {
        // 1716888946 is 2024-05-28T09:35:46Z (CPython: calendar.timegm).
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_716_888_946);
        assert_eq!(
            parse_utc_timestamp("2024-05-28T09:35:46.581000Z"),
            Some(expected)
        );
        assert_eq!(parse_utc_timestamp("2024-05-28T09:35:46Z"), Some(expected));
        for junk in [
            "",
            "2024-05-28T09:35:46",
            "2024-13-28T09:35:46Z",
            "2024-05-28T09:35Z",
            "x",
        ] {
            assert_eq!(parse_utc_timestamp(junk), None, "{junk:?}");
        }
    }
}
