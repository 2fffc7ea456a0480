//! Mock provider server: interface only until the implementation lands.

use std::net::SocketAddr;

/// A running mock server.
pub struct MockServer {
    addr: SocketAddr,
}

impl MockServer {
    /// Bind and serve.
    pub async fn start(addr: SocketAddr) -> std::io::Result<MockServer> {
        let l = tokio::net::TcpListener::bind(addr).await?;
        Ok(MockServer {
            addr: l.local_addr()?,
        })
    }
    /// Bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// OpenAI base URL.
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
    /// Anthropic base URL.
    pub fn anthropic_base(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Gemini base URL.
    pub fn gemini_base(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Stop.
    pub async fn shutdown(self) {}
}

/// Serve until a signal.
pub async fn serve_until_signal(addr: SocketAddr) -> std::io::Result<()> {
    let _ = MockServer::start(addr).await?;
    Ok(())
}
