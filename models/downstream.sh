#!/usr/bin/env bash
# BitNet Distillation's experiment shape on the Brown corpus (docs/training.md, "Downstream task"): the general corpus is
# the nine non-fiction genres, the task is the six fiction genres (language modelling of fiction; held-out = every 20th
# fiction document). A full-precision teacher is pretrained on the general corpus and fine-tuned on the task; the student
# is the pretrained model converted to ternary (SubLN), distilled and continued-pretrained on the general corpus, then
# distilled on the task from the task teacher. Baselines (the paper's BitNet-SFT): the ternary model (no SubLN)
# fine-tuned on the task only, with stage 3's task budget and with the whole budget. Then the same on a smaller task
# (the romance genre alone).
# Usage: models/downstream.sh [WORK_DIR]   (WF_DLL=path/to/a/copy/of/wf.dll as in reproduce.sh; about 45 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/wf-downstream}"
if [ -z "${WF_SKIP_BUILD:-}" ]; then dotnet build src/wf -c Release; fi
wf() { dotnet "${WF_DLL:-src/wf/bin/Release/net10.0/wf.dll}" "$@"; }
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
common=(--seq-len 64 --batch-size 32 --seed 42 --threads 2 --log-every 50 --eval-batches 0)
general=(--data brown:-klmnpr); task=(--data brown:klmnpr)
mkdir -p "$work"

wf train teacher "${common[@]}" "${general[@]}" --out "$work/teacher-general" --steps 3000 --lr 3e-3 --warmup 50 --schedule cosine \
  --eval-every 1000 --checkpoint-every 500 --vocab-size 2048 --hidden 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384
# Full-precision references on the task's held-out split: the general teacher as is (one step at lr 1e-12 = an
# evaluation), and the task teacher (the general teacher fine-tuned on the task).
wf train stage2 "${common[@]}" "${task[@]}" --model "$work/teacher-general" --out "$work/eval-teacher-general" --steps 1 --lr 1e-12 --warmup 0
wf train stage2 "${common[@]}" "${task[@]}" --model "$work/teacher-general" --out "$work/teacher-task" --steps 200 --lr 1e-3 --warmup 20
wf train stage1 --teacher "$work/teacher-general" --out "$work/stage1" --subln
wf train stage1 --teacher "$work/teacher-general" --out "$work/stage1-nosubln" --no-subln

wf train stage2 "${common[@]}" "${task[@]}" --model "$work/stage1-nosubln" --out "$work/sft-200" --steps 200 --lr 2e-3 --warmup 20 \
  --lambda-warmup 50 --schedule wsd > "$work/sft-200.log" 2>&1 &
b1=$!
wf train stage2 "${common[@]}" "${task[@]}" --model "$work/stage1-nosubln" --out "$work/sft-550" --steps 550 --lr 2e-3 --warmup 20 \
  --lambda-warmup 50 --schedule wsd > "$work/sft-550.log" 2>&1 &
b2=$!
wf train stage1.9 "${common[@]}" "${general[@]}" --teacher "$work/teacher-general" --model "$work/stage1" --out "$work/stage1.9" \
  --steps 100 --lr 2e-3 --warmup 20 --lambda-warmup 50
wf train stage2 "${common[@]}" "${general[@]}" --model "$work/stage1.9" --out "$work/stage2" --steps 250 --lr 2e-3 --warmup 20 --schedule wsd
for steps in 200 550; do
  wf train stage3 "${common[@]}" "${task[@]}" --teacher "$work/teacher-task" --model "$work/stage2" --out "$work/stage3-$steps" \
    --steps "$steps" --lr 1e-3 --warmup 20 --kl-weight 10 --ar-weight 10
done
wait "$b1"; wait "$b2"

# A smaller task: romance only (brown:p, 29 documents, 106 k training tokens), 100 task steps; and SFT for 300 steps.
wf train stage2 "${common[@]}" --data brown:p --model "$work/teacher-general" --out "$work/p-eval-teacher-general" --steps 1 --lr 1e-12 --warmup 0
wf train stage2 "${common[@]}" --data brown:p --model "$work/teacher-general" --out "$work/p-teacher-task" --steps 100 --lr 1e-3 --warmup 20
wf train stage3 "${common[@]}" --data brown:p --teacher "$work/p-teacher-task" --model "$work/stage2" --out "$work/p-stage3-100" \
  --steps 100 --lr 1e-3 --warmup 20 --kl-weight 10 --ar-weight 10
for steps in 100 300; do
  wf train stage2 "${common[@]}" --data brown:p --model "$work/stage1-nosubln" --out "$work/p-sft-$steps" --steps "$steps" --lr 2e-3 \
    --warmup 20 --lambda-warmup 50 --schedule wsd
done

for s in teacher-general eval-teacher-general teacher-task stage1.9 stage2 stage3-200 stage3-550 sft-200 sft-550 \
  p-eval-teacher-general p-teacher-task p-stage3-100 p-sft-100 p-sft-300; do
  echo "$s $(cat "$work/$s/training_summary.json")"
done
