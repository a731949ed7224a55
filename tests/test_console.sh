#!/bin/sh
# test_console.sh — the operator console (SPEC §9, issue 7) driven for real in
# tmux against the simulator: `crossclimb demo --speed 1x` in an 80x24
# terminal starts HELD and waits for the operator; the first screen shows the
# E-stop key and the map; 'a' starts it and the half-step counter advances;
# SPACE (the E-stop) holds with reason operator; 'q' while running is refused,
# 'a' resumes; SPACE then 'q' leaves; a 60x15 terminal says it is too small
# and still honours the E-stop key.
set -u
NAME=console
. tests/lib.sh

command -v tmux >/dev/null 2>&1 || fail "tmux is not installed"
# a private tmux server for this run (its own socket): the user's sessions
# and other test runs are never touched
tmux() { command tmux -L "crossclimb-console-$$" "$@"; }
S1="cc-console-$$"
S2="cc-console-small-$$"
PASS=0
cleanup_tmux() {
    tmux kill-session -t "$S1" 2>/dev/null
    tmux kill-session -t "$S2" 2>/dev/null
}
trap 'cleanup_tmux; cleanup' EXIT
trap 'exit 1' INT TERM HUP
pass() { PASS=$((PASS + 1)); ok "$@"; }
die() { echo "--- screen:"; cat "$TMP/screen" 2>/dev/null; echo "test_console: $PASS passed, 1 failed"; fail "$@"; }

cap() { tmux capture-pane -p -t "$1" >"$TMP/screen" 2>/dev/null; }
# wait_for SESSION TEXT SECONDS: poll the pane until it shows TEXT (fixed string)
wait_for() {
    n=0
    while :; do
        cap "$1"
        grep -qF -- "$2" "$TMP/screen" && return 0
        n=$((n + 1))
        [ $n -gt $(($3 * 5)) ] && return 1
        sleep 0.2
    done
}
step_of() { sed -n 's/.*half-step \([0-9]*\)\/[0-9]*.*/\1/p' "$TMP/screen" | head -1; }

ABS_BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
ARGS="demo --region 3600,2500,4200,3100 --speed 1x --log $TMP/run.jsonl"

# ---------------------------------------------------------------- 80x24
tmux new-session -d -s "$S1" -x 80 -y 24 "TERM=xterm $ABS_BIN $ARGS >/dev/tty 2>$TMP/demo.err; echo EXITED \$?; sleep 60" ||
    die "tmux new-session"
wait_for "$S1" "press 'a' to acknowledge" 15 || die "first screen: no start-up HOLD prompt"
grep -qF "SPACE/e=E-STOP(HOLD)" "$TMP/screen" || die "first screen: no E-stop key"
grep -q "^facade .*(.* m)" "$TMP/screen" || die "first screen: no map title"
grep -qF "@" "$TMP/screen" || die "first screen: no robot on the map"
grep -qF "HELD" "$TMP/screen" || die "first screen: not HELD"
pass "first screen: held at start-up, E-stop key on the bottom line, the map with the robot"

tmux send-keys -t "$S1" a
wait_for "$S1" "half-step 1/" 20 || die "after 'a': no half-step"
S_A=$(step_of)
n=0
while :; do
    sleep 0.5
    cap "$S1"
    S_B=$(step_of)
    [ -n "$S_B" ] && [ "$S_B" != "$S_A" ] && break
    n=$((n + 1))
    [ $n -gt 40 ] && die "steps do not advance ($S_A)"
done
pass "acknowledge -> running: half-step $S_A -> $S_B"

tmux send-keys -t "$S1" q
wait_for "$S1" "quit refused" 5 || die "'q' while running was not refused"
pass "quit refused while the robot is not safe"

tmux send-keys -t "$S1" " "
wait_for "$S1" "Hold: operator" 5 || die "E-stop: no HOLD with reason operator"
grep -qF "HELD" "$TMP/screen" || die "E-stop: not HELD"
grep -qF "HOLD operator" "$TMP/screen" || die "E-stop: not in the alarm list"
pass "E-stop (SPACE) -> HELD, reason operator, in the alarm list"

tmux send-keys -t "$S1" a
wait_for "$S1" "Hold: none" 10 || die "ack after the E-stop: not resumed"
H_A=$(step_of)
n=0
while :; do
    sleep 0.5
    cap "$S1"
    H_B=$(step_of)
    [ -n "$H_B" ] && [ "$H_B" != "$H_A" ] && break
    grep -qF "EXITED" "$TMP/screen" && break
    n=$((n + 1))
    [ $n -gt 40 ] && die "after ack: steps do not advance ($H_A)"
done
pass "acknowledge -> resumed: half-step $H_A -> $H_B"

tmux send-keys -t "$S1" "?"
wait_for "$S1" "this help" 5 || die "'?': no help overlay"
pass "'?' shows the help overlay"
tmux send-keys -t "$S1" " "
wait_for "$S1" "Hold: operator" 5 || die "E-stop with the help overlay up: no HOLD"
pass "E-stop works with the help overlay up"
tmux send-keys -t "$S1" q
wait_for "$S1" "EXITED" 10 || die "'q' while HELD: did not leave"
grep -q "^result: outcome=interrupted" "$TMP/screen" || die "quit: no result line outcome=interrupted"
pass "quit while HELD: leaves with the result line (outcome=interrupted)"

# ---------------------------------------------------------------- 60x15
# The second session is made before the first is killed: killing the last
# session stops the tmux server, and a new-session racing with that exit
# fails with "server exited unexpectedly".
tmux new-session -d -s "$S2" -x 60 -y 15 "TERM=xterm $ABS_BIN $ARGS >/dev/tty 2>$TMP/small.err; echo EXITED \$?; sleep 60" ||
    die "tmux new-session (small)"
tmux kill-session -t "$S1" 2>/dev/null
wait_for "$S2" "terminal too small" 15 || die "60x15: no too-small message"
grep -qF "E-STOP" "$TMP/screen" || die "60x15: no E-stop key"
pass "60x15: 'terminal too small' and the E-stop key"
tmux send-keys -t "$S2" a # ignored there: only the E-stop works
tmux send-keys -t "$S2" e
tmux send-keys -t "$S2" q
sleep 1
cap "$S2"
grep -qF "EXITED" "$TMP/screen" && die "60x15: keys other than the E-stop acted"
grep -q '"type": *"operator".*"hold"' "$TMP/run.jsonl" || die "60x15: the E-stop key was not honoured (no operator hold in the log)"
grep -q '"type": *"operator".*"ack"' "$TMP/run.jsonl" && die "60x15: 'a' acted"
tmux kill-session -t "$S2" 2>/dev/null
pass "60x15: the E-stop key honoured, other keys ignored"

echo "test_console: $PASS passed, 0 failed"
