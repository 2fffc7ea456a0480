//! Which price entry applies to a target: a function from (provider kind, model,
//! `price_as`, base URL) to the entry names to try, in order.
//!
//! A first-party kind takes the maker's own entry (`litellm_provider` = openai, anthropic,
//! gemini), never a reseller's entry of the same name. A known OpenAI-compatible host takes
//! its own prefixed entries (`groq/…`, `together_ai/…`); an unknown one (a local server, a
//! gateway) takes the entry named exactly like its model, whoever lists it. `price_as`
//! names the entry outright.
//!
//! A new kind is a match arm in [`candidates`]: Azure tries `azure/{served model}` (the
//! model the response names), then `azure/{deployment}` (its deployment names are the
//! user's own, so mostly `price_as`); Bedrock the model id with its region or
//! inference-profile prefix (`us.`, `eu.`, `global.`…) stripped, under `bedrock_converse`
//! and as `bedrock/{id}`.

use crate::target::ProviderKind;

/// What a target says about its model, for finding its price.
#[derive(Debug, Clone, Copy)]
pub struct PriceQuery<'a> {
    pub kind: ProviderKind,
    /// The model as configured; mock directives after `+` are ignored (the demo prices
    /// what the real model would cost).
    pub model: &'a str,
    /// The entry the target names with `price_as`, if any.
    pub price_as: Option<&'a str>,
    /// The target's base URL, whose host picks an OpenAI-compatible host's entries.
    pub base_url: Option<&'a str>,
    /// The model the response said served it, once there is one: what an Azure
    /// deployment (a name of the user's own) really runs.
    pub served: Option<&'a str>,
}

impl<'a> PriceQuery<'a> {
    /// A query by kind and model only.
    pub fn new(kind: ProviderKind, model: &'a str) -> Self {
        Self {
            kind,
            model,
            price_as: None,
            base_url: None,
            served: None,
        }
    }

    /// The model without mock directives.
    pub fn bare_model(&self) -> &'a str {
        self.model.split('+').next().unwrap_or(self.model)
    }
}

/// One entry name to try, and whose entry it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub key: String,
    /// The `litellm_provider` the entry must have; `None` takes any.
    pub provider: Option<&'static str>,
}

impl Candidate {
    fn any(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            provider: None,
        }
    }

    fn from(provider: &'static str, key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            provider: Some(provider),
        }
    }

    /// Whether an entry listed under `provider` is one this candidate takes.
    pub fn accepts(&self, provider: &str) -> bool {
        self.provider.is_none_or(|p| p == provider)
    }
}

/// OpenAI-compatible hosts by API domain, and the prefix of their entries in LiteLLM's map.
pub const HOSTS: &[(&str, &str)] = &[
    ("api.groq.com", "groq"),
    ("openrouter.ai", "openrouter"),
    ("api.together.xyz", "together_ai"),
    ("api.together.ai", "together_ai"),
    ("api.fireworks.ai", "fireworks_ai"),
    ("api.deepseek.com", "deepseek"),
    ("api.mistral.ai", "mistral"),
    ("api.x.ai", "xai"),
    ("api.cerebras.ai", "cerebras"),
    ("api.perplexity.ai", "perplexity"),
    ("api.deepinfra.com", "deepinfra"),
    ("api.sambanova.ai", "sambanova"),
    ("api.moonshot.ai", "moonshot"),
    ("api.novita.ai", "novita"),
    ("api.hyperbolic.xyz", "hyperbolic"),
    ("api.studio.nebius.com", "nebius"),
    ("api.studio.nebius.ai", "nebius"),
    ("dashscope-intl.aliyuncs.com", "dashscope"),
    ("dashscope.aliyuncs.com", "dashscope"),
    ("api.lambda.ai", "lambda_ai"),
    ("api.z.ai", "zai"),
    ("api.minimax.io", "minimax"),
    ("inference.baseten.co", "baseten"),
    ("ai-gateway.vercel.sh", "vercel_ai_gateway"),
    ("api.scaleway.ai", "scaleway"),
    ("api.friendli.ai", "friendliai"),
];

/// The entry prefix of the OpenAI-compatible host `base_url` points at, if it is known.
pub fn host_prefix(base_url: &str) -> Option<&'static str> {
    let url = reqwest::Url::parse(base_url).ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    HOSTS
        .iter()
        .find(|(domain, _)| host == *domain || host.strip_suffix(domain).is_some_and(|s| s.ends_with('.')))
        .map(|(_, prefix)| *prefix)
}

/// The entry names to try for `q`, best first. `price_as` is the only one when given.
pub fn candidates(q: &PriceQuery<'_>) -> Vec<Candidate> {
    if let Some(name) = q.price_as {
        return vec![Candidate::any(name)];
    }
    let model = q.bare_model();
    let host = q.base_url.and_then(host_prefix);
    match (q.kind, host) {
        // An OpenAI-format target pointed at a known host is priced as that host.
        (ProviderKind::OpenAi | ProviderKind::OpenAiCompatible, Some(prefix)) => {
            vec![Candidate::any(format!("{prefix}/{model}"))]
        }
        (ProviderKind::OpenAi, None) => {
            // `ft:gpt-4o-mini-2024-07-18:org:name:id` bills as `ft:gpt-4o-mini-2024-07-18`.
            let mut c = vec![Candidate::from("openai", model)];
            if let Some(rest) = model.strip_prefix("ft:")
                && let Some(base) = rest.split(':').next()
            {
                c.push(Candidate::from("openai", format!("ft:{base}")));
            }
            c
        }
        (ProviderKind::Anthropic, _) => vec![Candidate::from("anthropic", model)],
        (ProviderKind::Gemini, _) => {
            let model = model.strip_prefix("models/").unwrap_or(model);
            vec![
                Candidate::from("gemini", format!("gemini/{model}")),
                Candidate::from("gemini", model),
            ]
        }
        (ProviderKind::OpenAiCompatible, None) => vec![Candidate::any(model)],
        // Bedrock ids may carry a cross-region inference prefix (`us.`, `eu.`…) or be an
        // ARN; the price map lists the bare model id, under either Bedrock provider name.
        (ProviderKind::Bedrock, _) => {
            let id = model.rsplit('/').next().unwrap_or(model);
            let bare = ["us.", "eu.", "apac.", "global.", "jp.", "au.", "us-gov."]
                .iter()
                .find_map(|p| id.strip_prefix(p))
                .unwrap_or(id);
            let mut c = Vec::new();
            for name in [id, bare] {
                for provider in ["bedrock", "bedrock_converse"] {
                    let candidate = Candidate::from(provider, name);
                    if !c.contains(&candidate) {
                        c.push(candidate);
                    }
                }
            }
            c
        }
        // A deployment is named by its owner: the model the response names says what it
        // runs; the deployment's name is tried last (it is often the model's own).
        (ProviderKind::Azure, _) => q
            .served
            .into_iter()
            .chain([model])
            .map(|m| Candidate::from("azure", format!("azure/{m}")))
            .fold(Vec::new(), |mut c, candidate| {
                if !c.contains(&candidate) {
                    c.push(candidate);
                }
                c
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(q: PriceQuery<'_>) -> Vec<(String, Option<&'static str>)> {
        candidates(&q).into_iter().map(|c| (c.key, c.provider)).collect()
    }

    #[test]
    fn each_kind_tries_its_own_entries() {
        use ProviderKind::*;
        assert_eq!(
            keys(PriceQuery::new(OpenAi, "gpt-4o-mini+ttft=5")),
            [("gpt-4o-mini".into(), Some("openai"))]
        );
        assert_eq!(
            keys(PriceQuery::new(OpenAi, "ft:gpt-4o-mini-2024-07-18:acme::abc")),
            [
                ("ft:gpt-4o-mini-2024-07-18:acme::abc".into(), Some("openai")),
                ("ft:gpt-4o-mini-2024-07-18".into(), Some("openai"))
            ]
        );
        assert_eq!(
            keys(PriceQuery::new(Anthropic, "claude-haiku-4-5")),
            [("claude-haiku-4-5".into(), Some("anthropic"))]
        );
        assert_eq!(
            keys(PriceQuery::new(Gemini, "models/gemini-2.5-pro")),
            [
                ("gemini/gemini-2.5-pro".into(), Some("gemini")),
                ("gemini-2.5-pro".into(), Some("gemini"))
            ]
        );
        assert_eq!(
            keys(PriceQuery::new(OpenAiCompatible, "llama3.1:8b")),
            [("llama3.1:8b".into(), None)]
        );
        let groq = PriceQuery {
            base_url: Some("https://api.groq.com/openai/v1"),
            ..PriceQuery::new(OpenAiCompatible, "openai/gpt-oss-120b")
        };
        assert_eq!(keys(groq), [("groq/openai/gpt-oss-120b".into(), None)]);
        let named = PriceQuery {
            price_as: Some("groq/llama-3.3-70b-versatile"),
            ..groq
        };
        assert_eq!(keys(named), [("groq/llama-3.3-70b-versatile".into(), None)]);
    }

    #[test]
    fn hosts_match_by_domain_not_by_substring() {
        assert_eq!(host_prefix("https://api.groq.com/openai/v1"), Some("groq"));
        assert_eq!(host_prefix("https://API.Groq.com./openai/v1"), Some("groq"));
        assert_eq!(
            host_prefix("https://eu.api.fireworks.ai/inference/v1"),
            Some("fireworks_ai")
        );
        assert_eq!(host_prefix("https://openrouter.ai/api/v1"), Some("openrouter"));
        assert_eq!(host_prefix("https://notapi.groq.com.evil.example/v1"), None);
        assert_eq!(host_prefix("https://xapi.groq.com/v1"), None);
        assert_eq!(host_prefix("http://127.0.0.1:8000/v1"), None);
        assert_eq!(host_prefix("not a url"), None);
    }
}

#[cfg(test)]
mod bedrock_tests {
    use super::*;

    #[test]
    fn bedrock_ids_try_the_exact_id_then_without_the_region_prefix_or_arn() {
        let keys = |m: &str| -> Vec<String> {
            candidates(&PriceQuery::new(ProviderKind::Bedrock, m))
                .into_iter()
                .map(|c| c.key)
                .collect()
        };
        let k = keys("us.anthropic.claude-sonnet-4-20250514-v1:0");
        assert_eq!(
            k.first().map(String::as_str),
            Some("us.anthropic.claude-sonnet-4-20250514-v1:0")
        );
        assert!(
            k.contains(&"anthropic.claude-sonnet-4-20250514-v1:0".to_string()),
            "{k:?}"
        );
        let arn = keys("arn:aws:bedrock:us-east-1:123:inference-profile/eu.amazon.nova-pro-v1:0");
        assert!(arn.contains(&"amazon.nova-pro-v1:0".to_string()), "{arn:?}");
    }
}

#[cfg(test)]
mod azure_tests {
    use super::*;

    fn keys(q: PriceQuery<'_>) -> Vec<String> {
        candidates(&q)
            .into_iter()
            .map(|c| {
                assert_eq!(c.provider, Some("azure"), "{c:?}");
                c.key
            })
            .collect()
    }

    #[test]
    fn a_deployment_tries_the_served_model_then_its_own_name_under_azure() {
        let deployment = PriceQuery::new(ProviderKind::Azure, "chat-prod+ttft=5");
        assert_eq!(keys(deployment), ["azure/chat-prod"]);
        let answered = PriceQuery {
            served: Some("gpt-4o-2024-11-20"),
            ..deployment
        };
        assert_eq!(keys(answered), ["azure/gpt-4o-2024-11-20", "azure/chat-prod"]);
        // A deployment named after its model is tried once.
        let same = PriceQuery {
            served: Some("gpt-4o"),
            ..PriceQuery::new(ProviderKind::Azure, "gpt-4o")
        };
        assert_eq!(keys(same), ["azure/gpt-4o"]);
        // price_as names the entry outright, before anything the response says.
        let named = PriceQuery {
            price_as: Some("azure/gpt-4o-mini"),
            ..answered
        };
        assert_eq!(
            candidates(&named),
            [Candidate {
                key: "azure/gpt-4o-mini".into(),
                provider: None
            }]
        );
    }
}
