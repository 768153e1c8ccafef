//! A real HTTP/1.1 server on 127.0.0.1 in a thread, driven by a script per request.
//!
//! The script gets the parsed request and the raw socket, so it can send what no fake should:
//! broken framing, a truncated body, a malformed or huge head, or an echo of what it was sent. The
//! faults the fake offers (close, reset, stall, drip) are played by `dbss_jobs::fake`. Requests and
//! connections are counted. A panic in a script is re-raised when the server is dropped, so an
//! assertion inside the server cannot be swallowed.

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
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn header_names_lowercase(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
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
            let (requests, connections, stop, threads) =
                (requests.clone(), connections.clone(), stop.clone(), connection_threads.clone());
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
                &[("Content-Type", "application/json"), ("X-Request-Id", "req-fixed-1")],
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
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
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

/// Reads one request head (and discards its body, sized or chunked). `None` on EOF or garbage.
pub fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).ok()? == 0 {
        return None;
    }
    let line = String::from_utf8_lossy(&line);
    let mut parts = line.trim_end().splitn(3, ' ');
    let (method, target, version) =
        (parts.next()?.to_string(), parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut raw = Vec::new();
        if reader.read_until(b'\n', &mut raw).ok()? == 0 {
            return None;
        }
        let raw = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_string();
        if raw.is_empty() {
            break;
        }
        let (name, value) = raw.split_once(':')?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let request = Request { method, target, version, headers };
    if let Some(length) = request.header("content-length").and_then(|l| l.parse::<u64>().ok()) {
        std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink()).ok()?;
    }
    if request
        .header("transfer-encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        skip_chunks(reader)?;
    }
    Some(request)
}

/// Reads and discards a chunked body, up to its last, empty chunk and the blank line after it.
fn skip_chunks(reader: &mut impl BufRead) -> Option<()> {
    loop {
        let mut size = Vec::new();
        reader.read_until(b'\n', &mut size).ok()?;
        let size = String::from_utf8_lossy(&size);
        let size = u64::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        // The chunk and its CRLF (for the last chunk, the blank line that ends the body).
        std::io::copy(&mut reader.by_ref().take(size + 2), &mut std::io::sink()).ok()?;
        if size == 0 {
            return Some(());
        }
    }
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
pub const DOCUMENTED_EXAMPLE: &str =
    include_str!("../../../src/bin/dbss-jobs/documented_example.json");

/// A canned response.
#[derive(Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, headers: vec![("X-Request-Id", "req-seq")], body: body.into() }
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
        let index = counter.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
        let reply = &replies[index];
        respond(stream, reply.status, &reply.headers, reply.body.as_bytes());
        After::KeepAlive
    })
}
