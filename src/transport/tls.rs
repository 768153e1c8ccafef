//! TLS settings: which TLS library, and which certificate authorities to trust.
//!
//! In order of precedence: the CAs given to
//! [`root_certificates_pem`](crate::ClientBuilder::root_certificates_pem); else exactly the CAs in
//! the PEM file named by `SSL_CERT_FILE` (read through the client's environment, as OpenSSL and Go
//! read it); else, with the `platform-verifier` feature, the operating system's trust store and
//! verifier; else the Mozilla roots bundled with the crate. Verification cannot be turned off.

use std::path::Path;
use std::sync::Arc;

use crate::builder::RootCertificates;
use crate::env::Environment;
use crate::env::Var;
use crate::error::Error;
use crate::source::Source;

/// The TLS configuration of the client's agent.
///
/// # Errors
/// `InvalidInput` when the given PEM, or the file `SSL_CERT_FILE` names, cannot be read or holds no
/// certificate (the message names the variable and the path).
pub(crate) fn tls_config(
    given: Option<(&RootCertificates, Source)>,
    env: &Environment,
) -> Result<(ureq::tls::TlsConfig, String), Error> {
    let mut tls = ureq::tls::TlsConfig::builder();
    #[cfg(feature = "native-tls")]
    {
        tls = tls.provider(ureq::tls::TlsProvider::NativeTls);
    }
    let (roots, trust) = match (given, env.get(Var::SslCertFile)) {
        (Some((RootCertificates::Pem(pem), _)), _) => {
            let roots = certificates(&pem.0).map_err(|why| {
                let method = "ClientBuilder::root_certificates_pem";
                Error::invalid_input(format!("{method}: the PEM {why}"))
            })?;
            let trust = format!("the {} CA certificate(s) given to the builder", roots.len());
            (Some(roots), trust)
        }
        (Some((RootCertificates::File(path), source)), _) => {
            let roots = certificates_in_file(path, &source)?;
            let trust =
                format!("the {} CA certificate(s) in {} ({source})", roots.len(), path.display());
            (Some(roots), trust)
        }
        (None, Some(path)) => {
            let source = Source::var(Var::SslCertFile);
            let roots = certificates_in_file(Path::new(&path), &source)?;
            let trust = format!("the {} CA certificate(s) in {path} ({source})", roots.len(),);
            (Some(roots), trust)
        }
        (None, None) => (None, default_trust().to_string()),
    };
    tls = match roots {
        Some(roots) => tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots))),
        None => tls.root_certs(default_roots()),
    };
    Ok((tls.build(), trust))
}

/// The default trust store, in words.
fn default_trust() -> &'static str {
    if cfg!(feature = "platform-verifier") {
        "the operating system's trust store (feature platform-verifier)"
    } else {
        "the Mozilla roots bundled with the crate"
    }
}

#[cfg(feature = "platform-verifier")]
fn default_roots() -> ureq::tls::RootCerts {
    ureq::tls::RootCerts::PlatformVerifier
}

#[cfg(not(feature = "platform-verifier"))]
fn default_roots() -> ureq::tls::RootCerts {
    ureq::tls::RootCerts::WebPki
}

/// The certificates in the PEM file `path`, named by `source`.
fn certificates_in_file(
    path: &Path,
    source: &Source,
) -> Result<Vec<ureq::tls::Certificate<'static>>, Error> {
    let invalid = |why: String| {
        let path = path.display();
        Error::invalid_input(format!("{source} names {path}, which {why}"))
    };
    let pem = std::fs::read(path).map_err(|error| invalid(format!("cannot be read ({error})")))?;
    certificates(&pem).map_err(|why| invalid(why.to_string()))
}

/// The certificates in a PEM text (other items, such as keys, are skipped).
fn certificates(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, &'static str> {
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(_) => return Err("is malformed"),
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
