//! A fake DBSS endpoint for your tests ([crate docs](crate#testing-code-that-calls-dbss)). A
//! request that fails its checks gets the gateway's 401 `APIGW.0301`.
//!
//! [`FakeDbss::set_script`] mixes job lists and replies in a resource's timeline. Answers can be
//! injected for one resource ([`FakeDbss::inject_for`]) or for the IAM lookup ([`FakeDbss::inject_iam`]),
//! and a [`Reply`] can be a transport fault instead ([`Reply::stall`], [`Reply::drip`], ...):
//!
//! ```
//! use std::time::Duration;
//! use dbss_jobs::fake::{FakeDbss, Reply, Step, failed_job};
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
//! fake.inject_for("instance-1", Reply::stall(Duration::from_millis(20))); // silence, then a close
//! fake.inject_for("instance-1", Reply::new(200, r#"{"jobs":[]}"#).drip(Duration::from_millis(1)));
//! assert!(client.get_jobs("instance-1")?.is_empty()); // retried past the stall; the drip, whole
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dbss;
mod reply;
mod server;

use std::collections::{HashMap, VecDeque};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::builder::ClientBuilder;
use crate::client::Client;
use crate::credentials::Credentials;
use crate::model::{Job, JobStatus};
use crate::redact;
use crate::sync::lock;

pub use reply::{Reply, Step};

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

/// A request the fake received. `Debug` shows the signature and the token headers redacted.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// `GET`, …
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    /// The headers as sent (names as received).
    pub headers: Vec<(String, String)>,
    /// The status it was answered with; 0 when a fault took the answer's place.
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
        crate::sign::header_value(&self.headers, name)
    }
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, Script>,
    /// Replies for one resource's jobs requests.
    injected_for: HashMap<String, VecDeque<Reply>>,
    /// Replies for the IAM lookup.
    injected_iam: VecDeque<Reply>,
    requests: VecDeque<Received>,
    documented_path_retired: bool,
    /// The IAM lookup's answers, by region name.
    projects: HashMap<String, String>,
    /// Every open connection (`None` once reset) and its thread, to close and join on drop.
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

/// A resource's steps, and how many were served.
struct Script {
    steps: Vec<Step>,
    served: usize,
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
        let accept = std::thread::spawn(move || server::accept(&listener, &shared, &stopping));
        Ok(FakeDbss { url, state, stop, accept: Some(accept) })
    }

    /// `http://127.0.0.1:PORT`, for [`ClientBuilder::endpoint`], [`ClientBuilder::iam_endpoint`].
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The credentials the fake accepts.
    pub fn credentials(&self) -> Credentials {
        // Both parts are non-empty constants without control characters.
        #[allow(clippy::expect_used)]
        Credentials::new(FakeDbss::ACCESS_KEY, FakeDbss::SECRET_KEY).expect("valid constants")
    }

    /// A builder aimed at the fake: its URL for DBSS and IAM, its credentials, region `cn-north-4`
    /// (IAM finds [`FakeDbss::PROJECT_ID`]), an empty environment and no metadata service.
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
        let script = Script { steps, served: 0 };
        lock(&self.state).scripts.insert(resource_id.to_string(), script);
    }

    /// Answers the next jobs request for `resource_id` with `reply` instead; several queue up.
    pub fn inject_for(&self, resource_id: &str, reply: Reply) {
        lock(&self.state).injected_for.entry(resource_id.to_string()).or_default().push_back(reply);
    }

    /// Answers the next IAM project lookup with `reply` instead.
    pub fn inject_iam(&self, reply: Reply) {
        lock(&self.state).injected_iam.push_back(reply);
    }

    /// From now on the documented path answers 404 `APIGW.0101`, as once Huawei retires it.
    pub fn retire_documented_path(&self) {
        lock(&self.state).documented_path_retired = true;
    }

    /// The IAM lookup for `region` finds `project_id` from now on; like real IAM, it answers
    /// `{"projects": []}` for a region it does not know.
    pub fn add_project(&self, region: &str, project_id: &str) {
        lock(&self.state).projects.insert(region.to_string(), project_id.to_string());
    }

    /// The requests received so far, in order: the latest 10,000.
    pub fn requests(&self) -> Vec<Received> {
        lock(&self.state).requests.iter().cloned().collect()
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
        let connections = std::mem::take(&mut lock(&self.state).connections);
        for (stream, thread) in connections {
            if let Some(stream) = stream {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            let _ = thread.join();
        }
    }
}
