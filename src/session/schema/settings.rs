//! A target's settings as a session records them: everything needed to send the same
//! request again, except the key and any secret header value.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::target::{Api, Aws, CachePlan, Header, HeaderSource, KeySource, Params, Target, Thinking};

/// A target's settings as they were used: everything needed to send the same request
/// again, except the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSettings {
    pub name: String,
    pub provider: String,
    pub model: String,
    pub base_url: String,
    /// Where the key came from: `{"env": ["VAR", ...]}`, `"none"` or `"demo"`.
    pub key: KeyRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    pub stream: bool,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// The provider API spoken, when not the kind's own (`"responses"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingSetting>,
    /// The target's configured system prompt (sent when a turn had none of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Extra request headers: a value written in the config, or the variable a secret
    /// value was read from (never the value itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderSetting>,
    /// Bedrock: the region requests are signed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Bedrock: the shared-config profile the target named (its name, never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The price entry the target named, so a re-run prices the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_as: Option<String>,
    /// Azure: where the Microsoft Entra ID token came from (`"token-env"`: the variable in
    /// `key`; `"cli"`: `az`), absent when the key was sent. The deployment and api-version
    /// are in `base_url` and `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_auth: Option<String>,
    /// The JSON Schema every answer had to follow (`name`, `schema`, `strict`), so a
    /// re-run sends and checks the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<crate::target::OutputSchema>,
    /// How it was asked for (`json_schema`, `json_object`, `tool`), when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_mode: Option<crate::target::SchemaMode>,
    /// The tools offered, the `tool_choice` and the canned results, as sent, so a
    /// re-run offers the same tools and answers calls the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<crate::target::Toolset>,
    /// Prompt caching markers the target sent, so a re-run marks the same prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSetting>,
}

/// Prompt caching as sent: `{"scope": "system+messages", "ttl": "1h", "messages": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheSetting {
    /// The `cache` value: `system`, `tools`, `messages` joined by `+`.
    pub scope: String,
    /// `5m` or `1h`.
    pub ttl: String,
    /// `cache_messages`, when the marker covers the first N messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u32>,
}

impl CacheSetting {
    fn of(plan: &CachePlan) -> Self {
        Self {
            scope: plan.scope(),
            ttl: plan.ttl.as_str().to_string(),
            messages: plan.message_count(),
        }
    }

    /// The plan these settings describe; `None` when this build does not know a value.
    fn to_plan(&self) -> Option<CachePlan> {
        let mut plan = CachePlan::parse_scope(&self.scope).ok()??;
        plan.ttl = self.ttl.parse().ok()?;
        if let (Some(n), Some(_)) = (self.messages, plan.messages) {
            plan.messages = Some(crate::target::MessagePrefix::First(n));
        }
        Some(plan)
    }
}

/// Extended thinking as sent: `{"budget": N}`, `"adaptive"` or `{"level": "high"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinkingSetting {
    Budget(i64),
    Adaptive,
    Level(String),
}

/// One configured header: `{"name", "value"}` or `{"name", "env"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderSetting {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

/// The source of a key, by name only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRef {
    /// The first of these environment variables that is set.
    Env(Vec<String>),
    /// No key.
    None,
    /// The built-in demo's placeholder for the mock server.
    Demo,
}

impl TargetSettings {
    /// The settings of `target` (its key by variable name only).
    pub fn of(target: &Target) -> Self {
        let p = &target.params;
        Self {
            name: target.name.clone(),
            provider: target.provider.as_str().to_string(),
            model: target.model.clone(),
            base_url: target.base_url.clone(),
            key: match &target.key {
                KeySource::Env(vars) => KeyRef::Env(vars.clone()),
                KeySource::None => KeyRef::None,
                KeySource::Demo => KeyRef::Demo,
            },
            temperature: p.temperature,
            top_p: p.top_p,
            max_tokens: p.max_tokens,
            stop: p.stop.clone(),
            seed: p.seed,
            stream: p.stream,
            extra: p.extra.clone(),
            api: (p.api != Api::default()).then(|| p.api.as_str().to_string()),
            reasoning_effort: p.reasoning_effort.clone(),
            reasoning_summary: p.reasoning_summary.clone(),
            thinking: p.thinking.as_ref().map(|t| match t {
                Thinking::Budget(n) => ThinkingSetting::Budget(*n),
                Thinking::Adaptive => ThinkingSetting::Adaptive,
                Thinking::Level(l) => ThinkingSetting::Level(l.clone()),
            }),
            system: p.system.clone(),
            headers: p
                .headers
                .iter()
                .map(|h| HeaderSetting {
                    name: h.name.clone(),
                    value: h.literal().map(str::to_string),
                    env: match &h.value {
                        HeaderSource::Env(var) => Some(var.clone()),
                        HeaderSource::Literal(_) => None,
                    },
                })
                .collect(),
            region: p.aws.as_ref().map(|a| a.region.clone()),
            profile: p.aws.as_ref().and_then(|a| a.profile.clone()),
            price_as: p.price_as.clone(),
            azure_auth: p.entra.map(|e| e.as_str().to_string()),
            cache: p.cache.as_ref().map(CacheSetting::of),
            schema: p.schema.clone(),
            schema_mode: p.schema_mode,
            tools: p.tools.clone(),
        }
    }

    /// A target that sends what this one sent, with default retries and timeouts.
    /// `None` when the provider name or API is unknown to this build.
    pub fn to_target(&self) -> Option<Target> {
        let api = match &self.api {
            Some(a) => a.parse().ok()?,
            None => Api::default(),
        };
        Some(Target {
            name: self.name.clone(),
            provider: self.provider.parse().ok()?,
            model: self.model.clone(),
            base_url: self.base_url.clone(),
            key: match &self.key {
                KeyRef::Env(v) => KeySource::Env(v.clone()),
                KeyRef::None => KeySource::None,
                KeyRef::Demo => KeySource::Demo,
            },
            params: Params {
                temperature: self.temperature,
                top_p: self.top_p,
                max_tokens: self.max_tokens,
                stop: self.stop.clone(),
                seed: self.seed,
                stream: self.stream,
                extra: self.extra.clone(),
                api,
                reasoning_effort: self.reasoning_effort.clone(),
                reasoning_summary: self.reasoning_summary.clone(),
                thinking: self.thinking.as_ref().map(|t| match t {
                    ThinkingSetting::Budget(n) => Thinking::Budget(*n),
                    ThinkingSetting::Adaptive => Thinking::Adaptive,
                    ThinkingSetting::Level(l) => Thinking::Level(l.clone()),
                }),
                system: self.system.clone(),
                headers: self
                    .headers
                    .iter()
                    .filter_map(|h| {
                        let value = match (&h.value, &h.env) {
                            (_, Some(var)) => HeaderSource::Env(var.clone()),
                            (Some(v), None) => HeaderSource::Literal(v.clone()),
                            (None, None) => return None,
                        };
                        Some(Header {
                            name: h.name.clone(),
                            value,
                        })
                    })
                    .collect(),
                aws: self.region.as_ref().map(|region| Aws {
                    region: region.clone(),
                    profile: self.profile.clone(),
                }),
                price_as: self.price_as.clone(),
                entra: match self.azure_auth.as_deref() {
                    None => None,
                    Some(s) => Some(s.parse().ok()?),
                },
                cache: match &self.cache {
                    None => None,
                    Some(c) => Some(c.to_plan()?),
                },
                schema: self.schema.clone(),
                schema_mode: self.schema_mode,
                tools: self.tools.clone(),
                ..Params::default()
            },
        })
    }
}
