#!/bin/sh
# test_console.sh — the operator console (SPEC §9, issue 7) driven for real in
# tmux against the simulator: `crossclimb demo --speed 1x` in an 80x24
# terminal starts HELD and waits for the operator; the first screen shows the
# E-stop key and the map; 'a' starts it and the half-step counter advances;
# 'q' while running is refused; 'p' pauses and a jog ('l', else 'h') makes
# one half-step of kind jog while the mission stays paused; SPACE (the
# E-stop) holds with reason operator, 'a' acknowledges, 'r' resumes; the
# window shrunk to 60x15 says it is too small, ignores other keys and still
# honours the E-stop key, and grown to 100x30 shows the normal screen again;
# '?' lists every key (jog and E-stop included); SPACE then 'q' leaves; a
# terminal started at 60x15 says it is too small and honours the E-stop key.
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
# wait_any SESSION SECONDS TEXT...: poll until the pane shows one of the TEXTs
wait_any() {
    ws=$1
    wt=$2
    shift 2
    n=0
    while :; do
        cap "$ws"
        for t in "$@"; do grep -qF -- "$t" "$TMP/screen" && return 0; done
        n=$((n + 1))
        [ $n -gt $((wt * 5)) ] && return 1
        sleep 0.2
    done
}
# log_count PATTERN: records of the run log matching PATTERN (basic regex)
log_count() { grep -c -- "$1" "$TMP/run.jsonl" 2>/dev/null || true; }

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
grep -Eq "Fusion (proceed|shorten|side-L|side-R|STOP) risk [0-9]+/[0-9]+% att [0-9]+/[0-9]+/[0-9]+" "$TMP/screen" ||
    die "running: no fusion verdict with its attention shares on the screen"
pass "the fusion verdict and the attention share per modality are shown"

tmux send-keys -t "$S1" q
wait_for "$S1" "quit refused" 5 || die "'q' while running was not refused"
pass "quit refused while the robot is not safe"

# ---- pause, then a jog: one half-step checked like the mission's
tmux send-keys -t "$S1" p
wait_for "$S1" "paused (operator)" 30 || die "'p': the mission did not pause"
grep -qF "paused lane" "$TMP/screen" || die "'p': the mission line does not say paused"
J_A=$(step_of)
# +X, else -X: on the lane one of them is a move the mission itself makes
tmux send-keys -t "$S1" l
wait_any "$S1" 5 "jog +X: group" "jog refused: +X" || die "'l': no jog and no refusal"
if grep -qF "jog refused: +X" "$TMP/screen"; then
    grep -q "jog refused: +X: no safe half-step (group [AB]: [a-z]" "$TMP/screen" ||
        die "'l' refused without a reason"
    pass "'l' (jog +X) refused with its reason: $(grep -o 'jog refused: .*' "$TMP/screen" | head -1)"
    tmux send-keys -t "$S1" h
    wait_any "$S1" 5 "jog -X: group" "jog refused: -X" || die "'h': no jog and no refusal"
    grep -qF "jog -X: group" "$TMP/screen" || die "neither +X nor -X could be jogged: $(grep -o 'jog refused: .*' "$TMP/screen" | tail -1)"
fi
wait_for "$S1" "half-step jog" 20 || die "jog: the half-step did not complete"
cap "$S1"
J_B=$(step_of)
[ -n "$J_B" ] && [ "$J_B" -eq $((J_A + 1)) ] || die "jog: half-step counter $J_A -> $J_B"
grep -qF "paused lane" "$TMP/screen" || die "jog: the mission is not paused any more"
[ "$(log_count '"event": *"step-end", *"kind": *"jog"')" -ge 1 ] || die "jog: no step-end of kind jog in the log"
pass "pause, jog: one half-step of kind jog ($J_A -> $J_B), the mission still paused"

tmux send-keys -t "$S1" " "
wait_for "$S1" "Hold: operator" 5 || die "E-stop: no HOLD with reason operator"
grep -qF "HELD" "$TMP/screen" || die "E-stop: not HELD"
grep -qF "HOLD operator" "$TMP/screen" || die "E-stop: not in the alarm list"
pass "E-stop (SPACE) -> HELD, reason operator, in the alarm list"

tmux send-keys -t "$S1" a
wait_for "$S1" "Hold: none" 10 || die "ack after the E-stop: not resumed"
tmux send-keys -t "$S1" r
wait_for "$S1" "resume: going on" 5 || die "'r': not resumed"
H_A=$(step_of)
n=0
while :; do
    sleep 0.5
    cap "$S1"
    H_B=$(step_of)
    [ -n "$H_B" ] && [ "$H_B" != "$H_A" ] && break
    grep -qF "EXITED" "$TMP/screen" && break
    n=$((n + 1))
    [ $n -gt 40 ] && die "after ack and resume: steps do not advance ($H_A)"
done
pass "acknowledge, resume -> going on from the jogged pose: half-step $H_A -> $H_B"
# paused again: the rest of the test must not race with the end of the mission
tmux send-keys -t "$S1" p
wait_for "$S1" "paused lane" 30 || die "second pause: not paused"

# ---- the window shrinks below 80x24, then grows again
HOLDS0=$(log_count '"type": *"operator".*"command": *"hold"')
ACKS0=$(log_count '"type": *"ack"')
tmux resize-window -t "$S1" -x 60 -y 15 || die "tmux resize-window 60x15"
wait_for "$S1" "terminal too small: 60x15" 5 || die "resized to 60x15: no too-small message"
grep -qF "E-STOP" "$TMP/screen" || die "resized to 60x15: no E-stop key"
grep -qF "SPACE/e=E-STOP(HOLD) a=ack" "$TMP/screen" && die "resized to 60x15: the normal key line is still there"
pass "resized to 60x15: 'terminal too small' and the E-stop key"
tmux send-keys -t "$S1" a # ignored there: only the E-stop works
tmux send-keys -t "$S1" e
wait_for "$S1" "hold operator" 5 || die "resized to 60x15: the E-stop key did not hold"
sleep 0.5
[ "$(log_count '"type": *"operator".*"command": *"hold"')" -gt "$HOLDS0" ] ||
    die "resized to 60x15: no operator hold in the log"
[ "$(log_count '"type": *"ack"')" -eq "$ACKS0" ] || die "resized to 60x15: 'a' acted"
pass "resized to 60x15: the E-stop key honoured, 'a' ignored"
tmux resize-window -t "$S1" -x 100 -y 30 || die "tmux resize-window 100x30"
wait_for "$S1" "SPACE/e=E-STOP(HOLD)" 5 || die "resized to 100x30: no key line"
grep -q "^facade .*(.* m)" "$TMP/screen" || die "resized to 100x30: no map title"
grep -qF "terminal too small" "$TMP/screen" && die "resized to 100x30: still too small"
grep -qF "Hold: operator" "$TMP/screen" || die "resized to 100x30: the HOLD is not shown"
pass "resized to 100x30: the normal screen again (map, key line, the HOLD)"
tmux send-keys -t "$S1" a
wait_for "$S1" "Hold: none" 10 || die "ack after the resize: not acknowledged"

tmux send-keys -t "$S1" "?"
wait_for "$S1" "this help" 5 || die "'?': no help overlay"
for k in "E-STOP" "acknowledge" "pause" "resume" "single step" "jog -X" "jog +X" "jog +Y" "jog -Y" "stop the mission" "quit"; do
    grep -qF -- "$k" "$TMP/screen" || die "'?': the help does not list '$k'"
done
pass "'?' shows the help overlay with every key (jog and E-stop included)"
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
