//! A SOCKS5 stand-in on loopback, and a relay between two sockets.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::server::Server;

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
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
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
