//! The built-in demo: real provider adapters pointed at an in-process mock server.
//!
//! Demo model names carry mock directives after `+` (first-token delay, speed, length),
//! so the demo visibly compares differently-behaving "providers", one of them an OpenAI
//! reasoning model over the Responses API. `--demo all` adds the other kinds: an Azure
//! OpenAI deployment, AWS Bedrock (signed with SigV4 by fixed fake keys the mock checks,
//! see [`AWS_REGION`]) and an OpenAI-compatible server. Nothing here touches the network,
//! needs a key or reads the user's credentials.

use std::net::{Ipv4Addr, SocketAddr};

use crate::mock_server::MockServer;
use crate::target::{Api, Aws, Header, HeaderSource, KeySource, Params, ProviderKind, Target};

/// Which demo targets to run (`--demo`, `--demo all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lineup {
    /// OpenAI Chat Completions and Responses, Anthropic and Gemini: four panes.
    #[default]
    Four,
    /// Every provider kind: the four, Azure OpenAI, AWS Bedrock and an OpenAI-compatible
    /// server.
    All,
}

/// The region the demo's Bedrock target signs for (with the fixed fake keys of
/// [`crate::provider::bedrock::DEMO_ACCESS_KEY_ID`], which the mock checks).
pub const AWS_REGION: &str = "us-east-1";

/// Prompt used by the demo when none is given.
pub const PROMPT: &str =
    "Explain in a few paragraphs how streaming responses work in LLM APIs, with a short code example.";

/// A running demo mock server.
pub struct Demo {
    server: MockServer,
    lineup: Lineup,
}

impl Demo {
    /// Start the mock server on an ephemeral loopback port, for the four-target demo.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Lineup::Four).await
    }

    /// Start the mock server on an ephemeral loopback port, for `lineup`.
    pub async fn start_with(lineup: Lineup) -> std::io::Result<Self> {
        let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        Ok(Self { server, lineup })
    }

    /// Where the mock server listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// What the mock server received and did, one record per request.
    pub fn log(&self) -> &crate::mock_server::SendLog {
        self.server.log()
    }

    /// Where the mock server serves `kind`'s API.
    pub fn base_url(&self, kind: ProviderKind) -> String {
        self.server.base_url(kind)
    }

    /// The demo targets of the lineup it was started with.
    pub fn targets(&self) -> Vec<Target> {
        match self.lineup {
            Lineup::Four => self.four(),
            Lineup::All => self.all(),
        }
    }

    /// Every kind side by side: the four, then Azure OpenAI, AWS Bedrock and an
    /// OpenAI-compatible server.
    pub fn all(&self) -> Vec<Target> {
        let s = &self.server;
        let params = || Params {
            max_tokens: Some(512),
            stream: true,
            ..Params::default()
        };
        // A classic Azure URL: the deployment in the path, the API version in the query.
        // Its name cannot carry directives, so they go in the mock's script header.
        let azure = Target {
            name: "azure-4o-mini".into(),
            provider: ProviderKind::Azure,
            model: "gpt-4o-mini-prod".into(),
            base_url: format!(
                "http://{}/openai/deployments/gpt-4o-mini-prod?api-version=2024-10-21",
                s.addr()
            ),
            key: KeySource::Demo,
            params: Params {
                price_as: Some("azure/gpt-4o-mini".into()),
                headers: vec![Header {
                    name: "x-mock-script".into(),
                    value: HeaderSource::Literal(
                        "ttft=240,tps=120,tokens=150,seed=5,served=gpt-4o-mini-2024-07-18".into(),
                    ),
                }],
                ..params()
            },
        };
        let bedrock = Target {
            name: "bedrock-haiku".into(),
            provider: ProviderKind::Bedrock,
            model: "us.anthropic.claude-3-5-haiku-20241022-v1:0+ttft=380,tps=95,tokens=140,seed=6".into(),
            base_url: s.base_url(ProviderKind::Bedrock),
            key: KeySource::Demo,
            params: Params {
                aws: Some(Aws {
                    region: AWS_REGION.into(),
                    profile: None,
                }),
                ..params()
            },
        };
        let compatible = Target {
            name: "llama-3.3-70b".into(),
            provider: ProviderKind::OpenAiCompatible,
            model: "llama-3.3-70b+ttft=150,tps=220,tokens=170,seed=7".into(),
            base_url: s.base_url(ProviderKind::OpenAiCompatible),
            key: KeySource::Demo,
            params: Params {
                price_as: Some("cerebras/llama-3.3-70b".into()),
                ..params()
            },
        };
        let mut all = self.four();
        all.extend([azure, bedrock, compatible]);
        all
    }

    /// The four-target demo: one of each of the first three kinds, and OpenAI's
    /// Responses API.
    fn four(&self) -> Vec<Target> {
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
