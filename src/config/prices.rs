//! The price table a config builds (built-in data, its `pricing_file`, its `[pricing]`
//! tables), each target's `price_as`, and the load warnings for targets whose model has
//! no known price or context window.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::{Located, file, limits};
use crate::pricing::lookup::host_prefix;
use crate::pricing::{ModelPrice, PriceTable, per_million_to_pd, query};
use crate::target::{ProviderKind, Target};

/// `price_as`: the name of a price entry, checked against the table once it is loaded.
pub fn price_as(field: Option<Spanned<String>>) -> Result<Option<Spanned<String>>, Located> {
    match field {
        Some(v) if v.get_ref().trim().is_empty() => Err((
            v.span().start,
            "`price_as` must not be empty: name a price entry such as \"groq/llama-3.3-70b-versatile\", or remove it"
                .into(),
        )),
        v => Ok(v),
    }
}

/// `price_as` in `[defaults]` would price every target as one model.
pub fn refuse_in_defaults(defaults: &file::TargetFile) -> Result<(), Located> {
    match &defaults.price_as {
        Some(v) => Err((
            v.span().start,
            "`price_as` cannot be set in [defaults]: it names the price entry of one target".into(),
        )),
        None => Ok(()),
    }
}

/// The built-in prices, then the user's LiteLLM map, then `[pricing]` overrides.
pub fn resolve(
    config_path: &Path,
    litellm: Option<&Spanned<String>>,
    overrides: &BTreeMap<String, Spanned<file::PriceFile>>,
) -> Result<PriceTable, Located> {
    let mut table = PriceTable::builtin().map_err(|e| (0, e.to_string()))?;
    if let Some(f) = litellm {
        // Relative paths are relative to the config file, like every other path in it.
        let p = config_path.parent().unwrap_or(Path::new(".")).join(f.get_ref());
        let text = std::fs::read_to_string(&p)
            .map_err(|e| (f.span().start, format!("`pricing_file` {}: {e}", p.display())))?;
        let what = p.display().to_string();
        let loaded = crate::pricing::load_litellm(&text, &what)
            .map_err(|e| (f.span().start, format!("`pricing_file` {e}")))?;
        table.set_file(what, loaded);
    }
    for (model, entry) in overrides {
        let price = override_price(config_path, &table, model, entry)?;
        table.insert(model.clone(), price);
    }
    Ok(table)
}

/// A `[pricing."model"]` table over the entry of that name: what it leaves out stays as
/// the data had it.
fn override_price(
    config_path: &Path,
    table: &PriceTable,
    model: &str,
    entry: &Spanned<file::PriceFile>,
) -> Result<ModelPrice, Located> {
    let at = entry.span().start;
    let e = entry.get_ref();
    // The entry named like the model; Gemini's are listed as `gemini/…`.
    let base = table
        .get(model)
        .or_else(|| table.get(&format!("gemini/{model}")))
        .cloned();
    let price = |v: &Option<String>, key: &str, old: Option<u64>| -> Result<Option<u64>, Located> {
        match v {
            Some(s) => match per_million_to_pd(s) {
                Some(pd) if pd <= limits::MAX_PRICE_PER_MILLION * 1_000_000 => Ok(Some(pd)),
                Some(_) => Err((
                    at,
                    format!(
                        "[pricing.\"{model}\"] `{key}` = \"{s}\" is out of range: give a price in USD per million tokens from 0 to {}",
                        limits::MAX_PRICE_PER_MILLION
                    ),
                )),
                None => Err((
                    at,
                    format!(
                        "[pricing.\"{model}\"] `{key}` = \"{s}\" is not a price in USD per million tokens (a decimal string, at most 6 decimals)"
                    ),
                )),
            },
            None => Ok(old),
        }
    };
    let old = base.clone().unwrap_or_default();
    let input = price(&e.input, "input", base.as_ref().map(|b| b.input))?;
    let output = price(&e.output, "output", base.as_ref().map(|b| b.output))?;
    let (Some(input), Some(output)) = (input, output) else {
        return Err((
            at,
            format!("[pricing.\"{model}\"] is not in the price table, so it needs both `input` and `output`"),
        ));
    };
    Ok(ModelPrice {
        input,
        output,
        cached_input: price(&e.cached_input, "cached_input", old.cached_input)?,
        cache_write: price(&e.cache_write, "cache_write", old.cache_write)?,
        cache_write_1h: price(&e.cache_write_1h, "cache_write_1h", old.cache_write_1h)?,
        reasoning: price(&e.reasoning, "reasoning", old.reasoning)?,
        context_window: limits::token_limit(e.context_window.as_ref(), model, "context_window")?
            .or(old.context_window),
        max_output: limits::token_limit(e.max_output.as_ref(), model, "max_output")?.or(old.max_output),
        entry: model.to_string(),
        provider: String::new(),
        source: format!("{} [pricing.\"{model}\"]", config_path.display()),
        retired: None,
        // What the override does not mention stays as the data had it.
        tiers: old.tiers,
        beta_window: old.beta_window,
    })
}

/// Every `price_as` names an entry the table has (else an error at it, with the closest
/// name); every target whose model has no price or no window gets one warning.
pub fn check_targets(
    targets: &[Target],
    price_as_at: &[Option<usize>],
    table: &PriceTable,
    warnings: &mut Vec<String>,
) -> Result<(), Located> {
    for (t, at) in targets.iter().zip(price_as_at) {
        let q = query(t);
        if let (Some(name), Some(at)) = (q.price_as, at)
            && table.get(name).is_none()
        {
            let hint = match table.suggest(&q) {
                Some(s) => format!("did you mean `{s}`?"),
                None => {
                    "name a LiteLLM key (`groq/llama-3.3-70b-versatile`) or a [pricing.\"…\"] table".into()
                }
            };
            return Err((
                *at,
                format!(
                    "target `{}`: `price_as` = \"{name}\" is not in the price data: {hint}",
                    t.name
                ),
            ));
        }
        if let Some(w) = missing(t, table) {
            warnings.push(format!("target `{}`: {w}", t.name));
        }
    }
    Ok(())
}

/// What is unknown about `t`'s model, and what to do about it. A local or unknown
/// OpenAI-compatible server is expected to have no price, so it is only warned about when
/// its model looks like a typo of a known one.
fn missing(t: &Target, table: &PriceTable) -> Option<String> {
    let q = query(t);
    let model = q.bare_model();
    let suggestion = || table.suggest(&q).map(|s| format!("did you mean `{s}`?"));
    match table.find(&q) {
        // A deployment is named by its owner: a did-you-mean would name another model.
        None if q.kind == ProviderKind::Azure && q.price_as.is_none() => Some(format!(
            "deployment `{model}` is not a model Prism has prices for: set `price_as` to the model behind it (\"azure/gpt-4o-2024-08-06\"); until then an answer is priced by the model it names, and nothing is priced or length-checked before sending"
        )),
        None => {
            let expected = q.kind == ProviderKind::OpenAiCompatible
                && q.price_as.is_none()
                && q.base_url.and_then(host_prefix).is_none();
            let fix = match suggestion() {
                Some(s) => s,
                None if expected => return None,
                None => format!(
                    "add [pricing.\"{model}\"] with input, output and context_window (USD per million tokens), or name the entry that applies with `price_as`"
                ),
            };
            Some(format!(
                "no price or context window is known for `{model}` ({}): its cost is not shown and prompts are sent without a length check; {fix}",
                t.provider
            ))
        }
        Some(p) if p.context_window.is_none() && p.beta_window.is_none() => Some(format!(
            "the context window of `{model}` is not known (entry `{}` lists none): prompts are sent without a length check; add context_window under [pricing.\"{model}\"]",
            p.entry
        )),
        Some(_) => None,
    }
}
