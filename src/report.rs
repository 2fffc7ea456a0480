//! One target's final result in the stable shape `prism run --format json/jsonl` prints.
//!
//! Unknown numbers are `null`, never 0. Usage `source` is `"provider"` only when both
//! the input and output counts came from the provider; otherwise the missing counts are
//! filled by the local tokenizer and the whole block is marked `"estimate"`.

use serde::Serialize;

use crate::engine::metrics::{Outcome, TargetRun};
use crate::pricing::PriceTable;
use crate::provider::request::ChatRequest;
use crate::provider::secret::mask;
use crate::target::Target;
use crate::tokens;

/// The JSON object printed per target. Field order is part of the contract.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResultRow {
    pub target: String,
    pub provider: String,
    pub model: String,
    pub status: &'static str,
    pub text: String,
    pub finish_reason: Option<&'static str>,
    pub finish_reason_raw: Option<String>,
    pub usage: UsageRow,
    pub ttft_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub itl_ms: ItlRow,
    pub tokens_per_s: Option<f64>,
    pub cost_usd: Option<f64>,
    pub http_status: Option<u16>,
    pub request_id: Option<String>,
    pub retries: u32,
    pub tool_calls: Option<Vec<ToolCallRow>>,
    pub error: Option<ErrorRow>,
    /// Request sent → first visible text, when reasoning came first. Shown in the table;
    /// not part of the JSON contract.
    #[serde(skip)]
    pub ttft_text_ms: Option<f64>,
    /// Protocol notes on an answer that is complete but arrived oddly (no `[DONE]` after
    /// the finish reason and usage...). Omitted when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Token counts and where they came from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct UsageRow {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cached_input_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
    pub source: &'static str,
}

/// Inter-token latency summary.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ItlRow {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
}

/// One tool call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ToolCallRow {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorRow {
    pub kind: &'static str,
    pub message: String,
}

fn ttft_text_ms(run: &TargetRun) -> Option<f64> {
    (run.first_text_at != run.first_content_at)
        .then(|| run.ttft_text().map(ms))
        .flatten()
}

/// Build the row for one finished (or abandoned) target.
pub fn row(target: &Target, request: &ChatRequest, run: &TargetRun, prices: &PriceTable) -> ResultRow {
    let usage = usage_row(request, run);
    let (status, error) = match &run.outcome {
        Some(Outcome::Done) => ("ok", None),
        Some(Outcome::Cancelled) => ("cancelled", None),
        Some(Outcome::Failed(e)) => (
            "error",
            Some(ErrorRow {
                kind: e.kind.as_str(),
                message: e.message.clone(),
            }),
        ),
        Some(Outcome::Running) | None => (
            "error",
            Some(ErrorRow {
                kind: "truncated",
                message: "the run ended before this target finished".into(),
            }),
        ),
    };
    let finish = run.finish_reason();
    let itl = run.itl();
    ResultRow {
        target: target.name.clone(),
        provider: target.provider.as_str().to_string(),
        model: target.model.clone(),
        status,
        // Each event was masked on arrival; a key split across events is only whole here.
        text: mask(&run.text).into_owned(),
        finish_reason: finish.map(|(r, _)| r.as_str()),
        finish_reason_raw: finish.and_then(|(_, raw)| raw.map(str::to_string)),
        usage,
        ttft_ms: run.ttft().map(ms),
        ttfb_ms: run.ttfb().map(ms),
        total_ms: run.total().map(ms),
        itl_ms: ItlRow {
            mean: itl.map(|s| round(s.mean, 3)),
            p50: itl.map(|s| round(s.p50, 3)),
            p95: itl.map(|s| round(s.p95, 3)),
        },
        tokens_per_s: run.tokens_per_s(usage.output_tokens).map(|v| round(v, 2)),
        // Priced from the same counts shown in `usage` (marked there when estimated); a
        // model with no known price has no cost, never 0.
        cost_usd: prices.lookup(target.provider, &target.model).and_then(|p| {
            let counted = crate::provider::event::Usage {
                input: usage.input_tokens,
                output: usage.output_tokens,
                cached_input: usage.cached_input_tokens,
                cache_write: usage.cache_write_tokens,
                reasoning: usage.reasoning_tokens,
            };
            p.cost(&counted).map(crate::pricing::usd)
        }),
        http_status: run.http_status,
        request_id: run.request_id.clone(),
        retries: run.retries,
        tool_calls: (!run.tool_calls.is_empty()).then(|| {
            run.tool_calls
                .iter()
                .map(|c| ToolCallRow {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    arguments: mask(&c.arguments).into_owned(),
                })
                .collect()
        }),
        error,
        ttft_text_ms: ttft_text_ms(run),
        notes: run.notes.clone(),
    }
}

fn usage_row(request: &ChatRequest, run: &TargetRun) -> UsageRow {
    let u = run.usage;
    let from_provider = u.input.is_some() && u.output.is_some();
    // A request that never reached the provider has no usage to estimate.
    let reached = run.http_status.is_some_and(|s| (200..300).contains(&s));
    let input = u.input.or_else(|| {
        reached.then(|| crate::preflight::prompt_tokens(crate::tokens::Encoding::O200k, request))
    });
    let output = u.output.or_else(|| reached.then(|| estimate_output_tokens(run)));
    UsageRow {
        input_tokens: input,
        output_tokens: output,
        cached_input_tokens: u.cached_input,
        cache_write_tokens: u.cache_write,
        reasoning_tokens: u.reasoning,
        source: if from_provider { "provider" } else { "estimate" },
    }
}

/// o200k count of everything the model produced.
pub fn estimate_output_tokens(run: &TargetRun) -> u64 {
    let tools: usize = run
        .tool_calls
        .iter()
        .map(|c| tokens::count_o200k(&c.arguments) + c.name.as_deref().map_or(0, tokens::count_o200k))
        .sum();
    (tokens::count_o200k(&run.text) + tokens::count_o200k(&run.reasoning) + tools) as u64
}

fn ms(d: std::time::Duration) -> f64 {
    round(d.as_secs_f64() * 1e3, 3)
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}
