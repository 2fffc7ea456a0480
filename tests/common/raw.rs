//! A loopback HTTP/1.1 server that writes exact bytes: for servers that misbehave on
//! purpose (redirects, junk bodies, stalls, echoed keys, counters that never answer).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the raw server read it: head and body as text.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Request line and headers.
    pub head: String,
    /// The body.
    pub body: String,
}

impl Seen {
    /// The request path (with its query).
    pub fn path(&self) -> &str {
        self.head.split_whitespace().nth(1).unwrap_or_default()
    }

    /// A request header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// Whether the request line, headers or body mention `needle`.
    pub fn mentions(&self, needle: &str) -> bool {
        self.head.contains(needle) || self.body.contains(needle)
    }
}

/// A loopback server that reads each request whole, then hands the socket to `script`.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl RawServer {
    /// Listen on a free loopback port; each request read whole goes to `script`.
    pub async fn start<F, Fut>(script: F) -> Self
    where
        F: Fn(TcpStream, Seen) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let (c, r) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (script, r) = (script.clone(), r.clone());
                tokio::spawn(async move {
                    if let Some(seen) = read_request(&mut sock).await {
                        r.lock().unwrap().push(seen.clone());
                        script(sock, seen).await;
                    }
                });
            }
        });
        Self {
            addr,
            connections,
            requests,
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }

    /// How many requests mention `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.requests().iter().filter(|s| s.mentions(needle)).count()
    }
}

/// Read one HTTP/1.1 request: head up to the blank line, then `content-length` bytes.
pub async fn read_request(sock: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
    Some(Seen { head, body })
}

/// A response head that delimits the body by closing the connection.
pub fn head(status: &str, headers: &[&str]) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for line in headers {
        h.push_str(line);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

pub const SSE: &str = "content-type: text/event-stream";
pub const JSON: &str = "content-type: application/json";

/// Write `bytes`, then keep the connection open until the client hangs up (bounded).
pub async fn write_then_hang(mut sock: TcpStream, bytes: &[u8]) {
    sock.write_all(bytes).await.unwrap();
    let mut sink = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(30), sock.read(&mut sink)).await;
}

/// Write `bytes`, then close.
pub async fn write_then_close(mut sock: TcpStream, bytes: &[u8]) {
    let _ = sock.write_all(bytes).await;
    let _ = sock.shutdown().await;
}
