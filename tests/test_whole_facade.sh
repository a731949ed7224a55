#!/bin/sh
# test_whole_facade.sh — whole facades, not regions (issue 5: "every facade
# cleaned with coverage >= 95 % of the reachable area"), judged by the
# simulator's truth: the robot with position sensors and a low-flow nozzle
# (so that its 4 kg tank lasts the mission) cleans every facade of
# sim/facades/ whole, no fall, no HOLD, nothing refused, minimum safety factor
# >= 2.0 at every release, coverage >= 0.95 of what the plan reaches.  The
# tiled facade needs a robot configured for it (B's feet one course period
# apart: with the default 800 mm both B feet straddle joints at the facade's
# start, and the controller rightly refuses) set down off the joints near the
# start point (3040, 2105).  docs/controller.md has the table.
set -u
NAME=whole_facade
. tests/lib.sh

SRC=${CROSSCLIMB_SRC:-.}
printf '[robot]\ndrain_g_s = 1.0\n[sensors]\nposition_sensors = yes\n' >"$TMP/robot.ini"
printf '[robot]\ndrain_g_s = 1.0\n[cups]\nfoot_b1_mm = 0, -325\nfoot_b2_mm = 0, 325\n[sensors]\nposition_sensors = yes\n' >"$TMP/tiled.ini"

for f in default mixed tall_narrow tiled; do
    if [ "$f" = tiled ]; then
        set -- --robot "$TMP/tiled.ini" --start 3040,2105
    else
        set -- --robot "$TMP/robot.ini"
    fi
    expect_exit 0 "whole $f facade" "$BIN" demo --headless --facade "$SRC/sim/facades/$f.txt" "$@"
    LINE=$(grep '^result: ' "$TMP/last.out")
    echo "$LINE" | grep -Eq '^result: outcome=completed falls=0 .* holds=0 refused_commands=0$' ||
        fail "whole $f facade: $LINE"
    COV=$(echo "$LINE" | sed 's/.* coverage=\([0-9.]*\) .*/\1/')
    SF=$(echo "$LINE" | sed 's/.* min_safety_factor=\([0-9.]*\) .*/\1/')
    AREA=$(echo "$LINE" | sed 's/.* area_m2=\([0-9.]*\) .*/\1/')
    awk -v c="$COV" -v s="$SF" 'BEGIN { exit !(c >= 0.95 && s >= 2.0) }' ||
        fail "whole $f facade: coverage $COV < 0.95 or safety factor $SF < 2.0"
    ok "whole $f facade: coverage $COV of the reachable area, $AREA m2, min safety factor $SF (truth), no HOLD"
done
echo "test_whole_facade: $CHECKS passed, 0 failed"
