#!/bin/sh
# test_mbpoll.sh — Debian's mbpoll (a Modbus master built on libmodbus) against
# `crossclimb sim plc`, over Modbus TCP on loopback and Modbus RTU on the sim's
# pseudo-terminal.  Reads the status block D100-D131, writes the command block,
# reads the echoes back.  The sim runs the PLC program docs/plc/crossclimb.il:
# it powers up in HOLD, accepts a new sequence number with mode 0 (HOLD) at
# any time, and drives the requested outputs only after a RESET, in AUTO or
# MANUAL, where the interlocks allow.  Exit 0 when every check passed, 1 on
# any mismatch.
#
# Env: CROSSCLIMB_BIN (absolute path of build/crossclimb; default build/crossclimb).
set -u

NAME=mbpoll
. tests/lib.sh   # TMP, BIN, fail, ok, start_sim, stop_sim, cleanup trap

command -v mbpoll >/dev/null 2>&1 || fail "mbpoll is not installed (make deps)"

# regs ARGS...: mbpoll once, 0-based references; prints "REF VALUE" lines.
regs() {
    mbpoll -0 -1 -o 2 "$@" >"$TMP/mbpoll.txt" 2>&1 || {
        cat "$TMP/mbpoll.txt"
        return 1
    }
    sed -n 's/^\[\([0-9]*\)\]:[[:space:]]*\([-0-9a-fA-Fx]*\).*/\1 \2/p' "$TMP/mbpoll.txt"
}

# expect FILE REF VALUE WHAT: the line "REF VALUE" is in FILE.
expect() {
    got=$(sed -n "s/^$2 //p" "$1")
    [ "$got" = "$3" ] || fail "$4: D$2 is '$got', expected $3"
}

# ------------------------------------------------------------------ TCP
start_sim tcp --listen tcp://127.0.0.1:0 --idle frozen
TCP_PID=$SIM_PID
PORT=$(sed -n 's|^listening on tcp://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$TMP/tcp.out")
[ -n "$PORT" ] || fail "tcp: no 'listening on tcp://127.0.0.1:PORT' line: $(cat "$TMP/tcp.out")"
ok "tcp: listening on port $PORT"
T="-m tcp -p $PORT -a 1"

regs $T -r 100 -c 32 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D100-D131 failed"
[ "$(wc -l <"$TMP/st.txt")" -eq 32 ] || fail "tcp: D100-D131 gave $(wc -l <"$TMP/st.txt") values"
expect "$TMP/st.txt" 100 3 "tcp status"   # RUN, HOLD (the program powers up in HOLD)
expect "$TMP/st.txt" 105 0 "tcp status"   # nothing accepted yet
expect "$TMP/st.txt" 107 1 "tcp status"   # hold reason 1: commanded (mode 0)
expect "$TMP/st.txt" 108 1 "tcp status"   # program version
expect "$TMP/st.txt" 109 100 "tcp status" # max scan 10 ms in 0.1 ms
ok "tcp: read D100-D131 (32 registers): D100=3 (RUN, HOLD) D105=0 D107=1 D108=1 D109=100"

# D203 is 0 (HOLD): a command the program accepts at any time.
mbpoll -0 -o 2 $T -r 200 -t 4 127.0.0.1 1234 >"$TMP/w.txt" 2>&1 || fail "tcp: writing D200 failed: $(cat "$TMP/w.txt")"
grep -q 'Written 1 references' "$TMP/w.txt" || fail "tcp: mbpoll did not confirm the write"
ok "tcp: wrote D200=1234 (FC 06)"

regs $T -r 104 -c 2 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D104-D105 failed"
expect "$TMP/st.txt" 105 1234 "tcp echo"
# the program's tick counts each scan's own 10 ms: the power-up scan and one period
expect "$TMP/st.txt" 104 2 "tcp tick"
regs $T -r 200 -c 1 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D200 failed"
expect "$TMP/st.txt" 200 1234 "tcp read-back"
ok "tcp: D105 echoes 1234 after one 10 ms period (D104 1 -> 2), D200 reads back 1234"

# RESET (mode 3) leaves the power-up HOLD; then MANUAL (mode 2, no heartbeat
# watchdog) asks for both groups' legs down and vacuums on (D202 = 0x00F0 =
# 240), which the interlocks allow.  The C image drove any D202 at once; the
# program drives an accepted request, read back as D103 and as the coils.
mbpoll -0 -o 2 $T -r 200 -t 4 127.0.0.1 1235 0 0 3 >"$TMP/w.txt" 2>&1 || fail "tcp: writing the RESET failed"
regs $T -r 100 -c 8 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D100-D107 failed"
expect "$TMP/st.txt" 100 1 "tcp RESET"    # RUN only: HOLD left
expect "$TMP/st.txt" 105 1235 "tcp RESET"
expect "$TMP/st.txt" 107 0 "tcp RESET"
mbpoll -0 -o 2 $T -r 200 -t 4 127.0.0.1 1236 0 240 2 >"$TMP/w.txt" 2>&1 || fail "tcp: writing D200-D203 failed"
regs $T -r 103 -c 3 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D103-D105 failed"
expect "$TMP/st.txt" 103 240 "tcp outputs"
expect "$TMP/st.txt" 105 1236 "tcp outputs"
regs $T -r 13059 -c 6 -t 0 127.0.0.1 >"$TMP/y.txt" || fail "tcp: reading coils Y3-Y10 failed"
[ "$(cut -d' ' -f2 "$TMP/y.txt" | tr -d '\n')" = "011110" ] || fail "tcp: Y3-Y10 are $(cut -d' ' -f2 "$TMP/y.txt" | tr '\n' ' '), expected 0 1 1 1 1 0"
ok "tcp: RESET (FC 10 D200-D203 = 1235 0 0 3) leaves HOLD; MANUAL 1236 0 240 2 -> D103=240, coils Y3..Y10 (0x3303..) = 0 1 1 1 1 0"

if mbpoll -0 -1 -o 2 $T -r 9224 -c 1 -t 4 127.0.0.1 >"$TMP/x.txt" 2>&1; then
    fail "tcp: register 0x2408 (past CN199) was read"
fi
grep -q 'Illegal data address' "$TMP/x.txt" || fail "tcp: 0x2408 did not give exception 02: $(cat "$TMP/x.txt")"
ok "tcp: register 0x2408 -> exception 02 Illegal data address"

stop_sim "$TCP_PID" tcp

# ------------------------------------------------------------------ RTU
LINK="$TMP/plc-pty"
start_sim rtu --rtu-pty --pty-link "$LINK" --slave 7 --idle frozen
RTU_PID=$SIM_PID
PTY=$(sed -n 's|^rtu pty \(/dev/pts/[0-9][0-9]*\)$|\1|p' "$TMP/rtu.out")
[ -n "$PTY" ] || fail "rtu: no 'rtu pty /dev/pts/N' line: $(cat "$TMP/rtu.out")"
[ "$(readlink "$LINK")" = "$PTY" ] || fail "rtu: $LINK does not point at $PTY"
ok "rtu: pty $PTY, link $LINK"
R="-m rtu -b 19200 -P even -a 7"

regs $R -r 100 -c 32 -t 4 "$LINK" >"$TMP/st.txt" || fail "rtu: reading D100-D131 failed"
[ "$(wc -l <"$TMP/st.txt")" -eq 32 ] || fail "rtu: D100-D131 gave $(wc -l <"$TMP/st.txt") values"
expect "$TMP/st.txt" 100 3 "rtu status"   # RUN, HOLD
expect "$TMP/st.txt" 108 1 "rtu status"
ok "rtu: read D100-D131 (32 registers, 19200 8E1, slave 7): D100=3 D108=1"

mbpoll -0 -o 2 $R -r 200 -t 4 "$PTY" 4321 >"$TMP/w.txt" 2>&1 || fail "rtu: writing D200 failed: $(cat "$TMP/w.txt")"
ok "rtu: wrote D200=4321 (mode 0: accepted in HOLD)"
regs $R -r 105 -c 1 -t 4 "$PTY" >"$TMP/st.txt" || fail "rtu: reading D105 failed"
expect "$TMP/st.txt" 105 4321 "rtu echo"
ok "rtu: D105 echoes 4321"

mbpoll -1 -o 2 $R -u "$LINK" >"$TMP/id.txt" 2>&1 || fail "rtu: report slave id failed: $(cat "$TMP/id.txt")"
grep -q 'Id *: 0xF3' "$TMP/id.txt" || fail "rtu: slave id is not 0xF3: $(cat "$TMP/id.txt")"
grep -q 'Status: On' "$TMP/id.txt" || fail "rtu: run indicator is not on: $(cat "$TMP/id.txt")"
ok "rtu: report slave id -> 0xF3, run indicator on"

if mbpoll -0 -1 -o 1 -m rtu -b 19200 -P even -a 8 -r 100 -c 1 -t 4 "$LINK" >"$TMP/x.txt" 2>&1; then
    fail "rtu: slave 8 was answered by slave 7"
fi
regs $R -r 105 -c 1 -t 4 "$LINK" >"$TMP/st.txt" || fail "rtu: slave 7 silent after a request for slave 8"
expect "$TMP/st.txt" 105 4321 "rtu after another slave"
ok "rtu: slave 8 not answered; slave 7 answers right after"

stop_sim "$RTU_PID" rtu
[ -e "$LINK" ] || [ -L "$LINK" ] && fail "rtu: $LINK is still there after exit"
ok "rtu: $LINK removed at exit"

echo "test_mbpoll: $CHECKS passed, 0 failed"
exit 0
