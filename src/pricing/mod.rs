//! Prices and context windows, and exact cost arithmetic.
//!
//! Prices are held as integer picodollars per token (1 USD = 10^12 pd), so $0.15 per
//! million tokens is 150,000 pd a token and every sum is exact; a float appears only when
//! a total is finally shown. The table comes from the project's own data file
//! (`prices.toml`, each entry with its source and date), optionally overlaid by a
//! LiteLLM-format `model_prices_and_context_window.json` the user points to.

mod error;
mod litellm;

use std::collections::HashMap;

use serde::Deserialize;

pub use error::PriceError;
pub use litellm::load_litellm;

use crate::provider::event::Usage;
use crate::target::{ProviderKind, Target};

/// Picodollars: 10^-12 USD.
pub type Picodollars = u128;

/// One model's prices (picodollars per token) and limits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelPrice {
    pub input: u64,
    pub output: u64,
    /// Cache reads; `None` bills them as ordinary input.
    pub cached_input: Option<u64>,
    /// Cache writes; `None` bills them as ordinary input.
    pub cache_write: Option<u64>,
    /// Reasoning tokens, when priced apart from output.
    pub reasoning: Option<u64>,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    /// Where the numbers come from, and when they were read.
    pub source: String,
    pub as_of: String,
    /// Prices for the whole request once its input passes a threshold (Anthropic and
    /// Gemini bill prompts over 200,000 tokens at a higher rate).
    pub long_context: Option<LongContext>,
    /// A larger context window a provider opens behind a beta flag.
    pub beta_window: Option<BetaWindow>,
}

/// The long-context tier: every token of a request whose input is above `above` tokens
/// is billed at these prices (picodollars per token).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LongContext {
    pub above: u64,
    pub input: u64,
    pub output: u64,
    pub cached_input: Option<u64>,
    pub cache_write: Option<u64>,
}

/// A context window that only a beta flag opens (Anthropic `anthropic-beta:
/// context-1m-2025-08-07` gives some models 1M tokens instead of 200K).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BetaWindow {
    /// The flag, as sent in the `anthropic-beta` header.
    pub beta: String,
    /// The window with the flag.
    pub context_window: u64,
}

impl ModelPrice {
    /// Exact cost of `usage` (normalized: input includes cached reads and writes, output
    /// includes reasoning), at the long-context prices when the input passes their
    /// threshold. `None` when the counts are unknown.
    pub fn cost(&self, usage: &Usage) -> Option<Picodollars> {
        if let Some(tier) = &self.long_context
            && usage.input? > tier.above
        {
            let priced = ModelPrice {
                input: tier.input,
                output: tier.output,
                cached_input: tier.cached_input.or(self.cached_input),
                cache_write: tier.cache_write.or(self.cache_write),
                long_context: None,
                ..self.clone()
            };
            return priced.cost(usage);
        }
        let input = u128::from(usage.input?);
        let output = u128::from(usage.output?);
        let cached = u128::from(usage.cached_input.unwrap_or(0));
        let written = u128::from(usage.cache_write.unwrap_or(0));
        let reasoning = u128::from(usage.reasoning.unwrap_or(0));
        let p = |v: u64| u128::from(v);
        let uncached = input.saturating_sub(cached + written);
        let visible = output.saturating_sub(reasoning);
        Some(
            uncached * p(self.input)
                + cached * p(self.cached_input.unwrap_or(self.input))
                + written * p(self.cache_write.unwrap_or(self.input))
                + visible * p(self.output)
                + reasoning * p(self.reasoning.unwrap_or(self.output)),
        )
    }
}

/// USD for display or JSON, from an exact total.
pub fn usd(pd: Picodollars) -> f64 {
    // Whole dollars and the remainder separately keep 12 digits of precision.
    (pd / 1_000_000_000_000) as f64 + (pd % 1_000_000_000_000) as f64 / 1e12
}

/// All known prices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceTable {
    by_name: HashMap<String, ModelPrice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    id: String,
    provider: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    input: String,
    output: String,
    cached_input: Option<String>,
    cache_write: Option<String>,
    reasoning: Option<String>,
    context_window: Option<u64>,
    max_output: Option<u64>,
    source: String,
    as_of: String,
    #[serde(default)]
    long_context: Option<LongContextEntry>,
    #[serde(default)]
    beta_window: Option<BetaWindowEntry>,
}

/// `[model.long_context]`: prices above a prompt size, USD per million tokens.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LongContextEntry {
    above: u64,
    input: String,
    output: String,
    cached_input: Option<String>,
    cache_write: Option<String>,
}

/// `[model.beta_window]`: the window a beta flag opens.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BetaWindowEntry {
    beta: String,
    context_window: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    model: Vec<FileEntry>,
}

/// The built-in table, compiled in.
const BUILTIN: &str = include_str!("prices.toml");

impl PriceTable {
    /// The project's own table.
    pub fn builtin() -> Result<Self, PriceError> {
        Self::from_toml(BUILTIN, "built-in prices.toml")
    }

    /// Parse a table in Prism's TOML format; errors name the entry and field.
    pub fn from_toml(text: &str, what: &str) -> Result<Self, PriceError> {
        let file: File = toml::from_str(text).map_err(|e| PriceError::Toml {
            what: what.to_string(),
            message: e.message().to_string(),
        })?;
        let mut table = PriceTable::default();
        for e in file.model {
            let per_m = |v: &str, field: &str| {
                per_million_to_pd(v).ok_or_else(|| PriceError::BadPrice {
                    what: what.to_string(),
                    model: e.id.clone(),
                    field: field.to_string(),
                    value: v.to_string(),
                })
            };
            let opt = |v: &Option<String>, field: &str| v.as_deref().map(|v| per_m(v, field)).transpose();
            let _ = (&e.provider, &e.host);
            let price = ModelPrice {
                input: per_m(&e.input, "input")?,
                output: per_m(&e.output, "output")?,
                cached_input: opt(&e.cached_input, "cached_input")?,
                cache_write: opt(&e.cache_write, "cache_write")?,
                reasoning: opt(&e.reasoning, "reasoning")?,
                context_window: e.context_window,
                max_output: e.max_output,
                source: e.source.clone(),
                as_of: e.as_of.clone(),
                long_context: e
                    .long_context
                    .as_ref()
                    .map(|t| -> Result<LongContext, PriceError> {
                        Ok(LongContext {
                            above: t.above,
                            input: per_m(&t.input, "long_context.input")?,
                            output: per_m(&t.output, "long_context.output")?,
                            cached_input: opt(&t.cached_input, "long_context.cached_input")?,
                            cache_write: opt(&t.cache_write, "long_context.cache_write")?,
                        })
                    })
                    .transpose()?,
                beta_window: e.beta_window.as_ref().map(|b| BetaWindow {
                    beta: b.beta.clone(),
                    context_window: b.context_window,
                }),
            };
            for name in std::iter::once(&e.id).chain(&e.aliases) {
                table.by_name.insert(name.clone(), price.clone());
            }
        }
        Ok(table)
    }

    /// Entries of `other` replace ours.
    pub fn overlay(&mut self, other: PriceTable) {
        self.by_name.extend(other.by_name);
    }

    /// Set one model's price (user config overrides).
    pub fn insert(&mut self, model: impl Into<String>, price: ModelPrice) {
        self.by_name.insert(model.into(), price);
    }

    /// The price of `model` as a target names it. Mock directives after `+` are ignored
    /// (the demo prices what the real model would cost); a `provider/` prefix is tried
    /// without it too.
    pub fn lookup(&self, _provider: ProviderKind, model: &str) -> Option<&ModelPrice> {
        let bare = model.split('+').next().unwrap_or(model);
        self.by_name
            .get(bare)
            .or_else(|| bare.rsplit_once('/').and_then(|(_, m)| self.by_name.get(m)))
    }

    /// The price of what `target` runs. Its `price_as`, when it names one, is the only id
    /// tried (a wrong one shows no cost rather than another model's); else the model the
    /// response said served it (`served`: an Azure deployment's), else its own `model`.
    pub fn for_target(&self, target: &Target, served: Option<&str>) -> Option<&ModelPrice> {
        if let Some(model) = &target.params.price_as {
            return self.lookup(target.provider, model);
        }
        served
            .into_iter()
            .chain([target.model.as_str()])
            .find_map(|m| self.lookup(target.provider, m))
    }

    /// The context window of `model` with the given `anthropic-beta` flags: the beta
    /// window when one of `betas` opens it, else the ordinary one.
    pub fn context_window(&self, provider: ProviderKind, model: &str, betas: &[&str]) -> Option<u64> {
        let p = self.lookup(provider, model)?;
        match &p.beta_window {
            Some(w) if betas.iter().any(|b| b.trim() == w.beta) => Some(w.context_window),
            _ => p.context_window,
        }
    }

    /// Number of names known.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The model id a target is priced and sized as before it answers: its `price_as`, else
/// its `model`.
pub fn priced_model(target: &Target) -> &str {
    target.params.price_as.as_deref().unwrap_or(&target.model)
}

/// "0.15" (USD per million tokens) → 150,000 picodollars per token, exactly.
pub fn per_million_to_pd(s: &str) -> Option<u64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

#[cfg(test)]
mod tests;
