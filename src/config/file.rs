//! Exact serde mirror of `prism.toml`. Unknown keys are errors (`deny_unknown_fields`),
//! and the values that later validation may reject keep their source spans.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Values every target inherits unless it sets its own.
    #[serde(default)]
    pub defaults: Option<Spanned<TargetFile>>,
    /// The targets, in the order they are shown and printed.
    #[serde(default)]
    pub target: Vec<Spanned<TargetFile>>,
    /// Workbench theme: a built-in name or a path to a `.toml` theme.
    pub theme: Option<Spanned<String>>,
    /// Key bindings: `[keys.<mode>] <action> = "chord"` or a list of chords.
    #[serde(default)]
    pub keys: BTreeMap<String, Spanned<BTreeMap<String, Spanned<ChordsFile>>>>,
    /// Refuse a send whose worst-case cost would take the session past this many USD.
    pub budget_usd: Option<Spanned<f64>>,
    /// The workbench asks for confirmation before a send whose worst case is above this.
    pub confirm_above_usd: Option<Spanned<f64>>,
    /// Where sessions are saved (relative to the config file's directory).
    pub sessions_dir: Option<Spanned<String>>,
    /// A LiteLLM-format `model_prices_and_context_window.json` to load over the built-in prices.
    pub pricing_file: Option<Spanned<String>>,
    /// Per-model price overrides: `[pricing."model-id"] input = "0.15"` (USD per million).
    #[serde(default)]
    pub pricing: BTreeMap<String, Spanned<PriceFile>>,
    /// Named prompt and parameter variants for experiments (`[[variant]]`).
    #[serde(default)]
    pub variant: Vec<Spanned<super::variants::VariantFile>>,
    /// A JSON Schema file every answer must follow (targets and variants may name their own).
    pub schema: Option<Spanned<String>>,
    /// A tools file (JSON or TOML) every target sends unless it names its own.
    pub tools: Option<Spanned<String>>,
    /// `auto`, `required`, `none` or a tool's name.
    pub tool_choice: Option<Spanned<String>>,
    /// Canned tool results (JSON or TOML) for the follow-up round.
    pub tool_results: Option<Spanned<String>>,
}

/// One `[pricing."model"]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    #[serde(default, deserialize_with = "price_text")]
    pub input: Option<String>,
    #[serde(default, deserialize_with = "price_text")]
    pub output: Option<String>,
    #[serde(default, deserialize_with = "price_text")]
    pub cached_input: Option<String>,
    #[serde(default, deserialize_with = "price_text")]
    pub cache_write: Option<String>,
    /// Anthropic 1-hour cache writes (otherwise billed as other cache writes).
    #[serde(default, deserialize_with = "price_text")]
    pub cache_write_1h: Option<String>,
    #[serde(default, deserialize_with = "price_text")]
    pub reasoning: Option<String>,
    pub context_window: Option<Spanned<u64>>,
    pub max_output: Option<Spanned<u64>>,
}

/// A price as written: a decimal string (`"2.50"`, exact) or a TOML number (`2.5`,
/// `3`), both kept as decimal text for the exact parser. A float prints as the shortest
/// decimal that reads back as it, so `0.15` stays `0.15`.
fn price_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(Some(s)),
        toml::Value::Integer(n) => Ok(Some(n.to_string())),
        toml::Value::Float(f) => Ok(Some(f.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "a price is a number or a decimal string in USD per million tokens, like 2.5 or \"2.50\", not a {}",
            other.type_str()
        ))),
    }
}

/// `"ctrl-s"` or `["ctrl-s", "alt-enter"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ChordsFile {
    One(String),
    Many(Vec<String>),
}

impl ChordsFile {
    pub fn as_slice(&self) -> Vec<&str> {
        match self {
            Self::One(s) => vec![s.as_str()],
            Self::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One `[[target]]` table (or `[defaults]`): every field optional here, required-ness
/// is checked after `[defaults]` are merged in.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    pub name: Option<Spanned<String>>,
    pub provider: Option<Spanned<String>>,
    /// Which of the provider's APIs to speak: `chat` (default) or `responses`.
    pub api: Option<Spanned<String>>,
    pub model: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    /// AWS region of a Bedrock target.
    pub region: Option<Spanned<String>>,
    /// AWS shared-config profile of a Bedrock target.
    pub profile: Option<Spanned<String>>,
    pub api_key_env: Option<Spanned<String>>,
    pub temperature: Option<Spanned<f64>>,
    pub top_p: Option<Spanned<f64>>,
    pub max_tokens: Option<Spanned<u32>>,
    pub stop: Option<StopFile>,
    pub seed: Option<i64>,
    pub stream: Option<bool>,
    pub extra: Option<toml::Table>,
    pub max_retries: Option<Spanned<u32>>,
    pub count_tokens: Option<bool>,
    pub max_retry_wait: Option<Spanned<f64>>,
    pub connect_timeout: Option<Spanned<f64>>,
    pub response_timeout: Option<Spanned<f64>>,
    pub idle_timeout: Option<Spanned<f64>>,
    pub total_timeout: Option<Spanned<f64>>,
    /// Send to an `http://` URL off this machine without a warning.
    pub allow_insecure_http: Option<bool>,
    /// Most runs of an experiment in flight at once on this target.
    pub max_concurrency: Option<Spanned<u32>>,
    /// System prompt used when the editor or `--system` gives none.
    pub system: Option<Spanned<String>>,
    /// OpenAI `reasoning_effort`.
    pub reasoning_effort: Option<Spanned<String>>,
    /// Responses API reasoning summary: `auto`, `concise` or `detailed`.
    pub reasoning_summary: Option<Spanned<String>>,
    /// Anthropic `thinking = "adaptive"`.
    pub thinking: Option<Spanned<String>>,
    /// Anthropic `budget_tokens` or Gemini `thinkingBudget`.
    pub thinking_budget: Option<Spanned<i64>>,
    /// Gemini 3 `thinkingLevel`.
    pub thinking_level: Option<Spanned<String>>,
    /// Extra request headers: `"Name" = "value"` or `"Name" = { env = "VAR" }`.
    pub headers: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    /// Keys this target does not inherit from `[defaults]`.
    pub unset: Option<Spanned<Vec<Spanned<String>>>>,
    /// Azure: the name of the model deployment in the resource.
    pub deployment: Option<Spanned<String>>,
    /// Azure: a dated `api-version` (`2024-10-21`) or `v1`.
    pub api_version: Option<Spanned<String>>,
    /// Azure: `key`, `token-env` or `cli`.
    pub azure_auth: Option<Spanned<String>>,
    /// The price entry that applies to this target (a LiteLLM key or a `[pricing]`
    /// model, or an Azure deployment's model); never inherited.
    pub price_as: Option<Spanned<String>>,
    /// Prompt caching markers: `off`, or `system`, `tools`, `messages` joined by `+`.
    pub cache: Option<Spanned<String>>,
    /// `5m` or `1h`: how long a cache write lives.
    pub cache_ttl: Option<Spanned<String>>,
    /// With `messages` in `cache`: mark only the first N messages.
    pub cache_messages: Option<Spanned<u32>>,
    /// A JSON Schema file this target's answers must follow.
    pub schema: Option<Spanned<String>>,
    /// How the schema is asked for: `json_schema`, `json_object` or `tool`.
    pub schema_mode: Option<Spanned<String>>,
    /// A tools file (JSON or TOML) this target sends.
    pub tools: Option<Spanned<String>>,
    /// `auto`, `required`, `none` or a tool's name.
    pub tool_choice: Option<Spanned<String>>,
    /// Canned tool results (JSON or TOML) for the follow-up round.
    pub tool_results: Option<Spanned<String>>,
}

/// `stop = "END"` or `stop = ["END", "\n\n"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StopFile {
    One(String),
    Many(Vec<String>),
}

impl StopFile {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

impl TargetFile {
    /// Fill every field this table leaves unset from `defaults`, except those its
    /// `unset` list names.
    pub fn with_defaults(mut self, d: &TargetFile) -> TargetFile {
        let dropped = super::unset::names(self.unset.as_ref());
        let keeps = |key: &str| !dropped.iter().any(|n| n == key);
        macro_rules! inherit {
            ($($f:ident),*) => { $( if self.$f.is_none() && keeps(stringify!($f)) { self.$f = d.$f.clone(); } )* };
        }
        inherit!(
            provider,
            api,
            model,
            base_url,
            region,
            profile,
            api_key_env,
            temperature,
            top_p,
            max_tokens,
            stop,
            seed,
            stream,
            max_retries,
            count_tokens,
            max_retry_wait,
            connect_timeout,
            response_timeout,
            idle_timeout,
            total_timeout,
            allow_insecure_http,
            max_concurrency,
            system,
            reasoning_effort,
            reasoning_summary,
            thinking,
            thinking_budget,
            thinking_level,
            deployment,
            api_version,
            azure_auth,
            price_as,
            cache,
            cache_ttl,
            cache_messages,
            schema,
            schema_mode,
            tools,
            tool_choice,
            tool_results
        );
        let base_extra = d.extra.clone().filter(|_| keeps("extra"));
        self.extra = match (base_extra, self.extra) {
            (Some(mut base), Some(own)) => {
                base.extend(own);
                Some(base)
            }
            (base, own) => own.or(base),
        };
        let base_headers = d.headers.clone().filter(|_| keeps("headers"));
        self.headers = super::headers::merged(base_headers, self.headers);
        self
    }
}
