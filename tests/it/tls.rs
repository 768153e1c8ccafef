//! HTTPS as users meet it, over loopback TLS with the certificates in tests/data/tls: a private CA
//! that works, certificates that must be refused, servers that never finish a handshake, and a
//! `CONNECT` proxy. Each failure is checked for its kind, predicates, attempts and words.

use std::time::{Duration, Instant};

use dbss_jobs::{ClientBuilder, Credentials, ErrorKind};

use crate::support::DOCUMENTED_EXAMPLE;
use crate::support::{Script, TlsServer, ca_pem, connect_proxy};

fn builder(url: &str) -> ClientBuilder {
    crate::support::client(url)
        .auth(Credentials::new("TLS-AK", "tls-sk").unwrap())
        .project_id("p")
        .timeout(Duration::from_secs(2))
        .environment([("HOME", "/nonexistent")])
}

#[test]
fn the_private_ca_is_trusted_and_one_handshake_serves_many_calls() {
    let server = TlsServer::start("localhost", Script::Serve, DOCUMENTED_EXAMPLE);
    let client = builder(&server.url()).root_certificates_pem(ca_pem()).build().unwrap();
    for _ in 0..3 {
        let jobs = client.get_jobs("instance-1").unwrap();
        assert_eq!(jobs[0].job_id.as_deref(), Some("8abf9647852a1daa01852e517e1a1a0b"));
    }
    assert_eq!(server.handshakes(), 1, "keep-alive over TLS");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let (sni, request) = &requests[0];
    assert_eq!(*sni, None, "no SNI for an IP address");
    assert_eq!(request.header("host"), Some(format!("127.0.0.1:{}", server.port()).as_str()));
    assert_eq!(request.target, "/v1/p/dbss/audit/jobs/instance-1");
}

#[test]
fn the_host_name_is_sent_as_sni_and_host() {
    let server = TlsServer::start("localhost", Script::Serve, r#"{"jobs":[]}"#);
    let url = format!("https://localhost:{}", server.port());
    let client = builder(&url).root_certificates_pem(ca_pem()).build().unwrap();
    client.get_jobs("r").unwrap();
    let (sni, request) = &server.requests()[0];
    assert_eq!(sni.as_deref(), Some("localhost"));
    assert_eq!(request.header("host"), Some(format!("localhost:{}", server.port()).as_str()));
}

/// A certificate the client must refuse: `Transport`, `is_tls()`, one attempt, words first.
#[track_caller]
fn check_refused(certificate: &str, trust_test_ca: bool, words: &str) {
    let server = TlsServer::start(certificate, Script::Serve, r#"{"jobs":[]}"#);
    let mut builder = builder(&server.url());
    if trust_test_ca {
        builder = builder.root_certificates_pem(ca_pem());
    }
    let error = builder.build().unwrap().get_jobs("r").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.is_tls() && !error.is_retryable(), "{error}");
    assert_eq!(error.attempts(), 1);
    assert_eq!(server.connections(), 1, "never retried");
    assert_eq!(server.handshakes(), 0);
    let message = error.to_string();
    let target = server.url().replace("https://", "");
    assert!(
        message.starts_with(&format!("transport error: connecting to {target}: {words}")),
        "{message}"
    );
    assert!(!message.contains("io:"), "{message}");
}

#[test]
fn an_unknown_issuer_is_refused_in_words() {
    check_refused("localhost", false, "the server's certificate is not trusted (unknown issuer)");
}

#[test]
fn a_wrong_host_name_is_refused_in_words() {
    check_refused("other-host", true, "the server's certificate is not valid for this host name");
}

#[test]
fn an_expired_certificate_is_refused_in_words() {
    check_refused("expired", true, "the server's certificate has expired");
}

#[test]
fn a_self_signed_certificate_is_refused_in_words() {
    // rustls reports a self-signed leaf as an unknown issuer; OpenSSL names it.
    let words = if cfg!(feature = "native-tls") {
        "the server's certificate is self-signed"
    } else {
        "the server's certificate is not trusted (unknown issuer)"
    };
    check_refused("self-signed", true, words);
}

/// A server that misbehaves during the handshake: a `Transport` error within the deadline.
#[track_caller]
fn check_handshake_fault(script: Script) -> dbss_jobs::Error {
    let server = TlsServer::start("localhost", script, "");
    let client = builder(&server.url())
        .root_certificates_pem(ca_pem())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.get_jobs("r").unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}: {error}");
    assert!(!error.to_string().contains("io:"), "{error}");
    error
}

#[test]
fn a_server_that_never_speaks_tls_times_out() {
    let error = check_handshake_fault(Script::Silent);
    assert!(error.is_timeout(), "{error}");
    assert!(
        error.to_string().starts_with("transport error: 127.0.0.1:")
            && error.to_string().ends_with(": the total deadline passed"),
        "{error}"
    );
}

#[test]
fn plaintext_on_the_tls_port_is_a_tls_error() {
    let error = check_handshake_fault(Script::Plaintext);
    assert!(error.is_tls(), "{error}");
    assert_eq!(error.attempts(), 1);
}

#[test]
fn a_fatal_alert_is_a_tls_error() {
    let error = check_handshake_fault(Script::FatalAlert);
    assert!(error.is_tls(), "{error}");
    assert_eq!(error.attempts(), 1);
}

#[test]
fn a_close_mid_handshake_is_a_transport_error_retried_within_the_deadline() {
    let error = check_handshake_fault(Script::CloseMidHandshake);
    // The server closed before any answer: a connection failure, safe to retry for a GET.
    assert!(error.attempts() >= 1 && error.attempts() <= 3, "{error}");
}

#[test]
fn https_through_a_connect_proxy() {
    let server = TlsServer::start("localhost", Script::Serve, r#"{"jobs":[]}"#);
    let (proxy, targets) = connect_proxy();
    let client =
        builder(&server.url()).root_certificates_pem(ca_pem()).proxy(proxy.url()).build().unwrap();
    client.get_jobs("r").unwrap();
    client.get_jobs("r").unwrap();
    assert_eq!(*targets.lock().unwrap(), [format!("127.0.0.1:{}", server.port())]);
    assert_eq!(server.handshakes(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn ssl_cert_file_names_exactly_the_cas_to_trust() {
    let server = TlsServer::start("localhost", Script::Serve, r#"{"jobs":[]}"#);
    let file = |name: &str| crate::support::tls_data(name).display().to_string();
    let with_file = |path: &str| {
        builder(&server.url()).environment([("HOME", "/nonexistent"), ("SSL_CERT_FILE", path)])
    };
    with_file(&file("ca.pem")).build().unwrap().get_jobs("r").unwrap();
    // Exactly the file's CAs: the Mozilla roots are not added, so another CA is not trusted.
    let error = with_file(&file("self-signed.pem")).build().unwrap().get_jobs("r").unwrap_err();
    assert!(error.is_tls(), "{error}");
    // The explicit PEM wins over the variable.
    with_file(&file("self-signed.pem"))
        .root_certificates_pem(ca_pem())
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap();
    for (path, why) in [
        ("/nonexistent/ca.pem".to_string(), "cannot be read"),
        (file("localhost.key"), "holds no certificate"),
    ] {
        let error = with_file(&path).build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.contains(&format!("SSL_CERT_FILE names {path}, which {why}")), "{message}");
    }
}

/// An untrusted certificate names the trust it was checked against and what to do next: the
/// file `SSL_CERT_FILE` names (a CA of the same name with another key, as after a rotation, is
/// `BadSignature` in words), the root certificates given, or the default roots.
#[test]
fn an_untrusted_certificate_names_the_trust_it_was_checked_against() {
    let server = TlsServer::start("localhost", Script::Serve, r#"{"jobs":[]}"#);
    let rotated = crate::support::tls_data("rotated-ca.pem").display().to_string();
    let env = [("HOME", "/nonexistent"), ("SSL_CERT_FILE", rotated.as_str())];
    let error = builder(&server.url()).environment(env).build().unwrap().get_jobs("r").unwrap_err();
    let message = error.to_string();
    if !cfg!(feature = "native-tls") {
        assert!(
            message.contains("signed by another key than the trusted CA of that name's"),
            "{message}"
        );
    }
    let wanted = format!(
        "; checked against the 1 CA certificate(s) in {rotated} (SSL_CERT_FILE): name the CA that signs the server's certificate"
    );
    assert!(message.contains(&wanted), "{message}");
    let default = builder(&server.url()).build().unwrap().get_jobs("r").unwrap_err().to_string();
    let roots = if cfg!(feature = "platform-verifier") {
        "the operating system's trust store (feature platform-verifier)"
    } else {
        "the Mozilla roots bundled with the crate"
    };
    let wanted = format!(
        "; checked against {roots}: a private CA, or a proxy that inspects TLS, needs its CA named: SSL_CERT_FILE or ClientBuilder::root_certificates_file"
    );
    assert!(default.contains(&wanted), "{default}");
}
