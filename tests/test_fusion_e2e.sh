#!/bin/sh
# test_fusion_e2e.sh — the perception gate in the controller (issue 6,
# SPEC §6 S5), end to end against the simulator, judged by its truth log:
# each scenario runs twice, with the shipped fusion weights asked before every
# half-step and with --fusion off.  Both must end without a fall; with fusion
# every half-step has a verdict in the log (grip risk, path probabilities,
# attention share per modality), and the action taken is never less careful
# than the verdict (a STOP is always a wait or a pause; the only other
# departure from the mission's plan is a shorter step).  The demo serves the
# simulated camera to the gate (sim --camera): with fusion every verdict has
# camera tokens (a camera share > 0, the start record names the camera),
# except during a camera_blackout of the scenario (then some verdicts may see
# the camera offline, but not all); with --fusion off there is no camera.  The reseats, shifts
# and HOLDs of both runs are printed side by side — the comparison the issue
# asks for — and judged: with the gate, no scenario needs more of them than
# without, and all of them together need fewer.  Two scenarios go beyond the
# map: torn lips (sim/scenarios/cup_leak_torn*.txt: a cup of A fails while A
# holds, before it is lifted; one fails during a lift, one while its group
# grips a new foothold) and a facade that is not what the survey
# says (sim/worlds/default_unsurveyed.txt, run by the simulator while the
# controller plans on sim/facades/default.txt: an unmapped sealant joint).
# The gate's thresholds are the shipped weights' (chosen by `fusion
# calibrate` on validation data, never on these runs).
set -u
NAME=fusion_e2e
. tests/lib.sh

PY=${PYTHON:-python3}
SRC=${CROSSCLIMB_SRC:-.}
printf '[sensors]\nposition_sensors = yes\n' >"$TMP/sensors.ini"

# name | demo arguments
SCENARIOS="default-leak|--faults $SRC/sim/scenarios/cup_leak.txt
default-dirt|--robot $TMP/sensors.ini --region 3000,300,5000,1900
mixed-joints|--facade $SRC/sim/facades/mixed.txt --robot $TMP/sensors.ini --region 1300,600,3100,1500
tall-noise|--facade $SRC/sim/facades/tall_narrow.txt --robot $TMP/sensors.ini --region 600,2400,1900,3900 --faults $SRC/sim/scenarios/sensor_noise.txt
torn-lip|--faults $SRC/sim/scenarios/cup_leak_torn.txt --robot $TMP/sensors.ini --region 3000,300,5000,1900
torn-in-lift|--faults $SRC/sim/scenarios/cup_leak_torn_lift.txt --robot $TMP/sensors.ini --region 3000,300,5000,1900
torn-in-grip|--facade $SRC/sim/facades/mixed.txt --faults $SRC/sim/scenarios/cup_leak_torn_grip.txt --robot $TMP/sensors.ini --region 1300,600,3100,1500
unsurveyed|--sim-facade $SRC/sim/worlds/default_unsurveyed.txt --robot $TMP/sensors.ini --region 3000,300,5000,1900"

printf '%-14s %-6s %-9s %6s %7s %6s %5s %8s %7s\n' scenario fusion outcome falls reseats shifts holds coverage careful >"$TMP/table"
: >"$TMP/counts"
while IFS='|' read -r name args; do
    for mode in on off; do
        fz=""
        [ "$mode" = off ] && fz="--fusion off"
        # shellcheck disable=SC2086 # the arguments are words on purpose
        "$BIN" demo --headless $fz $args --log "$TMP/$name-$mode.jsonl" >"$TMP/$name-$mode.out" 2>"$TMP/$name-$mode.err"
        [ -s "$TMP/$name-$mode.jsonl" ] || fail "$name ($mode): no run log"
        "$PY" - "$TMP/$name-$mode.jsonl" "$name" "$mode" "$args" "$TMP/counts" >>"$TMP/table" <<'EOF' || fail "$name ($mode): see above"
import json, sys
path, name, mode, args, counts = sys.argv[1:6]
recs = [json.loads(l) for l in open(path)]
start = recs[0]
assert start["type"] == "start", start
# a scenario with a camera blackout (its faults file names one)
blackout = False
words = args.split()
for i, w in enumerate(words[:-1]):
    if w == "--faults":
        blackout = "camera_blackout" in open(words[i + 1]).read()
end = [r for r in recs if r["type"] == "end"]
assert len(end) == 1, "no end record"
e = end[0]
assert e["source"] == "truth", e
assert e["falls"] == 0, "a fall: %r" % e
fus = [r for r in recs if r["type"] == "mission" and r.get("event") == "fusion"]
begins = [r for r in recs if r["type"] == "mission" and r.get("event") == "step-begin"]
if mode == "off":
    assert e["fusion"] is False and e["fusion_asked"] == 0 and not fus, "fusion was asked with --fusion off"
    assert start["camera"] is None, "a camera with --fusion off: %r" % start["camera"]
else:
    assert e["fusion"] is True, "fusion not on by default"
    assert e["fusion_asked"] == len(fus), (e["fusion_asked"], len(fus))
    # a verdict before every half-step the mission started
    assert len(fus) >= len(begins) > 0, (len(fus), len(begins))
    assert isinstance(start["camera"], str) and start["camera"].startswith("tcp://127.0.0.1:"), start.get("camera")
    for r in fus:
        for k in ("grip_risk", "path", "attention_share", "verdict", "taken"):
            assert k in r, "fusion record without %s: %r" % (k, r)
        sh = r["attention_share"]
        assert abs(sum(sh.values()) - 1.0) < 0.01, sh
        assert sh["camera"] > 0.0 or blackout, "no camera tokens (the demo serves the camera): %r" % sh
        assert abs(sum(r["path"].values()) - 1.0) < 0.01, r["path"]
        v, t = r["verdict"], r["taken"]
        # never less careful: a STOP is obeyed; otherwise the plan or a shorter step
        if v == "stop":
            assert t == "stop", r
        else:
            assert t in ("proceed", "shorten"), r
            if t == "shorten":
                assert v != "proceed", r
if mode == "on":
    seen = sum(1 for r in fus if r["attention_share"]["camera"] > 0.0)
    assert seen > 0, "no verdict saw the camera"
careful = e.get("fusion_careful", 0)
# the HOLDs the log records after the start-up one agree with the summary's
held = [r for r in recs if r["type"] == "hold" and r.get("reason") != "startup"]
assert len(held) == e["holds"], (len(held), e["holds"])
with open(counts, "a") as f:
    f.write("%s %s %d %d %d\n" % (name, mode, e["reseats"], e["shifts"], e["holds"]))
print("%-14s %-6s %-9s %6d %7d %6d %5d %8.3f %7d" % (name, mode, e["outcome"], e["falls"], e["reseats"],
      e["shifts"], e["holds"], e["coverage"], careful))
EOF
    done
    ok "$name: no fall with and without fusion; every verdict logged and obeyed"
done <<EOF_SCEN
$SCENARIOS
EOF_SCEN
echo "--- with and without the perception gate (truth: falls, coverage; controller: reseats, shifts, holds)"
cat "$TMP/table"
[ "$(wc -l <"$TMP/table")" -eq 17 ] || fail "not every run reported"
ok "comparison reported for 8 scenarios"
# the issue's measure: recoveries (reseats + shifts) and HOLDs, with and without the gate
"$PY" - "$TMP/counts" <<'EOF' || fail "the gate does not reduce reseats and HOLDs (see above)"
import sys
runs = {}
for line in open(sys.argv[1]):
    name, mode, reseats, shifts, holds = line.split()
    runs.setdefault(name, {})[mode] = (int(reseats), int(shifts), int(holds))
tot = {"on": [0, 0, 0], "off": [0, 0, 0]}
for name, r in runs.items():
    for mode in ("on", "off"):
        tot[mode] = [a + b for a, b in zip(tot[mode], r[mode])]
    assert sum(r["on"]) <= sum(r["off"]), "%s: more reseats, shifts and HOLDs with the gate: %r" % (name, r)
print("total   with the gate: %d reseats, %d shifts, %d HOLDs; without: %d reseats, %d shifts, %d HOLDs"
      % tuple(tot["on"] + tot["off"]))
assert sum(tot["on"]) < sum(tot["off"]), tot
EOF
ok "with the gate no scenario needs more reseats, shifts or HOLDs, and all together need fewer"
echo "test_fusion_e2e: $CHECKS checks passed"
