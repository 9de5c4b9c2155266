#!/usr/bin/env bash
# Formats benchmark (issue 3): open-and-list time of a >2 GB file, and fp32 -> fp16 conversion of a synthetic
# full-size SD 1.5 checkpoint against plain file copies measured in the same run, with peak anonymous RSS.
#
#   bench/formats-bench.sh [WORKDIR]     (default /tmp/easel-formats-bench; needs ~15 GB free; deleted at the end)
#
# Files are generated from engine-core's copy of the real SD 1.5 key list (sd-mecha sd1-ldm), without EMA:
# 1,066 M fp32 parameters = 4.27 GB. The machine's CPU and disk may be shared: run it twice and compare.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
WORK="${1:-/tmp/easel-formats-bench}"
KEYS="$ROOT/engine-core/src/test/resources/formats/sd15-ldm-keys.txt"
LIB="$ROOT/distribution/target/easel/lib"
REPS="${REPS:-2}"
mkdir -p "$WORK"
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$WORK"' EXIT
"$ROOT/easel" --version >/dev/null   # builds the distribution when sources changed
EASEL="$ROOT/distribution/target/easel/bin/easel"   # the launcher itself: no rebuild check inside timings

# run_measured LABEL CMD...: wall seconds and peak RssAnon / VmHWM (MiB) of the process, sampled every 20 ms.
run_measured() {
  local label="$1"; shift
  sync   # flush earlier writes first: dirty pages of one step must not throttle the next
  local start end pid anon=0 hwm=0 a h
  start=$(date +%s.%N)
  "$@" >/dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [[ -n "$a" && "$a" -gt "$anon" ]] && anon=$a
    [[ -n "$h" && "$h" -gt "$hwm" ]] && hwm=$h
    sleep 0.02
  done
  wait "$pid"
  end=$(date +%s.%N)
  LAST_SECONDS=$(echo "$end - $start" | bc -l)
  printf '%-34s %7.2f s   RssAnon peak %5d MiB   VmHWM %5d MiB\n' "$label" "$LAST_SECONDS" $((anon / 1024)) $((hwm / 1024))
}

best() { printf '%s\n' "$@" | sort -g | head -1; }

echo "== generating $WORK/sd15.safetensors (fp32, real SD 1.5 layout)"
java -cp "$LIB/*" "$ROOT/bench/SyntheticSd15.java" "$KEYS" "$WORK/sd15.safetensors"
IN="$WORK/sd15.safetensors"
OUT="$WORK/sd15-fp16.safetensors"
cat "$IN" > /dev/null   # same page-cache state for every run below
sync

echo "== open and list (in-process, no JVM start-up)"
java -cp "$LIB/*" "$ROOT/bench/OpenList.java" "$IN"
run_measured "easel inspect (whole CLI process)" "$EASEL" inspect "$IN"

echo "== convert fp32 -> fp16 safetensors vs plain copies (best of $REPS)"
conv=(); cpin=(); rw=()
for i in $(seq "$REPS"); do
  rm -f "$OUT"
  run_measured "easel convert --dtype fp16" "$EASEL" convert "$IN" "$OUT" --dtype fp16
  conv+=("$LAST_SECONDS")
  run_measured "cp input (read 4.3 GB + write 4.3 GB)" cp "$IN" "$WORK/copy"
  cpin+=("$LAST_SECONDS"); rm -f "$WORK/copy"
  run_measured "read input + cp output" bash -c "cat '$IN' > /dev/null && cp '$OUT' '$WORK/copy'"
  rw+=("$LAST_SECONDS"); rm -f "$WORK/copy"
done
c=$(best "${conv[@]}"); p=$(best "${cpin[@]}"); r=$(best "${rw[@]}")
printf 'convert %.2f s | cp input %.2f s -> ratio %.2f | read input + copy output %.2f s -> ratio %.2f\n' \
  "$c" "$p" "$(echo "$c / $p" | bc -l)" "$r" "$(echo "$c / $r" | bc -l)"
ls -l "$IN" "$OUT"

if [[ "${CKPT:-1}" == 1 ]]; then
  echo "== torch .ckpt input (zip, STORED entries mapped in place)"
  rm -f "$OUT" "$IN.copy"
  java -cp "$LIB/*" "$ROOT/bench/SyntheticSd15.java" "$KEYS" "$WORK/sd15.ckpt"
  rm -f "$IN"
  cat "$WORK/sd15.ckpt" > /dev/null
  java -cp "$LIB/*" "$ROOT/bench/OpenList.java" "$WORK/sd15.ckpt"
  run_measured "easel convert .ckpt --dtype fp16" "$EASEL" convert "$WORK/sd15.ckpt" "$OUT" --dtype fp16
  run_measured "cp .ckpt input" cp "$WORK/sd15.ckpt" "$WORK/copy"
  rm -f "$WORK/copy"
fi
