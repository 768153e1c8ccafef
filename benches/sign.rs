//! Signing one DBSS GET end to end, against the crypto it cannot avoid: SHA-256 of the same
//! canonical request bytes plus one HMAC-SHA256 of the same string to sign. Target ≤ 2.5×.
//!
//! Run: `cargo bench --bench sign`

mod support;

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use dbss_jobs::Credentials;
use dbss_jobs::sign::{SignableRequest, sign};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

fn main() {
    let credentials =
        Credentials::new("IEQH524YNG5BY1A2ROGU", "bbbPIa84yRnBUbHoWC8FJowoRoWD8s7bA16J7Pgl")
            .unwrap();
    let headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", concat!("dbss-jobs/", env!("CARGO_PKG_VERSION"))),
        ("X-Project-Id", "93ad699fc1f7cd5bb2e35cbf0f19c557"),
    ];
    let request = SignableRequest::new(
        "GET",
        "dbss.cn-north-4.myhuaweicloud.com",
        "/v1/93ad699fc1f7cd5bb2e35cbf0f19c557/dbss/audit/jobs/0aa8f621-bc19-4822-b66d-7ab9ae3c8693",
    )
    .with_headers(&headers);
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let signed = sign(&request, &credentials, time).unwrap();
    let canonical_request = signed.canonical_request().as_bytes().to_vec();
    let string_to_sign = signed.string_to_sign().as_bytes().to_vec();
    let key = b"bbbPIa84yRnBUbHoWC8FJowoRoWD8s7bA16J7Pgl";

    let (ours, reference) = support::compare(
        15,
        || {
            support::median(21, 2000, || {
                black_box(sign(black_box(&request), &credentials, time).unwrap());
            })
        },
        || {
            support::median(21, 2000, || {
                let digest = Sha256::digest(black_box(&canonical_request));
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
                mac.update(black_box(&string_to_sign));
                black_box((digest, mac.finalize()));
            })
        },
    );
    println!("canonical request: {} bytes", canonical_request.len());
    support::report("sign (end to end)", ours, "bare SHA-256 + HMAC-SHA256", reference, 2.5);
}
