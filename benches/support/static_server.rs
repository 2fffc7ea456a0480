//! A static HTTP server for the benches: every request gets the same recorded body, as
//! fast as the socket takes it, so the client measured is the only one doing work per
//! token. Shared by `wire_cpu` and `memory` (each includes it with `#[path]`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// Serves `body` to every request, as fast as the socket takes it, until the process ends.
pub fn serve(body: Arc<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let body = body.clone();
            std::thread::spawn(move || answer(conn, &body));
        }
    });
    addr
}

fn answer(mut conn: TcpStream, body: &[u8]) {
    // Read the request head and its body, so the client's write completes cleanly.
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let head_end = loop {
        let Ok(n) = conn.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while got.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let response_head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: req_bench\r\n\r\n",
        body.len()
    );
    if conn.write_all(response_head.as_bytes()).is_err() {
        return;
    }
    // Writes of 64 KiB, so the client sees many reads, as from a real fast server.
    for piece in body.chunks(64 * 1024) {
        if conn.write_all(piece).is_err() {
            return;
        }
    }
}
