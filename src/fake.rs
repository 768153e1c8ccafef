//! A fake DBSS endpoint for testing code that calls DBSS, without a cloud account (cargo feature
//! `fake`; no extra dependency).
//!
//! [`FakeDbss::start`] listens on 127.0.0.1 with a free port, in a thread, and stops when dropped.
//! It answers both job paths and the IAM project lookup, checks each request's `SDK-HMAC-SHA256`
//! signature by re-signing it **with this crate's own signer** (so it checks the request's shape
//! and the credentials, not the signer: the crate's tests check the signer against Huawei's
//! vectors and Huawei's own signer) or its `X-Auth-Token`, and enforces the gateway's 15-minute
//! window on `X-Sdk-Date`. A request that fails those checks gets the gateway's 401 `APIGW.0301`.
//!
//! [`FakeDbss::set_jobs`] sets what successive polls of a resource list (the README shows a wait
//! on it), [`FakeDbss::set_script`] mixes job lists and replies in that timeline, and
//! [`FakeDbss::script_per_client`] gives each client its own place in it. Answers can be injected
//! for one resource ([`FakeDbss::inject_for`]) or for the IAM lookup ([`FakeDbss::inject_iam`]),
//! and a [`Reply`] can be a transport fault instead: [`Reply::close`] closes the connection
//! without an answer, [`Reply::reset`] resets it (RST) with the request unread, [`Reply::stall`]
//! says nothing for a while, [`Reply::drip`] sends an answer a byte at a time:
//!
//! ```
//! use std::time::Duration;
//! use dbss_jobs::fake::{FakeDbss, Reply, Step, failed_job};
//! use dbss_jobs::{ErrorKind, JobStatus};
//!
//! let fake = FakeDbss::start()?;
//! let failed = failed_job("j1", "DBSS.1234", "quota exceeded");
//! fake.set_script("instance-1", vec![Step::Reply(Reply::throttled(0)), Step::Jobs(vec![failed])]);
//! fake.inject_iam(Reply::unavailable()); // the lookup meets a 503 first, and is retried
//! fake.inject_for("instance-1", Reply::close()); // so is a connection closed unanswered
//! let client = fake.client().build()?;
//! let jobs = client.get_jobs("instance-1")?;
//! assert_eq!(jobs[0].error_code.as_deref(), Some("DBSS.1234"));
//! // IAM's 503 and 200, the closed connection, the 429, the jobs.
//! let statuses: Vec<u16> = fake.requests().iter().map(|request| request.status).collect();
//! assert_eq!(statuses, [503, 200, 0, 429, 200]);
//! fake.inject_for("instance-1", Reply::reset()); // a reset connection is retried too
//! assert_eq!(client.get_jobs("instance-1")?.len(), 1);
//! assert_eq!(fake.requests().len(), 7);
//!
//! fake.inject_for("slow", Reply::stall(Duration::from_secs(1)));
//! let impatient = fake.client().project_id("p").timeout(Duration::from_millis(200)).build()?;
//! assert!(impatient.get_jobs("slow").unwrap_err().is_timeout());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::auth::Credentials;
use crate::builder::ClientBuilder;
use crate::client::Client;
use crate::model::{Job, JobStatus};
use crate::redact;
use crate::sign::{SignableRequest, percent_decode, sign};
use crate::sync::lock;
use crate::timestamps::{format_http_date, parse_sdk_date};

/// The gateway's tolerance for `X-Sdk-Date`.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// A request head larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;
/// How long a connection may stay silent, or a request head unfinished.
const IDLE: Duration = Duration::from_secs(30);

/// A job with an id and a status, the rest unset: the usual building block of a timeline.
/// [`Job`]'s fields are public: set any other on the value (`job.server_name = Some(..)`).
pub fn job(job_id: &str, status: JobStatus) -> Job {
    Job { job_id: Some(job_id.to_string()), status: Some(status), ..Job::default() }
}

/// A `FAIL` job with the `error_code` and `fail_reason` the service gives.
pub fn failed_job(job_id: &str, error_code: &str, fail_reason: &str) -> Job {
    Job {
        error_code: Some(error_code.to_string()),
        fail_reason: Some(fail_reason.to_string()),
        ..job(job_id, JobStatus::Fail)
    }
}

/// An answer to give instead of the normal one ([`FakeDbss::inject_for`]), or a transport fault in
/// its place ([`Reply::close`], [`Reply::reset`], [`Reply::stall`], [`Reply::drip`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    fault: Option<Fault>,
}

/// What goes wrong on the wire instead of, or while, answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The connection is closed without an answer.
    Close,
    /// The connection is closed with the request unread, so the kernel answers with RST.
    Reset,
    /// Nothing is said for this long, then the connection is closed.
    Stall(Duration),
    /// The answer is sent one byte at a time, this long apart.
    Drip(Duration),
}

impl Reply {
    /// Any status and body.
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, headers: Vec::new(), body: body.into(), fault: None }
    }

    /// The connection is closed without an answer (the client sees a connection failure before
    /// any answer, and retries).
    pub fn close() -> Reply {
        Reply::fault(Fault::Close)
    }

    /// The connection is reset (RST) instead of answered (the client sees a connection reset
    /// before any answer, and retries).
    pub fn reset() -> Reply {
        Reply::fault(Fault::Reset)
    }

    /// Nothing is said for `duration`, then the connection is closed (a client's deadline passes
    /// first when it is shorter). Dropping the fake waits for a stall to end.
    pub fn stall(duration: Duration) -> Reply {
        Reply::fault(Fault::Stall(duration))
    }

    fn fault(fault: Fault) -> Reply {
        Reply { fault: Some(fault), ..Reply::new(0, "") }
    }

    /// This answer, sent one byte at a time, `pause` apart (a slow or congested link).
    pub fn drip(mut self, pause: Duration) -> Reply {
        self.fault = Some(Fault::Drip(pause));
        self
    }

    /// Adds a header; one the fake sends itself (`X-Request-Id`, `Date`, `Content-Type`) is
    /// replaced by it. `Content-Length` is always the body's.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The gateway's 429 `APIGW.0308` with `Retry-After`.
    pub fn throttled(retry_after_seconds: u64) -> Reply {
        Reply::gateway(429, "APIGW.0308", "The throttling threshold has been reached")
            .header("Retry-After", &retry_after_seconds.to_string())
    }

    /// The gateway's 503 `APIGW.0503`.
    pub fn unavailable() -> Reply {
        Reply::gateway(503, "APIGW.0503", "The service is currently unavailable")
    }

    fn gateway(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"error_code": code, "error_msg": message}).to_string();
        Reply::new(status, body)
    }
}

/// A request the fake received. `Debug` shows the signature and the token headers redacted.
/// `status` is 0 when a fault took the answer's place.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// `GET`, …
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    /// The headers as sent (names as received).
    pub headers: Vec<(String, String)>,
    /// The status it was answered with.
    pub status: u16,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), redact::header(name, value)))
            .collect();
        f.debug_struct("Received")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &headers)
            .field("status", &self.status)
            .finish()
    }
}

impl Received {
    /// A header's value (name compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::hooks::header_value(&self.headers, name)
    }
}

/// The request record keeps this many of the latest requests (`--demo --serve` runs for days).
const RECORDED: usize = 10_000;

#[derive(Default)]
struct State {
    scripts: HashMap<String, Script>,
    /// Each client (connection) gets its own place in every script.
    per_client: bool,
    /// Replies for one resource's jobs requests.
    injected_for: HashMap<String, VecDeque<Reply>>,
    /// Replies for the IAM lookup.
    injected_iam: VecDeque<Reply>,
    requests: VecDeque<Received>,
    documented_path_retired: bool,
    /// The IAM lookup's answers, by region name.
    projects: HashMap<String, String>,
    /// Every connection still open (its handle, or `None` once reset), to close when the fake
    /// is dropped, with the thread that serves it, to join.
    connections: Vec<(Option<TcpStream>, JoinHandle<()>)>,
}

/// The fake endpoint; see the [module docs](self).
pub struct FakeDbss {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// Its address and how many requests it has recorded.
impl std::fmt::Debug for FakeDbss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let recorded = lock(&self.state).requests.len();
        f.debug_struct("FakeDbss")
            .field("url", &self.url)
            .field("recorded_requests", &recorded)
            .finish_non_exhaustive()
    }
}

/// One answer of a resource's script ([`FakeDbss::set_script`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `200 {"jobs": [...]}`.
    Jobs(Vec<Job>),
    /// Any other answer, or a fault.
    Reply(Reply),
}

/// A resource's steps, and how far each client got.
struct Script {
    steps: Vec<Step>,
    /// By client (its connection's peer address, or `""` when scripts are shared).
    served: HashMap<String, usize>,
}

/// The region whose IAM lookup finds [`FakeDbss::PROJECT_ID`] from the start.
const REGION: &str = "cn-north-4";

impl FakeDbss {
    /// The AK the fake accepts.
    pub const ACCESS_KEY: &'static str = "FAKEDBSSACCESSKEY001";
    /// The SK that goes with it: 40 letters and digits, as Huawei's are.
    pub const SECRET_KEY: &'static str = "FakeDbssSecretKeyNotARealOne000000000000";
    /// The IAM token the fake accepts as `X-Auth-Token`.
    pub const IAM_TOKEN: &'static str = "fake-dbss-iam-token";
    /// The project id the IAM lookup answers.
    pub const PROJECT_ID: &'static str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

    /// Starts the fake on 127.0.0.1 with a free port.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start() -> std::io::Result<FakeDbss> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let mut state = State::default();
        state.projects.insert(REGION.to_string(), FakeDbss::PROJECT_ID.to_string());
        let state = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopping) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || accept(&listener, &shared, &stopping));
        Ok(FakeDbss { url, state, stop, accept: Some(accept) })
    }

    /// `http://127.0.0.1:PORT`, for [`ClientBuilder::endpoint`] and
    /// [`ClientBuilder::iam_endpoint`].
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The credentials the fake accepts.
    pub fn credentials(&self) -> Credentials {
        // Both parts are non-empty constants without control characters.
        #[allow(clippy::expect_used)]
        Credentials::new(FakeDbss::ACCESS_KEY, FakeDbss::SECRET_KEY).expect("valid constants")
    }

    /// A builder aimed at the fake: its URL as DBSS and IAM endpoint, its credentials, region
    /// `cn-north-4` (the IAM lookup finds [`FakeDbss::PROJECT_ID`]), an empty environment and no
    /// metadata service.
    ///
    /// The IAM lookup answers as real IAM does: the project of a region it knows (`cn-north-4`,
    /// and those given to [`FakeDbss::add_project`]), else `{"projects": []}`.
    pub fn client(&self) -> ClientBuilder {
        Client::builder()
            .region("cn-north-4")
            .endpoint(self.url())
            .iam_endpoint(self.url())
            .auth(self.credentials())
            .environment(Vec::<(String, String)>::new())
            .ecs_metadata(false)
    }

    /// What successive polls of `resource_id` list: the first request gets `timeline[0]`, the
    /// next `timeline[1]`, and the last list repeats. An unknown resource lists no jobs.
    pub fn set_jobs(&self, resource_id: &str, timeline: Vec<Vec<Job>>) {
        self.set_script(resource_id, timeline.into_iter().map(Step::Jobs).collect());
    }

    /// As [`FakeDbss::set_jobs`], with any answer as a step: a list of jobs, or a [`Reply`] (a
    /// 429, a 403, a fault). The last step repeats.
    pub fn set_script(&self, resource_id: &str, steps: Vec<Step>) {
        let script = Script { steps, served: HashMap::new() };
        self.lock().scripts.insert(resource_id.to_string(), script);
    }

    /// From now on each client (each connection) walks every script from its first step, so that
    /// two pipelines polling the same resource do not race (as `dbss-jobs --demo --serve` does).
    ///
    /// A client that opens a new connection per poll (a shell loop of one-shot calls, or polls
    /// further apart than the client keeps a connection idle) asks for `NAME.TAG` instead: the
    /// script `NAME`, with one place per tag, kept across connections.
    pub fn script_per_client(&self) {
        self.lock().per_client = true;
    }

    /// Answers the next jobs request for `resource_id` with `reply` instead (several calls queue
    /// up).
    pub fn inject_for(&self, resource_id: &str, reply: Reply) {
        let mut state = self.lock();
        let queue = state.injected_for.entry(resource_id.to_string()).or_default();
        queue.push_back(reply);
    }

    /// Answers the next IAM project lookup with `reply` instead.
    pub fn inject_iam(&self, reply: Reply) {
        self.lock().injected_iam.push_back(reply);
    }

    /// From now on, the documented path answers 404 `APIGW.0101` (no such API), as the gateway
    /// will once Huawei retires it; the newer path keeps working.
    pub fn retire_documented_path(&self) {
        self.lock().documented_path_retired = true;
    }

    /// The IAM lookup for `region` finds `project_id` from now on.
    pub fn add_project(&self, region: &str, project_id: &str) {
        self.lock().projects.insert(region.to_string(), project_id.to_string());
    }

    /// The requests received so far, in order: the latest 10,000.
    pub fn requests(&self) -> Vec<Received> {
        self.lock().requests.iter().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// Drop stops the fake: it stops accepting, closes every connection and joins every thread.
impl Drop for FakeDbss {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        let connections = std::mem::take(&mut self.lock().connections);
        for (stream, thread) in connections {
            if let Some(stream) = stream {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            let _ = thread.join();
        }
    }
}

/// Accepts connections until the fake is dropped, each served in a thread of its own.
fn accept(listener: &TcpListener, state: &Arc<Mutex<State>>, stopping: &AtomicBool) {
    let served = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(kept) = stream.try_clone() else {
            continue;
        };
        let (shared, served) = (state.clone(), served.clone());
        // Held until the connection is listed, so that `serve` (which needs it to answer) can
        // always find its own entry.
        let mut state = lock(state);
        let thread = std::thread::spawn(move || serve(stream, &shared, &served));
        state.connections.retain(|(_, thread)| !thread.is_finished());
        state.connections.push((Some(kept), thread));
    }
}

/// One request as read off the wire.
struct Request {
    /// The client's address, `ip:port`.
    peer: String,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        crate::hooks::header_value(&self.headers, name)
    }
}

/// Serves one connection until the client closes it or stays silent for 30 s.
fn serve(stream: TcpStream, state: &Mutex<State>, served: &AtomicUsize) {
    // One write per answer and no Nagle delay: a kept-alive poll is answered at once.
    if stream.set_read_timeout(Some(IDLE)).and_then(|()| stream.set_nodelay(true)).is_err() {
        return;
    }
    let peer = stream.peer_addr().ok();
    let peer_text = peer.map(|a| a.to_string()).unwrap_or_default();
    let mut buffer = vec![0; MAX_HEAD];
    let mut stream = stream;
    while let Some(head) = peek_head(&stream, &mut buffer) {
        let Some(request) = parse_head(head, &peer_text) else {
            return;
        };
        let head_len = head.len() as u64;
        let Ok(body_len) = request.header("content-length").map_or(Ok(0), str::parse::<u64>) else {
            return;
        };
        let reply = answer(&request, state);
        record(state, request, reply.status);
        if reply.fault == Some(Fault::Reset) {
            // The last handle closes with the request unread: the kernel sends RST.
            for (kept, _) in &mut lock(state).connections {
                if kept.as_ref().is_some_and(|kept| kept.peer_addr().ok() == peer) {
                    *kept = None;
                }
            }
            return;
        }
        let consumed =
            std::io::copy(&mut (&stream).take(head_len + body_len), &mut std::io::sink());
        let number = served.fetch_add(1, Ordering::SeqCst) + 1;
        if consumed.ok() != Some(head_len + body_len)
            || write_reply(&mut stream, &reply, number).is_err()
        {
            // A clone is kept to close the connection on drop: close it now, for the client.
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

/// The next request's head, peeked (left unread, so that [`Reply::reset`] can close the
/// connection on it); `None` when the connection ends, idles or sends a head too large.
fn peek_head<'a>(stream: &TcpStream, buffer: &'a mut [u8]) -> Option<&'a [u8]> {
    let started = std::time::Instant::now();
    loop {
        let peeked = stream.peek(buffer).ok().filter(|read| *read > 0)?;
        if let Some(end) = buffer[..peeked].windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(&buffer[..end + 4]);
        }
        if peeked == buffer.len() || started.elapsed() > IDLE {
            return None;
        }
        // Part of a head: wait for the rest.
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Keeps the latest [`RECORDED`] requests.
fn record(state: &Mutex<State>, request: Request, status: u16) {
    let mut recorded = lock(state);
    if recorded.requests.len() == RECORDED {
        recorded.requests.pop_front();
    }
    recorded.requests.push_back(Received {
        method: request.method,
        target: request.target,
        headers: request.headers,
        status,
    });
}

fn parse_head(head: &[u8], peer: &str) -> Option<Request> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Some(Request { peer: peer.to_string(), method, target, headers })
}

/// Writes a reply in one write (or drips it, or in its place closes or stalls the connection):
/// the head (the fake's own headers, unless the reply gives them) and the body. An error ends the
/// connection.
fn write_reply(stream: &mut TcpStream, reply: &Reply, number: usize) -> std::io::Result<()> {
    let closed = || std::io::Error::other("closed by an injected fault");
    match reply.fault {
        Some(Fault::Close | Fault::Reset) => return Err(closed()),
        Some(Fault::Stall(duration)) => {
            std::thread::sleep(duration);
            return Err(closed());
        }
        _ => {}
    }
    let bytes = reply_bytes(reply, number);
    if let Some(Fault::Drip(pause)) = reply.fault {
        for byte in bytes {
            stream.write_all(&[byte])?;
            stream.flush()?;
            std::thread::sleep(pause);
        }
        return Ok(());
    }
    stream.write_all(&bytes)?;
    stream.flush()
}

/// The bytes of a reply: the head and the body.
fn reply_bytes(reply: &Reply, number: usize) -> Vec<u8> {
    let own = [
        ("Content-Type", "application/json".to_string()),
        ("Date", format_http_date(SystemTime::now())),
        ("X-Request-Id", format!("fake-{number:06}")),
    ];
    let given = |name: &str| crate::hooks::header_value(&reply.headers, name).is_some();
    let mut head =
        format!("HTTP/1.1 {} Fake\r\nContent-Length: {}\r\n", reply.status, reply.body.len());
    for (name, value) in own.iter().filter(|(name, _)| !given(name)) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    for (name, value) in &reply.headers {
        if !name.eq_ignore_ascii_case("content-length") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(reply.body.as_bytes());
    bytes
}

/// Authenticates, then routes: the IAM lookup, either jobs path, or 404 `APIGW.0101`.
fn answer(request: &Request, state: &Mutex<State>) -> Reply {
    if let Err(why) = authenticate(request) {
        let message = format!("Incorrect IAM authentication information: {why}");
        return Reply::gateway(401, "APIGW.0301", &message);
    }
    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let segments: Vec<String> = path.split('/').map(|s| percent_decode(s).into_owned()).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let no_such_api = || {
        Reply::gateway(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        )
    };
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["", "v3", "projects"]) => {
            let injected = lock(state).injected_iam.pop_front();
            injected.unwrap_or_else(|| projects(state, query))
        }
        ("GET", ["", "v1", _, "dbss", "audit", "jobs", resource]) => {
            if lock(state).documented_path_retired {
                return no_such_api();
            }
            jobs(state, resource, &request.peer)
        }
        ("GET", ["", "v1", _, "audit", resource, "jobs"]) => jobs(state, resource, &request.peer),
        _ => no_such_api(),
    }
}

/// The IAM lookup by region name: the region's project, or none, as real IAM answers.
fn projects(state: &Mutex<State>, query: &str) -> Reply {
    let name = decoded(query).into_iter().find(|(key, _)| key == "name").unwrap_or_default().1;
    let body = match lock(state).projects.get(&name) {
        Some(id) => serde_json::json!({"projects": [{"id": id, "name": name}]}),
        None => serde_json::json!({"projects": []}),
    };
    Reply::new(200, body.to_string())
}

/// An injected reply, or the resource's next step for this client.
fn jobs(state: &Mutex<State>, resource: &str, peer: &str) -> Reply {
    let mut state = lock(state);
    if let Some(reply) = state.injected_for.get_mut(resource).and_then(VecDeque::pop_front) {
        return reply;
    }
    // `NAME.TAG`, under `script_per_client` only: the script `NAME`, with one place per tag
    // whatever the connection.
    let tagged = resource.split_once('.').filter(|(name, _)| {
        state.per_client
            && !state.scripts.contains_key(resource)
            && state.scripts.contains_key(*name)
    });
    let (script, client) = match tagged {
        Some((name, tag)) => (name, format!("tag {tag}")),
        None if state.per_client => (resource, peer.to_string()),
        None => (resource, String::new()),
    };
    let step = match state.scripts.get_mut(script) {
        Some(script) => {
            let served = script.served.entry(client).or_insert(0);
            let index = (*served).min(script.steps.len().saturating_sub(1));
            *served += 1;
            script.steps.get(index).cloned()
        }
        None => None,
    };
    match step {
        Some(Step::Reply(reply)) => reply,
        Some(Step::Jobs(jobs)) => Reply::new(200, serde_json::json!({ "jobs": jobs }).to_string()),
        None => Reply::new(200, r#"{"jobs":[]}"#),
    }
}

/// Accepts the fake's IAM token, or a signature the fake's credentials make for this very
/// request (re-signed with this crate's signer) within 15 minutes of now.
fn authenticate(request: &Request) -> Result<(), String> {
    if let Some(token) = request.header("x-auth-token") {
        return (token == FakeDbss::IAM_TOKEN)
            .then_some(())
            .ok_or_else(|| "the token is not valid".to_string());
    }
    let authorization =
        request.header("authorization").ok_or("no Authorization or X-Auth-Token header")?;
    // The gateway's words for an access key it does not know.
    let access_key = authorization
        .split_once("Access=")
        .and_then(|(_, rest)| rest.split(',').next())
        .unwrap_or_default();
    if access_key != FakeDbss::ACCESS_KEY {
        return Err(format!("Get secretKey failed,ak:{access_key},err:ak not exist"));
    }
    let date = request.header("x-sdk-date").ok_or("no X-Sdk-Date header")?;
    let time = parse_sdk_date(date).ok_or("X-Sdk-Date is malformed")?;
    let now = SystemTime::now();
    let apart = now.duration_since(time).unwrap_or_else(|ahead| ahead.duration());
    if apart > WINDOW {
        let server_time = crate::sign::sdk_date(now).unwrap_or_default();
        return Err(format!(
            "calc ak sk signature fail:signature expired, signature time:{date},server time:{server_time}"
        ));
    }
    let expected = expected_authorization(request, authorization, time)?;
    (expected == authorization)
        .then_some(())
        .ok_or_else(|| "verify aksk signature fail".to_string())
}

/// The `Authorization` the fake's credentials give this request's signed headers.
fn expected_authorization(
    request: &Request,
    authorization: &str,
    time: SystemTime,
) -> Result<String, String> {
    let signed_names = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .ok_or("Authorization has no SignedHeaders")?;
    let headers: Vec<(&str, &str)> = signed_names
        .split(';')
        .filter(|name| *name != "x-sdk-date")
        .filter_map(|name| request.header(name).map(|value| (name, value)))
        .collect();
    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let decoded = decoded(query);
    let pairs: Vec<(&str, &str)> = decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let host = request.header("host").unwrap_or_default();
    let signable =
        SignableRequest::new(&request.method, host, path).with_query(&pairs).with_headers(&headers);
    let credentials = Credentials::new(FakeDbss::ACCESS_KEY, FakeDbss::SECRET_KEY)
        .map_err(|error| error.to_string())?;
    sign(&signable, &credentials, time)
        .map(|signed| signed.authorization().to_string())
        .map_err(|error| error.to_string())
}

/// A query's pairs, percent-decoded.
fn decoded(query: &str) -> Vec<(String, String)> {
    let pairs = query.split('&').filter(|pair| !pair.is_empty());
    let pairs = pairs.map(|pair| pair.split_once('=').unwrap_or((pair, "")));
    pairs.map(|(k, v)| (percent_decode(k).into_owned(), percent_decode(v).into_owned())).collect()
}
