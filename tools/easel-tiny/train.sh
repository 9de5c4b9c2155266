#!/usr/bin/env bash
# Trains Easel Tiny from scratch with Easel's own training core and writes models/easel-tiny.safetensors (fp16) and
# models/easel-tiny.json. Every stage is seeded; on CPU the result repeats bit for bit. See docs/easel-tiny.md.
#
#   tools/easel-tiny/train.sh [WORK_DIR]       (default WORK_DIR: /tmp/easel-tiny)
#
# About 45 minutes of one CPU core. Stages:
#   1. the synthetic shapes dataset (2000 captioned 64x64 images, circle/square/triangle; cross, star and diamond are
#      held out for adapters to teach)
#   2. a model of the Easel Tiny architecture with ldm's training initialisation
#   3. the VAE: 600 steps on 32x32 crops (reconstruction + KL), which also sets scale_factor
#   4. UNet and text encoder: full fine-tuning (method finetune/full) on the cached latents, 1500 steps of 32
#   5. the VAE decoder alone on whole images, 400 then 300 steps (the encoder, and so the latents stage 4 learned
#      on, stay as they are)
#   6. the adherence rate of the result on prompts it was not trained on
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
WORK="${1:-/tmp/easel-tiny}"
EASEL="${EASEL:-$ROOT/easel}"
UNET_STEP="${UNET_STEP:-1000}"
# One intra-op thread: on a shared 2-core machine more threads spin against each other and run several times slower.
export OMP_NUM_THREADS="${THREADS:-1}"
export EASEL_JAVA_OPTS="${EASEL_JAVA_OPTS:--Xmx6g -Dai.djl.pytorch.num_threads=${THREADS:-1} -Dai.djl.pytorch.num_interop_threads=1}"
mkdir -p "$WORK"
cd "$WORK"

"$EASEL" dataset synth --out data/1_shapes --count 2000 --seed 1
"$EASEL" init-model --config easel-tiny --init scratch --seed 1 --out init.safetensors
"$EASEL" train-vae --model init.safetensors --data data --steps 600 --batch 8 --crop 32 --lr 2e-3 --kl 1e-5 \
    --seed 1 --out vae.safetensors

cat > unet.toml <<TOML
method = "finetune/full"
pretrained_model_name_or_path = "$WORK/vae.safetensors"
train_data_dir = "$WORK/data"
resolution = 64
caption_extension = ".txt"
caption_dropout_rate = 0.1
cache_latents = true
latent_cache_dir = "$WORK/cache"
output_dir = "$WORK/unet"
output_name = "easel-tiny-unet"
save_precision = "float"
save_every_n_steps = 250
save_state = false
train_batch_size = 32
max_train_steps = 1500
learning_rate = 8e-4
train_text_encoder = true
learning_rate_te = 4e-4
optimizer_type = "AdamW"
lr_scheduler = "cosine"
lr_warmup_steps = 100
min_snr_gamma = 5
max_grad_norm = 1.0
seed = 1
TOML
"$EASEL" train unet.toml -q

# The committed weights use the step-$UNET_STEP checkpoint of this 1500-step run (the session that trained them ran
# out of time; the cosine schedule is the 1500-step one either way).
"$EASEL" train-vae --model "unet/easel-tiny-unet-step0000$UNET_STEP.safetensors" --data data --decoder-only --steps 400 --batch 4 \
    --crop 64 --lr 1e-3 --seed 2 --out decoder1.safetensors
"$EASEL" train-vae --model decoder1.safetensors --data data --decoder-only --steps 300 --batch 4 \
    --crop 64 --lr 1e-3 --seed 3 --save-precision fp16 --out easel-tiny.safetensors

"$EASEL" dataset eval --model easel-tiny.safetensors --count 64 --prompt-seed 1000 --grid eval-grid.png -q

if [[ "${INSTALL:-1}" == 1 ]]; then
  mkdir -p "$ROOT/models"
  cp easel-tiny.safetensors easel-tiny.json "$ROOT/models/"
  echo "installed $ROOT/models/easel-tiny.safetensors"
fi
