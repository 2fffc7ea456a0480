#!/usr/bin/env bash
# End to end in a real terminal: tmux runs `prism --demo` (the in-process mock server),
# we type a prompt, send it, wait for every pane to finish, check what the screen shows,
# quit, and check the terminal modes were restored (stty -g before == after). A second
# run is ended by SIGTERM and must restore the terminal too.
set -euo pipefail

bin="${PRISM_BIN:-target/debug/prism}"
[ -x "$bin" ] || { echo "no prism binary at $bin (build first)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
work="$(mktemp -d "${TMPDIR:-/tmp}/prism-e2e.XXXXXX")"
sock="prism-e2e-$$"
passed=0
failed=0
# Stop this run's tmux server and wait until its process is gone: a new session started
# while the old server is still exiting fails with "server exited unexpectedly".
kill_server() {
    local pid
    pid="$(tmux -L "$sock" display-message -p '#{pid}' 2>/dev/null || true)"
    tmux -L "$sock" kill-server 2>/dev/null || true
    [ -n "$pid" ] || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
}
cleanup() {
    kill_server
    rm -rf "$work"
}
trap cleanup EXIT

capture() { tmux -L "$sock" capture-pane -p -t e2e; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq 1 $((seconds * 10))); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    echo "timed out after ${seconds}s waiting for: $what" >&2
    echo "---- screen ----" >&2
    capture >&2 || true
    return 1
}

check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok    $name"
        passed=$((passed + 1))
    else
        echo "FAIL  $name"
        failed=$((failed + 1))
    fi
}

count() { capture | grep -o -- "$1" | wc -l; }
screen_has() { capture | grep -q -- "$1"; }
# The demo has four targets (three chat formats and a Responses model).
all_done() { [ "$(count '● done')" -ge 4 ]; }
exited() { [ -f "$work/exit" ]; }

start() {
    kill_server
    rm -f "$work/exit" "$work/before" "$work/after"
    # The shell records the tty modes, runs prism with its cwd in an empty dir (so no
    # ./prism.toml is picked up), then records the modes again.
    tmux -L "$sock" new-session -d -s e2e -x 150 -y 40 \
        "cd '$work' && stty -g > before; XDG_CONFIG_HOME='$work' PRISM_LOG_DIR='$work' PRISM_SESSIONS_DIR='$work/sessions' '$bin' --demo; code=\$?; stty -g > after; echo \$code > exit; sleep 600"
    wait_for 30 "the workbench to start" screen_has "prompt"
}

run_send_and_quit() {
    start
    tmux -L "$sock" send-keys -t e2e -l "Explain streaming"
    tmux -L "$sock" send-keys -t e2e C-s
    wait_for 30 "every pane to finish" all_done
    local screen
    screen="$(capture)"
    printf '%s\n' "$screen" > "$work/screen.txt"
    [ "$(grep -o 'TTFT' <<<"$screen" | wc -l)" -ge 4 ] || { echo "expected a TTFT in every pane" >&2; return 1; }
    [ "$(grep -o ' · stop' <<<"$screen" | wc -l)" -ge 4 ] || { echo "expected finish reason stop in every pane" >&2; return 1; }
    local name
    for name in gpt-4o-mini claude-sonnet gemini-flash; do
        grep -q "$name" <<<"$screen" || { echo "no pane for $name" >&2; return 1; }
    done
    # Streamed text: every pane body has words from the mock's answers.
    [ "$(grep -oE '│[A-Za-z#`•]' <<<"$screen" | wc -l)" -ge 6 ] || { echo "panes show no text" >&2; return 1; }
    tmux -L "$sock" send-keys -t e2e C-c
    wait_for 15 "prism to exit" exited
    [ "$(cat "$work/exit")" = 0 ] || { echo "exit status $(cat "$work/exit")" >&2; return 1; }
    cmp -s "$work/before" "$work/after" || { echo "tty modes changed: $(cat "$work/before") -> $(cat "$work/after")" >&2; return 1; }
    ! screen_has "prism ·" || { echo "the alternate screen was not left" >&2; return 1; }
    # The send was saved without asking, every stream to its end.
    local log
    log="$(ls "$work"/sessions/*/events.jsonl 2>/dev/null | tail -n 1)"
    [ -n "$log" ] || { echo "no session saved under $work/sessions" >&2; return 1; }
    [ "$(grep -c '"event":"done"' "$log")" -eq 4 ] || { echo "expected four finished streams in $log" >&2; return 1; }
    kill_server
}

run_sigterm() {
    start
    pkill -TERM -f "^$bin --demo" || pkill -TERM -x prism
    wait_for 15 "prism to exit on SIGTERM" exited
    cmp -s "$work/before" "$work/after" || { echo "tty modes changed after SIGTERM" >&2; return 1; }
    ! screen_has "prism ·" || { echo "the alternate screen was not left after SIGTERM" >&2; return 1; }
    kill_server
}

# Two turns against a real config (keys from the environment) and a `prism mock` process,
# then the saved session replayed in the terminal. No key may reach any file written.
run_two_turns_then_replay() {
    local key_o="sk-e2e-SECRET-openai-0001" key_a="sk-ant-e2e-SECRET-0002"
    "$bin" mock --addr 127.0.0.1:0 > "$work/mock.out" &
    local mock=$!
    wait_for 15 "the mock server" grep -q "listening" "$work/mock.out"
    local addr
    addr="$(sed -n 's|.*http://||p' "$work/mock.out" | head -n 1)"
    mkdir -p "$work/cfg"
    cat > "$work/cfg/prism.toml" <<TOML
[[target]]
name = "openai"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+tokens=40,tps=400"
base_url = "http://$addr/v1"
api_key_env = "PRISM_E2E_KEY_O"

[[target]]
name = "anthropic"
provider = "anthropic"
model = "claude-sonnet-4-20250514+tokens=40,tps=400"
base_url = "http://$addr"
api_key_env = "PRISM_E2E_KEY_A"
TOML
    kill_server
    rm -f "$work/exit" "$work/before" "$work/after"
    rm -rf "$work/sessions2"
    tmux -L "$sock" new-session -d -s e2e -x 150 -y 40 \
        "cd '$work' && stty -g > before; PRISM_E2E_KEY_O='$key_o' PRISM_E2E_KEY_A='$key_a' PRISM_LOG=debug PRISM_LOG_DIR='$work/log2' PRISM_SESSIONS_DIR='$work/sessions2' '$bin' --config '$work/cfg/prism.toml'; code=\$?; stty -g > after; echo \$code > exit; sleep 600"
    wait_for 30 "the workbench to start" screen_has "prompt"
    tmux -L "$sock" send-keys -t e2e -l "First question"
    tmux -L "$sock" send-keys -t e2e C-s
    wait_for 30 "turn 1 to finish" two_done
    tmux -L "$sock" send-keys -t e2e -l "And a follow-up"
    tmux -L "$sock" send-keys -t e2e C-s
    wait_for 30 "turn 2 to start" screen_has "turn 2"
    wait_for 30 "turn 2 to finish" two_done
    tmux -L "$sock" send-keys -t e2e C-c
    wait_for 15 "prism to exit" exited
    kill "$mock" 2>/dev/null || true
    cmp -s "$work/before" "$work/after" || { echo "tty modes changed" >&2; return 1; }
    local dir
    dir="$(ls -d "$work"/sessions2/*/ | head -n 1)"
    [ -n "$dir" ] || { echo "no session saved" >&2; return 1; }
    [ "$(grep -c '"type":"send"' "$dir/events.jsonl")" -eq 2 ] || { echo "expected two sends in $dir" >&2; return 1; }
    # The second send's history holds each target's own first turn.
    grep '"type":"send"' "$dir/events.jsonl" | tail -n 1 | grep -q '"history":\[1\]' || { echo "turn 2 has no history" >&2; return 1; }
    if grep -rqF -e "$key_o" -e "$key_a" "$work/sessions2" "$work/log2"; then
        echo "a key was written to a session or log file" >&2
        return 1
    fi
    # Replay it at full speed in the terminal: both turns play, every pane finishes.
    kill_server
    rm -f "$work/exit" "$work/before" "$work/after"
    tmux -L "$sock" new-session -d -s e2e -x 150 -y 40 \
        "cd '$work' && stty -g > before; PRISM_LOG_DIR='$work/log2' '$bin' replay '$dir' --speed max; code=\$?; stty -g > after; echo \$code > exit; sleep 600"
    wait_for 30 "the replay to reach turn 2 and finish" replay_done
    [ "$(grep -o 'And a follow-up' <<<"$(capture)" | wc -l)" -ge 1 ] || { echo "the replay does not show turn 2's prompt" >&2; return 1; }
    tmux -L "$sock" send-keys -t e2e C-c
    wait_for 15 "the replay to exit" exited
    [ "$(cat "$work/exit")" = 0 ] || { echo "replay exit status $(cat "$work/exit")" >&2; return 1; }
    cmp -s "$work/before" "$work/after" || { echo "tty modes changed after the replay" >&2; return 1; }
    kill_server
}
two_done() { [ "$(count '● done')" -ge 2 ]; }
replay_done() { screen_has "turn 2/2" && two_done; }

check "send a prompt, all panes stream and finish, Ctrl+C restores the terminal" run_send_and_quit
check "two turns with keys from the environment are saved without them, then replayed" run_two_turns_then_replay
check "SIGTERM restores the terminal" run_sigterm
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
