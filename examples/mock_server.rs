//! Runs the mock provider server on the address given as the first argument
//! (default `127.0.0.1:0`) until Ctrl-C or SIGTERM, for tests and scripts that cannot use
//! the `prism mock` subcommand.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let addr: SocketAddr = arg
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{arg}: {e}")))?;
    prism::mock_server::serve_until_signal(addr).await
}
