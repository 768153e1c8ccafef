//! A TLS server on 127.0.0.1 for the HTTPS tests, built on rustls and the plain test server's
//! accept loop: it serves HTTP over TLS with one of the certificates in tests/data/tls, or plays a
//! scripted fault. Handshakes and requests are counted, and the SNI each handshake asked for kept.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{Request, Server, read_request, relay};

/// What the server does with each connection.
#[derive(Clone, Copy)]
pub enum Script {
    /// TLS, then HTTP/1.1 with keep-alive: every request gets 200 and the body.
    Serve,
    /// Accepts the connection and never says anything.
    Silent,
    /// Reads the ClientHello, then closes.
    CloseMidHandshake,
    /// Answers the ClientHello with a plaintext HTTP response.
    Plaintext,
    /// Answers the ClientHello with a fatal `handshake_failure` alert.
    FatalAlert,
}

/// Each request with the SNI of its connection's handshake.
type Received = Mutex<Vec<(Option<String>, Request)>>;

pub struct TlsServer {
    server: Server,
    handshakes: Arc<AtomicUsize>,
    requests: Arc<Received>,
}

pub fn tls_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls").join(name)
}

/// The test CA's PEM text.
pub fn ca_pem() -> Vec<u8> {
    std::fs::read(tls_data("ca.pem")).unwrap()
}

impl TlsServer {
    /// Serves with `tests/data/tls/{certificate}.pem` and its key.
    pub fn start(certificate: &str, script: Script, body: &'static str) -> TlsServer {
        let config = Arc::new(server_config(certificate));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (counted, recorded) = (handshakes.clone(), requests.clone());
        let server = Server::raw(move |stream| match script {
            Script::Serve => serve_tls(stream, config.clone(), &counted, &recorded, body),
            fault => play_fault(stream, fault),
        });
        TlsServer { server, handshakes, requests }
    }

    pub fn port(&self) -> u16 {
        self.server.url().rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.server.connections()
    }

    /// Each request with the SNI of its connection's handshake.
    pub fn requests(&self) -> Vec<(Option<String>, Request)> {
        self.requests.lock().unwrap().clone()
    }
}

fn server_config(certificate: &str) -> rustls::ServerConfig {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_data(&format!("{certificate}.pem")))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file(tls_data(&format!("{certificate}.key"))).unwrap();
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap()
}

fn serve_tls(
    mut stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    handshakes: &AtomicUsize,
    requests: &Received,
    body: &str,
) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut connection = rustls::ServerConnection::new(config).unwrap();
    while connection.is_handshaking() {
        if connection.complete_io(&mut stream).is_err() {
            return; // the client refused our certificate, or went away
        }
    }
    handshakes.fetch_add(1, Ordering::SeqCst);
    let sni = connection.server_name().map(str::to_string);
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, stream));
    while let Some(request) = read_request(&mut reader) {
        requests.lock().unwrap().push((sni.clone(), request));
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: tls-1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let tls = reader.get_mut();
        if tls.write_all(response.as_bytes()).and_then(|()| tls.flush()).is_err() {
            return;
        }
    }
}

fn play_fault(mut stream: TcpStream, script: Script) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hello = [0u8; 512];
    match script {
        Script::Silent => std::thread::sleep(Duration::from_secs(5)),
        Script::CloseMidHandshake => {
            let _ = stream.read(&mut hello);
        }
        Script::Plaintext => {
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nnot for tls",
            );
        }
        Script::FatalAlert => {
            let _ = stream.read(&mut hello);
            // An alert record, TLS 1.2 framing: fatal (2), handshake_failure (40).
            let _ = stream.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        }
        Script::Serve => {}
    }
}

/// A `CONNECT` proxy on loopback that relays each tunnel to its 127.0.0.1 target, recording the
/// targets asked for.
pub fn connect_proxy() -> (Server, Arc<Mutex<Vec<String>>>) {
    let targets = Arc::new(Mutex::new(Vec::new()));
    let recorded = targets.clone();
    let server = Server::raw(move |stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        recorded.lock().unwrap().push(request.target.clone());
        let mut stream = stream;
        match request.target.strip_prefix("127.0.0.1:") {
            Some(_) if request.method == "CONNECT" => {
                let Ok(upstream) = TcpStream::connect(&request.target) else {
                    return;
                };
                let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                relay(stream, upstream);
            }
            _ => {
                let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    (server, targets)
}
