#!/usr/bin/env bash
# The training loop's own cost per step at SD1.5 scale (batch 4 of 512x512 images, latents from the on-disk
# cache, AdamW over the value count of a rank-16 kohya LoRA), with a toy model whose forward/backward cost is
# negligible. Compare with the UNet's forward+backward per step to get the loop's overhead share.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -o -q -pl engine-core -am test -Dtest=TrainLoopBench -Dsurefire.failIfNoSpecifiedTests=false \
    -Deasel.bench=true 2>&1 | grep '^BENCH'
