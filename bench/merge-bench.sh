#!/usr/bin/env bash
# Merge benchmark on full-size synthetic SD 1.5 fp16 checkpoints (2.13 GB each, real key layout).
#
# Generates three checkpoints under $BENCH_DIR (default /tmp/easel-bench) with bench/Sd15Bench.java, then for each
# case measures, in the same run and on the same (warm) page cache:
#   plain I/O : read every input completely and write one output of the same size (8 MiB sequential chunks);
#   easel     : `easel merge` of the same inputs, wall time from process start (JVM, libtorch and plugin start
#               included, ~1 s), peak anonymous RSS (RssAnon, sampled every 50 ms from /proc/PID/status) and
#               VmHWM (peak RSS including mapped file pages).
# Both also report CPU seconds (user + system), which other load on a shared machine disturbs less than wall time.
# Cases (CASES, default "weighted_sum add_difference"): weighted_sum of two models, add_difference of three; also
# "ties" (k=0.2, base A, models B and C) and any other method of three models. Each is run RUNS times (default 3);
# the table prints every run. With NDARRAY=1 each run also times the same merge forced through the NDArray (libtorch)
# path (-Deasel.merge.kernels=false), for comparison. OUT_DIR (default: BENCH_DIR) is where outputs are written,
# e.g. /dev/shm to take the disk out. Files are deleted at the end unless KEEP=1.
#
#   bench/merge-bench.sh            # from the repository root, after `mvn -B -ntp package -DskipTests`
#   NDARRAY=1 OUT_DIR=/dev/shm RUNS=5 bench/merge-bench.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
EASEL="$ROOT/distribution/target/easel/bin/easel"
DIR="${BENCH_DIR:-/tmp/easel-bench}"
OUT="${OUT_DIR:-$DIR}"
CASES="${CASES:-weighted_sum add_difference}"
RUNS="${RUNS:-3}"
THREADS_ARG=()
[[ -n "${THREADS:-}" ]] && THREADS_ARG=(--threads "$THREADS")
[[ -x "$EASEL" ]] || { echo "build first: mvn -B -ntp package -DskipTests" >&2; exit 1; }
mkdir -p "$DIR"
cleanup() {
  rm -f "$OUT/plain.out" "$OUT/out.safetensors" "$DIR/time.txt" "$DIR/stderr.log"
  [[ "${KEEP:-0}" == 1 ]] || rm -rf "$DIR"/*.safetensors "$DIR"/classes
}
trap cleanup EXIT

# Compiled once, so that the baseline does not pay for compiling a source file.
mkdir -p "$DIR/classes"
javac -d "$DIR/classes" "$ROOT/bench/Sd15Bench.java"
BENCH=(java -cp "$DIR/classes" Sd15Bench)
for s in a:1 b:2 c:3; do
  f="$DIR/${s%%:*}.safetensors"
  [[ -f "$f" ]] || "${BENCH[@]}" generate "$ROOT/bench/sd15-ldm-keys.txt" "$f" "${s##*:}"
done

# Runs a command under /usr/bin/time, samples its memory; prints "wall_s cpu_s peak_rss_anon_MB vm_hwm_MB"
# (cpu = user + system seconds). Dirty pages of earlier runs are flushed first (sync), so that no contender pays
# for another's writeback.
measure() {
  local pid child anon=0 hwm=0 a h
  sync
  /usr/bin/time -f "%e %U %S" -o "$DIR/time.txt" "$@" >/dev/null 2>"$DIR/stderr.log" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for child in $(pgrep -P "$pid"); do
      a=$(awk '/^RssAnon:/ {print $2}' /proc/$child/status 2>/dev/null || true)
      h=$(awk '/^VmHWM:/ {print $2}' /proc/$child/status 2>/dev/null || true)
      [[ -n "$a" && "$a" -gt "$anon" ]] && anon=$a
      [[ -n "$h" && "$h" -gt "$hwm" ]] && hwm=$h
    done
    sleep 0.05
  done
  wait "$pid" || { echo "failed: $*" >&2; cat "$DIR/stderr.log" >&2; exit 1; }
  read -r wall user sys < <(tail -1 "$DIR/time.txt")
  echo "$wall $(echo "$user + $sys" | bc) $((anon / 1024)) $((hwm / 1024))"
}

# Warm the page cache so that every contender reads from memory.
cat "$DIR"/a.safetensors "$DIR"/b.safetensors "$DIR"/c.safetensors > /dev/null

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2/1e6}' /proc/meminfo); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-15s %-3s %8s %8s %6s %8s %8s %9s %7s %14s\n" case run plain_s easel_s ratio plain_cpu easel_cpu \
    anon_MB hwm_MB ndarray_s/MB
for case in $CASES; do
  case $case in
    weighted_sum) inputs=("$DIR/a.safetensors" "$DIR/b.safetensors"); params=(--param alpha=0.3) ;;
    add_difference) inputs=("$DIR/a.safetensors" "$DIR/b.safetensors" "$DIR/c.safetensors"); params=(--param alpha=0.5) ;;
    ties) inputs=("$DIR/a.safetensors" "$DIR/b.safetensors" "$DIR/c.safetensors"); params=(--param k=0.2) ;;
    *) inputs=("$DIR/a.safetensors" "$DIR/b.safetensors" "$DIR/c.safetensors"); params=() ;;
  esac
  for run in $(seq 1 "$RUNS"); do
    read -r plain pcpu _ _ < <(measure "${BENCH[@]}" plainio "$OUT/plain.out" "${inputs[@]}")
    rm -f "$OUT/plain.out" "$OUT/out.safetensors"
    read -r secs ecpu anon hwm < <(measure "$EASEL" merge -q --method "$case" "${params[@]}" "${THREADS_ARG[@]}" \
        --out "$OUT/out.safetensors" "${inputs[@]}")
    rm -f "$OUT/out.safetensors"
    nd="-"
    if [[ "${NDARRAY:-0}" == 1 ]]; then
      read -r nd _ nda _ < <(EASEL_JAVA_OPTS="-Xmx2g -Deasel.merge.kernels=false" measure "$EASEL" merge -q \
          --method "$case" "${params[@]}" "${THREADS_ARG[@]}" --out "$OUT/out.safetensors" "${inputs[@]}")
      nd=$(printf "%.2f/%s" "$nd" "$nda")
      rm -f "$OUT/out.safetensors"
    fi
    printf "%-15s %-3s %8.2f %8.2f %6.2f %8.2f %8.2f %9s %7s %14s\n" "$case" "$run" "$plain" "$secs" \
        "$(echo "$secs / $plain" | bc -l)" "$pcpu" "$ecpu" "$anon" "$hwm" "$nd"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
