//! Recorded against new: per-target metric deltas and a word-level text diff.
//!
//! Both sides are read from result rows (the `prism run --format json` object), so a
//! recorded row and a fresh one compare field for field. A delta is `None` when either
//! side is unknown: an unknown number never turns into a 0.

use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::report::{ResultRow, Status};

/// The numbers compared, from one result row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Side {
    pub status: Option<Status>,
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub output_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub text: String,
}

impl Side {
    /// The compared numbers of a result row.
    pub fn of_row(row: &ResultRow) -> Self {
        Self {
            status: Some(row.status),
            ttft_ms: row.ttft_ms,
            tokens_per_s: row.tokens_per_s,
            output_tokens: row.usage.output_tokens,
            cost_usd: row.cost_usd,
            text: row.text.clone(),
        }
    }
}

/// New minus recorded, per metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Deltas {
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// `new − old` for every metric known on both sides.
pub fn deltas(old: &Side, new: &Side) -> Deltas {
    let d = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
    Deltas {
        ttft_ms: d(old.ttft_ms, new.ttft_ms).map(|v| round(v, 3)),
        tokens_per_s: d(old.tokens_per_s, new.tokens_per_s).map(|v| round(v, 2)),
        output_tokens: match (old.output_tokens, new.output_tokens) {
            (Some(a), Some(b)) => i64::try_from(b)
                .ok()
                .zip(i64::try_from(a).ok())
                .map(|(b, a)| b - a),
            _ => None,
        },
        cost_usd: d(old.cost_usd, new.cost_usd).map(|v| round(v, 9)),
    }
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// One run of words in a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "text", rename_all = "snake_case")]
pub enum Chunk {
    /// In both answers.
    Same(String),
    /// Only in the recorded answer.
    Removed(String),
    /// Only in the new answer.
    Added(String),
}

/// Word-level diff of `old` against `new`, adjacent words of one kind joined. Large
/// inputs get a time budget, after which the diff is coarser but still correct.
pub fn word_diff(old: &str, new: &str) -> Vec<Chunk> {
    let diff = TextDiff::configure()
        .deadline(Instant::now() + Duration::from_millis(200))
        .diff_words(old, new);
    let mut out: Vec<Chunk> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match (out.last_mut(), change.tag()) {
            (Some(Chunk::Same(s)), ChangeTag::Equal)
            | (Some(Chunk::Removed(s)), ChangeTag::Delete)
            | (Some(Chunk::Added(s)), ChangeTag::Insert) => s.push_str(text),
            (_, ChangeTag::Equal) => out.push(Chunk::Same(text.to_string())),
            (_, ChangeTag::Delete) => out.push(Chunk::Removed(text.to_string())),
            (_, ChangeTag::Insert) => out.push(Chunk::Added(text.to_string())),
        }
    }
    out
}

/// Share of the words that are the same in both (1.0 for identical answers).
pub fn similarity(old: &str, new: &str) -> f32 {
    TextDiff::configure()
        .deadline(Instant::now() + Duration::from_millis(200))
        .diff_words(old, new)
        .ratio()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded row: the fields every row has, plus `fields`.
    fn row(fields: serde_json::Value) -> ResultRow {
        let mut row = serde_json::json!({
            "target": "t", "provider": "openai", "model": "m", "status": "ok", "text": "",
            "usage": {"source": "provider"}, "itl_ms": {}, "retries": 0
        });
        for (k, v) in fields.as_object().unwrap() {
            row[k] = v.clone();
        }
        serde_json::from_value(row).unwrap()
    }

    #[test]
    fn deltas_are_new_minus_old_and_unknown_stays_unknown() {
        let old = Side::of_row(&row(serde_json::json!({
            "status": "ok", "ttft_ms": 200.0, "tokens_per_s": 50.0,
            "usage": {"output_tokens": 100, "source": "provider"}, "cost_usd": null, "text": "a"
        })));
        let new = Side::of_row(&row(serde_json::json!({
            "status": "ok", "ttft_ms": 150.5, "tokens_per_s": 60.25,
            "usage": {"output_tokens": 90, "source": "provider"}, "cost_usd": 0.001, "text": "b"
        })));
        let d = deltas(&old, &new);
        assert_eq!(d.ttft_ms, Some(-49.5));
        assert_eq!(d.tokens_per_s, Some(10.25));
        assert_eq!(d.output_tokens, Some(-10));
        assert_eq!(d.cost_usd, None);
    }

    #[test]
    fn word_diff_marks_changed_words_and_rebuilds_both_texts() {
        let old = "The quick brown fox jumps";
        let new = "The quick red fox leaps";
        let chunks = word_diff(old, new);
        let side = |keep_removed: bool| {
            chunks
                .iter()
                .filter_map(|c| match c {
                    Chunk::Same(s) => Some(s.as_str()),
                    Chunk::Removed(s) if keep_removed => Some(s.as_str()),
                    Chunk::Added(s) if !keep_removed => Some(s.as_str()),
                    _ => None,
                })
                .collect::<String>()
        };
        assert_eq!(side(true), old);
        assert_eq!(side(false), new);
        assert!(chunks.contains(&Chunk::Removed("brown".into())));
        assert!(chunks.contains(&Chunk::Added("red".into())));
        assert!((similarity(old, old) - 1.0).abs() < f32::EPSILON);
    }
}
