#!/bin/sh
# test_plc_cli.sh — the PLC technician's commands against the simulated PLC as
# a separate process, and every kind of bad input: a clear message naming the
# argument, exit 2 (usage) or 1 (runtime), nothing written.
set -u
NAME=plc-cli
. tests/lib.sh

# ----------------------------------------------------------------- bad input
expect_exit 2 "no command" "$BIN"
expect_exit 2 "unknown command" "$BIN" frobnicate
expect_in "$TMP/last.err" "'frobnicate' is not a command" "unknown command message"
expect_exit 2 "unknown plc command" "$BIN" plc frob
expect_exit 2 "octal X8" "$BIN" plc get X8
expect_in "$TMP/last.err" "'X8': X and Y numbers are octal" "X8 message"
expect_exit 2 "D9000 out of range" "$BIN" plc get D9000
expect_in "$TMP/last.err" "'D9000': device number outside the FX range" "D9000 message"
expect_exit 2 "reversed range" "$BIN" plc get D121-D110
expect_exit 2 "bad URI scheme" "$BIN" plc get --plc http://x:1 D100
expect_in "$TMP/last.err" "http://x:1" "bad scheme names the URI"
expect_exit 2 "bad baud" "$BIN" plc get --plc 'rtu:/dev/null?baud=12x' D100
expect_in "$TMP/last.err" "baud=12x" "bad baud names the parameter"
expect_exit 2 "unknown URI parameter" "$BIN" plc get --plc 'rtu:/dev/null?speed=1' D100
expect_in "$TMP/last.err" "'speed' is not a parameter" "unknown parameter message"
expect_exit 2 "set without a value" "$BIN" plc set D300
expect_exit 2 "set an input" "$BIN" plc set X0 1 --yes
expect_in "$TMP/last.err" "inputs and cannot be written" "X write refused"
expect_exit 2 "set a bit to 2" "$BIN" plc set Y4 2 --yes
expect_exit 2 "--count 0" "$BIN" plc monitor --count 0
expect_exit 1 "nothing listening" "$BIN" plc get --plc tcp://127.0.0.1:1 D100
expect_in "$TMP/last.err" "tcp://127.0.0.1:1" "connect failure names the URI"
expect_exit 2 "sim: bad listen URI" "$BIN" sim plc --listen tcp://127.0.0.1:99999
ok "bad input: usage errors exit 2 with messages naming the argument"

# ------------------------------------------------------------ against the sim
start_sim tcp --listen tcp://127.0.0.1:0 --idle frozen
URI="tcp://127.0.0.1:$SIM_PORT"

expect_exit 0 "get status block" "$BIN" plc get --plc "$URI" D100-D109 D8012
expect_in "$TMP/last.out" "D108" "get prints D108"
[ "$(grep -c '^D' "$TMP/last.out")" -eq 11 ] || fail "get D100-D109 D8012: expected 11 lines"
ok "plc get D100-D109 D8012: 11 devices"

expect_exit 0 "get bits" "$BIN" plc get --plc "$URI" X0-X17 M8000 Y0-Y3
[ "$(grep -c '^[XYM]' "$TMP/last.out")" -eq 21 ] || fail "get bits: expected 21 lines"
grep -q '^M8000 *1$' "$TMP/last.out" || fail "M8000 (RUN) should read 1"
ok "plc get X0-X17 M8000 Y0-Y3: 21 bits, M8000 on"

# set without --yes is refused and writes nothing
expect_exit 2 "set without --yes" "$BIN" plc set --plc "$URI" D300 77
expect_in "$TMP/last.err" "without --yes" "refusal message"
"$BIN" plc get --plc "$URI" D300 >"$TMP/d300.out" 2>&1 || fail "get D300"
grep -q '^D300 *77 ' "$TMP/d300.out" && fail "D300 was written without --yes"
ok "plc set without --yes: refused, nothing written"

# set with --yes writes and logs
LOGDIR="$TMP/log"
mkdir -p "$LOGDIR"
CROSSCLIMB_LOG_DIR=$LOGDIR "$BIN" plc set --plc "$URI" D7000 1234 --yes 2>"$TMP/set.err" ||
    fail "plc set D7000 1234 --yes"
"$BIN" plc get --plc "$URI" D7000 >"$TMP/d7000.out" || fail "get D7000"
grep -q '^D7000 *1234 ' "$TMP/d7000.out" || fail "D7000 should read 1234"
expect_in "$LOGDIR/plc-writes.log" "set D7000 = 1234 via $URI: written" "write log line"
expect_in "$TMP/set.err" "D7000 = 1234" "write echoed on stderr"
ok "plc set D7000 1234 --yes: written, read back, logged"

CROSSCLIMB_LOG_DIR=$LOGDIR "$BIN" plc set --plc "$URI" M500 1 --yes 2>/dev/null || fail "set M500"
"$BIN" plc get --plc "$URI" M500 | grep -q "^M500 *1$" || fail "M500 should read 1"
ok "plc set M500 1 --yes: a bit device"

expect_exit 0 "monitor" "$BIN" plc monitor --plc "$URI" --count 3 --interval-ms 0
[ "$(grep -c '^PLC status block' "$TMP/last.out")" -eq 3 ] || fail "monitor: expected 3 tables"
expect_in "$TMP/last.out" "D104 tick" "monitor shows the tick"
ok "plc monitor --count 3: three tables of the status block"

stop_sim "$SIM_PID" tcp

# plc ports: libserialport lists what it finds, or says there is none
expect_exit 0 "plc ports" "$BIN" plc ports
[ -s "$TMP/last.out" ] || fail "plc ports printed nothing"
ok "plc ports: exit 0 with a listing or a plain 'no serial ports'"

echo "test_plc_cli: $CHECKS passed, 0 failed"
