//! TLS settings: which TLS library, and which certificate authorities to trust, in the order the
//! builder's docs (*TLS and trust*) give. Verification cannot be turned off.

use std::path::Path;

use crate::redact::shown_path;
use std::sync::Arc;

use crate::config::RootCertificates;
use crate::env::{Environment, Var};
use crate::error::Error;
use crate::source::Source;

/// Which CAs a client trusts, and what to do when they do not trust a server's, in words.
pub(crate) struct Trust {
    pub(crate) words: String,
    pub(crate) next_step: String,
}

/// The TLS configuration of the client's agent; `InvalidInput` for CAs that cannot be read.
/// `setting` is how the user names the root certificates setting.
pub(crate) fn tls_config(
    given: Option<&RootCertificates>,
    setting: &Source,
    env: &Environment,
) -> Result<(ureq::tls::TlsConfig, Trust), Error> {
    let named = match (given, env.get(Var::SslCertFile)) {
        (Some(RootCertificates::Pem(pem)), _) => {
            let roots = certificates(&pem.0).map_err(|why| {
                let method = "ClientBuilder::root_certificates_pem";
                Error::invalid_input(format!("{method}: the PEM {why}"))
            })?;
            Some((roots, "given to the builder".to_string()))
        }
        (Some(RootCertificates::File(path)), _) => Some(certificates_in_file(path, setting)?),
        (None, Some(path)) => {
            Some(certificates_in_file(Path::new(&path), &Source::var(Var::SslCertFile))?)
        }
        (None, None) => None,
    };
    let (roots, trust) = match named {
        Some((roots, from)) => {
            let words = format!("the {} CA certificate(s) {from}", roots.len());
            let next_step = "name the CA that signs the server's certificate (a proxy that \
                             inspects TLS signs with its own; a renewed CA may have a new key)";
            let trust = Trust { words, next_step: next_step.to_string() };
            (ureq::tls::RootCerts::Specific(Arc::new(roots)), trust)
        }
        None => {
            let next_step = format!(
                "a private CA, or a proxy that inspects TLS, needs its CA named: {} or {setting}",
                Var::SslCertFile.name()
            );
            (DEFAULT_ROOTS.0, Trust { words: DEFAULT_ROOTS.1.to_string(), next_step })
        }
    };
    let tls = ureq::tls::TlsConfig::builder().root_certs(roots);
    #[cfg(feature = "native-tls")]
    let tls = tls.provider(ureq::tls::TlsProvider::NativeTls);
    Ok((tls.build(), trust))
}

/// The trust store used when no CAs are named, and its name in words.
#[cfg(feature = "platform-verifier")]
const DEFAULT_ROOTS: (ureq::tls::RootCerts, &str) = (
    ureq::tls::RootCerts::PlatformVerifier,
    "the operating system's trust store (feature platform-verifier)",
);
#[cfg(not(feature = "platform-verifier"))]
const DEFAULT_ROOTS: (ureq::tls::RootCerts, &str) =
    (ureq::tls::RootCerts::WebPki, "the Mozilla roots bundled with the crate");

/// The certificates in the PEM file `path`, named by `source`, and where they came from in words.
fn certificates_in_file(
    path: &Path,
    source: &Source,
) -> Result<(Vec<ureq::tls::Certificate<'static>>, String), Error> {
    let invalid = |why: String| {
        Error::invalid_input(format!("{source} names {}, which {why}", shown_path(path)))
    };
    let pem = std::fs::read(path).map_err(|error| invalid(format!("cannot be read ({error})")))?;
    let roots = certificates(&pem).map_err(|why| invalid(why.to_string()))?;
    Ok((roots, format!("in {} ({source})", shown_path(path))))
}

/// The certificates in a PEM text (other items, such as keys, are skipped).
fn certificates(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, &'static str> {
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        if let ureq::tls::PemItem::Certificate(certificate) = item.map_err(|_| "is malformed")? {
            certificates.push(certificate);
        }
    }
    if certificates.is_empty() && pem.starts_with(&[0x30, 0x82]) {
        return Err("is a DER certificate, not PEM: convert it with \
             `openssl x509 -inform der -in ca.der -out ca.pem`");
    }
    if certificates.is_empty() {
        return Err("holds no certificate");
    }
    Ok(certificates)
}
