//! What the integration tests share: a scripted loopback server, a TLS server, a SOCKS5 stand-in,
//! Huawei's signer as an oracle, the CLI as a person runs it, canary secrets and their checks,
//! temporary directories, and the builders tests start from (with credentials, and without).

mod cli;
mod oracle;
mod secrets;
mod server;
mod socks5;
mod tempdir;
mod tls_server;

pub use cli::*;
pub use oracle::*;
pub use secrets::*;
pub use server::*;
pub use socks5::*;
pub use tempdir::*;
pub use tls_server::*;

/// The metadata service's `securitykey` answer: credentials that expire `expires_in` seconds from
/// now (negative: already expired).
pub fn security_key_body(access: &str, secret: &str, token: &str, expires_in: i64) -> String {
    let expires = time::OffsetDateTime::from(std::time::SystemTime::now())
        + time::Duration::seconds(expires_in);
    format!(
        r#"{{"credential":{{"access":"{access}","secret":"{secret}","securitytoken":"{token}","expires_at":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z"}}}}"#,
        expires.year(),
        u8::from(expires.month()),
        expires.day(),
        expires.hour(),
        expires.minute(),
        expires.second()
    )
}

/// A host name that no resolver is ever asked about: its first label is longer than 63 characters,
/// so the system resolver refuses it without sending a packet.
pub fn unresolvable_host() -> String {
    format!("{}.example", "a".repeat(64))
}

/// The builder most tests start from: an endpoint and the plain credentials `AK`/`SK`.
pub fn client(endpoint: impl Into<String>) -> dbss_jobs::ClientBuilder {
    dbss_jobs::Client::builder()
        .endpoint(endpoint)
        .auth(dbss_jobs::Credentials::new("AK", "SK").unwrap())
}

/// For credential-chain tests: an endpoint, no credentials, environment only `HOME=/nonexistent`.
pub fn without_credentials(endpoint: impl Into<String>) -> dbss_jobs::ClientBuilder {
    dbss_jobs::Client::builder().endpoint(endpoint).environment([("HOME", "/nonexistent")])
}
