//! Sequential `get_jobs` calls with keep-alive against an in-process server that returns the
//! documented example body, against raw ureq GETs of the same URL with the same headers through an
//! agent with the same configuration. Target overhead ≤ 5%.
//!
//! Run: `cargo bench --bench get_jobs`

mod support;

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use dbss_jobs::{Client, Credentials};

const BODY: &str = include_str!("../src/bin/dbss-jobs/documented_example.json");

/// A keep-alive HTTP/1.1 server on loopback that answers every request with `BODY`.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: bench\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let response = response.clone();
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            if writer.write_all(response.as_bytes()).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    url
}

fn main() {
    let url = serve();
    let client = Client::builder()
        .endpoint(&url)
        .auth(Credentials::new("BENCHAK0000000000001", "bench-secret-key").unwrap())
        .build()
        .unwrap();
    // The reference: the same agent configuration as the client's, the same URL and headers
    // (one signature computed up front), the body read into memory.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .timeout_connect(Some(Duration::from_secs(10)))
        .user_agent(ureq::config::AutoHeaderValue::None)
        .proxy(None)
        .build()
        .into();
    let path = "/v1/93ad699fc1f7cd5bb2e35cbf0f19c557/dbss/audit/jobs/instance-1";
    let full_url = format!("{url}{path}");
    let headers: Vec<(String, String)> = {
        use dbss_jobs::sign::{SignableRequest, sign};
        let host = url.trim_start_matches("http://");
        let request = SignableRequest::new("GET", host, path).with_headers(&[
            ("Content-Type", "application/json"),
            ("User-Agent", concat!("dbss-jobs/", env!("CARGO_PKG_VERSION"))),
            ("X-Project-Id", "93ad699fc1f7cd5bb2e35cbf0f19c557"),
        ]);
        let credentials = Credentials::new("BENCHAK0000000000001", "bench-secret-key").unwrap();
        let signed = sign(&request, &credentials, std::time::SystemTime::now()).unwrap();
        signed.headers().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    };
    let raw = || {
        let mut request = agent.get(&full_url);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request.call().unwrap();
        black_box(response.body_mut().with_config().limit(10 << 20).read_to_vec().unwrap());
    };
    let ours = || {
        black_box(client.get_jobs_in("93ad699fc1f7cd5bb2e35cbf0f19c557", "instance-1").unwrap());
    };
    let (ours, reference) = support::interleaved(5000, ours, raw);
    support::report("get_jobs over loopback", ours, "raw ureq GET", reference, 1.05);
}
