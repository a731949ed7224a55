#!/bin/sh
# test_sim_cli.sh — `crossclimb sim --facade F`, the robot simulator, from the
# command line: --help; bad options exit 2 with a message naming the argument;
# bad facade and robot files exit 1 with the loader's file:line(:col) message
# and leave no truth log behind; a good run prints its lines, writes its truth
# log and stops on SIGTERM with exit 0.  (The robot's behaviour over Modbus is
# tests/check_simrobot.c.)
set -u
NAME=sim-cli
. tests/lib.sh

SRC=${CROSSCLIMB_SRC:-.}
FAC=$SRC/sim/facades/default.txt

# ---------------------------------------------------------------- --help
expect_exit 0 "sim --help" "$BIN" sim --help
expect_in "$TMP/last.out" "usage: crossclimb sim --facade FILE" "usage line"
for opt in --robot --seed --truth --truth-ms --step-us --idle --realtime --listen --rtu-pty; do
    expect_in "$TMP/last.out" "$opt" "--help lists $opt"
done
expect_exit 0 "sim plc --help" "$BIN" sim plc --help
expect_in "$TMP/last.out" "usage: crossclimb sim plc" "sim plc usage"
ok "sim --help and sim plc --help: exit 0, every option listed"

# ----------------------------------------------------------- bad options
expect_exit 2 "no --facade" "$BIN" sim
expect_in "$TMP/last.err" "--facade FILE is required" "missing --facade named"
expect_exit 2 "--facade without a value" "$BIN" sim --facade
expect_in "$TMP/last.err" "--facade needs a value" "--facade value"
expect_exit 2 "--facade ''" "$BIN" sim --facade ''
expect_in "$TMP/last.err" "--facade needs a file" "--facade empty"
expect_exit 2 "unknown option" "$BIN" sim --facade "$FAC" --frobnicate
expect_in "$TMP/last.err" "unknown argument '--frobnicate'" "unknown option named"
expect_exit 2 "not a simulator" "$BIN" sim robot
expect_in "$TMP/last.err" "'robot' is not a simulator" "bad mode named"
expect_exit 2 "--seed x" "$BIN" sim --facade "$FAC" --seed x
expect_in "$TMP/last.err" "--seed 'x': must be a whole number 0..18446744073709551615" "--seed"
expect_exit 2 "--seed too big" "$BIN" sim --facade "$FAC" --seed 18446744073709551616
expect_in "$TMP/last.err" "--seed '18446744073709551616'" "--seed overflow"
expect_exit 2 "--seed -1" "$BIN" sim --facade "$FAC" --seed=-1
expect_in "$TMP/last.err" "--seed '-1'" "--seed negative"
expect_exit 2 "--step-us 5" "$BIN" sim --facade "$FAC" --step-us 5
expect_in "$TMP/last.err" "--step-us '5': must be a whole number 10..1000" "--step-us"
expect_exit 2 "--truth-ms 1e3" "$BIN" sim --facade "$FAC" --truth-ms 1e3
expect_in "$TMP/last.err" "--truth-ms '1e3'" "--truth-ms"
expect_exit 2 "--scan-ms 0" "$BIN" sim --facade "$FAC" --scan-ms 0
expect_in "$TMP/last.err" "crossclimb sim: --scan-ms '0': must be a whole number 1..1000" "--scan-ms"
expect_exit 2 "--idle sometimes" "$BIN" sim --facade "$FAC" --idle sometimes
expect_in "$TMP/last.err" "--idle 'sometimes': must be realtime or frozen" "--idle"
expect_exit 2 "--listen bad port" "$BIN" sim --facade "$FAC" --listen tcp://127.0.0.1:99999
expect_in "$TMP/last.err" "tcp://127.0.0.1:99999" "--listen names the URI"
expect_exit 2 "--truth without a value" "$BIN" sim --facade "$FAC" --truth
expect_in "$TMP/last.err" "--truth needs a value" "--truth value"
expect_exit 2 "robot option on sim plc" "$BIN" sim plc --facade "$FAC"
expect_in "$TMP/last.err" "crossclimb sim plc: unknown argument '--facade'" "sim plc has no --facade"
ok "bad options: exit 2, the argument named"

# ------------------------------------------------------------- bad files
expect_exit 1 "missing facade" "$BIN" sim --facade "$TMP/nope.txt" --truth "$TMP/t.jsonl"
expect_in "$TMP/last.err" "$TMP/nope.txt: No such file or directory" "missing facade named"
expect_exit 1 "bad facade" "$BIN" sim --facade "$SRC/tests/facades/bad_unknown_cell.txt" \
    --truth "$TMP/t.jsonl"
grep -q "bad_unknown_cell.txt:[0-9]*:[0-9]*: " "$TMP/last.err" ||
    { cat "$TMP/last.err"; fail "bad facade: no file:line:col message"; }
[ -e "$TMP/t.jsonl" ] && fail "a bad facade left a truth log"
printf '[robot]\nmass_dry_kg = 21\ncolour = red\n' >"$TMP/bad.ini"
expect_exit 1 "bad robot" "$BIN" sim --facade "$FAC" --robot "$TMP/bad.ini" --truth "$TMP/t.jsonl"
expect_in "$TMP/last.err" "$TMP/bad.ini:3: unknown key 'colour' in [robot]" "bad robot file:line"
printf '[cups]\ndiameter_mm = 5\n' >"$TMP/bad2.ini"
expect_exit 1 "robot value out of range" "$BIN" sim --facade "$FAC" --robot "$TMP/bad2.ini"
expect_in "$TMP/last.err" "$TMP/bad2.ini:2: [cups] diameter_mm = 5: out of range" "range message"
expect_exit 1 "missing robot" "$BIN" sim --facade "$FAC" --robot "$TMP/none.ini"
expect_in "$TMP/last.err" "$TMP/none.ini" "missing robot named"
expect_exit 1 "bad program" "$BIN" sim --facade "$FAC" --program "$SRC/tests/plc/octal_x8.il"
expect_in "$TMP/last.err" "octal_x8.il:" "bad program named"
[ -e "$TMP/t.jsonl" ] && fail "a bad robot left a truth log"
expect_exit 1 "truth log in a missing directory" "$BIN" sim --facade "$FAC" \
    --listen tcp://127.0.0.1:0 --truth "$TMP/no/such/dir/t.jsonl"
expect_in "$TMP/last.err" "--truth $TMP/no/such/dir/t.jsonl: No such file or directory" \
    "truth file named"
ok "bad files: exit 1, file:line(:col) named, no truth log written"

# ------------------------------------------------------------ a good run
"$BIN" sim --facade "$FAC" --seed 42 --listen tcp://127.0.0.1:0 --idle frozen \
    --truth "$TMP/run.jsonl" --truth-ms 50 >"$TMP/run.out" 2>"$TMP/run.err" &
PID=$!
SIMS="$SIMS $PID"
n=0
until grep -q '^ready' "$TMP/run.out" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || fail "sim exited before it was ready"
    n=$((n + 1))
    [ $n -gt 100 ] && fail "sim was not ready within 10 s"
    sleep 0.1
done
grep -q '^listening on tcp://127.0.0.1:[0-9][0-9]*$' "$TMP/run.out" || fail "no 'listening on'"
grep -q '^program .*crossclimb.il ([0-9]* steps)' "$TMP/run.out" || fail "no 'program' line"
expect_in "$TMP/run.out" "facade " "facade line"
expect_in "$TMP/run.out" "(glass_curtain_wall, 156 x 124 cells of 50 mm, start 3900 3100 mm)" \
    "facade line details"
expect_in "$TMP/run.out" "robot built-in defaults (25.0 kg, step 1000 us)" "robot line"
expect_in "$TMP/run.out" "truth $TMP/run.jsonl (a state line every 50 ms)" "truth line"
expect_in "$TMP/run.out" "ready (slave 1, scan 10 ms, time by exchange, frozen when idle, robot on glass_curtain_wall, seed 42)" \
    "ready line"
ok "sim --facade: listening, program, facade, robot, truth and ready lines"
stop_sim "$PID" "sim --facade"
head -1 "$TMP/run.jsonl" | grep -q '^{"type":"start",.*"facade":"glass_curtain_wall".*"seed":42' ||
    fail "truth log: no start line"
grep -q '^{"type":"state","t_us":0,' "$TMP/run.jsonl" || fail "truth log: no state at t = 0"
tail -1 "$TMP/run.jsonl" | grep -q '^{"type":"end",.*"fallen":false' || fail "truth log: no end line"
expect_in "$TMP/run.err" "no fall; minimum safety factor" "summary"
expect_in "$TMP/run.err" "per simulated second: physics+sensors" "cost line"
ok "truth log: start, state at t = 0, end; summary with the cost on stderr"

echo "test_sim_cli: $CHECKS passed, 0 failed"
