//! One model's prices and limits, and the exact cost of a usage at them.

use crate::provider::event::Usage;

use super::Picodollars;

/// One price entry: prices in picodollars per token, limits in tokens, and where it came
/// from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelPrice {
    pub input: u64,
    pub output: u64,
    /// Cache reads; `None` bills them as ordinary input.
    pub cached_input: Option<u64>,
    /// Cache writes (Anthropic's 5-minute writes); `None` bills them as ordinary input.
    pub cache_write: Option<u64>,
    /// 1-hour cache writes (Anthropic); `None` bills them as other cache writes.
    pub cache_write_1h: Option<u64>,
    /// Reasoning tokens, when priced apart from output.
    pub reasoning: Option<u64>,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    /// The entry's name in its price data: LiteLLM's key (`claude-haiku-4-5`,
    /// `groq/llama-3.3-70b-versatile`), or the model a `[pricing."…"]` table names.
    pub entry: String,
    /// LiteLLM's `litellm_provider` for the entry (`openai`, `groq`...); empty when unknown.
    pub provider: String,
    /// Which price data it comes from: `LiteLLM 1.110.2 (2026-11-30)`, a `pricing_file`,
    /// the config's `[pricing]`.
    pub source: String,
    /// Set when the entry is no longer in the map it came from: the snapshot that first
    /// lacked it. Its last known prices still apply, so old sessions keep their cost.
    pub retired: Option<String>,
    /// Higher prices for requests whose input passes a threshold (Anthropic and Gemini
    /// long context, GPT above 272K, range-priced hosts), ascending by threshold.
    pub tiers: Vec<Tier>,
    /// A larger context window a provider opens behind a beta flag.
    pub beta_window: Option<BetaWindow>,
}

/// Prices for a whole request whose input is above `above` tokens. A price the tier does
/// not list is the base price.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tier {
    pub above: u64,
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cached_input: Option<u64>,
    pub cache_write: Option<u64>,
    pub cache_write_1h: Option<u64>,
    pub reasoning: Option<u64>,
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

/// What a usage costs, and at which rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// The exact cost.
    pub cost: Picodollars,
    /// The threshold of the tier that applied; `None` for the base prices.
    pub tier: Option<u64>,
}

/// The per-token prices (picodollars) one request is billed at, every fallback applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub input: u64,
    pub output: u64,
    pub cached_input: u64,
    pub cache_write: u64,
    pub cache_write_1h: u64,
    pub reasoning: u64,
}

/// What a usage costs, split by what was paid for, and the rates it was billed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breakdown {
    /// Uncached input.
    pub input: Picodollars,
    /// Output, reasoning included.
    pub output: Picodollars,
    /// Cache reads and writes.
    pub cache: Picodollars,
    /// The threshold of the tier that applied; `None` for the base prices.
    pub tier: Option<u64>,
    pub rates: Rates,
}

impl Breakdown {
    /// The whole cost.
    pub fn total(&self) -> Picodollars {
        self.input + self.output + self.cache
    }
}

impl ModelPrice {
    /// The tier a request with `input` tokens is billed at: the highest threshold it
    /// passes.
    pub fn tier_for(&self, input: u64) -> Option<&Tier> {
        self.tiers.iter().rev().find(|t| input > t.above)
    }

    /// The rates a request at `tier` is billed at (the base prices for `None`).
    pub fn rates(&self, tier: Option<&Tier>) -> Rates {
        let pick = |f: fn(&Tier) -> Option<u64>, base: Option<u64>| tier.and_then(f).or(base);
        let input = pick(|t| t.input, Some(self.input)).unwrap_or(self.input);
        let output = pick(|t| t.output, Some(self.output)).unwrap_or(self.output);
        let cache_write = pick(|t| t.cache_write, self.cache_write).unwrap_or(input);
        Rates {
            input,
            output,
            cached_input: pick(|t| t.cached_input, self.cached_input).unwrap_or(input),
            cache_write,
            cache_write_1h: pick(|t| t.cache_write_1h, self.cache_write_1h).unwrap_or(cache_write),
            reasoning: pick(|t| t.reasoning, self.reasoning).unwrap_or(output),
        }
    }

    /// Exact cost of `usage` (normalized: input includes cached reads and writes, writes
    /// include 1-hour writes, output includes reasoning), at the tier its input reaches.
    /// `None` when the counts are unknown.
    pub fn charge(&self, usage: &Usage) -> Option<Charge> {
        self.breakdown(usage).map(|b| Charge {
            cost: b.total(),
            tier: b.tier,
        })
    }

    /// [`ModelPrice::charge`], split by what it paid for.
    pub fn breakdown(&self, usage: &Usage) -> Option<Breakdown> {
        let tier = self.tier_for(usage.input?);
        let r = self.rates(tier);
        let input = u128::from(usage.input?);
        let output = u128::from(usage.output?);
        let cached = u128::from(usage.cached_input.unwrap_or(0));
        let written = u128::from(usage.cache_write.unwrap_or(0));
        let written_1h = u128::from(usage.cache_write_1h.unwrap_or(0)).min(written);
        let reasoning = u128::from(usage.reasoning.unwrap_or(0));
        let p = u128::from;
        let uncached = input.saturating_sub(cached + written);
        let visible = output.saturating_sub(reasoning);
        Some(Breakdown {
            input: uncached * p(r.input),
            output: visible * p(r.output) + reasoning * p(r.reasoning),
            cache: cached * p(r.cached_input)
                + (written - written_1h) * p(r.cache_write)
                + written_1h * p(r.cache_write_1h),
            tier: tier.map(|t| t.above),
            rates: r,
        })
    }

    /// Exact cost of `usage`; see [`ModelPrice::charge`].
    pub fn cost(&self, usage: &Usage) -> Option<Picodollars> {
        self.charge(usage).map(|c| c.cost)
    }

    /// The context window with the given `anthropic-beta` flags: the beta window when one
    /// of `betas` opens it, else the ordinary one.
    pub fn window_with(&self, betas: &[&str]) -> Option<u64> {
        match &self.beta_window {
            Some(w) if betas.iter().any(|b| b.trim() == w.beta) => Some(w.context_window),
            _ => self.context_window,
        }
    }
}
