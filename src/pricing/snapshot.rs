//! The built-in price data, compiled in: a dated snapshot of LiteLLM's map (chat entries,
//! the fields Prism uses, integer picodollars), the entries later snapshots dropped
//! (`retired.tsv`), and Prism's own notes on beta windows (`prism.toml`). Parsed once, on
//! first use, and shared by every table cloned from it.
//!
//! The files and the script that writes them: `src/pricing/data/`, `scripts/update-prices.py`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use serde::Deserialize;

use super::{BetaWindow, ModelPrice, PriceError, Tier, per_million_to_pd};

/// The snapshot, as `scripts/update-prices.py` wrote it.
pub const SNAPSHOT_TSV: &str = include_str!("data/litellm-chat.tsv");
/// Entries the map no longer lists, with their last known prices.
pub const RETIRED_TSV: &str = include_str!("data/retired.tsv");
/// Prism's own additions: windows that a beta flag opens.
const PRISM_TOML: &str = include_str!("data/prism.toml");

/// The snapshot's columns, in order.
pub const COLUMNS: [&str; 11] = [
    "key",
    "provider",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "max_input",
    "max_output",
    "tiers",
];

/// The retired file's columns: the snapshot's, then when the entry was last seen and
/// when it was found gone.
const RETIRED_COLUMNS: [&str; 13] = [
    "key",
    "provider",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "max_input",
    "max_output",
    "tiers",
    "last_seen",
    "retired",
];

/// The built-in entries by key, and which snapshot they come from.
#[derive(PartialEq, Eq)]
pub struct Builtin {
    /// `LiteLLM 1.110.2 (2026-11-30)`.
    pub label: String,
    /// Every entry by key: the snapshot's, then retired ones it lacks.
    pub entries: HashMap<String, ModelPrice>,
}

impl std::fmt::Debug for Builtin {
    // Thousands of entries: name the data, not its contents.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Builtin({}, {} entries)", self.label, self.entries.len())
    }
}

static BUILTIN: LazyLock<Result<Arc<Builtin>, String>> =
    LazyLock::new(|| build().map(Arc::new).map_err(|e| e.to_string()));

/// The built-in entries, parsed on first use.
pub fn builtin() -> Result<Arc<Builtin>, PriceError> {
    BUILTIN.clone().map_err(PriceError::Builtin)
}

fn build() -> Result<Builtin, PriceError> {
    let snapshot = parse(SNAPSHOT_TSV, "built-in litellm-chat.tsv", &COLUMNS)?;
    let label = format!(
        "{} ({})",
        snapshot.meta("source").unwrap_or("LiteLLM"),
        snapshot.meta("taken").unwrap_or("undated")
    );
    let mut entries = HashMap::with_capacity(snapshot.rows.len() + 16);
    for (mut price, _) in snapshot.rows {
        price.source = label.clone();
        entries.insert(price.entry.clone(), price);
    }
    for (mut price, extra) in parse(RETIRED_TSV, "built-in retired.tsv", &RETIRED_COLUMNS)?.rows {
        let [last_seen, retired] = [extra.first(), extra.get(1)].map(|s| s.cloned().unwrap_or_default());
        // An entry back in the snapshot is the snapshot's.
        if !entries.contains_key(&price.entry) {
            price.source = last_seen;
            price.retired = Some(retired);
            entries.insert(price.entry.clone(), price);
        }
    }
    apply_beta_windows(&mut entries, PRISM_TOML, "built-in prism.toml")?;
    Ok(Builtin { label, entries })
}

/// A parsed snapshot-format file.
pub struct Parsed {
    meta: Vec<(String, String)>,
    /// Each row's entry and its columns after the snapshot's.
    pub rows: Vec<(ModelPrice, Vec<String>)>,
}

impl Parsed {
    /// A `#@ name<TAB>value` line's value.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.meta.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parse a snapshot-format file whose header line is `columns`.
pub fn parse(text: &str, what: &str, columns: &[&str]) -> Result<Parsed, PriceError> {
    let bad = |line: usize, message: String| PriceError::Snapshot {
        what: what.to_string(),
        line,
        message,
    };
    let mut meta = Vec::new();
    let mut rows = Vec::new();
    let mut header = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(m) = line.strip_prefix("#@ ") {
            let (k, v) = m.split_once('\t').unwrap_or((m, ""));
            meta.push((k.to_string(), v.to_string()));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        if !header {
            if cells != columns {
                return Err(bad(n, format!("expected the columns {}", columns.join(" "))));
            }
            header = true;
            continue;
        }
        if cells.len() != columns.len() {
            return Err(bad(
                n,
                format!("{} columns, expected {}", cells.len(), columns.len()),
            ));
        }
        let price = row(&cells).map_err(|m| bad(n, format!("`{}`: {m}", cells[0])))?;
        rows.push((
            price,
            cells[COLUMNS.len()..].iter().map(|s| s.to_string()).collect(),
        ));
    }
    if !header {
        return Err(bad(0, "no header line".into()));
    }
    Ok(Parsed { meta, rows })
}

fn row(c: &[&str]) -> Result<ModelPrice, String> {
    let opt = |i: usize| -> Result<Option<u64>, String> {
        match c[i] {
            "" => Ok(None),
            s => s
                .parse()
                .map(Some)
                .map_err(|_| format!("{} = {s:?} is not a whole number", COLUMNS[i])),
        }
    };
    let req = |i: usize| opt(i)?.ok_or_else(|| format!("no {}", COLUMNS[i]));
    Ok(ModelPrice {
        entry: c[0].to_string(),
        provider: c[1].to_string(),
        input: req(2)?,
        output: req(3)?,
        cached_input: opt(4)?,
        cache_write: opt(5)?,
        cache_write_1h: opt(6)?,
        reasoning: opt(7)?,
        context_window: opt(8)?,
        max_output: opt(9)?,
        tiers: tiers(c[10])?,
        ..ModelPrice::default()
    })
}

/// `above:input,output,cache_read,cache_write,cache_write_1h,reasoning;...`
fn tiers(s: &str) -> Result<Vec<Tier>, String> {
    let mut out: Vec<Tier> = Vec::new();
    for t in s.split(';').filter(|t| !t.is_empty()) {
        let bad = || {
            format!("tier {t:?} is not `above:input,output,cache_read,cache_write,cache_write_1h,reasoning`")
        };
        let (above, prices) = t.split_once(':').ok_or_else(bad)?;
        let p: Vec<&str> = prices.split(',').collect();
        if p.len() != 6 {
            return Err(bad());
        }
        let num = |s: &str| -> Result<Option<u64>, String> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| bad())
            }
        };
        let tier = Tier {
            above: above.parse().map_err(|_| bad())?,
            input: num(p[0])?,
            output: num(p[1])?,
            cached_input: num(p[2])?,
            cache_write: num(p[3])?,
            cache_write_1h: num(p[4])?,
            reasoning: num(p[5])?,
        };
        if out.last().is_some_and(|l| l.above >= tier.above) {
            return Err(format!("tiers are not in ascending order at {t:?}"));
        }
        out.push(tier);
    }
    Ok(out)
}

/// `prism.toml`: windows a beta flag opens, and the tier that then applies.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrismFile {
    beta_window: Vec<BetaWindowEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BetaWindowEntry {
    /// The entries (LiteLLM keys) it applies to.
    entries: Vec<String>,
    beta: String,
    context_window: u64,
    /// The window without the flag, when the map gives the beta window instead.
    standard_window: Option<u64>,
    /// Prices above a prompt size with the flag, USD per million tokens, for entries whose
    /// data lists no tier there.
    tier: Option<TierEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierEntry {
    above: u64,
    input: String,
    output: String,
    cached_input: Option<String>,
    cache_write: Option<String>,
    cache_write_1h: Option<String>,
}

fn apply_beta_windows(
    entries: &mut HashMap<String, ModelPrice>,
    text: &str,
    what: &str,
) -> Result<(), PriceError> {
    let file: PrismFile = toml::from_str(text).map_err(|e| PriceError::Toml {
        what: what.to_string(),
        message: e.message().to_string(),
    })?;
    for w in file.beta_window {
        let tier = w
            .tier
            .as_ref()
            .map(|t| -> Result<Tier, PriceError> {
                let pd = |v: &str, field: &str| {
                    per_million_to_pd(v).ok_or_else(|| PriceError::BadPrice {
                        what: what.to_string(),
                        model: w.entries.join(", "),
                        field: format!("tier.{field}"),
                        value: v.to_string(),
                    })
                };
                let opt = |v: &Option<String>, field: &str| v.as_deref().map(|v| pd(v, field)).transpose();
                Ok(Tier {
                    above: t.above,
                    input: Some(pd(&t.input, "input")?),
                    output: Some(pd(&t.output, "output")?),
                    cached_input: opt(&t.cached_input, "cached_input")?,
                    cache_write: opt(&t.cache_write, "cache_write")?,
                    cache_write_1h: opt(&t.cache_write_1h, "cache_write_1h")?,
                    reasoning: None,
                })
            })
            .transpose()?;
        for key in &w.entries {
            let Some(price) = entries.get_mut(key) else {
                return Err(PriceError::Toml {
                    what: what.to_string(),
                    message: format!("beta window for `{key}`, which no price data lists"),
                });
            };
            price.beta_window = Some(BetaWindow {
                beta: w.beta.clone(),
                context_window: w.context_window,
            });
            if let Some(standard) = w.standard_window {
                price.context_window = Some(standard);
            }
            if let Some(t) = &tier
                && !price.tiers.iter().any(|have| have.above == t.above)
            {
                price.tiers.push(t.clone());
                price.tiers.sort_by_key(|t| t.above);
            }
        }
    }
    Ok(())
}
