//! The price table: the built-in data, a user's LiteLLM map over it, and the config's
//! `[pricing]` overrides over both; and the lookup of a target's entry in it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::builtin::{self, Builtin};
use super::lookup::{PriceQuery, candidates, host_prefix};
use super::{LiteLlmMap, ModelPrice, PriceError};
use crate::target::{ProviderKind, Target};

/// All known prices. Cheap to clone: the built-in data and the user's map are shared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceTable {
    builtin: Option<Arc<Builtin>>,
    file: Option<Arc<UserMap>>,
    /// `[pricing."model"]`, by the model name as targets give it.
    overrides: BTreeMap<String, ModelPrice>,
}

/// A `pricing_file`'s entries.
#[derive(PartialEq, Eq)]
struct UserMap {
    what: String,
    entries: LiteLlmMap,
}

impl std::fmt::Debug for UserMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserMap({}, {} entries)", self.what, self.entries.len())
    }
}

/// Which price data a table holds, as a session records it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PriceData {
    /// The built-in snapshot: `LiteLLM 1.110.2 (2026-11-30)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// The `pricing_file` loaded over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_file: Option<String>,
    /// Models priced by the config's `[pricing]` tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
}

impl PriceTable {
    /// The built-in data: the LiteLLM snapshot and the entries it retired.
    pub fn builtin() -> Result<Self, PriceError> {
        Ok(Self {
            builtin: Some(builtin::builtin()?),
            ..Self::default()
        })
    }

    /// Load a user's LiteLLM map over the built-in data: an entry of the same name
    /// replaces the built-in one; every other entry keeps its own name.
    pub fn set_file(&mut self, what: impl Into<String>, entries: LiteLlmMap) {
        self.file = Some(Arc::new(UserMap {
            what: what.into(),
            entries,
        }));
    }

    /// Price `model` (as targets name it, or as a `price_as` names it) with `price`,
    /// whatever the data says.
    pub fn insert(&mut self, model: impl Into<String>, price: ModelPrice) {
        self.overrides.insert(model.into(), price);
    }

    /// The entry named `key` in the data (the user's map first), if its provider is one
    /// `accepts` takes.
    fn entry(&self, key: &str, accepts: impl Fn(&str) -> bool) -> Option<&ModelPrice> {
        let file = self.file.as_ref().and_then(|f| f.entries.get(key));
        let builtin = self.builtin.as_ref().and_then(|b| b.get(key));
        // An entry that names no provider is taken by whoever asks for it by name.
        [file, builtin]
            .into_iter()
            .flatten()
            .find(|p| p.provider.is_empty() || accepts(&p.provider))
    }

    /// The entry named exactly `key` (a LiteLLM key, or a `[pricing]` model), whoever lists it.
    pub fn get(&self, key: &str) -> Option<&ModelPrice> {
        self.overrides.get(key).or_else(|| self.entry(key, |_| true))
    }

    /// The price that applies to `q`: the entry `price_as` names; else a `[pricing]`
    /// table for the model; else the first of the kind's candidate entries.
    pub fn find(&self, q: &PriceQuery<'_>) -> Option<&ModelPrice> {
        if let Some(name) = q.price_as {
            return self.get(name);
        }
        if let Some(p) = self.overrides.get(q.bare_model()) {
            return Some(p);
        }
        candidates(q)
            .iter()
            .find_map(|c| self.entry(&c.key, |p| c.accepts(p)))
    }

    /// The price of `target`'s model, by its kind, model, `price_as` and host.
    pub fn for_target(&self, target: &Target) -> Option<&ModelPrice> {
        self.find(&query(target))
    }

    /// The price of what `target` ran, once its response named the model that served it
    /// (`served`): an Azure deployment is priced as that model when its `price_as` does
    /// not say.
    pub fn for_answer(&self, target: &Target, served: Option<&str>) -> Option<&ModelPrice> {
        self.find(&PriceQuery {
            served,
            ..query(target)
        })
    }

    /// The price of `model` under `provider` (without a target's `price_as` or host; see
    /// [`PriceTable::for_target`]).
    pub fn lookup(&self, provider: ProviderKind, model: &str) -> Option<&ModelPrice> {
        self.find(&PriceQuery::new(provider, model))
    }

    /// The known name closest to what `q` asks for, when it is close enough to be a typo:
    /// among the names its kind and host could use (every name, for a `price_as`).
    pub fn suggest(&self, q: &PriceQuery<'_>) -> Option<String> {
        let wanted = q.price_as.unwrap_or_else(|| q.bare_model());
        super::suggest::closest(
            wanted,
            self.names()
                .filter_map(|(entry, provider)| name_for(q, entry, provider)),
        )
    }

    /// Every entry's name and provider: overrides, the user's map, the built-in data (a
    /// name may repeat). Built-in rows are not parsed for it: a config naming a model no
    /// data lists (a local server's) would otherwise parse them all before the first frame.
    fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        fn of(p: &ModelPrice) -> (&str, &str) {
            (p.entry.as_str(), p.provider.as_str())
        }
        let overrides = self.overrides.values().map(of);
        let file = self.file.iter().flat_map(|f| f.entries.values()).map(of);
        let builtin = self.builtin.iter().flat_map(|b| b.names());
        overrides.chain(file).chain(builtin)
    }

    /// Which data this table holds; `None` when it holds none.
    pub fn data(&self) -> Option<PriceData> {
        let data = PriceData {
            builtin: self.builtin.as_ref().map(|b| b.label.clone()),
            pricing_file: self.file.as_ref().map(|f| f.what.clone()),
            overrides: self.overrides.keys().cloned().collect(),
        };
        (data != PriceData::default()).then_some(data)
    }

    /// Number of entries known (a name in two layers counts twice).
    pub fn len(&self) -> usize {
        self.overrides.len()
            + self.file.as_ref().map_or(0, |f| f.entries.len())
            + self.builtin.as_ref().map_or(0, |b| b.len())
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What `target` says about its price.
pub fn query(target: &Target) -> PriceQuery<'_> {
    PriceQuery {
        kind: target.provider,
        model: &target.model,
        price_as: target.params.price_as.as_deref(),
        base_url: Some(&target.base_url),
        served: None,
    }
}

/// The name `q` would give to reach the entry `entry` of `provider`, if its kind and host
/// can reach it at all.
fn name_for(q: &PriceQuery<'_>, entry: &str, provider: &str) -> Option<String> {
    let under = |prefix: &str| {
        entry
            .strip_prefix(prefix)
            .and_then(|e| e.strip_prefix('/'))
            .map(str::to_string)
    };
    if q.price_as.is_some() {
        return Some(entry.to_string());
    }
    match (q.kind, q.base_url.and_then(host_prefix)) {
        (ProviderKind::OpenAi | ProviderKind::OpenAiCompatible, Some(prefix)) => under(prefix),
        (ProviderKind::OpenAiCompatible, None) => Some(entry.to_string()),
        (ProviderKind::OpenAi, None) => (provider == "openai").then(|| entry.to_string()),
        (ProviderKind::Anthropic, _) => (provider == "anthropic").then(|| entry.to_string()),
        (ProviderKind::Gemini, _) => {
            (provider == "gemini").then(|| under("gemini").unwrap_or_else(|| entry.to_string()))
        }
        (ProviderKind::Bedrock, _) => {
            matches!(provider, "bedrock" | "bedrock_converse").then(|| entry.to_string())
        }
        (ProviderKind::Azure, _) => {
            (provider == "azure").then(|| under("azure").unwrap_or_else(|| entry.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pricing::snapshot::{PRISM_TOML, RETIRED_TSV, SNAPSHOT_TSV};

    #[test]
    fn a_lookup_parses_the_rows_it_tries_and_a_suggestion_parses_none() {
        let fresh = Builtin::index(SNAPSHOT_TSV, RETIRED_TSV, PRISM_TOML).unwrap();
        let table = PriceTable {
            builtin: Some(Arc::new(fresh)),
            ..PriceTable::default()
        };
        let parsed = || table.builtin.as_ref().map_or(0, |b| b.parsed());
        assert_eq!(parsed(), 0, "nothing is parsed up front");
        let typo = PriceQuery::new(ProviderKind::OpenAi, "gpt-4o-mini-2024-07-81");
        assert_eq!(table.suggest(&typo).as_deref(), Some("gpt-4o-mini-2024-07-18"));
        assert_eq!(parsed(), 0, "names are read without parsing rows");
        let p = table.lookup(ProviderKind::Anthropic, "claude-haiku-4-5").unwrap();
        assert_eq!(p.entry, "claude-haiku-4-5");
        assert_eq!(parsed(), 1);
        assert_eq!(table.len(), PriceTable::builtin().unwrap().len());
    }
}
