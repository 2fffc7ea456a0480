//! Reading a LiteLLM-format `model_prices_and_context_window.json`, the community map
//! many users already keep current. Its prices are USD per token as JSON numbers; they
//! are converted once, rounding to the nearest picodollar (a float like
//! 7.500000000000001e-08 is 75,000 pd), and never used as floats again.

use serde_json::Value;

use super::{LongContext, ModelPrice, PriceError, PriceTable};

/// The prompt size LiteLLM's `*_above_200k_tokens` prices start above.
const LONG_CONTEXT_ABOVE: u64 = 200_000;

/// Parse the map; entries without per-token input and output prices are skipped.
pub fn load_litellm(text: &str, what: &str) -> Result<PriceTable, PriceError> {
    let v: Value = serde_json::from_str(text).map_err(|source| PriceError::Json {
        what: what.to_string(),
        source,
    })?;
    let map = v.as_object().ok_or_else(|| PriceError::NotAnObject {
        what: what.to_string(),
    })?;
    let mut table = PriceTable::default();
    for (name, entry) in map {
        if name == "sample_spec" {
            continue;
        }
        let pd = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_f64)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| (v * 1e12).round() as u64)
        };
        let (Some(input), Some(output)) = (pd("input_cost_per_token"), pd("output_cost_per_token")) else {
            continue;
        };
        let price = ModelPrice {
            input,
            output,
            cached_input: pd("cache_read_input_token_cost"),
            cache_write: pd("cache_creation_input_token_cost"),
            reasoning: pd("output_cost_per_reasoning_token"),
            context_window: entry.get("max_input_tokens").and_then(Value::as_u64),
            max_output: entry.get("max_output_tokens").and_then(Value::as_u64),
            source: what.to_string(),
            as_of: String::new(),
            long_context: match (
                pd("input_cost_per_token_above_200k_tokens"),
                pd("output_cost_per_token_above_200k_tokens"),
            ) {
                (Some(input), Some(output)) => Some(LongContext {
                    above: LONG_CONTEXT_ABOVE,
                    input,
                    output,
                    cached_input: pd("cache_read_input_token_cost_above_200k_tokens"),
                    cache_write: pd("cache_creation_input_token_cost_above_200k_tokens"),
                }),
                _ => None,
            },
            beta_window: None,
        };
        // LiteLLM prefixes some keys with the provider (`gemini/gemini-2.5-flash`); keep
        // both spellings so a target's bare model id finds it.
        if let Some((_, bare)) = name.split_once('/') {
            table.insert(bare.to_string(), price.clone());
        }
        table.insert(name.clone(), price);
    }
    Ok(table)
}
