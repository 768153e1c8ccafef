//! Every stage of every signing vector produced by Huawei's official SDK signer
//! (`tests/data/sign_public.json`, a copy of `shared/vectors/sign_public.json`; see its README), or of
//! the file named by `DBSS_SIGN_VECTORS`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use dbss_jobs::Credentials;
use dbss_jobs::sign::{SignableRequest, sign};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    name: String,
    method: String,
    url: String,
    headers: serde_json::Map<String, serde_json::Value>,
    body: String,
    ak: String,
    sk: String,
    sdk_date: String,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    canonical_request: String,
    string_to_sign: String,
    signed_headers: String,
    authorization: String,
    sent_headers: BTreeMap<String, String>,
}

fn vectors_path() -> String {
    std::env::var("DBSS_SIGN_VECTORS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sign_public.json").to_string()
    })
}

#[test]
fn every_stage_of_every_official_vector() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let vectors: Vec<Vector> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not a vector list: {e}"));
    assert!(!vectors.is_empty(), "{path} holds no vectors");

    let mut failures = Vec::new();
    for vector in &vectors {
        failures.extend(check_vector(vector));
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors from {path} failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    eprintln!("{} signing vectors from {path} passed", vectors.len());
}

/// Returns one line per mismatching stage, naming the vector and the stage.
fn check_vector(vector: &Vector) -> Vec<String> {
    let url = SplitUrl::parse(&vector.url);
    let query: Vec<(String, String)> = url.query_pairs();
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let headers: Vec<(&str, &str)> = vector
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str().expect("header values are strings")))
        .collect();
    let request = SignableRequest::new(&vector.method, url.authority, url.path)
        .with_query(&query)
        .with_headers(&headers)
        .with_body(vector.body.as_bytes());
    let credentials = Credentials::new(&vector.ak, &vector.sk).expect("vector credentials");
    let signed = match sign(&request, &credentials, parse_sdk_date(&vector.sdk_date)) {
        Ok(signed) => signed,
        Err(error) => return vec![format!("{}: sign failed: {error}", vector.name)],
    };

    let expected = &vector.expected;
    let sent: BTreeMap<String, String> =
        signed.headers().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    let stages = [
        ("canonical_request", signed.canonical_request(), expected.canonical_request.as_str()),
        ("string_to_sign", signed.string_to_sign(), expected.string_to_sign.as_str()),
        ("signed_headers", signed.signed_headers(), expected.signed_headers.as_str()),
        ("authorization", signed.authorization(), expected.authorization.as_str()),
        ("sent query", signed.query(), url.query),
    ];
    let mut failures: Vec<String> = stages
        .iter()
        .filter(|(_, actual, wanted)| actual != wanted)
        .map(|(stage, actual, wanted)| {
            format!(
                "{}: stage {stage} differs\n  expected: {wanted:?}\n  actual:   {actual:?}",
                vector.name
            )
        })
        .collect();
    if sent != expected.sent_headers {
        failures.push(format!(
            "{}: stage sent_headers differs\n  expected: {:?}\n  actual:   {sent:?}",
            vector.name, expected.sent_headers
        ));
    }
    failures
}

/// Huawei's published example (API signing guide, "Signing Procedure"): the signature and signed
/// headers below are the guide's own.
#[test]
fn huawei_signing_guide_example() {
    let credentials = Credentials::new(
        "AK-not-part-of-the-signature",
        "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
    )
    .unwrap();
    let request = SignableRequest::new(
        "GET",
        "service.region.example.com",
        "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
    )
    .with_query(&[("limit", "2"), ("marker", "13551d6b-755d-4757-b956-536f674975c0")])
    .with_headers(&[("content-type", "application/json")]);
    let signed = sign(&request, &credentials, parse_sdk_date("20191115T033655Z")).unwrap();
    assert_eq!(signed.signed_headers(), "content-type;host;x-sdk-date");
    assert!(
        signed.authorization().ends_with(
            "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        ),
        "{}",
        signed.authorization()
    );
}

/// `scheme://authority/path?query`, split without decoding.
struct SplitUrl<'a> {
    authority: &'a str,
    path: &'a str,
    query: &'a str,
}

impl<'a> SplitUrl<'a> {
    fn parse(url: &'a str) -> Self {
        let (_, rest) = url.split_once("://").expect("vector url has a scheme");
        let slash = rest.find('/').expect("vector url has a path");
        let (authority, target) = rest.split_at(slash);
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        SplitUrl { authority, path, query }
    }

    /// As the vectors' README says: split on `&` and the first `=`, percent-decode both sides
    /// (`+` stays literal).
    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|item| !item.is_empty())
            .map(|item| {
                let (key, value) = item.split_once('=').unwrap_or((item, ""));
                (percent_decode(key), percent_decode(value))
            })
            .collect()
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(byte)) = text.get(i + 1..i + 3).map(|hex| u8::from_str_radix(hex, 16))
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("vector queries are UTF-8")
}

/// `YYYYMMDDTHHMMSSZ` → time, computed with the `time` crate's calendar (not the signer's code).
pub fn parse_sdk_date(text: &str) -> SystemTime {
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().expect("digits");
    let month = time::Month::try_from(number(4..6) as u8).expect("month");
    let date = time::Date::from_calendar_date(number(0..4) as i32, month, number(6..8) as u8)
        .expect("date");
    let datetime = date
        .with_hms(number(9..11) as u8, number(11..13) as u8, number(13..15) as u8)
        .expect("time")
        .assume_utc();
    SystemTime::from(datetime)
}
