#!/bin/sh
# test_report.sh — `crossclimb report LOG -o FILE.svg`: the run log of a real
# demo (a small region), and hand-made held and fallen logs derived from it,
# each become an SVG that a real XML parser accepts (xmllint) and a real
# renderer draws (rsvg-convert); the summary table's numbers are the end
# record's, as printed in the log.  A bad log line is named FILE:LINE, exit 1,
# and the output file is neither created nor replaced.
set -u
NAME=report
. tests/lib.sh

PY=${PYTHON:-python3}
command -v xmllint >/dev/null || fail "xmllint (libxml2-utils) is needed"
command -v rsvg-convert >/dev/null || fail "rsvg-convert (librsvg2-bin) is needed"

# ------------------------------------------------------------ a real run log
expect_exit 0 "demo on a small region" "$BIN" demo --region 3600,2500,4200,3100 --log "$TMP/done.jsonl"
grep -q '"outcome":"completed"' "$TMP/done.jsonl" || fail "the demo did not complete"
ok "crossclimb demo --log: a completed run's log"

# held: cut after the 3rd step-end, then a gait HOLD and an end record;
# fallen: cut after the 4th step-end, cups at 0 kPa, fall-suspected, end fall.
"$PY" - "$TMP/done.jsonl" "$TMP/held.jsonl" "$TMP/fallen.jsonl" <<'PYEOF' || fail "making held/fallen logs"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def cut(k):
    out, ends = [], 0
    for r in recs:
        out.append(r)
        if r["type"] == "mission" and r.get("event") == "step-end":
            ends += 1
            if ends == k:
                break
    return out
def write(path, rs):
    with open(path, "w") as f:
        for i, r in enumerate(rs):
            r["n"] = i
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
last = recs[-1]
h = cut(3); t = h[-1]["t"]
h.append({"type": "hold", "t": t + 0.5, "reason": "gait", "detail": "grip-timeout", "holds": 1,
          "gait": "grip", "plc_hold_reason": 0, "plc_flags": 2})
h.append({"type": "end", "t": t + 0.5, "outcome": "held", "falls": 0, "coverage": 0.125, "area_m2": 0.045,
          "sim_time_s": t + 0.5, "rate_m2_per_h": 7.25, "min_safety_factor": 2.311, "holds": 1,
          "refused_commands": 0, "source": "truth", "cycles": 1801, "link_failures": 0, "half_steps": 3})
write(sys.argv[2], h)
fl = cut(4); t = fl[-1]["t"]
st = dict([r for r in fl if r["type"] == "status"][-1])
st["t"] = t + 1.0; st["cup_kpa"] = [0.0] * 12
fl.append(st)
fl.append({"type": "fault", "t": t + 2.0, "kind": "fall-suspected", "detail": "every cup 0 kPa"})
fl.append({"type": "end", "t": t + 2.0, "outcome": "fall", "falls": 1, "coverage": 0.0, "area_m2": 0.0,
           "sim_time_s": t + 2.0, "rate_m2_per_h": 0.0, "min_safety_factor": 0.412, "holds": 0,
           "refused_commands": 0, "source": "truth", "cycles": 2200, "link_failures": 0, "half_steps": 4})
write(sys.argv[3], fl)
PYEOF
ok "hand-made held and fallen logs (renumbered, same record types)"

# ----------------------------------------------------------- render each
for k in done held fallen; do
    expect_exit 0 "report $k" "$BIN" report "$TMP/$k.jsonl" -o "$TMP/$k.svg"
    xmllint --noout "$TMP/$k.svg" 2>"$TMP/xmllint.err" || { cat "$TMP/xmllint.err"; fail "$k: not well-formed XML"; }
    rsvg-convert "$TMP/$k.svg" -o "$TMP/$k.png" 2>"$TMP/rsvg-$k.log" || { cat "$TMP/rsvg-$k.log"; fail "$k: rsvg-convert failed"; }
    [ -s "$TMP/$k.png" ] || fail "$k: empty PNG"
    ls "$TMP" | grep -q "$k.svg.tmp" && fail "$k: a temporary file was left"
    # the summary: every end-record number, as the log printed it, in the SVG
    "$PY" - "$TMP/$k.jsonl" "$TMP/$k.svg" <<'PYEOF' || fail "$k: summary numbers differ from the log's end record"
import re, sys, xml.etree.ElementTree as ET
raw = open(sys.argv[1]).read().splitlines()[-1]
svg = ET.parse(sys.argv[2]).getroot()
ns = "{http://www.w3.org/2000/svg}"
cells = {e.get("id")[4:]: e.text for e in svg.iter(ns + "text") if (e.get("id") or "").startswith("sum-")}
for key in ("outcome", "falls", "coverage", "area_m2", "sim_time_s", "rate_m2_per_h", "min_safety_factor",
            "holds", "refused_commands", "cycles", "link_failures", "half_steps", "source"):
    m = re.search(r'"%s":("?)([^",}]*)\1' % key, raw)
    assert m, "no %s in the end record" % key
    assert cells.get(key) == m.group(2), "%s: svg %r, log %r" % (key, cells.get(key), m.group(2))
PYEOF
    ok "report $k: well-formed (xmllint), rendered (rsvg-convert), summary equals the end record"
done
OUTC=$(sed -n 's/.*"outcome":"\([a-z-]*\)".*/\1/p' "$TMP/done.jsonl")
grep -q ">$OUTC<" "$TMP/done.svg" || fail "completed: outcome not in the SVG"
grep -q '>HOLD gait grip-timeout<\|HOLD gait grip-timeout' "$TMP/held.svg" || fail "held: the HOLD and its reason are not on the timeline"
grep -q 'FAULT fall-suspected' "$TMP/fallen.svg" || fail "fallen: the fall fault is not on the timeline"
for k in done held fallen; do
    grep -q 'sealed 45.0' "$TMP/$k.svg" && grep -q 'released 10.0' "$TMP/$k.svg" || fail "$k: thresholds not labelled"
    grep -q 'cleaned (brush on' "$TMP/$k.svg" && grep -q 'missed (no brush' "$TMP/$k.svg" &&
        grep -q 'unreachable (lane' "$TMP/$k.svg" || fail "$k: coverage legend"
done
grep -q 'cleaned (brush on, controller.s estimate): 144 cells' "$TMP/done.svg" || fail "completed: not every cell cleaned"
ok "the held run shows its HOLD reason, the fallen run its fault; thresholds and map labelled (not colour only)"

# ----------------------------------------------------------- strict reading
echo "stale" >"$TMP/keep.svg"
sed '5s/.*/{"type":"status", broken/' "$TMP/done.jsonl" >"$TMP/bad.jsonl"
expect_exit 1 "a broken line" "$BIN" report "$TMP/bad.jsonl" -o "$TMP/keep.svg"
expect_in "$TMP/last.err" "bad.jsonl:5:" "the bad line named file:line"
[ "$(cat "$TMP/keep.svg")" = stale ] || fail "the output was touched after a bad log"
sed '7d' "$TMP/done.jsonl" >"$TMP/gap.jsonl"
expect_exit 1 "a lost line" "$BIN" report "$TMP/gap.jsonl" -o "$TMP/gap.svg"
expect_in "$TMP/last.err" "gap.jsonl:7: record number 7, expected 6" "a gap in the numbers named"
[ -e "$TMP/gap.svg" ] && fail "an SVG was written for a bad log"
sed '3s/"outputs":[0-9]*/"outputs":1/; 1s/"vac_sealed_kpa":[0-9.]*/"vac_sealed_kpa":"x"/' "$TMP/done.jsonl" >"$TMP/type.jsonl"
expect_exit 1 "a field of the wrong kind" "$BIN" report "$TMP/type.jsonl" -o "$TMP/type.svg"
expect_in "$TMP/last.err" "type.jsonl:1: field 'vac_sealed_kpa'" "the wrong field named"
ls "$TMP" | grep -q '\.tmp' && fail "a temporary file was left"
ok "strict: a broken line, a lost line, a wrong field: FILE:LINE named, exit 1, nothing written"
expect_exit 2 "no -o" "$BIN" report "$TMP/done.jsonl"
expect_exit 2 "unknown option" "$BIN" report "$TMP/done.jsonl" -o x.svg --colour
expect_exit 1 "missing log" "$BIN" report "$TMP/nope.jsonl" -o "$TMP/nope.svg"
expect_in "$TMP/last.err" "nope.jsonl" "missing log named"
ok "usage errors exit 2, an unreadable log exits 1"
echo "test_report: $CHECKS passed, 0 failed"
