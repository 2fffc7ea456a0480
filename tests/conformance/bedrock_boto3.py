"""boto3's `bedrock-runtime` client against the mock's Bedrock Converse routes.

boto3 signs every request with SigV4 (the mock recomputes and checks the signature) and
parses the binary `application/vnd.amazon.eventstream` framing itself, checking both CRCs
of every message, so a case that passes proves the framing and the signature as AWS's own
SDK sees them. As for the other SDKs, each request is first sent raw (stdlib, a Bedrock
API key as bearer) and its event-stream bytes decoded by hand: that is the ground truth the
SDK's text, stop reason and usage must equal.

The mock serves Converse only (`/converse`, `/converse-stream`), not InvokeModel.
"""

import json
import struct
import urllib.parse
import zlib

import boto3
import botocore.config
import botocore.eventstream
import botocore.exceptions

from common import FAST, PROMPT, SYSTEM, eq, raises, raw_bytes

# The fixed fake pair the mock verifies signatures against (src/mock_server/bedrock.rs).
ACCESS_KEY_ID = "AKIDPRISMMOCKEXAMPLE"
SECRET_ACCESS_KEY = "prism/mock/wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def client(base, secret=SECRET_ACCESS_KEY):
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=base,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def messages():
    return [{"role": "user", "content": [{"text": PROMPT}]}]


def system():
    return [{"text": SYSTEM}]


# ---------------------------------------------------------------- raw wire ground truth

def event_stream(data):
    """Every message of an AWS event stream, both CRCs checked: (headers, payload)."""
    out, at = [], 0
    while at < len(data):
        total, headers_len, prelude_crc = struct.unpack_from(">III", data, at)
        eq(zlib.crc32(data[at:at + 8]), prelude_crc, "prelude CRC")
        message = data[at:at + total]
        eq(zlib.crc32(message[:-4]), struct.unpack_from(">I", message, total - 4)[0], "message CRC")
        headers, h = {}, 12
        while h < 12 + headers_len:
            name_len = message[h]
            name = message[h + 1:h + 1 + name_len].decode()
            h += 1 + name_len
            kind = message[h]
            h += 1
            eq(kind, 7, f"header {name} is a string")
            value_len = struct.unpack_from(">H", message, h)[0]
            headers[name] = message[h + 2:h + 2 + value_len].decode()
            h += 2 + value_len
        out.append((headers, json.loads(message[12 + headers_len:total - 4])))
        at += total
    return out


def converse_raw(base, model, stream=True, **inference):
    body = {"messages": messages(), "system": system()}
    if inference:
        body["inferenceConfig"] = inference
    path = "/model/" + urllib.parse.quote(model, safe="") + ("/converse-stream" if stream else "/converse")
    status, data = raw_bytes(base, path, body, {"authorization": "Bearer mock-bedrock-key"})
    eq(status, 200, "raw status")
    if not stream:
        return json.loads(data)
    w = {"text": "", "reasoning": "", "tool": None, "input": "", "stop": None, "usage": None}
    for headers, payload in event_stream(data):
        eq(headers[":message-type"], "event", "message type")
        kind = headers[":event-type"]
        if kind == "contentBlockDelta":
            delta = payload["delta"]
            w["text"] += delta.get("text", "")
            w["reasoning"] += delta.get("reasoningContent", {}).get("text", "")
            w["input"] += delta.get("toolUse", {}).get("input", "")
        elif kind == "contentBlockStart":
            w["tool"] = payload["start"]["toolUse"]["name"]
        elif kind == "messageStop":
            w["stop"] = payload["stopReason"]
        elif kind == "metadata":
            w["usage"] = payload["usage"]
    return w


def converse_stream(c, model, **inference):
    kw = {"inferenceConfig": inference} if inference else {}
    r = c.converse_stream(modelId=model, messages=messages(), system=system(), **kw)
    got = {"text": "", "reasoning": "", "tool": None, "input": "", "stop": None, "usage": None,
           "role": None, "latency": None}
    for event in r["stream"]:
        if "messageStart" in event:
            got["role"] = event["messageStart"]["role"]
        elif "contentBlockStart" in event:
            got["tool"] = event["contentBlockStart"]["start"]["toolUse"]["name"]
        elif "contentBlockDelta" in event:
            delta = event["contentBlockDelta"]["delta"]
            got["text"] += delta.get("text", "")
            got["reasoning"] += delta.get("reasoningContent", {}).get("text", "")
            got["input"] += delta.get("toolUse", {}).get("input", "")
        elif "messageStop" in event:
            got["stop"] = event["messageStop"]["stopReason"]
        elif "metadata" in event:
            got["usage"] = event["metadata"]["usage"]
            got["latency"] = event["metadata"]["metrics"]["latencyMs"]
    return got


def compare(ctx, model, **inference):
    want = converse_raw(ctx.base, model, **inference)
    got = converse_stream(ctx.bedrock, model, **inference)
    for key in ("text", "reasoning", "tool", "input", "stop", "usage"):
        eq(got[key], want[key], f"stream {key}")
    eq(got["role"], "assistant", "messageStart role")
    return got


# ---------------------------------------------------------------- cases

@case
def bedrock_boto3_converse_stream_text_stop_usage(ctx):
    got = compare(ctx, f"{MODEL}+{FAST},tokens=24,text=lorem")
    eq(got["stop"], "end_turn", "stopReason")
    eq(got["usage"]["outputTokens"], 24, "outputTokens")
    eq(got["usage"]["totalTokens"], got["usage"]["inputTokens"] + 24, "totalTokens")
    if not got["text"]:
        raise AssertionError("no text")


@case
def bedrock_boto3_converse_stream_cache_reasoning_tool(ctx):
    got = compare(ctx, f"{MODEL}+{FAST},tokens=10,cached=6,text=lorem")
    eq(got["usage"]["cacheReadInputTokens"], 6, "cacheReadInputTokens")
    got = compare(ctx, f"{MODEL}+{FAST},tokens=10,reasoning=5,text=lorem")
    if not got["reasoning"]:
        raise AssertionError("no reasoning text")
    got = compare(ctx, f"{MODEL}+{FAST},tool=get_weather")
    eq((got["tool"], got["stop"]), ("get_weather", "tool_use"), "tool use")
    eq(json.loads(got["input"]), {"city": "Paris", "unit": "celsius"}, "tool input")


@case
def bedrock_boto3_converse_stream_stop_reasons(ctx):
    eq(compare(ctx, f"{MODEL}+{FAST},tokens=30", maxTokens=5)["stop"], "max_tokens", "cap")
    eq(compare(ctx, f"{MODEL}+{FAST},tokens=5,filter=1")["stop"], "content_filtered", "filter")


@case
def bedrock_boto3_converse_whole(ctx):
    model = f"{MODEL}+{FAST},tokens=18,text=lorem"
    want = converse_raw(ctx.base, model, stream=False)
    r = ctx.bedrock.converse(modelId=model, messages=messages(), system=system())
    eq(r["output"]["message"]["content"][0]["text"],
       want["output"]["message"]["content"][0]["text"], "text")
    eq(r["stopReason"], "end_turn", "stopReason")
    eq(r["usage"], want["usage"], "usage")
    eq(r["usage"]["outputTokens"], 18, "outputTokens")
    eq(r["ResponseMetadata"]["HTTPStatusCode"], 200, "status")


@case
def bedrock_boto3_signature_is_checked(ctx):
    # The right keys passed above; a wrong secret is Bedrock's own 403.
    wrong = client(ctx.base, secret="not-the-mock-secret")
    e = raises(botocore.exceptions.ClientError,
               lambda: wrong.converse(modelId=f"{MODEL}+{FAST}", messages=messages()))
    eq(e.response["Error"]["Code"], "InvalidSignatureException", "error code")
    eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 403, "status")


@case
def bedrock_boto3_errors(ctx):
    def call(fault):
        return lambda: ctx.bedrock.converse(modelId=f"{MODEL}+fault={fault}", messages=messages())
    e = raises(botocore.exceptions.ClientError, call("429"))
    eq((e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]),
       ("ThrottlingException", 429), "429")
    e = raises(botocore.exceptions.ClientError, call("503"))
    eq(e.response["Error"]["Code"], "ServiceUnavailableException", "503")

    def mid_stream():
        r = ctx.bedrock.converse_stream(modelId=f"{MODEL}+{FAST},tokens=6,fault=error_event",
                                        messages=messages())
        for _ in r["stream"]:
            pass
    e = raises(botocore.exceptions.EventStreamError, mid_stream)
    eq(e.response["Error"]["Code"], "modelStreamErrorException", "mid-stream exception")


@case
def bedrock_boto3_checks_the_message_crc(ctx):
    # A message whose CRC is broken (`fault=malformed`) must not parse: proof that the
    # CRCs boto3 accepted in every other case were checked, not skipped.
    def corrupt():
        r = ctx.bedrock.converse_stream(modelId=f"{MODEL}+{FAST},tokens=6,fault=malformed",
                                        messages=messages())
        for _ in r["stream"]:
            pass
    raises(botocore.eventstream.ChecksumMismatch, corrupt)
