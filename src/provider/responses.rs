//! The OpenAI Responses API (`POST {base}/responses`), spoken by `openai` and
//! `openai-compatible` targets with `api = "responses"`.
//!
//! Every request carries the whole conversation (the system prompt as `instructions`,
//! the turns as `input` messages) with `store: false`, and never `previous_response_id`:
//! as with Chat Completions, each send stands alone, so every target answers exactly the
//! prompt Prism shows.
//!
//! A stream is typed SSE events numbered by `sequence_number`. Text arrives in
//! `response.output_text.delta`, refusals in `response.refusal.delta` (kept apart from the
//! answer, as a Chat Completions `refusal` is; the finish is then `refusal`), reasoning in `response.reasoning_summary_text.delta`
//! (OpenAI's summaries) or `response.reasoning_text.delta` (open-weight servers), a tool
//! call as a `function_call` output item followed by its argument deltas. The stream ends
//! with `response.completed` or `response.incomplete`, whose response object carries the
//! finish and the usage, or fails with `response.failed` or a standalone `error` event.
//! There is no `[DONE]`. Every other event (lifecycle, content parts, `*.done`, hosted
//! tools) is tolerated and skipped, except that a `*.done` event supplies content its
//! deltas never did.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::body::{merge_extra, parse_json, put, uint};
use super::errors;
use super::event::{ErrorKind, Finish, FinishReason, ProviderError, StreamEvent, ToolCallDelta, Usage};
use super::hot::responses::DeltaKind;
use super::openai::{build_error, in_band_error};
use super::request::ChatRequest;
use crate::target::{Target, endpoint_url};

/// Build `POST {base}/responses`, without credentials.
pub fn build(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
) -> Result<reqwest::Request, ProviderError> {
    let input: Vec<Value> = request
        .messages
        .iter()
        .flat_map(|m| {
            super::tools::messages::responses(m)
                .unwrap_or_else(|| vec![json!({"role": m.role.as_str(), "content": m.content})])
        })
        .collect();
    let p = &target.params;
    let mut body = Map::new();
    body.insert("model".into(), target.model.clone().into());
    put(&mut body, "instructions", request.system.clone());
    body.insert("input".into(), input.into());
    put(&mut body, target.spec().max_tokens_field, p.max_tokens);
    put(&mut body, "temperature", p.temperature);
    put(&mut body, "top_p", p.top_p);
    let mut reasoning = Map::new();
    put(&mut reasoning, "effort", p.reasoning_effort.clone());
    put(&mut reasoning, "summary", p.reasoning_summary.clone());
    if !reasoning.is_empty() {
        body.insert("reasoning".into(), reasoning.into());
    }
    // Prism keeps the conversation and sends it whole: nothing needs storing server-side.
    body.insert("store".into(), false.into());
    body.insert("stream".into(), p.stream.into());
    super::schema::responses(&mut body, target, request);
    super::tools::responses(&mut body, p.tools.as_ref());
    merge_extra(&mut body, &p.extra);

    // Through `endpoint_url`: an Azure base URL ends in `?api-version=…`.
    let url = endpoint_url(&target.base_url, "/responses");
    client
        .post(url)
        .json(&Value::Object(body))
        .build()
        .map_err(|e| build_error(&e))
}

/// Which kind of streamed content a delta or `*.done` event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Text,
    Refusal,
    Summary,
    Reasoning,
}

/// One function call, in order of appearance.
#[derive(Debug)]
struct Call {
    output_index: Option<u64>,
    item_id: Option<String>,
    /// Its id and name were sent.
    named: bool,
    /// Some of its arguments were sent.
    has_arguments: bool,
}

/// Responses stream state.
#[derive(Debug, Default)]
pub struct Decoder {
    /// `response.completed` or `response.incomplete` arrived.
    pub saw_terminal: bool,
    last_sequence: Option<u64>,
    /// Breaks in `sequence_number`; the first gets its own note.
    gaps: u64,
    calls: Vec<Call>,
    /// Content parts that have sent text, so their `*.done` event repeats nothing.
    streamed: HashSet<(Part, String, u64)>,
    /// Some reasoning text was sent (a new summary part is set off from it).
    reasoning_sent: bool,
    /// A new summary part began after another: the next reasoning starts a paragraph.
    paragraph_due: bool,
    /// Any text, reasoning or tool call was sent.
    content_sent: bool,
    /// Refusal text arrived: a `completed` response is a refusal.
    refused: bool,
}

impl Decoder {
    /// One SSE event.
    pub fn on_sse(
        &mut self,
        event: &str,
        data: &str,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        // Almost every event: a text or reasoning delta, decoded typed and borrowed.
        if let Some(d) = super::hot::responses::delta(data) {
            self.sequence(d.sequence_number, out);
            if let Some(text) = d.text {
                let part = match d.kind {
                    DeltaKind::OutputText => Part::Text,
                    DeltaKind::Summary => Part::Summary,
                    DeltaKind::Reasoning => Part::Reasoning,
                };
                let at = location(d.output_index, d.item_id.as_deref());
                self.streamed.insert((part, at, d.part_index.unwrap_or(0)));
                self.push(part, &text, out);
            }
            return Ok(());
        }
        let v = parse_json(data, &format!("the `{event}` event"))?;
        // The `type` inside the data is authoritative; the SSE event name mirrors it.
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        self.check_sequence(&v, out);
        match kind {
            "response.created" => {
                if let Some(id) = v.pointer("/response/id").and_then(Value::as_str) {
                    out.push(StreamEvent::ResponseId(id.to_string()));
                }
            }
            "response.output_text.delta" => self.delta(Part::Text, &v, "content_index", out),
            "response.refusal.delta" => self.delta(Part::Refusal, &v, "content_index", out),
            "response.reasoning_summary_text.delta" => self.delta(Part::Summary, &v, "summary_index", out),
            "response.reasoning_text.delta" => self.delta(Part::Reasoning, &v, "content_index", out),
            "response.output_text.done" => self.done(Part::Text, &v, "content_index", "text", out),
            "response.refusal.done" => self.done(Part::Refusal, &v, "content_index", "refusal", out),
            "response.reasoning_summary_text.done" => {
                self.done(Part::Summary, &v, "summary_index", "text", out);
            }
            "response.reasoning_text.done" => self.done(Part::Reasoning, &v, "content_index", "text", out),
            "response.reasoning_summary_part.added" => self.paragraph_due = self.reasoning_sent,
            "response.output_item.added" | "response.output_item.done" => {
                if let Some(item) = v.get("item").filter(|i| is_type(i, "function_call")) {
                    self.function_call(item, uint(&v, "output_index"), out);
                }
            }
            "response.function_call_arguments.delta" => self.arguments(&v, "delta", false, out),
            "response.function_call_arguments.done" => self.arguments(&v, "arguments", true, out),
            "response.completed" | "response.incomplete" => {
                let response = v.get("response").unwrap_or(&Value::Null);
                self.end(kind, response, out);
            }
            "response.failed" => {
                let response = v.get("response").unwrap_or(&Value::Null);
                return Err(self.failed(response, &v, out));
            }
            "error" => return Err(error_event(&v)),
            // Lifecycle, content-part and hosted-tool events, and any added later.
            _ => {}
        }
        Ok(())
    }

    /// A whole response object (`stream: false`).
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let v = parse_json(body, "the response body")?;
        if !is_response(&v)
            && let Some(err) = v.get("error").filter(|e| !e.is_null())
        {
            return Err(in_band_error(err));
        }
        if let Some(id) = v.get("id").and_then(Value::as_str) {
            out.push(StreamEvent::ResponseId(id.to_string()));
        }
        if !v.get("output").is_some_and(Value::is_array) {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                "the response has no `output` array",
            ));
        }
        match v.get("status").and_then(Value::as_str) {
            Some("failed") => Err(self.failed(&v, &v, out)),
            None | Some("completed" | "incomplete") => {
                self.output_items(&v, out);
                let kind = if v.get("status").and_then(Value::as_str) == Some("incomplete") {
                    "response.incomplete"
                } else {
                    "response.completed"
                };
                self.end(kind, &v, out);
                Ok(())
            }
            Some(other) => Err(ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "the response is still `{other}`: Prism reads answers, it does not poll background responses; remove `background` from `extra`"
                ),
            )),
        }
    }

    /// Note the first break in `sequence_number`: an event the server numbered never came
    /// (or came out of order), so a piece of the answer may be missing.
    fn check_sequence(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        self.sequence(uint(v, "sequence_number"), out);
    }

    /// [`Self::check_sequence`] on the number an event carried, if any.
    fn sequence(&mut self, number: Option<u64>, out: &mut Vec<StreamEvent>) {
        let Some(n) = number else {
            return;
        };
        if let Some(last) = self.last_sequence
            && n != last.saturating_add(1)
        {
            if self.gaps == 0 {
                let what = if n > last {
                    format!(
                        "jumped from {last} to {n}: {} event(s) never arrived, so the answer may be missing pieces",
                        n - last - 1
                    )
                } else {
                    format!("went back from {last} to {n}: events arrived out of order or twice")
                };
                out.push(StreamEvent::Note(format!("the stream's sequence_number {what}")));
            }
            self.gaps += 1;
        }
        self.last_sequence = Some(n);
    }

    fn delta(&mut self, part: Part, v: &Value, index_key: &str, out: &mut Vec<StreamEvent>) {
        let Some(text) = v.get("delta").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return;
        };
        self.streamed
            .insert((part, locate(v), uint(v, index_key).unwrap_or(0)));
        self.push(part, text, out);
    }

    /// A `*.done` event: its text counts only when no delta of its part ever arrived.
    fn done(&mut self, part: Part, v: &Value, index_key: &str, text_key: &str, out: &mut Vec<StreamEvent>) {
        let fresh = self
            .streamed
            .insert((part, locate(v), uint(v, index_key).unwrap_or(0)));
        if let Some(text) = v.get(text_key).and_then(Value::as_str).filter(|t| !t.is_empty())
            && fresh
        {
            self.push(part, text, out);
        }
    }

    fn push(&mut self, part: Part, text: &str, out: &mut Vec<StreamEvent>) {
        self.content_sent = true;
        match part {
            Part::Text => out.push(StreamEvent::TextDelta(text.into())),
            Part::Refusal => {
                self.refused = true;
                out.push(StreamEvent::RefusalDelta(text.into()));
            }
            Part::Summary | Part::Reasoning => {
                // Summary parts are separate paragraphs; set the next one off without
                // sending an event of its own (that would count as a token arrival).
                let text = if std::mem::take(&mut self.paragraph_due) {
                    format!("\n\n{text}")
                } else {
                    text.to_string()
                };
                self.reasoning_sent = true;
                out.push(StreamEvent::ReasoningDelta(text.into()));
            }
        }
    }

    /// The position of the call at `output_index` (or with `item_id`), added if new.
    fn call(&mut self, output_index: Option<u64>, item_id: Option<&str>) -> usize {
        let found = self
            .calls
            .iter()
            .position(|c| match (output_index, c.output_index) {
                (Some(a), Some(b)) => a == b,
                _ => item_id.is_some() && c.item_id.as_deref() == item_id,
            });
        found.unwrap_or_else(|| {
            self.calls.push(Call {
                output_index,
                item_id: item_id.map(str::to_string),
                named: false,
                has_arguments: false,
            });
            self.calls.len() - 1
        })
    }

    /// A `function_call` item, added or done: its id and name once, and its arguments
    /// if none streamed (some servers send them whole).
    fn function_call(&mut self, item: &Value, output_index: Option<u64>, out: &mut Vec<StreamEvent>) {
        let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let index = self.call(output_index, item.get("id").and_then(Value::as_str));
        let call = &mut self.calls[index];
        let mut delta = ToolCallDelta {
            index,
            ..ToolCallDelta::default()
        };
        if !call.named {
            // The call id pairs the result with the call; `id` is only the item's.
            delta.id = text("call_id");
            delta.name = text("name");
            call.named = delta.id.is_some() || delta.name.is_some();
        }
        if !call.has_arguments
            && let Some(args) = text("arguments").filter(|a| !a.is_empty())
        {
            call.has_arguments = true;
            delta.arguments = args;
        }
        if delta.id.is_some() || delta.name.is_some() || !delta.arguments.is_empty() {
            self.content_sent = true;
            out.push(StreamEvent::ToolCallDelta(Box::new(delta)));
        }
    }

    /// `function_call_arguments.delta`, or `.done` (`whole`), which counts only when no
    /// delta of its call arrived.
    fn arguments(&mut self, v: &Value, key: &str, whole: bool, out: &mut Vec<StreamEvent>) {
        let index = self.call(uint(v, "output_index"), v.get("item_id").and_then(Value::as_str));
        let call = &mut self.calls[index];
        let Some(args) = v.get(key).and_then(Value::as_str).filter(|a| !a.is_empty()) else {
            return;
        };
        if whole && call.has_arguments {
            return;
        }
        call.has_arguments = true;
        self.content_sent = true;
        out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index,
            arguments: args.to_string(),
            ..ToolCallDelta::default()
        })));
    }

    /// Text, reasoning and tool calls from a response object's `output` array.
    fn output_items(&mut self, response: &Value, out: &mut Vec<StreamEvent>) {
        let items = response.get("output").and_then(Value::as_array);
        for (position, item) in items.into_iter().flatten().enumerate() {
            let parts = |key: &str| item.get(key).and_then(Value::as_array).into_iter().flatten();
            match item.get("type").and_then(Value::as_str) {
                Some("message") => {
                    for part in parts("content") {
                        let (kind, key) = if is_type(part, "refusal") {
                            (Part::Refusal, "refusal")
                        } else {
                            (Part::Text, "text")
                        };
                        if let Some(t) = part.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
                            self.push(kind, t, out);
                        }
                    }
                }
                Some("reasoning") => {
                    for (n, part) in parts("summary").enumerate() {
                        self.paragraph_due = n > 0 || self.reasoning_sent;
                        if let Some(t) = part.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                            self.push(Part::Summary, t, out);
                        }
                    }
                    for part in parts("content") {
                        if let Some(t) = part.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                            self.push(Part::Reasoning, t, out);
                        }
                    }
                    self.paragraph_due = false;
                }
                Some("function_call") => self.function_call(item, Some(position as u64), out),
                _ => {}
            }
        }
    }

    /// `response.completed` or `response.incomplete`: finish, usage, done.
    fn end(&mut self, kind: &str, response: &Value, out: &mut Vec<StreamEvent>) {
        if !self.content_sent && self.output_items_have_content(response) {
            // A server that streamed no deltas at all: the answer is in the final object.
            self.output_items(response, out);
            out.push(StreamEvent::Note(
                "the stream sent no content deltas; the answer was read from its final response object, so time to first token is its arrival".into(),
            ));
        }
        let finish = if kind == "response.incomplete" {
            let why = response
                .pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
                .unwrap_or("incomplete");
            let reason = match why {
                "max_output_tokens" => FinishReason::Length,
                "content_filter" => FinishReason::ContentFilter,
                // Reasons added later keep their raw word, as unknown finish reasons do.
                _ => FinishReason::Stop,
            };
            Finish {
                reason,
                raw: Some(why.into()),
            }
        } else {
            let status = response
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("completed");
            Finish {
                reason: if !self.calls.is_empty() {
                    FinishReason::ToolCalls
                } else if self.refused {
                    FinishReason::Refusal
                } else {
                    FinishReason::Stop
                },
                raw: Some(status.into()),
            }
        };
        out.push(StreamEvent::Finish(finish));
        usage(response, out);
        if self.gaps > 1 {
            out.push(StreamEvent::Note(format!(
                "sequence_number broke {} more times after that",
                self.gaps - 1
            )));
        }
        self.saw_terminal = true;
    }

    fn output_items_have_content(&self, response: &Value) -> bool {
        let mut probe = Decoder::default();
        let mut events = Vec::new();
        probe.output_items(response, &mut events);
        !events.is_empty()
    }

    /// `response.failed` (or a failed whole response): its usage, then its error.
    fn failed(&mut self, response: &Value, raw: &Value, out: &mut Vec<StreamEvent>) -> ProviderError {
        usage(response, out);
        let err = response.get("error").filter(|e| e.is_object());
        let field = |k: &str| err.and_then(|e| e.get(k)).and_then(Value::as_str);
        let text = describe(
            field("code"),
            field("message"),
            "the response failed with no error",
        );
        errors::in_stream(&text, raw.to_string())
    }
}

/// A standalone `error` event. The documented shape has `code` and `message` at the
/// top; servers have also sent them nested under `error` (with a `type`).
fn error_event(v: &Value) -> ProviderError {
    let src = v.get("error").filter(|e| e.is_object()).unwrap_or(v);
    let field = |k: &str| src.get(k).and_then(Value::as_str);
    let text = describe(
        field("code").or_else(|| field("type").filter(|t| *t != "error")),
        field("message"),
        "an error event with no message",
    );
    errors::in_stream(&text, v.to_string())
}

fn describe(code: Option<&str>, message: Option<&str>, neither: &str) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => neither.to_string(),
    }
}

/// Push the response object's usage, if it has any. `output_tokens` already includes
/// the reasoning tokens; they stay visible on their own, never added again.
fn usage(response: &Value, out: &mut Vec<StreamEvent>) {
    let Some(u) = response.get("usage").filter(|u| u.is_object()) else {
        return;
    };
    let detail = |outer: &str, inner: &str| u.get(outer).and_then(|d| uint(d, inner));
    out.push(StreamEvent::Usage(Box::new(Usage {
        input: uint(u, "input_tokens"),
        output: uint(u, "output_tokens"),
        cached_input: detail("input_tokens_details", "cached_tokens"),
        cache_write: detail("input_tokens_details", "cache_write_tokens"),
        cache_write_1h: None,
        reasoning: detail("output_tokens_details", "reasoning_tokens"),
    })));
}

fn is_type(v: &Value, t: &str) -> bool {
    v.get("type").and_then(Value::as_str) == Some(t)
}

fn is_response(v: &Value) -> bool {
    v.get("object").and_then(Value::as_str) == Some("response")
}

/// Where a content event belongs: its output index, else its item id.
fn locate(v: &Value) -> String {
    location(uint(v, "output_index"), v.get("item_id").and_then(Value::as_str))
}

/// Where a part's item is: its `output_index`, else its `item_id`.
fn location(output_index: Option<u64>, item_id: Option<&str>) -> String {
    match (output_index, item_id) {
        (Some(i), _) => i.to_string(),
        (None, Some(id)) => id.to_string(),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests;
