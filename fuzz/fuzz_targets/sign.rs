//! The signer on arbitrary method, host, path, query, header and body bytes: it must return a
//! signature or an error, never panic.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use dbss_jobs::Credentials;
use dbss_jobs::sign::{SignableRequest, sign};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Fields separated by NUL: method, host, path, query key, query value, header name, header value.
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or_default();
    let (method, host, path) = (next(), next(), next());
    let (key, value) = (next(), next());
    let (name, header_value) = (next(), next());
    let body = next().as_bytes();
    let query = [(key, value)];
    let headers = [(name, header_value), ("Content-Type", "text/plain")];
    let credentials = Credentials::new("AK", "SK").unwrap();
    let request = SignableRequest::new(method, host, path)
        .with_query(&query)
        .with_headers(&headers)
        .with_body(body);
    let seconds = data.iter().fold(0u64, |acc, b| acc.wrapping_mul(31).wrapping_add(u64::from(*b)));
    let _ = sign(&request, &credentials, UNIX_EPOCH + Duration::from_secs(seconds % (1 << 40)));
});
