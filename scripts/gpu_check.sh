#!/bin/bash
# Everything issues 10 and 14 want measured on a GPU, in one run of at most DEADLINE
# seconds (GPU time is scarce): a CPU-vs-GPU check of log Z, its gradient, Viterbi and
# k-best; `ner-rnn benchmark` of the reference and the GPU config; the whole `tag` command
# on TAG_LINES lines with the default and 8 workers (byte-compared); then seeds 1-3 of
# both configs, all six at once on the one GPU, for their dev F1. Run from the repository
# root with the CoNLL files copied beside it (the GPU machine has no ../shared):
#   OUT=/tmp/gpu TRAIN=path/eng.train DEV=path/eng.testa bash scripts/gpu_check.sh
# Each step has its own limit; one that fails or times out only skips what the deadline
# leaves no time for. Results: $OUT/gpu.log, the benchmarks' JSON, each run's metrics.
# Rehearse on a CPU first:
#   DEVICE=cpu TRAIN=data/sample/train.conll DEV=data/sample/dev.conll TAG_LINES=3000 \
#   TAG_TRAIN_LINES=3000 EPOCHS=2 OUT=/tmp/gpu bash scripts/gpu_check.sh
set -u
export PYTHONPATH=.
OUT=${OUT:?set OUT}
DEVICE=${DEVICE:-cuda}
TRAIN=${TRAIN:-.gpu-data/eng.train}
DEV=${DEV:-.gpu-data/eng.testa}
EPOCHS=${EPOCHS:-30}
TAG_LINES=${TAG_LINES:-1000000}
TAG_TRAIN_LINES=${TAG_TRAIN_LINES:-30000}
DEADLINE=${DEADLINE:-490}
mkdir -p "$OUT"
LOG="$OUT/gpu.log"
: > "$LOG"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
left() { echo $((DEADLINE - SECONDS)); }
say() { echo "$*" | tee -a "$LOG"; }

step() {  # step NAME SECONDS COMMAND...: run with a limit (cut to the time left)
    local name=$1 seconds=$2
    shift 2
    if [ "$(left)" -lt 15 ]; then say "=== $name: skipped (deadline)"; return; fi
    [ "$seconds" -gt "$(left)" ] && seconds=$(left)
    say "=== $name ($(date +%T), at ${SECONDS}s, limit ${seconds}s)"
    local started=$SECONDS
    timeout --kill-after=5 "$seconds" "$@" 2>&1 | tail -n 40 | tee -a "$LOG"
    say "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - started)) s"
}

bench() {  # bench NAME SECONDS ARGS...: JSON to $OUT/NAME.json, a summary to the log
    local name=$1 seconds=$2
    shift 2
    step "$name" "$seconds" sh -c "python3 -m ner_rnn benchmark $* --json > '$OUT/$name.json'"
    python3 - "$OUT/$name.json" <<'PY' 2>&1 | tee -a "$LOG"
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as error:
    sys.exit(f"no result: {error}")
t = r["train"]
print(f"{r['device']}: train {t['tokens_per_s']:.0f} tok/s, bound {t['bound_tokens_per_s']:.0f}, "
      f"ratio {t['bound_tokens_per_s'] / t['tokens_per_s']:.2f}x, epoch {t['epoch_seconds']:.2f} s, "
      f"{t['ops_per_step']:.0f} ops/step")
if "tag" in r:
    g = r["tag"]
    print("tag:", {k: v for k, v in g.items() if not isinstance(v, (list, dict))})
PY
}

step environment 40 sh -c "nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; \
  echo cores \$(nproc); git log --oneline -1; python3 -c 'import torch, sys; \
  print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"python\", sys.version.split()[0])'"

step gpu_paths 60 python3 - "$DEVICE" <<'PY'
import sys, torch
from ner_rnn.model import decoding
from ner_rnn.model.heads import CRFHead
device = torch.device(sys.argv[1])
labels = sorted([f"{p}-{t}" for p in "BIES" for t in ("PER", "LOC", "ORG", "MISC")] + ["O"])
torch.manual_seed(0)
features = torch.randn(64, 41, 8) * 3
mask = torch.arange(41)[None] < torch.randint(1, 42, (64,))[:, None]
mask[:, 0] = True
results = []
for where in ("cpu", device):
    torch.manual_seed(1)
    head = CRFHead(8, labels, "bioes", constrain=True).to(where)
    p = head.potentials(features.to(where))
    log_z = decoding.log_partition(p, mask.to(where))
    grad = torch.autograd.grad(log_z.sum(), head.transitions)[0]
    with torch.no_grad():
        best = decoding.viterbi(p, mask.to(where))[0]
        kbest = head.kbest(p, mask.to(where), 5)
    results.append([x.detach().cpu() for x in (log_z, grad, best, kbest[0], kbest[2])])
(z0, g0, b0, k0, v0), (z1, g1, b1, k1, v1) = results
print(f"log Z on {device} vs cpu: max diff {(z1 - z0).abs().max().item():.2e} "
      f"(relative {((z1 - z0).abs() / z0.abs()).max().item():.2e})")
print(f"its gradient (transitions): max diff {(g1 - g0).abs().max().item():.2e}")
print("viterbi paths equal:", torch.equal(b0, b1), "| k-best equal:", torch.equal(k0, k1),
      "valid masks equal:", torch.equal(v0, v1))
PY

bench bench_ref 110 --config configs/conll2003.yaml --set device="$DEVICE" --train "$TRAIN" --tag "$DEV"
bench bench_gpu_config 60 --config configs/conll2003_gpu.yaml --set device="$DEVICE" --train "$TRAIN"

# The whole tag command (issue 14): a model of one epoch on part of eng.train, then
# TAG_LINES dev sentences as raw lines, start-up included.
head -n "$TAG_TRAIN_LINES" "$TRAIN" > "$WORK/tag_train.conll"
step tag_model 40 python3 -m ner_rnn train --config configs/conll2003.yaml --output-dir "$WORK/tag_model" \
    --set "data.train=$WORK/tag_train.conll" --set "data.dev=$DEV" --set train.epochs=1 --set "device=$DEVICE"
python3 - "$DEV" "$TAG_LINES" "$WORK/input.txt" <<'PY'
import sys
from ner_rnn.data.conll import read_conll
lines = [" ".join(s.tokens) for s in read_conll(sys.argv[1], tagged=False)]
count = int(sys.argv[2])
with open(sys.argv[3], "w", encoding="utf-8") as out:
    out.writelines(lines[i % len(lines)] + "\n" for i in range(count))
PY
tag() {  # tag NAME LIMIT ARGS...
    local name=$1 limit=$2
    shift 2
    local t0 t1
    t0=$(date +%s.%N)
    step "tag_$name" "$limit" python3 -m ner_rnn tag --model "$WORK/tag_model" --input "$WORK/input.txt" \
        --output "$WORK/$name.jsonl" "$@"
    t1=$(date +%s.%N)
    [ -s "$WORK/$name.jsonl" ] && say "tag_$name: $(wc -l < "$WORK/input.txt") lines: $(python3 -c "print(f'{$(wc -l < "$WORK/input.txt") / ($t1 - $t0):,.0f} sentences/s in {$t1 - $t0:.1f} s')")"
}
say "default workers: $(python3 -c "import torch; from ner_rnn.runtime import tagging_workers as w; print(w(torch.device('$DEVICE')))")"
tag default 70 --device "$DEVICE"
tag workers8 50 --device "$DEVICE" --workers 8
[ -s "$WORK/default.jsonl" ] && [ -s "$WORK/workers8.jsonl" ] && { cmp -s "$WORK/default.jsonl" "$WORK/workers8.jsonl" && say "same bytes" || say "DIFFERENT bytes"; }
rm -f "$WORK"/*.jsonl "$WORK/input.txt"

# Accuracy: seeds 1-3 of both configs, all six at once on the one GPU (the GPU is mostly
# idle; 12 of the 16 cores). Timings here are shared; the benchmarks above are not.
if [ "$(left)" -gt 60 ]; then
    limit=$(( $(left) - 10 ))
    say "=== trainings ($(date +%T), at ${SECONDS}s, limit ${limit}s)"
    for config in conll2003 conll2003_gpu; do
        for seed in 1 2 3; do
            timeout "$limit" python3 -m ner_rnn train --config configs/$config.yaml --set seed=$seed \
                --set device="$DEVICE" --set threads=2 --set data.train="$TRAIN" --set data.dev="$DEV" \
                --set train.epochs="$EPOCHS" --output-dir "$WORK/${config}_s$seed" \
                > "$OUT/train_${config}_s$seed.log" 2>&1 &
        done
    done
    wait
    for config in conll2003 conll2003_gpu; do
        for seed in 1 2 3; do
            cp "$WORK/${config}_s$seed/metrics.jsonl" "$OUT/metrics_${config}_s$seed.jsonl" 2>/dev/null
        done
    done
    python3 - "$OUT" <<'PY' 2>&1 | tee -a "$LOG"
import glob, json, sys
for path in sorted(glob.glob(f"{sys.argv[1]}/metrics_*.jsonl")):
    records = [json.loads(line) for line in open(path)]
    epochs = [r for r in records if "epoch" in r and "dev" in r]
    if not epochs:
        print(path, "no epochs"); continue
    best = max(epochs, key=lambda r: r["dev"]["f1"])
    seconds = [r.get("seconds") for r in epochs]
    print(f"{path.rsplit('/', 1)[1]}: {len(epochs)} epochs, best dev F1 {100 * best['dev']['f1']:.2f} "
          f"at epoch {best.get('epoch')}, last {100 * epochs[-1]['dev']['f1']:.2f}; epoch seconds {seconds[:3]}..{seconds[-1:]}")
PY
fi
say "done at ${SECONDS}s; $(ls "$OUT" | tr '\n' ' ')"
