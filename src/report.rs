//! One target's final result in the stable shape `prism run --format json/jsonl` prints.
//!
//! Unknown numbers are `null`, never 0. Usage `source` is `"provider"` only when both
//! the input and output counts came from the provider; otherwise the missing counts are
//! filled by the local tokenizer and the whole block is marked `"estimate"`.
//!
//! The same row is what a session records for each finished target, so it reads back
//! too: fields every recorded row has are required (a row without them is damage, refused
//! at its line), `Option` fields read a missing value as unknown, and fields added after
//! sessions first shipped default to empty.

use serde::{Deserialize, Serialize};

use crate::engine::metrics::{Outcome, TargetRun};
use crate::pricing::PriceTable;
use crate::provider::event::{ErrorKind, FinishReason};
use crate::provider::request::ChatRequest;
use crate::provider::secret::mask;
use crate::provider::server::ServerReport;
use crate::target::Target;
use crate::tokens;

/// The JSON object printed per target. Field order is part of the contract.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultRow {
    pub target: String,
    pub provider: String,
    pub model: String,
    pub status: Status,
    pub text: String,
    /// The refusal message the provider sent apart from the answer (OpenAI `refusal`).
    /// Omitted when it sent none, like every field added after sessions first shipped,
    /// so recorded rows round-trip unchanged. An Anthropic refusal has no message of its
    /// own: its `finish_reason` alone says `refusal`, and what streamed before stays in
    /// `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    pub finish_reason: Option<FinishReason>,
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
    /// the finish reason and usage...). Omitted when there are none, and absent from rows
    /// recorded before notes existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What the server reported about its own work (llama.cpp timings, Groq queue and
    /// generation times, OpenRouter cost and generation id), beside Prism's numbers.
    /// Omitted when the server said nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerReport>,
    /// Where the request went, when the base URL came from an environment variable
    /// (`OPENAI_BASE_URL`...) rather than the config. Omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointRow>,
    /// Which price `cost_usd` was computed at. Omitted when there is no cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceRow>,
    /// How the answer arrived, beyond the chunk gaps of `itl_ms`. Omitted before a second
    /// content event, and absent from rows recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<ArrivalRow>,
    /// Whether the answer follows the JSON Schema the send carried (a failed or
    /// cancelled target's is `false`: there is no answer). Omitted, with
    /// `schema_errors`, when no schema was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_valid: Option<bool>,
    /// Why not: at most three `{path, reason}`, `path` a JSON pointer into the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_errors: Option<Vec<crate::schema::SchemaError>>,
    /// Prompt-cache reads and writes and what they saved. Omitted when the target marks
    /// nothing cacheable and the provider reported no cache tokens, and absent from rows
    /// recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheRow>,
    /// Requests the answer took: 2 when the first ended in tool calls and canned results
    /// went back in a follow-up round. Omitted for a single round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u32>,
    /// Each round's own usage as the provider reported it (`usage` and `cost_usd` are
    /// their sum). Omitted for a single round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_usage: Option<Vec<crate::provider::event::Usage>>,
    /// The results the follow-up round sent, one per call: `{call_id, name, content,
    /// canned}` (`canned: false` for the error sent in place of a missing result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_results: Option<Vec<crate::provider::event::SentResult>>,
}

/// Prompt-cache tokens of one answer and their effect on its cost.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct CacheRow {
    /// Input tokens read from the cache (`usage.cached_input_tokens`).
    pub read_tokens: Option<u64>,
    /// Input tokens written to the cache (`usage.cache_write_tokens`).
    pub write_tokens: Option<u64>,
    /// Of `write_tokens`, those written for an hour (Anthropic), priced apart. Omitted
    /// when the provider does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_1h_tokens: Option<u64>,
    /// What the same input would have cost without caching minus what it cost: positive
    /// when reads saved money, negative when writes cost more than they saved. `null`
    /// when the price or the cache counts are unknown, never 0.
    pub saved_usd: Option<f64>,
}

/// How an answer arrived (see the README's Metrics).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ArrivalRow {
    /// The longest silence between two content events.
    pub longest_gap_ms: f64,
    /// The share of the answer's bytes that arrived within 1 ms of the content before them.
    pub burst_share: f64,
    /// First to last content over the gaps between the output tokens; `null` when the
    /// count is unknown or below two.
    pub itl_per_token_ms: Option<f64>,
}

/// The rate a row's cost was computed at, for a details view to show.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PriceRow {
    /// The price data: `LiteLLM 1.110.2 (2026-11-30)`, a `pricing_file`, the config.
    pub source: String,
    /// The entry in it: `claude-haiku-4-5`, `groq/llama-3.3-70b-versatile`.
    pub entry: String,
    /// `base`, or `above N` when the input passed a tier's threshold of N tokens.
    pub tier: String,
    /// When the entry is retired: the snapshot that no longer lists it (its last known
    /// prices applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<String>,
    /// The server's own cost (`server.cost_usd`, OpenRouter) minus `cost_usd`, when both
    /// are known: how far Prism's price is from what the provider charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_diff_usd: Option<f64>,
}

/// A base URL taken from the environment, and the variable it came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointRow {
    pub base_url: String,
    pub env: String,
}

/// How a target's run ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The answer arrived complete.
    Ok,
    /// The request or the stream failed (the row's `error` says how).
    Error,
    /// The user cancelled it.
    Cancelled,
}

impl Status {
    /// The stable lower-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Where a row's token counts came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UsageSource {
    /// The provider reported both the input and the output count.
    Provider,
    /// At least one count is the local o200k tokenizer's.
    Estimate,
}

impl UsageSource {
    /// The stable lower-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Estimate => "estimate",
        }
    }
}

/// Token counts and where they came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct UsageRow {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cached_input_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    /// Of `cache_write_tokens`, those written for an hour (Anthropic), priced apart.
    /// Omitted when the provider does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
    pub source: UsageSource,
}

/// Inter-token latency summary.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ItlRow {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
}

/// One tool call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ToolCallRow {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorRow {
    pub kind: ErrorKind,
    pub message: String,
}

fn ttft_text_ms(run: &TargetRun) -> Option<f64> {
    (run.first_text_at != run.first_content_at)
        .then(|| run.ttft_text().map(ms))
        .flatten()
}

/// Build the row for one finished (or abandoned) target.
pub fn row(target: &Target, request: &ChatRequest, run: &TargetRun, prices: &PriceTable) -> ResultRow {
    let usage = usage_row(&crate::preflight::as_sent(target, request), run);
    let (status, error) = match &run.outcome {
        Some(Outcome::Done) => (Status::Ok, None),
        Some(Outcome::Cancelled) => (Status::Cancelled, None),
        Some(Outcome::Failed(e)) => (
            Status::Error,
            Some(ErrorRow {
                kind: e.kind,
                message: e.message.clone(),
            }),
        ),
        Some(Outcome::Running) | None => (
            Status::Error,
            Some(ErrorRow {
                kind: ErrorKind::Truncated,
                message: "the run ended before this target finished".into(),
            }),
        ),
    };
    let finish = run.finish_reason();
    let itl = run.itl();
    let served = run.server.as_ref().and_then(|s| s.model.as_deref());
    // Priced from the same counts shown in `usage` (marked there when estimated); a model
    // with no known price has no cost, never 0.
    let charge = prices.for_answer(target, served).and_then(|p| {
        let counted = crate::provider::event::Usage {
            input: usage.input_tokens,
            output: usage.output_tokens,
            cached_input: usage.cached_input_tokens,
            cache_write: usage.cache_write_tokens,
            cache_write_1h: usage.cache_write_1h_tokens,
            reasoning: usage.reasoning_tokens,
        };
        p.charge(&counted)
            .map(|c| (p, c, crate::pricing::cache_saving(p, &counted)))
    });
    let mut notes = run.notes.clone();
    // Only an answer that used tokens lacks a cost.
    let used = usage.input_tokens.is_some() || usage.output_tokens.is_some();
    notes.extend(unpriced_deployment(target, served, charge.is_some() || !used));
    let mut row = ResultRow {
        target: target.name.clone(),
        provider: target.provider.as_str().to_string(),
        model: target.model.clone(),
        status,
        // Each event was masked on arrival; a key split across events is only whole here.
        text: mask(&run.text).into_owned(),
        refusal: run.refusal.as_deref().map(|r| mask(r).into_owned()),
        finish_reason: finish.map(|(r, _)| r),
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
        cost_usd: charge.map(|(_, c, _)| crate::pricing::usd(c.cost)),
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
        notes,
        server: run.server.clone(),
        endpoint: target.params.base_url_source.env_var().map(|env| EndpointRow {
            base_url: target.base_url.clone(),
            env: env.to_string(),
        }),
        price: charge.map(|(p, c, _)| price_row(p, c, run.server.as_ref())),
        arrival: run
            .burst_share()
            .zip(run.longest_gap())
            .map(|(share, gap)| ArrivalRow {
                longest_gap_ms: ms(gap),
                burst_share: round(share, 3),
                itl_per_token_ms: run.itl_per_token(usage.output_tokens).map(|d| round(ms(d), 3)),
            }),
        cache: cache_row(target, &usage, charge.and_then(|(_, _, saved)| saved)),
        schema_valid: None,
        schema_errors: None,
        rounds: (run.tool_rounds.count() > 1).then(|| run.tool_rounds.count()),
        round_usage: (run.tool_rounds.count() > 1).then(|| run.tool_rounds.parts()),
        tool_results: (!run.tool_rounds.sent.is_empty()).then(|| {
            run.tool_rounds
                .sent
                .iter()
                .flat_map(|r| r.results.clone())
                .collect()
        }),
    };
    schema_verdict(&mut row, target, request);
    row
}

/// Check the answer against the schema the send carried, if any. A target that failed or
/// was cancelled has no whole answer: it is not valid, and says why.
fn schema_verdict(row: &mut ResultRow, target: &Target, request: &ChatRequest) {
    let Some(schema) = crate::provider::schema::effective(target, request) else {
        return;
    };
    let verdict = if row.status == Status::Ok {
        let truncated = row.finish_reason == Some(FinishReason::Length);
        crate::schema::check(&schema.schema, &row.text, truncated)
    } else {
        crate::schema::Verdict::unanswered(row.status.as_str())
    };
    row.schema_valid = Some(verdict.is_valid());
    row.schema_errors = Some(verdict.errors);
}

/// The `cache` block: shown when the target marks a prefix cacheable or the provider
/// reported cache tokens (automatic caching).
fn cache_row(target: &Target, usage: &UsageRow, saved: Option<i128>) -> Option<CacheRow> {
    let used = |n: Option<u64>| n.is_some_and(|n| n > 0);
    let asked = target.params.cache.is_some();
    if !asked && !used(usage.cached_input_tokens) && !used(usage.cache_write_tokens) {
        return None;
    }
    let counted = usage.cached_input_tokens.is_some() || usage.cache_write_tokens.is_some();
    Some(CacheRow {
        read_tokens: usage.cached_input_tokens,
        write_tokens: usage.cache_write_tokens,
        write_1h_tokens: usage.cache_write_1h_tokens,
        saved_usd: saved
            .filter(|_| counted)
            .map(|pd| round(crate::pricing::signed_usd(pd), 12)),
    })
}

fn price_row(
    p: &crate::pricing::ModelPrice,
    c: crate::pricing::Charge,
    server: Option<&ServerReport>,
) -> PriceRow {
    let ours = crate::pricing::usd(c.cost);
    PriceRow {
        source: p.source.clone(),
        entry: p.entry.clone(),
        tier: c
            .tier
            .map_or_else(|| "base".to_string(), |above| format!("above {above}")),
        retired: p.retired.clone(),
        // Rounded to the picodollar, so a match reads as 0 rather than float noise.
        cost_diff_usd: server
            .and_then(|s| s.cost_usd)
            .map(|theirs| round(theirs - ours, 12)),
    }
}

/// Why a deployment's answer has no cost: neither `price_as` nor the model the response
/// named is one Prism has prices for.
fn unpriced_deployment(target: &Target, served: Option<&str>, priced: bool) -> Option<String> {
    if priced || !target.provider.model_is_deployment() {
        return None;
    }
    let deployment = &target.model;
    Some(match (&target.params.price_as, served) {
        (Some(model), _) => format!(
            "no cost: `price_as = \"{model}\"` has no known price; check the model id, or add [pricing.\"{model}\"]"
        ),
        (None, Some(model)) => format!(
            "no cost: neither deployment `{deployment}` nor the model the response names, `{model}`, has a known price; set `price_as` to the model behind the deployment"
        ),
        (None, None) => format!(
            "no cost: deployment `{deployment}` has no known price and the response named no model; set `price_as` to the model behind it"
        ),
    })
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
        cache_write_1h_tokens: u.cache_write_1h,
        reasoning_tokens: u.reasoning,
        source: if from_provider {
            UsageSource::Provider
        } else {
            UsageSource::Estimate
        },
    }
}

/// o200k count of everything the model produced.
pub fn estimate_output_tokens(run: &TargetRun) -> u64 {
    let tools: usize = run
        .tool_calls
        .iter()
        .map(|c| tokens::count_o200k(&c.arguments) + c.name.as_deref().map_or(0, tokens::count_o200k))
        .sum();
    let refusal = run.refusal.as_deref().map_or(0, tokens::count_o200k);
    (tokens::count_o200k(&run.text) + tokens::count_o200k(&run.reasoning) + refusal + tools) as u64
}

fn ms(d: std::time::Duration) -> f64 {
    round(d.as_secs_f64() * 1e3, 3)
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

#[cfg(test)]
mod tests;
