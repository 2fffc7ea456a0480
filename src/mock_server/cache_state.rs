//! Prompt caching as the providers do it, within the server's lifetime.
//!
//! The server remembers the prompt prefixes it has seen per (provider, model). Anthropic
//! and Bedrock cache only up to a marker (`cache_control`, `cachePoint`): the first request
//! with a marked prefix reports it as a cache write (split by TTL for Anthropic), a later
//! one reads the longest marked prefix seen before and writes the rest. The others cache
//! by themselves: a repeat of a prompt prefix of at least [`MIN_CACHED`] tokens reports
//! that prefix (in 128-token steps, OpenAI's rule) as cached input. Entries never expire
//! (a test server lives for seconds). A script's own `cached` or `cache_write` wins.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::PoisonError;

use serde_json::Value;

use super::common::{Ctx, PER_MESSAGE_TOKENS, content_text};
use super::plan::Usage;

/// The shortest prefix any provider caches (OpenAI's and Anthropic's Sonnet minimum).
pub const MIN_CACHED: usize = 1024;

/// Automatic caches hit in steps of this many tokens.
const STEP: usize = 128;

/// Prefixes seen so far: (provider, model, hash of the prefix).
#[derive(Default)]
pub struct Memory {
    seen: HashSet<(&'static str, String, u64)>,
}

/// One piece of the prompt in the order the provider reads it, ending at a point where a
/// cached prefix may end.
struct Piece {
    /// Tokens of the whole prompt up to and including this piece.
    tokens: usize,
    /// Hash of the whole prompt up to and including this piece.
    hash: u64,
    /// The request marks the prefix ending here: `Some(one_hour)`.
    marker: Option<bool>,
}

/// Set the cache counts of `usage` for this request and remember its prefixes.
pub fn adjust(kind: &'static str, ctx: &Ctx, memory: &std::sync::Mutex<Memory>, usage: &mut Usage) {
    if ctx.script.cached > 0 || ctx.script.cache_write > 0 {
        return;
    }
    let marked = matches!(kind, "anthropic" | "bedrock");
    let pieces = if marked {
        marked_pieces(kind, &ctx.request)
    } else {
        ctx.parsed.texts.iter().map(|t| (t.clone(), true, None)).collect()
    };
    let pieces = accumulate(pieces, usage.input);
    let mut memory = memory.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = |p: &Piece| memory.seen.contains(&(kind, ctx.model.clone(), p.hash));
    let eligible: Vec<&Piece> = pieces
        .iter()
        .filter(|p| p.tokens >= MIN_CACHED && (!marked || p.marker.is_some()))
        .collect();
    let read = eligible
        .iter()
        .filter(|p| seen(p))
        .map(|p| p.tokens)
        .max()
        .unwrap_or(0);
    if marked {
        let last = eligible.last();
        let write = last.map_or(0, |p| p.tokens.saturating_sub(read));
        usage.cached = read;
        usage.cache_write = write;
        usage.cache_write_1h = if last.and_then(|p| p.marker) == Some(true) {
            write
        } else {
            0
        };
    } else {
        usage.cached = read / STEP * STEP;
    }
    for p in eligible {
        memory.seen.insert((kind, ctx.model.clone(), p.hash));
    }
}

/// Pieces of an Anthropic or Bedrock request: tools (as their JSON), system blocks, then
/// message content blocks, each with the marker that ends a prefix there:
/// `(text, starts a message, Some(one_hour) when marked)`.
fn marked_pieces(kind: &str, body: &Value) -> Vec<(String, bool, Option<bool>)> {
    let tools = match kind {
        "bedrock" => body.pointer("/toolConfig/tools"),
        _ => body.get("tools"),
    };
    let blocks = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::String(s)) => vec![Value::String(s.clone())],
            _ => Vec::new(),
        }
    };
    let mut out: Vec<(String, bool, Option<bool>)> = Vec::new();
    let mut push = |block: &Value, text: String, starts: bool| {
        // A Bedrock `cachePoint` block marks the prefix that ends just before it.
        if let Some(point) = block.get("cachePoint") {
            if let Some(last) = out.last_mut() {
                last.2 = Some(point.get("ttl").and_then(Value::as_str) == Some("1h"));
            }
            return;
        }
        // Anthropic's `cache_control` sits on the block the prefix ends with.
        let marker = block
            .get("cache_control")
            .map(|c| c.get("ttl").and_then(Value::as_str) == Some("1h"));
        out.push((text, starts, marker));
    };
    for t in blocks(tools) {
        push(&t, t.to_string(), false);
    }
    for b in blocks(body.get("system")) {
        push(&b, block_text(&b), false);
    }
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (i, b) in blocks(m.get("content")).iter().enumerate() {
            push(b, block_text(b), i == 0);
        }
    }
    out
}

fn block_text(b: &Value) -> String {
    match b {
        Value::String(s) => s.clone(),
        other => content_text(&Value::Array(vec![other.clone()])),
    }
}

/// Running token counts and hashes over the pieces, capped at the prompt's own count.
fn accumulate(pieces: Vec<(String, bool, Option<bool>)>, input: usize) -> Vec<Piece> {
    let mut hasher = DefaultHasher::new();
    let mut tokens = 0;
    pieces
        .into_iter()
        .map(|(text, starts_message, marker)| {
            text.hash(&mut hasher);
            tokens += crate::tokens::count_o200k(&text) + if starts_message { PER_MESSAGE_TOKENS } else { 0 };
            Piece {
                tokens: tokens.min(input),
                hash: hasher.finish(),
                marker,
            }
        })
        .collect()
}
