//! Reading a LiteLLM-format `model_prices_and_context_window.json` (`pricing_file`), the
//! community map many users keep current. Entries keep their own names
//! (`kyma/claude-haiku-4-5` is not `claude-haiku-4-5`), so a reseller's price never
//! replaces the maker's; the lookup rules choose between them.
//!
//! Prices are USD per token as JSON numbers. Each is converted once from its shortest
//! decimal form (what the file says, not the float's binary value) to picodollars,
//! rounding to the nearest, and never used as a float again. A price or limit that is
//! present but not a number is an error naming the entry; entries that are not chat
//! models, or not priced per token, are left out.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{ModelPrice, PriceError, Tier};

/// The entries of a map, by their own names.
pub type LiteLlmMap = HashMap<String, ModelPrice>;

/// Prism's tier fields and LiteLLM's name for each (the `_above_<N>k_tokens` suffix and
/// `tiered_pricing` ranges use the same names).
const FIELDS: [(&str, TierField); 6] = [
    ("input_cost_per_token", TierField::Input),
    ("output_cost_per_token", TierField::Output),
    ("cache_read_input_token_cost", TierField::CacheRead),
    ("cache_creation_input_token_cost", TierField::CacheWrite),
    (
        "cache_creation_input_token_cost_above_1hr",
        TierField::CacheWrite1h,
    ),
    ("output_cost_per_reasoning_token", TierField::Reasoning),
];

#[derive(Debug, Clone, Copy)]
enum TierField {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    CacheWrite1h,
    Reasoning,
}

impl TierField {
    fn slot(self, t: &mut Tier) -> &mut Option<u64> {
        match self {
            Self::Input => &mut t.input,
            Self::Output => &mut t.output,
            Self::CacheRead => &mut t.cached_input,
            Self::CacheWrite => &mut t.cache_write,
            Self::CacheWrite1h => &mut t.cache_write_1h,
            Self::Reasoning => &mut t.reasoning,
        }
    }
}

/// Parse a map; `what` names it in errors and becomes each entry's source.
pub fn load_litellm(text: &str, what: &str) -> Result<LiteLlmMap, PriceError> {
    let v: Value = serde_json::from_str(text).map_err(|source| PriceError::Json {
        what: what.to_string(),
        source,
    })?;
    let map = v.as_object().ok_or_else(|| PriceError::NotAnObject {
        what: what.to_string(),
    })?;
    let mut out = LiteLlmMap::new();
    for (key, entry) in map {
        if key == "sample_spec" {
            continue;
        }
        let Some(entry) = entry.as_object() else {
            continue;
        };
        // Image, embedding, audio... models; an entry without a mode is taken as chat.
        if entry
            .get("mode")
            .is_some_and(|m| !matches!(m.as_str(), Some("chat" | "responses")))
        {
            continue;
        }
        if let Some(mut price) = entry_price(key, entry, what)? {
            price.source = what.to_string();
            out.insert(key.clone(), price);
        }
    }
    Ok(out)
}

/// One entry, or `None` when it has no per-token input and output price.
fn entry_price(key: &str, e: &Map<String, Value>, what: &str) -> Result<Option<ModelPrice>, PriceError> {
    let bad = |field: &str, value: &Value, why: &str| PriceError::BadEntry {
        what: what.to_string(),
        entry: key.to_string(),
        field: field.to_string(),
        value: value.to_string(),
        why: why.to_string(),
    };
    let price = |field: &str, v: &Value| -> Result<u64, PriceError> {
        v.as_f64()
            .filter(|_| v.is_number())
            .and_then(usd_per_token_to_pd)
            .ok_or_else(|| bad(field, v, "is not a price in USD per token"))
    };
    let field = |name: &str| -> Result<Option<u64>, PriceError> {
        match e.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => price(name, v).map(Some),
        }
    };
    let limit = |name: &str| -> Result<Option<u64>, PriceError> {
        match e.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                // A limit of 0, which some entries give, is read as not listed.
                Some(0) => Ok(None),
                Some(n) => Ok(Some(n)),
                None => Err(bad(name, v, "is not a token count")),
            },
        }
    };
    let mut base = Tier {
        input: field("input_cost_per_token")?,
        output: field("output_cost_per_token")?,
        cached_input: field("cache_read_input_token_cost")?.or(field("input_cost_per_token_cache_hit")?),
        cache_write: field("cache_creation_input_token_cost")?,
        cache_write_1h: field("cache_creation_input_token_cost_above_1hr")?,
        reasoning: field("output_cost_per_reasoning_token")?,
        above: 0,
    };
    let mut tiers: Vec<Tier> = Vec::new();
    for (name, v) in e {
        if v.is_null() {
            continue;
        }
        let Some((field_name, above)) = name.rsplit_once("_above_") else {
            continue;
        };
        let Some(thousands) = above.strip_suffix("k_tokens").and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        let Some((_, f)) = FIELDS.iter().find(|(n, _)| *n == field_name) else {
            continue;
        };
        *f.slot(tier_at(&mut tiers, thousands * 1000)) = Some(price(name, v)?);
    }
    if let Some(ranges) = e.get("tiered_pricing") {
        let list = ranges
            .as_array()
            .ok_or_else(|| bad("tiered_pricing", ranges, "is not a list of ranges"))?;
        for (i, r) in list.iter().enumerate() {
            let at = format!("tiered_pricing[{i}]");
            let start = r
                .get("range")
                .and_then(|v| v.get(0))
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0 && s.fract() == 0.0 && *s < 1e15)
                .ok_or_else(|| bad(&at, r, "has no `range` starting at a token count"))?
                as u64;
            let slot = if start == 0 {
                &mut base
            } else {
                tier_at(&mut tiers, start)
            };
            for (name, f) in FIELDS {
                if let Some(v) = r.get(name) {
                    let pd = price(&format!("{at}.{name}"), v)?;
                    // The map's own top-level price wins over its first range.
                    f.slot(slot).get_or_insert(pd);
                }
            }
        }
    }
    let (Some(input), Some(output)) = (base.input, base.output) else {
        return Ok(None);
    };
    tiers.sort_by_key(|t| t.above);
    let provider = match e.get("litellm_provider") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => return Err(bad("litellm_provider", v, "is not a provider name")),
    };
    Ok(Some(ModelPrice {
        input,
        output,
        cached_input: base.cached_input,
        cache_write: base.cache_write,
        cache_write_1h: base.cache_write_1h,
        reasoning: base.reasoning,
        context_window: limit("max_input_tokens")?,
        max_output: limit("max_output_tokens")?,
        entry: key.to_string(),
        provider,
        tiers,
        ..ModelPrice::default()
    }))
}

/// The tier at `above`, added when missing.
fn tier_at(tiers: &mut Vec<Tier>, above: u64) -> &mut Tier {
    let i = match tiers.iter().position(|t| t.above == above) {
        Some(i) => i,
        None => {
            tiers.push(Tier {
                above,
                ..Tier::default()
            });
            tiers.len() - 1
        }
    };
    &mut tiers[i]
}

/// USD per token → picodollars per token, from the number's shortest decimal form
/// (`7.500000000000001e-8` is 75,000 pd), rounding half to even. `None` when negative,
/// not finite, or too large.
pub fn usd_per_token_to_pd(v: f64) -> Option<u64> {
    super::usd_to_pd(v).and_then(|pd| u64::try_from(pd).ok())
}
