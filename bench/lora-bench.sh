#!/usr/bin/env bash
# LoRA benchmarks (issue 5), numbers for docs/performance.md. Not part of the test suite.
#
#   bench/lora-bench.sh            bake + resize; files under $WORK (default /tmp/easel-lora-bench, ~4.5 GB)
#   RUNS=9 bench/lora-bench.sh     more repetitions (medians and min-max are reported; default 5)
#   SKIP_RESIZE=1 bench/lora-bench.sh   bake only (the full-SVD side of the resize takes minutes)
#   SKIP_CHECK=1 ...                    without checking the baked file against a float64 numpy computation
#
# 1. Bake: a rank-32 LoRA on every attention, feed-forward and resnet conv layer (plus CLIP attention/MLP) of a
#    full-size SD1.5 fp16 checkpoint, against plain read+write of the same file (dd with 4 MiB blocks, and cp), and
#    against Easel streaming the checkpoint through its reader and writer untouched (a one-module LoRA: every other
#    key is a raw copy). Runs are interleaved; medians and min-max are reported (wall, CPU user+sys, the command's
#    own timer). Peak anonymous memory (RssAnon, what the process itself allocates; mapped file pages excluded) is
#    sampled every 50 ms.
# 2. Resize 128 -> 32 of a rank-128 LoRA on the UNet attention projections: Easel's factor path (QR of each
#    factor, SVD of the 128x128 core) against the full-matrix SVD kohya's resize_lora.py does (--full-svd), and
#    the largest difference between the two results.
# Needs: Java 17, Maven (builds the distribution), python3 with numpy (generates the synthetic files).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
WORK="${WORK:-/tmp/easel-lora-bench}"
RUNS="${RUNS:-5}"
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

# Runs a command, prints "<wall s> <peak RssAnon MiB> <cpu s (user+sys)> <inside s>" ("inside": the command's own
# "wrote ..., N s" timer, else the wall time).
measure() {
  local start end peak=0 pid kb inside
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$WORK/last.time" "$@" >"$WORK/last.out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    # the launcher execs java: the child of time is the JVM
    for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
      kb=$(awk '/RssAnon/ {print $2}' "/proc/$c/status" 2>/dev/null || echo 0)
      [[ -n "$kb" && "$kb" -gt "$peak" ]] && peak=$kb
    done
    sleep 0.05
  done
  wait "$pid" || { cat "$WORK/last.out" >&2; return 1; }
  end=$(date +%s.%N)
  inside=$(grep -o 'copied, [0-9.]* s' "$WORK/last.out" | awk '{print $2}' | tail -1)
  echo "$(echo "$end - $start" | bc) $((peak / 1024)) $(awk '{print $1 + $2}' "$WORK/last.time") ${inside:-$(echo "$end - $start" | bc)}"
}

# median and spread of the numbers on stdin: "median (min-max)"
stats() { sort -n | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.2f (%.2f-%.2f)", m, v[1], v[NR]}'; }
median() { sort -n | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.2f", m}'; }
col() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}'; }

echo "== bake: SD1.5 fp16 ($(du -h "$WORK/sd15.safetensors" | cut -f1)), rank-32 LoRA on every attention/ff/resnet-conv layer"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; input files stay in the page cache"
declare -a CP DD COPY BAKE
for i in $(seq "$RUNS"); do
  # interleaved, so that a burst of load from other jobs hits every variant alike
  rm -f "$WORK/out.safetensors"
  CP+=("$(measure cp "$WORK/sd15.safetensors" "$WORK/out.safetensors")")
  rm -f "$WORK/out.safetensors"
  DD+=("$(measure dd if="$WORK/sd15.safetensors" of="$WORK/out.safetensors" bs=4M status=none)")
  rm -f "$WORK/out.safetensors"
  COPY+=("$(measure "$EASEL" lora bake -v --base "$WORK/sd15.safetensors" --lora "$WORK/one.safetensors" \
      --out "$WORK/out.safetensors")")
  rm -f "$WORK/out.safetensors"
  BAKE+=("$(measure "$EASEL" lora bake -v --base "$WORK/sd15.safetensors" --lora "$WORK/r32-all.safetensors" \
      --out "$WORK/out.safetensors")")
  grep -v ' INFO ' "$WORK/last.out" | sed "s/^/  run $i bake: /"
  echo "  run $i wall s: cp $(col 1 "${CP[-1]}") dd $(col 1 "${DD[-1]}") stream $(col 1 "${COPY[-1]}") bake $(col 1 "${BAKE[-1]}")"
done
rm -f "$WORK/out.safetensors"
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median (min-max) of $RUNS runs     wall s             CPU s (user+sys)   inside s           peak RssAnon MiB"
for v in CP DD COPY BAKE; do
  declare -n a=$v
  case $v in CP) name="cp";; DD) name="dd bs=4M (read+write)";; COPY) name="easel stream (raw copy)";;
    BAKE) name="easel bake rank 32";; esac
  printf '%-30s %-18s %-18s %-18s %s\n' "$name" "$(col 1 "${a[@]}" | stats)" "$(col 3 "${a[@]}" | stats)" \
      "$(col 4 "${a[@]}" | stats)" "$(col 2 "${a[@]}" | sort -n | tail -1)"
done
b=$(col 1 "${BAKE[@]}" | median); bi=$(col 4 "${BAKE[@]}" | median)
echo "bake / stream: $(echo "scale=2; $b / $(col 1 "${COPY[@]}" | median)" | bc)x wall, $(echo "scale=2; $bi / $(col 4 "${COPY[@]}" | median)" | bc)x inside"
echo "bake / dd:     $(echo "scale=2; $b / $(col 1 "${DD[@]}" | median)" | bc)x wall, inside $(echo "scale=2; $bi / $(col 1 "${DD[@]}" | median)" | bc)x"
echo "bake / cp:     $(echo "scale=2; $b / $(col 1 "${CP[@]}" | median)" | bc)x wall, inside $(echo "scale=2; $bi / $(col 1 "${CP[@]}" | median)" | bc)x"

if [[ "${SKIP_CHECK:-0}" != 1 ]]; then
  echo "== the baked file against fp16(W + (alpha/r)*up@down) in float64 (numpy, a few minutes)"
  "$EASEL" lora bake --base "$WORK/sd15.safetensors" --lora "$WORK/r32-all.safetensors" --out "$WORK/check.safetensors" \
      | grep -v ' INFO '
  python3 "$FIX" check-bake "$WORK/sd15.safetensors" "$WORK/r32-all.safetensors" "$WORK/check.safetensors"
  rm -f "$WORK/check.safetensors"
fi

[[ "${SKIP_RESIZE:-0}" == 1 ]] && exit 0
echo "== resize 128 -> 32: $(python3 -c "import json,struct;f=open('$WORK/r128-attn.safetensors','rb');n=struct.unpack('<Q',f.read(8))[0];h=json.loads(f.read(n));print(sum(k.endswith('.alpha') for k in h))") modules"
"$EASEL" lora resize "$WORK/r128-attn.safetensors" --rank 32 --out "$WORK/r32-factor.safetensors" | tee "$WORK/factor.out"
"$EASEL" lora resize "$WORK/r128-attn.safetensors" --rank 32 --full-svd --out "$WORK/r32-full.safetensors" | tee "$WORK/full.out"
sf=$(grep -o 'SVD [0-9.]* s' "$WORK/factor.out" | awk '{print $2}')
sl=$(grep -o 'SVD [0-9.]* s' "$WORK/full.out" | awk '{print $2}')
echo "SVD time: factor path ${sf} s, full-matrix path ${sl} s, ratio $(echo "scale=1; $sl / $sf" | bc)x"
python3 "$FIX" compare "$WORK/r32-factor.safetensors" "$WORK/r32-full.safetensors"
