//! A real HTTP/1.1 server on 127.0.0.1 in a thread, driven by a script per request.
//!
//! The script gets the parsed request and the raw socket, so it can answer properly, stall, reset,
//! truncate or drip. Requests and connections are counted. A panic in a script is re-raised when the
//! server is dropped, so an assertion inside the server cannot be swallowed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    /// Names as sent (case kept), values as bytes read as UTF-8 (lossy).
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_names_lowercase(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names
    }
}

/// What the script wants done with the connection afterwards.
pub enum After {
    KeepAlive,
    Close,
}

type Script = dyn Fn(&Request, &mut TcpStream) -> After + Send + Sync;

pub struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    panics: mpsc::Receiver<String>,
    accept_thread: Option<thread::JoinHandle<()>>,
    connection_threads: Arc<Mutex<Vec<thread::JoinHandle<()>>>>,
}

impl Server {
    pub fn start(
        script: impl Fn(&Request, &mut TcpStream) -> After + Send + Sync + 'static,
    ) -> Server {
        let script: Arc<Script> = Arc::new(script);
        Server::start_connections(move |stream, requests| {
            serve_connection(stream, &*script, requests)
        })
    }

    fn start_connections(
        serve: impl Fn(TcpStream, &Mutex<Vec<Request>>) + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (panic_tx, panics) = mpsc::channel();
        let serve = Arc::new(serve);
        let connection_threads = Arc::new(Mutex::new(Vec::new()));
        let accept_thread = {
            let (requests, connections, stop, threads) = (
                requests.clone(),
                connections.clone(),
                stop.clone(),
                connection_threads.clone(),
            );
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (serve, requests, panic_tx) =
                        (serve.clone(), requests.clone(), panic_tx.clone());
                    let handle = thread::spawn(move || {
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                serve(stream, &requests)
                            }));
                        if let Err(payload) = outcome {
                            let message = payload
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            let _ = panic_tx.send(message);
                        }
                    });
                    threads.lock().unwrap().push(handle);
                }
            })
        };
        Server {
            port,
            requests,
            connections,
            stop,
            panics,
            accept_thread: Some(accept_thread),
            connection_threads,
        }
    }

    /// Hands each raw connection to `script` before anything is read from it (for resets, silence,
    /// or scripted bytes). Connections are counted; no request is recorded.
    pub fn raw(script: impl Fn(TcpStream) + Send + Sync + 'static) -> Server {
        let script = Arc::new(script);
        Server::start_connections(move |stream, _| script(stream))
    }

    /// Answers every request with this status and JSON body (and an `X-Request-Id`).
    pub fn json(status: u16, body: &'static str) -> Server {
        Server::start(move |_, stream| {
            respond(
                stream,
                status,
                &[
                    ("Content-Type", "application/json"),
                    ("X-Request-Id", "req-fixed-1"),
                ],
                body.as_bytes(),
            );
            After::KeepAlive
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// How long a dropped server waits for its scripts to finish, so that a late panic is seen. Scripts
/// that stall on purpose for longer are left behind (their panics, if any, are lost).
const DRAIN: Duration = Duration::from_secs(2);

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag, and wait for it to end.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept_thread.take() {
            let _ = accept.join();
        }
        let deadline = std::time::Instant::now() + DRAIN;
        let threads = std::mem::take(&mut *self.connection_threads.lock().unwrap());
        for handle in threads {
            while !handle.is_finished() && std::time::Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
        if !thread::panicking()
            && let Ok(message) = self.panics.try_recv()
        {
            panic!("test server script panicked: {message}");
        }
    }
}

fn serve_connection(stream: TcpStream, script: &Script, requests: &Mutex<Vec<Request>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        requests.lock().unwrap().push(request.clone());
        match script(&request, &mut stream) {
            After::KeepAlive => {}
            After::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

/// Reads one request head (and discards a Content-Length body). `None` on EOF or garbage.
pub fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).ok()? == 0 {
        return None;
    }
    let line = String::from_utf8_lossy(&line);
    let mut parts = line.trim_end().splitn(3, ' ');
    let (method, target, version) = (
        parts.next()?.to_string(),
        parts.next()?.to_string(),
        parts.next()?.to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut raw = Vec::new();
        if reader.read_until(b'\n', &mut raw).ok()? == 0 {
            return None;
        }
        let raw = String::from_utf8_lossy(&raw)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if raw.is_empty() {
            break;
        }
        let (name, value) = raw.split_once(':')?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let request = Request {
        method,
        target,
        version,
        headers,
    };
    if let Some(length) = request
        .header("content-length")
        .and_then(|l| l.parse::<u64>().ok())
    {
        std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink()).ok()?;
    }
    Some(request)
}

/// Writes a complete response with Content-Length. Write errors are ignored: the client may
/// have given up, which is what some tests want.
pub fn respond(stream: &mut TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The documented example body of the API reference.
pub const DOCUMENTED_EXAMPLE: &str = include_str!("../../examples/documented_example.json");

/// A canned response.
#[derive(Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("X-Request-Id", "req-seq")],
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &'static str) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// Answers the i-th request with the i-th reply (the last one repeats).
pub fn sequence(replies: Vec<Reply>) -> Server {
    let counter = AtomicUsize::new(0);
    Server::start(move |_, stream| {
        let index = counter
            .fetch_add(1, Ordering::SeqCst)
            .min(replies.len() - 1);
        let reply = &replies[index];
        respond(stream, reply.status, &reply.headers, reply.body.as_bytes());
        After::KeepAlive
    })
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "dbss-jobs-test-{}-{label}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
        assert!(
            value.starts_with("** redacted **"),
            "signature leaked in {text:?}"
        );
    }
    for signature in signatures.iter().filter(|s| !s.is_empty()) {
        assert!(
            !text.contains(signature.as_str()),
            "signature leaked in {text:?}"
        );
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

/// A SOCKS5 stand-in on loopback (no authentication, or any user/password): records each
/// CONNECT target as `host:port`, then relays the connection to it when it is 127.0.0.1, or
/// closes it otherwise (so no traffic ever leaves the machine).
pub struct Socks5 {
    pub server: Server,
    targets: Arc<Mutex<Vec<String>>>,
}

impl Socks5 {
    pub fn start() -> Socks5 {
        let targets = Arc::new(Mutex::new(Vec::new()));
        let recorded = targets.clone();
        let server = Server::raw(move |mut stream| {
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let Some(target) = socks5_handshake(&mut stream) else {
                return;
            };
            // Recorded before the reply, so that the client cannot finish before it is.
            recorded.lock().unwrap().push(target.clone());
            if stream.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).is_err()
                || !target.starts_with("127.0.0.1:")
            {
                return;
            }
            let Ok(upstream) = TcpStream::connect(&target) else {
                return;
            };
            relay(stream, upstream);
        });
        Socks5 { server, targets }
    }

    pub fn url(&self, scheme: &str) -> String {
        self.server.url().replacen("http", scheme, 1)
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

/// The server side of a SOCKS5 greeting and CONNECT request (RFC 1928, RFC 1929), up to the
/// reply; the target asked for.
fn socks5_handshake(stream: &mut TcpStream) -> Option<String> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).ok()?;
    let mut methods = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut methods).ok()?;
    if methods.contains(&0) {
        stream.write_all(&[5, 0]).ok()?;
    } else {
        stream.write_all(&[5, 2]).ok()?;
        // Username/password sub-negotiation: accept anything.
        let mut version_and_len = [0u8; 2];
        stream.read_exact(&mut version_and_len).ok()?;
        let mut user = vec![0u8; usize::from(version_and_len[1])];
        stream.read_exact(&mut user).ok()?;
        let mut len = [0u8; 1];
        stream.read_exact(&mut len).ok()?;
        let mut password = vec![0u8; usize::from(len[0])];
        stream.read_exact(&mut password).ok()?;
        stream.write_all(&[1, 0]).ok()?;
    }
    let mut request = [0u8; 4];
    stream.read_exact(&mut request).ok()?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            stream.read_exact(&mut ip).ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            stream.read_exact(&mut name).ok()?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    stream.read_exact(&mut port).ok()?;
    Some(format!("{host}:{}", u16::from_be_bytes(port)))
}

/// Copies bytes both ways until either side closes.
pub fn relay(client: TcpStream, upstream: TcpStream) {
    let (mut client_read, mut upstream_write) =
        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let forward = thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = std::io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = forward.join();
}

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

/// The signature at the end of an `Authorization` header value.
pub fn signature_of(authorization: &str) -> &str {
    authorization
        .rsplit("Signature=")
        .next()
        .unwrap_or_default()
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
