#!/bin/sh
# test_demo.sh — `crossclimb demo`, the README's main job, end to end: it
# starts the simulated robot itself (its own executable, `sim --facade`),
# runs a whole cleaning mission over Modbus TCP in virtual time, judges it by
# the simulator's truth log, prints one result line and exits 0.  Also the
# run log it keeps with --log, `crossclimb run` against the same kind of
# simulator with the operator's acknowledge on stdin, and bad arguments.
set -u
NAME=demo
. tests/lib.sh

PY=${PYTHON:-python3}
FACADE=${CROSSCLIMB_SRC:-.}/sim/facades/default.txt

# ---------------------------------------------------------------- the demo
expect_exit 0 "crossclimb demo" "$BIN" demo --log "$TMP/demo.jsonl"
OUT="$TMP/last.out"
[ "$(grep -c '^result: ' "$OUT")" -eq 1 ] || fail "demo: not exactly one result line"
LINE=$(grep '^result: ' "$OUT")
echo "$LINE" | grep -Eq '^result: outcome=completed falls=0 coverage=[0-9.]+ area_m2=[0-9.]+ sim_time_s=[0-9.]+ rate_m2_per_h=[0-9.]+ min_safety_factor=[0-9.]+ holds=0 refused_commands=0$' ||
    fail "demo: result line: $LINE"
ok "crossclimb demo: completed, no fall, no HOLD, nothing refused: $LINE"
COV=$(echo "$LINE" | sed 's/.* coverage=\([0-9.]*\) .*/\1/')
SF=$(echo "$LINE" | sed 's/.* min_safety_factor=\([0-9.]*\) .*/\1/')
awk -v c="$COV" -v s="$SF" 'BEGIN { exit !(c >= 0.95 && s >= 2.0) }' ||
    fail "demo: coverage $COV < 0.95 or safety factor $SF < 2.0"
ok "crossclimb demo: coverage $COV of the reachable area, minimum safety factor $SF (truth)"
expect_in "$OUT" "demo: plan: " "the plan is reported"
expect_in "$OUT" "lane 1 begins" "progress: lanes"
expect_in "$OUT" " % area " "progress lines"
expect_in "$OUT" "acknowledged (auto-startup)" "the start-up HOLD acknowledged by the demo"
SIMPID=$(sed -n 's/^demo: simulator pid \([0-9]*\):.*/\1/p' "$OUT")
[ -n "$SIMPID" ] || fail "demo did not say which process its simulator is"
kill -0 "$SIMPID" 2>/dev/null && fail "demo left its simulator (pid $SIMPID) running"
ok "crossclimb demo: its simulator is gone"

# the run log: every line a JSON object with type, t, n; start first, end last
"$PY" - "$TMP/demo.jsonl" <<'EOF' || fail "demo: run log"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs[0]["type"] == "start" and recs[-1]["type"] == "end", "start/end"
for i, r in enumerate(recs):
    assert r["n"] == i, "record numbers"
    assert isinstance(r["t"], (int, float))
types = {r["type"] for r in recs}
for t in ("start", "plan", "command", "status", "hold", "ack", "mission", "progress", "end"):
    assert t in types, "no %s record" % t
ev = {r["event"] for r in recs if r["type"] == "mission"}
for e in ("lane-begin", "lane-end", "step-begin", "step-end", "done"):
    assert e in ev, "no mission %s" % e
end = recs[-1]
assert end["source"] == "truth" and end["outcome"] == "completed" and end["falls"] == 0
assert recs[[r["type"] for r in recs].index("hold")]["reason"] == "startup"
ts = [r["t"] for r in recs]
assert all(a <= b for a, b in zip(ts, ts[1:])), "PLC time runs forward"
EOF
ok "crossclimb demo --log: a JSON Lines log, start to end, judged by the truth"

# ------------------------------------------------------- run, by an operator
start_sim_robot() {
    name=$1
    shift
    "$BIN" sim --facade "$FACADE" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SIM_PID=$!
    SIMS="$SIMS $SIM_PID"
    n=0
    until grep -q '^ready' "$TMP/$name.out" 2>/dev/null; do
        kill -0 "$SIM_PID" 2>/dev/null || fail "$name: the sim exited before it was ready"
        n=$((n + 1))
        [ $n -gt 100 ] && fail "$name: the sim was not ready within 10 s"
        sleep 0.1
    done
    SIM_PORT=$(sed -n 's|^listening on tcp://[^:]*:\([0-9]*\)$|\1|p' "$TMP/$name.out")
}
start_sim_robot robot --listen tcp://127.0.0.1:0 --idle frozen --truth "$TMP/run-truth.jsonl"
# the operator acknowledges the start-up HOLD; a small region: one panel's reach
echo ack | "$BIN" run --plc "tcp://127.0.0.1:$SIM_PORT?timeout_ms=1000" --facade "$FACADE" \
    --region 3600,2500,4200,3100 --log "$TMP/run.jsonl" --state "$TMP/state.json" --headless \
    >"$TMP/run.out" 2>"$TMP/run.err"
RC=$?
[ $RC -eq 0 ] || { cat "$TMP/run.out"; fail "run: exit $RC"; }
grep -Eq '^result: outcome=completed falls=0 .* holds=0 refused_commands=0$' "$TMP/run.out" ||
    fail "run: $(grep '^result' "$TMP/run.out")"
expect_in "$TMP/run.out" "acknowledged (operator)" "the operator's acknowledge"
[ -s "$TMP/state.json" ] || fail "run: no checkpoint"
ok "crossclimb run: acknowledged by the operator, mission completed, checkpoint kept"
stop_sim "$SIM_PID" robot
grep -q '"fallen":false' "$TMP/run-truth.jsonl" || fail "run: the truth log says the robot fell"
ok "crossclimb run: the simulator's truth shows no fall"

# ------------------------------------------------ --start moves the robot too
# the controller is told where the robot stands; the simulated robot must be
# set down there (sim --start), or the controller would plan on footholds it
# is not on: the truth log's carriage at the start is the given point
expect_exit 0 "demo --start" "$BIN" demo --headless --start 3750,3100 --region 3450,2800,4050,3400 \
    --truth "$TMP/start-truth.jsonl"
"$PY" - "$TMP/start-truth.jsonl" <<'EOF2' || fail "demo --start: the simulated robot is not where the controller was told"
import json, sys
st = next(json.loads(l) for l in open(sys.argv[1]) if json.loads(l).get("type") == "state")
x, y = st["carriage_m"]
assert abs(x - 3.750) < 0.002 and abs(y - 3.100) < 0.002, st["carriage_m"]
EOF2
ok "demo --start 3750,3100: the simulated robot set down there too, mission completed"
expect_exit 1 "sim --start off the facade" "$BIN" sim --facade "$FACADE" --start 99999,1
expect_in "$TMP/last.err" "--start 99999,1: outside the facade" "sim --start off the facade named"
expect_exit 2 "sim bad --start" "$BIN" sim --facade "$FACADE" --start abc
expect_in "$TMP/last.err" "--start 'abc'" "sim bad --start named"
ok "sim --start: off the facade exit 1, malformed exit 2, both named"

# --------------------------------------------------------------- bad input
expect_exit 2 "demo bad option" "$BIN" demo --seed -1
expect_in "$TMP/last.err" "--seed '-1'" "bad seed named"
expect_exit 2 "demo unknown option" "$BIN" demo --cycles 3
expect_exit 2 "run without --plc" "$BIN" run --facade "$FACADE"
expect_in "$TMP/last.err" "--plc and --facade are required" "missing option named"
expect_exit 2 "run bad region" "$BIN" run --plc tcp://127.0.0.1:1 --facade "$FACADE" --region 1,2,3
expect_in "$TMP/last.err" "--region '1,2,3'" "bad region named"
expect_exit 1 "run bad facade" "$BIN" run --plc tcp://127.0.0.1:1 --facade "$TMP/nope.txt"
expect_in "$TMP/last.err" "nope.txt" "missing facade named"
expect_exit 1 "run against nothing" "$BIN" run --plc tcp://127.0.0.1:1 --facade "$FACADE"
expect_exit 2 "run region off the facade" "$BIN" run --plc tcp://127.0.0.1:1 --facade "$FACADE" --region 0,0,9000,100
expect_exit 2 "demo --sim-facade of another grid" "$BIN" demo --headless --sim-facade "${CROSSCLIMB_SRC:-.}/sim/facades/mixed.txt"
expect_in "$TMP/last.err" "--sim-facade ${CROSSCLIMB_SRC:-.}/sim/facades/mixed.txt: 200x160 cells of 50 mm" "other grid named"
expect_exit 1 "demo --sim-facade missing" "$BIN" demo --headless --sim-facade "$TMP/nope.txt"
expect_in "$TMP/last.err" "nope.txt" "missing world named"
ok "bad options exit 2 naming the argument, unreachable PLC or unreadable facade exit 1"
echo "test_demo: $CHECKS passed, 0 failed"
