//! The built-in price data, compiled in: a dated snapshot of LiteLLM's map (chat entries,
//! the fields Prism uses, integer picodollars), the entries later snapshots dropped
//! (`retired.tsv`), and Prism's own notes on beta windows (`prism.toml`); how their lines
//! read. The table Prism prices by indexes them by key and parses a row when it is first
//! asked for ([`super::builtin`]).
//!
//! The files and the script that writes them: `src/pricing/data/`, `scripts/update-prices.py`.

#[cfg(test)]
use std::collections::HashMap;

use serde::Deserialize;

use super::{BetaWindow, ModelPrice, PriceError, Tier, per_million_to_pd};

/// The snapshot, as `scripts/update-prices.py` wrote it.
pub const SNAPSHOT_TSV: &str = include_str!("data/litellm-chat.tsv");
/// Entries the map no longer lists, with their last known prices.
pub const RETIRED_TSV: &str = include_str!("data/retired.tsv");
/// Prism's own additions: windows that a beta flag opens.
pub(crate) const PRISM_TOML: &str = include_str!("data/prism.toml");

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
pub(crate) const RETIRED_COLUMNS: [&str; 13] = [
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

/// The built-in entries, eagerly: the label and every entry by key, the snapshot's, then
/// retired ones it lacks, beta windows applied. Prism itself reads them lazily
/// ([`super::builtin`]); this is what that must equal, row for row.
#[cfg(test)]
pub(crate) fn build_eager() -> Result<(String, HashMap<String, ModelPrice>), PriceError> {
    let snapshot = parse(SNAPSHOT_TSV, SNAPSHOT_WHAT, &COLUMNS)?;
    let label = label(|name| snapshot.meta(name));
    let mut entries = HashMap::with_capacity(snapshot.rows.len() + 16);
    for (mut price, _) in snapshot.rows {
        price.source = label.clone();
        entries.insert(price.entry.clone(), price);
    }
    for (mut price, extra) in parse(RETIRED_TSV, RETIRED_WHAT, &RETIRED_COLUMNS)?.rows {
        // An entry back in the snapshot is the snapshot's.
        if !entries.contains_key(&price.entry) {
            retire(&mut price, &extra);
            entries.insert(price.entry.clone(), price);
        }
    }
    for w in beta_windows(PRISM_TOML, PRISM_WHAT)? {
        for key in &w.entries {
            let Some(price) = entries.get_mut(key) else {
                return Err(w.unknown_entry(key, PRISM_WHAT));
            };
            w.apply(price);
        }
    }
    Ok((label, entries))
}

/// The built-in files' names in errors.
pub(crate) const SNAPSHOT_WHAT: &str = "built-in litellm-chat.tsv";
pub(crate) const RETIRED_WHAT: &str = "built-in retired.tsv";
pub(crate) const PRISM_WHAT: &str = "built-in prism.toml";

/// Which snapshot the entries come from, from its `#@` lines:
/// `LiteLLM 1.110.2 (2026-11-30)`.
pub(crate) fn label<'a>(meta: impl Fn(&str) -> Option<&'a str>) -> String {
    format!(
        "{} ({})",
        meta("source").unwrap_or("LiteLLM"),
        meta("taken").unwrap_or("undated")
    )
}

/// Mark a retired row's entry: its source is the snapshot that last listed it, and it
/// says which one first did not (the retired file's two extra columns).
pub(crate) fn retire<S: AsRef<str>>(price: &mut ModelPrice, extra: &[S]) {
    let [last_seen, retired] =
        [extra.first(), extra.get(1)].map(|s| s.map_or_else(String::new, |s| s.as_ref().to_string()));
    price.source = last_seen;
    price.retired = Some(retired);
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

/// A snapshot-format file split into its parts, no row parsed: the `#@` lines, and each
/// row after the header with its 1-based line number.
pub(crate) struct Lines<'t> {
    pub meta: Vec<(&'t str, &'t str)>,
    pub rows: Vec<(usize, &'t str)>,
}

impl<'t> Lines<'t> {
    /// A `#@ name<TAB>value` line's value.
    pub fn meta(&self, name: &str) -> Option<&'t str> {
        self.meta.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

/// Split a snapshot-format file whose header line is `columns` into its meta lines and
/// rows; only the header is checked.
pub(crate) fn lines<'t>(text: &'t str, what: &str, columns: &[&str]) -> Result<Lines<'t>, PriceError> {
    let mut meta = Vec::new();
    let mut rows = Vec::new();
    let mut header = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(m) = line.strip_prefix("#@ ") {
            meta.push(m.split_once('\t').unwrap_or((m, "")));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if header {
            rows.push((n, line));
        } else if line.split('\t').eq(columns.iter().copied()) {
            header = true;
        } else {
            return Err(damaged(
                what,
                n,
                format!("expected the columns {}", columns.join(" ")),
            ));
        }
    }
    if !header {
        return Err(damaged(what, 0, "no header line".into()));
    }
    Ok(Lines { meta, rows })
}

/// Parse a snapshot-format file whose header line is `columns`.
pub fn parse(text: &str, what: &str, columns: &[&str]) -> Result<Parsed, PriceError> {
    let split = lines(text, what, columns)?;
    let rows = split
        .rows
        .iter()
        .map(|&(n, line)| {
            let (price, extra) = parse_row(line, columns).map_err(|m| damaged(what, n, m))?;
            Ok((price, extra.into_iter().map(str::to_string).collect()))
        })
        .collect::<Result<_, PriceError>>()?;
    let meta = split
        .meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(Parsed { meta, rows })
}

/// A damaged line of a snapshot-format file.
pub(crate) fn damaged(what: &str, line: usize, message: String) -> PriceError {
    PriceError::Snapshot {
        what: what.to_string(),
        line,
        message,
    }
}

/// One row of a file whose columns are `columns`: its entry, and its cells after the
/// snapshot's columns. The error says what is wrong, naming the entry.
pub(crate) fn parse_row<'l>(line: &'l str, columns: &[&str]) -> Result<(ModelPrice, Vec<&'l str>), String> {
    let cells: Vec<&str> = line.split('\t').collect();
    if cells.len() != columns.len() {
        return Err(format!("{} columns, expected {}", cells.len(), columns.len()));
    }
    let price = row(&cells).map_err(|m| format!("`{}`: {m}", cells[0]))?;
    Ok((price, cells[COLUMNS.len()..].to_vec()))
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

/// One `[[beta_window]]`, read and checked: what it does to each entry it names.
pub(crate) struct Window {
    /// The entries (LiteLLM keys) it applies to.
    pub entries: Vec<String>,
    window: BetaWindow,
    standard_window: Option<u64>,
    tier: Option<Tier>,
}

impl Window {
    /// Open the window on `price`: the beta window, the standard one when the file gives
    /// it, and the tier when the entry lists none at that threshold.
    pub fn apply(&self, price: &mut ModelPrice) {
        price.beta_window = Some(self.window.clone());
        if let Some(standard) = self.standard_window {
            price.context_window = Some(standard);
        }
        if let Some(t) = &self.tier
            && !price.tiers.iter().any(|have| have.above == t.above)
        {
            price.tiers.push(t.clone());
            price.tiers.sort_by_key(|t| t.above);
        }
    }

    /// The error for an entry it names that no price data lists.
    pub fn unknown_entry(&self, key: &str, what: &str) -> PriceError {
        PriceError::Toml {
            what: what.to_string(),
            message: format!("beta window for `{key}`, which no price data lists"),
        }
    }
}

/// The beta windows of a `prism.toml`, in the file's order (a later one wins where two
/// name the same entry).
pub(crate) fn beta_windows(text: &str, what: &str) -> Result<Vec<Window>, PriceError> {
    let file: PrismFile = toml::from_str(text).map_err(|e| PriceError::Toml {
        what: what.to_string(),
        message: e.message().to_string(),
    })?;
    let mut windows = Vec::with_capacity(file.beta_window.len());
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
        windows.push(Window {
            window: BetaWindow {
                beta: w.beta,
                context_window: w.context_window,
            },
            standard_window: w.standard_window,
            tier,
            entries: w.entries,
        });
    }
    Ok(windows)
}
