"""What every conformance module shares: the prompt, the assertions and the raw sender."""

import json
import urllib.error
import urllib.request

FAST = "ttft=0,itl=0"
# Checks of an exact output count add `text=lorem`: lorem is exactly `tokens=N` pieces, while
# the default markdown answer ends at the last sentence end at or before N.
PROMPT = "Explain how streaming responses work."
SYSTEM = "Answer briefly."


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: got {actual!r}, expected {expected!r}")


def raises(exc_type, fn):
    try:
        fn()
    except exc_type as e:
        return e
    raise AssertionError(f"expected {exc_type.__name__}, nothing raised")


def raw_bytes(base, path, body, headers):
    """POST `body` as JSON with stdlib only: (status, the response body's bytes)."""
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw(base, path, body, headers):
    """[`raw_bytes`], the body decoded as UTF-8."""
    status, data = raw_bytes(base, path, body, headers)
    return status, data.decode()
