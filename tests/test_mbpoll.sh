#!/bin/sh
# test_mbpoll.sh — Debian's mbpoll (a Modbus master built on libmodbus) against
# `crossclimb sim plc`, over Modbus TCP on loopback and Modbus RTU on the sim's
# pseudo-terminal.  Reads the status block D100-D131, writes the command block,
# reads the echoes back.  Exit 0 when every check passed, 1 on any mismatch.
#
# Env: CROSSCLIMB_BIN (absolute path of build/crossclimb; default build/crossclimb).
set -u

BIN=${CROSSCLIMB_BIN:-build/crossclimb}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crossclimb-mbpoll.XXXXXX") || exit 1
SIMS=""
CHECKS=0

cleanup() {
    for p in $SIMS; do
        kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*"
    for f in "$TMP"/*.err; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; }; done
    exit 1
}

ok() {
    CHECKS=$((CHECKS + 1))
    echo "ok $CHECKS - $*"
}

command -v mbpoll >/dev/null 2>&1 || fail "mbpoll is not installed (make deps)"
[ -x "$BIN" ] || fail "no crossclimb binary at $BIN"

# start_sim NAME ARGS...: run the sim in the background, wait for its 'ready'
# line; sets SIM_PID.
start_sim() {
    name=$1
    shift
    "$BIN" sim plc "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SIM_PID=$!
    SIMS="$SIMS $SIM_PID"
    n=0
    until grep -q '^ready' "$TMP/$name.out" 2>/dev/null; do
        kill -0 "$SIM_PID" 2>/dev/null || fail "$name: the sim exited before it was ready"
        n=$((n + 1))
        [ $n -gt 100 ] && fail "$name: the sim was not ready within 10 s"
        sleep 0.1
    done
}

# stop_sim PID NAME: SIGTERM, the exit status must be 0.
stop_sim() {
    kill -TERM "$1" || fail "$2: cannot signal the sim"
    wait "$1"
    rc=$?
    SIMS=$(echo "$SIMS" | sed "s/ $1\$//; s/ $1 / /")
    [ "$rc" -eq 0 ] || fail "$2: the sim exited with $rc after SIGTERM"
    ok "$2: SIGTERM -> exit 0"
}

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
expect "$TMP/st.txt" 100 1 "tcp status"   # RUN
expect "$TMP/st.txt" 105 0 "tcp status"   # nothing accepted yet
expect "$TMP/st.txt" 108 1 "tcp status"   # program version
expect "$TMP/st.txt" 109 100 "tcp status" # max scan 10 ms in 0.1 ms
ok "tcp: read D100-D131 (32 registers): D100=1 (RUN) D105=0 D108=1 D109=100"

mbpoll -0 -o 2 $T -r 200 -t 4 127.0.0.1 1234 >"$TMP/w.txt" 2>&1 || fail "tcp: writing D200 failed: $(cat "$TMP/w.txt")"
grep -q 'Written 1 references' "$TMP/w.txt" || fail "tcp: mbpoll did not confirm the write"
ok "tcp: wrote D200=1234 (FC 06)"

regs $T -r 104 -c 2 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D104-D105 failed"
expect "$TMP/st.txt" 105 1234 "tcp echo"
expect "$TMP/st.txt" 104 1 "tcp tick"
regs $T -r 200 -c 1 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D200 failed"
expect "$TMP/st.txt" 200 1234 "tcp read-back"
ok "tcp: D105 echoes 1234 after one 10 ms period (D104=1), D200 reads back 1234"

mbpoll -0 -o 2 $T -r 200 -t 4 127.0.0.1 1235 0 5 >"$TMP/w.txt" 2>&1 || fail "tcp: writing D200-D202 failed"
regs $T -r 103 -c 1 -t 4 127.0.0.1 >"$TMP/st.txt" || fail "tcp: reading D103 failed"
expect "$TMP/st.txt" 103 5 "tcp outputs"
regs $T -r 13056 -c 3 -t 0 127.0.0.1 >"$TMP/y.txt" || fail "tcp: reading coils Y0-Y2 failed"
[ "$(cut -d' ' -f2 "$TMP/y.txt" | tr -d '\n')" = "101" ] || fail "tcp: Y0-Y2 are $(cut -d' ' -f2 "$TMP/y.txt" | tr '\n' ' '), expected 1 0 1"
ok "tcp: wrote D200-D202 (FC 10) = 1235 0 5 -> D103=5, coils Y0 Y1 Y2 (0x3300..) = 1 0 1"

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
expect "$TMP/st.txt" 100 1 "rtu status"
expect "$TMP/st.txt" 108 1 "rtu status"
ok "rtu: read D100-D131 (32 registers, 19200 8E1, slave 7): D100=1 D108=1"

mbpoll -0 -o 2 $R -r 200 -t 4 "$PTY" 4321 >"$TMP/w.txt" 2>&1 || fail "rtu: writing D200 failed: $(cat "$TMP/w.txt")"
ok "rtu: wrote D200=4321"
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
