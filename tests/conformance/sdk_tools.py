"""Tool calls through the official SDKs: each request offers real tools (in the SDK's own
parameter shape) and the mock calls them; `tools=2` makes two parallel calls.

As elsewhere, every request is first sent raw and its stream assembled by hand, call by
call (Chat Completions by `index`, Responses by output item, Anthropic and Bedrock by
content block, Gemini by part): that is the ground truth. The SDK must then hand back the
same calls, each with its name and its arguments parsed whole, however many deltas they
were split across.
"""

import json
import urllib.parse

import bedrock_boto3
from common import FAST, PROMPT, SYSTEM, eq, raw, raw_bytes

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


WEATHER_PARAMS = {"type": "object", "properties": {"city": {"type": "string"}},
                  "required": ["city"]}
NOW_PARAMS = {"type": "object", "properties": {}}
# The mock fills a string with `mock` (`mock2` for a second call to the same tool) and
# gives a tool without properties `{}`.
BOTH = [("get_weather", {"city": "mock"}), ("now", {})]


def named(calls):
    """`(id, name, arguments)` calls without their ids: ids come from the mock's request
    counter, so the raw request and the SDK's get different ones."""
    return [c[1:] for c in calls]


def calls_differ(ids, what):
    if len(set(ids)) != len(ids) or not all(ids):
        raise AssertionError(f"{what}: each call needs its own id, got {ids!r}")


def sse_data(text, sep="\n"):
    for block in text.split(sep + sep):
        for line in block.split(sep):
            if line.startswith("data: "):
                yield line[len("data: "):]


# ---------------------------------------------------------------- OpenAI Chat Completions

def oa_tools(*names):
    params = {"get_weather": WEATHER_PARAMS, "now": NOW_PARAMS}
    return [{"type": "function", "function": {"name": n, "description": n, "parameters": params[n]}}
            for n in names]


def oa_body(model, tools):
    return {"model": model, "stream": True, "tools": tools,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]}


def oa_raw_calls(ctx, model, tools):
    """[(id, name, arguments text)] by `index`, and how many argument deltas came."""
    status, text = raw(ctx.base, "/v1/chat/completions", oa_body(model, tools),
                       {"authorization": "Bearer k"})
    eq(status, 200, "raw status")
    calls, deltas = {}, 0
    for d in sse_data(text):
        if d == "[DONE]":
            continue
        for c in json.loads(d)["choices"]:
            for tc in c["delta"].get("tool_calls") or []:
                call = calls.setdefault(tc["index"], {"id": None, "name": None, "args": ""})
                call["id"] = tc.get("id") or call["id"]
                call["name"] = tc.get("function", {}).get("name") or call["name"]
                piece = tc.get("function", {}).get("arguments") or ""
                call["args"] += piece
                deltas += bool(piece)
    return [(c["id"], c["name"], c["args"]) for _, c in sorted(calls.items())], deltas


def oa_sdk_calls(ctx, model, tools):
    """The calls as the SDK's chunk objects carry them, merged by index, and as its
    stream helper's final completion has them."""
    body = oa_body(model, tools)
    merged = {}
    for chunk in ctx.oa.chat.completions.create(**body):
        for c in chunk.choices:
            for tc in c.delta.tool_calls or []:
                call = merged.setdefault(tc.index, {"id": None, "name": None, "args": ""})
                call["id"] = tc.id or call["id"]
                if tc.function:
                    call["name"] = tc.function.name or call["name"]
                    call["args"] += tc.function.arguments or ""
    body.pop("stream")
    with ctx.oa.chat.completions.stream(**body) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    helper = [(tc.id, tc.function.name, tc.function.arguments) for tc in choice.message.tool_calls]
    chunks = [(c["id"], c["name"], c["args"]) for _, c in sorted(merged.items())]
    return chunks, helper, choice.finish_reason


def oa_check(ctx, model, tools, expected):
    want, deltas = oa_raw_calls(ctx, model, tools)
    chunks, helper, finish = oa_sdk_calls(ctx, model, tools)
    eq(named(chunks), named(want), "calls merged from the SDK's chunks")
    eq(named(helper), named(want), "calls in the stream helper's final completion")
    eq([(name, json.loads(args)) for _, name, args in helper], expected, "names and arguments")
    calls_differ([i for i, _, _ in helper], "tool_call ids")
    eq(finish, "tool_calls", "finish_reason")
    if deltas <= len(expected):
        raise AssertionError(f"arguments came whole ({deltas} deltas), not split")


@case
def openai_chat_offered_tool_streams_and_reassembles(ctx):
    oa_check(ctx, f"gpt-4o+{FAST}", oa_tools("get_weather"), BOTH[:1])


@case
def openai_chat_two_parallel_calls(ctx):
    oa_check(ctx, f"gpt-4o+{FAST},tools=2", oa_tools("get_weather", "now"), BOTH)
    # One tool offered: called twice, with other arguments the second time.
    oa_check(ctx, f"gpt-4o+{FAST},tools=2", oa_tools("get_weather"),
             [("get_weather", {"city": "mock"}), ("get_weather", {"city": "mock2"})])


# ---------------------------------------------------------------- OpenAI Responses

def rs_tools(*names):
    params = {"get_weather": WEATHER_PARAMS, "now": NOW_PARAMS}
    return [{"type": "function", "name": n, "description": n, "parameters": params[n],
             "strict": False} for n in names]


@case
def responses_two_function_calls(ctx):
    model, tools = f"gpt-4.1+{FAST},tools=2", rs_tools("get_weather", "now")
    body = {"model": model, "instructions": SYSTEM, "stream": True, "tools": tools,
            "input": [{"role": "user", "content": PROMPT}]}
    status, text = raw(ctx.base, "/v1/responses", body, {"authorization": "Bearer k"})
    eq(status, 200, "raw status")
    items, deltas = {}, {}
    for d in sse_data(text):
        j = json.loads(d)
        if j["type"] == "response.output_item.added" and j["item"]["type"] == "function_call":
            items[j["output_index"]] = (j["item"]["call_id"], j["item"]["name"])
        elif j["type"] == "response.function_call_arguments.delta":
            deltas.setdefault(j["output_index"], []).append(j["delta"])
    want = [(items[i][0], items[i][1], "".join(deltas.get(i, []))) for i in sorted(items)]
    if len(deltas.get(min(items), [])) < 2:
        raise AssertionError("the first call's arguments came whole, not split")
    body.pop("stream")
    with ctx.oa.responses.stream(**body) as stream:
        sdk_deltas = {}
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                sdk_deltas.setdefault(event.output_index, []).append(event.delta)
        final = stream.get_final_response()
    got = [(o.call_id, o.name, o.arguments) for o in final.output if o.type == "function_call"]
    eq(named(got), named(want), "function_call items in get_final_response()")
    eq({i: "".join(d) for i, d in sdk_deltas.items()}, {i: "".join(d) for i, d in deltas.items()},
       "argument deltas by output_index")
    eq([(name, json.loads(args)) for _, name, args in got], BOTH, "names and arguments")
    calls_differ([c for c, _, _ in got], "call_ids")


# ---------------------------------------------------------------- Anthropic

def an_tools(*names):
    params = {"get_weather": WEATHER_PARAMS, "now": NOW_PARAMS}
    return [{"name": n, "description": n, "input_schema": params[n]} for n in names]


def an_check(ctx, model, tools, expected):
    body = {"model": model, "max_tokens": 200, "system": SYSTEM, "tools": tools,
            "messages": [{"role": "user", "content": PROMPT}]}
    status, text = raw(ctx.base, "/v1/messages", {**body, "stream": True},
                       {"x-api-key": "k", "anthropic-version": "2023-06-01"})
    eq(status, 200, "raw status")
    blocks, pieces = {}, {}
    for d in sse_data(text):
        j = json.loads(d)
        if j["type"] == "content_block_start" and j["content_block"]["type"] == "tool_use":
            blocks[j["index"]] = (j["content_block"]["id"], j["content_block"]["name"])
        elif j["type"] == "content_block_delta" and j["delta"]["type"] == "input_json_delta":
            pieces.setdefault(j["index"], []).append(j["delta"]["partial_json"])
    want = [(blocks[i][0], blocks[i][1], json.loads("".join(pieces.get(i, [])) or "{}"))
            for i in sorted(blocks)]
    if len(pieces.get(min(blocks), [])) < 2:
        raise AssertionError("the first call's input came whole, not split")
    with ctx.an.messages.stream(**body) as stream:
        msg = stream.get_final_message()
    got = [(b.id, b.name, b.input) for b in msg.content if b.type == "tool_use"]
    eq(named(got), named(want), "tool_use blocks in get_final_message()")
    eq([(name, args) for _, name, args in got], expected, "names and inputs")
    calls_differ([i for i, _, _ in got], "tool_use ids")
    eq(msg.stop_reason, "tool_use", "stop_reason")


@case
def anthropic_offered_tool_input_json_deltas(ctx):
    an_check(ctx, f"claude-sonnet-4-5+{FAST}", an_tools("get_weather"), BOTH[:1])


@case
def anthropic_two_tool_use_blocks(ctx):
    an_check(ctx, f"claude-sonnet-4-5+{FAST},tools=2", an_tools("get_weather", "now"), BOTH)


# ---------------------------------------------------------------- Gemini

@case
def gemini_function_call_parts(ctx):
    from google.genai import types

    model = f"gemini-2.5-flash+{FAST},tools=2"
    decls = [types.FunctionDeclaration(name="get_weather", description="weather",
                                       parameters_json_schema=WEATHER_PARAMS),
             types.FunctionDeclaration(name="now", description="clock",
                                       parameters_json_schema=NOW_PARAMS)]
    config = types.GenerateContentConfig(
        system_instruction=SYSTEM, tools=[types.Tool(function_declarations=decls)],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "systemInstruction": {"parts": [{"text": SYSTEM}]},
            "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "weather", "parametersJsonSchema": WEATHER_PARAMS},
                {"name": "now", "description": "clock", "parametersJsonSchema": NOW_PARAMS}]}]}
    status, text = raw(ctx.base, f"/v1beta/models/{model}:streamGenerateContent?alt=sse", body,
                       {"x-goog-api-key": "k"})
    eq(status, 200, "raw status")
    want = [(p["functionCall"]["name"], p["functionCall"]["args"])
            for d in sse_data(text, "\r\n") for c in json.loads(d).get("candidates", [])
            for p in c["content"]["parts"] if "functionCall" in p]
    eq(want, BOTH, "raw functionCall parts")
    streamed = []
    for chunk in ctx.gm.models.generate_content_stream(model=model, contents=PROMPT, config=config):
        streamed += [(f.name, f.args) for f in chunk.function_calls or []]
    eq(streamed, want, "function_calls across the streamed chunks")
    whole = ctx.gm.models.generate_content(model=model, contents=PROMPT, config=config)
    eq([(f.name, f.args) for f in whole.function_calls], want, "function_calls of a whole answer")
    eq(whole.candidates[0].finish_reason.name, "STOP", "finishReason")


# ---------------------------------------------------------------- Bedrock (boto3)

@case
def bedrock_boto3_two_tool_use_blocks(ctx):
    model = f"{bedrock_boto3.MODEL}+{FAST},tools=2"
    params = {"get_weather": WEATHER_PARAMS, "now": NOW_PARAMS}
    tool_config = {"tools": [{"toolSpec": {"name": n, "description": n,
                                           "inputSchema": {"json": params[n]}}}
                             for n in ("get_weather", "now")]}
    body = {"messages": bedrock_boto3.messages(), "system": bedrock_boto3.system(),
            "toolConfig": tool_config}
    path = "/model/" + urllib.parse.quote(model, safe="") + "/converse-stream"
    status, data = raw_bytes(ctx.base, path, body, {"authorization": "Bearer mock-bedrock-key"})
    eq(status, 200, "raw status")
    blocks, pieces = {}, {}
    for headers, payload in bedrock_boto3.event_stream(data):
        kind = headers[":event-type"]
        if kind == "contentBlockStart":
            use = payload["start"]["toolUse"]
            blocks[payload["contentBlockIndex"]] = (use["toolUseId"], use["name"])
        elif kind == "contentBlockDelta" and "toolUse" in payload["delta"]:
            pieces.setdefault(payload["contentBlockIndex"], []).append(payload["delta"]["toolUse"]["input"])
    want = [(blocks[i][0], blocks[i][1], "".join(pieces.get(i, []))) for i in sorted(blocks)]
    r = ctx.bedrock.converse_stream(modelId=model, messages=bedrock_boto3.messages(),
                                    system=bedrock_boto3.system(), toolConfig=tool_config)
    starts, inputs, stop = {}, {}, None
    for event in r["stream"]:
        if "contentBlockStart" in event:
            e = event["contentBlockStart"]
            starts[e["contentBlockIndex"]] = (e["start"]["toolUse"]["toolUseId"],
                                              e["start"]["toolUse"]["name"])
        elif "contentBlockDelta" in event:
            e = event["contentBlockDelta"]
            inputs.setdefault(e["contentBlockIndex"], []).append(e["delta"]["toolUse"]["input"])
        elif "messageStop" in event:
            stop = event["messageStop"]["stopReason"]
    got = [(starts[i][0], starts[i][1], "".join(inputs.get(i, []))) for i in sorted(starts)]
    eq(named(got), named(want), "toolUse blocks as boto3 streams them")
    eq([(name, json.loads(args)) for _, name, args in got], BOTH, "names and inputs")
    calls_differ([i for i, _, _ in got], "toolUseIds")
    eq(stop, "tool_use", "stopReason")
    whole = ctx.bedrock.converse(modelId=model, messages=bedrock_boto3.messages(),
                                 system=bedrock_boto3.system(), toolConfig=tool_config)
    uses = [b["toolUse"] for b in whole["output"]["message"]["content"] if "toolUse" in b]
    eq([(u["name"], u["input"]) for u in uses], [(n, json.loads(a)) for _, n, a in want],
       "toolUse blocks of a whole answer")
    calls_differ([u["toolUseId"] for u in uses], "toolUseIds of a whole answer")
