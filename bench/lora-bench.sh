#!/usr/bin/env bash
# LoRA benchmarks (issue 5), numbers for docs/performance.md. Not part of the test suite.
#
#   bench/lora-bench.sh            bake + resize; files under $WORK (default /tmp/easel-lora-bench, ~4.5 GB)
#   RUNS=5 bench/lora-bench.sh     more repetitions (the minimum is reported)
#   SKIP_RESIZE=1 bench/lora-bench.sh   bake only (the full-SVD side of the resize takes minutes)
#
# 1. Bake: a rank-32 LoRA on every attention, feed-forward and resnet conv layer (plus CLIP attention/MLP) of a
#    full-size SD1.5 fp16 checkpoint, against the same process streaming the checkpoint through Easel's reader and
#    writer untouched (a one-module LoRA: every other key is a raw copy) and against cp. Peak anonymous memory
#    (RssAnon, what the process itself allocates; mapped file pages excluded) is sampled every 50 ms.
# 2. Resize 128 -> 32 of a rank-128 LoRA on the UNet attention projections: Easel's factor path (QR of each
#    factor, SVD of the 128x128 core) against the full-matrix SVD kohya's resize_lora.py does (--full-svd), and
#    the largest difference between the two results.
# Needs: Java 17, Maven (builds the distribution), python3 with numpy (generates the synthetic files).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
WORK="${WORK:-/tmp/easel-lora-bench}"
RUNS="${RUNS:-3}"
KEYS="$ROOT/engine-core/src/test/resources/dev/easel/core/adapter/sd15-ldm-keys.txt"
FIX="$ROOT/bench/lora_fixtures.py"
EASEL="$ROOT/distribution/target/easel/bin/easel"
mkdir -p "$WORK"

if [[ ! -x "$EASEL" ]]; then
  (cd "$ROOT" && mvn -B -q -ntp -o -DskipTests package)
fi
[[ -f "$WORK/sd15.safetensors" ]] || python3 "$FIX" checkpoint "$KEYS" "$WORK/sd15.safetensors"
[[ -f "$WORK/r32-all.safetensors" ]] || python3 "$FIX" lora "$KEYS" "$WORK/r32-all.safetensors" 32 all
[[ -f "$WORK/one.safetensors" ]] || python3 "$FIX" lora "$KEYS" "$WORK/one.safetensors" 4 one
[[ -f "$WORK/r128-attn.safetensors" ]] || python3 "$FIX" lora "$KEYS" "$WORK/r128-attn.safetensors" 128 attn

# Runs a command, prints "<wall seconds> <peak RssAnon MiB>".
measure() {
  local start end peak=0 pid kb
  start=$(date +%s.%N)
  "$@" >"$WORK/last.out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    kb=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    # the launcher execs java, so the pid is the JVM's
    [[ -n "$kb" && "$kb" -gt "$peak" ]] && peak=$kb
    sleep 0.05
  done
  wait "$pid" || { cat "$WORK/last.out" >&2; return 1; }
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $((peak / 1024))"
}

min() { sort -n | head -1; }

echo "== bake: SD1.5 fp16 ($(du -h "$WORK/sd15.safetensors" | cut -f1)), rank-32 LoRA on every attention/ff/resnet-conv layer"
declare -a COPY BAKE CP MEMC MEMB
for i in $(seq "$RUNS"); do
  rm -f "$WORK/out.safetensors"; sync
  read -r t m < <(measure cp "$WORK/sd15.safetensors" "$WORK/out.safetensors"); CP+=("$t")
  rm -f "$WORK/out.safetensors"; sync
  read -r t m < <(measure "$EASEL" lora bake -v --base "$WORK/sd15.safetensors" --lora "$WORK/one.safetensors" \
      --out "$WORK/out.safetensors"); COPY+=("$t"); MEMC+=("$m")
  grep -h wrote "$WORK/last.out" | sed 's/^/  copy: /'
  rm -f "$WORK/out.safetensors"; sync
  read -r t m < <(measure "$EASEL" lora bake -v --base "$WORK/sd15.safetensors" --lora "$WORK/r32-all.safetensors" \
      --out "$WORK/out.safetensors"); BAKE+=("$t"); MEMB+=("$m")
  grep -v ' INFO ' "$WORK/last.out" | sed 's/^/  bake: /' 
done
rm -f "$WORK/out.safetensors"
c=$(printf '%s\n' "${COPY[@]}" | min); b=$(printf '%s\n' "${BAKE[@]}" | min); p=$(printf '%s\n' "${CP[@]}" | min)
echo "cp:                       ${p} s (min of $RUNS)"
echo "easel stream (raw copy):  ${c} s wall, peak RssAnon $(printf '%s\n' "${MEMC[@]}" | sort -n | tail -1) MiB"
echo "easel bake rank 32:       ${b} s wall, peak RssAnon $(printf '%s\n' "${MEMB[@]}" | sort -n | tail -1) MiB"
echo "bake / stream:            $(echo "scale=2; $b / $c" | bc)x"

[[ "${SKIP_RESIZE:-0}" == 1 ]] && exit 0
echo "== resize 128 -> 32: $(python3 -c "import json,struct;f=open('$WORK/r128-attn.safetensors','rb');n=struct.unpack('<Q',f.read(8))[0];h=json.loads(f.read(n));print(sum(k.endswith('.alpha') for k in h))") modules"
"$EASEL" lora resize "$WORK/r128-attn.safetensors" --rank 32 --out "$WORK/r32-factor.safetensors" | tee "$WORK/factor.out"
"$EASEL" lora resize "$WORK/r128-attn.safetensors" --rank 32 --full-svd --out "$WORK/r32-full.safetensors" | tee "$WORK/full.out"
sf=$(grep -o 'SVD [0-9.]* s' "$WORK/factor.out" | awk '{print $2}')
sl=$(grep -o 'SVD [0-9.]* s' "$WORK/full.out" | awk '{print $2}')
echo "SVD time: factor path ${sf} s, full-matrix path ${sl} s, ratio $(echo "scale=1; $sl / $sf" | bc)x"
python3 "$FIX" compare "$WORK/r32-factor.safetensors" "$WORK/r32-full.safetensors"
