//! Which tools each scoreboard row called, and whether its targets agree.
//!
//! A run's *choice* is its tool calls in order: each call's name and arguments, the
//! arguments compared as parsed JSON (key order and whitespace never make two choices
//! different; arguments that are not JSON compare as the text sent). A row's choice is
//! the most common one over its successful runs (ties go to the earliest run), with how
//! many runs made it. Within a variant, the *reference* is the choice most of its targets
//! made (ties go to the first target), and every other row is `same` or `different`
//! from it, with a word diff of the two.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::report::ToolCallRow;
use crate::session::compare::{Chunk, word_diff};

/// One row's tool choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolChoice {
    /// The tools of the row's most common choice, in call order; empty when it called none.
    pub calls: Vec<String>,
    /// Their arguments, parsed (a string when they were not JSON).
    pub arguments: Vec<Value>,
    /// Successful runs that made this choice...
    pub runs: usize,
    /// ...of this many successful runs.
    pub of: usize,
    /// How it compares with its variant's reference choice.
    pub verdict: Verdict,
    /// The target whose choice is the reference, when this row is not it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When `different`: a word diff of the reference's calls (`[-...-]`) against this
    /// row's (`{+...+}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// A row's choice against its variant's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// This row's choice is the reference.
    Reference,
    /// The same tools with the same arguments as the reference.
    Same,
    /// Other tools, or other arguments.
    Different,
    /// No successful run to compare.
    Unknown,
}

impl Verdict {
    /// The word the tables show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reference => "ref",
            Self::Same => "same",
            Self::Different => "different",
            Self::Unknown => "-",
        }
    }
}

impl ToolChoice {
    /// The table cell: `get_weather 3/3 same`, `none 2/2 ref`.
    pub fn cell(&self) -> String {
        if self.of == 0 {
            return "-".into();
        }
        format!(
            "{} {}/{} {}",
            self.names(),
            self.runs,
            self.of,
            self.verdict.as_str()
        )
    }

    /// The tools called, `+` between them, repeats counted: `get_weather×2+get_time`.
    pub fn names(&self) -> String {
        if self.calls.is_empty() {
            return "none".into();
        }
        let mut parts: Vec<(String, usize)> = Vec::new();
        for c in &self.calls {
            match parts.last_mut() {
                Some((name, n)) if name == c => *n += 1,
                _ => parts.push((c.clone(), 1)),
            }
        }
        parts
            .iter()
            .map(|(name, n)| {
                if *n > 1 {
                    format!("{name}×{n}")
                } else {
                    name.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// One run's calls in a comparable form: name and canonical arguments per call.
type Key = Vec<(String, String)>;

/// The comparable form of one run's calls.
fn key(calls: &[ToolCallRow]) -> Key {
    calls
        .iter()
        .map(|c| {
            (
                c.name.clone().unwrap_or_default(),
                canonical(&parse(&c.arguments)),
            )
        })
        .collect()
}

/// Arguments as JSON, or as a string when they are not JSON.
fn parse(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_string()))
}

/// One line of JSON with sorted keys and a space after every `,` and `:`, so that equal
/// values print the same and a word diff has words to work with.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String((*k).clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        leaf => leaf.to_string(),
    }
}

/// The calls as one line for the diff: `get_weather {"city": "Paris"}; get_time {}`.
fn line(k: &Key) -> String {
    if k.is_empty() {
        return "(no tool call)".into();
    }
    k.iter()
        .map(|(name, args)| format!("{name} {args}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `[-removed-]{+added+}` inline, as `git diff --word-diff` prints it; changes apart
/// only by spaces are one change, so a replaced call reads as one.
fn inline_diff(chunks: &[Chunk]) -> String {
    let mut out = String::new();
    let (mut removed, mut added) = (String::new(), String::new());
    let flush = |out: &mut String, removed: &mut String, added: &mut String| {
        if !removed.is_empty() {
            out.push_str(&format!("[-{removed}-]"));
        }
        if !added.is_empty() {
            out.push_str(&format!("{{+{added}+}}"));
        }
        removed.clear();
        added.clear();
    };
    for (i, c) in chunks.iter().enumerate() {
        match c {
            Chunk::Removed(t) => removed.push_str(t),
            Chunk::Added(t) => added.push_str(t),
            Chunk::Same(t)
                if t.trim().is_empty()
                    && !(removed.is_empty() && added.is_empty())
                    && chunks.get(i + 1).is_some_and(|n| !matches!(n, Chunk::Same(_))) =>
            {
                for side in [&mut removed, &mut added] {
                    if !side.is_empty() {
                        side.push_str(t);
                    }
                }
            }
            Chunk::Same(t) => {
                flush(&mut out, &mut removed, &mut added);
                out.push_str(t);
            }
        }
    }
    flush(&mut out, &mut removed, &mut added);
    out
}

/// The most common of `keys` (ties to the earliest) and how many times it occurs.
fn most_common<'a>(keys: impl IntoIterator<Item = &'a Key>) -> Option<(&'a Key, usize)> {
    let mut counts: Vec<(&Key, usize)> = Vec::new();
    for k in keys {
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    // `max_by_key` keeps the last of equals: walk backwards so the earliest wins.
    counts.into_iter().rev().max_by_key(|(_, n)| *n)
}

/// One scoreboard row's runs, for [`compare`].
pub struct RowCalls<'a> {
    /// The variant the row belongs to; rows are compared within their variant.
    pub variant: Option<usize>,
    /// The target's name.
    pub target: String,
    /// The tool calls of each successful run.
    pub runs: Vec<&'a [ToolCallRow]>,
}

/// Each row's choice, compared within its variant; `None` for every row when no run
/// called a tool (the scoreboard then has no tools column).
pub fn compare(rows: &[RowCalls<'_>]) -> Vec<Option<ToolChoice>> {
    if rows.iter().all(|r| r.runs.iter().all(|c| c.is_empty())) {
        return vec![None; rows.len()];
    }
    let keys: Vec<Vec<Key>> = rows
        .iter()
        .map(|r| r.runs.iter().map(|c| key(c)).collect())
        .collect();
    let chosen: Vec<Option<(&Key, usize)>> = keys.iter().map(most_common).collect();
    // The reference of each variant: the choice most of its rows made.
    let mut variants: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        variants.entry(r.variant).or_default().push(i);
    }
    let mut reference: BTreeMap<Option<usize>, (usize, &Key)> = BTreeMap::new();
    for (variant, members) in &variants {
        let with: Vec<usize> = members.iter().copied().filter(|&i| chosen[i].is_some()).collect();
        if let Some((k, _)) = most_common(with.iter().filter_map(|&i| chosen[i].map(|c| c.0)))
            && let Some(&first) = with.iter().find(|&&i| chosen[i].map(|c| c.0) == Some(k))
        {
            reference.insert(*variant, (first, k));
        }
    }
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let of = r.runs.len();
            let Some((k, runs)) = chosen[i] else {
                return Some(ToolChoice {
                    calls: Vec::new(),
                    arguments: Vec::new(),
                    runs: 0,
                    of,
                    verdict: Verdict::Unknown,
                    reference: None,
                    diff: None,
                });
            };
            let (verdict, against) = match reference.get(&r.variant) {
                Some((at, _)) if *at == i => (Verdict::Reference, None),
                Some((at, rk)) if *rk == k => (Verdict::Same, Some((*at, *rk))),
                Some((at, rk)) => (Verdict::Different, Some((*at, *rk))),
                None => (Verdict::Unknown, None),
            };
            // The arguments of a run that made the choice, as that run sent them.
            let example = r
                .runs
                .iter()
                .zip(&keys[i])
                .find(|(_, rk)| *rk == k)
                .map(|(c, _)| *c);
            Some(ToolChoice {
                calls: k.iter().map(|(name, _)| name.clone()).collect(),
                arguments: example
                    .unwrap_or_default()
                    .iter()
                    .map(|c| parse(&c.arguments))
                    .collect(),
                runs,
                of,
                verdict,
                reference: against.map(|(at, _)| rows[at].target.clone()),
                diff: against
                    .filter(|_| verdict == Verdict::Different)
                    .map(|(_, rk)| inline_diff(&word_diff(&line(rk), &line(k)))),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn call(name: &str, arguments: &str) -> ToolCallRow {
        ToolCallRow {
            id: None,
            name: Some(name.into()),
            arguments: arguments.into(),
        }
    }

    fn row<'a>(variant: usize, target: &str, runs: &[&'a [ToolCallRow]]) -> RowCalls<'a> {
        RowCalls {
            variant: Some(variant),
            target: target.into(),
            runs: runs.to_vec(),
        }
    }

    #[test]
    fn arguments_compare_as_json_not_as_text() {
        let a = [call("get_weather", r#"{"city":"Paris","unit":"c"}"#)];
        let b = [call("get_weather", "{ \"unit\": \"c\",\n  \"city\": \"Paris\" }")];
        let c = [call("get_weather", r#"{"city":"paris","unit":"c"}"#)];
        let out = compare(&[
            row(0, "gpt", &[&a]),
            row(0, "claude", &[&b]),
            row(0, "gemini", &[&c]),
        ]);
        let verdicts: Vec<_> = out.iter().map(|c| c.as_ref().unwrap().verdict).collect();
        assert_eq!(verdicts, [Verdict::Reference, Verdict::Same, Verdict::Different]);
        let gemini = out[2].as_ref().unwrap();
        assert_eq!(gemini.reference.as_deref(), Some("gpt"));
        assert_eq!(
            gemini.diff.as_deref(),
            Some(r#"get_weather {"city": [-"Paris",-]{+"paris",+} "unit": "c"}"#)
        );
        assert_eq!(gemini.cell(), "get_weather 1/1 different");
        assert_eq!(out[1].as_ref().unwrap().diff, None, "same has no diff");
    }

    #[test]
    fn the_reference_is_the_choice_most_targets_made() {
        let paris = [call("get_weather", r#"{"city":"Paris"}"#)];
        let none: [ToolCallRow; 0] = [];
        let out = compare(&[
            row(0, "a", &[&none, &none]),
            row(0, "b", &[&paris, &none, &paris]),
            row(0, "c", &[&paris]),
            // Another variant is compared on its own.
            row(1, "a", &[&none]),
        ]);
        let b = out[1].as_ref().unwrap();
        assert_eq!((b.verdict, b.runs, b.of), (Verdict::Reference, 2, 3));
        assert_eq!(b.cell(), "get_weather 2/3 ref");
        assert_eq!(b.arguments, [serde_json::json!({"city": "Paris"})]);
        let a = out[0].as_ref().unwrap();
        assert_eq!(
            (a.verdict, a.cell().as_str()),
            (Verdict::Different, "none 2/2 different")
        );
        assert_eq!(
            a.diff.as_deref(),
            Some(r#"[-get_weather {"city": "Paris"}-]{+(no tool call)+}"#)
        );
        assert_eq!(out[2].as_ref().unwrap().verdict, Verdict::Same);
        assert_eq!(out[3].as_ref().unwrap().verdict, Verdict::Reference);
    }

    #[test]
    fn no_tool_calls_anywhere_is_no_comparison_and_ties_go_to_the_first_target() {
        let none: [ToolCallRow; 0] = [];
        assert_eq!(
            compare(&[row(0, "a", &[&none]), row(0, "b", &[&none])]),
            [None, None]
        );
        let x = [call("f", "{}"), call("f", ""), call("g", "not json")];
        let y = [call("g", "{}")];
        let out = compare(&[row(0, "a", &[&x]), row(0, "b", &[&y]), row(0, "c", &[])]);
        let a = out[0].as_ref().unwrap();
        assert_eq!((a.verdict, a.names().as_str()), (Verdict::Reference, "f×2+g"));
        assert_eq!(a.arguments[2], Value::String("not json".into()));
        assert_eq!(out[1].as_ref().unwrap().verdict, Verdict::Different);
        assert_eq!(out[2].as_ref().unwrap().cell(), "-", "no successful run");
    }
}
