#!/usr/bin/env python3
"""Drive the official OpenAI (and its AzureOpenAI client), Anthropic, Google GenAI and AWS
(boto3, in bedrock_boto3.py) Python SDKs (tool calls offered as real tools: sdk_tools.py) against Prism's mock provider server and check
that each SDK parses exactly what the mock sent.

For every case the same request is first sent raw (stdlib urllib) and its bytes decoded by
hand; that is the ground truth. The mock's output is deterministic for a given prompt and
script, so the SDK's parsed text, reasoning, tool calls, usage and finish reason must equal
it. Error cases check the SDK's exception class and status. Retries are disabled everywhere.

Usage: sdk_conformance.py --base-url http://127.0.0.1:PORT
Prints one line per case and a final "N passed, N failed"; exits non-zero on any failure.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import traceback

import anthropic
import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

import bedrock_boto3
import sdk_tools
from common import FAST, PROMPT, SYSTEM, eq, raises, raw

CASES = []


# `prism count` in the repository: the mock reports OpenAI-family usage as the model's
# tokenizer (o200k for every model used here) counts the text it sent.
COUNT_CMD = os.environ.get("PRISM_COUNT_CMD", "cargo run --quiet -- count")


def o200k(text):
    out = subprocess.run(shlex.split(COUNT_CMD), input=(text or "").encode(),
                         capture_output=True, check=True)
    return int(out.stdout.split()[0])


def case(fn):
    CASES.append(fn)
    return fn


# ---------------------------------------------------------------- raw wire ground truth

def sse_data(text, sep):
    for block in text.split(sep + sep):
        for line in block.split(sep):
            if line.startswith("data: "):
                yield line[len("data: "):]


def openai_wire(text):
    w = {"content": "", "reasoning": "", "name": None, "args": "", "finish": None, "usage": None}
    for d in sse_data(text, "\n"):
        if d == "[DONE]":
            continue
        j = json.loads(d)
        if j.get("usage"):
            w["usage"] = j["usage"]
        for c in j["choices"]:
            delta = c["delta"]
            w["content"] += delta.get("content") or ""
            w["reasoning"] += delta.get("reasoning_content") or ""
            for tc in delta.get("tool_calls") or []:
                w["name"] = tc.get("function", {}).get("name") or w["name"]
                w["args"] += tc.get("function", {}).get("arguments") or ""
            w["finish"] = c["finish_reason"] or w["finish"]
    return w


def anthropic_wire(text):
    w = {"text": "", "thinking": "", "json": "", "stop": None, "output": None, "start": None}
    for d in sse_data(text, "\n"):
        j = json.loads(d)
        if j["type"] == "message_start":
            w["start"] = j["message"]["usage"]
        elif j["type"] == "content_block_delta":
            delta = j["delta"]
            w["text"] += delta.get("text", "")
            w["thinking"] += delta.get("thinking", "")
            w["json"] += delta.get("partial_json", "")
        elif j["type"] == "message_delta":
            w["stop"] = j["delta"]["stop_reason"]
            w["output"] = j["usage"]["output_tokens"]
    return w


def gemini_wire(text):
    w = {"text": "", "thoughts": "", "calls": [], "finish": None, "usage": None}
    for d in sse_data(text, "\r\n"):
        j = json.loads(d)
        w["usage"] = j.get("usageMetadata", w["usage"])
        for cand in j.get("candidates", []):
            for p in cand["content"]["parts"]:
                if "functionCall" in p:
                    w["calls"].append(p["functionCall"])
                elif p.get("thought"):
                    w["thoughts"] += p["text"]
                else:
                    w["text"] += p.get("text", "")
            w["finish"] = cand.get("finishReason", w["finish"])
    return w


# ---------------------------------------------------------------- OpenAI

def oa_messages():
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]


def oa_raw(ctx, model, **extra):
    body = {"model": model, "messages": oa_messages(), "stream": True,
            "stream_options": {"include_usage": True}, **extra}
    status, text = raw(ctx.base, "/v1/chat/completions", body, {"authorization": "Bearer k"})
    eq(status, 200, "raw status")
    return openai_wire(text)


def oa_stream(ctx, model, **extra):
    got = {"content": "", "reasoning": "", "name": None, "args": "", "finish": None, "usage": None}
    stream = ctx.oa.chat.completions.create(
        model=model, messages=oa_messages(), stream=True,
        stream_options={"include_usage": True}, **extra)
    for chunk in stream:
        if chunk.usage is not None:
            got["usage"] = chunk.usage.model_dump(exclude_none=True)
        for c in chunk.choices:
            got["content"] += c.delta.content or ""
            got["reasoning"] += getattr(c.delta, "reasoning_content", None) or ""
            for tc in c.delta.tool_calls or []:
                got["name"] = (tc.function.name if tc.function else None) or got["name"]
                got["args"] += (tc.function.arguments if tc.function else None) or ""
            got["finish"] = c.finish_reason or got["finish"]
    return got


def oa_compare(ctx, model, **extra):
    want, got = oa_raw(ctx, model, **extra), oa_stream(ctx, model, **extra)
    for key in ("content", "reasoning", "name", "args", "finish", "usage"):
        eq(got[key], want[key], f"stream {key}")
    return got


@case
def openai_stream_text_and_usage(ctx):
    got = oa_compare(ctx, f"gpt-4o-mini+{FAST},tokens=30,cached=4")
    eq(got["usage"]["completion_tokens"], o200k(got["content"]), "completion_tokens")
    eq(got["usage"]["prompt_tokens_details"]["cached_tokens"], 4, "cached_tokens")
    eq(got["finish"], "stop", "finish")


@case
def openai_stream_reasoning_chunked_keepalive(ctx):
    got = oa_compare(ctx, f"deepseek-r1+{FAST},tokens=12,reasoning=6,chunk=4,keepalive=1")
    eq(got["usage"]["completion_tokens_details"]["reasoning_tokens"], 6, "reasoning_tokens")


@case
def openai_stream_tool_call(ctx):
    got = oa_compare(ctx, f"gpt-4o+{FAST},tool=get_weather")
    eq(got["name"], "get_weather", "tool name")
    eq(json.loads(got["args"]), {"city": "Paris", "unit": "celsius"}, "tool args")
    eq(got["finish"], "tool_calls", "finish")


@case
def openai_stream_length_and_filter(ctx):
    eq(oa_compare(ctx, f"m+{FAST},tokens=30", max_tokens=5)["finish"], "length", "finish")
    eq(oa_compare(ctx, f"m+{FAST},tokens=5,filter=1")["finish"], "content_filter", "finish")


@case
def openai_non_stream(ctx):
    model = f"gpt-4o-mini+{FAST},tokens=20"
    want = oa_raw(ctx, model)
    r = ctx.oa.chat.completions.create(model=model, messages=oa_messages())
    eq(r.choices[0].message.content, want["content"], "content")
    eq(r.choices[0].finish_reason, "stop", "finish")
    eq(r.usage.completion_tokens, o200k(r.choices[0].message.content), "completion_tokens")
    eq(r.usage.prompt_tokens, want["usage"]["prompt_tokens"], "prompt_tokens")
    eq(r.model, "gpt-4o-mini", "model echoed without directives")


REFUSAL = "I'm sorry, but I can't help with that."


@case
def openai_refusal_chat_and_responses(ctx):
    model = f"gpt-4o+{FAST},refuse=1"
    r = ctx.oa.chat.completions.create(model=model, messages=oa_messages())
    m = r.choices[0].message
    eq((m.content, m.refusal, r.choices[0].finish_reason), (None, REFUSAL, "stop"), "chat refusal")
    eq(r.usage.completion_tokens, o200k(REFUSAL), "refusal tokens")
    streamed = {"content": "", "refusal": ""}
    for chunk in ctx.oa.chat.completions.create(model=model, messages=oa_messages(), stream=True):
        for key in streamed:
            streamed[key] += (getattr(chunk.choices[0].delta, key) or "") if chunk.choices else ""
    eq(streamed, {"content": "", "refusal": REFUSAL}, "streamed refusal")
    r = ctx.oa.responses.create(model=model, input=rs_input())
    part = r.output[0].content[0]
    eq((r.status, part.type, part.refusal), ("completed", "refusal", REFUSAL), "responses refusal")
    deltas = ""
    for event in ctx.oa.responses.create(model=model, input=rs_input(), stream=True):
        if event.type == "response.refusal.delta":
            deltas += event.delta
        elif event.type == "response.refusal.done":
            eq(event.refusal, deltas, "refusal.done repeats the deltas")
    eq(deltas, REFUSAL, "streamed responses refusal")


@case
def openai_header_directives(ctx):
    r = ctx.oa.chat.completions.create(model="plain", messages=oa_messages(),
                                       extra_headers={"x-mock-script": f"{FAST},tokens=3"})
    eq(r.usage.completion_tokens, o200k(r.choices[0].message.content),
       "completion_tokens from header script")


@case
def openai_status_errors(ctx):
    def call(fault):
        return lambda: ctx.oa.chat.completions.create(model=f"m+fault={fault},retry_after=2",
                                                       messages=oa_messages())
    e = raises(openai.RateLimitError, call("429"))
    eq((e.status_code, e.code), (429, "rate_limit_exceeded"), "429")
    eq(e.response.headers.get("retry-after"), "2", "retry-after")
    eq(raises(openai.AuthenticationError, call("401")).code, "invalid_api_key", "401 code")
    eq(raises(openai.InternalServerError, call("500")).status_code, 500, "500")
    eq(raises(openai.InternalServerError, call("503")).status_code, 503, "503")
    eq(raises(openai.NotFoundError, call("404")).code, "model_not_found", "404 code")
    eq(raises(openai.BadRequestError, call("400ctx")).code, "context_length_exceeded", "ctx")
    e = raises(openai.BadRequestError, call("nonsense"))
    if "`fault`" not in e.message:
        raise AssertionError(f"directive error should name the directive: {e.message}")


@case
def openai_mid_stream_error(ctx):
    def run():
        for _ in ctx.oa.chat.completions.create(
                model=f"m+{FAST},tokens=6,fault=error_event", messages=oa_messages(), stream=True):
            pass
    raises(openai.APIError, run)


# ---------------------------------------------------------------- OpenAI Responses

def rs_input():
    return [{"role": "user", "content": PROMPT}]


def rs_blank():
    return {"text": "", "summary": "", "args": "", "name": None, "types": [], "seq": [],
            "final": None, "error": None}


def responses_wire(text):
    w = rs_blank()
    for block in text.split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = line[len("data: "):]
        if data is None:
            continue
        j = json.loads(data)
        eq(name, j["type"], "the SSE event name repeats the type")
        w["types"].append(j["type"])
        w["seq"].append(j["sequence_number"])
        t = j["type"]
        if t == "response.output_text.delta":
            w["text"] += j["delta"]
        elif t == "response.reasoning_summary_text.delta":
            w["summary"] += j["delta"]
        elif t == "response.function_call_arguments.delta":
            w["args"] += j["delta"]
        elif t == "response.output_item.added" and j["item"]["type"] == "function_call":
            w["name"] = j["item"]["name"]
        elif t in ("response.completed", "response.incomplete"):
            w["final"] = j["response"]
        elif t == "error":
            w["error"] = j["error"]["code"]
    return w


def rs_raw(ctx, model, **extra):
    body = {"model": model, "instructions": SYSTEM, "input": rs_input(), "stream": True, **extra}
    status, text = raw(ctx.base, "/v1/responses", body, {"authorization": "Bearer k"})
    eq(status, 200, "raw status")
    return responses_wire(text)


def rs_fold(got, event):
    got["types"].append(event.type)
    got["seq"].append(event.sequence_number)
    if event.type == "response.output_text.delta":
        got["text"] += event.delta
    elif event.type == "response.reasoning_summary_text.delta":
        got["summary"] += event.delta
    elif event.type == "response.function_call_arguments.delta":
        got["args"] += event.delta
    elif event.type == "response.output_item.added" and event.item.type == "function_call":
        got["name"] = event.item.name
    elif event.type in ("response.completed", "response.incomplete"):
        got["final"] = event.response


def rs_stream(ctx, model, **extra):
    got = rs_blank()
    for event in ctx.oa.responses.create(model=model, instructions=SYSTEM, input=rs_input(),
                                         stream=True, **extra):
        rs_fold(got, event)
    return got


def rs_compare(ctx, model, **extra):
    want, got = rs_raw(ctx, model, **extra), rs_stream(ctx, model, **extra)
    for key in ("text", "summary", "args", "name", "types", "seq"):
        eq(got[key], want[key], f"stream {key}")
    eq(got["seq"], list(range(len(got["seq"]))), "sequence_number counts from 0 without gaps")
    if want["final"] is not None:
        eq(got["final"].usage.model_dump(exclude_none=True), want["final"]["usage"], "usage")
        eq(got["final"].status, want["final"]["status"], "status")
    return got


LIFECYCLE = ["response.created", "response.in_progress", "response.output_item.added",
             "response.content_part.added"]
CLOSING = ["response.output_text.done", "response.content_part.done", "response.output_item.done"]


@case
def responses_stream_text_and_usage(ctx):
    got = rs_compare(ctx, f"gpt-4.1+{FAST},tokens=30,cached=4")
    deltas = got["types"][len(LIFECYCLE):-len(CLOSING) - 1]
    eq(got["types"][:len(LIFECYCLE)], LIFECYCLE, "opening events")
    eq(set(deltas), {"response.output_text.delta"}, "only text deltas in between")
    eq(got["types"][-len(CLOSING) - 1:], CLOSING + ["response.completed"], "closing events")
    final = got["final"]
    eq(final.usage.output_tokens, o200k(got["text"]), "output_tokens")
    eq(final.usage.input_tokens_details.cached_tokens, 4, "cached_tokens")
    eq(final.output_text, got["text"], "final output_text is the streamed text")
    eq(final.model, "gpt-4.1", "model echoed without directives")
    eq(final.instructions, SYSTEM, "instructions echoed")


@case
def responses_stream_reasoning_summary(ctx):
    model = f"o4-mini+{FAST},tokens=8,reasoning=5,chunk=2"
    got = rs_compare(ctx, model, reasoning={"effort": "low", "summary": "auto"})
    if not got["summary"]:
        raise AssertionError("no reasoning summary streamed")
    u = got["final"].usage
    thought = o200k(got["summary"])
    eq((u.output_tokens, u.output_tokens_details.reasoning_tokens),
       (o200k(got["final"].output_text) + thought, thought), "reasoning in output")
    eq(got["final"].output[0].type, "reasoning", "reasoning item first")
    eq(got["final"].output[0].summary[0].text, got["summary"], "summary text")
    hidden = rs_compare(ctx, model, reasoning={"effort": "low"})
    eq(hidden["summary"], "", "no summary unless asked for")
    eq(hidden["final"].usage.output_tokens_details.reasoning_tokens, thought,
       "hidden reasoning counted")


@case
def responses_stream_helper_final_response(ctx):
    model = f"gpt-4.1+{FAST},tokens=25,keepalive=1"
    want = rs_raw(ctx, model)
    with ctx.oa.responses.stream(model=model, instructions=SYSTEM, input=rs_input()) as stream:
        snapshot = ""
        for event in stream:
            if event.type == "response.output_text.delta":
                snapshot = event.snapshot
        final = stream.get_final_response()
    eq(snapshot, want["text"], "the helper's accumulated snapshot")
    eq(final.output_text, want["text"], "get_final_response().output_text")
    eq(final.usage.model_dump(exclude_none=True), want["final"]["usage"], "usage")
    eq(final.status, "completed", "status")


@case
def responses_stream_function_call(ctx):
    model = f"gpt-4.1+{FAST},tool=get_weather"
    got = rs_compare(ctx, model)
    eq(got["name"], "get_weather", "function name")
    eq(json.loads(got["args"]), {"city": "Paris", "unit": "celsius"}, "arguments")
    with ctx.oa.responses.stream(model=model, instructions=SYSTEM, input=rs_input()) as stream:
        final = stream.get_final_response()
    call = final.output[0]
    eq((call.type, call.name, call.arguments), ("function_call", "get_weather", got["args"]),
       "function_call item")
    if not call.call_id.startswith("call_"):
        raise AssertionError(f"call_id {call.call_id!r}")


@case
def responses_incomplete(ctx):
    got = rs_compare(ctx, f"gpt-4.1+{FAST},tokens=40", max_output_tokens=16)
    eq(got["types"][-1], "response.incomplete", "terminal event")
    eq(got["final"].incomplete_details.reason, "max_output_tokens", "reason")
    eq(got["final"].usage.output_tokens, o200k(got["text"]), "capped output")
    got = rs_compare(ctx, f"gpt-4.1+{FAST},tokens=5,filter=1")
    eq(got["final"].incomplete_details.reason, "content_filter", "filter reason")


@case
def responses_non_stream(ctx):
    model = f"gpt-4.1+{FAST},tokens=20"
    want = rs_raw(ctx, model)
    r = ctx.oa.responses.create(model=model, instructions=SYSTEM, input=rs_input())
    eq(r.output_text, want["text"], "output_text")
    eq(r.status, "completed", "status")
    eq(r.usage.output_tokens, o200k(r.output_text), "output_tokens")
    eq(r.usage.input_tokens, want["final"]["usage"]["input_tokens"], "input_tokens")
    eq(r.model, "gpt-4.1", "model")


@case
def responses_errors(ctx):
    def call(fault):
        return lambda: ctx.oa.responses.create(model=f"m+fault={fault},retry_after=2",
                                               input=rs_input())
    e = raises(openai.RateLimitError, call("429"))
    eq((e.status_code, e.code), (429, "rate_limit_exceeded"), "429")
    e = raises(openai.BadRequestError, call("400ctx"))
    eq((e.code, e.param), ("context_length_exceeded", "input"), "context length")
    eq(raises(openai.InternalServerError, call("500")).status_code, 500, "500")

    model = f"m+{FAST},tokens=6,fault=error_event"
    want = rs_raw(ctx, model)
    eq(want["types"][-2:], ["error", "response.failed"], "error, then response.failed")
    eq(want["seq"], list(range(len(want["seq"]))), "the error keeps the numbering")
    got = rs_blank()

    def run():
        for event in ctx.oa.responses.create(model=model, instructions=SYSTEM,
                                             input=rs_input(), stream=True):
            rs_fold(got, event)
    e = raises(openai.APIError, run)
    eq((e.code, want["error"]), ("server_is_overloaded", "server_is_overloaded"), "error code")
    if not got["text"] or not want["text"].startswith(got["text"]):
        raise AssertionError(f"text before the error: {got['text']!r} vs {want['text']!r}")


# ---------------------------------------------------------------- Azure OpenAI

AZ_VERSION = "2024-10-21"
AZ_SERVED = "gpt-4o-2024-08-06"


def az_wire(text):
    """Chat Completions as Azure streams it: a first chunk with no choices carrying the
    prompt's filter verdicts, verdicts on choices, chunks that may have no delta."""
    w = {"content": "", "finish": None, "usage": None, "prompt_filter": None, "first_choices": None,
         "verdicts": 0, "models": set()}
    for i, d in enumerate(sse_data(text, "\n")):
        if d == "[DONE]":
            continue
        j = json.loads(d)
        if i == 0:
            w["first_choices"] = j["choices"]
            w["prompt_filter"] = j.get("prompt_filter_results")
        if j.get("usage"):
            w["usage"] = j["usage"]
        if j.get("model"):
            w["models"].add(j["model"])
        for c in j["choices"]:
            w["content"] += (c.get("delta") or {}).get("content") or ""
            w["finish"] = c.get("finish_reason") or w["finish"]
            w["verdicts"] += 1 if c.get("content_filter_results") else 0
    return w


def az_script(extra=""):
    return {"x-mock-script": f"{FAST},tokens=12,served={AZ_SERVED}{extra}"}


def az_raw(ctx, path, body, headers):
    status, text = raw(ctx.base, path, body, headers)
    eq(status, 200, "raw status")
    return az_wire(text)


def az_sdk_stream(client, model, headers):
    got = {"content": "", "finish": None, "usage": None, "models": set()}
    for chunk in client.chat.completions.create(
            model=model, messages=oa_messages(), stream=True,
            stream_options={"include_usage": True}, extra_headers=headers):
        if chunk.usage is not None:
            got["usage"] = chunk.usage.model_dump(exclude_none=True)
        if chunk.model:
            got["models"].add(chunk.model)
        for c in chunk.choices:
            got["content"] += (c.delta.content if c.delta else None) or ""
            got["finish"] = c.finish_reason or got["finish"]
    return got


def az_classic(ctx, **auth):
    return openai.AzureOpenAI(azure_endpoint=ctx.base, api_version=AZ_VERSION, max_retries=0, **auth)


@case
def azure_classic_stream_with_api_key(ctx):
    headers = az_script()
    body = {"messages": oa_messages(), "stream": True, "stream_options": {"include_usage": True}}
    want = az_raw(ctx, f"/openai/deployments/chat-prod/chat/completions?api-version={AZ_VERSION}",
                  body, {"api-key": "k", **headers})
    eq(want["first_choices"], [], "the first chunk has no choices")
    eq(want["prompt_filter"][0]["prompt_index"], 0, "prompt_filter_results on the first chunk")
    if want["verdicts"] == 0:
        raise AssertionError("no content_filter_results on any choice")
    got = az_sdk_stream(az_classic(ctx, api_key="k"), "chat-prod", headers)
    for key in ("content", "finish", "usage", "models"):
        eq(got[key], want[key], f"stream {key}")
    eq(got["models"], {AZ_SERVED}, "chunks name the model behind the deployment")
    eq(got["usage"]["completion_tokens"], o200k(got["content"]), "completion_tokens")


@case
def azure_classic_whole_with_entra_token(ctx):
    client = az_classic(ctx, azure_ad_token="entra-token")
    r = client.chat.completions.create(model="chat-prod", messages=oa_messages(),
                                       extra_headers=az_script())
    eq(r.model, AZ_SERVED, "model")
    eq(r.usage.completion_tokens, o200k(r.choices[0].message.content), "completion_tokens")
    extra = r.model_extra or {}
    eq(extra["prompt_filter_results"][0]["content_filter_results"]["hate"]["severity"], "safe",
       "prompt_filter_results")
    eq((r.choices[0].model_extra or {})["content_filter_results"]["violence"]["filtered"], False,
       "content_filter_results")
    want = az_raw(ctx, f"/openai/deployments/chat-prod/chat/completions?api-version={AZ_VERSION}",
                  {"messages": oa_messages(), "stream": True}, {"authorization": "Bearer t", **az_script()})
    eq(r.choices[0].message.content, want["content"], "text")


@case
def azure_v1_with_the_openai_client(ctx):
    client = openai.OpenAI(base_url=ctx.base + "/openai/v1", api_key="k", max_retries=0)
    headers = az_script()
    body = {"model": "chat-prod", "messages": oa_messages(), "stream": True,
            "stream_options": {"include_usage": True}}
    want = az_raw(ctx, "/openai/v1/chat/completions", body, {"api-key": "k", **headers})
    got = az_sdk_stream(client, "chat-prod", headers)
    for key in ("content", "finish", "usage", "models"):
        eq(got[key], want[key], f"stream {key}")
    # Lorem text is exactly the 12 tokens asked for and finishes normally; a markdown answer
    # that short has no sentence end yet and would finish cut (incomplete).
    r = client.responses.create(model="chat-prod", input=rs_input(),
                                extra_headers=az_script(",text=lorem"))
    eq(r.status, "completed", "responses status")
    eq(r.usage.output_tokens, o200k(r.output_text), "responses output_tokens")


@case
def azure_classic_responses(ctx):
    client = az_classic(ctx, api_key="k")
    headers = az_script()
    got = rs_blank()
    for event in client.responses.create(model="reasoner", instructions=SYSTEM, input=rs_input(),
                                         stream=True, extra_headers=headers):
        rs_fold(got, event)
    body = {"model": "reasoner", "instructions": SYSTEM, "input": rs_input(), "stream": True}
    status, text = raw(ctx.base, f"/openai/responses?api-version={AZ_VERSION}", body,
                       {"api-key": "k", **headers})
    eq(status, 200, "raw status")
    want = responses_wire(text)
    for key in ("text", "types", "seq"):
        eq(got[key], want[key], f"stream {key}")


@case
def azure_errors(ctx):
    body = {"messages": oa_messages()}
    status, text = raw(ctx.base, "/openai/deployments/d/chat/completions", body, {"api-key": "k"})
    eq((status, text), (404, '{"error":{"code":"404","message": "Resource not found"}}'),
       "no api-version")
    status, text = raw(ctx.base, f"/openai/deployments/d/chat/completions?api-version={AZ_VERSION}",
                       body, {})
    eq(status, 401, "no key")
    eq(json.loads(text)["error"]["code"], "401", "401 code")
    e = raises(openai.BadRequestError, lambda: openai.AzureOpenAI(
        azure_endpoint=ctx.base, api_version="latest", api_key="k", max_retries=0
    ).chat.completions.create(model="d", messages=oa_messages()))
    eq((e.status_code, e.code), (400, "BadRequest"), "unknown api-version")

    client = az_classic(ctx, api_key="k")

    def call(script):
        return lambda: client.chat.completions.create(
            model="d", messages=oa_messages(), extra_headers={"x-mock-script": script})
    e = raises(openai.BadRequestError, call("prompt_filter=violence+jailbreak"))
    eq((e.code, e.param), ("content_filter", "prompt"), "filtered prompt")
    result = e.body["innererror"]["content_filter_result"]
    eq((result["violence"], result["jailbreak"]),
       ({"filtered": True, "severity": "medium"}, {"filtered": True, "detected": True}),
       "the filtered categories")
    eq(e.body["innererror"]["code"], "ResponsibleAIPolicyViolation", "innererror code")
    eq(raises(openai.AuthenticationError, call("fault=401")).code, "401", "401")
    eq(raises(openai.NotFoundError, call("fault=404")).code, "DeploymentNotFound", "404")
    e = raises(openai.RateLimitError, call("fault=429,retry_after=3"))
    eq((e.code, e.response.headers.get("retry-after")), ("429", "3"), "429")
    eq(raises(openai.BadRequestError, call("fault=400ctx")).code, "context_length_exceeded", "ctx")


# ---------------------------------------------------------------- Anthropic

def an_raw(ctx, model, max_tokens=200):
    body = {"model": model, "max_tokens": max_tokens, "system": SYSTEM, "stream": True,
            "messages": [{"role": "user", "content": PROMPT}]}
    status, text = raw(ctx.base, "/v1/messages", body,
                       {"x-api-key": "k", "anthropic-version": "2023-06-01"})
    eq(status, 200, "raw status")
    return anthropic_wire(text)


def an_final(ctx, model, max_tokens=200):
    with ctx.an.messages.stream(model=model, max_tokens=max_tokens, system=SYSTEM,
                                messages=[{"role": "user", "content": PROMPT}]) as stream:
        return stream.get_final_message()


def an_parts(msg):
    parts = {"text": "", "thinking": "", "tool": None, "signature": None}
    for block in msg.content:
        if block.type == "text":
            parts["text"] += block.text
        elif block.type == "thinking":
            parts["thinking"] += block.thinking
            parts["signature"] = block.signature
        elif block.type == "tool_use":
            parts["tool"] = (block.name, block.input)
    return parts


@case
def anthropic_stream_text_usage_cache(ctx):
    model = f"claude-sonnet-4-5+{FAST},tokens=25,cached=5,cache_write=2,text=lorem"
    want, msg = an_raw(ctx, model), an_final(ctx, model)
    eq(an_parts(msg)["text"], want["text"], "text")
    eq((msg.stop_reason, msg.usage.output_tokens), (want["stop"], want["output"]), "stop/usage")
    eq(msg.usage.output_tokens, 25, "output_tokens")
    eq(msg.usage.input_tokens, want["start"]["input_tokens"], "input_tokens")
    eq(msg.usage.cache_read_input_tokens, 5, "cache_read")
    eq(msg.usage.cache_creation_input_tokens, 2, "cache_creation")
    eq(msg.model, "claude-sonnet-4-5", "model")


@case
def anthropic_stream_thinking(ctx):
    model = f"claude+{FAST},tokens=8,reasoning=5,text=lorem"
    want, msg = an_raw(ctx, model), an_final(ctx, model)
    parts = an_parts(msg)
    eq((parts["thinking"], parts["text"]), (want["thinking"], want["text"]), "thinking/text")
    if not parts["signature"]:
        raise AssertionError("thinking block has no signature")
    eq(msg.content[0].type, "thinking", "thinking block first")
    eq(msg.usage.output_tokens, 13, "output_tokens include thinking")


@case
def anthropic_stream_tool_use(ctx):
    model = f"claude+{FAST},tool=get_weather"
    want, msg = an_raw(ctx, model), an_final(ctx, model)
    eq(an_parts(msg)["tool"], ("get_weather", json.loads(want["json"])), "tool_use")
    eq(msg.stop_reason, "tool_use", "stop_reason")


@case
def anthropic_stop_reasons(ctx):
    eq(an_final(ctx, f"c+{FAST},tokens=30", max_tokens=6).stop_reason, "max_tokens", "cap")
    eq(an_final(ctx, f"c+{FAST},tokens=3,filter=1").stop_reason, "refusal", "filter")


@case
def anthropic_non_stream(ctx):
    model = f"claude+{FAST},tokens=15,text=lorem"
    want = an_raw(ctx, model)
    msg = ctx.an.messages.create(model=model, max_tokens=100,
                                 messages=[{"role": "user", "content": PROMPT}], system=SYSTEM)
    eq(an_parts(msg)["text"], want["text"], "text")
    eq(msg.usage.output_tokens, 15, "output_tokens")


@case
def anthropic_status_errors(ctx):
    def call(fault):
        return lambda: ctx.an.messages.create(model=f"c+fault={fault}", max_tokens=10,
                                              messages=[{"role": "user", "content": PROMPT}])
    eq(raises(anthropic.RateLimitError, call("429")).status_code, 429, "429")
    eq(raises(anthropic.OverloadedError, call("529")).status_code, 529, "529")
    eq(raises(anthropic.InternalServerError, call("500")).status_code, 500, "500")
    raises(anthropic.AuthenticationError, call("401"))
    raises(anthropic.NotFoundError, call("404"))
    e = raises(anthropic.BadRequestError, call("400ctx"))
    if "prompt is too long" not in e.message:
        raise AssertionError(f"context message: {e.message}")


@case
def anthropic_mid_stream_error(ctx):
    def run():
        for _ in ctx.an.messages.create(model=f"c+{FAST},tokens=6,fault=error_event",
                                        max_tokens=100, stream=True,
                                        messages=[{"role": "user", "content": PROMPT}]):
            pass
    e = raises(anthropic.APIStatusError, run)
    if "overloaded_error" not in str(e.body):
        raise AssertionError(f"error body: {e.body}")


# ---------------------------------------------------------------- Gemini

def gm_contents():
    return [genai_types.Content(role="user", parts=[genai_types.Part(text=PROMPT)])]


def gm_config(**kw):
    return genai_types.GenerateContentConfig(system_instruction=SYSTEM, **kw)


def gm_raw(ctx, model, method="streamGenerateContent", config=None, system=True):
    body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
    if system:
        body["systemInstruction"] = {"parts": [{"text": SYSTEM}]}
    if config:
        body["generationConfig"] = config
    path = f"/v1beta/models/{model}:{method}" + ("?alt=sse" if method.startswith("stream") else "")
    status, text = raw(ctx.base, path, body, {"x-goog-api-key": "k"})
    eq(status, 200, "raw status")
    return gemini_wire(text) if method.startswith("stream") else json.loads(text)


def gm_stream(ctx, model, **config):
    got = {"text": "", "thoughts": "", "calls": [], "finish": None, "usage": None}
    for chunk in ctx.gm.models.generate_content_stream(model=model, contents=gm_contents(),
                                                       config=gm_config(**config)):
        if chunk.usage_metadata is not None:
            got["usage"] = chunk.usage_metadata
        for cand in chunk.candidates or []:
            for p in cand.content.parts or []:
                if p.function_call:
                    got["calls"].append({"name": p.function_call.name, "args": p.function_call.args})
                elif p.thought:
                    got["thoughts"] += p.text or ""
                else:
                    got["text"] += p.text or ""
            if cand.finish_reason:
                got["finish"] = cand.finish_reason.value
    return got


@case
def gemini_stream_text_and_usage(ctx):
    model = f"gemini-2.5-flash+{FAST},tokens=20,cached=3,text=lorem"
    want, got = gm_raw(ctx, model), gm_stream(ctx, model)
    eq((got["text"], got["finish"]), (want["text"], want["finish"]), "text/finish")
    u = got["usage"]
    eq(u.candidates_token_count, 20, "candidatesTokenCount")
    eq(u.prompt_token_count, want["usage"]["promptTokenCount"], "promptTokenCount")
    eq(u.cached_content_token_count, 3, "cachedContentTokenCount")
    eq(u.total_token_count, want["usage"]["totalTokenCount"], "totalTokenCount")


@case
def gemini_stream_thoughts_and_tool(ctx):
    model = f"gemini-2.5-pro+{FAST},tokens=6,reasoning=4,text=lorem"
    want, got = gm_raw(ctx, model), gm_stream(ctx, model)
    eq((got["thoughts"], got["text"]), (want["thoughts"], want["text"]), "thoughts/text")
    eq(got["usage"].thoughts_token_count, 4, "thoughtsTokenCount")
    got = gm_stream(ctx, f"g+{FAST},tool=get_weather")
    eq(got["calls"], [{"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}}],
       "functionCall")


@case
def gemini_finish_reasons(ctx):
    eq(gm_stream(ctx, f"g+{FAST},tokens=30", max_output_tokens=5)["finish"], "MAX_TOKENS", "cap")
    eq(gm_stream(ctx, f"g+{FAST},tokens=4,filter=1")["finish"], "SAFETY", "filter")
    r = ctx.gm.models.generate_content(model=f"g+{FAST},block=1", contents=gm_contents())
    eq(r.prompt_feedback.block_reason.value, "SAFETY", "blockReason")
    eq(r.candidates, None, "no candidates when blocked")


@case
def gemini_non_stream_and_count(ctx):
    model = f"gemini-2.5-flash+{FAST},tokens=12,text=lorem"
    want = gm_raw(ctx, model, "generateContent")
    r = ctx.gm.models.generate_content(model=model, contents=gm_contents(), config=gm_config())
    eq(r.text, want["candidates"][0]["content"]["parts"][0]["text"], "text")
    eq(r.usage_metadata.candidates_token_count, 12, "candidatesTokenCount")
    eq(r.model_version, "gemini-2.5-flash", "modelVersion")
    counted = ctx.gm.models.count_tokens(model="gemini-2.5-flash", contents=gm_contents())
    want = gm_raw(ctx, "gemini-2.5-flash", "countTokens", system=False)
    eq(counted.total_tokens, want["totalTokens"], "totalTokens")


@case
def gemini_v1beta_path(ctx):
    # Prism calls v1beta; recent SDKs default to v1. Both must answer identically.
    client = genai.Client(api_key="mock", http_options=genai_types.HttpOptions(
        base_url=ctx.base, api_version="v1beta",
        retry_options=genai_types.HttpRetryOptions(attempts=1)))
    model = f"gemini-2.5-flash+{FAST},tokens=9"
    r = client.models.generate_content(model=model, contents=gm_contents(), config=gm_config())
    eq(r.text, gm_raw(ctx, model)["text"], "text via v1beta")


@case
def gemini_errors(ctx):
    def call(fault):
        return lambda: ctx.gm.models.generate_content(model=f"g+fault={fault}",
                                                      contents=gm_contents())
    e = raises(genai_errors.ClientError, call("429"))
    eq((e.code, e.status), (429, "RESOURCE_EXHAUSTED"), "429")
    eq(raises(genai_errors.ServerError, call("503")).code, 503, "503")
    eq(raises(genai_errors.ClientError, call("400ctx")).status, "INVALID_ARGUMENT", "ctx")

    def mid_stream():
        for _ in ctx.gm.models.generate_content_stream(
                model=f"g+{FAST},tokens=6,fault=error_event", contents=gm_contents()):
            pass
    eq(raises(genai_errors.APIError, mid_stream).code, 503, "mid-stream error code")


# ---------------------------------------------------------------- runner

class Ctx:
    def __init__(self, base):
        self.base = base
        self.oa = openai.OpenAI(base_url=base + "/v1", api_key="sk-mock", max_retries=0)
        self.an = anthropic.Anthropic(base_url=base, api_key="mock", max_retries=0)
        self.gm = genai.Client(api_key="mock", http_options=genai_types.HttpOptions(
            base_url=base, retry_options=genai_types.HttpRetryOptions(attempts=1)))
        self.bedrock = bedrock_boto3.client(base)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="http://127.0.0.1:PORT of the mock")
    parser.add_argument("-k", default="", help="only run cases whose name contains this")
    args = parser.parse_args()
    ctx = Ctx(args.base_url.rstrip("/"))
    passed = failed = 0
    for fn in CASES + sdk_tools.CASES + bedrock_boto3.CASES:
        if args.k not in fn.__name__:
            continue
        try:
            fn(ctx)
            passed += 1
            print(f"ok    {fn.__name__}")
        except Exception as e:  # report every failure, keep going
            failed += 1
            print(f"FAIL  {fn.__name__}: {type(e).__name__}: {e}")
            traceback.print_exc(limit=3, file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
