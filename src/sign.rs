//! Huawei Cloud's `SDK-HMAC-SHA256` request signing (the API gateway's AK/SK scheme).
//!
//! A pure function of the request, the credentials and the time: no I/O, no clock. Every rule below
//! follows Huawei's official SDK signer; the shared vectors (produced by that signer) check each
//! stage: canonical request, string to sign, signed headers and `Authorization`.

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::{Credentials, Error};

const ALGORITHM: &str = "SDK-HMAC-SHA256";
const HEADER_DATE: &str = "X-Sdk-Date";
const HEADER_CONTENT_SHA256: &str = "X-Sdk-Content-Sha256";
const HEADER_SECURITY_TOKEN: &str = "X-Security-Token";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty input: the payload hash of every request without a body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A request to sign, in the parts the signature is computed from.
#[derive(Debug, Clone, Copy)]
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
    /// `X-Sdk-Date` and `Authorization` are the signer's and must not be given.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body; empty for none.
    pub body: &'a [u8],
}

/// The result of [`sign`]: what to send, and every intermediate stage of the signature. It
/// borrows the request's and the credentials' strings for the headers it did not change.
///
/// `Debug` shows only the signed header names: the other parts contain the signature or the
/// security token.
#[derive(Clone)]
pub struct SignedRequest<'a> {
    canonical_request: String,
    string_to_sign: String,
    signed_headers: String,
    authorization: String,
    query: String,
    date: [u8; 16],
    headers: Vec<(&'a str, HeaderValue<'a>)>,
}

/// A header value to send: borrowed, or one of the signer's own.
#[derive(Clone, Copy)]
enum HeaderValue<'a> {
    Borrowed(&'a str),
    Date,
    Authorization,
}

impl<'a> SignedRequest<'a> {
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
        let start = self.authorization.len().saturating_sub(64);
        self.authorization.get(start..).unwrap_or_default()
    }

    /// The query string to send (without `?`): the canonical query.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Every header to send, in order: the caller's (values trimmed), then those the signer adds
    /// (`X-Security-Token`, `X-Sdk-Content-Sha256`, `X-Sdk-Date`, `Host`, `Authorization`).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers.iter().map(|(name, value)| {
            let value = match value {
                HeaderValue::Borrowed(value) => value,
                HeaderValue::Date => std::str::from_utf8(&self.date).unwrap_or_default(),
                HeaderValue::Authorization => self.authorization.as_str(),
            };
            (*name, value)
        })
    }
}

impl fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// Signs `request` with `credentials` at `time`.
///
/// The signer adds `X-Sdk-Date` (from `time`), `Host` (unless given), `X-Security-Token` (when the
/// credentials carry one and it is not given), `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (when
/// `Content-Type` is set and is neither `application/json…` nor `application/bson…`) and
/// `Authorization`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use dbss_jobs::{Credentials, sign::{sign, SignableRequest}};
///
/// let credentials = Credentials::new("AK", "SK")?;
/// let request = SignableRequest {
///     method: "GET",
///     host: "dbss.cn-north-4.myhuaweicloud.com",
///     path: "/v1/p/dbss/audit/jobs/r",
///     query: &[],
///     headers: &[("Content-Type", "application/json")],
///     body: b"",
/// };
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
pub fn sign<'a>(
    request: &SignableRequest<'a>,
    credentials: &'a Credentials,
    time: SystemTime,
) -> Result<SignedRequest<'a>, Error> {
    if !request.path.starts_with('/') {
        return Err(Error::invalid_input("request path must start with '/'"));
    }
    let date = sdk_date(time)?;

    // The headers as sent: the caller's with trimmed values, then the ones the signer adds.
    let mut headers: Vec<(&'a str, HeaderValue<'a>)> =
        Vec::with_capacity(request.headers.len() + 5);
    for (name, value) in request.headers {
        for reserved in [HEADER_DATE, "Authorization"] {
            if name.eq_ignore_ascii_case(reserved) {
                return Err(Error::invalid_input(format!(
                    "header {reserved} is set by the signer"
                )));
            }
        }
        headers.push((name, HeaderValue::Borrowed(trim(value))));
    }
    let has = |headers: &[(&str, HeaderValue<'_>)], wanted: &str| {
        headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
    };
    if let Some(token) = credentials.security_token()
        && !has(&headers, HEADER_SECURITY_TOKEN)
    {
        headers.push((HEADER_SECURITY_TOKEN, HeaderValue::Borrowed(trim(token))));
    }
    // The official signer looks up "Content-Type" with exactly this spelling and the raw value.
    let content_type = request
        .headers
        .iter()
        .find(|(name, _)| *name == "Content-Type")
        .map(|(_, value)| *value);
    if let Some(content_type) = content_type
        && !content_type.is_empty()
        && !content_type.starts_with("application/json")
        && !content_type.starts_with("application/bson")
    {
        headers.push((
            HEADER_CONTENT_SHA256,
            HeaderValue::Borrowed(UNSIGNED_PAYLOAD),
        ));
    }
    headers.push((HEADER_DATE, HeaderValue::Date));
    if !has(&headers, "Host") {
        headers.push(("Host", HeaderValue::Borrowed(trim(request.host))));
    }
    let date_str = std::str::from_utf8(&date).unwrap_or_default();
    let value_of = |value: &HeaderValue<'a>| match value {
        HeaderValue::Borrowed(value) => *value,
        _ => date_str,
    };

    // signed headers = sorted lower-case names of every header whose name has no '_'
    let mut lower_names = String::with_capacity(headers.iter().map(|(name, _)| name.len()).sum());
    let mut signed: Vec<(std::ops::Range<usize>, &str)> = Vec::with_capacity(headers.len());
    for (name, value) in headers.iter().filter(|(name, _)| !name.contains('_')) {
        let start = lower_names.len();
        push_lowercase(&mut lower_names, name);
        signed.push((start..lower_names.len(), value_of(value)));
    }
    let name_of =
        |range: &std::ops::Range<usize>| lower_names.get(range.clone()).unwrap_or_default();
    signed.sort_unstable_by(|a, b| name_of(&a.0).cmp(name_of(&b.0)));
    if let Some(pair) = signed
        .windows(2)
        .find(|pair| name_of(&pair[0].0) == name_of(&pair[1].0))
    {
        return Err(Error::invalid_input(format!(
            "header {} is given twice",
            name_of(&pair[0].0)
        )));
    }
    let mut signed_headers = String::with_capacity(lower_names.len() + signed.len());
    for (index, (name, _)) in signed.iter().enumerate() {
        if index > 0 {
            signed_headers.push(';');
        }
        signed_headers.push_str(name_of(name));
    }

    let query = canonical_query(request.query);

    // payload hash = empty-input hash without a body, else X-Sdk-Content-Sha256 if set, else
    // hex(sha256(body))
    let mut body_hash = String::new();
    let payload_hash = if request.body.is_empty() {
        EMPTY_SHA256
    } else if let Some((_, value)) = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(HEADER_CONTENT_SHA256))
    {
        value_of(value)
    } else {
        push_hex(&mut body_hash, &Sha256::digest(request.body));
        &body_hash
    };

    // canonical request = METHOD \n URI \n query \n (name:value \n)* \n signed headers \n payload hash
    let headers_len: usize = signed.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut canonical_request = String::with_capacity(
        request.method.len()
            + 3 * request.path.len()
            + query.len()
            + headers_len
            + 2 * signed_headers.len()
            + 80,
    );
    push_uppercase(&mut canonical_request, request.method);
    canonical_request.push('\n');
    push_canonical_uri(&mut canonical_request, request.path);
    canonical_request.push('\n');
    canonical_request.push_str(&query);
    canonical_request.push('\n');
    for (name, value) in &signed {
        canonical_request.push_str(name_of(name));
        canonical_request.push(':');
        canonical_request.push_str(value);
        canonical_request.push('\n');
    }
    canonical_request.push('\n');
    canonical_request.push_str(&signed_headers);
    canonical_request.push('\n');
    canonical_request.push_str(payload_hash);

    // string to sign = SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(canonical request))
    let mut string_to_sign = String::with_capacity(ALGORITHM.len() + 2 + date.len() + 64);
    string_to_sign.push_str(ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(date_str);
    string_to_sign.push('\n');
    push_hex(
        &mut string_to_sign,
        &Sha256::digest(canonical_request.as_bytes()),
    );

    // signature = hex(HMAC-SHA256(key = SK, string to sign))
    let mut mac = credentials.keyed_hmac();
    mac.update(string_to_sign.as_bytes());

    // Authorization = SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<signature>
    let access_key = credentials.access_key();
    let mut authorization =
        String::with_capacity(ALGORITHM.len() + access_key.len() + signed_headers.len() + 112);
    authorization.push_str(ALGORITHM);
    authorization.push_str(" Access=");
    authorization.push_str(access_key);
    authorization.push_str(", SignedHeaders=");
    authorization.push_str(&signed_headers);
    authorization.push_str(", Signature=");
    push_hex(&mut authorization, &mac.finalize().into_bytes());
    headers.push(("Authorization", HeaderValue::Authorization));

    Ok(SignedRequest {
        canonical_request,
        string_to_sign,
        signed_headers,
        authorization,
        query,
        date,
        headers,
    })
}

fn push_lowercase(out: &mut String, text: &str) {
    let start = out.len();
    out.push_str(text);
    out[start..].make_ascii_lowercase();
}

fn push_uppercase(out: &mut String, text: &str) {
    let start = out.len();
    out.push_str(text);
    out[start..].make_ascii_uppercase();
}

/// Percent-encodes `input` as the official SDKs do (Python's `quote(s, safe='~')`): every byte
/// except `A-Z a-z 0-9 - _ . ~` becomes `%XX` with upper-case hex.
pub(crate) fn percent_encode(out: &mut String, input: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = input;
    while !rest.is_empty() {
        let safe = rest
            .bytes()
            .position(|byte| !is_unreserved(byte))
            .unwrap_or(rest.len());
        // An ASCII run ends on a char boundary.
        let (run, tail) = rest.split_at(safe);
        out.push_str(run);
        let mut taken = 0;
        for byte in tail.bytes().take_while(|byte| !is_unreserved(*byte)) {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            taken += 1;
        }
        // Reserved runs end where an unreserved ASCII byte starts: a char boundary too.
        rest = tail.get(taken..).unwrap_or_default();
    }
}

/// `A-Z a-z 0-9 - _ . ~`, the bytes that are never encoded.
fn is_unreserved(byte: u8) -> bool {
    const TABLE: [bool; 256] = {
        let mut table = [false; 256];
        let mut byte = 0;
        while byte < 256 {
            let b = byte as u8;
            table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
            byte += 1;
        }
        table
    };
    TABLE[usize::from(byte)]
}

/// canonical URI = percent-decode the whole path, split on `/`, encode each segment, join with `/`,
/// and end with `/`.
fn push_canonical_uri(out: &mut String, path: &str) {
    // Fast path: nothing to decode and nothing to encode, the path is already canonical.
    if path.bytes().all(|byte| byte == b'/' || is_unreserved(byte)) {
        out.push_str(path);
        if !path.ends_with('/') {
            out.push('/');
        }
        return;
    }
    let decoded = percent_decode(path);
    let start = out.len();
    let mut first = true;
    for segment in decoded.split('/') {
        if !first {
            out.push('/');
        }
        first = false;
        percent_encode(out, segment);
    }
    if !out[start..].ends_with('/') {
        out.push('/');
    }
}

/// canonical query = pairs sorted by decoded key then value, each side encoded, `k=v` joined by `&`.
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
fn percent_decode(input: &str) -> Cow<'_, str> {
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
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Python's `str.strip()`: Unicode white space, plus the separators U+001C..U+001F.
fn trim(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// `YYYYMMDDTHHMMSSZ` in UTC.
fn sdk_date(time: SystemTime) -> Result<[u8; 16], Error> {
    let out_of_range = || Error::invalid_input("signing time must be between 1970 and 9999");
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| out_of_range())?
        .as_secs();
    let seconds = i64::try_from(seconds).map_err(|_| out_of_range())?;
    let utc = time::OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| out_of_range())?;
    let year = u32::try_from(utc.year()).map_err(|_| out_of_range())?;
    if year > 9999 {
        return Err(out_of_range());
    }
    let mut date = *b"00000000T000000Z";
    let mut put = |at: usize, digits: usize, mut value: u32| {
        for index in (at..at + digits).rev() {
            date[index] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(4, 2, u32::from(u8::from(utc.month())));
    put(6, 2, u32::from(utc.day()));
    put(9, 2, u32::from(utc.hour()));
    put(11, 2, u32::from(utc.minute()));
    put(13, 2, u32::from(utc.second()));
    Ok(date)
}

/// Appends the lower-case hex of a 32-byte digest.
fn push_hex(out: &mut String, digest: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 64];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    let used = 2 * digest.len().min(32);
    // Hex digits are ASCII.
    out.push_str(std::str::from_utf8(&hex[..used]).unwrap_or_default());
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
                        h.iter()
                            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
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
            let request = SignableRequest {
                method: &method,
                host: "dbss.example.com",
                path: &path,
                query: &pairs,
                headers: &[("X-Custom", &header_value)],
                body: b"",
            };
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
            let mut uri = String::new();
            push_canonical_uri(&mut uri, &text);
            prop_assert!(uri.ends_with('/'));
        }
    }

    #[test]
    fn trim_is_pythons_strip() {
        // CPython: " \x1c\ta b\x1f\u3000".strip() == "a b"
        assert_eq!(trim(" \u{1c}\ta b\u{1f}\u{3000}"), "a b");
    }
}
