#!/bin/sh
# test_demo.sh — `crossclimb demo`, the README's main job, end to end: it must
# start the simulated PLC itself, complete its cycles over Modbus TCP with one
# transaction and 98 RTU bytes per cycle, print its result line and exit 0.
set -u
NAME=demo
. tests/lib.sh

expect_exit 0 "crossclimb demo" "$BIN" demo --cycles 100
expect_in "$TMP/last.out" "RESET accepted" "demo acknowledges the power-up HOLD"
expect_in "$TMP/last.out" "AUTO accepted" "demo reaches AUTO"
expect_in "$TMP/last.out" "1.0 transactions and 98.0 RTU bytes per steady cycle" "wire cost"
expect_in "$TMP/last.out" "result: outcome=link-demo-ok" "result line"
ok "crossclimb demo: simulated PLC started, cycles completed, exit 0"
SIMPID=$(sed -n 's/^demo: simulated PLC pid \([0-9]*\):.*/\1/p' "$TMP/last.out")
[ -n "$SIMPID" ] || fail "demo did not say which process its simulated PLC is"
kill -0 "$SIMPID" 2>/dev/null && fail "demo left its simulated PLC (pid $SIMPID) running"
ok "crossclimb demo: its simulated PLC is gone"

expect_exit 2 "demo bad option" "$BIN" demo --cycles 0
expect_in "$TMP/last.err" "--cycles 0" "bad option named"
expect_exit 1 "demo against nothing" "$BIN" demo --plc tcp://127.0.0.1:1
ok "crossclimb demo: bad option exit 2, unreachable PLC exit 1"
echo "test_demo: $CHECKS passed, 0 failed"
