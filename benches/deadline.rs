//! How far past its deadline a call ends, over many runs, against three servers that each hold a
//! call as long as they can: one that never answers, one that drips its head a byte at a time, and
//! one that sends its head at once and drips its body (a body whose head came in time may be read
//! for a grace of 250 ms more, so that a cut answer keeps its error code). Target: every call ends
//! within 300 ms of its deadline on this machine.
//!
//! Run: `cargo bench --bench deadline` (`DEADLINE_RUNS=200` for more runs per server).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use dbss_jobs::{Client, Credentials};

const DEADLINE: Duration = Duration::from_millis(400);
const TARGET: Duration = Duration::from_millis(300);

/// What a server does with a connection once it has read the request.
type Hold = fn(&mut TcpStream);

/// A server on loopback that reads each request's head and then calls `hold` on the connection.
fn serve(hold: Hold) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                hold(&mut stream);
            });
        }
    });
    url
}

fn silent(_: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(30));
}

/// Bytes a byte at a time, 10 ms apart, until the client goes away.
fn drip(stream: &mut TcpStream, bytes: impl Iterator<Item = u8>) {
    for byte in bytes {
        std::thread::sleep(Duration::from_millis(10));
        if stream.write_all(&[byte]).is_err() {
            return;
        }
    }
}

fn dripping_head(stream: &mut TcpStream) {
    let head = b"HTTP/1.1 200 OK\r\nX-Padding: ".iter().copied().chain(std::iter::repeat(b'a'));
    drip(stream, head.take(100_000));
}

fn dripping_body(stream: &mut TcpStream) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_ok() {
        drip(stream, br#"{"jobs":["#.iter().copied().chain(std::iter::repeat(b' ')).take(100_000));
    }
}

/// The overrun of each of `runs` calls, sorted.
fn overruns(url: &str, runs: usize) -> Vec<Duration> {
    let client = Client::builder()
        .endpoint(url)
        .auth(Credentials::new("BENCH-AK", "bench-sk").unwrap())
        .project_id("p")
        .environment([("HOME", "/nonexistent")])
        .timeout(DEADLINE)
        .build()
        .unwrap();
    let mut overruns: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let error = client.get_jobs("r").unwrap_err();
            assert!(error.is_timeout(), "{error}");
            started.elapsed().saturating_sub(DEADLINE)
        })
        .collect();
    overruns.sort();
    overruns
}

fn main() {
    let runs = std::env::var("DEADLINE_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let servers: [(&str, Hold); 3] = [
        ("never answers", silent),
        ("drips its head", dripping_head),
        ("drips its body", dripping_body),
    ];
    let mut worst = Duration::ZERO;
    println!(
        "deadline {} ms, {runs} runs per server; overrun past the deadline, in ms:",
        DEADLINE.as_millis()
    );
    for (name, hold) in servers {
        let overruns = overruns(&serve(hold), runs);
        let at = |q: f64| {
            overruns[((overruns.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
        };
        println!(
            "{name:<16} min {:6.1}  median {:6.1}  p95 {:6.1}  max {:6.1}",
            at(0.0),
            at(0.5),
            at(0.95),
            at(1.0)
        );
        worst = worst.max(overruns[overruns.len() - 1]);
    }
    let verdict = if worst <= TARGET { "meets" } else { "MISSES" };
    println!(
        "worst {:.1} ms ({verdict} target ≤ {} ms)",
        worst.as_secs_f64() * 1e3,
        TARGET.as_millis()
    );
}
