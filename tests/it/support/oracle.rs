//! Huawei's own signer as a test oracle: `shared/oracle/verify_server.py` re-signs every request
//! with the official Python SDK and accepts it only if our `Authorization` is byte-identical. It
//! runs when `DBSS_ORACLE_PYTHON` names a Python that has `huaweicloudsdkcore` (`.ci/setup` makes
//! such a venv); the tests that need it are `#[ignore]`d and fail without it. The server script is
//! `DBSS_ORACLE_SERVER`, else `../shared/oracle/verify_server.py`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbss_jobs::{Auth, Client};

pub const AK: &str = "ORACLEAK0000000000001";
pub const SK: &str = "oracle-secret-key-0123456789abcdefghijkl";

pub struct Oracle {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Oracle {
    /// Starts the verify server; panics when no oracle Python is set.
    pub fn start(options: &[&str]) -> Oracle {
        Oracle::if_available(options).expect("needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)")
    }

    /// Starts the verify server when an oracle Python is set, for a test that checks more with it.
    pub fn if_available(options: &[&str]) -> Option<Oracle> {
        Oracle::launch(&[], options)
    }

    /// The verify server as a gateway whose clock is `clock_offset` seconds ahead of ours and
    /// whose `Date` header is `date_offset` seconds off its clock, refusing expired signatures in
    /// the real gateway's words (`tests/data/oracle_clock.py`).
    pub fn start_with_clock(clock_offset: i64, date_offset: i64, options: &[&str]) -> Oracle {
        let wrapper = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/oracle_clock.py");
        let prefix = [wrapper.to_string(), clock_offset.to_string(), date_offset.to_string()];
        Oracle::launch(&prefix, options).expect("needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)")
    }

    fn launch(prefix: &[String], options: &[&str]) -> Option<Oracle> {
        let python = std::env::var("DBSS_ORACLE_PYTHON").ok()?;
        let script = std::env::var("DBSS_ORACLE_SERVER").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/oracle/verify_server.py").to_string()
        });
        let mut child = Command::new(&python)
            .args(prefix)
            .arg(&script)
            .args(["0", "120", AK, SK])
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} {script}: {e}"));
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            let read = stderr.read_line(&mut line).unwrap();
            assert!(
                read > 0,
                "verify server exited before listening (is huaweicloudsdkcore installed for {python}?)"
            );
            if let Some(address) = line.trim().strip_prefix("LISTENING 127.0.0.1:") {
                break address.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Some(Oracle { child, port, log })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn client(&self, auth: impl Into<Auth>) -> Client {
        super::client(format!("http://127.0.0.1:{}", self.port))
            .auth(auth)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
