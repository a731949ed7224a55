# lib.sh — shared helpers for the shell integration tests (sourced, not run).
# A test sets NAME before sourcing; it gets TMP, BIN, fail/ok, start_sim,
# stop_sim, and a trap that stops every sim it started and removes TMP.
#
# Env: CROSSCLIMB_BIN (absolute path of build/crossclimb; default build/crossclimb).

BIN=${CROSSCLIMB_BIN:-build/crossclimb}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crossclimb-${NAME:-test}.XXXXXX") || exit 1
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

[ -x "$BIN" ] || fail "no crossclimb binary at $BIN"

# start_sim NAME ARGS...: run `crossclimb sim plc ARGS` in the background and
# wait for its 'ready' line; sets SIM_PID, and SIM_PORT when it listens on TCP.
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
    SIM_PORT=$(sed -n 's|^listening on tcp://[^:]*:\([0-9]*\)$|\1|p' "$TMP/$name.out")
}

# stop_sim PID NAME: SIGTERM; the exit status must be 0.
stop_sim() {
    kill -TERM "$1" || fail "$2: cannot signal the sim"
    wait "$1"
    rc=$?
    SIMS=$(echo "$SIMS" | sed "s/ $1\$//; s/ $1 / /")
    [ "$rc" -eq 0 ] || fail "$2: the sim exited with $rc after SIGTERM"
    ok "$2: SIGTERM -> exit 0"
}

# expect_exit CODE WHAT CMD...: run CMD (stdout/stderr to $TMP/last.*), check its exit code.
expect_exit() {
    want=$1
    what=$2
    shift 2
    "$@" >"$TMP/last.out" 2>"$TMP/last.err"
    got=$?
    [ "$got" -eq "$want" ] || { cat "$TMP/last.out" "$TMP/last.err"; fail "$what: exit $got, expected $want"; }
}

# expect_in FILE TEXT WHAT: FILE contains TEXT (fixed string).
expect_in() {
    grep -qF -- "$2" "$1" || { cat "$1"; fail "$3: '$2' not found"; }
}
