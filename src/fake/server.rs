//! The loopback HTTP/1.1 server: a thread per connection, requests read within bounds, answers
//! written by [`super::reply`], every connection closed when the fake is dropped.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::reply::{Fault, Reply};
use super::{Received, State};
use crate::sync::lock;

/// A request head larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;
/// A request body larger than this is refused (the fake's routes take none).
const MAX_BODY: u64 = 64 * 1024;
/// How long a connection may stay silent, or a request head unfinished.
const IDLE: Duration = Duration::from_secs(30);
/// The request record keeps this many of the latest requests (a fake serving for days).
const RECORDED: usize = 10_000;

/// Accepts connections until the fake is dropped, each served in a thread of its own.
pub(super) fn accept(listener: &TcpListener, state: &Arc<Mutex<State>>, stopping: &AtomicBool) {
    let served = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(kept) = stream.try_clone() else { continue };
        let (shared, served) = (state.clone(), served.clone());
        // Held until the connection is listed, so that `serve` always finds its own entry.
        let mut state = lock(state);
        let thread = std::thread::spawn(move || serve(stream, &shared, &served));
        state.connections.retain(|(_, thread)| !thread.is_finished());
        state.connections.push((Some(kept), thread));
    }
}

/// Serves one connection until the client closes it or idles, a fault ends it, or a request has
/// a body the fake will not read (answered 413 or 400). A clone is kept to close it on drop.
fn serve(mut stream: TcpStream, state: &Mutex<State>, served: &AtomicUsize) {
    // One write per answer and no Nagle delay: a kept-alive poll is answered at once.
    let ready = stream.set_read_timeout(Some(IDLE)).and_then(|()| stream.set_nodelay(true));
    let peer = stream.peer_addr().ok();
    let mut buffer = vec![0; MAX_HEAD];
    while ready.is_ok()
        && let Some(head) = peek_head(&stream, &mut buffer)
        && let Some(request) = parse_head(head)
    {
        let head_len = head.len() as u64;
        let length = request.header("content-length").map_or(Ok(0), str::parse::<u64>);
        let body_len = length.as_ref().ok().copied().filter(|length| *length <= MAX_BODY);
        let reply = match (body_len, length) {
            (Some(_), _) => super::dbss::answer(&request, state),
            (None, Ok(_)) => Reply::new(413, ""),
            (None, Err(_)) => Reply::new(400, ""),
        };
        record(state, Received { status: reply.status, ..request });
        if reply.fault == Some(Fault::Reset) {
            // The last handle closes with the request unread: the kernel sends RST.
            for (kept, _) in &mut lock(state).connections {
                if kept.as_ref().is_some_and(|kept| kept.peer_addr().ok() == peer) {
                    *kept = None;
                }
            }
            return;
        }
        // A refused request's head is read, so that the answer is not lost to a reset.
        let length = head_len + body_len.unwrap_or(0);
        let consumed = std::io::copy(&mut (&stream).take(length), &mut std::io::sink());
        let number = served.fetch_add(1, Ordering::SeqCst) + 1;
        if consumed.ok() != Some(length)
            || reply.write_to(&mut stream, number).is_err()
            || body_len.is_none()
        {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
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
fn record(state: &Mutex<State>, request: Received) {
    let mut recorded = lock(state);
    if recorded.requests.len() == RECORDED {
        recorded.requests.pop_front();
    }
    recorded.requests.push_back(request);
}

/// The request line and headers; `status` is set once answered.
fn parse_head(head: &[u8]) -> Option<Received> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Some(Received { method, target, headers, status: 0 })
}
