//! TLS settings: rustls (or, with the `native-tls` feature, the platform's TLS) with the bundled
//! Mozilla roots, or exactly the CAs the caller gives.

use std::sync::Arc;

use crate::Error;

/// rustls (or, with the `native-tls` feature, the platform's TLS) with the bundled Mozilla roots,
/// or exactly the given CAs.
pub(crate) fn tls_config(pem: Option<&[u8]>) -> Result<ureq::tls::TlsConfig, Error> {
    let mut tls = ureq::tls::TlsConfig::builder();
    #[cfg(feature = "native-tls")]
    {
        tls = tls.provider(ureq::tls::TlsProvider::NativeTls);
    }
    if let Some(pem) = pem {
        let mut certificates = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => certificates.push(certificate),
                Ok(_) => {}
                Err(_) => return Err(Error::invalid_input("root certificates PEM is malformed")),
            }
        }
        if certificates.is_empty() {
            return Err(Error::invalid_input(
                "root certificates PEM holds no certificate",
            ));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certificates)));
    }
    Ok(tls.build())
}
