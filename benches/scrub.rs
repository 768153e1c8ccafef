//! Scrubbing an answer's text of a request's secrets: every 12-character run of a 12 KB IAM
//! token and a signature, looked for in a 64 KB error body as decoded, against the whole-secret
//! search the crate did before (`str::contains` of each secret). Linear in the text and the
//! secrets: one set lookup per position, with the set of runs made once per request.
//!
//! Run: `cargo bench --bench scrub`

mod support;

// The crate's own scrubber, compiled here as it is (it is private to the crate).
#[allow(dead_code, unused_imports)]
#[path = "../src/redact.rs"]
mod redact;
#[allow(dead_code)]
#[path = "../src/unescape.rs"]
mod unescape;

use std::hint::black_box;

use redact::Secrets;

fn main() {
    let token: String = (0..12 * 1024)
        .map(|i| {
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i * 7 % 64],
            )
        })
        .collect();
    let signature = "6f3bd4e1a2c05798b1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192";
    let filler = "The gateway could not serve the request; please retry later. ".repeat(1100);
    let plain = filler[..64 * 1024].to_string();
    let echoed =
        format!("{}{}{}", &plain[..20_000], token, &plain[..64 * 1024 - 20_000 - token.len()]);
    let escaped = echoed.replace('+', "\\u002B").replace('/', "\\/");
    println!("12 KB token and a signature, in 64 KB bodies (median of 30 samples of 10):");
    for (name, body) in
        [("no secret", &plain), ("token echoed", &echoed), ("JSON-escaped", &escaped)]
    {
        let (ours, reference) = support::compare(
            5,
            || {
                support::median(30, 10, || {
                    // A request's secrets, and the one scrub of its answer.
                    let secrets = Secrets::of([token.as_str(), signature]);
                    black_box(secrets.scrub(black_box(body)));
                })
            },
            || {
                support::median(30, 10, || {
                    black_box(body.contains(token.as_str()) || body.contains(signature));
                })
            },
        );
        println!("  {name:<13} scrub {ours:>10.2?}   whole-secret search {reference:>10.2?}");
    }
    // What an error shows: the first 8,192 characters scrubbed, then cut to one bounded line.
    for (name, body) in [("no secret", &plain), ("JSON-escaped", &escaped)] {
        let shown = support::median(30, 10, || {
            let secrets = Secrets::of([token.as_str(), signature]);
            black_box(secrets.show(black_box(body)));
        });
        println!("  {name:<13} show (as an error shows it) {shown:>10.2?}");
    }
}
