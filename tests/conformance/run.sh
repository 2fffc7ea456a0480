#!/usr/bin/env bash
# Runs the official-SDK conformance suite against a freshly started mock server.
#
#   tests/conformance/run.sh
#   PRISM_MOCK_CMD="target/debug/prism mock --addr" tests/conformance/run.sh
#
# PRISM_MOCK_CMD is the command that starts the mock; the bind address is appended as its
# last argument. It must print "... listening on http://ADDR" on stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PRISM_CONFORMANCE_VENV:-${TMPDIR:-/tmp}/prism-conformance-venv}"
mock_cmd="${PRISM_MOCK_CMD:-cargo run --quiet -- mock --addr}"
# The same binary counts tokens for the usage checks (`... mock --addr` → `... count`).
export PRISM_COUNT_CMD="${PRISM_COUNT_CMD:-${mock_cmd% mock --addr} count}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# Reinstall only when the pins changed since the last run.
stamp="$venv/.requirements"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

out="$(mktemp "${TMPDIR:-/tmp}/prism-mock-out.XXXXXX")"
mock_pid=""
cleanup() {
    if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
        # The mock runs in its own process group, so `cargo run` and its child both stop.
        kill -TERM -- "-$mock_pid" 2>/dev/null || kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
    fi
    rm -f "$out"
}
trap cleanup EXIT INT TERM

cd "$repo"
set -m  # background jobs get their own process group
# shellcheck disable=SC2086 # the command is meant to be word-split
$mock_cmd 127.0.0.1:0 >"$out" 2>&1 &
mock_pid=$!
set +m

addr=""
for _ in $(seq 1 1200); do  # up to 120 s: the first run may compile
    addr="$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$out" | head -n 1)"
    [ -n "$addr" ] && break
    if ! kill -0 "$mock_pid" 2>/dev/null; then
        echo "mock server exited before listening:" >&2
        cat "$out" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$addr" ]; then
    echo "mock server did not report its address in time" >&2
    exit 1
fi

# -B: no __pycache__ beside the sources (the suite is split in modules).
"$venv/bin/python" -B "$here/sdk_conformance.py" --base-url "http://$addr" "$@"
