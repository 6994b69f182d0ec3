#!/usr/bin/env bash
# The GPU session in one command: what a lent GPU is used for, fixed before it runs (results/gpu/README.md).
#
#   bash lab/gpu_session.sh OUT            # on a GPU machine: about 9 minutes
#   TINY=1 bash lab/gpu_session.sh OUT     # the same steps at a tiny size on the CPU (a rehearsal, < 2 minutes)
#
# 1. tests/gpu_check.py: the paper nets' throughput with each speed option on and off, and a short QLAE run at
#    the paper's scale, with the projected time of the paper's 200 000 steps.
# 2. The weight-decay question at the paper's scale (paper nets, 64 px, batch 128, lr 1e-3, the paper's recipe
#    otherwise): QLAE with weight decay 0.1 and without, seeds 0-6, all fourteen runs at once on the one GPU, each
#    evaluated every EVERY steps (InfoMEC in both flavours on the usual 10 000 images), stopped after SECONDS of
#    wall time. The paper trains 200 000 steps; these runs get as far as the time allows, and are compared at
#    the last curve point that every run reached (a run that crashed before its first point is left out, and
#    named in points.txt).
# Everything goes to OUT (a folder you choose): the logs; gpu-wd.tgz with each run's config.json, curves.jsonl and
# train.log (no checkpoints); gpu-wd-latents.tgz with the latents of every curve point, or of the compared point
# alone if all would pass 16 MB; so every number is rescored without the GPU.
set -uo pipefail
OUT=${1:?usage: bash lab/gpu_session.sh OUT}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)  # absolute: the archives are made from another folder
cd "$(dirname "$0")/.."
PY=$(command -v python3 || command -v python)
export PYTHONUNBUFFERED=1
ROOT=$(mktemp -d)/gpu-wd
if [ -n "${TINY:-}" ]; then
    CHECK=(--tiny --run-steps 4) SECONDS_WD=${SECONDS_WD:-30} EVERY=4 SEEDS=(0 1)
    SIZE=(--net cpu --resolution 32 --batch-size 8 --eval-size 200)
else
    CHECK=(--run-steps 1000) SECONDS_WD=${SECONDS_WD:-280} EVERY=1000 SIZE=() SEEDS=(0 1 2 3 4 5 6)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
fi
echo "== 1. gpu_check ($(date -u +%T))"
timeout -k 10 "${CHECK_SECONDS:-240}" "$PY" tests/gpu_check.py "${CHECK[@]}" 2>&1 | tee "$OUT/gpu_check.log"
echo "== 2. weight decay, paper scale: ${#SEEDS[@]} seeds x 2 arms for ${SECONDS_WD} s ($(date -u +%T))"
timeout -k 10 "$SECONDS_WD" "$PY" lab/sweep.py run "$ROOT" --only qlae qlae-nowd --seeds "${SEEDS[@]}" \
    --jobs $((2 * ${#SEEDS[@]})) -- --preset paper --eval-every "$EVERY" ${SIZE[@]+"${SIZE[@]}"} 2>&1 |
    tee "$OUT/sweep.log"
pkill -f "train.py.*$ROOT" 2>/dev/null; sleep 3  # timeout stopped them already; this is a second net
echo "== stopped ($(date -u +%T)); curve points reached:"
for d in "$ROOT"/*; do n=$(grep -c step "$d/curves.jsonl" 2>/dev/null); echo "$(basename "$d") ${n:-0}"; done |
    tee "$OUT/points.txt"
# The runs' small files in one archive, their curve points' latents in another.
tar czf "$OUT/gpu-wd.tgz" -C "$(dirname "$ROOT")" --exclude ckpt.pt --exclude '*.tmp' --exclude curve gpu-wd
LAST=$("$PY" -c "import glob, json
reached = {}  # run -> its last curve point (lines torn by the stop skipped)
for f in glob.glob('$ROOT/*/curves.jsonl'):
    steps = [json.loads(l)['step'] for l in open(f) if l.endswith('}\n')]
    if steps:
        reached[f.split('/')[-2]] = max(steps)
print(min(reached.values(), default=0))")
echo "last curve point every run reached: $LAST" | tee -a "$OUT/points.txt"
(cd "$(dirname "$ROOT")" && tar czf "$OUT/gpu-wd-latents.tgz" gpu-wd/*/curve)
if [ "$(stat -c %s "$OUT/gpu-wd-latents.tgz")" -ge 16000000 ] && [ "$LAST" -gt 0 ]; then
    (cd "$(dirname "$ROOT")" && tar czf "$OUT/gpu-wd-latents.tgz" gpu-wd/*/curve/latents-$(printf %07d "$LAST").npz)
fi
ls -l "$OUT"
