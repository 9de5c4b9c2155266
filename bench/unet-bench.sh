#!/usr/bin/env bash
# UNet forward+backward on the CPU at a medium config: GFLOP/s against the matmul rate measured in the same run, and
# the share of time outside libtorch. Arguments pass through: channels=128 size=32 batch=2 iters=5.
# Usage: bench/unet-bench.sh [channels=N] [size=N] [batch=N] [iters=N]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -o -q -pl engine-core -am install -DskipTests
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
mvn -B -ntp -o -q -pl engine-core dependency:build-classpath -Dmdep.outputFile="$CP_FILE"
exec java -Xmx4g -Dai.djl.offline=true -Dai.djl.default_engine=PyTorch -DOPT_OUT_TRACKING=true \
  -cp "engine-core/target/classes:$(cat "$CP_FILE")" dev.easel.core.sd.bench.UNetBenchmark "$@"
