#!/bin/sh
# test_sim_cli.sh — `crossclimb sim --facade F`, the robot simulator, from the
# command line: --help; bad options exit 2 with a message naming the argument
# (a bad --camera URI among them); bad facade, robot and fault scenario files
# exit 1 with the loader's file:line(:col) message and leave no truth log
# behind; a camera port in use or a dump directory that is a file exit 1; a
# good run prints its lines (faults, camera, frames and ready naming the
# camera), writes its truth log and stops on SIGTERM with exit 0.  (The
# robot's behaviour over Modbus is tests/check_simrobot.c, faults
# tests/check_simfaults.c, the camera channel tests/check_camchannel.c.)
set -u
NAME=sim-cli
. tests/lib.sh

SRC=${CROSSCLIMB_SRC:-.}
FAC=$SRC/sim/facades/default.txt

# ---------------------------------------------------------------- --help
expect_exit 0 "sim --help" "$BIN" sim --help
expect_in "$TMP/last.out" "usage: crossclimb sim --facade FILE" "usage line"
for opt in --robot --seed --truth --truth-ms --step-us --idle --realtime --listen --rtu-pty \
    --faults --camera --dump-frames --dump-every-ms; do
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
expect_exit 2 "--camera udp" "$BIN" sim --facade "$FAC" --camera udp://127.0.0.1:5
expect_in "$TMP/last.err" "crossclimb sim: --camera 'udp://127.0.0.1:5': a camera URI is tcp://HOST:PORT" \
    "--camera scheme"
expect_exit 2 "--camera without a port" "$BIN" sim --facade "$FAC" --camera tcp://127.0.0.1
expect_in "$TMP/last.err" "--camera 'tcp://127.0.0.1': the port must be given" "--camera port"
expect_exit 2 "--camera bad port" "$BIN" sim --facade "$FAC" --camera tcp://127.0.0.1:99999
expect_in "$TMP/last.err" "--camera 'tcp://127.0.0.1:99999'" "--camera names the URI"
expect_exit 2 "--camera without a value" "$BIN" sim --facade "$FAC" --camera
expect_in "$TMP/last.err" "--camera needs a value" "--camera value"
expect_exit 2 "--camera on sim plc" "$BIN" sim plc --camera tcp://127.0.0.1:0
expect_in "$TMP/last.err" "crossclimb sim plc: unknown argument '--camera'" "sim plc has no camera"
expect_exit 2 "--faults ''" "$BIN" sim --facade "$FAC" --faults ''
expect_in "$TMP/last.err" "--faults needs a file" "--faults empty"
expect_exit 2 "--dump-every-ms alone" "$BIN" sim --facade "$FAC" --dump-every-ms 100
expect_in "$TMP/last.err" "--dump-every-ms needs --dump-frames DIR" "--dump-every-ms alone"
expect_exit 2 "--dump-every-ms 0" "$BIN" sim --facade "$FAC" --dump-frames "$TMP/f" --dump-every-ms 0
expect_in "$TMP/last.err" "--dump-every-ms '0': must be a whole number 1..3600000" "--dump-every-ms"
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
expect_exit 1 "bad fault scenario" "$BIN" sim --facade "$FAC" \
    --faults "$SRC/tests/faults/bad_unknown_fault.txt" --truth "$TMP/t.jsonl"
expect_in "$TMP/last.err" \
    "crossclimb sim: $SRC/tests/faults/bad_unknown_fault.txt:3:7: unknown fault 'cup_leek'" \
    "bad scenario file:line:col"
grep -q "bad_unknown_fault.txt:[0-9]*:[0-9]*: " "$TMP/last.err" ||
    fail "bad scenario: no file:line:col message"
[ -e "$TMP/t.jsonl" ] && fail "a bad scenario left a truth log"
expect_exit 1 "bad fault value" "$BIN" sim --facade "$FAC" --faults "$SRC/tests/faults/bad_range.txt"
expect_in "$TMP/last.err" "bad_range.txt:1:23: kpa=1200 is out of range (0 <= kpa <= 1000)" \
    "scenario value out of range"
expect_exit 1 "missing fault scenario" "$BIN" sim --facade "$FAC" --faults "$TMP/none.txt"
expect_in "$TMP/last.err" "$TMP/none.txt: No such file or directory" "missing scenario named"
: >"$TMP/plainfile"
expect_exit 1 "dump directory is a file" "$BIN" sim --facade "$FAC" --listen tcp://127.0.0.1:0 \
    --dump-frames "$TMP/plainfile" --truth "$TMP/t.jsonl"
expect_in "$TMP/last.err" "--dump-frames $TMP/plainfile: not a directory" "dump dir named"
[ -e "$TMP/t.jsonl" ] && fail "a bad dump directory left a truth log"
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

# ---------------------------------------------- faults, camera and frames
"$BIN" sim --facade "$FAC" --listen tcp://127.0.0.1:0 --idle frozen \
    --faults "$SRC/sim/scenarios/combined.txt" --camera tcp://127.0.0.1:0 \
    --dump-frames "$TMP/frames" --dump-every-ms 250 --truth "$TMP/cam.jsonl" \
    >"$TMP/cam.out" 2>"$TMP/cam.err" &
PID=$!
SIMS="$SIMS $PID"
n=0
until grep -q '^ready' "$TMP/cam.out" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || fail "sim with a camera exited before it was ready"
    n=$((n + 1))
    [ $n -gt 100 ] && fail "sim with a camera was not ready within 10 s"
    sleep 0.1
done
grep -q '^faults .*/sim/scenarios/combined.txt (11 faults)$' "$TMP/cam.out" || {
    cat "$TMP/cam.out"; fail "no 'faults' line"; }
CAM=$(sed -n 's|^camera on tcp://127.0.0.1:\([0-9][0-9]*\)$|\1|p' "$TMP/cam.out")
[ -n "$CAM" ] || { cat "$TMP/cam.out"; fail "no 'camera on tcp://127.0.0.1:PORT' line"; }
expect_in "$TMP/cam.out" "frames $TMP/frames (one every 250 ms of virtual time)" "frames line"
expect_in "$TMP/cam.out" ", seed 1, camera tcp://127.0.0.1:$CAM)" "ready names the camera"
# the lines come in order: camera before ready
[ "$(grep -n '^camera on' "$TMP/cam.out" | cut -d: -f1)" -lt \
  "$(grep -n '^ready' "$TMP/cam.out" | cut -d: -f1)" ] || fail "'camera on' after 'ready'"
[ -f "$TMP/frames/frame-0000000000.pgm" ] || fail "no frame dumped at t = 0"
head -c 2 "$TMP/frames/frame-0000000000.pgm" | grep -q P5 || fail "the dumped frame is not a PGM"
ok "sim --faults --camera --dump-frames: faults, camera on, frames and ready lines; frame at t = 0"
# the camera's port is taken: another sim cannot listen there
expect_exit 1 "camera port in use" "$BIN" sim --facade "$FAC" --listen tcp://127.0.0.1:0 \
    --camera "tcp://127.0.0.1:$CAM" --truth "$TMP/t2.jsonl"
expect_in "$TMP/last.err" "crossclimb sim: --camera cannot listen on tcp://127.0.0.1:$CAM" \
    "port in use named"
[ -e "$TMP/t2.jsonl" ] && fail "a camera that cannot listen left a truth log"
ok "--camera on a port in use: exit 1, nothing left behind"
stop_sim "$PID" "sim --faults --camera"
expect_in "$TMP/cam.err" "faults: 0 started, 0 ended; link silence dropped 0 requests" \
    "fault summary"
expect_in "$TMP/cam.err" "camera: 0 frames to 0 clients" "camera summary"

# a frame that cannot be written: said once, the run goes on, exit 1
"$BIN" sim --facade "$FAC" --listen tcp://127.0.0.1:0 --idle realtime \
    --dump-frames "$TMP/gone" --dump-every-ms 50 >"$TMP/gone.out" 2>"$TMP/gone.err" &
PID=$!
SIMS="$SIMS $PID"
n=0
until grep -q '^ready' "$TMP/gone.out" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || fail "sim with dumps exited before it was ready"
    n=$((n + 1))
    [ $n -gt 100 ] && fail "sim with dumps was not ready within 10 s"
    sleep 0.1
done
rm -rf "$TMP/gone"
sleep 0.5
kill -0 "$PID" 2>/dev/null || fail "a frame that cannot be written stopped the sim"
kill -TERM "$PID"
wait "$PID"
rc=$?
SIMS=$(echo "$SIMS" | sed "s/ $PID\$//; s/ $PID / /")
[ "$rc" -eq 1 ] || { cat "$TMP/gone.err"; fail "dump failure: exit $rc, expected 1"; }
[ "$(grep -c 'no more frames are written' "$TMP/gone.err")" -eq 1 ] ||
    { cat "$TMP/gone.err"; fail "dump failure: not reported exactly once"; }
expect_in "$TMP/gone.err" "crossclimb sim: --dump-frames: " "dump failure named"
ok "--dump-frames into a directory that vanished: reported once, kept running, exit 1"

echo "test_sim_cli: $CHECKS passed, 0 failed"
