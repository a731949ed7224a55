#!/bin/sh
# test_fusion_pipeline.sh — the perception data pipeline end to end on tiny
# sizes: `fusion dataset` (deterministic, manifest, counts) -> `fusion train`
# -> `fusion eval` (AUROC, path, lead time, ablation, the split check), the
# shipped weights on fresh data, and the usage errors.  About 3 s.
# (The labels themselves are tests/check_episodes.c; the metrics
# tests/check_eval.c.)
set -u
NAME=fusion-pipeline
. tests/lib.sh

SRC=${CROSSCLIMB_SRC:-.}
SHIPPED=$SRC/perception/weights/fusion-default.safetensors

# ------------------------------------------------------------ layering
# sim/ never includes perception/ (nor controller/): the CLI composes them.
if grep -lE '#include *"(\.\./)?(perception|controller)/' "$SRC"/sim/*.c "$SRC"/sim/*.h >"$TMP/inc" 2>/dev/null; then
    cat "$TMP/inc"
    fail "sim/ includes perception/ or controller/"
fi
ok "sim/ does not include perception/ or controller/"

# ------------------------------------------------------------- dataset
expect_exit 0 "dataset (train)" "$BIN" fusion dataset --out "$TMP/train.ccf" --n 96 --seed 5 \
    --gen-facades 3 --facades "$SRC/sim/facades" --sequences 0.25 --seq-len 6
cp "$TMP/last.out" "$TMP/train.out"
expect_in "$TMP/train.out" "dataset: 96 examples (72 single, 4 sequences of 6), seed 5" "header line"
expect_in "$TMP/train.out" "labels: hold A:" "label counts"
expect_in "$TMP/train.out" "path: PROCEED" "path counts"
expect_in "$TMP/train.out" "wrote $TMP/train.ccf (96 records" "written"
[ -s "$TMP/train.ccf.manifest" ] || fail "no manifest next to the dataset"
expect_in "$TMP/train.ccf.manifest" "ccfusion-manifest 1" "manifest header"
expect_in "$TMP/train.ccf.manifest" "seed 5" "manifest seed"
[ "$(grep -c '^facade ' "$TMP/train.ccf.manifest")" -eq 7 ] || fail "manifest: 4 files + 3 generated facades"
[ "$(grep -c '^sequence ' "$TMP/train.ccf.manifest")" -eq 4 ] || fail "manifest: 4 sequences"
ok "dataset: 96 examples, counts printed, manifest with 7 facades and 4 sequences"

# deterministic: the same command gives the same bytes
expect_exit 0 "dataset again" "$BIN" fusion dataset --out "$TMP/again.ccf" --n 96 --seed 5 \
    --gen-facades 3 --facades "$SRC/sim/facades" --sequences 0.25 --seq-len 6
cmp -s "$TMP/train.ccf" "$TMP/again.ccf" || fail "same seed, different dataset bytes"
ok "dataset: the same seed gives byte-identical files"

# the trainer reads it strictly
expect_exit 0 "dataset (eval)" "$BIN" fusion dataset --out "$TMP/eval.ccf" --n 72 --seed 6 \
    --gen-facades 3 --sequences 0.34 --seq-len 6
cmp -s "$TMP/train.ccf" "$TMP/eval.ccf" && fail "another seed, same bytes"
ok "dataset: another seed, other data"

# ---------------------------------------------------------------- train
expect_exit 0 "train" "$BIN" fusion train --data "$TMP/train.ccf" --out "$TMP/w.safetensors" \
    --epochs 2 --hidden 8 --lr 0.01 --seed 3
expect_in "$TMP/last.out" "data: $TMP/train.ccf: 96 examples, widths 7/4/66" "trained on snapshots"
ok "train: 2 epochs on the dataset"

# ----------------------------------------------------------------- eval
expect_exit 0 "eval" "$BIN" fusion eval --weights "$TMP/w.safetensors" --data "$TMP/eval.ccf" \
    --train-manifest "$TMP/train.ccf.manifest"
cp "$TMP/last.out" "$TMP/eval.out"
for want in "AUROC group A" "AUROC group B" "path" "accuracy" "confusion" "(rows: truth" \
            "lead time: 4 sequences of a degrading cup" "false-alarm rate" \
            "steps earlier than the baseline" "without pressure" "without proximity" \
            "without camera" "verdict: the fused model" \
            "split: checked against $TMP/train.ccf.manifest: seeds 5 (training) and 6 (here)"; do
    expect_in "$TMP/eval.out" "$want" "eval prints '$want'"
done
ok "eval: AUROC, path accuracy and confusion, lead time, ablation, split checked"

# the split is enforced: the training data itself, or data of the training seed
expect_exit 1 "eval on the training data" "$BIN" fusion eval --weights "$TMP/w.safetensors" \
    --data "$TMP/train.ccf"
expect_in "$TMP/last.err" "is the very data" "training data refused"
expect_exit 0 "dataset (same seed, other n)" "$BIN" fusion dataset --out "$TMP/leak.ccf" --n 40 \
    --seed 5 --gen-facades 3
expect_exit 1 "eval on the training seed" "$BIN" fusion eval --weights "$TMP/w.safetensors" \
    --data "$TMP/leak.ccf" --train-manifest "$TMP/train.ccf.manifest"
expect_in "$TMP/last.err" "split violated" "shared seed/facades refused"
# a manifest that is not the weights' training manifest is refused too
expect_exit 1 "eval with a foreign manifest" "$BIN" fusion eval --weights "$TMP/w.safetensors" \
    --data "$TMP/eval.ccf" --train-manifest "$TMP/leak.ccf.manifest"
expect_in "$TMP/last.err" "not its training manifest" "foreign manifest refused"
ok "eval: the training data, a shared seed and a foreign manifest are refused (exit 1)"

# ------------------------------------------------------------ calibrate
# the gate's thresholds on held-out data, into the weights' metadata
expect_exit 0 "calibrate" "$BIN" fusion calibrate --weights "$TMP/w.safetensors" --data "$TMP/eval.ccf" \
    --out "$TMP/wc.safetensors" --far 0.2
cp "$TMP/last.out" "$TMP/cal.out"
for want in "risk_act_a" "risk_act_b" "risk_stop" "doubt_act" "stop_act" "false alarms" "caught" \
            "acts on a safe full step" "acts on an unsafe full step" "acts on a safe 150 mm step" \
            "wrote $TMP/wc.safetensors"; do
    expect_in "$TMP/cal.out" "$want" "calibrate prints '$want'"
done
for key in gate.risk_act_a gate.risk_act_b gate.doubt_act gate.stop_act gate.risk_stop gate.calibration \
           data_fnv1a64 trainer; do
    grep -a -q "\"$key\"" "$TMP/wc.safetensors" || fail "calibrated weights lack the metadata '$key'"
done
# the tensors are the model's, untouched: the same evaluation
expect_exit 0 "eval of the calibrated weights" "$BIN" fusion eval --weights "$TMP/wc.safetensors" --data "$TMP/eval.ccf"
grep 'AUROC\|accuracy' "$TMP/last.out" >"$TMP/cal.eval"
expect_exit 0 "eval of the weights" "$BIN" fusion eval --weights "$TMP/w.safetensors" --data "$TMP/eval.ccf"
grep 'AUROC\|accuracy' "$TMP/last.out" | cmp -s - "$TMP/cal.eval" || fail "calibration changed the model"
# calibrating again replaces the gate keys (one of each), in place
expect_exit 0 "calibrate in place" "$BIN" fusion calibrate --weights "$TMP/wc.safetensors" --data "$TMP/eval.ccf" \
    --out "$TMP/wc.safetensors" --far 0.05
[ "$(grep -a -o '"gate.risk_act_a"' "$TMP/wc.safetensors" | wc -l)" -eq 1 ] || fail "gate keys repeated"
ok "calibrate: thresholds printed with their rates, written into the metadata, the model untouched"
expect_exit 1 "calibrate on the training data" "$BIN" fusion calibrate --weights "$TMP/w.safetensors" \
    --data "$TMP/train.ccf" --out "$TMP/bad.safetensors"
expect_in "$TMP/last.err" "was trained on" "training data refused"
[ -e "$TMP/bad.safetensors" ] && fail "a refused calibration wrote a file"
expect_exit 2 "calibrate --far 0.7" "$BIN" fusion calibrate --weights "$TMP/w.safetensors" \
    --data "$TMP/eval.ccf" --out "$TMP/bad.safetensors" --far 0.7
expect_in "$TMP/last.err" "--far: '0.7'" "bad far named"
expect_exit 2 "calibrate --stop-far above --far" "$BIN" fusion calibrate --weights "$TMP/w.safetensors" \
    --data "$TMP/eval.ccf" --out "$TMP/bad.safetensors" --far 0.1 --stop-far 0.2
expect_in "$TMP/last.err" "--stop-far 0.2: more than --far 0.1" "stop-far above far named"
expect_exit 2 "calibrate without --out" "$BIN" fusion calibrate --weights "$TMP/w.safetensors" --data "$TMP/eval.ccf"
expect_in "$TMP/last.err" "--out W2 is required" "missing --out named"
expect_exit 1 "calibrate of a non-dataset" "$BIN" fusion calibrate --weights "$TMP/w.safetensors" \
    --data "$TMP/w.safetensors" --out "$TMP/bad.safetensors"
expect_in "$TMP/last.err" "$TMP/w.safetensors" "bad data named"
[ -e "$TMP/bad.safetensors" ] && fail "a failed calibration wrote a file"
ok "calibrate: the training data, a bad --far or --stop-far, a missing --out and a non-dataset are refused"

# ------------------------------------------------------- shipped weights
[ -f "$SHIPPED" ] || fail "no shipped weights at $SHIPPED"
expect_exit 0 "eval of the shipped weights" "$BIN" fusion eval --weights "$SHIPPED" --data "$TMP/eval.ccf"
expect_in "$TMP/last.out" "H=" "shipped model described"
ok "the shipped weights load with the features' widths and evaluate on fresh data"

# ---------------------------------------------------------- usage errors
expect_exit 2 "dataset without --out" "$BIN" fusion dataset --n 3
expect_in "$TMP/last.err" "--out FILE is required" "missing --out named"
expect_exit 2 "dataset --faults-rate 2" "$BIN" fusion dataset --out "$TMP/x" --faults-rate 2
expect_in "$TMP/last.err" "--faults-rate: '2' is not a number in [0, 1]" "bad rate named"
expect_exit 2 "dataset --n 0" "$BIN" fusion dataset --out "$TMP/x" --n 0
expect_in "$TMP/last.err" "--n: '0'" "bad n named"
expect_exit 2 "dataset --gen-facades 0 alone" "$BIN" fusion dataset --out "$TMP/x" --gen-facades 0
expect_in "$TMP/last.err" "--gen-facades 0 needs --facades DIR" "no facade"
expect_exit 1 "dataset --facades missing" "$BIN" fusion dataset --out "$TMP/x" --facades "$TMP/nope"
expect_in "$TMP/last.err" "$TMP/nope" "missing dir named"
[ -e "$TMP/x" ] && fail "a failed dataset run left a file behind"
expect_exit 2 "eval without --weights" "$BIN" fusion eval --data "$TMP/eval.ccf"
expect_in "$TMP/last.err" "--weights W is required" "missing --weights named"
expect_exit 2 "eval unknown option" "$BIN" fusion eval --weights a --data b --bogus
expect_in "$TMP/last.err" "unknown option '--bogus'" "unknown option named"
expect_exit 1 "eval of a non-dataset" "$BIN" fusion eval --weights "$SHIPPED" --data "$SHIPPED"
expect_in "$TMP/last.err" "$SHIPPED" "bad data named"
expect_exit 0 "dataset --help" "$BIN" fusion dataset --help
expect_in "$TMP/last.out" "--faults-rate X" "dataset usage"
expect_exit 0 "eval --help" "$BIN" fusion eval --help
expect_in "$TMP/last.out" "--train-manifest M" "eval usage"
ok "usage errors exit 2 naming the argument; runtime errors exit 1 naming the file"

echo "test_fusion_pipeline: $CHECKS checks passed"
