#!/usr/bin/env bash
# The selfie2anime phone-model recipes compared for the shipped model, one after the other
# (never two trainings at once on a 2-core machine). Resumable: run it again and each recipe
# continues from its last completed (half) epoch. Pass a recipe name to run only that one.
#
#   bash benchmarks/selfie2anime_recipes.sh ~/data/selfie2anime /work/runs [s2a-A|s2a-B|s2a-C|s2a-D]
set -euo pipefail
DATA=${1:-$HOME/data/selfie2anime}
RUNS=${2:-runs}
ONLY=${3:-}
CLI="$(dirname "$0")/../.venv/bin/cyclegan-tf"

train() {  # name, steps per epoch, options...
  local name=$1 steps=$2; shift 2
  [ -n "$ONLY" ] && [ "$ONLY" != "$name" ] && return 0
  local out="$RUNS/$name"
  if [ -f "$out/config.json" ]; then
    "$CLI" train --resume "$out" --steps-per-epoch "$steps" --cache
  else
    "$CLI" train --preset selfie2anime-mobile --data "$DATA" --out "$out" \
      --steps-per-epoch "$steps" --cache "$@"
  fi
}

# A: the first preset (the mobile generator, half-width PatchGAN, float32, the paper's loss
#    weights, 4 + 3 epochs): 7 x 425 = 2,975 steps. (The preset is recipe D's now.)
train s2a-A 425 --generator mobile --n-epochs 4 --n-epochs-decay 3
# B: a full-width PatchGAN, in mixed_bfloat16 (as fast per step here as A in float32 on an AMX
#    CPU: benchmarks/results/train_throughput_mobile128_ndf*.md), and a lighter identity loss
#    (0.1) so the generator may move colours further from the photo; 7 x 300 = 2,100 steps.
train s2a-B 300 --generator mobile --n-epochs 4 --n-epochs-decay 3 --ndf 64 \
  --precision mixed_bfloat16 --lambda-identity 0.1
# C (shipped): A continued with a longer schedule, 19 half-epochs in all (4 at 2e-4, 15 of decay):
#    a copy of A's finished run folder resumed with the new schedule; 8,075 steps in all.
if [ -z "$ONLY" ] || [ "$ONLY" = s2a-C ]; then
  [ -f "$RUNS/s2a-C/config.json" ] || cp -r "$RUNS/s2a-A" "$RUNS/s2a-C"
  "$CLI" train --resume "$RUNS/s2a-C" --n-epochs 4 --n-epochs-decay 15 --steps-per-epoch 425 \
    --cache --no-validation
fi
# D (shipped; the preset since): the mobile_deep generator (blocks at 1/8 resolution: twice the
#    receptive field, ~the same MACs, 0.44 M parameters), otherwise A's setup, trained from scratch
#    on C's schedule shortened to 17 half-epochs (4 at 2e-4, 13 of decay): 7,225 steps.
if [ -z "$ONLY" ] || [ "$ONLY" = s2a-D ]; then
  if [ -f "$RUNS/s2a-D/config.json" ]; then
    "$CLI" train --resume "$RUNS/s2a-D" --steps-per-epoch 425 --n-epochs 4 --n-epochs-decay 13 \
      --cache --no-validation --checkpoint-every 200
  else
    "$CLI" train --preset selfie2anime-mobile --generator mobile_deep --data "$DATA" \
      --out "$RUNS/s2a-D" --steps-per-epoch 425 --n-epochs 4 --n-epochs-decay 13 --cache \
      --no-validation --checkpoint-every 200
  fi
fi
