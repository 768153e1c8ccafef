//! Huawei Cloud's `SDK-HMAC-SHA256` request signing (the API gateway's AK/SK scheme), one function
//! per stage of [Huawei's signing guide](https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-001.html):
//!
//! 1. [the canonical request](https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-002.html):
//!    method, canonical URI, canonical query, canonical headers and signed headers, payload hash;
//! 2. [the string to sign](https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-003.html);
//! 3. [the signature](https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-004.html);
//! 4. [the `Authorization` header](https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-005.html).
//!
//! [`sign`] returns every stage, a pure function of the request, the credentials and the time.
//! Where the guide is silent, the official SDK signer decides (its vectors check every stage).

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::credentials::Credentials;
use crate::error::Error;

const ALGORITHM: &str = "SDK-HMAC-SHA256";
const HEADER_DATE: &str = "X-Sdk-Date";
const HEADER_CONTENT_SHA256: &str = "X-Sdk-Content-Sha256";
const HEADER_SECURITY_TOKEN: &str = "X-Security-Token";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty input: the payload hash of every request without a body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A request to sign, in the parts the signature is computed from (see [`sign`]'s example).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SignableRequest<'a> {
    /// HTTP method; upper-cased for signing.
    pub method: &'a str,
    /// The `Host` header to send: the endpoint's authority exactly as written (`host` or
    /// `host:port`). A `Host` entry in `headers` takes precedence, as in the official signer.
    pub host: &'a str,
    /// The path exactly as it will be sent (percent-encoded), starting with `/`.
    pub path: &'a str,
    /// Query parameters, decoded. Their order does not matter: they are sent in canonical order.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers set by the caller. Values are trimmed; names containing `_` are sent but not signed.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body; empty for none.
    pub body: &'a [u8],
}

impl<'a> SignableRequest<'a> {
    /// A request without query, headers or body.
    pub fn new(method: &'a str, host: &'a str, path: &'a str) -> Self {
        SignableRequest { method, host, path, query: &[], headers: &[], body: b"" }
    }

    /// The query parameters, decoded.
    pub fn with_query(mut self, query: &'a [(&'a str, &'a str)]) -> Self {
        self.query = query;
        self
    }

    /// The caller's headers.
    pub fn with_headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The body.
    pub fn with_body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }
}

/// The result of [`sign`]: what to send, and every stage. `Debug` shows the signed header names.
#[derive(Clone)]
pub struct SignedRequest {
    canonical_request: String,
    string_to_sign: String,
    signed_headers: String,
    authorization: String,
    signature: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl SignedRequest {
    /// `METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash`.
    pub fn canonical_request(&self) -> &str {
        &self.canonical_request
    }

    /// `SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(canonical request))`.
    pub fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }

    /// The signed header names, lower-case, sorted, `;`-joined.
    pub fn signed_headers(&self) -> &str {
        &self.signed_headers
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    /// The signature alone (64 lower-case hex digits), the end of [`authorization`](Self::authorization).
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The query string to send (without `?`): the canonical query.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Every header to send, in order: the caller's (values trimmed), then those the signer adds:
    /// `X-Security-Token` (unless given), `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (for a
    /// `Content-Type` not `application/json…` or `application/bson…`), `X-Sdk-Date`, `Host` (unless
    /// given) and `Authorization`.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// Signs `request` with `credentials` at `time`; [`SignedRequest::headers`] lists what it adds.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use dbss_jobs::{Credentials, sign::{sign, SignableRequest}};
///
/// let credentials = Credentials::new("AK", "SK")?;
/// let headers = [("Content-Type", "application/json")];
/// let request = SignableRequest::new("GET", "dbss.cn-north-4.myhuaweicloud.com", "/v1/p/dbss/audit/jobs/r")
///     .with_headers(&headers);
/// let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let signed = sign(&request, &credentials, time)?;
/// assert_eq!(signed.signed_headers(), "content-type;host;x-sdk-date");
/// assert!(signed.authorization().starts_with("SDK-HMAC-SHA256 Access=AK, SignedHeaders="));
/// # Ok::<(), dbss_jobs::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the path does not start with
/// `/`, a header name appears twice (ignoring case), `X-Sdk-Date` or `Authorization` is given, or
/// `time` is before 1970 or after 9999.
pub fn sign(
    request: &SignableRequest<'_>,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<SignedRequest, Error> {
    if !request.path.starts_with('/') {
        return Err(Error::invalid_input("request path must start with '/'"));
    }
    let date = sdk_date(time)?;
    let mut headers = headers_to_send(request, credentials, &date)?;
    let (canonical_headers, signed_headers) = canonical_headers(&headers)?;
    let query = canonical_query(request.query);
    let canonical_request = canonical_request(
        request,
        &query,
        &canonical_headers,
        &signed_headers,
        &payload_hash(request.body, &headers),
    );
    let string_to_sign = string_to_sign(&date, &canonical_request);
    let signature = signature(credentials, &string_to_sign);
    let authorization = authorization(credentials.access_key(), &signed_headers, &signature);
    headers.push(("Authorization".to_string(), authorization.clone()));
    Ok(SignedRequest {
        canonical_request,
        string_to_sign,
        signed_headers,
        authorization,
        signature,
        query,
        headers,
    })
}

/// The headers as sent ([`SignedRequest::headers`]), in the official signer's order.
fn headers_to_send(
    request: &SignableRequest<'_>,
    credentials: &Credentials,
    date: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut headers = Vec::with_capacity(request.headers.len() + 5);
    for (name, value) in request.headers {
        for reserved in [HEADER_DATE, "Authorization"] {
            if name.eq_ignore_ascii_case(reserved) {
                return Err(Error::invalid_input(format!(
                    "header {reserved} is set by the signer"
                )));
            }
        }
        headers.push((name.to_string(), trim(value).to_string()));
    }
    let has = |headers: &[(String, String)], wanted: &str| header_value(headers, wanted).is_some();
    if let Some(token) = credentials.security_token()
        && !has(&headers, HEADER_SECURITY_TOKEN)
    {
        headers.push((HEADER_SECURITY_TOKEN.to_string(), trim(token).to_string()));
    }
    // The official signer looks up "Content-Type" with exactly this spelling and the raw value.
    let content_type =
        request.headers.iter().find(|(name, _)| *name == "Content-Type").map(|(_, value)| *value);
    if content_type.is_some_and(|value| {
        !value.is_empty()
            && !value.starts_with("application/json")
            && !value.starts_with("application/bson")
    }) {
        headers.push((HEADER_CONTENT_SHA256.to_string(), UNSIGNED_PAYLOAD.to_string()));
    }
    headers.push((HEADER_DATE.to_string(), date.to_string()));
    if !has(&headers, "Host") {
        headers.push(("Host".to_string(), trim(request.host).to_string()));
    }
    Ok(headers)
}

/// Stage 1, the canonical request (the canonical headers end with their own `\n`).
fn canonical_request(
    request: &SignableRequest<'_>,
    query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let method = request.method.to_ascii_uppercase();
    let uri = canonical_uri(request.path);
    [&method, &uri, query, canonical_headers, signed_headers, payload_hash].join("\n")
}

/// Stage 1, the canonical URI: each segment of the decoded path encoded again, ending with `/`.
fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode(path);
    let mut uri = String::with_capacity(path.len() + 1);
    for (index, segment) in decoded.split('/').enumerate() {
        if index > 0 {
            uri.push('/');
        }
        percent_encode(&mut uri, segment);
    }
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Stage 1, the canonical headers and the signed headers: every header whose name has no `_`, in
/// lower case and sorted. A name given twice is `InvalidInput`: the gateway would see one of them.
fn canonical_headers(headers: &[(String, String)]) -> Result<(String, String), Error> {
    let mut signed: Vec<(String, &str)> = headers
        .iter()
        .filter(|(name, _)| !name.contains('_'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .collect();
    signed.sort_unstable();
    if let Some(pair) = signed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(Error::invalid_input(format!("header {} is given twice", pair[0].0)));
    }
    let mut canonical = String::new();
    for (name, value) in &signed {
        canonical.extend([name.as_str(), ":", value, "\n"]);
    }
    let names: Vec<&str> = signed.iter().map(|(name, _)| name.as_str()).collect();
    Ok((canonical, names.join(";")))
}

/// Stage 1, the payload hash: `hex(sha256(body))`, or the `X-Sdk-Content-Sha256` value when the
/// request has a body and that header.
fn payload_hash(body: &[u8], headers: &[(String, String)]) -> String {
    if body.is_empty() {
        return EMPTY_SHA256.to_string();
    }
    match header_value(headers, HEADER_CONTENT_SHA256) {
        Some(value) => value.to_string(),
        None => hex(&Sha256::digest(body)),
    }
}

/// Stage 2, the string to sign.
fn string_to_sign(date: &str, canonical_request: &str) -> String {
    let digest = hex(&Sha256::digest(canonical_request.as_bytes()));
    [ALGORITHM, date, &digest].join("\n")
}

/// Stage 3, the signature: `hex(HMAC-SHA256(key = SK, string to sign))`, the HMAC keyed once.
fn signature(credentials: &Credentials, string_to_sign: &str) -> String {
    let mut mac = credentials.keyed_hmac();
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Stage 4, the `Authorization` header.
fn authorization(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// `X-Sdk-Date`: `YYYYMMDDTHHMMSSZ` in UTC, so `InvalidInput` before 1970 or after 9999.
pub(crate) fn sdk_date(time: SystemTime) -> Result<String, Error> {
    let seconds =
        time.duration_since(UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_secs()).ok());
    let utc = seconds.and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok());
    let utc = utc
        .filter(|utc| utc.year() <= 9999)
        .ok_or_else(|| Error::invalid_input("signing time must be between 1970 and 9999"))?;
    Ok(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    ))
}

/// A header's value, the name compared without case: the crate's one header lookup.
pub(crate) fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(sent, _)| sent.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Lower-case hex, by a digit table into one sized `String` (no allocation per byte).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    out.extend(bytes.iter().flat_map(|byte| digits(*byte, b"0123456789abcdef")));
    out
}

/// Percent-encodes `input` as the official SDKs do (Python's `quote(s, safe='~')`): every byte
/// except `A-Z a-z 0-9 - _ . ~` becomes `%XX` with upper-case hex.
pub(crate) fn percent_encode(out: &mut String, input: &str) {
    for byte in input.bytes() {
        if matches!(byte, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.extend(digits(byte, b"0123456789ABCDEF"));
        }
    }
}

/// A byte's two hex digits, from `table`.
fn digits(byte: u8, table: &[u8; 16]) -> [char; 2] {
    [byte >> 4, byte & 0x0f].map(|digit| char::from(table[usize::from(digit)]))
}

/// Stage 1, the canonical query: the decoded pairs sorted, then encoded; also the query sent.
pub(crate) fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().collect();
    sorted.sort_unstable();
    let mut out = String::new();
    for (index, (key, value)) in sorted.into_iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        percent_encode(&mut out, key);
        out.push('=');
        percent_encode(&mut out, value);
    }
    out
}

/// Python's `unquote`: `%XX` with two hex digits becomes that byte, anything else stays; the bytes
/// are then read as UTF-8 with invalid sequences replaced by U+FFFD.
pub(crate) fn percent_decode(input: &str) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let high = bytes.get(index + 1).copied().and_then(hex_value);
            let low = bytes.get(index + 2).copied().and_then(hex_value);
            if let (Some(high), Some(low)) = (high, low) {
                out.push(high << 4 | low);
                index += 3;
                continue;
            }
        }
        out.push(byte);
        index += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).and_then(|value| u8::try_from(value).ok())
}

/// Python's `str.strip()`: Unicode white space, plus the separators U+001C..U+001F.
fn trim(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decode_is_pythons_unquote() {
        // Expected values from CPython 3.11: urllib.parse.unquote(...)
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("a%2fb"), "a/b");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%E8%B5%84"), "资");
        assert_eq!(percent_decode("%E8x"), "\u{fffd}x");
    }

    use proptest::prelude::*;

    /// The encoding rule, written independently of `percent_encode`: keep `A-Za-z0-9-_.~`,
    /// everything else `%XX` upper-case.
    fn reference_encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    fn reference_decode(text: &str) -> String {
        let mut bytes = Vec::new();
        let mut rest = text.as_bytes();
        while let Some((&first, tail)) = rest.split_first() {
            if first == b'%' {
                let hex = std::str::from_utf8(&tail[..2]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                rest = &tail[2..];
            } else {
                bytes.push(first);
                rest = tail;
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    fn is_encoded(text: &str) -> bool {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let hex = bytes.get(i + 1..i + 3);
                    if !hex.is_some_and(|h| {
                        h.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
                    }) {
                        return false;
                    }
                    i += 3;
                }
                b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => i += 1,
                _ => return false,
            }
        }
        true
    }

    proptest! {
        #[test]
        fn signer_never_panics_and_follows_the_encoding_rules(
            method in "[A-Za-z]{1,8}",
            project in any::<String>(),
            resource in any::<String>(),
            header_value in any::<String>(),
            query in proptest::collection::vec((any::<String>(), any::<String>()), 0..5),
        ) {
            let mut path = String::from("/v1/");
            percent_encode(&mut path, &project);
            path.push_str("/dbss/audit/jobs/");
            percent_encode(&mut path, &resource);
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let credentials = Credentials::new("AK", "SK").unwrap();
            let headers = [("X-Custom", header_value.as_str())];
            let request = SignableRequest::new(&method, "dbss.example.com", &path)
                .with_query(&pairs)
                .with_headers(&headers);
            let signed = sign(&request, &credentials, UNIX_EPOCH).unwrap();
            let mut lines = signed.canonical_request().split('\n');
            let upper = method.to_ascii_uppercase();
            prop_assert_eq!(lines.next(), Some(upper.as_str()));

            // canonical URI: each id's '/'-separated pieces encoded, always ending with '/'.
            let segments = |id: &str| id.split('/').map(reference_encode).collect::<Vec<_>>().join("/");
            let mut expected_uri = format!("/v1/{}/dbss/audit/jobs/{}", segments(&project), segments(&resource));
            if !expected_uri.ends_with('/') {
                expected_uri.push('/');
            }
            prop_assert_eq!(lines.next(), Some(expected_uri.as_str()));

            // canonical query: encoded pairs, sorted by decoded key then value; also what is sent.
            let canonical_query = lines.next().unwrap();
            prop_assert_eq!(canonical_query, signed.query());
            let mut decoded = Vec::new();
            for pair in canonical_query.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap();
                prop_assert!(is_encoded(key) && is_encoded(value), "{}", pair);
                decoded.push((reference_decode(key), reference_decode(value)));
            }
            let mut expected = query.clone();
            expected.sort();
            prop_assert_eq!(decoded, expected);
        }

        #[test]
        fn percent_decode_never_panics(text in any::<String>()) {
            let _ = percent_decode(&text);
            prop_assert!(canonical_uri(&text).ends_with('/'));
        }
    }

    #[test]
    fn signing_times_outside_four_digit_years_are_refused() {
        use std::time::Duration;
        assert_eq!(sdk_date(UNIX_EPOCH).unwrap(), "19700101T000000Z");
        assert!(sdk_date(UNIX_EPOCH - Duration::from_secs(1)).is_err());
        // 253402300800 is 10000-01-01T00:00:00Z (CPython: calendar.timegm).
        let year_10000 = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert!(sdk_date(year_10000).is_err());
        assert_eq!(sdk_date(year_10000 - Duration::from_secs(1)).unwrap(), "99991231T235959Z");
    }

    #[test]
    fn trim_is_pythons_strip() {
        // CPython: " \x1c\ta b\x1f\u3000".strip() == "a b"
        assert_eq!(trim(" \u{1c}\ta b\u{1f}\u{3000}"), "a b");
    }
}
