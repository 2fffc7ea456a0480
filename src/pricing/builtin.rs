//! The built-in price data as a table, read lazily: on first use the compiled-in files
//! are only split into lines and indexed by key (the first column); a row becomes a
//! [`ModelPrice`] the first time something asks for it, and stays one.
//!
//! Parsing all 3,500-odd rows up front cost the workbench most of the time before its
//! first frame, which needs the prices of a handful of models. The result is exactly the
//! eager reading's ([`super::snapshot`]): the snapshot's entries, then retired ones it
//! lacks, then the beta windows of `prism.toml`; a test compares the two for every key.
//! A damaged row is an error for that test; at run time it prices nothing and is logged.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use super::snapshot::{self, COLUMNS, RETIRED_COLUMNS, Window};
use super::{ModelPrice, PriceError};

/// The built-in entries by key, and which snapshot they come from.
pub struct Builtin {
    /// `LiteLLM 1.110.2 (2026-11-30)`.
    pub label: String,
    /// Every entry by key: the snapshot's, then retired ones it lacks.
    rows: HashMap<&'static str, Row>,
    /// `prism.toml`'s beta windows, applied to each row they name as it is parsed.
    windows: Vec<Window>,
}

/// One entry's line, and the entry once it was asked for.
struct Row {
    line: &'static str,
    /// 1-based, for the log line when it is damaged.
    number: usize,
    retired: bool,
    /// `None` inside when the line is damaged. Boxed: most rows are never parsed, and an
    /// empty slot should cost a pointer, not a whole entry.
    price: OnceLock<Option<Box<ModelPrice>>>,
}

impl std::fmt::Debug for Builtin {
    // Thousands of entries: name the data, not its contents.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Builtin({}, {} entries)", self.label, self.rows.len())
    }
}

/// Built-in data is compiled in: two tables with the same label hold the same entries,
/// whichever rows either has parsed so far.
impl PartialEq for Builtin {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label
    }
}

impl Eq for Builtin {}

static BUILTIN: LazyLock<Result<Arc<Builtin>, String>> = LazyLock::new(|| {
    Builtin::index(
        snapshot::SNAPSHOT_TSV,
        snapshot::RETIRED_TSV,
        snapshot::PRISM_TOML,
    )
    .map(Arc::new)
    .map_err(|e| e.to_string())
});

/// The built-in entries, indexed on first use.
pub fn builtin() -> Result<Arc<Builtin>, PriceError> {
    BUILTIN.clone().map_err(PriceError::Builtin)
}

impl Builtin {
    /// Index the snapshot, the retired entries and the beta windows by key. What is
    /// checked here fails the whole table, as it always did: the headers, and that every
    /// entry a beta window names exists.
    pub(super) fn index(
        snapshot_tsv: &'static str,
        retired_tsv: &'static str,
        prism_toml: &str,
    ) -> Result<Self, PriceError> {
        let current = snapshot::lines(snapshot_tsv, snapshot::SNAPSHOT_WHAT, &COLUMNS)?;
        let retired = snapshot::lines(retired_tsv, snapshot::RETIRED_WHAT, &RETIRED_COLUMNS)?;
        let label = snapshot::label(|name| current.meta(name));
        let mut rows = HashMap::with_capacity(current.rows.len() + retired.rows.len());
        for (number, line) in current.rows {
            // A key listed twice is its last row's, as when every row was inserted.
            rows.insert(key(line), Row::new(line, number, false));
        }
        for (number, line) in retired.rows {
            // An entry back in the snapshot is the snapshot's.
            rows.entry(key(line))
                .or_insert_with(|| Row::new(line, number, true));
        }
        let windows = snapshot::beta_windows(prism_toml, snapshot::PRISM_WHAT)?;
        for w in &windows {
            if let Some(missing) = w.entries.iter().find(|k| !rows.contains_key(k.as_str())) {
                return Err(w.unknown_entry(missing, snapshot::PRISM_WHAT));
            }
        }
        Ok(Self { label, rows, windows })
    }

    /// The entry named `key`, parsed now if it was not yet.
    pub fn get(&self, key: &str) -> Option<&ModelPrice> {
        let (key, row) = self.rows.get_key_value(key)?;
        self.price(key, row)
    }

    /// Every entry, parsing those not parsed yet; in no particular order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &ModelPrice> {
        self.rows.iter().filter_map(|(key, row)| self.price(key, row))
    }

    /// Every entry's name and provider (its first two columns), parsing nothing; in no
    /// particular order.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rows
            .iter()
            .map(|(key, row)| (*key, row.line.split('\t').nth(1).unwrap_or_default()))
    }

    /// How many rows were parsed so far.
    #[cfg(test)]
    pub(super) fn parsed(&self) -> usize {
        self.rows.values().filter(|r| r.price.get().is_some()).count()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn price<'a>(&self, key: &str, row: &'a Row) -> Option<&'a ModelPrice> {
        row.price
            .get_or_init(|| match self.parse(key, row) {
                Ok(price) => Some(Box::new(price)),
                Err(e) => {
                    tracing::error!("{e}; the entry is left unpriced");
                    None
                }
            })
            .as_deref()
    }

    /// The row as the eager reading made it: its columns, where it comes from, and the
    /// beta windows naming it, in the file's order.
    fn parse(&self, key: &str, row: &Row) -> Result<ModelPrice, PriceError> {
        let (what, columns) = if row.retired {
            (snapshot::RETIRED_WHAT, &RETIRED_COLUMNS[..])
        } else {
            (snapshot::SNAPSHOT_WHAT, &COLUMNS[..])
        };
        let (mut price, extra) =
            snapshot::parse_row(row.line, columns).map_err(|m| snapshot::damaged(what, row.number, m))?;
        if row.retired {
            snapshot::retire(&mut price, &extra);
        } else {
            price.source = self.label.clone();
        }
        for w in &self.windows {
            for _ in w.entries.iter().filter(|k| *k == key) {
                w.apply(&mut price);
            }
        }
        Ok(price)
    }
}

impl Row {
    fn new(line: &'static str, number: usize, retired: bool) -> Self {
        Self {
            line,
            number,
            retired,
            price: OnceLock::new(),
        }
    }
}

/// A row's key: its first column.
fn key(line: &str) -> &str {
    line.split_once('\t').map_or(line, |(key, _)| key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_lazy_table_equals_the_eager_reading_for_every_entry() {
        // The eager reading parses every row: a damaged one fails here.
        let (label, eager) = snapshot::build_eager().unwrap();
        let lazy = builtin().unwrap();
        assert_eq!(lazy.label, label);
        assert_eq!(lazy.len(), eager.len());
        for (key, price) in &eager {
            assert_eq!(lazy.get(key), Some(price), "{key}");
        }
        // Iteration yields every entry once, and nothing the eager reading lacks; the
        // names read without parsing are the parsed entries' own.
        let mut seen: Vec<(&str, &str)> = lazy
            .iter()
            .map(|p| (p.entry.as_str(), p.provider.as_str()))
            .collect();
        seen.sort_unstable();
        let mut names: Vec<(&str, &str)> = lazy.names().collect();
        names.sort_unstable();
        let mut want: Vec<(&str, &str)> = eager
            .values()
            .map(|p| (p.entry.as_str(), p.provider.as_str()))
            .collect();
        want.sort_unstable();
        assert_eq!(seen, want);
        assert_eq!(names, want);
    }

    const HEADER: &str = "key\tprovider\tinput\toutput\tcache_read\tcache_write\tcache_write_1h\treasoning\tmax_input\tmax_output\ttiers\n";
    const RETIRED_HEADER: &str = "key\tprovider\tinput\toutput\tcache_read\tcache_write\tcache_write_1h\treasoning\tmax_input\tmax_output\ttiers\tlast_seen\tretired\n";

    fn leak(text: String) -> &'static str {
        Box::leak(text.into_boxed_str())
    }

    #[test]
    fn a_damaged_row_prices_nothing_and_the_eager_reading_names_its_line() {
        let text = leak(format!(
            "#@ source\tTest 1\n#@ taken\t2026-01-01\n{HEADER}good\tx\t1\t2\t\t\t\t\t\t\t\nbad\tx\tlots\t2\t\t\t\t\t\t\t\nshort\tx\t1\n"
        ));
        let retired = leak(RETIRED_HEADER.to_string());
        let table = Builtin::index(text, retired, "beta_window = []").unwrap();
        assert_eq!(table.label, "Test 1 (2026-01-01)");
        assert_eq!(table.len(), 3);
        assert_eq!(table.get("good").map(|p| (p.input, p.output)), Some((1, 2)));
        assert_eq!(table.get("bad"), None);
        assert_eq!(table.get("short"), None);
        assert_eq!(table.iter().count(), 1);
        let e = snapshot::parse(text, "t.tsv", &COLUMNS)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(e, "t.tsv:5: `bad`: input = \"lots\" is not a whole number");
    }

    #[test]
    fn retired_rows_yield_to_the_snapshot_and_beta_windows_must_name_an_entry() {
        let text = leak(format!("{HEADER}a\tx\t1\t2\t\t\t\t\t100\t\t\n"));
        let retired = leak(format!(
            "{RETIRED_HEADER}a\tx\t9\t9\t\t\t\t\t\t\t\told\tnew\nb\tx\t3\t4\t\t\t\t\t\t\t\told\tnew\n"
        ));
        let toml = "[[beta_window]]\nentries = [\"a\", \"b\"]\nbeta = \"wide\"\ncontext_window = 1000\nstandard_window = 50\n";
        let table = Builtin::index(text, retired, toml).unwrap();
        let a = table.get("a").unwrap();
        assert_eq!(
            (a.input, a.retired.as_deref(), a.source.as_str()),
            (1, None, "LiteLLM (undated)")
        );
        assert_eq!(
            (a.context_window, a.window_with(&["wide"])),
            (Some(50), Some(1000))
        );
        let b = table.get("b").unwrap();
        assert_eq!(
            (b.input, b.source.as_str(), b.retired.as_deref()),
            (3, "old", Some("new"))
        );
        assert_eq!(b.window_with(&["wide"]), Some(1000));
        let unknown = toml.replace("\"b\"", "\"c\"");
        assert_eq!(
            Builtin::index(text, retired, &unknown).err().unwrap().to_string(),
            "built-in prism.toml: beta window for `c`, which no price data lists"
        );
    }
}
