//! Canary secrets and the checks that none of them (nor a signature) shows.

use super::server::Server;

/// Secrets used by the leak probes: recognisable, and never expected in any message.
pub const CANARY_SK: &str = "SECRET-KEY-canary-5f1d";

pub const CANARY_SECURITY_TOKEN: &str = "SECURITY-TOKEN-canary-77ab";

pub const CANARY_IAM_TOKEN: &str = "IAM-TOKEN-canary-c0de";

/// Asserts that no canary secret and no signature value appears in `text`.
#[track_caller]
pub fn assert_no_secret(text: &str, signatures: &[String]) {
    for secret in [CANARY_SK, CANARY_SECURITY_TOKEN, CANARY_IAM_TOKEN] {
        assert!(!text.contains(secret), "secret leaked in {text:?}");
    }
    for (index, _) in text.match_indices("Signature=") {
        let value = &text[index + "Signature=".len()..];
        assert!(value.starts_with("** redacted **"), "signature leaked in {text:?}");
    }
    for signature in signatures.iter().filter(|s| !s.is_empty()) {
        assert!(!text.contains(signature.as_str()), "signature leaked in {text:?}");
    }
}

/// The same for an error's Display, Debug (both forms) and `source()` chain.
#[track_caller]
pub fn assert_error_clean(error: &dbss_jobs::Error, signatures: &[String]) {
    assert_no_secret(&error.to_string(), signatures);
    assert_no_secret(&format!("{error:?}"), signatures);
    assert_no_secret(&format!("{error:#?}"), signatures);
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        assert_no_secret(&cause.to_string(), signatures);
        source = cause.source();
    }
}

/// The signature at the end of an `Authorization` header value.
pub fn signature_of(authorization: &str) -> &str {
    authorization.rsplit("Signature=").next().unwrap_or_default()
}

/// The signatures of every signed request a server received.
pub fn signatures_sent(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|request| request.header("authorization"))
        .map(|authorization| signature_of(authorization).to_string())
        .collect()
}
