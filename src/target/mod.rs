//! What a request goes to: a resolved target, its generation parameters, where its key
//! comes from, its wire protocol, time limits and retry settings.
//!
//! Plain data at the bottom of the crate: `config` builds these, `provider` and `engine`
//! act on them, `session` records them. Anything that needs a higher layer (reading the
//! key, building a request) lives there, not here.

mod cache;
mod endpoint;
pub mod family;
mod kind;
mod limits;
mod schema;
mod spec;
mod tools;

use std::fmt;

use serde_json::{Map, Value};

pub use cache::{CachePlan, CacheTtl, MessagePrefix};
pub use endpoint::{BaseUrlSource, Header, HeaderSource, endpoint_url};
pub use kind::{Api, ProviderKind};
pub use limits::{RetryPolicy, Timeouts};
pub use schema::{OutputSchema, SchemaMode};
pub use spec::{AuthStyle, EndMarker, Framing, Protocol, ProviderSpec, TokenCounter};
pub use tools::{ToolChoice, ToolDef, ToolResults, Toolset};

/// A resolved, validated target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Unique name shown on the pane.
    pub name: String,
    /// Wire protocol.
    pub provider: ProviderKind,
    /// Model id sent to the provider.
    pub model: String,
    /// Base URL (the provider's public one unless overridden).
    pub base_url: String,
    /// Where the API key comes from.
    pub key: KeySource,
    /// Generation parameters.
    pub params: Params,
}

/// Generation parameters; `None` means "let the provider decide".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    /// Stream the answer (default true).
    pub stream: bool,
    /// Passed through into the request body, merged over what Prism generates.
    pub extra: Map<String, Value>,
    /// Ask the provider's own token counter before sending (Anthropic, Gemini).
    pub count_tokens: bool,
    /// When to try again after a failure.
    pub retry: RetryPolicy,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Which of the provider's APIs to speak (`api`; OpenAI kinds also offer `responses`).
    pub api: Api,
    /// How hard a reasoning model thinks: OpenAI `reasoning_effort` (the Responses API
    /// sends it as `reasoning.effort`).
    pub reasoning_effort: Option<String>,
    /// Reasoning summary for the Responses API (`auto`, `concise`, `detailed`).
    pub reasoning_summary: Option<String>,
    /// Extended thinking, sent in the provider's own field.
    pub thinking: Option<Thinking>,
    /// System prompt used when the request carries none (the editor's or `--system`
    /// wins when given).
    pub system: Option<String>,
    /// Extra request headers, in config order.
    pub headers: Vec<Header>,
    /// Where `Target::base_url` came from.
    pub base_url_source: BaseUrlSource,
    /// AWS region and profile of a Bedrock target (`None` for every other kind).
    pub aws: Option<Aws>,
    /// The price entry that applies (`price_as = "groq/llama-3.3-70b-versatile"`), when
    /// the kind, model and host do not find it; for an Azure deployment, the model behind
    /// its own name.
    pub price_as: Option<String>,
    /// Microsoft Entra ID in place of the key (Azure `azure_auth`); `None`: the key, sent
    /// the way the provider table says.
    pub entra: Option<EntraToken>,
    /// Prompt caching markers to send (`cache`); `None`: none (the provider may still
    /// cache by itself).
    pub cache: Option<CachePlan>,
    /// The JSON Schema every answer must follow (`schema`), unless the send carries its own.
    pub schema: Option<OutputSchema>,
    /// How the schema is asked for (`schema_mode`); `None`: the kind's own way.
    pub schema_mode: Option<SchemaMode>,
    /// The tools the model may call (`tools`, `tool_choice`, `tool_results`); `None`: none.
    pub tools: Option<Toolset>,
}

/// Where a Bedrock target's requests are signed for and whose credentials sign them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Aws {
    /// The region in the endpoint and in the signature's scope (`us-east-1`).
    pub region: String,
    /// The shared-config profile named by the target (`profile`); `$AWS_PROFILE`, then
    /// `default`, when `None`.
    pub profile: Option<String>,
}

/// Where an Azure target's Microsoft Entra ID bearer token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntraToken {
    /// The target's key variable holds the token (`azure_auth = "token-env"`,
    /// `$AZURE_OPENAI_AD_TOKEN` unless `api_key_env` names another).
    Env,
    /// `az account get-access-token`, kept in memory until it expires
    /// (`azure_auth = "cli"`).
    AzureCli,
}

impl EntraToken {
    /// The `azure_auth` value that selects it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Env => "token-env",
            Self::AzureCli => "cli",
        }
    }
}

impl std::str::FromStr for EntraToken {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "token-env" => Ok(Self::Env),
            "cli" => Ok(Self::AzureCli),
            other => Err(format!(
                "unknown azure_auth `{other}`: expected \"token-env\" or \"cli\""
            )),
        }
    }
}

/// Extended thinking as configured; `config` has checked it against the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thinking {
    /// A token budget: Anthropic `thinking.budget_tokens` (at least 1024, below
    /// `max_tokens`), Gemini `thinkingConfig.thinkingBudget` (0 off, -1 dynamic).
    Budget(i64),
    /// Anthropic adaptive thinking (`thinking.type = "adaptive"`): the model decides.
    Adaptive,
    /// Gemini 3 `thinkingConfig.thinkingLevel` (`minimal`, `low`, `medium`, `high`).
    Level(String),
}

/// Where a target's API key comes from. `provider::credentials` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The first of these environment variables that is set and non-empty.
    Env(Vec<String>),
    /// No key is sent (local OpenAI-compatible servers).
    None,
    /// The built-in demo: a placeholder the mock server accepts; not a secret.
    Demo,
}

impl KeySource {
    /// The variable named in error messages (the first one).
    pub fn env_name(&self) -> Option<&str> {
        match self {
            Self::Env(v) => v.first().map(String::as_str),
            _ => None,
        }
    }
}

impl Target {
    /// This target's row of the provider table: its kind's, for the API it speaks. The
    /// config refuses an API the kind does not offer; should one get here anyway, the
    /// kind's own row is used rather than a guess.
    pub fn spec(&self) -> &'static ProviderSpec {
        self.provider
            .spec_for(self.params.api)
            .unwrap_or_else(|| self.provider.spec())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} {})", self.name, self.provider, self.model)
    }
}
