#!/usr/bin/env bash
# Merge benchmark on full-size synthetic SD 1.5 fp16 checkpoints (2.13 GB each, real key layout).
#
# Generates three checkpoints under $BENCH_DIR (default /tmp/easel-bench) with bench/Sd15Bench.java, then for each
# case measures, in the same run and on the same (warm) page cache:
#   plain I/O : read every input completely and write one output of the same size (8 MiB sequential chunks);
#   easel     : `easel merge` of the same inputs, wall time from process start (JVM, libtorch and plugin start
#               included, ~1 s), peak anonymous RSS (RssAnon,
#               sampled every 50 ms from /proc/PID/status) and VmHWM (peak RSS including mapped file pages).
# Cases: weighted_sum of two models, add_difference of three. Each is run RUNS times (default 3); the table
# prints every run. Files are deleted at the end unless KEEP=1.
#
#   bench/merge-bench.sh            # from the repository root, after `mvn -B -ntp package -DskipTests`
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
EASEL="$ROOT/distribution/target/easel/bin/easel"
DIR="${BENCH_DIR:-/tmp/easel-bench}"
RUNS="${RUNS:-3}"
THREADS_ARG=()
[[ -n "${THREADS:-}" ]] && THREADS_ARG=(--threads "$THREADS")
[[ -x "$EASEL" ]] || { echo "build first: mvn -B -ntp package -DskipTests" >&2; exit 1; }
mkdir -p "$DIR"
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$DIR"/*.safetensors "$DIR"/plain.out "$DIR"/classes; }
trap cleanup EXIT

# Compiled once, so that the baseline does not pay for compiling a source file.
mkdir -p "$DIR/classes"
javac -d "$DIR/classes" "$ROOT/bench/Sd15Bench.java"
BENCH=(java -cp "$DIR/classes" Sd15Bench)
for s in a:1 b:2 c:3; do
  f="$DIR/${s%%:*}.safetensors"
  [[ -f "$f" ]] || "${BENCH[@]}" generate "$ROOT/bench/sd15-ldm-keys.txt" "$f" "${s##*:}"
done

# Runs a command, samples its memory; prints "seconds peak_rss_anon_MB vm_hwm_MB". Dirty pages of earlier runs are
# flushed first (sync), so that no contender pays for another's writeback.
measure() {
  local start end pid anon=0 hwm=0 a h
  sync
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$DIR/stderr.log" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -r /proc/$pid/status ]]; then
      a=$(awk '/^RssAnon:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
      h=$(awk '/^VmHWM:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
      [[ -n "$a" && "$a" -gt "$anon" ]] && anon=$a
      [[ -n "$h" && "$h" -gt "$hwm" ]] && hwm=$h
    fi
    sleep 0.05
  done
  wait "$pid" || { echo "failed: $*" >&2; cat "$DIR/stderr.log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $((anon / 1024)) $((hwm / 1024))"
}

# Warm the page cache so that every contender reads from memory.
cat "$DIR"/a.safetensors "$DIR"/b.safetensors "$DIR"/c.safetensors > /dev/null

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2/1e6}' /proc/meminfo); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-16s %-4s %10s %10s %8s %12s %10s\n" case run plain_s easel_s ratio rss_anon_MB hwm_MB
for case in weighted_sum add_difference; do
  if [[ $case == weighted_sum ]]; then
    inputs=("$DIR/a.safetensors" "$DIR/b.safetensors"); params=(--param alpha=0.3)
  else
    inputs=("$DIR/a.safetensors" "$DIR/b.safetensors" "$DIR/c.safetensors"); params=(--param alpha=0.5)
  fi
  for run in $(seq 1 "$RUNS"); do
    read -r plain _ _ < <(measure "${BENCH[@]}" plainio "$DIR/plain.out" "${inputs[@]}")
    rm -f "$DIR/plain.out" "$DIR/out.safetensors"
    read -r secs anon hwm < <(measure "$EASEL" merge -q --method "$case" "${params[@]}" "${THREADS_ARG[@]}" \
        --out "$DIR/out.safetensors" "${inputs[@]}")
    rm -f "$DIR/out.safetensors"
    printf "%-16s %-4s %10.2f %10.2f %8.2f %12s %10s\n" "$case" "$run" "$plain" "$secs" \
        "$(echo "$secs / $plain" | bc -l)" "$anon" "$hwm"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
