//! The built-in demo: real provider adapters pointed at an in-process mock server.
//!
//! Demo model names carry mock directives after `+` (first-token delay, speed, length),
//! so the demo visibly compares differently-behaving "providers", one of them an OpenAI
//! reasoning model over the Responses API. Nothing here touches the network or needs a key.

use std::net::{Ipv4Addr, SocketAddr};

use crate::mock_server::MockServer;
use crate::target::{Api, KeySource, Params, ProviderKind, Target};

/// Prompt used by the demo when none is given.
pub const PROMPT: &str =
    "Explain in a few paragraphs how streaming responses work in LLM APIs, with a short code example.";

/// A running demo mock server.
pub struct Demo {
    server: MockServer,
}

impl Demo {
    /// Start the mock server on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        Ok(Self { server })
    }

    /// Where the mock server listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// Where the mock server serves `kind`'s API.
    pub fn base_url(&self, kind: ProviderKind) -> String {
        self.server.base_url(kind)
    }

    /// The demo targets: one of each real provider kind, and OpenAI's Responses API.
    pub fn targets(&self) -> Vec<Target> {
        let s = &self.server;
        let t = |name: &str, provider: ProviderKind, model: &str| Target {
            name: name.into(),
            provider,
            model: model.into(),
            base_url: s.base_url(provider),
            key: KeySource::Demo,
            params: Params {
                max_tokens: Some(512),
                stream: true,
                ..Params::default()
            },
        };
        let reasoner = t(
            "o4-mini",
            ProviderKind::OpenAi,
            "o4-mini-2025-04-16+ttft=350,tps=90,tokens=150,reasoning=50,seed=4",
        );
        let reasoner = Target {
            params: Params {
                api: Api::Responses,
                reasoning_effort: Some("low".into()),
                reasoning_summary: Some("auto".into()),
                ..reasoner.params
            },
            ..reasoner
        };
        vec![
            t(
                "gpt-4o-mini",
                ProviderKind::OpenAi,
                "gpt-4o-mini-2024-07-18+ttft=180,tps=110,tokens=160,seed=1",
            ),
            t(
                "claude-sonnet",
                ProviderKind::Anthropic,
                "claude-sonnet-4-20250514+ttft=420,tps=70,tokens=140,seed=2",
            ),
            t(
                "gemini-flash",
                ProviderKind::Gemini,
                "gemini-2.5-flash+ttft=300,tps=160,tokens=180,reasoning=40,seed=3",
            ),
            reasoner,
        ]
    }

    /// Stop the server.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}
