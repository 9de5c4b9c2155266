#!/usr/bin/env bash
# The training loop's own overhead at a medium config: kohya LoRA rank 16 on the text encoder and UNet of a mid-width
# SD1-layout model (bench/medium-sd1.json), batch 2 of 256x256 images, AdamW, CPU. Every loop step is paired with a
# pure forward+backward of the same model and shapes; prints per-phase medians and the loop's share.
# Usage: bench/train-loop-overhead.sh [steps=N] [warmup=N] [rank=N] [batch=N] [resolution=N] [config=FILE|tiny|sd15]
set -euo pipefail
cd "$(dirname "$0")/.."
props=(-Deasel.bench=true "-Deasel.bench.config=$PWD/bench/medium-sd1.json")
for arg in "$@"; do
  case "$arg" in
    config=tiny|config=sd15) props+=("-Deasel.bench.config=${arg#config=}") ;;
    config=*) props+=("-Deasel.bench.config=$(realpath "${arg#config=}")") ;;
    *=*) props+=("-Deasel.bench.${arg%%=*}=${arg#*=}") ;;
    *) echo "usage: $0 [steps=N] [warmup=N] [rank=N] [batch=N] [resolution=N] [config=FILE|tiny|sd15]" >&2; exit 2 ;;
  esac
done
mvn -B -ntp -o -q -pl plugins/train-lora-kohya -am test -Dtest=TrainOverheadBench \
    -Dsurefire.failIfNoSpecifiedTests=false "${props[@]}" 2>&1 | grep '^BENCH'
