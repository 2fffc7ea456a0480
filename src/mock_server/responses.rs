//! The OpenAI Responses API on the wire: `POST /v1/responses`.
//!
//! Streams are named SSE events (`event: TYPE` then one `data:` line of compact JSON that
//! starts with the same `type`, the other top-level fields in alphabetical order, as the
//! API writes them), numbered from 0 by `sequence_number`: `response.created` and
//! `response.in_progress` carry the response object (`status: in_progress`, `output: []`,
//! `usage: null`); then each output item has its `response.output_item.added`, its parts
//! and deltas, their `*.done` events and `response.output_item.done`; last comes
//! `response.completed`, or `response.incomplete` for a length or content-filter finish,
//! with the whole object and its usage. No `[DONE]` follows.
//!
//! Reasoning streams as a summary (`response.reasoning_summary_text.delta`) when the
//! request asks for one with `reasoning.summary`, as OpenAI's models do; otherwise the
//! reasoning item stays empty and its tokens are only counted. A tool call is a
//! `function_call` item whose arguments stream as `response.function_call_arguments.delta`.
//! The in-stream error (`fault=error_event`) is an `error` event (nested, as captured
//! streams send it) followed by `response.failed`. Headers,
//! rate limits and HTTP errors are the Chat Completions mock's; a non-streamed answer is
//! the response object, pretty-printed with two spaces.

use super::common::{Api, ApiError, Ctx, ErrorReply, Incoming, Parsed, content_text, id_suffix};
use super::corpus::{SplitMix64, fnv1a};
use super::driver::Injections;
use super::openai::OpenAi;
use super::plan::{Finish, Kind, Plan};
use super::script::Fault;
use super::wire::{self, Frame, sse};
use hyper::StatusCode;
use serde_json::{Map, Value, json};

pub struct Responses;

impl Api for Responses {
    const NAME: &'static str = "openai-responses";
    const EOL: &'static str = "\n";
    const SSE_CONTENT_TYPE: &'static str = "text/event-stream; charset=utf-8";
    const JSON_CONTENT_TYPE: &'static str = "application/json";

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        OpenAi::check_auth(inc)
    }

    fn parse(_inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::Invalid("Missing required parameter: 'model'.".into()))?;
        // Nothing is stored here, so no earlier response can be continued.
        if let Some(id) = body.get("previous_response_id").and_then(Value::as_str) {
            return Err(ApiError::Invalid(format!(
                "Previous response with id '{id}' not found."
            )));
        }
        let mut texts = Vec::new();
        let mut roles = Vec::new();
        if let Some(instructions) = body.get("instructions").and_then(Value::as_str) {
            texts.push(instructions.to_string());
            // Instructions stand where a chat's system message would.
            roles.push("system".to_string());
        }
        let mut last_user = String::new();
        match body.get("input") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                texts.push(s.clone());
                roles.push("user".to_string());
                last_user.clone_from(s);
            }
            Some(Value::Array(items)) => {
                // Messages carry text; other items (tool outputs, reasoning) count for nothing.
                for item in items {
                    let Some(role) = item.get("role").and_then(Value::as_str) else {
                        continue;
                    };
                    let text = content_text(item.get("content").unwrap_or(&Value::Null));
                    if role == "user" {
                        last_user.clone_from(&text);
                    }
                    texts.push(text);
                    roles.push(role.to_string());
                }
            }
            Some(_) => {
                return Err(ApiError::Invalid(
                    "Invalid type for 'input': expected one of a string or array of input items, but got an object instead."
                        .into(),
                ));
            }
        }
        Ok(Parsed {
            model: model.to_string(),
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            // Usage always rides on the final response object.
            include_usage: true,
            cap: body
                .get("max_output_tokens")
                .and_then(Value::as_u64)
                .map(|n| n as usize),
            messages: texts.len(),
            texts,
            roles,
            last_user,
        })
    }

    fn headers(ctx: &Ctx, limited: bool) -> Vec<(&'static str, String)> {
        OpenAi::headers(ctx, limited)
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        if !matches!(err, ApiError::ContextLength) {
            return OpenAi::error(ctx, err);
        }
        // The Responses API words this one differently and blames `input`.
        let body = json!({"error": {
            "message": "Your input exceeds the context window of this model. Please adjust your input and try again.",
            "type": "invalid_request_error", "param": "input", "code": "context_length_exceeded"}});
        ErrorReply {
            status: StatusCode::BAD_REQUEST,
            content_type: Self::JSON_CONTENT_TYPE,
            headers: Vec::new(),
            body: wire::pretty(&body, 4) + "\n",
        }
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        Events::new(ctx, plan).render()
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        let ids = Ids::of(ctx);
        let output = output_items(ctx, plan, &ids);
        let v = response_object(ctx, plan, &ids, Stage::Finished, output);
        wire::pretty(&v, 2) + "\n"
    }
}

/// The ids of one answer, stable per request.
struct Ids {
    response: String,
    reasoning: String,
    message: String,
    /// The request's id, which each tool call's ids derive from.
    seed: String,
}

impl Ids {
    fn of(ctx: &Ctx) -> Ids {
        let hex = |kind: &str| {
            let mut rng = SplitMix64::new(fnv1a(&format!("{}{kind}", ctx.id)));
            (0..48)
                .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
                .collect::<String>()
        };
        Ids {
            response: format!("resp_{}", hex("resp")),
            reasoning: format!("rs_{}", hex("rs")),
            message: format!("msg_{}", hex("msg")),
            seed: ctx.id.clone(),
        }
    }

    /// The item id and call id of tool call `call` (the first keeps the ids a single call
    /// always had).
    fn call(&self, call: usize) -> (String, String) {
        let suffix = match call {
            0 => String::new(),
            n => n.to_string(),
        };
        let mut rng = SplitMix64::new(fnv1a(&format!("{}fc{suffix}", self.seed)));
        let hex: String = (0..48)
            .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
            .collect();
        let call_id = id_suffix(&format!("{}call{suffix}", self.seed), 24);
        (format!("fc_{hex}"), format!("call_{call_id}"))
    }
}

/// Whether the request asked for reasoning summaries (`reasoning.summary`).
fn wants_summary(ctx: &Ctx) -> bool {
    ctx.request
        .pointer("/reasoning/summary")
        .and_then(Value::as_str)
        .is_some()
}

const OVERLOADED_CODE: &str = "server_is_overloaded";
const OVERLOADED: &str = "Our servers are currently overloaded. Please try again later.";

/// `completed` for a natural or tool finish, `incomplete` for a cut one.
fn finished_status(plan: &Plan) -> &'static str {
    match plan.finish {
        Finish::Stop | Finish::Tool | Finish::Refusal => "completed",
        Finish::Length | Finish::Filter | Finish::Blocked => "incomplete",
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

/// The message's content part: its text, or a refusal's message in a part of its own.
fn answer_part(plan: &Plan, text: &str) -> Value {
    if plan.finish == Finish::Refusal {
        json!({"type": "refusal", "refusal": text})
    } else {
        text_part(text)
    }
}

fn reasoning_item(ctx: &Ctx, plan: &Plan, ids: &Ids) -> Value {
    let summary = if wants_summary(ctx) {
        json!([{"type": "summary_text", "text": plan.text(Kind::Reasoning)}])
    } else {
        json!([])
    };
    json!({"id": ids.reasoning, "type": "reasoning", "summary": summary})
}

fn call_item(plan: &Plan, ids: &Ids, call: usize, status: &str, arguments: &str) -> Value {
    let name = plan.tools.get(call).map_or("", |t| t.name.as_str());
    let (item, call_id) = ids.call(call);
    json!({"id": item, "type": "function_call", "status": status,
        "arguments": arguments, "call_id": call_id, "name": name})
}

fn message_item(ids: &Ids, status: &str, content: Value) -> Value {
    json!({"id": ids.message, "type": "message", "status": status, "content": content,
        "role": "assistant"})
}

/// The output items of the finished answer, in order.
fn output_items(ctx: &Ctx, plan: &Plan, ids: &Ids) -> Vec<Value> {
    let status = finished_status(plan);
    let mut items = Vec::new();
    if plan.usage.reasoning > 0 {
        items.push(reasoning_item(ctx, plan, ids));
    }
    for call in 0..plan.tools.len() {
        items.push(call_item(plan, ids, call, status, &plan.args(call)));
    }
    if plan.tools.is_empty() {
        let part = answer_part(plan, &plan.text(Kind::Text));
        items.push(message_item(ids, status, json!([part])));
    }
    items
}

/// Where a response object stands.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    InProgress,
    Finished,
    /// Failed by the in-stream error: no output, no usage.
    Failed,
}

/// The response object: in progress (no output, no usage), finished or failed.
fn response_object(ctx: &Ctx, plan: &Plan, ids: &Ids, stage: Stage, output: Vec<Value>) -> Value {
    let req = &ctx.request;
    let echo = |key: &str, default: Value| req.get(key).filter(|v| !v.is_null()).cloned().unwrap_or(default);
    let done = stage == Stage::Finished;
    let status = match stage {
        Stage::InProgress => "in_progress",
        Stage::Finished => finished_status(plan),
        Stage::Failed => "failed",
    };
    let error = if stage == Stage::Failed {
        json!({"code": OVERLOADED_CODE, "message": OVERLOADED})
    } else {
        Value::Null
    };
    let incomplete = match plan.finish {
        Finish::Length if done => json!({"reason": "max_output_tokens"}),
        Finish::Filter | Finish::Blocked if done => json!({"reason": "content_filter"}),
        _ => Value::Null,
    };
    let completed_at = if status == "completed" {
        json!(wire::unix_now())
    } else {
        Value::Null
    };
    let usage = if done && !plan.omit_usage {
        usage(plan)
    } else {
        Value::Null
    };
    let reasoning = json!({
        "effort": req.pointer("/reasoning/effort").cloned().unwrap_or(Value::Null),
        "summary": req.pointer("/reasoning/summary").cloned().unwrap_or(Value::Null),
    });
    json!({
        "id": ids.response,
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "background": false,
        "completed_at": completed_at,
        "error": error,
        "frequency_penalty": 0,
        "incomplete_details": incomplete,
        "instructions": echo("instructions", Value::Null),
        "max_output_tokens": echo("max_output_tokens", Value::Null),
        "max_tool_calls": null,
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": echo("parallel_tool_calls", json!(true)),
        "presence_penalty": 0,
        "previous_response_id": null,
        "prompt_cache_key": null,
        "prompt_cache_retention": null,
        "reasoning": reasoning,
        "safety_identifier": null,
        "service_tier": if done { "default" } else { "auto" },
        "store": echo("store", json!(true)),
        "temperature": echo("temperature", json!(1)),
        "text": echo("text", json!({"format": {"type": "text"}, "verbosity": "medium"})),
        "tool_choice": echo("tool_choice", json!("auto")),
        "tools": echo("tools", json!([])),
        "top_logprobs": 0,
        "top_p": echo("top_p", json!(1)),
        "truncation": "disabled",
        "usage": usage,
        "user": null,
        "metadata": {},
    })
}

/// Usage as the response object reports it: `output_tokens` includes reasoning.
fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    json!({
        "input_tokens": u.input,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": u.cached},
        "output_tokens": u.output(),
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.output(),
    })
}

/// Renders the event stream, numbering events as it goes.
struct Events<'a> {
    ctx: &'a Ctx,
    plan: &'a Plan,
    ids: Ids,
    frames: Vec<Frame>,
    /// The sequence number of each frame.
    numbers: Vec<u64>,
}

impl<'a> Events<'a> {
    fn new(ctx: &'a Ctx, plan: &'a Plan) -> Self {
        Events {
            ctx,
            plan,
            ids: Ids::of(ctx),
            frames: Vec::new(),
            numbers: Vec::new(),
        }
    }

    /// One event: `type` first, then `fields` and `sequence_number` in alphabetical
    /// order. `tokens` makes it a content frame (paced, logged) carrying that many.
    fn event(&mut self, kind: &str, fields: Value, tokens: Option<usize>) {
        let number = self.numbers.len() as u64;
        let mut entries: Vec<(String, Value)> = match fields {
            Value::Object(map) => map.into_iter().collect(),
            _ => Vec::new(),
        };
        entries.push(("sequence_number".into(), json!(number)));
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut data = Map::new();
        data.insert("type".into(), kind.into());
        data.extend(entries);
        let bytes = sse(self.ctx.eol, Some(kind), &wire::compact(&Value::Object(data)));
        self.frames.push(match tokens {
            Some(n) => Frame::content(bytes, n),
            None => Frame::control(bytes),
        });
        self.numbers.push(number);
    }

    /// Random padding on delta events, as the API adds to even out payload sizes.
    fn obfuscation(&self, delta: &str) -> String {
        let seed = format!("{}{}", self.ctx.id, self.numbers.len());
        id_suffix(&seed, 16usize.saturating_sub(delta.len()).max(3))
    }

    fn render(mut self) -> (Vec<Frame>, Injections) {
        let (ctx, plan) = (self.ctx, self.plan);
        let opening = response_object(ctx, plan, &self.ids, Stage::InProgress, Vec::new());
        self.event("response.created", json!({"response": opening}), None);
        self.event("response.in_progress", json!({"response": opening}), None);
        let mut index = 0;
        if plan.usage.reasoning > 0 {
            self.reasoning(index);
            index += 1;
        }
        // Parallel calls are one function_call output item each, one after the other.
        for call in 0..plan.tools.len() {
            self.function_call(index + call, call);
        }
        if plan.tools.is_empty() {
            self.message(index);
        }
        let done = output_items(ctx, plan, &self.ids);
        let terminal = if finished_status(plan) == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        let whole = response_object(ctx, plan, &self.ids, Stage::Finished, done);
        self.event(terminal, json!({"response": whole}), None);

        if plan.fault == Some(Fault::NoTerminator) {
            // The stream stops after its content: no `*.done` events, no terminal event.
            let last_content = self.frames.iter().rposition(|f| f.content).map_or(0, |i| i + 1);
            self.frames.truncate(last_content);
            self.numbers.truncate(last_content);
        }
        let inject = self.injections();
        (self.frames, inject)
    }

    fn reasoning(&mut self, index: usize) {
        let item = json!({"id": self.ids.reasoning, "type": "reasoning", "summary": []});
        self.event(
            "response.output_item.added",
            json!({"item": item, "output_index": index}),
            None,
        );
        let id = self.ids.reasoning.clone();
        if wants_summary(self.ctx) {
            let text = self.plan.text(Kind::Reasoning);
            let at = json!({"item_id": id, "output_index": index, "summary_index": 0});
            let with = |extra: Value| merge(&at, extra);
            let empty = json!({"type": "summary_text", "text": ""});
            self.event(
                "response.reasoning_summary_part.added",
                with(json!({"part": empty})),
                None,
            );
            let plan = self.plan;
            for e in plan.events.iter().filter(|e| e.kind == Kind::Reasoning) {
                let fields = with(json!({"delta": e.text, "obfuscation": self.obfuscation(&e.text)}));
                self.event("response.reasoning_summary_text.delta", fields, Some(e.tokens));
            }
            self.event(
                "response.reasoning_summary_text.done",
                with(json!({"text": text})),
                None,
            );
            let part = json!({"type": "summary_text", "text": text});
            self.event(
                "response.reasoning_summary_part.done",
                with(json!({"part": part})),
                None,
            );
        }
        let item = reasoning_item(self.ctx, self.plan, &self.ids);
        self.event(
            "response.output_item.done",
            json!({"item": item, "output_index": index}),
            None,
        );
    }

    fn function_call(&mut self, index: usize, call: usize) {
        let (plan, id) = (self.plan, self.ids.call(call).0);
        let item = call_item(plan, &self.ids, call, "in_progress", "");
        // The call's name is content: it is the first thing the model produced.
        self.event(
            "response.output_item.added",
            json!({"item": item, "output_index": index}),
            Some(0),
        );
        for e in plan.call_events(call) {
            let fields = json!({"delta": e.text, "item_id": id,
                "obfuscation": self.obfuscation(&e.text), "output_index": index});
            self.event("response.function_call_arguments.delta", fields, Some(e.tokens));
        }
        let arguments = plan.args(call);
        self.event(
            "response.function_call_arguments.done",
            json!({"arguments": arguments, "item_id": id, "output_index": index}),
            None,
        );
        let item = call_item(plan, &self.ids, call, finished_status(plan), &arguments);
        self.event(
            "response.output_item.done",
            json!({"item": item, "output_index": index}),
            None,
        );
    }

    fn message(&mut self, index: usize) {
        let (plan, id) = (self.plan, self.ids.message.clone());
        let item = message_item(&self.ids, "in_progress", json!([]));
        self.event(
            "response.output_item.added",
            json!({"item": item, "output_index": index}),
            None,
        );
        let at = json!({"content_index": 0, "item_id": id, "output_index": index});
        let with = |extra: Value| merge(&at, extra);
        self.event(
            "response.content_part.added",
            with(json!({"part": answer_part(plan, "")})),
            None,
        );
        let refused = plan.finish == Finish::Refusal;
        for e in plan.events.iter().filter(|e| e.kind == Kind::Text) {
            if refused {
                // Refusal deltas carry no logprobs and no obfuscation.
                self.event(
                    "response.refusal.delta",
                    with(json!({"delta": e.text})),
                    Some(e.tokens),
                );
            } else {
                let fields = with(json!({"delta": e.text, "logprobs": [],
                    "obfuscation": self.obfuscation(&e.text)}));
                self.event("response.output_text.delta", fields, Some(e.tokens));
            }
        }
        let text = plan.text(Kind::Text);
        if refused {
            self.event("response.refusal.done", with(json!({"refusal": text})), None);
        } else {
            self.event(
                "response.output_text.done",
                with(json!({"logprobs": [], "text": text})),
                None,
            );
        }
        self.event(
            "response.content_part.done",
            with(json!({"part": answer_part(plan, &text)})),
            None,
        );
        let item = message_item(
            &self.ids,
            finished_status(plan),
            json!([answer_part(plan, &text)]),
        );
        self.event(
            "response.output_item.done",
            json!({"item": item, "output_index": index}),
            None,
        );
    }

    /// The bytes the driver injects for `malformed` and `error_event`. The error takes
    /// the sequence number of the frame it displaces, so numbering stays unbroken, and
    /// `response.failed` follows it, as in captured streams.
    fn injections(&self) -> Injections {
        let eol = self.ctx.eol;
        let number = fault_number(&self.frames, &self.numbers, self.plan.fault_after);
        // Captured streams nest the error (the SDK's type lists its fields flat).
        let error = json!({"type": "error", "error": {"type": "service_unavailable_error",
            "code": OVERLOADED_CODE, "message": OVERLOADED, "param": null},
            "sequence_number": number});
        let failed = response_object(self.ctx, self.plan, &self.ids, Stage::Failed, Vec::new());
        let failed = json!({"type": "response.failed", "response": failed,
            "sequence_number": number + 1});
        let mut error_event = sse(eol, Some("error"), &wire::compact(&error)).to_vec();
        error_event.extend_from_slice(&sse(eol, Some("response.failed"), &wire::compact(&failed)));
        let broken = format!(
            "{{\"type\":\"response.output_text.delta\",\"content_index\":0,\"delta\":\"{}",
            self.ids.message
        );
        Injections {
            malformed: sse(eol, Some("response.output_text.delta"), &broken),
            error_event: error_event.into(),
        }
    }
}

/// The sequence number of the content frame a mid-stream fault lands before: the
/// driver fires it at the first content frame once `after` tokens have gone out.
fn fault_number(frames: &[Frame], numbers: &[u64], after: usize) -> u64 {
    let mut emitted = 0;
    for (frame, number) in frames.iter().zip(numbers) {
        if frame.content {
            if emitted >= after {
                return *number;
            }
            emitted += frame.tokens;
        }
    }
    numbers.last().map_or(0, |n| n + 1)
}

/// `base`'s fields followed by `extra`'s.
fn merge(base: &Value, extra: Value) -> Value {
    let mut out = base.as_object().cloned().unwrap_or_default();
    if let Value::Object(more) = extra {
        out.extend(more);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fault_lands_on_the_first_content_frame_past_the_point() {
        let frames = vec![
            Frame::control("a"),
            Frame::content("b", 2),
            Frame::content("c", 2),
            Frame::control("d"),
        ];
        let numbers = [0, 1, 2, 3];
        assert_eq!(fault_number(&frames, &numbers, 0), 1);
        assert_eq!(fault_number(&frames, &numbers, 2), 2);
        assert_eq!(fault_number(&frames, &numbers, 5), 4, "never fires: next number");
    }
}
