#!/usr/bin/env bash
# Trains Easel Tiny from scratch with Easel's own training core and writes models/easel-tiny.safetensors (fp16) and
# models/easel-tiny.json. Every stage is seeded; on CPU each stage repeats bit for bit. See docs/easel-tiny.md.
#
#   tools/easel-tiny/train.sh [WORK_DIR]       (default WORK_DIR: /tmp/easel-tiny)
#
# About 80 minutes on an idle 2-core machine. Stages:
#   1. the synthetic shapes dataset (2000 captioned 64x64 images, circle/square/triangle; cross, star and diamond are
#      held out for adapters to teach)
#   2. a model of the Easel Tiny architecture with ldm's training initialisation
#   3. the VAE: 1600 steps of 8 random 32x32 crops (reconstruction + ldm's KL weight), which also sets scale_factor
#   4. two independent jobs at once, one core each (both start from stage 3's VAE, whose encoder neither changes):
#      a. UNet and text encoder: full fine-tuning (method finetune/full) on the cached latents, 4000 steps of 32
#      b. the VAE decoder alone: 5000 steps of 32x32 crops, then 1800 and 1000 steps of whole images, so its
#         GroupNorm statistics are those of the pictures it will decode
#   5. the result: stage 4a's checkpoint with stage 4b's VAE baked in (easel convert --vae), in fp16
#   6. the adherence rate of the result on prompts it was not trained on
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
WORK="${1:-/tmp/easel-tiny}"
EASEL="${EASEL:-$ROOT/easel}"
UNET_STEPS="${UNET_STEPS:-4000}"
mkdir -p "$WORK"
cd "$WORK"

# Two threads for the sequential stages; one each when two jobs share the two cores (more threads than cores spin
# against each other and run several times slower).
threads() {
  export OMP_NUM_THREADS="$1"
  export EASEL_JAVA_OPTS="-Xmx6g -Dai.djl.pytorch.num_threads=$1 -Dai.djl.pytorch.num_interop_threads=1"
}

threads 2
"$EASEL" --version >/dev/null   # builds the distribution once, before jobs run side by side
"$EASEL" dataset synth --out data/1_shapes --count 2000 --seed 1
"$EASEL" init-model --config easel-tiny --init scratch --seed 1 --out init.safetensors
"$EASEL" train-vae --model init.safetensors --data data --steps 1600 --batch 8 --crop 32 --lr 2e-3 --kl 1e-6 \
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
save_every_n_steps = 500
save_state = true
train_batch_size = 32
max_train_steps = $UNET_STEPS
learning_rate = 1e-3
train_text_encoder = true
learning_rate_te = 5e-4
optimizer_type = "AdamW"
lr_scheduler = "cosine"
lr_warmup_steps = 200
min_snr_gamma = 5
max_grad_norm = 1.0
seed = 1
TOML

threads 1
"$EASEL" train unet.toml > unet.log 2>&1 &
unet=$!
"$EASEL" train-vae --model vae.safetensors --data data --decoder-only --steps 5000 --batch 8 --crop 32 --lr 1e-3 \
    --kl 1e-6 --seed 2 --out decoder1.safetensors
"$EASEL" train-vae --model decoder1.safetensors --data data --decoder-only --steps 1800 --batch 4 --crop 64 \
    --lr 4e-4 --kl 1e-6 --seed 3 --out decoder2.safetensors
"$EASEL" train-vae --model decoder2.safetensors --data data --decoder-only --steps 1000 --batch 4 --crop 64 \
    --lr 2e-4 --kl 1e-6 --seed 4 --out decoder3.safetensors
wait "$unet" || { echo "UNet training failed; see $WORK/unet.log" >&2; exit 1; }

threads 2
"$EASEL" convert unet/easel-tiny-unet.safetensors easel-tiny.safetensors --vae decoder3.safetensors --dtype fp16
cp unet/easel-tiny-unet.json easel-tiny.json
"$EASEL" dataset eval --model easel-tiny.safetensors --count 64 --prompt-seed 1000 --grid eval-grid.png -q

if [[ "${INSTALL:-1}" == 1 ]]; then
  mkdir -p "$ROOT/models"
  cp easel-tiny.safetensors easel-tiny.json "$ROOT/models/"
  echo "installed $ROOT/models/easel-tiny.safetensors"
fi
